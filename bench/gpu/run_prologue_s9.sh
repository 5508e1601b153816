#!/usr/bin/env bash
# One H200 call for issue 11's per-chunk prologue (session 9, gpu14; carried
# as .gpu/gpu14 with bench.py, gdr_peers.py, profile_gdr_once.py, lib/ and
# ptx/; fla's package in .gpu/fla): the attention artifacts (session 8's
# main gdr_s8.so, this branch's default gdr.so and its variants) checked
# against float64 with outputs poisoned first (aligned and misaligned views)
# and timed beside fla in one process, per-kernel GPU times of each, ptxas
# -v of this branch's PTX (registers, spills), and ncu of the kernels in
# NCU_TARGETS ("artifact:launch-skip ...") while NCU_BUDGET_S allows.
#   (device) bash .gpu/gpu14/run_prologue_s9.sh "gdr.so,gdr_s8.so,gdr_stages.so"
#   (call 2) TRI_INV_LIBS=tri_inv.so,tri_inv_s8.so DECODE_LIBS=gdr_decode.so,gdr_decode_s8.so \
#            bash .gpu/gpu14/run_prologue_s9.sh gdr.so,gdr_nosink.so,gdr_s8.so,gdr_t256.so
set -uo pipefail
cd "$(dirname "$0")"
export PYTHONPATH=..:. PYTHONUNBUFFERED=1
OUT="${OUT:-/tmp/out}"; mkdir -p "$OUT"
gdr="${1:-gdr.so,gdr_s8.so}"
start=$(date +%s)
date -u; uptime
nvidia-smi --query-gpu=name,utilization.gpu,clocks.sm --format=csv
timeout "${BENCH_TIMEOUT_S:-300}" python3 bench.py --lib-dir lib --what gdr --gdr-libs "$gdr" --profile \
  --json "$OUT/gdr.json" > "$OUT/gdr.log" 2>&1
echo "gdr rc=$? $(( $(date +%s) - start )) s"
grep -E "ok=False|FAIL|Error|Traceback" "$OUT/gdr.log" | cut -c1-200 | head
grep -E "^-- kernels|^   #" "$OUT/gdr.log" | cut -c1-70
sed -n '/== summary/,$p' "$OUT/gdr.log"
# TRI_INV_LIBS / DECODE_LIBS: tri_inv and decode artifacts to check and time
# beside fla too (a pipeline-wide change: sink-index-computations).
if [ -n "${TRI_INV_LIBS:-}" ]; then
  timeout 150 python3 bench.py --lib-dir lib --what decode,tri_inv \
    --decode-libs "${DECODE_LIBS:-gdr_decode.so}" --tri-inv-libs "$TRI_INV_LIBS" \
    --json "$OUT/tri.json" > "$OUT/tri.log" 2>&1
  echo "tri/decode rc=$? $(( $(date +%s) - start )) s"
  grep -E "ok=False|FAIL|Error|Traceback" "$OUT/tri.log" | cut -c1-200 | head
  grep -E "gdr decode|^-- kernels.*decode" "$OUT/tri.log" | cut -c1-220
  sed -n '/== summary/,$p' "$OUT/tri.log"
fi
ptxas=$(command -v ptxas || echo /usr/local/cuda/bin/ptxas)
if [ -d ptx ] && [ -x "$ptxas" ]; then
  for f in ptx/*.ptx; do
    echo "== $f"; "$ptxas" -arch=sm_90 -v "$f" -o /dev/null 2>&1 | grep -E "Compiling|Used|spill"
  done > "$OUT/ptxas.txt" 2>&1
  grep -E "Compiling|Used|spill" "$OUT/ptxas.txt" | grep -v "0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads" | cut -c1-150 | head -40
fi
for target in ${NCU_TARGETS:-}; do
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
