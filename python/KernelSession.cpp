//===- KernelSession.cpp - MLIR side of the Python extension --------------===//
//
// Implements KernelSession.h on the deltanet C++ API (libDeltaNetCAPI.so):
// pipelines on text, JIT compilation with compileForCpu, and calls through the
// `_mlir_ciface_` wrapper with memref descriptors built from dense buffers.
//
//===----------------------------------------------------------------------===//

#include "KernelSession.h"

#include "deltanet-c/Passes.h"
#include "deltanet/InitDeltaNet.h"
#include "deltanet/Runtime/CpuJit.h"
#include "deltanet/Runtime/Diagnostics.h"
#include "mlir/CAPI/IR.h"
#include "mlir/CAPI/Support.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Parser/Parser.h"
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
    deltanet::registerCpuJitDependencies(*r);
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

/// The address MLIR stores in the allocated pointer of global memrefs.
void *const kGlobalAllocated = reinterpret_cast<void *>(0xdeadbeef);

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

std::string deltanet_python::cpuPipelineOptions() {
  std::string text;
  llvm::raw_string_ostream os(text);
  deltanet::CpuPipelineOptions().print(os);
  return text;
}

struct CompiledFunction::Impl {
  std::unique_ptr<MLIRContext> context;
  std::unique_ptr<ExecutionEngine> engine;
  void (*packed)(void **) = nullptr;
};

CompiledFunction::CompiledFunction() : impl(std::make_unique<Impl>()) {}
CompiledFunction::~CompiledFunction() = default;

std::unique_ptr<CompiledFunction>
CompiledFunction::compile(const std::string &source, const std::string &entry,
                          const std::string &options, std::string &error) {
  std::unique_ptr<CompiledFunction> fn(new CompiledFunction());
  fn->entryName = entry;
  fn->impl->context = std::make_unique<MLIRContext>(
      getRegistry(), MLIRContext::Threading::DISABLED);
  MLIRContext &context = *fn->impl->context;

  // Options one by one first, to name the offending one (LLVM prints the
  // reason for a bad enum value to stderr).
  deltanet::CpuPipelineOptions pipelineOptions;
  {
    std::string offending, reasons;
    llvm::raw_string_ostream reasonStream(reasons);
    for (llvm::StringRef option : llvm::split(options, ' ')) {
      deltanet::CpuPipelineOptions single;
      if (!option.empty() &&
          failed(single.parseFromString(option, reasonStream)))
        offending += (offending.empty() ? "'" : ", '") + option.str() + "'";
    }
    if (offending.empty() &&
        failed(pipelineOptions.parseFromString(options, reasonStream)))
      offending = "'" + options + "'";
    if (!offending.empty()) {
      error = "invalid --deltanet-cpu-pipeline option " + offending +
              " (an unknown option or a value it does not accept)" +
              (reasons.empty() ? "" : ": " + reasons);
      return nullptr;
    }
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
      fn->resultSpecs.push_back(std::move(spec));
    }
    // Printed with its locations, so that diagnostics of the pipeline point
    // into the user's text.
    func->setAttr("llvm.emit_c_interface", UnitAttr::get(&context));
    llvm::raw_string_ostream os(program);
    module->print(os, OpPrintingFlags().enableDebugInfo(
                          /*enable=*/true, /*prettyForm=*/false));
  }

  fn->impl->engine =
      deltanet::compileForCpu(context, program, pipelineOptions, error);
  if (!fn->impl->engine)
    return nullptr;
  auto packed = fn->impl->engine->lookupPacked("_mlir_ciface_" + entry);
  if (!packed) {
    error = "cannot find the compiled @" + entry + ": " +
            llvm::toString(packed.takeError());
    return nullptr;
  }
  fn->impl->packed = *packed;
  return fn;
}

std::vector<ResultBuffer>
CompiledFunction::call(const std::vector<InputBuffer> &inputs) const {
  // A memref descriptor is {allocated, aligned, offset, sizes[r], strides[r]},
  // all 8-byte fields; several results are consecutive descriptors.
  auto descriptorWords = [](size_t rank) { return 3 + 2 * rank; };

  std::vector<std::vector<int64_t>> argDescriptors;
  argDescriptors.reserve(inputs.size());
  for (const InputBuffer &input : inputs) {
    size_t rank = input.shape.size();
    std::vector<int64_t> d(descriptorWords(rank));
    d[0] = reinterpret_cast<int64_t>(input.data);
    d[1] = reinterpret_cast<int64_t>(input.data);
    d[2] = 0;
    int64_t stride = 1;
    for (size_t i = rank; i-- > 0;) {
      d[3 + i] = input.shape[i];
      d[3 + rank + i] = stride;
      stride *= input.shape[i];
    }
    argDescriptors.push_back(std::move(d));
  }

  size_t resultWords = 0;
  for (const BufferSpec &spec : resultSpecs)
    resultWords += descriptorWords(spec.shape.size());
  std::vector<int64_t> resultStorage(resultWords, 0);

  std::vector<void *> pointers;
  pointers.reserve(inputs.size() + 1);
  if (!resultSpecs.empty())
    pointers.push_back(resultStorage.data());
  for (std::vector<int64_t> &d : argDescriptors)
    pointers.push_back(d.data());
  std::vector<void *> packedArgs;
  for (void *&p : pointers)
    packedArgs.push_back(&p);
  impl->packed(packedArgs.data());

  std::vector<ResultBuffer> results;
  size_t word = 0;
  for (const BufferSpec &spec : resultSpecs) {
    size_t rank = spec.shape.size();
    const int64_t *d = resultStorage.data() + word;
    word += descriptorWords(rank);
    ResultBuffer r;
    r.allocated = reinterpret_cast<void *>(d[0]);
    r.aligned = reinterpret_cast<void *>(d[1]);
    r.offset = d[2];
    r.sizes.assign(d + 3, d + 3 + rank);
    r.strides.assign(d + 3 + rank, d + 3 + 2 * rank);
    r.owned = r.allocated && r.allocated != kGlobalAllocated;
    for (const InputBuffer &input : inputs)
      if (input.data == r.allocated)
        r.owned = false;
    for (const ResultBuffer &previous : results)
      if (previous.allocated == r.allocated)
        r.owned = false;
    results.push_back(std::move(r));
  }
  return results;
}
