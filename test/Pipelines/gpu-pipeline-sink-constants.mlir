// RUN: deltanet-opt %s --deltanet-gpu-pipeline=check-global-alignment=false -mlir-disable-threading -mlir-print-ir-after=gpu-kernel-outlining -o /dev/null 2>&1 | FileCheck %s
// RUN: deltanet-opt %s --deltanet-gpu-pipeline="check-global-alignment=false sink-index-computations=false" -mlir-disable-threading -mlir-print-ir-after=gpu-kernel-outlining -o /dev/null 2>&1 | FileCheck %s --check-prefix=PARAMS

// Constants used inside a launch (loop bounds, strides, shared-memory
// offsets, the index vectors of masks) are cloned into it by upstream
// gpu-launch-sink-index-computations before the outlining
// (sink-index-computations, default): the kernel takes its buffers only,
// and LLVM folds the constants. Without it (upstream's outlining no longer
// sinks them) each becomes a kernel parameter, opaque to LLVM: measured on
// the H200 (docs/GPU.md, session 9) the attention 1.520 -> 1.290 ms per
// call, decode 0.052 -> 0.043 ms, tri_inv 0.244 -> 0.230 ms.
// CHECK-LABEL: func.func @tri_inv
// CHECK: gpu.launch_func @tri_inv_kernel::@tri_inv_kernel {{.*}} args(%arg0 : memref<?x64x64xf32>, %arg1 : memref<?x64x64xf32>)
// CHECK: gpu.func @tri_inv_kernel(%arg0: memref<?x64x64xf32>, %arg1: memref<?x64x64xf32>) kernel
// PARAMS-LABEL: func.func @tri_inv
// PARAMS: gpu.launch_func @tri_inv_kernel::@tri_inv_kernel {{.*}} args(%arg0 : memref<?x64x64xf32>, %c0 : index, %c1 : index
// PARAMS: gpu.func @tri_inv_kernel(%arg0: memref<?x64x64xf32>, %arg1: index, {{.*}}: vector<8x4xindex>
func.func @tri_inv(%a: memref<?x64x64xf32>, %x: memref<?x64x64xf32>) attributes {llvm.emit_c_interface} {
  %at = bufferization.to_tensor %a restrict : memref<?x64x64xf32> to tensor<?x64x64xf32>
  %xt = deltanet.tri_inv %at : tensor<?x64x64xf32>
  bufferization.materialize_in_destination %xt in restrict writable %x
      : (tensor<?x64x64xf32>, memref<?x64x64xf32>) -> ()
  return
}
