//===- FuseIntoBlocks.cpp - Gathers and scatters into their block loops ---===//
//
// The decomposed attention reaches the GPU with host-level gathers (q, k, v,
// beta widened to f32 in the chunked layout `[B, HV, NC, C, *]`) feeding the
// per-chunk block loops, and a host-level scatter (o back to `[B, T, HV, V]`
// in bf16) reading the output stage's block loop. Each would be its own
// kernel with an f32 round trip through device memory. Here:
//  - a gather's chunk, read by a block as `extract_slice` (through a
//    `collapse_shape`), is computed by that block from the entry point's
//    argument (upstream `replaceExtractSliceWithTiledProducer`, after
//    upstream's bubbling of the slice above the reshape);
//  - a scatter of a block loop's result is done by the block on its own tile
//    (upstream `getTiledImplementation` of the scatter at the tile the block
//    writes), the loop's result becoming the scatter's.
// Upstream's consumer fusion (`scf::tileAndFuseConsumerOfSlices`) needs the
// consumer's indexing map of the fused operand to be a projected
// permutation; the scatter's is `(b, t, h, x) -> (b, h, t / C, t % C, x)`,
// hence the hand-written tile computation below.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Codegen/GPU/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tensor/Transforms/Transforms.h"
#include "mlir/IR/Dominance.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/TilingInterface.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir {
namespace deltanet {
#define GEN_PASS_DEF_DELTANETGPUFUSEINTOBLOCKS
#include "deltanet/Codegen/GPU/Passes.h.inc"
} // namespace deltanet
} // namespace mlir

using namespace mlir;
using namespace mlir::deltanet;

namespace {

/// A host-level layout change with at most an element cast: a linalg.generic
/// outside block loops, all loops parallel, one input, an output it does not
/// read, a body of casts only (the attention's gathers and its scatter).
bool isHostLayoutCast(linalg::GenericOp op) {
  if (!op || isInsideBlockLoop(op) || !op.hasPureTensorSemantics())
    return false;
  if (op.getNumDpsInputs() != 1 || op.getNumDpsInits() != 1 ||
      op.getNumReductionLoops() != 0)
    return false;
  if (op.payloadUsesValueFromOperand(op.getDpsInitOperand(0)))
    return false;
  return llvm::all_of(op.getBody()->without_terminator(), [](Operation &o) {
    return isa<arith::ExtFOp, arith::TruncFOp>(o);
  });
}

/// Bytes of a statically shaped tensor (-1 if dynamic).
int64_t staticBytes(RankedTensorType type) {
  if (!type.hasStaticShape() || !type.getElementType().isIntOrFloat())
    return -1;
  return type.getNumElements() *
         llvm::divideCeil(type.getElementTypeBitWidth(), 8);
}

/// A slice taken directly in the body of a block-mapped scf.forall (not
/// inside a loop nested in it: the state scan's whole-sequence slices).
bool isBlockLevelSlice(tensor::ExtractSliceOp slice) {
  auto forall = dyn_cast<scf::ForallOp>(slice->getParentOp());
  return forall && isBlockMapped(forall);
}

/// The preamble of both gather-slice patterns: `slice` is a block-level
/// slice (isBlockLevelSlice), not rank-reducing, of a static tile of at most
/// `maxTileBytes`. Reports the reason on `rewriter` otherwise.
LogicalResult matchBlockGatherTile(PatternRewriter &rewriter,
                                   tensor::ExtractSliceOp slice,
                                   int64_t maxTileBytes) {
  if (!isBlockLevelSlice(slice))
    return rewriter.notifyMatchFailure(slice, "not a block-level slice");
  int64_t bytes = staticBytes(slice.getResultType());
  if (bytes < 0 || bytes > maxTileBytes)
    return rewriter.notifyMatchFailure(
        slice, "tile is dynamic or larger than max-gather-tile-bytes");
  if (slice.getResultType().getRank() != slice.getSourceType().getRank())
    return rewriter.notifyMatchFailure(slice, "rank-reducing slice");
  return success();
}

//===----------------------------------------------------------------------===//
// Gathers into the blocks that read them
//===----------------------------------------------------------------------===//

/// The block's chunk of a host-level gather (`extract_slice` of it, or of a
/// `collapse_shape` of it: upstream's bubbling moves the slice above the
/// reshape first) recomputed by the block from the gather's input: the
/// block reads the bf16 argument and widens it as it stores its tile.
struct FuseGatherIntoBlockSlice
    : public OpRewritePattern<tensor::ExtractSliceOp> {
  FuseGatherIntoBlockSlice(MLIRContext *ctx, int64_t maxTileBytes)
      : OpRewritePattern(ctx), maxTileBytes(maxTileBytes) {}

  LogicalResult matchAndRewrite(tensor::ExtractSliceOp slice,
                                PatternRewriter &rewriter) const override {
    if (failed(matchBlockGatherTile(rewriter, slice, maxTileBytes)))
      return failure();
    auto result = dyn_cast<OpResult>(slice.getSource());
    auto gather =
        result ? dyn_cast<linalg::GenericOp>(result.getOwner()) : nullptr;
    if (!isHostLayoutCast(gather))
      return rewriter.notifyMatchFailure(slice,
                                         "source is not a host-level gather");
    FailureOr<TilingResult> tiled =
        tensor::replaceExtractSliceWithTiledProducer(rewriter, slice, result);
    if (failed(tiled) || tiled->tiledValues.size() != 1 ||
        tiled->tiledValues[0].getType() != slice.getType())
      return rewriter.notifyMatchFailure(slice, "gather could not be tiled");
    rewriter.replaceOp(slice, tiled->tiledValues[0]);
    return success();
  }

  int64_t maxTileBytes;
};

/// `extract_slice(collapse_shape(gather))` in a block ->
/// `collapse_shape(extract_slice(gather))`, for slices whose size in every
/// collapsed group is 1 (the offset delinearised over the group's static
/// sizes) or the whole group (offset 0): the block's chunk `[n, 0, 0]` of the
/// `[B * HV * NC, C, X]` view is the chunk `[b, h, c, 0, 0]` of the gather.
/// Upstream's `BubbleUpCollapseShapeThroughExtractSlice` did not apply to
/// these dynamic offsets (MLIR 22).
struct BubbleGatherSliceAboveCollapse
    : public OpRewritePattern<tensor::ExtractSliceOp> {
  BubbleGatherSliceAboveCollapse(MLIRContext *ctx, int64_t maxTileBytes)
      : OpRewritePattern(ctx), maxTileBytes(maxTileBytes) {}

  LogicalResult matchAndRewrite(tensor::ExtractSliceOp slice,
                                PatternRewriter &rewriter) const override {
    if (failed(matchBlockGatherTile(rewriter, slice, maxTileBytes)))
      return failure();
    auto collapse = slice.getSource().getDefiningOp<tensor::CollapseShapeOp>();
    if (!collapse ||
        !isHostLayoutCast(collapse.getSrc().getDefiningOp<linalg::GenericOp>()))
      return rewriter.notifyMatchFailure(
          slice, "not a slice of a collapsed host-level gather");
    RankedTensorType srcType = collapse.getSrcType();
    std::optional<SmallVector<int64_t>> sizes =
        getConstantIntValues(slice.getMixedSizes());
    if (!srcType.hasStaticShape() || !sizes ||
        !areAllConstantIntValue(slice.getMixedStrides(), 1))
      return rewriter.notifyMatchFailure(slice, "dynamic or strided slice");
    SmallVector<ReassociationIndices> groups =
        collapse.getReassociationIndices();
    SmallVector<OpFoldResult> offsets = slice.getMixedOffsets();
    Location loc = slice.getLoc();
    // Check first (no ops created on failure).
    for (auto [g, group] : llvm::enumerate(groups)) {
      int64_t whole = 1;
      for (int64_t d : group)
        whole *= srcType.getDimSize(d);
      bool full = (*sizes)[g] == whole && isConstantIntValue(offsets[g], 0);
      if (!full && (*sizes)[g] != 1)
        return rewriter.notifyMatchFailure(
            slice, "a collapsed group is neither one row nor whole");
    }
    SmallVector<OpFoldResult> srcOffsets, srcSizes;
    for (auto [g, group] : llvm::enumerate(groups)) {
      if ((*sizes)[g] != 1 || group.size() == 1) {
        for (int64_t d : group) {
          srcOffsets.push_back(group.size() == 1 ? offsets[g]
                                                 : rewriter.getIndexAttr(0));
          srcSizes.push_back(rewriter.getIndexAttr(
              group.size() == 1 ? (*sizes)[g] : srcType.getDimSize(d)));
        }
        continue;
      }
      SmallVector<int64_t> basis;
      for (int64_t d : group)
        basis.push_back(srcType.getDimSize(d));
      Value row = getValueOrCreateConstantIndexOp(rewriter, loc, offsets[g]);
      auto delinearize = affine::AffineDelinearizeIndexOp::create(
          rewriter, loc, row, basis, /*hasOuterBound=*/true);
      for (Value v : delinearize.getResults()) {
        srcOffsets.push_back(v);
        srcSizes.push_back(rewriter.getIndexAttr(1));
      }
    }
    SmallVector<OpFoldResult> strides(srcType.getRank(),
                                      rewriter.getIndexAttr(1));
    Value srcSlice = tensor::ExtractSliceOp::create(
        rewriter, loc, collapse.getSrc(), srcOffsets, srcSizes, strides);
    rewriter.replaceOpWithNewOp<tensor::CollapseShapeOp>(
        slice, slice.getResultType(), srcSlice, groups);
    return success();
  }

  int64_t maxTileBytes;
};

/// A gathered tile in a block (the result of `FuseGatherIntoBlockSlice`):
/// a cast-only linalg.generic inside a block loop with an identity output
/// map, read by one op only.
bool isSingleUseBlockTile(linalg::GenericOp tile) {
  return tile && isInsideBlockLoop(tile) && tile.hasPureTensorSemantics() &&
         tile->hasOneUse() && tile.getNumDpsInputs() == 1 &&
         tile.getNumDpsInits() == 1 && tile.getNumReductionLoops() == 0 &&
         !tile.payloadUsesValueFromOperand(tile.getDpsInitOperand(0)) &&
         tile.getMatchingIndexingMap(tile.getDpsInitOperand(0)).isIdentity() &&
         llvm::all_of(tile.getBody()->without_terminator(), [](Operation &o) {
           return isa<arith::ExtFOp, arith::TruncFOp>(o);
         }) &&
         cast<RankedTensorType>(tile.getResult(0).getType()).hasStaticShape();
}

/// The same gather as `tile`, writing `init` (whose dim j is the tile's
/// group `perm[j]` of `groups`, groups merging unit dims only): each output
/// dim stands for its group's non-unit tile dim, every unit tile dim reads
/// index 0. Fails if a group merges two non-unit dims.
FailureOr<Value> regatherTile(RewriterBase &rewriter, linalg::GenericOp tile,
                              ArrayRef<ReassociationIndices> groups,
                              ArrayRef<int64_t> perm, Value init) {
  auto tileType = cast<RankedTensorType>(tile.getResult(0).getType());
  MLIRContext *ctx = rewriter.getContext();
  SmallVector<AffineExpr> tileDims(tileType.getRank(),
                                   getAffineConstantExpr(0, ctx));
  for (auto [j, g] : llvm::enumerate(perm)) {
    int64_t nonUnit = 0;
    for (int64_t d : groups[g])
      if (tileType.getDimSize(d) != 1) {
        tileDims[d] = getAffineDimExpr(j, ctx);
        ++nonUnit;
      }
    if (nonUnit > 1)
      return failure();
  }
  AffineMap toTile = AffineMap::get(perm.size(), 0, tileDims, ctx);
  AffineMap inputMap = simplifyAffineMap(
      tile.getMatchingIndexingMap(tile.getDpsInputOperand(0)).compose(toTile));
  AffineMap outputMap = rewriter.getMultiDimIdentityMap(perm.size());
  SmallVector<utils::IteratorType> iterators(perm.size(),
                                             utils::IteratorType::parallel);
  auto regathered = linalg::GenericOp::create(
      rewriter, tile.getLoc(), init.getType(), tile.getDpsInputOperand(0)->get(),
      init, ArrayRef<AffineMap>{inputMap, outputMap}, iterators);
  rewriter.cloneRegionBefore(tile.getRegion(), regathered.getRegion(),
                             regathered.getRegion().begin());
  return regathered.getResult(0);
}

/// `collapse_shape(gather tile)` (unit dims merged) -> one gather writing
/// the collapsed tile: a plain elementwise producer of the block's
/// consumers (`deltanet-gpu-fuse-elementwise` then fuses it into wy_repr's
/// scaling of k and v, which needed no tile of their own).
struct GatherTileIntoCollapse
    : public OpRewritePattern<tensor::CollapseShapeOp> {
  GatherTileIntoCollapse(MLIRContext *ctx, StringRef mode)
      : OpRewritePattern(ctx), mode(mode.str()) {}

  LogicalResult matchAndRewrite(tensor::CollapseShapeOp collapse,
                                PatternRewriter &rewriter) const override {
    auto tile = collapse.getSrc().getDefiningOp<linalg::GenericOp>();
    if (!isSingleUseBlockTile(tile) || !collapse.getResultType().hasStaticShape())
      return rewriter.notifyMatchFailure(
          collapse, "source is not a single-use gather tile of a block");
    // Which readers of the collapsed tile let it be regathered (`mode`).
    bool readByMatmul = false, readWithBroadcast = false;
    for (OpOperand &use : collapse->getUses()) {
      // (A transpose counts: its tile is regathered once more, into it.)
      if (isa<linalg::BatchMatmulOp, linalg::MatmulOp, linalg::TransposeOp>(
              use.getOwner()))
        readByMatmul = true;
      else if (auto reader = dyn_cast<linalg::LinalgOp>(use.getOwner()))
        if (!reader.getMatchingIndexingMap(&use).isPermutation())
          readWithBroadcast = true;
    }
    if ((mode == "no-broadcast" && readWithBroadcast) ||
        (mode == "matmul" && !readByMatmul))
      return rewriter.notifyMatchFailure(
          collapse, "its readers are not regathered in this gather-layouts "
                    "mode");
    SmallVector<int64_t> identity = llvm::to_vector(
        llvm::seq<int64_t>(0, collapse.getResultType().getRank()));
    rewriter.setInsertionPoint(collapse);
    Value init = tensor::EmptyOp::create(
        rewriter, collapse.getLoc(), collapse.getResultType().getShape(),
        collapse.getResultType().getElementType());
    FailureOr<Value> regathered = regatherTile(
        rewriter, tile, collapse.getReassociationIndices(), identity, init);
    if (failed(regathered))
      return rewriter.notifyMatchFailure(collapse,
                                         "collapse merges two non-unit dims");
    rewriter.replaceOp(collapse, *regathered);
    return success();
  }

  std::string mode;
};

/// `transpose(gather tile)` -> one gather writing the transposed tile
/// (chunk_output's k, read only as k^T): the block does not hold k and k^T
/// in shared memory at once.
struct GatherTileIntoTranspose : public OpRewritePattern<linalg::TransposeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::TransposeOp transpose,
                                PatternRewriter &rewriter) const override {
    if (!transpose.hasPureTensorSemantics())
      return rewriter.notifyMatchFailure(transpose, "not on tensors");
    auto tile = transpose.getInput().getDefiningOp<linalg::GenericOp>();
    if (!isSingleUseBlockTile(tile))
      return rewriter.notifyMatchFailure(
          transpose, "input is not a single-use gather tile of a block");
    SmallVector<ReassociationIndices> groups;
    for (int64_t d = 0; d < transpose.getPermutation().size(); ++d)
      groups.push_back({d});
    rewriter.setInsertionPoint(transpose);
    FailureOr<Value> regathered =
        regatherTile(rewriter, tile, groups, transpose.getPermutation(),
                     transpose.getInit());
    if (failed(regathered))
      return failure();
    rewriter.replaceOp(transpose, *regathered);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Scatters into the blocks whose result they read
//===----------------------------------------------------------------------===//

/// Per loop of `op`, the (offset, size) of the iteration tile whose input
/// elements are the block's tile `inOffsets` / `inSizes` of the input
/// (full-size dims at offset 0 except the leading unit dims). The input map's
/// results may be loop dims or `d floordiv C` followed by `d mod C` (the
/// chunked token index) with the floordiv tile of size 1 and the mod tile
/// the whole chunk. Fails on anything else, or when a loop's extent is not
/// exactly covered (a ragged last chunk).
LogicalResult iterationTileOfInputTile(
    OpBuilder &b, Location loc, linalg::GenericOp op,
    ArrayRef<OpFoldResult> inOffsets, ArrayRef<int64_t> inSizes,
    SmallVectorImpl<OpFoldResult> &offsets, SmallVectorImpl<OpFoldResult> &sizes) {
  AffineMap map = op.getMatchingIndexingMap(op.getDpsInputOperand(0));
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  offsets.assign(ranges.size(), OpFoldResult());
  sizes.assign(ranges.size(), OpFoldResult());
  ArrayRef<AffineExpr> results = map.getResults();
  for (unsigned r = 0; r < results.size(); ++r) {
    if (auto dim = dyn_cast<AffineDimExpr>(results[r])) {
      unsigned d = dim.getPosition();
      if (offsets[d] || (ranges[d] != inSizes[r] && inSizes[r] != 1))
        return failure();
      offsets[d] = inOffsets[r];
      sizes[d] = b.getIndexAttr(inSizes[r]);
      continue;
    }
    // (d floordiv C, d mod C) with the floordiv tile 1 and the mod tile C.
    auto div = dyn_cast<AffineBinaryOpExpr>(results[r]);
    if (!div || div.getKind() != AffineExprKind::FloorDiv ||
        r + 1 >= results.size())
      return failure();
    auto mod = dyn_cast<AffineBinaryOpExpr>(results[r + 1]);
    auto dim = dyn_cast<AffineDimExpr>(div.getLHS());
    auto chunk = dyn_cast<AffineConstantExpr>(div.getRHS());
    if (!mod || mod.getKind() != AffineExprKind::Mod || !dim || !chunk ||
        mod.getLHS() != div.getLHS() || mod.getRHS() != div.getRHS())
      return failure();
    unsigned d = dim.getPosition();
    int64_t c = chunk.getValue();
    if (offsets[d] || inSizes[r] != 1 || inSizes[r + 1] != c ||
        !getConstantIntValue(inOffsets[r + 1]).has_value() ||
        *getConstantIntValue(inOffsets[r + 1]) != 0 ||
        ShapedType::isDynamic(ranges[d]) || ranges[d] % c != 0)
      return failure();
    AffineExpr s0;
    bindSymbols(b.getContext(), s0);
    offsets[d] = affine::makeComposedFoldedAffineApply(b, loc, s0 * c,
                                                        {inOffsets[r]});
    sizes[d] = b.getIndexAttr(c);
    ++r;
  }
  return success(llvm::all_of(offsets, [](OpFoldResult o) { return !!o; }));
}

/// A host-level scatter (layout change + cast) of a block loop's result,
/// `scatter(expand_shape(forall))`, computed by each block on its own tile:
/// the loop's result becomes the scatter's (the output stage writes o in its
/// final layout and element type; the f32 tile stays in the block).
struct FuseScatterIntoBlockResult : public OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::GenericOp scatter,
                                PatternRewriter &rewriter) const override {
    if (!isHostLayoutCast(scatter))
      return rewriter.notifyMatchFailure(scatter, "not a host-level scatter");
    if (!scatter.getMatchingIndexingMap(scatter.getDpsInitOperand(0))
             .isIdentity())
      return rewriter.notifyMatchFailure(scatter, "output map not identity");
    auto expand = scatter.getDpsInputOperand(0)
                      ->get()
                      .getDefiningOp<tensor::ExpandShapeOp>();
    if (!expand || !expand->hasOneUse())
      return rewriter.notifyMatchFailure(scatter,
                                         "input is not a single-use expand");
    auto result = dyn_cast<OpResult>(expand.getSrc());
    auto forall =
        result ? dyn_cast<scf::ForallOp>(result.getOwner()) : nullptr;
    if (!forall || !isBlockMapped(forall) || !result.hasOneUse())
      return rewriter.notifyMatchFailure(
          scatter, "input is not the single use of a block loop's result");
    BlockArgument out = forall.getTiedBlockArgument(
        forall.getTiedOpOperand(result));
    if (!out.hasOneUse())
      return rewriter.notifyMatchFailure(
          scatter, "the loop reads its shared output besides inserting");
    auto insert = dyn_cast<tensor::ParallelInsertSliceOp>(*out.user_begin());
    if (!insert || insert.getDest() != out)
      return rewriter.notifyMatchFailure(scatter, "no parallel insert");
    // The block's tile: [i, 0, ...] of sizes [1, full...], unit strides.
    RankedTensorType resultType = cast<RankedTensorType>(result.getType());
    SmallVector<OpFoldResult> tileOffsets = insert.getMixedOffsets();
    std::optional<SmallVector<int64_t>> tileSizes =
        getConstantIntValues(insert.getMixedSizes());
    if (!resultType.hasStaticShape() || !tileSizes || (*tileSizes)[0] != 1 ||
        insert.getSourceType().getRank() != resultType.getRank() ||
        !areAllConstantIntValue(insert.getMixedStrides(), 1))
      return rewriter.notifyMatchFailure(scatter, "tile is not one row");
    for (int64_t d = 1; d < resultType.getRank(); ++d)
      if ((*tileSizes)[d] != resultType.getDimSize(d) ||
          !isConstantIntValue(tileOffsets[d], 0))
        return rewriter.notifyMatchFailure(scatter, "tile is not one row");
    // The scatter's destination becomes the loop's: it must exist before
    // the loop (a tensor.empty after it is moved up).
    Value dest = scatter.getDpsInitOperand(0)->get();
    DominanceInfo dominance;
    auto empty = dest.getDefiningOp<tensor::EmptyOp>();
    if (!dominance.properlyDominates(dest, forall) &&
        (!empty || llvm::any_of(empty->getOperands(), [&](Value v) {
          return !dominance.properlyDominates(v, forall);
        })))
      return rewriter.notifyMatchFailure(
          scatter, "destination cannot be made to dominate the block loop");
    SmallVector<ReassociationIndices> groups =
        expand.getReassociationIndices();
    for (unsigned g = 1; g < groups.size(); ++g)
      if (groups[g].size() != 1)
        return rewriter.notifyMatchFailure(
            scatter, "expand_shape splits a dim other than the leading one");

    // The tile in the expanded layout: the row index delinearised.
    Location loc = scatter.getLoc();
    RankedTensorType expandedType = expand.getResultType();
    SmallVector<int64_t> inSizes(groups[0].size(), 1);
    for (unsigned g = 1; g < groups.size(); ++g)
      inSizes.push_back(expandedType.getDimSize(groups[g][0]));
    SmallVector<OpFoldResult> offsets, sizes;
    {
      // Dry run on constant offsets (creates no ops): is the map supported?
      SmallVector<OpFoldResult> zeros(inSizes.size(), rewriter.getIndexAttr(0));
      if (failed(iterationTileOfInputTile(rewriter, loc, scatter, zeros,
                                          inSizes, offsets, sizes)))
        return rewriter.notifyMatchFailure(
            scatter, "input map is not (dims | d floordiv C, d mod C) over "
                     "whole chunks");
    }
    Operation *terminator = forall.getTerminator();
    rewriter.setInsertionPoint(terminator);
    SmallVector<OpFoldResult> inOffsets;
    SmallVector<int64_t> basis;
    for (int64_t d : groups[0])
      basis.push_back(expandedType.getDimSize(d));
    if (basis.size() == 1) {
      inOffsets.push_back(tileOffsets[0]);
    } else {
      Value row = getValueOrCreateConstantIndexOp(rewriter, loc,
                                                  tileOffsets[0]);
      auto delinearize = affine::AffineDelinearizeIndexOp::create(
          rewriter, loc, row, basis, /*hasOuterBound=*/true);
      for (Value v : delinearize.getResults())
        inOffsets.push_back(v);
    }
    for (unsigned g = 1; g < groups.size(); ++g)
      inOffsets.push_back(rewriter.getIndexAttr(0));
    if (failed(iterationTileOfInputTile(rewriter, loc, scatter, inOffsets,
                                        inSizes, offsets, sizes)))
      llvm_unreachable("the dry run accepted the map");

    // The scatter of this tile, reading the block's tile instead of the
    // loop's result and writing a slice of the loop's new shared output.
    FailureOr<TilingResult> tiled =
        cast<TilingInterface>(scatter.getOperation())
            .getTiledImplementation(rewriter, offsets, sizes);
    if (failed(tiled) || tiled->tiledOps.size() != 1)
      return rewriter.notifyMatchFailure(scatter, "could not be tiled");
    auto tiledScatter = cast<linalg::GenericOp>(tiled->tiledOps[0]);
    auto inSlice = tiledScatter.getDpsInputOperand(0)
                       ->get()
                       .getDefiningOp<tensor::ExtractSliceOp>();
    auto outSlice = tiledScatter.getDpsInitOperand(0)
                        ->get()
                        .getDefiningOp<tensor::ExtractSliceOp>();
    if (!inSlice || !outSlice || inSlice.getSource() != expand.getResult() ||
        inSlice.getResultType().getRank() != expandedType.getRank())
      return rewriter.notifyMatchFailure(scatter, "unexpected tiled operands");
    auto tileType = RankedTensorType::get(
        inSizes, resultType.getElementType());
    if (inSlice.getResultType() != tileType)
      return rewriter.notifyMatchFailure(scatter, "tiled input is not the tile");
    rewriter.setInsertionPoint(inSlice);
    Value tile = tensor::ExpandShapeOp::create(rewriter, loc, tileType,
                                               insert.getSource(), groups);
    rewriter.replaceOp(inSlice, tile);

    // The loop's shared output becomes the scatter's destination.
    if (!dominance.properlyDominates(dest, forall))
      rewriter.moveOpBefore(empty, forall);
    auto destType = cast<RankedTensorType>(dest.getType());
    rewriter.modifyOpInPlace(forall, [&] {
      forall.getTiedOpOperand(result)->set(dest);
      out.setType(destType);
      result.setType(destType);
    });
    rewriter.modifyOpInPlace(outSlice, [&] {
      outSlice.getSourceMutable().set(out);
    });
    rewriter.setInsertionPoint(insert);
    tensor::ParallelInsertSliceOp::create(
        rewriter, insert.getLoc(), tiledScatter.getResult(0), out,
        outSlice.getMixedOffsets(), outSlice.getMixedSizes(),
        outSlice.getMixedStrides());
    rewriter.eraseOp(insert);
    rewriter.replaceOp(scatter, result);
    rewriter.eraseOp(expand);
    return success();
  }
};

struct DeltaNetGpuFuseIntoBlocksPass
    : public deltanet::impl::DeltaNetGpuFuseIntoBlocksBase<
          DeltaNetGpuFuseIntoBlocksPass> {
  using Base::Base;

  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    if (!llvm::is_contained({"all", "no-broadcast", "matmul", "none"},
                            StringRef(gatherLayouts))) {
      getOperation()->emitError()
          << "deltanet-gpu-fuse-into-blocks: gather-layouts must be all, "
             "no-broadcast, matmul or none, got '"
          << gatherLayouts << "'";
      return signalPassFailure();
    }
    if (gathers) {
      RewritePatternSet patterns(ctx);
      patterns.add<BubbleGatherSliceAboveCollapse>(ctx, maxGatherTileBytes);
      patterns.add<FuseGatherIntoBlockSlice>(ctx, maxGatherTileBytes);
      if (gatherLayouts != "none") {
        patterns.add<GatherTileIntoCollapse>(ctx, gatherLayouts);
        patterns.add<GatherTileIntoTranspose>(ctx);
      }
      if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
        return signalPassFailure();
    }
    if (scatters) {
      RewritePatternSet patterns(ctx);
      patterns.add<FuseScatterIntoBlockResult>(ctx);
      if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
        return signalPassFailure();
    }
  }
};

} // namespace
