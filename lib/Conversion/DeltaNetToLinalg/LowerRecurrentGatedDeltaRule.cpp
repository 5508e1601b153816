//===- LowerRecurrentGatedDeltaRule.cpp - Token loop for the recurrence ---===//
//
// Lowers deltanet.recurrent_gated_delta_rule to an scf.for over tokens with
// linalg.generic bodies (decay, delta-rule update, readout).
//
//===----------------------------------------------------------------------===//

#include "deltanet/Conversion/Passes.h"
#include "deltanet/Dialect/DeltaNet/IR/DeltaNetOps.h"
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
#define GEN_PASS_DEF_DELTANETLOWERRECURRENTGATEDDELTARULE
#include "deltanet/Conversion/Passes.h.inc"
} // namespace deltanet
} // namespace mlir

using namespace mlir;
using namespace mlir::deltanet;

namespace {

using utils::IteratorType;

/// `x` (`[B, T, heads, X...]`) widened to f32 with its heads broadcast to
/// `valueHeads` (value head `h` reads head `h / group`).
Value broadcastHeads(StructuredBuilder &sb, Value x, int64_t valueHeads,
                     int64_t group) {
  auto type = cast<RankedTensorType>(x.getType());
  unsigned rank = type.getRank();
  MLIRContext *ctx = sb.getContext();
  SmallVector<AffineExpr> src;
  for (unsigned i = 0; i < rank; ++i)
    src.push_back(getAffineDimExpr(i, ctx));
  if (group != 1)
    src[2] = src[2].floorDiv(group);
  SmallVector<OpFoldResult> sizes = sb.dims(x);
  sizes[2] = sb.builder().getIndexAttr(valueHeads);
  Type f32 = sb.f32();
  return sb.map(x, {sb.affineMap(rank, src)}, sizes, f32,
                [&](OpBuilder &nb, Location loc, ValueRange args) {
                  return StructuredBuilder::castFloat(nb, loc, args[0], f32);
                });
}

/// Token `t` of `x` (`[B, T, ...]`), without the T dim.
Value tokenOf(OpBuilder &b, Location loc, Value x, Value t) {
  auto type = cast<RankedTensorType>(x.getType());
  int64_t rank = type.getRank();
  SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0));
  offsets[1] = t;
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, x);
  sizes[1] = b.getIndexAttr(1);
  SmallVector<OpFoldResult> strides(rank, b.getIndexAttr(1));
  SmallVector<int64_t> shape(type.getShape());
  shape.erase(shape.begin() + 1);
  return tensor::ExtractSliceOp::create(
      b, loc, RankedTensorType::get(shape, type.getElementType()), x, offsets,
      sizes, strides);
}

/// S^T x per (b, h): `[B, HV, V] = sum_k S[b, h, k, v] x[b, h, k]`, times
/// `scale`.
Value readout(StructuredBuilder &sb, Value state, Value x, float scale) {
  MLIRContext *ctx = sb.getContext();
  AffineExpr b, h, k, v;
  bindDims(ctx, b, h, k, v);
  SmallVector<OpFoldResult> sizes = sb.dims(state);
  return sb.generic(
      ValueRange{state, x}, sb.zeros({sizes[0], sizes[1], sizes[3]}),
      {sb.affineMap(4, {b, h, k, v}), sb.affineMap(4, {b, h, k}),
       sb.affineMap(4, {b, h, v})},
      {IteratorType::parallel, IteratorType::parallel, IteratorType::reduction,
       IteratorType::parallel},
      [&](OpBuilder &nb, Location loc, ValueRange args) -> Value {
        Value p = arith::MulFOp::create(nb, loc, args[0], args[1]);
        if (scale != 1.0f)
          p = arith::MulFOp::create(
              nb, loc, p, StructuredBuilder::f32Constant(nb, loc, scale));
        return arith::AddFOp::create(nb, loc, args[2], p);
      });
}

/// The token loop of one recurrent_gated_delta_rule.
struct LowerRecurrentGatedDeltaRule
    : public OpRewritePattern<RecurrentGatedDeltaRuleOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(RecurrentGatedDeltaRuleOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getCuSeqlens())
      return rewriter.notifyMatchFailure(
          op, "has cu_seqlens: run --deltanet-unpack-varlen-gated-delta-rule "
              "first");
    Location loc = op.getLoc();
    StructuredBuilder sb(rewriter, loc);
    MLIRContext *ctx = rewriter.getContext();
    Type f32 = sb.f32();
    int64_t heads = op.getQ().getType().getDimSize(2);
    int64_t valueHeads = op.getV().getType().getDimSize(2);
    float scale = op.getScaleOrDefault();

    Value q = op.getQ(), k = op.getK();
    if (op.getUseQkL2norm()) {
      q = l2NormalizeLastDim(sb, q);
      k = l2NormalizeLastDim(sb, k);
    }
    q = broadcastHeads(sb, q, valueHeads, valueHeads / heads);
    k = broadcastHeads(sb, k, valueHeads, valueHeads / heads);
    Value v = broadcastHeads(sb, op.getV(), valueHeads, 1);
    Value g = broadcastHeads(sb, op.getG(), valueHeads, 1);
    Value beta = broadcastHeads(sb, op.getBeta(), valueHeads, 1);
    Value h0 = op.getInitialState();
    h0 = sb.convertElementType(h0, f32);
    Value outInit = sb.empty(sb.dims(v), f32);

    Value lb = arith::ConstantIndexOp::create(rewriter, loc, 0);
    Value ub = getValueOrCreateConstantIndexOp(rewriter, loc, sb.dim(q, 1));
    Value step = arith::ConstantIndexOp::create(rewriter, loc, 1);
    AffineExpr bd, hd, kd, vd;
    bindDims(ctx, bd, hd, kd, vd);
    auto loop = scf::ForOp::create(
        rewriter, loc, lb, ub, step, ValueRange{h0, outInit},
        [&](OpBuilder &nb, Location nloc, Value t, ValueRange iter) {
          StructuredBuilder body(nb, nloc);
          Value state = iter[0];
          Value qt = tokenOf(nb, nloc, q, t), kt = tokenOf(nb, nloc, k, t),
                vt = tokenOf(nb, nloc, v, t), gt = tokenOf(nb, nloc, g, t),
                bt = tokenOf(nb, nloc, beta, t);
          // S <- S * exp(g_t).
          state = body.map(
              ValueRange{state, gt}, {AffineMap(), body.affineMap(4, {bd, hd})},
              body.dims(state), f32,
              [](OpBuilder &bb, Location bl, ValueRange a) -> Value {
                return arith::MulFOp::create(bb, bl, a[0],
                                             math::ExpOp::create(bb, bl, a[1]));
              });
          // u = beta_t (v_t - S^T k_t).
          Value predicted = readout(body, state, kt, 1.0f);
          Value u =
              body.map(ValueRange{vt, predicted, bt},
                       {AffineMap(), AffineMap(), body.affineMap(3, {bd, hd})},
                       body.dims(vt), f32,
                       [](OpBuilder &bb, Location bl, ValueRange a) -> Value {
                         Value d = arith::SubFOp::create(bb, bl, a[0], a[1]);
                         return arith::MulFOp::create(bb, bl, a[2], d);
                       });
          // S <- S + k_t u^T.
          state =
              body.map(ValueRange{state, kt, u},
                       {AffineMap(), body.affineMap(4, {bd, hd, kd}),
                        body.affineMap(4, {bd, hd, vd})},
                       body.dims(state), f32,
                       [](OpBuilder &bb, Location bl, ValueRange a) -> Value {
                         Value outer =
                             arith::MulFOp::create(bb, bl, a[1], a[2]);
                         return arith::AddFOp::create(bb, bl, a[0], outer);
                       });
          // o_t = S^T (scale q_t).
          Value ot = readout(body, state, qt, scale);
          Value out = iter[1];
          int64_t rank = 4;
          SmallVector<OpFoldResult> offsets(rank, nb.getIndexAttr(0));
          offsets[1] = t;
          SmallVector<OpFoldResult> sizes = body.dims(out);
          sizes[1] = nb.getIndexAttr(1);
          SmallVector<OpFoldResult> strides(rank, nb.getIndexAttr(1));
          out = tensor::InsertSliceOp::create(nb, nloc, ot, out, offsets, sizes,
                                              strides);
          scf::YieldOp::create(nb, nloc, ValueRange{state, out});
        });

    replaceGatedDeltaRuleOp(rewriter, sb, op, loop.getResult(1),
                            loop.getResult(0));
    return success();
  }
};

struct DeltaNetLowerRecurrentGatedDeltaRulePass
    : public deltanet::impl::DeltaNetLowerRecurrentGatedDeltaRuleBase<
          DeltaNetLowerRecurrentGatedDeltaRulePass> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateLowerRecurrentGatedDeltaRulePatterns(patterns);
    walkAndApplyPatterns(getOperation(), std::move(patterns));
  }
};

} // namespace

void mlir::deltanet::populateLowerRecurrentGatedDeltaRulePatterns(
    RewritePatternSet &patterns) {
  patterns.add<LowerRecurrentGatedDeltaRule>(patterns.getContext());
}
