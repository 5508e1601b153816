// RUN: deltanet-opt %s --deltanet-lower-recurrent-gated-delta-rule --canonicalize --cse | FileCheck %s
// RUN: deltanet-opt %s --deltanet-lower-recurrent-gated-delta-rule=fuse-readouts=true --canonicalize --cse | FileCheck %s --check-prefix=FUSED

// A loop over tokens carrying the state and the output; per token: decay,
// S^T k, the delta-rule update, the readout.
// CHECK-DAG: #[[BCAST:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2 floordiv 2, d3)>
// CHECK-LABEL: func.func @recurrent
// CHECK-SAME: (%[[Q:[a-z0-9]+]]: tensor<?x?x1x16xbf16>
// CHECK: %[[T:.*]] = tensor.dim %[[Q]], %c1
// Heads broadcast to value heads and widened to f32.
// CHECK: linalg.generic {indexing_maps = [#[[BCAST]], {{.*}}]} ins(%[[Q]] : tensor<?x?x1x16xbf16>)
// CHECK:   arith.extf
// CHECK: scf.for %[[I:.*]] = %c0 to %[[T]] step %c1 iter_args(%[[S:.*]] = %{{.*}}, %[[O:.*]] = %{{.*}}) -> (tensor<?x2x16x8xf32>, tensor<?x?x2x8xf32>)
// CHECK:   tensor.extract_slice %{{.*}}[0, %[[I]], 0, 0] [%{{.*}}, 1, 2, 16] [1, 1, 1, 1] : tensor<?x?x2x16xf32> to tensor<?x2x16xf32>
// CHECK:   math.exp
// CHECK:   linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction", "parallel"]
// CHECK:   linalg.generic
// CHECK:     arith.subf
// CHECK:   linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction", "parallel"]
// CHECK:   tensor.insert_slice %{{.*}} into %[[O]][0, %[[I]], 0, 0] [%{{.*}}, 1, 2, 8] [1, 1, 1, 1] : tensor<?x2x8xf32> into tensor<?x?x2x8xf32>
// CHECK:   scf.yield
// CHECK: arith.truncf %{{.*}} : f32 to bf16
// fuse-readouts (the CPU's choice, TargetInfo::fusesRecurrentReadouts): the
// state is carried as [B * HV, K, V]; per token one in-place update and one
// two-row batched matmul [q_t; k_next] S, whose second row is the next
// token's S^T k (carried as the loop's third value, first computed before the
// loop, only when T > 0); no reduction generic over the state in the loop.
// FUSED-LABEL: func.func @recurrent
// FUSED: %[[S0:.*]] = tensor.collapse_shape %{{.*}} {{\[}}[0, 1], [2], [3]] : tensor<?x2x16x8xf32> into tensor<?x16x8xf32>
// FUSED: %[[ANY:.*]] = arith.cmpi sgt, %[[T:.*]], %c0 : index
// FUSED: %[[P0:.*]] = scf.if %[[ANY]] -> (tensor<?x2x2x8xf32>)
// FUSED:   linalg.batch_matmul ins(%{{.*}}, %[[S0]] : tensor<?x2x16xf32>, tensor<?x16x8xf32>)
// FUSED: } else {
// FUSED:   linalg.fill
// FUSED: %[[LAST:.*]] = arith.subi %[[T]], %c1 : index
// FUSED: scf.for %[[I:.*]] = %c0 to %[[T]] step %c1 iter_args(%[[S:.*]] = %[[S0]], %[[O:.*]] = %{{.*}}, %[[P:.*]] = %[[P0]]) -> (tensor<?x16x8xf32>, tensor<?x?x2x8xf32>, tensor<?x2x2x8xf32>)
// FUSED-NOT: "reduction"
// FUSED:   %[[NEXT:.*]] = arith.minsi %{{.*}}, %[[LAST]] : index
// FUSED:   %[[KNEXT:.*]] = tensor.extract_slice %{{.*}}[0, %[[NEXT]], 0, 0]
// FUSED:   math.exp
// FUSED:   %[[PRED:.*]] = tensor.extract_slice %[[P]][0, 0, 1, 0]
// FUSED:   ins(%{{.*}}, %[[PRED]], %{{.*}}, %{{.*}} : {{.*}})
// FUSED:     arith.subf
// FUSED:   %[[NEW:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel"]} {{.*}} outs(%[[S]] : tensor<?x16x8xf32>)
// FUSED:     math.fma
// FUSED:   %[[ROWS:.*]] = tensor.insert_slice %[[KNEXT]] into %{{.*}}[0, 0, 1, 0]
// FUSED:   %[[LHS:.*]] = tensor.collapse_shape %[[ROWS]]
// FUSED:   %[[PROD:.*]] = linalg.batch_matmul ins(%[[LHS]], %[[NEW]] : tensor<?x2x16xf32>, tensor<?x16x8xf32>)
// FUSED:   %[[PNEXT:.*]] = tensor.expand_shape %[[PROD]]
// FUSED:   tensor.extract_slice %[[PNEXT]][0, 0, 0, 0]
// FUSED:     arith.mulf %{{.*}}, %cst
// FUSED-NOT: "reduction"
// FUSED:   scf.yield %[[NEW]], %{{.*}}, %[[PNEXT]]
// FUSED: tensor.expand_shape %{{.*}} {{\[}}[0, 1], [2], [3]] output_shape [%{{.*}}, 2, 16, 8] : tensor<?x16x8xf32> into tensor<?x2x16x8xf32>
func.func @recurrent(%q: tensor<?x?x1x16xbf16>, %k: tensor<?x?x1x16xbf16>, %v: tensor<?x?x2x8xbf16>, %g: tensor<?x?x2xf32>, %beta: tensor<?x?x2xf32>, %h0: tensor<?x2x16x8xf32>) -> (tensor<?x?x2x8xbf16>, tensor<?x2x16x8xf32>) {
  %o, %hT = deltanet.recurrent_gated_delta_rule %q, %k, %v, %g, %beta, %h0 : (tensor<?x?x1x16xbf16>, tensor<?x?x1x16xbf16>, tensor<?x?x2x8xbf16>, tensor<?x?x2xf32>, tensor<?x?x2xf32>, tensor<?x2x16x8xf32>) -> (tensor<?x?x2x8xbf16>, tensor<?x2x16x8xf32>)
  return %o, %hT : tensor<?x?x2x8xbf16>, tensor<?x2x16x8xf32>
}
