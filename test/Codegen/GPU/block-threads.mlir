// A block loop's own thread count (deltanet.block_threads, set by
// deltanet-gpu-distribute-to-blocks kernel-threads) wins over the passes'
// `threads` option: the tensor-core pass gives its product that many / 32
// warps, the thread mapping launches that many threads; a block without the
// attribute keeps the option's count (128). A bad count:
// block-threads-invalid.mlir.
// RUN: deltanet-opt %s --deltanet-gpu-matmuls-to-mma-sync | FileCheck %s
// RUN: deltanet-opt %s --deltanet-gpu-matmuls-to-mma-sync --deltanet-gpu-map-to-threads=threads=128 | FileCheck %s --check-prefix=LAUNCH

// wy_repr's product (64 x 128, K = 64). 256 threads: 8 warps; 128
// threads: 4 warps.
// CHECK-LABEL: func.func @two_blocks
// CHECK: scf.forall (%{{.*}}) in (4)
// CHECK: scf.forall (%{{.*}}) in (8)
// CHECK: nvgpu.mma.sync
// CHECK: } {mapping = [#gpu.warp<linear_dim_0>]}
// CHECK: } {deltanet.block_threads = 256 : i64, mapping = [#gpu.block<x>]}
// CHECK: scf.forall (%{{.*}}) in (4)
// CHECK: scf.forall (%{{.*}}) in (4)
// CHECK: nvgpu.mma.sync
// CHECK: } {mapping = [#gpu.warp<linear_dim_0>]}
// CHECK: } {mapping = [#gpu.block<x>]}
// LAUNCH-LABEL: func.func @two_blocks
// LAUNCH: %[[C256:.*]] = arith.constant 256 : index
// LAUNCH-NEXT: gpu.launch blocks({{.*}}) in ({{.*}}) threads({{.*}}) in (%{{.*}} = %[[C256]], %{{.*}} = %c1{{.*}}, %{{.*}} = %c1{{.*}})
// LAUNCH: nvgpu.mma.sync
// LAUNCH: %[[C128:.*]] = arith.constant 128 : index
// LAUNCH-NEXT: gpu.launch blocks({{.*}}) in ({{.*}}) threads({{.*}}) in (%{{.*}} = %[[C128]], %{{.*}} = %c1{{.*}}, %{{.*}} = %c1{{.*}})
// LAUNCH: nvgpu.mma.sync
func.func @two_blocks(%t: memref<4x64x64xf32>, %x: memref<4x64x128xf32>, %w: memref<4x64x128xf32>, %w2: memref<4x64x128xf32>) {
  scf.forall (%i) in (4) {
    %ts = memref.subview %t[%i, 0, 0] [1, 64, 64] [1, 1, 1] : memref<4x64x64xf32> to memref<1x64x64xf32, strided<[4096, 64, 1], offset: ?>>
    %xs = memref.subview %x[%i, 0, 0] [1, 64, 128] [1, 1, 1] : memref<4x64x128xf32> to memref<1x64x128xf32, strided<[8192, 128, 1], offset: ?>>
    %ws = memref.subview %w[%i, 0, 0] [1, 64, 128] [1, 1, 1] : memref<4x64x128xf32> to memref<1x64x128xf32, strided<[8192, 128, 1], offset: ?>>
    linalg.batch_matmul ins(%ts, %xs : memref<1x64x64xf32, strided<[4096, 64, 1], offset: ?>>, memref<1x64x128xf32, strided<[8192, 128, 1], offset: ?>>)
                        outs(%ws : memref<1x64x128xf32, strided<[8192, 128, 1], offset: ?>>)
  } {mapping = [#gpu.block<x>], deltanet.block_threads = 256 : i64}
  scf.forall (%i) in (4) {
    %ts = memref.subview %t[%i, 0, 0] [1, 64, 64] [1, 1, 1] : memref<4x64x64xf32> to memref<1x64x64xf32, strided<[4096, 64, 1], offset: ?>>
    %xs = memref.subview %x[%i, 0, 0] [1, 64, 128] [1, 1, 1] : memref<4x64x128xf32> to memref<1x64x128xf32, strided<[8192, 128, 1], offset: ?>>
    %ws = memref.subview %w2[%i, 0, 0] [1, 64, 128] [1, 1, 1] : memref<4x64x128xf32> to memref<1x64x128xf32, strided<[8192, 128, 1], offset: ?>>
    linalg.batch_matmul ins(%ts, %xs : memref<1x64x64xf32, strided<[4096, 64, 1], offset: ?>>, memref<1x64x128xf32, strided<[8192, 128, 1], offset: ?>>)
                        outs(%ws : memref<1x64x128xf32, strided<[8192, 128, 1], offset: ?>>)
  } {mapping = [#gpu.block<x>]}
  return
}
