//===- CpuJit.h - Compile deltanet programs for the host CPU ----*- C++ -*-===//
//
// Parses MLIR text, runs --deltanet-cpu-pipeline and JITs it for the host.
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_RUNTIME_CPUJIT_H
#define DELTANET_RUNTIME_CPUJIT_H

#include "deltanet/Pipelines/Pipelines.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"

#include <memory>
#include <string>

namespace mlir {
namespace deltanet {

/// Adds every dialect, extension and LLVM IR translation a deltanet program
/// and the CPU pipeline need to `registry`.
void registerCpuJitDependencies(DialectRegistry &registry);

/// Parses `source`, lowers it with `--deltanet-cpu-pipeline` and `options`,
/// and JITs it for the host CPU (LLVM -O3 with the host's target machine, so
/// that the vectoriser sees AVX-512). The MLIR C runner utilities are loaded
/// for helpers the generated code may call. On failure returns null and
/// sets `error` to the diagnostics.
std::unique_ptr<ExecutionEngine>
compileForCpu(MLIRContext &context, llvm::StringRef source,
              const CpuPipelineOptions &options, std::string &error);

} // namespace deltanet
} // namespace mlir

#endif // DELTANET_RUNTIME_CPUJIT_H
