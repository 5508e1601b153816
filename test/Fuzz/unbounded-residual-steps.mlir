// Regression (found by the robustness tools, README "Robustness"; fixed in
// 253ec77): the residual_steps attribute had no upper bound. Each step is
// unrolled into the IR, so 1000 steps took over 100 s in the CPU pipeline, with
// no accuracy to gain (each step squares the truncation error: 16 are far past
// f32). The verifier now stops at 16, before any lowering. The options:
// unbounded-residual-steps-option.mlir.
// (The output of the valid piece goes to a file of its own, so that stdout
// and stderr cannot interleave.)
// RUN: %exit_code 1 deltanet-opt %s -split-input-file --pass-pipeline="builtin.module(deltanet-cpu-pipeline)" > %t.cpu 2> %t.err
// RUN: FileCheck %s --implicit-check-not="error:" --implicit-check-not="LLVM ERROR" < %t.err
// RUN: FileCheck %s --check-prefix=CPU < %t.cpu
// RUN: %exit_code 1 deltanet-opt %s -split-input-file --pass-pipeline="builtin.module(deltanet-lower-tri-inv)" > %t.linalg 2> %t.err
// RUN: FileCheck %s --implicit-check-not="error:" --implicit-check-not="LLVM ERROR" < %t.err
// RUN: FileCheck %s --check-prefix=LINALG < %t.linalg

// The bound itself is accepted and lowered.
// CPU: llvm.func @sixteen_steps
// LINALG-LABEL: func.func @sixteen_steps
// LINALG-NOT: deltanet.tri_inv
// LINALG: linalg.batch_matmul
func.func @sixteen_steps(%a: tensor<4x16x16xf32>) -> tensor<4x16x16xf32> {
  %x = deltanet.tri_inv %a {strategy = #deltanet.strategy<neumann>, order = 2 : i64, residual_steps = 16 : i64} : tensor<4x16x16xf32>
  return %x : tensor<4x16x16xf32>
}

// -----

// CHECK: unbounded-residual-steps.mlir:[[@LINE+2]]:8: error: 'deltanet.tri_inv' op residual_steps must be at most 16, got 1000
func.func @thousand_steps(%a: tensor<4x16x16xf32>) -> tensor<4x16x16xf32> {
  %x = deltanet.tri_inv %a {strategy = #deltanet.strategy<neumann>, order = 2 : i64, residual_steps = 1000 : i64} : tensor<4x16x16xf32>
  return %x : tensor<4x16x16xf32>
}

// -----

// CHECK: unbounded-residual-steps.mlir:[[@LINE+2]]:8: error: 'deltanet.tri_inv' op residual_steps must be at most 16, got 9223372036854775807
func.func @int64_max_steps(%a: tensor<4x16x16xf32>) -> tensor<4x16x16xf32> {
  %x = deltanet.tri_inv %a {strategy = #deltanet.strategy<neumann>, order = 1 : i64, residual_steps = 9223372036854775807 : i64} : tensor<4x16x16xf32>
  return %x : tensor<4x16x16xf32>
}
