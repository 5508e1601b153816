#!/usr/bin/env bash
# One H200 call for issue 11, session 8 (alignment versioned per kernel
# phase instead of per access): carried as .gpu/gpu9 with bench.py,
# gdr_peers.py, lib/ (artifacts of main, *_main.so, and of the branch) and
# ptx/ (their embedded PTX, extract_ptx.py); fla's package in .gpu/fla.
#   ptxas -v of every kernel (registers), then one bench.py process:
#   decode (default / promised / main), tri_inv f32 + bf16 and the attention
#   at both shapes, each against float64 with NaN-poisoned outputs, also on
#   views one element into their buffers (not for *promised* artifacts),
#   CUDA-event timings beside fla.
#   (device) bash .gpu/gpu9/run_phases.sh
set -uo pipefail
cd "$(dirname "$0")"
export PYTHONPATH=..:. PYTHONUNBUFFERED=1
OUT="${OUT:-/tmp/out}"; mkdir -p "$OUT"
start=$(date +%s); date -u; uptime
nvidia-smi --query-gpu=name,utilization.gpu,clocks.sm --format=csv
ptxas=$(command -v ptxas || echo /usr/local/cuda/bin/ptxas)
for f in ptx/*.ptx; do
  echo "== $f"; timeout 20 "$ptxas" -arch=sm_90 -v "$f" -o /dev/null 2>&1 | grep -E "Used|spill" | sort | uniq -c
done > "$OUT/ptxas.txt" 2>&1
echo "ptxas done $(( $(date +%s) - start )) s"
timeout "${BENCH_S:-150}" python3 bench.py --lib-dir lib --what decode,tri_inv,gdr \
  --decode-libs gdr_decode.so,gdr_decode_main.so,gdr_decode_promised.so \
  --tri-inv-libs tri_inv.so,tri_inv_main.so --gdr-libs gdr.so,gdr_main.so --profile \
  --json "$OUT/bench.json" > "$OUT/bench.log" 2>&1
echo "bench rc=$? $(( $(date +%s) - start )) s"
grep -E "ok=False|FAIL|Error|Traceback" "$OUT/bench.log" | cut -c1-200 | head
grep -E "gdr decode|^-- kernels.*decode" "$OUT/bench.log" | cut -c1-220
sed -n '/== summary/,$p' "$OUT/bench.log"
grep -E "^== |Used" "$OUT/ptxas.txt" | grep -B1 Used | grep -E "decode|tri_inv|Used" | head -20
nvidia-smi --query-gpu=name,utilization.gpu --format=csv; date -u; uptime
echo "elapsed $(( $(date +%s) - start )) s"
