//===- Compiler.h - Compile deltanet programs for a target ------*- C++ -*-===//
//
// Parses MLIR text, runs a target's pipeline on it and JITs the result.
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_RUNTIME_COMPILER_H
#define DELTANET_RUNTIME_COMPILER_H

#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"

#include <memory>
#include <string>

namespace mlir {
namespace deltanet {

/// What to compile for.
struct CompileOptions {
  /// A target with a pipeline (`getPipelineTargets()`): "cpu".
  std::string target = "cpu";
  /// Options of the target's pipeline as text (`tri-inv-strategy=neumann
  /// tri-inv-precision=bf16`); empty for its defaults.
  std::string pipelineOptions;
};

/// Adds every dialect, extension and LLVM IR translation a deltanet program
/// and the targets' pipelines need to `registry`.
void registerCompilerDependencies(DialectRegistry &registry);

/// Parses `source`, lowers it with the pipeline of `options.target`, and
/// JITs it for the host (CPU: LLVM -O3 with the host's target machine, so
/// that the vectoriser sees AVX-512; the MLIR C runner utilities are loaded
/// for helpers the generated code may call). On failure returns null and
/// sets `error` to the diagnostics (`file:line:col: error: ...`).
std::unique_ptr<ExecutionEngine> compile(MLIRContext &context,
                                         llvm::StringRef source,
                                         const CompileOptions &options,
                                         std::string &error);

} // namespace deltanet
} // namespace mlir

#endif // DELTANET_RUNTIME_COMPILER_H
