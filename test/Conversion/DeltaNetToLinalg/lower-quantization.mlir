// RUN: deltanet-opt %s --deltanet-lower-quantization | FileCheck %s

// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[ROW:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[COL:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[MAT:.*]] = affine_map<(d0, d1, d2) -> (d0)>

// CHECK-LABEL: func @quantize_rows
// The max-abs reduction over the last dim, scale = max / 127, then
// q = roundeven(x * (127 / max)) clamped to [-127, 127] as i8.
// CHECK: %[[MAX:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]
// CHECK-SAME: ins(%{{.*}} : tensor<?x8x16xf32>) outs(%{{.*}} : tensor<?x8xf32>)
// CHECK: math.absf
// CHECK: arith.maximumf
// CHECK: %[[SCALE:.*]] = linalg.generic {{.*}} ins(%[[MAX]] : tensor<?x8xf32>)
// CHECK: arith.mulf %{{.*}}, %{{.*}} : f32
// The factor 127 / max (0 for an all-zero row) once per row.
// CHECK: %[[FACTOR:.*]] = linalg.generic {{.*}} ins(%[[MAX]] : tensor<?x8xf32>)
// CHECK: arith.cmpf ogt
// CHECK: arith.divf
// CHECK: arith.select
// CHECK: %[[Q:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %[[FACTOR]] : tensor<?x8x16xf32>, tensor<?x8xf32>) outs(%{{.*}} : tensor<?x8x16xi8>)
// CHECK-NOT: arith.divf
// CHECK: arith.mulf
// CHECK: math.roundeven
// CHECK: arith.maximumf
// CHECK: arith.minimumf
// CHECK: arith.fptosi %{{.*}} : f32 to i8
// CHECK: return %[[Q]], %[[SCALE]]
func.func @quantize_rows(%x: tensor<?x8x16xf32>) -> (tensor<?x8x16xi8>, tensor<?x8xf32>) {
  %q, %s = deltanet.quantize %x along [2] : tensor<?x8x16xf32> -> tensor<?x8x16xi8>, tensor<?x8xf32>
  return %q, %s : tensor<?x8x16xi8>, tensor<?x8xf32>
}

// CHECK-LABEL: func @dequantize_rows_columns
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[COL]], #[[ID]]]
// CHECK: arith.sitofp %{{.*}} : i32 to f32
// CHECK: arith.mulf
// CHECK: arith.mulf
func.func @dequantize_rows_columns(%acc: tensor<2x8x4xi32>, %sa: tensor<2x8xf32>, %sb: tensor<2x4xf32>) -> tensor<2x8x4xf32> {
  %y = deltanet.dequantize %acc, %sa, %sb : (tensor<2x8x4xi32>, tensor<2x8xf32>, tensor<2x4xf32>) -> tensor<2x8x4xf32>
  return %y : tensor<2x8x4xf32>
}

// CHECK-LABEL: func @dequantize_matrices
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[MAT]], #[[MAT]], #[[ID]]]
func.func @dequantize_matrices(%acc: tensor<2x8x4xi32>, %s: tensor<2xf32>) -> tensor<2x8x4xf32> {
  %y = deltanet.dequantize %acc, %s, %s : (tensor<2x8x4xi32>, tensor<2xf32>, tensor<2xf32>) -> tensor<2x8x4xf32>
  return %y : tensor<2x8x4xf32>
}
