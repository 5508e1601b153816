// RUN: deltanet-opt %s --deltanet-lower-tri-inv="tolerance=1e-3" -split-input-file -verify-diagnostics

// tolerance=E picks, per op, the cheapest order and residual steps of the
// rule table (docs/TriInvTolerance.md) whose bound is <= E, and says so.

// Blocked: truncating the 16 x 16 diagonal blocks never pays (they are
// cheap), so the exact order is the cheapest row within 1e-3.
func.func @blocked(%a: tensor<?x64x64xf32>) -> tensor<?x64x64xf32> {
  // expected-remark @+1 {{tolerance 0.001: order 4, residual_steps 0 (rule-table bound 3.2e-07)}}
  %x = deltanet.tri_inv %a : tensor<?x64x64xf32>
  return %x : tensor<?x64x64xf32>
}

// -----

// Neumann at C = 64: the exact order alone loses f32 digits to the
// cancelling powers (bound 6.0e-3); order 5 and one residual step hold.
func.func @neumann(%a: tensor<?x64x64xf32>) -> tensor<?x64x64xf32> {
  // expected-remark @+1 {{tolerance 0.001: order 5, residual_steps 1 (rule-table bound 8.6e-08)}}
  %x = deltanet.tri_inv %a {strategy = #deltanet.strategy<neumann>} : tensor<?x64x64xf32>
  return %x : tensor<?x64x64xf32>
}

// -----

// C = 48 uses the rows of C = 64.
func.func @untabulated_size(%a: tensor<48x48xf32>) -> tensor<48x48xf32> {
  // expected-remark @+1 {{tolerance 0.001: order 5, residual_steps 1 (rule-table bound 8.6e-08)}}
  %x = deltanet.tri_inv %a {strategy = #deltanet.strategy<neumann>} : tensor<48x48xf32>
  return %x : tensor<48x48xf32>
}

// -----

// An op that sets its order keeps it: no remark.
func.func @explicit_order(%a: tensor<64x64xf32>) -> tensor<64x64xf32> {
  %x = deltanet.tri_inv %a {strategy = #deltanet.strategy<neumann>, order = 2 : i64} : tensor<64x64xf32>
  return %x : tensor<64x64xf32>
}

// -----

// INT8 cannot reach 1e-3: an error naming the best bound.
func.func @int8(%a: tensor<?x64x64xf32>) -> tensor<?x64x64xf32> {
  // expected-error @+1 {{'deltanet.tri_inv' op tolerance 0.001 cannot be met by the blocked strategy in i8 at C = 64: the smallest bound of the rule table is 1.0e-02}}
  %x = deltanet.tri_inv %a {precision = #deltanet.precision<i8>} : tensor<?x64x64xf32>
  return %x : tensor<?x64x64xf32>
}

// -----

func.func @forward_substitution_bf16(%a: tensor<?x64x64xf32>) -> tensor<?x64x64xf32> {
  // expected-error @+1 {{'deltanet.tri_inv' op tolerance 0.001 cannot be met by the forward_substitution strategy in bf16 at C = 64: the smallest bound of the rule table is 4.0e-03}}
  %x = deltanet.tri_inv %a {strategy = #deltanet.strategy<forward_substitution>, precision = #deltanet.precision<bf16>} : tensor<?x64x64xf32>
  return %x : tensor<?x64x64xf32>
}

// -----

func.func @too_large(%a: tensor<256x256xf32>) -> tensor<256x256xf32> {
  // expected-error @+1 {{'deltanet.tri_inv' op the tolerance rule table covers C <= 128, not 256}}
  %x = deltanet.tri_inv %a : tensor<256x256xf32>
  return %x : tensor<256x256xf32>
}

// -----

func.func @other_block_size(%a: tensor<64x64xf32>) -> tensor<64x64xf32> {
  // expected-error @+1 {{'deltanet.tri_inv' op the tolerance rule table covers the blocked strategy with its default block size 16, not 8}}
  %x = deltanet.tri_inv %a {block_size = 8 : i64} : tensor<64x64xf32>
  return %x : tensor<64x64xf32>
}
