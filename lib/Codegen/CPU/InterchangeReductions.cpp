//===- InterchangeReductions.cpp - Move reduction loops outward -----------===//
//
// Permutes linalg.generic loops so the output's unit-stride dimension is
// innermost, letting LLVM vectorise matmul loops without reassociation.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/WalkPatternRewriteDriver.h"

namespace mlir {
namespace deltanet {
#define GEN_PASS_DEF_DELTANETCPUINTERCHANGEREDUCTIONS
#include "deltanet/Codegen/CPU/Passes.h.inc"
} // namespace deltanet
} // namespace mlir

using namespace mlir;
using namespace mlir::deltanet;

namespace {

/// `C[i, j] += A[i, k] * B[k, j]` with loops (i, j, k) becomes loops
/// (i, k, j): the loop indexing the output's last dimension goes innermost.
struct MoveReductionsOutward : public OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::GenericOp op,
                                PatternRewriter &rewriter) const override {
    SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
    if (iterators.empty() || iterators.back() != utils::IteratorType::reduction)
      return rewriter.notifyMatchFailure(op,
                                         "innermost loop is not a reduction");
    if (op.getNumDpsInits() != 1)
      return rewriter.notifyMatchFailure(op, "expects exactly one output");
    AffineMap outMap = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
    if (outMap.getNumResults() == 0)
      return rewriter.notifyMatchFailure(op, "output is a scalar");
    auto inner = dyn_cast<AffineDimExpr>(outMap.getResults().back());
    if (!inner)
      return rewriter.notifyMatchFailure(
          op, "output's last dimension is not indexed by a single loop");
    if (op.hasIndexSemantics())
      return rewriter.notifyMatchFailure(op, "body uses linalg.index");

    SmallVector<unsigned> permutation;
    for (unsigned loop = 0, e = iterators.size(); loop < e; ++loop)
      if (loop != inner.getPosition())
        permutation.push_back(loop);
    permutation.push_back(inner.getPosition());
    if (failed(linalg::interchangeGenericOp(rewriter, op, permutation)))
      return rewriter.notifyMatchFailure(op, "interchange failed");
    return success();
  }
};

struct DeltaNetCpuInterchangeReductionsPass
    : public deltanet::impl::DeltaNetCpuInterchangeReductionsBase<
          DeltaNetCpuInterchangeReductionsPass> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateInterchangeReductionsPatterns(patterns);
    walkAndApplyPatterns(getOperation(), std::move(patterns));
  }
};

} // namespace

void mlir::deltanet::populateInterchangeReductionsPatterns(
    RewritePatternSet &patterns) {
  patterns.add<MoveReductionsOutward>(patterns.getContext());
}
