// bf16 x bf16 -> f32 batched matmuls as AVX512_BF16 dot products: the right
// operand packed to the VNNI layout (a vectorised generic: per pair of rows
// two loads and one vector.interleave; rounded on the way when it is a
// truncf of f32), register
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
// A viewed as pairs of k; B as pairs of rows, interleaved into the VNNI
// layout 16 columns at a time (loops over batch, pairs and columns).
// KERNEL-DAG: tensor.expand_shape %{{.*}} {{\[}}[0], [1], [2, 3]] output_shape [4, 8, 8, 2] : tensor<4x8x16xbf16> into tensor<4x8x8x2xbf16>
// KERNEL-DAG: tensor.expand_shape %{{.*}} {{\[}}[0], [1, 2], [3]] output_shape [4, 8, 2, 32] : tensor<4x16x32xbf16> into tensor<4x8x2x32xbf16>
// KERNEL: scf.for %{{.*}} = %c0 to %c32 step %c16
// KERNEL: vector.transfer_read {{.*}} : tensor<1x1x2x16xbf16>, vector<1x1x2x16xbf16>
// KERNEL: vector.interleave %{{.*}}, %{{.*}} : vector<16xbf16> -> vector<32xbf16>
// KERNEL: vector.transfer_write {{.*}} : vector<1x1x16x2xbf16>, tensor<1x1x16x2xbf16>
// KERNEL-NOT: linalg.transpose
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

// B rounded from f32 by an elementwise truncf (the matmul precision's
// conversion): the pack reads the f32 rows and rounds each one whole
// (vcvtneps2bf16, 16 f32 to a ymm of bf16) before interleaving; no bf16 copy of B is read.
// KERNEL-LABEL: func.func @rounded_rhs
// KERNEL: tensor.expand_shape %{{.*}} {{\[}}[0], [1, 2], [3]] output_shape [2, 8, 2, 16] : tensor<2x16x16xf32> into tensor<2x8x2x16xf32>
// KERNEL: vector.transfer_read {{.*}} : tensor<1x1x2x16xf32>, vector<1x1x2x16xf32>
// KERNEL-COUNT-2: arith.truncf %{{.*}} : vector<16xf32> to vector<16xbf16>
// KERNEL: vector.interleave %{{.*}}, %{{.*}} : vector<16xbf16> -> vector<32xbf16>
// KERNEL: x86vector.avx512.dot
// KERNEL: return
// ASM-LABEL: rounded_rhs:
// ASM: vcvtneps2bf16 {{.*}}%ymm
// ASM: vdpbf16ps {{.*}}%zmm
func.func @rounded_rhs(%a: tensor<2x8x16xbf16>, %b: tensor<2x16x16xf32>, %c: tensor<2x8x16xf32>) -> tensor<2x8x16xf32> {
  %e = tensor.empty() : tensor<2x16x16xbf16>
  %r16 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%b : tensor<2x16x16xf32>) outs(%e : tensor<2x16x16xbf16>) {
  ^bb0(%in: f32, %out: bf16):
    %t = arith.truncf %in : f32 to bf16
    linalg.yield %t : bf16
  } -> tensor<2x16x16xbf16>
  %r = linalg.batch_matmul ins(%a, %r16 : tensor<2x8x16xbf16>, tensor<2x16x16xbf16>) outs(%c : tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
  return %r : tensor<2x8x16xf32>
}
