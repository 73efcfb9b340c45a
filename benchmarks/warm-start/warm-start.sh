#!/usr/bin/env bash
# Warm start (issue 5): after a remount over a cache that holds DIRS x FILES entries, how long `find`
# takes over them and which requests go to the bucket meanwhile.
#   1. DIRS directories of FILES one-byte objects are written straight into a private S3Proxy's
#      filesystem store;
#   2. a mount with an empty cache walks them twice with `find` (the first walk lists every directory;
#      the second one is timed too) and is unmounted;
#   3. the drive is mounted again over the same cache, now through countproxy.py, which logs every
#      request, and `find` walks the tree once more: its time, the files it saw, and the requests
#      (LISTs among them) sent during it and in the SETTLE seconds after it.
# Besides: the remount's time until the mount point answers, and the mount's resident size at the end.
# Usage, from the repository root, as root: bash benchmarks/warm-start/warm-start.sh [LAUNCHER]
# Env: DIRS (100), FILES (1000), SETTLE (10), B (scratch folder, /tmp/warm-start); needs S3Proxy in
#      ~/.m2 as compare.sh leaves it, and python3.
set -u
HERE=$(cd "$(dirname "$0")" && pwd); REPO=$(cd "$HERE/../.." && pwd)
L=${1:-$REPO/bin/bucketdrive}; DIRS=${DIRS:-100}; FILES=${FILES:-1000}; SETTLE=${SETTLE:-10}
B=${B:-/tmp/warm-start}; DIRECT=19400; COUNTED=19401
export AWS_ACCESS_KEY_ID=benchkey AWS_SECRET_ACCESS_KEY=benchsecret AWS_REGION=us-east-1; unset AWS_CA_BUNDLE
JAR=$(ls ~/.m2/repository/org/gaul/s3proxy/*/s3proxy-*-jar-with-dependencies.jar 2>/dev/null | tail -1)
[ -n "$JAR" ] || { echo "no S3Proxy jar in ~/.m2: run ../shared/bench/compare.sh once first" >&2; exit 2; }
rm -rf "$B" && mkdir -p "$B/s3/bench" "$B/cache" "$B/mnt" "$B/logs"
printf 's3proxy.endpoint=http://127.0.0.1:%s\ns3proxy.authorization=none\njclouds.provider=filesystem-nio2\njclouds.identity=benchkey\njclouds.credential=benchsecret\njclouds.filesystem.basedir=%s/s3\n' \
  "$DIRECT" "$B" > "$B/s3proxy.conf"
java -jar "$JAR" --properties "$B/s3proxy.conf" > "$B/logs/s3proxy.log" 2>&1 & S3PID=$!
python3 "$HERE/countproxy.py" $COUNTED $DIRECT "$B/requests.log" & PXPID=$!
trap 'fusermount3 -u "$B/mnt" 2>/dev/null; kill $S3PID $PXPID 2>/dev/null' EXIT
for i in $(seq 1 60); do curl -s -o /dev/null "http://127.0.0.1:$DIRECT/" && break; sleep 0.5; done
python3 - "$B/s3/bench" "$DIRS" "$FILES" <<'PY'
import os, sys
root, dirs, files = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for d in range(dirs):
    os.makedirs(f'{root}/d{d:03d}')
    for f in range(files):
        with open(f'{root}/d{d:03d}/f{f:04d}', 'wb') as out:
            out.write(b'x')
PY
now() { date +%s.%N; }
el() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", b-a}'; }
PID=
mount_drive() { # $1 port
  "$L" mount s3://bench "$B/mnt" --endpoint "http://127.0.0.1:$1" --path-style --cache-dir "$B/cache" >> "$B/logs/mount.log" 2>&1 &
  for i in $(seq 1 1200); do mountpoint -q "$B/mnt" && break; sleep 0.1; done
  mountpoint -q "$B/mnt" || { echo "the mount did not appear (see $B/logs)" >&2; exit 1; }
  PID=$(pgrep -f "dev.bucketdrive.cli.Main mount s3://bench $B/mnt" | head -1)
}
unmount_drive() {
  fusermount3 -u "$B/mnt"; while [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; do sleep 0.2; done
}
mount_drive $DIRECT
t0=$(now); n=$(find "$B/mnt" -type f | wc -l); t1=$(now); echo "first_find_s $(el $t0 $t1) files $n"
t0=$(now); n=$(find "$B/mnt" -type f | wc -l); t1=$(now); echo "second_find_s $(el $t0 $t1) files $n"
t0=$(now); unmount_drive; t1=$(now); echo "unmount_s $(el $t0 $t1)"
t0=$(now); mount_drive $COUNTED; t1=$(now); echo "remount_s $(el $t0 $t1) (until mountpoint answers)"
sleep 1; echo "requests_at_mount $(wc -l < "$B/requests.log")"
t0=$(now); n=$(find "$B/mnt" -type f | wc -l); t1=$(now)
echo "remount_find_s $(el $t0 $t1) files $n (expected $((DIRS * FILES)))"
sleep "$SETTLE"
awk -v t0="$t0" -v t1="$t1" -v settle="$SETTLE" '$1 >= t0 && $1 <= t1 + settle {
    when = ($1 <= t1) ? "during_find" : "in_" settle "_s_after"; n[when]++
    if ($3 ~ /[?&]list-type=/) l[when]++ }
  END { for (w in n) printf "requests_%s %d (LIST %d)\n", w, n[w], l[w]
        if (!("during_find" in n)) print "requests_during_find 0 (LIST 0)" }' "$B/requests.log" | sort
echo "(every request: $B/requests.log)"
echo "rss_kb $(awk '/VmRSS/ {print $2}' /proc/$PID/status) peak_rss_kb $(awk '/VmHWM/ {print $2}' /proc/$PID/status)"
unmount_drive
