// RUN: deltanet-opt %s --deltanet-gpu-pipeline --mlir-print-ir-before=gpu-kernel-outlining -o /dev/null 2>&1 | FileCheck --strict-whitespace %s
// RUN: deltanet-opt %s --deltanet-gpu-pipeline=eliminate-barriers=true --mlir-print-ir-before=gpu-kernel-outlining -o /dev/null 2>&1 \
// RUN:   | FileCheck --strict-whitespace %s --check-prefix=ELIM
// RUN: deltanet-opt %s --deltanet-gpu-pipeline="tensor-cores-zero-init=false tensor-cores-stage-from-producer=false" \
// RUN:   --mlir-print-ir-before=gpu-kernel-outlining -o /dev/null 2>&1 | FileCheck --strict-whitespace %s --check-prefix=PREV

// The state scan's kernel inside the chunk op (2 chunks: the only loop to
// 2; one block per sequence and tile of 8 state columns, the tile chosen
// from the shape). Per chunk, by default 8 barrier-separated phases: copy
// S to `states`; stage w; w S (accumulators from zero registers, no fill);
// v_new = u - w S into shared memory; its copy to device memory; the
// decayed k^T; the decay of S; S += k^T v_new (v_new read from shared
// memory, not staged back from device memory); one more barrier after the
// final state's copy. With eliminate-barriers=true (upstream
// gpu-eliminate-barriers, while the temporaries are distinct allocations)
// 6 per chunk: the copy of S and the staging of w, the copy of v_new and
// the two decays share phases, and the last barrier goes. Before (PREV): 9
// per chunk (with the zero fill of w S and the staging copy of v_new back
// from device memory) and one at the end. (The chunk loop is matched at
// its indentation, the top level of its kernel: the tri_inv kernel before
// it has a nested two-iteration loop too.)
// CHECK-LABEL: func.func @chunk
// CHECK: {{^}}      scf.for %{{.*}} = %c0 to %c2 step %c1 {
// CHECK-COUNT-9: gpu.barrier
// CHECK-NOT: gpu.barrier
// CHECK: gpu.terminator
// ELIM-LABEL: func.func @chunk
// ELIM: {{^}}      scf.for %{{.*}} = %c0 to %c2 step %c1 {
// ELIM-COUNT-6: gpu.barrier
// ELIM-NOT: gpu.barrier
// ELIM: gpu.terminator
// PREV-LABEL: func.func @chunk
// PREV: {{^}}      scf.for %{{.*}} = %c0 to %c2 step %c1 {
// PREV-COUNT-10: gpu.barrier
// PREV-NOT: gpu.barrier
// PREV: gpu.terminator
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
