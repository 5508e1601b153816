// Regression (found by the robustness tools, README "Robustness"; fixed in
// 5b74c74): deltanet ops accepted tensors with an encoding; the lowerings build
// plain tensors, so the encoding was silently dropped, or the pipeline produced
// invalid IR (for deltanet.quantize, below: "type of return operand 0
// ('tensor<4x16x8xi8>') doesn't match function result type"). The verifier
// now rejects an encoding on every operand and result. Inputs run as the
// fuzzer ran them: its CPU-pipeline mode and its deltanet-passes mode (with
// INT8, which creates deltanet.quantize ops).
// RUN: %exit_code 1 deltanet-opt %s -split-input-file --pass-pipeline="builtin.module(deltanet-cpu-pipeline)" 2>&1 \
// RUN:   | FileCheck %s --implicit-check-not="error:" --implicit-check-not="LLVM ERROR"
// RUN: %exit_code 1 deltanet-opt %s -split-input-file --pass-pipeline="builtin.module(deltanet-decompose-chunk-gated-delta-rule,deltanet-lower-chunk-stages,deltanet-lower-recurrent-gated-delta-rule,deltanet-lower-tri-inv{precision=i8},deltanet-lower-quantization,canonicalize,cse)" 2>&1 \
// RUN:   | FileCheck %s --implicit-check-not="error:" --implicit-check-not="LLVM ERROR"

// CHECK: tensor-encoding.mlir:[[@LINE+2]]:8: error: 'deltanet.tri_inv' op operand must not have a tensor encoding, got 'tensor<16x16xf32, "enc">'
func.func @tri_inv(%a: tensor<16x16xf32, "enc">) -> tensor<16x16xf32, "enc"> {
  %x = deltanet.tri_inv %a : tensor<16x16xf32, "enc">
  return %x : tensor<16x16xf32, "enc">
}

// -----

// CHECK: tensor-encoding.mlir:[[@LINE+2]]:13: error: 'deltanet.chunk_gated_delta_rule' op o must not have a tensor encoding, got 'tensor<1x8x4x8xf32, "enc">'
func.func @chunk_result(%q: tensor<1x8x2x16xf32>, %k: tensor<1x8x2x16xf32>, %v: tensor<1x8x4x8xf32>, %g: tensor<1x8x4xf32>, %beta: tensor<1x8x4xf32>, %h0: tensor<1x4x16x8xf32>) -> tensor<1x8x4x8xf32, "enc"> {
  %o, %hT = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %beta, %h0 {chunk_size = 16 : i64} : (tensor<1x8x2x16xf32>, tensor<1x8x2x16xf32>, tensor<1x8x4x8xf32>, tensor<1x8x4xf32>, tensor<1x8x4xf32>, tensor<1x4x16x8xf32>) -> (tensor<1x8x4x8xf32, "enc">, tensor<1x4x16x8xf32>)
  return %o : tensor<1x8x4x8xf32, "enc">
}

// -----

// CHECK: tensor-encoding.mlir:[[@LINE+2]]:13: error: 'deltanet.recurrent_gated_delta_rule' op initial_state must not have a tensor encoding, got 'tensor<1x4x16x8xf32, "enc">'
func.func @recurrent_state(%q: tensor<1x8x2x16xf32>, %k: tensor<1x8x2x16xf32>, %v: tensor<1x8x4x8xf32>, %g: tensor<1x8x4xf32>, %beta: tensor<1x8x4xf32>, %h0: tensor<1x4x16x8xf32, "enc">) -> tensor<1x8x4x8xf32> {
  %o, %hT = deltanet.recurrent_gated_delta_rule %q, %k, %v, %g, %beta, %h0 : (tensor<1x8x2x16xf32>, tensor<1x8x2x16xf32>, tensor<1x8x4x8xf32>, tensor<1x8x4xf32>, tensor<1x8x4xf32>, tensor<1x4x16x8xf32, "enc">) -> (tensor<1x8x4x8xf32>, tensor<1x4x16x8xf32, "enc">)
  return %o : tensor<1x8x4x8xf32>
}

// -----

// A stage op, with a result encoding.
// CHECK: tensor-encoding.mlir:[[@LINE+2]]:8: error: 'deltanet.gated_kkt' op a must not have a tensor encoding, got 'tensor<2x16x16xf32, "enc">'
func.func @gated_kkt_result(%k: tensor<2x16x8xf32>, %g: tensor<2x16xf32>, %b: tensor<2x16xf32>) -> tensor<2x16x16xf32, "enc"> {
  %a = deltanet.gated_kkt %k, %g, %b : (tensor<2x16x8xf32>, tensor<2x16xf32>, tensor<2x16xf32>) -> tensor<2x16x16xf32, "enc">
  return %a : tensor<2x16x16xf32, "enc">
}

// -----

// deltanet.quantize (added after the fix) had no such check: an encoded
// input was dropped silently, an encoded result gave invalid IR.
// CHECK: tensor-encoding.mlir:[[@LINE+2]]:14: error: 'deltanet.quantize' op input must not have a tensor encoding, got 'tensor<4x16x8xf32, "enc">'
func.func @quantize_input(%a: tensor<4x16x8xf32, "enc">) -> tensor<4x16x8xi8> {
  %qa, %sa = deltanet.quantize %a along [2] : tensor<4x16x8xf32, "enc"> -> tensor<4x16x8xi8>, tensor<4x16xf32>
  return %qa : tensor<4x16x8xi8>
}

// -----

// CHECK: tensor-encoding.mlir:[[@LINE+2]]:14: error: 'deltanet.quantize' op quantized must not have a tensor encoding, got 'tensor<4x16x8xi8, "enc">'
func.func @quantize_result(%a: tensor<4x16x8xf32>) -> tensor<4x16x8xi8, "enc"> {
  %qa, %sa = deltanet.quantize %a along [2] : tensor<4x16x8xf32> -> tensor<4x16x8xi8, "enc">, tensor<4x16xf32>
  return %qa : tensor<4x16x8xi8, "enc">
}

// -----

// CHECK: tensor-encoding.mlir:[[@LINE+2]]:8: error: 'deltanet.dequantize' op acc must not have a tensor encoding, got 'tensor<4x16x4xi32, "enc">'
func.func @dequantize_acc(%p: tensor<4x16x4xi32, "enc">, %sa: tensor<4x16xf32>, %sb: tensor<4x4xf32>) -> tensor<4x16x4xf32> {
  %y = deltanet.dequantize %p, %sa, %sb : (tensor<4x16x4xi32, "enc">, tensor<4x16xf32>, tensor<4x4xf32>) -> tensor<4x16x4xf32>
  return %y : tensor<4x16x4xf32>
}
