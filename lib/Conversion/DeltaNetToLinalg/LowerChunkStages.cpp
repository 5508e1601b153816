//===- LowerChunkStages.cpp - Lower the chunk stage ops to linalg/scf -----===//
//
// Lowers gated_kkt, wy_repr, chunk_state_scan and chunk_output to batched
// linalg matmuls with explicit causal/decay masks and an scf.for state scan;
// optionally with bf16 / f16 / INT8 product operands (f32 sums), per stage;
// intermediates that deltanet-narrow-stage-intermediates typed 16-bit are
// written rounded by their producer and read as they are by their consumer.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Conversion/Passes.h"
#include "deltanet/Dialect/DeltaNet/IR/DeltaNetOps.h"
#include "deltanet/Dialect/DeltaNet/Utils/StructuredBuilder.h"

#include "PrecisionMatmul.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/WalkPatternRewriteDriver.h"
#include "llvm/ADT/StringSet.h"

namespace mlir {
namespace deltanet {
#define GEN_PASS_DEF_DELTANETLOWERCHUNKSTAGES
#include "deltanet/Conversion/Passes.h.inc"
} // namespace deltanet
} // namespace mlir

using namespace mlir;
using namespace mlir::deltanet;

namespace {

using utils::IteratorType;

/// `[N, C, X]` -> `[N, X, C]`.
Value transposeLastTwo(StructuredBuilder &sb, Value t) {
  OpBuilder &b = sb.builder();
  SmallVector<OpFoldResult> sizes = sb.dims(t);
  std::swap(sizes[1], sizes[2]);
  Value init =
      sb.empty(sizes, cast<ShapedType>(t.getType()).getElementType());
  return linalg::TransposeOp::create(b, sb.getLoc(), t, init,
                                     ArrayRef<int64_t>{0, 2, 1})
      .getResult()[0];
}

/// The causal decay mask of a chunk applied to `scores` (`[N, C, C]`):
/// `scores[n, i, j] * exp(g[n, i] - g[n, j]) * rowScale[n, i] * scale` where
/// `j < i` (or `j <= i` when `inclusive`), else 0. `rowScale` may be null.
Value causalDecayMask(StructuredBuilder &sb, Value scores, Value g,
                      Value rowScale, float scale, bool inclusive) {
  MLIRContext *ctx = sb.getContext();
  AffineExpr n, i, j;
  bindDims(ctx, n, i, j);
  SmallVector<Value> inputs = {scores, g, g};
  SmallVector<AffineMap> maps = {AffineMap(), sb.affineMap(3, {n, i}),
                                 sb.affineMap(3, {n, j})};
  if (rowScale) {
    inputs.push_back(rowScale);
    maps.push_back(sb.affineMap(3, {n, i}));
  }
  return sb.map(
      inputs, maps, sb.dims(scores), sb.f32(),
      [&](OpBuilder &nb, Location loc, ValueRange args) -> Value {
        Value row = linalg::IndexOp::create(nb, loc, 1);
        Value col = linalg::IndexOp::create(nb, loc, 2);
        Value keep = arith::CmpIOp::create(
            nb, loc,
            inclusive ? arith::CmpIPredicate::uge : arith::CmpIPredicate::ugt,
            row, col);
        Value decay = math::ExpOp::create(
            nb, loc, arith::SubFOp::create(nb, loc, args[1], args[2]));
        Value v = arith::MulFOp::create(nb, loc, args[0], decay);
        if (rowScale)
          v = arith::MulFOp::create(nb, loc, v, args[3]);
        if (scale != 1.0f)
          v = arith::MulFOp::create(
              nb, loc, v, StructuredBuilder::f32Constant(nb, loc, scale));
        return arith::SelectOp::create(
            nb, loc, keep, v, StructuredBuilder::f32Constant(nb, loc, 0.0f));
      });
}

/// Rows of `x` (`[N, C, X]`) times per-row factors computed from `factors`
/// (each `[N, C]`) by `combine`. With `factorsOnce` the factors are one
/// `[N, C]` tensor computed first (C `exp`s per chunk instead of C x X: a
/// vectorised row op would evaluate them for every element of the row) and
/// broadcast along the rows; the same values either way.
Value scaleRows(
    StructuredBuilder &sb, Value x, ValueRange factors,
    function_ref<Value(OpBuilder &, Location, ValueRange)> combine,
    bool factorsOnce = false) {
  MLIRContext *ctx = sb.getContext();
  AffineExpr n, c, d;
  bindDims(ctx, n, c, d);
  if (factorsOnce) {
    Value rowFactors = sb.map(factors, {}, {sb.dim(x, 0), sb.dim(x, 1)},
                              sb.f32(), combine);
    return sb.map({x, rowFactors}, {AffineMap(), sb.affineMap(3, {n, c})},
                  sb.dims(x), sb.f32(),
                  [](OpBuilder &nb, Location loc, ValueRange args) -> Value {
                    return arith::MulFOp::create(nb, loc, args[0], args[1]);
                  });
  }
  SmallVector<Value> inputs = {x};
  SmallVector<AffineMap> maps = {AffineMap()};
  for (Value f : factors) {
    inputs.push_back(f);
    maps.push_back(sb.affineMap(3, {n, c}));
  }
  return sb.map(inputs, maps, sb.dims(x), sb.f32(),
                [&](OpBuilder &nb, Location loc, ValueRange args) -> Value {
                  Value factor =
                      combine(nb, loc, args.slice(1, factors.size()));
                  return arith::MulFOp::create(nb, loc, args[0], factor);
                });
}

//===----------------------------------------------------------------------===//
// Patterns
//===----------------------------------------------------------------------===//

/// A stage op's lowering with its products' operand precision.
template <typename OpT>
struct LowerStage : public OpRewritePattern<OpT> {
  LowerStage(MLIRContext *ctx, TriInvPrecision precision,
             int64_t triangularRowTile = 0, int64_t triangularResultBlock = 0,
             bool decayFactorsOnce = false)
      : OpRewritePattern<OpT>(ctx), precision(precision),
        triangularRowTile(triangularRowTile),
        triangularResultBlock(triangularResultBlock),
        decayFactorsOnce(decayFactorsOnce) {}

  /// `x` rounded to the operands' float type when it is bf16 / f16 (an
  /// operand of several products rounded once; before a transpose: half the
  /// bytes moved); unchanged for f32 and i8 (quantised per product, with
  /// that product's scales).
  Value rounded(StructuredBuilder &sb, Value x) const {
    if (precision == TriInvPrecision::BF16)
      return sb.convertElementType(x, sb.builder().getBF16Type());
    if (precision == TriInvPrecision::F16)
      return sb.convertElementType(x, sb.builder().getF16Type());
    return x;
  }

  /// `acc + lhs rhs` (batched) with the operands in the stage precision
  /// (emitPrecisionMatmul; the CPU's bf16 dot-product codegen fuses a
  /// rounding of the right operand into its VNNI pack). The sum is f32.
  Value product(StructuredBuilder &sb, Value lhs, Value rhs,
                Value acc = {}) const {
    return emitPrecisionMatmul(sb, lhs, rhs, acc, precision,
                               QuantGranularity::Row);
  }

  /// `product(lhs, rhs, acc)` for a lower-triangular `lhs` (`[N, C, C]`,
  /// `lhs[n, i, j] = 0` for `j > i`): with `triangularRowTile` = r > 0 (f32
  /// operands, r dividing a static C), the rows `[r0, r0 + r)` of the
  /// result are one product each of `lhs[:, r0 : r0 + r, 0 : r0 + r]` and
  /// `rhs[:, 0 : r0 + r, :]`: the terms left out are products with exact
  /// zeros, so the sums are the same up to their order (`C (C + r) / 2`
  /// instead of `C^2` multiply-adds per output column). The tiles are
  /// inserted into one destination (`acc`, accumulated in place, or an
  /// empty tensor), which bufferization keeps in place. Other precisions
  /// quantise per operand column, which a shorter K would change: whole
  /// products there.
  Value lowerTriangularProduct(StructuredBuilder &sb, Value lhs, Value rhs,
                               Value acc = {}) const {
    auto lhsType = cast<RankedTensorType>(lhs.getType());
    auto rhsType = cast<RankedTensorType>(rhs.getType());
    int64_t c = lhsType.getDimSize(1), r = triangularRowTile;
    if (r <= 0 || precision != TriInvPrecision::F32 ||
        ShapedType::isDynamic(c) || c != lhsType.getDimSize(2) || c % r != 0 ||
        c == r || ShapedType::isDynamic(rhsType.getDimSize(2)))
      return product(sb, lhs, rhs, acc);
    OpBuilder &b = sb.builder();
    Location loc = sb.getLoc();
    OpFoldResult zero = b.getIndexAttr(0), one = b.getIndexAttr(1);
    OpFoldResult n = sb.dim(lhs, 0), cols = sb.dim(rhs, 2);
    SmallVector<OpFoldResult> unit(3, one);
    auto slice = [&](Value t, int64_t row, OpFoldResult rows,
                     OpFoldResult width) -> Value {
      return tensor::ExtractSliceOp::create(
          b, loc, t, ArrayRef<OpFoldResult>{zero, b.getIndexAttr(row), zero},
          ArrayRef<OpFoldResult>{n, rows, width}, unit);
    };
    Value out = acc ? acc : sb.empty({n, b.getIndexAttr(c), cols}, sb.f32());
    for (int64_t r0 = 0; r0 < c; r0 += r) {
      OpFoldResult depth = b.getIndexAttr(r0 + r), rows = b.getIndexAttr(r);
      Value tile = product(sb, slice(lhs, r0, rows, depth),
                           slice(rhs, 0, depth, cols),
                           acc ? slice(out, r0, rows, cols) : Value());
      out = tensor::InsertSliceOp::create(
          b, loc, tile, out,
          ArrayRef<OpFoldResult>{zero, b.getIndexAttr(r0), zero},
          ArrayRef<OpFoldResult>{n, rows, cols}, unit);
    }
    return out;
  }

  /// `lhs rhs` (`[N, C, D] x [N, D, C]`) of which only the lower triangle
  /// (`j <= i`) is read unmasked: with `triangularResultBlock` = b > 0 (f32
  /// operands, b dividing a static C), the rows `[r0, r0 + b)` are one
  /// product with the columns `[0, r0 + b)` of `rhs`, and zeros right of
  /// them (one fill of that block, `b x (C - r0 - b)`). The lower triangle
  /// holds the same sums as the whole product. Other precisions quantise
  /// per operand column and row: whole products there.
  Value lowerTriangleOfProduct(StructuredBuilder &sb, Value lhs,
                               Value rhs) const {
    auto lhsType = cast<RankedTensorType>(lhs.getType());
    auto rhsType = cast<RankedTensorType>(rhs.getType());
    int64_t c = lhsType.getDimSize(1), d = lhsType.getDimSize(2),
            bs = triangularResultBlock;
    if (bs <= 0 || precision != TriInvPrecision::F32 ||
        ShapedType::isDynamic(c) || ShapedType::isDynamic(d) ||
        rhsType.getDimSize(2) != c || c % bs != 0 || c == bs)
      return product(sb, lhs, rhs);
    OpBuilder &b = sb.builder();
    Location loc = sb.getLoc();
    OpFoldResult zero = b.getIndexAttr(0), one = b.getIndexAttr(1);
    OpFoldResult n = sb.dim(lhs, 0);
    SmallVector<OpFoldResult> unit(3, one);
    auto index = [&](int64_t v) -> OpFoldResult { return b.getIndexAttr(v); };
    auto insert = [&](Value tile, Value dest, int64_t row, int64_t col,
                      int64_t rows, int64_t cols) -> Value {
      return tensor::InsertSliceOp::create(
          b, loc, tile, dest,
          ArrayRef<OpFoldResult>{zero, index(row), index(col)},
          ArrayRef<OpFoldResult>{n, index(rows), index(cols)}, unit);
    };
    Value out = sb.empty({n, index(c), index(c)}, sb.f32());
    for (int64_t r0 = 0; r0 < c; r0 += bs) {
      int64_t width = r0 + bs;
      Value rows = tensor::ExtractSliceOp::create(
          b, loc, lhs, ArrayRef<OpFoldResult>{zero, index(r0), zero},
          ArrayRef<OpFoldResult>{n, index(bs), index(d)}, unit);
      Value cols = tensor::ExtractSliceOp::create(
          b, loc, rhs, ArrayRef<OpFoldResult>{zero, zero, zero},
          ArrayRef<OpFoldResult>{n, index(d), index(width)}, unit);
      out = insert(product(sb, rows, cols), out, r0, 0, bs, width);
      if (width < c)
        out = insert(sb.zeros({n, index(bs), index(c - width)}), out, r0,
                     width, bs, c - width);
    }
    return out;
  }

  TriInvPrecision precision;
  /// Rows per tile of lowerTriangularProduct (0: whole products).
  int64_t triangularRowTile;
  /// Rows per block of lowerTriangleOfProduct (0: whole products).
  int64_t triangularResultBlock;
  /// Decay factors that depend on one row index (exp(g), exp(g_last - g))
  /// computed once per row as a `[N, C]` tensor and broadcast.
  bool decayFactorsOnce;
};

/// a = mask_{i>j}(beta_i * exp(g_i - g_j) * (K K^T)).
struct LowerGatedKKT : public LowerStage<GatedKKTOp> {
  using LowerStage::LowerStage;

  LogicalResult matchAndRewrite(GatedKKTOp op,
                                PatternRewriter &rewriter) const override {
    StructuredBuilder sb(rewriter, op.getLoc());
    Value k = rounded(sb, op.getK());
    // Only the strictly lower triangle is kept by the mask.
    Value gram = lowerTriangleOfProduct(sb, k, transposeLastTwo(sb, k));
    rewriter.replaceOp(op, causalDecayMask(sb, gram, op.getG(), op.getBeta(),
                                           1.0f, /*inclusive=*/false));
    return success();
  }
};

/// w = t (beta exp(g) k), u = t (beta v).
struct LowerWYRepr : public LowerStage<WYReprOp> {
  using LowerStage::LowerStage;

  LogicalResult matchAndRewrite(WYReprOp op,
                                PatternRewriter &rewriter) const override {
    StructuredBuilder sb(rewriter, op.getLoc());
    Value kScaled =
        scaleRows(sb, op.getK(), ValueRange{op.getBeta(), op.getG()},
                  [](OpBuilder &nb, Location loc, ValueRange f) -> Value {
                    return arith::MulFOp::create(
                        nb, loc, f[0], math::ExpOp::create(nb, loc, f[1]));
                  },
                  decayFactorsOnce);
    Value vScaled =
        scaleRows(sb, op.getV(), ValueRange{op.getBeta()},
                  [](OpBuilder &, Location, ValueRange f) { return f[0]; });
    Value t = rounded(sb, op.getT());
    // t = (I + A)^-1 is lower triangular.
    // w stored in 16 bits when its consumer only rounds it to them; right
    // after its product (the GPU applies the rounding to the accumulator
    // fragments as they are stored: AccumulatorEpilogue).
    Value w = sb.convertElementType(lowerTriangularProduct(sb, t, kScaled),
                                    op.getW().getType().getElementType());
    // u likewise where deltanet-narrow-stage-intermediates' narrow-u
    // rounded it for the scan.
    Value u = sb.convertElementType(lowerTriangularProduct(sb, t, vScaled),
                                    op.getU().getType().getElementType());
    rewriter.replaceOp(op, ValueRange{w, u});
    return success();
  }
};

/// o = scale * ((q exp(g)) state + mask_{i>=j}(exp(g_i - g_j) q k^T) v_new).
struct LowerChunkOutput : public LowerStage<ChunkOutputOp> {
  using LowerStage::LowerStage;

  LogicalResult matchAndRewrite(ChunkOutputOp op,
                                PatternRewriter &rewriter) const override {
    StructuredBuilder sb(rewriter, op.getLoc());
    float scale = op.getScale().convertToFloat();
    Value qDecayed =
        scaleRows(sb, op.getQ(), ValueRange{op.getG()},
                  [&](OpBuilder &nb, Location loc, ValueRange f) -> Value {
                    return arith::MulFOp::create(
                        nb, loc, math::ExpOp::create(nb, loc, f[0]),
                        StructuredBuilder::f32Constant(nb, loc, scale));
                  },
                  decayFactorsOnce);
    Value carried = product(sb, qDecayed, op.getState());
    // Only the lower triangle is kept by the causal mask.
    Value scores = lowerTriangleOfProduct(
        sb, op.getQ(), transposeLastTwo(sb, rounded(sb, op.getK())));
    Value attention = causalDecayMask(sb, scores, op.getG(), nullptr, scale,
                                      /*inclusive=*/true);
    // The causal attention is lower triangular.
    rewriter.replaceOp(
        op, lowerTriangularProduct(sb, attention, op.getVNew(), carried));
    return success();
  }
};

/// An scf.for over chunks carrying the state S:
///   states[c] = S; v_new[c] = u[c] - w[c] S;
///   S = exp(g_last) S + (k[c] exp(g_last - g[c]))^T v_new[c]
/// or, with `foldDecayIntoValues`, the same update as
///   S = exp(g_last) S + k[c]^T (v_new[c] exp(g_last - g[c])).
/// `states` and `v_new` are carried only when used (a segment summary needs
/// the final state alone); unused ones are replaced by a dead tensor.empty.
struct LowerChunkStateScan : public LowerStage<ChunkStateScanOp> {
  LowerChunkStateScan(MLIRContext *ctx, bool foldDecayIntoValues,
                      TriInvPrecision precision, bool decayFactorsOnce,
                      bool stateDecayOutOfPlace)
      : LowerStage(ctx, precision, /*triangularRowTile=*/0,
                   /*triangularResultBlock=*/0, decayFactorsOnce),
        foldDecayIntoValues(foldDecayIntoValues),
        stateDecayOutOfPlace(stateDecayOutOfPlace) {}

  LogicalResult matchAndRewrite(ChunkStateScanOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    StructuredBuilder sb(rewriter, loc);
    MLIRContext *ctx = rewriter.getContext();
    auto kType = cast<RankedTensorType>(op.getK().getType());
    auto uType = cast<RankedTensorType>(op.getU().getType());
    int64_t chunk = kType.getDimSize(2), keyDim = kType.getDimSize(3),
            valueDim = uType.getDimSize(3);
    OpFoldResult seqs = sb.dim(op.getK(), 0);
    OpFoldResult numChunks = sb.dim(op.getK(), 1);
    Type f32 = sb.f32();
    int64_t dynM = kType.getDimSize(0);

    // states / v_new are f32, or 16-bit when their consumer only rounds
    // them (deltanet-narrow-stage-intermediates): stored rounded.
    Type statesType = op.getStates().getType().getElementType();
    Type vNewType = op.getVNew().getType().getElementType();
    Value statesInit = sb.empty({seqs, numChunks, rewriter.getIndexAttr(keyDim),
                                 rewriter.getIndexAttr(valueDim)},
                                statesType);
    Value vNewInit = sb.empty({seqs, numChunks, rewriter.getIndexAttr(chunk),
                               rewriter.getIndexAttr(valueDim)},
                              vNewType);
    bool keepStates = !op.getStates().use_empty();
    bool keepVNew = !op.getVNew().use_empty();
    SmallVector<Value> inits = {op.getInitialState()};
    if (keepStates)
      inits.push_back(statesInit);
    if (keepVNew)
      inits.push_back(vNewInit);
    Value lb = arith::ConstantIndexOp::create(rewriter, loc, 0);
    Value ub = getValueOrCreateConstantIndexOp(rewriter, loc, numChunks);
    Value step = arith::ConstantIndexOp::create(rewriter, loc, 1);

    auto loop = scf::ForOp::create(
        rewriter, loc, lb, ub, step,
        inits, [&](OpBuilder &nb, Location nloc, Value c, ValueRange iter) {
          StructuredBuilder body(nb, nloc);
          Value state = iter[0];
          Value states = keepStates ? iter[1] : Value();
          Value vNew = keepVNew ? iter.back() : Value();
          OpFoldResult zero = nb.getIndexAttr(0), one = nb.getIndexAttr(1);
          auto idx = [&](int64_t v) -> OpFoldResult {
            return nb.getIndexAttr(v);
          };
          // The chunk `c` of a `[M, NC, ...]` tensor, without the NC dim.
          auto chunkOf = [&](Value t) -> Value {
            auto type = cast<RankedTensorType>(t.getType());
            SmallVector<OpFoldResult> offsets(type.getRank(), zero);
            offsets[1] = c;
            SmallVector<OpFoldResult> sizes = body.dims(t);
            sizes[1] = one;
            SmallVector<OpFoldResult> strides(type.getRank(), one);
            SmallVector<int64_t> shape(type.getShape());
            shape.erase(shape.begin() + 1);
            auto resultType =
                RankedTensorType::get(shape, type.getElementType());
            return tensor::ExtractSliceOp::create(nb, nloc, resultType, t,
                                                  offsets, sizes, strides);
          };
          // `dest` with chunk `c` replaced by `src` (which lacks the NC dim).
          auto withChunk = [&](Value src, Value dest) -> Value {
            auto type = cast<RankedTensorType>(dest.getType());
            SmallVector<OpFoldResult> offsets(type.getRank(), zero);
            offsets[1] = c;
            SmallVector<OpFoldResult> sizes = body.dims(dest);
            sizes[1] = one;
            SmallVector<OpFoldResult> strides(type.getRank(), one);
            return tensor::InsertSliceOp::create(nb, nloc, src, dest, offsets,
                                                 sizes, strides);
          };

          if (keepStates)
            states = withChunk(body.convertElementType(state, statesType),
                               states);
          Value k = chunkOf(op.getK()), w = chunkOf(op.getW()),
                u = chunkOf(op.getU()), g = chunkOf(op.getG());
          // A 16-bit u (narrow-u) is widened: v_new is computed in f32.
          u = body.convertElementType(u, f32);
          // v_new = u - w S.
          Value ws = product(body, w, state);
          // g_last = g[:, C - 1].
          auto lastOfChunk = [&]() -> Value {
            return tensor::ExtractSliceOp::create(
                nb, nloc, RankedTensorType::get({dynM}, f32), g,
                ArrayRef<OpFoldResult>{zero, idx(chunk - 1)},
                ArrayRef<OpFoldResult>{body.dim(g, 0), one},
                ArrayRef<OpFoldResult>{one, one});
          };
          AffineExpr m, x, y;
          bindDims(ctx, m, x, y);
          Value gLast, vNewChunk, kDecayedT, vNewDecayed;
          if (foldDecayIntoValues) {
            // One elementwise op gives v_new and its rows decayed,
            // v_new exp(g_last - g): C x V exps instead of C x K, and no
            // decayed copy of k (k is read transposed by the update).
            gLast = lastOfChunk();
            Value vInit = body.empty(body.dims(u), f32);
            Value dInit = body.empty(body.dims(u), f32);
            auto both = linalg::GenericOp::create(
                nb, nloc, TypeRange{vInit.getType(), dInit.getType()},
                ValueRange{u, ws, g, gLast}, ValueRange{vInit, dInit},
                ArrayRef<AffineMap>{body.affineMap(3, {m, x, y}),
                                    body.affineMap(3, {m, x, y}),
                                    body.affineMap(3, {m, x}),
                                    body.affineMap(3, {m}),
                                    body.affineMap(3, {m, x, y}),
                                    body.affineMap(3, {m, x, y})},
                SmallVector<IteratorType>(3, IteratorType::parallel),
                [](OpBuilder &bb, Location bl, ValueRange a) {
                  Value v = arith::SubFOp::create(bb, bl, a[0], a[1]);
                  Value decay = math::ExpOp::create(
                      bb, bl, arith::SubFOp::create(bb, bl, a[3], a[2]));
                  linalg::YieldOp::create(
                      bb, bl,
                      ValueRange{v, arith::MulFOp::create(bb, bl, v, decay)});
                });
            vNewChunk = both.getResult(0);
            vNewDecayed = both.getResult(1);
          } else {
            vNewChunk = body.map(
                ValueRange{u, ws}, {}, body.dims(u), f32,
                [](OpBuilder &bb, Location bl, ValueRange a) -> Value {
                  return arith::SubFOp::create(bb, bl, a[0], a[1]);
                });
          }
          if (keepVNew)
            vNew = withChunk(body.convertElementType(vNewChunk, vNewType),
                             vNew);
          if (!foldDecayIntoValues) {
            // (k exp(g_last - g))^T, `[M, K, C]` (the ops in the order the
            // CPU's code was measured with).
            gLast = lastOfChunk();
            if (decayFactorsOnce) {
              // exp(g_last - g) once per row of k (C exps, not C x K), times
              // the columns of k^T: the same transpose of k as gated_kkt's
              // (CSE'd), read with unit stride instead of transposed.
              Value decay = body.map(
                  ValueRange{g, gLast},
                  {AffineMap(), AffineMap::get(2, 0, {m}, ctx)},
                  body.dims(g), f32,
                  [](OpBuilder &bb, Location bl, ValueRange a) -> Value {
                    return math::ExpOp::create(
                        bb, bl, arith::SubFOp::create(bb, bl, a[1], a[0]));
                  });
              kDecayedT = body.map(
                  ValueRange{transposeLastTwo(body, k), decay},
                  {AffineMap(), body.affineMap(3, {m, y})},
                  {body.dim(k, 0), idx(keyDim), idx(chunk)}, f32,
                  [](OpBuilder &bb, Location bl, ValueRange a) -> Value {
                    return arith::MulFOp::create(bb, bl, a[0], a[1]);
                  });
            } else {
            kDecayedT = body.map(
                ValueRange{k, g, gLast},
                {body.affineMap(3, {m, y, x}), body.affineMap(3, {m, y}),
                 body.affineMap(3, {m})},
                {body.dim(k, 0), idx(keyDim), idx(chunk)}, f32,
                [](OpBuilder &bb, Location bl, ValueRange a) -> Value {
                  Value decay = math::ExpOp::create(
                      bb, bl, arith::SubFOp::create(bb, bl, a[2], a[1]));
                  return arith::MulFOp::create(bb, bl, a[0], decay);
                });
            }
          }

          // exp(g_last) S + kDecayedT v_new, updating S in place, or into a
          // new tensor when S is still read after the update (by the
          // chunk's output: bufferization would copy S first).
          Value stateDecayed;
          if (stateDecayOutOfPlace)
            stateDecayed = body.map(
                ValueRange{gLast, state}, {body.affineMap(3, {m})},
                body.dims(state), f32,
                [](OpBuilder &bb, Location bl, ValueRange a) -> Value {
                  return arith::MulFOp::create(
                      bb, bl, a[1], math::ExpOp::create(bb, bl, a[0]));
                });
          else
            stateDecayed = body.generic(
                gLast, state,
                {body.affineMap(3, {m}), body.affineMap(3, {m, x, y})},
                {IteratorType::parallel, IteratorType::parallel,
                 IteratorType::parallel},
                [](OpBuilder &bb, Location bl, ValueRange a) -> Value {
                  return arith::MulFOp::create(
                      bb, bl, a[1], math::ExpOp::create(bb, bl, a[0]));
                });
          Value next;
          if (foldDecayIntoValues && precision == TriInvPrecision::I8) {
            // Quantised operands need a plain matmul (scales per row of
            // k^T): the transpose is materialised.
            next = product(body, transposeLastTwo(body, k), vNewDecayed,
                           stateDecayed);
          } else if (foldDecayIntoValues) {
            // S += k^T (v_new exp(g_last - g)): a batch_matmul reading k
            // transposed through its indexing map (b, m, n, r) -> (b, r, m).
            // A named op, not a generic: elementwise fusion then does not
            // recompute the decayed v_new inside the contraction (which the
            // tensor-core pass would no longer recognise).
            AffineExpr bb, mm, nn, rr;
            bindDims(ctx, bb, mm, nn, rr);
            auto update = linalg::BatchMatmulOp::create(
                nb, nloc, TypeRange{stateDecayed.getType()},
                ValueRange{rounded(body, k), rounded(body, vNewDecayed)},
                ValueRange{stateDecayed});
            update.setIndexingMapsAttr(nb.getAffineMapArrayAttr(
                {body.affineMap(4, {bb, rr, mm}), body.affineMap(4, {bb, rr, nn}),
                 body.affineMap(4, {bb, mm, nn})}));
            next = update.getResult(0);
          } else {
            next = product(body, kDecayedT, vNewChunk, stateDecayed);
          }
          SmallVector<Value> yields = {next};
          if (keepStates)
            yields.push_back(states);
          if (keepVNew)
            yields.push_back(vNew);
          scf::YieldOp::create(nb, nloc, yields);
        });
    Value statesResult = keepStates ? loop.getResult(1) : statesInit;
    Value vNewResult = keepVNew ? loop.getResults().back() : vNewInit;
    rewriter.replaceOp(op,
                       ValueRange{statesResult, vNewResult, loop.getResult(0)});
    return success();
  }

  /// `S += k^T (v_new exp(g_last - g))` instead of
  /// `S += (k exp(g_last - g))^T v_new` (TargetInfo::foldsScanDecayIntoValues).
  bool foldDecayIntoValues;
  /// `exp(g_last) S` into a new tensor instead of S's
  /// (TargetInfo::decaysChunkStateOutOfPlace).
  bool stateDecayOutOfPlace;
};

struct DeltaNetLowerChunkStagesPass
    : public deltanet::impl::DeltaNetLowerChunkStagesBase<
          DeltaNetLowerChunkStagesPass> {
  using Base::Base;

  void runOnOperation() override {
    FailureOr<ChunkStagePrecisions> precisions =
        parseChunkStagePrecisionsOption(getOperation(), getArgument(),
                                        precision, stagePrecision);
    if (failed(precisions))
      return signalPassFailure();
    RewritePatternSet patterns(&getContext());
    populateLowerChunkStagesPatterns(patterns, foldScanDecayIntoValues,
                                     *precisions, triangularRowTile,
                                     triangularResultBlock, decayFactorsOnce,
                                     stateDecayOutOfPlace);
    walkAndApplyPatterns(getOperation(), std::move(patterns));
  }
};

} // namespace

llvm::Expected<ChunkStagePrecisions>
mlir::deltanet::parseChunkStagePrecisions(TriInvPrecision precision,
                                          ArrayRef<std::string> entries) {
  ChunkStagePrecisions precisions(precision);
  std::pair<StringLiteral, TriInvPrecision ChunkStagePrecisions::*> stages[] =
      {{"gated_kkt", &ChunkStagePrecisions::gatedKKT},
       {"wy_repr", &ChunkStagePrecisions::wyRepr},
       {"chunk_state_scan", &ChunkStagePrecisions::chunkStateScan},
       {"chunk_output", &ChunkStagePrecisions::chunkOutput}};
  llvm::StringSet<> seen;
  for (StringRef entry : entries) {
    StringRef stage, name;
    std::tie(stage, name) = entry.split('=');
    const auto *it = llvm::find_if(
        stages, [&](const auto &s) { return s.first == stage; });
    std::optional<TriInvPrecision> value = symbolizeTriInvPrecision(name);
    if (it == std::end(stages) || !value)
      return llvm::createStringError(
          "stage-precision entries are STAGE=PREC (STAGE: gated_kkt, "
          "wy_repr, chunk_state_scan, chunk_output; PREC: f32, bf16, f16, "
          "i8), got '" +
          entry + "'");
    if (!seen.insert(stage).second)
      return llvm::createStringError("stage-precision lists stage '" + stage +
                                     "' twice");
    precisions.*(it->second) = *value;
  }
  return precisions;
}

void mlir::deltanet::populateLowerChunkStagesPatterns(
    RewritePatternSet &patterns, bool foldScanDecayIntoValues,
    const ChunkStagePrecisions &precisions, int64_t triangularRowTile,
    int64_t triangularResultBlock, bool decayFactorsOnce,
    bool stateDecayOutOfPlace) {
  MLIRContext *ctx = patterns.getContext();
  patterns.add<LowerGatedKKT>(ctx, precisions.gatedKKT, triangularRowTile,
                              triangularResultBlock);
  patterns.add<LowerWYRepr>(ctx, precisions.wyRepr, triangularRowTile,
                            triangularResultBlock, decayFactorsOnce);
  patterns.add<LowerChunkOutput>(ctx, precisions.chunkOutput,
                                 triangularRowTile, triangularResultBlock,
                                 decayFactorsOnce);
  patterns.add<LowerChunkStateScan>(ctx, foldScanDecayIntoValues,
                                    precisions.chunkStateScan,
                                    decayFactorsOnce, stateDecayOutOfPlace);
}

FailureOr<ChunkStagePrecisions> mlir::deltanet::parseChunkStagePrecisionsOption(
    Operation *op, StringRef passName, TriInvPrecision precision,
    ArrayRef<std::string> entries) {
  llvm::Expected<ChunkStagePrecisions> precisions =
      parseChunkStagePrecisions(precision, entries);
  if (!precisions) {
    emitError(op->getLoc())
        << passName << ": " << llvm::toString(precisions.takeError());
    return failure();
  }
  return *precisions;
}
