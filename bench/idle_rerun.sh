#!/usr/bin/env bash
# The lead's idle CPU rerun at the end of a session (docs/Performance.md
# "Session N: the lead's idle rerun"): tri_inv at every C in SIZES (every
# strategy and precision of tri-inv-bench), then the chunk op (returned
# outputs, outputs in caller buffers, low-precision stages), llama.cpp's
# fused op and the recurrent op at 1 and 2 threads for each H in HS (both
# thread counts in one process since session 19, so the 2-thread speed-up is
# a same-run ratio), freed
# blocks kept in the heap (--keep-heap: no page faults on fresh outputs), the
# rows interleaved at random across REPS repetitions (a drift of the machine
# hits every row alike). Run it with nothing else on the machine: the benches
# print the load average and warn above their own threads + 0.5.
#   session 8: HS=16 GDR_FILTER='chunk=64/min_time|ggml|recurrent' bench/idle_rerun.sh
#   session 16: bench/idle_rerun.sh   (the defaults below)
cd "$(dirname "$0")/.."
HS="${HS:-4 16}"
SIZES="${SIZES:-16,32,64,128}"
REPS="${REPS:-5}"
GDR_FILTER="${GDR_FILTER:-chunk=64/(min_time|out-params|stages)|ggml|recurrent}"
date -u; uptime
OPENBLAS_CORETYPE=SkylakeX build/bin/tri-inv-bench --sizes="$SIZES" --batch=64 \
  --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
for h in $HS; do uptime
  build/bin/gdr-bench --H=$h --HV=$h --threads=1,2 --keep-heap \
    --benchmark_filter="$GDR_FILTER" --benchmark_repetitions="$REPS" \
    --benchmark_enable_random_interleaving=true \
    --benchmark_report_aggregates_only=true; done
date -u; uptime
