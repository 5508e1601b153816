#!/usr/bin/env bash
# One H200 call for issue 11's state-scan / gather work (session 6, gpu5;
# carried as .gpu/gpu5 with bench.py, gdr_peers.py, profile_gdr_once.py,
# lib/ and ptx/; fla's package in .gpu/fla): every attention artifact
# (main's and the variants) checked against float64 with outputs poisoned
# first and timed beside fla in one process, per-kernel GPU times of each,
# decode (ours and main's), ptxas -v of the embedded PTX, and ncu of the
# scan of the first artifact while the call's time allows.
#   (device) bash .gpu/gpu5/run_scan.sh "gdr.so,gdr_main.so,..." [gdr_decode.so,gdr_decode_main.so]
set -uo pipefail
cd "$(dirname "$0")"
export PYTHONPATH=..:. PYTHONUNBUFFERED=1
OUT="${OUT:-/tmp/out}"; mkdir -p "$OUT"
gdr="${1:-gdr.so}"; decode="${2:-gdr_decode.so}"
start=$(date +%s)
date -u; uptime
nvidia-smi --query-gpu=name,utilization.gpu,clocks.sm --format=csv
python3 bench.py --lib-dir lib --what gdr --gdr-libs "$gdr" --profile \
  --json "$OUT/gdr.json" 2>&1 | tee "$OUT/gdr.log"
for d in ${decode//,/ }; do
  echo "== decode $d"
  python3 bench.py --lib-dir lib --what decode --decode-lib "$d" 2>&1 | tee -a "$OUT/decode.log" | grep -E "decode|correct|error|FAIL"
done
ptxas=$(command -v ptxas || echo /usr/local/cuda/bin/ptxas)
if [ -d ptx ] && [ -x "$ptxas" ]; then
  for f in ptx/*.ptx; do
    echo "== $f"; "$ptxas" -arch=sm_90 -v "$f" -o /dev/null 2>&1 | grep -E "Compiling|Used|spill"
  done > "$OUT/ptxas.txt" 2>&1
  grep -A2 "chunk_state_scan\|gdr_large_kernel_1[0-9]" "$OUT/ptxas.txt" | head -20
  grep -B1 -A2 "spill" "$OUT/ptxas.txt" | grep -E "Compiling|bytes spill" | paste - - | grep -v " 0 bytes spill stores, 0 bytes spill loads" | head -10
fi
first="${gdr%%,*}"
if [ $(( $(date +%s) - start )) -lt "${NCU_BUDGET_S:-200}" ] && command -v ncu >/dev/null; then
  # The state scan's launch (the 11th of a call) under Nsight Compute.
  timeout 120 ncu --clock-control none -k regex:gdr_large --launch-skip 10 --launch-count 1 \
    --section SpeedOfLight --section Occupancy --section WarpStateStats --section LaunchStats \
    python3 profile_gdr_once.py "lib/$first" large > "$OUT/ncu_scan.txt" 2>&1
  grep -E "gdr_large|Duration|Throughput|Achieved Occupancy|Theoretical Occupancy|Registers|Block Limit|Grid Size|Dynamic Shared" "$OUT/ncu_scan.txt" | head -30
fi
nvidia-smi --query-gpu=name,utilization.gpu --format=csv; date -u; uptime
echo "elapsed $(( $(date +%s) - start )) s"
