#!/usr/bin/env bash
# The chunk op (bench/aot/chunk_h4.mlir: B = 1, T = 4096, H = HV = 4,
# K = V = 128; H=16 in the environment: chunk_h16.mlir) with its tri_inv in
# every matmul precision and its stage products in bf16 / INT8
# (chunk-precision; issue 13, "bf16 and INT8 faster than f32"), AOT, 1
# thread, side by side in one process with gdr_driver (thread CPU time, best
# of REPS, every output compared with the first kernel's: the relative
# error is printed, "MISMATCH" above 1e-4, expected for low precision). With
# OTHER_OPT (another build's deltanet-opt, e.g. main's), its kernels are
# compiled too (other_*.so) and interleaved.
# Usage:
#   [H=16] bench/aot/chunk_precision.sh OUT_DIR [REPS] [OTHER_OPT]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${DELTANET_BUILD_DIR:-$here/../../build}"
out="$(mkdir -p "${1:?usage: chunk_precision.sh OUT_DIR [REPS] [OTHER_OPT]}" && cd "$1" && pwd)"
reps="${2:-5}" other="${3:-}" heads="${H:-4}"
llvm=/usr/lib/llvm-22/bin
kernel() { # kernel OPT NAME PIPELINE-OPTIONS
  "$1" "$here/chunk_h$heads.mlir" \
    --pass-pipeline="builtin.module(deltanet-cpu-pipeline{$3})" -o "$out/$2.ll.mlir"
  "$llvm/mlir-translate" --mlir-to-llvmir "$out/$2.ll.mlir" -o "$out/$2.ll"
  "$llvm/clang" -O3 -march=native -shared -fPIC -Wno-override-module \
    "$out/$2.ll" -o "$out/$2.so"
}
variants=("f32:" "bf16:tri-inv-precision=bf16" "i8_bs4:tri-inv-precision=i8 tri-inv-block-size=4"
          "i8_bs16:tri-inv-precision=i8 tri-inv-block-size=16"
          "chunk_i8:chunk-precision=i8" "chunk_bf16:chunk-precision=bf16")
if grep -qw avx512_bf16 /proc/cpuinfo; then
  variants+=("chunk_bf16_dot:chunk-precision=bf16 bf16-dot-products=1")
fi
sos=()
for v in "${variants[@]}"; do
  kernel "$build/bin/deltanet-opt" "${v%%:*}" "${v#*:}"; sos+=("./${v%%:*}.so")
  if [ -n "$other" ]; then
    kernel "$other" "other_${v%%:*}" "${v#*:}"; sos+=("./other_${v%%:*}.so")
  fi
done
"$llvm/clang" -O3 -march=native -DCLK=CLOCK_THREAD_CPUTIME_ID \
  -Wno-implicit-const-int-float-conversion "$here/gdr_driver.c" \
  -o "$out/gdr_driver" -lm -ldl
cd "$out"; uptime
./gdr_driver "$heads" "$reps" "${sos[@]}"
uptime
