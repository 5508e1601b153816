// --deltanet-gpu-pipeline prologue-mma-chain (default on): the 16-bit chunk prologue
// (gated_kkt -> tri_inv -> wy_repr) becomes its own kernel
// (deltanet-gpu-lower-chunk-prologue-to-mma-chain,
// test/Codegen/GPU/lower-chunk-prologue-to-mma-chain.mlir), each warp's rows
// of A, of the inverse and of w / u in mma.sync registers, the cumulative
// decays computed in it. Here (T = 128: 2 chunks, HV = 2, K = 128, V = 32,
// C = 64): 4 blocks of 4 warps; an aligned (cp.async) and an element-load
// launch chosen on the host. Numerics: the H200 (docs/GPU.md, "The chunk
// prologue (session 14, gpu23)").
// RUN: deltanet-opt %s --deltanet-gpu-pipeline="chunk-precision=bf16" -mlir-print-ir-after=gpu-kernel-outlining 2>&1 \
// RUN:   | FileCheck %s --check-prefix=LAUNCH
// RUN: deltanet-opt %s --deltanet-gpu-pipeline="chunk-precision=bf16 prologue-mma-chain=true" | FileCheck %s --check-prefix=BF16
// RUN: deltanet-opt %s --deltanet-gpu-pipeline="chunk-precision=f16 prologue-mma-chain=true" | FileCheck %s --check-prefix=F16
// The inverse follows tri-inv-precision: f32 (the default) splits its
// operands into high and low 16-bit parts (A, T, Y staged twice), bf16 keeps
// one part:
// RUN: deltanet-opt %s --deltanet-gpu-pipeline="chunk-precision=bf16 tri-inv-precision=bf16" -mlir-print-ir-after=gpu-kernel-outlining 2>&1 \
// RUN:   | FileCheck %s --check-prefix=INV16
// RUN: deltanet-opt %s --deltanet-gpu-pipeline="chunk-precision=bf16 tri-inv-precision=bf16" | FileCheck %s --check-prefix=BF16
// Off on request, and f32 prologues (the default precision) and SIMT builds
// keep the generic prologue:
// RUN: deltanet-opt %s --deltanet-gpu-pipeline="chunk-precision=bf16 prologue-mma-chain=false" -mlir-print-ir-after=gpu-kernel-outlining 2>&1 | FileCheck %s --check-prefix=OFF
// RUN: deltanet-opt %s --deltanet-gpu-pipeline="prologue-mma-chain=true" -mlir-print-ir-after=gpu-kernel-outlining 2>&1 | FileCheck %s --check-prefix=OFF
// RUN: deltanet-opt %s --deltanet-gpu-pipeline="chunk-precision=bf16 prologue-mma-chain=true tensor-cores=false" -mlir-print-ir-after=gpu-kernel-outlining 2>&1 | FileCheck %s --check-prefix=OFF

// The g gather (2 blocks) and the cumulative decays (1 block) are gone, and
// so is k's gather (the scan and output chains read k from its input): the
// prologue chain's two launches (aligned / element loads) under the host's
// test come first, 4 blocks of 128 threads, k, v [64][136 / 40] bf16, A, T,
// Y [64][72] bf16 twice (high and low parts of the f32 inverse's operands) +
// g, beta f32 = 78336 B of shared memory (with tri-inv-precision=bf16 one
// part: 50688 B; the generic prologue's: 68880 B); then the chain scan's two
// launches:
// LAUNCH: IR Dump After GpuKernelOutlining
// LAUNCH-NOT: gpu.launch_func
// LAUNCH: scf.if
// LAUNCH-NEXT: gpu.launch_func @chunk_kernel::@chunk_kernel blocks in (%c4, %c1, %c1) threads in (%c128, %c1, %c1) {{ *}}dynamic_shared_memory_size %c78336_i32
// LAUNCH: } else {
// LAUNCH-NEXT: gpu.launch_func @chunk_kernel_0::@chunk_kernel blocks in (%c4, %c1, %c1) threads in (%c128, %c1, %c1) {{ *}}dynamic_shared_memory_size %c78336_i32
// LAUNCH-NOT: dynamic_shared_memory_size %c68880_i32
// INV16: IR Dump After GpuKernelOutlining
// INV16: scf.if
// INV16-NEXT: gpu.launch_func @chunk_kernel::@chunk_kernel blocks in (%c4, %c1, %c1) threads in (%c128, %c1, %c1) {{ *}}dynamic_shared_memory_size %c50688_i32
// LAUNCH: gpu.launch_func @chunk_kernel_1::@chunk_kernel blocks in (%{{.*}}, %c2, %c1) threads in (%c64, %c1, %c1)
// BF16: cp.async.cg.shared.global
// BF16: ldmatrix.sync.aligned.m8n8.x4.shared.b16
// BF16: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// BF16: ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16
// BF16: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// F16: ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16
// F16: mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
// OFF: IR Dump After GpuKernelOutlining
// OFF-NOT: dynamic_shared_memory_size %c78336_i32
// OFF: llvm.func @mgpuMemFree

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
