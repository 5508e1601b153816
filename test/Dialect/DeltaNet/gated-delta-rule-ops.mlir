// RUN: deltanet-opt %s | FileCheck %s
// RUN: deltanet-opt %s | deltanet-opt | FileCheck %s
// RUN: deltanet-opt %s --mlir-print-op-generic | deltanet-opt | FileCheck %s

// CHECK-LABEL: func.func @chunk
// CHECK: %{{.*}}, %{{.*}} = deltanet.chunk_gated_delta_rule %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {chunk_size = 64 : i64, scale = 0.0883999988 : f32} : (tensor<2x?x4x128xf32>, tensor<2x?x4x128xf32>, tensor<2x?x8x64xf32>, tensor<2x?x8xf32>, tensor<2x?x8xf32>, tensor<2x8x128x64xf32>) -> (tensor<2x?x8x64xf32>, tensor<2x8x128x64xf32>)
func.func @chunk(%q: tensor<2x?x4x128xf32>, %k: tensor<2x?x4x128xf32>, %v: tensor<2x?x8x64xf32>, %g: tensor<2x?x8xf32>, %beta: tensor<2x?x8xf32>, %h0: tensor<2x8x128x64xf32>) -> (tensor<2x?x8x64xf32>, tensor<2x8x128x64xf32>) {
  %o, %hT = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %beta, %h0 {chunk_size = 64 : i64, scale = 0.0884 : f32} : (tensor<2x?x4x128xf32>, tensor<2x?x4x128xf32>, tensor<2x?x8x64xf32>, tensor<2x?x8xf32>, tensor<2x?x8xf32>, tensor<2x8x128x64xf32>) -> (tensor<2x?x8x64xf32>, tensor<2x8x128x64xf32>)
  return %o, %hT : tensor<2x?x8x64xf32>, tensor<2x8x128x64xf32>
}

// CHECK-LABEL: func.func @recurrent_bf16
// CHECK: deltanet.recurrent_gated_delta_rule {{.*}} {use_qk_l2norm} : (tensor<?x1x2x64xbf16>, tensor<?x1x2x64xbf16>, tensor<?x1x2x32xbf16>, tensor<?x1x2xf32>, tensor<?x1x2xbf16>, tensor<?x2x64x32xf32>) -> (tensor<?x1x2x32xbf16>, tensor<?x2x64x32xf32>)
func.func @recurrent_bf16(%q: tensor<?x1x2x64xbf16>, %k: tensor<?x1x2x64xbf16>, %v: tensor<?x1x2x32xbf16>, %g: tensor<?x1x2xf32>, %beta: tensor<?x1x2xbf16>, %h0: tensor<?x2x64x32xf32>) -> (tensor<?x1x2x32xbf16>, tensor<?x2x64x32xf32>) {
  %o, %hT = deltanet.recurrent_gated_delta_rule %q, %k, %v, %g, %beta, %h0 {use_qk_l2norm} : (tensor<?x1x2x64xbf16>, tensor<?x1x2x64xbf16>, tensor<?x1x2x32xbf16>, tensor<?x1x2xf32>, tensor<?x1x2xbf16>, tensor<?x2x64x32xf32>) -> (tensor<?x1x2x32xbf16>, tensor<?x2x64x32xf32>)
  return %o, %hT : tensor<?x1x2x32xbf16>, tensor<?x2x64x32xf32>
}

// CHECK-LABEL: func.func @stages
// CHECK: deltanet.gated_kkt
// CHECK: deltanet.wy_repr
// CHECK: deltanet.chunk_state_scan
// CHECK: deltanet.chunk_output {{.*}} {scale = 2.500000e-01 : f32}
func.func @stages(%k: tensor<?x16x8xf32>, %v: tensor<?x16x4xf32>, %g: tensor<?x16xf32>, %beta: tensor<?x16xf32>,
                  %k4: tensor<?x?x16x8xf32>, %w4: tensor<?x?x16x8xf32>, %u4: tensor<?x?x16x4xf32>, %g4: tensor<?x?x16xf32>, %h0: tensor<?x8x4xf32>,
                  %s: tensor<?x8x4xf32>) -> tensor<?x16x4xf32> {
  %a = deltanet.gated_kkt %k, %g, %beta : (tensor<?x16x8xf32>, tensor<?x16xf32>, tensor<?x16xf32>) -> tensor<?x16x16xf32>
  %t = deltanet.tri_inv %a : tensor<?x16x16xf32>
  %w, %u = deltanet.wy_repr %t, %k, %v, %g, %beta : (tensor<?x16x16xf32>, tensor<?x16x8xf32>, tensor<?x16x4xf32>, tensor<?x16xf32>, tensor<?x16xf32>) -> (tensor<?x16x8xf32>, tensor<?x16x4xf32>)
  %states, %vnew, %final = deltanet.chunk_state_scan %k4, %w4, %u4, %g4, %h0 : (tensor<?x?x16x8xf32>, tensor<?x?x16x8xf32>, tensor<?x?x16x4xf32>, tensor<?x?x16xf32>, tensor<?x8x4xf32>) -> (tensor<?x?x8x4xf32>, tensor<?x?x16x4xf32>, tensor<?x8x4xf32>)
  %o = deltanet.chunk_output %k, %k, %u, %s, %g {scale = 0.25 : f32} : (tensor<?x16x8xf32>, tensor<?x16x8xf32>, tensor<?x16x4xf32>, tensor<?x8x4xf32>, tensor<?x16xf32>) -> tensor<?x16x4xf32>
  return %o : tensor<?x16x4xf32>
}
