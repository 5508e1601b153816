// RUN: deltanet-opt %s --deltanet-lower-tri-inv --canonicalize --cse | FileCheck %s

// Exact Neumann product for C = 16: (I - L)(I + L^2)(I + L^4)(I + L^8).
// L^k vanishes on its first k-1 subdiagonals: L^2k = L^k[2k:, k:C-k] @
// L^k[k:C-k, :C-2k] and X L^2k = X[2k:, 2k:] @ L^2k[2k:, :C-2k] only.

// CHECK-LABEL: func.func @neumann_exact
// CHECK: %[[L:.*]] = linalg.generic
// CHECK:   arith.cmpi ugt
// I - L
// CHECK: %[[X0:.*]] = linalg.generic {{.*}} ins(%[[L]] : tensor<4x16x16xf32>)
// CHECK:   arith.cmpi eq
// CHECK:   arith.subf
// L^2 on rows [2, 16), columns [0, 14).
// CHECK: %[[LA:.*]] = tensor.extract_slice %[[L]][0, 2, 1] [4, 14, 14] [1, 1, 1]
// CHECK: %[[LB:.*]] = tensor.extract_slice %[[L]][0, 1, 0] [4, 14, 14] [1, 1, 1]
// CHECK: %[[P2:.*]] = linalg.batch_matmul ins(%[[LA]], %[[LB]] : tensor<4x14x14xf32>, tensor<4x14x14xf32>)
// X <- X + X L^2, accumulated into the band of X.
// CHECK: %[[ACC:.*]] = tensor.extract_slice %[[X0]][0, 2, 0] [4, 14, 14] [1, 1, 1]
// CHECK: %[[XS:.*]] = tensor.extract_slice %[[X0]][0, 2, 2] [4, 14, 14] [1, 1, 1]
// CHECK: %[[U:.*]] = linalg.batch_matmul ins(%[[XS]], %[[P2]] : {{.*}}) outs(%[[ACC]] : tensor<4x14x14xf32>)
// CHECK: %[[X1:.*]] = tensor.insert_slice %[[U]] into %[[X0]][0, 2, 0] [4, 14, 14] [1, 1, 1]
// L^4 (12x12 band), then L^8 (8x8 band).
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<4x12x12xf32>, tensor<4x12x12xf32>)
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<4x12x12xf32>, tensor<4x12x12xf32>)
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<4x8x8xf32>, tensor<4x8x8xf32>)
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<4x8x8xf32>, tensor<4x8x8xf32>)
// CHECK-NOT: linalg.batch_matmul
// CHECK: return
func.func @neumann_exact(%a: tensor<4x16x16xf32>) -> tensor<4x16x16xf32> {
  %x = deltanet.tri_inv %a {strategy = #deltanet.strategy<neumann>} : tensor<4x16x16xf32>
  return %x : tensor<4x16x16xf32>
}

// order = 1 is I - L alone; one residual step adds (I + L) X and X R.
// CHECK-LABEL: func.func @neumann_order1_residual
// CHECK: %[[L:.*]] = linalg.generic
// CHECK: %[[X:.*]] = linalg.generic {{.*}} ins(%[[L]] : tensor<1x16x16xf32>)
// CHECK-NOT: linalg.batch_matmul
// CHECK: %[[LX:.*]] = linalg.batch_matmul ins(%[[L]], %[[X]] : tensor<1x16x16xf32>, tensor<1x16x16xf32>)
// CHECK: %[[R:.*]] = linalg.generic {{.*}} ins(%[[X]], %[[LX]] : tensor<1x16x16xf32>, tensor<1x16x16xf32>)
// CHECK:   arith.addf
// CHECK:   arith.subf
// CHECK: linalg.batch_matmul ins(%[[X]], %[[R]] : tensor<1x16x16xf32>, tensor<1x16x16xf32>) outs(%[[X]] : tensor<1x16x16xf32>)
// CHECK-NOT: linalg.batch_matmul
// CHECK: tensor.collapse_shape
func.func @neumann_order1_residual(%a: tensor<16x16xf32>) -> tensor<16x16xf32> {
  %x = deltanet.tri_inv %a {strategy = #deltanet.strategy<neumann>, order = 1 : i64, residual_steps = 1 : i64} : tensor<16x16xf32>
  return %x : tensor<16x16xf32>
}

// An order beyond ceil(log2 C) adds nothing: the powers vanish.
// CHECK-LABEL: func.func @neumann_order_clamped
// CHECK-COUNT-2: linalg.batch_matmul
// CHECK-NOT: linalg.batch_matmul
// CHECK: return
func.func @neumann_order_clamped(%a: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %x = deltanet.tri_inv %a {strategy = #deltanet.strategy<neumann>, order = 7 : i64} : tensor<4x4xf32>
  return %x : tensor<4x4xf32>
}
