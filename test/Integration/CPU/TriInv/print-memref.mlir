// The flow of a user program: inputs as dense literals (hex included), a
// deltanet op, bufferization.to_buffer, printMemrefF32. Every strategy.
// RUN: deltanet-opt %s --deltanet-cpu-pipeline | %mlir_runner | FileCheck %s
// RUN: deltanet-opt %s --deltanet-cpu-pipeline="tri-inv-strategy=forward-substitution" | %mlir_runner | FileCheck %s
// RUN: deltanet-opt %s --deltanet-cpu-pipeline="tri-inv-strategy=neumann" | %mlir_runner | FileCheck %s
// RUN: deltanet-opt %s --deltanet-cpu-pipeline="tri-inv-block-size=2 tri-inv-residual-steps=1" | %mlir_runner | FileCheck %s
// Blocks of 2 and 1 without residual steps: the values below come from the
// merges X21 = -X22 (L21 X11) alone. (One residual step after a 2-block merge
// repairs any error in X21, whose square vanishes: the run above cannot see
// a wrong merge.)
// RUN: deltanet-opt %s --deltanet-cpu-pipeline="tri-inv-block-size=2" | %mlir_runner | FileCheck %s
// RUN: deltanet-opt %s --deltanet-cpu-pipeline="tri-inv-block-size=1" | %mlir_runner | FileCheck %s
// RUN: deltanet-opt %s --deltanet-cpu-pipeline="tri-inv-strategy=neumann tri-inv-order=1 tri-inv-residual-steps=1" | %mlir_runner | FileCheck %s

// L = a * (strictly lower ones) has (I + L)^-1 [i, j] = -a (1 - a)^(i-j-1)
// below the diagonal: a = 1 gives a bidiagonal inverse, a = 1/2 halves
// along each column. The 7s and -20.5s on and above the diagonal are
// garbage the op must ignore.

// CHECK: rank = 2 offset = 0 sizes = [4, 4] strides = [4, 1] data =
// CHECK-NEXT: {{\[\[}}1,   0,   0,   0],
// CHECK-NEXT:  [-1,   1,   0,   0],
// CHECK-NEXT:  [0,   -1,   1,   0],
// CHECK-NEXT:  [0,   0,   -1,   1]]
// CHECK: rank = 3 offset = 0 sizes = [2, 4, 4] strides = [16, 4, 1] data =
// CHECK-NEXT: {{\[\[\[}}1,    0,    0,    0],
// CHECK-NEXT:   [-1,    1,    0,    0],
// CHECK-NEXT:   [0,    -1,    1,    0],
// CHECK-NEXT:   [0,    0,    -1,    1]],
// CHECK-NEXT:  {{\[\[}}1,    0,    0,    0],
// CHECK-NEXT:   [-0.5,    1,    0,    0],
// CHECK-NEXT:   [-0.25,    -0.5,    1,    0],
// CHECK-NEXT:   [-0.125,    -0.25,    -0.5,    1]]]

func.func private @printMemrefF32(memref<*xf32>)

func.func @main() {
  %a = arith.constant dense<[[7.0, 7.0, 7.0, 7.0], [1.0, 7.0, 7.0, 7.0], [1.0, 1.0, 7.0, 7.0], [1.0, 1.0, 1.0, 7.0]]> : tensor<4x4xf32>
  %x = deltanet.tri_inv %a : tensor<4x4xf32>
  %xm = bufferization.to_buffer %x : tensor<4x4xf32> to memref<4x4xf32>
  %xu = memref.cast %xm : memref<4x4xf32> to memref<*xf32>
  call @printMemrefF32(%xu) : (memref<*xf32>) -> ()

  %b = arith.constant dense<"0x0000E0400000E0400000E0400000E0400000803F0000E0400000E0400000E0400000803F0000803F0000E0400000E0400000803F0000803F0000803F0000E0400000A8C10000A8C10000A8C10000A8C10000003F0000A8C10000A8C10000A8C10000003F0000003F0000A8C10000A8C10000003F0000003F0000003F0000A8C1"> : tensor<2x4x4xf32>
  %y = deltanet.tri_inv %b : tensor<2x4x4xf32>
  %ym = bufferization.to_buffer %y : tensor<2x4x4xf32> to memref<2x4x4xf32>
  %yu = memref.cast %ym : memref<2x4x4xf32> to memref<*xf32>
  call @printMemrefF32(%yu) : (memref<*xf32>) -> ()
  return
}
