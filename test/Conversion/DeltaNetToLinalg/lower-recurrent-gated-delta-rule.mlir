// RUN: deltanet-opt %s --deltanet-lower-recurrent-gated-delta-rule --canonicalize --cse | FileCheck %s

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
func.func @recurrent(%q: tensor<?x?x1x16xbf16>, %k: tensor<?x?x1x16xbf16>, %v: tensor<?x?x2x8xbf16>, %g: tensor<?x?x2xf32>, %beta: tensor<?x?x2xf32>, %h0: tensor<?x2x16x8xf32>) -> (tensor<?x?x2x8xbf16>, tensor<?x2x16x8xf32>) {
  %o, %hT = deltanet.recurrent_gated_delta_rule %q, %k, %v, %g, %beta, %h0 : (tensor<?x?x1x16xbf16>, tensor<?x?x1x16xbf16>, tensor<?x?x2x8xbf16>, tensor<?x?x2xf32>, tensor<?x?x2xf32>, tensor<?x2x16x8xf32>) -> (tensor<?x?x2x8xbf16>, tensor<?x2x16x8xf32>)
  return %o, %hT : tensor<?x?x2x8xbf16>, tensor<?x2x16x8xf32>
}
