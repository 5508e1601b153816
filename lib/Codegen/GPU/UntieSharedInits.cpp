//===- UntieSharedInits.cpp - One empty / zero fill per destination -------===//
//
// Clones tensor.empty and linalg.fill(tensor.empty) ops that CSE merged, so
// that each destination-style op writes its own init (see Passes.td: two
// results sharing one fill were miscomputed after bufferization).
//
// Upstream has no pattern for this (IREE duplicates tensor.empty ops in its
// own convert-to-destination-passing-style pass).
//
//===----------------------------------------------------------------------===//

#include "deltanet/Codegen/GPU/Passes.h"

#include "mlir/Interfaces/DestinationStyleOpInterface.h"

namespace mlir {
namespace deltanet {
#define GEN_PASS_DEF_DELTANETGPUUNTIESHAREDINITS
#include "deltanet/Codegen/GPU/Passes.h.inc"
} // namespace deltanet
} // namespace mlir

using namespace mlir;
using namespace mlir::deltanet;

namespace {

/// A value that stands for "fresh storage" (possibly zero-filled): an empty
/// tensor or a fill of one. Cloning it next to a use changes no semantics.
bool isFreshInit(Operation *op) {
  if (isa_and_nonnull<tensor::EmptyOp>(op))
    return true;
  auto fill = dyn_cast_or_null<linalg::FillOp>(op);
  return fill && fill.hasPureTensorSemantics() &&
         isa_and_nonnull<tensor::EmptyOp>(
             fill.getDpsInits()[0].getDefiningOp());
}

/// Destination (init) uses of `value` by destination-style ops other than
/// loops' shared outputs (scf.forall results are tied elsewhere), in
/// program order (`order`: the ops' positions in a pre-order walk).
SmallVector<OpOperand *>
destinationUses(Value value, const DenseMap<Operation *, int64_t> &order) {
  SmallVector<OpOperand *> uses;
  for (OpOperand &use : value.getUses()) {
    auto dps = dyn_cast<DestinationStyleOpInterface>(use.getOwner());
    if (!dps || isa<scf::ForallOp>(use.getOwner()))
      continue;
    // (Not isDpsInit: an op without tensor inits, e.g.
    // materialize_in_destination into a memref, has an empty init range.)
    if (llvm::any_of(dps.getDpsInitsMutable(),
                     [&](OpOperand &init) { return &init == &use; }))
      uses.push_back(&use);
  }
  llvm::sort(uses, [&](OpOperand *a, OpOperand *b) {
    return order.lookup(a->getOwner()) < order.lookup(b->getOwner());
  });
  return uses;
}

struct DeltaNetGpuUntieSharedInitsPass
    : public deltanet::impl::DeltaNetGpuUntieSharedInitsBase<
          DeltaNetGpuUntieSharedInitsPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<Operation *> inits;
    DenseMap<Operation *, int64_t> order;
    getOperation()->walk<WalkOrder::PreOrder>([&](Operation *op) {
      order[op] = static_cast<int64_t>(order.size());
      if (isFreshInit(op))
        inits.push_back(op);
    });
    OpBuilder builder(&getContext());
    for (Operation *init : inits) {
      SmallVector<OpOperand *> uses =
          destinationUses(init->getResult(0), order);
      if (uses.size() < 2)
        continue;
      // The first use keeps the original; each later one gets a clone
      // (with its own empty tensor for a fill) right before it.
      for (OpOperand *use : llvm::drop_begin(uses)) {
        builder.setInsertionPoint(use->getOwner());
        IRMapping mapping;
        if (auto fill = dyn_cast<linalg::FillOp>(init)) {
          Operation *empty = fill.getDpsInits()[0].getDefiningOp();
          mapping.map(empty->getResult(0), builder.clone(*empty)->getResult(0));
        }
        use->set(builder.clone(*init, mapping)->getResult(0));
      }
    }
  }
};

} // namespace
