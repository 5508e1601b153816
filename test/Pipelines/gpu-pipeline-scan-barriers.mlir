// RUN: deltanet-opt %s --deltanet-gpu-pipeline --mlir-print-ir-before=gpu-launch-sink-index-computations -o /dev/null 2>&1 | FileCheck --strict-whitespace %s
// RUN: deltanet-opt %s --deltanet-gpu-pipeline=eliminate-barriers=true --mlir-print-ir-before=gpu-launch-sink-index-computations -o /dev/null 2>&1 \
// RUN:   | FileCheck --strict-whitespace %s --check-prefix=ELIM
// RUN: deltanet-opt %s --deltanet-gpu-pipeline="tensor-cores=false prefetch-transposed-padding=1" --mlir-print-ir-before=deltanet-gpu-map-to-threads -o /dev/null 2>&1 \
// RUN:   | FileCheck %s --check-prefix=TPAD1
// RUN: deltanet-opt %s --deltanet-gpu-pipeline=prefetch-loop-operands=false --mlir-print-ir-before=gpu-launch-sink-index-computations -o /dev/null 2>&1 \
// RUN:   | FileCheck --strict-whitespace %s --check-prefix=SYNC
// RUN: deltanet-opt %s --deltanet-gpu-pipeline="eliminate-barriers=true prefetch-loop-operands=false" --mlir-print-ir-before=gpu-launch-sink-index-computations -o /dev/null 2>&1 \
// RUN:   | FileCheck --strict-whitespace %s --check-prefix=SYNCELIM
// RUN: deltanet-opt %s --deltanet-gpu-pipeline=tensor-cores-fold-accumulator-producers=false --mlir-print-ir-before=gpu-launch-sink-index-computations -o /dev/null 2>&1 \
// RUN:   | FileCheck --strict-whitespace %s --check-prefix=NOFOLD
// RUN: deltanet-opt %s --deltanet-gpu-pipeline=tensor-cores-carry-accumulators=false --mlir-print-ir-before=gpu-launch-sink-index-computations -o /dev/null 2>&1 \
// RUN:   | FileCheck --strict-whitespace %s --check-prefix=NOCARRY
// RUN: deltanet-opt %s --deltanet-gpu-pipeline=tensor-cores-fold-accumulator-copies=true --mlir-print-ir-before=gpu-launch-sink-index-computations -o /dev/null 2>&1 \
// RUN:   | FileCheck --strict-whitespace %s --check-prefix=COPY
// RUN: deltanet-opt %s --deltanet-gpu-pipeline="tensor-cores-zero-init=false tensor-cores-stage-from-producer=false prefetch-loop-operands=false" \
// RUN:   --mlir-print-ir-before=gpu-launch-sink-index-computations -o /dev/null 2>&1 | FileCheck --strict-whitespace %s --check-prefix=PREV
// (The IR is printed before gpu-launch-sink-index-computations, the pass
// before the outlining: the constants are still outside the launches.)

// The state scan's kernel inside the chunk op (2 chunks: the only loop to
// 2; one block per sequence and tile of 8 state columns, the tile chosen
// from the shape).
//
// By default (session 8) the chunk's w, u, k and g are copied into shared
// memory with cp.async one chunk ahead (deltanet-gpu-prefetch-loop-operands,
// session 7): the first chunk's before the loop; in the loop 5
// barrier-separated phases per chunk (session 7: 8): copy S to `states`;
// `cp.async.wait_group 0`; w S (accumulators from zero registers), then the
// next chunk's w issued (no barrier after it:
// deltanet-gpu-drop-barriers-after-async-copies); v_new = u - w S written
// straight to device memory together with its decayed rows
// v_new exp(g_last - g) in shared memory (one elementwise op,
// TargetInfo::foldsScanDecayIntoValues: no decayed k^T phase, no copy of
// v_new), then the next u issued; S = exp(g_last) S + k^T (decayed v_new)
// with the decay of S applied to the accumulator fragments as they are
// loaded (deltanet-gpu-matmuls-to-mma-sync fold-accumulator-producers: no
// decay phase) and k read transposed from its staging buffer, then the next
// k and g issued (k's staging rows padded by 8 words: it is read
// transposed); one more barrier after the final state's copy. With
// eliminate-barriers=true (ELIM) one barrier goes (the one after the copy
// of S: upstream keeps the wait's). With
// tensor-cores-fold-accumulator-producers=false (NOFOLD) the decay of S is
// a phase again (7 barriers). prefetch-transposed-padding=1 (TPAD1) now
// matters only on the SIMT path (tensor-cores=false), where the update
// reads k transposed from the prefetch's own buffer (rows padded by one
// word, 4-byte copies); with tensor cores k is the update's staged A
// operand.
//
// Without the prefetch (SYNC) 7 (session 7: 9): copy S, stage w, w S,
// v_new, the decay of S, stage k, the update; with eliminate-barriers=true
// (SYNCELIM) 5. Before session 6's accumulators and staging (PREV): 8.
// Session 9: the update's accumulator fragments of S are carried across
// the chunk loop as iter_args (deltanet-gpu-carry-accumulators): S's
// fragments are loaded from shared memory in the first chunk only (an
// scf.if on the chunk index), no load of S between the carried values and
// the update's stores; S is still stored once per chunk (w S's operand and
// the copy to `states` read it). NOCARRY (tensor-cores-carry-accumulators=
// false): loaded in every chunk. COPY (tensor-cores-fold-accumulator-copies=
// true, off: measured slower): the copy of S to `states` (and its barrier)
// goes, each lane storing its fragment rows to `states` as 8-byte vectors:
// 4 barriers per chunk.
// (The chunk loop is matched at its indentation, the top level of its
// kernel: the tri_inv kernel before it has a nested two-iteration loop
// too.)
// CHECK-LABEL: func.func @chunk
// CHECK: nvgpu.device_async_copy {{.*}}, 4 {bypassL1} : memref<1x64x128xf32, strided<[16384, 128, 1], offset: ?>> to memref<1x64x128xf32, strided<[8448, 132, 1]>, #gpu.address_space<workgroup>>
// CHECK: {{^}}      %{{.*}}:2 = scf.for %[[CHUNK:.*]] = %c0 to %c2 step %c1 iter_args(%[[S0:.*]] = %{{.*}}, %[[S1:.*]] = %{{.*}}) -> (vector<2x2xf32>, vector<2x2xf32>) {
// CHECK: vector.store {{.*}} : memref<1x2x4xf32, strided<[8192, 32, 1], offset: ?>>, vector<4xf32>
// CHECK: gpu.barrier
// CHECK-NOT: gpu.barrier
// CHECK: nvvm.cp.async.wait.group 0
// CHECK-NEXT: gpu.barrier
// CHECK: nvgpu.mma.sync
// CHECK: gpu.barrier
// CHECK: nvgpu.device_async_copy
// CHECK: nvgpu.device_async_create_group
// CHECK-NEXT: }
// CHECK-NOT: gpu.barrier
// CHECK: arith.subf
// CHECK-NOT: gpu.barrier
// CHECK: math.exp
// CHECK: gpu.barrier
// CHECK: nvgpu.device_async_create_group
// CHECK-NOT: gpu.barrier
// CHECK: %[[FIRST:.*]] = arith.cmpi eq, %[[CHUNK]], %c0 : index
// CHECK-NEXT: scf.if %[[FIRST]] -> (vector<2x2xf32>) {
// CHECK-NEXT: memref.load %[[S:[a-z0-9_]+]][%{{.*}}] : memref<1x128x8xf32, #gpu.address_space<workgroup>>
// CHECK: } else {
// CHECK-NEXT: scf.yield %[[S0]] : vector<2x2xf32>
// CHECK-NEXT: }
// CHECK-NOT: memref.store
// CHECK: math.exp
// CHECK: scf.if %[[FIRST]] -> (vector<2x2xf32>) {
// CHECK: } else {
// CHECK-NEXT: scf.yield %[[S1]] : vector<2x2xf32>
// CHECK-NOT: gpu.barrier
// CHECK-NOT: memref.load %[[S]][
// CHECK: nvgpu.mma.sync
// CHECK-NOT: memref.load %[[S]][
// CHECK: memref.store %{{.*}}, %[[S]][%{{.*}}] : memref<1x128x8xf32, #gpu.address_space<workgroup>>
// CHECK-NOT: memref.load %[[S]][
// CHECK: gpu.barrier
// CHECK: nvgpu.device_async_copy {{.*}}, 4 {bypassL1} : memref<1x64x128xf32, strided<[16384, 128, 1], offset: ?>> to memref<1x64x128xf32, strided<[8704, 136, 1]>, #gpu.address_space<workgroup>>
// CHECK: nvgpu.device_async_create_group
// CHECK-NOT: gpu.barrier
// CHECK: nvgpu.device_async_create_group
// CHECK-NOT: gpu.barrier
// CHECK: scf.yield %{{.*}}#0, %{{.*}}#1 : vector<2x2xf32>, vector<2x2xf32>
// CHECK-NEXT: {{^}}      }
// CHECK: gpu.barrier
// CHECK-NEXT: gpu.terminator
// NOCARRY-LABEL: func.func @chunk
// NOCARRY: {{^}}      scf.for %{{.*}} = %c0 to %c2 step %c1 {
// NOCARRY: gpu.barrier
// NOCARRY-NOT: gpu.barrier
// NOCARRY: nvvm.cp.async.wait.group 0
// NOCARRY-NOT: scf.if %{{.*}} -> (vector<2x2xf32>)
// NOCARRY: {{^}}      }
// COPY-LABEL: func.func @chunk
// COPY: {{^}}      %{{.*}}:2 = scf.for %{{.*}} = %c0 to %c2 step %c1 iter_args(
// COPY-NOT: gpu.barrier
// COPY: nvvm.cp.async.wait.group 0
// COPY: scf.if %{{.*}} -> (vector<2x2xf32>) {
// COPY: } else {
// COPY: vector.store {{.*}} : memref<1x128x8xf32, strided<[8192, 32, 1], offset: ?>>, vector<2xf32>
// COPY: nvgpu.mma.sync
// TPAD1: memref.alloc() : memref<1x64x129xf32, #gpu.address_space<workgroup>>
// TPAD1: nvgpu.device_async_copy {{.*}}, 1 : memref<1x64x128xf32, strided<[16384, 128, 1], offset: ?>> to memref<1x64x128xf32, strided<[8256, 129, 1]>, #gpu.address_space<workgroup>>
// ELIM-LABEL: func.func @chunk
// ELIM: {{^}}      {{(%[0-9]+:2 = )?}}scf.for %{{.*}} = %c0 to %c2 step %c1 {{(iter_args.* )?}}{
// ELIM-COUNT-5: gpu.barrier
// ELIM-NOT: gpu.barrier
// ELIM: gpu.terminator
// SYNC-LABEL: func.func @chunk
// SYNC-NOT: nvgpu.device_async_copy
// SYNC: {{^}}      {{(%[0-9]+:2 = )?}}scf.for %{{.*}} = %c0 to %c2 step %c1 {{(iter_args.* )?}}{
// SYNC-COUNT-7: gpu.barrier
// SYNC-NOT: gpu.barrier
// SYNC: gpu.terminator
// SYNCELIM-LABEL: func.func @chunk
// SYNCELIM: {{^}}      {{(%[0-9]+:2 = )?}}scf.for %{{.*}} = %c0 to %c2 step %c1 {{(iter_args.* )?}}{
// SYNCELIM-COUNT-5: gpu.barrier
// SYNCELIM-NOT: gpu.barrier
// SYNCELIM: gpu.terminator
// NOFOLD-LABEL: func.func @chunk
// NOFOLD: {{^}}      {{(%[0-9]+:2 = )?}}scf.for %{{.*}} = %c0 to %c2 step %c1 {{(iter_args.* )?}}{
// NOFOLD-COUNT-7: gpu.barrier
// NOFOLD-NOT: gpu.barrier
// NOFOLD: gpu.terminator
// PREV-LABEL: func.func @chunk
// PREV: {{^}}      {{(%[0-9]+:2 = )?}}scf.for %{{.*}} = %c0 to %c2 step %c1 {{(iter_args.* )?}}{
// PREV-COUNT-8: gpu.barrier
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
