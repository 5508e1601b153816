// RUN: deltanet-opt %s --deltanet-gpu-matmuls-to-mma-sync=int8=true | FileCheck %s
// RUN: deltanet-opt %s --deltanet-gpu-matmuls-to-mma-sync=int8=true --deltanet-gpu-map-to-threads=threads=128 --convert-nvgpu-to-nvvm | FileCheck %s --check-prefix=NVVM
// RUN: deltanet-opt %s --deltanet-gpu-matmuls-to-mma-sync | FileCheck %s --check-prefix=OFF

// An i8 x i8 -> i32 product of a block (the INT8 tri_inv's last merge
// level at C = 64: 32 x 32 blocks, K = 32) on the s8 tensor cores:
// mma.sync m16n8k32 (A: 4 registers of 4 x i8 per lane, B: 2 of 4 x i8,
// C: 2 x 2 i32), one K step; no tf32 rounding, and no min-reduction (the
// i32 sums are exact). The zero fill of the i32 accumulator stays a block
// phase (zero-init-accumulators matches float zeros only).
// CHECK-LABEL: func.func @int8_product
// CHECK: scf.forall (%{{.*}}) in (2)
// CHECK: linalg.fill
// CHECK: scf.forall (%{{.*}}) in (4)
// CHECK: scf.for %{{.*}} = %c0 to %c32 step %c32 iter_args(
// CHECK-NOT: arith.constant 4096 : i32
// CHECK: vector.from_elements {{.*}} : vector<4x4xi8>
// CHECK: vector.from_elements {{.*}} : vector<2x4xi8>
// CHECK: nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 32]} : (vector<4x4xi8>, vector<2x4xi8>, vector<2x2xi32>) -> vector<2x2xi32>
// CHECK: } {mapping = [#gpu.warp<linear_dim_0>]}
// CHECK-NOT: linalg.batch_matmul
// NVVM-LABEL: func.func @int8_product
// OFF-LABEL: func.func @int8_product
// OFF-NOT: nvgpu.mma.sync
// OFF: linalg.batch_matmul
// (upstream's lowering saturates on overflow: |sum| <= 127^2 K, far inside i32)
// NVVM: nvvm.mma.sync {{.*}}intOverflowBehavior = #nvvm.mma_int_overflow<satfinite>, layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, multiplicandAPtxType = #nvvm.mma_type<s8>, multiplicandBPtxType = #nvvm.mma_type<s8>, shape = #nvvm.shape<m = 16, n = 8, k = 32>}
func.func @int8_product(%a: memref<2x32x32xi8>, %b: memref<2x32x32xi8>, %c: memref<2x32x32xi32>) {
  %zero = arith.constant 0 : i32
  scf.forall (%i) in (2) {
    %as = memref.subview %a[%i, 0, 0] [1, 32, 32] [1, 1, 1] : memref<2x32x32xi8> to memref<1x32x32xi8, strided<[1024, 32, 1], offset: ?>>
    %bs = memref.subview %b[%i, 0, 0] [1, 32, 32] [1, 1, 1] : memref<2x32x32xi8> to memref<1x32x32xi8, strided<[1024, 32, 1], offset: ?>>
    %cs = memref.subview %c[%i, 0, 0] [1, 32, 32] [1, 1, 1] : memref<2x32x32xi32> to memref<1x32x32xi32, strided<[1024, 32, 1], offset: ?>>
    linalg.fill ins(%zero : i32) outs(%cs : memref<1x32x32xi32, strided<[1024, 32, 1], offset: ?>>)
    linalg.batch_matmul ins(%as, %bs : memref<1x32x32xi8, strided<[1024, 32, 1], offset: ?>>, memref<1x32x32xi8, strided<[1024, 32, 1], offset: ?>>)
                        outs(%cs : memref<1x32x32xi32, strided<[1024, 32, 1], offset: ?>>)
  } {mapping = [#gpu.block<x>]}
  return
}
