//===- Dialects.cpp - C API: register the deltanet dialect ----------------===//
//
// Implements include/deltanet-c/Dialects.h.
//
//===----------------------------------------------------------------------===//

#include "deltanet-c/Dialects.h"

#include "deltanet/InitDeltaNet.h"
#include "deltanet/Runtime/Compiler.h"
#include "mlir/CAPI/IR.h"
#include "mlir/CAPI/Registration.h"

MLIR_DEFINE_CAPI_DIALECT_REGISTRATION(DeltaNet, deltanet,
                                      mlir::deltanet::DeltaNetDialect)

void mlirDeltaNetRegisterDialect(MlirDialectRegistry registry) {
  mlir::deltanet::registerDeltaNetDialect(*unwrap(registry));
}

void mlirDeltaNetRegisterCpuPipelineDependencies(MlirDialectRegistry registry) {
  mlir::deltanet::registerCompilerDependencies(*unwrap(registry));
}
