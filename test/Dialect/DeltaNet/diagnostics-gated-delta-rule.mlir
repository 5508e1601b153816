// Verifier diagnostics of the gated delta rule ops and the chunk stage ops
// not covered by gated-delta-rule-invalid.mlir (ranks, every named dim,
// dynamic and empty head dims, element types, scale, chunk_size). Each one is
// an error at the op's location; without -verify-diagnostics deltanet-opt
// exits with code 1 (never a crash), one located error per case.
// RUN: deltanet-opt %s -split-input-file -verify-diagnostics
// RUN: sed -e 's/expected-error.*//' %s > %t.mlir
// RUN: %exit_code 1 deltanet-opt %t.mlir -split-input-file 2>&1 | FileCheck %s --check-prefix=LOC
// LOC-COUNT-43: .mlir.tmp.mlir:{{[0-9]+}}:{{[0-9]+}}: error: {{(custom op )?}}'deltanet.
// LOC-NOT: error:

func.func @g_rank(%q: tensor<1x8x2x16xf32>, %k: tensor<1x8x2x16xf32>, %v: tensor<1x8x4x8xf32>, %g: tensor<1x8x4x1xf32>, %beta: tensor<1x8x4xf32>, %h0: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'deltanet.chunk_gated_delta_rule' op g must have rank 3 ([B, T, HV]), got 'tensor<1x8x4x1xf32>'}}
  %o, %hT = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %beta, %h0 {chunk_size = 16 : i64} : (tensor<1x8x2x16xf32>, tensor<1x8x2x16xf32>, tensor<1x8x4x8xf32>, tensor<1x8x4x1xf32>, tensor<1x8x4xf32>, tensor<1x4x16x8xf32>) -> (tensor<1x8x4x8xf32>, tensor<1x4x16x8xf32>)
  return
}

// -----

func.func @beta_rank(%q: tensor<1x8x2x16xf32>, %k: tensor<1x8x2x16xf32>, %v: tensor<1x8x4x8xf32>, %g: tensor<1x8x4xf32>, %beta: tensor<1x8xf32>, %h0: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'deltanet.recurrent_gated_delta_rule' op beta must have rank 3 ([B, T, HV]), got 'tensor<1x8xf32>'}}
  %o, %hT = deltanet.recurrent_gated_delta_rule %q, %k, %v, %g, %beta, %h0 : (tensor<1x8x2x16xf32>, tensor<1x8x2x16xf32>, tensor<1x8x4x8xf32>, tensor<1x8x4xf32>, tensor<1x8xf32>, tensor<1x4x16x8xf32>) -> (tensor<1x8x4x8xf32>, tensor<1x4x16x8xf32>)
  return
}

// -----

func.func @state_rank(%q: tensor<1x8x2x16xf32>, %k: tensor<1x8x2x16xf32>, %v: tensor<1x8x4x8xf32>, %g: tensor<1x8x4xf32>, %beta: tensor<1x8x4xf32>, %h0: tensor<4x16x8xf32>) {
  // expected-error @+1 {{'deltanet.chunk_gated_delta_rule' op initial_state must have rank 4 ([B, HV, K, V]), got 'tensor<4x16x8xf32>'}}
  %o, %hT = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %beta, %h0 {chunk_size = 16 : i64} : (tensor<1x8x2x16xf32>, tensor<1x8x2x16xf32>, tensor<1x8x4x8xf32>, tensor<1x8x4xf32>, tensor<1x8x4xf32>, tensor<4x16x8xf32>) -> (tensor<1x8x4x8xf32>, tensor<1x4x16x8xf32>)
  return
}

// -----

func.func @o_rank(%q: tensor<1x8x2x16xf32>, %k: tensor<1x8x2x16xf32>, %v: tensor<1x8x4x8xf32>, %g: tensor<1x8x4xf32>, %beta: tensor<1x8x4xf32>, %h0: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'deltanet.chunk_gated_delta_rule' op o must have rank 4 ([B, T, HV, V]), got 'tensor<8x4x8xf32>'}}
  %o, %hT = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %beta, %h0 {chunk_size = 16 : i64} : (tensor<1x8x2x16xf32>, tensor<1x8x2x16xf32>, tensor<1x8x4x8xf32>, tensor<1x8x4xf32>, tensor<1x8x4xf32>, tensor<1x4x16x8xf32>) -> (tensor<8x4x8xf32>, tensor<1x4x16x8xf32>)
  return
}

// -----

func.func @final_state_rank(%q: tensor<1x8x2x16xf32>, %k: tensor<1x8x2x16xf32>, %v: tensor<1x8x4x8xf32>, %g: tensor<1x8x4xf32>, %beta: tensor<1x8x4xf32>, %h0: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'deltanet.recurrent_gated_delta_rule' op final_state must have rank 4 ([B, HV, K, V]), got 'tensor<1x4x16xf32>'}}
  %o, %hT = deltanet.recurrent_gated_delta_rule %q, %k, %v, %g, %beta, %h0 : (tensor<1x8x2x16xf32>, tensor<1x8x2x16xf32>, tensor<1x8x4x8xf32>, tensor<1x8x4xf32>, tensor<1x8x4xf32>, tensor<1x4x16x8xf32>) -> (tensor<1x8x4x8xf32>, tensor<1x4x16xf32>)
  return
}

// -----

func.func @k_heads(%q: tensor<1x8x2x16xf32>, %k: tensor<1x8x3x16xf32>, %v: tensor<1x8x4x8xf32>, %g: tensor<1x8x4xf32>, %beta: tensor<1x8x4xf32>, %h0: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'deltanet.chunk_gated_delta_rule' op k dim 2 (H) is 3, but q has H = 2}}
  %o, %hT = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %beta, %h0 {chunk_size = 16 : i64} : (tensor<1x8x2x16xf32>, tensor<1x8x3x16xf32>, tensor<1x8x4x8xf32>, tensor<1x8x4xf32>, tensor<1x8x4xf32>, tensor<1x4x16x8xf32>) -> (tensor<1x8x4x8xf32>, tensor<1x4x16x8xf32>)
  return
}

// -----

func.func @g_value_heads(%q: tensor<1x8x2x16xf32>, %k: tensor<1x8x2x16xf32>, %v: tensor<1x8x4x8xf32>, %g: tensor<1x8x2xf32>, %beta: tensor<1x8x4xf32>, %h0: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'deltanet.chunk_gated_delta_rule' op g dim 2 (HV) is 2, but v has HV = 4}}
  %o, %hT = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %beta, %h0 {chunk_size = 16 : i64} : (tensor<1x8x2x16xf32>, tensor<1x8x2x16xf32>, tensor<1x8x4x8xf32>, tensor<1x8x2xf32>, tensor<1x8x4xf32>, tensor<1x4x16x8xf32>) -> (tensor<1x8x4x8xf32>, tensor<1x4x16x8xf32>)
  return
}

// -----

func.func @o_value_dim(%q: tensor<1x8x2x16xf32>, %k: tensor<1x8x2x16xf32>, %v: tensor<1x8x4x8xf32>, %g: tensor<1x8x4xf32>, %beta: tensor<1x8x4xf32>, %h0: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'deltanet.chunk_gated_delta_rule' op o dim 3 (V) is 4, but v has V = 8}}
  %o, %hT = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %beta, %h0 {chunk_size = 16 : i64} : (tensor<1x8x2x16xf32>, tensor<1x8x2x16xf32>, tensor<1x8x4x8xf32>, tensor<1x8x4xf32>, tensor<1x8x4xf32>, tensor<1x4x16x8xf32>) -> (tensor<1x8x4x4xf32>, tensor<1x4x16x8xf32>)
  return
}

// -----

func.func @final_state_batch(%q: tensor<1x8x2x16xf32>, %k: tensor<1x8x2x16xf32>, %v: tensor<1x8x4x8xf32>, %g: tensor<1x8x4xf32>, %beta: tensor<1x8x4xf32>, %h0: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'deltanet.recurrent_gated_delta_rule' op final_state dim 0 (B) is 2, but q has B = 1}}
  %o, %hT = deltanet.recurrent_gated_delta_rule %q, %k, %v, %g, %beta, %h0 : (tensor<1x8x2x16xf32>, tensor<1x8x2x16xf32>, tensor<1x8x4x8xf32>, tensor<1x8x4xf32>, tensor<1x8x4xf32>, tensor<1x4x16x8xf32>) -> (tensor<1x8x4x8xf32>, tensor<2x4x16x8xf32>)
  return
}

// -----

func.func @beta_tokens(%q: tensor<1x8x2x16xf32>, %k: tensor<1x8x2x16xf32>, %v: tensor<1x8x4x8xf32>, %g: tensor<1x8x4xf32>, %beta: tensor<1x7x4xf32>, %h0: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'deltanet.chunk_gated_delta_rule' op beta dim 1 (T) is 7, but q has T = 8}}
  %o, %hT = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %beta, %h0 {chunk_size = 16 : i64} : (tensor<1x8x2x16xf32>, tensor<1x8x2x16xf32>, tensor<1x8x4x8xf32>, tensor<1x8x4xf32>, tensor<1x7x4xf32>, tensor<1x4x16x8xf32>) -> (tensor<1x8x4x8xf32>, tensor<1x4x16x8xf32>)
  return
}

// -----

func.func @dynamic_key_dim(%q: tensor<1x8x2x?xf32>, %k: tensor<1x8x2x?xf32>, %v: tensor<1x8x4x8xf32>, %g: tensor<1x8x4xf32>, %beta: tensor<1x8x4xf32>, %h0: tensor<1x4x?x8xf32>) {
  // expected-error @+1 {{'deltanet.chunk_gated_delta_rule' op head count and head dims (H, HV, K, V) must be static, but K is dynamic}}
  %o, %hT = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %beta, %h0 {chunk_size = 16 : i64} : (tensor<1x8x2x?xf32>, tensor<1x8x2x?xf32>, tensor<1x8x4x8xf32>, tensor<1x8x4xf32>, tensor<1x8x4xf32>, tensor<1x4x?x8xf32>) -> (tensor<1x8x4x8xf32>, tensor<1x4x?x8xf32>)
  return
}

// -----

func.func @dynamic_value_heads(%q: tensor<1x8x2x16xf32>, %k: tensor<1x8x2x16xf32>, %v: tensor<1x8x?x8xf32>, %g: tensor<1x8x?xf32>, %beta: tensor<1x8x?xf32>, %h0: tensor<1x?x16x8xf32>) {
  // expected-error @+1 {{'deltanet.recurrent_gated_delta_rule' op head count and head dims (H, HV, K, V) must be static, but HV is dynamic}}
  %o, %hT = deltanet.recurrent_gated_delta_rule %q, %k, %v, %g, %beta, %h0 : (tensor<1x8x2x16xf32>, tensor<1x8x2x16xf32>, tensor<1x8x?x8xf32>, tensor<1x8x?xf32>, tensor<1x8x?xf32>, tensor<1x?x16x8xf32>) -> (tensor<1x8x?x8xf32>, tensor<1x?x16x8xf32>)
  return
}

// -----

func.func @zero_heads(%q: tensor<1x8x0x16xf32>, %k: tensor<1x8x0x16xf32>, %v: tensor<1x8x4x8xf32>, %g: tensor<1x8x4xf32>, %beta: tensor<1x8x4xf32>, %h0: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'deltanet.chunk_gated_delta_rule' op q dim 2 (H) must be at least 1, got 0}}
  %o, %hT = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %beta, %h0 {chunk_size = 16 : i64} : (tensor<1x8x0x16xf32>, tensor<1x8x0x16xf32>, tensor<1x8x4x8xf32>, tensor<1x8x4xf32>, tensor<1x8x4xf32>, tensor<1x4x16x8xf32>) -> (tensor<1x8x4x8xf32>, tensor<1x4x16x8xf32>)
  return
}

// -----

func.func @zero_key_dim(%q: tensor<1x8x2x0xf32>, %k: tensor<1x8x2x0xf32>, %v: tensor<1x8x4x8xf32>, %g: tensor<1x8x4xf32>, %beta: tensor<1x8x4xf32>, %h0: tensor<1x4x0x8xf32>) {
  // expected-error @+1 {{'deltanet.recurrent_gated_delta_rule' op q dim 3 (K) must be at least 1, got 0}}
  %o, %hT = deltanet.recurrent_gated_delta_rule %q, %k, %v, %g, %beta, %h0 : (tensor<1x8x2x0xf32>, tensor<1x8x2x0xf32>, tensor<1x8x4x8xf32>, tensor<1x8x4xf32>, tensor<1x8x4xf32>, tensor<1x4x0x8xf32>) -> (tensor<1x8x4x8xf32>, tensor<1x4x0x8xf32>)
  return
}

// -----

func.func @hv_not_multiple_recurrent(%q: tensor<1x8x2x16xf32>, %k: tensor<1x8x2x16xf32>, %v: tensor<1x8x3x8xf32>, %g: tensor<1x8x3xf32>, %beta: tensor<1x8x3xf32>, %h0: tensor<1x3x16x8xf32>) {
  // expected-error @+1 {{'deltanet.recurrent_gated_delta_rule' op the number of value heads HV = 3 must be a multiple of the number of q/k heads H = 2}}
  %o, %hT = deltanet.recurrent_gated_delta_rule %q, %k, %v, %g, %beta, %h0 : (tensor<1x8x2x16xf32>, tensor<1x8x2x16xf32>, tensor<1x8x3x8xf32>, tensor<1x8x3xf32>, tensor<1x8x3xf32>, tensor<1x3x16x8xf32>) -> (tensor<1x8x3x8xf32>, tensor<1x3x16x8xf32>)
  return
}

// -----

func.func @integer_qkv(%q: tensor<1x8x2x16xi32>, %k: tensor<1x8x2x16xi32>, %v: tensor<1x8x4x8xi32>, %g: tensor<1x8x4xf32>, %beta: tensor<1x8x4xf32>, %h0: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'deltanet.chunk_gated_delta_rule' op q, k and v must have element type f32, f16 or bf16, got 'i32'}}
  %o, %hT = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %beta, %h0 {chunk_size = 16 : i64} : (tensor<1x8x2x16xi32>, tensor<1x8x2x16xi32>, tensor<1x8x4x8xi32>, tensor<1x8x4xf32>, tensor<1x8x4xf32>, tensor<1x4x16x8xf32>) -> (tensor<1x8x4x8xi32>, tensor<1x4x16x8xf32>)
  return
}

// -----

func.func @v_type(%q: tensor<1x8x2x16xf16>, %k: tensor<1x8x2x16xf16>, %v: tensor<1x8x4x8xf32>, %g: tensor<1x8x4xf32>, %beta: tensor<1x8x4xf32>, %h0: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'deltanet.chunk_gated_delta_rule' op v must have q's element type 'f16', got 'tensor<1x8x4x8xf32>'}}
  %o, %hT = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %beta, %h0 {chunk_size = 16 : i64} : (tensor<1x8x2x16xf16>, tensor<1x8x2x16xf16>, tensor<1x8x4x8xf32>, tensor<1x8x4xf32>, tensor<1x8x4xf32>, tensor<1x4x16x8xf32>) -> (tensor<1x8x4x8xf32>, tensor<1x4x16x8xf32>)
  return
}

// -----

func.func @o_type(%q: tensor<1x8x2x16xf32>, %k: tensor<1x8x2x16xf32>, %v: tensor<1x8x4x8xf32>, %g: tensor<1x8x4xf32>, %beta: tensor<1x8x4xf32>, %h0: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'deltanet.recurrent_gated_delta_rule' op o must have q's element type 'f32', got 'tensor<1x8x4x8xbf16>'}}
  %o, %hT = deltanet.recurrent_gated_delta_rule %q, %k, %v, %g, %beta, %h0 : (tensor<1x8x2x16xf32>, tensor<1x8x2x16xf32>, tensor<1x8x4x8xf32>, tensor<1x8x4xf32>, tensor<1x8x4xf32>, tensor<1x4x16x8xf32>) -> (tensor<1x8x4x8xbf16>, tensor<1x4x16x8xf32>)
  return
}

// -----

func.func @g_type(%q: tensor<1x8x2x16xf32>, %k: tensor<1x8x2x16xf32>, %v: tensor<1x8x4x8xf32>, %g: tensor<1x8x4xf16>, %beta: tensor<1x8x4xf32>, %h0: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'deltanet.chunk_gated_delta_rule' op g must have element type f32 or q's element type 'f32', got 'tensor<1x8x4xf16>'}}
  %o, %hT = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %beta, %h0 {chunk_size = 16 : i64} : (tensor<1x8x2x16xf32>, tensor<1x8x2x16xf32>, tensor<1x8x4x8xf32>, tensor<1x8x4xf16>, tensor<1x8x4xf32>, tensor<1x4x16x8xf32>) -> (tensor<1x8x4x8xf32>, tensor<1x4x16x8xf32>)
  return
}

// -----

func.func @beta_type(%q: tensor<1x8x2x16xbf16>, %k: tensor<1x8x2x16xbf16>, %v: tensor<1x8x4x8xbf16>, %g: tensor<1x8x4xf32>, %beta: tensor<1x8x4xf16>, %h0: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'deltanet.chunk_gated_delta_rule' op beta must have element type f32 or q's element type 'bf16', got 'tensor<1x8x4xf16>'}}
  %o, %hT = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %beta, %h0 {chunk_size = 16 : i64} : (tensor<1x8x2x16xbf16>, tensor<1x8x2x16xbf16>, tensor<1x8x4x8xbf16>, tensor<1x8x4xf32>, tensor<1x8x4xf16>, tensor<1x4x16x8xf32>) -> (tensor<1x8x4x8xbf16>, tensor<1x4x16x8xf32>)
  return
}

// -----

func.func @state_type(%q: tensor<1x8x2x16xf32>, %k: tensor<1x8x2x16xf32>, %v: tensor<1x8x4x8xf32>, %g: tensor<1x8x4xf32>, %beta: tensor<1x8x4xf32>, %h0: tensor<1x4x16x8xf64>) {
  // expected-error @+1 {{'deltanet.chunk_gated_delta_rule' op initial_state must have element type f32 or q's element type 'f32', got 'tensor<1x4x16x8xf64>'}}
  %o, %hT = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %beta, %h0 {chunk_size = 16 : i64} : (tensor<1x8x2x16xf32>, tensor<1x8x2x16xf32>, tensor<1x8x4x8xf32>, tensor<1x8x4xf32>, tensor<1x8x4xf32>, tensor<1x4x16x8xf64>) -> (tensor<1x8x4x8xf32>, tensor<1x4x16x8xf64>)
  return
}

// -----

func.func @final_state_type(%q: tensor<1x8x2x16xf16>, %k: tensor<1x8x2x16xf16>, %v: tensor<1x8x4x8xf16>, %g: tensor<1x8x4xf32>, %beta: tensor<1x8x4xf32>, %h0: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'deltanet.chunk_gated_delta_rule' op final_state must have initial_state's element type, got 'tensor<1x4x16x8xf16>'}}
  %o, %hT = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %beta, %h0 {chunk_size = 16 : i64} : (tensor<1x8x2x16xf16>, tensor<1x8x2x16xf16>, tensor<1x8x4x8xf16>, tensor<1x8x4xf32>, tensor<1x8x4xf32>, tensor<1x4x16x8xf32>) -> (tensor<1x8x4x8xf16>, tensor<1x4x16x8xf16>)
  return
}

// -----

func.func @nan_scale(%q: tensor<1x8x2x16xf32>, %k: tensor<1x8x2x16xf32>, %v: tensor<1x8x4x8xf32>, %g: tensor<1x8x4xf32>, %beta: tensor<1x8x4xf32>, %h0: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'deltanet.chunk_gated_delta_rule' op scale must be finite and non-zero}}
  %o, %hT = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %beta, %h0 {chunk_size = 16 : i64, scale = 0x7FC00000 : f32} : (tensor<1x8x2x16xf32>, tensor<1x8x2x16xf32>, tensor<1x8x4x8xf32>, tensor<1x8x4xf32>, tensor<1x8x4xf32>, tensor<1x4x16x8xf32>) -> (tensor<1x8x4x8xf32>, tensor<1x4x16x8xf32>)
  return
}

// -----

func.func @inf_scale(%q: tensor<1x8x2x16xf32>, %k: tensor<1x8x2x16xf32>, %v: tensor<1x8x4x8xf32>, %g: tensor<1x8x4xf32>, %beta: tensor<1x8x4xf32>, %h0: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'deltanet.recurrent_gated_delta_rule' op scale must be finite and non-zero}}
  %o, %hT = deltanet.recurrent_gated_delta_rule %q, %k, %v, %g, %beta, %h0 {scale = 0x7F800000 : f32} : (tensor<1x8x2x16xf32>, tensor<1x8x2x16xf32>, tensor<1x8x4x8xf32>, tensor<1x8x4xf32>, tensor<1x8x4xf32>, tensor<1x4x16x8xf32>) -> (tensor<1x8x4x8xf32>, tensor<1x4x16x8xf32>)
  return
}

// -----

func.func @chunk_size_negative(%q: tensor<1x8x2x16xf32>, %k: tensor<1x8x2x16xf32>, %v: tensor<1x8x4x8xf32>, %g: tensor<1x8x4xf32>, %beta: tensor<1x8x4xf32>, %h0: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'deltanet.chunk_gated_delta_rule' op chunk_size must be a positive power of two, got -16}}
  %o, %hT = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %beta, %h0 {chunk_size = -16 : i64} : (tensor<1x8x2x16xf32>, tensor<1x8x2x16xf32>, tensor<1x8x4x8xf32>, tensor<1x8x4xf32>, tensor<1x8x4xf32>, tensor<1x4x16x8xf32>) -> (tensor<1x8x4x8xf32>, tensor<1x4x16x8xf32>)
  return
}

// -----

func.func @chunk_size_min_int(%q: tensor<1x8x2x16xf32>, %k: tensor<1x8x2x16xf32>, %v: tensor<1x8x4x8xf32>, %g: tensor<1x8x4xf32>, %beta: tensor<1x8x4xf32>, %h0: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'deltanet.chunk_gated_delta_rule' op chunk_size must be a positive power of two, got -9223372036854775808}}
  %o, %hT = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %beta, %h0 {chunk_size = -9223372036854775808 : i64} : (tensor<1x8x2x16xf32>, tensor<1x8x2x16xf32>, tensor<1x8x4x8xf32>, tensor<1x8x4xf32>, tensor<1x8x4xf32>, tensor<1x4x16x8xf32>) -> (tensor<1x8x4x8xf32>, tensor<1x4x16x8xf32>)
  return
}

// -----

func.func @chunk_size_f32(%q: tensor<1x8x2x16xf32>, %k: tensor<1x8x2x16xf32>, %v: tensor<1x8x4x8xf32>, %g: tensor<1x8x4xf32>, %beta: tensor<1x8x4xf32>, %h0: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'deltanet.chunk_gated_delta_rule' op attribute 'chunk_size' failed to satisfy constraint: 64-bit signless integer attribute}}
  %o, %hT = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %beta, %h0 {chunk_size = 16.0 : f32} : (tensor<1x8x2x16xf32>, tensor<1x8x2x16xf32>, tensor<1x8x4x8xf32>, tensor<1x8x4xf32>, tensor<1x8x4xf32>, tensor<1x4x16x8xf32>) -> (tensor<1x8x4x8xf32>, tensor<1x4x16x8xf32>)
  return
}

// -----

func.func @scale_f64(%q: tensor<1x8x2x16xf32>, %k: tensor<1x8x2x16xf32>, %v: tensor<1x8x4x8xf32>, %g: tensor<1x8x4xf32>, %beta: tensor<1x8x4xf32>, %h0: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'deltanet.chunk_gated_delta_rule' op attribute 'scale' failed to satisfy constraint: 32-bit float attribute}}
  %o, %hT = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %beta, %h0 {chunk_size = 16 : i64, scale = 1.0 : f64} : (tensor<1x8x2x16xf32>, tensor<1x8x2x16xf32>, tensor<1x8x4x8xf32>, tensor<1x8x4xf32>, tensor<1x8x4xf32>, tensor<1x4x16x8xf32>) -> (tensor<1x8x4x8xf32>, tensor<1x4x16x8xf32>)
  return
}

// -----

func.func @kkt_rank(%a0: tensor<4x16xf32>, %a1: tensor<4x16xf32>, %a2: tensor<4x16xf32>) {
  // expected-error @+1 {{'deltanet.gated_kkt' op k must have rank 3 ([N, C, K]), got 'tensor<4x16xf32>'}}
  %r0 = deltanet.gated_kkt %a0, %a1, %a2 : (tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16x16xf32>
  return
}

// -----

func.func @kkt_result_shape(%a0: tensor<4x16x8xf32>, %a1: tensor<4x16xf32>, %a2: tensor<4x16xf32>) {
  // expected-error @+1 {{'deltanet.gated_kkt' op a dim 2 (C) is 8, but k has C = 16}}
  %r0 = deltanet.gated_kkt %a0, %a1, %a2 : (tensor<4x16x8xf32>, tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16x8xf32>
  return
}

// -----

func.func @wy_shape(%a0: tensor<4x16x16xf32>, %a1: tensor<4x16x8xf32>, %a2: tensor<4x16x4xf32>, %a3: tensor<4x16xf32>, %a4: tensor<4x8xf32>) {
  // expected-error @+1 {{'deltanet.wy_repr' op beta dim 1 (C) is 8, but t has C = 16}}
  %r0, %r1 = deltanet.wy_repr %a0, %a1, %a2, %a3, %a4 : (tensor<4x16x16xf32>, tensor<4x16x8xf32>, tensor<4x16x4xf32>, tensor<4x16xf32>, tensor<4x8xf32>) -> (tensor<4x16x8xf32>, tensor<4x16x4xf32>)
  return
}

// -----

func.func @wy_result(%a0: tensor<4x16x16xf32>, %a1: tensor<4x16x8xf32>, %a2: tensor<4x16x4xf32>, %a3: tensor<4x16xf32>, %a4: tensor<4x16xf32>) {
  // expected-error @+1 {{'deltanet.wy_repr' op u dim 2 (V) is 8, but v has V = 4}}
  %r0, %r1 = deltanet.wy_repr %a0, %a1, %a2, %a3, %a4 : (tensor<4x16x16xf32>, tensor<4x16x8xf32>, tensor<4x16x4xf32>, tensor<4x16xf32>, tensor<4x16xf32>) -> (tensor<4x16x8xf32>, tensor<4x16x8xf32>)
  return
}

// -----

func.func @wy_type(%a0: tensor<4x16x16xf32>, %a1: tensor<4x16x8xf16>, %a2: tensor<4x16x4xf32>, %a3: tensor<4x16xf32>, %a4: tensor<4x16xf32>) {
  // expected-error @+1 {{'deltanet.wy_repr' op expects f32 tensors, got 'tensor<4x16x8xf16>'}}
  %r0, %r1 = deltanet.wy_repr %a0, %a1, %a2, %a3, %a4 : (tensor<4x16x16xf32>, tensor<4x16x8xf16>, tensor<4x16x4xf32>, tensor<4x16xf32>, tensor<4x16xf32>) -> (tensor<4x16x8xf32>, tensor<4x16x4xf32>)
  return
}

// -----

func.func @scan_shape(%a0: tensor<2x3x16x8xf32>, %a1: tensor<2x3x16x8xf32>, %a2: tensor<2x3x16x4xf32>, %a3: tensor<2x3x16xf32>, %a4: tensor<2x4x8xf32>) {
  // expected-error @+1 {{'deltanet.chunk_state_scan' op initial_state dim 1 (K) is 4, but k has K = 8}}
  %r0, %r1, %r2 = deltanet.chunk_state_scan %a0, %a1, %a2, %a3, %a4 : (tensor<2x3x16x8xf32>, tensor<2x3x16x8xf32>, tensor<2x3x16x4xf32>, tensor<2x3x16xf32>, tensor<2x4x8xf32>) -> (tensor<2x3x8x4xf32>, tensor<2x3x16x4xf32>, tensor<2x8x4xf32>)
  return
}

// -----

// (u may be bf16 / f16: narrow-u; g may not.)
func.func @scan_type(%a0: tensor<2x3x16x8xf32>, %a1: tensor<2x3x16x8xf32>, %a2: tensor<2x3x16x4xf16>, %a3: tensor<2x3x16xf16>, %a4: tensor<2x8x4xf32>) {
  // expected-error @+1 {{'deltanet.chunk_state_scan' op expects f32 tensors, got 'tensor<2x3x16xf16>'}}
  %r0, %r1, %r2 = deltanet.chunk_state_scan %a0, %a1, %a2, %a3, %a4 : (tensor<2x3x16x8xf32>, tensor<2x3x16x8xf32>, tensor<2x3x16x4xf16>, tensor<2x3x16xf16>, tensor<2x8x4xf32>) -> (tensor<2x3x8x4xf32>, tensor<2x3x16x4xf16>, tensor<2x8x4xf32>)
  return
}

// -----

func.func @scan_dynamic_value_dim(%a0: tensor<2x3x16x8xf32>, %a1: tensor<2x3x16x8xf32>, %a2: tensor<2x3x16x?xf32>, %a3: tensor<2x3x16xf32>, %a4: tensor<2x8x?xf32>) {
  // expected-error @+1 {{'deltanet.chunk_state_scan' op chunk size and head dims must be static, but V is dynamic}}
  %r0, %r1, %r2 = deltanet.chunk_state_scan %a0, %a1, %a2, %a3, %a4 : (tensor<2x3x16x8xf32>, tensor<2x3x16x8xf32>, tensor<2x3x16x?xf32>, tensor<2x3x16xf32>, tensor<2x8x?xf32>) -> (tensor<2x3x8x?xf32>, tensor<2x3x16x?xf32>, tensor<2x8x?xf32>)
  return
}

// -----

func.func @output_rank(%a0: tensor<4x16x8xf32>, %a1: tensor<4x16x8xf32>, %a2: tensor<4x16x4xf32>, %a3: tensor<4x8x4xf32>, %a4: tensor<4x16x1xf32>) {
  // expected-error @+1 {{'deltanet.chunk_output' op g must have rank 2 ([N, C]), got 'tensor<4x16x1xf32>'}}
  %r0 = deltanet.chunk_output %a0, %a1, %a2, %a3, %a4 {scale = 1.0 : f32} : (tensor<4x16x8xf32>, tensor<4x16x8xf32>, tensor<4x16x4xf32>, tensor<4x8x4xf32>, tensor<4x16x1xf32>) -> tensor<4x16x4xf32>
  return
}

// -----

func.func @output_type(%a0: tensor<4x16x8xf16>, %a1: tensor<4x16x8xf16>, %a2: tensor<4x16x4xf32>, %a3: tensor<4x8x4xf32>, %a4: tensor<4x16xf32>) {
  // expected-error @+1 {{'deltanet.chunk_output' op expects f32 tensors, got 'tensor<4x16x8xf16>'}}
  %r0 = deltanet.chunk_output %a0, %a1, %a2, %a3, %a4 {scale = 1.0 : f32} : (tensor<4x16x8xf16>, tensor<4x16x8xf16>, tensor<4x16x4xf32>, tensor<4x8x4xf32>, tensor<4x16xf32>) -> tensor<4x16x4xf32>
  return
}

// -----

func.func @output_missing_scale(%a0: tensor<4x16x8xf32>, %a1: tensor<4x16x8xf32>, %a2: tensor<4x16x4xf32>, %a3: tensor<4x8x4xf32>, %a4: tensor<4x16xf32>) {
  // expected-error @+1 {{'deltanet.chunk_output' op requires attribute 'scale'}}
  %r0 = deltanet.chunk_output %a0, %a1, %a2, %a3, %a4 : (tensor<4x16x8xf32>, tensor<4x16x8xf32>, tensor<4x16x4xf32>, tensor<4x8x4xf32>, tensor<4x16xf32>) -> tensor<4x16x4xf32>
  return
}

// -----

func.func @no_tokens(%q: tensor<1x0x2x16xf32>, %k: tensor<1x0x2x16xf32>, %v: tensor<1x0x4x8xf32>, %g: tensor<1x0x4xf32>, %beta: tensor<1x0x4xf32>, %h0: tensor<1x4x16x8xf32>) {
  // Empty tensors were accepted and then failed inside the lowering
  // ("offset 0 is out-of-bounds" on a tensor.extract_slice).
  // expected-error @+1 {{'deltanet.chunk_gated_delta_rule' op q dim 1 (T) must be at least 1, got 0}}
  %o, %hT = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %beta, %h0 {chunk_size = 16 : i64} : (tensor<1x0x2x16xf32>, tensor<1x0x2x16xf32>, tensor<1x0x4x8xf32>, tensor<1x0x4xf32>, tensor<1x0x4xf32>, tensor<1x4x16x8xf32>) -> (tensor<1x0x4x8xf32>, tensor<1x4x16x8xf32>)
  return
}

// -----

func.func @empty_batch(%q: tensor<0x8x2x16xf32>, %k: tensor<0x8x2x16xf32>, %v: tensor<0x8x4x8xf32>, %g: tensor<0x8x4xf32>, %beta: tensor<0x8x4xf32>, %h0: tensor<0x4x16x8xf32>) {
  // expected-error @+1 {{'deltanet.recurrent_gated_delta_rule' op q dim 0 (B) must be at least 1, got 0}}
  %o, %hT = deltanet.recurrent_gated_delta_rule %q, %k, %v, %g, %beta, %h0 : (tensor<0x8x2x16xf32>, tensor<0x8x2x16xf32>, tensor<0x8x4x8xf32>, tensor<0x8x4xf32>, tensor<0x8x4xf32>, tensor<0x4x16x8xf32>) -> (tensor<0x8x4x8xf32>, tensor<0x4x16x8xf32>)
  return
}

// -----

func.func @encoding(%q: tensor<1x8x2x16xf32>, %k: tensor<1x8x2x16xf32>, %v: tensor<1x8x4x8xf32, "enc">, %g: tensor<1x8x4xf32>, %beta: tensor<1x8x4xf32>, %h0: tensor<1x4x16x8xf32>) {
  // Encodings were accepted and dropped by the lowering (invalid IR).
  // expected-error @+1 {{'deltanet.chunk_gated_delta_rule' op v must not have a tensor encoding, got 'tensor<1x8x4x8xf32, "enc">'}}
  %o, %hT = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %beta, %h0 {chunk_size = 16 : i64} : (tensor<1x8x2x16xf32>, tensor<1x8x2x16xf32>, tensor<1x8x4x8xf32, "enc">, tensor<1x8x4xf32>, tensor<1x8x4xf32>, tensor<1x4x16x8xf32>) -> (tensor<1x8x4x8xf32>, tensor<1x4x16x8xf32>)
  return
}

// -----

func.func @kkt_no_chunks(%k: tensor<0x16x8xf32>, %g: tensor<0x16xf32>, %b: tensor<0x16xf32>) {
  // expected-error @+1 {{'deltanet.gated_kkt' op k dim 0 (N) must be at least 1, got 0}}
  %a = deltanet.gated_kkt %k, %g, %b : (tensor<0x16x8xf32>, tensor<0x16xf32>, tensor<0x16xf32>) -> tensor<0x16x16xf32>
  return
}
