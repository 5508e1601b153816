#!/usr/bin/env bash
# Issue 13's "matmul stages >= 50% of the OpenBLAS sgemm rate at the same
# sizes": compiles one f32 batched matmul per shape of the chunk op's
# per-chunk stages (C = 64, K = V = 128) through deltanet-opt
# --deltanet-cpu-pipeline (linalg.batch_matmul on tensors, so the register
# tiling of deltanet-cpu-vectorize-matmuls applies as in the chunk op), then
# times each beside cblas_sgemm on the same operands (bench/aot/matmul_driver.c,
# thread CPU time, best of REPS). Usage: bench/aot/matmul.sh OUT_DIR [REPS]
# On this VM run it with OPENBLAS_CORETYPE=SkylakeX (the driver prints the
# kernel family OpenBLAS picked; Debian's 0.3.21 falls back to SSE3 here).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${DELTANET_BUILD_DIR:-$here/../../build}"
out="$(mkdir -p "${1:?usage: matmul.sh OUT_DIR [REPS]}" && cd "$1" && pwd)"
reps="${2:-50}"
llvm=/usr/lib/llvm-22/bin
batch=16 # 16 heads x chunks: operands and results stay in L2 (<= 1 MiB each)
# M N K: K K^T and Q K^T (64 x 64, k = 128); T (beta K) and the output's
# A V (64 x 128, k = 64); K^T U, the state update (128 x 128, k = 64); Q S,
# the inter-chunk output (64 x 128, k = 128).
shapes=("64 64 128" "64 128 64" "128 128 64" "64 128 128")
args=()
for s in "${shapes[@]}"; do
  read -r m n k <<<"$s"
  name="mm_${m}x${n}x${k}"
  cat >"$out/$name.mlir" <<EOM
func.func @mm(%a: tensor<${batch}x${m}x${k}xf32>, %b: tensor<${batch}x${k}x${n}xf32>) -> tensor<${batch}x${m}x${n}xf32> attributes {llvm.emit_c_interface} {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<${batch}x${m}x${n}xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<${batch}x${m}x${n}xf32>) -> tensor<${batch}x${m}x${n}xf32>
  %r = linalg.batch_matmul ins(%a, %b : tensor<${batch}x${m}x${k}xf32>, tensor<${batch}x${k}x${n}xf32>) outs(%c : tensor<${batch}x${m}x${n}xf32>) -> tensor<${batch}x${m}x${n}xf32>
  return %r : tensor<${batch}x${m}x${n}xf32>
}
EOM
  "$build/bin/deltanet-opt" "$out/$name.mlir" \
    --pass-pipeline="builtin.module(deltanet-cpu-pipeline)" -o "$out/$name.ll.mlir"
  "$llvm/mlir-translate" --mlir-to-llvmir "$out/$name.ll.mlir" -o "$out/$name.ll"
  "$llvm/clang" -O3 -march=native -shared -fPIC -Wno-override-module \
    "$out/$name.ll" -o "$out/$name.so"
  args+=("$out/$name.so" "$batch" "$m" "$n" "$k")
done
"$llvm/clang" -O3 -march=native "$here/matmul_driver.c" -o "$out/matmul_driver" \
  -lopenblas -lm -ldl
uptime
"$out/matmul_driver" "$reps" "${args[@]}"
uptime
