#!/usr/bin/env bash
# One H200 call for issue 11's state scan (session 9, gpu12: S carried in
# the update's accumulator registers, its copy to `states` folded into the
# fragment loads, its rows padded; carried as .gpu/gpu12 with bench.py,
# gdr_peers.py, profile_gdr_once.py, lib/ (gdr_s8.so = session 8's main,
# the lead's artifact) and ptx/; fla's package in .gpu/fla): every attention
# artifact checked against float64 with outputs poisoned first (misaligned
# views too) and timed beside fla in one process, per-kernel GPU times of
# each, ptxas -v of the scan kernels' PTX, and ncu of the scan (the 7th
# launch of a large call) of each artifact in NCU_LIBS while the call's
# time allows (NCU_BUDGET_S).
#   (device) NCU_LIBS=gdr.so,gdr_s8.so bash .gpu/gpu12/run_carry_s9.sh "gdr_s8.so,gdr.so,..."
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
    echo "== $f"; "$ptxas" -arch=sm_90 -v "$f" -o /dev/null 2>&1 | grep -E "Used|spill"
  done 2>&1 | tee "$OUT/ptxas.txt"
fi
for lib in ${NCU_LIBS//,/ }; do
  if [ $(( $(date +%s) - start )) -lt "${NCU_BUDGET_S:-200}" ] && command -v ncu >/dev/null; then
    echo "== ncu scan $lib"
    timeout 60 ncu --clock-control none -k regex:gdr_large --launch-skip "${SCAN_LAUNCH:-6}" --launch-count 1 \
      --section SpeedOfLight --section Occupancy --section WarpStateStats --section LaunchStats --section MemoryWorkloadAnalysis \
      python3 profile_gdr_once.py "lib/$lib" large > "$OUT/ncu_${lib%.so}.txt" 2>&1
    grep -E "gdr_large|Duration|Throughput|Achieved Occupancy|Theoretical Occupancy|Registers Per|Block Limit|Grid Size|Dynamic Shared|Bank|Warp Cycles Per Issued" "$OUT/ncu_${lib%.so}.txt" | head -30
  fi
done
nvidia-smi --query-gpu=name,utilization.gpu --format=csv; date -u; uptime
echo "elapsed $(( $(date +%s) - start )) s"
