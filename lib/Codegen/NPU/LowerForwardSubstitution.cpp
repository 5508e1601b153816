//===- LowerForwardSubstitution.cpp - tri_inv by rows on the vector unit --===//
//
// The NPU's forward-substitution baseline: row i of X = (I + L)^-1 is
// X[i, :i] = -L[i, :i] X[:i, :i], computed in place in a local tile of
// matrices, one vector-unit row product per row (a chain of i dependent
// multiply-adds), the rows of all matrices of the tile in one op.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Codegen/NPU/Passes.h"
#include "deltanet/Dialect/DeltaNet/IR/DeltaNetOps.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"

namespace mlir {
namespace deltanet {
#define GEN_PASS_DEF_DELTANETNPULOWERFORWARDSUBSTITUTION
#include "deltanet/Codegen/NPU/Passes.h.inc"
} // namespace deltanet
} // namespace mlir

using namespace mlir;
using namespace mlir::deltanet;

namespace {

/// Why the tensor-level forward substitution of --deltanet-lower-tri-inv is
/// not used here: its loop carries X as a tensor; bufferization copies
/// X[:i, :i] for every row (the row is written while the block is read),
/// an O(C^3) copy no NPU kernel would do. This lowering writes the rows of
/// a buffer in place instead.
struct Lowering {
  OpBuilder &b;
  Location loc;

  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }

  /// A 3-D elementwise generic writing `out` from `in` (or nothing), with
  /// the row and column indices.
  void generic(
      Value in, Value out,
      function_ref<Value(OpBuilder &, Location, Value, Value, Value)> body) {
    MLIRContext *ctx = b.getContext();
    SmallVector<Value> ins;
    if (in)
      ins.push_back(in);
    SmallVector<AffineMap> maps(ins.size() + 1,
                                AffineMap::getMultiDimIdentityMap(3, ctx));
    SmallVector<utils::IteratorType> iterators(3,
                                               utils::IteratorType::parallel);
    linalg::GenericOp::create(
        b, loc, TypeRange{}, ins, ValueRange{out}, maps, iterators,
        [&](OpBuilder &nb, Location nloc, ValueRange args) {
          Value i = linalg::IndexOp::create(nb, nloc, 1);
          Value j = linalg::IndexOp::create(nb, nloc, 2);
          Value r = body(nb, nloc, in ? args[0] : Value(), i, j);
          linalg::YieldOp::create(nb, nloc, r);
        });
  }

  Value subview(Value source, ArrayRef<OpFoldResult> offsets,
                ArrayRef<OpFoldResult> sizes) {
    SmallVector<OpFoldResult> strides(offsets.size(), b.getIndexAttr(1));
    return memref::SubViewOp::create(b, loc, source, offsets, sizes, strides);
  }
};

struct DeltaNetNpuLowerForwardSubstitutionPass
    : public deltanet::impl::DeltaNetNpuLowerForwardSubstitutionBase<
          DeltaNetNpuLowerForwardSubstitutionPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<TriInvOp> ops;
    getOperation()->walk([&](TriInvOp op) {
      if (op.getStrategy().value_or(strategy) ==
          TriInvStrategy::ForwardSubstitution)
        ops.push_back(op);
    });
    for (TriInvOp op : ops)
      if (failed(lower(op)))
        return signalPassFailure();
  }

  LogicalResult lower(TriInvOp op) {
    RankedTensorType type = op.getA().getType();
    if (!type.hasStaticShape())
      return op.emitOpError("npu: forward substitution needs a static shape");
    int64_t c = op.getMatrixSize(), rank = type.getRank();
    int64_t batch = type.getNumElements() / (c * c);
    // Matrices per tile: the largest divisor of the batch up to batch-tile.
    int64_t tile = std::max<int64_t>(1, std::min(batchTile.getValue(), batch));
    if (batchTile <= 0)
      tile = batch;
    while (batch % tile)
      --tile;
    TriInvPrecision precision = op.getPrecision().value_or(this->precision);
    // f32 rows run at fp32 lanes; f16/bf16 at fp16 lanes; i8 has no row
    // form (values leave the int8 range): fp16 lanes too.
    int64_t laneBits = precision == TriInvPrecision::F32 ? 32 : 16;

    OpBuilder b(op);
    Location loc = op.getLoc();
    Lowering l{b, loc};
    Type elt = type.getElementType(), f32 = b.getF32Type();
    auto cube = [&](int64_t n, Type t) {
      return MemRefType::get({n, c, c}, t);
    };
    Value a = op.getA();
    if (rank != 3) {
      SmallVector<ReassociationIndices> reassoc;
      reassoc.push_back(llvm::to_vector(llvm::seq<int64_t>(0, rank - 1)));
      reassoc.back().pop_back();
      if (reassoc.back().empty())
        reassoc.back().push_back(0);
      // [..., C, C] -> [batch, C, C] (a rank-2 operand gets a unit batch).
      if (rank == 2)
        a = tensor::ExpandShapeOp::create(
            b, loc, RankedTensorType::get({1, c, c}, elt), a,
            SmallVector<ReassociationIndices>{{0, 1}, {2}});
      else {
        SmallVector<ReassociationIndices> collapse;
        collapse.push_back(llvm::to_vector(llvm::seq<int64_t>(0, rank - 2)));
        collapse.push_back({rank - 2});
        collapse.push_back({rank - 1});
        a = tensor::CollapseShapeOp::create(b, loc, a, collapse);
      }
    }
    Value aBuf = bufferization::ToBufferOp::create(b, loc, cube(batch, elt), a,
                                                   /*read_only=*/true);
    Value out = memref::AllocOp::create(b, loc, cube(batch, f32));
    Value negL = memref::AllocOp::create(b, loc, cube(tile, f32));
    Value x = memref::AllocOp::create(b, loc, cube(tile, f32));

    auto outer =
        scf::ForOp::create(b, loc, l.idx(0), l.idx(batch), l.idx(tile));
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(outer.getBody()->getTerminator());
      Value t = outer.getInductionVar();
      OpFoldResult zero = b.getIndexAttr(0), one = b.getIndexAttr(1),
                   full = b.getIndexAttr(c), n = b.getIndexAttr(tile);
      Value aTile = l.subview(aBuf, {t, zero, zero}, {n, full, full});
      // -L (strictly lower, widened to f32) and X = I, in local buffers.
      l.generic(aTile, negL,
                [&](OpBuilder &nb, Location nloc, Value v, Value i, Value j) {
                  if (v.getType() != nb.getF32Type())
                    v = arith::ExtFOp::create(nb, nloc, nb.getF32Type(), v);
                  v = arith::NegFOp::create(nb, nloc, v);
                  Value zeroF = arith::ConstantOp::create(
                      nb, nloc, nb.getF32FloatAttr(0.0f));
                  Value below = arith::CmpIOp::create(
                      nb, nloc, arith::CmpIPredicate::ugt, i, j);
                  return arith::SelectOp::create(nb, nloc, below, v, zeroF)
                      .getResult();
                });
      l.generic(
          Value(), x,
          [&](OpBuilder &nb, Location nloc, Value, Value i, Value j) {
            Value eq =
                arith::CmpIOp::create(nb, nloc, arith::CmpIPredicate::eq, i, j);
            Value oneF =
                arith::ConstantOp::create(nb, nloc, nb.getF32FloatAttr(1.0f));
            Value zeroF =
                arith::ConstantOp::create(nb, nloc, nb.getF32FloatAttr(0.0f));
            return arith::SelectOp::create(nb, nloc, eq, oneF, zeroF)
                .getResult();
          });
      // Row by row, in place: X[:, i, :i] = -L[:, i, :i] @ X[:, :i, :i].
      auto rows = scf::ForOp::create(b, loc, l.idx(1), l.idx(c), l.idx(1));
      {
        OpBuilder::InsertionGuard rowGuard(b);
        b.setInsertionPoint(rows.getBody()->getTerminator());
        Value i = rows.getInductionVar();
        Value row = l.subview(negL, {zero, i, zero}, {n, one, i});
        Value top = l.subview(x, {zero, zero, zero}, {n, i, i});
        Value acc = l.subview(x, {zero, i, zero}, {n, one, i});
        auto matvec = linalg::BatchMatmulOp::create(
            b, loc, TypeRange{}, ValueRange{row, top}, ValueRange{acc});
        matvec->setAttr("npu.lane_bits", b.getI64IntegerAttr(laneBits));
      }
      linalg::CopyOp::create(b, loc, x,
                             l.subview(out, {t, zero, zero}, {n, full, full}));
    }

    Value result = bufferization::ToTensorOp::create(
        b, loc, RankedTensorType::get({batch, c, c}, f32), out,
        /*restrict=*/true, /*writable=*/true);
    if (elt != f32) {
      Value init =
          tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{batch, c, c}, elt);
      MLIRContext *ctx = b.getContext();
      SmallVector<AffineMap> maps(2, AffineMap::getMultiDimIdentityMap(3, ctx));
      SmallVector<utils::IteratorType> iterators(3,
                                                 utils::IteratorType::parallel);
      result = linalg::GenericOp::create(
                   b, loc, TypeRange{init.getType()}, ValueRange{result},
                   ValueRange{init}, maps, iterators,
                   [&](OpBuilder &nb, Location nloc, ValueRange args) {
                     Value v = arith::TruncFOp::create(nb, nloc, elt, args[0]);
                     linalg::YieldOp::create(nb, nloc, v);
                   })
                   .getResult(0);
    }
    if (rank == 2)
      result = tensor::CollapseShapeOp::create(
          b, loc, type, result, SmallVector<ReassociationIndices>{{0, 1}, {2}});
    else if (rank > 3) {
      SmallVector<ReassociationIndices> expand;
      expand.push_back(llvm::to_vector(llvm::seq<int64_t>(0, rank - 2)));
      expand.push_back({rank - 2});
      expand.push_back({rank - 1});
      result = tensor::ExpandShapeOp::create(b, loc, type, result, expand);
    }
    op.replaceAllUsesWith(result);
    op.erase();
    return success();
  }
};

} // namespace
