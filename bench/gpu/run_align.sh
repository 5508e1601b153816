#!/usr/bin/env bash
# One H200 call for issue 11, session 7 (checked 16-byte global accesses,
# the cumulative-decay kernels): carried as .gpu/gpu8 with bench.py,
# gdr_peers.py, profile_once.py, lib/ (artifacts of main and of the branch)
# and ptx/ (their embedded PTX, extract_ptx.py); fla's package in .gpu/fla.
#   tri_inv: every artifact vs float64 (outputs NaN-poisoned), also on
#   views one element into their buffers (the kernels' element-aligned
#   fallback; skipped for *promised* artifacts, which would fault), then
#   CUDA-event timings beside fla's solve_tril and the copy floor, one
#   process; the attention (bench.py --what gdr) likewise, with a per-kernel
#   profile of one call; ncu of the first tri_inv artifact's f32 kernel;
#   ptxas -v of the PTX.
#   (device) TRI="a.so,b.so" GDR="c.so,d.so" bash .gpu/gpu8/run_align.sh
set -uo pipefail
cd "$(dirname "$0")"
export PYTHONPATH=..:. PYTHONUNBUFFERED=1
OUT="${OUT:-/tmp/out}"; mkdir -p "$OUT"
date -u; uptime
nvidia-smi --query-gpu=name,utilization.gpu,clocks.sm --format=csv
timeout "${TRI_S:-70}" python3 bench.py --lib-dir lib --what tri_inv --tri-inv-libs "$TRI" \
  --json "$OUT/tri.json" > "$OUT/tri.log" 2>&1
echo "tri_inv rc=$?"; grep -E "ok=False|misaligned|FAIL|Error|error" "$OUT/tri.log" | cut -c1-220 | head -20
sed -n '/== summary/,$p' "$OUT/tri.log"
timeout "${GDR_S:-110}" python3 bench.py --lib-dir lib --what gdr --gdr-libs "$GDR" --profile \
  --json "$OUT/gdr.json" > "$OUT/gdr.log" 2>&1
echo "gdr rc=$?"; grep -E "ok=|FAIL|Error|error" "$OUT/gdr.log" | cut -c1-200 | head -20
grep -E "^-- kernels|^   #" "$OUT/gdr.log" | cut -c1-40
sed -n '/== summary/,$p' "$OUT/gdr.log"
if command -v ncu >/dev/null && [ -n "${NCU_LIB:-}" ]; then
  timeout "${NCU_S:-35}" ncu --clock-control none -k regex:tri_inv_f32 -c 1 \
    --section SpeedOfLight --section Occupancy --section LaunchStats \
    python3 profile_once.py "lib/$NCU_LIB" > "$OUT/ncu.txt" 2>&1
  echo "== ncu $NCU_LIB rc=$?"
  grep -E "Duration|Throughput|Achieved Occupancy|Theoretical Occupancy|Registers Per|Shared Memory Per Block" "$OUT/ncu.txt" | head -14
fi
ptxas=$(command -v ptxas || echo /usr/local/cuda/bin/ptxas)
for f in ptx/*.ptx; do
  echo "== $f"; "$ptxas" -arch=sm_90 -v "$f" -o /dev/null 2>&1 | grep -E "Compiling|Used|spill"
done > "$OUT/ptxas.txt" 2>&1
grep -E "^== |Used" "$OUT/ptxas.txt" | grep -B1 Used | grep -E "tri_inv|Used" | head -12
nvidia-smi --query-gpu=name,utilization.gpu --format=csv; date -u; uptime
