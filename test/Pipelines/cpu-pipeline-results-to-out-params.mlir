// RUN: deltanet-opt %s --deltanet-cpu-pipeline=results-to-out-params=1 -mlir-disable-threading -mlir-print-ir-after=convert-bufferization-to-memref -o /dev/null 2>&1 | FileCheck %s
// RUN: deltanet-opt %s --deltanet-cpu-pipeline=results-to-out-params=1 | FileCheck %s --check-prefix=LLVM
// RUN: deltanet-opt %s --deltanet-cpu-pipeline -mlir-disable-threading -mlir-print-ir-after=convert-bufferization-to-memref -o /dev/null 2>&1 | FileCheck %s --check-prefix=DEFAULT

// results-to-out-params (issue 13): destination-passing at the function
// boundary. Every memref result becomes an argument after the inputs (marked
// bufferize.result), which the function writes whole; the function returns
// nothing. A result allocated in the function (the chunk op's `o`) is
// computed in its argument: no allocation of it, no copy. A result left in a
// temporary (the final state, carried by the chunk loop) is copied into its
// argument, the temporary freed. The caller's buffers are never freed.

// CHECK-LABEL: IR Dump After ConvertBufferizationToMemRefPass
// CHECK: func.func @gdr(%{{.*}}: memref<1x128x2x16xf32>, {{.*}}, %{{.*}}: memref<1x2x16x16xf32>, %[[O:.*]]: memref<1x128x2x16xf32> {bufferize.result}, %[[S:.*]]: memref<1x2x16x16xf32> {bufferize.result}) attributes {llvm.emit_c_interface} {
// CHECK-NOT: memref.alloc() {{.*}} : memref<1x128x2x16xf32>
// CHECK-NOT: memref.alloc() {{.*}} : memref<1x2x16x16xf32>
// CHECK: scf.forall (%[[HEAD:.*]]) in (2)
// Each head's rows of `o`, each chunk's 64 tokens written into them.
// CHECK: %[[OHEAD:.*]] = memref.subview %[[O]][0, 0, %[[HEAD]], 0] [1, 128, 1, 16]
// CHECK: %[[OCHUNK:.*]] = memref.subview %[[OHEAD]][0, %{{.*}}, 0, 0] [1, 64, 1, 16]
// CHECK: linalg.generic {{.*}} outs(%[[OCHUNK]] :
// The head's final state copied into its place.
// CHECK: %[[SHEAD:.*]] = memref.subview %[[S]][0, %[[HEAD]], 0, 0] [1, 1, 16, 16]
// CHECK: memref.copy %{{.*}}, %[[SHEAD]]
// CHECK-NOT: memref.dealloc %[[O]]
// CHECK-NOT: memref.dealloc %[[S]]
// CHECK: return{{$}}
func.func @gdr(%q: tensor<1x128x2x16xf32>, %k: tensor<1x128x2x16xf32>, %v: tensor<1x128x2x16xf32>,
               %g: tensor<1x128x2xf32>, %beta: tensor<1x128x2xf32>, %h0: tensor<1x2x16x16xf32>)
    -> (tensor<1x128x2x16xf32>, tensor<1x2x16x16xf32>) attributes {llvm.emit_c_interface} {
  %o, %s = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %beta, %h0 {chunk_size = 64 : i64}
      : (tensor<1x128x2x16xf32>, tensor<1x128x2x16xf32>, tensor<1x128x2x16xf32>, tensor<1x128x2xf32>,
         tensor<1x128x2xf32>, tensor<1x2x16x16xf32>) -> (tensor<1x128x2x16xf32>, tensor<1x2x16x16xf32>)
  return %o, %s : tensor<1x128x2x16xf32>, tensor<1x2x16x16xf32>
}

// A dynamic batch: the caller's buffer has the result's shape (the batch of
// the input); the result is computed in a temporary and copied into it.
// CHECK-LABEL: func.func @inverse_dynamic_batch
// CHECK-SAME: (%{{.*}}: memref<?x16x16xf32>, %[[OUT:.*]]: memref<?x16x16xf32> {bufferize.result}) attributes
// CHECK: memref.copy %{{.*}}, %[[OUT]] : memref<?x16x16xf32> to memref<?x16x16xf32>
// CHECK-NOT: memref.dealloc %[[OUT]]
// CHECK: return{{$}}
func.func @inverse_dynamic_batch(%a: tensor<?x16x16xf32>) -> tensor<?x16x16xf32> attributes {llvm.emit_c_interface} {
  %x = deltanet.tri_inv %a : tensor<?x16x16xf32>
  return %x : tensor<?x16x16xf32>
}

// A returned input is copied into the out-param (the input stays the
// caller's, unwritten).
// CHECK-LABEL: func.func @identity
// CHECK-SAME: (%[[IN:.*]]: memref<4x16xf32>, %[[OUT:.*]]: memref<4x16xf32> {bufferize.result})
// CHECK-NEXT: memref.copy %[[IN]], %[[OUT]]
// CHECK-NEXT: return{{$}}
func.func @identity(%a: tensor<4x16xf32>) -> tensor<4x16xf32> {
  return %a : tensor<4x16xf32>
}

// The out-params' data (aligned) pointers are noalias in the LLVM function
// (deltanet-cpu-record / apply-out-params-noalias): q, k, v (rank 4: 11
// arguments each), g, beta (rank 3: 9), h0 (11) take arguments 0-61, `o`
// 62-72, the state 73-83.
// LLVM-LABEL: llvm.func @gdr(
// LLVM-SAME: %arg61: i64, %arg62: !llvm.ptr, %arg63: !llvm.ptr {llvm.noalias}, %arg64: i64,
// LLVM-SAME: %arg73: !llvm.ptr, %arg74: !llvm.ptr {llvm.noalias}, %arg75: i64,
// LLVM-NOT: deltanet.
// LLVM-SAME: {
// The C interface takes the out-params as descriptors after the inputs and
// returns nothing (no result struct).
// LLVM: llvm.func @_mlir_ciface_gdr(%arg0: !llvm.ptr, %arg1: !llvm.ptr, %arg2: !llvm.ptr, %arg3: !llvm.ptr, %arg4: !llvm.ptr, %arg5: !llvm.ptr, %arg6: !llvm.ptr {bufferize.result}, %arg7: !llvm.ptr {bufferize.result}) attributes {llvm.emit_c_interface}
// LLVM-LABEL: llvm.func @inverse_dynamic_batch(
// LLVM-SAME: %arg8: i64, %arg9: !llvm.ptr, %arg10: !llvm.ptr {llvm.noalias}, %arg11: i64,
// LLVM: llvm.func @_mlir_ciface_inverse_dynamic_batch(%arg0: !llvm.ptr, %arg1: !llvm.ptr {bufferize.result}) attributes {llvm.emit_c_interface}

// Off by default: the results are returned (callee-allocated).
// DEFAULT: func.func @gdr({{.*}}) -> (memref<1x128x2x16xf32>, memref<1x2x16x16xf32>)
// DEFAULT: memref.alloc() {{.*}} : memref<1x128x2x16xf32>
// DEFAULT: func.func @inverse_dynamic_batch(%{{.*}}: memref<?x16x16xf32>) -> memref<?x16x16xf32>
