#!/usr/bin/env bash
# A cold read of compare.sh's small-file tree (3,512 JDK sources) over a thin link: a private S3Proxy
# behind rateproxy.py (DELAY_MS each way, MBPS per connection and direction), the tree copied straight
# into it, then for each SYSTEM a fresh mount with an empty cache and `tar cf - . | wc -c` timed.
#
# Usage: benchmarks/thin-link/cold-tree.sh SYSTEM...   (run from the repository, as root)
#   SYSTEM: bd (this checkout's bin/bucketdrive), bd=PATH (another launcher, e.g. an older checkout's
#           bin/bucketdrive), rclone (--vfs-cache-mode full), s3fs
# Env: DELAY_MS (20), MBPS (25), TREE (compare.sh's tree.tar, /tmp/bdbench/data/tree.tar),
#      B (scratch folder, /tmp/thin-link); needs rclone (to fill the bucket) and S3Proxy in ~/.m2,
#      as compare.sh leaves them.
set -u
HERE=$(cd "$(dirname "$0")" && pwd); REPO=$(cd "$HERE/../.." && pwd)
B=${B:-/tmp/thin-link}; TREE=${TREE:-/tmp/bdbench/data/tree.tar}
DIRECT=19100; THIN=19101; EP_DIRECT=http://127.0.0.1:$DIRECT; EP=http://127.0.0.1:$THIN
export AWS_ACCESS_KEY_ID=benchkey AWS_SECRET_ACCESS_KEY=benchsecret AWS_REGION=us-east-1; unset AWS_CA_BUNDLE
[ -f "$TREE" ] || { echo "no $TREE: run ../shared/bench/compare.sh once first" >&2; exit 2; }
JAR=$(ls ~/.m2/repository/org/gaul/s3proxy/*/s3proxy-*-jar-with-dependencies.jar 2>/dev/null | tail -1)
[ -n "$JAR" ] || { echo "no S3Proxy jar in ~/.m2: run ../shared/bench/compare.sh once first" >&2; exit 2; }
mkdir -p "$B/logs"; rm -rf "$B/s3" "$B/tree" && mkdir -p "$B/s3" "$B/tree"
printf 's3proxy.endpoint=%s\ns3proxy.authorization=none\njclouds.provider=filesystem-nio2\njclouds.identity=benchkey\njclouds.credential=benchsecret\njclouds.filesystem.basedir=%s/s3\n' \
  "$EP_DIRECT" "$B" > "$B/s3proxy.conf"
java -jar "$JAR" --properties "$B/s3proxy.conf" > "$B/logs/s3proxy.log" 2>&1 & S3PID=$!
python3 "$HERE/rateproxy.py" $THIN $DIRECT "${DELAY_MS:-20}" "${MBPS:-25}" & RPID=$!
trap 'for m in "$B"/mnt-*; do fusermount3 -u "$m" 2>/dev/null; done; kill $S3PID $RPID 2>/dev/null' EXIT
for i in $(seq 1 60); do curl -s -o /dev/null "$EP_DIRECT/" && break; sleep 0.5; done
conf() { printf '[s3]\ntype = s3\nprovider = Other\naccess_key_id = benchkey\nsecret_access_key = benchsecret\nendpoint = %s\nforce_path_style = true\nregion = us-east-1\n' "$1"; }
conf "$EP_DIRECT" > "$B/direct.conf"; conf "$EP" > "$B/thin.conf"
echo benchkey:benchsecret > "$B/s3fs.passwd"; chmod 600 "$B/s3fs.passwd"
tar xf "$TREE" -C "$B/tree"
rclone --config "$B/direct.conf" mkdir s3:thin && rclone --config "$B/direct.conf" copy "$B/tree" s3:thin/src --transfers 16
expect=$(cd "$B/tree" && tar cf - . | wc -c)
for s in "$@"; do
  mnt="$B/mnt-${s%%=*}"; cache="$B/cache-${s%%=*}"; rm -rf "$cache"; mkdir -p "$mnt" "$cache"
  case $s in
    bd|bd=*) bin=$REPO/bin/bucketdrive; [ "$s" = bd ] || bin=${s#bd=}
      "$bin" mount s3://thin "$mnt" --endpoint "$EP" --path-style --cache-dir "$cache" >> "$B/logs/bd.log" 2>&1 & ;;
    rclone) rclone --config "$B/thin.conf" mount s3:thin "$mnt" --vfs-cache-mode full --cache-dir "$cache" --daemon --log-file "$B/logs/rclone.log" ;;
    s3fs) s3fs thin "$mnt" -o passwd_file="$B/s3fs.passwd" -o url="$EP" -o use_path_request_style -o use_cache="$cache" ;;
    *) echo "unknown system $s" >&2; continue ;;
  esac
  for i in $(seq 1 120); do mountpoint -q "$mnt" && break; sleep 0.5; done
  t0=$(date +%s.%N); n=$(cd "$mnt/src" && tar cf - . | wc -c); t1=$(date +%s.%N)
  rss=""; pid=$(pgrep -f "java.*mount s3://thin $mnt" | head -1); [ -n "$pid" ] && rss=" peak_rss_kb $(awk '/VmHWM/ {print $2}' /proc/$pid/status)"
  echo "$s cold_tree_s $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}') bytes $n (expected $expect)$rss"
  fusermount3 -u "$mnt"; for i in $(seq 1 60); do mountpoint -q "$mnt" || break; sleep 0.5; done; sleep 1
done
