// RUN: deltanet-opt %s --deltanet-lower-compose-summaries --canonicalize | FileCheck %s

// (m1, u1) then (m2, u2): m = m2 m1, u = u2 + m2 u1, batch dims collapsed.
// CHECK-LABEL: func.func @compose
// CHECK-SAME: (%[[M1:.*]]: tensor<2x4x16x16xf32>, %[[U1:.*]]: tensor<2x4x16x8xf32>, %[[M2:.*]]: tensor<2x4x16x16xf32>, %[[U2:.*]]: tensor<2x4x16x8xf32>)
// CHECK-DAG: %[[M1C:.*]] = tensor.collapse_shape %[[M1]] {{\[}}[0, 1], [2], [3]] : tensor<2x4x16x16xf32> into tensor<8x16x16xf32>
// CHECK-DAG: %[[U1C:.*]] = tensor.collapse_shape %[[U1]] {{\[}}[0, 1], [2], [3]]
// CHECK-DAG: %[[M2C:.*]] = tensor.collapse_shape %[[M2]] {{\[}}[0, 1], [2], [3]]
// CHECK-DAG: %[[U2C:.*]] = tensor.collapse_shape %[[U2]] {{\[}}[0, 1], [2], [3]]
// CHECK: %[[M:.*]] = linalg.batch_matmul ins(%[[M2C]], %[[M1C]] : tensor<8x16x16xf32>, tensor<8x16x16xf32>)
// CHECK: %[[U:.*]] = linalg.batch_matmul ins(%[[M2C]], %[[U1C]] : tensor<8x16x16xf32>, tensor<8x16x8xf32>) outs(%[[U2C]] : tensor<8x16x8xf32>)
// CHECK-DAG: %[[ME:.*]] = tensor.expand_shape %[[M]] {{\[}}[0, 1], [2], [3]] output_shape [2, 4, 16, 16]
// CHECK-DAG: %[[UE:.*]] = tensor.expand_shape %[[U]] {{\[}}[0, 1], [2], [3]] output_shape [2, 4, 16, 8]
// CHECK: return %[[ME]], %[[UE]]
func.func @compose(%m1: tensor<2x4x16x16xf32>, %u1: tensor<2x4x16x8xf32>, %m2: tensor<2x4x16x16xf32>, %u2: tensor<2x4x16x8xf32>) -> (tensor<2x4x16x16xf32>, tensor<2x4x16x8xf32>) {
  %m, %u = deltanet.compose_summaries %m1, %u1, %m2, %u2 : (tensor<2x4x16x16xf32>, tensor<2x4x16x8xf32>, tensor<2x4x16x16xf32>, tensor<2x4x16x8xf32>) -> (tensor<2x4x16x16xf32>, tensor<2x4x16x8xf32>)
  return %m, %u : tensor<2x4x16x16xf32>, tensor<2x4x16x8xf32>
}

// No batch dim: a unit batch is added and removed.
// CHECK-LABEL: func.func @compose_single
// CHECK: tensor.expand_shape %{{.*}} {{\[}}[0, 1], [2]] output_shape [1, 32, 32] : tensor<32x32xf32> into tensor<1x32x32xf32>
// CHECK: linalg.batch_matmul {{.*}} -> tensor<1x32x32xf32>
// CHECK: linalg.batch_matmul {{.*}} -> tensor<1x32x4xf32>
// CHECK: tensor.collapse_shape %{{.*}} {{\[}}[0, 1], [2]] : tensor<1x32x4xf32> into tensor<32x4xf32>
func.func @compose_single(%m1: tensor<32x32xf32>, %u1: tensor<32x4xf32>, %m2: tensor<32x32xf32>, %u2: tensor<32x4xf32>) -> (tensor<32x32xf32>, tensor<32x4xf32>) {
  %m, %u = deltanet.compose_summaries %m1, %u1, %m2, %u2 : (tensor<32x32xf32>, tensor<32x4xf32>, tensor<32x32xf32>, tensor<32x4xf32>) -> (tensor<32x32xf32>, tensor<32x4xf32>)
  return %m, %u : tensor<32x32xf32>, tensor<32x4xf32>
}

// Dynamic batch dims.
// CHECK-LABEL: func.func @compose_dynamic
// CHECK: linalg.batch_matmul {{.*}} -> tensor<?x8x8xf32>
// CHECK: linalg.batch_matmul {{.*}} -> tensor<?x8x2xf32>
func.func @compose_dynamic(%m1: tensor<?x3x8x8xf32>, %u1: tensor<?x3x8x2xf32>, %m2: tensor<?x3x8x8xf32>, %u2: tensor<?x3x8x2xf32>) -> (tensor<?x3x8x8xf32>, tensor<?x3x8x2xf32>) {
  %m, %u = deltanet.compose_summaries %m1, %u1, %m2, %u2 : (tensor<?x3x8x8xf32>, tensor<?x3x8x2xf32>, tensor<?x3x8x8xf32>, tensor<?x3x8x2xf32>) -> (tensor<?x3x8x8xf32>, tensor<?x3x8x2xf32>)
  return %m, %u : tensor<?x3x8x8xf32>, tensor<?x3x8x2xf32>
}
