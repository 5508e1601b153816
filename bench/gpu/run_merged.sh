#!/usr/bin/env bash
# The lead's H200 measurement of a merged main: tri_inv f32/bf16 and decode
# (this main, the previous main, alignment promised), then the attention at
# both shapes with a per-kernel profile; fla beside, every output checked
# against float64 (bench.py).
# Usage: copy to .gpu/lead/ beside bench.py, gdr_peers.py and lib/ (artifacts
# of scripts/gpu-aot.sh: tri_inv.so, gdr.so, gdr_decode.so; tri_inv_$BASE.so,
# gdr_$BASE.so, gdr_decode_$BASE.so of the previous main;
# gdr_decode_promised.so built with check-global-alignment=false, named
# *promised* so that bench.py skips its misaligned views; extra attention
# builds appended through GDR_EXTRA, TRI_EXTRA, DECODE_EXTRA), then (device tool, carry .gpu):
#   BASE=s8 GDR_EXTRA=gdr_t256.so bash .gpu/lead/run_merged.sh
set -uo pipefail
cd "$(dirname "$0")"
export PYTHONPATH=..:. PYTHONUNBUFFERED=1
BASE="${BASE:?set BASE to the suffix of the previous main artifacts, e.g. s8}"
OUT="${OUT:-/tmp/out}"; mkdir -p "$OUT"
start=$(date +%s); date -u; uptime
nvidia-smi --query-gpu=name,utilization.gpu,clocks.sm --format=csv
timeout "${TRI_TIMEOUT_S:-200}" python3 bench.py --lib-dir lib --what tri_inv,decode \
  --tri-inv-libs "tri_inv.so,tri_inv_$BASE.so${TRI_EXTRA:+,$TRI_EXTRA}" \
  --decode-libs "gdr_decode.so,gdr_decode_$BASE.so,gdr_decode_promised.so${DECODE_EXTRA:+,$DECODE_EXTRA}" \
  --json "$OUT/tri.json" > "$OUT/tri.log" 2>&1
echo "tri_inv/decode rc=$? $(( $(date +%s) - start )) s"
timeout "${GDR_TIMEOUT_S:-240}" python3 bench.py --lib-dir lib --what gdr \
  --gdr-libs "gdr.so,gdr_$BASE.so${GDR_EXTRA:+,$GDR_EXTRA}" --profile \
  --json "$OUT/gdr.json" > "$OUT/gdr.log" 2>&1
echo "gdr rc=$? $(( $(date +%s) - start )) s"
for log in "$OUT/tri.log" "$OUT/gdr.log"; do
  grep -E "ok=False|FAIL|Error|Traceback" "$log" | cut -c1-200 | head
  grep -E "misaligned|^-- kernels|^   #" "$log" | cut -c1-200
  sed -n '/== summary/,$p' "$log"
done
nvidia-smi --query-gpu=name,utilization.gpu --format=csv; date -u; uptime
echo "elapsed $(( $(date +%s) - start )) s"
