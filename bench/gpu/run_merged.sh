#!/usr/bin/env bash
# The lead's H200 measurement of a merged main, in one bench.py process (one
# CUDA start and one fla import): the attention at both shapes with a
# per-kernel profile, then tri_inv f32/bf16 and decode (this main, the
# previous main, alignment promised); fla beside, every output checked
# against float64 (bench.py).
# Usage: copy to .gpu/lead/ beside bench.py, gdr_peers.py and lib/ (artifacts
# of scripts/gpu-aot.sh: tri_inv.so, gdr.so, gdr_decode.so; tri_inv_$BASE.so,
# gdr_$BASE.so, gdr_decode_$BASE.so of the previous main;
# gdr_decode_promised.so built with check-global-alignment=false, named
# *promised* so that bench.py skips its misaligned views; extra builds
# appended through GDR_EXTRA, TRI_EXTRA, DECODE_EXTRA; WHAT orders the
# benchmarks, the first ones still run when the call's time runs out), then
# (device tool, carry .gpu):
#   BASE=s9 GDR_EXTRA=gdr_t256.so bash .gpu/lead/run_merged.sh
set -uo pipefail
cd "$(dirname "$0")"
export PYTHONPATH=..:. PYTHONUNBUFFERED=1
BASE="${BASE:?set BASE to the suffix of the previous main artifacts, e.g. s9}"
OUT="${OUT:-/tmp/out}"; mkdir -p "$OUT"
start=$(date +%s); date -u; uptime
nvidia-smi --query-gpu=name,utilization.gpu,clocks.sm --format=csv
timeout "${TIMEOUT_S:-400}" python3 bench.py --lib-dir lib --what "${WHAT:-gdr,tri_inv,decode}" \
  --gdr-libs "gdr.so,gdr_$BASE.so${GDR_EXTRA:+,$GDR_EXTRA}" --profile \
  --tri-inv-libs "tri_inv.so,tri_inv_$BASE.so${TRI_EXTRA:+,$TRI_EXTRA}" \
  --decode-libs "gdr_decode.so,gdr_decode_$BASE.so,gdr_decode_promised.so${DECODE_EXTRA:+,$DECODE_EXTRA}" \
  --json "$OUT/bench.json" > "$OUT/bench.log" 2>&1
echo "bench rc=$? $(( $(date +%s) - start )) s"
grep -E "ok=False|FAIL|Error|Traceback" "$OUT/bench.log" | cut -c1-200 | head
grep -E "misaligned|^-- kernels|^   #" "$OUT/bench.log" | cut -c1-200
sed -n '/== summary/,$p' "$OUT/bench.log"
nvidia-smi --query-gpu=name,utilization.gpu --format=csv; date -u; uptime
echo "elapsed $(( $(date +%s) - start )) s"
