#!/usr/bin/env bash
# Ahead-of-time GPU build: deltanet program (destination-passing functions on
# device memrefs, marked llvm.emit_c_interface) -> shared library with
# _mlir_ciface_* entry points, kernels embedded (PTX by default), linked with
# deltanet's mgpu* runtime. The result needs only the NVIDIA driver
# (libcuda.so.1) at run time. OUT.so.json: the manifest of its entry points
# (parameter types, the deltanet op each applies), read by the pure-Python
# loader deltanet.gpu.load(OUT.so).
#
#   scripts/gpu-aot.sh IN.mlir OUT.so [deltanet-gpu-pipeline options...]
#   e.g. scripts/gpu-aot.sh bench/gpu/tri_inv.mlir /tmp/tri_inv.so format=bin
#
# DELTANET_BUILD_DIR selects the build (default: build/).
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 IN.mlir OUT.so [pipeline options]" >&2
  exit 2
fi
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${DELTANET_BUILD_DIR:-$root/build}"
llvm=/usr/lib/llvm-22/bin
in="$1"; out="$2"; shift 2
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
"$build/bin/deltanet-opt" "$in" "--deltanet-gpu-pipeline=$*" -o "$tmp/host.mlir"
"$llvm/mlir-translate" --mlir-to-llvmir "$tmp/host.mlir" -o "$tmp/host.ll"
"$llvm/clang" -O3 -fPIC -c -Wno-override-module "$tmp/host.ll" -o "$tmp/host.o"
"$llvm/clang" -shared -o "$out" "$tmp/host.o" \
  "$build/lib/libdeltanet_gpu_runtime_static.a" -ldl -lpthread -Wl,-z,defs
"${DELTANET_PYTHON:-python3}" "$root/python/deltanet/gpu.py" manifest "$in" "$@" > "$out.json"
