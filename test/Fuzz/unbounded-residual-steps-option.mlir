// Regression (fixed in 100ba84): after the attribute was capped at 16
// (unbounded-residual-steps.mlir), the residual-steps pass option still had no
// bound: residual-steps=100000 spent over a minute in the lowering. The pass
// option and the pipeline's tri-inv-residual-steps now stop at 16 too, an
// option error at the module's location (file:0:0) before any lowering.
// RUN: %exit_code 1 deltanet-opt %s --pass-pipeline="builtin.module(deltanet-lower-tri-inv{strategy=neumann order=2 residual-steps=100000})" 2>&1 \
// RUN:   | FileCheck %s --check-prefix=PASS --implicit-check-not="error:"
// RUN: %exit_code 1 deltanet-opt %s --deltanet-cpu-pipeline="tri-inv-strategy=neumann tri-inv-order=2 tri-inv-residual-steps=17" 2>&1 \
// RUN:   | FileCheck %s --check-prefix=PIPE --implicit-check-not="error:"
// A value past int64 is llvm::cl's error (no location), still exit code 1.
// RUN: %exit_code 1 deltanet-opt %s --deltanet-cpu-pipeline="tri-inv-residual-steps=99999999999999999999" 2>&1 \
// RUN:   | FileCheck %s --check-prefix=HUGE
// The bound itself is accepted.
// RUN: deltanet-opt %s --pass-pipeline="builtin.module(deltanet-lower-tri-inv{strategy=neumann order=2 residual-steps=16})" \
// RUN:   | FileCheck %s --check-prefix=SIXTEEN

// PASS: unbounded-residual-steps-option.mlir:0:0: error: invalid option residual-steps=100000: must be at most 16
// PIPE: unbounded-residual-steps-option.mlir:0:0: error: invalid option residual-steps=17: must be at most 16
// HUGE: for the --tri-inv-residual-steps option: '99999999999999999999' value invalid for long argument!
// SIXTEEN-LABEL: func.func @f
// SIXTEEN-NOT: deltanet.tri_inv
// SIXTEEN: linalg.batch_matmul
func.func @f(%a: tensor<4x16x16xf32>) -> tensor<4x16x16xf32> {
  %x = deltanet.tri_inv %a : tensor<4x16x16xf32>
  return %x : tensor<4x16x16xf32>
}
