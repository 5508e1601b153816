// RUN: deltanet-opt %s --deltanet-decompose-chunk-gated-delta-rule --canonicalize --cse | FileCheck %s
// RUN: deltanet-opt %s --deltanet-decompose-chunk-gated-delta-rule --deltanet-lower-chunk-stages --canonicalize --cse | FileCheck %s --check-prefix=STAGES
// RUN: deltanet-opt %s --deltanet-decompose-chunk-gated-delta-rule=chunk-loop=1 --canonicalize --cse | FileCheck %s --check-prefix=LOOP

// T = 100 with 32-token chunks: padded to 128 (4 chunks), gathered into
// [B, HV, NC, C, *] with q/k head h / 2 for value head h, then the stages on
// N = 2 * 4 * 4 = 32 chunks and a scan over M = 2 * 4 = 8 sequences.

// CHECK-DAG: #[[QK:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d2 * 32 + d3, d1 floordiv 2, d4)>
// CHECK-DAG: #[[V:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d2 * 32 + d3, d1, d4)>
// CHECK-DAG: #[[OUT:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d2, d1 floordiv 32, d1 mod 32, d3)>
// CHECK-LABEL: func.func @chunk
// CHECK: %[[QP:.*]] = tensor.pad %arg0 low[0, 0, 0, 0] high[0, 28, 0, 0]
// CHECK: %[[QC:.*]] = linalg.generic {indexing_maps = [#[[QK]], {{.*}}]} ins(%[[QP]] : tensor<2x128x2x16xf32>) outs(%{{.*}} : tensor<2x4x4x32x16xf32>)
// CHECK: linalg.generic {indexing_maps = [#[[V]], {{.*}}]} ins(%{{.*}} : tensor<2x128x4x8xf32>) outs(%{{.*}} : tensor<2x4x4x32x8xf32>)
// In-chunk cumulative log decay: a masked reduction.
// CHECK: %[[G:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%{{.*}} : tensor<32x32xf32>)
// CHECK:   %[[UPTO:.*]] = arith.cmpi ule
// CHECK:   %[[ADDEND:.*]] = arith.select %[[UPTO]], %{{.*}}, %{{.*}} : f32
// CHECK:   arith.addf %{{.*}}, %[[ADDEND]]
// CHECK: %[[A:.*]] = deltanet.gated_kkt %{{.*}}, %[[G]], %{{.*}} : (tensor<32x32x16xf32>, tensor<32x32xf32>, tensor<32x32xf32>) -> tensor<32x32x32xf32>
// CHECK: %[[T:.*]] = deltanet.tri_inv %[[A]] : tensor<32x32x32xf32>
// CHECK: %[[W:.*]], %[[U:.*]] = deltanet.wy_repr %[[T]]
// CHECK: %[[STATES:.*]], %[[VNEW:.*]], %[[FINAL:.*]] = deltanet.chunk_state_scan {{.*}} : (tensor<8x4x32x16xf32>, tensor<8x4x32x16xf32>, tensor<8x4x32x8xf32>, tensor<8x4x32xf32>, tensor<8x16x8xf32>) -> (tensor<8x4x16x8xf32>, tensor<8x4x32x8xf32>, tensor<8x16x8xf32>)
// Default scale K^-1/2 = 0.25.
// CHECK: %[[O:.*]] = deltanet.chunk_output {{.*}} {scale = 2.500000e-01 : f32}
// CHECK: %[[O5:.*]] = tensor.expand_shape %[[O]] {{\[}}[0, 1, 2], [3], [4]] output_shape [2, 4, 4, 32, 8]
// The scatter back reads only the first T = 100 tokens.
// CHECK: %[[RES:.*]] = linalg.generic {indexing_maps = [#[[OUT]], {{.*}}]} ins(%[[O5]] : tensor<2x4x4x32x8xf32>) outs(%{{.*}} : tensor<2x100x4x8xf32>)
// CHECK: %[[HT:.*]] = tensor.expand_shape %[[FINAL]] {{\[}}[0, 1], [2], [3]] output_shape [2, 4, 16, 8]
// CHECK: return %[[RES]], %[[HT]]

// STAGES-LABEL: func.func @chunk
// gated_kkt: K K^T and the strictly causal decay mask.
// STAGES: linalg.transpose
// STAGES: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<32x32x16xf32>, tensor<32x16x32xf32>)
// STAGES: linalg.generic
// STAGES:   arith.cmpi ugt
// STAGES:   math.exp
// STAGES: deltanet.tri_inv
// wy_repr: two matmuls with the inverse.
// STAGES: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<32x32x32xf32>, tensor<32x32x16xf32>)
// STAGES: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<32x32x32xf32>, tensor<32x32x8xf32>)
// State scan: a loop over the 4 chunks with w S and the decayed update.
// STAGES: scf.for %{{.*}} = %c0 to %c4 step %c1 iter_args
// STAGES:   linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<8x32x16xf32>, tensor<8x16x8xf32>)
// STAGES:   arith.subf
// STAGES:   linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<8x16x32xf32>, tensor<8x32x8xf32>)
// STAGES:   scf.yield
// Output: carried state, then causal (inclusive) attention accumulated on it.
// STAGES: %[[CARRIED:.*]] = linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<32x32x16xf32>, tensor<32x16x8xf32>)
// STAGES: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<32x32x16xf32>, tensor<32x16x32xf32>)
// STAGES: linalg.generic
// STAGES:   arith.cmpi uge
// STAGES: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<32x32x32xf32>, tensor<32x32x8xf32>) outs(%[[CARRIED]] : tensor<32x32x8xf32>)
// STAGES-NOT: deltanet.gated_kkt
// STAGES-NOT: deltanet.chunk_
// chunk-loop: one scf.for over the 4 chunks carries the state (M = 8
// sequences) and o; every stage works on one chunk of the 8 sequences
// ([8, 32, *]), no tensor spans the sequence except the padded inputs and o.
// LOOP-LABEL: func.func @chunk
// LOOP: %[[QP:.*]] = tensor.pad %arg0 low[0, 0, 0, 0] high[0, 28, 0, 0]
// LOOP: %[[H0:.*]] = tensor.collapse_shape %arg5 {{\[}}[0, 1], [2], [3]] : tensor<2x4x16x8xf32> into tensor<8x16x8xf32>
// LOOP: %[[RES:.*]]:2 = scf.for %[[C:.*]] = %c0 to %c4 step %c1 iter_args(%[[S:.*]] = %[[H0]], %[[O:.*]] = %{{.*}}) -> (tensor<8x16x8xf32>, tensor<2x100x4x8xf32>)
// LOOP:   %[[START:.*]] = arith.muli %[[C]], %c32
// LOOP:   tensor.extract_slice %[[QP]][0, %[[START]], 0, 0] [2, 32, 2, 16]
// LOOP:   linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}]{{.*}} outs(%{{.*}} : tensor<2x4x1x32x16xf32>)
// LOOP:   deltanet.gated_kkt {{.*}} -> tensor<8x32x32xf32>
// LOOP:   deltanet.tri_inv %{{.*}} : tensor<8x32x32xf32>
// LOOP:   deltanet.wy_repr
// LOOP:   %{{.*}}, %[[VNEW:.*]], %[[NEXT:.*]] = deltanet.chunk_state_scan {{.*}}, %[[S]] : ({{.*}}) -> (tensor<8x1x16x8xf32>, tensor<8x1x32x8xf32>, tensor<8x16x8xf32>)
// The output reads the state entering the chunk.
// LOOP:   deltanet.chunk_output {{.*}}, %[[S]], %{{.*}} {scale = 2.500000e-01 : f32}
// The last chunk holds 100 - 96 = 4 tokens.
// LOOP:   %[[LEFT:.*]] = arith.subi %c100, %[[START]]
// LOOP:   %[[VALID:.*]] = arith.minsi %[[LEFT]], %c32
// LOOP:   %[[OC:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<2x?x4x8xf32>)
// LOOP:   %[[ONEXT:.*]] = tensor.insert_slice %[[OC]] into %[[O]][0, %[[START]], 0, 0] [2, %[[VALID]], 4, 8]
// LOOP:   scf.yield %[[NEXT]], %[[ONEXT]]
// LOOP: %[[HT:.*]] = tensor.expand_shape %[[RES]]#0 {{\[}}[0, 1], [2], [3]] output_shape [2, 4, 16, 8]
// LOOP: return %[[RES]]#1, %[[HT]]
func.func @chunk(%q: tensor<2x100x2x16xf32>, %k: tensor<2x100x2x16xf32>, %v: tensor<2x100x4x8xf32>, %g: tensor<2x100x4xf32>, %beta: tensor<2x100x4xf32>, %h0: tensor<2x4x16x8xf32>) -> (tensor<2x100x4x8xf32>, tensor<2x4x16x8xf32>) {
  %o, %hT = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %beta, %h0 {chunk_size = 32 : i64} : (tensor<2x100x2x16xf32>, tensor<2x100x2x16xf32>, tensor<2x100x4x8xf32>, tensor<2x100x4xf32>, tensor<2x100x4xf32>, tensor<2x4x16x8xf32>) -> (tensor<2x100x4x8xf32>, tensor<2x4x16x8xf32>)
  return %o, %hT : tensor<2x100x4x8xf32>, tensor<2x4x16x8xf32>
}
