#!/usr/bin/env bash
# One H200 call for the tri_inv speed work (issue 11, session 6): carried as
# .gpu/gpu4 with bench.py, profile_once.py, lib/ (artifacts) and ptx/ (their
# embedded PTX, bench/gpu/extract_ptx.py); fla's package in .gpu/fla.
#   correctness of every artifact vs float64 (outputs poisoned first), then
#   CUDA-event timings beside fla's solve_tril and the copy floor, all in
#   one process; Nsight Compute SpeedOfLight / occupancy / stalls of the f32
#   kernel of each artifact in $NCU_LIBS; the attention artifacts in
#   $GDR_LIBS checked and timed beside fla with a per-kernel profile
#   (bench.py --what gdr); ptxas -v of the PTX.
#   (device) NCU_LIBS="tri_inv_g4.so" GDR_LIBS=gdr.so bash .gpu/gpu4/run_tri_inv.sh "tri_inv_g4.so,..."
set -uo pipefail
cd "$(dirname "$0")"
export PYTHONPATH=..:. PYTHONUNBUFFERED=1
OUT="${OUT:-/tmp/out}"; mkdir -p "$OUT"
libs="${1:-tri_inv.so}"
date -u; uptime
nvidia-smi --query-gpu=name,utilization.gpu,clocks.sm --format=csv
python3 bench.py --lib-dir lib --what tri_inv --tri-inv-libs "$libs" \
  --json "$OUT/tri.json" 2>&1 | tee "$OUT/tri.log"
if [ -n "${GDR_LIBS:-}" ]; then
  python3 bench.py --lib-dir lib --what gdr --gdr-libs "$GDR_LIBS" --profile \
    --json "$OUT/gdr.json" 2>&1 | tee "$OUT/gdr.log" | grep -vE "^\s+kernel=gdr" | tail -60
fi
if command -v ncu >/dev/null; then
  for lib in ${NCU_LIBS:-}; do
    timeout 100 ncu --clock-control none -k regex:tri_inv_f32 -c 1 \
      --section SpeedOfLight --section Occupancy --section WarpStateStats --section LaunchStats \
      --section MemoryWorkloadAnalysis \
      python3 profile_once.py "lib/$lib" > "$OUT/ncu_${lib%.so}.txt" 2>&1
    echo "== ncu $lib"
    grep -E "Duration|Throughput|Achieved Occupancy|Theoretical Occupancy|Registers Per|Shared Memory Per Block|Block Limit|Warp Cycles Per Issued|Stall|Bank" "$OUT/ncu_${lib%.so}.txt" | head -30
  done
fi
ptxas=$(command -v ptxas || echo /usr/local/cuda/bin/ptxas)
if [ -d ptx ]; then
  for f in ptx/*.ptx; do
    echo "== $f"; "$ptxas" -arch=sm_90 -v "$f" -o /dev/null 2>&1 | grep -E "Compiling|Used|spill"
  done > "$OUT/ptxas.txt" 2>&1
  grep -E "Compiling|Used" "$OUT/ptxas.txt" | head -60
fi
nvidia-smi --query-gpu=name,utilization.gpu --format=csv; date -u; uptime
