// RUN: deltanet-opt %s --deltanet-lower-tri-inv="target=gpu" --canonicalize --cse | FileCheck %s
// RUN: deltanet-opt %s --deltanet-lower-tri-inv="target=cpu batch-tile=0" --canonicalize --cse | FileCheck %s --check-prefix=CPU

// Targets whose threads share one matrix (TargetInfo::mergesTriInvLevelsBatched:
// the GPU) get the blocked inverse with batched levels: every level's pairs
// are a parallel dimension of one contraction, read through the
// block-diagonal map (n, p, i, .., k) -> (n, p, i, p, k) of the destination
// viewed as batch x pairs x 2s x pairs x 2s; no loop over the pairs. The CPU
// keeps one scf.for per level (bit-for-bit as before).

// CHECK-DAG: #[[DIAG_IK:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d1, d4)>
// CHECK-DAG: #[[DIAG_KJ:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d1, d3)>
// CHECK-DAG: #[[BLK_KJ:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>
// CHECK-DAG: #[[BLK_IJ:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func.func @blocked_levels
// CHECK-NOT: scf.for
// One pass writes I - L into the destination (-L21 where each X21 goes).
// CHECK: %[[X0:.*]] = linalg.generic {{.*}} ins(%{{.*}} : tensor<8x64x64xf32>) outs(%{{.*}} : tensor<8x64x64xf32>)
// CHECK: arith.negf
// Level s = 2: 16 pairs; T = X21 X11 and U = X22 T over all of them, then
// U copied over X21 (its diagonal blocks only).
// CHECK: %[[V2:.*]] = tensor.expand_shape %[[X0]] {{\[}}[0], [1, 2], [3, 4]] output_shape [8, 16, 4, 16, 4]
// CHECK: %[[X21:.*]] = tensor.extract_slice %[[V2]][0, 0, 2, 0, 0] [8, 16, 2, 16, 2]
// CHECK: %[[X11:.*]] = tensor.extract_slice %[[V2]][0, 0, 0, 0, 0] [8, 16, 2, 16, 2]
// CHECK: %[[T:.*]] = linalg.generic {indexing_maps = [#[[DIAG_IK]], #[[DIAG_KJ]], #[[BLK_IJ]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[X21]], %[[X11]] : tensor<8x16x2x16x2xf32>, tensor<8x16x2x16x2xf32>) outs(%{{.*}} : tensor<8x16x2x2xf32>)
// CHECK: %[[X22:.*]] = tensor.extract_slice %[[V2]][0, 0, 2, 0, 2] [8, 16, 2, 16, 2]
// CHECK: %[[U:.*]] = linalg.generic {indexing_maps = [#[[DIAG_IK]], #[[BLK_KJ]], #[[BLK_IJ]]], {{.*}} ins(%[[X22]], %[[T]] : tensor<8x16x2x16x2xf32>, tensor<8x16x2x2xf32>)
// CHECK: linalg.generic {{.*}} ins(%[[U]] : tensor<8x16x2x2xf32>) outs(%[[X21]] : tensor<8x16x2x16x2xf32>)
// CHECK: tensor.insert_slice
// Levels s = 4, 8, 16, 32: 8, 4, 2, 1 pairs.
// CHECK: tensor.expand_shape {{.*}} output_shape [8, 8, 8, 8, 8]
// CHECK-COUNT-3: linalg.generic
// CHECK: tensor.expand_shape {{.*}} output_shape [8, 4, 16, 4, 16]
// CHECK-COUNT-3: linalg.generic
// CHECK: tensor.expand_shape {{.*}} output_shape [8, 2, 32, 2, 32]
// CHECK-COUNT-3: linalg.generic
// CHECK: tensor.expand_shape {{.*}} output_shape [8, 1, 64, 1, 64]
// CHECK-COUNT-3: linalg.generic
// CHECK-NOT: linalg.generic
// CHECK: return

// CPU-LABEL: func.func @blocked_levels
// CPU-COUNT-4: scf.for
func.func @blocked_levels(%a: tensor<8x64x64xf32>) -> tensor<8x64x64xf32> {
  %x = deltanet.tri_inv %a {block_size = 2 : i64} : tensor<8x64x64xf32>
  return %x : tensor<8x64x64xf32>
}

// Blocks of 4: the diagonal blocks' Neumann factor (I - D)(I + D^2) over all
// 16 blocks at once (power band, its square, the product with X, the sum).
// CHECK-LABEL: func.func @diagonal_neumann
// CHECK-NOT: scf.for
// CHECK: tensor.expand_shape %{{.*}} output_shape [8, 16, 4, 16, 4]
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<8x16x3x16x3xf32>) outs(%{{.*}} : tensor<8x16x3x3xf32>)
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<8x16x2x2xf32>, tensor<8x16x2x2xf32>) outs(%{{.*}} : tensor<8x16x2x2xf32>)
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<8x16x2x16x2xf32>, tensor<8x16x2x2xf32>) outs(%{{.*}} : tensor<8x16x2x2xf32>)
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<8x16x2x2xf32>) outs(%{{.*}} : tensor<8x16x2x16x2xf32>)
// CHECK: arith.addf
// A number of blocks that is not a power of two (48 = 3 x 16): level 16 has
// one pair and leaves the last block; level 32 merges it alone (mergePair).
// CHECK-LABEL: func.func @odd_blocks
// CHECK: tensor.expand_shape %{{.*}} output_shape [8, 1, 32, 1, 32]
// CHECK: tensor.extract_slice %{{.*}}[0, 32, 0] [8, 16, 32]
func.func @diagonal_neumann(%a: tensor<8x64x64xf32>) -> tensor<8x64x64xf32> {
  %x = deltanet.tri_inv %a {block_size = 4 : i64} : tensor<8x64x64xf32>
  return %x : tensor<8x64x64xf32>
}

func.func @odd_blocks(%a: tensor<8x48x48xf32>) -> tensor<8x48x48xf32> {
  %x = deltanet.tri_inv %a {block_size = 16 : i64} : tensor<8x48x48xf32>
  return %x : tensor<8x48x48xf32>
}
