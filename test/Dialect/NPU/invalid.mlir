// RUN: deltanet-opt %s -split-input-file -verify-diagnostics

func.func @dma_rank(%a: memref<4x4x4xf16>, %b: memref<16x16xf16>) {
  // expected-error @below {{copies 2-D windows, got ranks 3 and 2}}
  npu.dma %a, %b : memref<4x4x4xf16>, memref<16x16xf16>
  return
}

// -----

func.func @dma_types(%a: memref<16x16xf32>, %b: memref<16x16xf16>) {
  // expected-error @below {{source and target element types differ}}
  npu.dma %a, %b : memref<16x16xf32>, memref<16x16xf16>
  return
}

// -----

func.func @matmul_f32(%a: memref<16x16xf32>, %b: memref<16x16xf32>, %c: memref<16x16xf32>) {
  // expected-error @below {{the matrix unit multiplies f16 x f16 -> f32 or i8 x i8 -> i32}}
  npu.matmul %a, %b, %c : memref<16x16xf32>, memref<16x16xf32>, memref<16x16xf32>
  return
}

// -----

func.func @matmul_shapes(%a: memref<16x8xf16>, %b: memref<16x16xf16>, %c: memref<16x16xf32>) {
  // expected-error @below {{tile shapes do not compose}}
  npu.matmul %a, %b, %c : memref<16x8xf16>, memref<16x16xf16>, memref<16x16xf32>
  return
}

// -----

func.func @matmul_dynamic(%a: memref<?x16xf16>, %b: memref<16x16xf16>, %c: memref<16x16xf32>) {
  // expected-error @below {{tiles are statically shaped 2-D buffers}}
  npu.matmul %a, %b, %c : memref<?x16xf16>, memref<16x16xf16>, memref<16x16xf32>
  return
}

// -----

func.func @local_layout() {
  // expected-error @below {{local buffers have the identity layout}}
  %0 = npu.alloc_local <vector> : memref<16x16xf32, strided<[32, 1]>>
  return
}

// -----

// expected-error @below {{a matrix-unit tile is [M, N, K], got 2 values}}
module attributes {npu.target = #npu.target<name = "bad", clock_mhz = 500,
    mm_tile_f16 = [16, 16], mm_cycles_f16 = 4, mm_tile_i8 = [0, 0, 0],
    mm_cycles_i8 = 1, mm_latency = 8, vector_bits = 512, vector_issue = 1,
    vector_latency = 3, mm_lhs_bytes = 4096, mm_rhs_bytes = 4096,
    mm_acc_bytes = 8192, local_bytes = 65536, dma_global_bytes_per_cycle = 16,
    dma_local_bytes_per_cycle = 64, dma_latency = 200>} {
}

// -----

// expected-error @below {{vector_bits must be a positive multiple of 32, got 100}}
module attributes {npu.target = #npu.target<name = "bad", clock_mhz = 500,
    mm_tile_f16 = [16, 16, 16], mm_cycles_f16 = 4, mm_tile_i8 = [0, 0, 0],
    mm_cycles_i8 = 1, mm_latency = 8, vector_bits = 100, vector_issue = 1,
    vector_latency = 3, mm_lhs_bytes = 4096, mm_rhs_bytes = 4096,
    mm_acc_bytes = 8192, local_bytes = 65536, dma_global_bytes_per_cycle = 16,
    dma_local_bytes_per_cycle = 64, dma_latency = 200>} {
}
