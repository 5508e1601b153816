#!/usr/bin/env bash
# The lead's idle CPU rerun at the end of a session (docs/Performance.md
# "Session N: the lead's idle rerun"): tri_inv at C = 32 / 64 (every strategy
# and precision of tri-inv-bench), then the chunk op, llama.cpp's fused op and
# the recurrent op at 1 and 2 threads for each H in HS.
#   session 8: HS=16 GDR_FILTER='chunk=64/min_time|ggml|recurrent' bench/idle_rerun.sh
#   session 9: bench/idle_rerun.sh   (the defaults below)
cd "$(dirname "$0")/.."
HS="${HS:-4 16}"
GDR_FILTER="${GDR_FILTER:-chunk=64(/stages=i8)?/min_time|ggml|recurrent}"
date -u; uptime
OPENBLAS_CORETYPE=SkylakeX build/bin/tri-inv-bench --sizes=32,64 --batch=64 \
  --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
for h in $HS; do for t in 1 2; do uptime
  build/bin/gdr-bench --H=$h --HV=$h --threads=$t --benchmark_filter="$GDR_FILTER" \
    --benchmark_repetitions=3 --benchmark_report_aggregates_only=true; done; done
date -u; uptime
