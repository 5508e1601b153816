// Verifier diagnostics of deltanet.tri_inv not covered by invalid.mlir. Each
// one is an error at the op's location; without -verify-diagnostics
// deltanet-opt exits with code 1 (never a crash), one located error per case.
// RUN: deltanet-opt %s -split-input-file -verify-diagnostics
// RUN: sed -e 's/expected-error.*//' %s > %t.mlir
// RUN: %exit_code 1 deltanet-opt %t.mlir -split-input-file 2>&1 | FileCheck %s --check-prefix=LOC
// LOC-COUNT-12: .mlir.tmp.mlir:{{[0-9]+}}:{{[0-9]+}}: error: {{(custom op )?}}'deltanet.
// LOC-NOT: error:

func.func @block_zero(%a: tensor<64x64xf32>) -> tensor<64x64xf32> {
  // expected-error @+1 {{'deltanet.tri_inv' op block_size must be a positive power of two, got 0}}
  %x = deltanet.tri_inv %a {block_size = 0 : i64} : tensor<64x64xf32>
  return %x : tensor<64x64xf32>
}

// -----

func.func @block_larger_than_c(%a: tensor<16x16xf32>) -> tensor<16x16xf32> {
  // expected-error @+1 {{'deltanet.tri_inv' op block_size 32 does not divide the matrix size 16}}
  %x = deltanet.tri_inv %a {block_size = 32 : i64} : tensor<16x16xf32>
  return %x : tensor<16x16xf32>
}

// -----

func.func @block_with_forward_substitution(%a: tensor<64x64xf32>) -> tensor<64x64xf32> {
  // expected-error @+1 {{'deltanet.tri_inv' op block_size only applies to the 'blocked' strategy, but strategy is 'forward_substitution'}}
  %x = deltanet.tri_inv %a {strategy = #deltanet.strategy<forward_substitution>, block_size = 16 : i64} : tensor<64x64xf32>
  return %x : tensor<64x64xf32>
}

// -----

func.func @order_negative(%a: tensor<64x64xf32>) -> tensor<64x64xf32> {
  // The attribute has no "-1 = exact" spelling: omit it instead.
  // expected-error @+1 {{'deltanet.tri_inv' op order must be >= 1, got -1}}
  %x = deltanet.tri_inv %a {order = -1 : i64} : tensor<64x64xf32>
  return %x : tensor<64x64xf32>
}

// -----

func.func @order_min_int(%a: tensor<64x64xf32>) -> tensor<64x64xf32> {
  // expected-error @+1 {{'deltanet.tri_inv' op order must be >= 1, got -9223372036854775808}}
  %x = deltanet.tri_inv %a {order = -9223372036854775808 : i64} : tensor<64x64xf32>
  return %x : tensor<64x64xf32>
}

// -----

func.func @steps_min_int(%a: tensor<64x64xf32>) -> tensor<64x64xf32> {
  // expected-error @+1 {{'deltanet.tri_inv' op residual_steps must be >= 0, got -9223372036854775808}}
  %x = deltanet.tri_inv %a {residual_steps = -9223372036854775808 : i64} : tensor<64x64xf32>
  return %x : tensor<64x64xf32>
}

// -----

func.func @block_i32(%a: tensor<64x64xf32>) -> tensor<64x64xf32> {
  // expected-error @+1 {{'deltanet.tri_inv' op attribute 'block_size' failed to satisfy constraint: 64-bit signless integer attribute}}
  %x = deltanet.tri_inv %a {block_size = 16 : i32} : tensor<64x64xf32>
  return %x : tensor<64x64xf32>
}

// -----

func.func @strategy_integer(%a: tensor<64x64xf32>) -> tensor<64x64xf32> {
  // expected-error @+1 {{'deltanet.tri_inv' op attribute 'strategy' failed to satisfy constraint: lowering strategy of `deltanet.tri_inv`}}
  %x = deltanet.tri_inv %a {strategy = 1 : i64} : tensor<64x64xf32>
  return %x : tensor<64x64xf32>
}

// -----

func.func @integer_matrix(%a: tensor<2x16x16xi32>) -> tensor<2x16x16xi32> {
  // expected-error @+1 {{'deltanet.tri_inv' op element type must be f32, f16 or bf16, got 'i32'}}
  %x = deltanet.tri_inv %a : tensor<2x16x16xi32>
  return %x : tensor<2x16x16xi32>
}

// -----

func.func @empty_batch(%a: tensor<2x0x16x16xf32>) -> tensor<2x0x16x16xf32> {
  // Empty batches were accepted and then failed inside the lowering
  // ("offset 0 is out-of-bounds" on a tensor.extract_slice).
  // expected-error @+1 {{'deltanet.tri_inv' op batch dim 1 must be at least 1 (empty batches are not supported), got 0}}
  %x = deltanet.tri_inv %a : tensor<2x0x16x16xf32>
  return %x : tensor<2x0x16x16xf32>
}

// -----

func.func @encoding(%a: tensor<16x16xf32, "enc">) -> tensor<16x16xf32, "enc"> {
  // Encodings were accepted and dropped by the lowering (invalid IR).
  // expected-error @+1 {{'deltanet.tri_inv' op operand must not have a tensor encoding, got 'tensor<16x16xf32, "enc">'}}
  %x = deltanet.tri_inv %a : tensor<16x16xf32, "enc">
  return %x : tensor<16x16xf32, "enc">
}

// -----

func.func @too_many_steps(%a: tensor<4x4xf32>) -> tensor<4x4xf32> {
  // 1000 steps used to take more than 100 s in the CPU pipeline.
  // expected-error @+1 {{'deltanet.tri_inv' op residual_steps must be at most 16, got 1000}}
  %x = deltanet.tri_inv %a {residual_steps = 1000 : i64} : tensor<4x4xf32>
  return %x : tensor<4x4xf32>
}
