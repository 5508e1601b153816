//===- GuardedCanonicalizer.h - Canonicalizer minus bad folds -*- C++ -*-===//
//
// The upstream canonicalizer, and the upstream buffer deallocation pipeline
// that runs it, with the patterns known to miscompile our IR disabled.
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_CODEGEN_COMMON_GUARDEDCANONICALIZER_H
#define DELTANET_CODEGEN_COMMON_GUARDEDCANONICALIZER_H

#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

#include <memory>
#include <string>
#include <vector>

namespace mlir {
namespace deltanet {

/// Debug labels of the upstream canonicalization patterns that every
/// pipeline of ours (CPU, GPU, NPU) leaves out (each with the reason in
/// GuardedCanonicalizer.cpp).
const std::vector<std::string> &getMiscompilingCanonicalizationPatterns();

/// `createCanonicalizerPass()`, with its default options, minus
/// getMiscompilingCanonicalizationPatterns.
std::unique_ptr<Pass> createGuardedCanonicalizerPass();

/// `bufferization::buildBufferDeallocationPipeline(pm)` (default options)
/// with its canonicalizers guarded.
void buildGuardedBufferDeallocationPipeline(OpPassManager &pm);

} // namespace deltanet
} // namespace mlir

#endif // DELTANET_CODEGEN_COMMON_GUARDEDCANONICALIZER_H
