//===- InitDeltaNet.h - Register everything deltanet provides ---*- C++ -*-===//
//
// One call each to register the deltanet dialect, passes and pipelines.
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_INITDELTANET_H
#define DELTANET_INITDELTANET_H

#include "deltanet/Codegen/CPU/Passes.h"
#include "deltanet/Codegen/CPU/TargetInfo.h"
#include "deltanet/Codegen/GPU/TargetInfo.h"
#include "deltanet/Codegen/Common/Passes.h"
#include "deltanet/Codegen/NPU/Passes.h"
#include "deltanet/Codegen/NPU/TargetInfo.h"
#include "deltanet/Conversion/Passes.h"
#include "deltanet/Dialect/DeltaNet/IR/DeltaNetDialect.h"
#include "deltanet/Dialect/DeltaNet/Transforms/Passes.h"
#include "deltanet/Dialect/NPU/IR/NPUDialect.h"
#include "deltanet/Pipelines/Pipelines.h"
#include "mlir/IR/DialectRegistry.h"

namespace mlir {
namespace deltanet {

/// Adds the deltanet dialects (deltanet, npu) to `registry`.
inline void registerDeltaNetDialect(DialectRegistry &registry) {
  registry.insert<DeltaNetDialect, npu::NPUDialect>();
}

/// Registers the TargetInfo of every deltanet target.
inline void registerDeltaNetTargets() {
  registerCPUTargetInfo();
  registerGPUTargetInfo();
  registerNPUTargetInfo();
}

/// Registers every deltanet pass (dialect rewrites, conversions, codegen of
/// every target) and the targets they look up.
inline void registerDeltaNetPasses() {
  registerDeltaNetTransformsPasses();
  registerDeltaNetConversionPasses();
  registerDeltaNetCodegenCommonPasses();
  registerDeltaNetCodegenCPUPasses();
  registerDeltaNetNpuPasses();
  registerDeltaNetTargets();
}

/// Registers the deltanet passes, pipelines and targets with the global
/// registries (command-line flags of deltanet-opt, textual pipelines).
inline void registerDeltaNetPassesAndPipelines() {
  registerDeltaNetPasses();
  registerDeltaNetPipelines();
}

} // namespace deltanet
} // namespace mlir

#endif // DELTANET_INITDELTANET_H
