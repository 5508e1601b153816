//===- VectorizeIntegerMatmuls.cpp - INT8 batch matmuls as dot products ---===//
//
// Lowers i8 x i8 -> i32 batched matmuls to a VNNI-layout vector kernel of
// pairwise multiply-adds (vpdpwssd with VNNI, vpmaddwd on AVX2).
//
//===----------------------------------------------------------------------===//

#include "deltanet/Codegen/CPU/Passes.h"
#include "deltanet/Dialect/DeltaNet/Utils/StructuredBuilder.h"

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

/// `C[b, m, n] += sum_k A[b, m, k] B[b, k, n]` on i8 operands and an i32
/// accumulator, with static M, N (a multiple of 4) and K, becomes:
///
///   Bv[b, p, 2n + t] = B[b, 2p + t, n]        (VNNI layout, K padded even)
///   for b, m: for each W-lane chunk of n:
///     acc = C[b, m, chunk]
///     for p: acc = pmaddwd(broadcast(A[b, m, 2p : 2p+2]), Bv[b, p, chunk])
///     C[b, m, chunk] = acc
struct VectorizeInt8BatchMatmul
    : public OpRewritePattern<linalg::BatchMatmulOp> {
  using OpRewritePattern::OpRewritePattern;

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
    StructuredBuilder sb(rewriter, loc);
    Type i8 = rewriter.getI8Type(), i16 = rewriter.getI16Type(),
         i32 = rewriter.getI32Type();
    Value zeroI8 = arith::ConstantOp::create(rewriter, loc,
                                             rewriter.getIntegerAttr(i8, 0));
    Value zeroI32 = arith::ConstantOp::create(rewriter, loc,
                                              rewriter.getIntegerAttr(i32, 0));

    // K padded to a multiple of 2 (pairs of products), zeros contributing
    // nothing.
    int64_t pairs = llvm::divideCeil(k, 2);
    if (k % 2 != 0) {
      auto pad = [&](Value t, int64_t dim) {
        auto type = cast<RankedTensorType>(t.getType());
        SmallVector<int64_t> shape(type.getShape());
        shape[dim] += 1;
        SmallVector<OpFoldResult> low(3, rewriter.getIndexAttr(0));
        SmallVector<OpFoldResult> high(3, rewriter.getIndexAttr(0));
        high[dim] = rewriter.getIndexAttr(1);
        return tensor::PadOp::create(rewriter, loc, type.clone(shape), t, low,
                                     high, zeroI8)
            .getResult();
      };
      lhs = pad(lhs, 2);
      rhs = pad(rhs, 1);
    }

    // VNNI layout, the pair of a column adjacent: Bv[b, p, 2n + t] =
    // B[b, 2p + t, n]; W columns of a pair are one contiguous 2W-byte vector.
    AffineExpr db, dp, dj;
    bindDims(rewriter.getContext(), db, dp, dj);
    Value packed = sb.map(
        rhs, {sb.affineMap(3, {db, dp * 2 + dj % 2, dj.floorDiv(2)})},
        {sb.dim(rhs, 0), rewriter.getIndexAttr(pairs),
         rewriter.getIndexAttr(2 * n)},
        i8, [](OpBuilder &, Location, ValueRange args) { return args[0]; });

    auto index = [&](OpBuilder &b, int64_t v) -> Value {
      return arith::ConstantIndexOp::create(b, loc, v);
    };
    Value batch = tensor::DimOp::create(rewriter, loc, lhs, 0);
    auto pairType = VectorType::get({2}, i8);
    auto chunkType = VectorType::get({2 * lanes}, i8);
    auto accType = VectorType::get({lanes}, i32);
    auto halfType = VectorType::get({2 * lanes}, i16);

    auto batchLoop = scf::ForOp::create(
        rewriter, loc, index(rewriter, 0), batch, index(rewriter, 1),
        ValueRange{init},
        [&](OpBuilder &bb, Location, Value bi, ValueRange batchIter) {
          auto rowLoop = scf::ForOp::create(
              bb, loc, index(bb, 0), index(bb, m), index(bb, 1), batchIter,
              [&](OpBuilder &rb, Location, Value mi, ValueRange rowIter) {
                Value c = rowIter[0];
                for (int64_t chunk = 0; chunk < n / lanes; ++chunk) {
                  Value n0 = index(rb, chunk * lanes);
                  Value acc = vector::TransferReadOp::create(
                      rb, loc, accType, c, ValueRange{bi, mi, n0}, zeroI32,
                      ArrayRef<bool>{true});
                  auto pairLoop = scf::ForOp::create(
                      rb, loc, index(rb, 0), index(rb, pairs), index(rb, 1),
                      ValueRange{acc},
                      [&](OpBuilder &pb, Location, Value p,
                          ValueRange accIter) {
                        // (A[b, m, 2p], A[b, m, 2p+1]) as one i32, broadcast.
                        Value k0 =
                            arith::MulIOp::create(pb, loc, p, index(pb, 2));
                        Value aPair = vector::TransferReadOp::create(
                            pb, loc, pairType, lhs, ValueRange{bi, mi, k0},
                            zeroI8, ArrayRef<bool>{true});
                        Value a16 = arith::ExtSIOp::create(
                            pb, loc, VectorType::get({2}, i16), aPair);
                        Value a32 = vector::BitCastOp::create(
                            pb, loc, VectorType::get({1}, i32), a16);
                        Value aBroadcast =
                            vector::BroadcastOp::create(pb, loc, accType, a32);
                        Value a = vector::BitCastOp::create(pb, loc, halfType,
                                                            aBroadcast);
                        // Bv[b, p, 2 n0 : 2 (n0 + W)]: 2W interleaved i16.
                        Value bChunk = vector::TransferReadOp::create(
                            pb, loc, chunkType, packed,
                            ValueRange{bi, p, index(pb, 2 * chunk * lanes)},
                            zeroI8, ArrayRef<bool>{true});
                        Value bv =
                            arith::ExtSIOp::create(pb, loc, halfType, bChunk);
                        scf::YieldOp::create(
                            pb, loc,
                            pairwiseMultiplyAdd(pb, loc, accIter[0], a, bv));
                      });
                  c = vector::TransferWriteOp::create(
                          rb, loc, pairLoop.getResult(0), c,
                          ValueRange{bi, mi, n0}, ArrayRef<bool>{true})
                          .getResult();
                }
                scf::YieldOp::create(rb, loc, c);
              });
          scf::YieldOp::create(bb, loc, rowLoop.getResults());
        });
    rewriter.replaceOp(op, batchLoop.getResults());
    return success();
  }
};

struct DeltaNetCpuVectorizeIntegerMatmulsPass
    : public deltanet::impl::DeltaNetCpuVectorizeIntegerMatmulsBase<
          DeltaNetCpuVectorizeIntegerMatmulsPass> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateVectorizeIntegerMatmulsPatterns(patterns);
    walkAndApplyPatterns(getOperation(), std::move(patterns));
  }
};

} // namespace

void mlir::deltanet::populateVectorizeIntegerMatmulsPatterns(
    RewritePatternSet &patterns) {
  patterns.add<VectorizeInt8BatchMatmul>(patterns.getContext());
}
