// --deltanet-gpu-pipeline output-mma-chain (default on): the 16-bit output
// stage becomes
// its own kernel (deltanet-gpu-lower-chunk-output-to-mma-chain,
// test/Codegen/GPU/lower-chunk-output-to-mma-chain.mlir), q k^T chained into
// (.) v_new in mma.sync registers, q / k read from the inputs, o written
// into the out-parameter. Here (T = 128: 2 chunks of C = 64, H = 1, HV = 2,
// K = 128, V = 32): grid (chunks x heads = 4, V / 32 = 1) of C / 16 = 4
// warps, 2 x 17408 B of staged q / k, 5120 of v_new, 10240 of the state,
// 256 of g = 50432 B of shared memory; in PTX, ldmatrix (q, k),
// ldmatrix.trans (state, v_new) and m16n8k16 bf16 / f16 products.
// Numerics: the H200 (docs/GPU.md, "The output stage as a register chain").
// RUN: deltanet-opt %s --deltanet-gpu-pipeline="chunk-precision=bf16" -mlir-print-ir-after=gpu-kernel-outlining 2>&1 \
// RUN:   | FileCheck %s --check-prefix=LAUNCH
// RUN: deltanet-opt %s --deltanet-gpu-pipeline="chunk-precision=bf16 output-mma-chain=true" | FileCheck %s --check-prefix=BF16
// RUN: deltanet-opt %s --deltanet-gpu-pipeline="chunk-precision=f16 output-mma-chain=true" | FileCheck %s --check-prefix=F16
// Off on request, and f32 stages (the default precision) and SIMT builds
// keep the generic output stage:
// RUN: deltanet-opt %s --deltanet-gpu-pipeline="chunk-precision=bf16 output-mma-chain=false" -mlir-print-ir-after=gpu-kernel-outlining 2>&1 | FileCheck %s --check-prefix=OFF
// RUN: deltanet-opt %s --deltanet-gpu-pipeline="output-mma-chain=true" -mlir-print-ir-after=gpu-kernel-outlining 2>&1 | FileCheck %s --check-prefix=OFF
// RUN: deltanet-opt %s --deltanet-gpu-pipeline="chunk-precision=bf16 output-mma-chain=true tensor-cores=false" -mlir-print-ir-after=gpu-kernel-outlining 2>&1 | FileCheck %s --check-prefix=OFF
// RUN: not deltanet-opt %s --deltanet-gpu-pipeline="output-mma-chain-value-tile=24" 2>&1 | FileCheck %s --check-prefix=BADTILE

// The kernel twice (alignment versioning: the host gives the grid of 4 chunk
// blocks to one of them).
// LAUNCH-COUNT-2: gpu.launch_func async {{.*}} blocks in (%{{[0-9]+}}, %c1, %c1) threads in (%c128, %c1, %c1) {{ *}}dynamic_shared_memory_size %c50432_i32
// BF16: ldmatrix.sync.aligned.m8n8.x4.shared.b16
// BF16: ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16
// BF16: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// F16: ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16
// F16: mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
// OFF: gpu.launch_func
// OFF-NOT: dynamic_shared_memory_size %c50432_i32
// BADTILE: deltanet-gpu-pipeline: output-mma-chain-value-tile must be 0 (chosen) or a positive multiple of 16, got 24

func.func @chunk(%q: memref<1x128x1x128xbf16>, %k: memref<1x128x1x128xbf16>, %v: memref<1x128x2x32xbf16>, %g: memref<1x128x2xf32>, %beta: memref<1x128x2xbf16>, %h0: memref<1x2x128x32xf32>,
    %o: memref<1x128x2x32xbf16>, %ht: memref<1x2x128x32xf32>) attributes {llvm.emit_c_interface} {
  %qt = bufferization.to_tensor %q restrict : memref<1x128x1x128xbf16> to tensor<1x128x1x128xbf16>
  %kt = bufferization.to_tensor %k restrict : memref<1x128x1x128xbf16> to tensor<1x128x1x128xbf16>
  %vt = bufferization.to_tensor %v restrict : memref<1x128x2x32xbf16> to tensor<1x128x2x32xbf16>
  %gt = bufferization.to_tensor %g restrict : memref<1x128x2xf32> to tensor<1x128x2xf32>
  %bt = bufferization.to_tensor %beta restrict : memref<1x128x2xbf16> to tensor<1x128x2xbf16>
  %h0t = bufferization.to_tensor %h0 restrict : memref<1x2x128x32xf32> to tensor<1x2x128x32xf32>
  %ot, %hT = deltanet.chunk_gated_delta_rule %qt, %kt, %vt, %gt, %bt, %h0t {chunk_size = 64 : i64, scale = 0.0883883461 : f32}
    : (tensor<1x128x1x128xbf16>, tensor<1x128x1x128xbf16>, tensor<1x128x2x32xbf16>, tensor<1x128x2xf32>, tensor<1x128x2xbf16>, tensor<1x2x128x32xf32>) -> (tensor<1x128x2x32xbf16>, tensor<1x2x128x32xf32>)
  bufferization.materialize_in_destination %ot in restrict writable %o : (tensor<1x128x2x32xbf16>, memref<1x128x2x32xbf16>) -> ()
  bufferization.materialize_in_destination %hT in restrict writable %ht : (tensor<1x2x128x32xf32>, memref<1x2x128x32xf32>) -> ()
  return
}
