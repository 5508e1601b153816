// RUN: deltanet-opt %s --deltanet-cpu-parallelize-heads="matrix-tile=16" --split-input-file | FileCheck %s
// RUN: deltanet-opt %s --deltanet-cpu-parallelize-heads --split-input-file | FileCheck %s --check-prefix=NOTILE
// RUN: not deltanet-opt %s --deltanet-cpu-parallelize-heads="matrix-tile=-1" --split-input-file 2>&1 | FileCheck %s --check-prefix=BAD

// One iteration per (batch, value head); value head j reads q/k head j / 2
// (HV = 4, H = 2); o and the state are inserted in parallel.
// CHECK-LABEL: func.func @chunk
// CHECK: scf.forall (%[[B:.*]], %[[J:.*]]) in (%{{.*}}, 4) shared_outs(%[[O:.*]] = %{{.*}}, %[[S:.*]] = %{{.*}})
// CHECK:   %[[I:.*]] = arith.divui %[[J]], %c2
// CHECK:   tensor.extract_slice %arg0[%[[B]], 0, %[[I]], 0] [1, %{{.*}}, 1, 8] [1, 1, 1, 1] : tensor<?x?x2x8xf32> to tensor<1x?x1x8xf32>
// CHECK:   tensor.extract_slice %arg2[%[[B]], 0, %[[J]], 0] [1, %{{.*}}, 1, 4]
// CHECK:   tensor.extract_slice %arg5[%[[B]], %[[J]], 0, 0] [1, 1, 8, 4]
// CHECK:   deltanet.chunk_gated_delta_rule {{.*}} {chunk_size = 16 : i64, use_qk_l2norm} : (tensor<1x?x1x8xf32>
// CHECK:   scf.forall.in_parallel
// CHECK:     tensor.parallel_insert_slice %{{.*}} into %[[O]][%[[B]], 0, %[[J]], 0] [1, %{{.*}}, 1, 4]
// CHECK:     tensor.parallel_insert_slice %{{.*}} into %[[S]][%[[B]], %[[J]], 0, 0] [1, 1, 8, 4]
func.func @chunk(%q: tensor<?x?x2x8xf32>, %k: tensor<?x?x2x8xf32>, %v: tensor<?x?x4x4xf32>,
                 %g: tensor<?x?x4xf32>, %beta: tensor<?x?x4xf32>, %h0: tensor<?x4x8x4xf32>)
    -> (tensor<?x?x4x4xf32>, tensor<?x4x8x4xf32>) {
  %o, %s = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %beta, %h0 {chunk_size = 16 : i64, use_qk_l2norm}
      : (tensor<?x?x2x8xf32>, tensor<?x?x2x8xf32>, tensor<?x?x4x4xf32>, tensor<?x?x4xf32>, tensor<?x?x4xf32>, tensor<?x4x8x4xf32>)
      -> (tensor<?x?x4x4xf32>, tensor<?x4x8x4xf32>)
  return %o, %s : tensor<?x?x4x4xf32>, tensor<?x4x8x4xf32>
}

// -----

// A single (batch, head) is left alone.
// CHECK-LABEL: func.func @single
// CHECK-NOT: scf.forall
// CHECK: deltanet.recurrent_gated_delta_rule
func.func @single(%q: tensor<1x5x1x8xf32>, %k: tensor<1x5x1x8xf32>, %v: tensor<1x5x1x4xf32>,
                  %g: tensor<1x5x1xf32>, %beta: tensor<1x5x1xf32>, %h0: tensor<1x1x8x4xf32>)
    -> (tensor<1x5x1x4xf32>, tensor<1x1x8x4xf32>) {
  %o, %s = deltanet.recurrent_gated_delta_rule %q, %k, %v, %g, %beta, %h0
      : (tensor<1x5x1x8xf32>, tensor<1x5x1x8xf32>, tensor<1x5x1x4xf32>, tensor<1x5x1xf32>, tensor<1x5x1xf32>, tensor<1x1x8x4xf32>)
      -> (tensor<1x5x1x4xf32>, tensor<1x1x8x4xf32>)
  return %o, %s : tensor<1x5x1x4xf32>, tensor<1x1x8x4xf32>
}

// -----

// tri_inv: tiles of at most 16 matrices of the innermost batch dim (its
// largest divisor <= 16, 10 of 40: every tile static, as the lowering's batch
// tiling does, so each thread count runs the same per-matrix code), single
// matrices of the outer ones (matrix-tile = 16); untouched without matrix-tile.
// CHECK-LABEL: func.func @tri_inv
// CHECK: scf.forall (%{{.*}}, %{{.*}}) = (0, 0) to (3, 40) step (1, 10)
// CHECK:   deltanet.tri_inv %{{.*}} : tensor<1x10x8x8xf32>
// NOTILE-LABEL: func.func @tri_inv
// NOTILE-NOT: scf.forall
func.func @tri_inv(%a: tensor<3x40x8x8xf32>) -> tensor<3x40x8x8xf32> {
  %x = deltanet.tri_inv %a : tensor<3x40x8x8xf32>
  return %x : tensor<3x40x8x8xf32>
}

// BAD: error: deltanet-cpu-parallelize-heads: matrix-tile must be >= 0, got -1
