// Verifier errors of cu_seqlens (variable-length batches) on the gated delta
// rule ops: offsets that are constants are checked (start at 0, never
// decrease, end at a static T), the state count is N, B is 1. Each error
// has the op's location; deltanet-opt exits with 1, never crashes.
// RUN: deltanet-opt %s -split-input-file -verify-diagnostics
// RUN: sed -e 's/expected-error.*//' %s > %t.mlir
// RUN: %exit_code 1 deltanet-opt %t.mlir -split-input-file 2>&1 | FileCheck %s --check-prefix=LOC
// LOC-COUNT-9: .mlir.tmp.mlir:{{[0-9]+}}:{{[0-9]+}}: error: 'deltanet.
// LOC-NOT: error:

func.func @not_monotonic(%q: tensor<1x10x2x16xf32>, %k: tensor<1x10x2x16xf32>, %v: tensor<1x10x4x8xf32>, %g: tensor<1x10x4xf32>, %b: tensor<1x10x4xf32>, %h0: tensor<3x4x16x8xf32>) {
  %cu = arith.constant dense<[0, 7, 3, 10]> : tensor<4xi32>
  // expected-error @+1 {{'deltanet.chunk_gated_delta_rule' op cu_seqlens must not decrease, but offset 2 is 3 after 7}}
  %o, %hT = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %b, %h0 cu_seqlens(%cu) {chunk_size = 16 : i64} : (tensor<1x10x2x16xf32>, tensor<1x10x2x16xf32>, tensor<1x10x4x8xf32>, tensor<1x10x4xf32>, tensor<1x10x4xf32>, tensor<3x4x16x8xf32>, tensor<4xi32>) -> (tensor<1x10x4x8xf32>, tensor<3x4x16x8xf32>)
  return
}

// -----

func.func @not_starting_at_zero(%q: tensor<1x10x2x16xf32>, %k: tensor<1x10x2x16xf32>, %v: tensor<1x10x4x8xf32>, %g: tensor<1x10x4xf32>, %b: tensor<1x10x4xf32>, %h0: tensor<3x4x16x8xf32>) {
  %cu = arith.constant dense<[1, 3, 7, 10]> : tensor<4xi32>
  // expected-error @+1 {{'deltanet.recurrent_gated_delta_rule' op cu_seqlens must start at 0, got 1}}
  %o, %hT = deltanet.recurrent_gated_delta_rule %q, %k, %v, %g, %b, %h0 cu_seqlens(%cu) : (tensor<1x10x2x16xf32>, tensor<1x10x2x16xf32>, tensor<1x10x4x8xf32>, tensor<1x10x4xf32>, tensor<1x10x4xf32>, tensor<3x4x16x8xf32>, tensor<4xi32>) -> (tensor<1x10x4x8xf32>, tensor<3x4x16x8xf32>)
  return
}

// -----

func.func @last_offset_not_t(%q: tensor<1x10x2x16xf32>, %k: tensor<1x10x2x16xf32>, %v: tensor<1x10x4x8xf32>, %g: tensor<1x10x4xf32>, %b: tensor<1x10x4xf32>, %h0: tensor<3x4x16x8xf32>) {
  %cu = arith.constant dense<[0, 3, 7, 9]> : tensor<4xi64>
  // expected-error @+1 {{'deltanet.chunk_gated_delta_rule' op the last cu_seqlens offset must be T = 10 (every token in one sequence), got 9}}
  %o, %hT = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %b, %h0 cu_seqlens(%cu) {chunk_size = 16 : i64} : (tensor<1x10x2x16xf32>, tensor<1x10x2x16xf32>, tensor<1x10x4x8xf32>, tensor<1x10x4xf32>, tensor<1x10x4xf32>, tensor<3x4x16x8xf32>, tensor<4xi64>) -> (tensor<1x10x4x8xf32>, tensor<3x4x16x8xf32>)
  return
}

// -----

func.func @state_count(%q: tensor<1x10x2x16xf32>, %k: tensor<1x10x2x16xf32>, %v: tensor<1x10x4x8xf32>, %g: tensor<1x10x4xf32>, %b: tensor<1x10x4xf32>, %h0: tensor<2x4x16x8xf32>, %cu: tensor<4xi32>) {
  // expected-error @+1 {{'deltanet.chunk_gated_delta_rule' op initial_state dim 0 (N) is 2, but cu_seqlens (N + 1 offsets) has N = 3}}
  %o, %hT = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %b, %h0 cu_seqlens(%cu) {chunk_size = 16 : i64} : (tensor<1x10x2x16xf32>, tensor<1x10x2x16xf32>, tensor<1x10x4x8xf32>, tensor<1x10x4xf32>, tensor<1x10x4xf32>, tensor<2x4x16x8xf32>, tensor<4xi32>) -> (tensor<1x10x4x8xf32>, tensor<2x4x16x8xf32>)
  return
}

// -----

func.func @batch_not_one(%q: tensor<2x10x2x16xf32>, %k: tensor<2x10x2x16xf32>, %v: tensor<2x10x4x8xf32>, %g: tensor<2x10x4xf32>, %b: tensor<2x10x4xf32>, %h0: tensor<3x4x16x8xf32>, %cu: tensor<4xi32>) {
  // expected-error @+1 {{'deltanet.recurrent_gated_delta_rule' op with cu_seqlens the sequences are packed along T and the batch B must be a static 1, got 2}}
  %o, %hT = deltanet.recurrent_gated_delta_rule %q, %k, %v, %g, %b, %h0 cu_seqlens(%cu) : (tensor<2x10x2x16xf32>, tensor<2x10x2x16xf32>, tensor<2x10x4x8xf32>, tensor<2x10x4xf32>, tensor<2x10x4xf32>, tensor<3x4x16x8xf32>, tensor<4xi32>) -> (tensor<2x10x4x8xf32>, tensor<3x4x16x8xf32>)
  return
}

// -----

func.func @dynamic_batch(%q: tensor<?x10x2x16xf32>, %k: tensor<?x10x2x16xf32>, %v: tensor<?x10x4x8xf32>, %g: tensor<?x10x4xf32>, %b: tensor<?x10x4xf32>, %h0: tensor<3x4x16x8xf32>, %cu: tensor<4xi32>) {
  // expected-error @+1 {{'deltanet.chunk_gated_delta_rule' op with cu_seqlens the sequences are packed along T and the batch B must be a static 1, got ?}}
  %o, %hT = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %b, %h0 cu_seqlens(%cu) {chunk_size = 16 : i64} : (tensor<?x10x2x16xf32>, tensor<?x10x2x16xf32>, tensor<?x10x4x8xf32>, tensor<?x10x4xf32>, tensor<?x10x4xf32>, tensor<3x4x16x8xf32>, tensor<4xi32>) -> (tensor<?x10x4x8xf32>, tensor<3x4x16x8xf32>)
  return
}

// -----

func.func @offsets_f32(%q: tensor<1x10x2x16xf32>, %k: tensor<1x10x2x16xf32>, %v: tensor<1x10x4x8xf32>, %g: tensor<1x10x4xf32>, %b: tensor<1x10x4xf32>, %h0: tensor<3x4x16x8xf32>, %cu: tensor<4xf32>) {
  // expected-error @+1 {{'deltanet.chunk_gated_delta_rule' op cu_seqlens must be a rank-1 tensor of i32 or i64 (N + 1 sequence offsets), got 'tensor<4xf32>'}}
  %o, %hT = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %b, %h0 cu_seqlens(%cu) {chunk_size = 16 : i64} : (tensor<1x10x2x16xf32>, tensor<1x10x2x16xf32>, tensor<1x10x4x8xf32>, tensor<1x10x4xf32>, tensor<1x10x4xf32>, tensor<3x4x16x8xf32>, tensor<4xf32>) -> (tensor<1x10x4x8xf32>, tensor<3x4x16x8xf32>)
  return
}

// -----

func.func @offsets_rank2(%q: tensor<1x10x2x16xf32>, %k: tensor<1x10x2x16xf32>, %v: tensor<1x10x4x8xf32>, %g: tensor<1x10x4xf32>, %b: tensor<1x10x4xf32>, %h0: tensor<3x4x16x8xf32>, %cu: tensor<1x4xi32>) {
  // expected-error @+1 {{'deltanet.recurrent_gated_delta_rule' op cu_seqlens must be a rank-1 tensor of i32 or i64 (N + 1 sequence offsets), got 'tensor<1x4xi32>'}}
  %o, %hT = deltanet.recurrent_gated_delta_rule %q, %k, %v, %g, %b, %h0 cu_seqlens(%cu) : (tensor<1x10x2x16xf32>, tensor<1x10x2x16xf32>, tensor<1x10x4x8xf32>, tensor<1x10x4xf32>, tensor<1x10x4xf32>, tensor<3x4x16x8xf32>, tensor<1x4xi32>) -> (tensor<1x10x4x8xf32>, tensor<3x4x16x8xf32>)
  return
}

// -----

func.func @one_offset(%q: tensor<1x10x2x16xf32>, %k: tensor<1x10x2x16xf32>, %v: tensor<1x10x4x8xf32>, %g: tensor<1x10x4xf32>, %b: tensor<1x10x4xf32>, %h0: tensor<?x4x16x8xf32>, %cu: tensor<1xi32>) {
  // expected-error @+1 {{'deltanet.chunk_gated_delta_rule' op cu_seqlens must hold at least 2 offsets (one sequence), got 1}}
  %o, %hT = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %b, %h0 cu_seqlens(%cu) {chunk_size = 16 : i64} : (tensor<1x10x2x16xf32>, tensor<1x10x2x16xf32>, tensor<1x10x4x8xf32>, tensor<1x10x4xf32>, tensor<1x10x4xf32>, tensor<?x4x16x8xf32>, tensor<1xi32>) -> (tensor<1x10x4x8xf32>, tensor<?x4x16x8xf32>)
  return
}
