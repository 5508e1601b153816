//===- UnpackVarlenGatedDeltaRule.cpp - cu_seqlens to a padded batch ------===//
//
// Rewrites a gated delta rule with `cu_seqlens` (N sequences packed along T,
// B = 1) into the same op on a zero-padded batch of N sequences of the
// longest length, with a gather before and a scatter after.
//
// Why a padded batch rather than packed chunks with a segmented scan: every
// stage of the existing (verified) decomposition stays batched over
// N * HV sequences, including the sequential scan across chunks, which with
// packed chunks would be sequential over the sum of all sequences' chunks
// and batched over HV only; each sequence starts at position 0 of its row,
// so no chunk straddles two sequences, and the padded tail tokens have
// beta = 0, g = 0 (state unchanged) like the decomposition's own padding.
// The cost is the padding: N * max_len tokens are computed instead of T
// (close to T for similar lengths and for decode, T = N; up to N times T for
// one long sequence among short ones).
//
//===----------------------------------------------------------------------===//

#include "deltanet/Dialect/DeltaNet/IR/DeltaNetOps.h"
#include "deltanet/Dialect/DeltaNet/Transforms/Passes.h"
#include "deltanet/Dialect/DeltaNet/Utils/StructuredBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/WalkPatternRewriteDriver.h"

namespace mlir {
namespace deltanet {
#define GEN_PASS_DEF_DELTANETUNPACKVARLENGATEDDELTARULE
#include "deltanet/Dialect/DeltaNet/Transforms/Passes.h.inc"
} // namespace deltanet
} // namespace mlir

using namespace mlir;
using namespace mlir::deltanet;

namespace {

using utils::IteratorType;

/// `v` (any integer or index) as an index.
Value toIndex(OpBuilder &b, Location loc, Value v) {
  if (v.getType().isIndex())
    return v;
  if (!v.getType().isInteger(64))
    v = arith::ExtSIOp::create(b, loc, b.getI64Type(), v);
  return arith::IndexCastOp::create(b, loc, b.getIndexType(), v);
}

/// `min(max(v, lo), hi)` on indices.
Value clamp(OpBuilder &b, Location loc, Value v, Value lo, Value hi) {
  return arith::MinSIOp::create(b, loc, arith::MaxSIOp::create(b, loc, v, lo),
                                hi);
}

/// The sequence boundaries, clamped so that every index derived from them
/// stays in bounds whatever the offsets hold: `starts[n] = clamp(cu[n], 0,
/// T)`, `ends[n] = clamp(cu[n + 1], starts[n], T)` (index tensors `[N]`).
std::pair<Value, Value> sequenceBounds(StructuredBuilder &sb, Value cuSeqlens,
                                       OpFoldResult numSeqs, Value tokens) {
  OpBuilder &b = sb.builder();
  Location loc = sb.getLoc();
  auto slice = [&](int64_t offset) -> Value {
    return tensor::ExtractSliceOp::create(b, loc, cuSeqlens,
                                          {b.getIndexAttr(offset)}, {numSeqs},
                                          {b.getIndexAttr(1)});
  };
  Value lo = slice(0), hi = slice(1);
  Type index = b.getIndexType();
  Value starts =
      sb.map(lo, {AffineMap()}, {numSeqs}, index,
             [&](OpBuilder &nb, Location nloc, ValueRange args) -> Value {
               Value zero = arith::ConstantIndexOp::create(nb, nloc, 0);
               return clamp(nb, nloc, toIndex(nb, nloc, args[0]), zero, tokens);
             });
  Value ends = sb.map(
      ValueRange{hi, starts}, {AffineMap(), AffineMap()}, {numSeqs}, index,
      [&](OpBuilder &nb, Location nloc, ValueRange args) -> Value {
        return clamp(nb, nloc, toIndex(nb, nloc, args[0]), args[1], tokens);
      });
  return {starts, ends};
}

/// `max(1, max_n (ends[n] - starts[n]))`: the padded length (at least one
/// token, so that the padded batch is never empty).
Value longestSequence(StructuredBuilder &sb, Value starts, Value ends,
                      OpFoldResult numSeqs) {
  OpBuilder &b = sb.builder();
  Location loc = sb.getLoc();
  MLIRContext *ctx = sb.getContext();
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value init = tensor::FromElementsOp::create(
      b, loc, RankedTensorType::get({}, b.getIndexType()), ValueRange{one});
  AffineExpr n = getAffineDimExpr(0, ctx);
  Value longest = sb.generic(
      ValueRange{starts, ends}, init,
      {sb.affineMap(1, {n}), sb.affineMap(1, {n}), AffineMap::get(1, 0, ctx)},
      {IteratorType::reduction},
      [](OpBuilder &nb, Location nloc, ValueRange args) -> Value {
        Value len = arith::SubIOp::create(nb, nloc, args[1], args[0]);
        return arith::MaxSIOp::create(nb, nloc, args[2], len);
      });
  return tensor::ExtractOp::create(b, loc, longest, ValueRange{});
}

/// Gathers `x` (`[1, T, ...]`) into `[N, L, ...]`: row `n` holds sequence
/// `n` from position 0, zeros after its end.
Value gatherSequences(StructuredBuilder &sb, Value x, Value starts, Value ends,
                      OpFoldResult numSeqs, Value padded) {
  auto type = cast<RankedTensorType>(x.getType());
  unsigned rank = type.getRank();
  MLIRContext *ctx = sb.getContext();
  SmallVector<OpFoldResult> sizes = sb.dims(x);
  sizes[0] = numSeqs;
  sizes[1] = padded;
  AffineMap perSeq = sb.affineMap(rank, {getAffineDimExpr(0, ctx)});
  Type element = type.getElementType();
  OpBuilder &b = sb.builder();
  Location loc = sb.getLoc();
  Value lastToken = arith::SubIOp::create(
      b, loc, getValueOrCreateConstantIndexOp(b, loc, sb.dim(x, 1)),
      arith::ConstantIndexOp::create(b, loc, 1));
  return sb.map(
      ValueRange{starts, ends}, {perSeq, perSeq}, sizes, element,
      [&](OpBuilder &nb, Location nloc, ValueRange args) -> Value {
        SmallVector<Value> indices;
        for (unsigned d = 0; d < rank; ++d)
          indices.push_back(linalg::IndexOp::create(nb, nloc, d));
        Value token = arith::AddIOp::create(nb, nloc, args[0], indices[1]);
        Value inside = arith::CmpIOp::create(
            nb, nloc, arith::CmpIPredicate::slt, token, args[1]);
        // Out-of-sequence positions read the sequence's first token (always
        // in bounds, as T >= 1) and are replaced by zero.
        Value safe = arith::SelectOp::create(nb, nloc, inside, token, args[0]);
        Value zeroIndex = arith::ConstantIndexOp::create(nb, nloc, 0);
        safe = clamp(nb, nloc, safe, zeroIndex, lastToken);
        indices[0] = zeroIndex;
        indices[1] = safe;
        Value value = tensor::ExtractOp::create(nb, nloc, x, indices);
        Value zero =
            arith::ConstantOp::create(nb, nloc, nb.getZeroAttr(element));
        return arith::SelectOp::create(nb, nloc, inside, value, zero);
      });
}

/// `seq[t]` = the sequence of token `t` (`[T]` index): the number of
/// sequences n >= 1 that start at or before t, clamped to [0, N - 1].
Value sequenceOfTokens(StructuredBuilder &sb, Value starts, Value tokens) {
  OpBuilder &b = sb.builder();
  Location loc = sb.getLoc();
  MLIRContext *ctx = sb.getContext();
  AffineExpr t, n;
  bindDims(ctx, t, n);
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value init =
      linalg::FillOp::create(b, loc, zero,
                             sb.empty({OpFoldResult(tokens)}, b.getIndexType()))
          .getResult(0);
  Value count = sb.generic(
      starts, init, {sb.affineMap(2, {n}), sb.affineMap(2, {t})},
      {IteratorType::parallel, IteratorType::reduction},
      [](OpBuilder &nb, Location nloc, ValueRange args) -> Value {
        Value token = linalg::IndexOp::create(nb, nloc, 0);
        Value seq = linalg::IndexOp::create(nb, nloc, 1);
        Value zeroIndex = arith::ConstantIndexOp::create(nb, nloc, 0);
        Value oneIndex = arith::ConstantIndexOp::create(nb, nloc, 1);
        Value started = arith::AndIOp::create(
            nb, nloc,
            arith::CmpIOp::create(nb, nloc, arith::CmpIPredicate::ugt, seq,
                                  zeroIndex),
            arith::CmpIOp::create(nb, nloc, arith::CmpIPredicate::sle, args[0],
                                  token));
        Value add =
            arith::SelectOp::create(nb, nloc, started, oneIndex, zeroIndex);
        return arith::AddIOp::create(nb, nloc, args[1], add);
      });
  return count;
}

/// Scatters the padded output `o` (`[N, L, HV, V]`) back to the packed
/// layout `[1, T, HV, V]`.
Value scatterSequences(StructuredBuilder &sb, Value o, Value starts,
                       Value seqOfToken, Value tokens, OpFoldResult numSeqs) {
  auto type = cast<RankedTensorType>(o.getType());
  MLIRContext *ctx = sb.getContext();
  OpBuilder &b = sb.builder();
  SmallVector<OpFoldResult> sizes = sb.dims(o);
  sizes[0] = b.getIndexAttr(1);
  sizes[1] = tokens;
  AffineExpr d0, d1, d2, d3;
  bindDims(ctx, d0, d1, d2, d3);
  Location loc = sb.getLoc();
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value lastSeq = arith::SubIOp::create(
      b, loc, getValueOrCreateConstantIndexOp(b, loc, numSeqs), one);
  Value lastPos = arith::SubIOp::create(
      b, loc, getValueOrCreateConstantIndexOp(b, loc, sb.dim(o, 1)), one);
  return sb.map(
      seqOfToken, {sb.affineMap(4, {d1})}, sizes, type.getElementType(),
      [&](OpBuilder &nb, Location nloc, ValueRange args) -> Value {
        Value zero = arith::ConstantIndexOp::create(nb, nloc, 0);
        Value seq = clamp(nb, nloc, args[0], zero, lastSeq);
        Value start = tensor::ExtractOp::create(nb, nloc, starts, seq);
        Value token = linalg::IndexOp::create(nb, nloc, 1);
        Value pos =
            clamp(nb, nloc, arith::SubIOp::create(nb, nloc, token, start), zero,
                  lastPos);
        return tensor::ExtractOp::create(
            nb, nloc, o,
            ValueRange{seq, pos, linalg::IndexOp::create(nb, nloc, 2),
                       linalg::IndexOp::create(nb, nloc, 3)});
      });
}

/// Unpacks one chunk or recurrent gated delta rule with cu_seqlens.
template <typename OpTy>
struct UnpackVarlenGatedDeltaRule : public OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;

  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    Value cuSeqlens = op.getCuSeqlens();
    if (!cuSeqlens)
      return rewriter.notifyMatchFailure(op, "no cu_seqlens: not packed");
    Location loc = op.getLoc();
    StructuredBuilder sb(rewriter, loc);

    // N from the states when static (they are [N, HV, K, V]), else from the
    // number of offsets.
    OpFoldResult numSeqs = sb.dim(op.getInitialState(), 0);
    if (!getConstantIntValue(numSeqs))
      numSeqs = sb.sub(sb.dim(cuSeqlens, 0), rewriter.getIndexAttr(1));
    Value tokens =
        getValueOrCreateConstantIndexOp(rewriter, loc, sb.dim(op.getQ(), 1));
    auto [starts, ends] = sequenceBounds(sb, cuSeqlens, numSeqs, tokens);
    Value padded = longestSequence(sb, starts, ends, numSeqs);

    SmallVector<Value> operands;
    for (Value x : {op.getQ(), op.getK(), op.getV(), op.getG(), op.getBeta()})
      operands.push_back(gatherSequences(sb, x, starts, ends, numSeqs, padded));
    operands.push_back(op.getInitialState());

    auto oType = cast<RankedTensorType>(op.getO().getType());
    SmallVector<int64_t> paddedShape(oType.getShape());
    paddedShape[0] =
        getConstantIntValue(numSeqs).value_or(ShapedType::kDynamic);
    paddedShape[1] = ShapedType::kDynamic;
    Type paddedOType =
        RankedTensorType::get(paddedShape, oType.getElementType());

    // The same op, attributes included, on the padded batch.
    OperationState state(loc, op->getName());
    state.addOperands(operands);
    state.addTypes({paddedOType, op.getFinalState().getType()});
    state.addAttributes(op->getAttrs());
    Operation *batched = rewriter.create(state);

    Value seqOfToken = sequenceOfTokens(sb, starts, tokens);
    Value o = scatterSequences(sb, batched->getResult(0), starts, seqOfToken,
                               tokens, numSeqs);
    if (o.getType() != oType)
      o = tensor::CastOp::create(rewriter, loc, oType, o);
    rewriter.replaceOp(op, {o, batched->getResult(1)});
    return success();
  }
};

struct DeltaNetUnpackVarlenGatedDeltaRulePass
    : public deltanet::impl::DeltaNetUnpackVarlenGatedDeltaRuleBase<
          DeltaNetUnpackVarlenGatedDeltaRulePass> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateUnpackVarlenGatedDeltaRulePatterns(patterns);
    walkAndApplyPatterns(getOperation(), std::move(patterns));
  }
};

} // namespace

void mlir::deltanet::populateUnpackVarlenGatedDeltaRulePatterns(
    RewritePatternSet &patterns) {
  patterns.add<UnpackVarlenGatedDeltaRule<ChunkGatedDeltaRuleOp>,
               UnpackVarlenGatedDeltaRule<RecurrentGatedDeltaRuleOp>>(
      patterns.getContext());
}
