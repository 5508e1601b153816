//===- DistributeToBlocks.cpp - One GPU thread block per matrix -----------===//
//
// Wraps batched deltanet ops in scf.forall loops mapped to GPU blocks.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Codegen/GPU/Passes.h"

#include "deltanet/Dialect/DeltaNet/IR/DeltaNetDialect.h"
#include "deltanet/Dialect/DeltaNet/IR/DeltaNetOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/WalkPatternRewriteDriver.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"

namespace mlir {
namespace deltanet {
#define GEN_PASS_DEF_DELTANETGPUDISTRIBUTETOBLOCKS
#include "deltanet/Codegen/GPU/Passes.h.inc"
} // namespace deltanet
} // namespace mlir

using namespace mlir;
using namespace mlir::deltanet;

bool mlir::deltanet::isBlockMapped(scf::ForallOp forall) {
  std::optional<ArrayAttr> mapping = forall.getMapping();
  return mapping && !mapping->empty() &&
         llvm::all_of(*mapping, llvm::IsaPred<gpu::GPUBlockMappingAttr>);
}

bool mlir::deltanet::isInsideBlockLoop(Operation *op) {
  for (auto forall = op->getParentOfType<scf::ForallOp>(); forall;
       forall = forall->getParentOfType<scf::ForallOp>())
    if (isBlockMapped(forall))
      return true;
  return false;
}

FailureOr<int64_t> mlir::deltanet::getBlockThreads(scf::ForallOp forall,
                                                   int64_t defaultThreads) {
  Attribute attr = forall->getAttr(kBlockThreadsAttrName);
  if (!attr)
    return defaultThreads;
  auto count = dyn_cast<IntegerAttr>(attr);
  if (!count || count.getInt() <= 0 || count.getInt() % 32 != 0 ||
      count.getInt() > 1024)
    return forall.emitOpError()
           << "'" << kBlockThreadsAttrName
           << "' must be an integer multiple of 32 in [32, 1024], got " << attr;
  return count.getInt();
}

LogicalResult mlir::deltanet::verifyBlockThreads(Operation *root) {
  bool ok = true;
  root->walk([&](scf::ForallOp forall) {
    if (isBlockMapped(forall))
      ok &= succeeded(getBlockThreads(forall, /*defaultThreads=*/32));
  });
  return success(ok);
}

namespace {

/// The results of `op` that have uses or a dynamic shape (all of them if
/// none has: the op is kept for its own sake).
SmallVector<unsigned> usedResults(Operation *op) {
  SmallVector<unsigned> used;
  for (OpResult result : op->getResults())
    if (!result.use_empty() ||
        !cast<RankedTensorType>(result.getType()).hasStaticShape())
      used.push_back(result.getResultNumber());
  if (used.empty())
    for (unsigned i = 0, e = op->getNumResults(); i < e; ++i)
      used.push_back(i);
  return used;
}

/// Offsets, sizes and strides of one batch element of a value of `type`
/// inside the block loop `forall` over its first `batchRank` dims.
void sliceBatchElement(RewriterBase &rewriter, scf::ForallOp forall,
                       int64_t batchRank, RankedTensorType type,
                       SmallVector<OpFoldResult> &offsets,
                       SmallVector<OpFoldResult> &sizes,
                       SmallVector<OpFoldResult> &strides) {
  for (int64_t d = 0; d < type.getRank(); ++d) {
    bool batch = d < batchRank;
    offsets.push_back(batch ? OpFoldResult(forall.getInductionVar(d))
                            : rewriter.getIndexAttr(0));
    sizes.push_back(rewriter.getIndexAttr(batch ? 1 : type.getDimSize(d)));
    strides.push_back(rewriter.getIndexAttr(1));
  }
}

/// `type` with its first `batchRank` dims set to 1: one batch element.
RankedTensorType batchElementType(RankedTensorType type, int64_t batchRank) {
  SmallVector<int64_t> shape(batchRank, 1);
  llvm::append_range(shape, type.getShape().drop_front(batchRank));
  return RankedTensorType::get(shape, type.getElementType());
}

/// The body of the block loop `forall` over the first `batchRank` dims:
/// each value of `sliced` cut to one batch element, the ops of `ops` (in
/// program order) cloned on those slices with their results retyped to one
/// element, and the `used` results of the last clone inserted into the
/// loop's outputs.
void buildBatchElementBody(RewriterBase &rewriter, Location loc,
                           scf::ForallOp forall, int64_t batchRank,
                           ValueRange sliced, ArrayRef<Operation *> ops,
                           ArrayRef<unsigned> used) {
  rewriter.setInsertionPointToStart(forall.getBody());
  IRMapping map;
  for (Value operand : sliced) {
    auto type = cast<RankedTensorType>(operand.getType());
    SmallVector<OpFoldResult> offsets, sizes, strides;
    sliceBatchElement(rewriter, forall, batchRank, type, offsets, sizes,
                      strides);
    map.map(operand, tensor::ExtractSliceOp::create(
                         rewriter, loc, batchElementType(type, batchRank),
                         operand, offsets, sizes, strides));
  }
  Operation *element = nullptr;
  for (Operation *op : ops) {
    element = rewriter.clone(*op, map);
    for (OpResult result : element->getResults())
      result.setType(batchElementType(
          cast<RankedTensorType>(result.getType()), batchRank));
  }
  rewriter.setInsertionPointToStart(forall.getTerminator().getBody());
  for (auto [i, out] : llvm::zip(used, forall.getRegionIterArgs())) {
    SmallVector<OpFoldResult> offsets, sizes, strides;
    sliceBatchElement(rewriter, forall, batchRank,
                      cast<RankedTensorType>(out.getType()), offsets, sizes,
                      strides);
    tensor::ParallelInsertSliceOp::create(rewriter, loc, element->getResult(i),
                                          out, offsets, sizes, strides);
  }
}

/// True if `type` is a tensor of rank above `batchRank` whose first
/// `batchRank` dims are `first`'s.
bool sharesBatchDims(Type type, RankedTensorType first, int64_t batchRank) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  return tensor && tensor.getRank() > batchRank &&
         tensor.getShape().take_front(batchRank) ==
             first.getShape().take_front(batchRank);
}

/// The block mapping of a forall over `batchRank` (<= 3) batch dims, the
/// innermost on x.
ArrayAttr blockMapping(MLIRContext *context, int64_t batchRank) {
  static constexpr gpu::MappingId ids[] = {
      gpu::MappingId::DimX, gpu::MappingId::DimY, gpu::MappingId::DimZ};
  SmallVector<Attribute> mapping;
  for (int64_t d = 0; d < batchRank; ++d)
    mapping.push_back(
        gpu::GPUBlockMappingAttr::get(context, ids[batchRank - 1 - d]));
  return ArrayAttr::get(context, mapping);
}

/// True if the `used` results of `op` are static past their first
/// `batchRank` dims (what a block computes of them has a static shape).
bool hasStaticBlockResults(Operation *op, ArrayRef<unsigned> used,
                           int64_t batchRank) {
  return llvm::all_of(used, [&](unsigned i) {
    auto type = cast<RankedTensorType>(op->getResult(i).getType());
    return llvm::none_of(type.getShape().drop_front(batchRank),
                         ShapedType::isDynamic);
  });
}

/// The shared outputs of a block forall over `bounds` computing `op`'s
/// `used` results (hasStaticBlockResults): empty tensors of their types
/// with the batch dims of `bounds`.
SmallVector<Value> blockInits(RewriterBase &rewriter, Location loc,
                              Operation *op, ArrayRef<unsigned> used,
                              ArrayRef<OpFoldResult> bounds) {
  int64_t batchRank = bounds.size();
  SmallVector<Value> inits;
  for (unsigned i : used) {
    auto type = cast<RankedTensorType>(op->getResult(i).getType());
    SmallVector<OpFoldResult> sizes(bounds);
    for (int64_t d = batchRank; d < type.getRank(); ++d)
      sizes.push_back(rewriter.getIndexAttr(type.getDimSize(d)));
    inits.push_back(
        tensor::EmptyOp::create(rewriter, loc, sizes, type.getElementType()));
  }
  return inits;
}

/// Replacements of `op`'s results: the block loop's results for the `used`
/// ones, an (unread) tensor.empty for the others.
SmallVector<Value> blockResults(RewriterBase &rewriter, Operation *op,
                                ArrayRef<unsigned> used, scf::ForallOp forall) {
  SmallVector<Value> values;
  for (OpResult result : op->getResults()) {
    const unsigned *it = llvm::find(used, result.getResultNumber());
    if (it != used.end()) {
      values.push_back(forall.getResult(it - used.begin()));
      continue;
    }
    auto type = cast<RankedTensorType>(result.getType()); // static
    values.push_back(tensor::EmptyOp::create(
        rewriter, op->getLoc(), type.getShape(), type.getElementType()));
  }
  return values;
}

/// Wraps `op`, whose operands and results all start with the same
/// `batchRank` (<= 3) batch dims, in an scf.forall over those dims mapped to
/// GPU blocks; the body computes one batch element (unit batch dims kept, so
/// that each result is exactly its destination slice's type).
///
///   %x = deltanet.tri_inv %a : tensor<BxCxCxT> ->
///   scf.forall (%i) in (B) shared_outs(%o = empty) {
///     %m = extract_slice %a[%i, 0, 0] [1, C, C] : tensor<1xCxCxT>
///     %y = deltanet.tri_inv %m : tensor<1xCxCxT>
///     parallel_insert_slice %y into %o[%i, 0, 0] [1, C, C]
///   } {mapping = [#gpu.block<x>]}
LogicalResult distributeBatch(PatternRewriter &rewriter, Operation *op,
                              int64_t batchRank) {
  if (isInsideBlockLoop(op))
    return rewriter.notifyMatchFailure(op, "already inside a block loop");
  if (batchRank == 0)
    return rewriter.notifyMatchFailure(op, "no batch dims");
  Location loc = op->getLoc();
  auto first = cast<RankedTensorType>(op->getOperand(0).getType());
  auto sameBatch = [&](Type type) {
    return sharesBatchDims(type, first, batchRank);
  };
  if (!llvm::all_of(op->getOperandTypes(), sameBatch) ||
      !llvm::all_of(op->getResultTypes(), sameBatch))
    return rewriter.notifyMatchFailure(op, "operands differ in batch dims");
  SmallVector<unsigned> used = usedResults(op);
  if (!hasStaticBlockResults(op, used, batchRank))
    return rewriter.notifyMatchFailure(op, "dynamic non-batch dims");
  SmallVector<OpFoldResult> bounds =
      tensor::getMixedSizes(rewriter, loc, op->getOperand(0));
  bounds.resize(batchRank);
  auto forall = scf::ForallOp::create(
      rewriter, loc, bounds, blockInits(rewriter, loc, op, used, bounds),
      blockMapping(rewriter.getContext(), batchRank));

  OpBuilder::InsertionGuard guard(rewriter);
  buildBatchElementBody(rewriter, loc, forall, batchRank, op->getOperands(), op,
                        used);
  rewriter.setInsertionPoint(forall);
  rewriter.replaceOp(op, blockResults(rewriter, op, used, forall));
  return success();
}

/// Like distributeBatch, for a chain of ops `chain` (in program order) whose
/// intermediate results are read only by later ops of the chain: one
/// scf.forall whose body computes one batch element of the whole chain, so
/// that the intermediates never leave the block (the later lowering keeps
/// them in shared memory). Operands from outside the chain are sliced once
/// each; the block's results are the last op's used results.
LogicalResult distributeChainBatch(RewriterBase &rewriter,
                                   ArrayRef<Operation *> chain,
                                   int64_t batchRank) {
  Operation *last = chain.back();
  Location loc = last->getLoc();
  Value first = chain.front()->getOperand(0);
  auto firstType = cast<RankedTensorType>(first.getType());
  auto sameBatch = [&](Type type) {
    return sharesBatchDims(type, firstType, batchRank);
  };
  llvm::SmallPtrSet<Operation *, 4> inChain(chain.begin(), chain.end());
  SmallVector<Value> external;
  for (Operation *op : chain) {
    if (!llvm::all_of(op->getResultTypes(), sameBatch))
      return failure();
    for (Value operand : op->getOperands()) {
      if (inChain.contains(operand.getDefiningOp()))
        continue;
      if (!sameBatch(operand.getType()))
        return failure();
      if (!llvm::is_contained(external, operand))
        external.push_back(operand);
    }
    if (op == last)
      continue;
    for (Operation *user : op->getUsers())
      if (!inChain.contains(user))
        return failure();
  }
  SmallVector<unsigned> used = usedResults(last);
  if (llvm::any_of(firstType.getShape().take_front(batchRank),
                   ShapedType::isDynamic) ||
      !hasStaticBlockResults(last, used, batchRank))
    return failure();

  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(last);
  SmallVector<OpFoldResult> bounds =
      tensor::getMixedSizes(rewriter, loc, first);
  bounds.resize(batchRank);
  auto forall = scf::ForallOp::create(
      rewriter, loc, bounds, blockInits(rewriter, loc, last, used, bounds),
      blockMapping(rewriter.getContext(), batchRank));
  buildBatchElementBody(rewriter, loc, forall, batchRank, external, chain, used);
  rewriter.setInsertionPoint(forall);
  rewriter.replaceOp(last, blockResults(rewriter, last, used, forall));
  for (Operation *op : llvm::reverse(chain.drop_back()))
    rewriter.eraseOp(op);
  return success();
}

/// The per-chunk prologue of the chunk op, gated_kkt -> tri_inv -> wy_repr,
/// as one block per chunk (`fuse-chunk-prologue`). Ours, not an upstream
/// fusion: the choice of what to fuse is the point. A (the gated Gram
/// matrix) and T = (I + A)^-1 are C x C per chunk and read only by the next
/// stage, so inside one block they stay in shared memory (2 x 16 KB at
/// C = 64) instead of two 67 MB round trips through device memory at the
/// large shape, and two launches go. w and u still leave (the scan reads
/// them per chunk of a whole sequence). Upstream tile-and-fuse cannot do it
/// at this level (the ops are deltanet ops, not yet linalg) and after the
/// lowering the tri_inv's level loops are not a tileable producer chain.
/// Returns the chains to fuse: gated_kkt whose only user is a tri_inv whose
/// only user is a wy_repr reading it as T, with one batch dim each.
SmallVector<SmallVector<Operation *, 3>> findChunkPrologues(Operation *root) {
  SmallVector<SmallVector<Operation *, 3>> chains;
  root->walk([&](GatedKKTOp kkt) {
    if (isInsideBlockLoop(kkt) || !kkt->hasOneUse())
      return;
    auto inv = dyn_cast<TriInvOp>(*kkt->getUsers().begin());
    if (!inv || inv->getBlock() != kkt->getBlock() || !inv->hasOneUse())
      return;
    auto wy = dyn_cast<WYReprOp>(*inv->getUsers().begin());
    if (!wy || wy->getBlock() != kkt->getBlock() ||
        wy.getT() != inv.getResult())
      return;
    chains.push_back({kkt, inv, wy});
  });
  return chains;
}

/// The kinds that `kernel-threads` keys block loops by.
constexpr StringLiteral kKernelKinds[] = {
    "tri_inv",          "gated_kkt",    "wy_repr",
    "chunk_state_scan", "chunk_output", "recurrent_gated_delta_rule",
    "chunk_prologue"};

/// The kind of kernel that the block loop `forall` (right after the
/// distribution, its body still deltanet ops) computes: `chunk_prologue`
/// for the fused gated_kkt -> tri_inv -> wy_repr, else its deltanet op's
/// name without the dialect prefix; nullopt without a deltanet op.
std::optional<StringRef> blockKernelKind(scf::ForallOp forall) {
  bool kkt = false, wy = false;
  std::optional<StringRef> first;
  forall.getBody()->walk([&](Operation *op) {
    if (!isa_and_present<DeltaNetDialect>(op->getDialect()))
      return;
    kkt |= isa<GatedKKTOp>(op);
    wy |= isa<WYReprOp>(op);
    if (!first)
      first = op->getName().stripDialect();
  });
  if (kkt && wy)
    return StringRef("chunk_prologue");
  return first;
}

/// tri_inv: every leading dim (up to 3) is a batch dim.
struct TriInvPerMatrixBlock : public OpRewritePattern<TriInvOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(TriInvOp op,
                                PatternRewriter &rewriter) const override {
    int64_t batchRank = cast<RankedTensorType>(op.getType()).getRank() - 2;
    if (batchRank > 3)
      return rewriter.notifyMatchFailure(op, "more than 3 batch dims");
    return distributeBatch(rewriter, op, batchRank);
  }
};

/// Chunk stage ops: the leading dim (chunks x heads, or heads for the scan)
/// is the batch: one block per chunk (per head for the scan).
template <typename StageOp>
struct StagePerBlock : public OpRewritePattern<StageOp> {
  using OpRewritePattern<StageOp>::OpRewritePattern;
  LogicalResult matchAndRewrite(StageOp op,
                                PatternRewriter &rewriter) const override {
    return distributeBatch(rewriter, op, /*batchRank=*/1);
  }
};

/// The state scan: one block per (sequence, tile of `valueTile` state
/// columns). Columns of the state are independent in the recurrence
/// (`v_new[:, j] = u[:, j] - w S[:, j]`, `S[:, j] <- decay S[:, j] +
/// kdecay^T v_new[:, j]`), so u, the initial state and the results are
/// sliced along V while k, w and g are read whole by every tile: V /
/// valueTile times more blocks, each with a smaller sequential chain.
///
/// A negative `valueTile` chooses it from the shape (chooseValueTile).
struct StateScanPerValueTileBlock : public OpRewritePattern<ChunkStateScanOp> {
  StateScanPerValueTileBlock(MLIRContext *ctx, int64_t valueTile,
                             int64_t minBlocks)
      : OpRewritePattern(ctx, /*benefit=*/2), valueTile(valueTile),
        minBlocks(minBlocks) {}

  /// The largest of 32, 16, 8 state columns dividing V that still gives
  /// `minBlocks` blocks (sequences x V / tile), else the smallest of them
  /// that divides V. Larger tiles read k, w and g fewer times in all (every
  /// tile reads them whole) but leave SMs idle when the sequences are few:
  /// on an H200 (132 SMs, 2 scan blocks per SM by shared memory since
  /// session 8's folded decays) 16 is the best at 32 sequences (256
  /// blocks; 32 was with session 7's 147 KB per block, 1 per SM) and 8 at
  /// 4 sequences (64 blocks), docs/GPU.md. 8 is the mma.sync tile's N.
  int64_t chooseValueTile(int64_t sequences, int64_t values) const {
    int64_t chosen = 0;
    for (int64_t tile : {32, 16, 8}) {
      if (tile >= values || values % tile != 0)
        continue;
      chosen = tile;
      if (sequences * (values / tile) >= minBlocks)
        return tile;
    }
    return chosen;
  }

  LogicalResult matchAndRewrite(ChunkStateScanOp op,
                                PatternRewriter &rewriter) const override {
    if (isInsideBlockLoop(op))
      return rewriter.notifyMatchFailure(op, "already inside a block loop");
    auto uType = cast<RankedTensorType>(op.getU().getType());
    auto kType = cast<RankedTensorType>(op.getK().getType());
    if (uType.getRank() != 4 || kType.getRank() != 4 ||
        !uType.hasStaticShape() || !kType.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "needs static [M, NC, C, V] u");
    int64_t values = uType.getDimSize(3);
    int64_t valueTile = this->valueTile < 0
                            ? chooseValueTile(uType.getDimSize(0), values)
                            : this->valueTile;
    if (valueTile <= 0 || valueTile >= values || values % valueTile != 0)
      return rewriter.notifyMatchFailure(
          op, "value tile does not split V evenly (one block per sequence)");
    Location loc = op.getLoc();
    int64_t sequences = uType.getDimSize(0);
    int64_t keys = kType.getDimSize(3);
    int64_t chunks = uType.getDimSize(1), chunk = uType.getDimSize(2);
    MLIRContext *ctx = rewriter.getContext();
    // Only the results that are used leave the block: an unused one (the
    // per-chunk states and v_new of a summary's scan) would otherwise be a
    // whole-sequence tile in shared memory (50 MB at T = 256k), and inside
    // the block its lowering does not build it.
    SmallVector<Value> inits;
    SmallVector<unsigned> used = usedResults(op);
    for (unsigned i : used) {
      auto type = cast<RankedTensorType>(op->getResult(i).getType());
      inits.push_back(tensor::EmptyOp::create(rewriter, loc, type.getShape(),
                                              type.getElementType()));
    }
    auto forall = scf::ForallOp::create(
        rewriter, loc,
        ArrayRef<OpFoldResult>{rewriter.getIndexAttr(sequences),
                               rewriter.getIndexAttr(values / valueTile)},
        inits,
        rewriter.getArrayAttr(
            {gpu::GPUBlockMappingAttr::get(ctx, gpu::MappingId::DimY),
             gpu::GPUBlockMappingAttr::get(ctx, gpu::MappingId::DimX)}));
    OpBuilder::InsertionGuard guard(rewriter);
    rewriter.setInsertionPointToStart(forall.getBody());
    Value m = forall.getInductionVar(0);
    AffineExpr d0 = getAffineDimExpr(0, ctx);
    OpFoldResult column = affine::makeComposedFoldedAffineApply(
        rewriter, loc, d0 * valueTile, {OpFoldResult(forall.getInductionVar(1))});
    auto idx = [&](int64_t v) -> OpFoldResult {
      return rewriter.getIndexAttr(v);
    };
    // Slices: [m, ...whole..., column tile (if sliced)].
    auto slice = [&](Value source, bool byColumn) {
      auto type = cast<RankedTensorType>(source.getType());
      int64_t rank = type.getRank();
      SmallVector<OpFoldResult> offsets(rank, idx(0)), sizes, strides(rank, idx(1));
      SmallVector<int64_t> shape;
      for (int64_t d = 0; d < rank; ++d) {
        int64_t size = d == 0 ? 1 : type.getDimSize(d);
        if (byColumn && d == rank - 1)
          size = valueTile;
        sizes.push_back(idx(size));
        shape.push_back(size);
      }
      offsets[0] = m;
      if (byColumn)
        offsets[rank - 1] = column;
      return std::make_tuple(offsets, sizes, strides,
                             RankedTensorType::get(shape, type.getElementType()));
    };
    // k, w, u, g, initial_state: u and the initial state by columns.
    static constexpr bool operandByColumn[] = {false, false, true, false,
                                               true};
    SmallVector<Value> operands;
    for (auto [operand, byColumn] :
         llvm::zip_equal(op->getOperands(), operandByColumn)) {
      auto [offsets, sizes, strides, type] = slice(operand, byColumn);
      operands.push_back(tensor::ExtractSliceOp::create(
          rewriter, loc, type, operand, offsets, sizes, strides));
    }
    // The results' element types as the op's (states / v_new may be 16-bit:
    // deltanet-narrow-stage-intermediates).
    auto tileType = [&](ArrayRef<int64_t> shape, Value like) {
      return RankedTensorType::get(
          shape, cast<ShapedType>(like.getType()).getElementType());
    };
    auto tiled = ChunkStateScanOp::create(
        rewriter, loc,
        TypeRange{tileType({1, chunks, keys, valueTile}, op.getStates()),
                  tileType({1, chunks, chunk, valueTile}, op.getVNew()),
                  tileType({1, keys, valueTile}, op.getFinalState())},
        operands, op->getAttrs());
    rewriter.setInsertionPointToStart(forall.getTerminator().getBody());
    for (auto [i, out] : llvm::zip(used, forall.getRegionIterArgs())) {
      auto [offsets, sizes, strides, type] = slice(out, /*byColumn=*/true);
      tensor::ParallelInsertSliceOp::create(rewriter, loc, tiled->getResult(i),
                                            out, offsets, sizes, strides);
    }
    rewriter.setInsertionPoint(forall);
    rewriter.replaceOp(op, blockResults(rewriter, op, used, forall));
    return success();
  }

  int64_t valueTile;
  int64_t minBlocks;
};

/// The token-by-token recurrence (decode): one block per (batch, value
/// head, tile of `valueTile` state columns), the whole token loop inside it.
/// Heads and state columns are independent in the recurrence (column `j`
/// of `S` only ever reads column `j` of `S` and of `v`), so a block reads
/// its head's q and k whole (the q/k head of value head `h` is `h / (HV /
/// H)`) and `v`, the initial state and the results by columns; everything
/// the lowering builds per token then stays in the block (one launch for
/// the op instead of one per linalg op of each token).
struct RecurrentPerHeadValueTileBlock
    : public OpRewritePattern<RecurrentGatedDeltaRuleOp> {
  RecurrentPerHeadValueTileBlock(MLIRContext *ctx, int64_t valueTile)
      : OpRewritePattern(ctx), valueTile(valueTile) {}

  LogicalResult matchAndRewrite(RecurrentGatedDeltaRuleOp op,
                                PatternRewriter &rewriter) const override {
    if (isInsideBlockLoop(op))
      return rewriter.notifyMatchFailure(op, "already inside a block loop");
    if (op.getCuSeqlens())
      return rewriter.notifyMatchFailure(
          op, "variable-length batches (cu_seqlens) are not distributed");
    auto qType = cast<RankedTensorType>(op.getQ().getType());
    auto vType = cast<RankedTensorType>(op.getV().getType());
    int64_t heads = qType.getDimSize(2), valueHeads = vType.getDimSize(2);
    int64_t keys = qType.getDimSize(3), values = vType.getDimSize(3);
    if (ShapedType::isDynamic(heads) || ShapedType::isDynamic(valueHeads) ||
        ShapedType::isDynamic(keys) || ShapedType::isDynamic(values) ||
        heads == 0 || valueHeads % heads != 0)
      return rewriter.notifyMatchFailure(
          op, "needs static heads (HV a multiple of H) and head dims");
    // A tile that does not split V evenly: whole heads.
    int64_t tile = valueTile > 0 && valueTile < values && values % valueTile == 0
                       ? valueTile
                       : values;
    int64_t group = valueHeads / heads;
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    // o has v's shape, the final state the initial state's.
    SmallVector<OpFoldResult> vSizes =
        tensor::getMixedSizes(rewriter, loc, op.getV());
    OpFoldResult batch = vSizes[0], tokens = vSizes[1];
    auto elementOf = [](Value x) {
      return cast<RankedTensorType>(x.getType()).getElementType();
    };
    SmallVector<Value> inits = {
        tensor::EmptyOp::create(rewriter, loc, vSizes, elementOf(op.getO())),
        tensor::EmptyOp::create(
            rewriter, loc,
            tensor::getMixedSizes(rewriter, loc, op.getInitialState()),
            elementOf(op.getFinalState()))};
    auto forall = scf::ForallOp::create(
        rewriter, loc,
        ArrayRef<OpFoldResult>{batch, rewriter.getIndexAttr(valueHeads),
                               rewriter.getIndexAttr(values / tile)},
        inits,
        rewriter.getArrayAttr(
            {gpu::GPUBlockMappingAttr::get(ctx, gpu::MappingId::DimZ),
             gpu::GPUBlockMappingAttr::get(ctx, gpu::MappingId::DimY),
             gpu::GPUBlockMappingAttr::get(ctx, gpu::MappingId::DimX)}));
    OpBuilder::InsertionGuard guard(rewriter);
    rewriter.setInsertionPointToStart(forall.getBody());
    Value b = forall.getInductionVar(0), h = forall.getInductionVar(1);
    AffineExpr d0 = getAffineDimExpr(0, ctx);
    OpFoldResult column = affine::makeComposedFoldedAffineApply(
        rewriter, loc, d0 * tile, {OpFoldResult(forall.getInductionVar(2))});
    OpFoldResult keyHead = affine::makeComposedFoldedAffineApply(
        rewriter, loc, d0.floorDiv(group), {OpFoldResult(h)});
    auto idx = [&](int64_t v) -> OpFoldResult {
      return rewriter.getIndexAttr(v);
    };
    // One block's window of a value: `offsets` / `sizes` per dim (a unit
    // size keeps the dim, so the op inside sees B = H = HV = 1).
    struct Window {
      SmallVector<OpFoldResult> offsets, sizes;
    };
    auto perToken = [&](OpFoldResult head) {
      return Window{{b, idx(0), head}, {idx(1), tokens, idx(1)}};
    };
    auto byColumns = [&](Window w, OpFoldResult first, int64_t width) {
      w.offsets.push_back(first);
      w.sizes.push_back(idx(width));
      return w;
    };
    Window stateWindow{{b, h, idx(0), column}, {idx(1), idx(1), idx(keys), idx(tile)}};
    auto extract = [&](Value source, const Window &w) -> Value {
      SmallVector<OpFoldResult> strides(w.offsets.size(), idx(1));
      return tensor::ExtractSliceOp::create(rewriter, loc, source, w.offsets,
                                            w.sizes, strides);
    };
    Window qk = byColumns(perToken(keyHead), idx(0), keys);
    Window vo = byColumns(perToken(h), column, tile);
    Window gb = perToken(h);
    Value q = extract(op.getQ(), qk), k = extract(op.getK(), qk);
    Value v = extract(op.getV(), vo), g = extract(op.getG(), gb);
    Value beta = extract(op.getBeta(), gb);
    Value h0 = extract(op.getInitialState(), stateWindow);
    auto vSlice = cast<RankedTensorType>(v.getType());
    auto tiled = RecurrentGatedDeltaRuleOp::create(
        rewriter, loc,
        TypeRange{RankedTensorType::get(vSlice.getShape(),
                                        elementOf(op.getO())),
                  RankedTensorType::get({1, 1, keys, tile},
                                        elementOf(op.getFinalState()))},
        ValueRange{q, k, v, g, beta, h0}, op->getAttrs());
    rewriter.setInsertionPointToStart(forall.getTerminator().getBody());
    Window resultWindows[] = {vo, stateWindow};
    for (auto [result, out, w] : llvm::zip_equal(
             tiled->getResults(), forall.getRegionIterArgs(), resultWindows)) {
      SmallVector<OpFoldResult> strides(w.offsets.size(), idx(1));
      tensor::ParallelInsertSliceOp::create(rewriter, loc, result, out,
                                            w.offsets, w.sizes, strides);
    }
    rewriter.replaceOp(op, forall.getResults());
    return success();
  }

  int64_t valueTile;
};

struct DeltaNetGpuDistributeToBlocksPass
    : public deltanet::impl::DeltaNetGpuDistributeToBlocksBase<
          DeltaNetGpuDistributeToBlocksPass> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<StateScanPerValueTileBlock>(&getContext(), scanValueTile,
                                             scanMinBlocks);
    patterns.add<RecurrentPerHeadValueTileBlock>(&getContext(),
                                                 recurrentValueTile);
    patterns.add<TriInvPerMatrixBlock, StagePerBlock<GatedKKTOp>,
                 StagePerBlock<WYReprOp>, StagePerBlock<ChunkStateScanOp>,
                 StagePerBlock<ChunkOutputOp>>(&getContext());
    bool failed = false;
    // Precondition of the GPU pipeline: results leave through memref
    // arguments. A returned tensor would become a host allocation that the
    // kernels cannot write.
    getOperation()->walk([&](func::FuncOp func) {
      if (destinationPassingOnly &&
          llvm::any_of(func.getResultTypes(), llvm::IsaPred<TensorType>)) {
        func.emitError("the GPU pipeline needs destination-passing functions: "
                       "write results into memref arguments "
                       "(bufferization.materialize_in_destination) instead "
                       "of returning tensors");
        failed = true;
      }
    });
    // An op the pattern cannot map is reported by the pattern (emitOpError).
    getOperation()->walk([&](TriInvOp op) {
      auto type = cast<RankedTensorType>(op.getA().getType());
      if (type.getRank() > 5) {
        op.emitOpError("the GPU pipeline maps at most 3 batch dimensions of "
                       "tri_inv to the grid; got ")
            << type.getRank() - 2;
        failed = true;
      }
    });
    llvm::StringMap<int64_t> threadsOfKind;
    for (StringRef entry : kernelThreads) {
      auto [kind, count] = entry.split('=');
      int64_t threads = 0;
      if (!llvm::is_contained(kKernelKinds, kind) ||
          count.getAsInteger(10, threads) || threads <= 0 ||
          threads % 32 != 0 || threads > 1024) {
        emitError(getOperation()->getLoc())
            << "deltanet-gpu-distribute-to-blocks: kernel-threads entries "
               "are KIND=N (KIND: "
            << llvm::join(ArrayRef<StringLiteral>(kKernelKinds), ", ")
            << "; N a multiple of 32 in [32, 1024]), got '" << entry << "'";
        failed = true;
        continue;
      }
      threadsOfKind[kind] = threads;
    }
    if (failed)
      return signalPassFailure();
    if (fuseChunkPrologue) {
      IRRewriter rewriter(&getContext());
      for (ArrayRef<Operation *> chain : findChunkPrologues(getOperation()))
        (void)distributeChainBatch(rewriter, chain, /*batchRank=*/1);
    }
    walkAndApplyPatterns(getOperation(), std::move(patterns));
    if (!threadsOfKind.empty())
      recordKernelThreads(threadsOfKind);
  }

  /// Sets deltanet.block_threads on the outermost block loops whose kind
  /// has a count.
  void recordKernelThreads(const llvm::StringMap<int64_t> &threadsOfKind) {
    getOperation()->walk([&](scf::ForallOp forall) {
      if (!isBlockMapped(forall) || isInsideBlockLoop(forall))
        return;
      std::optional<StringRef> kind = blockKernelKind(forall);
      if (!kind)
        return;
      auto it = threadsOfKind.find(*kind);
      if (it == threadsOfKind.end())
        return;
      forall->setAttr(
          kBlockThreadsAttrName,
          IntegerAttr::get(IntegerType::get(&getContext(), 64), it->second));
    });
  }
};

} // namespace
