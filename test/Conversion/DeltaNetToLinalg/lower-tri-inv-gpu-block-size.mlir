// RUN: deltanet-opt %s --deltanet-lower-tri-inv="target=gpu" | FileCheck %s
// RUN: deltanet-opt %s --deltanet-lower-tri-inv="target=gpu block-size=4" | FileCheck %s --check-prefix=OPTION

// The GPU's default diagonal blocks depend on the matrix's element type
// (TargetInfo::getDefaultTriInvBlockSize(precision, elementType)): 4 x 4
// for f32, 2 x 2 for bf16 (faster on an H200 with the checked 16-byte
// accesses, docs/GPU.md session 7). Blocks of 4 are inverted exactly by a
// Neumann factor over their 3 x 3 strictly lower part (tensor<2x16x3x3xf32>,
// 16 blocks); blocks of 2 need none. An explicit block size wins (the CPU's
// default does not depend on the element type).
// CHECK-LABEL: func.func @f32
// CHECK: tensor<2x16x3x3xf32>
// CHECK-LABEL: func.func @bf16
// CHECK-NOT: tensor<2x16x3x3xf32>
// CHECK: tensor<2x16x2x2xf32>
// CHECK-NOT: tensor<2x16x3x3xf32>
// CHECK: return
// OPTION-LABEL: func.func @bf16
// OPTION: tensor<2x16x3x3xf32>
func.func @f32(%a: tensor<2x64x64xf32>) -> tensor<2x64x64xf32> {
  %x = deltanet.tri_inv %a : tensor<2x64x64xf32>
  return %x : tensor<2x64x64xf32>
}

func.func @bf16(%a: tensor<2x64x64xbf16>) -> tensor<2x64x64xbf16> {
  %x = deltanet.tri_inv %a : tensor<2x64x64xbf16>
  return %x : tensor<2x64x64xbf16>
}
