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
//   T  = (I + A)^-1, blocked: each warp inverts its 16 x 16 diagonal block
//        D by (I - D)(I + D^2)(I + D^4)(I + D^8) (D^16 = 0), then
//        log2(C / 16) merges T -= T (A_L T) (A_L: the lower-left blocks of
//        neighbouring pairs); A, T and Y = A_L T through shared memory
//   w  = (T diag(beta exp(g))) K,  u = (T diag(beta)) V
//        (the scalings on T's columns in registers, B = K, V [C][D] in
//        shared memory read along C: ldmatrix.trans)
//
// The inverse's products follow the tri_inv's precision: 16-bit operands
// for bf16 / f16; for f32 each operand is split into a 16-bit high part and
// the rounding of its remainder, three products (hi hi + hi lo + lo hi).
// The Neumann product over the whole chunk, (I - A)(I + A^2)...(I + A^32),
// is not used: its partial products are (I - A^(2^m)) (I + A)^-1, whose
// entries reach 1e9 on correlated keys without decay (wrong even in f64).
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
/// gathered operands), the 16-bit product type, and whether the inverse's
/// operands are split into high and low 16-bit parts (an f32 inverse).
struct PrologueShape {
  int64_t chunks, chunk, keys, values, chunksPerSequence = 1, heads = 1;
  Type element;
  bool split = false;
};

/// Why the prologue keeps the generic path, or an empty string.
std::string unsupportedReason(WYReprOp wy, GatedKKTOp &kkt,
                              PrologueShape &shape,
                              TriInvPrecision defaultPrecision) {
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
  TriInvPrecision precision =
      inverse.getPrecision().value_or(defaultPrecision);
  if (precision == TriInvPrecision::I8)
    return "an i8 tri_inv (quantised products stay on the generic path)";
  shape = {k[0], k[1], k[2], v[2], 1, 1, element,
           precision == TriInvPrecision::F32};
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

/// Shared memory of one block: k [C][K + pad], v [C][V + pad] and A, T, Y
/// [C][C + pad] per operand part (16-bit), g and beta [C] (f32).
int64_t sharedBytesOf(const PrologueShape &s, int64_t padding) {
  int64_t parts = s.split ? 2 : 1;
  return s.chunk * (s.keys + s.values + 2 * padding) * 2 +
         3 * parts * s.chunk * (s.chunk + padding) * 2 + 2 * s.chunk * 4;
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
  Value kS, vS, gS, betaS;
  // A, T and Y / P (C x C), one buffer per operand part.
  SmallVector<Value> aS, tS, yS;
  // The inverse's operands split into 16-bit high and low parts (three
  // products each): an f32 inverse.
  bool split = false;
  Value chunkId, row0;
  // The chunk's (b, hv, c) for gathered sources.
  Value batch, head, chunkInSeq;

  PrologueBuilder(OpBuilder &b, Location loc, PrologueShape s, int64_t padding,
                  bool asyncCopies)
      : MmaChainBuilder(b, loc, s.element, s.chunk / 16), s(s),
        padding(padding), asyncCopies(asyncCopies), split(s.split) {}

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
    updateIf(needed, accs, body);
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

  /// The 16-bit operand parts of f32 values `x`: its rounding, and with
  /// `split` also the rounding of the remainder x - rounding (hi, lo).
  SmallVector<Value> parts(Value x) {
    auto half = VectorType::get(cast<VectorType>(x.getType()).getShape(),
                                s.element);
    Value hi = arith::TruncFOp::create(b, loc, half, x);
    if (!split)
      return {hi};
    Value back = arith::ExtFOp::create(b, loc, x.getType(), hi);
    Value rest = arith::SubFOp::create(b, loc, x, back);
    return {hi, arith::TruncFOp::create(b, loc, half, rest)};
  }

  /// A operands (one per part) of accumulator fragments `lo` (columns 0-7)
  /// and `hi` (8-15) of a k-step, negated if asked.
  SmallVector<Value> aOperands(Value lo, Value hi, bool negate = false) {
    SmallVector<Value> out{aFromAccumulators(lo, hi, negate)};
    if (split) {
      auto rest = [&](Value x) {
        Value half = arith::TruncFOp::create(
            b, loc, VectorType::get({2, 2}, s.element), x);
        Value rounded = arith::ExtFOp::create(b, loc, acc, half);
        return arith::SubFOp::create(b, loc, x, rounded).getResult();
      };
      out.push_back(aFromAccumulators(rest(lo), rest(hi), negate));
    }
    return out;
  }

  /// A operands of the 16 x 16 tile at (`row`, `col`) of `tile` (one per
  /// part; ldmatrix.x4).
  SmallVector<Value> aOperandsShared(ArrayRef<Value> tile, Value row,
                                     Value col) {
    Value rowInTile = rem(lane, 8), matrix = div(lane, 8);
    Value r = add(add(row, mul(rem(matrix, 2), 8)), rowInTile);
    Value c = add(col, mul(div(matrix, 2), 8));
    SmallVector<Value> out;
    for (Value part : tile)
      out.push_back(ldmatrix(part, ValueRange{r, c}, 4, false));
    return out;
  }

  /// B operands of the two n-tiles at columns `col` .. `col` + 15 of rows
  /// `row` .. `row` + 15 of `tile` (read along the reduction:
  /// ldmatrix.trans): [n-tile][part].
  std::array<SmallVector<Value>, 2> bOperandsShared(ArrayRef<Value> tile,
                                                    Value row, Value col) {
    Value rowInTile = rem(lane, 8), matrix = div(lane, 8);
    Value r = add(add(row, mul(rem(matrix, 2), 8)), rowInTile);
    Value c = add(col, mul(div(matrix, 2), 8));
    std::array<SmallVector<Value>, 2> out;
    for (Value part : tile) {
      Value loaded = ldmatrix(part, ValueRange{r, c}, 4, true);
      out[0].push_back(bFragment(loaded, 0));
      out[1].push_back(bFragment(loaded, 2));
    }
    return out;
  }

  /// c + a b over the operands' parts: hi hi (+ hi lo + lo hi with `split`;
  /// the small products first).
  Value mmaParts(ArrayRef<Value> a, ArrayRef<Value> bParts, Value c) {
    if (split) {
      c = mma(a[1], bParts[0], c);
      c = mma(a[0], bParts[1], c);
    }
    return mma(a[0], bParts[0], c);
  }

  /// Fragments `frags` of the warp's rows (n-tile i at columns `col0` + 8 i)
  /// into `tile` (one buffer per part).
  void storeFragments(ArrayRef<Value> frags, Value row, Value col0,
                      ArrayRef<Value> tile) {
    for (auto [i, fragment] : llvm::enumerate(frags)) {
      SmallVector<Value> halves = parts(fragment);
      for (auto [part, rounded] : llvm::zip(tile, halves))
        for (int64_t r = 0; r < 2; ++r) {
          Value half = vector::ExtractOp::create(b, loc, rounded, r);
          vector::StoreOp::create(
              b, loc, half, part,
              ValueRange{add(add(row, group), r * 8),
                         add(add(col0, mul(quad, 2)), int64_t(i) * 8)});
        }
    }
  }

  /// scf.if `cond` whose then-branch updates `values` (the else branch
  /// keeps them).
  void updateIf(Value cond, SmallVector<Value> &values,
                function_ref<void(SmallVector<Value> &)> body) {
    SmallVector<Type> types;
    for (Value v : values)
      types.push_back(v.getType());
    auto branch = scf::IfOp::create(b, loc, types, cond,
                                    /*withElseRegion=*/true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(branch.thenBlock());
    SmallVector<Value> updated(values);
    body(updated);
    scf::YieldOp::create(b, loc, updated);
    b.setInsertionPointToStart(branch.elseBlock());
    scf::YieldOp::create(b, loc, values);
    values.assign(branch.getResults().begin(), branch.getResults().end());
  }

  Value warpIs(int64_t lowest, int64_t count) {
    Value ge = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::uge, warp,
                                     idx(lowest));
    Value lt = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, warp,
                                     idx(lowest + count));
    return arith::AndIOp::create(b, loc, ge, lt);
  }

  /// The warp's rows of (I + A)^-1, A strictly lower C x C (the warp's rows
  /// in `a`), blocked so that no intermediate grows (the Neumann product
  /// over all of C does: its partial products are (I - A^(2^m)) (I + A)^-1,
  /// 1e9 on correlated keys without decay):
  ///  1. each warp inverts its 16 x 16 diagonal block A_ww by the Neumann
  ///     product (I - A_ww)(I + A_ww^2)(I + A_ww^4)(I + A_ww^8), exact as
  ///     A_ww^16 = 0, its B operands through its own block of yS;
  ///  2. log2(C / 16) merges of neighbouring diagonal blocks (size h ->
  ///     2 h): T -= T (A_L T), A_L the blocks' lower-left h x h parts of A
  ///     (the rows of the lower block of each pair: Y = A_L T into yS, then
  ///     T's lower rows -= T Y).
  /// A (aS), T (tS) and Y / P (yS) go through shared memory, one buffer
  /// per operand part. Ten barriers at C = 64.
  SmallVector<Value> inverse(ArrayRef<Value> a) {
    int64_t tiles = s.chunk / 8, blocks = s.chunk / 16;
    Value one = f32(1.0), zero = f32(0.0);
    // The warp's diagonal block of A (tiles 2 w, 2 w + 1) in local
    // coordinates.
    SmallVector<Value> d{a[0], a[1]};
    for (int64_t w = 1; w < blocks; ++w) {
      Value is = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, warp,
                                       idx(w));
      for (int64_t t = 0; t < 2; ++t)
        d[t] = arith::SelectOp::create(b, loc, is, a[2 * w + t], d[t]);
    }
    storeFragments(a, row0, idx(0), aS);
    // X = I - A_ww.
    SmallVector<Value> x;
    for (int64_t t = 0; t < 2; ++t) {
      SmallVector<Value> elements;
      for (int64_t i = 0; i < 4; ++i) {
        int64_t r = i / 2, e = i % 2;
        Value diagonal = arith::CmpIOp::create(
            b, loc, arith::CmpIPredicate::eq, add(group, r * 8),
            add(mul(quad, 2), t * 8 + e));
        Value id = arith::SelectOp::create(b, loc, diagonal, one, zero);
        Value v = vector::ExtractOp::create(b, loc, d[t],
                                            ArrayRef<int64_t>{r, e});
        elements.push_back(arith::SubFOp::create(b, loc, id, v));
      }
      x.push_back(vector::FromElementsOp::create(b, loc, acc, elements));
    }
    gpu::BarrierOp::create(b, loc);
    // P = A_ww A_ww (B operand: the block in aS).
    SmallVector<Value> p(2, zeroAcc());
    {
      SmallVector<Value> as = aOperands(d[0], d[1]);
      auto bs = bOperandsShared(aS, row0, row0);
      for (int64_t t = 0; t < 2; ++t)
        p[t] = mmaParts(as, bs[t], p[t]);
    }
    for (int64_t m = 0; m < 3; ++m) {
      if (m > 0)
        gpu::BarrierOp::create(b, loc); // the warp done reading yS
      storeFragments(p, row0, row0, yS);
      gpu::BarrierOp::create(b, loc);
      auto bs = bOperandsShared(yS, row0, row0);
      SmallVector<Value> xa = aOperands(x[0], x[1]);
      SmallVector<Value> pa;
      if (m < 2)
        pa = aOperands(p[0], p[1]);
      for (int64_t t = 0; t < 2; ++t) {
        x[t] = mmaParts(xa, bs[t], x[t]);
        if (m < 2)
          p[t] = mmaParts(pa, bs[t], zeroAcc());
      }
    }
    // T: the diagonal blocks in place, zeros elsewhere.
    SmallVector<Value> t;
    Value zeroFragment = zeroAcc();
    for (int64_t jn = 0; jn < tiles; ++jn) {
      Value mine = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                         warp, idx(jn / 2));
      t.push_back(
          arith::SelectOp::create(b, loc, mine, x[jn % 2], zeroFragment));
    }
    // Merges: blocks of h rows into 2 h.
    for (int64_t h = 16; h < s.chunk; h *= 2) {
      storeFragments(t, row0, idx(0), tS);
      gpu::BarrierOp::create(b, loc);
      // Y = A_L T for the lower block's rows of each pair (columns of the
      // upper block: h / 8 tiles from the pair's start).
      for (int64_t start = 0; start < s.chunk; start += 2 * h) {
        auto branch = scf::IfOp::create(b, loc, warpIs((start + h) / 16, h / 16),
                                        /*withElseRegion=*/false);
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(branch.thenBlock());
        SmallVector<Value> y(h / 8, zeroAcc());
        for (int64_t ks = 0; ks < h / 16; ++ks) {
          SmallVector<Value> as =
              aOperandsShared(aS, row0, idx(start + ks * 16));
          for (int64_t jn = 0; jn < h / 8; jn += 2) {
            auto bs = bOperandsShared(tS, idx(start + ks * 16),
                                      idx(start + jn * 8));
            y[jn] = mmaParts(as, bs[0], y[jn]);
            y[jn + 1] = mmaParts(as, bs[1], y[jn + 1]);
          }
        }
        storeFragments(y, row0, idx(start), yS);
      }
      gpu::BarrierOp::create(b, loc);
      // T[lower rows, upper columns] = -T[lower rows, lower block] Y.
      for (int64_t start = 0; start < s.chunk; start += 2 * h) {
        SmallVector<Value> upper(t.begin() + start / 8,
                                 t.begin() + (start + h) / 8);
        updateIf(warpIs((start + h) / 16, h / 16), upper,
                 [&](SmallVector<Value> &out) {
                   for (int64_t ks = 0; ks < h / 16; ++ks) {
                     int64_t jt = (start + h) / 8 + 2 * ks;
                     SmallVector<Value> as =
                         aOperands(t[jt], t[jt + 1], /*negate=*/true);
                     for (int64_t jn = 0; jn < h / 8; jn += 2) {
                       auto bs = bOperandsShared(
                           yS, idx(start + h + ks * 16), idx(start + jn * 8));
                       out[jn] = mmaParts(as, bs[0], out[jn]);
                       out[jn + 1] = mmaParts(as, bs[1], out[jn + 1]);
                     }
                   }
                 });
        for (int64_t i = 0; i < h / 8; ++i)
          t[start / 8 + i] = upper[i];
      }
    }
    return t;
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
    for (int64_t part = 0; part < (split ? 2 : 1); ++part)
      for (SmallVector<Value> *tile : {&aS, &tS, &yS})
        tile->push_back(
            workgroupAlloc({s.chunk, s.chunk + padding}, s.element));
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
                          bool fuseCumsum, TriInvPrecision inversePrecision)
      : OpRewritePattern(context), padding(padding), fuseCumsum(fuseCumsum),
        inversePrecision(inversePrecision) {}

  LogicalResult matchAndRewrite(WYReprOp op,
                                PatternRewriter &rewriter) const override {
    GatedKKTOp kkt;
    PrologueShape shape;
    std::string reason =
        unsupportedReason(op, kkt, shape, inversePrecision);
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
  TriInvPrecision inversePrecision;
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
                                          fuseCumulativeDecays,
                                          inversePrecision);
    // One application per prologue, no folding of anything else.
    walkAndApplyPatterns(getOperation(), std::move(patterns));
  }
};

} // namespace
