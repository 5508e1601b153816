// RUN: deltanet-opt %s --deltanet-lower-tri-inv="batch-tile=16" --canonicalize --cse | FileCheck %s
// RUN: deltanet-opt %s --deltanet-lower-tri-inv --canonicalize --cse | FileCheck %s --check-prefix=DEFAULT
// RUN: deltanet-opt %s --deltanet-lower-tri-inv="batch-tile=0" --canonicalize --cse | FileCheck %s --check-prefix=NOTILE
// RUN: deltanet-opt %s --deltanet-lower-tri-inv="precision=i8" --canonicalize --cse | FileCheck %s --check-prefix=DEFAULTI8

// Matrices are independent: the batch is processed in tiles (here of 16
// matrices; the CPU target's preferred tile for the f32 blocked strategy is
// 1, DEFAULT, for INT8 4, DEFAULTI8), each tile
// inverted whole, so intermediates stay in cache. Tiling is upstream scf::tileUsingSCF through
// deltanet.tri_inv's TilingInterface.
// RUN: deltanet-opt %s --deltanet-lower-tri-inv="batch-tile=8" --canonicalize --cse | FileCheck %s --check-prefix=TILE8
// RUN: %exit_code 1 deltanet-opt %s --deltanet-lower-tri-inv="target=nope" 2>&1 | FileCheck %s --check-prefix=NOTARGET
// NOTARGET: error: invalid option target=nope: no such target (registered: cpu, gpu, npu)
// CHECK: #{{.*}} = affine_map<(d0)[s0] -> (-d0 + s0, 16)>

// CHECK-LABEL: func.func @static_divisible
// CHECK-DAG: %[[C16:.*]] = arith.constant 16 : index
// CHECK-DAG: %[[C64:.*]] = arith.constant 64 : index
// CHECK: scf.for %[[I:.*]] = %{{.*}} to %[[C64]] step %[[C16]] iter_args(%[[OUT:.*]] = %{{.*}}) -> (tensor<64x32x32xf32>)
// CHECK:   %[[TILE:.*]] = tensor.extract_slice %{{.*}}[%[[I]], 0, 0] [16, 32, 32] [1, 1, 1] : tensor<64x32x32xf32> to tensor<16x32x32xf32>
// CHECK:   linalg.batch_matmul {{.*}} tensor<16x
// CHECK:   tensor.insert_slice %{{.*}} into %[[OUT]][%[[I]], 0, 0] [16, 32, 32] [1, 1, 1] : tensor<16x32x32xf32> into tensor<64x32x32xf32>
// NOTILE-LABEL: func.func @static_divisible
// NOTILE-NOT: [16, 32, 32]
// NOTILE: linalg.batch_matmul {{.*}} tensor<64x
// DEFAULT-LABEL: func.func @static_divisible
// DEFAULT: scf.for {{.*}} step %c1
// DEFAULT:   tensor.extract_slice %{{.*}} [1, 32, 32] [1, 1, 1] : tensor<64x32x32xf32> to tensor<1x32x32xf32>
// DEFAULTI8-LABEL: func.func @static_divisible
// DEFAULTI8: scf.for {{.*}} step %c4
// DEFAULTI8:   tensor.extract_slice %{{.*}} [4, 32, 32] [1, 1, 1] : tensor<64x32x32xf32> to tensor<4x32x32xf32>
func.func @static_divisible(%a: tensor<64x32x32xf32>) -> tensor<64x32x32xf32> {
  %x = deltanet.tri_inv %a : tensor<64x32x32xf32>
  return %x : tensor<64x32x32xf32>
}

// TILE8-LABEL: func.func @static_divisible
// TILE8: scf.for {{.*}} step %c8
// TILE8:   tensor.extract_slice %{{.*}} [8, 32, 32] [1, 1, 1] : tensor<64x32x32xf32> to tensor<8x32x32xf32>

// A static batch that 16 does not divide: tiles of its largest divisor
// <= 16, all static (a smaller last tile would be dynamic: scalar code on the
// CPU, no local allocation on the NPU); a prime batch gets tiles of 1.
// CHECK-LABEL: func.func @static_not_divisible
// CHECK-NOT: affine.min
// CHECK: scf.for {{.*}} step %c10
// CHECK:   tensor.extract_slice %{{.*}} [10, 32, 32] [1, 1, 1] : tensor<20x32x32xf32> to tensor<10x32x32xf32>
// CHECK-NOT: affine.min
// CHECK-LABEL: func.func @static_prime
// CHECK: scf.for {{.*}} step %c1
// CHECK:   tensor.extract_slice %{{.*}} [1, 32, 32] [1, 1, 1] : tensor<17x32x32xf32> to tensor<1x32x32xf32>
func.func @static_not_divisible(%a: tensor<20x32x32xf32>) -> tensor<20x32x32xf32> {
  %x = deltanet.tri_inv %a : tensor<20x32x32xf32>
  return %x : tensor<20x32x32xf32>
}
func.func @static_prime(%a: tensor<17x32x32xf32>) -> tensor<17x32x32xf32> {
  %x = deltanet.tri_inv %a : tensor<17x32x32xf32>
  return %x : tensor<17x32x32xf32>
}

// A remainder tile: min(16, N - i) matrices.
// CHECK-LABEL: func.func @dynamic_batch
// CHECK: %[[N:.*]] = tensor.dim %{{.*}}, %{{.*}} : tensor<?x32x32xbf16>
// CHECK: scf.for %[[I:[a-z0-9]+]] = %{{.*}} to %[[N]] step %{{.*}}
// CHECK:   %[[SIZE:.*]] = affine.min #{{.*}}(%[[I]])[%[[N]]]
// CHECK:   tensor.extract_slice %{{.*}}[%[[I]], 0, 0] [%[[SIZE]], 32, 32] [1, 1, 1] : tensor<?x32x32xbf16> to tensor<?x32x32xbf16>
func.func @dynamic_batch(%a: tensor<?x32x32xbf16>) -> tensor<?x32x32xbf16> {
  %x = deltanet.tri_inv %a : tensor<?x32x32xbf16>
  return %x : tensor<?x32x32xbf16>
}

// A batch that fits one tile is not tiled.
// CHECK-LABEL: func.func @small_batch
// CHECK-NOT: [16, 32, 32]
// CHECK: return
func.func @small_batch(%a: tensor<8x32x32xf32>) -> tensor<8x32x32xf32> {
  %x = deltanet.tri_inv %a : tensor<8x32x32xf32>
  return %x : tensor<8x32x32xf32>
}

// Several batch dims are collapsed into one and tiled together.
// CHECK-LABEL: func.func @batch_dims
// CHECK: tensor.collapse_shape %{{.*}} {{\[}}[0, 1], [2], [3]] : tensor<4x8x16x16xf32> into tensor<32x16x16xf32>
// CHECK: scf.for {{.*}} -> (tensor<32x16x16xf32>)
// CHECK: tensor.expand_shape %{{.*}} {{\[}}[0, 1], [2], [3]] output_shape [4, 8, 16, 16] : tensor<32x16x16xf32> into tensor<4x8x16x16xf32>
func.func @batch_dims(%a: tensor<4x8x16x16xf32>) -> tensor<4x8x16x16xf32> {
  %x = deltanet.tri_inv %a : tensor<4x8x16x16xf32>
  return %x : tensor<4x8x16x16xf32>
}
