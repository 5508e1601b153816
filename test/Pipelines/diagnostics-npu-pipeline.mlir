// RUN: %exit_code 1 deltanet-opt %s --deltanet-npu-pipeline="target=tpu" 2>&1 | FileCheck %s --check-prefix=TARGET
// RUN: %exit_code 1 deltanet-opt %s --pass-pipeline="builtin.module(func.func(deltanet-npu-pipeline))" 2>&1 | FileCheck %s --check-prefix=NESTED
// RUN: %exit_code 1 deltanet-opt %s --deltanet-npu-pipeline="tri-inv-precision=f64" 2>&1 | FileCheck %s --check-prefix=PRECISION

// Bad options of --deltanet-npu-pipeline are errors with exit code 1.

// TARGET: error: invalid option target=tpu: expected mobile or datacenter (or an npu.target attribute on the module)
// NESTED: deltanet-npu-pipeline runs on 'builtin.module', not on 'func.func'
// PRECISION: for the --tri-inv-precision option: Cannot find option named 'f64'!

func.func @tri_inv(%a: tensor<2x16x16xf32>) -> tensor<2x16x16xf32> {
  %x = deltanet.tri_inv %a : tensor<2x16x16xf32>
  return %x : tensor<2x16x16xf32>
}
