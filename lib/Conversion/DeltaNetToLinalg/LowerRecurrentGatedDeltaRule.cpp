//===- LowerRecurrentGatedDeltaRule.cpp - Token loop for the recurrence ---===//
//
// Lowers deltanet.recurrent_gated_delta_rule to an scf.for over tokens with
// linalg.generic bodies (decay, delta-rule update, readout), or, where the
// target asks for it (TargetInfo::fusesRecurrentReadouts), one batched matmul
// reading the state for both readouts and one in-place state update.
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

/// One token of the recurrence as four passes over the state: S <- S exp(g),
/// u = beta (v - S^T k), S <- S + k u^T, o = scale S^T q.
std::pair<Value, Value> stepByPasses(StructuredBuilder &body, Value state,
                                     Value qt, Value kt, Value vt, Value gt,
                                     Value bt, float scale) {
  MLIRContext *ctx = body.getContext();
  Type f32 = body.f32();
  AffineExpr bd, hd, kd, vd;
  bindDims(ctx, bd, hd, kd, vd);
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
  Value u = body.map(ValueRange{vt, predicted, bt},
                     {AffineMap(), AffineMap(), body.affineMap(3, {bd, hd})},
                     body.dims(vt), f32,
                     [](OpBuilder &bb, Location bl, ValueRange a) -> Value {
                       Value d = arith::SubFOp::create(bb, bl, a[0], a[1]);
                       return arith::MulFOp::create(bb, bl, a[2], d);
                     });
  // S <- S + k_t u^T.
  state = body.map(ValueRange{state, kt, u},
                   {AffineMap(), body.affineMap(4, {bd, hd, kd}),
                    body.affineMap(4, {bd, hd, vd})},
                   body.dims(state), f32,
                   [](OpBuilder &bb, Location bl, ValueRange a) -> Value {
                     Value outer = arith::MulFOp::create(bb, bl, a[1], a[2]);
                     return arith::AddFOp::create(bb, bl, a[0], outer);
                   });
  // o_t = S^T (scale q_t).
  return {state, readout(body, state, qt, scale)};
}

/// `x_i^T S` per (batch, head) for each row `x_i` (`[B, HV, K]`) of `rows`,
/// as one `[B * HV, n, K] x [B * HV, K, V]` batched matmul that reads the
/// state (`[B * HV, K, V]`) once: `[B, HV, n, V]`.
Value rowProducts(StructuredBuilder &sb, Value state, ValueRange rows) {
  OpBuilder &b = sb.builder();
  Location loc = sb.getLoc();
  SmallVector<OpFoldResult> sizes = sb.dims(rows[0]);
  sizes.push_back(sb.dim(state, 2));
  // sizes: B, HV, K, V.
  OpFoldResult zero = b.getIndexAttr(0), one = b.getIndexAttr(1);
  SmallVector<OpFoldResult> unit(4, one);
  Value lhs = sb.empty(
      {sizes[0], sizes[1], b.getIndexAttr(rows.size()), sizes[2]}, sb.f32());
  for (auto [i, row] : llvm::enumerate(rows))
    lhs = tensor::InsertSliceOp::create(
        b, loc, row, lhs,
        SmallVector<OpFoldResult>{zero, zero, b.getIndexAttr(i), zero},
        SmallVector<OpFoldResult>{sizes[0], sizes[1], one, sizes[2]}, unit);
  Value products = sb.batchMatmul(sb.collapseLeading(lhs, 2), state);
  return sb.expandLeading(products, {sizes[0], sizes[1]});
}

/// Row `i` (`[B, HV, V]`) of rowProducts' result.
Value productRow(StructuredBuilder &sb, Value products, int64_t i) {
  OpBuilder &b = sb.builder();
  auto type = cast<RankedTensorType>(products.getType());
  SmallVector<OpFoldResult> sizes = sb.dims(products);
  sizes[2] = b.getIndexAttr(1);
  SmallVector<OpFoldResult> offsets(4, b.getIndexAttr(0));
  offsets[2] = b.getIndexAttr(i);
  auto rowType = RankedTensorType::get(
      {type.getDimSize(0), type.getDimSize(1), type.getDimSize(3)},
      type.getElementType());
  return tensor::ExtractSliceOp::create(b, sb.getLoc(), rowType, products,
                                        offsets, sizes,
                                        SmallVector<OpFoldResult>(
                                            4, b.getIndexAttr(1)));
}

/// One token of the recurrence with one in-place update of the state and
/// one read of it (for CPUs, where the passes over each head's 64 KiB state,
/// not the arithmetic, bound the token loop). Row 1 of `products` is
/// S^T k_t, from the previous token's read (carried whole: a slice carried
/// by the loop would get a strided layout and scalar accesses):
///   d = exp(g_t), u = beta_t (v_t - d S^T k_t), S <- d S + k_t u^T,
///   [o_t / scale; S^T k_next] = [q_t; k_next] S (one two-row matmul).
/// Returns the state (`[B * HV, K, V]`), o_t and the products
/// [S^T q_t; S^T k_next]. The recurrence of stepByPasses
/// with the decay applied to S^T k_t instead of S first (other rounding).
std::tuple<Value, Value, Value>
stepFused(StructuredBuilder &body, Value state, Value products, Value qt,
          Value kt, Value vt, Value gt, Value bt, Value kNext, float scale) {
  MLIRContext *ctx = body.getContext();
  Type f32 = body.f32();
  AffineExpr bd, hd, kd, vd;
  bindDims(ctx, bd, hd, kd, vd);
  // d = exp(g_t), once per (batch, head).
  Value decay = body.map(ValueRange{gt}, {}, body.dims(gt), f32,
                         [](OpBuilder &bb, Location bl, ValueRange a) -> Value {
                           return math::ExpOp::create(bb, bl, a[0]);
                         });
  AffineMap perHead = body.affineMap(3, {bd, hd});
  // u = beta_t (v_t - d S^T k_t).
  Value predicted = productRow(body, products, 1);
  Value u = body.map(ValueRange{vt, predicted, decay, bt},
                     {AffineMap(), AffineMap(), perHead, perHead},
                     body.dims(vt), f32,
                     [](OpBuilder &bb, Location bl, ValueRange a) -> Value {
                       Value p = arith::MulFOp::create(bb, bl, a[2], a[1]);
                       Value d = arith::SubFOp::create(bb, bl, a[0], p);
                       return arith::MulFOp::create(bb, bl, a[3], d);
                     });
  // S <- d S + k_t u^T, in place (the state, `[B * HV, K, V]` as the
  // matmul reads it, is the generic's output).
  AffineExpr id, kd3, vd3;
  bindDims(ctx, id, kd3, vd3);
  state = body.generic(
      ValueRange{body.collapseLeading(kt, 2), body.collapseLeading(u, 2),
                 body.collapseLeading(decay, 2)},
      state,
      {body.affineMap(3, {id, kd3}), body.affineMap(3, {id, vd3}),
       body.affineMap(3, {id}), body.affineMap(3, {id, kd3, vd3})},
      SmallVector<IteratorType>(3, IteratorType::parallel),
      [](OpBuilder &bb, Location bl, ValueRange a) -> Value {
        Value decayed = arith::MulFOp::create(bb, bl, a[2], a[3]);
        return math::FmaOp::create(bb, bl, a[0], a[1], decayed);
      });
  products = rowProducts(body, state, {qt, kNext});
  // o_t = scale S^T q_t.
  Value ot = body.map(
      ValueRange{productRow(body, products, 0)}, {}, body.dims(vt), f32,
      [scale](OpBuilder &bb, Location bl, ValueRange a) -> Value {
        return arith::MulFOp::create(
            bb, bl, a[0], StructuredBuilder::f32Constant(bb, bl, scale));
      });
  return {state, ot, products};
}

/// The token loop of one recurrent_gated_delta_rule.
struct LowerRecurrentGatedDeltaRule
    : public OpRewritePattern<RecurrentGatedDeltaRuleOp> {
  LowerRecurrentGatedDeltaRule(MLIRContext *ctx, bool fuseReadouts)
      : OpRewritePattern(ctx), fuseReadouts(fuseReadouts) {}

  LogicalResult matchAndRewrite(RecurrentGatedDeltaRuleOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getCuSeqlens())
      return rewriter.notifyMatchFailure(
          op, "has cu_seqlens: run --deltanet-unpack-varlen-gated-delta-rule "
              "first");
    Location loc = op.getLoc();
    StructuredBuilder sb(rewriter, loc);
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
    SmallVector<Value> inits = {h0, outInit};
    Value last;
    if (fuseReadouts) {
      inits[0] = sb.collapseLeading(h0, 2);
      // [S_0^T k_0; S_0^T k_0]: row 1 is the first token's prediction (zeros
      // when T = 0: no token to read).
      SmallVector<OpFoldResult> vSizes = sb.dims(v);
      auto first = [&](OpBuilder &nb, Location nloc) {
        StructuredBuilder fb(nb, nloc);
        Value k0 = tokenOf(nb, nloc, k, lb);
        return rowProducts(fb, inits[0], {k0, k0});
      };
      std::optional<int64_t> tokens = getConstantIntValue(sb.dim(q, 1));
      if (tokens && *tokens > 0) {
        inits.push_back(first(rewriter, loc));
      } else {
        Value any = arith::CmpIOp::create(rewriter, loc,
                                          arith::CmpIPredicate::sgt, ub, lb);
        auto ifOp = scf::IfOp::create(
            rewriter, loc, any,
            [&](OpBuilder &nb, Location nloc) {
              scf::YieldOp::create(nb, nloc, first(nb, nloc));
            },
            [&](OpBuilder &nb, Location nloc) {
              StructuredBuilder eb(nb, nloc);
              scf::YieldOp::create(
                  nb, nloc,
                  eb.zeros({vSizes[0], vSizes[2], nb.getIndexAttr(2),
                            vSizes[3]}));
            });
        inits.push_back(ifOp.getResult(0));
      }
      last = arith::SubIOp::create(rewriter, loc, ub, step);
    }
    auto loop = scf::ForOp::create(
        rewriter, loc, lb, ub, step, inits,
        [&](OpBuilder &nb, Location nloc, Value t, ValueRange iter) {
          StructuredBuilder body(nb, nloc);
          Value state = iter[0];
          Value qt = tokenOf(nb, nloc, q, t), kt = tokenOf(nb, nloc, k, t),
                vt = tokenOf(nb, nloc, v, t), gt = tokenOf(nb, nloc, g, t),
                bt = tokenOf(nb, nloc, beta, t);
          Value ot, products;
          if (fuseReadouts) {
            // The next token's k (this one's at the last token: its product
            // is not used).
            Value next = arith::MinSIOp::create(
                nb, nloc, arith::AddIOp::create(nb, nloc, t, step), last);
            std::tie(state, ot, products) =
                stepFused(body, state, iter[2], qt, kt, vt, gt, bt,
                          tokenOf(nb, nloc, k, next), scale);
          } else {
            std::tie(state, ot) =
                stepByPasses(body, state, qt, kt, vt, gt, bt, scale);
          }
          Value out = iter[1];
          int64_t rank = 4;
          SmallVector<OpFoldResult> offsets(rank, nb.getIndexAttr(0));
          offsets[1] = t;
          SmallVector<OpFoldResult> sizes = body.dims(out);
          sizes[1] = nb.getIndexAttr(1);
          SmallVector<OpFoldResult> strides(rank, nb.getIndexAttr(1));
          out = tensor::InsertSliceOp::create(nb, nloc, ot, out, offsets, sizes,
                                              strides);
          SmallVector<Value> yields = {state, out};
          if (products)
            yields.push_back(products);
          scf::YieldOp::create(nb, nloc, yields);
        });

    Value finalState = loop.getResult(0);
    if (fuseReadouts)
      finalState = sb.expandLeading(finalState, {sb.dim(h0, 0), sb.dim(h0, 1)});
    replaceGatedDeltaRuleOp(rewriter, sb, op, loop.getResult(1), finalState);
    return success();
  }

  bool fuseReadouts;
};

struct DeltaNetLowerRecurrentGatedDeltaRulePass
    : public deltanet::impl::DeltaNetLowerRecurrentGatedDeltaRuleBase<
          DeltaNetLowerRecurrentGatedDeltaRulePass> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateLowerRecurrentGatedDeltaRulePatterns(patterns, fuseReadouts);
    walkAndApplyPatterns(getOperation(), std::move(patterns));
  }
};

} // namespace

void mlir::deltanet::populateLowerRecurrentGatedDeltaRulePatterns(
    RewritePatternSet &patterns, bool fuseReadouts) {
  patterns.add<LowerRecurrentGatedDeltaRule>(patterns.getContext(),
                                             fuseReadouts);
}
