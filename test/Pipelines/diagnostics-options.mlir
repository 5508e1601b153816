// Bad pass and pipeline options, unknown pipelines (targets) and misnested
// pipelines: an error, exit code 1, no crash. Values that the option parser
// itself rejects are reported by llvm::cl without a location; values that
// parse but are out of range are reported by the pass at the module's location.
//
// --deltanet-lower-tri-inv (not covered by lower-tri-inv-invalid-options.mlir):
// RUN: %exit_code 1 deltanet-opt %s --deltanet-lower-tri-inv="batch-tile=-2" 2>&1 | FileCheck %s --check-prefix=TILE
// RUN: %exit_code 1 deltanet-opt %s --deltanet-lower-tri-inv="block-size=-4" 2>&1 | FileCheck %s --check-prefix=BLOCKNEG
// RUN: %exit_code 1 deltanet-opt %s --deltanet-lower-tri-inv="block-size=6" 2>&1 | FileCheck %s --check-prefix=BLOCK6
// RUN: %exit_code 1 deltanet-opt %s --deltanet-lower-tri-inv="order=-9223372036854775808" 2>&1 | FileCheck %s --check-prefix=ORDERMIN
// RUN: %exit_code 1 deltanet-opt %s --deltanet-lower-tri-inv="residual-steps=-3" 2>&1 | FileCheck %s --check-prefix=STEPS
// RUN: %exit_code 1 deltanet-opt %s --deltanet-lower-tri-inv="precision=f8" 2>&1 | FileCheck %s --check-prefix=PRECISION
// RUN: %exit_code 1 deltanet-opt %s --deltanet-lower-tri-inv="block-size=abc" 2>&1 | FileCheck %s --check-prefix=NOTINT
// RUN: %exit_code 1 deltanet-opt %s --deltanet-lower-tri-inv="order=99999999999999999999" 2>&1 | FileCheck %s --check-prefix=TOOBIG
// RUN: %exit_code 1 deltanet-opt %s --deltanet-lower-tri-inv="strategy=Blocked" 2>&1 | FileCheck %s --check-prefix=CASE
//
// --deltanet-cpu-pipeline:
// RUN: %exit_code 1 deltanet-opt %s --deltanet-cpu-pipeline="tri-inv-batch-tile=-2" 2>&1 | FileCheck %s --check-prefix=TILE
// RUN: %exit_code 1 deltanet-opt %s --deltanet-cpu-pipeline="tri-inv-residual-steps=-3" 2>&1 | FileCheck %s --check-prefix=STEPS
// RUN: %exit_code 1 deltanet-opt %s --deltanet-cpu-pipeline="tri-inv-order=-2" 2>&1 | FileCheck %s --check-prefix=ORDERNEG
// RUN: %exit_code 1 deltanet-opt %s --deltanet-cpu-pipeline="tri-inv-block-size=6" 2>&1 | FileCheck %s --check-prefix=BLOCK6
// RUN: %exit_code 1 deltanet-opt %s --deltanet-cpu-pipeline="tri-inv-block-size=32" 2>&1 | FileCheck %s --check-prefix=DIVIDE
// RUN: %exit_code 1 deltanet-opt %s --deltanet-cpu-pipeline="tri-inv-precision=fp8" 2>&1 | FileCheck %s --check-prefix=PIPEPRECISION
// RUN: %exit_code 1 deltanet-opt %s --deltanet-cpu-pipeline="tri-inv-strategy=" 2>&1 | FileCheck %s --check-prefix=PIPEEMPTY
// RUN: %exit_code 1 deltanet-opt %s --deltanet-cpu-pipeline="strategy=neumann" 2>&1 | FileCheck %s --check-prefix=PIPEUNKNOWN
// RUN: %exit_code 1 deltanet-opt %s --pass-pipeline="builtin.module(deltanet-cpu-pipeline{tri-inv-order=0})" 2>&1 | FileCheck %s --check-prefix=ORDER0
// RUN: %exit_code 1 deltanet-opt %s --deltanet-cpu-pipeline="num-threads=-1" 2>&1 | FileCheck %s --check-prefix=THREADS
// RUN: %exit_code 1 deltanet-opt %s --deltanet-cpu-pipeline="max-stack-scratch-bytes=-1" 2>&1 | FileCheck %s --check-prefix=STACK
//
// Unsupported targets: the CPU pipeline is the only one (a misnested
// deltanet-cpu-pipeline is diagnostics-misnested-pipeline.mlir, a known crash).
// RUN: %exit_code 1 deltanet-opt %s --deltanet-gpu-pipeline 2>&1 | FileCheck %s --check-prefix=GPURESULT
// RUN: %exit_code 1 deltanet-opt %s --pass-pipeline="builtin.module(func.func(deltanet-gpu-pipeline))" 2>&1 | FileCheck %s --check-prefix=GPUNESTED
// RUN: %exit_code 1 deltanet-opt %s --pass-pipeline="builtin.module(func.func(deltanet-protect-function-inputs))" 2>&1 | FileCheck %s --check-prefix=NESTED

// TILE: diagnostics-options.mlir:0:0: error: invalid option batch-tile=-2: must be >= -1 (-1 = the target's preferred tile, 0 = no tiling)
// BLOCKNEG: diagnostics-options.mlir:0:0: error: invalid option block-size=-4: must be a positive power of two
// BLOCK6: diagnostics-options.mlir:0:0: error: invalid option block-size=6: must be a positive power of two
// ORDERMIN: diagnostics-options.mlir:0:0: error: invalid option order=-9223372036854775808: must be >= 1 (or -1 for exact)
// STEPS: diagnostics-options.mlir:0:0: error: invalid option residual-steps=-3: must be >= 0
// PRECISION: for the --precision option: Cannot find option named 'f8'!
// NOTINT: for the --block-size option: 'abc' value invalid for long argument!
// TOOBIG: for the --order option: '99999999999999999999' value invalid for long argument!
// CASE: for the --strategy option: Cannot find option named 'Blocked'!
// ORDERNEG: diagnostics-options.mlir:0:0: error: invalid option order=-2: must be >= 1 (or -1 for exact)
// DIVIDE: diagnostics-options.mlir:[[@LINE+10]]:8: error: 'deltanet.tri_inv' op block size 32 does not divide the matrix size 48
// PIPEPRECISION: for the --tri-inv-precision option: Cannot find option named 'fp8'!
// PIPEEMPTY: for the --tri-inv-strategy option: Cannot find option named ''!
// PIPEUNKNOWN: no such option strategy
// ORDER0: diagnostics-options.mlir:0:0: error: invalid option order=0: must be >= 1 (or -1 for exact)
// GPURESULT: diagnostics-options.mlir:[[@LINE+4]]:1: error: the GPU pipeline needs destination-passing functions: write results into memref arguments
// GPUNESTED: deltanet-gpu-pipeline runs on 'builtin.module', not on 'func.func'
// NESTED: error: Can't add pass 'DeltaNetProtectFunctionInputs' restricted to 'builtin.module' on a PassManager intended to run on 'func.func'

func.func @f(%a: tensor<48x48xf32>) -> tensor<48x48xf32> {
  %x = deltanet.tri_inv %a : tensor<48x48xf32>
  return %x : tensor<48x48xf32>
}

// THREADS: deltanet-cpu-pipeline: num-threads must be >= 0 (0 = OMP_NUM_THREADS), got -1
// STACK: deltanet-cpu-pipeline: max-stack-scratch-bytes must be >= 0 (0 = no scratch on the stack), got -1
