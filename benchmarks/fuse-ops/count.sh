#!/usr/bin/env bash
# Counts the requests the kernel sends to one FUSE mount while a command runs, by opcode, with the
# total and mean time from each request to its answer: the kernel's fuse_request_send and
# fuse_request_end tracepoints (recent kernels; 6.18 has them), in a trace instance of its own so
# nothing else tracing is disturbed. Needs root. Any FUSE mount will do (BucketDrive,
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
for e in fuse_request_send fuse_request_end; do
  echo "connection == $(stat -c %d "$mnt")" > "$I/events/fuse/$e/filter"
  echo 1 > "$I/events/fuse/$e/enable"
done
echo 65536 > "$I/buffer_size_kb"
status=0
"$@" || status=$?
echo 0 > "$I/tracing_on"
# "… 123.456789: fuse_request_send: connection 39 req 12 opcode 3 (FUSE_GETATTR) len 56"
awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+\.[0-9]+:$/) t = substr($i, 1, length($i) - 1)
       for (i = 1; i <= NF; i++) if ($i == "req") r = $(i + 1) }
     / fuse_request_send: / { op = $0; sub(/.*\(/, "", op); sub(/\).*/, "", op); kind[r] = op; sent[r] = t; n[op]++ }
     / fuse_request_end: / && (r in sent) { waited[kind[r]] += t - sent[r]; answered[kind[r]]++; delete sent[r] }
     END { for (op in n) { total += n[op]
             printf "%7d %-20s %9.1f ms %8.1f us\n", n[op], op, waited[op] * 1000,
                    answered[op] ? waited[op] / answered[op] * 1e6 : 0 }
           printf "%7d in all (count, request, time to the answers, mean)\n", total }' "$I/trace" | sort -rn
lost=$(cat "$I"/per_cpu/cpu*/stats | awk '/^overrun:/ {n += $2} END {print n + 0}')
[ "$lost" -eq 0 ] || echo "warning: $lost events lost (the trace buffer overflowed): the counts are too low" >&2
exit $status
