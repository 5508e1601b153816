//===- FlattenVectorTransfers.cpp - n-D contiguous transfers as 1-D loads -===//
//
// Rewrites vector transfers of contiguous memref slices into 1-D transfers
// (upstream patterns), so that they lower to one vector load or store.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Codegen/CPU/Passes.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir {
namespace deltanet {
#define GEN_PASS_DEF_DELTANETCPUFLATTENVECTORTRANSFERS
#include "deltanet/Codegen/CPU/Passes.h.inc"
} // namespace deltanet
} // namespace mlir

using namespace mlir;
using namespace mlir::deltanet;

namespace {

/// Whether upstream's contiguity check (vector::isContiguousSlice, MLIR 22)
/// can be asked about `transfer`. It drops the vector's leading unit dims,
/// pairs the remaining ones with as many trailing memref dims and compares
/// all but the first of each: with no dim left on either side (an all-unit
/// vector such as vector<1x1xf32>, a 0-d memref, or a vector of higher rank
/// than its memref) it compares a negative number of bytes (found by ASan).
static bool hasCheckableContiguity(Operation *op) {
  auto transfer = dyn_cast<VectorTransferOpInterface>(op);
  if (!transfer)
    return true;
  auto memref = dyn_cast<MemRefType>(transfer.getShapedType());
  if (!memref)
    return true;
  VectorType vector = transfer.getVectorType();
  int64_t innerRank =
      vector.getShape().drop_while([](int64_t d) { return d == 1; }).size();
  return innerRank >= 1 && memref.getRank() >= innerRank &&
         vector.getRank() <= memref.getRank();
}

/// Runs a wrapped upstream pattern only on ops `hasCheckableContiguity`
/// accepts; same root, benefit and generated ops as the wrapped pattern.
class CheckableContiguityPattern : public RewritePattern {
public:
  explicit CheckableContiguityPattern(std::unique_ptr<RewritePattern> wrapped)
      : RewritePattern(*wrapped), wrapped(std::move(wrapped)) {}

  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rewriter) const override {
    if (!hasCheckableContiguity(op))
      return rewriter.notifyMatchFailure(
          op, "upstream's contiguity check cannot compare this vector and "
              "memref shape (no dim left after dropping leading unit dims)");
    return wrapped->matchAndRewrite(op, rewriter);
  }

private:
  std::unique_ptr<RewritePattern> wrapped;
};

struct DeltaNetCpuFlattenVectorTransfersPass
    : public deltanet::impl::DeltaNetCpuFlattenVectorTransfersBase<
          DeltaNetCpuFlattenVectorTransfersPass> {
  using Base::Base;

  void runOnOperation() override {
    MLIRContext *context = &getContext();
    // A broadcasting transfer (vector<1x1x64xf32> read from memref<1x64xf32>)
    // is first rewritten by upstream's permutation-map lowering into a
    // transfer of the memref's rank and a broadcast, which the flattening
    // below then sees.
    SmallVector<Operation *> broadcasting;
    getOperation()->walk([&](VectorTransferOpInterface transfer) {
      auto memref = dyn_cast<MemRefType>(transfer.getShapedType());
      if (memref && transfer.getVectorType().getRank() > memref.getRank())
        broadcasting.push_back(transfer);
    });
    if (!broadcasting.empty()) {
      RewritePatternSet lowering(context);
      vector::populateVectorTransferPermutationMapLoweringPatterns(lowering);
      (void)applyOpPatternsGreedily(broadcasting, std::move(lowering));
    }

    RewritePatternSet flattening(context);
    vector::populateFlattenVectorTransferPatterns(flattening);
    RewritePatternSet patterns(context);
    for (std::unique_ptr<RewritePattern> &pattern :
         flattening.getNativePatterns())
      patterns.add(
          std::make_unique<CheckableContiguityPattern>(std::move(pattern)));
    vector::populateVectorTransferDropUnitDimsPatterns(patterns);
    vector::ShapeCastOp::getCanonicalizationPatterns(patterns, context);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
