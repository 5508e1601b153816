// RUN: deltanet-opt %s --deltanet-lower-tri-inv --canonicalize --cse | FileCheck %s
// RUN: deltanet-opt %s --deltanet-lower-tri-inv="target=gpu" --canonicalize --cse | FileCheck %s --check-prefix=BANDS
// RUN: deltanet-opt %s --deltanet-lower-tri-inv="tolerance=1e-4" --canonicalize --cse 2>/dev/null | FileCheck %s --check-prefix=BANDS

// The CPU target's Neumann products are block-triangular
// (TargetInfo::getTriInvNeumannBlockSize = 16): L^p is zero on the 16 x 16
// blocks (I, J) with (I - J) 16 + 15 < p, which no product computes or
// reads. Each block is computed in 8-row tiles, each with its own K range:
// rows [r0, r0 + 8) of a block in columns [j0, j0 + 16) of F G need only K
// in [j0 + lag(G), r0 + 7 - lag(F)] (L^p: lag p, X: lag 0). C = 32 (blocks
// 0 and 1), exact order 5: L^2, L^4, L^8 have every block I >= J; L^16
// only block (1, 0), read by X L^16 through X(1, 1) alone.

// CHECK-LABEL: func.func @neumann_blocks_c32
// CHECK-SAME: (%[[A:.*]]: tensor<2x32x32xf32>)
// X = I - L and L, each one pass over the matrix.
// CHECK: %[[X0:.*]] = linalg.generic {{.*}} ins(%[[A]] : tensor<2x32x32xf32>)
// CHECK: %[[L:.*]] = linalg.generic {{.*}} ins(%[[A]] : tensor<2x32x32xf32>)
// L^2 = L L: the diagonal blocks in a loop, the upper tile K in [j0 + 1,
// j0 + 6] (6), the lower one 14; then block (1, 0): K from 1 to 22 / 30.
// CHECK: %[[D2:.*]] = scf.for %[[J:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args
// CHECK:   %[[J1:.*]] = arith.addi %[[J]], %{{.*}} : index
// CHECK:   %[[LU:.*]] = tensor.extract_slice %[[L]][0, %[[J]], %[[J1]]] [2, 8, 6]
// CHECK:   %[[LK:.*]] = tensor.extract_slice %[[L]][0, %[[J1]], %[[J]]] [2, 6, 16]
// CHECK:   linalg.batch_matmul ins(%[[LU]], %[[LK]] : tensor<2x8x6xf32>, tensor<2x6x16xf32>)
// CHECK:   linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x8x14xf32>, tensor<2x14x16xf32>)
// CHECK: %[[L10:.*]] = tensor.extract_slice %[[L]][0, 16, 1] [2, 8, 22]
// CHECK: %[[L00:.*]] = tensor.extract_slice %[[L]][0, 1, 0] [2, 22, 16]
// CHECK: linalg.batch_matmul ins(%[[L10]], %[[L00]] : tensor<2x8x22xf32>, tensor<2x22x16xf32>)
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x8x30xf32>, tensor<2x30x16xf32>)
// X += X L^2: block (1, 0) first (it reads X(1, 0) and X(1, 1) before the
// diagonal blocks change), through a temporary added in place; K from 2.
// CHECK: %[[X10:.*]] = tensor.extract_slice %[[X0]][0, 16, 2] [2, 8, 22]
// CHECK: %[[T:.*]] = linalg.batch_matmul ins(%[[X10]], %{{.*}} : tensor<2x8x22xf32>, tensor<2x22x16xf32>)
// CHECK: %[[SUM:.*]] = linalg.generic {{.*}} ins(%[[T]] : tensor<2x8x16xf32>)
// CHECK: tensor.insert_slice %[[SUM]] into %[[X0]][0, 16, 0] [2, 8, 16]
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x8x30xf32>, tensor<2x30x16xf32>)
// CHECK: scf.for
// CHECK:   linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x8x6xf32>, tensor<2x6x16xf32>)
// CHECK:   linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x8x14xf32>, tensor<2x14x16xf32>)
// L^4 alike (K 4 / 12 / 20 / 28 in L^4, 4 / 12 / 20 / 28 - 2 ... in X L^4).
// CHECK: scf.for
// CHECK:   linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x8x4xf32>, tensor<2x4x16xf32>)
// CHECK:   linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x8x12xf32>, tensor<2x12x16xf32>)
// CHECK-COUNT-4: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x8x{{20|28}}xf32>
// CHECK: scf.for
// CHECK-COUNT-2: linalg.batch_matmul
// L^8: the upper tile of a diagonal block is zero (no product, a zero
// fill), the lower one K over 8 columns.
// CHECK: %[[Z:.*]] = scf.for
// CHECK-NOT: linalg.batch_matmul
// CHECK:   tensor.insert_slice %{{.*}} into %{{.*}}[0, %{{.*}}, %{{.*}}] [2, 8, 16]
// CHECK:   linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x8x8xf32>, tensor<2x8x16xf32>)
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x8x16xf32>, tensor<2x16x16xf32>)
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x8x24xf32>, tensor<2x24x16xf32>)
// L^16: block (1, 0) only, no diagonal block (no loop), K 8 / 16; X L^16 is
// X(1, 1) L^16(1, 0): K 8 / 16 (the upper tile of X(1, 1) times rows
// [16, 24) of L^16).
// CHECK: scf.for
// CHECK-NOT: scf.for
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x8x8xf32>, tensor<2x8x16xf32>)
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x8x16xf32>, tensor<2x16x16xf32>)
// CHECK: %[[X11:.*]] = tensor.extract_slice %{{.*}}[0, 16, 16] [2, 8, 8]
// CHECK: linalg.batch_matmul ins(%[[X11]], %{{.*}} : tensor<2x8x8xf32>, tensor<2x8x16xf32>)
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x8x16xf32>, tensor<2x16x16xf32>)
// CHECK-NOT: linalg.batch_matmul
// CHECK: return

// Targets without block products (gpu) keep the whole-matrix bands, and so
// do the tolerance rule table's choices (measured with the bands' rounding).
// BANDS-LABEL: func.func @neumann_blocks_c32
// BANDS: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x30x30xf32>, tensor<2x30x30xf32>)
// BANDS-NOT: scf.for
func.func @neumann_blocks_c32(%a: tensor<2x32x32xf32>) -> tensor<2x32x32xf32> {
  %x = deltanet.tri_inv %a {strategy = #deltanet.strategy<neumann>} : tensor<2x32x32xf32>
  return %x : tensor<2x32x32xf32>
}
