// Regression (found by the robustness tools, README "Robustness"; fixed in
// 5b74c74): static dims of size 0 (an empty batch, no tokens, no chunks) were
// accepted by the verifier, then the lowerings built out-of-bounds slices of
// the empty tensors ("offset 0 is out-of-bounds" on a tensor.extract_slice):
// invalid IR out of the pipeline. The verifier now rejects a 0 in any static
// dim it names. Inputs run as the fuzzer ran them: its CPU-pipeline mode and
// its deltanet-passes mode.
// RUN: %exit_code 1 deltanet-opt %s -split-input-file --pass-pipeline="builtin.module(deltanet-cpu-pipeline)" 2>&1 \
// RUN:   | FileCheck %s --implicit-check-not="error:" --implicit-check-not="LLVM ERROR"
// RUN: %exit_code 1 deltanet-opt %s -split-input-file --pass-pipeline="builtin.module(deltanet-decompose-chunk-gated-delta-rule,deltanet-lower-chunk-stages,deltanet-lower-recurrent-gated-delta-rule,deltanet-lower-tri-inv,canonicalize,cse)" 2>&1 \
// RUN:   | FileCheck %s --implicit-check-not="error:" --implicit-check-not="LLVM ERROR"

// CHECK: empty-static-dims.mlir:[[@LINE+2]]:8: error: 'deltanet.tri_inv' op batch dim 1 must be at least 1 (empty batches are not supported), got 0
func.func @tri_inv_empty_batch(%a: tensor<2x0x16x16xf32>) -> tensor<2x0x16x16xf32> {
  %x = deltanet.tri_inv %a : tensor<2x0x16x16xf32>
  return %x : tensor<2x0x16x16xf32>
}

// -----

// CHECK: empty-static-dims.mlir:[[@LINE+2]]:8: error: 'deltanet.tri_inv' op matrix size must be at least 1, got 0
func.func @tri_inv_empty_matrix(%a: tensor<4x0x0xf32>) -> tensor<4x0x0xf32> {
  %x = deltanet.tri_inv %a : tensor<4x0x0xf32>
  return %x : tensor<4x0x0xf32>
}

// -----

// CHECK: empty-static-dims.mlir:[[@LINE+2]]:13: error: 'deltanet.chunk_gated_delta_rule' op q dim 1 (T) must be at least 1, got 0
func.func @chunk_no_tokens(%q: tensor<1x0x2x16xf32>, %k: tensor<1x0x2x16xf32>, %v: tensor<1x0x4x8xf32>, %g: tensor<1x0x4xf32>, %beta: tensor<1x0x4xf32>, %h0: tensor<1x4x16x8xf32>) -> tensor<1x0x4x8xf32> {
  %o, %hT = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %beta, %h0 {chunk_size = 16 : i64} : (tensor<1x0x2x16xf32>, tensor<1x0x2x16xf32>, tensor<1x0x4x8xf32>, tensor<1x0x4xf32>, tensor<1x0x4xf32>, tensor<1x4x16x8xf32>) -> (tensor<1x0x4x8xf32>, tensor<1x4x16x8xf32>)
  return %o : tensor<1x0x4x8xf32>
}

// -----

// CHECK: empty-static-dims.mlir:[[@LINE+2]]:13: error: 'deltanet.recurrent_gated_delta_rule' op q dim 0 (B) must be at least 1, got 0
func.func @recurrent_empty_batch(%q: tensor<0x8x2x16xf32>, %k: tensor<0x8x2x16xf32>, %v: tensor<0x8x4x8xf32>, %g: tensor<0x8x4xf32>, %beta: tensor<0x8x4xf32>, %h0: tensor<0x4x16x8xf32>) -> tensor<0x8x4x8xf32> {
  %o, %hT = deltanet.recurrent_gated_delta_rule %q, %k, %v, %g, %beta, %h0 : (tensor<0x8x2x16xf32>, tensor<0x8x2x16xf32>, tensor<0x8x4x8xf32>, tensor<0x8x4xf32>, tensor<0x8x4xf32>, tensor<0x4x16x8xf32>) -> (tensor<0x8x4x8xf32>, tensor<0x4x16x8xf32>)
  return %o : tensor<0x8x4x8xf32>
}

// -----

// With a dynamic T, a static zero elsewhere (no value heads) is still caught.
// CHECK: empty-static-dims.mlir:[[@LINE+2]]:13: error: 'deltanet.chunk_gated_delta_rule' op v dim 2 (HV) must be at least 1, got 0
func.func @chunk_no_value_heads(%q: tensor<1x?x2x16xf32>, %k: tensor<1x?x2x16xf32>, %v: tensor<1x?x0x8xf32>, %g: tensor<1x?x0xf32>, %beta: tensor<1x?x0xf32>, %h0: tensor<1x0x16x8xf32>) -> tensor<1x?x0x8xf32> {
  %o, %hT = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %beta, %h0 {chunk_size = 16 : i64} : (tensor<1x?x2x16xf32>, tensor<1x?x2x16xf32>, tensor<1x?x0x8xf32>, tensor<1x?x0xf32>, tensor<1x?x0xf32>, tensor<1x0x16x8xf32>) -> (tensor<1x?x0x8xf32>, tensor<1x0x16x8xf32>)
  return %o : tensor<1x?x0x8xf32>
}

// -----

// CHECK: empty-static-dims.mlir:[[@LINE+2]]:8: error: 'deltanet.gated_kkt' op k dim 0 (N) must be at least 1, got 0
func.func @gated_kkt_no_chunks(%k: tensor<0x16x8xf32>, %g: tensor<0x16xf32>, %b: tensor<0x16xf32>) -> tensor<0x16x16xf32> {
  %a = deltanet.gated_kkt %k, %g, %b : (tensor<0x16x8xf32>, tensor<0x16xf32>, tensor<0x16xf32>) -> tensor<0x16x16xf32>
  return %a : tensor<0x16x16xf32>
}
