// RUN: deltanet-opt %s -split-input-file -verify-diagnostics

func.func @quantize_f16(%a: tensor<4x4xf16>) {
  // expected-error @+1 {{'deltanet.quantize' op input must be a tensor of f32, got 'tensor<4x4xf16>'}}
  %q, %s = deltanet.quantize %a along [1] : tensor<4x4xf16> -> tensor<4x4xi8>, tensor<4xf32>
  return
}

// -----

func.func @quantize_input_encoding(%a: tensor<4x4xf32, "enc">) {
  // expected-error @+1 {{'deltanet.quantize' op input must not have a tensor encoding, got 'tensor<4x4xf32, "enc">'}}
  %q, %s = deltanet.quantize %a along [1] : tensor<4x4xf32, "enc"> -> tensor<4x4xi8>, tensor<4xf32>
  return
}

// -----

func.func @quantize_scale_encoding(%a: tensor<4x4xf32>) {
  // expected-error @+1 {{'deltanet.quantize' op scale must not have a tensor encoding, got 'tensor<4xf32, "enc">'}}
  %q, %s = deltanet.quantize %a along [1] : tensor<4x4xf32> -> tensor<4x4xi8>, tensor<4xf32, "enc">
  return
}

// -----

func.func @quantize_no_dims(%a: tensor<4x4xf32>) {
  // expected-error @+1 {{'deltanet.quantize' op reduction_dims must not be empty}}
  %q, %s = deltanet.quantize %a along [] : tensor<4x4xf32> -> tensor<4x4xi8>, tensor<4x4xf32>
  return
}

// -----

func.func @quantize_dim_out_of_range(%a: tensor<4x4xf32>) {
  // expected-error @+1 {{'deltanet.quantize' op reduction dim 2 is out of range for rank 2}}
  %q, %s = deltanet.quantize %a along [2] : tensor<4x4xf32> -> tensor<4x4xi8>, tensor<4xf32>
  return
}

// -----

func.func @quantize_unsorted_dims(%a: tensor<2x4x4xf32>) {
  // expected-error @+1 {{'deltanet.quantize' op reduction_dims must be strictly increasing}}
  %q, %s = deltanet.quantize %a along [2, 1] : tensor<2x4x4xf32> -> tensor<2x4x4xi8>, tensor<2xf32>
  return
}

// -----

func.func @quantize_to_i16(%a: tensor<4x4xf32>) {
  // expected-error @+1 {{'deltanet.quantize' op quantized result must be a tensor of i8 with the input's shape, got 'tensor<4x4xi16>'}}
  %q, %s = deltanet.quantize %a along [1] : tensor<4x4xf32> -> tensor<4x4xi16>, tensor<4xf32>
  return
}

// -----

func.func @quantize_bad_scale_shape(%a: tensor<2x4x8xf32>) {
  // expected-error @+1 {{'deltanet.quantize' op scale must be a tensor of f32 with the input's shape without the reduction dims ('tensor<2x8xf32>'), got 'tensor<2x4xf32>'}}
  %q, %s = deltanet.quantize %a along [1] : tensor<2x4x8xf32> -> tensor<2x4x8xi8>, tensor<2x4xf32>
  return
}

// -----

func.func @dequantize_f32_acc(%acc: tensor<2x4x4xf32>, %s: tensor<2x4xf32>) {
  // expected-error @+1 {{'deltanet.dequantize' op acc must be a tensor of i32, got 'tensor<2x4x4xf32>'}}
  %y = deltanet.dequantize %acc, %s, %s : (tensor<2x4x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4x4xf32>
  return
}

// -----

func.func @dequantize_scale_rank(%acc: tensor<2x4x4xi32>, %s: tensor<2x4x4xf32>) {
  // expected-error @+1 {{'deltanet.dequantize' op scales must have rank 2 (per row of lhs and column of rhs) or 1 (per matrix), got rank 3}}
  %y = deltanet.dequantize %acc, %s, %s : (tensor<2x4x4xi32>, tensor<2x4x4xf32>, tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
  return
}

// -----

func.func @dequantize_rhs_scale_size(%acc: tensor<2x4x8xi32>, %sa: tensor<2x4xf32>, %sb: tensor<2x4xf32>) {
  // expected-error @+1 {{'deltanet.dequantize' op rhs_scale dim 1 (P) is 4, but acc has P = 8}}
  %y = deltanet.dequantize %acc, %sa, %sb : (tensor<2x4x8xi32>, tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4x8xf32>
  return
}

// -----

func.func @dequantize_mixed_scale_ranks(%acc: tensor<2x4x4xi32>, %sa: tensor<2x4xf32>, %sb: tensor<2xf32>) {
  // expected-error @+1 {{'deltanet.dequantize' op rhs_scale must have rank 2 ([N, P]), got 'tensor<2xf32>'}}
  %y = deltanet.dequantize %acc, %sa, %sb : (tensor<2x4x4xi32>, tensor<2x4xf32>, tensor<2xf32>) -> tensor<2x4x4xf32>
  return
}
