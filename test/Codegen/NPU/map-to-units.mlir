// RUN: deltanet-opt %s -split-input-file --deltanet-npu-map-to-units=target=datacenter | FileCheck %s
// RUN: deltanet-opt %s -split-input-file --deltanet-npu-map-to-units="target=datacenter double-buffer=false" | FileCheck %s --check-prefix=SINGLE

// An f16 batched matmul on the 16x16x16 cube: operand tiles double-buffered
// in the matrix buffers, brought in by DMA, one tile product per K step, the
// accumulator loaded from C (the matmul accumulates into it) and stored back.

// CHECK-LABEL: func.func @f16_matmul
// CHECK-DAG: %[[LHS:.*]] = npu.alloc_local <matrix_lhs> : memref<2x16x16xf16>
// CHECK-DAG: %[[RHS:.*]] = npu.alloc_local <matrix_rhs> : memref<2x16x16xf16>
// CHECK-DAG: %[[ACC:.*]] = npu.alloc_local <matrix_acc> : memref<2x16x16xf32>
// CHECK: scf.for
// CHECK:   scf.for
// CHECK:     scf.for
// CHECK:       npu.dma %{{.*}}, %{{.*}} : memref<16x16xf32, strided<[32, 1], offset: ?>>, memref<16x16xf32, strided<[16, 1], offset: ?>>
// CHECK:       scf.for
// CHECK:         npu.dma {{.*}} : memref<16x16xf16, strided<[48, 1], offset: ?>>, memref<16x16xf16, strided<[16, 1], offset: ?>>
// CHECK:         npu.dma {{.*}} : memref<16x16xf16, strided<[32, 1], offset: ?>>, memref<16x16xf16, strided<[16, 1], offset: ?>>
// CHECK:         npu.matmul {{.*}} {accumulate}
// CHECK:       npu.dma %{{.*}}, %{{.*}} : memref<16x16xf32, strided<[16, 1], offset: ?>>, memref<16x16xf32, strided<[32, 1], offset: ?>>
// CHECK-NOT: linalg.batch_matmul
// SINGLE-LABEL: func.func @f16_matmul
// SINGLE-DAG: npu.alloc_local <matrix_lhs> : memref<1x16x16xf16>
// SINGLE-DAG: npu.alloc_local <matrix_acc> : memref<1x16x16xf32>
func.func @f16_matmul(%a: memref<4x32x48xf16>, %b: memref<4x48x32xf16>, %c: memref<4x32x32xf32>) {
  linalg.batch_matmul ins(%a, %b : memref<4x32x48xf16>, memref<4x48x32xf16>) outs(%c : memref<4x32x32xf32>)
  return
}

// -----

// Edges: M = 20 is not a multiple of 16, so the last row tile's windows are
// clipped (dynamic sizes) and the DMA zero-pads the operand tile.

// CHECK-LABEL: func.func @ragged
// CHECK: arith.minsi
// CHECK: npu.dma {{.*}} : memref<?x32xi8, strided<[32, 1], offset: ?>>, memref<16x32xi8, strided<[32, 1], offset: ?>>
// CHECK: npu.matmul {{.*}} : memref<16x32xi8, {{.*}}>, memref<32x16xi8, {{.*}}>, memref<16x16xi32, {{.*}}>
func.func @ragged(%a: memref<2x20x32xi8>, %b: memref<2x32x16xi8>, %c: memref<2x20x16xi32>) {
  linalg.batch_matmul ins(%a, %b : memref<2x20x32xi8>, memref<2x32x16xi8>) outs(%c : memref<2x20x16xi32>)
  return
}

// -----

// Elementwise work is vector-unit work: 4 x 8 x ceil(100 / 64) x 2 ops
// (f32 lanes of a 2048-bit vector: 64) = 128 instructions, no chain.

// CHECK-LABEL: func.func @elementwise
// CHECK-DAG: %[[N:.*]] = arith.constant 128 : index
// CHECK-DAG: %[[Z:.*]] = arith.constant 0 : index
// CHECK: npu.vector ins(%{{.*}} : memref<4x8x100xf32>) outs(%{{.*}} : memref<4x8x100xf32>) instrs(%[[N]]) chain(%[[Z]]) {
// CHECK:   linalg.generic
// CHECK-NOT: data_movement
#id = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @elementwise(%x: memref<4x8x100xf32>, %y: memref<4x8x100xf32>) {
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x : memref<4x8x100xf32>) outs(%y : memref<4x8x100xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.mulf %in, %in : f32
    %1 = arith.addf %0, %out : f32
    linalg.yield %1 : f32
  }
  return
}

// -----

// A copy is data movement: the DMA engine does it.

// CHECK-LABEL: func.func @copy
// CHECK: npu.vector ins({{.*}}) outs({{.*}}) instrs({{.*}}) chain({{.*}}) {
// CHECK:   linalg.copy
// CHECK: } {data_movement}
func.func @copy(%x: memref<16x16xf32>, %y: memref<16x16xf32>) {
  memref.copy %x, %y : memref<16x16xf32> to memref<16x16xf32>
  return
}

// -----

// A row times a matrix (forward substitution's rows; dynamic i) runs on the
// vector unit: batch x 1 x i multiply-adds of ceil(i / 64) vectors, in a
// chain of i dependent instructions.

// CHECK-LABEL: func.func @row
// CHECK: %[[K:.*]] = memref.dim %{{.*}}, %c2
// CHECK: arith.divsi %{{.*}}, %c64
// CHECK: npu.vector ins({{.*}}) outs({{.*}}) instrs(%{{.*}}) chain(%[[K]])
// CHECK:   linalg.batch_matmul
func.func @row(%l: memref<16x64x64xf32>, %x: memref<16x64x64xf32>, %i: index) {
  %row = memref.subview %l[0, %i, 0] [16, 1, %i] [1, 1, 1] : memref<16x64x64xf32> to memref<16x1x?xf32, strided<[4096, 64, 1], offset: ?>>
  %top = memref.subview %x[0, 0, 0] [16, %i, %i] [1, 1, 1] : memref<16x64x64xf32> to memref<16x?x?xf32, strided<[4096, 64, 1]>>
  %acc = memref.subview %x[0, %i, 0] [16, 1, %i] [1, 1, 1] : memref<16x64x64xf32> to memref<16x1x?xf32, strided<[4096, 64, 1], offset: ?>>
  linalg.batch_matmul ins(%row, %top : memref<16x1x?xf32, strided<[4096, 64, 1], offset: ?>>, memref<16x?x?xf32, strided<[4096, 64, 1]>>)
                      outs(%acc : memref<16x1x?xf32, strided<[4096, 64, 1], offset: ?>>)
  return
}
