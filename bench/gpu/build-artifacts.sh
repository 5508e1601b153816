#!/usr/bin/env bash
# Builds every GPU benchmark artifact (here, no GPU needed) into OUTDIR and
# copies the drivers next to it, ready to carry to the GPU machine:
#
#   bench/gpu/build-artifacts.sh /work/main/.gpu
#   (there)  cd .gpu && PYTHONPATH=. python3 bench.py --lib-dir lib \
#              --what tri_inv,gdr,decode --gdr-libs gdr.so,gdr_scan16.so,gdr_fix_only.so --profile
#
# gdr.so: the default pipeline; gdr_scan16.so: reduction-step=0 (scalar
# loops for long thread reductions); gdr_fix_only.so: scan-value-tile=0
# reduction-step=0 (the mapping of the previous session, with the
# bufferization fix). DELTANET_BUILD_DIR selects the build (default build/).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="${1:?usage: $0 OUTDIR}"
mkdir -p "$out/lib"
aot="$root/scripts/gpu-aot.sh"
"$aot" "$root/bench/gpu/tri_inv.mlir" "$out/lib/tri_inv.so"
"$aot" "$root/bench/gpu/gdr.mlir" "$out/lib/gdr.so"
"$aot" "$root/bench/gpu/gdr.mlir" "$out/lib/gdr_scan16.so" reduction-step=0
"$aot" "$root/bench/gpu/gdr.mlir" "$out/lib/gdr_fix_only.so" scan-value-tile=0 reduction-step=0
"$aot" "$root/bench/gpu/gdr_decode.mlir" "$out/lib/gdr_decode.so"
cp "$root"/bench/gpu/*.py "$out/"
ls -la "$out/lib"
