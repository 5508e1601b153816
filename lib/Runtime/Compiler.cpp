//===- Compiler.cpp - Compile deltanet programs for a target --------------===//
//
// Implements parse -> the target's pipeline -> ExecutionEngine.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Runtime/Compiler.h"

#include "deltanet/InitDeltaNet.h"
#include "deltanet/Pipelines/Pipelines.h"
#include "deltanet/Runtime/Diagnostics.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/TargetSelect.h"

using namespace mlir;
using namespace mlir::deltanet;

void mlir::deltanet::registerCompilerDependencies(DialectRegistry &registry) {
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registerDeltaNetDialect(registry);
  // Builtin, LLVM, OpenMP for the CPU; NVVM (kernels serialised by
  // gpu-module-to-binary) and GPU (the embedded binary and its launches in
  // host code) for the GPU target.
  registerAllToLLVMIRTranslations(registry);
}

std::unique_ptr<ExecutionEngine>
mlir::deltanet::compile(MLIRContext &context, llvm::StringRef source,
                        const CompileOptions &options, std::string &error) {
  bool gpu = options.target == "gpu";
  if (options.target != "cpu" && !gpu) {
    error = "target '" + options.target +
            "' cannot be JIT-compiled by this runtime (JIT targets: cpu, gpu)";
    return nullptr;
  }
  static const bool targetInitialized = [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    return true;
  }();
  (void)targetInitialized;

  std::string diagnostics;
  llvm::raw_string_ostream diagStream(diagnostics);
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
    printDiagnostic(diagStream, diag);
    return success();
  });

  OwningOpRef<ModuleOp> module =
      parseSourceString<ModuleOp>(source, ParserConfig(&context));
  if (!module) {
    error = "parse error: " + diagnostics;
    return nullptr;
  }
  PassManager pm(&context);
  std::string optionErrors;
  llvm::raw_string_ostream optionStream(optionErrors);
  if (failed(buildTargetPipeline(pm, options.target, options.pipelineOptions,
                                 optionStream))) {
    error = "invalid options of the " + options.target +
            " pipeline: " + optionErrors;
    return nullptr;
  }
  if (failed(pm.run(*module))) {
    error = "pipeline failed: " + diagnostics;
    return nullptr;
  }

  auto tmBuilder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!tmBuilder) {
    error = "cannot detect the host: " + llvm::toString(tmBuilder.takeError());
    return nullptr;
  }
  tmBuilder->setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
  auto targetMachine = tmBuilder->createTargetMachine();
  if (!targetMachine) {
    error = "cannot create the target machine: " +
            llvm::toString(targetMachine.takeError());
    return nullptr;
  }

  // `transformer` is held by reference in the options: keep it alive.
  std::function<llvm::Error(llvm::Module *)> transformer =
      makeOptimizingTransformer(/*optLevel=*/3, /*sizeLevel=*/0,
                                targetMachine->get());
  ExecutionEngineOptions engineOptions;
  engineOptions.transformer = transformer;
  engineOptions.jitCodeGenOptLevel = llvm::CodeGenOptLevel::Aggressive;
  // The generated code may call runtime helpers such as `memrefCopy`, and
  // the OpenMP runtime when compiled for several threads.
  SmallVector<llvm::StringRef, 3> sharedLibs = {DELTANET_C_RUNNER_UTILS};
  // GPU: host code for the host, kernels embedded; its mgpu* calls go to our
  // runtime over the driver (lib/Runtime/CUDA), loaded beside it. Loading
  // it needs no driver: the first mgpu* call looks for one.
  if (gpu)
    sharedLibs.push_back(DELTANET_GPU_RUNTIME_LIBRARY);
  bool usesOpenMP =
      module
          ->walk([](Operation *op) {
            return op->getName().getDialectNamespace() == "omp"
                       ? WalkResult::interrupt()
                       : WalkResult::advance();
          })
          .wasInterrupted();
  if (usesOpenMP) {
#ifdef DELTANET_OMP_LIBRARY
    sharedLibs.push_back(DELTANET_OMP_LIBRARY);
#else
    error = "num-threads != 1 needs the OpenMP runtime (libomp), which was "
            "not found when deltanet-mlir was configured";
    return nullptr;
#endif
  }
  engineOptions.sharedLibPaths = sharedLibs;
  auto engine = ExecutionEngine::create(*module, engineOptions,
                                        std::move(*targetMachine));
  if (!engine) {
    error = "JIT failed: " + llvm::toString(engine.takeError()) + diagnostics;
    return nullptr;
  }
  (*engine)->initialize();
  return std::move(*engine);
}
