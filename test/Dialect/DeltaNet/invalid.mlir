// RUN: deltanet-opt %s -split-input-file -verify-diagnostics

func.func @rank_one(%a: tensor<64xf32>) -> tensor<64xf32> {
  // expected-error @+1 {{'deltanet.tri_inv' op operand must have rank >= 2 (batch dims followed by a C x C matrix), got rank 1}}
  %x = deltanet.tri_inv %a : tensor<64xf32>
  return %x : tensor<64xf32>
}

// -----

func.func @non_square(%a: tensor<4x64x32xf32>) -> tensor<4x64x32xf32> {
  // expected-error @+1 {{'deltanet.tri_inv' op trailing matrix must be square, got 64x32}}
  %x = deltanet.tri_inv %a : tensor<4x64x32xf32>
  return %x : tensor<4x64x32xf32>
}

// -----

func.func @dynamic_matrix(%a: tensor<4x?x?xf32>) -> tensor<4x?x?xf32> {
  // expected-error @+1 {{'deltanet.tri_inv' op trailing matrix dims must be static, got 'tensor<4x?x?xf32>'}}
  %x = deltanet.tri_inv %a : tensor<4x?x?xf32>
  return %x : tensor<4x?x?xf32>
}

// -----

func.func @f64(%a: tensor<64x64xf64>) -> tensor<64x64xf64> {
  // expected-error @+1 {{'deltanet.tri_inv' op element type must be f32, f16 or bf16, got 'f64'}}
  %x = deltanet.tri_inv %a : tensor<64x64xf64>
  return %x : tensor<64x64xf64>
}

// -----

func.func @integer(%a: tensor<64x64xi8>) -> tensor<64x64xi8> {
  // expected-error @+1 {{'deltanet.tri_inv' op element type must be f32, f16 or bf16, got 'i8'}}
  %x = deltanet.tri_inv %a : tensor<64x64xi8>
  return %x : tensor<64x64xi8>
}

// -----

func.func @empty_matrix(%a: tensor<0x0xf32>) -> tensor<0x0xf32> {
  // expected-error @+1 {{'deltanet.tri_inv' op matrix size must be at least 1, got 0}}
  %x = deltanet.tri_inv %a : tensor<0x0xf32>
  return %x : tensor<0x0xf32>
}

// -----

func.func @block_not_power_of_two(%a: tensor<48x48xf32>) -> tensor<48x48xf32> {
  // expected-error @+1 {{'deltanet.tri_inv' op block_size must be a positive power of two, got 12}}
  %x = deltanet.tri_inv %a {block_size = 12 : i64} : tensor<48x48xf32>
  return %x : tensor<48x48xf32>
}

// -----

func.func @block_negative(%a: tensor<64x64xf32>) -> tensor<64x64xf32> {
  // expected-error @+1 {{'deltanet.tri_inv' op block_size must be a positive power of two, got -16}}
  %x = deltanet.tri_inv %a {block_size = -16 : i64} : tensor<64x64xf32>
  return %x : tensor<64x64xf32>
}

// -----

func.func @block_not_dividing(%a: tensor<48x48xf32>) -> tensor<48x48xf32> {
  // expected-error @+1 {{'deltanet.tri_inv' op block_size 32 does not divide the matrix size 48}}
  %x = deltanet.tri_inv %a {block_size = 32 : i64} : tensor<48x48xf32>
  return %x : tensor<48x48xf32>
}

// -----

func.func @block_with_neumann(%a: tensor<64x64xf32>) -> tensor<64x64xf32> {
  // expected-error @+1 {{'deltanet.tri_inv' op block_size only applies to the 'blocked' strategy, but strategy is 'neumann'}}
  %x = deltanet.tri_inv %a {strategy = #deltanet.strategy<neumann>, block_size = 16 : i64} : tensor<64x64xf32>
  return %x : tensor<64x64xf32>
}

// -----

func.func @order_zero(%a: tensor<64x64xf32>) -> tensor<64x64xf32> {
  // expected-error @+1 {{'deltanet.tri_inv' op order must be >= 1, got 0}}
  %x = deltanet.tri_inv %a {order = 0 : i64} : tensor<64x64xf32>
  return %x : tensor<64x64xf32>
}

// -----

func.func @order_with_forward_substitution(%a: tensor<64x64xf32>) -> tensor<64x64xf32> {
  // expected-error @+1 {{'deltanet.tri_inv' op order does not apply to the 'forward_substitution' strategy, which is exact}}
  %x = deltanet.tri_inv %a {strategy = #deltanet.strategy<forward_substitution>, order = 2 : i64} : tensor<64x64xf32>
  return %x : tensor<64x64xf32>
}

// -----

func.func @negative_residual_steps(%a: tensor<64x64xf32>) -> tensor<64x64xf32> {
  // expected-error @+1 {{'deltanet.tri_inv' op residual_steps must be >= 0, got -1}}
  %x = deltanet.tri_inv %a {residual_steps = -1 : i64} : tensor<64x64xf32>
  return %x : tensor<64x64xf32>
}

// -----

func.func @wrong_attr_type(%a: tensor<64x64xf32>) -> tensor<64x64xf32> {
  // expected-error @+1 {{'deltanet.tri_inv' op attribute 'order' failed to satisfy constraint: 64-bit signless integer attribute}}
  %x = deltanet.tri_inv %a {order = 2.0 : f32} : tensor<64x64xf32>
  return %x : tensor<64x64xf32>
}

// -----

func.func @unknown_strategy(%a: tensor<64x64xf32>) -> tensor<64x64xf32> {
  // expected-error @+2 {{expected ::mlir::deltanet::TriInvStrategy to be one of: forward_substitution, neumann, blocked}}
  // expected-error @+1 {{failed to parse DeltaNet_TriInvStrategyAttr parameter 'value'}}
  %x = deltanet.tri_inv %a {strategy = #deltanet.strategy<cholesky>} : tensor<64x64xf32>
  return %x : tensor<64x64xf32>
}

// -----

func.func @result_type_mismatch(%a: tensor<64x64xf32>) -> tensor<64x64xf16> {
  // expected-error @+1 {{'deltanet.tri_inv' op requires the same type for all operands and results}}
  %x = "deltanet.tri_inv"(%a) : (tensor<64x64xf32>) -> tensor<64x64xf16>
  return %x : tensor<64x64xf16>
}

// -----

func.func @unknown_precision(%a: tensor<64x64xf32>) -> tensor<64x64xf32> {
  // expected-error @+2 {{expected ::mlir::deltanet::TriInvPrecision to be one of: f32, bf16, f16}}
  // expected-error @+1 {{failed to parse DeltaNet_TriInvPrecisionAttr parameter 'value'}}
  %x = deltanet.tri_inv %a {precision = #deltanet.precision<f8>} : tensor<64x64xf32>
  return %x : tensor<64x64xf32>
}
