//===- LowerChunkPrologueToMmaChain.cpp - 16-bit prologue as an mma chain -===//
//
// A 16-bit chunk prologue (deltanet.gated_kkt -> deltanet.tri_inv ->
// deltanet.wy_repr, w in bf16 / f16) -> one gpu.launch per (chunk, value
// head) in which warp i owns rows 16 i .. 16 i + 15 of every C x C matrix and
// keeps them in m16n8 f32 accumulator fragments from A = K K^T to the WY
// products; every product's A operand is the previous product's
// accumulators (FlashAttention-2's trick, as in
// LowerChunkStateScanToMmaChain.cpp), B operands come from shared memory by
// ldmatrix:
//
//   A  = tril(beta_i exp(g_i - g_j) (K K^T)_ij, -1)    (masked in registers)
//   X  = I - A,  P = A^2;  m = 1 .. log2(C) - 1:  X += X P,  P = P P
//        (X = (I - A)(I + A^2)(I + A^4) ... = (I + A)^-1, exact for a
//        strictly lower C x C A: A^C = 0; P through shared memory, rows of
//        every warp)
//   w  = (X diag(beta exp(g))) K,  u = (X diag(beta)) V
//        (the scalings on X's columns in registers, B = K, V [C][D] in
//        shared memory read along C: ldmatrix.trans)
//
// k, v and beta are read where the decomposition's gathers read them (the
// [B, T, H, D] inputs, head hv / (HV / H)) when the operand is such a gather,
// so those f32 copies are not materialised; a 16-bit source is staged with
// cp.async, guarded by a host-side 16-byte alignment test (a second launch
// with element loads otherwise).
//
// Hand-written because upstream cannot express this: its vector / nvgpu
// lowerings (and ours in MatmulsToMmaSync.cpp) take every product's operands
// from memory, so the generic prologue round-trips A, the inverse's levels
// and T through shared memory (f32), with a barrier between phases; and the
// matrix inverse is not a linalg op upstream can tile into a fused kernel.
//
// Fragment coordinates as in LowerChunkStateScanToMmaChain.cpp (lane = 4 *
// group + quad): an accumulator fragment (vector<2x2xf32>) holds rows group
// and group + 8, columns 2 * quad + {0, 1}. The fragment helpers are
// MmaChainBuilder's, shared with the scan and output chains.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Codegen/GPU/Passes.h"

#include "ChunkOperandSource.h"
#include "MmaChainBuilder.h"

#include "deltanet/Dialect/DeltaNet/IR/DeltaNetDialect.h"
#include "deltanet/Dialect/DeltaNet/IR/DeltaNetOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/WalkPatternRewriteDriver.h"

namespace mlir {
namespace deltanet {
#define GEN_PASS_DEF_DELTANETGPULOWERCHUNKPROLOGUETOMMACHAIN
#include "deltanet/Codegen/GPU/Passes.h.inc"
} // namespace deltanet
} // namespace mlir

using namespace mlir;
using namespace mlir::deltanet;

namespace {


/// Where a [N, C(, D)] operand's elements are read. Either the operand
/// itself (`gathered` false: element (n, t, d) at [n, t, d]), or the source
/// of the decomposition's gather (`gathered`: a [B, T, H(, D)] tensor, chunk
/// n = (b, hv, c) over [B, HV, NC], element (n, t, d) at [b, c C + t, hv /
/// headRatio, d]).
struct Source {
  Value operand, tensor;
  bool gathered = false;
  int64_t headRatio = 1;
  // Gathered: value heads HV and chunks per sequence NC of the gather.
  int64_t heads = 1, chunksPerSequence = 1;
};

/// `operand` ([N, C(, D)], f32) read where the decomposition's chunk gather
/// that produced it (through a collapse_shape of (b, hv, c)) reads it, or
/// as itself.
Source sourceOf(Value operand) {
  ChunkOperandSource source = traceChunkOperand(operand);
  if (source.isChunkGather() && source.chunkShape.size() == 3)
    return {operand, source.tensor, true, source.headRatio,
            source.valueHeads, source.chunksPerSequence};
  return {operand, operand};
}

/// Whether `op` is the decomposition's in-chunk cumulative sum of a [N, C]
/// tensor: out[n, i] = sum_{j <= i} in[n, j] (a masked reduction from 0).
bool isChunkCumsum(linalg::GenericOp op) {
  if (op.getNumDpsInputs() != 1 || op.getNumDpsInits() != 1 ||
      op.getNumLoops() != 3 || op.getNumReductionLoops() != 1)
    return false;
  MLIRContext *ctx = op.getContext();
  AffineExpr n, i, j;
  bindDims(ctx, n, i, j);
  if (op.getIndexingMapsArray() !=
      SmallVector<AffineMap>{AffineMap::get(3, 0, {n, j}, ctx),
                             AffineMap::get(3, 0, {n, i}, ctx)})
    return false;
  auto fill = op.getDpsInits()[0].getDefiningOp<linalg::FillOp>();
  if (!fill || !matchPattern(fill.value(), m_AnyZeroFloat()))
    return false;
  Block *body = op.getBody();
  auto add = dyn_cast_or_null<arith::AddFOp>(
      body->getTerminator()->getOperand(0).getDefiningOp());
  if (!add || add.getLhs() != body->getArgument(1))
    return false;
  auto select = add.getRhs().getDefiningOp<arith::SelectOp>();
  if (!select || select.getTrueValue() != body->getArgument(0) ||
      !matchPattern(select.getFalseValue(), m_AnyZeroFloat()))
    return false;
  auto cmp = select.getCondition().getDefiningOp<arith::CmpIOp>();
  if (!cmp || cmp.getPredicate() != arith::CmpIPredicate::ule)
    return false;
  auto col = cmp.getLhs().getDefiningOp<linalg::IndexOp>();
  auto row = cmp.getRhs().getDefiningOp<linalg::IndexOp>();
  return col && row && col.getDim() == 2 && row.getDim() == 1;
}

/// The prologue's sizes: chunks N (B x HV x NC when gathered), chunk length,
/// key and value width, the chunks of a sequence and the value heads (for
/// gathered operands), and the 16-bit product type.
struct PrologueShape {
  int64_t chunks, chunk, keys, values, chunksPerSequence = 1, heads = 1;
  Type element;
};

/// Why the prologue keeps the generic path, or an empty string.
std::string unsupportedReason(WYReprOp wy, GatedKKTOp &kkt,
                              PrologueShape &shape) {
  auto type = [](Value v) { return cast<RankedTensorType>(v.getType()); };
  auto inverse = wy.getT().getDefiningOp<TriInvOp>();
  if (!inverse || !inverse->hasOneUse())
    return "t is not a tri_inv read only by this wy_repr";
  kkt = inverse.getOperand().getDefiningOp<GatedKKTOp>();
  if (!kkt || !kkt->hasOneUse())
    return "the tri_inv's operand is not a gated_kkt read only by it";
  if (kkt.getK() != wy.getK() || kkt.getG() != wy.getG() ||
      kkt.getBeta() != wy.getBeta())
    return "gated_kkt and wy_repr read different k, g or beta";
  Type element;
  std::string reason = chainPreconditionFailure(wy, wy.getW(), "w", element);
  if (!reason.empty())
    return reason;
  Type f32 = Float32Type::get(wy.getContext());
  if (type(wy.getU()).getElementType() != f32)
    return "u must be f32";
  if (type(kkt.getA()).getElementType() != f32)
    return "a must be f32";
  ArrayRef<int64_t> k = type(wy.getK()).getShape();
  ArrayRef<int64_t> v = type(wy.getV()).getShape();
  if (k.size() != 3 || v.size() != 3)
    return "k / v not [N, C, D]";
  shape = {k[0], k[1], k[2], v[2], 1, 1, element};
  if (shape.chunk != 16 && shape.chunk != 32 && shape.chunk != 64)
    return "chunk length not 16, 32 or 64 (one warp per 16 rows, the rows' "
           "C / 8 fragments in registers)";
  if (shape.keys % 16 != 0 || shape.keys > 128 || shape.values % 16 != 0 ||
      shape.values > 128)
    return "K or V not a multiple of 16 or above 128 (the w / u registers)";
  if (shape.chunks < 1 || shape.chunks > 2147483647)
    return "no chunks, or more than the grid's x dimension";
  return "";
}

/// Shared memory of one block: k [C][K + pad], v [C][V + pad], P [C][C +
/// pad] (16-bit), g and beta [C] (f32).
int64_t sharedBytesOf(const PrologueShape &s, int64_t padding) {
  return s.chunk * (s.keys + s.values + s.chunk + 3 * padding) * 2 +
         2 * s.chunk * 4;
}

/// Builds the launch body.
struct PrologueBuilder : MmaChainBuilder {
  PrologueShape s;
  int64_t padding;
  bool asyncCopies; // 16-bit sources 16-byte aligned: cp.async
  Source k, v, beta;
  // g [N][C] f32 (cumulative), or with `rawG` the per-token log decays whose
  // in-chunk cumulative sum this kernel computes and stores into `gOut`.
  Value g, w, u; // results w [N][C][K] (16-bit), u [N][C][V]
  std::optional<Source> rawG;
  Value gOut;
  Value kS, vS, pS, gS, betaS;
  Value chunkId, row0;
  // The chunk's (b, hv, c) for gathered sources.
  Value batch, head, chunkInSeq;

  PrologueBuilder(OpBuilder &b, Location loc, PrologueShape s, int64_t padding,
                  bool asyncCopies)
      : MmaChainBuilder(b, loc, s.element, s.chunk / 16), s(s),
        padding(padding), asyncCopies(asyncCopies) {}

  Value f32(double v) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
  }

  /// Indices of element (token, column) of this block's chunk in `src`.
  SmallVector<Value> sourceIndices(const Source &src, Value token,
                                   Value column) {
    SmallVector<Value> indices;
    if (src.gathered) {
      Value t = add(mul(chunkInSeq, s.chunk), token);
      Value h = src.headRatio == 1 ? head : div(head, src.headRatio);
      indices = {batch, t, h};
    } else {
      indices = {chunkId, token};
    }
    if (column)
      indices.push_back(column);
    return indices;
  }

  /// Rows [C][width] of `src` into `dst` ([C][width + pad], 16-bit): 16-byte
  /// cp.async copies when `asyncCopies` and the source is 16-bit, else
  /// element loads (rounded to 16 bits), spread over the block's threads.
  void stageRows(const Source &src, Value dst, int64_t width,
                 SmallVector<Value> &tokens) {
    Value buffer = bufferOf(src.tensor);
    Type srcElement = cast<MemRefType>(buffer.getType()).getElementType();
    bool copy = asyncCopies && srcElement == s.element;
    int64_t perCopy = copy ? 8 : 1;
    forEachPiece(s.chunk, width, perCopy, ExtraThreads::RepeatLastPiece,
                 [&](Value row, Value col) {
                   SmallVector<Value> srcIndices = sourceIndices(src, row, col);
                   if (copy)
                     return asyncCopy(dst, {row, col}, buffer, srcIndices,
                                      perCopy, tokens);
                   Value x = memref::LoadOp::create(b, loc, buffer, srcIndices);
                   if (x.getType() != s.element) {
                     if (x.getType() != b.getF32Type())
                       x = arith::ExtFOp::create(b, loc, b.getF32Type(), x);
                     x = arith::TruncFOp::create(b, loc, s.element, x);
                   }
                   memref::StoreOp::create(b, loc, x, dst,
                                           ValueRange{row, col});
                 });
  }

  DenseMap<Value, Value> buffers;
  Value bufferOf(Value tensor) {
    Value &buffer = buffers[tensor];
    if (!buffer)
      llvm_unreachable("operand buffers are created before the launch");
    return buffer;
  }

  Value zeroAcc() {
    return arith::ConstantOp::create(b, loc, acc, b.getZeroAttr(acc));
  }

  /// Column of element `e` (0, 1) of n-tile `tile` of this lane.
  Value column(int64_t tile, int64_t e) {
    return add(mul(quad, 2), tile * 8 + e);
  }

  /// The warp's 16 rows of `rows` [C][C] (C / 8 fragments) into pS as 16-bit.
  void storeRows(ArrayRef<Value> rows) {
    for (auto [tile, fragment] : llvm::enumerate(rows)) {
      Value rounded = arith::TruncFOp::create(
          b, loc, VectorType::get({2, 2}, s.element), fragment);
      for (int64_t r = 0; r < 2; ++r) {
        Value row = add(add(row0, group), r * 8);
        Value half = vector::ExtractOp::create(b, loc, rounded, r);
        vector::StoreOp::create(b, loc, half, pS,
                                ValueRange{row, column(tile, 0)});
      }
    }
  }

  /// Runs `body` (which updates `accs`) for reduction step `ks` of a product
  /// whose A operand is the warp's rows of a lower triangular C x C matrix:
  /// its k-steps past the warp's diagonal block are zero, so for ks > 0 the
  /// step runs under `scf.if ks <= warp` (uniform per warp) with the
  /// accumulators as results.
  void lowerTriangularStep(int64_t ks, SmallVector<Value> &accs,
                           function_ref<void(SmallVector<Value> &)> body) {
    if (ks == 0) {
      body(accs);
      return;
    }
    Value needed = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ule,
                                         idx(ks), warp);
    SmallVector<Type> types(accs.size(), acc);
    auto branch = scf::IfOp::create(b, loc, types, needed,
                                    /*withElseRegion=*/true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(branch.thenBlock());
    SmallVector<Value> updated(accs);
    body(updated);
    scf::YieldOp::create(b, loc, updated);
    b.setInsertionPointToStart(branch.elseBlock());
    scf::YieldOp::create(b, loc, accs);
    accs.assign(branch.getResults().begin(), branch.getResults().end());
  }

  /// For each A operand `lhs[i]` (the warp's 16 rows of a lower triangular
  /// matrix, C / 8 fragments): init[i] + lhs[i] P, P [C][C] in pS (its rows
  /// read along the reduction: ldmatrix.trans). With `square`, also P P
  /// (its A operand, the warp's rows of P, read from pS: no registers held
  /// for it), returned last.
  SmallVector<SmallVector<Value>>
  timesShared(ArrayRef<SmallVector<Value>> lhs,
              ArrayRef<SmallVector<Value>> init, bool square) {
    int64_t tiles = s.chunk / 8;
    size_t products = lhs.size() + (square ? 1 : 0);
    SmallVector<Value> flat;
    for (ArrayRef<Value> rows : init)
      flat.append(rows.begin(), rows.end());
    if (square)
      flat.append(tiles, zeroAcc());
    Value rowInTile = rem(lane, 8), matrix = div(lane, 8);
    Value rowHalf = mul(rem(matrix, 2), 8), colHalf = mul(div(matrix, 2), 8);
    Value aRow = add(add(row0, rowHalf), rowInTile);
    for (int64_t ks = 0; ks < s.chunk / 16; ++ks) {
      lowerTriangularStep(ks, flat, [&](SmallVector<Value> &out) {
        SmallVector<Value> as;
        for (ArrayRef<Value> rows : lhs)
          as.push_back(aFromAccumulators(rows[2 * ks], rows[2 * ks + 1], /*negate=*/false));
        if (square)
          as.push_back(ldmatrix(pS, ValueRange{aRow, add(colHalf, ks * 16)},
                                4, false));
        Value row = add(add(rowInTile, rowHalf), ks * 16);
        for (int64_t jn = 0; jn < tiles; jn += 2) {
          Value col = add(colHalf, jn * 8);
          Value loaded = ldmatrix(pS, ValueRange{row, col}, 4, true);
          Value b0 = bFragment(loaded, 0), b1 = bFragment(loaded, 2);
          for (size_t i = 0; i < products; ++i) {
            out[i * tiles + jn] = mma(as[i], b0, out[i * tiles + jn]);
            out[i * tiles + jn + 1] = mma(as[i], b1, out[i * tiles + jn + 1]);
          }
        }
      });
    }
    SmallVector<SmallVector<Value>> result;
    for (size_t i = 0; i < products; ++i)
      result.emplace_back(ArrayRef<Value>(flat).slice(i * tiles, tiles));
    return result;
  }

  /// A = tril(beta_i exp(g_i - g_j) (K K^T)_ij, -1): the warp's rows.
  SmallVector<Value> gatedGram() {
    SmallVector<Value> accs(s.chunk / 8, zeroAcc());
    Value rowInTile = rem(lane, 8), matrix = div(lane, 8);
    // A fragments (ldmatrix.x4): matrix m rows (m % 2) 8, columns (m / 2) 8.
    Value aRow = add(add(row0, mul(rem(matrix, 2), 8)), rowInTile);
    Value aColHalf = mul(div(matrix, 2), 8);
    for (int64_t ks = 0; ks < s.keys / 16; ks += 2) {
      bool pair = ks + 1 < s.keys / 16;
      Value a0 = ldmatrix(kS, ValueRange{aRow, add(aColHalf, ks * 16)}, 4,
                          false);
      Value a1 = pair ? ldmatrix(kS, ValueRange{aRow, add(aColHalf,
                                                          ks * 16 + 16)},
                                 4, false)
                      : Value();
      // B = K^T: K's rows (tokens) are mma's column-major B.
      Value col = add(mul(pair ? matrix : rem(matrix, 2), 8), ks * 16);
      for (int64_t jn = 0; jn < s.chunk / 8; ++jn) {
        Value row = add(rowInTile, jn * 8);
        Value loaded = ldmatrix(kS, ValueRange{row, col}, pair ? 4 : 2, false);
        accs[jn] = mma(a0, bFragment(loaded, 0), accs[jn]);
        if (pair)
          accs[jn] = mma(a1, bFragment(loaded, 2), accs[jn]);
      }
    }
    // Masked and gated in registers.
    Value zero = f32(0.0);
    SmallVector<Value> rows, rowG, rowBeta;
    for (int64_t r = 0; r < 2; ++r) {
      Value row = add(add(row0, group), r * 8);
      rows.push_back(row);
      rowG.push_back(memref::LoadOp::create(b, loc, gS, row));
      rowBeta.push_back(memref::LoadOp::create(b, loc, betaS, row));
    }
    for (int64_t jn = 0; jn < s.chunk / 8; ++jn) {
      SmallVector<Value> elements;
      for (int64_t i = 0; i < 4; ++i) {
        int64_t r = i / 2, e = i % 2;
        Value col = column(jn, e);
        Value gCol = memref::LoadOp::create(b, loc, gS, col);
        Value x = vector::ExtractOp::create(b, loc, accs[jn],
                                            ArrayRef<int64_t>{r, e});
        Value decay = math::ExpOp::create(
            b, loc, arith::SubFOp::create(b, loc, rowG[r], gCol));
        x = arith::MulFOp::create(
            b, loc, x, arith::MulFOp::create(b, loc, rowBeta[r], decay));
        Value below = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ugt,
                                            rows[r], col);
        elements.push_back(arith::SelectOp::create(b, loc, below, x, zero));
      }
      accs[jn] = vector::FromElementsOp::create(b, loc, acc, elements);
    }
    return accs;
  }

  /// I - a for the warp's rows.
  SmallVector<Value> identityMinus(ArrayRef<Value> a) {
    SmallVector<Value> out;
    Value one = f32(1.0), zero = f32(0.0);
    for (auto [jn, fragment] : llvm::enumerate(a)) {
      SmallVector<Value> elements;
      for (int64_t i = 0; i < 4; ++i) {
        int64_t r = i / 2, e = i % 2;
        Value row = add(add(row0, group), r * 8);
        Value diagonal = arith::CmpIOp::create(
            b, loc, arith::CmpIPredicate::eq, row, column(jn, e));
        Value x = vector::ExtractOp::create(b, loc, fragment,
                                            ArrayRef<int64_t>{r, e});
        Value id = arith::SelectOp::create(b, loc, diagonal, one, zero);
        elements.push_back(arith::SubFOp::create(b, loc, id, x));
      }
      out.push_back(vector::FromElementsOp::create(b, loc, acc, elements));
    }
    return out;
  }

  /// The warp's rows of (I + A)^-1 = (I - A)(I + A^2)(I + A^4) ...
  SmallVector<Value> inverse(ArrayRef<Value> a) {
    SmallVector<Value> x = identityMinus(a);
    storeRows(a);
    gpu::BarrierOp::create(b, loc);
    // A A: its A operand (the warp's rows of A) read back from pS like
    // the later squares' (rounded alike), so that A's registers die here.
    SmallVector<Value> p = timesShared({}, {}, /*square=*/true)[0];
    // Factors (I + A^(2^m)), m = 1 .. log2(C) - 1 (A^C = 0).
    int64_t levels = llvm::Log2_64(s.chunk) - 1;
    for (int64_t m = 1; m <= levels; ++m) {
      gpu::BarrierOp::create(b, loc); // every warp done reading pS
      storeRows(p);
      gpu::BarrierOp::create(b, loc);
      auto out = timesShared({x}, {x}, /*square=*/m < levels);
      x = out[0];
      if (m < levels)
        p = out[1];
    }
    return x;
  }

  /// (t diag(scale)) src for the warp's rows, src [C][width] in shared
  /// memory (read along C: ldmatrix.trans); scale[j] for column j of t.
  SmallVector<Value> wyProduct(ArrayRef<Value> t, ArrayRef<Value> scale,
                               Value src, int64_t width) {
    SmallVector<Value> outs(width / 8, zeroAcc());
    Value rowInTile = rem(lane, 8), matrix = div(lane, 8);
    Value rowHalf = mul(rem(matrix, 2), 8), colHalf = mul(div(matrix, 2), 8);
    for (int64_t ks = 0; ks < s.chunk / 16; ++ks) {
      lowerTriangularStep(ks, outs, [&](SmallVector<Value> &out) {
        Value scaled[2];
        for (int64_t h = 0; h < 2; ++h) {
          int64_t jn = 2 * ks + h;
          Value factors = vector::FromElementsOp::create(
              b, loc, acc,
              ValueRange{scale[2 * jn], scale[2 * jn + 1], scale[2 * jn],
                         scale[2 * jn + 1]});
          scaled[h] = arith::MulFOp::create(b, loc, t[jn], factors);
        }
        Value a = aFromAccumulators(scaled[0], scaled[1], /*negate=*/false);
        Value row = add(add(rowInTile, rowHalf), ks * 16);
        for (int64_t jn = 0; jn < width / 8; jn += 2) {
          Value col = add(colHalf, jn * 8);
          Value loaded = ldmatrix(src, ValueRange{row, col}, 4, true);
          out[jn] = mma(a, bFragment(loaded, 0), out[jn]);
          out[jn + 1] = mma(a, bFragment(loaded, 2), out[jn + 1]);
        }
      });
    }
    return outs;
  }

  /// The warp's rows of a product into `dst` [N][C][width] (pairs of
  /// elements, rounded to dst's type).
  void storeResult(ArrayRef<Value> fragments, Value dst) {
    Type element = cast<MemRefType>(dst.getType()).getElementType();
    for (auto [tile, fragment] : llvm::enumerate(fragments)) {
      Value x = fragment;
      if (element != b.getF32Type())
        x = arith::TruncFOp::create(b, loc, VectorType::get({2, 2}, element),
                                    x);
      for (int64_t r = 0; r < 2; ++r) {
        Value row = add(add(row0, group), r * 8);
        Value half = vector::ExtractOp::create(b, loc, x, r);
        vector::StoreOp::create(b, loc, half, dst,
                                ValueRange{chunkId, row, column(tile, 0)});
      }
    }
  }

  /// The launch body.
  void build(Value blockX, Value threadX) {
    setFragmentTypes();
    kS = workgroupAlloc({s.chunk, s.keys + padding}, s.element);
    vS = workgroupAlloc({s.chunk, s.values + padding}, s.element);
    pS = workgroupAlloc({s.chunk, s.chunk + padding}, s.element);
    gS = workgroupAlloc({s.chunk}, b.getF32Type());
    betaS = workgroupAlloc({s.chunk}, b.getF32Type());

    setUpLaneIds(threadX);
    chunkId = blockX;
    row0 = mul(warp, 16);
    chunkInSeq = rem(chunkId, s.chunksPerSequence);
    head = rem(div(chunkId, s.chunksPerSequence), s.heads);
    batch = div(chunkId, s.chunksPerSequence * s.heads);

    // Stage k and v (one cp.async group), g and beta (threads < C).
    SmallVector<Value> tokens;
    stageRows(k, kS, s.keys, tokens);
    stageRows(v, vS, s.values, tokens);
    Value token = rem(thread, s.chunk);
    if (rawG) {
      // The in-chunk cumulative sum, in the decomposition's order: every
      // thread sums its token's prefix of the staged g (broadcast reads).
      Value x = memref::LoadOp::create(b, loc, bufferOf(rawG->tensor),
                                       sourceIndices(*rawG, token, Value()));
      memref::StoreOp::create(b, loc, x, gS, token);
      gpu::BarrierOp::create(b, loc);
      Value sum = f32(0.0), zero = f32(0.0);
      for (int64_t j = 0; j < s.chunk; ++j) {
        Value gj = memref::LoadOp::create(b, loc, gS, idx(j));
        Value upTo = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ule,
                                           idx(j), token);
        sum = arith::AddFOp::create(
            b, loc, sum, arith::SelectOp::create(b, loc, upTo, gj, zero));
      }
      gpu::BarrierOp::create(b, loc);
      memref::StoreOp::create(b, loc, sum, gS, token);
      memref::StoreOp::create(b, loc, sum, gOut, ValueRange{chunkId, token});
    } else {
      memref::StoreOp::create(
          b, loc,
          memref::LoadOp::create(b, loc, g, ValueRange{chunkId, token}), gS,
          token);
    }
    Value betaBuffer = bufferOf(beta.tensor);
    Value beta0 = memref::LoadOp::create(b, loc, betaBuffer,
                                         sourceIndices(beta, token, Value()));
    if (beta0.getType() != b.getF32Type())
      beta0 = arith::ExtFOp::create(b, loc, b.getF32Type(), beta0);
    memref::StoreOp::create(b, loc, beta0, betaS, token);
    if (!tokens.empty())
      waitForCopies(tokens);
    gpu::BarrierOp::create(b, loc);

    SmallVector<Value> a = gatedGram();
    SmallVector<Value> t = inverse(a);

    // Column scales of t: beta_j exp(g_j) (w) and beta_j (u).
    SmallVector<Value> wScale, uScale;
    for (int64_t jn = 0; jn < s.chunk / 8; ++jn)
      for (int64_t e = 0; e < 2; ++e) {
        Value col = column(jn, e);
        Value bj = memref::LoadOp::create(b, loc, betaS, col);
        Value gj = memref::LoadOp::create(b, loc, gS, col);
        uScale.push_back(bj);
        wScale.push_back(arith::MulFOp::create(
            b, loc, bj, math::ExpOp::create(b, loc, gj)));
      }
    storeResult(wyProduct(t, wScale, kS, s.keys), w);
    storeResult(wyProduct(t, uScale, vS, s.values), u);
  }
};

struct ChunkPrologueToMmaChain : public OpRewritePattern<WYReprOp> {
  ChunkPrologueToMmaChain(MLIRContext *context, int64_t padding,
                          bool fuseCumsum)
      : OpRewritePattern(context), padding(padding), fuseCumsum(fuseCumsum) {}

  LogicalResult matchAndRewrite(WYReprOp op,
                                PatternRewriter &rewriter) const override {
    GatedKKTOp kkt;
    PrologueShape shape;
    std::string reason = unsupportedReason(op, kkt, shape);
    if (!reason.empty())
      return rewriter.notifyMatchFailure(op, reason);
    int64_t sharedBytes = sharedBytesOf(shape, padding);
    if (sharedBytes > kChainMaxSharedBytes)
      return rewriter.notifyMatchFailure(
          op, "the staged chunk needs " + std::to_string(sharedBytes) +
                  " B of shared memory (at most " +
                  std::to_string(kChainMaxSharedBytes) + ")");
    Source k = sourceOf(op.getK());
    Source v = sourceOf(op.getV());
    Source beta = sourceOf(op.getBeta());
    // Gathered sources index the chunks as (b, hv, c): all from one gather
    // shape, or none.
    // The cumulative decays computed here from g's gather when every other
    // reader of them comes after this op (they then read this kernel's).
    std::optional<Source> rawG;
    auto cumsum = op.getG().getDefiningOp<linalg::GenericOp>();
    if (fuseCumsum && cumsum && isChunkCumsum(cumsum) &&
        llvm::all_of(cumsum->getUsers(), [&](Operation *user) {
          return user == kkt || user == op ||
                 (user->getBlock() == op->getBlock() &&
                  op->isBeforeInBlock(user));
        })) {
      rawG = sourceOf(cumsum.getDpsInputs()[0]);
      if (cast<RankedTensorType>(rawG->tensor.getType()).getElementType() !=
          rewriter.getF32Type())
        rawG.reset();
    }
    SmallVector<Source *> gathered;
    SmallVector<Source *> sources{&k, &v, &beta};
    if (rawG)
      sources.push_back(&*rawG);
    for (Source *src : sources)
      if (src->gathered)
        gathered.push_back(src);
    if (!gathered.empty()) {
      Source *first = gathered.front();
      bool same = llvm::all_of(gathered, [&](Source *src) {
        return src->heads == first->heads &&
               src->chunksPerSequence == first->chunksPerSequence;
      });
      // Mixed layouts: everything read as the operands.
      if (!same)
        for (Source *src : gathered)
          *src = {src->operand, src->operand};
      shape.heads = same ? first->heads : 1;
      shape.chunksPerSequence = same ? first->chunksPerSequence : 1;
    }
    Location loc = op.getLoc();

    auto toBuffer = [&](Value tensor) {
      return readOnlyBufferOf(rewriter, loc, tensor);
    };
    auto allocFor = [&](Value result) {
      return allocBufferFor(rewriter, loc, result);
    };
    DenseMap<Value, Value> buffers;
    SmallVector<Value> operands{k.tensor, v.tensor, beta.tensor};
    operands.push_back(rawG ? rawG->tensor : Value(op.getG()));
    for (Value tensor : operands)
      if (!buffers.count(tensor))
        buffers[tensor] = toBuffer(tensor);
    Value w = allocFor(op.getW()), u = allocFor(op.getU());
    Value gOut = rawG ? allocFor(op.getG()) : Value();

    // cp.async needs 16-byte aligned rows: 16-bit sources whose rows are
    // whole 16-byte pieces, tested on the host at run time (the base
    // address); a launch with element loads otherwise.
    SmallVector<Value> sixteenBit;
    for (const Source *src : {&k, &v})
      if (cast<MemRefType>(buffers[src->tensor].getType()).getElementType() ==
          shape.element)
        sixteenBit.push_back(buffers[src->tensor]);
    Value aligned = allSixteenByteAligned(rewriter, loc, sixteenBit);

    auto buildLaunch = [&](bool asyncCopies) {
      Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
      Value blocks =
          arith::ConstantIndexOp::create(rewriter, loc, shape.chunks);
      Value threads = arith::ConstantIndexOp::create(
          rewriter, loc, kChainWarpSize * (shape.chunk / 16));
      auto launch = gpu::LaunchOp::create(rewriter, loc, blocks, one, one,
                                          threads, one, one);
      OpBuilder::InsertionGuard guard(rewriter);
      Block &body = launch.getBody().front();
      rewriter.setInsertionPointToEnd(&body);
      auto terminator = gpu::TerminatorOp::create(rewriter, loc);
      rewriter.setInsertionPoint(terminator);
      PrologueBuilder builder(rewriter, loc, shape, padding, asyncCopies);
      builder.k = k;
      builder.v = v;
      builder.beta = beta;
      builder.buffers = buffers;
      builder.rawG = rawG;
      builder.gOut = gOut;
      if (!rawG)
        builder.g = buffers[op.getG()];
      builder.w = w;
      builder.u = u;
      builder.build(launch.getBlockIds().x, launch.getThreadIds().x);
    };
    if (aligned) {
      auto branch = scf::IfOp::create(rewriter, loc, aligned,
                                      /*withElseRegion=*/true);
      {
        OpBuilder::InsertionGuard guard(rewriter);
        rewriter.setInsertionPointToStart(branch.thenBlock());
        buildLaunch(true);
        rewriter.setInsertionPointToStart(branch.elseBlock());
        buildLaunch(false);
      }
    } else {
      buildLaunch(false);
    }
    SmallVector<Value> results;
    SmallVector<Value> resultBuffers{w, u};
    for (auto [result, buffer] : llvm::zip(op->getResults(), resultBuffers))
      results.push_back(bufferization::ToTensorOp::create(
          rewriter, loc, result.getType(), buffer, /*restrict=*/true,
          /*writable=*/true));
    if (rawG) {
      Value cumulative = bufferization::ToTensorOp::create(
          rewriter, loc, op.getG().getType(), gOut, /*restrict=*/true,
          /*writable=*/true);
      rewriter.replaceAllUsesExcept(cumsum.getResult(0), cumulative,
                                    SmallPtrSet<Operation *, 2>{kkt, op});
    }
    rewriter.replaceOp(op, results);
    return success();
  }

  int64_t padding;
  bool fuseCumsum;
};

struct LowerChunkPrologueToMmaChainPass
    : public deltanet::impl::DeltaNetGpuLowerChunkPrologueToMmaChainBase<
          LowerChunkPrologueToMmaChainPass> {
  using Base::Base;

  void runOnOperation() override {
    if (rowPadding < 0 || rowPadding % 8 != 0) {
      getOperation().emitError()
          << getArgument() << ": row-padding must be a multiple of 8, got "
          << int64_t(rowPadding);
      return signalPassFailure();
    }
    RewritePatternSet patterns(&getContext());
    patterns.add<ChunkPrologueToMmaChain>(&getContext(), rowPadding,
                                          fuseCumulativeDecays);
    // One application per prologue, no folding of anything else.
    walkAndApplyPatterns(getOperation(), std::move(patterns));
  }
};

} // namespace
