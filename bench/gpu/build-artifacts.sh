#!/usr/bin/env bash
# Builds every GPU benchmark artifact (here, no GPU needed) into OUTDIR and
# copies the drivers next to it, ready to carry to the GPU machine:
#
#   bench/gpu/build-artifacts.sh /work/main/.gpu
#   (there)  cd .gpu && PYTHONPATH=. python3 bench.py --lib-dir lib \
#              --what tri_inv,gdr,decode --gdr-libs gdr.so,gdr_scan16.so,gdr_fix_only.so --profile
#
# gdr.so: the default pipeline; gdr_simt.so, tri_inv_tc16.so: see
# below; extract_ptx.py writes the embedded PTX to OUTDIR/ptx (for ptxas -v
# there, run_tc.sh); gdr_scan16.so: reduction-step=0 (scalar
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
# The defaults run the stage matmuls on tensor cores (tf32 mma.sync);
# gdr_simt.so: every matmul SIMT as before session 5; tri_inv_tc16.so:
# tri_inv's merges on tensor cores too (K >= 16: tf32 misses its accuracy
# bounds, kept to show it).
"$aot" "$root/bench/gpu/gdr.mlir" "$out/lib/gdr_simt.so" tensor-cores=false shared-row-padding=0
"$aot" "$root/bench/gpu/tri_inv.mlir" "$out/lib/tri_inv_tc16.so" tensor-cores=true tensor-cores-min-reduction=16
cp "$root"/bench/gpu/*.py "$root"/bench/gpu/*.sh "$out/"
mkdir -p "$out/ptx"
for so in "$out"/lib/*.so; do python3 "$root/bench/gpu/extract_ptx.py" "$so" "$out/ptx" >/dev/null; done
ls -la "$out/lib"
