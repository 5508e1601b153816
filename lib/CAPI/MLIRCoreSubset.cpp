//===- MLIRCoreSubset.cpp - The upstream MLIR-C core functions we need ----===//
//
// Implements, with upstream names and semantics, the subset of the core MLIR
// C API listed in include/deltanet-c/MLIRCoreSubset.h (Debian's libMLIR.so
// does not export the MLIR C API).
//
//===----------------------------------------------------------------------===//

#include "deltanet-c/MLIRCoreSubset.h"

#include "mlir-c/RegisterEverything.h"

#include "mlir/CAPI/Diagnostics.h"
#include "mlir/CAPI/IR.h"
#include "mlir/CAPI/Registration.h"
#include "mlir/CAPI/Support.h"
#include "mlir/CAPI/Utils.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Parser/Parser.h"

#include <cstring>
#include <memory>

using namespace mlir;

//===----------------------------------------------------------------------===//
// Support
//===----------------------------------------------------------------------===//

MlirStringRef mlirStringRefCreateFromCString(const char *str) {
  return mlirStringRefCreate(str, strlen(str));
}

bool mlirStringRefEqual(MlirStringRef string, MlirStringRef other) {
  return llvm::StringRef(string.data, string.length) ==
         llvm::StringRef(other.data, other.length);
}

//===----------------------------------------------------------------------===//
// Context and dialect registry
//===----------------------------------------------------------------------===//

MlirContext mlirContextCreate(void) {
  return wrap(new MLIRContext(MLIRContext::Threading::ENABLED));
}

MlirContext mlirContextCreateWithThreading(bool threadingEnabled) {
  return wrap(new MLIRContext(threadingEnabled
                                  ? MLIRContext::Threading::ENABLED
                                  : MLIRContext::Threading::DISABLED));
}

MlirContext mlirContextCreateWithRegistry(MlirDialectRegistry registry,
                                          bool threadingEnabled) {
  return wrap(new MLIRContext(
      *unwrap(registry), threadingEnabled ? MLIRContext::Threading::ENABLED
                                          : MLIRContext::Threading::DISABLED));
}

void mlirContextDestroy(MlirContext context) { delete unwrap(context); }

void mlirContextAppendDialectRegistry(MlirContext ctx,
                                      MlirDialectRegistry registry) {
  unwrap(ctx)->appendDialectRegistry(*unwrap(registry));
}

MlirDialect mlirContextGetOrLoadDialect(MlirContext context,
                                        MlirStringRef name) {
  return wrap(unwrap(context)->getOrLoadDialect(unwrap(name)));
}

intptr_t mlirContextGetNumLoadedDialects(MlirContext context) {
  return static_cast<intptr_t>(unwrap(context)->getLoadedDialects().size());
}

MlirStringRef mlirDialectGetNamespace(MlirDialect dialect) {
  return wrap(unwrap(dialect)->getNamespace());
}

MlirDialectRegistry mlirDialectRegistryCreate(void) {
  return wrap(new DialectRegistry());
}

void mlirDialectRegistryDestroy(MlirDialectRegistry registry) {
  delete unwrap(registry);
}

//===----------------------------------------------------------------------===//
// Dialect handles
//===----------------------------------------------------------------------===//

static const MlirDialectRegistrationHooks *hooksOf(MlirDialectHandle handle) {
  return static_cast<const MlirDialectRegistrationHooks *>(handle.ptr);
}

MlirStringRef mlirDialectHandleGetNamespace(MlirDialectHandle handle) {
  return hooksOf(handle)->getNamespaceHook();
}

void mlirDialectHandleInsertDialect(MlirDialectHandle handle,
                                    MlirDialectRegistry registry) {
  hooksOf(handle)->insertHook(registry);
}

MlirDialect mlirDialectHandleLoadDialect(MlirDialectHandle handle,
                                         MlirContext context) {
  return hooksOf(handle)->loadHook(context);
}

//===----------------------------------------------------------------------===//
// Modules and operations
//===----------------------------------------------------------------------===//

MlirModule mlirModuleCreateParse(MlirContext context, MlirStringRef module) {
  OwningOpRef<ModuleOp> owning =
      parseSourceString<ModuleOp>(unwrap(module), unwrap(context));
  if (!owning)
    return MlirModule{nullptr};
  return MlirModule{owning.release().getOperation()};
}

void mlirModuleDestroy(MlirModule module) {
  // Transfer ownership to an OwningOpRef that erases the module.
  OwningOpRef<ModuleOp> owning(unwrap(module));
}

MlirOperation mlirModuleGetOperation(MlirModule module) {
  return wrap(unwrap(module).getOperation());
}

void mlirOperationPrint(MlirOperation op, MlirStringCallback callback,
                        void *userData) {
  detail::CallbackOstream stream(callback, userData);
  unwrap(op)->print(stream);
  stream.flush();
}

bool mlirOperationVerify(MlirOperation op) {
  return succeeded(verify(unwrap(op)));
}

//===----------------------------------------------------------------------===//
// Diagnostics
//===----------------------------------------------------------------------===//

void mlirDiagnosticPrint(MlirDiagnostic diagnostic, MlirStringCallback callback,
                         void *userData) {
  detail::CallbackOstream stream(callback, userData);
  unwrap(diagnostic).print(stream);
  stream.flush();
}

MlirDiagnosticSeverity mlirDiagnosticGetSeverity(MlirDiagnostic diagnostic) {
  switch (unwrap(diagnostic).getSeverity()) {
  case DiagnosticSeverity::Error:
    return MlirDiagnosticError;
  case DiagnosticSeverity::Warning:
    return MlirDiagnosticWarning;
  case DiagnosticSeverity::Note:
    return MlirDiagnosticNote;
  case DiagnosticSeverity::Remark:
    return MlirDiagnosticRemark;
  }
  llvm_unreachable("unknown diagnostic severity");
}

MlirDiagnosticHandlerID mlirContextAttachDiagnosticHandler(
    MlirContext context, MlirDiagnosticHandler handler, void *userData,
    void (*deleteUserData)(void *)) {
  auto noop = [](void *) {};
  std::shared_ptr<void> owned(
      userData,
      deleteUserData ? deleteUserData : static_cast<void (*)(void *)>(noop));
  DiagnosticEngine::HandlerID id =
      unwrap(context)->getDiagEngine().registerHandler(
          [handler, owned](Diagnostic &diagnostic) {
            return unwrap(handler(wrap(diagnostic), owned.get()));
          });
  return static_cast<MlirDiagnosticHandlerID>(id);
}

void mlirContextDetachDiagnosticHandler(MlirContext context,
                                        MlirDiagnosticHandlerID id) {
  unwrap(context)->getDiagEngine().eraseHandler(
      static_cast<DiagnosticEngine::HandlerID>(id));
}

//===----------------------------------------------------------------------===//
// Everything upstream
//===----------------------------------------------------------------------===//

void mlirRegisterAllDialects(MlirDialectRegistry registry) {
  registerAllDialects(*unwrap(registry));
}

void mlirRegisterAllPasses(void) { registerAllPasses(); }
