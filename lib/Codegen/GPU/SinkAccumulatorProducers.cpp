//===- SinkAccumulatorProducers.cpp - Accumulator chains next to their use -===//
//
// Inside a GPU block, a matmul whose accumulator is another matmul's result
// (chunk_output: o = P v_new accumulated onto (q exp(g)) S) gets that
// producer, and the block-local ops that only feed it, moved right before
// it. Every block temporary lives in shared memory from its producer to its
// last reader, so computing the accumulator first kept it (33 KB at the
// attention's sizes) alive across the whole intra-chunk product: the output
// stage needed 120 KB of shared memory, one block per SM. Moved, the two
// products' temporaries overlap less (86 KB, two blocks per SM). The
// computation is unchanged (same ops, same accumulation order).
//
//===----------------------------------------------------------------------===//

#include "deltanet/Codegen/GPU/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir {
namespace deltanet {
#define GEN_PASS_DEF_DELTANETGPUSINKACCUMULATORPRODUCERS
#include "deltanet/Codegen/GPU/Passes.h.inc"
} // namespace deltanet
} // namespace mlir

using namespace mlir;
using namespace mlir::deltanet;

namespace {

bool isMatmul(Operation *op) {
  return isa_and_nonnull<linalg::BatchMatmulOp, linalg::MatmulOp>(op);
}

/// Moves `op` right before `before` (same block, `op` earlier), then the
/// producers of its operands in that block that nothing else reads.
void sinkWithExclusiveProducers(RewriterBase &rewriter, Operation *op,
                                Operation *before) {
  rewriter.moveOpBefore(op, before);
  for (OpOperand &use : op->getOpOperands()) {
    Operation *producer = use.get().getDefiningOp();
    // An empty tensor shared with other users (CSE merged them) is cloned:
    // its buffer is allocated where it stands, which starts the lifetime.
    if (auto empty = dyn_cast_or_null<tensor::EmptyOp>(producer)) {
      if (empty->getBlock() == op->getBlock() && !empty->hasOneUse() &&
          empty->getNumOperands() == 0) {
        rewriter.setInsertionPoint(op);
        Operation *clone = rewriter.clone(*empty);
        rewriter.modifyOpInPlace(op, [&] { use.set(clone->getResult(0)); });
        continue;
      }
    }
    if (!producer || producer->getBlock() != op->getBlock() ||
        !isMemoryEffectFree(producer) || producer->getNumRegions() > 1)
      continue;
    // Every user of every result is `op` (producers of several operands of
    // `op` are moved once: the first time, before `op`).
    bool exclusive = llvm::all_of(producer->getUsers(), [&](Operation *user) {
      return user == op;
    });
    if (exclusive && producer->isBeforeInBlock(op))
      sinkWithExclusiveProducers(rewriter, producer, op);
  }
}

struct DeltaNetGpuSinkAccumulatorProducersPass
    : public deltanet::impl::DeltaNetGpuSinkAccumulatorProducersBase<
          DeltaNetGpuSinkAccumulatorProducersPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<std::pair<Operation *, Operation *>> chains;
    getOperation()->walk([&](linalg::LinalgOp consumer) {
      if (!isMatmul(consumer) || !consumer.hasPureTensorSemantics() ||
          !isInsideBlockLoop(consumer))
        return;
      Operation *producer =
          consumer.getDpsInitOperand(0)->get().getDefiningOp();
      if (isMatmul(producer) && producer->hasOneUse() &&
          producer->getBlock() == consumer->getBlock())
        chains.push_back({producer, consumer});
    });
    IRRewriter rewriter(&getContext());
    for (auto [producer, consumer] : chains)
      sinkWithExclusiveProducers(rewriter, producer, consumer);
  }
};

} // namespace
