// RUN: deltanet-opt %s --deltanet-gpu-pipeline=check-global-alignment=false -mlir-print-ir-after=gpu-kernel-outlining -o /dev/null 2>&1 | FileCheck %s
// RUN: deltanet-opt %s --deltanet-gpu-pipeline="fuse-gathers=false fuse-scatter=false check-global-alignment=false" -mlir-print-ir-after=gpu-kernel-outlining -o /dev/null 2>&1 \
// RUN:   | FileCheck %s --check-prefix=UNFUSED
// RUN: deltanet-opt %s --deltanet-gpu-pipeline="fuse-chunk-prologue=false check-global-alignment=false" -mlir-print-ir-after=gpu-kernel-outlining -o /dev/null 2>&1 \
// RUN:   | FileCheck %s --check-prefix=STAGES

// chunk_gated_delta_rule's launches (deltanet-gpu-fuse-into-blocks): the
// stages read q, v and beta from the bf16 arguments (no gather kernels,
// no f32 copies of them) and the output stage writes o itself, in bf16 and
// [B, T, HV, V] (no scatter kernel). Here the scan's whole-sequence slice of
// k (2 x 64 x 16 f32) is small enough to be gathered by its blocks too.
// gated_kkt, tri_inv and wy_repr are one kernel (fuse-chunk-prologue: one
// block per chunk computes A, its inverse T and w, u from T; A and T stay
// in shared memory). Launches: g gather, cumulative decays, the prologue,
// the scan, the output: 5 (7 with a kernel per stage; 10 with the gathers
// and the scatter as kernels of their own).
// (Counted with the alignment promised: with the default check, each
// launch relying on it also has an element-aligned copy, launched with an
// empty grid when the buffers are aligned; annotate-vector-alignment.mlir.)
// CHECK-LABEL: func.func @gdr(
// CHECK-NOT: memref<1x2x2x64x16xf32>
// CHECK-COUNT-2: gpu.launch_func
// The prologue reads k, beta and v from the arguments and writes w and u,
// nothing else: no A or T leaves it.
// CHECK: %[[W:.*]] = gpu.alloc () : memref<4x64x16xf32>
// CHECK: %[[U:.*]] = gpu.alloc () : memref<4x64x16xf32>
// CHECK-NOT: gpu.alloc
// CHECK: gpu.launch_func {{.*}} args(%arg1 : memref<1x128x1x16xbf16>{{.*}}%arg4 : memref<1x128x2xbf16>{{.*}}%arg2 : memref<1x128x2x16xbf16>{{.*}}%[[W]] : memref<4x64x16xf32>{{.*}}%[[U]] : memref<4x64x16xf32>)
// CHECK-COUNT-1: gpu.launch_func
// The last launch, the output stage, gets o (%arg6, bf16) itself:
// CHECK: gpu.launch_func {{.*}} args(%arg0 : memref<1x128x1x16xbf16>{{.*}}%arg6 : memref<1x128x2x16xbf16>
// CHECK-NOT: gpu.launch_func
// CHECK: return
// UNFUSED-LABEL: func.func @gdr(
// UNFUSED-COUNT-9: gpu.launch_func
// UNFUSED: gpu.launch_func {{.*}} args(%{{.*}} : memref<1x2x2x64x16xf32>, %arg6 : memref<1x128x2x16xbf16>
// UNFUSED-NOT: gpu.launch_func
// UNFUSED: return
// A kernel per stage: A and T (4 x 64 x 64 f32 each) go through device memory.
// STAGES-LABEL: func.func @gdr(
// STAGES-COUNT-2: gpu.alloc () : memref<4x64x64xf32>
// STAGES-COUNT-6: gpu.launch_func
// STAGES: gpu.launch_func {{.*}} args(%arg0 : memref<1x128x1x16xbf16>{{.*}}%arg6 : memref<1x128x2x16xbf16>
// STAGES-NOT: gpu.launch_func
// STAGES: return
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

