// RUN: deltanet-opt %s --deltanet-lower-tri-inv --canonicalize --cse | FileCheck %s
// RUN: deltanet-opt %s --deltanet-lower-tri-inv="target=gpu" --canonicalize --cse | FileCheck %s --check-prefix=BANDS

// The CPU target evaluates exact Neumann series on diagonal windows of at
// most 32 x 32 (TargetInfo::getTriInvNeumannMaxSeriesSize) and merges them
// pairwise with X21 = -X22 (L21 X11): at C = 128, one loop over the four
// windows holding the block-triangular series of a 32 x 32 matrix (16 x 16
// blocks), then the 32 -> 64 merges (a loop over two pairs) and the
// 64 -> 128 merge, each as four products on lower triangular halves.

// CHECK-LABEL: func.func @neumann_windows_c128
// CHECK: scf.for %{{.*}} = %c0 to %c128 step %c32 iter_args(%{{.*}} = %{{.*}}) -> (tensor<2x128x128xf32>)
// Block products (8-row tiles, see lower-tri-inv-neumann-blocks.mlir)
// inside the window, never deeper than it (K <= 30).
// CHECK:   linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x8x6xf32>, tensor<2x6x16xf32>)
// CHECK-NOT: tensor<2x8x{{3[1-9]|[4-9][0-9]|1[0-9][0-9]}}xf32>
// CHECK:   linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x8x30xf32>, tensor<2x30x16xf32>)
// CHECK-NOT: tensor<2x8x{{3[1-9]|[4-9][0-9]|1[0-9][0-9]}}xf32>
// CHECK:   scf.yield %{{.*}} : tensor<2x128x128xf32>
// The 32 -> 64 merges: T = L21 X11 (K over X11's lower half, then its
// upper left quadrant), U = X22 T in 4-row tiles, rows [r0, r0 + 4) over
// K < r0 + 4 (X22 lower triangular).
// CHECK: scf.for %{{.*}} = %c0 to %c128 step %c64 iter_args(%{{.*}} = %{{.*}}) -> (tensor<2x128x128xf32>)
// CHECK:   linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x32x16xf32>, tensor<2x16x32xf32>)
// CHECK:   linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x32x16xf32>, tensor<2x16x16xf32>)
// CHECK:   linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x4x4xf32>, tensor<2x4x32xf32>)
// CHECK-COUNT-6: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x4x{{8|12|16|20|24|28}}xf32>, tensor<2x{{8|12|16|20|24|28}}x32xf32>)
// CHECK:   linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x4x32xf32>, tensor<2x32x32xf32>)
// CHECK:   scf.yield %{{.*}} : tensor<2x128x128xf32>
// The 64 -> 128 merge: U in sixteen 4-row tiles, K = 4, 8, ..., 64.
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x64x32xf32>, tensor<2x32x64xf32>)
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x64x32xf32>, tensor<2x32x32xf32>)
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x4x4xf32>, tensor<2x4x64xf32>)
// CHECK-COUNT-14: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x4x{{8|12|16|20|24|28|32|36|40|44|48|52|56|60}}xf32>, tensor<2x{{8|12|16|20|24|28|32|36|40|44|48|52|56|60}}x64xf32>)
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x4x64xf32>, tensor<2x64x64xf32>)
// CHECK-NOT: linalg.batch_matmul
// CHECK: return

// Targets without block products (gpu) keep the whole-matrix bands.
// BANDS-LABEL: func.func @neumann_windows_c128
// BANDS-NOT: step %c32
// BANDS: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x126x126xf32>, tensor<2x126x126xf32>)
func.func @neumann_windows_c128(%a: tensor<2x128x128xf32>) -> tensor<2x128x128xf32> {
  %x = deltanet.tri_inv %a {strategy = #deltanet.strategy<neumann>} : tensor<2x128x128xf32>
  return %x : tensor<2x128x128xf32>
}

// A truncated series (order 5 < 7) means the whole matrix's series: no
// windows, block products over all of it (K up to 126 wide).
// CHECK-LABEL: func.func @neumann_truncated_c128
// CHECK-NOT: step %c32
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x8x126xf32>, tensor<2x126x16xf32>)
// CHECK: return
func.func @neumann_truncated_c128(%a: tensor<2x128x128xf32>) -> tensor<2x128x128xf32> {
  %x = deltanet.tri_inv %a {strategy = #deltanet.strategy<neumann>, order = 5} : tensor<2x128x128xf32>
  return %x : tensor<2x128x128xf32>
}

// C = 32 is one window: the whole-matrix block-triangular series, no merge.
// CHECK-LABEL: func.func @neumann_one_window_c32
// CHECK-NOT: step %c32
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x8x30xf32>, tensor<2x30x16xf32>)
// CHECK-NOT: tensor<2x32x16xf32>, tensor<2x16x32xf32>
// CHECK: return
func.func @neumann_one_window_c32(%a: tensor<2x32x32xf32>) -> tensor<2x32x32xf32> {
  %x = deltanet.tri_inv %a {strategy = #deltanet.strategy<neumann>} : tensor<2x32x32xf32>
  return %x : tensor<2x32x32xf32>
}
