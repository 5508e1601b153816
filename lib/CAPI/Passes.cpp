//===- Passes.cpp - C API: deltanet passes and pipelines ------------------===//
//
// Implements include/deltanet-c/Passes.h.
//
//===----------------------------------------------------------------------===//

#include "deltanet-c/Passes.h"

#include "deltanet/InitDeltaNet.h"
#include "deltanet/Pipelines/Pipelines.h"
#include "deltanet/Runtime/Diagnostics.h"
#include "mlir/CAPI/IR.h"
#include "mlir/CAPI/Support.h"
#include "mlir/CAPI/Utils.h"
#include "mlir/IR/BuiltinOps.h"
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
    deltanet::printDiagnostic(errors.os(), diag);
    return success();
  });
  return wrap(pm.run(op));
}

/// Works around a known bug
/// (test/Pipelines/diagnostics-misnested-pipeline.mlir): buildCpuPipeline
/// aborts the process (report_fatal_error) when deltanet-cpu-pipeline is
/// anchored on anything but builtin.module. Scans the textual pipeline, whose
/// root is `rootName`, and returns the offending anchor, or an empty string.
std::string findMisnestedCpuPipeline(llvm::StringRef pipeline,
                                     llvm::StringRef rootName) {
  llvm::SmallVector<llvm::StringRef> anchors{rootName};
  std::string offending;
  size_t tokenStart = 0;
  auto checkToken = [&](size_t end) {
    llvm::StringRef name = pipeline.slice(tokenStart, end).trim();
    if (name == "deltanet-cpu-pipeline" && anchors.back() != "builtin.module" &&
        offending.empty())
      offending = anchors.back().str();
  };
  for (size_t i = 0; i < pipeline.size(); ++i) {
    switch (pipeline[i]) {
    case '{': {
      checkToken(i);
      int depth = 0;
      for (; i < pipeline.size(); ++i) {
        depth += pipeline[i] == '{' ? 1 : pipeline[i] == '}' ? -1 : 0;
        if (depth == 0)
          break;
      }
      tokenStart = i + 1;
      break;
    }
    case '(':
      anchors.push_back(pipeline.slice(tokenStart, i).trim());
      tokenStart = i + 1;
      break;
    case ')':
      checkToken(i);
      if (anchors.size() > 1)
        anchors.pop_back();
      tokenStart = i + 1;
      break;
    case ',':
      checkToken(i);
      tokenStart = i + 1;
      break;
    default:
      break;
    }
  }
  checkToken(pipeline.size());
  return offending;
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
  std::string misnested = findMisnestedCpuPipeline(text, opName);
  if (!misnested.empty()) {
    errors.os() << "deltanet-cpu-pipeline must be anchored on builtin.module, "
                   "not on '"
                << misnested << "'\n";
    return mlirLogicalResultFailure();
  }
  if (failed(parsePassPipeline(text, pm, errors.os())))
    return mlirLogicalResultFailure();
  return runCollectingDiagnostics(pm, operation, errors);
}

MlirLogicalResult mlirDeltaNetRunTargetPipeline(
    MlirOperation op, MlirStringRef target, MlirStringRef options,
    MlirStringCallback errorCallback, void *userData) {
  ErrorCollector errors(errorCallback, userData);
  Operation *operation = unwrap(op);
  if (!isa<ModuleOp>(operation)) {
    errors.os() << "deltanet-" << unwrap(target)
                << "-pipeline runs on a builtin.module, not on '"
                << operation->getName() << "'\n";
    return mlirLogicalResultFailure();
  }
  PassManager pm(operation->getContext(), operation->getName().getStringRef());
  if (failed(mlir::deltanet::buildTargetPipeline(
          pm, unwrap(target), unwrap(options), errors.os()))) {
    errors.os() << "\ninvalid --deltanet-" << unwrap(target)
                << "-pipeline options '" << unwrap(options) << "'\n";
    return mlirLogicalResultFailure();
  }
  return runCollectingDiagnostics(pm, operation, errors);
}

void mlirDeltaNetPrintTargetPipelineOptions(MlirStringRef target,
                                            MlirStringCallback callback,
                                            void *userData) {
  mlir::detail::CallbackOstream stream(callback, userData);
  stream << mlir::deltanet::printTargetPipelineOptions(unwrap(target));
  stream.flush();
}

MlirLogicalResult mlirDeltaNetRunCpuPipeline(MlirOperation op,
                                             MlirStringRef options,
                                             MlirStringCallback errorCallback,
                                             void *userData) {
  return mlirDeltaNetRunTargetPipeline(op, wrap(llvm::StringRef("cpu")),
                                       options, errorCallback, userData);
}

void mlirDeltaNetPrintCpuPipelineOptions(MlirStringCallback callback,
                                         void *userData) {
  mlirDeltaNetPrintTargetPipelineOptions(wrap(llvm::StringRef("cpu")), callback,
                                         userData);
}
