//===- GuardedCanonicalizer.cpp - Canonicalizer minus bad folds -----------===//
//
// The upstream canonicalizer, and the upstream buffer deallocation pipeline
// that runs it, with the patterns known to miscompile our IR disabled by
// their debug labels. Hand-written only as this list and the copy of the
// deallocation pipeline's pass list (upstream's builder has no hook for its
// canonicalizers); the passes are upstream's.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Codegen/Common/GuardedCanonicalizer.h"

#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Transforms/Passes.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/ErrorHandling.h"

using namespace mlir;

const std::vector<std::string> &
mlir::deltanet::getMiscompilingCanonicalizationPatterns() {
  // Upstream vector::ContractionOp's CanonicalizeContractAdd (VectorOps.cpp,
  // LLVM 22) folds `add(contract(a, b, zero), d)` into `contract(a, b, d)`
  // by cloning the contraction with an IRMapping from the accumulator
  // *value* to `d`. When `a` or `b` is that same zero constant (constants
  // are uniqued: one `dense<0.0>` per type) it is replaced by `d` too:
  // `0 * b + 0 + d = d` becomes `d * b + d`. Our 1 x 1 x 1 register tiles hit
  // it (the 1 x 1 strictly lower mask folds to the tile type's zero splat,
  // the accumulator's zero fill to the same constant): a 1 x 1 tri_inv with
  // residual steps returned zeros (docs/Performance.md, session 19;
  // reproducer docs/upstream/contract-add-same-zero-operand.mlir, pinned by
  // test/Codegen/Common/canonicalize-contract-add-same-zero-operand.mlir).
  // Both instantiations share the bug.
  static const std::vector<std::string> labels = {
      "CanonicalizeContractAdd<mlir::arith::AddFOp>",
      "CanonicalizeContractAdd<mlir::arith::AddIOp>"};
  return labels;
}

std::unique_ptr<Pass> mlir::deltanet::createGuardedCanonicalizerPass() {
  // Through the pass's own option, so that every other option keeps the
  // pass's default (GreedyRewriteConfig's defaults differ: bottom-up,
  // aggressive region simplification).
  std::unique_ptr<Pass> pass = createCanonicalizerPass();
  std::string options =
      "disable-patterns=" +
      llvm::join(getMiscompilingCanonicalizationPatterns(), ",");
  if (failed(pass->initializeOptions(options, [](const Twine &message) {
        llvm::report_fatal_error(message);
        return failure();
      })))
    llvm::report_fatal_error("guarded canonicalizer: bad options");
  return pass;
}

void mlir::deltanet::buildGuardedBufferDeallocationPipeline(
    OpPassManager &pm) {
  // bufferization::buildBufferDeallocationPipeline (LLVM 22) with default
  // options, pass for pass.
  memref::ExpandReallocPassOptions expandRealloc;
  expandRealloc.emitDeallocs = false;
  pm.addPass(memref::createExpandReallocPass(expandRealloc));
  pm.addPass(createGuardedCanonicalizerPass());
  pm.addPass(bufferization::createOwnershipBasedBufferDeallocationPass());
  pm.addPass(createGuardedCanonicalizerPass());
  pm.addPass(bufferization::createBufferDeallocationSimplificationPass());
  pm.addPass(bufferization::createLowerDeallocationsPass());
  pm.addPass(createCSEPass());
  pm.addPass(createGuardedCanonicalizerPass());
}
