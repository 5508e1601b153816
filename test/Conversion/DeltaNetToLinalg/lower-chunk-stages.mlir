// RUN: deltanet-opt %s --deltanet-lower-chunk-stages | FileCheck %s

// The causal decay masks of the chunk stages, element by element: the
// integration tests see a wrong mask only through the numbers (and not at
// all on inputs without decay, where exp(g_i - g_j) = 1 either way); these
// checks pin the predicate (strictly lower for gated_kkt, lower with the
// diagonal for chunk_output) and the sign of the decay exponent.

// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[ROW:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[COL:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>

// a[n, i, j] = (K K^T)[n, i, j] * exp(g[n, i] - g[n, j]) * beta[n, i] for j < i, else 0.
// CHECK-LABEL: func.func @gated_kkt
// CHECK: %[[GRAM:.*]] = linalg.batch_matmul
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[COL]], #[[ROW]], #[[ID]]]
// CHECK-SAME: ins(%[[GRAM]], %[[G:arg[0-9]+]], %[[G]], %[[BETA:arg[0-9]+]] :
// CHECK-NEXT: ^bb0(%[[S:[a-z0-9_]+]]: f32, %[[GI:[a-z0-9_]+]]: f32, %[[GJ:[a-z0-9_]+]]: f32, %[[B:[a-z0-9_]+]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[I:.*]] = linalg.index 1 : index
// CHECK-NEXT: %[[J:.*]] = linalg.index 2 : index
// CHECK-NEXT: %[[KEEP:.*]] = arith.cmpi ugt, %[[I]], %[[J]] : index
// CHECK-NEXT: %[[D:.*]] = arith.subf %[[GI]], %[[GJ]] : f32
// CHECK-NEXT: %[[E:.*]] = math.exp %[[D]] : f32
// CHECK-NEXT: %[[X:.*]] = arith.mulf %[[S]], %[[E]] : f32
// CHECK-NEXT: %[[Y:.*]] = arith.mulf %[[X]], %[[B]] : f32
// CHECK-NEXT: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT: %[[R:.*]] = arith.select %[[KEEP]], %[[Y]], %[[ZERO]] : f32
// CHECK-NEXT: linalg.yield %[[R]] : f32
func.func @gated_kkt(%k: tensor<2x8x4xf32>, %g: tensor<2x8xf32>, %beta: tensor<2x8xf32>) -> tensor<2x8x8xf32> {
  %a = deltanet.gated_kkt %k, %g, %beta : (tensor<2x8x4xf32>, tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8x8xf32>
  return %a : tensor<2x8x8xf32>
}

// o = scale * (q exp(g)) S + P v_new, P[n, i, j] = scale * (q k^T)[n, i, j]
// * exp(g[n, i] - g[n, j]) for j <= i, else 0.
// CHECK-LABEL: func.func @chunk_output
// CHECK: %[[CARRIED:.*]] = linalg.batch_matmul ins(%{{.*}}, %arg3 :
// CHECK: %[[SCORES:.*]] = linalg.batch_matmul ins(%arg0, %{{.*}} :
// CHECK: %[[P:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[COL]], #[[ID]]]
// CHECK-SAME: ins(%[[SCORES]], %[[G:arg[0-9]+]], %[[G]] :
// CHECK-NEXT: ^bb0(%[[S:[a-z0-9_]+]]: f32, %[[GI:[a-z0-9_]+]]: f32, %[[GJ:[a-z0-9_]+]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[I:.*]] = linalg.index 1 : index
// CHECK-NEXT: %[[J:.*]] = linalg.index 2 : index
// CHECK-NEXT: %[[KEEP:.*]] = arith.cmpi uge, %[[I]], %[[J]] : index
// CHECK-NEXT: %[[D:.*]] = arith.subf %[[GI]], %[[GJ]] : f32
// CHECK-NEXT: %[[E:.*]] = math.exp %[[D]] : f32
// CHECK-NEXT: %[[X:.*]] = arith.mulf %[[S]], %[[E]] : f32
// CHECK-NEXT: %[[SCALE:.*]] = arith.constant 5.000000e-01 : f32
// CHECK-NEXT: %[[Y:.*]] = arith.mulf %[[X]], %[[SCALE]] : f32
// CHECK-NEXT: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT: %[[R:.*]] = arith.select %[[KEEP]], %[[Y]], %[[ZERO]] : f32
// CHECK-NEXT: linalg.yield %[[R]] : f32
// CHECK: linalg.batch_matmul ins(%[[P]], %arg2 : {{.*}}) outs(%[[CARRIED]] :
func.func @chunk_output(%q: tensor<2x8x4xf32>, %k: tensor<2x8x4xf32>, %v: tensor<2x8x3xf32>, %s: tensor<2x4x3xf32>, %g: tensor<2x8xf32>) -> tensor<2x8x3xf32> {
  %o = deltanet.chunk_output %q, %k, %v, %s, %g {scale = 0.5 : f32} : (tensor<2x8x4xf32>, tensor<2x8x4xf32>, tensor<2x8x3xf32>, tensor<2x4x3xf32>, tensor<2x8xf32>) -> tensor<2x8x3xf32>
  return %o : tensor<2x8x3xf32>
}
