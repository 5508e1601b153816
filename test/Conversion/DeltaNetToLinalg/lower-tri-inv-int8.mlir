// RUN: deltanet-opt %s --deltanet-lower-tri-inv="precision=i8 batch-tile=0" --canonicalize --cse -verify-diagnostics | FileCheck %s --check-prefixes=CHECK,ROW
// RUN: deltanet-opt %s --deltanet-lower-tri-inv="precision=i8 batch-tile=0 quant-granularity=matrix" --canonicalize --cse -verify-diagnostics | FileCheck %s --check-prefixes=CHECK,MATRIX

// precision=i8: every merge operand is quantised with its own scales (per
// row of the left / column of the right operand, or per matrix), the
// product is an i8 x i8 -> i32 batch_matmul, rescaled to f32; the default
// diagonal block is 4 x 4, whose one Neumann product (a 2 x 2 band) the CPU
// keeps in f32.

// CHECK-LABEL: func @blocked_default_block
// CHECK: scf.for
// CHECK-NOT: deltanet.quantize
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<?x2x2xf32>, tensor<?x2x2xf32>) outs(%{{.*}} : tensor<?x2x2xf32>)
// CHECK: scf.yield
// The merges X21 = -X22 (L21 X11) at sizes 4 and 8 (whose halves are
// blocks: 8 x 4 by 4 x 8), all in INT8.
// ROW: %[[QA:.*]], %[[SA:.*]] = deltanet.quantize %{{.*}} along [2] : tensor<?x4x4xf32> -> tensor<?x4x4xi8>, tensor<?x4xf32>
// ROW: %[[QB:.*]], %[[SB:.*]] = deltanet.quantize %{{.*}} along [1] : tensor<?x4x4xf32> -> tensor<?x4x4xi8>, tensor<?x4xf32>
// MATRIX: %[[QA:.*]], %[[SA:.*]] = deltanet.quantize %{{.*}} along [1, 2] : tensor<?x4x4xf32> -> tensor<?x4x4xi8>, tensor<?xf32>
// MATRIX: %[[QB:.*]], %[[SB:.*]] = deltanet.quantize %{{.*}} along [1, 2] : tensor<?x4x4xf32> -> tensor<?x4x4xi8>, tensor<?xf32>
// CHECK: %[[P:.*]] = linalg.batch_matmul ins(%[[QA]], %[[QB]] : tensor<?x4x4xi8>, tensor<?x4x4xi8>) outs(%{{.*}} : tensor<?x4x4xi32>)
// CHECK: deltanet.dequantize %[[P]], %[[SA]], %[[SB]]
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<?x8x4xi8>, tensor<?x4x8xi8>) outs(%{{.*}} : tensor<?x8x8xi32>)
// CHECK-NOT: linalg.batch_matmul ins(%{{.*}} : tensor<{{.*}}xf32>
// CHECK: return
func.func @blocked_default_block(%a: tensor<?x16x16xf32>) -> tensor<?x16x16xf32> {
  %x = deltanet.tri_inv %a : tensor<?x16x16xf32>
  return %x : tensor<?x16x16xf32>
}

// An explicit larger block is honoured without a warning: the CPU solves
// the diagonal blocks in f32, so no int8 sum of cancelling powers is left
// (test/Integration/CPU/TriInv/int8-accuracy.test); the merge is INT8.
// CHECK-LABEL: func @explicit_block_16
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x14x14xf32>, tensor<2x14x14xf32>)
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x16x16xi8>, tensor<2x16x16xi8>) outs(%{{.*}} : tensor<2x16x16xi32>)
func.func @explicit_block_16(%a: tensor<2x32x32xf32>) -> tensor<2x32x32xf32> {
  %x = deltanet.tri_inv %a {block_size = 16 : i64} : tensor<2x32x32xf32>
  return %x : tensor<2x32x32xf32>
}

// CHECK-LABEL: func @neumann
func.func @neumann(%a: tensor<64x64xf32>) -> tensor<64x64xf32> {
  // expected-warning @+1 {{precision=i8 with the neumann strategy on 64x64 matrices: int8 cannot resolve the cancelling powers of L (they reach 1e6 with correlated keys); strategy=blocked with 4x4 blocks keeps the error near 1e-2}}
  %x = deltanet.tri_inv %a {strategy = #deltanet.strategy<neumann>} : tensor<64x64xf32>
  return %x : tensor<64x64xf32>
}

// The precision attribute overrides the pass option: f32 matmuls here
// (with the f32 default blocks of 4: the 4 -> 8 merges' 4 x 4 products).
// CHECK-LABEL: func @f32_attribute
// CHECK-NOT: deltanet.quantize
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<1x4x4xf32>, tensor<1x4x4xf32>)
// CHECK-NOT: deltanet.quantize
// CHECK: return
func.func @f32_attribute(%a: tensor<16x16xf32>) -> tensor<16x16xf32> {
  %x = deltanet.tri_inv %a {precision = #deltanet.precision<f32>} : tensor<16x16xf32>
  return %x : tensor<16x16xf32>
}
