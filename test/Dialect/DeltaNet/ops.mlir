// RUN: deltanet-opt %s | FileCheck %s
// RUN: deltanet-opt %s | deltanet-opt | FileCheck %s
// RUN: deltanet-opt %s --mlir-print-op-generic | deltanet-opt | FileCheck %s

// CHECK-LABEL: func.func @tri_inv_2d
// CHECK: %[[X:.*]] = deltanet.tri_inv %{{.*}} : tensor<64x64xf32>
// CHECK: return %[[X]]
func.func @tri_inv_2d(%a: tensor<64x64xf32>) -> tensor<64x64xf32> {
  %x = deltanet.tri_inv %a : tensor<64x64xf32>
  return %x : tensor<64x64xf32>
}

// CHECK-LABEL: func.func @tri_inv_dynamic_batch
// CHECK: deltanet.tri_inv %{{.*}} : tensor<?x4x?x32x32xbf16>
func.func @tri_inv_dynamic_batch(%a: tensor<?x4x?x32x32xbf16>) -> tensor<?x4x?x32x32xbf16> {
  %x = deltanet.tri_inv %a : tensor<?x4x?x32x32xbf16>
  return %x : tensor<?x4x?x32x32xbf16>
}

// CHECK-LABEL: func.func @tri_inv_attrs
// CHECK: deltanet.tri_inv %{{.*}} {block_size = 8 : i64, strategy = #deltanet.strategy<blocked>} : tensor<2x64x64xf16>
// CHECK: deltanet.tri_inv %{{.*}} {order = 3 : i64, residual_steps = 2 : i64, strategy = #deltanet.strategy<neumann>} : tensor<2x64x64xf16>
// CHECK: deltanet.tri_inv %{{.*}} {precision = #deltanet.precision<bf16>, strategy = #deltanet.strategy<forward_substitution>} : tensor<2x64x64xf16>
func.func @tri_inv_attrs(%a: tensor<2x64x64xf16>) -> (tensor<2x64x64xf16>, tensor<2x64x64xf16>, tensor<2x64x64xf16>) {
  %x = deltanet.tri_inv %a {strategy = #deltanet.strategy<blocked>, block_size = 8 : i64} : tensor<2x64x64xf16>
  %y = deltanet.tri_inv %a {strategy = #deltanet.strategy<neumann>, order = 3 : i64, residual_steps = 2 : i64} : tensor<2x64x64xf16>
  %z = deltanet.tri_inv %a {strategy = #deltanet.strategy<forward_substitution>, precision = #deltanet.precision<bf16>} : tensor<2x64x64xf16>
  return %x, %y, %z : tensor<2x64x64xf16>, tensor<2x64x64xf16>, tensor<2x64x64xf16>
}

// CHECK-LABEL: func.func @tri_inv_size_one
// CHECK: deltanet.tri_inv %{{.*}} : tensor<3x1x1xf32>
func.func @tri_inv_size_one(%a: tensor<3x1x1xf32>) -> tensor<3x1x1xf32> {
  %x = deltanet.tri_inv %a : tensor<3x1x1xf32>
  return %x : tensor<3x1x1xf32>
}
