// RUN: deltanet-opt %s --deltanet-lower-tri-inv="precision=i8 batch-tile=0" --canonicalize --cse -verify-diagnostics | FileCheck %s --check-prefixes=CHECK,ROW
// RUN: deltanet-opt %s --deltanet-lower-tri-inv="precision=i8 batch-tile=0 quant-granularity=matrix" --canonicalize --cse -verify-diagnostics | FileCheck %s --check-prefixes=CHECK,MATRIX

// precision=i8: every matmul operand is quantised with its own scales (per
// row of the left / column of the right operand, or per matrix), the
// product is an i8 x i8 -> i32 batch_matmul, rescaled to f32; the default
// diagonal block is 4 x 4 (two Neumann factors, one matmul per block).

// CHECK-LABEL: func @blocked_default_block
// CHECK: scf.for
// ROW: %[[QA:.*]], %[[SA:.*]] = deltanet.quantize %{{.*}} along [2] : tensor<?x2x2xf32> -> tensor<?x2x2xi8>, tensor<?x2xf32>
// ROW: %[[QB:.*]], %[[SB:.*]] = deltanet.quantize %{{.*}} along [1] : tensor<?x2x2xf32> -> tensor<?x2x2xi8>, tensor<?x2xf32>
// MATRIX: %[[QA:.*]], %[[SA:.*]] = deltanet.quantize %{{.*}} along [1, 2] : tensor<?x2x2xf32> -> tensor<?x2x2xi8>, tensor<?xf32>
// MATRIX: %[[QB:.*]], %[[SB:.*]] = deltanet.quantize %{{.*}} along [1, 2] : tensor<?x2x2xf32> -> tensor<?x2x2xi8>, tensor<?xf32>
// CHECK: %[[P:.*]] = linalg.batch_matmul ins(%[[QA]], %[[QB]] : tensor<?x2x2xi8>, tensor<?x2x2xi8>) outs(%{{.*}} : tensor<?x2x2xi32>)
// CHECK: deltanet.dequantize %[[P]], %[[SA]], %[[SB]]
// The merges X21 = -X22 (L21 X11) at sizes 4 and 8 (whose halves are
// blocks: 8 x 4 by 4 x 8), all in INT8.
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<?x4x4xi8>, tensor<?x4x4xi8>) outs(%{{.*}} : tensor<?x4x4xi32>)
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<?x8x4xi8>, tensor<?x4x8xi8>) outs(%{{.*}} : tensor<?x8x8xi32>)
// CHECK-NOT: linalg.batch_matmul ins(%{{.*}} : tensor<{{.*}}xf32>
// CHECK: return
func.func @blocked_default_block(%a: tensor<?x16x16xf32>) -> tensor<?x16x16xf32> {
  %x = deltanet.tri_inv %a : tensor<?x16x16xf32>
  return %x : tensor<?x16x16xf32>
}

// An explicit larger block or the neumann strategy is honoured, with a
// warning: int8 cannot resolve the cancelling powers inside them.
// CHECK-LABEL: func @explicit_block_16
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x8x8xi8>, tensor<2x8x8xi8>)
func.func @explicit_block_16(%a: tensor<2x16x16xf32>) -> tensor<2x16x16xf32> {
  // expected-warning @+1 {{precision=i8 with 16x16 diagonal blocks: their int8 Neumann sums lose the cancelling powers (0.35 relative error at key correlation 0.98); blocks of 4 keep the error near 1e-2}}
  %x = deltanet.tri_inv %a {block_size = 16 : i64} : tensor<2x16x16xf32>
  return %x : tensor<2x16x16xf32>
}

// CHECK-LABEL: func @neumann
func.func @neumann(%a: tensor<64x64xf32>) -> tensor<64x64xf32> {
  // expected-warning @+1 {{precision=i8 with the neumann strategy on 64x64 matrices: int8 cannot resolve the cancelling powers of L (they reach 1e6 with correlated keys); strategy=blocked with 4x4 blocks keeps the error near 1e-2}}
  %x = deltanet.tri_inv %a {strategy = #deltanet.strategy<neumann>} : tensor<64x64xf32>
  return %x : tensor<64x64xf32>
}

// The precision attribute overrides the pass option: f32 matmuls here.
// CHECK-LABEL: func @f32_attribute
// CHECK-NOT: deltanet.quantize
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<1x8x8xf32>, tensor<1x8x8xf32>)
// CHECK-NOT: deltanet.quantize
// CHECK: return
func.func @f32_attribute(%a: tensor<16x16xf32>) -> tensor<16x16xf32> {
  %x = deltanet.tri_inv %a {precision = #deltanet.precision<f32>} : tensor<16x16xf32>
  return %x : tensor<16x16xf32>
}
