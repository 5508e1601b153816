//===- MapToUnits.cpp - linalg on buffers to npu matrix/vector/DMA ops ----===//
//
// Tiles batched matmuls to the matrix unit's tile shape with DMA'd, double-
// buffered local tiles, and wraps every other linalg op as vector-unit work
// with its instruction count and dependency chain.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Codegen/NPU/Passes.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/Builders.h"
#include "llvm/Support/MathExtras.h"

namespace mlir {
namespace deltanet {
#define GEN_PASS_DEF_DELTANETNPUMAPTOUNITS
#include "deltanet/Codegen/NPU/Passes.h.inc"
} // namespace deltanet
} // namespace mlir

using namespace mlir;
using namespace mlir::deltanet;
using namespace mlir::deltanet::npu;

namespace {

//===----------------------------------------------------------------------===//
// Index arithmetic helpers (folded when constant)
//===----------------------------------------------------------------------===//

struct IndexMath {
  OpBuilder &b;
  Location loc;

  Value c(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value get(OpFoldResult v) {
    if (auto attr = dyn_cast<Attribute>(v))
      return c(cast<IntegerAttr>(attr).getInt());
    return cast<Value>(v);
  }
  Value mul(Value x, Value y) {
    return b.createOrFold<arith::MulIOp>(loc, x, y);
  }
  Value add(Value x, Value y) {
    return b.createOrFold<arith::AddIOp>(loc, x, y);
  }
  Value sub(Value x, Value y) {
    return b.createOrFold<arith::SubIOp>(loc, x, y);
  }
  Value rem(Value x, int64_t d) {
    return d == 1 ? c(0) : b.createOrFold<arith::RemSIOp>(loc, x, c(d));
  }
  Value ceilDiv(Value x, int64_t d) {
    if (d == 1)
      return x;
    return b.createOrFold<arith::DivSIOp>(loc, add(x, c(d - 1)), c(d));
  }
  Value dim(Value memref, int64_t i) {
    auto type = cast<MemRefType>(memref.getType());
    if (!type.isDynamicDim(i))
      return c(type.getDimSize(i));
    return memref::DimOp::create(b, loc, memref, i);
  }
};

/// Bits of the widest element type among `op`'s operands.
int64_t widestElementBits(linalg::LinalgOp op) {
  int64_t bits = 8;
  for (OpOperand &operand : op->getOpOperands())
    if (auto type = dyn_cast<ShapedType>(operand.get().getType()))
      bits = std::max<int64_t>(bits,
                               type.getElementType().getIntOrFloatBitWidth());
  return bits;
}

/// Vector instructions per element of `op`'s body. Transcendentals and
/// divisions count 4 (an assumption, docs/NPU.md); a body that only moves
/// data still costs one instruction (load and store slots); a cast the
/// consumer fuses (`npu.fused_cast`) costs none.
int64_t instructionsPerElement(linalg::LinalgOp op) {
  if (op->hasAttr("npu.fused_cast"))
    return 0;
  int64_t count = 0;
  op->getRegion(0).walk([&](Operation *inner) {
    if (isa<linalg::YieldOp, linalg::IndexOp, arith::ConstantOp>(inner))
      return;
    if (isa<math::ExpOp, math::LogOp, math::SqrtOp, math::RsqrtOp,
            arith::DivFOp, math::TanhOp, math::PowFOp>(inner))
      count += 4;
    else
      count += 1;
  });
  return std::max<int64_t>(count, 1);
}

//===----------------------------------------------------------------------===//
// The mapper
//===----------------------------------------------------------------------===//

class UnitMapper {
public:
  UnitMapper(TargetAttr target, bool doubleBuffer)
      : target(target), doubleBuffer(doubleBuffer) {}

  /// Wraps `op` into an npu.vector costing `instrs` instructions with a
  /// dependency chain of `chain`.
  VectorOp wrapAsVector(linalg::LinalgOp op, Value instrs, Value chain) {
    OpBuilder b(op);
    SmallVector<Value> inputs, outputs;
    for (OpOperand *in : op.getDpsInputOperands())
      if (isa<MemRefType>(in->get().getType()))
        inputs.push_back(in->get());
    for (OpOperand &out : op.getDpsInitsMutable())
      outputs.push_back(out.get());
    auto vector =
        VectorOp::create(b, op.getLoc(), inputs, outputs, instrs, chain);
    Block *body = new Block();
    vector.getBody().push_back(body);
    OpBuilder bodyBuilder = OpBuilder::atBlockEnd(body);
    YieldOp::create(bodyBuilder, op.getLoc());
    op->moveBefore(body->getTerminator());
    return vector;
  }

  /// Whether `op` only moves data (a copy, a gather or a broadcast: its body
  /// yields an input unchanged): the DMA engine does it, as a strided copy.
  static bool isDataMovement(linalg::LinalgOp op) {
    if (isa<linalg::CopyOp>(op.getOperation()))
      return true;
    auto generic = dyn_cast<linalg::GenericOp>(op.getOperation());
    if (!generic || generic.getNumReductionLoops() != 0 ||
        generic.getNumDpsInits() != 1)
      return false;
    Block &body = generic.getRegion().front();
    auto yield = dyn_cast<linalg::YieldOp>(body.getTerminator());
    auto arg = dyn_cast<BlockArgument>(yield.getOperand(0));
    return body.getOperations().size() == 1 && arg &&
           arg.getArgNumber() < generic.getNumDpsInputs();
  }

  /// An elementwise / reduction linalg op on the vector unit: iterations
  /// over the innermost loop are vectorised. Pure data movement goes to the
  /// DMA engine instead.
  void mapElementwise(linalg::LinalgOp op) {
    if (isDataMovement(op)) {
      OpBuilder b(op);
      IndexMath im{b, op.getLoc()};
      wrapAsVector(op, im.c(0), im.c(0)).setDataMovement(true);
      return;
    }
    OpBuilder b(op);
    IndexMath im{b, op.getLoc()};
    SmallVector<Range> ranges = op.createLoopRanges(b, op.getLoc());
    int64_t lanes = target.getLanes(widestElementBits(op));
    Value instrs = im.c(instructionsPerElement(op));
    for (auto [i, range] : llvm::enumerate(ranges)) {
      Value size = im.get(range.size);
      if (i + 1 == ranges.size())
        size = im.ceilDiv(size, lanes);
      instrs = im.mul(instrs, size);
    }
    if (ranges.empty())
      instrs = im.c(1);
    wrapAsVector(op, instrs, im.c(0));
  }

  /// A batched matmul on the vector unit: per output row, K multiply-adds
  /// of ceil(N / lanes) vectors, each depending on the previous one (a
  /// chain of length K); rows and batch elements are independent.
  void mapMatmulToVector(linalg::BatchMatmulOp op) {
    OpBuilder b(op);
    IndexMath im{b, op.getLoc()};
    Value lhs = op.getDpsInputs()[0], rhs = op.getDpsInputs()[1];
    int64_t bits = cast<MemRefType>(lhs.getType()).getElementTypeBitWidth();
    // Forward substitution's rows say which lanes they run at.
    if (auto laneBits = op->getAttrOfType<IntegerAttr>("npu.lane_bits"))
      bits = laneBits.getInt();
    Value batch = im.dim(lhs, 0), m = im.dim(lhs, 1), k = im.dim(lhs, 2),
          n = im.dim(rhs, 2);
    Value instrs = im.mul(im.mul(batch, m),
                          im.mul(k, im.ceilDiv(n, target.getLanes(bits))));
    wrapAsVector(op, instrs, k);
  }

  /// How many copies of a `bytes` tile go into `space`: 2 (double
  /// buffering), 1, or 0 when it does not fit.
  int64_t copiesThatFit(LocalSpace space, int64_t bytes) {
    int64_t capacity = target.getCapacity(space);
    if (doubleBuffer && 2 * bytes <= capacity)
      return 2;
    return bytes <= capacity ? 1 : 0;
  }

  /// Tiles `op` (static M > 1, N, K; f16 or i8 operands) on the matrix unit.
  LogicalResult mapMatmulToMatrixUnit(linalg::BatchMatmulOp op,
                                      ArrayRef<int64_t> tile) {
    Location loc = op.getLoc();
    Value a = op.getDpsInputs()[0], bm = op.getDpsInputs()[1],
          c = op.getDpsInits()[0];
    auto aType = cast<MemRefType>(a.getType());
    auto cType = cast<MemRefType>(c.getType());
    int64_t m = aType.getDimSize(1), k = aType.getDimSize(2),
            n = cast<MemRefType>(bm.getType()).getDimSize(2);
    int64_t tm = tile[0], tn = tile[1], tk = tile[2];
    Type elt = aType.getElementType(), accElt = cType.getElementType();

    // The tiles and their buffers.
    struct Buffer {
      LocalSpace space;
      int64_t rows, cols;
      Type type;
      int64_t copies = 0;
    };
    Buffer buffers[] = {{LocalSpace::MatrixLhs, tm, tk, elt},
                        {LocalSpace::MatrixRhs, tk, tn, elt},
                        {LocalSpace::MatrixAcc, tm, tn, accElt}};
    for (Buffer &buf : buffers) {
      int64_t bytes =
          buf.rows * buf.cols * buf.type.getIntOrFloatBitWidth() / 8;
      buf.copies = copiesThatFit(buf.space, bytes);
      if (buf.copies == 0)
        return op.emitError()
               << "npu: a " << buf.rows << "x" << buf.cols << "x" << buf.type
               << " tile (" << bytes << " bytes) does not fit the "
               << stringifyLocalSpace(buf.space) << " buffer of target '"
               << target.getName() << "' (" << target.getCapacity(buf.space)
               << " bytes)";
    }

    OpBuilder b(op);
    IndexMath im{b, loc};
    SmallVector<Value> locals;
    for (Buffer &buf : buffers)
      locals.push_back(AllocLocalOp::create(
          b, loc, MemRefType::get({buf.copies, buf.rows, buf.cols}, buf.type),
          buf.space));

    bool zeroInit = op->hasAttr("npu.zero_init");
    int64_t mt = llvm::divideCeil(m, tm), nt = llvm::divideCeil(n, tn),
            kt = llvm::divideCeil(k, tk);
    Value zero = im.c(0), one = im.c(1);
    Value batch = im.dim(a, 0);

    // Slot `slot` of a local buffer as a 2-D tile.
    auto tileOf = [&](OpBuilder &nb, int index, Value slot) {
      const Buffer &buf = buffers[index];
      SmallVector<OpFoldResult> offsets = {slot, nb.getIndexAttr(0),
                                           nb.getIndexAttr(0)};
      SmallVector<OpFoldResult> sizes = {nb.getIndexAttr(1),
                                         nb.getIndexAttr(buf.rows),
                                         nb.getIndexAttr(buf.cols)};
      SmallVector<OpFoldResult> strides(3, nb.getIndexAttr(1));
      auto type = memref::SubViewOp::inferRankReducedResultType(
          {buf.rows, buf.cols}, cast<MemRefType>(locals[index].getType()),
          offsets, sizes, strides);
      return memref::SubViewOp::create(nb, loc, cast<MemRefType>(type),
                                       locals[index], offsets, sizes, strides)
          .getResult();
    };
    // The (rows x cols) window of batch element `bi` of `src` at (r, col):
    // sizes clipped at the matrix edge.
    auto windowOf = [&](OpBuilder &nb, Value src, Value bi, Value r,
                        int64_t rowTile, int64_t rowsTotal, Value col,
                        int64_t colTile, int64_t colsTotal) {
      IndexMath nm{nb, loc};
      auto clip = [&](Value start, int64_t t, int64_t total) -> OpFoldResult {
        if (total % t == 0)
          return nb.getIndexAttr(t);
        return nb.createOrFold<arith::MinSIOp>(loc, nm.c(t),
                                               nm.sub(nm.c(total), start));
      };
      SmallVector<OpFoldResult> offsets = {bi, r, col};
      SmallVector<OpFoldResult> sizes = {nb.getIndexAttr(1),
                                         clip(r, rowTile, rowsTotal),
                                         clip(col, colTile, colsTotal)};
      SmallVector<OpFoldResult> strides(3, nb.getIndexAttr(1));
      SmallVector<int64_t> shape;
      for (OpFoldResult s : ArrayRef(sizes).drop_front()) {
        std::optional<int64_t> v = getConstantIntValue(s);
        shape.push_back(v ? *v : ShapedType::kDynamic);
      }
      auto type = memref::SubViewOp::inferRankReducedResultType(
          shape, cast<MemRefType>(src.getType()), offsets, sizes, strides);
      return memref::SubViewOp::create(nb, loc, cast<MemRefType>(type), src,
                                       offsets, sizes, strides)
          .getResult();
    };

    scf::ForOp::create(
        b, loc, zero, batch, one, ValueRange{},
        [&](OpBuilder &b1, Location, Value bi, ValueRange) {
          scf::ForOp::create(
              b1, loc, zero, im.c(mt), one, ValueRange{},
              [&](OpBuilder &b2, Location, Value mi, ValueRange) {
                scf::ForOp::create(
                    b2, loc, zero, im.c(nt), one, ValueRange{},
                    [&](OpBuilder &b3, Location, Value ni, ValueRange) {
                      IndexMath m3{b3, loc};
                      Value t = m3.add(
                          m3.mul(m3.add(m3.mul(bi, m3.c(mt)), mi), m3.c(nt)),
                          ni);
                      Value row = m3.mul(mi, m3.c(tm));
                      Value col = m3.mul(ni, m3.c(tn));
                      Value accTile =
                          tileOf(b3, 2, m3.rem(t, buffers[2].copies));
                      Value cWin = windowOf(b3, c, bi, row, tm, m, col, tn, n);
                      if (!zeroInit)
                        DmaOp::create(b3, loc, cWin, accTile);
                      scf::ForOp::create(
                          b3, loc, m3.c(0), m3.c(kt), m3.c(1), ValueRange{},
                          [&](OpBuilder &b4, Location, Value ki, ValueRange) {
                            IndexMath m4{b4, loc};
                            Value step = m4.add(m4.mul(t, m4.c(kt)), ki);
                            Value kk = m4.mul(ki, m4.c(tk));
                            Value lhsTile =
                                tileOf(b4, 0, m4.rem(step, buffers[0].copies));
                            Value rhsTile =
                                tileOf(b4, 1, m4.rem(step, buffers[1].copies));
                            DmaOp::create(
                                b4, loc,
                                windowOf(b4, a, bi, row, tm, m, kk, tk, k),
                                lhsTile);
                            DmaOp::create(
                                b4, loc,
                                windowOf(b4, bm, bi, kk, tk, k, col, tn, n),
                                rhsTile);
                            // Into zeros: the first product initialises
                            // the accumulator (no load of C).
                            auto product = [&](OpBuilder &nb, bool acc) {
                              auto mm = MatmulOp::create(nb, loc, lhsTile,
                                                         rhsTile, accTile);
                              mm.setAccumulate(acc);
                            };
                            if (!zeroInit) {
                              product(b4, true);
                            } else if (kt == 1) {
                              product(b4, false);
                            } else {
                              Value first = arith::CmpIOp::create(
                                  b4, loc, arith::CmpIPredicate::eq, ki,
                                  m4.c(0));
                              scf::IfOp::create(
                                  b4, loc, first,
                                  [&](OpBuilder &nb, Location) {
                                    product(nb, false);
                                    scf::YieldOp::create(nb, loc);
                                  },
                                  [&](OpBuilder &nb, Location) {
                                    product(nb, true);
                                    scf::YieldOp::create(nb, loc);
                                  });
                            }
                            scf::YieldOp::create(b4, loc);
                          });
                      DmaOp::create(b3, loc, accTile, cWin);
                      scf::YieldOp::create(b3, loc);
                    });
                scf::YieldOp::create(b2, loc);
              });
          scf::YieldOp::create(b1, loc);
        });
    op.erase();
    return success();
  }

  /// Maps one batched matmul to whichever unit takes it.
  LogicalResult mapMatmul(linalg::BatchMatmulOp op) {
    auto lhs = cast<MemRefType>(op.getDpsInputs()[0].getType());
    auto rhs = cast<MemRefType>(op.getDpsInputs()[1].getType());
    auto acc = cast<MemRefType>(op.getDpsInits()[0].getType());
    ArrayRef<int64_t> tile = target.getTileFor(lhs.getElementType());
    bool accOk =
        (lhs.getElementType().isF16() && acc.getElementType().isF32()) ||
        (lhs.getElementType().isInteger(8) &&
         acc.getElementType().isInteger(32));
    bool staticMatrix =
        !lhs.isDynamicDim(1) && !lhs.isDynamicDim(2) && !rhs.isDynamicDim(2);
    if (tile.empty() || !accOk || !staticMatrix || lhs.getDimSize(1) == 1 ||
        rhs.getElementType() != lhs.getElementType()) {
      mapMatmulToVector(op);
      return success();
    }
    return mapMatmulToMatrixUnit(op, tile);
  }

private:
  TargetAttr target;
  bool doubleBuffer;
};

struct DeltaNetNpuMapToUnitsPass
    : public deltanet::impl::DeltaNetNpuMapToUnitsBase<
          DeltaNetNpuMapToUnitsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto targetAttr = module->getAttrOfType<TargetAttr>(kTargetAttrName);
    if (!targetAttr) {
      targetAttr = getTargetPreset(&getContext(), target);
      if (!targetAttr) {
        emitError(module.getLoc())
            << "invalid option target=" << target
            << ": expected mobile or datacenter (or an npu.target attribute "
               "on the module)";
        return signalPassFailure();
      }
      module->setAttr(kTargetAttrName, targetAttr);
    }

    // The whole program must be on buffers with static element types.
    WalkResult tensors = module.walk([&](Operation *op) {
      if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op))
        if (!linalgOp.hasPureBufferSemantics()) {
          op->emitError("npu: expected linalg on buffers (run "
                        "one-shot-bufferize first)");
          return WalkResult::interrupt();
        }
      return WalkResult::advance();
    });
    if (tensors.wasInterrupted())
      return signalPassFailure();

    // memref.copy is a vector-unit copy too.
    SmallVector<memref::CopyOp> copies;
    module.walk([&](memref::CopyOp op) { copies.push_back(op); });
    for (memref::CopyOp op : copies) {
      OpBuilder b(op);
      linalg::CopyOp::create(b, op.getLoc(), op.getSource(), op.getTarget());
      op.erase();
    }

    SmallVector<linalg::LinalgOp> ops;
    module.walk([&](linalg::LinalgOp op) {
      if (!op->getParentOfType<VectorOp>())
        ops.push_back(op);
    });
    UnitMapper mapper(targetAttr, doubleBuffer);
    for (linalg::LinalgOp op : ops) {
      if (auto matmul = dyn_cast<linalg::BatchMatmulOp>(op.getOperation())) {
        if (failed(mapper.mapMatmul(matmul)))
          return signalPassFailure();
        continue;
      }
      mapper.mapElementwise(op);
    }
  }
};

} // namespace
