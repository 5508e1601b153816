//===- MapToThreads.cpp - Block loops on buffers to gpu.launch ------------===//
//
// Spreads every linalg op of a block-mapped scf.forall over the block's
// threads and turns the block loop into a gpu.launch.
//
// Tiling and thread mapping are upstream (scf::tileUsingSCF,
// mapNestedForallToThreadsImpl); what is ours is the choice of thread
// counts per op (at most `threads` iterations, innermost parallel dimension
// first for coalescing) and the creation of the launch from a block forall
// whose body is already on buffers (upstream's map_forall_to_blocks needs a
// transform op to report through).
//
//===----------------------------------------------------------------------===//

#include "deltanet/Codegen/GPU/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/TransformOps/GPUTransformOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir {
namespace deltanet {
#define GEN_PASS_DEF_DELTANETGPUMAPTOTHREADS
#include "deltanet/Codegen/GPU/Passes.h.inc"
} // namespace deltanet
} // namespace mlir

using namespace mlir;
using namespace mlir::deltanet;

namespace {

/// Threads per loop of `op`: parallel loops from the innermost outwards
/// take as many of the `threads` as divide their extent; the innermost one
/// leaves each thread a run of `width` (4, else 2) consecutive elements so
/// that a thread's tile vectorises to 8/16-byte accesses and consecutive
/// threads touch consecutive runs (coalesced). Reductions stay whole.
/// Returns the per-loop thread counts (0 = not distributed).
SmallVector<int64_t> chooseThreadCounts(linalg::LinalgOp op, int64_t threads) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  SmallVector<int64_t> counts(ranges.size(), 0);
  int64_t remaining = threads;
  bool innermost = true;
  for (int64_t d = static_cast<int64_t>(ranges.size()) - 1; d >= 0; --d) {
    if (iterators[d] != utils::IteratorType::parallel ||
        ShapedType::isDynamic(ranges[d]))
      continue;
    int64_t extent = ranges[d];
    int64_t width = 1;
    if (innermost)
      width = extent % 4 == 0 ? 4 : extent % 2 == 0 ? 2 : 1;
    innermost = false;
    // The largest count that divides extent / width and fits.
    int64_t runs = extent / width;
    int64_t count = std::min(runs, remaining);
    while (count > 1 && runs % count != 0)
      --count;
    if (count <= 1)
      continue;
    counts[d] = count;
    remaining /= count;
  }
  return counts;
}

/// Largest iteration space of one thread's tile that is vectorised.
constexpr int64_t kMaxVectorizedTile = 1024;

/// Vectorises one thread's tile (upstream linalg vectoriser). Tiles of at
/// most kMaxVectorizedTile iterations are vectorised whole. A larger tile
/// whose parallel part has at most `reductionStep` iterations (a matmul tile
/// with a long reduction: K = 128 in the attention's stages) first has its
/// reduction loops tiled by an scf.for into steps of at most `reductionStep`
/// iterations, each step vectorised: the accumulator is read and written
/// once per step instead of once per multiply-add (the scalar loop nest
/// keeps it in memory, which LLVM cannot promote across possibly aliasing
/// pointers). Other large tiles stay loop nests. (Measured on an H200,
/// docs/GPU.md: stepping also the tiles of 257..1024 iterations made the
/// state scan slower.)
void vectorizeThreadTile(RewriterBase &rewriter, Operation *tile,
                         int64_t reductionStep) {
  auto linalgOp = cast<linalg::LinalgOp>(tile);
  SmallVector<int64_t> ranges = linalgOp.getStaticLoopRanges();
  if (llvm::any_of(ranges, ShapedType::isDynamic))
    return;
  SmallVector<utils::IteratorType> iterators =
      linalgOp.getIteratorTypesArray();
  int64_t volume = 1, parallelVolume = 1;
  for (auto [range, iterator] : llvm::zip(ranges, iterators)) {
    volume *= range;
    if (iterator == utils::IteratorType::parallel)
      parallelVolume *= range;
  }
  auto vectorize = [&](Operation *op) {
    rewriter.setInsertionPoint(op);
    FailureOr<linalg::VectorizationResult> vectorized =
        linalg::vectorize(rewriter, op, /*inputVectorSizes=*/{},
                          /*inputScalableVecDims=*/{},
                          /*vectorizeNDExtract=*/false,
                          /*flatten1DDepthwiseConv=*/false,
                          /*assumeDynamicDimsMatchVecSizes=*/false,
                          /*createNamedContraction=*/true);
    if (succeeded(vectorized))
      rewriter.eraseOp(op);
  };
  if (volume <= kMaxVectorizedTile)
    return vectorize(tile);
  if (reductionStep <= 0 || parallelVolume > reductionStep ||
      linalgOp.getNumReductionLoops() == 0)
    return;
  // Reduction steps: innermost reduction loops first, the largest divisor
  // of each extent that fits the remaining budget.
  int64_t budget = reductionStep / parallelVolume;
  SmallVector<OpFoldResult> steps(ranges.size(), rewriter.getIndexAttr(0));
  for (int64_t d = static_cast<int64_t>(ranges.size()) - 1; d >= 0; --d) {
    if (iterators[d] != utils::IteratorType::reduction)
      continue;
    int64_t step = std::min(ranges[d], std::max<int64_t>(budget, 1));
    while (step > 1 && ranges[d] % step != 0)
      --step;
    steps[d] = rewriter.getIndexAttr(step);
    budget = std::max<int64_t>(budget / step, 1);
  }
  scf::SCFTilingOptions options;
  options.setLoopType(scf::SCFTilingOptions::LoopType::ForOp);
  options.setTileSizes(steps);
  rewriter.setInsertionPoint(tile);
  FailureOr<scf::SCFTilingResult> tiled = scf::tileUsingSCF(
      rewriter, cast<TilingInterface>(tile), options);
  if (failed(tiled))
    return; // stays a loop nest
  rewriter.eraseOp(tile);
  for (Operation *step : tiled->tiledOps)
    vectorize(step);
}

/// Unit-extent loops inside compound index expressions become 0: the
/// attention's gathers, tiled to one chunk per block, read
/// `q[n * 64 + c]` with `n` of extent 1; `(n * 64 + c) -> c` makes the map
/// a projected permutation, which upstream's vectoriser needs (otherwise a
/// thread's tile stays a scalar loop nest of 2-byte loads). Upstream's
/// FoldUnitExtentDims would drop the dims with reshapes around the op;
/// only the maps change here. Plain dim results are left as they are.
void foldUnitDimsInIndexExprs(RewriterBase &rewriter, linalg::GenericOp op) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  MLIRContext *ctx = op.getContext();
  SmallVector<AffineExpr> replacements;
  for (int64_t d = 0, e = ranges.size(); d < e; ++d)
    replacements.push_back(ranges[d] == 1 ? getAffineConstantExpr(0, ctx)
                                          : getAffineDimExpr(d, ctx));
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  bool changed = false;
  for (AffineMap &map : maps) {
    SmallVector<AffineExpr> results;
    for (AffineExpr result : map.getResults()) {
      if (isa<AffineDimExpr, AffineConstantExpr>(result)) {
        results.push_back(result);
        continue;
      }
      AffineExpr folded = simplifyAffineExpr(
          result.replaceDims(replacements), map.getNumDims(), 0);
      changed |= folded != result;
      results.push_back(folded);
    }
    map = AffineMap::get(map.getNumDims(), 0, results, ctx);
  }
  if (changed)
    rewriter.modifyOpInPlace(op, [&] {
      op.setIndexingMapsAttr(rewriter.getAffineMapArrayAttr(maps));
    });
}

/// Tiles `op` into an scf.forall over at most `threads` linear thread ids.
LogicalResult distributeOverThreads(RewriterBase &rewriter, linalg::LinalgOp op,
                                    int64_t threads, int64_t reductionStep) {
  MLIRContext *ctx = rewriter.getContext();
  SmallVector<int64_t> counts = chooseThreadCounts(op, threads);
  int64_t distributed = llvm::count_if(counts, [](int64_t c) { return c > 0; });
  if (distributed == 0) {
    // Nothing to spread (a scalar or reduction-only op): one thread does it.
    rewriter.setInsertionPoint(op);
    auto forall = scf::ForallOp::create(
        rewriter, op.getLoc(), ArrayRef<OpFoldResult>{rewriter.getIndexAttr(1)},
        ValueRange{},
        rewriter.getArrayAttr({gpu::GPUThreadMappingAttr::get(
            ctx, gpu::MappingId::LinearDim0)}));
    rewriter.moveOpBefore(op, forall.getTerminator());
    return success();
  }
  SmallVector<Attribute> mapping;
  for (int64_t k = distributed - 1; k >= 0; --k)
    mapping.push_back(gpu::GPUThreadMappingAttr::get(
        ctx, static_cast<gpu::MappingId>(
                 static_cast<int64_t>(gpu::MappingId::LinearDim0) + k)));
  scf::SCFTilingOptions options;
  options.setLoopType(scf::SCFTilingOptions::LoopType::ForallOp);
  options.setNumThreads(getAsIndexOpFoldResult(ctx, counts));
  options.setMapping(mapping);
  rewriter.setInsertionPoint(op);
  FailureOr<scf::SCFTilingResult> tiled = scf::tileUsingSCF(
      rewriter, cast<TilingInterface>(op.getOperation()), options);
  if (failed(tiled))
    return op->emitOpError("could not be distributed over GPU threads");
  rewriter.eraseOp(op);
  // A thread's tile has static sizes (counts divide extents): vectorise it
  // where it can; otherwise it stays a loop nest.
  for (Operation *tile : tiled->tiledOps)
    vectorizeThreadTile(rewriter, tile, reductionStep);
  return success();
}

/// Buffers that bufferization allocated inside a block (copies resolving
/// in-place conflicts) are per-block temporaries like the promoted ones:
/// moves them, and the views of them, to workgroup memory.
void promoteBlockAllocations(scf::ForallOp block) {
  auto workgroup = gpu::AddressSpaceAttr::get(
      block.getContext(), gpu::GPUDialect::getWorkgroupAddressSpace());
  auto promote = [&](Value value) {
    auto type = cast<MemRefType>(value.getType());
    value.setType(MemRefType::get(type.getShape(), type.getElementType(),
                                  type.getLayout(), workgroup));
  };
  SmallVector<memref::AllocOp> allocs;
  block.walk([&](memref::AllocOp alloc) {
    if (!alloc.getType().getMemorySpace())
      allocs.push_back(alloc);
  });
  for (memref::AllocOp alloc : allocs) {
    SmallVector<Value> worklist{alloc.getResult()};
    while (!worklist.empty()) {
      Value value = worklist.pop_back_val();
      promote(value);
      for (Operation *user : value.getUsers())
        if (isa<ViewLikeOpInterface, memref::CollapseShapeOp,
                memref::ExpandShapeOp, memref::CastOp>(user) &&
            user->getOperand(0) == value)
          worklist.append(user->result_begin(), user->result_end());
    }
  }
}

/// The block scf.forall (normalised, on buffers) -> gpu.launch with
/// `threads` threads; block ids replace the induction variables.
FailureOr<gpu::LaunchOp> createLaunch(RewriterBase &rewriter,
                                      scf::ForallOp forall, int64_t threads) {
  if (!forall.isNormalized())
    return forall.emitOpError("block loop must be normalised (0 to N step 1)");
  if (forall.getNumResults() != 0)
    return forall.emitOpError("block loop must be on buffers (bufferized)");
  Location loc = forall.getLoc();
  rewriter.setInsertionPoint(forall);
  Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
  Value grid[3] = {one, one, one};
  SmallVector<gpu::Dimension> dims;
  for (auto [bound, attr] :
       llvm::zip(forall.getMixedUpperBound(), *forall.getMapping())) {
    auto id = cast<gpu::GPUBlockMappingAttr>(attr).getBlock();
    int64_t d = static_cast<int64_t>(id);
    if (d > 2)
      return forall.emitOpError("linear block mappings are not supported");
    grid[d] = getValueOrCreateConstantIndexOp(rewriter, loc, bound);
    dims.push_back(static_cast<gpu::Dimension>(d));
  }
  Value blockSize = arith::ConstantIndexOp::create(rewriter, loc, threads);
  auto launch = gpu::LaunchOp::create(rewriter, loc, grid[0], grid[1], grid[2],
                                      blockSize, one, one);
  Block &body = launch.getBody().front();
  rewriter.setInsertionPointToEnd(&body);
  auto terminator = gpu::TerminatorOp::create(rewriter, loc);
  rewriter.setInsertionPoint(terminator);
  SmallVector<Value> ids;
  for (gpu::Dimension d : dims)
    ids.push_back(gpu::BlockIdOp::create(rewriter, loc, d));
  Operation *inParallel = forall.getTerminator();
  rewriter.inlineBlockBefore(forall.getBody(), terminator, ids);
  rewriter.eraseOp(inParallel);
  rewriter.eraseOp(forall);
  return launch;
}

/// Host-level copies between strided views of device buffers (bufferization
/// of the recurrent op's per-step slices) cannot become a gpu.memcpy (which
/// needs contiguous buffers; deltanet-gpu-host-allocs-to-device turns the
/// identity-layout ones into gpu.memcpy): each becomes a one-block loop that
/// is mapped to threads like any other block.
void wrapStridedHostCopiesInBlocks(RewriterBase &rewriter, func::FuncOp func) {
  SmallVector<memref::CopyOp> copies;
  func.walk([&](memref::CopyOp copy) {
    for (auto forall = copy->getParentOfType<scf::ForallOp>(); forall;
         forall = forall->getParentOfType<scf::ForallOp>())
      if (isBlockMapped(forall))
        return;
    if (copy->getParentOfType<gpu::LaunchOp>())
      return;
    if (cast<MemRefType>(copy.getSource().getType()).getLayout().isIdentity() &&
        cast<MemRefType>(copy.getTarget().getType()).getLayout().isIdentity())
      return;
    copies.push_back(copy);
  });
  for (memref::CopyOp copy : copies) {
    rewriter.setInsertionPoint(copy);
    auto forall = scf::ForallOp::create(
        rewriter, copy.getLoc(),
        ArrayRef<OpFoldResult>{rewriter.getIndexAttr(1)}, ValueRange{},
        rewriter.getArrayAttr({gpu::GPUBlockMappingAttr::get(
            rewriter.getContext(), gpu::MappingId::DimX)}));
    rewriter.moveOpBefore(copy, forall.getTerminator());
  }
}

struct DeltaNetGpuMapToThreadsPass
    : public deltanet::impl::DeltaNetGpuMapToThreadsBase<
          DeltaNetGpuMapToThreadsPass> {
  using Base::Base;

  void runOnOperation() override {
    if (threads <= 0 || threads % 32 != 0 || threads > 1024) {
      getOperation().emitError("deltanet-gpu-map-to-threads: threads must be "
                               "a multiple of 32 in [32, 1024], got ")
          << static_cast<int64_t>(threads);
      return signalPassFailure();
    }
    IRRewriter rewriter(&getContext());
    wrapStridedHostCopiesInBlocks(rewriter, getOperation());
    SmallVector<scf::ForallOp> blocks;
    getOperation().walk([&](scf::ForallOp forall) {
      if (isBlockMapped(forall))
        blocks.push_back(forall);
    });
    for (scf::ForallOp block : blocks) {
      promoteBlockAllocations(block);
      // Copies made by bufferization are linalg ops like the others.
      SmallVector<memref::CopyOp> copies;
      block.walk([&](memref::CopyOp copy) { copies.push_back(copy); });
      for (memref::CopyOp copy : copies) {
        rewriter.setInsertionPoint(copy);
        rewriter.replaceOpWithNewOp<linalg::CopyOp>(copy, copy.getSource(),
                                                    copy.getTarget());
      }
      SmallVector<linalg::LinalgOp> ops;
      block.walk([&](linalg::LinalgOp op) {
        auto parent = op->getParentOfType<scf::ForallOp>();
        if (parent == block)
          ops.push_back(op);
      });
      for (linalg::LinalgOp op : ops)
        if (auto generic = dyn_cast<linalg::GenericOp>(op.getOperation()))
          foldUnitDimsInIndexExprs(rewriter, generic);
      for (linalg::LinalgOp op : ops)
        if (failed(distributeOverThreads(rewriter, op, threads, reductionStep)))
          return signalPassFailure();
      FailureOr<gpu::LaunchOp> launch = createLaunch(rewriter, block, threads);
      if (failed(launch))
        return signalPassFailure();
      // Unit thread ids (y, z) are replaced by constants created at the
      // insertion point: the start of the launch body.
      rewriter.setInsertionPointToStart(&launch->getBody().front());
      DiagnosedSilenceableFailure mapped =
          transform::gpu::mapNestedForallToThreadsImpl(
              rewriter, std::nullopt, *launch, {threads, 1, 1},
              /*warpSize=*/32, /*syncAfterDistribute=*/true);
      if (!mapped.succeeded()) {
        (void)mapped.silence();
        launch->emitOpError("thread loops could not be mapped to threads");
        return signalPassFailure();
      }
    }
  }
};

} // namespace
