#!/usr/bin/env bash
# One H200 call for issue 11's tensor-core work (carried as .gpu/gpu3 with
# bench.py, gdr_peers.py, profile_once.py, extract_ptx.py, lib/ and ptx/;
# fla's package in .gpu/fla):
#   correctness of every artifact vs float64 (outputs poisoned first) and
#   CUDA-event timings beside fla, SIMT and tensor-core artifacts side by
#   side in the same process, per-kernel GPU times of one call, and ptxas's
#   register / spill report of the embedded PTX.
#   (device) bash .gpu/gpu3/run_tc.sh "tri_inv.so,..." "gdr.so,gdr_tc.so,..."
set -uo pipefail
cd "$(dirname "$0")"
export PYTHONPATH=..:. PYTHONUNBUFFERED=1
OUT="${OUT:-/tmp/out}"; mkdir -p "$OUT"
tri="${1:-tri_inv.so}"; gdr="${2:-gdr.so}"; extra="${3:-}"
date -u; uptime
nvidia-smi --query-gpu=name,utilization.gpu,clocks.sm --format=csv
python3 bench.py --lib-dir lib --what tri_inv,decode --tri-inv-libs "$tri" \
  --json "$OUT/tri.json" 2>&1 | tee "$OUT/tri.log"
python3 bench.py --lib-dir lib --what gdr --gdr-libs "$gdr" --profile $extra \
  --json "$OUT/gdr.json" 2>&1 | tee "$OUT/gdr.log"
if [ -n "${NCU_LIB:-}" ] && command -v ncu >/dev/null; then
  # The state scan's launch (the 11th of a call) under Nsight Compute.
  timeout 150 ncu --clock-control none -k regex:gdr_large --launch-skip 10 --launch-count 1 \
    --section SpeedOfLight --section Occupancy --section WarpStateStats --section LaunchStats \
    python3 profile_gdr_once.py "lib/$NCU_LIB" large > "$OUT/ncu_scan.txt" 2>&1
  grep -E "Duration|Throughput|Achieved Occupancy|Theoretical Occupancy|Stall|Registers|Shared Memory Config|Block Limit|Warp Cycles" "$OUT/ncu_scan.txt" | head -30
fi
ptxas=$(command -v ptxas || echo /usr/local/cuda/bin/ptxas)
if [ -d ptx ]; then
  for f in ptx/*.ptx; do
    echo "== $f"; "$ptxas" -arch=sm_90 -v "$f" -o /dev/null 2>&1 | grep -E "Compiling|Used|spill"
  done > "$OUT/ptxas.txt" 2>&1
  grep -B1 -A2 "spill" "$OUT/ptxas.txt" | grep -E "Compiling|bytes spill" | paste - - | grep -v " 0 bytes spill stores, 0 bytes spill loads" | head -20
fi
nvidia-smi --query-gpu=name,utilization.gpu --format=csv; date -u
