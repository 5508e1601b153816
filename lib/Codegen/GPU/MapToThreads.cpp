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
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/SmallBitVector.h"

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

/// `op` as a linalg.contract when its body is a plain f32 multiply-add
/// (`out + in0 * in1`): the vectoriser turns named contractions into
/// vector.contract with the operands' own layouts (FMAs after
/// deltanet-gpu-lower-vectors), a generic into mulf + multi_reduction
/// whose broadcast operands no vector pattern folds back. Other bodies (e.g.
/// operands rounded to bf16 first) stay generic.
Operation *asNamedContraction(RewriterBase &rewriter, linalg::GenericOp op) {
  if (op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
      op.getNumReductionLoops() == 0)
    return op;
  Block &body = op.getRegion().front();
  if (!llvm::all_of(body.getArgumentTypes(),
                    [](Type t) { return t.isF32(); }) ||
      body.getOperations().size() != 3)
    return op;
  auto mul = dyn_cast<arith::MulFOp>(&body.front());
  auto add = dyn_cast<arith::AddFOp>(mul ? mul->getNextNode() : nullptr);
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  if (!mul || !add || yield.getOperand(0) != add.getResult() ||
      mul.getLhs() != body.getArgument(0) ||
      mul.getRhs() != body.getArgument(1) ||
      !((add.getLhs() == body.getArgument(2) && add.getRhs() == mul) ||
        (add.getRhs() == body.getArgument(2) && add.getLhs() == mul)))
    return op;
  rewriter.setInsertionPoint(op);
  auto contract = linalg::ContractOp::create(
      rewriter, op.getLoc(), TypeRange{}, op.getDpsInputs(), op.getDpsInits(),
      op.getIndexingMaps());
  rewriter.eraseOp(op);
  return contract;
}

/// A thread's tile of an op that reads or writes diagonal blocks through a
/// repeated loop dim (`(n, p, i, k) -> (n, p, i, p, k)`, the batched
/// tri_inv levels) is not vectorisable as it stands (the vectoriser wants
/// projected permutations), but its tile has one `p`: without its unit loop
/// dims (and the operand dims they index, through rank-reducing subviews)
/// the maps are projected permutations. Upstream's linalg::dropUnitDims
/// does this on tensors only (MLIR 22 leaves ops on buffers alone), hence
/// this buffer version. Returns the op to vectorise (`tile` if unchanged).
Operation *foldBlockDiagonalTile(RewriterBase &rewriter, Operation *tile) {
  auto generic = dyn_cast<linalg::GenericOp>(tile);
  if (!generic || !generic.hasPureBufferSemantics() ||
      llvm::all_of(generic.getIndexingMapsArray(),
                   [](AffineMap m) { return m.isProjectedPermutation(); }))
    return tile;
  SmallVector<int64_t> ranges = generic.getStaticLoopRanges();
  int64_t numLoops = static_cast<int64_t>(ranges.size());
  MLIRContext *ctx = generic.getContext();
  llvm::SmallBitVector unit(numLoops);
  for (int64_t d = 0; d < numLoops; ++d)
    unit[d] = ranges[d] == 1;
  if (unit.none())
    return tile;
  // Unit loop dims become 0, the others are renumbered.
  SmallVector<AffineExpr> replacement;
  SmallVector<utils::IteratorType> iterators;
  for (int64_t d = 0, kept = 0; d < numLoops; ++d) {
    if (unit[d]) {
      replacement.push_back(getAffineConstantExpr(0, ctx));
      continue;
    }
    replacement.push_back(getAffineDimExpr(kept++, ctx));
    iterators.push_back(generic.getIteratorTypesArray()[d]);
  }
  unsigned newLoops = iterators.size();
  SmallVector<AffineMap> maps;
  SmallVector<SmallVector<int64_t>> shapes;
  for (OpOperand &operand : generic->getOpOperands()) {
    AffineMap map = generic.getMatchingIndexingMap(&operand);
    auto type = cast<MemRefType>(operand.get().getType());
    SmallVector<AffineExpr> results;
    SmallVector<int64_t> shape;
    for (auto [q, expr] : llvm::enumerate(map.getResults())) {
      AffineExpr folded = expr.replaceDims(replacement);
      // An operand dim indexed by unit loop dims alone (at 0) is dropped.
      auto constant = dyn_cast<AffineConstantExpr>(folded);
      if (type.getDimSize(q) == 1 && constant && constant.getValue() == 0)
        continue;
      results.push_back(folded);
      shape.push_back(type.getDimSize(q));
    }
    AffineMap newMap = AffineMap::get(newLoops, 0, results, ctx);
    if (!newMap.isProjectedPermutation())
      return tile;
    maps.push_back(newMap);
    shapes.push_back(shape);
  }
  SmallVector<Value> operands;
  rewriter.setInsertionPoint(generic);
  for (auto [operand, shape] : llvm::zip(generic->getOpOperands(), shapes)) {
    auto type = cast<MemRefType>(operand.get().getType());
    int64_t rank = type.getRank();
    SmallVector<OpFoldResult> offsets(rank, rewriter.getIndexAttr(0));
    SmallVector<OpFoldResult> sizes, strides(rank, rewriter.getIndexAttr(1));
    for (int64_t size : type.getShape())
      sizes.push_back(rewriter.getIndexAttr(size));
    auto reducedType = memref::SubViewOp::inferRankReducedResultType(
        shape, type, offsets, sizes, strides);
    operands.push_back(memref::SubViewOp::create(
        rewriter, generic.getLoc(), cast<MemRefType>(reducedType),
        operand.get(), offsets, sizes, strides));
  }
  int64_t numInputs = generic.getNumDpsInputs();
  auto result = linalg::GenericOp::create(
      rewriter, generic.getLoc(), TypeRange{},
      ArrayRef<Value>(operands).take_front(numInputs),
      ArrayRef<Value>(operands).drop_front(numInputs), maps, iterators);
  rewriter.inlineRegionBefore(generic.getRegion(), result.getRegion(),
                              result.getRegion().begin());
  // linalg.index of a unit dim is 0; the others are renumbered.
  SmallVector<linalg::IndexOp> indices;
  result.getRegion().walk([&](linalg::IndexOp op) { indices.push_back(op); });
  for (linalg::IndexOp index : indices) {
    AffineExpr expr = replacement[index.getDim()];
    rewriter.setInsertionPoint(index);
    if (auto dim = dyn_cast<AffineDimExpr>(expr))
      rewriter.replaceOpWithNewOp<linalg::IndexOp>(index, dim.getPosition());
    else
      rewriter.replaceOpWithNewOp<arith::ConstantIndexOp>(index, 0);
  }
  rewriter.eraseOp(generic);
  return asNamedContraction(rewriter, result);
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
  tile = foldBlockDiagonalTile(rewriter, tile);
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

/// Iterations of one thread's tile of `op` when spread over `threads`.
int64_t threadTileIterations(linalg::LinalgOp op, int64_t threads) {
  int64_t iterations = 1;
  for (auto [range, count] : llvm::zip_equal(op.getStaticLoopRanges(),
                                             chooseThreadCounts(op, threads)))
    iterations *= count > 0 ? llvm::divideCeil(range, count) : range;
  return iterations;
}

/// Longest thread tile that a zero fill is fused into. Measured, not
/// derived: the decode kernel's two readouts (each thread reduces 128
/// products for 4 columns: 512 iterations) ran 3x slower on the H200 with
/// their fills fused (0.095 vs 0.032 ms, PTX otherwise equal up to the two
/// barriers saved; not profiled), while the tri_inv merges (tiles of 4-256
/// iterations) gain a phase each.
constexpr int64_t kMaxFusedFillTileIterations = 256;

/// The linalg op that `fill` initialises for: the next op with memory
/// effects in its block (views and allocations in between are skipped) when
/// its only output is `fill`'s buffer, read through a projected permutation
/// (each thread's tile of it covers its own output elements, and the tiles
/// cover the buffer). Null otherwise.
linalg::LinalgOp accumulatorConsumer(linalg::FillOp fill) {
  Value buffer = fill.getDpsInitOperand(0)->get();
  for (Operation *next = fill->getNextNode(); next;
       next = next->getNextNode()) {
    if (isa<ViewLikeOpInterface, memref::AllocOp, memref::ExpandShapeOp,
            memref::CollapseShapeOp>(next) ||
        isPure(next))
      continue;
    auto consumer = dyn_cast<linalg::LinalgOp>(next);
    if (!consumer || consumer.getNumDpsInits() != 1 ||
        consumer.getDpsInitOperand(0)->get() != buffer ||
        llvm::is_contained(consumer->getOperands().drop_back(), buffer) ||
        !consumer.getMatchingIndexingMap(consumer.getDpsInitOperand(0))
             .isProjectedPermutation())
      return nullptr;
    return consumer;
  }
  return nullptr;
}

/// The memref.alloc that `view` is a view of, or null.
Value rootAllocation(Value view) {
  while (Operation *def = view.getDefiningOp()) {
    if (isa<memref::AllocOp>(def))
      return view;
    auto viewLike = dyn_cast<ViewLikeOpInterface>(def);
    if (!viewLike)
      return nullptr;
    view = viewLike.getViewSource();
  }
  return nullptr;
}

/// Whether the buffers `a` and `b` provably share no element: two subviews
/// of one buffer with static offsets, sizes and unit strides whose boxes
/// are disjoint in some dimension, or views of two different allocations.
bool provablyDisjoint(Value a, Value b) {
  auto sa = a.getDefiningOp<memref::SubViewOp>();
  auto sb = b.getDefiningOp<memref::SubViewOp>();
  if (sa && sb && sa.getSource() == sb.getSource()) {
    auto isUnit = [](int64_t stride) { return stride == 1; };
    if (!llvm::all_of(sa.getStaticStrides(), isUnit) ||
        !llvm::all_of(sb.getStaticStrides(), isUnit))
      return false;
    for (auto [oa, na, ob, nb] :
         llvm::zip(sa.getStaticOffsets(), sa.getStaticSizes(),
                   sb.getStaticOffsets(), sb.getStaticSizes())) {
      if (ShapedType::isDynamic(oa) || ShapedType::isDynamic(na) ||
          ShapedType::isDynamic(ob) || ShapedType::isDynamic(nb))
        continue;
      if (oa + na <= ob || ob + nb <= oa)
        return true;
    }
    return false;
  }
  Value ra = rootAllocation(a), rb = rootAllocation(b);
  return ra && rb && ra != rb;
}

/// The elementwise linalg.generic that only reads `producer`'s result
/// buffer (a temporary: the batched tri_inv levels' U, copied over X21),
/// when each thread can do its tile of it right after its own tile of
/// `producer`: it is the next op with memory effects, its one input is
/// `producer`'s only output read through the identity, its loops are
/// `producer`'s parallel loops (same extents: the same thread tiles), and
/// it writes a buffer that `producer` provably does not touch (so no
/// thread can read what another already overwrote). Null otherwise.
linalg::GenericOp tileLocalConsumer(linalg::LinalgOp producer) {
  if (producer.getNumDpsInits() != 1)
    return nullptr;
  OpOperand *init = producer.getDpsInitOperand(0);
  AffineMap initMap = producer.getMatchingIndexingMap(init);
  SmallVector<int64_t> ranges = producer.getStaticLoopRanges();
  SmallVector<utils::IteratorType> iterators =
      producer.getIteratorTypesArray();
  SmallVector<int64_t> parallelRanges;
  for (auto [range, iterator] : llvm::zip(ranges, iterators))
    if (iterator == utils::IteratorType::parallel)
      parallelRanges.push_back(range);
  // The output indexed by the parallel loops in order.
  if (initMap.getNumResults() != static_cast<int64_t>(parallelRanges.size()))
    return nullptr;
  for (auto [k, expr] : llvm::enumerate(initMap.getResults())) {
    auto dim = dyn_cast<AffineDimExpr>(expr);
    if (!dim || iterators[dim.getPosition()] != utils::IteratorType::parallel ||
        (k > 0 && dim.getPosition() <=
                      cast<AffineDimExpr>(initMap.getResult(k - 1))
                          .getPosition()))
      return nullptr;
  }
  Operation *next = producer->getNextNode();
  while (next && (isa<ViewLikeOpInterface, memref::AllocOp>(next) ||
                  isPure(next)))
    next = next->getNextNode();
  auto consumer = dyn_cast_or_null<linalg::GenericOp>(next);
  if (!consumer || consumer.getNumDpsInputs() != 1 ||
      consumer.getNumDpsInits() != 1 ||
      consumer.getNumParallelLoops() != consumer.getNumLoops() ||
      consumer.getDpsInputOperand(0)->get() != init->get() ||
      !consumer.getMatchingIndexingMap(consumer.getDpsInputOperand(0))
           .isIdentity() ||
      consumer.getStaticLoopRanges() != parallelRanges)
    return nullptr;
  Value written = consumer.getDpsInitOperand(0)->get();
  for (OpOperand &operand : producer->getOpOperands())
    if (!provablyDisjoint(operand.get(), written))
      return nullptr;
  return consumer;
}

/// Tiles `op` into an scf.forall over at most `threads` linear thread ids;
/// with `fill` (its accumulator's zero fill, accumulatorConsumer), each
/// thread fills its own tile of the accumulator first: one barrier-separated
/// phase instead of two.
FailureOr<scf::ForallOp>
distributeOverThreads(RewriterBase &rewriter, linalg::LinalgOp op,
                      int64_t threads, int64_t reductionStep,
                      linalg::FillOp fill = nullptr) {
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
    if (fill)
      rewriter.moveOpBefore(fill, op);
    return forall;
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
  for (Operation *tile : tiled->tiledOps) {
    if (fill) {
      rewriter.setInsertionPoint(tile);
      auto tileFill = linalg::FillOp::create(
          rewriter, fill.getLoc(), fill.getDpsInputOperand(0)->get(),
          cast<linalg::LinalgOp>(tile).getDpsInitOperand(0)->get());
      vectorizeThreadTile(rewriter, tileFill, reductionStep);
    }
    vectorizeThreadTile(rewriter, tile, reductionStep);
  }
  if (fill)
    rewriter.eraseOp(fill);
  return cast<scf::ForallOp>(tiled->loops.front().getOperation());
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
      // The block's own count (deltanet.block_threads) or the option's.
      FailureOr<int64_t> blockThreads = getBlockThreads(block, threads);
      if (failed(blockThreads))
        return signalPassFailure();
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
      // Zero fills of an accumulator move into the thread tiles of the op
      // that accumulates into it.
      DenseMap<Operation *, linalg::FillOp> fillOf;
      DenseSet<Operation *> fusedFills;
      for (linalg::LinalgOp op : ops)
        if (auto generic = dyn_cast<linalg::GenericOp>(op.getOperation()))
          foldUnitDimsInIndexExprs(rewriter, generic);
      for (linalg::LinalgOp op : ops)
        if (auto fill = dyn_cast<linalg::FillOp>(op.getOperation()))
          if (linalg::LinalgOp consumer = accumulatorConsumer(fill);
              consumer && threadTileIterations(consumer, *blockThreads) <=
                              kMaxFusedFillTileIterations) {
            fillOf[consumer] = fill;
            fusedFills.insert(fill);
          }
      // An elementwise copy of an op's result (tileLocalConsumer) runs in
      // the same thread tiles, right after it.
      DenseMap<Operation *, Operation *> producerOf;
      for (linalg::LinalgOp op : ops)
        if (linalg::GenericOp consumer = tileLocalConsumer(op))
          producerOf[consumer] = op;
      DenseMap<Operation *, scf::ForallOp> threadLoopOf;
      for (linalg::LinalgOp op : ops) {
        if (fusedFills.contains(op))
          continue;
        Operation *producer = producerOf.lookup(op);
        FailureOr<scf::ForallOp> loop = distributeOverThreads(
            rewriter, op, *blockThreads, reductionStep, fillOf.lookup(op));
        if (failed(loop))
          return signalPassFailure();
        threadLoopOf[op] = *loop;
        scf::ForallOp target = producer ? threadLoopOf.lookup(producer)
                                        : scf::ForallOp();
        if (target && target.getMixedUpperBound() == loop->getMixedUpperBound() &&
            target.getMapping() == loop->getMapping())
          threadLoopOf[op] =
              mlir::fuseIndependentSiblingForallLoops(target, *loop, rewriter);
      }
      FailureOr<gpu::LaunchOp> launch =
          createLaunch(rewriter, block, *blockThreads);
      if (failed(launch))
        return signalPassFailure();
      // Unit thread ids (y, z) are replaced by constants created at the
      // insertion point: the start of the launch body.
      rewriter.setInsertionPointToStart(&launch->getBody().front());
      DiagnosedSilenceableFailure mapped =
          transform::gpu::mapNestedForallToThreadsImpl(
              rewriter, std::nullopt, *launch, {*blockThreads, 1, 1},
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
