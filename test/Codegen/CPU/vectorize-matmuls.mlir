// RUN: deltanet-opt %s --deltanet-cpu-vectorize-matmuls --canonicalize | FileCheck %s

// A static batched matmul becomes loops over batch and rows, each row a
// vector contraction [1x1xK] x [1xKxN] -> [1x1xN].
// CHECK-LABEL: func.func @static
// CHECK: scf.for %{{.*}} = %c0 to %c4 step %c1
// CHECK:   scf.for %{{.*}} = %c0 to %c8 step %c1
// CHECK:     vector.transfer_read {{.*}} : tensor<1x1x16xf32>, vector<1x1x16xf32>
// CHECK:     vector.transfer_read {{.*}} : tensor<1x16x32xf32>, vector<1x16x32xf32>
// CHECK:     vector.contract {{.*}} vector<1x1x16xf32>, vector<1x16x32xf32> into vector<1x1x32xf32>
// CHECK:     vector.transfer_write {{.*}} : vector<1x1x32xf32>, tensor<1x1x32xf32>
// CHECK-NOT: linalg.batch_matmul
func.func @static(%a: tensor<4x8x16xf32>, %b: tensor<4x16x32xf32>, %c: tensor<4x8x32xf32>) -> tensor<4x8x32xf32> {
  %r = linalg.batch_matmul ins(%a, %b : tensor<4x8x16xf32>, tensor<4x16x32xf32>) outs(%c : tensor<4x8x32xf32>) -> tensor<4x8x32xf32>
  return %r : tensor<4x8x32xf32>
}

// Dynamic shapes are left to the scalar loops.
// CHECK-LABEL: func.func @dynamic
// CHECK: linalg.batch_matmul
// CHECK-NOT: vector.contract
func.func @dynamic(%a: tensor<?x8x16xf32>, %b: tensor<?x16x32xf32>, %c: tensor<?x8x32xf32>) -> tensor<?x8x32xf32> {
  %r = linalg.batch_matmul ins(%a, %b : tensor<?x8x16xf32>, tensor<?x16x32xf32>) outs(%c : tensor<?x8x32xf32>) -> tensor<?x8x32xf32>
  return %r : tensor<?x8x32xf32>
}

// Mixed precision: operands widened to f32 (exact), then vectorised.
// CHECK-LABEL: func.func @mixed
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK: vector.contract {{.*}} vector<1x1x16xf32>, vector<1x16x32xf32> into vector<1x1x32xf32>
// CHECK-NOT: linalg.batch_matmul
func.func @mixed(%a: tensor<4x8x16xbf16>, %b: tensor<4x16x32xbf16>, %c: tensor<4x8x32xf32>) -> tensor<4x8x32xf32> {
  %r = linalg.batch_matmul ins(%a, %b : tensor<4x8x16xbf16>, tensor<4x16x32xbf16>) outs(%c : tensor<4x8x32xf32>) -> tensor<4x8x32xf32>
  return %r : tensor<4x8x32xf32>
}
