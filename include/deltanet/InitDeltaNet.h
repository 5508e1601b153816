//===- InitDeltaNet.h - Register everything deltanet provides ---*- C++ -*-===//
//
// One call each to register the deltanet dialect, passes and pipelines.
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_INITDELTANET_H
#define DELTANET_INITDELTANET_H

#include "deltanet/Dialect/DeltaNet/IR/DeltaNetDialect.h"
#include "deltanet/Dialect/DeltaNet/Transforms/Passes.h"
#include "deltanet/Pipelines/Pipelines.h"
#include "mlir/IR/DialectRegistry.h"

namespace mlir {
namespace deltanet {

/// Adds the deltanet dialect to `registry`.
inline void registerDeltaNetDialect(DialectRegistry &registry) {
  registry.insert<DeltaNetDialect>();
}

/// Registers the deltanet passes and pipelines with the global registry
/// (command-line flags of deltanet-opt, textual pipelines).
inline void registerDeltaNetPassesAndPipelines() {
  registerDeltaNetPasses();
  registerDeltaNetPipelines();
}

} // namespace deltanet
} // namespace mlir

#endif // DELTANET_INITDELTANET_H
