// RUN: deltanet-opt %s --deltanet-gpu-pipeline | FileCheck %s
// RUN: deltanet-opt %s --deltanet-gpu-pipeline | FileCheck %s --check-prefix=V4
// RUN: deltanet-opt %s --deltanet-gpu-pipeline="tensor-cores=true shared-row-padding=4 tensor-cores-stage-bytes=49152" \
// RUN:   | FileCheck %s --check-prefix=MMA
// RUN: deltanet-opt %s --deltanet-gpu-pipeline="tensor-cores=true" -mlir-disable-threading -mlir-print-ir-after=deltanet-gpu-matmuls-to-mma-sync \
// RUN:   -o /dev/null 2>&1 | FileCheck %s --check-prefix=NVGPU
// RUN: deltanet-opt %s --deltanet-gpu-pipeline="tensor-cores=false" | FileCheck %s --check-prefix=SIMT
// RUN: not deltanet-opt %s --deltanet-gpu-pipeline="scan-value-tile=-2" 2>&1 | FileCheck %s --check-prefix=TILE
// RUN: not deltanet-opt %s --deltanet-gpu-pipeline="reduction-step=-2" 2>&1 | FileCheck %s --check-prefix=STEP

// Both gated delta rule ops compile to LLVM host code that launches
// embedded kernels, and no host code touches device memory (the op-level
// grids and thread mappings are checked in test/Codegen/GPU; results on the
// CPU in gpu-pipeline-cpu-emulation.test, on the H200 in docs/GPU.md).
// CHECK-NOT: deltanet.
// CHECK-LABEL: llvm.func @chunk(
// CHECK-NOT: llvm.call @memrefCopy
// CHECK: gpu.launch_func
// CHECK-LABEL: llvm.func @_mlir_ciface_chunk
// The decode op (T = 1): its host-level copies between strided state views
// are one-block launches (they were "would run on the host" errors).
// CHECK-LABEL: llvm.func @decode(
// CHECK-NOT: llvm.call @memrefCopy
// CHECK: gpu.launch_func
// CHECK-LABEL: llvm.func @_mlir_ciface_decode
// CHECK: .target sm_90
// The gathers write their own device buffers (gpu.alloc, 16-byte aligned)
// with 16-byte stores (deltanet-gpu-annotate-vector-alignment).
// V4: st.global.v4.b32
// With tensor cores, the chunk stages' matmuls (K = 64 or 128) are warp
// loops of nvgpu.mma.sync (tf32), the inverse's merges (K <= 32) stay SIMT;
// the PTX holds the tensor-core instruction.
// NVGPU: nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 8], tf32Enabled}
// NVGPU: mapping = [#gpu.warp<linear_dim_0>]
// MMA: mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32
// SIMT-NOT: mma.sync
// TILE: scan-value-tile must be >= -1
// STEP: reduction-step must be >= 0

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

func.func @decode(%q: memref<1x1x1x16xbf16>, %k: memref<1x1x1x16xbf16>, %v: memref<1x1x2x16xbf16>, %g: memref<1x1x2xf32>, %beta: memref<1x1x2xbf16>, %h0: memref<1x2x16x16xf32>,
    %o: memref<1x1x2x16xbf16>, %ht: memref<1x2x16x16xf32>) attributes {llvm.emit_c_interface} {
  %qt = bufferization.to_tensor %q restrict : memref<1x1x1x16xbf16> to tensor<1x1x1x16xbf16>
  %kt = bufferization.to_tensor %k restrict : memref<1x1x1x16xbf16> to tensor<1x1x1x16xbf16>
  %vt = bufferization.to_tensor %v restrict : memref<1x1x2x16xbf16> to tensor<1x1x2x16xbf16>
  %gt = bufferization.to_tensor %g restrict : memref<1x1x2xf32> to tensor<1x1x2xf32>
  %bt = bufferization.to_tensor %beta restrict : memref<1x1x2xbf16> to tensor<1x1x2xbf16>
  %h0t = bufferization.to_tensor %h0 restrict : memref<1x2x16x16xf32> to tensor<1x2x16x16xf32>
  %ot, %hT = deltanet.recurrent_gated_delta_rule %qt, %kt, %vt, %gt, %bt, %h0t {scale = 0.25 : f32}
    : (tensor<1x1x1x16xbf16>, tensor<1x1x1x16xbf16>, tensor<1x1x2x16xbf16>, tensor<1x1x2xf32>, tensor<1x1x2xbf16>, tensor<1x2x16x16xf32>) -> (tensor<1x1x2x16xbf16>, tensor<1x2x16x16xf32>)
  bufferization.materialize_in_destination %ot in restrict writable %o : (tensor<1x1x2x16xbf16>, memref<1x1x2x16xbf16>) -> ()
  bufferization.materialize_in_destination %hT in restrict writable %ht : (tensor<1x2x16x16xf32>, memref<1x2x16x16xf32>) -> ()
  return
}
