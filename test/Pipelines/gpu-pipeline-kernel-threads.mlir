// A thread count per kernel (kernel-threads, recorded on the block loops by
// deltanet-gpu-distribute-to-blocks as deltanet.block_threads):
// chunk_output=256 gives the output stage (chunk_output + the scatter into
// o, the last launch) 256 threads and the other kernels `threads` (128).
// The pipeline's default is `none` (every kernel `threads`): the H200 ran
// that output stage slower at 256 (session 10, docs/GPU.md). Launches in
// program order: the q / k gathers, g / beta, the cumulative decays, the
// fused prologue (gated_kkt + tri_inv + wy_repr), the state scan, the
// output stage.
// RUN: deltanet-opt %s --deltanet-gpu-pipeline="check-global-alignment=false kernel-threads=chunk_output=256" -mlir-disable-threading -mlir-print-ir-after=gpu-kernel-outlining -o /dev/null 2>&1 | FileCheck %s
// RUN: deltanet-opt %s --deltanet-gpu-pipeline="check-global-alignment=false" -mlir-disable-threading -mlir-print-ir-after=gpu-kernel-outlining -o /dev/null 2>&1 | FileCheck %s --check-prefix=NONE
// RUN: deltanet-opt %s --deltanet-gpu-pipeline="check-global-alignment=false kernel-threads=none" -mlir-disable-threading -mlir-print-ir-after=gpu-kernel-outlining -o /dev/null 2>&1 | FileCheck %s --check-prefix=NONE
// RUN: deltanet-opt %s --deltanet-gpu-pipeline="check-global-alignment=false threads=64 kernel-threads=chunk_prologue=256,chunk_state_scan=32" -mlir-disable-threading -mlir-print-ir-after=gpu-kernel-outlining -o /dev/null 2>&1 | FileCheck %s --check-prefix=LIST
// RUN: not deltanet-opt %s --deltanet-gpu-pipeline="kernel-threads=chunk_output=200" -o /dev/null 2>&1 | FileCheck %s --check-prefix=BAD

// CHECK-LABEL: func.func @gdr(
// CHECK: gpu.launch_func @gdr_kernel::@gdr_kernel blocks in ({{.*}}) threads in (%c128, %c1, %c1)
// CHECK: gpu.launch_func @gdr_kernel_0::@gdr_kernel blocks in ({{.*}}) threads in (%c128, %c1, %c1)
// CHECK: gpu.launch_func @gdr_kernel_1::@gdr_kernel blocks in ({{.*}}) threads in (%c128, %c1, %c1)
// CHECK: gpu.launch_func @gdr_kernel_2::@gdr_kernel blocks in ({{.*}}) threads in (%c128, %c1, %c1)
// CHECK: gpu.launch_func @gdr_kernel_3::@gdr_kernel blocks in ({{.*}}) threads in (%c128, %c1, %c1)
// CHECK: gpu.launch_func @gdr_kernel_4::@gdr_kernel blocks in ({{.*}}) threads in (%c256, %c1, %c1)
// The kernels' own launch bounds (upstream's outlining records the block
// size on the kernel, NVVM's maxntid / reqntid).
// CHECK: gpu.func @gdr_kernel({{.*}}) kernel attributes {{{.*}}known_block_size = array<i32: 128, 1, 1>
// CHECK: gpu.func @gdr_kernel({{.*}}) kernel attributes {{{.*}}known_block_size = array<i32: 256, 1, 1>

// The default and kernel-threads=none: every kernel `threads`.
// NONE-LABEL: func.func @gdr(
// NONE-COUNT-5: gpu.launch_func {{.*}} threads in (%c128, %c1, %c1)
// NONE: gpu.launch_func @gdr_kernel_4::@gdr_kernel blocks in ({{.*}}) threads in (%c128, %c1, %c1)

// LIST-LABEL: func.func @gdr(
// LIST-COUNT-3: gpu.launch_func {{.*}} threads in (%c64, %c1, %c1)
// LIST: gpu.launch_func @gdr_kernel_2::@gdr_kernel blocks in ({{.*}}) threads in (%c256, %c1, %c1)
// LIST: gpu.launch_func @gdr_kernel_3::@gdr_kernel blocks in ({{.*}}) threads in (%c32, %c1, %c1)
// LIST: gpu.launch_func @gdr_kernel_4::@gdr_kernel blocks in ({{.*}}) threads in (%c64, %c1, %c1)

// BAD: error: deltanet-gpu-distribute-to-blocks: kernel-threads entries are KIND=N {{.*}} got 'chunk_output=200'
func.func @gdr(%q: memref<1x128x1x128xbf16>, %k: memref<1x128x1x128xbf16>, %v: memref<1x128x1x128xbf16>, %g: memref<1x128x1xf32>, %beta: memref<1x128x1xbf16>, %h0: memref<1x1x128x128xf32>, %o: memref<1x128x1x128xbf16>, %ht: memref<1x1x128x128xf32>) attributes {llvm.emit_c_interface} {
  %qt = bufferization.to_tensor %q restrict : memref<1x128x1x128xbf16> to tensor<1x128x1x128xbf16>
  %kt = bufferization.to_tensor %k restrict : memref<1x128x1x128xbf16> to tensor<1x128x1x128xbf16>
  %vt = bufferization.to_tensor %v restrict : memref<1x128x1x128xbf16> to tensor<1x128x1x128xbf16>
  %gt = bufferization.to_tensor %g restrict : memref<1x128x1xf32> to tensor<1x128x1xf32>
  %betat = bufferization.to_tensor %beta restrict : memref<1x128x1xbf16> to tensor<1x128x1xbf16>
  %h0t = bufferization.to_tensor %h0 restrict : memref<1x1x128x128xf32> to tensor<1x1x128x128xf32>
  %ot, %hT = deltanet.chunk_gated_delta_rule %qt, %kt, %vt, %gt, %betat, %h0t {chunk_size = 64 : i64, scale = 0.0883883461 : f32} : (tensor<1x128x1x128xbf16>, tensor<1x128x1x128xbf16>, tensor<1x128x1x128xbf16>, tensor<1x128x1xf32>, tensor<1x128x1xbf16>, tensor<1x1x128x128xf32>) -> (tensor<1x128x1x128xbf16>, tensor<1x1x128x128xf32>)
  bufferization.materialize_in_destination %ot in restrict writable %o : (tensor<1x128x1x128xbf16>, memref<1x128x1x128xbf16>) -> ()
  bufferization.materialize_in_destination %hT in restrict writable %ht : (tensor<1x1x128x128xf32>, memref<1x1x128x128xf32>) -> ()
  return
}
