#!/usr/bin/env bash
# Lead's second H200 call (session 8): tri_inv f32/bf16 (merged main vs session 7's
# main) and the decode artifacts (default, session 7, promised), fla beside.
# Usage: as bench/gpu/run_merged_s8.sh (run_s8b.sh in .gpu/lead/).
set -uo pipefail
cd "$(dirname "$0")"
export PYTHONPATH=..:. PYTHONUNBUFFERED=1
OUT="${OUT:-/tmp/out}"; mkdir -p "$OUT"
start=$(date +%s); date -u; uptime
nvidia-smi --query-gpu=name,utilization.gpu,clocks.sm --format=csv
timeout 200 python3 bench.py --lib-dir lib --what tri_inv,decode \
  --tri-inv-libs tri_inv.so,tri_inv_s7.so \
  --decode-libs gdr_decode.so,gdr_decode_s7.so,gdr_decode_promised.so --json "$OUT/tri.json" > "$OUT/tri.log" 2>&1
echo "rc=$? $(( $(date +%s) - start )) s"
grep -E "ok=False|FAIL|Error|Traceback" "$OUT/tri.log" | cut -c1-200 | head
grep -E "ours_ms|misaligned|total" "$OUT/tri.log" | cut -c1-230
sed -n '/== summary/,$p' "$OUT/tri.log"
nvidia-smi --query-gpu=name,utilization.gpu --format=csv; date -u; uptime
echo "elapsed $(( $(date +%s) - start )) s"
