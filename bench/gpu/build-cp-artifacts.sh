#!/usr/bin/env bash
# Builds the context-/segment-parallel GPU artifacts (here, no GPU needed)
# into OUTDIR with their manifests, and copies the pure-Python deltanet
# package (deltanet.gpu, deltanet.context_parallel: no compiled extension,
# no MLIR needed there) and the drivers next to them:
#
#   bench/gpu/build-cp-artifacts.sh /work/main/.gpu/gpucp
#   (there)  cd .gpu/gpucp && PYTHONPATH=. python3 cp_bench.py --lib-dir lib --what cp,segments
#
# DELTANET_BUILD_DIR selects the build (default build/).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="${1:?usage: $0 OUTDIR}"
mkdir -p "$out/lib" "$out/deltanet"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
python3 "$root/bench/gpu/cp_kernels.py" cp > "$tmp/cp.mlir"
python3 "$root/bench/gpu/cp_kernels.py" segments > "$tmp/seg.mlir"
"$root/scripts/gpu-aot.sh" "$tmp/cp.mlir" "$out/lib/cp.so"
"$root/scripts/gpu-aot.sh" "$tmp/seg.mlir" "$out/lib/seg.so"
cp "$root"/python/deltanet/*.py "$out/deltanet/"
cp "$root/bench/gpu/cp_bench.py" "$root/bench/gpu/gdr_peers.py" "$out/"
ls -la "$out/lib"
