// --deltanet-gpu-pipeline scan-mma-chain (default on): the 16-bit state scan
// becomes its own kernel (deltanet-gpu-lower-chunk-state-scan-to-mma-chain,
// test/Codegen/GPU/lower-chunk-state-scan-to-mma-chain.mlir), S^T in mma.sync
// registers. Here (T = 128: 2 chunks, HV = 2, K = 128, V = 32): grid (V / 16,
// sequences) of 2 warps (key-split=2), three slots (scan-mma-chain-stages,
// 3 in the pipeline) of k / w (3 x 34816 B), u (15360) and g (768), 8192 of
// partial products = 128768 B of shared memory; in PTX,
// ldmatrix (w) and ldmatrix.trans (k) feeding m16n8k16 bf16 / f16 products.
// k is staged from the input itself (scan-mma-chain-k-from-source): no
// kernel writes the gathered [1][2][2][64][128] bf16 k any more, and the
// chain is two launches (16-byte cp.async of k / element copies: the host
// gives the blocks to one by the input's alignment). The final state is
// only copied into the caller's %ht: the chain writes it there (no buffer,
// no device-to-device copy after the kernel).
// Numerics: the H200 (docs/GPU.md, "The state scan as a register chain").
// RUN: deltanet-opt %s --deltanet-gpu-pipeline="chunk-precision=bf16" -mlir-print-ir-after=gpu-kernel-outlining 2>&1 \
// RUN:   | FileCheck %s --check-prefix=LAUNCH
// RUN: deltanet-opt %s --deltanet-gpu-pipeline="chunk-precision=bf16 scan-mma-chain=true" | FileCheck %s --check-prefix=BF16
// RUN: deltanet-opt %s --deltanet-gpu-pipeline="chunk-precision=f16 scan-mma-chain=true" | FileCheck %s --check-prefix=F16
// Off on request, and f32 scans (the default precision) and SIMT builds
// keep the generic scan (no launch of 64 threads with the chain's 128768 B):
// RUN: deltanet-opt %s --deltanet-gpu-pipeline="chunk-precision=bf16 scan-mma-chain=false" -mlir-print-ir-after=gpu-kernel-outlining 2>&1 | FileCheck %s --check-prefix=OFF
// RUN: deltanet-opt %s --deltanet-gpu-pipeline="scan-mma-chain=true" -mlir-print-ir-after=gpu-kernel-outlining 2>&1 | FileCheck %s --check-prefix=OFF
// RUN: deltanet-opt %s --deltanet-gpu-pipeline="chunk-precision=bf16 tensor-cores=false" -mlir-print-ir-after=gpu-kernel-outlining 2>&1 | FileCheck %s --check-prefix=OFF
// RUN: not deltanet-opt %s --deltanet-gpu-pipeline="scan-mma-chain-key-split=3" 2>&1 | FileCheck %s --check-prefix=BADSPLIT
// scan-mma-chain-stages=2 (double buffering: 2 x 34816 + 10240 + 512 +
// 8192 = 88576 B of shared memory), with the default movmatrix stores: the
// 16-bit states / v_new leave as st.global.v2.b32 after movmatrix transposes.
// RUN: deltanet-opt %s --deltanet-gpu-pipeline="chunk-precision=bf16 scan-mma-chain-stages=2" | FileCheck %s --check-prefix=STAGES2

// LAUNCH-NOT: memref<1x2x2x64x128xbf16>
// LAUNCH: gpu.launch_func async {{.*}} threads in (%c128, %c1, %c1)
// LAUNCH: %[[HT:.*]] = memref.collapse_shape %arg7 {{.*}} into memref<2x128x32xf32>
// LAUNCH: gpu.launch_func async {{.*}} blocks in (%{{.*}}, %c2, %c1) threads in (%c64, %c1, %c1) {{ *}}dynamic_shared_memory_size %c128768_i32 args(%{{.*}}, %arg1 : memref<1x128x1x128xbf16>, {{.*}}, %[[HT]] : memref<2x128x32xf32>)
// LAUNCH: gpu.launch_func async {{.*}} blocks in (%{{.*}}, %c2, %c1) threads in (%c64, %c1, %c1) {{ *}}dynamic_shared_memory_size %c128768_i32 args(%{{.*}}, %arg1 : memref<1x128x1x128xbf16>, {{.*}}, %[[HT]] : memref<2x128x32xf32>)
// LAUNCH-NOT: memref<1x2x2x64x128xbf16>
// LAUNCH-NOT: gpu.memcpy
// BF16: ldmatrix.sync.aligned.m8n8.x4.shared.b16
// BF16: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// BF16: ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16
// BF16: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// F16: ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16
// F16: mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
// OFF: gpu.launch_func
// OFF-NOT: threads in (%c64, %c1, %c1) {{ *}}dynamic_shared_memory_size %c128768_i32
// STAGES2: llvm.mlir.constant(88576 : i32) : i32
// STAGES2: movmatrix.sync.aligned.m8n8.trans.b16
// STAGES2-SAME: st.global.v2.b32
// BADSPLIT: deltanet-gpu-pipeline: scan-mma-chain-key-split must be 0 (chosen), 1 or 2, got 3

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
