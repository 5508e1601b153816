// RUN: deltanet-opt %s --deltanet-cpu-pipeline | FileCheck %s

// The CPU pipeline leaves only the LLVM dialect; functions marked
// llvm.emit_c_interface get a `_mlir_ciface_` wrapper taking memref
// descriptors, callable from C and C++ (result first, by pointer).

// CHECK-NOT: deltanet.
// CHECK-NOT: linalg.
// CHECK-NOT: tensor.
// CHECK-LABEL: llvm.func @inverse
// CHECK-LABEL: llvm.func @_mlir_ciface_inverse(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr)
// CHECK: llvm.call @inverse
// CHECK-LABEL: llvm.func @inverse_dynamic
// CHECK-LABEL: llvm.func @_mlir_ciface_inverse_dynamic(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr)
// CHECK-NOT: deltanet.
// CHECK-NOT: linalg.
func.func @inverse(%a: tensor<4x64x64xf32>) -> tensor<4x64x64xf32> attributes {llvm.emit_c_interface} {
  %x = deltanet.tri_inv %a : tensor<4x64x64xf32>
  return %x : tensor<4x64x64xf32>
}

func.func @inverse_dynamic(%a: tensor<?x2x64x64xbf16>) -> tensor<?x2x64x64xbf16> attributes {llvm.emit_c_interface} {
  %x = deltanet.tri_inv %a {strategy = #deltanet.strategy<neumann>, order = 3 : i64, residual_steps = 1 : i64} : tensor<?x2x64x64xbf16>
  return %x : tensor<?x2x64x64xbf16>
}

// Several dynamic batch dims (their re-expansion avoids a crash of
// expand-strided-metadata on multi-dynamic memref.expand_shape).
// CHECK-LABEL: llvm.func @_mlir_ciface_inverse_two_dynamic_dims
func.func @inverse_two_dynamic_dims(%a: tensor<?x?x16x16xf32>) -> tensor<?x?x16x16xf32> attributes {llvm.emit_c_interface} {
  %x = deltanet.tri_inv %a : tensor<?x?x16x16xf32>
  return %x : tensor<?x?x16x16xf32>
}
