// RUN: deltanet-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(deltanet-gpu-lower-chunk-prologue-to-mma-chain,canonicalize,cse))" | FileCheck %s
// RUN: not deltanet-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(deltanet-gpu-lower-chunk-prologue-to-mma-chain{row-padding=3}))" 2>&1 | FileCheck %s --check-prefix=BADPAD

// The decomposition's gathers (B = 1, T = 64, H = 1 key head, HV = 2 value
// heads, C = 32, K = V = 32): k, v and beta read from the bf16 inputs, the
// f32 gathers left dead.
#kmap = affine_map<(d0, d1, d2, d3, d4) -> (d0, d2 * 32 + d3, d1 floordiv 2, d4)>
#vmap = affine_map<(d0, d1, d2, d3, d4) -> (d0, d2 * 32 + d3, d1, d4)>
#bmap = affine_map<(d0, d1, d2, d3) -> (d0, d2 * 32 + d3, d1)>
#id5 = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>
#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
func.func @gathered(%k: tensor<1x64x1x32xbf16>, %v: tensor<1x64x2x32xbf16>, %beta: tensor<1x64x2xbf16>, %g: tensor<4x32xf32>) -> (tensor<4x32x32xbf16>, tensor<4x32x32xf32>) {
  %e0 = tensor.empty() : tensor<1x2x2x32x32xf32>
  %kg = linalg.generic {indexing_maps = [#kmap, #id5], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%k : tensor<1x64x1x32xbf16>) outs(%e0 : tensor<1x2x2x32x32xf32>) {
  ^bb0(%in: bf16, %out: f32):
    %x = arith.extf %in : bf16 to f32
    linalg.yield %x : f32
  } -> tensor<1x2x2x32x32xf32>
  %vg = linalg.generic {indexing_maps = [#vmap, #id5], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%v : tensor<1x64x2x32xbf16>) outs(%e0 : tensor<1x2x2x32x32xf32>) {
  ^bb0(%in: bf16, %out: f32):
    %x = arith.extf %in : bf16 to f32
    linalg.yield %x : f32
  } -> tensor<1x2x2x32x32xf32>
  %e1 = tensor.empty() : tensor<1x2x2x32xf32>
  %bg = linalg.generic {indexing_maps = [#bmap, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%beta : tensor<1x64x2xbf16>) outs(%e1 : tensor<1x2x2x32xf32>) {
  ^bb0(%in: bf16, %out: f32):
    %x = arith.extf %in : bf16 to f32
    linalg.yield %x : f32
  } -> tensor<1x2x2x32xf32>
  %kc = tensor.collapse_shape %kg [[0, 1, 2], [3], [4]] : tensor<1x2x2x32x32xf32> into tensor<4x32x32xf32>
  %vc = tensor.collapse_shape %vg [[0, 1, 2], [3], [4]] : tensor<1x2x2x32x32xf32> into tensor<4x32x32xf32>
  %bc = tensor.collapse_shape %bg [[0, 1, 2], [3]] : tensor<1x2x2x32xf32> into tensor<4x32xf32>
  %a = deltanet.gated_kkt %kc, %g, %bc : (tensor<4x32x32xf32>, tensor<4x32xf32>, tensor<4x32xf32>) -> tensor<4x32x32xf32>
  %t = deltanet.tri_inv %a : tensor<4x32x32xf32>
  %w, %u = deltanet.wy_repr %t, %kc, %vc, %g, %bc : (tensor<4x32x32xf32>, tensor<4x32x32xf32>, tensor<4x32x32xf32>, tensor<4x32xf32>, tensor<4x32xf32>) -> (tensor<4x32x32xbf16>, tensor<4x32x32xf32>)
  return %w, %u : tensor<4x32x32xbf16>, tensor<4x32x32xf32>
}

// -----

// Plain f32 operands (f16 products): element loads, no alignment test.
func.func @plain_f16(%k: tensor<3x16x16xf32>, %v: tensor<3x16x32xf32>, %g: tensor<3x16xf32>, %beta: tensor<3x16xf32>) -> (tensor<3x16x16xf16>, tensor<3x16x32xf32>) {
  %a = deltanet.gated_kkt %k, %g, %beta : (tensor<3x16x16xf32>, tensor<3x16xf32>, tensor<3x16xf32>) -> tensor<3x16x16xf32>
  %t = deltanet.tri_inv %a : tensor<3x16x16xf32>
  %w, %u = deltanet.wy_repr %t, %k, %v, %g, %beta : (tensor<3x16x16xf32>, tensor<3x16x16xf32>, tensor<3x16x32xf32>, tensor<3x16xf32>, tensor<3x16xf32>) -> (tensor<3x16x16xf16>, tensor<3x16x32xf32>)
  return %w, %u : tensor<3x16x16xf16>, tensor<3x16x32xf32>
}

// -----

// Refused: f32 w (f32 products), and C = 128.
func.func @refused_f32(%k: tensor<2x32x32xf32>, %v: tensor<2x32x32xf32>, %g: tensor<2x32xf32>, %beta: tensor<2x32xf32>) -> (tensor<2x32x32xf32>, tensor<2x32x32xf32>) {
  %a = deltanet.gated_kkt %k, %g, %beta : (tensor<2x32x32xf32>, tensor<2x32xf32>, tensor<2x32xf32>) -> tensor<2x32x32xf32>
  %t = deltanet.tri_inv %a : tensor<2x32x32xf32>
  %w, %u = deltanet.wy_repr %t, %k, %v, %g, %beta : (tensor<2x32x32xf32>, tensor<2x32x32xf32>, tensor<2x32x32xf32>, tensor<2x32xf32>, tensor<2x32xf32>) -> (tensor<2x32x32xf32>, tensor<2x32x32xf32>)
  return %w, %u : tensor<2x32x32xf32>, tensor<2x32x32xf32>
}

func.func @refused_chunk(%k: tensor<1x128x32xf32>, %v: tensor<1x128x32xf32>, %g: tensor<1x128xf32>, %beta: tensor<1x128xf32>) -> (tensor<1x128x32xbf16>, tensor<1x128x32xf32>) {
  %a = deltanet.gated_kkt %k, %g, %beta : (tensor<1x128x32xf32>, tensor<1x128xf32>, tensor<1x128xf32>) -> tensor<1x128x128xf32>
  %t = deltanet.tri_inv %a : tensor<1x128x128xf32>
  %w, %u = deltanet.wy_repr %t, %k, %v, %g, %beta : (tensor<1x128x128xf32>, tensor<1x128x32xf32>, tensor<1x128x32xf32>, tensor<1x128xf32>, tensor<1x128xf32>) -> (tensor<1x128x32xbf16>, tensor<1x128x32xf32>)
  return %w, %u : tensor<1x128x32xbf16>, tensor<1x128x32xf32>
}
