// RUN: deltanet-opt %s -split-input-file -verify-diagnostics

func.func @hv_not_multiple(%q: tensor<1x8x3x16xf32>, %k: tensor<1x8x3x16xf32>, %v: tensor<1x8x4x8xf32>, %g: tensor<1x8x4xf32>, %b: tensor<1x8x4xf32>, %h0: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'deltanet.chunk_gated_delta_rule' op the number of value heads HV = 4 must be a multiple of the number of q/k heads H = 3}}
  %o, %hT = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %b, %h0 {chunk_size = 16 : i64} : (tensor<1x8x3x16xf32>, tensor<1x8x3x16xf32>, tensor<1x8x4x8xf32>, tensor<1x8x4xf32>, tensor<1x8x4xf32>, tensor<1x4x16x8xf32>) -> (tensor<1x8x4x8xf32>, tensor<1x4x16x8xf32>)
  return
}

// -----

func.func @batch_mismatch(%q: tensor<1x8x2x16xf32>, %k: tensor<1x8x2x16xf32>, %v: tensor<2x8x4x8xf32>, %g: tensor<1x8x4xf32>, %b: tensor<1x8x4xf32>, %h0: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'deltanet.chunk_gated_delta_rule' op v dim 0 (B) is 2, but q has B = 1}}
  %o, %hT = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %b, %h0 {chunk_size = 16 : i64} : (tensor<1x8x2x16xf32>, tensor<1x8x2x16xf32>, tensor<2x8x4x8xf32>, tensor<1x8x4xf32>, tensor<1x8x4xf32>, tensor<1x4x16x8xf32>) -> (tensor<1x8x4x8xf32>, tensor<1x4x16x8xf32>)
  return
}

// -----

func.func @token_mismatch(%q: tensor<1x8x2x16xf32>, %k: tensor<1x8x2x16xf32>, %v: tensor<1x8x4x8xf32>, %g: tensor<1x9x4xf32>, %b: tensor<1x8x4xf32>, %h0: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'deltanet.recurrent_gated_delta_rule' op g dim 1 (T) is 9, but q has T = 8}}
  %o, %hT = deltanet.recurrent_gated_delta_rule %q, %k, %v, %g, %b, %h0 : (tensor<1x8x2x16xf32>, tensor<1x8x2x16xf32>, tensor<1x8x4x8xf32>, tensor<1x9x4xf32>, tensor<1x8x4xf32>, tensor<1x4x16x8xf32>) -> (tensor<1x8x4x8xf32>, tensor<1x4x16x8xf32>)
  return
}

// -----

func.func @key_dim_mismatch(%q: tensor<1x8x2x16xf32>, %k: tensor<1x8x2x32xf32>, %v: tensor<1x8x4x8xf32>, %g: tensor<1x8x4xf32>, %b: tensor<1x8x4xf32>, %h0: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'deltanet.chunk_gated_delta_rule' op k dim 3 (K) is 32, but q has K = 16}}
  %o, %hT = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %b, %h0 {chunk_size = 16 : i64} : (tensor<1x8x2x16xf32>, tensor<1x8x2x32xf32>, tensor<1x8x4x8xf32>, tensor<1x8x4xf32>, tensor<1x8x4xf32>, tensor<1x4x16x8xf32>) -> (tensor<1x8x4x8xf32>, tensor<1x4x16x8xf32>)
  return
}

// -----

func.func @state_shape(%q: tensor<1x8x2x16xf32>, %k: tensor<1x8x2x16xf32>, %v: tensor<1x8x4x8xf32>, %g: tensor<1x8x4xf32>, %b: tensor<1x8x4xf32>, %h0: tensor<1x4x8x16xf32>) {
  // expected-error @+1 {{'deltanet.chunk_gated_delta_rule' op initial_state dim 2 (K) is 8, but q has K = 16}}
  %o, %hT = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %b, %h0 {chunk_size = 16 : i64} : (tensor<1x8x2x16xf32>, tensor<1x8x2x16xf32>, tensor<1x8x4x8xf32>, tensor<1x8x4xf32>, tensor<1x8x4xf32>, tensor<1x4x8x16xf32>) -> (tensor<1x8x4x8xf32>, tensor<1x4x16x8xf32>)
  return
}

// -----

func.func @rank(%q: tensor<8x2x16xf32>, %k: tensor<1x8x2x16xf32>, %v: tensor<1x8x4x8xf32>, %g: tensor<1x8x4xf32>, %b: tensor<1x8x4xf32>, %h0: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'deltanet.chunk_gated_delta_rule' op q must have rank 4 ([B, T, H, K]), got 'tensor<8x2x16xf32>'}}
  %o, %hT = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %b, %h0 {chunk_size = 16 : i64} : (tensor<8x2x16xf32>, tensor<1x8x2x16xf32>, tensor<1x8x4x8xf32>, tensor<1x8x4xf32>, tensor<1x8x4xf32>, tensor<1x4x16x8xf32>) -> (tensor<1x8x4x8xf32>, tensor<1x4x16x8xf32>)
  return
}

// -----

func.func @dynamic_heads(%q: tensor<1x8x?x16xf32>, %k: tensor<1x8x?x16xf32>, %v: tensor<1x8x4x8xf32>, %g: tensor<1x8x4xf32>, %b: tensor<1x8x4xf32>, %h0: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'deltanet.chunk_gated_delta_rule' op head count and head dims (H, HV, K, V) must be static, but H is dynamic}}
  %o, %hT = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %b, %h0 {chunk_size = 16 : i64} : (tensor<1x8x?x16xf32>, tensor<1x8x?x16xf32>, tensor<1x8x4x8xf32>, tensor<1x8x4xf32>, tensor<1x8x4xf32>, tensor<1x4x16x8xf32>) -> (tensor<1x8x4x8xf32>, tensor<1x4x16x8xf32>)
  return
}

// -----

func.func @chunk_size_zero(%q: tensor<1x8x2x16xf32>, %k: tensor<1x8x2x16xf32>, %v: tensor<1x8x4x8xf32>, %g: tensor<1x8x4xf32>, %b: tensor<1x8x4xf32>, %h0: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'deltanet.chunk_gated_delta_rule' op chunk_size must be a positive power of two, got 0}}
  %o, %hT = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %b, %h0 {chunk_size = 0 : i64} : (tensor<1x8x2x16xf32>, tensor<1x8x2x16xf32>, tensor<1x8x4x8xf32>, tensor<1x8x4xf32>, tensor<1x8x4xf32>, tensor<1x4x16x8xf32>) -> (tensor<1x8x4x8xf32>, tensor<1x4x16x8xf32>)
  return
}

// -----

func.func @chunk_size_not_pow2(%q: tensor<1x8x2x16xf32>, %k: tensor<1x8x2x16xf32>, %v: tensor<1x8x4x8xf32>, %g: tensor<1x8x4xf32>, %b: tensor<1x8x4xf32>, %h0: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'deltanet.chunk_gated_delta_rule' op chunk_size must be a positive power of two, got 48}}
  %o, %hT = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %b, %h0 {chunk_size = 48 : i64} : (tensor<1x8x2x16xf32>, tensor<1x8x2x16xf32>, tensor<1x8x4x8xf32>, tensor<1x8x4xf32>, tensor<1x8x4xf32>, tensor<1x4x16x8xf32>) -> (tensor<1x8x4x8xf32>, tensor<1x4x16x8xf32>)
  return
}

// -----

func.func @missing_chunk_size(%q: tensor<1x8x2x16xf32>, %k: tensor<1x8x2x16xf32>, %v: tensor<1x8x4x8xf32>, %g: tensor<1x8x4xf32>, %b: tensor<1x8x4xf32>, %h0: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'deltanet.chunk_gated_delta_rule' op requires attribute 'chunk_size'}}
  %o, %hT = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %b, %h0 : (tensor<1x8x2x16xf32>, tensor<1x8x2x16xf32>, tensor<1x8x4x8xf32>, tensor<1x8x4xf32>, tensor<1x8x4xf32>, tensor<1x4x16x8xf32>) -> (tensor<1x8x4x8xf32>, tensor<1x4x16x8xf32>)
  return
}

// -----

func.func @mixed_types(%q: tensor<1x8x2x16xbf16>, %k: tensor<1x8x2x16xf32>, %v: tensor<1x8x4x8xf32>, %g: tensor<1x8x4xf32>, %b: tensor<1x8x4xf32>, %h0: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'deltanet.chunk_gated_delta_rule' op k must have q's element type 'bf16', got 'tensor<1x8x2x16xf32>'}}
  %o, %hT = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %b, %h0 {chunk_size = 16 : i64} : (tensor<1x8x2x16xbf16>, tensor<1x8x2x16xf32>, tensor<1x8x4x8xf32>, tensor<1x8x4xf32>, tensor<1x8x4xf32>, tensor<1x4x16x8xf32>) -> (tensor<1x8x4x8xf32>, tensor<1x4x16x8xf32>)
  return
}

// -----

func.func @f64(%q: tensor<1x8x2x16xf64>, %k: tensor<1x8x2x16xf64>, %v: tensor<1x8x4x8xf64>, %g: tensor<1x8x4xf32>, %b: tensor<1x8x4xf32>, %h0: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'deltanet.chunk_gated_delta_rule' op q, k and v must have element type f32, f16 or bf16, got 'f64'}}
  %o, %hT = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %b, %h0 {chunk_size = 16 : i64} : (tensor<1x8x2x16xf64>, tensor<1x8x2x16xf64>, tensor<1x8x4x8xf64>, tensor<1x8x4xf32>, tensor<1x8x4xf32>, tensor<1x4x16x8xf32>) -> (tensor<1x8x4x8xf64>, tensor<1x4x16x8xf32>)
  return
}

// -----

func.func @zero_scale(%q: tensor<1x8x2x16xf32>, %k: tensor<1x8x2x16xf32>, %v: tensor<1x8x4x8xf32>, %g: tensor<1x8x4xf32>, %b: tensor<1x8x4xf32>, %h0: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'deltanet.chunk_gated_delta_rule' op scale must be finite and non-zero}}
  %o, %hT = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %b, %h0 {chunk_size = 16 : i64, scale = 0.0 : f32} : (tensor<1x8x2x16xf32>, tensor<1x8x2x16xf32>, tensor<1x8x4x8xf32>, tensor<1x8x4xf32>, tensor<1x8x4xf32>, tensor<1x4x16x8xf32>) -> (tensor<1x8x4x8xf32>, tensor<1x4x16x8xf32>)
  return
}

// -----

func.func @kkt_shape(%k: tensor<4x16x8xf32>, %g: tensor<4x16xf32>, %b: tensor<4x8xf32>) {
  // expected-error @+1 {{'deltanet.gated_kkt' op beta dim 1 (C) is 8, but k has C = 16}}
  %a = deltanet.gated_kkt %k, %g, %b : (tensor<4x16x8xf32>, tensor<4x16xf32>, tensor<4x8xf32>) -> tensor<4x16x16xf32>
  return
}

// -----

func.func @kkt_type(%k: tensor<4x16x8xf16>, %g: tensor<4x16xf32>, %b: tensor<4x16xf32>) {
  // expected-error @+1 {{'deltanet.gated_kkt' op expects f32 tensors, got 'tensor<4x16x8xf16>'}}
  %a = deltanet.gated_kkt %k, %g, %b : (tensor<4x16x8xf16>, tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16x16xf32>
  return
}

// -----

func.func @scan_dynamic_chunk(%k: tensor<2x3x?x8xf32>, %w: tensor<2x3x?x8xf32>, %u: tensor<2x3x?x4xf32>, %g: tensor<2x3x?xf32>, %h0: tensor<2x8x4xf32>) {
  // expected-error @+1 {{'deltanet.chunk_state_scan' op chunk size and head dims must be static, but C is dynamic}}
  %s, %vn, %f = deltanet.chunk_state_scan %k, %w, %u, %g, %h0 : (tensor<2x3x?x8xf32>, tensor<2x3x?x8xf32>, tensor<2x3x?x4xf32>, tensor<2x3x?xf32>, tensor<2x8x4xf32>) -> (tensor<2x3x8x4xf32>, tensor<2x3x?x4xf32>, tensor<2x8x4xf32>)
  return
}

// -----

func.func @output_state(%q: tensor<4x16x8xf32>, %vn: tensor<4x16x4xf32>, %s: tensor<4x4x8xf32>, %g: tensor<4x16xf32>) {
  // expected-error @+1 {{'deltanet.chunk_output' op state dim 1 (K) is 4, but q has K = 8}}
  %o = deltanet.chunk_output %q, %q, %vn, %s, %g {scale = 1.0 : f32} : (tensor<4x16x8xf32>, tensor<4x16x8xf32>, tensor<4x16x4xf32>, tensor<4x4x8xf32>, tensor<4x16xf32>) -> tensor<4x16x4xf32>
  return
}
