// RUN: deltanet-opt %s --deltanet-lower-chunk-stages=decay-factors-once=true | FileCheck %s
// RUN: deltanet-opt %s --deltanet-lower-chunk-stages | FileCheck %s --check-prefix=EACH
// RUN: deltanet-opt %s --deltanet-lower-chunk-stages=state-decay-out-of-place=true | FileCheck %s --check-prefix=OOP

// decay-factors-once (the CPU's, TargetInfo::computesChunkDecayFactorsOnce):
// the factors that depend on one row of the chunk are a [N, C] tensor
// computed first (C exps, not C x K) and broadcast along the rows; the
// scan's decayed k^T is the columns of k^T (a linalg.transpose, the same as
// gated_kkt's) times exp(g_last - g), not a transposed read of k with an
// exp per element. The same operations on the same values per element.

// CHECK-DAG: #[[ID2:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[LAST:.*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-DAG: #[[ID3:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[ROW:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[COL:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>

// w's rows: k * (beta exp(g)), the factor once per row.
// CHECK-LABEL: func.func @wy
// CHECK: %[[F:.*]] = linalg.generic {indexing_maps = [#[[ID2]], #[[ID2]], #[[ID2]]], {{.*}}} ins(%[[BETA:arg[0-9]+]], %[[G:arg[0-9]+]] : tensor<2x8xf32>, tensor<2x8xf32>) outs(%{{.*}} : tensor<2x8xf32>)
// CHECK-NEXT: ^bb0(%[[B:[a-z0-9_]+]]: f32, %[[GG:[a-z0-9_]+]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[E:.*]] = math.exp %[[GG]] : f32
// CHECK-NEXT: %[[BE:.*]] = arith.mulf %[[B]], %[[E]] : f32
// CHECK-NEXT: linalg.yield %[[BE]]
// CHECK: linalg.generic {indexing_maps = [#[[ID3]], #[[ROW]], #[[ID3]]], {{.*}}} ins(%{{.*}}, %[[F]] : tensor<2x8x4xf32>, tensor<2x8xf32>)
// CHECK-NEXT: ^bb0(%[[X:[a-z0-9_]+]]: f32, %[[XF:[a-z0-9_]+]]: f32, %{{.*}}: f32):
// CHECK-NEXT: arith.mulf %[[X]], %[[XF]] : f32
// EACH-LABEL: func.func @wy
// EACH: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}}, %{{.*}} : tensor<2x8x4xf32>, tensor<2x8xf32>, tensor<2x8xf32>) outs(%{{.*}} : tensor<2x8x4xf32>)
// EACH-NEXT: ^bb0
// EACH-NEXT: math.exp
func.func @wy(%t: tensor<2x8x8xf32>, %k: tensor<2x8x4xf32>, %v: tensor<2x8x3xf32>, %g: tensor<2x8xf32>, %beta: tensor<2x8xf32>)
    -> (tensor<2x8x4xf32>, tensor<2x8x3xf32>) {
  %w, %u = deltanet.wy_repr %t, %k, %v, %g, %beta : (tensor<2x8x8xf32>, tensor<2x8x4xf32>, tensor<2x8x3xf32>, tensor<2x8xf32>, tensor<2x8xf32>) -> (tensor<2x8x4xf32>, tensor<2x8x3xf32>)
  return %w, %u : tensor<2x8x4xf32>, tensor<2x8x3xf32>
}

// The output's q: q * (exp(g) scale), the factor once per row.
// CHECK-LABEL: func.func @chunk_output
// CHECK: %[[QF:.*]] = linalg.generic {indexing_maps = [#[[ID2]], #[[ID2]]], {{.*}}} ins(%{{.*}} : tensor<2x8xf32>) outs(%{{.*}} : tensor<2x8xf32>)
// CHECK-NEXT: ^bb0(%[[QG:[a-z0-9_]+]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[QE:.*]] = math.exp %[[QG]] : f32
// CHECK-NEXT: %[[SC:.*]] = arith.constant 5.000000e-01 : f32
// CHECK-NEXT: %[[QS:.*]] = arith.mulf %[[QE]], %[[SC]] : f32
// CHECK-NEXT: linalg.yield %[[QS]]
// CHECK: linalg.generic {indexing_maps = [#[[ID3]], #[[ROW]], #[[ID3]]], {{.*}}} ins(%{{.*}}, %[[QF]] : tensor<2x8x4xf32>, tensor<2x8xf32>)
func.func @chunk_output(%q: tensor<2x8x4xf32>, %k: tensor<2x8x4xf32>, %v: tensor<2x8x3xf32>, %s: tensor<2x4x3xf32>, %g: tensor<2x8xf32>) -> tensor<2x8x3xf32> {
  %o = deltanet.chunk_output %q, %k, %v, %s, %g {scale = 0.5 : f32} : (tensor<2x8x4xf32>, tensor<2x8x4xf32>, tensor<2x8x3xf32>, tensor<2x4x3xf32>, tensor<2x8xf32>) -> tensor<2x8x3xf32>
  return %o : tensor<2x8x3xf32>
}

// The scan: exp(g_last - g) per row of k, k^T's columns times it.
// CHECK-LABEL: func.func @scan
// CHECK: scf.for
// CHECK: %[[GL:.*]] = tensor.extract_slice %{{.*}}[0, 3] [2, 1] [1, 1] : tensor<2x4xf32> to tensor<2xf32>
// CHECK: %[[D:.*]] = linalg.generic {indexing_maps = [#[[ID2]], #[[LAST]], #[[ID2]]], {{.*}}} ins(%{{.*}}, %[[GL]] : tensor<2x4xf32>, tensor<2xf32>) outs(%{{.*}} : tensor<2x4xf32>)
// CHECK-NEXT: ^bb0(%[[GJ:[a-z0-9_]+]]: f32, %[[GLAST:[a-z0-9_]+]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[SUB:.*]] = arith.subf %[[GLAST]], %[[GJ]] : f32
// CHECK-NEXT: math.exp %[[SUB]] : f32
// CHECK: %[[KT:.*]] = linalg.transpose ins(%{{.*}} : tensor<2x4x16xf32>) outs(%{{.*}} : tensor<2x16x4xf32>) permutation = [0, 2, 1]
// CHECK: %[[KD:.*]] = linalg.generic {indexing_maps = [#[[ID3]], #[[COL]], #[[ID3]]], {{.*}}} ins(%[[KT]], %[[D]] : tensor<2x16x4xf32>, tensor<2x4xf32>) outs(%{{.*}} : tensor<2x16x4xf32>)
// CHECK-NEXT: ^bb0(%[[KV:[a-z0-9_]+]]: f32, %[[DV:[a-z0-9_]+]]: f32, %{{.*}}: f32):
// CHECK-NEXT: arith.mulf %[[KV]], %[[DV]] : f32
// CHECK-NOT: math.exp
// CHECK: linalg.generic
// CHECK: math.exp
// CHECK: linalg.batch_matmul ins(%[[KD]], %{{.*}} : tensor<2x16x4xf32>, tensor<2x4x8xf32>) outs(%{{.*}} : tensor<2x16x8xf32>)
// EACH-LABEL: func.func @scan
// EACH: scf.for {{.*}} iter_args(%[[S:[a-z0-9_]+]] =
// EACH-NOT: linalg.transpose
// EACH: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}}, %{{.*}} : tensor<2x4x16xf32>, tensor<2x4xf32>, tensor<2xf32>) outs(%{{.*}} : tensor<2x16x4xf32>)
// The state decayed in place by default (S is its init)...
// EACH: linalg.generic {{.*}} ins(%{{.*}} : tensor<2xf32>) outs(%[[S]] : tensor<2x16x8xf32>)
// ...with state-decay-out-of-place into a new tensor, S read as an input.
// OOP-LABEL: func.func @scan
// OOP: scf.for {{.*}} iter_args(%[[S:[a-z0-9_]+]] =
// OOP: %[[NEW:.*]] = tensor.empty() : tensor<2x16x8xf32>
// OOP-NEXT: %[[DS:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %[[S]] : tensor<2xf32>, tensor<2x16x8xf32>) outs(%[[NEW]] : tensor<2x16x8xf32>)
// OOP-NEXT: ^bb0(%[[GL:[a-z0-9_]+]]: f32, %[[SV:[a-z0-9_]+]]: f32, %{{.*}}: f32):
// OOP-NEXT: %[[E:.*]] = math.exp %[[GL]] : f32
// OOP-NEXT: arith.mulf %[[SV]], %[[E]] : f32
// OOP: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x16x4xf32>, tensor<2x4x8xf32>) outs(%[[DS]] : tensor<2x16x8xf32>)
func.func @scan(%k: tensor<2x3x4x16xf32>, %w: tensor<2x3x4x16xf32>, %u: tensor<2x3x4x8xf32>, %g: tensor<2x3x4xf32>, %h0: tensor<2x16x8xf32>)
    -> (tensor<2x3x16x8xf32>, tensor<2x3x4x8xf32>, tensor<2x16x8xf32>) {
  %s, %vn, %f = deltanet.chunk_state_scan %k, %w, %u, %g, %h0
    : (tensor<2x3x4x16xf32>, tensor<2x3x4x16xf32>, tensor<2x3x4x8xf32>, tensor<2x3x4xf32>, tensor<2x16x8xf32>)
    -> (tensor<2x3x16x8xf32>, tensor<2x3x4x8xf32>, tensor<2x16x8xf32>)
  return %s, %vn, %f : tensor<2x3x16x8xf32>, tensor<2x3x4x8xf32>, tensor<2x16x8xf32>
}
