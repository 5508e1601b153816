//===- Passes.h - C API: deltanet passes and pipelines ------------*- C -*-===//
//
// Registration of the deltanet passes and pipelines, and running a textual
// pass pipeline on an operation, following the MLIR C API conventions.
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_C_PASSES_H
#define DELTANET_C_PASSES_H

#include "mlir-c/IR.h"
#include "mlir-c/Support.h"

#ifdef __cplusplus
extern "C" {
#endif

/// Registers the deltanet passes (`deltanet-lower-tri-inv`, ...) with the
/// global pass registry, so that textual pipelines can name them.
MLIR_CAPI_EXPORTED void mlirDeltaNetRegisterPasses(void);

/// Registers the deltanet pipelines (`deltanet-cpu-pipeline`) with the global
/// pass registry.
MLIR_CAPI_EXPORTED void mlirDeltaNetRegisterPipelines(void);

/// Parses `pipeline`, a textual pass pipeline such as
/// `builtin.module(deltanet-cpu-pipeline{tri-inv-strategy=neumann})` (an
/// unanchored list such as `deltanet-lower-tri-inv,canonicalize` is nested
/// under the operation's name), and runs it on `op`. Pipeline syntax errors,
/// option errors and the diagnostics emitted while running are passed to
/// `errorCallback` (may be null) as text, locations included; diagnostics are
/// not forwarded to the context's handlers. Returns failure on any error.
MLIR_CAPI_EXPORTED MlirLogicalResult
mlirDeltaNetRunPassPipeline(MlirOperation op, MlirStringRef pipeline,
                            MlirStringCallback errorCallback, void *userData);

/// Runs the pipeline of `target` (`deltanet-<target>-pipeline`; "cpu") on
/// the module `op` with `options`, a space-separated list of `key=value`
/// pipeline options (for example `tri-inv-strategy=neumann tri-inv-order=3`;
/// empty for the defaults). An unknown target is an error naming the known
/// ones. Errors are reported as in mlirDeltaNetRunPassPipeline.
MLIR_CAPI_EXPORTED MlirLogicalResult mlirDeltaNetRunTargetPipeline(
    MlirOperation op, MlirStringRef target, MlirStringRef options,
    MlirStringCallback errorCallback, void *userData);

/// Prints the options of `target`'s pipeline with their default values
/// (`{tri-inv-batch-tile=-1 tri-inv-block-size=0 ...}`) to `callback`;
/// nothing for an unknown target.
MLIR_CAPI_EXPORTED void mlirDeltaNetPrintTargetPipelineOptions(
    MlirStringRef target, MlirStringCallback callback, void *userData);

/// mlirDeltaNetRunTargetPipeline for the target "cpu".
MLIR_CAPI_EXPORTED MlirLogicalResult
mlirDeltaNetRunCpuPipeline(MlirOperation op, MlirStringRef options,
                           MlirStringCallback errorCallback, void *userData);

/// mlirDeltaNetPrintTargetPipelineOptions for the target "cpu".
MLIR_CAPI_EXPORTED void
mlirDeltaNetPrintCpuPipelineOptions(MlirStringCallback callback,
                                    void *userData);

#ifdef __cplusplus
}
#endif

#endif // DELTANET_C_PASSES_H
