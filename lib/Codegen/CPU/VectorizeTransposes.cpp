//===- VectorizeTransposes.cpp - Transposes as square vector tiles --------===//
//
// Tiles linalg.transpose ops that swap their two innermost dims to square
// blocks, vectorises the blocks and lowers their 16 x 16 transposes to
// shuffles.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Dominance.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir {
namespace deltanet {
#define GEN_PASS_DEF_DELTANETCPUVECTORIZETRANSPOSES
#include "deltanet/Codegen/CPU/Passes.h.inc"
} // namespace deltanet
} // namespace mlir

using namespace mlir;
using namespace mlir::deltanet;

namespace {

/// `v` without the reshapes that keep its elements in row-major order: a
/// `tensor.collapse_shape`, a `tensor.expand_shape`, or a
/// `tensor.extract_slice` of all of a static source (dropping unit dims).
/// Two values with the same root and the same type hold the same tensor.
Value rowMajorRoot(Value v) {
  while (Operation *def = v.getDefiningOp()) {
    if (auto collapse = dyn_cast<tensor::CollapseShapeOp>(def)) {
      v = collapse.getSrc();
    } else if (auto expand = dyn_cast<tensor::ExpandShapeOp>(def)) {
      v = expand.getSrc();
    } else if (auto slice = dyn_cast<tensor::ExtractSliceOp>(def)) {
      RankedTensorType source = slice.getSourceType();
      if (!source.hasStaticShape() ||
          !llvm::all_of(slice.getMixedOffsets(), isZeroInteger) ||
          !llvm::all_of(slice.getMixedStrides(), isOneInteger) ||
          !areConstantIntValues(slice.getMixedSizes(), source.getShape()))
        break;
      v = slice.getSource();
    } else {
      break;
    }
  }
  return v;
}

/// Replaces each transpose by an earlier one that dominates it and
/// transposes the same tensor (the same row-major root and type) the same
/// way: the chunk op's gated K K^T and state scan each transposed the same
/// chunk of k, reached through different unit-dim reshapes that CSE does
/// not see through.
void mergeTransposesOfOneTensor(Operation *root) {
  DominanceInfo dominance(root);
  SmallVector<linalg::TransposeOp> seen;
  SmallVector<linalg::TransposeOp> merged;
  root->walk([&](linalg::TransposeOp op) {
    if (!op.hasPureTensorSemantics())
      return;
    Value source = rowMajorRoot(op.getInput());
    for (linalg::TransposeOp earlier : seen) {
      if (earlier.getInput().getType() == op.getInput().getType() &&
          earlier.getPermutation() == op.getPermutation() &&
          rowMajorRoot(earlier.getInput()) == source &&
          dominance.properlyDominates(earlier.getOperation(), op)) {
        op.getResult()[0].replaceAllUsesWith(earlier.getResult()[0]);
        merged.push_back(op);
        return;
      }
    }
    seen.push_back(op);
  });
  for (linalg::TransposeOp op : merged)
    op.erase();
}

/// Why `op` is not a static f32 transpose on tensors of its two innermost
/// dims (the others in place), both multiples of `tile`; empty if it is.
std::string whyNotInnerTranspose(linalg::TransposeOp op, int64_t tile) {
  if (!op.hasPureTensorSemantics())
    return "not on tensors";
  auto type = cast<ShapedType>(op.getInit().getType());
  if (!type.getElementType().isF32())
    return "not f32";
  if (!type.hasStaticShape())
    return "dynamic shape";
  ArrayRef<int64_t> perm = op.getPermutation();
  int64_t rank = perm.size();
  if (rank < 2)
    return "rank < 2";
  for (int64_t i = 0; i < rank - 2; ++i)
    if (perm[i] != i)
      return "moves an outer dim";
  if (perm[rank - 2] != rank - 1 || perm[rank - 1] != rank - 2)
    return "does not swap the two innermost dims";
  if (type.getDimSize(rank - 2) % tile != 0 ||
      type.getDimSize(rank - 1) % tile != 0)
    return "innermost dims not multiples of the tile";
  return "";
}

/// Tiles `op` to `tile x tile` blocks (unit outer dims), vectorises each
/// block and appends the vector ops of the blocks to `vectorOps`.
LogicalResult tileAndVectorize(RewriterBase &rewriter, linalg::TransposeOp op,
                               int64_t tile,
                               SmallVectorImpl<Operation *> &vectorOps) {
  rewriter.setInsertionPoint(op);
  int64_t rank = op.getPermutation().size();
  SmallVector<OpFoldResult> tileSizes(rank, rewriter.getIndexAttr(1));
  tileSizes[rank - 2] = tileSizes[rank - 1] = rewriter.getIndexAttr(tile);
  scf::SCFTilingOptions options;
  options.setTileSizes(tileSizes);
  FailureOr<scf::SCFTilingResult> tiled = scf::tileUsingSCF(
      rewriter, cast<TilingInterface>(op.getOperation()), options);
  if (failed(tiled))
    return failure();
  rewriter.replaceOp(op, tiled->replacements);
  for (Operation *block : tiled->tiledOps) {
    Block *parent = block->getBlock();
    rewriter.setInsertionPoint(block);
    FailureOr<linalg::VectorizationResult> vectorized =
        linalg::vectorize(rewriter, block);
    if (failed(vectorized))
      return failure();
    rewriter.replaceOp(block, vectorized->replacements);
    parent->walk([&](Operation *nested) {
      if (isa<vector::TransferReadOp, vector::TransposeOp>(nested))
        vectorOps.push_back(nested);
    });
  }
  return success();
}

struct DeltaNetCpuVectorizeTransposesPass
    : public deltanet::impl::DeltaNetCpuVectorizeTransposesBase<
          DeltaNetCpuVectorizeTransposesPass> {
  using Base::Base;

  void runOnOperation() override {
    if (tile < 1) {
      getOperation()->emitError(
          "deltanet-cpu-vectorize-transposes: tile must be >= 1, got ")
          << static_cast<int64_t>(tile);
      return signalPassFailure();
    }
    // Transposes of one tensor reached through unit-dim reshapes: one.
    mergeTransposesOfOneTensor(getOperation());
    SmallVector<linalg::TransposeOp> transposes;
    getOperation()->walk([&](linalg::TransposeOp op) {
      if (whyNotInnerTranspose(op, tile).empty())
        transposes.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    SmallVector<Operation *> vectorOps;
    for (linalg::TransposeOp op : transposes)
      if (failed(tileAndVectorize(rewriter, op, tile, vectorOps)))
        return signalPassFailure();
    if (vectorOps.empty())
      return;
    // The blocks' transposed reads as row reads and vector.transpose, the
    // 16 x 16 transposes as shuffles; only on the ops made here.
    RewritePatternSet patterns(&getContext());
    vector::populateVectorTransferPermutationMapLoweringPatterns(patterns);
    vector::populateVectorTransposeLoweringPatterns(
        patterns, vector::VectorTransposeLowering::Shuffle16x16);
    GreedyRewriteConfig config;
    config.setStrictness(GreedyRewriteStrictness::ExistingAndNewOps);
    if (failed(applyOpPatternsGreedily(vectorOps, std::move(patterns),
                                       config)))
      return signalPassFailure();
  }
};

} // namespace
