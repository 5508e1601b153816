// RUN: deltanet-opt %s --deltanet-lower-tri-inv="batch-tile=0 quantize-merges-once=1 low-precision-merges-from=16" --canonicalize --cse | FileCheck %s --check-prefixes=CHECK,FROM16
// RUN: deltanet-opt %s --deltanet-lower-tri-inv="batch-tile=0 quantize-merges-once=1" --canonicalize --cse | FileCheck %s --check-prefixes=CHECK,ALL
// RUN: not deltanet-opt %s --deltanet-lower-tri-inv="batch-tile=0 low-precision-merges-from=-1" 2>&1 | FileCheck %s --check-prefix=BAD

// precision=i8, blocks of 4, C = 32: merge levels 4, 8 and 16.
// low-precision-merges-from=16 keeps the levels of 4 x 4 and 8 x 8 blocks
// in f32 (no quantisation before the last level); quantize-merges-once
// quantises each merge operand once (L21, X11, X22, T: four quantize ops,
// not eight), sums the two halves of the split products in i32 (T's right
// half accumulates into the slice of the first product) and dequantises
// T and U once each, U with the left scales negated (X21 = -U).

// CHECK-LABEL: func @merges_once
// FROM16-NOT: deltanet.quantize
// FROM16: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x4x4xf32>, tensor<2x4x4xf32>)
// FROM16: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x8x4xf32>, tensor<2x4x8xf32>)
// ALL: deltanet.quantize %{{.*}} along [2] : tensor<2x4x4xf32>
// ALL: deltanet.quantize %{{.*}} along [2] : tensor<2x8x8xf32>
// The last level: T = L21 X11 from one quantisation of each operand.
// CHECK: %[[QL:.*]], %[[SL:.*]] = deltanet.quantize %{{.*}} along [2] : tensor<2x16x16xf32> -> tensor<2x16x16xi8>, tensor<2x16xf32>
// CHECK: %[[QX:.*]], %[[SX:.*]] = deltanet.quantize %{{.*}} along [1] : tensor<2x16x16xf32> -> tensor<2x16x16xi8>, tensor<2x16xf32>
// CHECK-NOT: deltanet.quantize
// CHECK: %[[L2:.*]] = tensor.extract_slice %[[QL]][0, 0, 8] [2, 16, 8]
// CHECK: %[[X2:.*]] = tensor.extract_slice %[[QX]][0, 8, 0] [2, 8, 16]
// CHECK: %[[T:.*]] = linalg.batch_matmul ins(%[[L2]], %[[X2]] : tensor<2x16x8xi8>, tensor<2x8x16xi8>) outs(%{{.*}} : tensor<2x16x16xi32>)
// CHECK: %[[TL:.*]] = tensor.extract_slice %[[T]][0, 0, 0] [2, 16, 8]
// CHECK: %[[L1:.*]] = tensor.extract_slice %[[QL]][0, 0, 0] [2, 16, 8]
// CHECK: %[[X1:.*]] = tensor.extract_slice %[[QX]][0, 0, 0] [2, 8, 8]
// CHECK: %[[TL2:.*]] = linalg.batch_matmul ins(%[[L1]], %[[X1]] : tensor<2x16x8xi8>, tensor<2x8x8xi8>) outs(%[[TL]] : tensor<2x16x8xi32>)
// CHECK: %[[TI:.*]] = tensor.insert_slice %[[TL2]] into %[[T]]
// CHECK: %[[TF:.*]] = deltanet.dequantize %[[TI]], %[[SL]], %[[SX]]
// U = X22 T: X22 per row, T per column, once each.
// CHECK: %[[Q22:.*]], %[[S22:.*]] = deltanet.quantize %{{.*}} along [2] : tensor<2x16x16xf32>
// CHECK: %[[QT:.*]], %[[ST:.*]] = deltanet.quantize %[[TF]] along [1] : tensor<2x16x16xf32>
// CHECK-NOT: deltanet.quantize
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x8x8xi8>, tensor<2x8x16xi8>)
// CHECK: linalg.batch_matmul ins(%{{.*}}, %[[QT]] : tensor<2x8x16xi8>, tensor<2x16x16xi8>)
// X21 = -U: the dequantisation with the negated left scales.
// CHECK: %[[NEG:.*]] = linalg.generic {{.*}} ins(%[[S22]] : tensor<2x16xf32>)
// CHECK: arith.negf
// CHECK: %[[X21:.*]] = deltanet.dequantize %{{.*}}, %[[NEG]], %[[ST]]
// CHECK: tensor.insert_slice %[[X21]] into %{{.*}}[0, 16, 0] [2, 16, 16]
// CHECK-NOT: arith.subf
// CHECK: return
func.func @merges_once(%a: tensor<2x32x32xf32>) -> tensor<2x32x32xf32> {
  %x = deltanet.tri_inv %a {strategy = #deltanet.strategy<blocked>, block_size = 4 : i64, precision = #deltanet.precision<i8>} : tensor<2x32x32xf32>
  return %x : tensor<2x32x32xf32>
}

// BAD: {{.*}}error: invalid option low-precision-merges-from=-1: must be >= 0
