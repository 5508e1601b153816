// RUN: deltanet-opt %s --deltanet-lower-tri-inv --canonicalize --cse | FileCheck %s

// The default strategy: exact Neumann inverses of the 16x16 diagonal blocks,
// then two merge levels (16 -> 32 -> 64), each X21 = -X22 (L21 X11).

// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[DIAG:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1 * 16 + d2, d1 * 16 + d3)>
// CHECK-DAG: #[[L21_16:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1 * 32 + d2 + 16, d1 * 32 + d3)>
// CHECK-DAG: #[[L21_32:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1 * 64 + d2 + 32, d1 * 64 + d3)>

// CHECK-LABEL: func.func @blocked
// CHECK-SAME: (%[[A:.*]]: tensor<8x64x64xf32>)
// Structural mask: the strictly lower triangle, the rest of %a is ignored.
// CHECK: %[[L:.*]] = linalg.generic {{.*}} ins(%[[A]] : tensor<8x64x64xf32>)
// CHECK:   arith.cmpi ugt
// CHECK:   arith.select
// Diagonal blocks, gathered and inverted with (I - D)(I + D^2)(I + D^4)(I + D^8).
// CHECK: %[[D:.*]] = linalg.generic {indexing_maps = [#[[DIAG]], {{.*}}]} ins(%[[L]] : tensor<8x64x64xf32>) outs(%{{.*}} : tensor<8x4x16x16xf32>)
// CHECK: %[[DB:.*]] = tensor.collapse_shape %[[D]] {{\[}}[0, 1], [2], [3]] : tensor<8x4x16x16xf32> into tensor<32x16x16xf32>
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<32x14x14xf32>, tensor<32x14x14xf32>)
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<32x14x14xf32>, tensor<32x14x14xf32>)
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<32x12x12xf32>, tensor<32x12x12xf32>)
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<32x12x12xf32>, tensor<32x12x12xf32>)
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<32x8x8xf32>, tensor<32x8x8xf32>)
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<32x8x8xf32>, tensor<32x8x8xf32>)
// CHECK-NOT: tensor<32x16x16xf32>, tensor<32x16x16xf32>
// Merge 16 -> 32: even/odd blocks are X11/X22, -L21 gathered below the diagonal.
// CHECK: %[[X11:.*]] = tensor.extract_slice %{{.*}}[0, 0, 0] [16, 16, 16] [2, 1, 1] : tensor<32x16x16xf32> to tensor<16x16x16xf32>
// CHECK: %[[X22:.*]] = tensor.extract_slice %{{.*}}[1, 0, 0] [16, 16, 16] [2, 1, 1] : tensor<32x16x16xf32> to tensor<16x16x16xf32>
// CHECK: linalg.generic {indexing_maps = [#[[L21_16]], {{.*}}]} ins(%[[L]] : tensor<8x64x64xf32>)
// CHECK:   arith.negf
// CHECK: %[[T:.*]] = linalg.batch_matmul ins(%{{.*}}, %[[X11]] : tensor<16x16x16xf32>, tensor<16x16x16xf32>)
// CHECK: %[[X21:.*]] = linalg.batch_matmul ins(%[[X22]], %[[T]] : tensor<16x16x16xf32>, tensor<16x16x16xf32>)
// CHECK: tensor.insert_slice %[[X11]] into %{{.*}}[0, 0, 0] [16, 16, 16]
// CHECK: tensor.insert_slice %[[X21]] into %{{.*}}[0, 16, 0] [16, 16, 16]
// CHECK: tensor.insert_slice %[[X22]] into %{{.*}}[0, 16, 16] [16, 16, 16]
// Merge 32 -> 64.
// CHECK: linalg.generic {indexing_maps = [#[[L21_32]], {{.*}}]} ins(%[[L]] : tensor<8x64x64xf32>)
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<8x32x32xf32>, tensor<8x32x32xf32>)
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<8x32x32xf32>, tensor<8x32x32xf32>)
// CHECK: %[[R:.*]] = tensor.insert_slice %{{.*}} into %{{.*}}[0, 32, 32] [8, 32, 32] [1, 1, 1] : tensor<8x32x32xf32> into tensor<8x64x64xf32>
// CHECK: return %[[R]]
func.func @blocked(%a: tensor<8x64x64xf32>) -> tensor<8x64x64xf32> {
  %x = deltanet.tri_inv %a : tensor<8x64x64xf32>
  return %x : tensor<8x64x64xf32>
}

// A matrix size that is not a power-of-two multiple of the block size is
// padded with zeros (exact: the padding is an identity block).
// CHECK-LABEL: func.func @blocked_padded
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[0, 0, 0] [2, 48, 48] [1, 1, 1] : tensor<2x48x48xf32> into tensor<2x64x64xf32>
// CHECK: tensor.extract_slice %{{.*}}[0, 0, 0] [2, 48, 48] [1, 1, 1] : tensor<2x64x64xf32> to tensor<2x48x48xf32>
func.func @blocked_padded(%a: tensor<2x48x48xf32>) -> tensor<2x48x48xf32> {
  %x = deltanet.tri_inv %a : tensor<2x48x48xf32>
  return %x : tensor<2x48x48xf32>
}

// Batch dims are collapsed into one, low precision is widened to f32 and
// rounded once at the end, the dynamic batch size flows through.
// CHECK-LABEL: func.func @blocked_bf16_dynamic_batch
// CHECK-SAME: (%[[A:.*]]: tensor<?x3x32x32xbf16>)
// CHECK: %[[C:.*]] = tensor.collapse_shape %[[A]] {{\[}}[0, 1], [2], [3]] : tensor<?x3x32x32xbf16> into tensor<?x32x32xbf16>
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK: arith.truncf %{{.*}} : f32 to bf16
// CHECK: tensor.expand_shape %{{.*}} {{\[}}[0, 1], [2], [3]] output_shape [%{{.*}}, 3, 32, 32] : tensor<?x32x32xbf16> into tensor<?x3x32x32xbf16>
func.func @blocked_bf16_dynamic_batch(%a: tensor<?x3x32x32xbf16>) -> tensor<?x3x32x32xbf16> {
  %x = deltanet.tri_inv %a : tensor<?x3x32x32xbf16>
  return %x : tensor<?x3x32x32xbf16>
}
