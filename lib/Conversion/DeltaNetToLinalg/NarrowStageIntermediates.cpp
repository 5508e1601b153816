//===- NarrowStageIntermediates.cpp - 16-bit stage intermediates ---------===//
//
// Stores a chunk stage's intermediate in bf16 / f16 where every consumer
// stage only rounds it to that type before its products.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Conversion/Passes.h"
#include "deltanet/Dialect/DeltaNet/IR/DeltaNetOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

namespace mlir {
namespace deltanet {
#define GEN_PASS_DEF_DELTANETNARROWSTAGEINTERMEDIATES
#include "deltanet/Conversion/Passes.h.inc"
} // namespace deltanet
} // namespace mlir

using namespace mlir;
using namespace mlir::deltanet;

namespace {

/// The 16-bit type that `precision` rounds product operands to; null for
/// f32 and i8 (i8 quantises per product, with that product's scales).
Type roundingType(MLIRContext *ctx, TriInvPrecision precision) {
  if (precision == TriInvPrecision::BF16)
    return BFloat16Type::get(ctx);
  if (precision == TriInvPrecision::F16)
    return Float16Type::get(ctx);
  return {};
}

bool isReshape(Operation *op) {
  return isa_and_present<tensor::ExpandShapeOp, tensor::CollapseShapeOp>(op);
}

/// `type` with element type `element`.
RankedTensorType withElement(Type type, Type element) {
  return cast<RankedTensorType>(type).clone(element);
}

/// Which stage operands are only rounded to 16 bits, to which type.
struct Consumers {
  ChunkStagePrecisions precisions;
  bool foldScanDecayIntoValues;
  // The scan's u counts as rounded to its product type (narrow-u).
  bool narrowU;

  /// The type that the stage owning `use` rounds it to before its products
  /// (and uses it for nothing else); null when it reads it otherwise.
  Type roundsTo(OpOperand &use) const {
    Operation *owner = use.getOwner();
    MLIRContext *ctx = owner->getContext();
    if (auto scan = dyn_cast<ChunkStateScanOp>(owner)) {
      // w: only `w S`. k: only `k^T (v_new decay)` when the decay is folded
      // into v_new; otherwise k is decayed in f32 first.
      bool roundedOnly =
          &use == &scan.getWMutable() ||
          (foldScanDecayIntoValues && &use == &scan.getKMutable()) ||
          (narrowU && &use == &scan.getUMutable());
      return roundedOnly ? roundingType(ctx, precisions.chunkStateScan)
                         : Type();
    }
    if (auto out = dyn_cast<ChunkOutputOp>(owner)) {
      // k: only `q k^T`; v_new: only `attention v_new`; state: only
      // `(q exp(g)) state`. q is also decayed in f32: not narrowed.
      bool roundedOnly = &use == &out.getKMutable() ||
                         &use == &out.getVNewMutable() ||
                         &use == &out.getStateMutable();
      return roundedOnly ? roundingType(ctx, precisions.chunkOutput) : Type();
    }
    return {};
  }

  /// The one 16-bit type that every use of `value` (through reshapes)
  /// rounds it to; null if some use reads it otherwise, or there is none.
  Type commonRounding(Value value) const {
    Type common;
    bool ok = !value.use_empty();
    for (OpOperand &use : value.getUses()) {
      Operation *user = use.getOwner();
      Type type = isReshape(user) ? commonRounding(user->getResult(0))
                                  : roundsTo(use);
      if (!type || (common && common != type))
        ok = false;
      common = type;
    }
    return ok ? common : Type();
  }
};

/// `value` and the reshapes it flows through retyped to `element`.
void retype(Value value, Type element) {
  value.setType(withElement(value.getType(), element));
  for (Operation *user : value.getUsers())
    if (isReshape(user))
      retype(user->getResult(0), element);
}

/// A stage result that its lowering can store in 16 bits (wy_repr's w and,
/// with narrow-u, its u; chunk_state_scan's states and v_new) retyped when
/// every consumer rounds it to one 16-bit type.
bool narrowStageResults(Operation *root, const Consumers &consumers) {
  SmallVector<Value> candidates;
  root->walk([&](Operation *op) {
    if (auto wy = dyn_cast<WYReprOp>(op)) {
      candidates.push_back(wy.getW());
      if (consumers.narrowU)
        candidates.push_back(wy.getU());
    }
    else if (auto scan = dyn_cast<ChunkStateScanOp>(op))
      candidates.append({scan.getStates(), scan.getVNew()});
  });
  bool changed = false;
  for (Value value : candidates) {
    if (!cast<ShapedType>(value.getType()).getElementType().isF32())
      continue;
    if (Type element = consumers.commonRounding(value)) {
      retype(value, element);
      changed = true;
    }
  }
  return changed;
}

/// Whether `generic` is an elementwise op with one f32 result computed
/// without reading its init (a gather / conversion / scaling): a 16-bit
/// copy of it is its result rounded.
bool isElementwiseProducer(linalg::GenericOp generic) {
  if (generic.getNumDpsInits() != 1 || generic->getNumResults() != 1 ||
      generic.getNumLoops() != generic.getNumParallelLoops())
    return false;
  OpOperand *init = generic.getDpsInitOperand(0);
  return !generic.payloadUsesValueFromOperand(init) &&
         init->get().getDefiningOp<tensor::EmptyOp>() &&
         cast<ShapedType>(generic->getResult(0).getType())
             .getElementType()
             .isF32();
}

/// `generic` (isElementwiseProducer) computed again with its result
/// rounded to `element`.
Value roundedCopy(OpBuilder &b, linalg::GenericOp generic, Type element) {
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointAfter(generic);
  Location loc = generic.getLoc();
  auto empty = generic.getDpsInitOperand(0)->get().getDefiningOp<tensor::EmptyOp>();
  Value init = tensor::EmptyOp::create(b, loc, empty.getMixedSizes(), element);
  auto copy = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, generic.getDpsInputs(),
      ValueRange{init}, generic.getIndexingMapsArray(),
      generic.getIteratorTypesArray(),
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        IRMapping mapping;
        Block &body = generic.getRegion().front();
        mapping.map(body.getArguments(), args);
        for (Operation &op : body.without_terminator())
          nb.clone(op, mapping);
        Value result = mapping.lookupOrDefault(
            body.getTerminator()->getOperand(0));
        linalg::YieldOp::create(
            nb, nloc, arith::TruncFOp::create(nb, nloc, element, result)
                          .getResult());
      });
  return copy.getResult(0);
}

/// The operands that their stage only rounds to 16 bits, read (through
/// reshapes) from an elementwise producer that other ops read in f32 (the
/// gathered k): given a 16-bit copy of the producer and of the reshapes.
bool narrowElementwiseOperands(Operation *root, const Consumers &consumers) {
  SmallVector<std::pair<OpOperand *, Type>> uses;
  root->walk([&](Operation *op) {
    if (!isa<ChunkStateScanOp, ChunkOutputOp>(op))
      return;
    for (OpOperand &use : op->getOpOperands()) {
      if (auto scan = dyn_cast<ChunkStateScanOp>(op))
        if (&use == &scan.getUMutable())
          continue; // narrow-u narrows wy_repr's u only
      Type element = consumers.roundsTo(use);
      if (element &&
          cast<ShapedType>(use.get().getType()).getElementType().isF32())
        uses.push_back({&use, element});
    }
  });
  bool changed = false;
  OpBuilder b(root->getContext());
  // One 16-bit copy per (f32 value, type), shared by every use that rounds
  // that value to that type (the scan's and the output's k).
  DenseMap<std::pair<Value, Type>, Value> copies;
  for (auto [use, element] : uses) {
    SmallVector<Operation *> reshapes;
    Value source = use->get();
    while (isReshape(source.getDefiningOp())) {
      reshapes.push_back(source.getDefiningOp());
      source = source.getDefiningOp()->getOperand(0);
    }
    auto generic = source.getDefiningOp<linalg::GenericOp>();
    if (!generic || !isElementwiseProducer(generic))
      continue;
    Value &copied = copies[{source, element}];
    if (!copied)
      copied = roundedCopy(b, generic, element);
    Value narrow = copied;
    for (Operation *reshape : llvm::reverse(reshapes)) {
      Value &reshaped = copies[{reshape->getResult(0), element}];
      if (!reshaped) {
        b.setInsertionPointAfter(reshape);
        Operation *copy = b.clone(*reshape);
        copy->setOperand(0, narrow);
        copy->getResult(0).setType(
            withElement(copy->getResult(0).getType(), element));
        reshaped = copy->getResult(0);
      }
      narrow = reshaped;
    }
    use->set(narrow);
    changed = true;
  }
  return changed;
}

struct DeltaNetNarrowStageIntermediatesPass
    : public deltanet::impl::DeltaNetNarrowStageIntermediatesBase<
          DeltaNetNarrowStageIntermediatesPass> {
  using Base::Base;

  void runOnOperation() override {
    FailureOr<ChunkStagePrecisions> precisions =
        parseChunkStagePrecisionsOption(getOperation(), getArgument(),
                                        precision, stagePrecision);
    if (failed(precisions))
      return signalPassFailure();
    Consumers consumers{*precisions, foldScanDecayIntoValues, narrowU};
    bool changed = narrowStageResults(getOperation(), consumers);
    changed |= narrowElementwiseOperands(getOperation(), consumers);
    if (!changed)
      markAllAnalysesPreserved();
  }
};

} // namespace
