// The INT8 quantisation of a tri_inv merge is vector code: the max-abs
// scales (per row: reduced along the row vector as the integer max of the
// magnitudes' bits, then one maximumf with the accumulator; per column:
// elementwise maxima across rows), the rounding with the broadcast factor,
// and the dequantisation with broadcast scales.
// RUN: deltanet-opt %s --deltanet-lower-quantization --deltanet-cpu-vectorize-elementwise --canonicalize | FileCheck %s

// CHECK-LABEL: func.func @quantize_matmul_operands
// CHECK-NOT: linalg.generic
// Per row (lhs, reduced along [2]): one 16-lane max reduction per row.
// CHECK: %[[ABS:.*]] = math.absf %{{.*}} : vector<1x1x16xf32>
// CHECK: %[[BITS:.*]] = arith.bitcast %[[ABS]] : vector<1x1x16xf32> to vector<1x1x16xi32>
// CHECK: %[[MAX:.*]] = vector.multi_reduction <maxsi>, %[[BITS]], %{{.*}} [2] : vector<1x1x16xi32> to vector<1x1xi32>
// CHECK: %[[MAXF:.*]] = arith.bitcast %[[MAX]] : vector<1x1xi32> to vector<1x1xf32>
// CHECK: arith.maximumf %[[MAXF]], %{{.*}} : vector<1x1xf32>
// CHECK: arith.fptosi %{{.*}} : vector<1x1x16xf32> to vector<1x1x16xi8>
// Per column (rhs, reduced along [1]): elementwise maxima of the rows.
// CHECK: arith.maximumf %{{.*}}, %{{.*}} : vector<1x16xf32>
// CHECK: arith.fptosi %{{.*}} : vector<1x1x16xf32> to vector<1x1x16xi8>
// The product's rescaling by both broadcast scales.
// CHECK: arith.sitofp %{{.*}} : vector<1x1x16xi32> to vector<1x1x16xf32>
// CHECK-NOT: linalg.generic
func.func @quantize_matmul_operands(%a: tensor<4x16x16xf32>, %b: tensor<4x16x16xf32>, %acc: tensor<4x16x16xi32>)
    -> (tensor<4x16x16xi8>, tensor<4x16x16xi8>, tensor<4x16x16xf32>) {
  %qa, %sa = deltanet.quantize %a along [2] : tensor<4x16x16xf32> -> tensor<4x16x16xi8>, tensor<4x16xf32>
  %qb, %sb = deltanet.quantize %b along [1] : tensor<4x16x16xf32> -> tensor<4x16x16xi8>, tensor<4x16xf32>
  %y = deltanet.dequantize %acc, %sa, %sb : (tensor<4x16x16xi32>, tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16x16xf32>
  return %qa, %qb, %y : tensor<4x16x16xi8>, tensor<4x16x16xi8>, tensor<4x16x16xf32>
}
