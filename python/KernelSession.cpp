//===- KernelSession.cpp - MLIR side of the Python extension --------------===//
//
// Implements KernelSession.h on the deltanet C++ API (libDeltaNetCAPI.so):
// pipelines on text, and the runtime's compile(target) and callPacked
// (lib/Runtime) for compiled functions.
//
//===----------------------------------------------------------------------===//

#include "KernelSession.h"

#include "deltanet-c/Passes.h"
#include "deltanet/InitDeltaNet.h"
#include "deltanet/Pipelines/Pipelines.h"
#include "deltanet/Runtime/Compiler.h"
#include "deltanet/Runtime/Diagnostics.h"
#include "deltanet/Runtime/MemRefCall.h"
#include "mlir/CAPI/IR.h"
#include "mlir/CAPI/Support.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/raw_ostream.h"

#include <mutex>

using namespace mlir;
using namespace deltanet_python;

namespace {

/// One registry with everything the CPU pipeline needs; passes and pipelines
/// registered once.
const DialectRegistry &getRegistry() {
  static DialectRegistry *registry = [] {
    auto *r = new DialectRegistry();
    deltanet::registerCompilerDependencies(*r);
    deltanet::registerDeltaNetPassesAndPipelines();
    registerAllPasses();
    return r;
  }();
  return *registry;
}

/// Collects the diagnostics of a context as text, locations included.
class DiagnosticCollector {
public:
  explicit DiagnosticCollector(MLIRContext &context)
      : stream(text), handler(&context, [this](Diagnostic &diag) {
          deltanet::printDiagnostic(stream, diag);
          return success();
        }) {}
  std::string take() { return std::move(text); }

private:
  std::string text;
  llvm::raw_string_ostream stream;
  ScopedDiagnosticHandler handler;
};

bool toElementKind(Type type, ElementKind &kind) {
  if (type.isF32())
    kind = ElementKind::F32;
  else if (type.isF64())
    kind = ElementKind::F64;
  else if (type.isF16())
    kind = ElementKind::F16;
  else if (type.isBF16())
    kind = ElementKind::BF16;
  else if (type.isSignlessInteger(1))
    kind = ElementKind::I1;
  else if (type.isSignlessInteger(8))
    kind = ElementKind::I8;
  else if (type.isSignlessInteger(16))
    kind = ElementKind::I16;
  else if (type.isSignlessInteger(32))
    kind = ElementKind::I32;
  else if (type.isSignlessInteger(64))
    kind = ElementKind::I64;
  else
    return false;
  return true;
}

/// The spec of a function parameter or result; false (with `error`) for
/// anything but ranked tensors and identity-layout memrefs.
bool toBufferSpec(Type type, const std::string &what, BufferSpec &spec,
                  std::string &error) {
  llvm::raw_string_ostream typeText(spec.typeText);
  typeText << type;
  auto shaped = dyn_cast<ShapedType>(type);
  auto memref = dyn_cast<MemRefType>(type);
  if (!shaped || !shaped.hasRank() ||
      !(isa<RankedTensorType>(type) ||
        (memref && memref.getLayout().isIdentity()))) {
    error = what + " has type " + spec.typeText +
            ": only ranked tensors and identity-layout memrefs are supported";
    return false;
  }
  if (!toElementKind(shaped.getElementType(), spec.kind)) {
    error = what + " has type " + spec.typeText +
            ": unsupported element type (f32, f64, f16, bf16, i1, i8, i16, "
            "i32, i64)";
    return false;
  }
  for (int64_t dim : shaped.getShape())
    spec.shape.push_back(ShapedType::isDynamic(dim) ? -1 : dim);
  return true;
}

/// The buffer name of the user's MLIR text in diagnostics.
constexpr const char *kSourceName = "mlir_text";

} // namespace

int64_t deltanet_python::elementSize(ElementKind kind) {
  switch (kind) {
  case ElementKind::F64:
  case ElementKind::I64:
    return 8;
  case ElementKind::F32:
  case ElementKind::I32:
    return 4;
  case ElementKind::F16:
  case ElementKind::BF16:
  case ElementKind::I16:
    return 2;
  case ElementKind::I1:
  case ElementKind::I8:
    return 1;
  }
  return 1;
}

bool deltanet_python::runPipeline(const std::string &source,
                                  const std::string &pipeline,
                                  std::string &output, std::string &error) {
  MLIRContext context(getRegistry(), MLIRContext::Threading::DISABLED);
  DiagnosticCollector diagnostics(context);
  OwningOpRef<ModuleOp> module =
      parseSourceString<ModuleOp>(source, ParserConfig(&context), kSourceName);
  if (!module) {
    error = "parse error: " + diagnostics.take();
    return false;
  }
  std::string pipelineErrors;
  MlirLogicalResult result = mlirDeltaNetRunPassPipeline(
      wrap(module->getOperation()), wrap(llvm::StringRef(pipeline)),
      [](MlirStringRef text, void *userData) {
        static_cast<std::string *>(userData)->append(text.data, text.length);
      },
      &pipelineErrors);
  if (mlirLogicalResultIsFailure(result)) {
    error = "pipeline '" + pipeline + "' failed: " + pipelineErrors +
            diagnostics.take();
    return false;
  }
  llvm::raw_string_ostream os(output);
  module->print(os);
  return true;
}

std::string deltanet_python::pipelineOptions(const std::string &target) {
  return deltanet::printTargetPipelineOptions(target);
}

struct CompiledFunction::Impl {
  std::unique_ptr<MLIRContext> context;
  std::unique_ptr<ExecutionEngine> engine;
  void (*packed)(void **) = nullptr;
  uintptr_t cInterface = 0;
};

uintptr_t CompiledFunction::cInterfaceAddress() const {
  return impl->cInterface;
}

CompiledFunction::CompiledFunction() : impl(std::make_unique<Impl>()) {}
CompiledFunction::~CompiledFunction() = default;

std::unique_ptr<CompiledFunction>
CompiledFunction::compile(const std::string &source, const std::string &entry,
                          const std::string &target, const std::string &options,
                          std::string &error) {
  std::unique_ptr<CompiledFunction> fn(new CompiledFunction());
  fn->entryName = entry;
  fn->impl->context = std::make_unique<MLIRContext>(
      getRegistry(), MLIRContext::Threading::DISABLED);
  MLIRContext &context = *fn->impl->context;

  // Options one by one first, to name the offending one (LLVM prints the
  // reason for a bad enum value to stderr).
  {
    std::string offending, reasons;
    llvm::raw_string_ostream reasonStream(reasons);
    auto parses = [&](llvm::StringRef text) {
      PassManager scratch(&context);
      return succeeded(
          deltanet::buildTargetPipeline(scratch, target, text, reasonStream));
    };
    if (!parses("")) {
      error = reasons;
      return nullptr;
    }
    for (llvm::StringRef option : llvm::split(options, ' '))
      if (!option.empty() && !parses(option))
        offending += (offending.empty() ? "'" : ", '") + option.str() + "'";
    if (offending.empty() && !parses(options))
      offending = "'" + options + "'";
    if (!offending.empty()) {
      error = "invalid --deltanet-" + target + "-pipeline option " + offending +
              " (an unknown option or a value it does not accept)" +
              (reasons.empty() ? "" : ": " + reasons);
      return nullptr;
    }
  }

  // results-to-out-params (CPU): the results become out-param arguments,
  // which callers allocate, so their shapes must be known before the call.
  if (target == "cpu") {
    std::unique_ptr<deltanet::CpuPipelineOptions> parsed =
        deltanet::CpuPipelineOptions::createFromString(options);
    fn->outParams = parsed && parsed->resultsToOutParams;
  }

  // Inspect the entry's signature; make sure it has a C interface.
  std::string program;
  {
    DiagnosticCollector diagnostics(context);
    OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(
        source, ParserConfig(&context), kSourceName);
    if (!module) {
      error = "parse error: " + diagnostics.take();
      return nullptr;
    }
    auto func = module->lookupSymbol<func::FuncOp>(entry);
    if (!func || func.isExternal()) {
      error = "no function @" + entry + " with a body in the module";
      return nullptr;
    }
    FunctionType type = func.getFunctionType();
    for (auto [index, input] : llvm::enumerate(type.getInputs())) {
      BufferSpec spec;
      if (!toBufferSpec(input,
                        "argument " + std::to_string(index) + " of @" + entry,
                        spec, error))
        return nullptr;
      fn->argSpecs.push_back(std::move(spec));
    }
    for (auto [index, result] : llvm::enumerate(type.getResults())) {
      BufferSpec spec;
      if (!toBufferSpec(result,
                        "result " + std::to_string(index) + " of @" + entry,
                        spec, error))
        return nullptr;
      if (fn->outParams && llvm::is_contained(spec.shape, int64_t(-1))) {
        error = "results-to-out-params needs static result shapes (the "
                "caller allocates the outputs): result " +
                std::to_string(index) + " of @" + entry + " is " +
                spec.typeText;
        return nullptr;
      }
      fn->resultSpecs.push_back(std::move(spec));
    }
    // Printed with its locations, so that diagnostics of the pipeline point
    // into the user's text.
    func->setAttr("llvm.emit_c_interface", UnitAttr::get(&context));
    llvm::raw_string_ostream os(program);
    module->print(os, OpPrintingFlags().enableDebugInfo(
                          /*enable=*/true, /*prettyForm=*/false));
  }

  fn->impl->engine = deltanet::compile(
      context, program, deltanet::CompileOptions{target, options}, error);
  if (!fn->impl->engine)
    return nullptr;
  auto packed = fn->impl->engine->lookupPacked("_mlir_ciface_" + entry);
  if (!packed) {
    error = "cannot find the compiled @" + entry + ": " +
            llvm::toString(packed.takeError());
    return nullptr;
  }
  fn->impl->packed = *packed;
  auto cInterface = fn->impl->engine->lookup("_mlir_ciface_" + entry);
  if (!cInterface) {
    error = "cannot find _mlir_ciface_" + entry + ": " +
            llvm::toString(cInterface.takeError());
    return nullptr;
  }
  fn->impl->cInterface = reinterpret_cast<uintptr_t>(*cInterface);
  return fn;
}

void CompiledFunction::callInto(const std::vector<InputBuffer> &inputs,
                                const std::vector<InputBuffer> &outputs) const {
  std::vector<deltanet::DenseArray> args;
  args.reserve(inputs.size() + outputs.size());
  for (const InputBuffer &buffer : inputs)
    args.push_back({buffer.data, buffer.shape});
  for (const InputBuffer &buffer : outputs)
    args.push_back({buffer.data, buffer.shape});
  (void)deltanet::callPacked(impl->packed, args, /*resultRanks=*/{});
}

std::vector<ResultBuffer>
CompiledFunction::call(const std::vector<InputBuffer> &inputs) const {
  std::vector<deltanet::DenseArray> args;
  args.reserve(inputs.size());
  for (const InputBuffer &input : inputs)
    args.push_back({input.data, input.shape});
  std::vector<int64_t> ranks;
  for (const BufferSpec &spec : resultSpecs)
    ranks.push_back(spec.shape.size());
  std::vector<ResultBuffer> results;
  for (deltanet::ReturnedMemRef &r :
       deltanet::callPacked(impl->packed, args, ranks))
    results.push_back({r.allocated, r.aligned, r.offset, std::move(r.sizes),
                       std::move(r.strides), r.owned});
  return results;
}
