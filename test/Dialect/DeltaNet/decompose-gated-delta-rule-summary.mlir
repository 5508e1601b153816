// RUN: deltanet-opt %s --deltanet-decompose-gated-delta-rule-summary --canonicalize --cse | FileCheck %s
// RUN: deltanet-opt %s --deltanet-decompose-gated-delta-rule-summary --deltanet-lower-chunk-stages --canonicalize --cse | FileCheck %s --check-prefix=STAGES

// K = 16, V = 8: the chunk recurrence runs on the augmented state [I | 0]
// (K x (K + V) = 16 x 24) with values [0 | v] (v padded by K = 16 zero
// columns in front); its final state is [M | U]. T = 100 with 32-token
// chunks: 4 chunks, 2 * 4 = 8 sequences of 4 chunks.

// CHECK-LABEL: func.func @summary
// The entry state [I | 0]: ones where column == row.
// CHECK: %[[ID:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<2x4x16x24xf32>)
// CHECK:   linalg.index 2
// CHECK:   linalg.index 3
// CHECK:   arith.cmpi eq
// CHECK: tensor.pad %arg1 low[0, 0, 0, 16] high[0, 28, 0, 0]
// CHECK: } : tensor<2x100x4x8xf32> to tensor<2x128x4x24xf32>
// The chunk op's stages, minus its output.
// CHECK: deltanet.gated_kkt {{.*}} -> tensor<32x32x32xf32>
// CHECK: deltanet.tri_inv {{.*}} : tensor<32x32x32xf32>
// CHECK: deltanet.wy_repr {{.*}} -> (tensor<32x32x16xf32>, tensor<32x32x24xf32>)
// CHECK: %[[ID8:.*]] = tensor.collapse_shape %[[ID]] {{\[}}[0, 1], [2], [3]] : tensor<2x4x16x24xf32> into tensor<8x16x24xf32>
// CHECK: %{{.*}}, %{{.*}}, %[[FINAL:.*]] = deltanet.chunk_state_scan {{.*}}, %[[ID8]] : {{.*}} -> (tensor<8x4x16x24xf32>, tensor<8x4x32x24xf32>, tensor<8x16x24xf32>)
// CHECK-NOT: deltanet.chunk_output
// CHECK: %[[STATE:.*]] = tensor.expand_shape %[[FINAL]] {{\[}}[0, 1], [2], [3]] output_shape [2, 4, 16, 24]
// CHECK: %[[M:.*]] = tensor.extract_slice %[[STATE]][0, 0, 0, 0] [2, 4, 16, 16] [1, 1, 1, 1]
// CHECK: %[[U:.*]] = tensor.extract_slice %[[STATE]][0, 0, 0, 16] [2, 4, 16, 8] [1, 1, 1, 1]
// CHECK: return %[[M]], %[[U]]
func.func @summary(%k: tensor<2x100x2x16xf32>, %v: tensor<2x100x4x8xf32>, %g: tensor<2x100x4xf32>, %b: tensor<2x100x4xf32>) -> (tensor<2x4x16x16xf32>, tensor<2x4x16x8xf32>) {
  %m, %u = deltanet.gated_delta_rule_summary %k, %v, %g, %b {chunk_size = 32 : i64} : (tensor<2x100x2x16xf32>, tensor<2x100x4x8xf32>, tensor<2x100x4xf32>, tensor<2x100x4xf32>) -> (tensor<2x4x16x16xf32>, tensor<2x4x16x8xf32>)
  return %m, %u : tensor<2x4x16x16xf32>, tensor<2x4x16x8xf32>
}

// The scan carries the state only (states and v_new are unused): one
// iter_arg, two batched matmuls on the 24 augmented columns per chunk.
// STAGES-LABEL: func.func @summary
// STAGES: scf.for %{{.*}} = %c0 to %c4 step %c1 iter_args(%[[S:.*]] = %{{.*}}) -> (tensor<8x16x24xf32>) {
// STAGES:   linalg.batch_matmul ins(%{{.*}}, %[[S]] : tensor<8x32x16xf32>, tensor<8x16x24xf32>)
// STAGES:   linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<8x16x32xf32>, tensor<8x32x24xf32>)
// STAGES:   scf.yield %{{.*}} : tensor<8x16x24xf32>
// STAGES-NOT: linalg.batch_matmul
// STAGES: return

// Dynamic B and T, bf16 keys and values, l2 norm of k (q is not needed).
// CHECK-LABEL: func.func @summary_dynamic
// CHECK-COUNT-1: math.rsqrt
// CHECK-NOT: math.rsqrt
// CHECK: deltanet.chunk_state_scan {{.*}} -> (tensor<?x?x32x64xf32>, tensor<?x?x64x64xf32>, tensor<?x32x64xf32>)
// CHECK: tensor.extract_slice %{{.*}}[0, 0, 0, 0] [%{{.*}}, 2, 32, 32] [1, 1, 1, 1] : tensor<?x2x32x64xf32> to tensor<?x2x32x32xf32>
func.func @summary_dynamic(%k: tensor<?x?x1x32xbf16>, %v: tensor<?x?x2x32xbf16>, %g: tensor<?x?x2xf32>, %b: tensor<?x?x2xbf16>) -> (tensor<?x2x32x32xf32>, tensor<?x2x32x32xf32>) {
  %m, %u = deltanet.gated_delta_rule_summary %k, %v, %g, %b {chunk_size = 64 : i64, use_qk_l2norm} : (tensor<?x?x1x32xbf16>, tensor<?x?x2x32xbf16>, tensor<?x?x2xf32>, tensor<?x?x2xbf16>) -> (tensor<?x2x32x32xf32>, tensor<?x2x32x32xf32>)
  return %m, %u : tensor<?x2x32x32xf32>, tensor<?x2x32x32xf32>
}
