//===- MLIRCoreSubset.h - C API: MLIR-C core functions we provide -*- C -*-===//
//
// Debian's LLVM/MLIR 22 ships the MLIR C API only as static component
// libraries (libMLIRCAPI*.a); libMLIR.so does not export it and there is no
// libMLIR-C.so. The library DeltaNetMLIRCAPICore (libDeltaNetMLIRCAPICore.so)
// therefore implements, on top of libMLIR.so, the subset of the upstream core
// MLIR C API listed below, with the upstream names, declarations (from
// mlir-c/IR.h, mlir-c/Diagnostics.h and mlir-c/RegisterEverything.h) and
// semantics.
//
// Link it only when no other MLIR C API implementation is linked: an embedder
// that already has the MLIR C API (its own MLIR build) links
// libDeltaNetCAPI.so alone, which depends on nothing but libMLIR.so.
//
// Provided:
//   mlirStringRefCreateFromCString, mlirStringRefEqual,
//   mlirContextCreate, mlirContextCreateWithThreading,
//   mlirContextCreateWithRegistry, mlirContextDestroy,
//   mlirContextAppendDialectRegistry, mlirContextGetOrLoadDialect,
//   mlirContextGetNumLoadedDialects,
//   mlirDialectRegistryCreate, mlirDialectRegistryDestroy,
//   mlirDialectHandleGetNamespace, mlirDialectHandleInsertDialect,
//   mlirDialectHandleLoadDialect, mlirDialectGetNamespace,
//   mlirModuleCreateParse, mlirModuleDestroy, mlirModuleGetOperation,
//   mlirOperationPrint, mlirOperationVerify,
//   mlirContextAttachDiagnosticHandler, mlirContextDetachDiagnosticHandler,
//   mlirDiagnosticPrint, mlirDiagnosticGetSeverity,
//   mlirRegisterAllDialects, mlirRegisterAllPasses.
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_C_MLIRCORESUBSET_H
#define DELTANET_C_MLIRCORESUBSET_H

#include "mlir-c/Diagnostics.h"
#include "mlir-c/IR.h"
#include "mlir-c/RegisterEverything.h"

#endif // DELTANET_C_MLIRCORESUBSET_H
