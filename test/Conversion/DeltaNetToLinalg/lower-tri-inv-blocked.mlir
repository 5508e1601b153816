// RUN: deltanet-opt %s --deltanet-lower-tri-inv="batch-tile=0 block-size=16" --canonicalize --cse | FileCheck %s

// The blocked strategy (block-size=16; the CPU default for f32 is 4,
// lower-tri-inv-options.mlir): exact Neumann inverses of the 16x16 diagonal blocks,
// then two merge levels (16 -> 32 -> 64), each X21 = -X22 (L21 X11), all in
// one destination, every element written once: each diagonal block's I - D
// (its strictly lower part negated, plus the identity) where the block is
// solved (only the diagonal blocks of %a are read and masked), each merge's
// X21 below and the zeros of its X12 above (no fill of the whole matrix
// first: the CPU lowered it to a memset call), every product accumulating
// into its block (extract_slice / insert_slice pairs of the same tensor).
// Blocks of a level are an scf.for (one copy of the code).

// CHECK-LABEL: func.func @blocked
// CHECK-SAME: (%[[A:.*]]: tensor<8x64x64xf32>)
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NOT: linalg.fill {{.*}} tensor<8x64x64xf32>
// CHECK: %[[X0:.*]] = tensor.empty() : tensor<8x64x64xf32>
// CHECK-NOT: linalg.generic
// Diagonal blocks: I - D, then (I - D)(I + D^2)(I + D^4)(I + D^8) in place;
// the powers are kept as their bands (15 -> 14 -> 12 -> 8 rows and columns).
// CHECK: %[[X1:.*]] = scf.for %[[P:.*]] = %c0 to %c64 step %c16 iter_args(%[[XD:.*]] = %[[X0]])
// CHECK:   %[[AD:.*]] = tensor.extract_slice %[[A]][0, %[[P]], %[[P]]] [8, 16, 16]
// CHECK:   %[[XB:.*]] = tensor.extract_slice %[[XD]][0, %[[P]], %[[P]]] [8, 16, 16]
// CHECK:   %[[BLK:.*]] = linalg.generic {{.*}} ins(%[[AD]] : tensor<8x16x16xf32>) outs(%[[XB]] : tensor<8x16x16xf32>)
// The mask's index arithmetic in i32 (16 AVX-512 lanes per compare).
// CHECK:     arith.index_cast %{{.*}} : index to i32
// CHECK:     arith.cmpi ugt, %{{.*}}, %{{.*}} : i32
// CHECK:     arith.negf
// CHECK:     arith.select
// CHECK:   linalg.generic {{.*}} ins(%{{.*}} : tensor<8x15x15xf32>)
// CHECK:     arith.cmpi uge
// CHECK:   %[[P2:.*]] = linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<8x14x14xf32>, tensor<8x14x14xf32>)
// CHECK:   %[[ACC:.*]] = tensor.extract_slice %[[BLK]][0, 2, 0] [8, 14, 14]
// CHECK:   %[[XS:.*]] = tensor.extract_slice %[[BLK]][0, 2, 2] [8, 14, 14]
// CHECK:   %[[XP:.*]] = linalg.batch_matmul ins(%[[XS]], %[[P2]] : tensor<8x14x14xf32>, tensor<8x14x14xf32>)
// CHECK:   linalg.generic {{.*}} ins(%[[XP]] : tensor<8x14x14xf32>) outs(%[[ACC]] : tensor<8x14x14xf32>)
// CHECK:     arith.addf
// CHECK:   linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<8x12x12xf32>, tensor<8x12x12xf32>)
// CHECK:   linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<8x12x12xf32>, tensor<8x12x12xf32>)
// CHECK:   linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<8x8x8xf32>, tensor<8x8x8xf32>)
// CHECK:   linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<8x8x8xf32>, tensor<8x8x8xf32>)
// CHECK-NOT: linalg.batch_matmul
// CHECK:   tensor.insert_slice %{{.*}} into %[[XD]][0, %[[P]], %[[P]]] [8, 16, 16]
// Merge 16 -> 32 for both pairs: T = L21 X11 (L21 read from %a, no mask),
// U = X22 T, X21 = 0 - U written into its block.
// CHECK: %[[X2:.*]] = scf.for %[[S:.*]] = %c0 to %c64 step %c32 iter_args(%[[XM:.*]] = %[[X1]])
// CHECK:   %[[X11:.*]] = tensor.extract_slice %[[XM]][0, %[[S]], %[[S]]] [8, 16, 16]
// CHECK:   %[[X22:.*]] = tensor.extract_slice %[[XM]][0, %[[MID:.*]], %[[MID]]] [8, 16, 16]
// CHECK:   %[[L21:.*]] = tensor.extract_slice %[[A]][0, %[[MID]], %[[S]]] [8, 16, 16]
// CHECK:   %[[T:.*]] = linalg.batch_matmul ins(%[[L21]], %[[X11]] : tensor<8x16x16xf32>, tensor<8x16x16xf32>)
// CHECK:   %[[U:.*]] = linalg.batch_matmul ins(%[[X22]], %[[T]] : tensor<8x16x16xf32>, tensor<8x16x16xf32>)
// CHECK:   %[[X21:.*]] = tensor.extract_slice %[[XM]][0, %[[MID]], %[[S]]] [8, 16, 16]
// CHECK:   linalg.generic {{.*}} ins(%[[U]] : tensor<8x16x16xf32>) outs(%[[X21]] : tensor<8x16x16xf32>)
// CHECK:     arith.subf %[[ZERO]], %{{.*}} : f32
// CHECK:   %[[XW:.*]] = tensor.insert_slice %{{.*}} into %[[XM]][0, %[[MID]], %[[S]]] [8, 16, 16]
// Then the zeros of X12, an elementwise op (vectorised rows on the CPU).
// CHECK:   %[[X12:.*]] = tensor.extract_slice %[[XW]][0, %[[S]], %[[MID]]] [8, 16, 16]
// CHECK:   %[[Z:.*]] = linalg.generic {{.*}} outs(%[[X12]] : tensor<8x16x16xf32>)
// CHECK-NEXT: ^bb0(%{{.*}}: f32):
// CHECK-NEXT:   linalg.yield %[[ZERO]] : f32
// CHECK:   tensor.insert_slice %[[Z]] into %[[XW]][0, %[[S]], %[[MID]]] [8, 16, 16]
// Merge 32 -> 64: X11 and X22 have a zero upper right 16x16 block, so
// T = L21[:, 16:] X11[16:, :] + (L21[:, :16] X11[:16, :16] on T[:, :16])
// and U = X22 T in 4-row tiles, rows [r0, r0 + 4) over K < r0 + 4 (X22
// lower triangular): 72 of 128 K per row instead of 96 with halves.
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<8x32x16xf32>, tensor<8x16x32xf32>) outs(%{{.*}} : tensor<8x32x32xf32>)
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<8x32x16xf32>, tensor<8x16x16xf32>) outs(%{{.*}} : tensor<8x32x16xf32>)
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<8x4x4xf32>, tensor<8x4x32xf32>) outs(%{{.*}} : tensor<8x4x32xf32>)
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<8x4x8xf32>, tensor<8x8x32xf32>) outs(%{{.*}} : tensor<8x4x32xf32>)
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<8x4x12xf32>, tensor<8x12x32xf32>) outs(%{{.*}} : tensor<8x4x32xf32>)
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<8x4x16xf32>, tensor<8x16x32xf32>) outs(%{{.*}} : tensor<8x4x32xf32>)
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<8x4x20xf32>, tensor<8x20x32xf32>) outs(%{{.*}} : tensor<8x4x32xf32>)
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<8x4x24xf32>, tensor<8x24x32xf32>) outs(%{{.*}} : tensor<8x4x32xf32>)
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<8x4x28xf32>, tensor<8x28x32xf32>) outs(%{{.*}} : tensor<8x4x32xf32>)
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<8x4x32xf32>, tensor<8x32x32xf32>) outs(%{{.*}} : tensor<8x4x32xf32>)
// CHECK-NOT: linalg.batch_matmul
// CHECK: %[[X21F:.*]] = tensor.extract_slice %[[X2]][0, 32, 0] [8, 32, 32]
// CHECK: linalg.generic {{.*}} outs(%[[X21F]] : tensor<8x32x32xf32>)
// CHECK:   arith.subf
// CHECK: %[[XF:.*]] = tensor.insert_slice %{{.*}} into %[[X2]][0, 32, 0] [8, 32, 32] [1, 1, 1] : tensor<8x32x32xf32> into tensor<8x64x64xf32>
// CHECK: %[[X12F:.*]] = tensor.extract_slice %[[XF]][0, 0, 32] [8, 32, 32]
// CHECK: %[[ZF:.*]] = linalg.generic {{.*}} outs(%[[X12F]] : tensor<8x32x32xf32>)
// CHECK-NEXT: ^bb0(%{{.*}}: f32):
// CHECK-NEXT:   linalg.yield %[[ZERO]] : f32
// CHECK: %[[R:.*]] = tensor.insert_slice %[[ZF]] into %[[XF]][0, 0, 32] [8, 32, 32] [1, 1, 1] : tensor<8x32x32xf32> into tensor<8x64x64xf32>
// CHECK: return %[[R]]
func.func @blocked(%a: tensor<8x64x64xf32>) -> tensor<8x64x64xf32> {
  %x = deltanet.tri_inv %a : tensor<8x64x64xf32>
  return %x : tensor<8x64x64xf32>
}

// A matrix size that is not a power-of-two multiple of the block size: the
// last pair of a level has a smaller second block (48 = 32 + 16), no padding.
// CHECK-LABEL: func.func @blocked_padded
// CHECK-NOT: tensor<2x64x64xf32>
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x16x16xf32>, tensor<2x16x32xf32>) outs(%{{.*}} : tensor<2x16x32xf32>)
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x16x16xf32>, tensor<2x16x32xf32>) outs(%{{.*}} : tensor<2x16x32xf32>)
// CHECK: %[[XF:.*]] = tensor.insert_slice %{{.*}} into %{{.*}}[0, 32, 0] [2, 16, 32] [1, 1, 1] : tensor<2x16x32xf32> into tensor<2x48x48xf32>
// CHECK: %[[X12:.*]] = tensor.extract_slice %[[XF]][0, 0, 32] [2, 32, 16]
// CHECK: %[[Z:.*]] = linalg.generic {{.*}} outs(%[[X12]] : tensor<2x32x16xf32>)
// CHECK: %[[R:.*]] = tensor.insert_slice %[[Z]] into %[[XF]][0, 0, 32] [2, 32, 16] [1, 1, 1] : tensor<2x32x16xf32> into tensor<2x48x48xf32>
// CHECK-NOT: tensor<2x64x64xf32>
// CHECK: return %[[R]]
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
