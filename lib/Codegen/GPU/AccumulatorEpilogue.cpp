//===- AccumulatorEpilogue.cpp - Products' consumers applied in registers -===//
//
// The elementwise consumer of a block product's accumulator, applied to each
// accumulator element as the warp stores its fragments (see the header).
// Ours: upstream's linalg fusion works on tensors, before the products
// become warp loops of nvgpu.mma.sync, and has no notion of a consumer
// applied to register fragments; VectorToGPU's mma path fuses only
// `arith.extf` / `truncf` on vectorised code.
//
//===----------------------------------------------------------------------===//

#include "AccumulatorEpilogue.h"
#include "ViewedBuffer.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

using namespace mlir;
using namespace mlir::deltanet;

namespace {

/// True for ops that only allocate or view memory.
bool isAllocOrView(Operation *op) {
  return isa<memref::AllocOp, memref::DeallocOp, memref::SubViewOp,
             memref::CollapseShapeOp, memref::ExpandShapeOp, memref::CastOp,
             ViewLikeOpInterface>(op);
}

/// `expr` over loops of extents `ranges`, with unit loops replaced by 0 and
/// `d floordiv c` -> 0, `d mod c` -> d where d's extent is at most c (the
/// scatter into o reads the block's 64 rows as `d floordiv 64`, `d mod 64`).
AffineExpr simplifyByRanges(AffineExpr expr, ArrayRef<int64_t> ranges) {
  MLIRContext *ctx = expr.getContext();
  if (auto dim = dyn_cast<AffineDimExpr>(expr))
    return ranges[dim.getPosition()] == 1 ? getAffineConstantExpr(0, ctx)
                                          : expr;
  auto binary = dyn_cast<AffineBinaryOpExpr>(expr);
  if (!binary)
    return expr;
  AffineExpr lhs = simplifyByRanges(binary.getLHS(), ranges);
  AffineExpr rhs = simplifyByRanges(binary.getRHS(), ranges);
  auto dim = dyn_cast<AffineDimExpr>(lhs);
  auto divisor = dyn_cast<AffineConstantExpr>(rhs);
  bool withinDivisor = dim && divisor && divisor.getValue() > 0 &&
                       ranges[dim.getPosition()] <= divisor.getValue();
  switch (expr.getKind()) {
  case AffineExprKind::Add:
    return lhs + rhs;
  case AffineExprKind::Mul:
    return lhs * rhs;
  case AffineExprKind::FloorDiv:
    return withinDivisor ? getAffineConstantExpr(0, ctx) : lhs.floorDiv(rhs);
  case AffineExprKind::CeilDiv:
    return lhs.ceilDiv(rhs);
  case AffineExprKind::Mod:
    return withinDivisor ? lhs : lhs % rhs;
  default:
    return expr;
  }
}

/// The map from the expanded indices of `expand` to its source's indices
/// (each reassociation group linearised, row-major).
FailureOr<AffineMap> expandedToSource(memref::ExpandShapeOp expand) {
  MemRefType expanded = expand.getResultType();
  if (!expanded.hasStaticShape())
    return failure();
  MLIRContext *ctx = expand.getContext();
  SmallVector<AffineExpr> results;
  for (ReassociationIndices group : expand.getReassociationIndices()) {
    AffineExpr linear = getAffineConstantExpr(0, ctx);
    for (int64_t dim : group)
      linear = linear * expanded.getDimSize(dim) + getAffineDimExpr(dim, ctx);
    results.push_back(linear);
  }
  return AffineMap::get(expanded.getRank(), 0, results, ctx);
}

/// Whether an op after `after` in its block (or nested in one) uses a view
/// of `base` other than by viewing it.
bool usedAfter(Operation *after, Value base) {
  for (Operation *op = after->getNextNode(); op; op = op->getNextNode()) {
    WalkResult walk = op->walk([&](Operation *nested) {
      if (isAllocOrView(nested))
        return WalkResult::advance();
      for (Value operand : nested->getOperands())
        if (isa<MemRefType>(operand.getType()) &&
            getViewedBuffer(operand) == base)
          return WalkResult::interrupt();
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return true;
  }
  return false;
}

} // namespace

FailureOr<AccumulatorConsumer>
mlir::deltanet::findAccumulatorConsumer(Operation *product, Value acc,
                                        Operation *block, std::string &reason) {
  Value base = getViewedBuffer(acc);
  auto alloc = base.getDefiningOp<memref::AllocOp>();
  auto accType = dyn_cast<MemRefType>(acc.getType());
  if (!alloc || !block->isProperAncestor(alloc) || !accType ||
      !accType.hasStaticShape()) {
    reason = "accumulator is not a static block temporary";
    return failure();
  }
  // Allocated in the product's block: no loop between them could carry
  // the accumulator's value to a read before the product (usedAfter only
  // sees the rest of this block).
  if (alloc->getBlock() != product->getBlock()) {
    reason = "accumulator allocated outside the product's block";
    return failure();
  }
  Operation *next = product->getNextNode();
  while (next && (isAllocOrView(next) || isPure(next)))
    next = next->getNextNode();
  auto consumer = dyn_cast_or_null<linalg::GenericOp>(next);
  if (!consumer || !consumer.hasPureBufferSemantics() ||
      consumer.getNumDpsInits() != 1 ||
      consumer.getNumParallelLoops() != consumer.getNumLoops()) {
    reason = "next op is not an elementwise linalg.generic with one init";
    return failure();
  }
  OpOperand *init = consumer.getDpsInitOperand(0);
  if (consumer.payloadUsesValueFromOperand(init) ||
      !consumer.getMatchingIndexingMap(init).isProjectedPermutation() ||
      getViewedBuffer(init->get()) == base) {
    reason = "consumer reads its init or writes the accumulator";
    return failure();
  }
  if (llvm::any_of(consumer.getBody()->without_terminator(), [](Operation &op) {
        return !isPure(&op) || op.getNumRegions() != 0;
      })) {
    reason = "consumer payload has side effects or regions";
    return failure();
  }
  SmallVector<int64_t> ranges = consumer.getStaticLoopRanges();
  if (llvm::any_of(ranges, ShapedType::isDynamic)) {
    reason = "consumer has dynamic loop ranges";
    return failure();
  }
  AccumulatorConsumer result;
  result.op = consumer;
  std::optional<AffineMap> toAcc;
  for (OpOperand *input : consumer.getDpsInputOperands()) {
    if (!isa<MemRefType>(input->get().getType())) {
      reason = "consumer has a non-memref input";
      return failure();
    }
    if (getViewedBuffer(input->get()) != base)
      continue;
    if (toAcc) {
      reason = "consumer reads the accumulator twice";
      return failure();
    }
    AffineMap map = consumer.getMatchingIndexingMap(input);
    if (input->get() != acc) {
      auto expand = input->get().getDefiningOp<memref::ExpandShapeOp>();
      FailureOr<AffineMap> toSource =
          expand && expand.getSrc() == acc ? expandedToSource(expand)
                                           : FailureOr<AffineMap>(failure());
      if (failed(toSource)) {
        reason = "consumer reads a view of the accumulator other than an "
                 "expand_shape of it";
        return failure();
      }
      map = toSource->compose(map);
    }
    toAcc = map;
    result.accInput = input->getOperandNumber();
  }
  if (!toAcc) {
    reason = "consumer does not read the accumulator";
    return failure();
  }
  // A consumer that loads other inputs per element and writes device
  // memory stays a block phase: gated_kkt's epilogue (g at the row and the
  // column, exp, mask, scalar f32 stores into A) applied to the fragments
  // measured slower on the H200 (0.109 -> 0.117 ms, 95 -> 102 registers)
  // than its coalesced, vectorised phase. A cast into device memory (o) or
  // any consumer writing shared memory (the output stage's mask) folds.
  if (consumer.getNumDpsInputs() > 1 && !inWorkgroupMemory(init->get())) {
    reason = "consumer loads other inputs and writes device memory";
    return failure();
  }
  // Every accumulator element read once: each result a distinct loop of
  // the accumulator dim's extent, or 0 for a unit dim; every other loop
  // unit.
  result.loopFromAccDim.assign(consumer.getNumLoops(), -1);
  for (auto [accDim, expr] : llvm::enumerate(toAcc->getResults())) {
    AffineExpr simple = simplifyByRanges(expr, ranges);
    if (auto constant = dyn_cast<AffineConstantExpr>(simple)) {
      if (constant.getValue() == 0 && accType.getDimSize(accDim) == 1)
        continue;
    } else if (auto dim = dyn_cast<AffineDimExpr>(simple)) {
      unsigned loop = dim.getPosition();
      if (result.loopFromAccDim[loop] < 0 &&
          ranges[loop] == accType.getDimSize(accDim)) {
        result.loopFromAccDim[loop] = accDim;
        continue;
      }
    }
    reason = "consumer does not read each accumulator element once";
    return failure();
  }
  for (auto [loop, accDim] : llvm::enumerate(result.loopFromAccDim))
    if (accDim < 0 && ranges[loop] != 1) {
      reason = "a consumer loop is not an accumulator dim";
      return failure();
    }
  if (usedAfter(consumer, base)) {
    reason = "accumulator used after its consumer";
    return failure();
  }
  return result;
}

void mlir::deltanet::applyAccumulatorConsumer(
    OpBuilder &b, Location loc, const AccumulatorConsumer &consumer,
    ArrayRef<Value> accIndices, Value element) {
  linalg::GenericOp op = consumer.op;
  Value zero;
  SmallVector<OpFoldResult> point;
  for (int64_t accDim : consumer.loopFromAccDim)
    point.push_back(accDim < 0 ? OpFoldResult(b.getIndexAttr(0))
                               : OpFoldResult(accIndices[accDim]));
  auto indicesAt = [&](AffineMap map) {
    SmallVector<Value> indices;
    for (AffineExpr expr : map.getResults())
      indices.push_back(affine::makeComposedAffineApply(
          b, loc, AffineMap::get(map.getNumDims(), 0, expr), point));
    return indices;
  };
  IRMapping mapping;
  Block *body = op.getBody();
  for (OpOperand *input : op.getDpsInputOperands()) {
    Value arg = body->getArgument(input->getOperandNumber());
    if (input->getOperandNumber() == consumer.accInput) {
      mapping.map(arg, element);
      continue;
    }
    mapping.map(arg, memref::LoadOp::create(
                         b, loc, input->get(),
                         indicesAt(op.getMatchingIndexingMap(input))));
  }
  for (Operation &payload : body->without_terminator()) {
    if (auto index = dyn_cast<linalg::IndexOp>(payload)) {
      OpFoldResult at = point[index.getDim()];
      if (auto value = dyn_cast<Value>(at)) {
        mapping.map(index.getResult(), value);
      } else {
        if (!zero)
          zero = arith::ConstantIndexOp::create(b, loc, 0);
        mapping.map(index.getResult(), zero);
      }
      continue;
    }
    b.clone(payload, mapping);
  }
  OpOperand *init = op.getDpsInitOperand(0);
  memref::StoreOp::create(
      b, loc, mapping.lookupOrDefault(body->getTerminator()->getOperand(0)),
      init->get(), indicesAt(op.getMatchingIndexingMap(init)));
}
