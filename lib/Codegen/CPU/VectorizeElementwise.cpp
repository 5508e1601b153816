//===- VectorizeElementwise.cpp - Row-tile and vectorise elementwise ops --===//
//
// Tiles all-parallel, identity-indexed linalg.generic ops on tensors with a
// static innermost dimension to rows and vectorises the rows.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir {
namespace deltanet {
#define GEN_PASS_DEF_DELTANETCPUVECTORIZEELEMENTWISE
#include "deltanet/Codegen/CPU/Passes.h.inc"
} // namespace deltanet
} // namespace mlir

using namespace mlir;
using namespace mlir::deltanet;

namespace {

/// Why `op` is not an elementwise generic with static rows of at most
/// `maxRowLength` elements, or an empty string if it is. Outer dimensions may
/// be dynamic: they are tiled by 1, so every row tile is static.
std::string whyNotElementwiseRows(linalg::GenericOp op, int64_t maxRowLength) {
  if (!op.hasPureTensorSemantics())
    return "not on tensors";
  if (op.getNumLoops() == 0 || op.getNumParallelLoops() != op.getNumLoops())
    return "not all loops are parallel";
  if (!llvm::all_of(op.getIndexingMapsArray(),
                    [](AffineMap map) { return map.isIdentity(); }))
    return "an operand is not indexed by the identity";
  for (Value operand : op->getOperands()) {
    auto type = dyn_cast<ShapedType>(operand.getType());
    if (!type || !type.hasRank() || type.getRank() == 0)
      return "non-shaped or rank-0 operand";
    if (type.isDynamicDim(type.getRank() - 1))
      return "dynamic innermost dimension";
  }
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  if (ranges.back() > maxRowLength)
    return "rows longer than max-row-length";
  return "";
}

/// Tiles `op` to single rows of its innermost loop and vectorises the row.
LogicalResult tileAndVectorize(RewriterBase &rewriter, linalg::GenericOp op) {
  rewriter.setInsertionPoint(op);
  SmallVector<OpFoldResult> tileSizes(op.getNumLoops(),
                                      rewriter.getIndexAttr(1));
  tileSizes.back() = rewriter.getIndexAttr(op.getStaticLoopRanges().back());
  scf::SCFTilingOptions options;
  options.setTileSizes(tileSizes);
  FailureOr<scf::SCFTilingResult> tiled = scf::tileUsingSCF(
      rewriter, cast<TilingInterface>(op.getOperation()), options);
  if (failed(tiled))
    return failure();
  rewriter.replaceOp(op, tiled->replacements);
  for (Operation *tile : tiled->tiledOps) {
    rewriter.setInsertionPoint(tile);
    FailureOr<linalg::VectorizationResult> vectorized =
        linalg::vectorize(rewriter, tile);
    if (failed(vectorized))
      return failure();
    rewriter.replaceOp(tile, vectorized->replacements);
  }
  return success();
}

struct DeltaNetCpuVectorizeElementwisePass
    : public deltanet::impl::DeltaNetCpuVectorizeElementwiseBase<
          DeltaNetCpuVectorizeElementwisePass> {
  using Base::Base;

  void runOnOperation() override {
    if (maxRowLength < 1) {
      getOperation()->emitError(
          "deltanet-cpu-vectorize-elementwise: max-row-length must be >= 1, "
          "got ")
          << static_cast<int64_t>(maxRowLength);
      return signalPassFailure();
    }
    SmallVector<linalg::GenericOp> generics;
    getOperation()->walk([&](linalg::GenericOp op) {
      if (whyNotElementwiseRows(op, maxRowLength).empty())
        generics.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::GenericOp op : generics)
      (void)tileAndVectorize(rewriter, op);
  }
};

} // namespace
