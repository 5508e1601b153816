//===- DecomposeChunkGatedDeltaRule.cpp - Chunk op into its stages --------===//
//
// Rewrites deltanet.chunk_gated_delta_rule into padding and chunked layouts,
// gated_kkt, tri_inv, wy_repr, chunk_state_scan and chunk_output: over the
// whole sequence at once, or (chunk-loop) per chunk in one scf.for.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Dialect/DeltaNet/IR/DeltaNetOps.h"
#include "deltanet/Dialect/DeltaNet/Transforms/Passes.h"
#include "deltanet/Dialect/DeltaNet/Utils/GatedDeltaRuleUtils.h"
#include "deltanet/Dialect/DeltaNet/Utils/StructuredBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/WalkPatternRewriteDriver.h"

namespace mlir {
namespace deltanet {
#define GEN_PASS_DEF_DELTANETDECOMPOSECHUNKGATEDDELTARULE
#include "deltanet/Dialect/DeltaNet/Transforms/Passes.h.inc"
} // namespace deltanet
} // namespace mlir

using namespace mlir;
using namespace mlir::deltanet;

namespace {

using utils::IteratorType;

/// Pads dim 1 (tokens) of `x` with zeros up to `paddedT`.
Value padTokens(StructuredBuilder &sb, Value x, OpFoldResult paddedT) {
  auto type = cast<RankedTensorType>(x.getType());
  OpFoldResult t = sb.dim(x, 1);
  std::optional<int64_t> tc = getConstantIntValue(t),
                         pc = getConstantIntValue(paddedT);
  if (tc && pc && *tc == *pc)
    return x;
  OpBuilder &b = sb.builder();
  SmallVector<OpFoldResult> low(type.getRank(), b.getIndexAttr(0));
  SmallVector<OpFoldResult> high(type.getRank(), b.getIndexAttr(0));
  high[1] = sb.sub(paddedT, t);
  SmallVector<int64_t> shape(type.getShape());
  shape[1] = pc ? *pc : ShapedType::kDynamic;
  Value zero = arith::ConstantOp::create(b, sb.getLoc(),
                                         b.getZeroAttr(type.getElementType()));
  return tensor::PadOp::create(
      b, sb.getLoc(), RankedTensorType::get(shape, type.getElementType()), x,
      low, high, zero);
}

/// Gathers `x` (`[B, Tp, heads, X...]`) into the f32 chunked layout
/// `[B, HV, NC, C, X...]`; value head `h` reads head `h / group`.
Value toChunks(StructuredBuilder &sb, Value x, OpFoldResult batch,
               int64_t valueHeads, OpFoldResult numChunks, int64_t chunk,
               int64_t group) {
  auto type = cast<RankedTensorType>(x.getType());
  bool hasFeature = type.getRank() == 4;
  unsigned rank = hasFeature ? 5 : 4;
  MLIRContext *ctx = sb.getContext();
  SmallVector<AffineExpr> d;
  for (unsigned i = 0; i < rank; ++i)
    d.push_back(getAffineDimExpr(i, ctx));
  // (b, h, n, c[, x]) -> (b, n * C + c, h / group[, x]).
  SmallVector<AffineExpr> src = {d[0], d[2] * chunk + d[3],
                                 group == 1 ? d[1] : d[1].floorDiv(group)};
  SmallVector<OpFoldResult> sizes = {
      batch, sb.builder().getIndexAttr(valueHeads), numChunks,
      sb.builder().getIndexAttr(chunk)};
  if (hasFeature) {
    src.push_back(d[4]);
    sizes.push_back(sb.builder().getIndexAttr(type.getDimSize(3)));
  }
  Type f32 = sb.f32();
  return sb.map(x, {sb.affineMap(rank, src)}, sizes, f32,
                [&](OpBuilder &nb, Location loc, ValueRange args) {
                  return StructuredBuilder::castFloat(nb, loc, args[0], f32);
                });
}

/// In-chunk inclusive cumulative sum along dim 1 of `g` (`[N, C]`): a
/// masked reduction `out[n, i] += (j <= i ? g[n, j] : 0)`. The mask selects
/// the addend, so that the combiner is a plain `addf` of the accumulator:
/// upstream's vectoriser recognises it as a reduction (the GPU's thread
/// tiles then accumulate in registers; a `select` of the accumulator is no
/// reduction kind and left scalar loops over the result in device memory).
/// The same terms as `select(j <= i, out + g, out)` (a vectoriser may
/// reassociate the sum; the GPU's inner-parallel lowering keeps the order).
Value chunkCumsum(StructuredBuilder &sb, Value g) {
  MLIRContext *ctx = sb.getContext();
  AffineExpr n, i, j;
  bindDims(ctx, n, i, j);
  return sb.generic(
      g, sb.zeros(sb.dims(g)),
      {sb.affineMap(3, {n, j}), sb.affineMap(3, {n, i})},
      {IteratorType::parallel, IteratorType::parallel, IteratorType::reduction},
      [](OpBuilder &nb, Location loc, ValueRange args) -> Value {
        Value row = linalg::IndexOp::create(nb, loc, 1);
        Value col = linalg::IndexOp::create(nb, loc, 2);
        Value upToRow =
            arith::CmpIOp::create(nb, loc, arith::CmpIPredicate::ule, col, row);
        Value zero = arith::ConstantOp::create(
            nb, loc, nb.getZeroAttr(args[0].getType()));
        Value addend =
            arith::SelectOp::create(nb, loc, upToRow, args[0], zero);
        return arith::AddFOp::create(nb, loc, args[1], addend);
      });
}

/// What both decompositions read off a chunk op: its static sizes and the
/// token / chunk counts (folded to constants where static).
struct ChunkOpGeometry {
  int64_t chunk, valueHeads, group, keyDim, valueDim;
  float scale;
  OpFoldResult batch, tokens, numChunks, paddedT, seqs;

  ChunkOpGeometry(ChunkGatedDeltaRuleOp op, StructuredBuilder &sb) {
    auto qType = op.getQ().getType();
    auto vType = op.getV().getType();
    chunk = op.getChunkSizeAttr().getInt();
    valueHeads = vType.getDimSize(2);
    group = valueHeads / qType.getDimSize(2);
    keyDim = qType.getDimSize(3);
    valueDim = vType.getDimSize(3);
    scale = op.getScaleOrDefault();
    batch = sb.dim(op.getQ(), 0);
    tokens = sb.dim(op.getQ(), 1);
    numChunks = sb.ceilDiv(tokens, chunk);
    paddedT = sb.mul(numChunks, chunk);
    seqs = sb.mul(batch, valueHeads);
  }
};

/// Both decompositions need padded, regular sequences.
LogicalResult checkNoCuSeqlens(ChunkGatedDeltaRuleOp op,
                               PatternRewriter &rewriter) {
  if (!op.getCuSeqlens())
    return success();
  return rewriter.notifyMatchFailure(
      op, "has cu_seqlens: run --deltanet-unpack-varlen-gated-delta-rule "
          "first");
}

/// Decomposes one chunk_gated_delta_rule.
struct DecomposeChunkGatedDeltaRule
    : public OpRewritePattern<ChunkGatedDeltaRuleOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ChunkGatedDeltaRuleOp op,
                                PatternRewriter &rewriter) const override {
    if (failed(checkNoCuSeqlens(op, rewriter)))
      return failure();
    Location loc = op.getLoc();
    StructuredBuilder sb(rewriter, loc);
    ChunkOpGeometry geo(op, sb);
    int64_t chunk = geo.chunk, valueHeads = geo.valueHeads, group = geo.group;
    int64_t keyDim = geo.keyDim, valueDim = geo.valueDim;
    OpFoldResult batch = geo.batch, tokens = geo.tokens,
                 numChunks = geo.numChunks, seqs = geo.seqs;
    OpFoldResult allChunks = sb.mul(seqs, numChunks);

    // Normalise, pad and gather into [B, HV, NC, C, *] (f32).
    Value q = op.getQ(), k = op.getK();
    if (op.getUseQkL2norm()) {
      q = l2NormalizeLastDim(sb, q);
      k = l2NormalizeLastDim(sb, k);
    }
    auto chunked = [&](Value x, int64_t g) {
      return toChunks(sb, padTokens(sb, x, geo.paddedT), batch, valueHeads,
                      numChunks, chunk, g);
    };
    Value qc = chunked(q, group), kc = chunked(k, group);
    Value vc = chunked(op.getV(), 1), gc = chunked(op.getG(), 1),
          betac = chunked(op.getBeta(), 1);

    // Per chunk ([N = B * HV * NC, C, *]): A, (I + A)^-1, w and u.
    Value qN = sb.collapseLeading(qc, 3);
    Value kN = sb.collapseLeading(kc, 3);
    Value vN = sb.collapseLeading(vc, 3);
    Value betaN = sb.collapseLeading(betac, 3);
    Value gN = chunkCumsum(sb, sb.collapseLeading(gc, 3));
    Type f32 = sb.f32();
    int64_t c = chunk;
    auto nType = [&](ArrayRef<int64_t> tail) {
      SmallVector<int64_t> shape = {
          getConstantIntValue(allChunks).value_or(ShapedType::kDynamic)};
      shape.append(tail.begin(), tail.end());
      return RankedTensorType::get(shape, f32);
    };
    Value a = GatedKKTOp::create(rewriter, loc, nType({c, c}), kN, gN, betaN);
    Value t = TriInvOp::create(rewriter, loc, a);
    auto wy = WYReprOp::create(rewriter, loc, nType({c, keyDim}),
                               nType({c, valueDim}), t, kN, vN, gN, betaN);

    // Across chunks ([M = B * HV, NC, C, *]).
    SmallVector<OpFoldResult> seqChunks = {seqs, numChunks};
    Value kM = sb.collapseLeading(kc, 2);
    Value wM = sb.expandLeading(wy.getW(), seqChunks);
    Value uM = sb.expandLeading(wy.getU(), seqChunks);
    Value gM = sb.expandLeading(gN, seqChunks);
    Value h0 = sb.collapseLeading(op.getInitialState(), 2);
    h0 = sb.convertElementType(h0, f32);
    auto seqType = [&](ArrayRef<int64_t> tail, bool withChunks) {
      SmallVector<int64_t> shape = {
          getConstantIntValue(seqs).value_or(ShapedType::kDynamic)};
      if (withChunks)
        shape.push_back(
            getConstantIntValue(numChunks).value_or(ShapedType::kDynamic));
      shape.append(tail.begin(), tail.end());
      return RankedTensorType::get(shape, f32);
    };
    auto scan = ChunkStateScanOp::create(
        rewriter, loc, seqType({keyDim, valueDim}, true),
        seqType({c, valueDim}, true), seqType({keyDim, valueDim}, false), kM,
        wM, uM, gM, h0);

    // Output per chunk, then back to [B, T, HV, V].
    Value statesN = sb.collapseLeading(scan.getStates(), 2);
    Value vNewN = sb.collapseLeading(scan.getVNew(), 2);
    Value oN = ChunkOutputOp::create(rewriter, loc, nType({c, valueDim}), qN,
                                     kN, vNewN, statesN, gN,
                                     rewriter.getF32FloatAttr(geo.scale));
    Value o5 = sb.expandLeading(
        oN, {batch, rewriter.getIndexAttr(valueHeads), numChunks});
    MLIRContext *ctx = rewriter.getContext();
    AffineExpr bd, td, hd, xd;
    bindDims(ctx, bd, td, hd, xd);
    Type outType = op.getV().getType().getElementType();
    // Only the first T tokens: the padding is dropped by the gather.
    Value o = sb.map(
        o5, {sb.affineMap(4, {bd, hd, td.floorDiv(chunk), td % chunk, xd})},
        {batch, tokens, rewriter.getIndexAttr(valueHeads),
         rewriter.getIndexAttr(valueDim)},
        outType, [&](OpBuilder &nb, Location nloc, ValueRange args) {
          return StructuredBuilder::castFloat(nb, nloc, args[0], outType);
        });

    Value finalState = sb.expandLeading(
        scan.getFinalState(), {batch, rewriter.getIndexAttr(valueHeads)});
    replaceGatedDeltaRuleOp(rewriter, sb, op, o, finalState);
    return success();
  }
};

/// Decomposes one chunk_gated_delta_rule into an scf.for over its chunks
/// that carries the state and the output: every iteration gathers its
/// chunk of q/k/v/g/beta (`[B * HV, C, *]`, normalised, widened to f32),
/// runs gated_kkt -> tri_inv -> wy_repr -> chunk_state_scan (one chunk) ->
/// chunk_output on it and writes its tokens of `o`. The stages' operands
/// and results are per-chunk workspaces (tens of KB) instead of
/// whole-sequence tensors (`[B * HV * NC, C, *]`, MBs per head): they stay in
/// cache, and on the CPU they are small heap blocks that malloc reuses
/// instead of fresh pages that every call (and every thread) faults in.
struct DecomposeChunkGatedDeltaRuleIntoChunkLoop
    : public OpRewritePattern<ChunkGatedDeltaRuleOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ChunkGatedDeltaRuleOp op,
                                PatternRewriter &rewriter) const override {
    if (failed(checkNoCuSeqlens(op, rewriter)))
      return failure();
    Location loc = op.getLoc();
    StructuredBuilder sb(rewriter, loc);
    ChunkOpGeometry geo(op, sb);
    int64_t chunk = geo.chunk, valueHeads = geo.valueHeads, group = geo.group;
    int64_t keyDim = geo.keyDim, valueDim = geo.valueDim;
    OpFoldResult batch = geo.batch, tokens = geo.tokens,
                 numChunks = geo.numChunks, seqs = geo.seqs;
    Type f32 = sb.f32();
    Type outType = op.getV().getType().getElementType();
    OpFoldResult one = rewriter.getIndexAttr(1);
    OpFoldResult zero = rewriter.getIndexAttr(0);
    std::optional<int64_t> staticT = getConstantIntValue(tokens);
    bool ragged = !staticT || *staticT % chunk != 0;

    // Zero padding only when T is not a multiple of C (the only
    // whole-sequence copy left; none for static multiples).
    Value q = padTokens(sb, op.getQ(), geo.paddedT);
    Value k = padTokens(sb, op.getK(), geo.paddedT);
    Value v = padTokens(sb, op.getV(), geo.paddedT);
    Value g = padTokens(sb, op.getG(), geo.paddedT);
    Value beta = padTokens(sb, op.getBeta(), geo.paddedT);
    Value h0 = sb.convertElementType(
        sb.collapseLeading(op.getInitialState(), 2), f32);
    Value oInit = sb.empty({batch, tokens, rewriter.getIndexAttr(valueHeads),
                            rewriter.getIndexAttr(valueDim)},
                           outType);

    auto seqType = [&](ArrayRef<int64_t> tail) {
      SmallVector<int64_t> shape = {
          getConstantIntValue(seqs).value_or(ShapedType::kDynamic)};
      shape.append(tail.begin(), tail.end());
      return RankedTensorType::get(shape, f32);
    };

    Value lb = arith::ConstantIndexOp::create(rewriter, loc, 0);
    Value ub = getValueOrCreateConstantIndexOp(rewriter, loc, numChunks);
    Value step = arith::ConstantIndexOp::create(rewriter, loc, 1);
    auto loop = scf::ForOp::create(
        rewriter, loc, lb, ub, step, ValueRange{h0, oInit},
        [&](OpBuilder &nb, Location nloc, Value c, ValueRange iter) {
          StructuredBuilder body(nb, nloc);
          Value state = iter[0], o = iter[1];
          Value chunkIndex = arith::ConstantIndexOp::create(nb, nloc, chunk);
          Value start = arith::MulIOp::create(nb, nloc, c, chunkIndex);
          // Tokens [start, start + C) of `x` ([B, Tp, heads(, X)]).
          auto tokensOf = [&](Value x) -> Value {
            auto type = cast<RankedTensorType>(x.getType());
            SmallVector<OpFoldResult> offsets(type.getRank(), zero);
            offsets[1] = start;
            SmallVector<OpFoldResult> sizes = body.dims(x);
            sizes[1] = nb.getIndexAttr(chunk);
            SmallVector<OpFoldResult> strides(type.getRank(), one);
            return tensor::ExtractSliceOp::create(nb, nloc, x, offsets, sizes,
                                                  strides);
          };
          // [B, C, heads(, X)] -> [B * HV, C(, X)] in f32.
          auto chunked = [&](Value x, int64_t g, bool normalize) {
            Value slice = tokensOf(x);
            if (normalize)
              slice = l2NormalizeLastDim(body, slice);
            Value c5 = toChunks(body, slice, batch, valueHeads, one, chunk, g);
            return body.collapseLeading(c5, 3);
          };
          bool l2 = op.getUseQkL2norm();
          Value qN = chunked(q, group, l2), kN = chunked(k, group, l2);
          Value vN = chunked(v, 1, false), betaN = chunked(beta, 1, false);
          Value gN = chunkCumsum(body, chunked(g, 1, false));

          Value a = GatedKKTOp::create(nb, nloc, seqType({chunk, chunk}), kN,
                                       gN, betaN);
          Value t = TriInvOp::create(nb, nloc, a);
          auto wy = WYReprOp::create(nb, nloc, seqType({chunk, keyDim}),
                                     seqType({chunk, valueDim}), t, kN, vN, gN,
                                     betaN);
          // The scan over this one chunk: v_new and the next state.
          SmallVector<OpFoldResult> seqChunk = {seqs, one};
          auto scan = ChunkStateScanOp::create(
              nb, nloc, seqType({1, keyDim, valueDim}),
              seqType({1, chunk, valueDim}), seqType({keyDim, valueDim}),
              body.expandLeading(kN, seqChunk),
              body.expandLeading(wy.getW(), seqChunk),
              body.expandLeading(wy.getU(), seqChunk),
              body.expandLeading(gN, seqChunk), state);
          // The state entering the chunk is `state` itself.
          Value oN = ChunkOutputOp::create(
              nb, nloc, seqType({chunk, valueDim}), qN, kN,
              body.collapseLeading(scan.getVNew(), 2), state, gN,
              nb.getF32FloatAttr(geo.scale));

          // This chunk's tokens of o ([B, Ct, HV, V], Ct = min(C, T - start)
          // when T is not a multiple of C).
          Value o5 = body.expandLeading(
              oN, {batch, nb.getIndexAttr(valueHeads), one});
          OpFoldResult valid = nb.getIndexAttr(chunk);
          if (ragged) {
            Value left = arith::SubIOp::create(
                nb, nloc, getValueOrCreateConstantIndexOp(nb, nloc, tokens),
                start);
            valid = arith::MinSIOp::create(nb, nloc, left, chunkIndex)
                        .getResult();
          }
          // Its first `valid` tokens (all of them unless T is ragged).
          SmallVector<OpFoldResult> validSizes = body.dims(o5);
          validSizes[3] = valid;
          o5 = tensor::ExtractSliceOp::create(
              nb, nloc, o5, SmallVector<OpFoldResult>(5, zero), validSizes,
              SmallVector<OpFoldResult>(5, one));
          MLIRContext *ctx = nb.getContext();
          AffineExpr bd, td, hd, xd;
          bindDims(ctx, bd, td, hd, xd);
          Value oChunk = body.map(
              o5,
              {body.affineMap(4, {bd, hd, getAffineConstantExpr(0, ctx), td,
                                  xd})},
              {batch, valid, nb.getIndexAttr(valueHeads),
               nb.getIndexAttr(valueDim)},
              outType, [&](OpBuilder &bb, Location bl, ValueRange args) {
                return StructuredBuilder::castFloat(bb, bl, args[0], outType);
              });
          SmallVector<OpFoldResult> offsets = {zero, start, zero, zero};
          SmallVector<OpFoldResult> strides(4, one);
          Value oNext = tensor::InsertSliceOp::create(
              nb, nloc, oChunk, o, offsets, body.dims(oChunk), strides);
          scf::YieldOp::create(nb, nloc,
                               ValueRange{scan.getFinalState(), oNext});
        });

    Value finalState = sb.expandLeading(
        loop.getResult(0), {batch, rewriter.getIndexAttr(valueHeads)});
    replaceGatedDeltaRuleOp(rewriter, sb, op, loop.getResult(1), finalState);
    return success();
  }
};

struct DeltaNetDecomposeChunkGatedDeltaRulePass
    : public deltanet::impl::DeltaNetDecomposeChunkGatedDeltaRuleBase<
          DeltaNetDecomposeChunkGatedDeltaRulePass> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    if (chunkLoop)
      patterns.add<DecomposeChunkGatedDeltaRuleIntoChunkLoop>(&getContext());
    else
      populateDecomposeChunkGatedDeltaRulePatterns(patterns);
    walkAndApplyPatterns(getOperation(), std::move(patterns));
  }
};

} // namespace

void mlir::deltanet::populateDecomposeChunkGatedDeltaRulePatterns(
    RewritePatternSet &patterns) {
  patterns.add<DecomposeChunkGatedDeltaRule>(patterns.getContext());
}
