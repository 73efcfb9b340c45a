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
. "$HERE/lib.sh"
B=${B:-/tmp/thin-link}; TREE=${TREE:-/tmp/bdbench/data/tree.tar}
[ -f "$TREE" ] || { echo "no $TREE: run ../shared/bench/compare.sh once first" >&2; exit 2; }
thin_link_start 19100 19101 "${DELAY_MS:-20}" "${MBPS:-25}"
rm -rf "$B/tree" && mkdir -p "$B/tree" && tar xf "$TREE" -C "$B/tree"
rclone --config "$B/direct.conf" mkdir s3:thin && rclone --config "$B/direct.conf" copy "$B/tree" s3:thin/src --transfers 16
expect=$(cd "$B/tree" && tar cf - . | wc -c)
for s in "$@"; do
  mnt="$B/mnt-${s%%=*}"; cache="$B/cache-${s%%=*}"; rm -rf "$cache"; mkdir -p "$mnt" "$cache"
  thin_link_mount "$s" thin "$mnt" "$cache" || continue
  t0=$(date +%s.%N); n=$(cd "$mnt/src" && tar cf - . | wc -c); t1=$(date +%s.%N)
  rss=""; pid=$(pgrep -f "java.*mount s3://thin $mnt" | head -1); [ -n "$pid" ] && rss=" peak_rss_kb $(awk '/VmHWM/ {print $2}' /proc/$pid/status)"
  echo "$s cold_tree_s $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}') bytes $n (expected $expect)$rss"
  thin_link_unmount "$mnt"
done
