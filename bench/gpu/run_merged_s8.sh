#!/usr/bin/env bash
# Lead's H200 call on the merged main (session 8): decode, tri_inv f32/bf16,
# the attention at both shapes (merged main vs session 7's main, and the
# threads=256 eliminate-barriers build gpu9's race fix targets), fla beside.
# Usage: copy to .gpu/lead/ beside bench.py, gdr_peers.py and lib/ (artifacts
# from scripts/gpu-aot.sh: gdr.so, gdr_decode.so, tri_inv.so, *_s7.so of the
# previous main), then (device tool, carry .gpu) bash .gpu/lead/run_s8.sh
set -uo pipefail
cd "$(dirname "$0")"
export PYTHONPATH=..:. PYTHONUNBUFFERED=1
OUT="${OUT:-/tmp/out}"; mkdir -p "$OUT"
start=$(date +%s); date -u; uptime
nvidia-smi --query-gpu=name,utilization.gpu,clocks.sm --format=csv
timeout 150 python3 bench.py --lib-dir lib --what decode,tri_inv \
  --decode-libs gdr_decode.so,gdr_decode_s7.so,gdr_decode_nocheck.so \
  --tri-inv-libs tri_inv.so,tri_inv_s7.so --json "$OUT/tri.json" > "$OUT/tri.log" 2>&1
echo "tri/decode rc=$? $(( $(date +%s) - start )) s"
grep -E "ok=False|FAIL|Error|Traceback" "$OUT/tri.log" | cut -c1-200 | head
grep -E "gdr decode|^-- kernels.*decode" "$OUT/tri.log" | cut -c1-220
sed -n '/== summary/,$p' "$OUT/tri.log"
timeout 240 python3 bench.py --lib-dir lib --what gdr --gdr-libs ${GDR_LIBS:-gdr.so,gdr_s7.so,gdr_t256eb.so} --profile \
  --json "$OUT/gdr.json" > "$OUT/gdr.log" 2>&1
echo "gdr rc=$? $(( $(date +%s) - start )) s"
grep -E "ok=False|FAIL|Error|Traceback" "$OUT/gdr.log" | cut -c1-200 | head
grep -E "^-- kernels|^   #" "$OUT/gdr.log" | cut -c1-70
sed -n '/== summary/,$p' "$OUT/gdr.log"
nvidia-smi --query-gpu=name,utilization.gpu --format=csv; date -u; uptime
echo "elapsed $(( $(date +%s) - start )) s"
