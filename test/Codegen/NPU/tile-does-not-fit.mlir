// RUN: %exit_code 1 deltanet-opt %s --deltanet-npu-map-to-units -verify-diagnostics

// A target whose matrix operand buffer (256 bytes) cannot hold one 16x16
// fp16 tile (512 bytes): a diagnostic at the matmul, exit code 1.
module attributes {npu.target = #npu.target<name = "tiny", clock_mhz = 500,
    mm_tile_f16 = [16, 16, 16], mm_cycles_f16 = 4, mm_tile_i8 = [0, 0, 0],
    mm_cycles_i8 = 1, mm_latency = 8, vector_bits = 512, vector_issue = 1,
    vector_latency = 3, mm_lhs_bytes = 256, mm_rhs_bytes = 4096,
    mm_acc_bytes = 8192, local_bytes = 65536, dma_global_bytes_per_cycle = 16,
    dma_local_bytes_per_cycle = 64, dma_latency = 200>} {
  func.func @f(%a: memref<1x32x32xf16>, %b: memref<1x32x32xf16>, %c: memref<1x32x32xf32>) {
    // expected-error @below {{npu: a 16x16xf16 tile (512 bytes) does not fit the matrix_lhs buffer of target 'tiny' (256 bytes)}}
    linalg.batch_matmul ins(%a, %b : memref<1x32x32xf16>, memref<1x32x32xf16>) outs(%c : memref<1x32x32xf32>)
    return
  }
}
