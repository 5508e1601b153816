// RUN: deltanet-opt %s --deltanet-lower-tri-inv --canonicalize --cse | FileCheck %s
// RUN: deltanet-opt %s --deltanet-lower-tri-inv="target=gpu" --canonicalize --cse | FileCheck %s --check-prefix=BANDS

// The CPU target evaluates exact Neumann series on diagonal windows of at
// most 64 x 64 (TargetInfo::getTriInvNeumannMaxSeriesSize) and merges
// them with X21 = -X22 (L21 X11): at C = 128, one loop over the two
// windows holding the block-triangular series of a 64 x 64 matrix, then
// the 64 -> 128 merge's four products on lower triangular halves.

// CHECK-LABEL: func.func @neumann_windows_c128
// CHECK: %[[X:.*]] = scf.for %{{.*}} = %c0 to %c128 step %c64 iter_args(%{{.*}} = %{{.*}}) -> (tensor<2x128x128xf32>)
// Block products of 16 x 16 blocks inside the window, never wider than it.
// CHECK:   linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x16x16xf32>, tensor<2x16x16xf32>)
// CHECK-NOT: tensor<2x16x128xf32>
// CHECK:   linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x16x64xf32>, tensor<2x64x16xf32>)
// CHECK-NOT: tensor<2x16x128xf32>
// CHECK:   scf.yield %{{.*}} : tensor<2x128x128xf32>
// The merge: T = L21 X11 (K over X11's lower half, then its upper left
// quadrant), U = X22 T (top half of X22 on T's left columns, bottom on all).
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x64x32xf32>, tensor<2x32x64xf32>)
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x64x32xf32>, tensor<2x32x32xf32>)
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x32x32xf32>, tensor<2x32x64xf32>)
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x32x64xf32>, tensor<2x64x64xf32>)
// CHECK-NOT: linalg.batch_matmul
// CHECK: return

// Targets without block products (gpu) keep the whole-matrix bands.
// BANDS-LABEL: func.func @neumann_windows_c128
// BANDS-NOT: step %c64
// BANDS: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x126x126xf32>, tensor<2x126x126xf32>)
func.func @neumann_windows_c128(%a: tensor<2x128x128xf32>) -> tensor<2x128x128xf32> {
  %x = deltanet.tri_inv %a {strategy = #deltanet.strategy<neumann>} : tensor<2x128x128xf32>
  return %x : tensor<2x128x128xf32>
}

// A truncated series (order 5 < 7) means the whole matrix's series: no
// windows, block products over all of it.
// CHECK-LABEL: func.func @neumann_truncated_c128
// CHECK-NOT: step %c64
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x16x32xf32>, tensor<2x32x16xf32>)
// CHECK: return
func.func @neumann_truncated_c128(%a: tensor<2x128x128xf32>) -> tensor<2x128x128xf32> {
  %x = deltanet.tri_inv %a {strategy = #deltanet.strategy<neumann>, order = 5} : tensor<2x128x128xf32>
  return %x : tensor<2x128x128xf32>
}

// C = 64 is one window: the whole-matrix block-triangular series.
// CHECK-LABEL: func.func @neumann_one_window_c64
// CHECK-NOT: step %c64
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x16x64xf32>, tensor<2x64x16xf32>)
// CHECK-NOT: tensor<2x64x32xf32>
// CHECK: return
func.func @neumann_one_window_c64(%a: tensor<2x64x64xf32>) -> tensor<2x64x64xf32> {
  %x = deltanet.tri_inv %a {strategy = #deltanet.strategy<neumann>} : tensor<2x64x64xf32>
  return %x : tensor<2x64x64xf32>
}
