// RUN: deltanet-opt %s --deltanet-gpu-pipeline=check-global-alignment=false -mlir-print-ir-after=gpu-kernel-outlining -o /dev/null 2>&1 | FileCheck %s
// RUN: deltanet-opt %s --deltanet-gpu-pipeline="fuse-gathers=false fuse-scatter=false check-global-alignment=false" -mlir-print-ir-after=gpu-kernel-outlining -o /dev/null 2>&1 \
// RUN:   | FileCheck %s --check-prefix=UNFUSED

// chunk_gated_delta_rule's launches (deltanet-gpu-fuse-into-blocks): the
// stages read q, v and beta from the bf16 arguments (no gather kernels,
// no f32 copies of them) and the output stage writes o itself, in bf16 and
// [B, T, HV, V] (no scatter kernel). Here the scan's whole-sequence slice of
// k (2 x 64 x 16 f32) is small enough to be gathered by its blocks too: 8
// launches, 12 before (13 at K = 128, where the scan keeps a gather of k).
// (Counted with the alignment promised: with the default check, each
// launch relying on it also has an element-aligned copy, launched with an
// empty grid when the buffers are aligned; annotate-vector-alignment.mlir.)
// CHECK-LABEL: func.func @gdr(
// CHECK-NOT: memref<1x2x2x64x16xf32>
// CHECK-COUNT-7: gpu.launch_func
// The last launch, the output stage, gets o (%arg6, bf16) itself:
// CHECK: gpu.launch_func {{.*}} args(%arg0 : memref<1x128x1x16xbf16>{{.*}}%arg6 : memref<1x128x2x16xbf16>
// CHECK-NOT: gpu.launch_func
// CHECK: return
// UNFUSED-LABEL: func.func @gdr(
// UNFUSED-COUNT-11: gpu.launch_func
// UNFUSED: gpu.launch_func {{.*}} args(%{{.*}} : memref<1x2x2x64x16xf32>, %arg6 : memref<1x128x2x16xbf16>
// UNFUSED-NOT: gpu.launch_func
// UNFUSED: return
func.func @gdr(%q: memref<1x128x1x16xbf16>, %k: memref<1x128x1x16xbf16>, %v: memref<1x128x2x16xbf16>, %g: memref<1x128x2xf32>, %beta: memref<1x128x2xbf16>, %h0: memref<1x2x16x16xf32>, %o: memref<1x128x2x16xbf16>, %ht: memref<1x2x16x16xf32>) attributes {llvm.emit_c_interface} {
  %qt = bufferization.to_tensor %q restrict : memref<1x128x1x16xbf16> to tensor<1x128x1x16xbf16>
  %kt = bufferization.to_tensor %k restrict : memref<1x128x1x16xbf16> to tensor<1x128x1x16xbf16>
  %vt = bufferization.to_tensor %v restrict : memref<1x128x2x16xbf16> to tensor<1x128x2x16xbf16>
  %gt = bufferization.to_tensor %g restrict : memref<1x128x2xf32> to tensor<1x128x2xf32>
  %betat = bufferization.to_tensor %beta restrict : memref<1x128x2xbf16> to tensor<1x128x2xbf16>
  %h0t = bufferization.to_tensor %h0 restrict : memref<1x2x16x16xf32> to tensor<1x2x16x16xf32>
  %ot, %hT = deltanet.chunk_gated_delta_rule %qt, %kt, %vt, %gt, %betat, %h0t {chunk_size = 64 : i64, scale = 0.25 : f32} : (tensor<1x128x1x16xbf16>, tensor<1x128x1x16xbf16>, tensor<1x128x2x16xbf16>, tensor<1x128x2xf32>, tensor<1x128x2xbf16>, tensor<1x2x16x16xf32>) -> (tensor<1x128x2x16xbf16>, tensor<1x2x16x16xf32>)
  bufferization.materialize_in_destination %ot in restrict writable %o : (tensor<1x128x2x16xbf16>, memref<1x128x2x16xbf16>) -> ()
  bufferization.materialize_in_destination %hT in restrict writable %ht : (tensor<1x2x16x16xf32>, memref<1x2x16x16xf32>) -> ()
  return
}

