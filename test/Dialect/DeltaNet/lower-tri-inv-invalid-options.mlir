// RUN: not deltanet-opt %s --deltanet-lower-tri-inv="strategy=cholesky" 2>&1 | FileCheck %s --check-prefix=STRATEGY
// RUN: not deltanet-opt %s --deltanet-lower-tri-inv="block-size=12" 2>&1 | FileCheck %s --check-prefix=BLOCK
// RUN: not deltanet-opt %s --deltanet-lower-tri-inv="block-size=0" 2>&1 | FileCheck %s --check-prefix=BLOCK0
// RUN: not deltanet-opt %s --deltanet-lower-tri-inv="block-size=32" 2>&1 | FileCheck %s --check-prefix=DIVIDE
// RUN: not deltanet-opt %s --deltanet-lower-tri-inv="order=0" 2>&1 | FileCheck %s --check-prefix=ORDER
// RUN: not deltanet-opt %s --deltanet-lower-tri-inv="order=-2" 2>&1 | FileCheck %s --check-prefix=ORDERNEG
// RUN: not deltanet-opt %s --deltanet-lower-tri-inv="residual-steps=-1" 2>&1 | FileCheck %s --check-prefix=STEPS
// RUN: not deltanet-opt %s --deltanet-lower-tri-inv="bogus=1" 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// RUN: not deltanet-opt %s --deltanet-cpu-pipeline="tri-inv-order=0" 2>&1 | FileCheck %s --check-prefix=ORDER
// RUN: not deltanet-opt %s --deltanet-cpu-pipeline="tri-inv-strategy=lu" 2>&1 | FileCheck %s --check-prefix=PIPESTRATEGY
// RUN: not deltanet-opt %s --deltanet-cpu-pipeline="tri-inv-block-size=24" 2>&1 | FileCheck %s --check-prefix=PIPEBLOCK

// STRATEGY: for the --strategy option: Cannot find option named 'cholesky'!
// BLOCK: lower-tri-inv-invalid-options.mlir:0:0: error: invalid option block-size=12: must be a positive power of two
// BLOCK0: error: invalid option block-size=0: must be a positive power of two
// DIVIDE: lower-tri-inv-invalid-options.mlir:[[@LINE+8]]:8: error: 'deltanet.tri_inv' op block size 32 does not divide the matrix size 48
// ORDER: error: invalid option order=0: must be >= 1 (or -1 for exact)
// ORDERNEG: error: invalid option order=-2: must be >= 1 (or -1 for exact)
// STEPS: error: invalid option residual-steps=-1: must be >= 0
// UNKNOWN: error: <Pass-Options-Parser>: no such option bogus
// PIPESTRATEGY: for the --tri-inv-strategy option: Cannot find option named 'lu'!
// PIPEBLOCK: error: invalid option block-size=24: must be a positive power of two
func.func @f(%a: tensor<48x48xf32>) -> tensor<48x48xf32> {
  %x = deltanet.tri_inv %a : tensor<48x48xf32>
  return %x : tensor<48x48xf32>
}
