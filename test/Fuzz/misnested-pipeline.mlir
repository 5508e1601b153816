// Regression (found by the diagnostics tests, fixed in 0cf3760): nesting
// deltanet-cpu-pipeline under func.func aborted deltanet-opt with "LLVM ERROR:
// Can't add pass 'DeltaNetProtectFunctionInputs' restricted to
// 'builtin.module' on a PassManager intended to run on 'func.func'"
// (report_fatal_error in OpPassManager::addPass). The pipeline is now
// registered with an anchor check. test/Pipelines/diagnostics-misnested-pipeline.mlir
// has the plain case; these are the other nestings a fuzzed or
// embedder-written pipeline string can produce. FUNC (after another pass,
// with options) aborted the same way. The op-agnostic ones (ANY) did not
// abort but compiled silently in part, exit code 0: `builtin.module(any(...))`
// lowered the nested module below and left @outer's tri_inv as it was,
// `func.func(any(...))` lowered nothing. The anchor check rejects all of them.
// RUN: %exit_code 1 deltanet-opt %s --pass-pipeline="builtin.module(any(deltanet-cpu-pipeline))" 2>&1 \
// RUN:   | FileCheck %s --check-prefix=ANY --implicit-check-not="LLVM ERROR"
// RUN: %exit_code 1 deltanet-opt %s --pass-pipeline="any(deltanet-cpu-pipeline)" 2>&1 \
// RUN:   | FileCheck %s --check-prefix=ANY --implicit-check-not="LLVM ERROR"
// RUN: %exit_code 1 deltanet-opt %s --pass-pipeline="builtin.module(func.func(canonicalize,deltanet-cpu-pipeline{tri-inv-order=2}))" 2>&1 \
// RUN:   | FileCheck %s --check-prefix=FUNC --implicit-check-not="LLVM ERROR"
// RUN: %exit_code 1 deltanet-opt %s --pass-pipeline="builtin.module(func.func(any(deltanet-cpu-pipeline)))" 2>&1 \
// RUN:   | FileCheck %s --check-prefix=ANY --implicit-check-not="LLVM ERROR"
// A nested builtin.module is a module: the check must not reject it, and
// the pipeline lowers the inner module only.
// RUN: deltanet-opt %s --pass-pipeline="builtin.module(builtin.module(deltanet-cpu-pipeline))" \
// RUN:   | FileCheck %s --check-prefix=NESTED

// ANY: error: deltanet-cpu-pipeline runs on 'builtin.module', not on 'any'
// FUNC: error: deltanet-cpu-pipeline runs on 'builtin.module', not on 'func.func'
// NESTED: func.func @outer
// NESTED: deltanet.tri_inv
// NESTED: module @m {
// NESTED-NOT: deltanet.tri_inv
// NESTED: llvm.func @inner
func.func @outer(%a: tensor<16x16xf32>) -> tensor<16x16xf32> {
  %x = deltanet.tri_inv %a : tensor<16x16xf32>
  return %x : tensor<16x16xf32>
}
module @m {
  func.func @inner(%a: tensor<16x16xf32>) -> tensor<16x16xf32> {
    %x = deltanet.tri_inv %a : tensor<16x16xf32>
    return %x : tensor<16x16xf32>
  }
}
