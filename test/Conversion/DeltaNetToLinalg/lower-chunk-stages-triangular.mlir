// RUN: deltanet-opt %s --deltanet-lower-chunk-stages="triangular-row-tile=8 triangular-result-block=8" | FileCheck %s
// RUN: deltanet-opt %s --deltanet-lower-chunk-stages="triangular-row-tile=8 triangular-result-block=8 precision=bf16" | FileCheck %s --check-prefix=WHOLE
// RUN: deltanet-opt %s --deltanet-lower-chunk-stages | FileCheck %s --check-prefix=WHOLE

// The CPU's triangular stage products (TargetInfo getChunkTriangularRowTile
// / getChunkTriangularResultBlock), here with C = 16 and tiles of 8.
// The numbers are checked end to end by the chunk op's integration tests
// and gdr-bench (float64 references; the CPU pipeline uses these options):
// these checks pin the shapes, i.e. which terms are skipped.

// wy_repr: T is lower triangular; rows [0, 8) of w = T (beta exp(g) k) use
// only K in [0, 8), rows [8, 16) all 16 (likewise u). Each tile goes into
// one destination.
// CHECK-LABEL: func.func @wy_repr
// CHECK: %[[T0:.*]] = tensor.extract_slice %[[T:arg0]][0, 0, 0] [2, 8, 8] [1, 1, 1] : tensor<2x16x16xf32> to tensor<2x8x8xf32>
// CHECK: %[[K0:.*]] = tensor.extract_slice %[[KS:.*]][0, 0, 0] [2, 8, 4] [1, 1, 1] : tensor<2x16x4xf32> to tensor<2x8x4xf32>
// CHECK: %[[W0:.*]] = linalg.batch_matmul ins(%[[T0]], %[[K0]] : tensor<2x8x8xf32>, tensor<2x8x4xf32>)
// CHECK: %[[D0:.*]] = tensor.insert_slice %[[W0]] into %{{.*}}[0, 0, 0] [2, 8, 4]
// CHECK: %[[T1:.*]] = tensor.extract_slice %[[T]][0, 8, 0] [2, 8, 16] [1, 1, 1] : tensor<2x16x16xf32> to tensor<2x8x16xf32>
// CHECK: %[[W1:.*]] = linalg.batch_matmul ins(%[[T1]], %{{.*}} : tensor<2x8x16xf32>, tensor<2x16x4xf32>)
// CHECK: tensor.insert_slice %[[W1]] into %[[D0]][0, 8, 0] [2, 8, 4]
// CHECK-COUNT-2: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x8x{{8|16}}xf32>, tensor<2x{{8|16}}x3xf32>)
// WHOLE-LABEL: func.func @wy_repr
// WHOLE-COUNT-2: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x16x16x{{f32|bf16}}>, tensor<2x16x{{4|3}}x{{f32|bf16}}>)
func.func @wy_repr(%t: tensor<2x16x16xf32>, %k: tensor<2x16x4xf32>, %v: tensor<2x16x3xf32>, %g: tensor<2x16xf32>, %beta: tensor<2x16xf32>) -> (tensor<2x16x4xf32>, tensor<2x16x3xf32>) {
  %w, %u = deltanet.wy_repr %t, %k, %v, %g, %beta : (tensor<2x16x16xf32>, tensor<2x16x4xf32>, tensor<2x16x3xf32>, tensor<2x16xf32>, tensor<2x16xf32>) -> (tensor<2x16x4xf32>, tensor<2x16x3xf32>)
  return %w, %u : tensor<2x16x4xf32>, tensor<2x16x3xf32>
}

// gated_kkt: only the strictly lower triangle of K K^T is kept: rows
// [0, 8) are computed for columns [0, 8) only and zero-filled right of
// them; rows [8, 16) for all 16 columns. The mask reads the assembled tensor.
// CHECK-LABEL: func.func @gated_kkt
// CHECK: %[[KT:.*]] = linalg.transpose
// CHECK: %[[R0:.*]] = tensor.extract_slice %[[K:arg0]][0, 0, 0] [2, 8, 4] [1, 1, 1]
// CHECK: %[[C0:.*]] = tensor.extract_slice %[[KT]][0, 0, 0] [2, 4, 8] [1, 1, 1]
// CHECK: %[[G0:.*]] = linalg.batch_matmul ins(%[[R0]], %[[C0]] : tensor<2x8x4xf32>, tensor<2x4x8xf32>)
// CHECK: %[[A0:.*]] = tensor.insert_slice %[[G0]] into %{{.*}}[0, 0, 0] [2, 8, 8]
// CHECK: %[[Z:.*]] = linalg.fill {{.*}} -> tensor<2x8x8xf32>
// CHECK: %[[A1:.*]] = tensor.insert_slice %[[Z]] into %[[A0]][0, 0, 8] [2, 8, 8]
// CHECK: %[[R1:.*]] = tensor.extract_slice %[[K]][0, 8, 0] [2, 8, 4] [1, 1, 1]
// CHECK: %[[G1:.*]] = linalg.batch_matmul ins(%[[R1]], %{{.*}} : tensor<2x8x4xf32>, tensor<2x4x16xf32>)
// CHECK: %[[A2:.*]] = tensor.insert_slice %[[G1]] into %[[A1]][0, 8, 0] [2, 8, 16]
// CHECK: linalg.generic {{.*}} ins(%[[A2]],
// WHOLE-LABEL: func.func @gated_kkt
// WHOLE: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x16x4x{{f32|bf16}}>, tensor<2x4x16x{{f32|bf16}}>)
func.func @gated_kkt(%k: tensor<2x16x4xf32>, %g: tensor<2x16xf32>, %beta: tensor<2x16xf32>) -> tensor<2x16x16xf32> {
  %a = deltanet.gated_kkt %k, %g, %beta : (tensor<2x16x4xf32>, tensor<2x16xf32>, tensor<2x16xf32>) -> tensor<2x16x16xf32>
  return %a : tensor<2x16x16xf32>
}

// chunk_output: the scores Q K^T in blocks like gated_kkt; the causal
// attention times v_new in 8-row tiles accumulated in place onto q S.
// CHECK-LABEL: func.func @chunk_output
// CHECK: %[[QS:.*]] = linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x16x4xf32>, tensor<2x4x3xf32>)
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x8x4xf32>, tensor<2x4x8xf32>)
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x8x4xf32>, tensor<2x4x16xf32>)
// CHECK: %[[ATT:.*]] = linalg.generic
// CHECK: %[[P0:.*]] = tensor.extract_slice %[[ATT]][0, 0, 0] [2, 8, 8]
// CHECK: %[[V0:.*]] = tensor.extract_slice %[[V:arg2]][0, 0, 0] [2, 8, 3]
// CHECK: %[[ACC0:.*]] = tensor.extract_slice %[[QS]][0, 0, 0] [2, 8, 3]
// CHECK: %[[O0:.*]] = linalg.batch_matmul ins(%[[P0]], %[[V0]] : tensor<2x8x8xf32>, tensor<2x8x3xf32>) outs(%[[ACC0]] : tensor<2x8x3xf32>)
// CHECK: %[[OUT0:.*]] = tensor.insert_slice %[[O0]] into %[[QS]][0, 0, 0] [2, 8, 3]
// CHECK: %[[ACC1:.*]] = tensor.extract_slice %[[OUT0]][0, 8, 0] [2, 8, 3]
// CHECK: %[[O1:.*]] = linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x8x16xf32>, tensor<2x16x3xf32>) outs(%[[ACC1]] : tensor<2x8x3xf32>)
// CHECK: tensor.insert_slice %[[O1]] into %[[OUT0]][0, 8, 0] [2, 8, 3]
func.func @chunk_output(%q: tensor<2x16x4xf32>, %k: tensor<2x16x4xf32>, %v: tensor<2x16x3xf32>, %s: tensor<2x4x3xf32>, %g: tensor<2x16xf32>) -> tensor<2x16x3xf32> {
  %o = deltanet.chunk_output %q, %k, %v, %s, %g {scale = 0.5 : f32} : (tensor<2x16x4xf32>, tensor<2x16x4xf32>, tensor<2x16x3xf32>, tensor<2x4x3xf32>, tensor<2x16xf32>) -> tensor<2x16x3xf32>
  return %o : tensor<2x16x3xf32>
}
