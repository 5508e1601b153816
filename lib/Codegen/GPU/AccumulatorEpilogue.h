//===- AccumulatorEpilogue.h - Products' consumers applied in registers ---===//
//
// Internal to deltanet-gpu-matmuls-to-mma-sync: the elementwise consumer of
// a block product's accumulator (the output stage's cast to bf16 and
// scatter into o, gated_kkt's mask and decay) applied to the accumulator
// fragments as they leave the registers, so that the accumulator tile in
// shared memory and the consumer's block phase disappear.
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_LIB_CODEGEN_GPU_ACCUMULATOREPILOGUE_H
#define DELTANET_LIB_CODEGEN_GPU_ACCUMULATOREPILOGUE_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Builders.h"

namespace mlir {
namespace deltanet {

/// An elementwise consumer of a product's accumulator buffer that can be
/// applied per accumulator element.
struct AccumulatorConsumer {
  linalg::GenericOp op;
  /// The consumer input that reads the accumulator.
  unsigned accInput = 0;
  /// For each consumer loop: the accumulator memref dim that gives its
  /// value, or -1 for a unit loop (always 0).
  SmallVector<int64_t> loopFromAccDim;
};

/// The consumer of accumulator `acc` (a shared-memory temporary allocated in
/// `block`) written by `product`, if it can be folded into the product's
/// fragment stores: the next op with memory effects after `product` is a
/// linalg.generic with only parallel loops and one init (not read by its
/// payload, indexed by a projected permutation, in another buffer), one of
/// its inputs is `acc` or an expand_shape of it, read through a map that
/// visits every element of `acc` exactly once (unit loops aside, every
/// loop is one dim of `acc`, with `acc`'s extent; floordiv / mod by
/// constants at least a loop's extent simplify away), its other inputs are
/// not views of `acc`'s buffer, its payload is pure, and nothing after the
/// consumer in the block uses `acc`'s buffer; a consumer with other inputs
/// must write shared memory (measured: see the .cpp). Fills `reason`
/// otherwise.
FailureOr<AccumulatorConsumer> findAccumulatorConsumer(Operation *product,
                                                       Value acc,
                                                       Operation *block,
                                                       std::string &reason);

/// Writes what `consumer` computes from the accumulator element `element`
/// at accumulator indices `accIndices`: the consumer's other inputs loaded
/// at the iteration point, its payload cloned (linalg.index -> the point),
/// its yield stored into its init.
void applyAccumulatorConsumer(OpBuilder &b, Location loc,
                              const AccumulatorConsumer &consumer,
                              ArrayRef<Value> accIndices, Value element);

} // namespace deltanet
} // namespace mlir

#endif // DELTANET_LIB_CODEGEN_GPU_ACCUMULATOREPILOGUE_H
