// RUN: deltanet-opt %s --deltanet-lower-tri-inv --canonicalize --cse | FileCheck %s

// Exact Neumann product for C = 16: (I - L)(I + L^2)(I + L^4)(I + L^8),
// built in one destination. L^k vanishes outside its band L^k[k:, :C-k]
// (P_k, (C-k) x (C-k)), which is all that is kept of it:
// P_2k = P_k[k:C-k, k:C-k] @ P_k[:C-2k, :C-2k], and X L^2k is
// X[2k:, 2k:] @ P_2k, accumulated into X[2k:, :C-2k] (the rounding order the
// tolerance rule table was measured with; the blocked strategy's diagonal
// blocks add a temporary instead).

// CHECK-LABEL: func.func @neumann_exact
// CHECK-SAME: (%[[A:.*]]: tensor<4x16x16xf32>)
// I - L, mask and negation fused, written into the destination.
// CHECK: %[[X0:.*]] = linalg.generic {{.*}} ins(%[[A]] : tensor<4x16x16xf32>) outs(%{{.*}} : tensor<4x16x16xf32>)
// CHECK:   arith.cmpi ugt
// CHECK:   arith.cmpi eq
// CHECK:   arith.negf
// CHECK-NOT: arith.andi
// CHECK:   arith.select
// P_1 = tril(A[1:, :15]).
// CHECK: %[[AS:.*]] = tensor.extract_slice %[[A]][0, 1, 0] [4, 15, 15] [1, 1, 1]
// CHECK: %[[P1:.*]] = linalg.generic {{.*}} ins(%[[AS]] : tensor<4x15x15xf32>)
// CHECK:   arith.cmpi uge
// CHECK: %[[LA:.*]] = tensor.extract_slice %[[P1]][0, 1, 1] [4, 14, 14] [1, 1, 1]
// CHECK: %[[LB:.*]] = tensor.extract_slice %[[P1]][0, 0, 0] [4, 14, 14] [1, 1, 1]
// CHECK: %[[P2:.*]] = linalg.batch_matmul ins(%[[LA]], %[[LB]] : tensor<4x14x14xf32>, tensor<4x14x14xf32>)
// CHECK: %[[ACC:.*]] = tensor.extract_slice %[[X0]][0, 2, 0] [4, 14, 14] [1, 1, 1]
// CHECK: %[[XS:.*]] = tensor.extract_slice %[[X0]][0, 2, 2] [4, 14, 14] [1, 1, 1]
// CHECK: %[[U:.*]] = linalg.batch_matmul ins(%[[XS]], %[[P2]] : tensor<4x14x14xf32>, tensor<4x14x14xf32>) outs(%[[ACC]] : tensor<4x14x14xf32>)
// CHECK: %[[X1:.*]] = tensor.insert_slice %[[U]] into %[[X0]][0, 2, 0] [4, 14, 14] [1, 1, 1]
// P_4 = P_2[2:14, 2:14] @ P_2[:12, :12], then P_8 (8 x 8).
// CHECK: tensor.extract_slice %[[P2]][0, 2, 2] [4, 12, 12] [1, 1, 1]
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
// CHECK: %[[X:.*]] = linalg.generic
// CHECK:   arith.negf
// CHECK-NOT: linalg.batch_matmul
// CHECK: %[[L:.*]] = linalg.generic
// CHECK:   arith.cmpi ugt
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
