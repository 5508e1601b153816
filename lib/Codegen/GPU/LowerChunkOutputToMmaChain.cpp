//===- LowerChunkOutputToMmaChain.cpp - 16-bit output stage as an mma chain ===//
//
// A 16-bit deltanet.chunk_output (k, v_new, state in bf16 / f16) -> one
// gpu.launch in FlashAttention-2's structure: a block per (chunk, tile of
// value columns), each warp owning 16 query rows:
//
//   P = q k^T                       (m16n8 f32 accumulators; A = q rows by
//                                    ldmatrix, B = k [C][K]: ldmatrix)
//   P = P * exp(g_i - g_j) * scale, 0 above the diagonal   (in registers)
//   O = (q * exp(g) * scale) state  (B = state [K][BV]: ldmatrix.trans)
//   O += P v_new                    (A = P's accumulators rounded to 16
//                                    bits, no shared round trip; B = v_new
//                                    [C][BV]: ldmatrix.trans)
//
// The column tiles of P above warp w's last row (16 w + 15) are zero and
// skipped, and so are their products with v_new. q and k are read from the
// tensors the pipeline gathers them from (a linalg.generic copy / extf of a
// 16-bit input, through a collapse_shape), o is written through the
// pipeline's scatter into the caller's layout (a linalg.generic truncf
// whose input map is dims and floordiv / mod pairs), straight into the
// function's out-parameter where the scatter only fills it.
//
// Hand-written because upstream cannot express this: its vector / nvgpu
// lowerings (and ours in MatmulsToMmaSync.cpp) take every product's operands
// from memory, so the generic output stage round-trips q k^T through shared
// memory. The fragment helpers are MmaChainBuilder's.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Codegen/GPU/Passes.h"

#include "CallerDestination.h"
#include "ChunkOperandSource.h"
#include "MmaChainBuilder.h"

#include "deltanet/Dialect/DeltaNet/IR/DeltaNetDialect.h"
#include "deltanet/Dialect/DeltaNet/IR/DeltaNetOps.h"
#include "mlir/Dialect/Affine/Utils.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir {
namespace deltanet {
#define GEN_PASS_DEF_DELTANETGPULOWERCHUNKOUTPUTTOMMACHAIN
#include "deltanet/Codegen/GPU/Passes.h.inc"
} // namespace deltanet
} // namespace mlir

using namespace mlir;
using namespace mlir::deltanet;

namespace {

/// The output stage's sizes: chunks (N), chunk length, key and value width,
/// and the 16-bit product type.
struct OutputShape {
  int64_t chunks, chunk, keys, values;
  Type element;
};

/// Where a [N][R][W] operand or result lives: element (n, r, w) is
/// `tensor[map(n_0, ..., n_p, r, w)]`, n delinearized over `nShape`.
struct Access {
  Value tensor;
  SmallVector<int64_t> nShape;
  AffineMap map;
};

/// q / k ([N][C][K]) read from the 16-bit tensor the pipeline gathers them
/// from (ChunkOperandSource: an elementwise copy, through a collapse_shape of
/// the leading dims) when the copy's last index is its last dim (16-byte
/// rows); or the operand itself when it is already `element`. With
/// `widened` (q), the source may be either 16-bit type (the kernel converts
/// its fragments).
FailureOr<Access> traceSource(Value operand, Type element,
                              bool widened = false) {
  auto type = cast<RankedTensorType>(operand.getType());
  ChunkOperandSource source = traceChunkOperand(operand);
  if (source.copy) {
    Type inElement = source.sourceElement();
    AffineMap map = source.map;
    if ((inElement == element ||
         (widened && (inElement.isBF16() || inElement.isF16()))) &&
        map.getResults().back() ==
            getAffineDimExpr(map.getNumDims() - 1, map.getContext()) &&
        cast<RankedTensorType>(source.tensor.getType()).getShape().back() %
                8 ==
            0)
      return Access{source.tensor, source.chunkShape, map};
  }
  if (type.getElementType() != element)
    return failure();
  return Access{operand, {type.getDimSize(0)},
                AffineMap::getMultiDimIdentityMap(3, operand.getContext())};
}

/// The inverse of a scatter's input map whose results are dims and
/// (d floordiv c, d mod c) pairs: each dim of the scatter's domain as an
/// expression of the input's coordinates; null where it is not so.
AffineMap invertScatterMap(AffineMap map) {
  MLIRContext *ctx = map.getContext();
  int64_t dims = map.getNumDims();
  SmallVector<AffineExpr> direct(dims), hi(dims), lo(dims);
  SmallVector<int64_t> hiFactor(dims, 0), loFactor(dims, 0);
  for (auto [j, expr] : llvm::enumerate(map.getResults())) {
    AffineExpr coordinate = getAffineDimExpr(j, ctx);
    if (auto dim = dyn_cast<AffineDimExpr>(expr)) {
      direct[dim.getPosition()] = coordinate;
      continue;
    }
    auto binary = dyn_cast<AffineBinaryOpExpr>(expr);
    if (!binary)
      return AffineMap();
    auto dim = dyn_cast<AffineDimExpr>(binary.getLHS());
    auto factor = dyn_cast<AffineConstantExpr>(binary.getRHS());
    if (!dim || !factor)
      return AffineMap();
    if (expr.getKind() == AffineExprKind::FloorDiv) {
      hi[dim.getPosition()] = coordinate;
      hiFactor[dim.getPosition()] = factor.getValue();
    } else if (expr.getKind() == AffineExprKind::Mod) {
      lo[dim.getPosition()] = coordinate;
      loFactor[dim.getPosition()] = factor.getValue();
    } else {
      return AffineMap();
    }
  }
  SmallVector<AffineExpr> results;
  for (int64_t d = 0; d < dims; ++d) {
    if (direct[d])
      results.push_back(direct[d]);
    else if (hi[d] && lo[d] && hiFactor[d] == loFactor[d])
      results.push_back(hi[d] * hiFactor[d] + lo[d]);
    else
      return AffineMap();
  }
  return AffineMap::get(map.getNumResults(), 0, results, ctx);
}

/// The scatter of o into the caller's layout (o -> expand_shape of the
/// leading dim -> elementwise copy, the value column the last index on both
/// sides), if o has no other use.
linalg::GenericOp scatterOf(ChunkOutputOp op, Access &sink) {
  Value o = op.getO();
  if (!o.hasOneUse())
    return {};
  auto expand = dyn_cast<tensor::ExpandShapeOp>(*o.user_begin());
  if (!expand || !expand.getResult().hasOneUse())
    return {};
  SmallVector<ReassociationIndices> groups = expand.getReassociationIndices();
  if (groups.size() != 3 || groups[1].size() != 1 || groups[2].size() != 1)
    return {};
  auto generic = dyn_cast<linalg::GenericOp>(*expand->user_begin());
  if (!generic || elementCopyOf(generic) == ElementCopy::None)
    return {};
  AffineMap inverse =
      invertScatterMap(generic.getMatchingIndexingMap(
          generic.getDpsInputOperand(0)));
  if (!inverse || inverse.getResults().back() !=
                      getAffineDimExpr(inverse.getNumDims() - 1,
                                       op.getContext()))
    return {};
  ArrayRef<int64_t> shape = expand.getResultType().getShape();
  sink.nShape.assign(shape.begin(), shape.begin() + groups[0].size());
  sink.map = inverse;
  return generic;
}

/// Why the output stage keeps the generic path, or an empty string.
std::string unsupportedReason(ChunkOutputOp op, OutputShape &shape) {
  auto type = [](Value v) { return cast<RankedTensorType>(v.getType()); };
  Type element;
  std::string reason = chainPreconditionFailure(op, op.getK(), "k", element);
  if (!reason.empty())
    return reason;
  if (type(op.getVNew()).getElementType() != element ||
      type(op.getState()).getElementType() != element)
    return "v_new and state are not k's type";
  ArrayRef<int64_t> k = type(op.getK()).getShape();
  shape = {k[0], k[1], k[2], type(op.getVNew()).getDimSize(2), element};
  if (shape.chunk % 16 != 0 || shape.chunk > 128)
    return "chunk length not a multiple of 16 or above 128";
  if (shape.keys % 16 != 0 || shape.keys > 256)
    return "K not a multiple of 16 or above 256 (q's registers)";
  if (shape.values % 16 != 0)
    return "V not a multiple of 16";
  if (shape.chunks < 1)
    return "no chunks";
  if (failed(traceSource(op.getQ(), element, /*widened=*/true)))
    return "q is not a widened bf16 / f16 tensor (a gather / extf of one)";
  return "";
}

/// The value tile: `requested`, else 64 where it divides V, else V (on an
/// H200 at V = 128, value-tile=128 measured faster: docs/GPU.md).
/// Shared memory of one block: q and k [C][K + padding], v_new [C][BV +
/// padding], state [K][BV + padding] (16-bit), g [C] (f32).
int64_t sharedBytesOf(const OutputShape &s, int64_t tile, int64_t padding) {
  return 2 * (2 * s.chunk * (s.keys + padding) +
              (s.chunk + s.keys) * (tile + padding)) +
         4 * s.chunk;
}

/// The requested value tile, else the largest of 128 and 64 that divides V
/// and fits in shared memory (H200, large shape: 0.110 ms at 128, 0.130 at
/// 64; docs/GPU.md, session 14), else V.
int64_t chooseValueTile(const OutputShape &s, int64_t requested,
                        int64_t padding) {
  if (requested > 0)
    return requested;
  for (int64_t tile : {128, 64})
    if (s.values % tile == 0 &&
        sharedBytesOf(s, tile, padding) <= kChainMaxSharedBytes)
      return tile;
  return s.values;
}

/// Builds the launch body.
struct OutputChainBuilder : MmaChainBuilder {
  OutputShape s;
  int64_t tile, padding;
  float scale;
  // Sources and the destination (buffers with their index maps).
  Access q, k, vNew, state, g, o;
  Value qBuf, kBuf, vBuf, sBuf, gBuf, oBuf;
  // Staged (workgroup memory).
  Value qStaged, kStaged, vStaged, sStaged, gStaged;
  // The block's chunk and first value column; the lane's rows.
  Value chunkId, col0, rowLo, rowHi;

  OutputChainBuilder(OpBuilder &b, Location loc, OutputShape s, int64_t tile,
                     int64_t padding, float scale)
      : MmaChainBuilder(b, loc, s.element, s.chunk / 16), s(s), tile(tile),
        padding(padding), scale(scale) {}

  /// Indices of element (n, r, w) of `access`.
  SmallVector<Value> indicesOf(const Access &access, Value n, Value r,
                               Value w) {
    SmallVector<Value> dims(access.nShape.size());
    for (int64_t d = access.nShape.size() - 1; d >= 0; --d) {
      dims[d] = d ? rem(n, access.nShape[d]) : n;
      if (d)
        n = div(n, access.nShape[d]);
    }
    dims.append({r, w});
    SmallVector<Value> indices;
    for (AffineExpr expr : access.map.getResults())
      indices.push_back(affine::expandAffineExpr(b, loc, expr, dims, {}));
    return indices;
  }

  /// cp.async copies (16 bytes each, spread over the block's threads) of
  /// `rows` x `width` elements of this block's chunk of `access` (columns
  /// from `srcCol0`) into `dst` ([rows][..]); with `tokens` null, the same
  /// pieces as element loads and stores (sources not 16-byte aligned).
  void copyTile(const Access &access, Value src, Value dst, int64_t rows,
                int64_t width, Value srcCol0, SmallVector<Value> *tokens) {
    int64_t perCopy = elementsPer16Bytes(src);
    forEachPiece(rows, width, perCopy, ExtraThreads::RepeatLastRow,
                 [&](Value row, Value col) {
                   if (tokens) {
                     asyncCopy(dst, {row, col}, src,
                               indicesOf(access, chunkId, row,
                                         add(srcCol0, col)),
                               perCopy, *tokens);
                     return;
                   }
                   for (int64_t e = 0; e < perCopy; ++e) {
                     SmallVector<Value> srcIndices = indicesOf(
                         access, chunkId, row, add(add(srcCol0, col), e));
                     Value v = memref::LoadOp::create(b, loc, src, srcIndices);
                     memref::StoreOp::create(b, loc, v, dst,
                                             ValueRange{row, add(col, e)});
                   }
                 });
  }

  Value constF32(float v) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
  }

  /// A fragment `a` (16-bit) with its rows group / group + 8 scaled by
  /// `lo` / `hi` (f32), rounded back.
  Value scaleRows(Value a, Value lo, Value hi) {
    auto wide = VectorType::get({4, 2}, b.getF32Type());
    Value x = arith::ExtFOp::create(b, loc, wide, a);
    Value factors = vector::FromElementsOp::create(
        b, loc, wide, ValueRange{lo, lo, hi, hi, lo, lo, hi, hi});
    x = arith::MulFOp::create(b, loc, x, factors);
    return arith::TruncFOp::create(b, loc, aFrag, x);
  }

  /// `body(accs)` for the accumulators `accs` when `cond`, else `accs`
  /// unchanged (scf.if yielding them).
  SmallVector<Value>
  guarded(Value cond, ArrayRef<Value> accs,
          function_ref<SmallVector<Value>(SmallVector<Value>)> body) {
    SmallVector<Type> types(accs.size(), acc);
    auto ifOp = scf::IfOp::create(b, loc, types, cond, true, true);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(ifOp.thenBlock());
      scf::YieldOp::create(b, loc, body(SmallVector<Value>(accs)));
      b.setInsertionPointToStart(ifOp.elseBlock());
      scf::YieldOp::create(b, loc, accs);
    }
    return SmallVector<Value>(ifOp.getResults());
  }

  void build(Value blockX, Value blockY, Value threadX) {
    setFragmentTypes();
    qStaged = workgroupAlloc({s.chunk, s.keys + padding},
                     cast<MemRefType>(qBuf.getType()).getElementType());
    kStaged = workgroupAlloc({s.chunk, s.keys + padding}, s.element);
    vStaged = workgroupAlloc({s.chunk, tile + padding}, s.element);
    sStaged = workgroupAlloc({s.keys, tile + padding}, s.element);
    gStaged = workgroupAlloc({1, s.chunk}, b.getF32Type());
    setUpLaneIds(threadX);
    chunkId = blockX;
    col0 = mul(blockY, tile);

    // q and k may be the caller's buffers, which need not be 16-byte
    // aligned (cp.async's requirement): checked here, uniformly, with
    // element copies otherwise.
    Value aligned = allSixteenByteAligned(b, loc, {qBuf, kBuf});
    auto copyAll = [&](SmallVector<Value> *tokens) {
      copyTile(q, qBuf, qStaged, s.chunk, s.keys, idx(0), tokens);
      copyTile(k, kBuf, kStaged, s.chunk, s.keys, idx(0), tokens);
      copyTile(state, sBuf, sStaged, s.keys, tile, col0, tokens);
      copyTile(vNew, vBuf, vStaged, s.chunk, tile, col0, tokens);
      copyTile(g, gBuf, gStaged, 1, s.chunk, idx(0), tokens);
    };
    auto ifAligned =
        scf::IfOp::create(b, loc, aligned, /*withElseRegion=*/true);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(ifAligned.thenBlock()->getTerminator());
      SmallVector<Value> tokens;
      copyAll(&tokens);
      waitForCopies(tokens);
      b.setInsertionPoint(ifAligned.elseBlock()->getTerminator());
      copyAll(nullptr);
    }
    gpu::BarrierOp::create(b, loc);

    Value row0 = mul(warp, 16);
    rowLo = add(row0, group);
    rowHi = add(rowLo, 8);
    Value gLo = memref::LoadOp::create(b, loc, gStaged, ValueRange{idx(0), rowLo});
    Value gHi = memref::LoadOp::create(b, loc, gStaged, ValueRange{idx(0), rowHi});
    Value scaleV = constF32(scale);
    Value eLo = arith::MulFOp::create(b, loc, math::ExpOp::create(b, loc, gLo),
                                      scaleV);
    Value eHi = arith::MulFOp::create(b, loc, math::ExpOp::create(b, loc, gHi),
                                      scaleV);

    // q's A fragments (rows row0 .. row0 + 15, all of K).
    Value rowInTile = rem(lane, 8), matrix = div(lane, 8);
    // q staged in its input's 16-bit type, converted where the products'
    // differs (a bf16 q under chunk-precision=f16).
    Type qElement = cast<MemRefType>(qStaged.getType()).getElementType();
    SmallVector<Value> aQ;
    for (int64_t ks = 0; ks < s.keys / 16; ++ks) {
      Value row = add(add(row0, mul(rem(matrix, 2), 8)), rowInTile);
      Value col = add(mul(div(matrix, 2), 8), ks * 16);
      Value a = nvgpu::LdMatrixOp::create(
          b, loc, VectorType::get({4, 2}, qElement), qStaged,
          ValueRange{row, col}, /*transpose=*/false, /*numTiles=*/4u);
      if (qElement != s.element)
        a = arith::TruncFOp::create(
            b, loc, aFrag,
            arith::ExtFOp::create(
                b, loc, VectorType::get({4, 2}, b.getF32Type()), a));
      aQ.push_back(a);
    }

    // O = (q exp(g) scale) state: B = state [K][BV] by ldmatrix.trans.
    Value zero = arith::ConstantOp::create(b, loc, acc, b.getZeroAttr(acc));
    SmallVector<Value> out(tile / 8, zero);
    Value rowHalf = mul(rem(matrix, 2), 8), colHalf = mul(div(matrix, 2), 8);
    for (int64_t ks = 0; ks < s.keys / 16; ++ks) {
      Value a = scaleRows(aQ[ks], eLo, eHi);
      Value row = add(add(rowInTile, rowHalf), ks * 16);
      for (int64_t jv = 0; jv < tile / 8; jv += 2) {
        Value loaded =
            ldmatrix(sStaged, ValueRange{row, add(colHalf, jv * 8)}, 4, true);
        out[jv] = mma(a, bFragment(loaded, 0), out[jv]);
        out[jv + 1] = mma(a, bFragment(loaded, 2), out[jv + 1]);
      }
    }

    // P = q k^T, the column tiles of 16 keys up to the warp's rows only
    // (B = k [C][K]: mma's "col" B, ldmatrix non-trans).
    SmallVector<Value> p(s.chunk / 8, zero);
    for (int64_t cs = 0; cs < s.chunk / 16; ++cs) {
      Value live = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ule,
                                         idx(cs), warp);
      SmallVector<Value> pair{p[2 * cs], p[2 * cs + 1]};
      pair = guarded(live, pair, [&](SmallVector<Value> accs) {
        for (int64_t jn = 0; jn < 2; ++jn) {
          Value row = add(rowInTile, (2 * cs + jn) * 8);
          for (int64_t ks = 0; ks < s.keys / 16; ks += 2) {
            bool two = ks + 1 < s.keys / 16;
            Value col = add(mul(two ? matrix : rem(matrix, 2), 8), ks * 16);
            Value loaded =
                ldmatrix(kStaged, ValueRange{row, col}, two ? 4 : 2, false);
            accs[jn] = mma(aQ[ks], bFragment(loaded, 0), accs[jn]);
            if (two)
              accs[jn] = mma(aQ[ks + 1], bFragment(loaded, 2), accs[jn]);
          }
        }
        return accs;
      });
      p[2 * cs] = pair[0];
      p[2 * cs + 1] = pair[1];
    }

    // P * exp(g_i - g_j) * scale on and below the diagonal, 0 above.
    Value zeroF = constF32(0.0f);
    for (int64_t jn = 0; jn < s.chunk / 8; ++jn) {
      SmallVector<Value> elements;
      for (int64_t i = 0; i < 4; ++i) {
        Value col = add(mul(quad, 2), jn * 8 + i % 2);
        Value row = i / 2 ? rowHi : rowLo;
        Value gRow = i / 2 ? gHi : gLo;
        Value gCol =
            memref::LoadOp::create(b, loc, gStaged, ValueRange{idx(0), col});
        Value decay = math::ExpOp::create(
            b, loc, arith::SubFOp::create(b, loc, gRow, gCol));
        Value v = vector::ExtractOp::create(b, loc, p[jn],
                                            ArrayRef<int64_t>{i / 2, i % 2});
        v = arith::MulFOp::create(
            b, loc, v, arith::MulFOp::create(b, loc, decay, scaleV));
        Value causal = arith::CmpIOp::create(
            b, loc, arith::CmpIPredicate::ule, col, row);
        elements.push_back(arith::SelectOp::create(b, loc, causal, v, zeroF));
      }
      p[jn] = vector::FromElementsOp::create(b, loc, acc, elements);
    }

    // O += P v_new: A = P's accumulators, B = v_new [C][BV] by
    // ldmatrix.trans; the token steps up to the warp's rows only.
    for (int64_t cs = 0; cs < s.chunk / 16; ++cs) {
      Value live = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ule,
                                         idx(cs), warp);
      out = guarded(live, out, [&](SmallVector<Value> accs) {
        Value a = aFromAccumulators(p[2 * cs], p[2 * cs + 1], false);
        Value row = add(add(rowInTile, rowHalf), cs * 16);
        for (int64_t jv = 0; jv < tile / 8; jv += 2) {
          Value loaded =
              ldmatrix(vStaged, ValueRange{row, add(colHalf, jv * 8)}, 4, true);
          accs[jv] = mma(a, bFragment(loaded, 0), accs[jv]);
          accs[jv + 1] = mma(a, bFragment(loaded, 2), accs[jv + 1]);
        }
        return accs;
      });
    }

    // o: each lane's two adjacent columns as one 2-element store.
    Type oElement = cast<MemRefType>(oBuf.getType()).getElementType();
    auto pairType = VectorType::get({2}, oElement);
    for (int64_t jv = 0; jv < tile / 8; ++jv) {
      Value col = add(add(col0, mul(quad, 2)), jv * 8);
      for (int64_t r = 0; r < 2; ++r) {
        Value pair = vector::ExtractOp::create(b, loc, out[jv], r);
        if (oElement != b.getF32Type())
          pair = arith::TruncFOp::create(b, loc, pairType, pair);
        SmallVector<Value> indices =
            indicesOf(o, chunkId, r ? rowHi : rowLo, col);
        vector::StoreOp::create(b, loc, pair, oBuf, indices);
      }
    }
  }
};

struct ChunkOutputToMmaChain : public OpRewritePattern<ChunkOutputOp> {
  ChunkOutputToMmaChain(MLIRContext *context, int64_t valueTile,
                        int64_t padding)
      : OpRewritePattern(context), valueTile(valueTile), padding(padding) {}

  LogicalResult matchAndRewrite(ChunkOutputOp op,
                                PatternRewriter &rewriter) const override {
    OutputShape shape;
    std::string reason = unsupportedReason(op, shape);
    if (!reason.empty())
      return rewriter.notifyMatchFailure(op, reason);
    int64_t tile = chooseValueTile(shape, valueTile, padding);
    if (tile % 16 != 0 || shape.values % tile != 0)
      return rewriter.notifyMatchFailure(
          op, "value-tile " + std::to_string(tile) +
                  " is not a multiple of 16 dividing V = " +
                  std::to_string(shape.values));
    int64_t sharedBytes = sharedBytesOf(shape, tile, padding);
    if (sharedBytes > kChainMaxSharedBytes)
      return rewriter.notifyMatchFailure(
          op, "the staged operands need " + std::to_string(sharedBytes) +
                  " B of shared memory (at most " +
                  std::to_string(kChainMaxSharedBytes) + ")");
    Location loc = op.getLoc();
    auto bufferOf = [&](Value tensor) {
      return readOnlyBufferOf(rewriter, loc, tensor);
    };
    OutputChainBuilder chain(rewriter, loc, shape, tile, padding,
                             op.getScale().convertToFloat());
    auto identity = [&](Value v) {
      int64_t rank = cast<RankedTensorType>(v.getType()).getRank();
      return Access{v, {cast<RankedTensorType>(v.getType()).getDimSize(0)},
                    AffineMap::getMultiDimIdentityMap(rank, op.getContext())};
    };
    chain.q = *traceSource(op.getQ(), shape.element, /*widened=*/true);
    FailureOr<Access> k = traceSource(op.getK(), shape.element);
    chain.k = *k;
    chain.vNew = identity(op.getVNew());
    chain.state = identity(op.getState());
    // g [N][C] read as [N][1][C].
    chain.g = Access{op.getG(), {shape.chunks},
                     AffineMap::get(3, 0,
                                    {getAffineDimExpr(0, op.getContext()),
                                     getAffineDimExpr(2, op.getContext())},
                                    op.getContext())};
    chain.qBuf = bufferOf(chain.q.tensor);
    chain.kBuf = bufferOf(chain.k.tensor);
    chain.vBuf = bufferOf(op.getVNew());
    chain.sBuf = bufferOf(op.getState());
    chain.gBuf = bufferOf(op.getG());

    // The destination: the scatter's (its out-parameter where it only
    // fills one), else o itself.
    Access sink;
    linalg::GenericOp scatter = scatterOf(op, sink);
    Value replaced = scatter ? scatter.getResult(0) : op.getO();
    auto resultType = cast<RankedTensorType>(replaced.getType());
    CallerDestination fill =
        scatter ? findCallerDestination(replaced) : CallerDestination();
    if (fill) {
      chain.oBuf = fill.buffer(rewriter, loc);
    } else {
      chain.oBuf = memref::AllocOp::create(
          rewriter, loc,
          MemRefType::get(resultType.getShape(), resultType.getElementType()));
    }
    chain.o = scatter ? sink : identity(op.getO());

    Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
    Value chunks = arith::ConstantIndexOp::create(rewriter, loc, shape.chunks);
    Value tiles =
        arith::ConstantIndexOp::create(rewriter, loc, shape.values / tile);
    Value threads = arith::ConstantIndexOp::create(
        rewriter, loc, kChainWarpSize * shape.chunk / 16);
    auto launch = gpu::LaunchOp::create(rewriter, loc, chunks, tiles, one,
                                        threads, one, one);
    {
      OpBuilder::InsertionGuard guard(rewriter);
      Block &body = launch.getBody().front();
      rewriter.setInsertionPointToEnd(&body);
      auto terminator = gpu::TerminatorOp::create(rewriter, loc);
      rewriter.setInsertionPoint(terminator);
      chain.build(launch.getBlockIds().x, launch.getBlockIds().y,
                  launch.getThreadIds().x);
    }
    if (fill) {
      fill.erase(rewriter);
      Operation *expand = *op.getO().user_begin();
      rewriter.eraseOp(scatter);
      rewriter.eraseOp(expand);
      rewriter.eraseOp(op);
      return success();
    }
    Value result = bufferization::ToTensorOp::create(
        rewriter, loc, resultType, chain.oBuf, /*restrict=*/true,
        /*writable=*/true);
    if (scatter) {
      Operation *expand = *op.getO().user_begin();
      rewriter.replaceOp(scatter, result);
      rewriter.eraseOp(expand);
      rewriter.eraseOp(op);
    } else {
      rewriter.replaceOp(op, result);
    }
    return success();
  }

  int64_t valueTile, padding;
};

struct LowerChunkOutputToMmaChainPass
    : public deltanet::impl::DeltaNetGpuLowerChunkOutputToMmaChainBase<
          LowerChunkOutputToMmaChainPass> {
  using Base::Base;

  void runOnOperation() override {
    if (valueTile < 0 || valueTile % 16 != 0 || rowPadding < 0 ||
        rowPadding % 8 != 0) {
      getOperation().emitError()
          << getArgument()
          << ": value-tile must be 0 or a positive multiple of 16 and "
             "row-padding a multiple of 8";
      return signalPassFailure();
    }
    // Collected first: a rewrite erases the scatter and its fill after the
    // op (walkAndApplyPatterns allows erasing the matched op only).
    SmallVector<ChunkOutputOp> ops;
    getOperation().walk([&](ChunkOutputOp op) { ops.push_back(op); });
    ChunkOutputToMmaChain pattern(&getContext(), valueTile, rowPadding);
    PatternRewriter rewriter(&getContext());
    for (ChunkOutputOp op : ops) {
      rewriter.setInsertionPoint(op);
      (void)pattern.matchAndRewrite(op, rewriter);
    }
  }
};

} // namespace
