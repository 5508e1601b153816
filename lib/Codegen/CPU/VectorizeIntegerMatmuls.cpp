//===- VectorizeIntegerMatmuls.cpp - INT8 batch matmuls as dot products ---===//
//
// Lowers i8 x i8 -> i32 batched matmuls to a VNNI-layout vector kernel of
// dot products: vpdpbusd (4 byte products per lane, AVX512_VNNI) when asked,
// else pairwise multiply-adds (vpdpwssd with VNNI, vpmaddwd on AVX2).
//
//===----------------------------------------------------------------------===//

#include "deltanet/Codegen/CPU/Passes.h"
#include "deltanet/Dialect/DeltaNet/Utils/StructuredBuilder.h"
#include "deltanet/Dialect/DeltaNet/Utils/TileSizes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/WalkPatternRewriteDriver.h"

namespace mlir {
namespace deltanet {
#define GEN_PASS_DEF_DELTANETCPUVECTORIZEINTEGERMATMULS
#include "deltanet/Codegen/CPU/Passes.h.inc"
} // namespace deltanet
} // namespace mlir

using namespace mlir;
using namespace mlir::deltanet;

namespace {

/// The widest vector of i32 lanes (16, 8 or 4: 512, 256 or 128 bits) that
/// divides `n`, or 0.
int64_t laneCount(int64_t n) {
  for (int64_t lanes : {16, 8, 4})
    if (n % lanes == 0)
      return lanes;
  return 0;
}

/// `acc[i] + a[2i] b[2i] + a[2i+1] b[2i+1]` for `a`, `b`: vector<2W x i16>,
/// `acc`: vector<W x i32>, as sign-extending multiplies and an even/odd sum:
/// the pattern LLVM's X86 backend selects as `vpmaddwd`, fused with the
/// accumulation into `vpdpwssd` on CPUs with AVX-512 VNNI or AVX-VNNI.
Value pairwiseMultiplyAdd(OpBuilder &b, Location loc, Value acc, Value a,
                          Value bv) {
  int64_t lanes = cast<VectorType>(acc.getType()).getNumElements();
  auto wide = VectorType::get({2 * lanes}, b.getI32Type());
  Value product =
      arith::MulIOp::create(b, loc, arith::ExtSIOp::create(b, loc, wide, a),
                            arith::ExtSIOp::create(b, loc, wide, bv));
  SmallVector<int64_t> even, odd;
  for (int64_t i = 0; i < lanes; ++i) {
    even.push_back(2 * i);
    odd.push_back(2 * i + 1);
  }
  Value sum = arith::AddIOp::create(
      b, loc, vector::ShuffleOp::create(b, loc, product, product, even),
      vector::ShuffleOp::create(b, loc, product, product, odd));
  return arith::AddIOp::create(b, loc, acc, sum);
}

/// `acc[i] + sum_{t < 4} a[4i + t] b[4i + t]` with `a` read as unsigned and
/// `b` as signed bytes (`acc`: vector<W x i32>, `a`, `b`: vector<4W x i8>),
/// spelled portably: both viewed as `W x 4`, zero- / sign-extended to i32,
/// multiplied and summed over the 4 by a `vector.multi_reduction`.
/// deltanet-cpu-lower-byte-dot-products turns it into AVX512_VNNI's
/// `vpdpbusd` after bufferization (the intrinsic call has no memory-effect
/// model, which buffer deallocation needs); without it, it stays correct
/// generic vector code.
Value unsignedSignedDot(OpBuilder &b, Location loc, Value acc, Value a,
                        Value bv) {
  auto accType = cast<VectorType>(acc.getType());
  int64_t lanes = accType.getNumElements();
  auto bytes = VectorType::get({lanes, 4}, b.getI8Type());
  auto wide = VectorType::get({lanes, 4}, b.getI32Type());
  Value product = arith::MulIOp::create(
      b, loc,
      arith::ExtUIOp::create(b, loc, wide,
                             vector::ShapeCastOp::create(b, loc, bytes, a)),
      arith::ExtSIOp::create(b, loc, wide,
                             vector::ShapeCastOp::create(b, loc, bytes, bv)));
  return vector::MultiDimReductionOp::create(
      b, loc, product, acc, ArrayRef<bool>{false, true},
      vector::CombiningKind::ADD);
}

/// `rhs` (`batch x K x N` i8, K a multiple of `group`) with each `group`
/// consecutive rows interleaved column by column: `packed[b, q, group n +
/// t] = rhs[b, group q + t, n]`, so the `group` bytes that one dot-product
/// lane multiplies are adjacent and W columns are one contiguous vector.
/// Explicit vector code: per group of rows and W columns, `group` row loads
/// and `group - 1` `vector.interleave` shuffles (a linalg.generic with this
/// map is not a projected permutation: upstream vectorisation would gather
/// byte by byte).
Value packRowGroups(OpBuilder &b, Location loc, Value rhs, int64_t group,
                    int64_t lanes) {
  auto type = cast<RankedTensorType>(rhs.getType());
  int64_t k = type.getDimSize(1), n = type.getDimSize(2);
  int64_t groups = k / group;
  Type i8 = b.getI8Type();
  auto index = [&](OpBuilder &ib, int64_t v) -> Value {
    return arith::ConstantIndexOp::create(ib, loc, v);
  };
  Value batch = tensor::DimOp::create(b, loc, rhs, 0);
  Value dest = tensor::EmptyOp::create(
      b, loc,
      ArrayRef<OpFoldResult>{batch, b.getIndexAttr(groups),
                             b.getIndexAttr(group * n)},
      i8);
  Value zero = arith::ConstantOp::create(b, loc, b.getIntegerAttr(i8, 0));
  auto rowType = VectorType::get({lanes}, i8);
  auto batchLoop = scf::ForOp::create(
      b, loc, index(b, 0), batch, index(b, 1), ValueRange{dest},
      [&](OpBuilder &bb, Location, Value bi, ValueRange batchIter) {
        auto groupLoop = scf::ForOp::create(
            bb, loc, index(bb, 0), index(bb, groups), index(bb, 1), batchIter,
            [&](OpBuilder &gb, Location, Value q, ValueRange groupIter) {
              Value packed = groupIter[0];
              Value k0 = arith::MulIOp::create(gb, loc, q, index(gb, group));
              for (int64_t chunk = 0; chunk < n / lanes; ++chunk) {
                SmallVector<Value> rows;
                for (int64_t t = 0; t < group; ++t) {
                  Value row = arith::AddIOp::create(gb, loc, k0, index(gb, t));
                  rows.push_back(vector::TransferReadOp::create(
                      gb, loc, rowType, rhs,
                      ValueRange{bi, row, index(gb, chunk * lanes)}, zero,
                      ArrayRef<bool>{true}));
                }
                // interleave(interleave(r0, r2), interleave(r1, r3)) =
                // r0[0] r1[0] r2[0] r3[0] r0[1] ...: rows `stride` apart
                // first, halving the stride.
                while (rows.size() > 1) {
                  size_t half = rows.size() / 2;
                  SmallVector<Value> next;
                  for (size_t t = 0; t < half; ++t)
                    next.push_back(vector::InterleaveOp::create(
                        gb, loc, rows[t], rows[t + half]));
                  rows = next;
                }
                packed = vector::TransferWriteOp::create(
                             gb, loc, rows[0], packed,
                             ValueRange{bi, q,
                                        index(gb, group * chunk * lanes)},
                             ArrayRef<bool>{true})
                             .getResult();
              }
              scf::YieldOp::create(gb, loc, packed);
            });
        scf::YieldOp::create(bb, loc, groupLoop.getResults());
      });
  return batchLoop.getResult(0);
}

/// `C[b, m, n] += sum_k A[b, m, k] B[b, k, n]` on i8 operands and an i32
/// accumulator, with static M, N (a multiple of 4) and K, becomes, with G
/// products per lane (G = 2: pairwise i16 multiply-adds; G = 4: vpdpbusd):
///
///   Bv[b, q, G n + t] = B[b, G q + t, n]     (VNNI layout, K padded to G)
///   for b, each tile of R rows m, each block of J W-lane chunks of n:
///     acc[r][j] = C[b, m + r, chunk j]            (R x J registers)
///     for q: for j: bv[j] = Bv[b, q, chunk j]
///            for r: a = broadcast(A[b, m + r, G q : G q + G])
///                   for j: acc[r][j] = dot(a, bv[j])
///     C[b, m + r, chunk j] = acc[r][j]
///
/// Register tiles (R <= 4 rows, J <= 4 chunks: up to 16 independent
/// accumulators) rather than one accumulator per row and chunk: a single
/// accumulator makes every dot wait for the previous one (latency-bound,
/// ~5 cycles per vpdpbusd instead of 2 per cycle), and each Bv load then
/// feeds R dots instead of one.
///
/// vpdpbusd multiplies unsigned by signed bytes: A is offset by 128 (an xor
/// of the sign bit: a + 128 in [1, 255] for a in [-127, 127]) and
/// `128 * sum_k B[b, k, n]`, computed once per batch and chunk, is
/// subtracted from the accumulator (exact:
/// i32 arithmetic wraps, the true sum fits).
struct VectorizeInt8BatchMatmul
    : public OpRewritePattern<linalg::BatchMatmulOp> {
  VectorizeInt8BatchMatmul(MLIRContext *ctx, bool unsignedSignedDots)
      : OpRewritePattern(ctx), unsignedSignedDots(unsignedSignedDots) {}

  LogicalResult matchAndRewrite(linalg::BatchMatmulOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureTensorSemantics())
      return rewriter.notifyMatchFailure(op, "expects tensor semantics");
    if (op.hasUserDefinedMaps())
      return rewriter.notifyMatchFailure(op, "has user-defined indexing maps");
    Value lhs = op.getDpsInputs()[0], rhs = op.getDpsInputs()[1];
    Value init = op.getDpsInits()[0];
    auto lhsType = cast<RankedTensorType>(lhs.getType());
    auto rhsType = cast<RankedTensorType>(rhs.getType());
    auto initType = cast<RankedTensorType>(init.getType());
    if (!lhsType.getElementType().isSignlessInteger(8) ||
        !rhsType.getElementType().isSignlessInteger(8) ||
        !initType.getElementType().isSignlessInteger(32))
      return rewriter.notifyMatchFailure(op, "not an i8 x i8 -> i32 matmul");
    int64_t m = lhsType.getDimSize(1), k = lhsType.getDimSize(2),
            n = rhsType.getDimSize(2);
    if (ShapedType::isDynamic(m) || ShapedType::isDynamic(k) ||
        ShapedType::isDynamic(n))
      return rewriter.notifyMatchFailure(op, "matrix dims must be static");
    int64_t lanes = laneCount(n);
    if (lanes == 0)
      return rewriter.notifyMatchFailure(op, "N is not a multiple of 4");

    Location loc = op.getLoc();
    Type i8 = rewriter.getI8Type(), i16 = rewriter.getI16Type(),
         i32 = rewriter.getI32Type();
    int64_t group = unsignedSignedDots ? 4 : 2;
    Value zeroI8 = arith::ConstantOp::create(rewriter, loc,
                                             rewriter.getIntegerAttr(i8, 0));
    Value zeroI32 = arith::ConstantOp::create(rewriter, loc,
                                              rewriter.getIntegerAttr(i32, 0));

    // K padded to a multiple of G with zeros, contributing nothing (an
    // offset zero of A meets a zero of B).
    int64_t groups = llvm::divideCeil(k, group);
    if (k % group != 0) {
      auto pad = [&](Value t, int64_t dim) {
        auto type = cast<RankedTensorType>(t.getType());
        SmallVector<int64_t> shape(type.getShape());
        shape[dim] = groups * group;
        SmallVector<OpFoldResult> low(3, rewriter.getIndexAttr(0));
        SmallVector<OpFoldResult> high(3, rewriter.getIndexAttr(0));
        high[dim] = rewriter.getIndexAttr(groups * group - k);
        return tensor::PadOp::create(rewriter, loc, type.clone(shape), t, low,
                                     high, zeroI8)
            .getResult();
      };
      lhs = pad(lhs, 2);
      rhs = pad(rhs, 1);
    }

    Value packed = packRowGroups(rewriter, loc, rhs, group, lanes);

    auto index = [&](OpBuilder &b, int64_t v) -> Value {
      return arith::ConstantIndexOp::create(b, loc, v);
    };
    Value batch = tensor::DimOp::create(rewriter, loc, lhs, 0);
    auto groupType = VectorType::get({group}, i8);
    auto chunkType = VectorType::get({group * lanes}, i8);
    auto accType = VectorType::get({lanes}, i32);
    auto halfType = VectorType::get({2 * lanes}, i16);
    int64_t chunks = n / lanes;

    // Bv's chunk at group q (sign-extended to i16 pairs for the pairwise
    // kernel).
    auto loadB = [&](OpBuilder &pb, Value bi, Value q, int64_t chunk) -> Value {
      Value bChunk = vector::TransferReadOp::create(
          pb, loc, chunkType, packed,
          ValueRange{bi, q, index(pb, group * chunk * lanes)}, zeroI8,
          ArrayRef<bool>{true});
      if (unsignedSignedDots)
        return bChunk;
      return arith::ExtSIOp::create(pb, loc, halfType, bChunk);
    };
    // The broadcast of A's G bytes at (b, m, G q) to every lane (offset by
    // 128 for vpdpbusd; as two i16 for the pairwise kernel).
    auto loadA = [&](OpBuilder &pb, Value bi, Value mi, Value q) -> Value {
      Value k0 = arith::MulIOp::create(pb, loc, q, index(pb, group));
      Value aGroup = vector::TransferReadOp::create(
          pb, loc, groupType, lhs, ValueRange{bi, mi, k0}, zeroI8,
          ArrayRef<bool>{true});
      if (unsignedSignedDots) {
        Value signBits = arith::ConstantOp::create(
            pb, loc, DenseElementsAttr::get(groupType, APInt(8, 0x80)));
        Value offset = arith::XOrIOp::create(pb, loc, aGroup, signBits);
        Value a32 = vector::BitCastOp::create(
            pb, loc, VectorType::get({1}, i32), offset);
        return vector::BitCastOp::create(
            pb, loc, chunkType,
            vector::BroadcastOp::create(pb, loc, accType, a32));
      }
      Value a16 = arith::ExtSIOp::create(pb, loc, VectorType::get({2}, i16),
                                         aGroup);
      Value a32 =
          vector::BitCastOp::create(pb, loc, VectorType::get({1}, i32), a16);
      return vector::BitCastOp::create(
          pb, loc, halfType, vector::BroadcastOp::create(pb, loc, accType, a32));
    };
    auto dot = [&](OpBuilder &pb, Value acc, Value a, Value bv) -> Value {
      if (unsignedSignedDots)
        return unsignedSignedDot(pb, loc, acc, a, bv);
      return pairwiseMultiplyAdd(pb, loc, acc, a, bv);
    };
    // Register tile: rowTile rows x chunkTile chunks of accumulators.
    int64_t rowTile = largestDivisor(m, 4);
    int64_t chunkTile = largestDivisor(chunks, 4);

    auto batchLoop = scf::ForOp::create(
        rewriter, loc, index(rewriter, 0), batch, index(rewriter, 1),
        ValueRange{init},
        [&](OpBuilder &bb, Location, Value bi, ValueRange batchIter) {
          // vpdpbusd: 128 * (column sums of B), per chunk, once per batch,
          // as vertical sums of B's rows.
          SmallVector<Value> corrections;
          if (unsignedSignedDots) {
            Value zeros = arith::ConstantOp::create(
                bb, loc, DenseElementsAttr::get(accType, APInt(32, 0)));
            auto rowType = VectorType::get({lanes}, i8);
            for (int64_t chunk = 0; chunk < chunks; ++chunk) {
              auto sumLoop = scf::ForOp::create(
                  bb, loc, index(bb, 0), index(bb, groups * group),
                  index(bb, 1), ValueRange{zeros},
                  [&](OpBuilder &sb, Location, Value ki, ValueRange sum) {
                    Value row = vector::TransferReadOp::create(
                        sb, loc, rowType, rhs,
                        ValueRange{bi, ki, index(sb, chunk * lanes)}, zeroI8,
                        ArrayRef<bool>{true});
                    scf::YieldOp::create(
                        sb, loc,
                        Value(arith::AddIOp::create(
                            sb, loc, sum[0],
                            arith::ExtSIOp::create(sb, loc, accType, row))));
                  });
              Value seven = arith::ConstantOp::create(
                  bb, loc, DenseElementsAttr::get(accType, APInt(32, 7)));
              corrections.push_back(
                  arith::ShLIOp::create(bb, loc, sumLoop.getResult(0), seven));
            }
          }
          auto rowLoop = scf::ForOp::create(
              bb, loc, index(bb, 0), index(bb, m), index(bb, rowTile),
              batchIter,
              [&](OpBuilder &rb, Location, Value m0, ValueRange rowIter) {
                Value c = rowIter[0];
                SmallVector<Value> rowsOf;
                for (int64_t r = 0; r < rowTile; ++r)
                  rowsOf.push_back(
                      arith::AddIOp::create(rb, loc, m0, index(rb, r)));
                for (int64_t c0 = 0; c0 < chunks; c0 += chunkTile) {
                  // acc[r * chunkTile + j]: row r, chunk c0 + j.
                  SmallVector<Value> accs;
                  for (int64_t r = 0; r < rowTile; ++r)
                    for (int64_t j = 0; j < chunkTile; ++j) {
                      Value acc = vector::TransferReadOp::create(
                          rb, loc, accType, c,
                          ValueRange{bi, rowsOf[r],
                                     index(rb, (c0 + j) * lanes)},
                          zeroI32, ArrayRef<bool>{true});
                      if (unsignedSignedDots)
                        acc = arith::SubIOp::create(rb, loc, acc,
                                                    corrections[c0 + j]);
                      accs.push_back(acc);
                    }
                  auto groupLoop = scf::ForOp::create(
                      rb, loc, index(rb, 0), index(rb, groups), index(rb, 1),
                      accs,
                      [&](OpBuilder &pb, Location, Value q,
                          ValueRange accIter) {
                        SmallVector<Value> bv;
                        for (int64_t j = 0; j < chunkTile; ++j)
                          bv.push_back(loadB(pb, bi, q, c0 + j));
                        SmallVector<Value> next;
                        for (int64_t r = 0; r < rowTile; ++r) {
                          Value a = loadA(pb, bi, rowsOf[r], q);
                          for (int64_t j = 0; j < chunkTile; ++j)
                            next.push_back(dot(
                                pb, accIter[r * chunkTile + j], a, bv[j]));
                        }
                        scf::YieldOp::create(pb, loc, next);
                      });
                  for (int64_t r = 0; r < rowTile; ++r)
                    for (int64_t j = 0; j < chunkTile; ++j)
                      c = vector::TransferWriteOp::create(
                              rb, loc, groupLoop.getResult(r * chunkTile + j),
                              c,
                              ValueRange{bi, rowsOf[r],
                                         index(rb, (c0 + j) * lanes)},
                              ArrayRef<bool>{true})
                              .getResult();
                }
                scf::YieldOp::create(rb, loc, c);
              });
          scf::YieldOp::create(bb, loc, rowLoop.getResults());
        });
    rewriter.replaceOp(op, batchLoop.getResults());
    return success();
  }

private:
  bool unsignedSignedDots;
};

struct DeltaNetCpuVectorizeIntegerMatmulsPass
    : public deltanet::impl::DeltaNetCpuVectorizeIntegerMatmulsBase<
          DeltaNetCpuVectorizeIntegerMatmulsPass> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateVectorizeIntegerMatmulsPatterns(patterns, unsignedSignedDots);
    walkAndApplyPatterns(getOperation(), std::move(patterns));
  }
};

} // namespace

void mlir::deltanet::populateVectorizeIntegerMatmulsPatterns(
    RewritePatternSet &patterns, bool unsignedSignedDots) {
  patterns.add<VectorizeInt8BatchMatmul>(patterns.getContext(),
                                         unsignedSignedDots);
}
