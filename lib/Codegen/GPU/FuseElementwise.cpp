//===- FuseElementwise.cpp - Fuse elementwise producers inside GPU blocks -===//
//
// Upstream elementwise fusion, allowed for producers with several users
// when they sit inside a block-mapped scf.forall: recomputing a cheap
// elementwise value (a mask, a negation) in each consumer costs less on a
// GPU than a shared-memory round trip, a barrier and the buffer's bytes
// (which limit how many blocks an SM runs).
//
//===----------------------------------------------------------------------===//

#include "deltanet/Codegen/GPU/Passes.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir {
namespace deltanet {
#define GEN_PASS_DEF_DELTANETGPUFUSEELEMENTWISE
#include "deltanet/Codegen/GPU/Passes.h.inc"
} // namespace deltanet
} // namespace mlir

using namespace mlir;
using namespace mlir::deltanet;

namespace {

struct DeltaNetGpuFuseElementwisePass
    : public deltanet::impl::DeltaNetGpuFuseElementwiseBase<
          DeltaNetGpuFuseElementwisePass> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    linalg::populateElementwiseOpsFusionPatterns(
        patterns, [](OpOperand *fused) {
          Operation *producer = fused->get().getDefiningOp();
          if (!producer || !isInsideBlockLoop(producer))
            return false;
          // Only pure elementwise producers (no reductions) are recomputed.
          auto linalgOp = dyn_cast<linalg::LinalgOp>(producer);
          return linalgOp && linalgOp.getNumReductionLoops() == 0;
        });
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
