// RUN: deltanet-opt %s -split-input-file -verify-diagnostics

func.func @chunk_not_power_of_two(%k: tensor<1x8x2x16xf32>, %v: tensor<1x8x4x8xf32>, %g: tensor<1x8x4xf32>, %b: tensor<1x8x4xf32>) {
  // expected-error @+1 {{'deltanet.gated_delta_rule_summary' op chunk_size must be a positive power of two, got 24}}
  %m, %u = deltanet.gated_delta_rule_summary %k, %v, %g, %b {chunk_size = 24 : i64} : (tensor<1x8x2x16xf32>, tensor<1x8x4x8xf32>, tensor<1x8x4xf32>, tensor<1x8x4xf32>) -> (tensor<1x4x16x16xf32>, tensor<1x4x16x8xf32>)
  return
}

// -----

func.func @hv_not_multiple(%k: tensor<1x8x3x16xf32>, %v: tensor<1x8x4x8xf32>, %g: tensor<1x8x4xf32>, %b: tensor<1x8x4xf32>) {
  // expected-error @+1 {{'deltanet.gated_delta_rule_summary' op the number of value heads HV = 4 must be a multiple of the number of k heads H = 3}}
  %m, %u = deltanet.gated_delta_rule_summary %k, %v, %g, %b {chunk_size = 16 : i64} : (tensor<1x8x3x16xf32>, tensor<1x8x4x8xf32>, tensor<1x8x4xf32>, tensor<1x8x4xf32>) -> (tensor<1x4x16x16xf32>, tensor<1x4x16x8xf32>)
  return
}

// -----

func.func @token_mismatch(%k: tensor<1x8x2x16xf32>, %v: tensor<1x9x4x8xf32>, %g: tensor<1x8x4xf32>, %b: tensor<1x8x4xf32>) {
  // expected-error @+1 {{'deltanet.gated_delta_rule_summary' op v dim 1 (T) is 9, but k has T = 8}}
  %m, %u = deltanet.gated_delta_rule_summary %k, %v, %g, %b {chunk_size = 16 : i64} : (tensor<1x8x2x16xf32>, tensor<1x9x4x8xf32>, tensor<1x8x4xf32>, tensor<1x8x4xf32>) -> (tensor<1x4x16x16xf32>, tensor<1x4x16x8xf32>)
  return
}

// -----

func.func @m_not_square(%k: tensor<1x8x2x16xf32>, %v: tensor<1x8x4x8xf32>, %g: tensor<1x8x4xf32>, %b: tensor<1x8x4xf32>) {
  // expected-error @+1 {{'deltanet.gated_delta_rule_summary' op m dim 3 (K) is 8, but k has K = 16}}
  %m, %u = deltanet.gated_delta_rule_summary %k, %v, %g, %b {chunk_size = 16 : i64} : (tensor<1x8x2x16xf32>, tensor<1x8x4x8xf32>, tensor<1x8x4xf32>, tensor<1x8x4xf32>) -> (tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>)
  return
}

// -----

func.func @u_value_dim(%k: tensor<1x8x2x16xf32>, %v: tensor<1x8x4x8xf32>, %g: tensor<1x8x4xf32>, %b: tensor<1x8x4xf32>) {
  // expected-error @+1 {{'deltanet.gated_delta_rule_summary' op u dim 3 (V) is 16, but v has V = 8}}
  %m, %u = deltanet.gated_delta_rule_summary %k, %v, %g, %b {chunk_size = 16 : i64} : (tensor<1x8x2x16xf32>, tensor<1x8x4x8xf32>, tensor<1x8x4xf32>, tensor<1x8x4xf32>) -> (tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32>)
  return
}

// -----

func.func @dynamic_heads(%k: tensor<1x8x?x16xf32>, %v: tensor<1x8x?x8xf32>, %g: tensor<1x8x?xf32>, %b: tensor<1x8x?xf32>) {
  // expected-error @+1 {{'deltanet.gated_delta_rule_summary' op head count and head dims (H, HV, K, V) must be static, but H is dynamic}}
  %m, %u = deltanet.gated_delta_rule_summary %k, %v, %g, %b {chunk_size = 16 : i64} : (tensor<1x8x?x16xf32>, tensor<1x8x?x8xf32>, tensor<1x8x?xf32>, tensor<1x8x?xf32>) -> (tensor<1x?x16x16xf32>, tensor<1x?x16x8xf32>)
  return
}

// -----

func.func @mixed_kv_types(%k: tensor<1x8x2x16xf16>, %v: tensor<1x8x4x8xf32>, %g: tensor<1x8x4xf32>, %b: tensor<1x8x4xf32>) {
  // expected-error @+1 {{'deltanet.gated_delta_rule_summary' op v must have k's element type 'f16', got 'tensor<1x8x4x8xf32>'}}
  %m, %u = deltanet.gated_delta_rule_summary %k, %v, %g, %b {chunk_size = 16 : i64} : (tensor<1x8x2x16xf16>, tensor<1x8x4x8xf32>, tensor<1x8x4xf32>, tensor<1x8x4xf32>) -> (tensor<1x4x16x16xf32>, tensor<1x4x16x8xf32>)
  return
}

// -----

func.func @f64_keys(%k: tensor<1x8x2x16xf64>, %v: tensor<1x8x4x8xf64>, %g: tensor<1x8x4xf32>, %b: tensor<1x8x4xf32>) {
  // expected-error @+1 {{'deltanet.gated_delta_rule_summary' op k and v must have element type f32, f16 or bf16, got 'f64'}}
  %m, %u = deltanet.gated_delta_rule_summary %k, %v, %g, %b {chunk_size = 16 : i64} : (tensor<1x8x2x16xf64>, tensor<1x8x4x8xf64>, tensor<1x8x4xf32>, tensor<1x8x4xf32>) -> (tensor<1x4x16x16xf32>, tensor<1x4x16x8xf32>)
  return
}

// -----

func.func @bf16_summary(%k: tensor<1x8x2x16xbf16>, %v: tensor<1x8x4x8xbf16>, %g: tensor<1x8x4xf32>, %b: tensor<1x8x4xf32>) {
  // expected-error @+1 {{'deltanet.gated_delta_rule_summary' op expects f32 tensors, got 'tensor<1x4x16x16xbf16>'}}
  %m, %u = deltanet.gated_delta_rule_summary %k, %v, %g, %b {chunk_size = 16 : i64} : (tensor<1x8x2x16xbf16>, tensor<1x8x4x8xbf16>, tensor<1x8x4xf32>, tensor<1x8x4xf32>) -> (tensor<1x4x16x16xbf16>, tensor<1x4x16x8xf32>)
  return
}

// -----

func.func @g_f16_with_f32_keys(%k: tensor<1x8x2x16xf32>, %v: tensor<1x8x4x8xf32>, %g: tensor<1x8x4xf16>, %b: tensor<1x8x4xf32>) {
  // expected-error @+1 {{'deltanet.gated_delta_rule_summary' op g must have element type f32 or k's element type 'f32', got 'tensor<1x8x4xf16>'}}
  %m, %u = deltanet.gated_delta_rule_summary %k, %v, %g, %b {chunk_size = 16 : i64} : (tensor<1x8x2x16xf32>, tensor<1x8x4x8xf32>, tensor<1x8x4xf16>, tensor<1x8x4xf32>) -> (tensor<1x4x16x16xf32>, tensor<1x4x16x8xf32>)
  return
}

// -----

func.func @compose_rank(%m1: tensor<16xf32>, %u1: tensor<16x8xf32>, %m2: tensor<16x16xf32>, %u2: tensor<16x8xf32>) {
  // expected-error @+1 {{'deltanet.compose_summaries' op m1 must have rank >= 2 ([..., K, K]), got 'tensor<16xf32>'}}
  %m, %u = deltanet.compose_summaries %m1, %u1, %m2, %u2 : (tensor<16xf32>, tensor<16x8xf32>, tensor<16x16xf32>, tensor<16x8xf32>) -> (tensor<16x16xf32>, tensor<16x8xf32>)
  return
}

// -----

func.func @compose_batch_mismatch(%m1: tensor<2x16x16xf32>, %u1: tensor<2x16x8xf32>, %m2: tensor<3x16x16xf32>, %u2: tensor<3x16x8xf32>) {
  // expected-error @+1 {{'deltanet.compose_summaries' op m2 dim 0 (B0) is 3, but m1 has B0 = 2}}
  %m, %u = deltanet.compose_summaries %m1, %u1, %m2, %u2 : (tensor<2x16x16xf32>, tensor<2x16x8xf32>, tensor<3x16x16xf32>, tensor<3x16x8xf32>) -> (tensor<2x16x16xf32>, tensor<2x16x8xf32>)
  return
}

// -----

func.func @compose_not_square(%m1: tensor<16x8xf32>, %u1: tensor<16x8xf32>, %m2: tensor<16x16xf32>, %u2: tensor<16x8xf32>) {
  // expected-error @+1 {{'deltanet.compose_summaries' op m1 dim 1 (K) is 8, but m1 has K = 16}}
  %m, %u = deltanet.compose_summaries %m1, %u1, %m2, %u2 : (tensor<16x8xf32>, tensor<16x8xf32>, tensor<16x16xf32>, tensor<16x8xf32>) -> (tensor<16x16xf32>, tensor<16x8xf32>)
  return
}

// -----

func.func @compose_dynamic_k(%m1: tensor<?x?xf32>, %u1: tensor<?x8xf32>, %m2: tensor<?x?xf32>, %u2: tensor<?x8xf32>) {
  // expected-error @+1 {{'deltanet.compose_summaries' op head dims (K, V) must be static, but K is dynamic}}
  %m, %u = deltanet.compose_summaries %m1, %u1, %m2, %u2 : (tensor<?x?xf32>, tensor<?x8xf32>, tensor<?x?xf32>, tensor<?x8xf32>) -> (tensor<?x?xf32>, tensor<?x8xf32>)
  return
}

// -----

func.func @compose_f16(%m1: tensor<16x16xf16>, %u1: tensor<16x8xf32>, %m2: tensor<16x16xf32>, %u2: tensor<16x8xf32>) {
  // expected-error @+1 {{'deltanet.compose_summaries' op expects f32 tensors, got 'tensor<16x16xf16>'}}
  %m, %u = deltanet.compose_summaries %m1, %u1, %m2, %u2 : (tensor<16x16xf16>, tensor<16x8xf32>, tensor<16x16xf32>, tensor<16x8xf32>) -> (tensor<16x16xf32>, tensor<16x8xf32>)
  return
}
