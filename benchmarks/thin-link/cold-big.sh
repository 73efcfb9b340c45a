#!/usr/bin/env bash
# A cold read of a big file over a thin link: a private S3Proxy behind rateproxy.py (DELAY_MS each way,
# MBPS per connection and direction), compare.sh's 256 MiB file copied straight into it, then for each
# SYSTEM a fresh mount with an empty cache and `head -c READ_BYTES` of the file timed.
#
# Usage: benchmarks/thin-link/cold-big.sh SYSTEM...   (run from the repository, as root)
#   SYSTEM: as cold-tree.sh: bd, bd=PATH, rclone, s3fs; name one several times to alternate rounds
# Env: DELAY_MS (10), MBPS (50), READ_BYTES (the whole file), BIG (/tmp/bdbench/data/big.bin),
#      B (scratch folder, /tmp/thin-link-big); needs rclone and S3Proxy in ~/.m2, as compare.sh leaves them.
set -u
HERE=$(cd "$(dirname "$0")" && pwd); REPO=$(cd "$HERE/../.." && pwd)
. "$HERE/lib.sh"
B=${B:-/tmp/thin-link-big}; BIG=${BIG:-/tmp/bdbench/data/big.bin}
[ -f "$BIG" ] || { echo "no $BIG: run ../shared/bench/compare.sh once first" >&2; exit 2; }
READ=${READ_BYTES:-$(stat -c %s "$BIG")}
thin_link_start 19110 19111 "${DELAY_MS:-10}" "${MBPS:-50}"
rclone --config "$B/direct.conf" mkdir s3:thinbig && rclone --config "$B/direct.conf" copyto "$BIG" s3:thinbig/big.bin
for i in 1 2; do curl -s -o /dev/null "$EP_DIRECT/thinbig/big.bin"; done # S3Proxy's GET path warm for every system
round=0
for s in "$@"; do
  round=$((round + 1)); mnt="$B/mnt-${s%%=*}"; cache="$B/cache-${s%%=*}"; rm -rf "$cache"; mkdir -p "$mnt" "$cache"; sync
  thin_link_mount "$s" thinbig "$mnt" "$cache" || continue
  t0=$(date +%s.%N); n=$(head -c "$READ" "$mnt/big.bin" | wc -c); t1=$(date +%s.%N)
  echo "round $round $s cold_big_s $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}') bytes $n"
  thin_link_unmount "$mnt"
done
