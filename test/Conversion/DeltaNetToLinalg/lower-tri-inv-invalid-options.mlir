// RUN: not deltanet-opt %s --deltanet-lower-tri-inv="strategy=cholesky" 2>&1 | FileCheck %s --check-prefix=STRATEGY
// RUN: not deltanet-opt %s --deltanet-lower-tri-inv="block-size=12" 2>&1 | FileCheck %s --check-prefix=BLOCK
// RUN: not deltanet-opt %s --deltanet-lower-tri-inv="block-size=-4" 2>&1 | FileCheck %s --check-prefix=BLOCKNEG
// RUN: not deltanet-opt %s --deltanet-lower-tri-inv="block-size=32" 2>&1 | FileCheck %s --check-prefix=DIVIDE
// RUN: not deltanet-opt %s --deltanet-lower-tri-inv="order=0" 2>&1 | FileCheck %s --check-prefix=ORDER
// RUN: not deltanet-opt %s --deltanet-lower-tri-inv="order=-2" 2>&1 | FileCheck %s --check-prefix=ORDERNEG
// RUN: not deltanet-opt %s --deltanet-lower-tri-inv="residual-steps=-1" 2>&1 | FileCheck %s --check-prefix=STEPS
// RUN: not deltanet-opt %s --deltanet-cpu-pipeline="tri-inv-residual-steps=100000" 2>&1 | FileCheck %s --check-prefix=MANYSTEPS
// RUN: not deltanet-opt %s --deltanet-lower-tri-inv="bogus=1" 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// RUN: not deltanet-opt %s --deltanet-cpu-pipeline="tri-inv-order=0" 2>&1 | FileCheck %s --check-prefix=ORDER
// RUN: not deltanet-opt %s --deltanet-cpu-pipeline="tri-inv-strategy=lu" 2>&1 | FileCheck %s --check-prefix=PIPESTRATEGY
// RUN: not deltanet-opt %s --deltanet-cpu-pipeline="tri-inv-block-size=24" 2>&1 | FileCheck %s --check-prefix=PIPEBLOCK
// RUN: not deltanet-opt %s --deltanet-lower-tri-inv="precision=fp8" 2>&1 | FileCheck %s --check-prefix=PRECISION
// RUN: not deltanet-opt %s --deltanet-lower-tri-inv="quant-granularity=column" 2>&1 | FileCheck %s --check-prefix=GRANULARITY
// RUN: not deltanet-opt %s --deltanet-cpu-pipeline="tri-inv-precision=int4" 2>&1 | FileCheck %s --check-prefix=PIPEPRECISION
// RUN: not deltanet-opt %s --deltanet-lower-tri-inv="tolerance=-0.5" 2>&1 | FileCheck %s --check-prefix=TOLNEG
// RUN: not deltanet-opt %s --deltanet-cpu-pipeline="tri-inv-tolerance=inf" 2>&1 | FileCheck %s --check-prefix=TOLINF
// RUN: not deltanet-opt %s --deltanet-lower-tri-inv="tolerance=1e-3 residual-steps=1" 2>&1 | FileCheck %s --check-prefix=TOLSTEPS
// RUN: not deltanet-opt %s --deltanet-lower-tri-inv="tolerance=tight" 2>&1 | FileCheck %s --check-prefix=TOLWORD

// STRATEGY: for the --strategy option: Cannot find option named 'cholesky'!
// BLOCK: lower-tri-inv-invalid-options.mlir:0:0: error: invalid option block-size=12: must be a positive power of two
// BLOCKNEG: error: invalid option block-size=-4: must be a positive power of two (or 0 for the precision's default)
// ORDER: error: invalid option order=0: must be >= 1 (or -1 for exact)
// ORDERNEG: error: invalid option order=-2: must be >= 1 (or -1 for exact)
// STEPS: error: invalid option residual-steps=-1: must be >= 0
// MANYSTEPS: error: invalid option residual-steps=100000: must be at most 16
// UNKNOWN: error: <Pass-Options-Parser>: no such option bogus
// PIPESTRATEGY: for the --tri-inv-strategy option: Cannot find option named 'lu'!
// PIPEBLOCK: error: invalid option block-size=24: must be a positive power of two
// PRECISION: for the --precision option: Cannot find option named 'fp8'!
// GRANULARITY: for the --quant-granularity option: Cannot find option named 'column'!
// PIPEPRECISION: for the --tri-inv-precision option: Cannot find option named 'int4'!
// TOLNEG: error: invalid option tolerance=-0.5: must be a finite number >= 0
// TOLINF: error: invalid option tolerance=inf: must be a finite number >= 0
// TOLSTEPS: error: invalid option tolerance=0.001: it chooses order and residual-steps, which must not be set too
// TOLWORD: for the --tolerance option: 'tight' value invalid for floating point argument!
// DIVIDE: lower-tri-inv-invalid-options.mlir:[[@LINE+2]]:8: error: 'deltanet.tri_inv' op block size 32 does not divide the matrix size 48
func.func @f(%a: tensor<48x48xf32>) -> tensor<48x48xf32> {
  %x = deltanet.tri_inv %a : tensor<48x48xf32>
  return %x : tensor<48x48xf32>
}
