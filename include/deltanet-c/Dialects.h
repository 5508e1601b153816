//===- Dialects.h - C API: register the deltanet dialect ----------*- C -*-===//
//
// Registration of the deltanet dialect (and of everything its CPU pipeline
// needs) into an MlirDialectRegistry, following the MLIR C API conventions.
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_C_DIALECTS_H
#define DELTANET_C_DIALECTS_H

#include "mlir-c/IR.h"

#ifdef __cplusplus
extern "C" {
#endif

/// The dialect handle of `deltanet` (`mlirGetDialectHandle__deltanet__`), for
/// `mlirDialectHandleInsertDialect` / `mlirDialectHandleLoadDialect`.
MLIR_DECLARE_CAPI_DIALECT_REGISTRATION(DeltaNet, deltanet);

/// Adds the deltanet dialect to `registry`.
MLIR_CAPI_EXPORTED void
mlirDeltaNetRegisterDialect(MlirDialectRegistry registry);

/// Adds the deltanet dialect and every dialect, dialect extension and LLVM IR
/// translation that `--deltanet-cpu-pipeline` and the JIT need (all upstream
/// dialects and extensions) to `registry`.
MLIR_CAPI_EXPORTED void
mlirDeltaNetRegisterCpuPipelineDependencies(MlirDialectRegistry registry);

#ifdef __cplusplus
}
#endif

#endif // DELTANET_C_DIALECTS_H
