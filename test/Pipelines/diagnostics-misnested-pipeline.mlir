// The CPU pipeline runs on modules: nested under func.func it is a
// diagnostic and exit code 1, not a fatal error while adding its module
// passes (the pipeline is registered with an anchor check).
// RUN: %exit_code 1 deltanet-opt %s --pass-pipeline="builtin.module(func.func(deltanet-cpu-pipeline))" 2>&1 | FileCheck %s
// RUN: deltanet-opt %s --pass-pipeline="builtin.module(deltanet-cpu-pipeline{tri-inv-precision=i8})" | FileCheck %s --check-prefix=MODULE
// CHECK: error: deltanet-cpu-pipeline runs on 'builtin.module', not on 'func.func'
// CHECK-NOT: LLVM ERROR
// MODULE: llvm.func @f

func.func @f(%a: tensor<16x16xf32>) -> tensor<16x16xf32> {
  %x = deltanet.tri_inv %a : tensor<16x16xf32>
  return %x : tensor<16x16xf32>
}
