#!/usr/bin/env bash
# tri_inv C = 64 in every matmul precision (issue 13, "bf16 and INT8 faster
# than f32"), AOT: compiles bench/aot/tri_inv_c64.mlir for BATCH matrices
# (default 64: 1 MiB in and out, L2-resident) through deltanet-opt
# --deltanet-cpu-pipeline once per precision and times them side by side
# with tri_inv_driver (thread CPU time, best of REPS, errors vs the C forward
# substitution). Usage:
#   bench/aot/tri_inv_precision.sh OUT_DIR [BATCH] [REPS] [EXTRA-PIPELINE-OPTIONS]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${DELTANET_BUILD_DIR:-$here/../../build}"
out="$(mkdir -p "${1:?usage: tri_inv_precision.sh OUT_DIR [BATCH] [REPS]}" && cd "$1" && pwd)"
batch="${2:-64}" reps="${3:-300}" extra="${4:-}"
llvm=/usr/lib/llvm-22/bin
sed "s/4096x/${batch}x/g" "$here/tri_inv_c64.mlir" > "$out/tri_inv.mlir"
kernel() { # kernel NAME PIPELINE-OPTIONS
  "$build/bin/deltanet-opt" "$out/tri_inv.mlir" \
    --pass-pipeline="builtin.module(deltanet-cpu-pipeline{$2 $extra})" -o "$out/$1.ll.mlir"
  "$llvm/mlir-translate" --mlir-to-llvmir "$out/$1.ll.mlir" -o "$out/$1.ll"
  "$llvm/clang" -O3 -march=native -shared -fPIC -Wno-override-module \
    "$out/$1.ll" -o "$out/$1.so"
}
kernel f32 ""
kernel bf16 "tri-inv-precision=bf16"
kinds=(f32 bf16)
if grep -qw avx512_bf16 /proc/cpuinfo; then
  kernel bf16_dot "tri-inv-precision=bf16 bf16-dot-products=1"; kinds+=(bf16_dot)
fi
kernel f16 "tri-inv-precision=f16"
kernel i8_bs4 "tri-inv-precision=i8 tri-inv-block-size=4"
# 16 x 16 blocks: accurate since the CPU solves the diagonal blocks in f32.
kernel i8_bs16 "tri-inv-precision=i8 tri-inv-block-size=16"
kinds+=(f16 i8_bs4 i8_bs16)
"$llvm/clang" -O3 -march=native "$here/tri_inv_driver.c" -o "$out/tri_inv_driver" -lm -ldl
cd "$out"; uptime
TRI_INV_BATCH=$batch TRI_INV_TOL=0.1 ./tri_inv_driver 64 "$reps" $(printf './%s.so ' "${kinds[@]}")
uptime
