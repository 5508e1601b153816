//===- DistributeLinalgToBlocks.cpp - Host-level linalg ops onto the grid -===//
//
// linalg ops left outside any block loop (gathers, scatters, cumulative
// decays of the decomposed attention) become scf.forall loops on GPU blocks.
// Host-level tensor.pad (the summary's values [0 | v]) is first spelled as a
// fill and a linalg.copy into a slice of it, so that both run on the grid.
// The zero fill of a reduction's accumulator is fused into the reduction's
// block loop.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Codegen/GPU/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir {
namespace deltanet {
#define GEN_PASS_DEF_DELTANETGPUDISTRIBUTELINALGTOBLOCKS
#include "deltanet/Codegen/GPU/Passes.h.inc"
} // namespace deltanet
} // namespace mlir

using namespace mlir;
using namespace mlir::deltanet;

namespace {

/// Whether `op` is a reduction whose accumulator is a linalg.fill used by
/// nothing else (the attention's cumulative decays): the fill is then
/// fused into `op`'s block loop instead of being a launch of its own.
bool fusesFillIntoConsumer(linalg::LinalgOp op) {
  if (op.getNumReductionLoops() == 0 || op.getNumDpsInits() != 1)
    return false;
  Value init = op.getDpsInitOperand(0)->get();
  auto fill = init.getDefiningOp<linalg::FillOp>();
  return fill && fill->hasOneUse();
}

/// A fill that fusesFillIntoConsumer will fuse into its consumer's loop.
bool isFusedIntoConsumer(linalg::LinalgOp op) {
  auto fill = dyn_cast<linalg::FillOp>(op.getOperation());
  if (!fill || !fill->hasOneUse())
    return false;
  auto consumer = dyn_cast<linalg::LinalgOp>(*fill->user_begin());
  return consumer && !isInsideBlockLoop(consumer) &&
         fusesFillIntoConsumer(consumer);
}

/// Tiles `op` by 1 along up to 3 of its non-unit parallel loops (all but the
/// innermost parallel loop, innermost first), mapped to blocks x, y, z; the
/// rest of the op (the innermost parallel loop, reductions) stays in the
/// block, where deltanet-gpu-map-to-threads spreads it over threads.
///
/// A block with fewer than `minBlockElements` iterations (a gather's row of
/// 128 elements: one 2-byte load per thread, 262144 blocks of 128 threads
/// for the attention's v) also takes a tile of the innermost grid loop (the
/// largest divisor of its extent that keeps the block within
/// `minBlockElements`): e.g. 16 tokens x 128 features per block, each thread
/// runs of 4 consecutive elements along the contiguous dim (8/16-byte
/// coalesced accesses). The block loop is then normalised (0 to N step 1),
/// as deltanet-gpu-map-to-threads expects.
///
/// A reduction (the attention's cumulative decays: 64 outputs per chunk,
/// each a 64-term masked sum) counts its block's outputs (parallel
/// iterations) against `minReductionOutputs` instead: a block per chunk
/// kept 16 of its 128 threads busy (4 outputs each), 8 chunks per block
/// keep all 128 busy with the same thread tile.
LogicalResult distribute(RewriterBase &rewriter, linalg::LinalgOp op,
                         int64_t minBlockElements,
                         int64_t minReductionOutputs) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  SmallVector<int64_t> parallel;
  for (int64_t d = 0, e = ranges.size(); d < e; ++d)
    if (iterators[d] == utils::IteratorType::parallel)
      parallel.push_back(d);
  SmallVector<int64_t> tiled;
  for (int64_t i = static_cast<int64_t>(parallel.size()) - 2;
       i >= 0 && tiled.size() < 3; --i)
    if (ranges[parallel[i]] != 1)
      tiled.push_back(parallel[i]);
  MLIRContext *ctx = rewriter.getContext();
  // Blocks along each grid loop (its extent when tiled by 1).
  SmallVector<int64_t> tile(ranges.size(), 0);
  for (int64_t d : tiled)
    tile[d] = 1;
  bool isReduction = op.getNumReductionLoops() > 0;
  if (isReduction)
    minBlockElements = minReductionOutputs;
  int64_t blockElements = 1;
  for (int64_t d = 0, e = ranges.size(); d < e; ++d)
    if (!tile[d] &&
        (!isReduction || iterators[d] == utils::IteratorType::parallel))
      blockElements = ShapedType::isDynamic(ranges[d]) || blockElements < 0
                          ? -1
                          : blockElements * ranges[d];
  if (!tiled.empty() && blockElements > 0 &&
      blockElements < minBlockElements) {
    int64_t d = tiled.front(); // the innermost grid loop
    if (!ShapedType::isDynamic(ranges[d])) {
      int64_t size = std::min(ranges[d], minBlockElements / blockElements);
      while (size > 1 && ranges[d] % size != 0)
        --size;
      tile[d] = size;
      if (size == ranges[d])
        tiled.erase(tiled.begin());
    }
  }
  auto blocksAlong = [&](int64_t d) {
    return ShapedType::isDynamic(ranges[d]) ? ranges[d] : ranges[d] / tile[d];
  };
  SmallVector<OpFoldResult> tileSizes(ranges.size(), rewriter.getIndexAttr(0));
  for (int64_t d = 0, e = ranges.size(); d < e; ++d)
    if (tile[d] && llvm::is_contained(tiled, d))
      tileSizes[d] = rewriter.getIndexAttr(tile[d]);
  // Loops are created outermost first. The grid's y and z extents are
  // limited to 65535 (x to 2^31 - 1): the longest tiled loop (tokens of a
  // long sequence) is x, the others y and z by decreasing extent (ties:
  // the innermost is x, as for equal extents before).
  llvm::sort(tiled);
  SmallVector<int64_t> byExtent(tiled.begin(), tiled.end());
  llvm::stable_sort(byExtent, [&](int64_t a, int64_t b) {
    return blocksAlong(a) > blocksAlong(b) ||
           (blocksAlong(a) == blocksAlong(b) && a > b);
  });
  static constexpr gpu::MappingId ids[] = {
      gpu::MappingId::DimX, gpu::MappingId::DimY, gpu::MappingId::DimZ};
  SmallVector<Attribute> mapping;
  for (int64_t d : tiled) {
    size_t rank = llvm::find(byExtent, d) - byExtent.begin();
    if (rank > 0 && (ShapedType::isDynamic(ranges[d]) || blocksAlong(d) > 65535))
      return op->emitOpError("loop ")
             << d << " of extent " << ranges[d]
             << " would be a grid dimension y or z (at most 65535 blocks)";
    mapping.push_back(gpu::GPUBlockMappingAttr::get(ctx, ids[rank]));
  }
  rewriter.setInsertionPoint(op);
  if (tiled.empty()) {
    // Too small to split: one block does it all.
    tileSizes.assign(ranges.size(), rewriter.getIndexAttr(0));
    if (!parallel.empty() && ranges[parallel[0]] > 0) {
      tileSizes[parallel[0]] = rewriter.getIndexAttr(ranges[parallel[0]]);
      mapping = {gpu::GPUBlockMappingAttr::get(ctx, gpu::MappingId::DimX)};
    } else {
      return op->emitOpError("has no parallel loop to put on the GPU grid");
    }
  }
  scf::SCFTilingOptions options;
  options.setLoopType(scf::SCFTilingOptions::LoopType::ForallOp);
  options.setTileSizes(tileSizes);
  options.setMapping(mapping);
  SmallVector<LoopLikeOpInterface> loops;
  if (fusesFillIntoConsumer(op)) {
    // The fill of a reduction's accumulator goes into the block loop
    // (upstream tile-and-fuse through the destination), where
    // deltanet-gpu-map-to-threads fills each thread's tile itself: no
    // launch of its own, no round trip of the zeros through device memory.
    scf::SCFTileAndFuseOptions fuseOptions;
    fuseOptions.setTilingOptions(options);
    fuseOptions.setFusionControlFn(
        [](tensor::ExtractSliceOp, OpResult producer,
           bool isDestination) -> std::optional<
                                   scf::SCFTileAndFuseOptions::ControlFnResult> {
          if (isDestination && isa<linalg::FillOp>(producer.getOwner()))
            return scf::SCFTileAndFuseOptions::ControlFnResult{};
          return std::nullopt;
        });
    FailureOr<scf::SCFTileAndFuseResult> result =
        scf::tileConsumerAndFuseProducersUsingSCF(
            rewriter, cast<TilingInterface>(op.getOperation()), fuseOptions);
    if (failed(result))
      return op->emitOpError("could not be distributed over GPU blocks");
    Operation *fill = op.getDpsInitOperand(0)->get().getDefiningOp();
    for (OpResult value : op->getResults())
      rewriter.replaceAllUsesWith(value, result->replacements.lookup(value));
    rewriter.eraseOp(op);
    if (fill->use_empty())
      rewriter.eraseOp(fill);
    loops = result->loops;
  } else {
    FailureOr<scf::SCFTilingResult> result = scf::tileUsingSCF(
        rewriter, cast<TilingInterface>(op.getOperation()), options);
    if (failed(result))
      return op->emitOpError("could not be distributed over GPU blocks");
    rewriter.replaceOp(op, result->replacements);
    loops = result->loops;
  }
  if (loops.size() == 1)
    if (auto forall = dyn_cast<scf::ForallOp>(loops.front().getOperation()))
      if (!forall.isNormalized() &&
          failed(normalizeForallOp(rewriter, forall)))
        return forall.emitOpError("block loop could not be normalised");
  return success();
}

/// Upstream's pad decomposition (empty + fill + insert_slice), for pads
/// outside block loops only (a block's own pads stay for bufferization).
struct HostPadAsFill : public linalg::DecomposePadOpPattern {
  using DecomposePadOpPattern::DecomposePadOpPattern;
  LogicalResult matchAndRewrite(tensor::PadOp op,
                                PatternRewriter &rewriter) const override {
    if (isInsideBlockLoop(op))
      return rewriter.notifyMatchFailure(op, "inside a block loop");
    return DecomposePadOpPattern::matchAndRewrite(op, rewriter);
  }
};

/// `insert_slice %src into %fill` outside block loops, `%fill` a
/// linalg.fill: bufferized as is, it is a host-level strided memref.copy
/// (one thread block for the whole tensor). As
///   %d = extract_slice %fill[slice]; %c = linalg.copy ins(%src) outs(%d)
///   insert_slice %c into %fill[slice]
/// the copy is a linalg op that is distributed over the grid like the
/// others, and the matching extract/insert pair bufferizes in place.
struct InsertSliceIntoFillAsCopy
    : public OpRewritePattern<tensor::InsertSliceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(tensor::InsertSliceOp op,
                                PatternRewriter &rewriter) const override {
    if (isInsideBlockLoop(op))
      return rewriter.notifyMatchFailure(op, "inside a block loop");
    if (!op.getDest().getDefiningOp<linalg::FillOp>())
      return rewriter.notifyMatchFailure(op, "destination is not a fill");
    if (op.getSource().getDefiningOp<linalg::CopyOp>())
      return rewriter.notifyMatchFailure(op, "already a linalg.copy");
    if (op.getSourceType().getRank() != op.getDestType().getRank())
      return rewriter.notifyMatchFailure(op, "rank-reducing slice");
    Location loc = op.getLoc();
    Value slice = tensor::ExtractSliceOp::create(
        rewriter, loc, op.getSourceType(), op.getDest(), op.getMixedOffsets(),
        op.getMixedSizes(), op.getMixedStrides());
    Value copy = linalg::CopyOp::create(rewriter, loc, op.getSource(), slice)
                     .getResult(0);
    rewriter.modifyOpInPlace(op, [&] { op.getSourceMutable().assign(copy); });
    return success();
  }
};

struct DeltaNetGpuDistributeLinalgToBlocksPass
    : public deltanet::impl::DeltaNetGpuDistributeLinalgToBlocksBase<
          DeltaNetGpuDistributeLinalgToBlocksPass> {
  using Base::Base;

  void runOnOperation() override {
    // tensor.pad outside blocks -> empty + fill + insert_slice (upstream),
    // and that insert_slice -> linalg.copy into the slice (ours).
    {
      RewritePatternSet patterns(&getContext());
      patterns.add<HostPadAsFill, InsertSliceIntoFillAsCopy>(&getContext());
      GreedyRewriteConfig config;
      config.enableFolding(false);
      if (failed(applyPatternsGreedily(getOperation(), std::move(patterns),
                                       config)))
        return signalPassFailure();
    }
    SmallVector<linalg::LinalgOp> ops;
    getOperation()->walk([&](linalg::LinalgOp op) {
      if (op.hasPureTensorSemantics() && !isInsideBlockLoop(op) &&
          !isFusedIntoConsumer(op))
        ops.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::LinalgOp op : ops)
      if (failed(distribute(rewriter, op, minBlockElements,
                            minReductionOutputs)))
        return signalPassFailure();
  }
};

} // namespace
