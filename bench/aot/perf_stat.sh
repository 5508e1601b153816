#!/usr/bin/env bash
# Per-call perf counters of one AOT gated delta rule kernel (issue 13, "2
# threads"): runs OUT_DIR/gdr_driver_CLOCK_MONOTONIC (bench/aot/build.sh) with
# 2 and with 7 calls under `perf stat` and prints (count(7) - count(2)) / 5,
# i.e. per call without the setup. Events: task-clock of all threads,
# page-faults, and cycles / instructions / cache-misses where the machine
# exposes them (this VM does not: they print as absent). Usage:
#   bench/aot/perf_stat.sh OUT_DIR H kernel.so [VAR=value...]
# e.g. GDR_PLAIN_MALLOC=1 for glibc's default (fresh pages for every output).
set -euo pipefail
out="${1:?usage: perf_stat.sh OUT_DIR H kernel.so [VAR=value...]}" h="$2" so="$3"; shift 3
ev=task-clock,page-faults,cycles,instructions,cache-misses
tmp="$(mktemp -d)"
for reps in 2 7; do
  env "$@" perf stat -x, -e "$ev" "$out/gdr_driver_CLOCK_MONOTONIC" "$h" "$reps" "$so" \
    2>"$tmp/$reps.csv" >/dev/null
done
paste -d, "$tmp/2.csv" "$tmp/7.csv" | awk -F, -v so="$so" -v env="$*" '
  $1 ~ /^[0-9.]+$/ && $3 ~ /^[a-zA-Z-]/ {
    printf "%s %s %-14s per call %.4g\n", so, env, $3, ($(NF/2+1) - $1) / 5 }'
rm -r "$tmp"
