// RUN: deltanet-opt %s --deltanet-lower-tri-inv --canonicalize --cse | FileCheck %s
// RUN: deltanet-opt %s --deltanet-lower-tri-inv="batch-tile=0" --canonicalize --cse | FileCheck %s --check-prefix=NOTILE

// Matrices are independent: the batch is processed in tiles of 16 matrices
// (default), each tile inverted whole, so intermediates stay in cache.

// CHECK-LABEL: func.func @static_divisible
// CHECK-DAG: %[[C16:.*]] = arith.constant 16 : index
// CHECK-DAG: %[[C64:.*]] = arith.constant 64 : index
// CHECK: scf.for %[[I:.*]] = %{{.*}} to %[[C64]] step %[[C16]] iter_args(%[[OUT:.*]] = %{{.*}}) -> (tensor<64x32x32xf32>)
// CHECK:   %[[TILE:.*]] = tensor.extract_slice %{{.*}}[%[[I]], 0, 0] [16, 32, 32] [1, 1, 1] : tensor<64x32x32xf32> to tensor<16x32x32xf32>
// CHECK:   linalg.batch_matmul {{.*}} tensor<16x
// CHECK:   tensor.insert_slice %{{.*}} into %[[OUT]][%[[I]], 0, 0] [16, 32, 32] [1, 1, 1] : tensor<16x32x32xf32> into tensor<64x32x32xf32>
// NOTILE-LABEL: func.func @static_divisible
// NOTILE-NOT: scf.for
// NOTILE: linalg.batch_matmul {{.*}} tensor<64x
func.func @static_divisible(%a: tensor<64x32x32xf32>) -> tensor<64x32x32xf32> {
  %x = deltanet.tri_inv %a : tensor<64x32x32xf32>
  return %x : tensor<64x32x32xf32>
}

// A remainder tile: min(16, N - i) matrices.
// CHECK-LABEL: func.func @dynamic_batch
// CHECK: scf.for %[[I:[a-z0-9]+]] =
// CHECK:   %[[REST:.*]] = arith.subi %{{.*}}, %[[I]] : index
// CHECK:   %[[SIZE:.*]] = arith.minsi %[[REST]], %{{.*}} : index
// CHECK:   tensor.extract_slice %{{.*}}[%[[I]], 0, 0] [%[[SIZE]], 32, 32] [1, 1, 1] : tensor<?x32x32xbf16> to tensor<?x32x32xbf16>
func.func @dynamic_batch(%a: tensor<?x32x32xbf16>) -> tensor<?x32x32xbf16> {
  %x = deltanet.tri_inv %a : tensor<?x32x32xbf16>
  return %x : tensor<?x32x32xbf16>
}

// A batch that fits one tile is not tiled.
// CHECK-LABEL: func.func @small_batch
// CHECK-NOT: scf.for
// CHECK: return
func.func @small_batch(%a: tensor<8x32x32xf32>) -> tensor<8x32x32xf32> {
  %x = deltanet.tri_inv %a : tensor<8x32x32xf32>
  return %x : tensor<8x32x32xf32>
}
