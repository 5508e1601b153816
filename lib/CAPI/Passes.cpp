//===- Passes.cpp - C API: deltanet passes and pipelines ------------------===//
//
// Implements include/deltanet-c/Passes.h.
//
//===----------------------------------------------------------------------===//

#include "deltanet-c/Passes.h"

#include "deltanet/InitDeltaNet.h"
#include "deltanet/Pipelines/Pipelines.h"
#include "mlir/CAPI/IR.h"
#include "mlir/CAPI/Support.h"
#include "mlir/CAPI/Utils.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

using namespace mlir;

void mlirDeltaNetRegisterPasses(void) {
  mlir::deltanet::registerDeltaNetPasses();
}

void mlirDeltaNetRegisterPipelines(void) {
  mlir::deltanet::registerDeltaNetPipelines();
}

namespace {

/// Collects option errors and diagnostics as text and hands them to the
/// user's callback at the end.
class ErrorCollector {
public:
  ErrorCollector(MlirStringCallback callback, void *userData)
      : callback(callback), userData(userData), stream(text) {}
  ~ErrorCollector() {
    if (callback && !text.empty())
      callback(wrap(llvm::StringRef(text)), userData);
  }
  llvm::raw_ostream &os() { return stream; }

private:
  MlirStringCallback callback;
  void *userData;
  std::string text;
  llvm::raw_string_ostream stream;
};

/// Runs `pm` on `op`, routing diagnostics into `errors`.
MlirLogicalResult runCollectingDiagnostics(PassManager &pm, Operation *op,
                                           ErrorCollector &errors) {
  ScopedDiagnosticHandler handler(op->getContext(), [&](Diagnostic &diag) {
    errors.os() << diag.getLocation() << ": " << diag << "\n";
    for (const Diagnostic &note : diag.getNotes())
      errors.os() << note.getLocation() << ": note: " << note << "\n";
    return success();
  });
  return wrap(pm.run(op));
}

} // namespace

MlirLogicalResult mlirDeltaNetRunPassPipeline(MlirOperation op,
                                              MlirStringRef pipeline,
                                              MlirStringCallback errorCallback,
                                              void *userData) {
  ErrorCollector errors(errorCallback, userData);
  Operation *operation = unwrap(op);
  llvm::StringRef text = unwrap(pipeline).trim();
  llvm::StringRef opName = operation->getName().getStringRef();
  PassManager pm(operation->getContext(), opName);
  // `op-name(...)` spells the root explicitly; anything else is nested under
  // the operation's name.
  llvm::StringRef nested = text;
  if (nested.consume_front(opName) && nested.consume_front("(")) {
    if (!nested.consume_back(")")) {
      errors.os() << "unbalanced parentheses in the pass pipeline '"
                  << unwrap(pipeline) << "'\n";
      return mlirLogicalResultFailure();
    }
    text = nested;
  }
  if (failed(parsePassPipeline(text, pm, errors.os())))
    return mlirLogicalResultFailure();
  return runCollectingDiagnostics(pm, operation, errors);
}

MlirLogicalResult mlirDeltaNetRunCpuPipeline(MlirOperation op,
                                             MlirStringRef options,
                                             MlirStringCallback errorCallback,
                                             void *userData) {
  ErrorCollector errors(errorCallback, userData);
  mlir::deltanet::CpuPipelineOptions pipelineOptions;
  if (failed(pipelineOptions.parseFromString(unwrap(options), errors.os()))) {
    errors.os() << "invalid --deltanet-cpu-pipeline options '"
                << unwrap(options) << "'\n";
    return mlirLogicalResultFailure();
  }
  Operation *operation = unwrap(op);
  PassManager pm(operation->getContext(), operation->getName().getStringRef());
  mlir::deltanet::buildCpuPipeline(pm, pipelineOptions);
  return runCollectingDiagnostics(pm, operation, errors);
}

void mlirDeltaNetPrintCpuPipelineOptions(MlirStringCallback callback,
                                         void *userData) {
  mlir::detail::CallbackOstream stream(callback, userData);
  mlir::deltanet::CpuPipelineOptions().print(stream);
  stream.flush();
}
