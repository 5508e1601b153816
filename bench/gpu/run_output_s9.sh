#!/usr/bin/env bash
# One H200 call for issue 11's output stage (session 9, gpu13): session 8's
# main (gdr_s8.so, the lead's artifact) and this branch's attention builds
# side by side in one process (bench.py: outputs poisoned with NaN first,
# checked against float64, also on views one element into their buffers;
# fla beside; CUDA events), per-kernel GPU times of each (--profile), ptxas
# -v of the PTX in ptx/ (registers, shared bytes, spills), then ncu of the
# output stage (launch 7 of a large call) while the call's time allows.
# Carried as .gpu/gpu13/ (bench.py, gdr_peers.py, profile_gdr_once.py, lib/,
# ptx/; fla's package in .gpu/fla):
#   (device) bash .gpu/gpu13/run_output_s9.sh gdr_s8.so,gdr.so,gdr_chain.so
set -uo pipefail
cd "$(dirname "$0")"
export PYTHONPATH=..:. PYTHONUNBUFFERED=1
OUT="${OUT:-/tmp/out}"; mkdir -p "$OUT"
gdr="${1:-gdr_s8.so,gdr.so}"
start=$(date +%s)
date -u; uptime
nvidia-smi --query-gpu=name,utilization.gpu,clocks.sm --format=csv
timeout "${BENCH_TIMEOUT_S:-240}" python3 bench.py --lib-dir lib --what gdr --gdr-libs "$gdr" --profile \
  --json "$OUT/gdr.json" > "$OUT/gdr.log" 2>&1
echo "bench rc=$? $(( $(date +%s) - start )) s"
grep -E "ok=False|FAIL|Error|Traceback|misaligned" "$OUT/gdr.log" | cut -c1-200 | head -20
grep -E "^-- kernels|^   #" "$OUT/gdr.log" | cut -c1-160
sed -n '/== summary/,$p' "$OUT/gdr.log"
ptxas=$(command -v ptxas || echo /usr/local/cuda/bin/ptxas)
if [ -d ptx ] && [ -x "$ptxas" ]; then
  for f in ptx/*.ptx; do
    echo "== $f"; "$ptxas" -arch=sm_90 -v "$f" -o /dev/null 2>&1 | grep -E "Compiling|Used|spill"
  done > "$OUT/ptxas.txt" 2>&1
  grep -E "^== |Used" "$OUT/ptxas.txt" | cut -c1-160 | head -60
fi
for target in ${NCU_TARGETS:-}; do
  lib="${target%%:*}"; skip="${target##*:}"
  [ $(( $(date +%s) - start )) -lt "${NCU_BUDGET_S:-150}" ] && command -v ncu >/dev/null || break
  echo "== ncu $lib launch $skip"
  timeout 80 ncu --clock-control none -k regex:gdr_large --launch-skip "$skip" --launch-count 1 \
    --section SpeedOfLight --section Occupancy --section LaunchStats --section MemoryWorkloadAnalysis \
    python3 profile_gdr_once.py "lib/$lib" large > "$OUT/ncu_${lib%.so}_$skip.txt" 2>&1
  grep -E "Duration|Throughput|Achieved Occupancy|Theoretical Occupancy|Registers Per|Block Limit Shared|Block Limit Reg|Dynamic Shared|L1/TEX Hit" "$OUT/ncu_${lib%.so}_$skip.txt" | head -20
done
nvidia-smi --query-gpu=name,utilization.gpu --format=csv; date -u; uptime
echo "elapsed $(( $(date +%s) - start )) s"
