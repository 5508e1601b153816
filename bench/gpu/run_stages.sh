#!/usr/bin/env bash
# One H200 call for issue 11's per-chunk stages, gathers and scatter
# (session 7, gpu7; carried as .gpu/gpu7 with bench.py, gdr_peers.py,
# profile_gdr_once.py, lib/ and ptx/; fla's package in .gpu/fla): every
# attention artifact (main's and the variants) checked against float64 with
# outputs poisoned first and timed beside fla in one process, per-kernel GPU
# times of each, ptxas -v of the first artifact's PTX, and ncu of its output
# stage (launch NCU_SKIP of a large call) while the call's time allows.
#   (device) bash .gpu/gpu7/run_stages.sh "gdr.so,gdr_main.so,..."
set -uo pipefail
cd "$(dirname "$0")"
export PYTHONPATH=..:. PYTHONUNBUFFERED=1
OUT="${OUT:-/tmp/out}"; mkdir -p "$OUT"
gdr="${1:-gdr.so}"
start=$(date +%s)
date -u; uptime
nvidia-smi --query-gpu=name,utilization.gpu,clocks.sm --format=csv
python3 bench.py --lib-dir lib --what gdr --gdr-libs "$gdr" --profile \
  --json "$OUT/gdr.json" 2>&1 | tee "$OUT/gdr.log"
ptxas=$(command -v ptxas || echo /usr/local/cuda/bin/ptxas)
if [ -d ptx ] && [ -x "$ptxas" ]; then
  for f in ptx/*.ptx; do
    echo "== $f"; "$ptxas" -arch=sm_90 -v "$f" -o /dev/null 2>&1 | grep -E "Compiling|Used|spill"
  done > "$OUT/ptxas.txt" 2>&1
  grep -B1 -A2 "spill" "$OUT/ptxas.txt" | grep -E "Compiling|bytes spill" | paste - - | grep -v " 0 bytes spill stores, 0 bytes spill loads" | head -10
fi
# NCU_TARGETS: "artifact:launch-skip ..." (default: the first artifact's 9th launch).
first="${gdr%%,*}"
for target in ${NCU_TARGETS:-$first:8}; do
  lib="${target%%:*}"; skip="${target##*:}"
  [ $(( $(date +%s) - start )) -lt "${NCU_BUDGET_S:-150}" ] && command -v ncu >/dev/null || break
  echo "== ncu $lib launch $skip"
  timeout 90 ncu --clock-control none -k regex:gdr_large --launch-skip "$skip" --launch-count 1 \
    --section SpeedOfLight --section Occupancy --section WarpStateStats --section LaunchStats --section MemoryWorkloadAnalysis \
    python3 profile_gdr_once.py "lib/$lib" large > "$OUT/ncu_${lib%.so}_$skip.txt" 2>&1
  grep -E "Duration|Throughput|Achieved Occupancy|Theoretical Occupancy|Registers Per|Block Limit Shared|Block Limit Reg|Grid Size|Dynamic Shared|L1/TEX Hit|Warp Cycles Per Issued" "$OUT/ncu_${lib%.so}_$skip.txt" | head -30
done
nvidia-smi --query-gpu=name,utilization.gpu --format=csv; date -u; uptime
echo "elapsed $(( $(date +%s) - start )) s"
