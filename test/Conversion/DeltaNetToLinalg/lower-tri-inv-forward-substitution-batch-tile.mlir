// RUN: deltanet-opt %s --deltanet-lower-tri-inv="strategy=forward-substitution" --canonicalize --cse | FileCheck %s
// RUN: deltanet-opt %s --deltanet-lower-tri-inv="strategy=forward-substitution batch-tile=16" --canonicalize --cse | FileCheck %s --check-prefix=TILE16

// The CPU's default batch tile for forward substitution depends on C: at
// most 8 matrices and 32 KiB of X per tile (8 / 8 / 2 / 1 at C = 16 / 32 /
// 64 / 128), so the rows every row's product reads stay in the 48 KiB L1D
// (TargetInfo.cpp, forwardSubstitutionBatchTile; docs/Performance.md,
// session 19: tiles of 16 streamed X from the L2 once per row). Main
// before session 19: 16 at every C. An explicit batch-tile still wins.

// CHECK: #[[MIN8:.*]] = affine_map<(d0)[s0] -> (-d0 + s0, 8)>
// CHECK-LABEL: func.func @c16
// CHECK: scf.for {{.*}} step %c8
// CHECK:   tensor.extract_slice %{{.*}} [8, 16, 16] [1, 1, 1] : tensor<64x16x16xf32> to tensor<8x16x16xf32>
// CHECK-LABEL: func.func @c32
// CHECK: scf.for {{.*}} step %c8
// CHECK:   tensor.extract_slice %{{.*}} [8, 32, 32] [1, 1, 1] : tensor<64x32x32xf32> to tensor<8x32x32xf32>
// CHECK-LABEL: func.func @c64
// CHECK: scf.for {{.*}} step %c2
// CHECK:   tensor.extract_slice %{{.*}} [2, 64, 64] [1, 1, 1] : tensor<64x64x64xf32> to tensor<2x64x64xf32>
// CHECK-LABEL: func.func @c128
// CHECK: scf.for {{.*}} step %c1
// CHECK:   tensor.extract_slice %{{.*}} [1, 128, 128] [1, 1, 1] : tensor<64x128x128xf32> to tensor<1x128x128xf32>
// A dynamic batch: tiles of min(8, N - i) at C = 32.
// CHECK-LABEL: func.func @dynamic_batch
// CHECK: scf.for %[[B:.*]] = %{{.*}} to %[[N:.*]] step %c8
// CHECK:   affine.min #[[MIN8]](%[[B]])[%[[N]]]
// TILE16-LABEL: func.func @c16
// TILE16: tensor.extract_slice %{{.*}} [16, 16, 16] [1, 1, 1]
// TILE16-LABEL: func.func @c32
// TILE16: tensor.extract_slice %{{.*}} [16, 32, 32] [1, 1, 1]
// TILE16-LABEL: func.func @c64
// TILE16: tensor.extract_slice %{{.*}} [16, 64, 64] [1, 1, 1]
// TILE16-LABEL: func.func @c128
// TILE16: tensor.extract_slice %{{.*}} [16, 128, 128] [1, 1, 1]
func.func @c16(%a: tensor<64x16x16xf32>) -> tensor<64x16x16xf32> {
  %x = deltanet.tri_inv %a : tensor<64x16x16xf32>
  return %x : tensor<64x16x16xf32>
}
func.func @c32(%a: tensor<64x32x32xf32>) -> tensor<64x32x32xf32> {
  %x = deltanet.tri_inv %a : tensor<64x32x32xf32>
  return %x : tensor<64x32x32xf32>
}
func.func @c64(%a: tensor<64x64x64xf32>) -> tensor<64x64x64xf32> {
  %x = deltanet.tri_inv %a : tensor<64x64x64xf32>
  return %x : tensor<64x64x64xf32>
}
func.func @c128(%a: tensor<64x128x128xf32>) -> tensor<64x128x128xf32> {
  %x = deltanet.tri_inv %a : tensor<64x128x128xf32>
  return %x : tensor<64x128x128xf32>
}
func.func @dynamic_batch(%a: tensor<?x32x32xf32>) -> tensor<?x32x32xf32> {
  %x = deltanet.tri_inv %a : tensor<?x32x32xf32>
  return %x : tensor<?x32x32xf32>
}
