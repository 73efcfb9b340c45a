#!/usr/bin/env bash
# The mount's peak resident size (VmHWM) through compare.sh's workload, four more 256 MiB writes, then
# on a fresh mount with an empty cache four cold readers of those files beside one more writer, then
# the cold read of the small-file tree on that same mount. Needs compare.sh's data
# (BENCH_DIR/data/big.bin and tree.tar: run compare.sh once first) and root for FUSE.
# Usage, from the repository root: bash benchmarks/memory/peak-rss.sh [LAUNCHER]
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
L=${1:-$ROOT/bin/bucketdrive}; DATA=${BENCH_DIR:-/tmp/bdbench}/data
B=${SCRATCH:-/tmp/bdmem}; PORT=${PORT:-19300}; EP=http://127.0.0.1:$PORT
export AWS_ACCESS_KEY_ID=benchkey AWS_SECRET_ACCESS_KEY=benchsecret AWS_REGION=us-east-1
unset AWS_CA_BUNDLE
JAR=$(ls ~/.m2/repository/org/gaul/s3proxy/*/s3proxy-*-jar-with-dependencies.jar | tail -1)
[ -f "$DATA/big.bin" ] && [ -f "$DATA/tree.tar" ] || { echo "no $DATA/big.bin or tree.tar: run compare.sh first" >&2; exit 2; }
rm -rf "$B" && mkdir -p "$B/s3/bench" "$B/cache" "$B/mnt"
printf 's3proxy.endpoint=%s\ns3proxy.authorization=none\njclouds.provider=filesystem-nio2\njclouds.identity=benchkey\njclouds.credential=benchsecret\njclouds.filesystem.basedir=%s\n' \
  "$EP" "$B/s3" > "$B/s3proxy.conf"
printf '[mem]\ntype = s3\nprovider = Other\naccess_key_id = benchkey\nsecret_access_key = benchsecret\nendpoint = %s\nforce_path_style = true\nregion = us-east-1\n' \
  "$EP" > "$B/rclone.conf"
java -jar "$JAR" --properties "$B/s3proxy.conf" > "$B/s3proxy.log" 2>&1 &
S3=$!
trap 'fusermount3 -u "$B/mnt" 2>/dev/null; kill $S3 2>/dev/null' EXIT
for i in $(seq 60); do curl -s -o /dev/null "$EP/" && break; sleep 0.5; done
PID=
mount_drive() {
  "$L" mount s3://bench "$B/mnt" --endpoint "$EP" --path-style --cache-dir "$B/cache" >> "$B/mount.log" 2>&1 &
  for i in $(seq 120); do mountpoint -q "$B/mnt" && break; sleep 0.5; done
  PID=$(pgrep -f "dev.bucketdrive.cli.Main mount s3://bench $B/mnt" | head -1)
}
unmount_drive() {
  fusermount3 -u "$B/mnt"
  for i in $(seq 120); do kill -0 "$PID" 2>/dev/null || break; sleep 0.5; done
}
peak() { echo "$1: $(awk '/VmHWM/ {printf "peak %d MB", $2/1000} /VmRSS/ {printf ", now %d MB", $2/1000}' /proc/$PID/status)"; }
mount_drive
DATA=$DATA bash "$ROOT/../shared/bench/workload.sh" "$B/mnt" "rclone --config $B/rclone.conf ls mem:bench"
peak "after compare.sh's workload"
for i in 1 2 3 4; do cp "$DATA/big.bin" "$B/mnt/r$i.bin"; done
sleep 20; peak "after four more 256 MiB writes"
unmount_drive; rm -rf "$B/cache"; mkdir -p "$B/cache"; mount_drive
readers=(); for i in 1 2 3 4; do cat "$B/mnt/r$i.bin" > /dev/null & readers+=($!); done
cp "$DATA/big.bin" "$B/mnt/w.bin"; wait "${readers[@]}"
peak "fresh mount, four cold readers and a writer"
sleep 10
(cd "$B/mnt/src" && tar cf - . | wc -c > /dev/null); peak "then the cold tree read"
