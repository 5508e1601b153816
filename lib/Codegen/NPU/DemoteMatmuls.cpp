//===- DemoteMatmuls.cpp - f32 matmul operands to f16 for the matrix unit -===//
//
// Rounds the operands of f32 batched matmuls to f16 (the matrix units of the
// NPU presets have no f32) and marks the casts that feed vector-unit rows.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Codegen/NPU/Passes.h"
#include "deltanet/Dialect/DeltaNet/Utils/StructuredBuilder.h"

#include "mlir/IR/Matchers.h"

namespace mlir {
namespace deltanet {
#define GEN_PASS_DEF_DELTANETNPUDEMOTEMATMULS
#include "deltanet/Codegen/NPU/Passes.h.inc"
} // namespace deltanet
} // namespace mlir

using namespace mlir;
using namespace mlir::deltanet;

namespace {

/// Whether `op` is a row-times-matrix product (one row per batch element):
/// the vector unit computes it.
bool isRowProduct(linalg::BatchMatmulOp op) {
  auto lhs = cast<ShapedType>(op.getDpsInputs()[0].getType());
  return lhs.getDimSize(1) == 1;
}

/// Whether `op` is an elementwise generic whose body only converts its one
/// input's element type.
bool isPureCast(Operation *op) {
  auto generic = dyn_cast<linalg::GenericOp>(op);
  if (!generic || generic.getNumDpsInputs() != 1 ||
      generic.getNumReductionLoops() != 0)
    return false;
  Block &body = generic.getRegion().front();
  if (body.getOperations().size() != 2)
    return false;
  return isa<arith::ExtFOp, arith::TruncFOp>(body.front());
}

struct DeltaNetNpuDemoteMatmulsPass
    : public deltanet::impl::DeltaNetNpuDemoteMatmulsBase<
          DeltaNetNpuDemoteMatmulsPass> {
  using Base::Base;
  void runOnOperation() override {
    SmallVector<linalg::BatchMatmulOp> matmuls;
    getOperation()->walk(
        [&](linalg::BatchMatmulOp op) { matmuls.push_back(op); });
    for (linalg::BatchMatmulOp op : matmuls) {
      if (!op.hasPureTensorSemantics())
        continue;
      // A matmul into zeros needs no accumulator load on the matrix unit.
      if (auto fill = op.getDpsInits()[0].getDefiningOp<linalg::FillOp>())
        if (matchPattern(fill.getInputs()[0], m_AnyZeroFloat()) ||
            matchPattern(fill.getInputs()[0], m_Zero()))
          op->setAttr("npu.zero_init", UnitAttr::get(&getContext()));
      // Casts that only feed matmul operands are done by the data movers
      // on the way into the operand buffers (Ascend's MTEs convert during
      // movement; an assumption for the mobile preset, docs/NPU.md).
      for (Value in : op.getDpsInputs())
        if (Operation *def = in.getDefiningOp();
            def && isPureCast(def) &&
            llvm::all_of(def->getUsers(), [](Operation *user) {
              return isa<linalg::BatchMatmulOp>(user);
            }))
          def->setAttr("npu.fused_cast", UnitAttr::get(&getContext()));
      if (!demote || isRowProduct(op))
        continue;
      Value lhs = op.getDpsInputs()[0], rhs = op.getDpsInputs()[1];
      auto lhsType = cast<ShapedType>(lhs.getType());
      auto rhsType = cast<ShapedType>(rhs.getType());
      if (!lhsType.getElementType().isF32() ||
          !rhsType.getElementType().isF32())
        continue;
      OpBuilder b(op);
      StructuredBuilder sb(b, op.getLoc());
      Type f16 = b.getF16Type();
      // A new op: the body's block arguments take the operand types.
      auto demoted = linalg::BatchMatmulOp::create(
          b, op.getLoc(), op->getResultTypes(),
          ValueRange{sb.convertElementType(lhs, f16),
                     sb.convertElementType(rhs, f16)},
          op.getDpsInits());
      demoted->setDiscardableAttrs(op->getDiscardableAttrDictionary());
      op->replaceAllUsesWith(demoted);
      op.erase();
    }
  }
};

} // namespace
