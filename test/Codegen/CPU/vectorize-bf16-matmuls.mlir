// bf16 x bf16 -> f32 batched matmuls as AVX512_BF16 dot products: the right
// operand packed to the VNNI layout (upstream linalg.pack, lowered), register
// tiles vectorised and unrolled to 1 x 16 accumulators per pair of k, and
// upstream x86vector's packed-type dot-product patterns.

// RUN: deltanet-opt %s --deltanet-cpu-vectorize-bf16-matmuls --canonicalize | FileCheck %s --check-prefix=KERNEL
// RUN: not deltanet-opt %s --deltanet-cpu-vectorize-bf16-matmuls="cols=0" 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: deltanet-opt %s --deltanet-cpu-pipeline="bf16-dot-products=1" | mlir-translate --mlir-to-llvmir > %t.ll
// RUN: FileCheck %s --check-prefix=LLVM < %t.ll
// RUN: llc -O3 -mtriple=x86_64-unknown-linux-gnu -mcpu=sapphirerapids %t.ll -o - | FileCheck %s --check-prefix=ASM
// Off by default: the operands are widened to f32 FMAs.
// RUN: deltanet-opt %s --deltanet-cpu-pipeline | mlir-translate --mlir-to-llvmir | FileCheck %s --check-prefix=DEFAULT
// The whole bf16 tri_inv: its matmuls become vdpbf16ps.
// RUN: deltanet-opt %s --deltanet-lower-tri-inv="precision=bf16" --deltanet-cpu-pipeline="bf16-dot-products=1" | mlir-translate --mlir-to-llvmir > %t.tri.ll
// RUN: llc -O3 -mtriple=x86_64-unknown-linux-gnu -mcpu=sapphirerapids %t.tri.ll -o - | FileCheck %s --check-prefix=TRI

// KERNEL-LABEL: func.func @bf16_matmul
// A viewed as pairs of k, B transposed into the VNNI layout.
// KERNEL-DAG: tensor.expand_shape %{{.*}} {{\[}}[0], [1], [2, 3]] output_shape [4, 8, 8, 2] : tensor<4x8x16xbf16> into tensor<4x8x8x2xbf16>
// KERNEL-DAG: linalg.transpose ins(%{{.*}} : tensor<4x8x2x32xbf16>) outs(%{{.*}} : tensor<4x8x32x2xbf16>) permutation = [0, 1, 3, 2]
// Register tile: 8 rows x 32 columns, one loop over the batch.
// KERNEL: scf.for %{{.*}} = %c0 to %c4 step %c1
// KERNEL-NOT: scf.for
// 8 pairs x 8 rows x 2 accumulators of 16 lanes.
// KERNEL-COUNT-128: x86vector.avx512.dot %{{.*}} : vector<32xbf16> -> vector<16xf32>
// KERNEL-NOT: x86vector.avx512.dot
// KERNEL-NOT: vector.contract
// KERNEL-NOT: linalg.batch_matmul

// BAD: error: deltanet-cpu-vectorize-bf16-matmuls: rows and cols must be >= 1, got 8 and 0

// LLVM-LABEL: define {{.*}} @bf16_matmul
// LLVM: call <16 x float> @llvm.x86.avx512bf16.dpbf16ps.512(<16 x float> %{{.*}}, <32 x bfloat> %{{.*}}, <32 x bfloat> %{{.*}})
// ASM-LABEL: bf16_matmul:
// ASM: vdpbf16ps {{.*}}%zmm
// DEFAULT-LABEL: define {{.*}} @bf16_matmul
// DEFAULT-NOT: dpbf16ps
// DEFAULT: fmul
// TRI-LABEL: tri_inv:
// TRI: vdpbf16ps {{.*}}%zmm
func.func @bf16_matmul(%a: tensor<4x8x16xbf16>, %b: tensor<4x16x32xbf16>, %c: tensor<4x8x32xf32>) -> tensor<4x8x32xf32> {
  %r = linalg.batch_matmul ins(%a, %b : tensor<4x8x16xbf16>, tensor<4x16x32xbf16>) outs(%c : tensor<4x8x32xf32>) -> tensor<4x8x32xf32>
  return %r : tensor<4x8x32xf32>
}

// N = 8: 8-lane (ymm) dot products; odd K: no pairs, left to the f32 path.
// KERNEL-LABEL: func.func @narrow
// KERNEL-COUNT-2: x86vector.avx512.dot %{{.*}} : vector<16xbf16> -> vector<8xf32>
// KERNEL-LABEL: func.func @odd_k
// KERNEL: linalg.batch_matmul
// KERNEL-NOT: x86vector
func.func @narrow(%a: tensor<2x1x4xbf16>, %b: tensor<2x4x8xbf16>, %c: tensor<2x1x8xf32>) -> tensor<2x1x8xf32> {
  %r = linalg.batch_matmul ins(%a, %b : tensor<2x1x4xbf16>, tensor<2x4x8xbf16>) outs(%c : tensor<2x1x8xf32>) -> tensor<2x1x8xf32>
  return %r : tensor<2x1x8xf32>
}
func.func @odd_k(%a: tensor<2x8x3xbf16>, %b: tensor<2x3x16xbf16>, %c: tensor<2x8x16xf32>) -> tensor<2x8x16xf32> {
  %r = linalg.batch_matmul ins(%a, %b : tensor<2x8x3xbf16>, tensor<2x3x16xbf16>) outs(%c : tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
  return %r : tensor<2x8x16xf32>
}

func.func @tri_inv(%a: tensor<8x64x64xbf16>) -> tensor<8x64x64xbf16> {
  %x = deltanet.tri_inv %a : tensor<8x64x64xbf16>
  return %x : tensor<8x64x64xbf16>
}
