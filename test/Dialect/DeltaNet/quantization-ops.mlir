// RUN: deltanet-opt %s | deltanet-opt | FileCheck %s
// RUN: deltanet-opt %s -mlir-print-op-generic | deltanet-opt | FileCheck %s

// CHECK-LABEL: func @quantize_per_row_and_column
func.func @quantize_per_row_and_column(%a: tensor<?x16x8xf32>, %b: tensor<?x8x4xf32>) -> tensor<?x16x4xf32> {
  // CHECK: %{{.*}}, %{{.*}} = deltanet.quantize %{{.*}} along [2] : tensor<?x16x8xf32> -> tensor<?x16x8xi8>, tensor<?x16xf32>
  %qa, %sa = deltanet.quantize %a along [2] : tensor<?x16x8xf32> -> tensor<?x16x8xi8>, tensor<?x16xf32>
  // CHECK: deltanet.quantize %{{.*}} along [1] : tensor<?x8x4xf32> -> tensor<?x8x4xi8>, tensor<?x4xf32>
  %qb, %sb = deltanet.quantize %b along [1] : tensor<?x8x4xf32> -> tensor<?x8x4xi8>, tensor<?x4xf32>
  %c0 = arith.constant 0 : index
  %n = tensor.dim %a, %c0 : tensor<?x16x8xf32>
  %zero = arith.constant 0 : i32
  %e = tensor.empty(%n) : tensor<?x16x4xi32>
  %acc = linalg.fill ins(%zero : i32) outs(%e : tensor<?x16x4xi32>) -> tensor<?x16x4xi32>
  %p = linalg.batch_matmul ins(%qa, %qb : tensor<?x16x8xi8>, tensor<?x8x4xi8>) outs(%acc : tensor<?x16x4xi32>) -> tensor<?x16x4xi32>
  // CHECK: deltanet.dequantize %{{.*}}, %{{.*}}, %{{.*}} : (tensor<?x16x4xi32>, tensor<?x16xf32>, tensor<?x4xf32>) -> tensor<?x16x4xf32>
  %y = deltanet.dequantize %p, %sa, %sb : (tensor<?x16x4xi32>, tensor<?x16xf32>, tensor<?x4xf32>) -> tensor<?x16x4xf32>
  return %y : tensor<?x16x4xf32>
}

// CHECK-LABEL: func @quantize_per_matrix
func.func @quantize_per_matrix(%a: tensor<3x4x4xf32>, %acc: tensor<3x4x4xi32>) -> tensor<3x4x4xf32> {
  // CHECK: deltanet.quantize %{{.*}} along [1, 2] : tensor<3x4x4xf32> -> tensor<3x4x4xi8>, tensor<3xf32>
  %q, %s = deltanet.quantize %a along [1, 2] : tensor<3x4x4xf32> -> tensor<3x4x4xi8>, tensor<3xf32>
  // CHECK: deltanet.dequantize {{.*}} : (tensor<3x4x4xi32>, tensor<3xf32>, tensor<3xf32>) -> tensor<3x4x4xf32>
  %y = deltanet.dequantize %acc, %s, %s : (tensor<3x4x4xi32>, tensor<3xf32>, tensor<3xf32>) -> tensor<3x4x4xf32>
  return %y : tensor<3x4x4xf32>
}
