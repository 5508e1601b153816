// RUN: deltanet-opt %s --split-input-file --deltanet-cpu-record-out-params-noalias | FileCheck %s --check-prefix=RECORD
// RUN: deltanet-opt %s --split-input-file --deltanet-cpu-record-out-params-noalias --finalize-memref-to-llvm --convert-func-to-llvm --deltanet-cpu-apply-out-params-noalias --reconcile-unrealized-casts | FileCheck %s
// RUN: deltanet-opt %s --split-input-file --finalize-memref-to-llvm --convert-func-to-llvm --deltanet-cpu-apply-out-params-noalias --reconcile-unrealized-casts | FileCheck %s --check-prefix=NONE

// An out-param (bufferize.result) after a rank-1 input and an index: the
// input takes LLVM arguments 0-4 (allocated, aligned, offset, size, stride),
// the index 5, the out-param 6-10: its aligned pointer is argument 7; the
// rank-2 out-param after it 11-17, aligned 12.

// RECORD-LABEL: func.func @two_out_params
// RECORD-SAME: deltanet.llvm_argument_count = 18 : i64
// RECORD-SAME: deltanet.noalias_arguments = array<i64: 7, 12>

// CHECK-LABEL: llvm.func @two_out_params(
// CHECK-SAME: %arg6: !llvm.ptr, %arg7: !llvm.ptr {llvm.noalias}, %arg8: i64,
// CHECK-SAME: %arg11: !llvm.ptr, %arg12: !llvm.ptr {llvm.noalias}, %arg13: i64,
// CHECK-NOT: deltanet.
// CHECK-SAME: {
// The C-interface wrapper (one pointer per memref) keeps no noalias.
// CHECK-LABEL: llvm.func @_mlir_ciface_two_out_params(
// CHECK-NOT: llvm.noalias
// CHECK-NOT: deltanet.
// CHECK-SAME: {

// Without the record step nothing is marked (convert-func-to-llvm drops the
// attributes of memrefs expanded into several arguments).
// NONE-NOT: llvm.noalias
func.func @two_out_params(%a: memref<16xf32>, %n: index, %o: memref<16xf32> {bufferize.result},
                          %s: memref<4x4xf32> {bufferize.result}) attributes {llvm.emit_c_interface} {
  %c0 = arith.constant 0 : index
  %v = memref.load %a[%n] : memref<16xf32>
  memref.store %v, %o[%c0] : memref<16xf32>
  memref.store %v, %s[%c0, %c0] : memref<4x4xf32>
  return
}

// -----

// No out-param: nothing recorded.
// RECORD-LABEL: func.func @no_out_params
// RECORD-NOT: deltanet.
// RECORD: return
func.func @no_out_params(%a: memref<16xf32>, %o: memref<16xf32>) {
  %c0 = arith.constant 0 : index
  %v = memref.load %a[%c0] : memref<16xf32>
  memref.store %v, %o[%c0] : memref<16xf32>
  return
}
