//===- LowerTriInv.cpp - Lower deltanet.tri_inv to linalg -----------------===//
//
// Rewrites deltanet.tri_inv into batched linalg matmul chains (blocked or
// truncated Neumann) or the forward-substitution baseline, on tensors.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Conversion/Passes.h"
#include "deltanet/Dialect/DeltaNet/IR/DeltaNetOps.h"

#include "deltanet/Codegen/Common/TargetInfo.h"
#include "deltanet/Dialect/DeltaNet/Transforms/Passes.h"
#include "deltanet/Dialect/DeltaNet/Utils/StructuredBuilder.h"
#include "deltanet/Dialect/DeltaNet/Utils/TileSizes.h"

#include "PrecisionMatmul.h"
#include "TriInvTolerance.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/WalkPatternRewriteDriver.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/SaveAndRestore.h"

#include <cmath>

namespace mlir {
namespace deltanet {
#define GEN_PASS_DEF_DELTANETLOWERTRIINV
#include "deltanet/Conversion/Passes.h.inc"
} // namespace deltanet
} // namespace mlir

using namespace mlir;
using namespace mlir::deltanet;

namespace {

//===----------------------------------------------------------------------===//
// Resolved per-op configuration
//===----------------------------------------------------------------------===//

/// The pass options and the target they lower for.
struct LoweringDefaults {
  DeltaNetLowerTriInvOptions options;
  const TargetInfo *target;
};

/// How the operands of every matmul of a lowering are represented.
struct MatmulPrecision {
  TriInvPrecision precision = TriInvPrecision::F32;
  /// Which elements share one scale (INT8 only).
  QuantGranularity granularity = QuantGranularity::Row;
};

/// The lowering of one tri_inv once pass options and op attributes are
/// merged and resolved against its matrix size.
struct ResolvedTriInv {
  TriInvStrategy strategy;
  /// Diagonal block size (blocked strategy only).
  int64_t blockSize;
  /// Number of Neumann product factors actually emitted.
  int64_t factors;
  int64_t residualSteps;
  MatmulPrecision matmul;
  /// Blocked strategy: the diagonal blocks' Neumann products in f32 and
  /// only the merges in `matmul`'s precision (the target's
  /// TargetInfo::keepsTriInvDiagonalBlocksF32).
  bool diagonalBlocksF32 = false;
  /// Blocked strategy: every level's merges as one batched product (the
  /// target's TargetInfo::mergesTriInvLevelsBatched) instead of a loop
  /// over the pairs.
  bool batchedLevels = false;
  /// Blocked strategy: merge levels of solved blocks smaller than this keep
  /// f32 products (0 = every level in `matmul`'s precision).
  int64_t lowPrecisionMergesFrom = 0;
  /// Blocked strategy, INT8: each merge quantises its operands once and
  /// dequantises once (TriInvEmitter::mergePairQuantizedOnce).
  bool quantizeMergesOnce = false;
  /// Neumann strategy: block side of the block-triangular products
  /// (TargetInfo::getTriInvNeumannBlockSize; 0 = whole-matrix bands).
  int64_t neumannBlockSize = 0;
  /// Neumann strategy: the largest window of an exact series
  /// (TargetInfo::getTriInvNeumannMaxSeriesSize; 0 = the whole matrix).
  int64_t neumannMaxSeriesSize = 0;
  /// Forward substitution: column block of each row's products
  /// (TargetInfo::getTriInvForwardSubstitutionColumnBlock; 0 = width C).
  int64_t forwardSubstitutionColumnBlock = 0;
  /// The rule-table row behind `factors` and `residualSteps`, when they
  /// come from the pass's tolerance.
  std::optional<ToleranceChoice> fromTolerance;
};

/// Smallest number of Neumann product factors that makes the inverse of an
/// n x n strictly lower-triangular matrix exact: 2^f >= n.
int64_t exactFactors(int64_t n) { return llvm::Log2_64_Ceil(n); }

/// The matmul precision of `op`: its attribute or the pass option.
TriInvPrecision effectivePrecision(TriInvOp op,
                                   const LoweringDefaults &defaults) {
  return op.getPrecision().value_or(defaults.options.precision);
}

/// Whether the order and residual steps of `op` come from the tolerance
/// rule table: a tolerance is set and the op fixes neither.
bool usesTolerance(TriInvOp op, const LoweringDefaults &defaults) {
  return defaults.options.tolerance > 0 && !op.getOrderValue() &&
         !op.getResidualStepsValue();
}

/// The block size a blocked lowering of `op` uses: the op's or the
/// option's, clamped to the matrix size; else the default: the rule
/// table's calibrated block size when a tolerance chooses the order, or the
/// target's for the precision and element type, clamped to the matrix size
/// and, where it does not divide C, lowered to the largest power of two
/// that does (C = 12 with 16: 12; C = 24 with 16: 8; C = 6 with 4: 2).
int64_t effectiveBlockSize(TriInvOp op, const LoweringDefaults &defaults) {
  int64_t c = op.getMatrixSize();
  int64_t blockSize =
      op.getBlockSizeValue().value_or(defaults.options.blockSize);
  if (blockSize != 0)
    return std::min(blockSize, c);
  TriInvPrecision precision = effectivePrecision(op, defaults);
  if (usesTolerance(op, defaults))
    return std::min(getCalibratedTriInvBlockSize(precision), c);
  blockSize = defaults.target->getDefaultTriInvBlockSize(
      precision, op.getA().getType().getElementType());
  if (blockSize >= c)
    return c;
  return c % blockSize == 0 ? blockSize : std::min(blockSize, c & -c);
}

/// The rule-table choice for `op` under the pass's tolerance; sets `why`
/// when the table cannot meet it.
std::optional<ToleranceChoice> toleranceChoice(TriInvOp op,
                                               const LoweringDefaults &defaults,
                                               std::string &why) {
  return chooseForTolerance(
      op.getStrategy().value_or(defaults.options.strategy), op.getMatrixSize(),
      effectiveBlockSize(op, defaults), effectivePrecision(op, defaults),
      defaults.options.tolerance, why);
}

/// Why `op` cannot be lowered with `defaults` (its attributes take
/// precedence), or an empty string if it can.
std::string whyUnlowerable(TriInvOp op, const LoweringDefaults &defaults) {
  TriInvPrecision precision = effectivePrecision(op, defaults);
  if (!defaults.target->supportsPrecision(precision))
    return (llvm::Twine("target '") + defaults.target->getName() + "' has no " +
            stringifyTriInvPrecision(precision) + " matmuls")
        .str();
  int64_t c = op.getMatrixSize();
  int64_t blockSize = effectiveBlockSize(op, defaults);
  if (op.getStrategy().value_or(defaults.options.strategy) ==
          TriInvStrategy::Blocked &&
      c % blockSize != 0)
    return (llvm::Twine("block size ") + llvm::Twine(blockSize) +
            " does not divide the matrix size " + llvm::Twine(c))
        .str();
  std::string why;
  if (usesTolerance(op, defaults) && !toleranceChoice(op, defaults, why))
    return why;
  return "";
}

/// Merges the op's attributes into `defaults` and resolves the result for
/// the op's matrix size. Requires `whyUnlowerable(op, defaults)` to be empty.
ResolvedTriInv resolve(TriInvOp op, const LoweringDefaults &defaults) {
  int64_t c = op.getMatrixSize();
  ResolvedTriInv r;
  r.strategy = op.getStrategy().value_or(defaults.options.strategy);
  r.blockSize = effectiveBlockSize(op, defaults);
  r.residualSteps =
      op.getResidualStepsValue().value_or(defaults.options.residualSteps);
  int64_t order = op.getOrderValue().value_or(defaults.options.order);
  if (usesTolerance(op, defaults)) {
    std::string why;
    r.fromTolerance = toleranceChoice(op, defaults, why);
    assert(r.fromTolerance && "whyUnlowerable rejects unmet tolerances");
    order = r.fromTolerance->order;
    r.residualSteps = r.fromTolerance->residualSteps;
  }
  int64_t exact = r.strategy == TriInvStrategy::Blocked
                      ? exactFactors(r.blockSize)
                      : exactFactors(c);
  r.factors = order < 0 ? exact : std::min(order, exact);
  r.matmul.precision = effectivePrecision(op, defaults);
  r.matmul.granularity = defaults.options.quantGranularity;
  r.batchedLevels = defaults.target->mergesTriInvLevelsBatched();
  r.lowPrecisionMergesFrom = defaults.options.lowPrecisionMergesFrom;
  r.quantizeMergesOnce = defaults.options.quantizeMergesOnce;
  r.diagonalBlocksF32 = defaults.target->keepsTriInvDiagonalBlocksF32();
  r.neumannBlockSize = defaults.target->getTriInvNeumannBlockSize();
  r.neumannMaxSeriesSize = defaults.target->getTriInvNeumannMaxSeriesSize();
  r.forwardSubstitutionColumnBlock =
      defaults.target->getTriInvForwardSubstitutionColumnBlock();
  return r;
}

/// Why `config` may return garbage on correlated keys, or an empty string:
/// INT8 Neumann sums over more than 8 x 8 matrices cannot resolve the
/// cancellation of powers that grow to 1e1..1e9 (no hazard for blocked
/// diagonal blocks the target solves in f32).
std::string int8Hazard(TriInvOp op, const ResolvedTriInv &config) {
  if (config.matmul.precision != TriInvPrecision::I8)
    return "";
  int64_t c = op.getMatrixSize();
  if (config.strategy == TriInvStrategy::Neumann && c > 8)
    return (llvm::Twine("precision=i8 with the neumann strategy on ") +
            llvm::Twine(c) + "x" + llvm::Twine(c) +
            " matrices: int8 cannot resolve the cancelling powers of L "
            "(they reach 1e6 with correlated keys); strategy=blocked with "
            "4x4 blocks keeps the error near 1e-2")
        .str();
  // Batched levels solve INT8's diagonal blocks in f32 (diagonalPrecision).
  if (config.strategy == TriInvStrategy::Blocked && config.blockSize > 8 &&
      !config.diagonalBlocksF32 && !config.batchedLevels)
    return (llvm::Twine("precision=i8 with ") + llvm::Twine(config.blockSize) +
            "x" + llvm::Twine(config.blockSize) +
            " diagonal blocks: their int8 Neumann sums lose the cancelling "
            "powers (0.35 relative error at key correlation 0.98); blocks of "
            "4 keep the error near 1e-2")
        .str();
  return "";
}

//===----------------------------------------------------------------------===//
// TriInvEmitter: builds the linalg/tensor IR of the strategies
//===----------------------------------------------------------------------===//

/// Emits batched matrix computations on tensors of shape `batch x rows x
/// cols` with f32 elements. The batch dimension may be dynamic.
class TriInvEmitter {
public:
  /// Every matmul represents its operands as `matmulPrecision` says.
  TriInvEmitter(OpBuilder &b, Location loc, MatmulPrecision matmulPrecision)
      : b(b), loc(loc), sb(b, loc), matmulPrecision(matmulPrecision) {}

  /// Blocked merges: levels of solved blocks smaller than `from` keep f32
  /// products; with `once`, INT8 merges quantise each operand once.
  void setMergePrecision(int64_t from, bool once) {
    lowPrecisionMergesFrom = from;
    quantizeMergesOnce = once;
  }

  Type f32() { return b.getF32Type(); }

  /// The batch size of a 3-D tensor as a constant or an SSA value.
  OpFoldResult batchOf(Value t) { return sb.dim(t, 0); }

  /// An uninitialised f32 tensor of shape `batch x rows x cols`.
  Value empty(OpFoldResult batch, int64_t rows, int64_t cols) {
    return sb.empty({batch, b.getIndexAttr(rows), b.getIndexAttr(cols)}, f32());
  }

  /// A 3-D elementwise linalg.generic over `inputs` (all of the shape of
  /// `init`) writing into `init`. `body` gets the scalar inputs and the
  /// (row, col) indices and returns the result element.
  Value elementwise(
      ValueRange inputs, Value init,
      function_ref<Value(OpBuilder &, Location, ValueRange, Value, Value)>
          body) {
    MLIRContext *ctx = b.getContext();
    SmallVector<AffineMap> maps(inputs.size() + 1,
                                AffineMap::getMultiDimIdentityMap(3, ctx));
    SmallVector<utils::IteratorType> iterators(3,
                                               utils::IteratorType::parallel);
    return linalg::GenericOp::create(
               b, loc, init.getType(), inputs, ValueRange{init}, maps,
               iterators,
               [&](OpBuilder &nb, Location nloc, ValueRange args) {
                 Value i = linalg::IndexOp::create(nb, nloc, 1);
                 Value j = linalg::IndexOp::create(nb, nloc, 2);
                 Value r = body(nb, nloc, args.drop_back(), i, j);
                 linalg::YieldOp::create(nb, nloc, r);
               })
        .getResult(0);
  }

  /// The strictly lower triangle of `a` (any float element type), widened
  /// to f32 and multiplied by `sign`: the structural mask of every strategy.
  Value strictlyLower(Value a, float sign) {
    auto type = cast<RankedTensorType>(a.getType());
    int64_t n = type.getShape().back();
    Value init = empty(batchOf(a), n, n);
    return elementwise(
        a, init,
        [&](OpBuilder &nb, Location nloc, ValueRange args, Value i, Value j) {
          Value v = args[0];
          if (v.getType() != f32())
            v = arith::ExtFOp::create(nb, nloc, f32(), v);
          if (sign < 0)
            v = arith::NegFOp::create(nb, nloc, v);
          Value zero =
              arith::ConstantOp::create(nb, nloc, nb.getF32FloatAttr(0.0f));
          Value below =
              arith::CmpIOp::create(nb, nloc, arith::CmpIPredicate::ugt, i, j);
          return arith::SelectOp::create(nb, nloc, below, v, zero).getResult();
        });
  }

  /// `delta_ij + sign * x`, the scalar body shared by the identity updates.
  Value identityEntry(OpBuilder &nb, Location nloc, Value i, Value j, Value x,
                      float sign) {
    Value one = arith::ConstantOp::create(nb, nloc, nb.getF32FloatAttr(1.0f));
    Value zero = arith::ConstantOp::create(nb, nloc, nb.getF32FloatAttr(0.0f));
    Value diag =
        arith::CmpIOp::create(nb, nloc, arith::CmpIPredicate::eq, i, j);
    Value delta = arith::SelectOp::create(nb, nloc, diag, one, zero);
    if (sign < 0)
      return arith::SubFOp::create(nb, nloc, delta, x);
    return arith::AddFOp::create(nb, nloc, delta, x);
  }

  /// The batched identity `batch x n x n`.
  Value identity(OpFoldResult batch, int64_t n) {
    return identityInto(empty(batch, n, n));
  }

  /// Zeros written into `dest` (`batch x rows x cols`, not read): an
  /// elementwise op, which targets vectorise like the other row ops, not a
  /// linalg.fill (the CPU lowered the blocked inverse's whole-matrix fill to
  /// a `memset` call, 12% of the kernel at C = 32; docs/Performance.md,
  /// session 18).
  Value zerosInto(Value dest) {
    return elementwise(
        ValueRange{}, dest,
        [&](OpBuilder &nb, Location nloc, ValueRange, Value, Value) {
          return StructuredBuilder::f32Constant(nb, nloc, 0.0f);
        });
  }

  /// The identity written into `dest` (`batch x n x n`), which is not read.
  Value identityInto(Value dest) {
    return elementwise(
        ValueRange{}, dest,
        [&](OpBuilder &nb, Location nloc, ValueRange, Value i, Value j) {
          Value one = StructuredBuilder::f32Constant(nb, nloc, 1.0f);
          Value zero = StructuredBuilder::f32Constant(nb, nloc, 0.0f);
          Value diag =
              arith::CmpIOp::create(nb, nloc, arith::CmpIPredicate::eq, i, j);
          return arith::SelectOp::create(nb, nloc, diag, one, zero).getResult();
        });
  }

  /// `I - D` written into `dest` (`batch x c x c`, not read), `D` the
  /// strictly lower part of the diagonal `blockSize` blocks of `a`: the
  /// first factor of every diagonal block's Neumann product, zeros
  /// everywhere else. The strictly lower mask, the negation, the identity
  /// and the zero blocks of the result in one pass over the destination.
  Value identityMinusBlockDiagonalInto(Value a, int64_t blockSize, Value dest) {
    int64_t n = cast<RankedTensorType>(dest.getType()).getDimSize(1);
    return elementwise(
        a, dest,
        [&](OpBuilder &nb, Location nloc, ValueRange args, Value row,
            Value col) {
          Value v = StructuredBuilder::castFloat(nb, nloc, args[0], f32());
          Value one = StructuredBuilder::f32Constant(nb, nloc, 1.0f);
          Value zero = StructuredBuilder::f32Constant(nb, nloc, 0.0f);
          // The index arithmetic in i32 (bitwise ops on it are converted by
          // every backend; EmitC has none for index): 16 lanes per AVX-512
          // compare instead of 8 in i64, 1.6x faster on the CPU (C = 32 / 64,
          // docs/Performance.md, session 17). C < 2^31.
          Type i32 = nb.getI32Type();
          Value i = arith::IndexCastOp::create(nb, nloc, i32, row);
          Value j = arith::IndexCastOp::create(nb, nloc, i32, col);
          Value below =
              arith::CmpIOp::create(nb, nloc, arith::CmpIPredicate::ugt, i, j);
          Value diag =
              arith::CmpIOp::create(nb, nloc, arith::CmpIPredicate::eq, i, j);
          Value delta = arith::SelectOp::create(nb, nloc, diag, one, zero);
          Value negated = arith::NegFOp::create(nb, nloc, v);
          // i and j lie in the same diagonal block iff they agree above
          // its low bits: (i ^ j) < B (B a power of two).
          Value inBlock = below;
          if (blockSize < n) {
            Value size = arith::ConstantIntOp::create(nb, nloc, i32, blockSize);
            Value differ = arith::XOrIOp::create(nb, nloc, i, j);
            Value sameBlock = arith::CmpIOp::create(
                nb, nloc, arith::CmpIPredicate::ult, differ, size);
            inBlock = arith::AndIOp::create(nb, nloc, below, sameBlock);
          }
          return arith::SelectOp::create(nb, nloc, inBlock, negated, delta)
              .getResult();
        });
  }

  /// The band of `L` (strictly lower part of the `n x n` diagonal window at
  /// (`off`, `off`) of `a`) that can be non-zero: `L[1:, :n-1]`, an
  /// `(n-1) x (n-1)` lower triangular f32 tensor.
  Value lowerBand(Value a, OpFoldResult off, int64_t n) {
    return elementwise(
        slice(a, plus(off, 1), off, n - 1, n - 1),
        empty(batchOf(a), n - 1, n - 1),
        [&](OpBuilder &nb, Location nloc, ValueRange args, Value i, Value j) {
          Value v = StructuredBuilder::castFloat(nb, nloc, args[0], f32());
          Value zero = StructuredBuilder::f32Constant(nb, nloc, 0.0f);
          Value onOrBelow =
              arith::CmpIOp::create(nb, nloc, arith::CmpIPredicate::uge, i, j);
          return arith::SelectOp::create(nb, nloc, onOrBelow, v, zero)
              .getResult();
        });
  }

  /// An elementwise update of `dest` in place: `body` gets the elements of
  /// `inputs` (all of `dest`'s shape) and of `dest`.
  Value
  update(ValueRange inputs, Value dest,
         function_ref<Value(OpBuilder &, Location, ValueRange, Value)> body) {
    auto type = cast<RankedTensorType>(dest.getType());
    MLIRContext *ctx = b.getContext();
    SmallVector<AffineMap> maps(
        inputs.size() + 1,
        AffineMap::getMultiDimIdentityMap(type.getRank(), ctx));
    SmallVector<utils::IteratorType> iterators(type.getRank(),
                                               utils::IteratorType::parallel);
    return linalg::GenericOp::create(
               b, loc, type, inputs, ValueRange{dest}, maps, iterators,
               [&](OpBuilder &nb, Location nloc, ValueRange args) {
                 linalg::YieldOp::create(
                     nb, nloc, body(nb, nloc, args.drop_back(), args.back()));
               })
        .getResult(0);
  }

  /// `dest + x` elementwise, written over `dest`.
  Value addInto(Value x, Value dest) {
    return update(
        x, dest, [](OpBuilder &nb, Location nloc, ValueRange in, Value out) {
          return arith::AddFOp::create(nb, nloc, out, in[0]).getResult();
        });
  }

  /// `acc + lhs @ rhs` (or `lhs @ rhs` when `acc` is null), batched, with
  /// the operands in the matmul precision.
  Value matmul(Value lhs, Value rhs, Value acc = nullptr) {
    return emitMatmul(sb, lhs, rhs, acc, matmulPrecision);
  }

  /// `acc + lhs @ rhs` on f32 tensors `batch x m x k` and `batch x k x n`,
  /// with the operands represented as `precision` says; the sum is f32
  /// (emitPrecisionMatmul, shared with the chunk stages).
  static Value emitMatmul(StructuredBuilder &sb, Value lhs, Value rhs,
                          Value acc, MatmulPrecision precision) {
    return emitPrecisionMatmul(sb, lhs, rhs, acc, precision.precision,
                               precision.granularity);
  }

  /// The `rows x cols` window at (`row`, `col`) of every matrix of `t`.
  Value slice(Value t, int64_t row, int64_t col, int64_t rows, int64_t cols) {
    return slice(t, b.getIndexAttr(row), b.getIndexAttr(col), rows, cols);
  }
  Value slice(Value t, OpFoldResult row, OpFoldResult col, int64_t rows,
              int64_t cols) {
    return tensor::ExtractSliceOp::create(
        b, loc, t, ArrayRef<OpFoldResult>{b.getIndexAttr(0), row, col},
        ArrayRef<OpFoldResult>{batchOf(t), b.getIndexAttr(rows),
                               b.getIndexAttr(cols)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1),
                               b.getIndexAttr(1)});
  }

  /// `dest` with `src` written at (`row`, `col`) of every matrix.
  Value insert(Value src, Value dest, int64_t row, int64_t col) {
    return insert(src, dest, b.getIndexAttr(row), b.getIndexAttr(col));
  }
  Value insert(Value src, Value dest, OpFoldResult row, OpFoldResult col) {
    auto type = cast<RankedTensorType>(src.getType());
    return tensor::InsertSliceOp::create(
        b, loc, src, dest, ArrayRef<OpFoldResult>{b.getIndexAttr(0), row, col},
        ArrayRef<OpFoldResult>{batchOf(src), b.getIndexAttr(type.getDimSize(1)),
                               b.getIndexAttr(type.getDimSize(2))},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1),
                               b.getIndexAttr(1)});
  }

  /// `offset + delta`, folded when `offset` is constant.
  OpFoldResult plus(OpFoldResult offset, int64_t delta) {
    if (std::optional<int64_t> value = getConstantIntValue(offset))
      return b.getIndexAttr(*value + delta);
    if (delta == 0)
      return offset;
    return arith::AddIOp::create(
               b, loc, getValueOrCreateConstantIndexOp(b, loc, offset),
               arith::ConstantIndexOp::create(b, loc, delta))
        .getResult();
  }

  /// `body` applied to `x` at the offsets `first + i * step`, `i < count`:
  /// unrolled when `count` is 1, else an `scf.for` carrying `x`, so that the
  /// code stays one copy of `body` per level whatever the number of blocks.
  Value forEachOffset(int64_t first, int64_t count, int64_t step, Value x,
                      function_ref<Value(OpFoldResult, Value)> body) {
    if (count <= 0)
      return x;
    if (count == 1)
      return body(b.getIndexAttr(first), x);
    Value lb = arith::ConstantIndexOp::create(b, loc, first);
    Value ub = arith::ConstantIndexOp::create(b, loc, first + count * step);
    Value st = arith::ConstantIndexOp::create(b, loc, step);
    auto loop = scf::ForOp::create(b, loc, lb, ub, st, ValueRange{x});
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value next = body(loop.getInductionVar(), loop.getRegionIterArgs()[0]);
    scf::YieldOp::create(b, loc, next);
    return loop.getResult(0);
  }

  //===--------------------------------------------------------------------===//
  // Strategies
  //===--------------------------------------------------------------------===//

  /// Multiplies `x`, the `n x n` diagonal window at (`off`, `off`) of the
  /// result holding `I - L` (`L` the strictly lower part of that window of
  /// `a`), by `(I + L^2)(I + L^4)...(I + L^(2^(factors-1)))`. Every power
  /// `L^k` is zero outside its band `L^k[k:, :n-k]`, which is all that is
  /// kept of it (`P_k`, `(n-k) x (n-k)`) and multiplied, with the operands
  /// represented as `precision` says.
  Value neumannFactors(Value a, OpFoldResult off, int64_t n, Value x,
                       int64_t factors, bool accumulateInPlace,
                       MatmulPrecision precision) {
    if (factors <= 1 || n <= 2)
      return x;
    auto matmul = [&](Value lhs, Value rhs, Value acc = nullptr) {
      return emitMatmul(sb, lhs, rhs, acc, precision);
    };
    Value power = lowerBand(a, off, n); // P_1 = L[1:, :n-1]
    for (int64_t f = 1, k = 1; f < factors && 2 * k < n; ++f, k *= 2) {
      int64_t m = n - 2 * k;
      // P_2k = L^2k[2k:, :n-2k] = L^k[2k:, k:n-k] @ L^k[k:n-k, :n-2k]
      //      = P_k[k:n-k, k:n-k] @ P_k[:n-2k, :n-2k].
      Value band = matmul(slice(power, k, k, m, m), slice(power, 0, 0, m, m));
      // X <- X (I + L^2k): X L^2k is non-zero on rows [2k, n), columns
      // [0, n-2k) only, with X[2k:, 2k:] @ L^2k[2k:, :n-2k]. That operand
      // overlaps the rows it updates, so bufferization copies the
      // accumulator in and out; unless `accumulateInPlace`, the product
      // goes to a temporary and is added in place instead (no copies, a
      // different rounding order).
      Value acc = slice(x, 2 * k, 0, m, m);
      Value update =
          accumulateInPlace
              ? matmul(slice(x, 2 * k, 2 * k, m, m), band, acc)
              : addInto(matmul(slice(x, 2 * k, 2 * k, m, m), band), acc);
      x = insert(update, x, 2 * k, 0);
      power = band;
    }
    return x;
  }

  /// One residual correction `X + X (I - (I + L) X)`.
  Value residualStep(Value l, Value x) {
    Value lx = matmul(l, x);
    auto type = cast<RankedTensorType>(x.getType());
    Value init = empty(batchOf(x), type.getDimSize(1), type.getDimSize(2));
    Value residual = elementwise(
        ValueRange{x, lx}, init,
        [&](OpBuilder &nb, Location nloc, ValueRange args, Value i, Value j) {
          Value sum = arith::AddFOp::create(nb, nloc, args[0], args[1]);
          return identityEntry(nb, nloc, i, j, sum, -1.0f);
        });
    return matmul(x, residual, x);
  }

  /// The Neumann product `(I - L)(I + L^2)...` of the whole of `a`
  /// (`batch x n x n`), built in one destination.
  Value neumann(Value a, int64_t factors) {
    int64_t n = cast<RankedTensorType>(a.getType()).getDimSize(1);
    Value x = empty(batchOf(a), n, n);
    if (factors == 0)
      return identityInto(x);
    x = identityMinusBlockDiagonalInto(a, n, x);
    // The whole-matrix series keeps the rounding order that the tolerance
    // rule table (TriInvTolerance.cpp) was measured with.
    return neumannFactors(a, b.getIndexAttr(0), n, x, factors,
                          /*accumulateInPlace=*/true, matmulPrecision);
  }

  /// The first block distance `I - J` at which a `bs x bs` block (I, J) of
  /// `L^p` (`L` strictly lower triangular) can be non-zero: `L^p[i, j]`
  /// vanishes unless `i - j >= p`, and the block's largest `i - j` is
  /// `(I - J) bs + bs - 1`.
  static int64_t firstNonZeroBlockDistance(int64_t p, int64_t bs) {
    return p < bs ? 0 : llvm::divideCeil(p - bs + 1, bs);
  }

  /// Rows of the tiles that a product with a lower-triangular left operand
  /// is split into (the block products of `neumannBlockTriangularFactors`;
  /// the CPU's f32 matmuls are 8 x 16 register tiles): each row tile gets
  /// its own, shorter K range.
  static constexpr int64_t kTriangularRowTile = 8;

  /// Rows of the tiles of the merges' U = X22 T (mergePair): 4, not
  /// kTriangularRowTile, since each tile skips the K its rows do not need,
  /// the 16 -> 32 merge does 160 instead of 192 vector multiply-adds per
  /// matrix (1.02-1.03x at C = 32, neutral at C = 64: docs/Performance.md,
  /// session 18; bitwise identical).
  static constexpr int64_t kMergeRowTile = 4;

  /// `body` for each `rows`-row tile of the `bs x bs` block (`col + delta bs`,
  /// `col`) of a product `F G` of lower triangular factors with
  /// `F[i, K] = 0` unless `K <= i - lhsLag` and `G[K, j] = 0` unless
  /// `K >= j + rhsLag` (`L^p`: lag p; X: lag 0). The tile's rows `[r0, r0 +
  /// rows)` and the block's columns `[col, col + bs)` need only `K` in
  /// `[col + rhsLag, r0 + rows - 1 - lhsLag]` (every other term has a zero
  /// factor, so the result is the same up to the order of exact zeros): a
  /// static depth per tile (`kDepth`, <= 0 when the tile is zero), `inner` =
  /// `col + rhsLag`. The upper tile of a diagonal block needs `rows` fewer K
  /// than the lower; at C = 32, bs = 16, the exact series does 60 K
  /// multiply-adds per matrix instead of 111 K with whole-block K ranges.
  /// Every K read lies in a block of the factor that can be non-zero (was
  /// computed): `floor(lag / bs) = firstNonZeroBlockDistance(lag, bs)`.
  Value forEachRowTile(
      int64_t delta, int64_t bs, int64_t lhsLag, int64_t rhsLag,
      OpFoldResult col, Value x,
      function_ref<Value(OpFoldResult, OpFoldResult, int64_t, int64_t, Value)>
          body) {
    int64_t rows = bs % kTriangularRowTile == 0 ? kTriangularRowTile : bs;
    OpFoldResult inner = plus(col, rhsLag);
    for (int64_t r0 = 0; r0 < bs; r0 += rows) {
      int64_t kDepth = delta * bs + r0 + rows - lhsLag - rhsLag;
      x = body(plus(col, delta * bs + r0), inner, rows, kDepth, x);
    }
    return x;
  }

  /// `neumann` with block-triangular products: every power `P = L^p` is a
  /// `batch x n x n` tensor of which only the `bs x bs` blocks that can be
  /// non-zero (block distance `I - J >= d_p`, firstNonZeroBlockDistance)
  /// are computed, each from the blocks of the factors that can be
  /// non-zero: `L^2k(I, J) = sum_{K = J + d_k}^{I - d_k} L^k(I, K) L^k(K, J)`
  /// and `(X L^2k)(I, J) = sum_{K = J + d_2k}^{I} X(I, K) L^2k(K, J)` (X is
  /// lower triangular). The blocks at one distance `delta` have the same
  /// static shapes (`bs x (delta - ..) bs` times `.. x bs`), so each is one
  /// batched matmul per 8-row tile (forEachRowTile: its own, shorter K
  /// range) in an `scf.for` over the block column. At C = 64, bs = 16 and
  /// exact order: 154 block products (631 K multiply-adds per matrix with
  /// whole-block K ranges, fewer with the tiles' ranges) instead of 1.55 M
  /// for the bands; the skipped blocks are exact
  /// zeros (every term of them has a zero factor), so only the summation
  /// order differs from `neumann` (X + (X P) instead of accumulating the
  /// terms onto X; accumulating in place would alias the panel it reads and
  /// costs 1.4x in bufferization copies). The blocks of `P` that are never
  /// computed are never read.
  Value neumannBlockTriangular(Value a, int64_t factors, int64_t bs) {
    int64_t n = cast<RankedTensorType>(a.getType()).getDimSize(1);
    Value x = identityMinusBlockDiagonalInto(a, n, empty(batchOf(a), n, n));
    return neumannBlockTriangularFactors(a, x, factors, bs);
  }

  /// The factors of `neumannBlockTriangular` applied to `x` (`batch x n x
  /// n`, holding `I - L`, `L` the strictly lower part of `a`).
  Value neumannBlockTriangularFactors(Value a, Value x, int64_t factors,
                                      int64_t bs) {
    int64_t n = cast<RankedTensorType>(a.getType()).getDimSize(1);
    int64_t q = n / bs;
    OpFoldResult batch = batchOf(a);
    if (factors <= 1)
      return x;
    Value power = strictlyLower(a, 1.0f); // L: every block I >= J
    for (int64_t f = 1, k = 1; f < factors && 2 * k < n; ++f, k *= 2) {
      int64_t distance = firstNonZeroBlockDistance(2 * k, bs);
      // L^2k = L^k L^k, the blocks at distance >= `distance` only, each in
      // row tiles with their own K ranges (forEachRowTile).
      Value next = empty(batch, n, n);
      for (int64_t delta = distance; delta < q; ++delta) {
        next = forEachOffset(
            0, q - delta, bs, next, [&](OpFoldResult col, Value next) {
              return forEachRowTile(
                  delta, bs, /*lhsLag=*/k, /*rhsLag=*/k, col, next,
                  [&](OpFoldResult row, OpFoldResult inner, int64_t rows,
                      int64_t kDepth, Value next) {
                    Value tile =
                        kDepth > 0
                            ? matmul(slice(power, row, inner, rows, kDepth),
                                     slice(power, inner, col, kDepth, bs))
                            : sb.zeros({batch, b.getIndexAttr(rows),
                                        b.getIndexAttr(bs)});
                    return insert(tile, next, row, col);
                  });
            });
      }
      // X <- X + X L^2k, block by block in place, the blocks farthest from
      // the diagonal first: block (I, J) reads X(I, K) for J <= K <= I,
      // which are then still the old values (X(I, J) itself through the
      // temporary product).
      for (int64_t delta = q - 1; delta >= distance; --delta) {
        x = forEachOffset(0, q - delta, bs, x, [&](OpFoldResult col, Value x) {
          return forEachRowTile(
              delta, bs, /*lhsLag=*/0, /*rhsLag=*/2 * k, col, x,
              [&](OpFoldResult row, OpFoldResult inner, int64_t rows,
                  int64_t kDepth, Value x) {
                if (kDepth <= 0)
                  return x; // X L^2k is zero on these rows of the block.
                Value product = matmul(slice(x, row, inner, rows, kDepth),
                                       slice(next, inner, col, kDepth, bs));
                return insert(addInto(product, slice(x, row, col, rows, bs)),
                              x, row, col);
              });
        });
      }
      power = next;
    }
    return x;
  }

  /// The exact Neumann series of `a` (`batch x c x c`) on its diagonal
  /// `w x w` windows (`neumannBlockTriangular` on each, in place in one
  /// destination initialised to `I - D` for the windows), merged pairwise
  /// with `X21 = -X22 (L21 X11)` until they cover the matrix (`blocked`'s
  /// merges). Exact to rounding like the whole-matrix series, with
  /// `O(w^2 C log w + C^3)` instead of `O(C^3 log C)` multiply-adds: at
  /// C = 64, w = 32 (the CPU's), 2 x 111 K + 49 K instead of 631 K per
  /// matrix; at C = 128, 0.93 M (w = 32) or 1.65 M (w = 64) instead of
  /// 4.37 M.
  Value neumannWindowsMerged(Value a, int64_t w, int64_t bs) {
    int64_t c = cast<RankedTensorType>(a.getType()).getDimSize(1);
    Value x = identityMinusBlockDiagonalInto(a, w, empty(batchOf(a), c, c));
    x = forEachOffset(0, c / w, w, x, [&](OpFoldResult p, Value x) {
      Value window = neumannBlockTriangularFactors(
          slice(a, p, p, w, w), slice(x, p, p, w, w), exactFactors(w), bs);
      return insert(window, x, p, p);
    });
    return mergeLevels(a, x, w, bs);
  }

  /// Merges the solved `first x first` diagonal blocks of `x` pairwise
  /// until they cover the matrix (the blocks below them are overwritten;
  /// those above must be zero, or with `zeroUpperBlocks` each merge writes
  /// the zeros of its window's upper right block X12, and `x` may hold
  /// anything there before). When the number of blocks is not a power of
  /// two, the last pair of a level may have a smaller second block (or no
  /// second block). `bs` is the smallest block whose lower triangular
  /// halves mergePair may skip.
  Value mergeLevels(Value a, Value x, int64_t first, int64_t bs,
                    bool zeroUpperBlocks = false) {
    int64_t c = cast<RankedTensorType>(x.getType()).getDimSize(1);
    // Small levels in f32 (setMergePrecision): `matmul` reads
    // matmulPrecision, restored when this returns.
    llvm::SaveAndRestore<MatmulPrecision> restore(matmulPrecision);
    MatmulPrecision requested = matmulPrecision;
    for (int64_t s = first; s < c; s *= 2) {
      matmulPrecision =
          s < lowPrecisionMergesFrom ? MatmulPrecision{} : requested;
      int64_t pairs = c / (2 * s);
      auto merge = [&](OpFoldResult start, int64_t r, Value x) {
        x = mergePair(a, x, start, s, r, bs);
        if (!zeroUpperBlocks)
          return x;
        // X12, after X21 is written: before, the zeros would be written
        // into `x` while mergePair still reads its other blocks, which
        // bufferization resolves by copying them.
        OpFoldResult mid = plus(start, s);
        return insert(zerosInto(slice(x, start, mid, s, r)), x, start, mid);
      };
      x = forEachOffset(0, pairs, 2 * s, x, [&](OpFoldResult start, Value x) {
        return merge(start, s, x);
      });
      int64_t start = pairs * 2 * s;
      if (start + s < c)
        x = merge(b.getIndexAttr(start), c - start - s, x);
    }
    return x;
  }

  /// Exact Neumann inverses of the diagonal `blockSize` blocks of `I + L`
  /// (`L` the strictly lower part of `a`, `batch x c x c`), merged pairwise
  /// with `X21 = -X22 (L21 X11)` until they cover the matrix. Everything is
  /// computed in place in one `batch x c x c` destination, each element
  /// written once before it is read: each diagonal block's `I - D` (its
  /// first Neumann factor) where the block is solved, each merge's X21 and
  /// the zeros of its X12; the off-diagonal blocks of `L` are read from `a`
  /// directly. With
  /// `diagonalBlocksF32`, the diagonal blocks' products are f32 whatever the
  /// matmul precision (only the merges' operands are rounded / quantised).
  Value blocked(Value a, int64_t blockSize, int64_t factors,
                bool diagonalBlocksF32) {
    int64_t c = cast<RankedTensorType>(a.getType()).getDimSize(1);
    int64_t numBlocks = c / blockSize;
    Value x;
    if (factors == 0) {
      x = identityInto(empty(batchOf(a), c, c)); // 1 x 1 blocks: I - D = I
    } else {
      // Each diagonal block's I - D where it is solved: the blocks below
      // the diagonal are written by the merges (never read before), so
      // only the diagonal blocks of `a` are read and masked, not whole rows
      // (CPU: 1.1x / 1.15x faster at C = 64 / 128, docs/Performance.md,
      // session 17). The blocks above are zeroed by the merges, not by a
      // fill of the whole matrix first (half of it overwritten; CPU:
      // 1.05-1.11x faster at C = 32 / 64 / 128, docs/Performance.md,
      // session 18; bitwise identical).
      x = empty(batchOf(a), c, c);
      x = forEachOffset(
          0, numBlocks, blockSize, x, [&](OpFoldResult p, Value x) {
            Value block = identityMinusBlockDiagonalInto(
                slice(a, p, p, blockSize, blockSize), blockSize,
                slice(x, p, p, blockSize, blockSize));
            if (factors > 1)
              block = neumannFactors(
                  a, p, blockSize, block, factors,
                  /*accumulateInPlace=*/false,
                  diagonalBlocksF32 ? MatmulPrecision{} : matmulPrecision);
            return insert(block, x, p, p);
          });
    }
    // Pairs of solved blocks of size `s` become solved blocks of 2s.
    return mergeLevels(a, x, blockSize, blockSize,
                       /*zeroUpperBlocks=*/factors > 0);
  }

  /// Solves the `(s + r) x (s + r)` diagonal window at `start` of `x` whose
  /// diagonal blocks X11 (`s x s`) and X22 (`r x r`) are solved:
  /// `X21 = -X22 (L21 X11)`. X11 and X22 are lower triangular; when their
  /// halves are whole blocks, T skips X11's zero upper right quadrant and U
  /// takes row tiles of X22, each with only the K its lower triangle needs
  /// (halves up to 16 x 16 blocks, 8-row tiles above).
  ///
  /// Both products go to temporaries and the negation writes X21 into its
  /// block of `x`: a product written into `x` while reading another block
  /// of it would be bufferized out of place (one-shot bufferization cannot
  /// tell that the blocks are disjoint), i.e. copied.
  Value mergePair(Value a, Value x, OpFoldResult start, int64_t s, int64_t r,
                  int64_t blockSize) {
    if (quantizeMergesOnce &&
        matmulPrecision.precision == TriInvPrecision::I8)
      return mergePairQuantizedOnce(a, x, start, s, r, blockSize);
    OpFoldResult mid = plus(start, s);
    Value x11 = slice(x, start, start, s, s);
    Value x22 = slice(x, mid, mid, r, r);
    Value l21 = slice(a, mid, start, r, s);
    int64_t h = s / 2;
    bool split = h >= blockSize && h % blockSize == 0;
    // T = L21 X11; with X11 = [[A, 0], [B, C]] (halves of h):
    // T = L21[:, h:] X11[h:, :], then T[:, :h] += L21[:, :h] A.
    Value t;
    if (split) {
      t = matmul(slice(l21, 0, h, r, s - h), slice(x11, h, 0, s - h, s));
      Value left = slice(t, 0, 0, r, h);
      left = matmul(slice(l21, 0, 0, r, h), slice(x11, 0, 0, h, h), left);
      t = insert(left, t, 0, 0);
    } else {
      t = matmul(l21, x11);
    }
    // U = X22 T, X22 lower triangular: rows [r0, r0 + m) of U need only
    // K < r0 + m, U[r0:r0+m] = X22[r0:r0+m, :r0+m] T[:r0+m] (when r > h),
    // in row tiles of m = min(h, kMergeRowTile): the halves up to 8 x 8
    // blocks, 4-row tiles above (at the 32 -> 64 merge 72 of 128 K per row
    // on average instead of 96 with halves, 80 with 8-row tiles). Only
    // terms with a zero factor are skipped (the same result up to the order
    // of exact zeros).
    Value u;
    if (split && r > h) {
      int64_t m = std::min(h, kMergeRowTile);
      u = empty(batchOf(x), r, s);
      for (int64_t r0 = 0; r0 < r; r0 += m) {
        int64_t rows = std::min(m, r - r0);
        Value tile = matmul(slice(x22, r0, 0, rows, r0 + rows),
                            slice(t, 0, 0, r0 + rows, s));
        u = insert(tile, u, r0, 0);
      }
    } else {
      u = matmul(x22, t);
    }
    // X21 = 0 - U: -U, but +0 where U is +0 (the exact zeros of the
    // inverse stay +0, as the products of the other strategies give them).
    Value x21 = update(
        u, slice(x, mid, start, r, s),
        [](OpBuilder &nb, Location nloc, ValueRange in, Value) {
          Value zero = StructuredBuilder::f32Constant(nb, nloc, 0.0f);
          return arith::SubFOp::create(nb, nloc, zero, in[0]).getResult();
        });
    return insert(x21, x, mid, start);
  }

  /// An INT8 matmul operand: its quantised values and scales (per row of a
  /// left operand or column of a right one, `batch x n`; or per matrix,
  /// `batch`).
  struct QuantizedOperand {
    Value values;
    Value scale;
    bool perRow; // scale indexed by rows (left operand)
  };

  /// `x` quantised as the left (`isLhs`) or right operand of a product.
  QuantizedOperand quantizeOperand(Value x, bool isLhs) {
    bool perMatrix =
        matmulPrecision.granularity == QuantGranularity::Matrix;
    SmallVector<int64_t> dims;
    if (perMatrix)
      dims = {1, 2};
    else
      dims = {isLhs ? int64_t(2) : int64_t(1)};
    auto type = cast<RankedTensorType>(x.getType());
    SmallVector<int64_t> scaleShape;
    for (int64_t dim = 0; dim < type.getRank(); ++dim)
      if (!llvm::is_contained(dims, dim))
        scaleShape.push_back(type.getDimSize(dim));
    auto op = QuantizeOp::create(
        b, loc, type.clone(b.getI8Type()),
        RankedTensorType::get(scaleShape, f32()), x, dims);
    return {op.getQuantized(), op.getScale(), !perMatrix && isLhs};
  }

  /// The `rows x cols` window at (`row`, `col`) of a quantised operand:
  /// its values and the scales of the rows (left) or columns (right) kept.
  /// The scales stay those of the whole operand (a max over a superset:
  /// every value still fits in [-127, 127]).
  QuantizedOperand sliceQuantized(const QuantizedOperand &q, int64_t row,
                                  int64_t col, int64_t rows, int64_t cols) {
    QuantizedOperand r = q;
    r.values = slice(q.values, row, col, rows, cols);
    if (cast<RankedTensorType>(q.scale.getType()).getRank() == 2) {
      int64_t offset = q.perRow ? row : col;
      int64_t size = q.perRow ? rows : cols;
      r.scale = tensor::ExtractSliceOp::create(
          b, loc, q.scale,
          ArrayRef<OpFoldResult>{b.getIndexAttr(0), b.getIndexAttr(offset)},
          ArrayRef<OpFoldResult>{batchOf(q.values), b.getIndexAttr(size)},
          ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1)});
    }
    return r;
  }

  /// `acc + lhs @ rhs` on i8 values, i32 sum (a zero `acc` when null).
  Value integerMatmul(Value lhs, Value rhs, Value acc = nullptr) {
    if (!acc)
      acc = sb.zeros({batchOf(lhs),
                      b.getIndexAttr(
                          cast<RankedTensorType>(lhs.getType()).getDimSize(1)),
                      b.getIndexAttr(
                          cast<RankedTensorType>(rhs.getType()).getDimSize(2))},
                     b.getI32Type());
    return sb.batchMatmul(lhs, rhs, acc);
  }

  /// `mergePair` with INT8 products, each operand quantised once: L21 and
  /// X22 per row, X11 and T per column (or all per matrix), the halves of
  /// a split product reading slices of the same quantised operand and
  /// summed in i32 (they share the row and column scales), T and U each
  /// dequantised once, and U's dequantisation writing X21 = -U directly
  /// (the left scales negated: an exact sign flip, but -0 where U is 0).
  /// `mergePair` instead quantises both operands of each of its four
  /// products and dequantises and adds each: 8 quantisations and 4
  /// dequantisations per merge where this has 4 and 2.
  Value mergePairQuantizedOnce(Value a, Value x, OpFoldResult start,
                               int64_t s, int64_t r, int64_t blockSize) {
    OpFoldResult mid = plus(start, s);
    int64_t h = s / 2;
    bool split = h >= blockSize && h % blockSize == 0;
    QuantizedOperand l21 = quantizeOperand(slice(a, mid, start, r, s), true);
    QuantizedOperand x11 =
        quantizeOperand(slice(x, start, start, s, s), false);
    auto dequantize = [&](Value acc, Value lhsScale, Value rhsScale) {
      auto type = cast<RankedTensorType>(acc.getType());
      return DequantizeOp::create(b, loc, type.clone(f32()), acc, lhsScale,
                                  rhsScale)
          .getResult();
    };
    // T = L21 X11 in i32, split as in mergePair.
    Value t;
    if (split) {
      t = integerMatmul(sliceQuantized(l21, 0, h, r, s - h).values,
                        sliceQuantized(x11, h, 0, s - h, s).values);
      Value left = slice(t, 0, 0, r, h);
      left = integerMatmul(sliceQuantized(l21, 0, 0, r, h).values,
                           sliceQuantized(x11, 0, 0, h, h).values, left);
      t = insert(left, t, 0, 0);
    } else {
      t = integerMatmul(l21.values, x11.values);
    }
    Value tf = dequantize(t, l21.scale, x11.scale);
    QuantizedOperand x22 = quantizeOperand(slice(x, mid, mid, r, r), true);
    QuantizedOperand tq = quantizeOperand(tf, false);
    // U = X22 T in i32.
    Value u;
    if (split && r > h) {
      Value top = integerMatmul(sliceQuantized(x22, 0, 0, h, h).values,
                                sliceQuantized(tq, 0, 0, h, s).values);
      Value bottom =
          integerMatmul(sliceQuantized(x22, h, 0, r - h, r).values, tq.values);
      Value whole = sb.empty({batchOf(x), b.getIndexAttr(r), b.getIndexAttr(s)},
                             b.getI32Type());
      u = insert(bottom, insert(top, whole, 0, 0), h, 0);
    } else {
      u = integerMatmul(x22.values, tq.values);
    }
    // X21 = -U: the left scales negated.
    auto scaleType = cast<RankedTensorType>(x22.scale.getType());
    SmallVector<OpFoldResult> scaleSizes =
        tensor::getMixedSizes(b, loc, x22.scale);
    AffineMap id = AffineMap::getMultiDimIdentityMap(scaleType.getRank(),
                                                     b.getContext());
    Value negated = sb.map(
        x22.scale, {id}, scaleSizes, f32(),
        [](OpBuilder &nb, Location nloc, ValueRange args) -> Value {
          return arith::NegFOp::create(nb, nloc, args[0]);
        });
    return insert(dequantize(u, negated, tq.scale), x, mid, start);
  }

  //===--------------------------------------------------------------------===//
  // Blocked strategy with batched levels (targets whose threads share one
  // matrix: TargetInfo::mergesTriInvLevelsBatched)
  //===--------------------------------------------------------------------===//
  //
  // The same algorithm and destination as `blocked`, but each level's pairs
  // (and the diagonal blocks' Neumann factors) are a parallel dimension of
  // one contraction instead of the iterations of an scf.for. The leading
  // `w x w` window of a `batch x c x c` tensor is expanded to
  // `batch x q x m x q x m` (q = w / m): the `m x m` block (p, p') is
  // [., p, :, p', :]. A diagonal block is read and written through the
  // indexing map (n, p, i, ..) -> (n, p, i, p, ..), which is not a projected
  // permutation: there is no tensor slice of a block diagonal, but the map
  // is affine, so bufferization keeps the operand a strided view of the
  // destination (no gather, no copy) and tiling keeps p a plain loop. Once
  // a thread's tile has one p, its unit dims fold away and it vectorises
  // like any batched matmul (deltanet-gpu-map-to-threads).

  /// The leading `w x w` window of `t` (`batch x c x c`) as
  /// `batch x (w/m) x m x (w/m) x m`.
  Value blockView(Value t, int64_t w, int64_t m) {
    auto type = cast<RankedTensorType>(t.getType());
    if (w != type.getDimSize(1))
      t = slice(t, 0, 0, w, w);
    int64_t q = w / m;
    auto viewType = RankedTensorType::get(
        {type.getDimSize(0), q, m, q, m}, type.getElementType());
    SmallVector<ReassociationIndices> reassoc = {{0}, {1, 2}, {3, 4}};
    SmallVector<OpFoldResult> sizes = {batchOf(t), b.getIndexAttr(q),
                                       b.getIndexAttr(m), b.getIndexAttr(q),
                                       b.getIndexAttr(m)};
    return tensor::ExpandShapeOp::create(b, loc, viewType, t, reassoc, sizes);
  }

  /// `dest` with `view` (a blockView of its leading window) written back.
  Value fromBlockView(Value view, Value dest) {
    SmallVector<ReassociationIndices> reassoc = {{0}, {1, 2}, {3, 4}};
    Value window = tensor::CollapseShapeOp::create(b, loc, view, reassoc);
    if (cast<RankedTensorType>(window.getType()).getDimSize(1) ==
        cast<RankedTensorType>(dest.getType()).getDimSize(1))
      return window;
    return insert(window, dest, 0, 0);
  }

  /// The `rows x cols` window at (`row`, `col`) of every block of a
  /// blockView.
  Value blockSlice(Value view, int64_t row, int64_t col, int64_t rows,
                   int64_t cols) {
    auto type = cast<RankedTensorType>(view.getType());
    OpFoldResult zero = b.getIndexAttr(0), one = b.getIndexAttr(1);
    OpFoldResult q = b.getIndexAttr(type.getDimSize(1));
    return tensor::ExtractSliceOp::create(
        b, loc, view,
        ArrayRef<OpFoldResult>{zero, zero, b.getIndexAttr(row), zero,
                               b.getIndexAttr(col)},
        ArrayRef<OpFoldResult>{batchOf(view), q, b.getIndexAttr(rows), q,
                               b.getIndexAttr(cols)},
        SmallVector<OpFoldResult>(5, one));
  }

  /// `view` with `src` (a blockSlice of it) written back at (`row`, `col`).
  Value insertBlockSlice(Value src, Value view, int64_t row, int64_t col) {
    OpFoldResult zero = b.getIndexAttr(0), one = b.getIndexAttr(1);
    SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, src);
    return tensor::InsertSliceOp::create(
        b, loc, src, view,
        ArrayRef<OpFoldResult>{zero, zero, b.getIndexAttr(row), zero,
                               b.getIndexAttr(col)},
        sizes, SmallVector<OpFoldResult>(5, one));
  }

  /// The indexing map of an operand of a per-diagonal-block computation with
  /// loop dims (n, p, `row`, `col`, ...): a blockView slice (rank 5) is read
  /// at its diagonal block (p, p), a `batch x q x rows x cols` tensor
  /// (rank 4) at block p.
  AffineMap diagonalBlockMap(Value operand, unsigned numDims, unsigned row,
                             unsigned col) {
    MLIRContext *ctx = b.getContext();
    AffineExpr n = getAffineDimExpr(0, ctx), p = getAffineDimExpr(1, ctx);
    AffineExpr i = getAffineDimExpr(row, ctx), j = getAffineDimExpr(col, ctx);
    if (cast<RankedTensorType>(operand.getType()).getRank() == 5)
      return AffineMap::get(numDims, 0, {n, p, i, p, j}, ctx);
    return AffineMap::get(numDims, 0, {n, p, i, j}, ctx);
  }

  /// `out[n, p] + lhs[n, p] @ rhs[n, p]` for every block p (loop dims n, p,
  /// i, j, k), each operand a diagonal blockView slice or a
  /// `batch x q x rows x cols` tensor; operands rounded to `precision` (f32,
  /// bf16, f16; the matmul precision by default) as `emitMatmul` does. The
  /// body is a plain multiply-add, which the vectoriser turns into a
  /// vector.contract (FMAs). INT8: quantizedDiagonalMatmul.
  Value diagonalMatmul(Value lhs, Value rhs, Value out) {
    return diagonalMatmul(lhs, rhs, out, matmulPrecision);
  }
  Value diagonalMatmul(Value lhs, Value rhs, Value out,
                       MatmulPrecision precision) {
    if (precision.precision == TriInvPrecision::I8)
      return quantizedDiagonalMatmul(lhs, rhs, out, precision);
    SmallVector<AffineMap> maps = {diagonalBlockMap(lhs, 5, 2, 4),
                                   diagonalBlockMap(rhs, 5, 4, 3),
                                   diagonalBlockMap(out, 5, 2, 3)};
    SmallVector<utils::IteratorType> iterators(4,
                                               utils::IteratorType::parallel);
    iterators.push_back(utils::IteratorType::reduction);
    Type rounded;
    if (precision.precision == TriInvPrecision::BF16)
      rounded = BFloat16Type::get(b.getContext());
    else if (precision.precision == TriInvPrecision::F16)
      rounded = Float16Type::get(b.getContext());
    return sb.generic(
        ValueRange{lhs, rhs}, out, maps, iterators,
        [&](OpBuilder &nb, Location nloc, ValueRange args) -> Value {
          Value l = args[0], r = args[1];
          if (rounded) {
            l = StructuredBuilder::castFloat(
                nb, nloc, StructuredBuilder::castFloat(nb, nloc, l, rounded),
                f32());
            r = StructuredBuilder::castFloat(
                nb, nloc, StructuredBuilder::castFloat(nb, nloc, r, rounded),
                f32());
          }
          Value product = arith::MulFOp::create(nb, nloc, l, r);
          return arith::AddFOp::create(nb, nloc, args[2], product);
        });
  }

  /// The diagonal blocks of `operand` (a diagonal blockView slice, or a
  /// `batch x q x rows x cols` tensor returned as it is) as a
  /// `batch x q x rows x cols` f32 tensor.
  Value diagonalBlocks(Value operand) {
    auto type = cast<RankedTensorType>(operand.getType());
    if (type.getRank() == 4 && type.getElementType().isF32())
      return operand;
    int64_t rows = type.getDimSize(2),
            cols = type.getDimSize(type.getRank() - 1);
    MLIRContext *ctx = b.getContext();
    return sb.generic(
        operand, blockZeros(batchOf(operand), type.getDimSize(1), rows, cols),
        {diagonalBlockMap(operand, 4, 2, 3),
         AffineMap::getMultiDimIdentityMap(4, ctx)},
        SmallVector<utils::IteratorType>(4, utils::IteratorType::parallel),
        [&](OpBuilder &nb, Location nloc, ValueRange args) -> Value {
          return StructuredBuilder::castFloat(nb, nloc, args[0], f32());
        });
  }

  /// diagonalMatmul in INT8: every block pair's product is the shared INT8
  /// matmul of emitPrecisionMatmul (the CPU's: deltanet.quantize per row of
  /// the left block and column of the right one, or per block; an
  /// i8 x i8 -> i32 batched matmul; deltanet.dequantize) over the
  /// `batch * q` blocks, its f32 result added to `out`. The blocks are
  /// copied out of their diagonal views first (the quantisation reads each
  /// block whole for its scales anyway).
  Value quantizedDiagonalMatmul(Value lhs, Value rhs, Value out,
                                MatmulPrecision precision) {
    Value l = diagonalBlocks(lhs), r = diagonalBlocks(rhs);
    auto lType = cast<RankedTensorType>(l.getType());
    SmallVector<OpFoldResult> leading = {batchOf(l),
                                         b.getIndexAttr(lType.getDimSize(1))};
    Value product =
        emitMatmul(sb, sb.collapseLeading(l, 2), sb.collapseLeading(r, 2),
                   /*acc=*/nullptr, precision);
    product = sb.expandLeading(product, leading);
    MLIRContext *ctx = b.getContext();
    return sb.generic(
        product, out,
        {AffineMap::getMultiDimIdentityMap(4, ctx),
         diagonalBlockMap(out, 4, 2, 3)},
        SmallVector<utils::IteratorType>(4, utils::IteratorType::parallel),
        [](OpBuilder &nb, Location nloc, ValueRange args) -> Value {
          return arith::AddFOp::create(nb, nloc, args[1], args[0]);
        });
  }

  /// `dest` (a diagonal blockView slice) overwritten with `src`
  /// (`batch x q x rows x cols`), block by block.
  Value copyToDiagonalBlocks(Value src, Value dest) {
    return sb.generic(
        src, dest,
        {diagonalBlockMap(src, 4, 2, 3), diagonalBlockMap(dest, 4, 2, 3)},
        SmallVector<utils::IteratorType>(4, utils::IteratorType::parallel),
        [](OpBuilder &, Location, ValueRange args) { return args[0]; });
  }

  /// A zero `batch x q x rows x cols` tensor (`q` blocks).
  Value blockZeros(OpFoldResult batch, int64_t q, int64_t rows, int64_t cols) {
    return sb.zeros({batch, b.getIndexAttr(q), b.getIndexAttr(rows),
                     b.getIndexAttr(cols)});
  }

  /// The precision of the diagonal blocks' Neumann products with batched
  /// levels: f32 for INT8 (its int8 Neumann sums lose the cancelling powers,
  /// int8Hazard; the CPU keeps them f32 too, keepsTriInvDiagonalBlocksF32),
  /// else the matmul precision.
  MatmulPrecision diagonalPrecision() const {
    return matmulPrecision.precision == TriInvPrecision::I8 ? MatmulPrecision{}
                                                            : matmulPrecision;
  }

  /// `neumannFactors` of every diagonal `bs x bs` block of `x` at once (`x`
  /// holds `I - D` there): the bands of the powers are `batch x q x m x m`
  /// temporaries, the products with `x` read and update its diagonal blocks
  /// in place.
  Value diagonalNeumannFactors(Value a, Value x, int64_t bs, int64_t factors) {
    if (factors <= 1 || bs <= 2)
      return x;
    MLIRContext *ctx = b.getContext();
    int64_t c = cast<RankedTensorType>(x.getType()).getDimSize(1);
    int64_t q = c / bs;
    OpFoldResult batch = batchOf(a);
    // P_1 = L[1:, :bs-1] of every diagonal block (lower triangular).
    Value band1 = blockSlice(blockView(a, c, bs), 1, 0, bs - 1, bs - 1);
    AffineMap id4 = AffineMap::getMultiDimIdentityMap(4, ctx);
    Value power = sb.generic(
        band1, blockZeros(batch, q, bs - 1, bs - 1),
        {diagonalBlockMap(band1, 4, 2, 3), id4},
        SmallVector<utils::IteratorType>(4, utils::IteratorType::parallel),
        [&](OpBuilder &nb, Location nloc, ValueRange args) -> Value {
          Value v = StructuredBuilder::castFloat(nb, nloc, args[0], f32());
          Value i = linalg::IndexOp::create(nb, nloc, 2);
          Value j = linalg::IndexOp::create(nb, nloc, 3);
          Value onOrBelow =
              arith::CmpIOp::create(nb, nloc, arith::CmpIPredicate::uge, i, j);
          return arith::SelectOp::create(nb, nloc, onOrBelow, v,
                                         StructuredBuilder::f32Constant(
                                             nb, nloc, 0.0f))
              .getResult();
        });
    auto slice4 = [&](Value t, int64_t row, int64_t col, int64_t rows,
                      int64_t cols) {
      OpFoldResult zero = b.getIndexAttr(0), one = b.getIndexAttr(1);
      return tensor::ExtractSliceOp::create(
                 b, loc, t,
                 ArrayRef<OpFoldResult>{zero, zero, b.getIndexAttr(row),
                                        b.getIndexAttr(col)},
                 ArrayRef<OpFoldResult>{batch, b.getIndexAttr(q),
                                        b.getIndexAttr(rows),
                                        b.getIndexAttr(cols)},
                 SmallVector<OpFoldResult>(4, one))
          .getResult();
    };
    for (int64_t f = 1, k = 1; f < factors && 2 * k < bs; ++f, k *= 2) {
      int64_t m = bs - 2 * k;
      // P_2k = P_k[k:bs-k, k:bs-k] @ P_k[:bs-2k, :bs-2k] (see
      // neumannFactors), per block.
      Value band =
          diagonalMatmul(slice4(power, k, k, m, m), slice4(power, 0, 0, m, m),
                         blockZeros(batch, q, m, m), diagonalPrecision());
      // X[2k:, :m] += X[2k:, 2k:] @ P_2k per block, through a temporary
      // (the operand overlaps the rows it updates).
      Value view = blockView(x, c, bs);
      Value product =
          diagonalMatmul(blockSlice(view, 2 * k, 2 * k, m, m), band,
                         blockZeros(batch, q, m, m), diagonalPrecision());
      Value acc = blockSlice(view, 2 * k, 0, m, m);
      Value sum = sb.generic(
          product, acc,
          {diagonalBlockMap(product, 4, 2, 3), diagonalBlockMap(acc, 4, 2, 3)},
          SmallVector<utils::IteratorType>(4, utils::IteratorType::parallel),
          [](OpBuilder &nb, Location nloc, ValueRange args) -> Value {
            return arith::AddFOp::create(nb, nloc, args[1], args[0]);
          });
      x = fromBlockView(insertBlockSlice(sum, view, 2 * k, 0), x);
      power = band;
    }
    return x;
  }

  /// Merges every pair of solved `s x s` diagonal blocks of the leading
  /// window of `x` at once, X21 = X22 (-L21 X11), where X21's block of `x`
  /// still holds -L21 (blockedBatchedLevels initialises `x` to I - L):
  /// T = X21 X11 and U = X22 T go to temporaries (a product written into
  /// `x` while reading other blocks of it would be bufferized out of place:
  /// one-shot bufferization does not see that the blocks are disjoint), and
  /// U is copied over X21. A last pair with a smaller second block (the
  /// number of blocks not a power of two) is merged alone by `mergePair`
  /// (which reads L21 from `a` and overwrites X21).
  Value mergeLevel(Value a, Value x, int64_t s, int64_t blockSize) {
    int64_t c = cast<RankedTensorType>(x.getType()).getDimSize(1);
    int64_t q = c / (2 * s);
    int64_t w = q * 2 * s;
    if (q > 0) {
      Value view = blockView(x, w, 2 * s);
      Value x21 = blockSlice(view, s, 0, s, s);
      Value t = diagonalMatmul(x21, blockSlice(view, 0, 0, s, s),
                               blockZeros(batchOf(x), q, s, s));
      Value u = diagonalMatmul(blockSlice(view, s, s, s, s), t,
                               blockZeros(batchOf(x), q, s, s));
      x = fromBlockView(
          insertBlockSlice(copyToDiagonalBlocks(u, x21), view, s, 0), x);
    }
    if (w + s < c)
      x = mergePair(a, x, b.getIndexAttr(w), s, c - w - s, blockSize);
    return x;
  }

  /// `blocked` with batched levels: the same algorithm in one destination
  /// initialised to I - L, the diagonal blocks' Neumann factors and each
  /// level's merges as batched contractions over the blocks / pairs.
  Value blockedBatchedLevels(Value a, int64_t blockSize, int64_t factors) {
    int64_t c = cast<RankedTensorType>(a.getType()).getDimSize(1);
    // I - L: the first Neumann factor I - D in the diagonal blocks, and
    // -L21 in the block each level overwrites with its X21.
    Value x = identityMinusBlockDiagonalInto(a, c, empty(batchOf(a), c, c));
    x = diagonalNeumannFactors(a, x, blockSize, factors);
    for (int64_t s = blockSize; s < c; s *= 2)
      x = mergeLevel(a, x, s, blockSize);
    return x;
  }

  /// Exact row-by-row forward substitution, given `negL` = -L: row i of X
  /// is e_i - L[i, :i] X[:i, :], computed over the static width C, or per
  /// block J = [j0, j0 + w) of `columnBlock` columns (the largest divisor
  /// of C not above it; 0 = C), j0 < i, as e_i[J] - L[i, j0:i] X[j0:i, J].
  /// X is unit lower triangular, so X[k, j] = 0 for j > k: the columns
  /// j >= i only add exact zeros to e_i, the rows k < j0 of a block only
  /// zero products, and each column's sum runs over k in order as in
  /// X[i, :i] = -L[i, :i] X[:i, :i]. Only the reduction (K = i - j0) is
  /// dynamic, so targets vectorise the static columns and loop over K.
  /// Blocks j0 >= i are not written: X holds I there. Each product is
  /// computed in a `batch x 1 x w` scratch tensor carried by the loops and
  /// then inserted into X: a product writing into X itself while reading
  /// X[:i] would be copied whole by bufferization (it cannot prove the rows
  /// disjoint), O(C^3) per matrix.
  Value forwardSubstitution(Value negL, int64_t columnBlock) {
    auto type = cast<RankedTensorType>(negL.getType());
    int64_t n = type.getDimSize(1);
    int64_t w = largestDivisor(n, columnBlock <= 0 ? n : columnBlock);
    OpFoldResult batch = batchOf(negL);
    OpBuilder::InsertionGuard guard(b);
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    Value one = arith::ConstantIndexOp::create(b, loc, 1);
    auto rows = scf::ForOp::create(
        b, loc, one, arith::ConstantIndexOp::create(b, loc, n), one,
        ValueRange{identity(batch, n), empty(batch, 1, w)});
    b.setInsertionPointToStart(rows.getBody());
    Value i = rows.getInductionVar();
    ValueRange carried = rows.getRegionIterArgs();
    if (w == n) {
      scf::YieldOp::create(b, loc,
                           forwardSubstitutionBlock(negL, carried, i, zero, w));
      return rows.getResult(0);
    }
    auto blocks = scf::ForOp::create(
        b, loc, zero, i, arith::ConstantIndexOp::create(b, loc, w), carried);
    scf::YieldOp::create(b, loc, blocks.getResults());
    b.setInsertionPointToStart(blocks.getBody());
    scf::YieldOp::create(
        b, loc,
        forwardSubstitutionBlock(negL, blocks.getRegionIterArgs(), i,
                                 blocks.getInductionVar(), w));
    return rows.getResult(0);
  }

  /// Forward substitution's product for row `i`, columns [j0, j0 + w):
  /// `carried` = (X, scratch) in, (X with the block written, the block) out.
  SmallVector<Value> forwardSubstitutionBlock(Value negL, ValueRange carried,
                                              Value i, Value j0, int64_t w) {
    Value x = carried[0], scratch = carried[1];
    OpFoldResult batch = batchOf(negL);
    OpFoldResult zero = b.getIndexAttr(0), one = b.getIndexAttr(1),
                 width = b.getIndexAttr(w);
    SmallVector<OpFoldResult> unit(3, one);
    Value depth = arith::SubIOp::create(b, loc, i, j0);
    Value row = tensor::ExtractSliceOp::create(
        b, loc, negL, ArrayRef<OpFoldResult>{zero, i, j0},
        ArrayRef<OpFoldResult>{batch, one, depth}, unit);
    Value top = tensor::ExtractSliceOp::create(
        b, loc, x, ArrayRef<OpFoldResult>{zero, j0, j0},
        ArrayRef<OpFoldResult>{batch, depth, width}, unit);
    // e_i[J], the part of the identity's row the product accumulates onto.
    Value unitRow = elementwise(
        ValueRange{}, scratch,
        [&](OpBuilder &nb, Location nloc, ValueRange, Value, Value j) {
          Value col = arith::AddIOp::create(nb, nloc, j0, j);
          Value diag =
              arith::CmpIOp::create(nb, nloc, arith::CmpIPredicate::eq, col, i);
          return arith::SelectOp::create(
                     nb, nloc, diag,
                     StructuredBuilder::f32Constant(nb, nloc, 1.0f),
                     StructuredBuilder::f32Constant(nb, nloc, 0.0f))
              .getResult();
        });
    Value block = emitMatmul(sb, row, top, unitRow, matmulPrecision);
    Value updated = tensor::InsertSliceOp::create(
        b, loc, block, x, ArrayRef<OpFoldResult>{zero, i, j0},
        ArrayRef<OpFoldResult>{batch, one, width}, unit);
    return {updated, block};
  }

private:
  OpBuilder &b;
  Location loc;
  StructuredBuilder sb;
  MatmulPrecision matmulPrecision;
  int64_t lowPrecisionMergesFrom = 0;
  bool quantizeMergesOnce = false;
};

/// Inverts every matrix of `a` (`batch x C x C`, any float type) as
/// `config` says; the result has `a`'s element type.
Value invertBatch(OpBuilder &b, Location loc, Value a,
                  const ResolvedTriInv &config) {
  TriInvEmitter emit(b, loc, config.matmul);
  emit.setMergePrecision(config.lowPrecisionMergesFrom,
                         config.quantizeMergesOnce);
  auto type = cast<RankedTensorType>(a.getType());
  int64_t c = type.getDimSize(1);
  Type elementType = type.getElementType();
  // A 1 x 1 unit lower-triangular matrix is the identity, and so is its
  // inverse: no products (nor residual steps, which correct nothing). The
  // products' 1 x 1 x 1 register tiles with residual steps had returned
  // zeros on the CPU through an upstream canonicalization bug
  // (lib/Codegen/Common/GuardedCanonicalizer.cpp); this is the right
  // lowering with or without it.
  if (c == 1) {
    StructuredBuilder sb(b, loc);
    return sb.splat(sb.dims(a), b.getFloatAttr(elementType, 1.0));
  }
  // Inputs of another float type are widened once; the strategies read the
  // strictly lower part of `a` through their own masks.
  if (elementType != emit.f32())
    a = StructuredBuilder(b, loc).convertElementType(a, emit.f32());
  Value x;
  switch (config.strategy) {
  case TriInvStrategy::ForwardSubstitution:
    x = emit.forwardSubstitution(emit.strictlyLower(a, -1.0f),
                                 config.forwardSubstitutionColumnBlock);
    break;
  case TriInvStrategy::Neumann: {
    // Block-triangular products where the target asks for them and the
    // matrix has at least two blocks (one block is the band form's case).
    // Not for the tolerance rule table's choices: its truncated series and
    // residual steps were measured with the bands' rounding order (the
    // block products sum X + (X P) instead of accumulating onto X: up to
    // 1.8x the error at C = 128, order 5, 2 residual steps, correlated
    // keys: 1.35e-4 against 7.7e-5, over a 1e-4 tolerance).
    int64_t bs = config.fromTolerance ? 0 : config.neumannBlockSize;
    // Exact series wider than the target's largest window: exact series on
    // the windows, merged (exact as well; a truncated series keeps the
    // whole matrix, whose order is what it means).
    int64_t w = config.neumannMaxSeriesSize;
    bool exact = config.factors >= exactFactors(c);
    if (bs > 0 && exact && w > 0 && c > w && c % w == 0 && w % bs == 0 &&
        llvm::isPowerOf2_64(w))
      x = emit.neumannWindowsMerged(a, w, bs);
    else if (bs > 0 && c % bs == 0 && c / bs >= 2)
      x = emit.neumannBlockTriangular(a, config.factors, bs);
    else
      x = emit.neumann(a, config.factors);
    break;
  }
  case TriInvStrategy::Blocked:
    x = config.batchedLevels
            ? emit.blockedBatchedLevels(a, config.blockSize, config.factors)
            : emit.blocked(a, config.blockSize, config.factors,
                           config.diagonalBlocksF32);
    break;
  }
  Value l;
  if (config.residualSteps > 0)
    l = emit.strictlyLower(a, 1.0f);
  for (int64_t step = 0; step < config.residualSteps; ++step)
    x = emit.residualStep(l, x);

  if (elementType == b.getF32Type())
    return x;
  Value init = tensor::EmptyOp::create(b, loc, tensor::getMixedSizes(b, loc, x),
                                       elementType);
  return emit.elementwise(
      x, init,
      [&](OpBuilder &nb, Location nloc, ValueRange args, Value, Value) {
        return arith::TruncFOp::create(nb, nloc, elementType, args[0])
            .getResult();
      });
}

//===----------------------------------------------------------------------===//
// Patterns
//===----------------------------------------------------------------------===//

/// Lowers one deltanet.tri_inv according to its resolved configuration.
struct LowerTriInvPattern : public OpRewritePattern<TriInvOp> {
  LowerTriInvPattern(MLIRContext *ctx, const LoweringDefaults &defaults)
      : OpRewritePattern<TriInvOp>(ctx), defaults(defaults) {}

  LogicalResult matchAndRewrite(TriInvOp op,
                                PatternRewriter &rewriter) const override {
    std::string reason = whyUnlowerable(op, defaults);
    if (!reason.empty())
      return rewriter.notifyMatchFailure(op, reason);
    ResolvedTriInv config = resolve(op, defaults);
    int64_t c = op.getMatrixSize();

    Location loc = op.getLoc();
    RankedTensorType type = op.getA().getType();
    int64_t rank = type.getRank();

    // View the operand as `batch x C x C`.
    Value a = op.getA();
    if (rank == 2) {
      SmallVector<ReassociationIndices> reassoc = {{0, 1}, {2}};
      a = tensor::ExpandShapeOp::create(
          rewriter, loc,
          RankedTensorType::get({1, c, c}, type.getElementType()), a, reassoc);
    } else if (rank > 3) {
      a = StructuredBuilder(rewriter, loc).collapseLeading(a, rank - 2);
    }

    // The whole (tile of the) batch is inverted at once: tiling happened
    // before (tileTriInvBatch).
    Value x = invertBatch(rewriter, loc, a, config);
    if (rank == 2) {
      SmallVector<ReassociationIndices> reassoc = {{0, 1}, {2}};
      x = tensor::CollapseShapeOp::create(rewriter, loc, x, reassoc);
    } else if (rank > 3) {
      SmallVector<OpFoldResult> batchSizes =
          tensor::getMixedSizes(rewriter, loc, op.getA());
      batchSizes.resize(rank - 2);
      x = StructuredBuilder(rewriter, loc).expandLeading(x, batchSizes);
    }
    rewriter.replaceOp(op, x);
    return success();
  }

  LoweringDefaults defaults;
};

//===----------------------------------------------------------------------===//
// Pass
//===----------------------------------------------------------------------===//

/// `value` printed as printf's `%g` (1e-03 as 0.001).
std::string formatDouble(double value) {
  std::string text;
  llvm::raw_string_ostream(text) << llvm::format("%g", value);
  return text;
}

struct DeltaNetLowerTriInvPass
    : public deltanet::impl::DeltaNetLowerTriInvBase<DeltaNetLowerTriInvPass> {
  using Base::Base;

  void runOnOperation() override {
    Operation *root = getOperation();
    // By name, not by position: the struct's field order is Passes.td's.
    DeltaNetLowerTriInvOptions options;
    options.strategy = strategy;
    options.blockSize = blockSize;
    options.order = order;
    options.residualSteps = residualSteps;
    options.batchTile = batchTile;
    options.precision = precision;
    options.quantGranularity = quantGranularity;
    options.lowPrecisionMergesFrom = lowPrecisionMergesFrom;
    options.quantizeMergesOnce = quantizeMergesOnce;
    options.tolerance = tolerance;
    options.target = target;
    // Option errors are reported at the root's location, without an op dump.
    auto optionError = [&](StringRef option, int64_t value, StringRef rule) {
      emitError(root->getLoc())
          << "invalid option " << option << "=" << value << ": " << rule;
      signalPassFailure();
    };
    const TargetInfo *targetInfo = lookupTargetInfo(options.target);
    if (!targetInfo) {
      emitError(root->getLoc())
          << "invalid option target=" << options.target
          << ": no such target (registered: " << getRegisteredTargetNames()
          << ")";
      return signalPassFailure();
    }
    LoweringDefaults defaults{options, targetInfo};
    if (options.blockSize < 0 ||
        (options.blockSize > 0 && !llvm::isPowerOf2_64(options.blockSize)))
      return optionError("block-size", options.blockSize,
                         "must be a positive power of two (or 0 for the "
                         "precision's default)");
    if (options.order == 0 || options.order < -1)
      return optionError("order", options.order,
                         "must be >= 1 (or -1 for exact)");
    if (options.residualSteps < 0)
      return optionError("residual-steps", options.residualSteps,
                         "must be >= 0");
    if (options.residualSteps > TriInvOp::kMaxResidualSteps)
      return optionError("residual-steps", options.residualSteps,
                         "must be at most " +
                             std::to_string(TriInvOp::kMaxResidualSteps));
    if (options.lowPrecisionMergesFrom < 0)
      return optionError("low-precision-merges-from",
                         options.lowPrecisionMergesFrom,
                         "must be >= 0 (0 = every merge level in the "
                         "precision)");
    if (options.batchTile < -1)
      return optionError("batch-tile", options.batchTile,
                         "must be >= -1 (-1 = the target's preferred tile, "
                         "0 = no tiling)");
    if (options.tolerance < 0 || !std::isfinite(options.tolerance)) {
      emitError(root->getLoc())
          << "invalid option tolerance=" << formatDouble(options.tolerance)
          << ": must be a finite number >= 0";
      return signalPassFailure();
    }
    if (options.tolerance > 0 &&
        (options.order != -1 || options.residualSteps != 0)) {
      emitError(root->getLoc())
          << "invalid option tolerance=" << formatDouble(options.tolerance)
          << ": it chooses order and residual-steps, which must not be set "
             "too";
      return signalPassFailure();
    }

    // Diagnose every op that cannot be lowered before rewriting any, and
    // warn about INT8 configurations that cannot hold their accuracy.
    bool invalid = false;
    root->walk([&](TriInvOp op) {
      std::string reason = whyUnlowerable(op, defaults);
      if (!reason.empty()) {
        op.emitOpError(reason);
        invalid = true;
        return;
      }
      ResolvedTriInv config = resolve(op, defaults);
      std::string hazard = int8Hazard(op, config);
      if (!hazard.empty())
        op.emitWarning(hazard);
      if (std::optional<ToleranceChoice> choice = config.fromTolerance) {
        std::string message;
        llvm::raw_string_ostream os(message);
        os << "tolerance " << formatDouble(options.tolerance) << ": ";
        if (choice->order >= 0)
          os << "order " << choice->order << ", ";
        os << "residual_steps " << choice->residualSteps
           << " (rule-table bound " << llvm::format("%.1e", choice->bound)
           << ")";
        op.emitRemark(message);
      }
    });
    if (invalid)
      return signalPassFailure();

    // Tile the batches first (each tile is a tri_inv of a slice), then
    // lower every tri_inv whole.
    IRRewriter rewriter(&getContext());
    SmallVector<TriInvOp> ops;
    root->walk([&](TriInvOp op) { ops.push_back(op); });
    for (TriInvOp op : ops) {
      int64_t tile =
          options.batchTile < 0
              ? targetInfo->getPreferredTriInvBatchTileFor(
                    op.getStrategy().value_or(options.strategy),
                    effectivePrecision(op, defaults),
                    op.getA().getType().getShape().back())
              : options.batchTile;
      (void)tileTriInvBatch(rewriter, op, tile);
    }

    RewritePatternSet patterns(&getContext());
    populateLowerTriInvPatterns(patterns, options, *targetInfo);
    walkAndApplyPatterns(root, std::move(patterns));
  }
};

} // namespace

void mlir::deltanet::populateLowerTriInvPatterns(
    RewritePatternSet &patterns, const DeltaNetLowerTriInvOptions &options,
    const TargetInfo &target) {
  patterns.add<LowerTriInvPattern>(patterns.getContext(),
                                   LoweringDefaults{options, &target});
}
