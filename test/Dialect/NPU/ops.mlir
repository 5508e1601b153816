// RUN: deltanet-opt %s | deltanet-opt | FileCheck %s

// The npu ops and the target attribute print and parse back.

// CHECK: module attributes {npu.target = #npu.target<name = "tiny", clock_mhz = 500, mm_tile_f16 = [16, 16, 16], mm_cycles_f16 = 4, mm_tile_i8 = [0, 0, 0], mm_cycles_i8 = 1
module attributes {npu.target = #npu.target<name = "tiny", clock_mhz = 500,
    mm_tile_f16 = [16, 16, 16], mm_cycles_f16 = 4, mm_tile_i8 = [0, 0, 0],
    mm_cycles_i8 = 1, mm_latency = 8, vector_bits = 512, vector_issue = 1,
    vector_latency = 3, mm_lhs_bytes = 4096, mm_rhs_bytes = 4096,
    mm_acc_bytes = 8192, local_bytes = 65536, dma_global_bytes_per_cycle = 16,
    dma_local_bytes_per_cycle = 64, dma_latency = 200>} {
  // CHECK-LABEL: func.func @tile
  func.func @tile(%a: memref<64x64xf16>, %c: memref<64x64xf32>, %n: index) {
    // CHECK: npu.alloc_local <matrix_lhs> : memref<2x16x16xf16>
    %lhs = npu.alloc_local <matrix_lhs> : memref<2x16x16xf16>
    %rhs = npu.alloc_local <matrix_rhs> : memref<16x16xf16>
    %acc = npu.alloc_local <matrix_acc> : memref<16x16xf32>
    %l0 = memref.subview %lhs[0, 0, 0] [1, 16, 16] [1, 1, 1] : memref<2x16x16xf16> to memref<16x16xf16, strided<[16, 1]>>
    %w = memref.subview %a[0, 0] [%n, 16] [1, 1] : memref<64x64xf16> to memref<?x16xf16, strided<[64, 1]>>
    // CHECK: npu.dma %{{.*}}, %{{.*}} : memref<?x16xf16, strided<[64, 1]>>, memref<16x16xf16, strided<[16, 1]>>
    npu.dma %w, %l0 : memref<?x16xf16, strided<[64, 1]>>, memref<16x16xf16, strided<[16, 1]>>
    npu.dma %w, %rhs : memref<?x16xf16, strided<[64, 1]>>, memref<16x16xf16>
    // CHECK: npu.matmul %{{.*}}, %{{.*}}, %{{.*}} {accumulate}
    npu.matmul %l0, %rhs, %acc {accumulate} : memref<16x16xf16, strided<[16, 1]>>, memref<16x16xf16>, memref<16x16xf32>
    %cw = memref.subview %c[0, 0] [16, 16] [1, 1] : memref<64x64xf32> to memref<16x16xf32, strided<[64, 1]>>
    npu.dma %acc, %cw : memref<16x16xf32>, memref<16x16xf32, strided<[64, 1]>>
    %c32 = arith.constant 32 : index
    %c0 = arith.constant 0 : index
    // CHECK: npu.vector ins(%{{.*}} : memref<64x64xf32>) outs(%{{.*}} : memref<64x64xf32>) instrs(%{{.*}}) chain(%{{.*}}) {
    // CHECK: } {data_movement}
    npu.vector ins(%c : memref<64x64xf32>) outs(%c : memref<64x64xf32>) instrs(%c32) chain(%c0) {
      npu.yield
    } {data_movement}
    return
  }
}
