// RUN: deltanet-opt %s --deltanet-lower-tri-inv --canonicalize --cse | FileCheck %s
// RUN: deltanet-opt %s --deltanet-lower-tri-inv="target=gpu" --canonicalize --cse | FileCheck %s --check-prefix=BANDS
// RUN: deltanet-opt %s --deltanet-lower-tri-inv="tolerance=1e-4" --canonicalize --cse 2>/dev/null | FileCheck %s --check-prefix=BANDS

// The CPU target's Neumann products are block-triangular
// (TargetInfo::getTriInvNeumannBlockSize = 16): L^p is zero on the 16 x 16
// blocks (I, J) with (I - J) 16 + 15 < p, which no product computes or
// reads. C = 32 (blocks 0 and 1), exact order 5: L^2, L^4, L^8 have every
// block I >= J; L^16 only block (1, 0), read by X L^16 through X(1, 1) alone.

// CHECK-LABEL: func.func @neumann_blocks_c32
// CHECK-SAME: (%[[A:.*]]: tensor<2x32x32xf32>)
// X = I - L and L, each one pass over the matrix.
// CHECK: %[[X0:.*]] = linalg.generic {{.*}} ins(%[[A]] : tensor<2x32x32xf32>)
// CHECK: %[[L:.*]] = linalg.generic {{.*}} ins(%[[A]] : tensor<2x32x32xf32>)
// L^2: the diagonal blocks in a loop (L(J, J)^2), then block (1, 0) =
// L(1, 0:2) L(0:2, 0) (K over both blocks).
// CHECK: %[[D2:.*]] = scf.for
// CHECK:   %[[LJJ:.*]] = tensor.extract_slice %[[L]][0, %{{.*}}, %{{.*}}] [2, 16, 16]
// CHECK:   linalg.batch_matmul ins(%[[LJJ]], %[[LJJ]] : tensor<2x16x16xf32>, tensor<2x16x16xf32>)
// CHECK: %[[L10:.*]] = tensor.extract_slice %[[L]][0, 16, 0] [2, 16, 32]
// CHECK: %[[L00:.*]] = tensor.extract_slice %[[L]][0, 0, 0] [2, 32, 16]
// CHECK: %[[B10:.*]] = linalg.batch_matmul ins(%[[L10]], %[[L00]] : tensor<2x16x32xf32>, tensor<2x32x16xf32>)
// CHECK: %[[P2:.*]] = tensor.insert_slice %[[B10]] into %[[D2]][0, 16, 0] [2, 16, 16]
// X += X L^2: block (1, 0) first (it reads X(1, 0) and X(1, 1) before the
// diagonal blocks change), through a temporary added in place.
// CHECK: %[[X10:.*]] = tensor.extract_slice %[[X0]][0, 16, 0] [2, 16, 32]
// CHECK: %[[P00:.*]] = tensor.extract_slice %[[P2]][0, 0, 0] [2, 32, 16]
// CHECK: %[[T:.*]] = linalg.batch_matmul ins(%[[X10]], %[[P00]] : tensor<2x16x32xf32>, tensor<2x32x16xf32>)
// CHECK: %[[SUM:.*]] = linalg.generic {{.*}} ins(%[[T]] : tensor<2x16x16xf32>)
// CHECK: tensor.insert_slice %[[SUM]] into %[[X0]][0, 16, 0] [2, 16, 16]
// CHECK: scf.for
// CHECK:   linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x16x16xf32>, tensor<2x16x16xf32>)
// L^4 and L^8 alike: three products of 16 x 16 x 16 (one in a loop) and
// two of 16 x 32 x 16 each.
// CHECK-COUNT-8: linalg.batch_matmul
// L^16: block (1, 0) only, no diagonal block (no loop); X L^16 is
// X(1, 1) L^16(1, 0): K over one block.
// CHECK-NOT: scf.for
// CHECK: %[[P16:.*]] = linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x16x32xf32>, tensor<2x32x16xf32>)
// CHECK: %[[X11:.*]] = tensor.extract_slice %[[X:.*]][0, 16, 16] [2, 16, 16]
// CHECK: linalg.batch_matmul ins(%[[X11]], %[[P16]] : tensor<2x16x16xf32>, tensor<2x16x16xf32>)
// CHECK: tensor.extract_slice %[[X]][0, 16, 0] [2, 16, 16]
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
