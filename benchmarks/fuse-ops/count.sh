#!/usr/bin/env bash
# Counts the requests the kernel sends to one FUSE mount while a command runs, by opcode: the
# kernel's fuse_request_send tracepoint (recent kernels; 6.18 has it), in a trace instance of its
# own so nothing else tracing is disturbed. Needs root. Any FUSE mount will do (BucketDrive,
# rclone, s3fs).
#
# Usage: benchmarks/fuse-ops/count.sh MOUNTPOINT COMMAND [ARG...]
#   e.g. benchmarks/fuse-ops/count.sh /mnt/drive tar xf /tmp/bdbench/data/tree.tar -C /mnt/drive/src
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 MOUNTPOINT COMMAND [ARG...]" >&2; exit 2; }
mnt=$1; shift
mountpoint -q "$mnt" || { echo "$mnt is not a mount point" >&2; exit 2; }
T=/sys/kernel/tracing
[ -d "$T/instances" ] || mount -t tracefs nodev "$T"
[ -d "$T/events/fuse/fuse_request_send" ] || { echo "this kernel has no fuse_request_send tracepoint" >&2; exit 2; }
I="$T/instances/fuse-ops-$$"
mkdir "$I"
trap 'echo 0 > "$I/tracing_on" 2>/dev/null; rmdir "$I"' EXIT
# A FUSE mount has an anonymous device (major 0): its number is the connection the tracepoint prints.
echo "connection == $(stat -c %d "$mnt")" > "$I/events/fuse/fuse_request_send/filter"
echo 65536 > "$I/buffer_size_kb"
echo 1 > "$I/events/fuse/fuse_request_send/enable"
status=0
"$@" || status=$?
echo 0 > "$I/tracing_on"
{ grep -o 'opcode [0-9]* ([A-Z_0-9]*)' "$I/trace" || true; } | sed 's/.*(\(.*\))/\1/' | sort | uniq -c | sort -rn
printf '%7d in all\n' "$(grep -c 'fuse_request_send' "$I/trace" || true)"
lost=$(cat "$I"/per_cpu/cpu*/stats | awk '/^overrun:/ {n += $2} END {print n + 0}')
[ "$lost" -eq 0 ] || echo "warning: $lost events lost (the trace buffer overflowed): the counts are too low" >&2
exit $status
