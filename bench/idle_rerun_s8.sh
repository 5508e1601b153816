#!/usr/bin/env bash
# The lead's idle CPU rerun of session 8 (docs/Performance.md "Session 8: the
# lead's idle rerun"): tri_inv at C = 32 / 64 and the chunk op at H = 16, 1 / 2 threads.
cd "$(dirname "$0")/.."
date -u; uptime
OPENBLAS_CORETYPE=SkylakeX build/bin/tri-inv-bench --sizes=32,64 --batch=64 \
  --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
uptime
for t in 1 2; do uptime
  build/bin/gdr-bench --H=16 --HV=16 --threads=$t \
    --benchmark_filter='chunk=64/min_time|ggml|recurrent' \
    --benchmark_repetitions=3 --benchmark_report_aggregates_only=true; done
date -u; uptime
