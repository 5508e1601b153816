//===- CarryAccumulators.cpp - mma accumulators carried across a loop -----===//
//
// The state scan keeps S in a shared-memory buffer that the update's warps
// load into tensor-core accumulator fragments, accumulate onto and store
// back once per chunk. Every lane reads back in the next chunk exactly the
// elements it stored, so the fragments can stay in registers across the
// chunk loop: this pass turns the marked fragment loads of
// deltanet-gpu-matmuls-to-mma-sync (`mark-carried-accumulators`) into
// `iter_args` of the enclosing scf.for (loaded in the first iteration only).
//
// Why ours: upstream forwards stored values to loads on whole vector
// transfers of a buffer (vector store-to-load forwarding, loop-invariant
// hoisting, VectorToGPU's loop-carried mma values for ops it vectorised
// itself); here the fragment's elements are scalar loads and stores at
// lane-dependent indices after the thread mapping, and the reasoning that
// makes the forwarding legal (each element is written by the lane that
// owns it, by the product's stores only) comes from how the tensor-core
// pass tiled the product.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Codegen/GPU/Passes.h"

#include "ViewedBuffer.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "deltanet-gpu-carry-accumulators"

namespace mlir {
namespace deltanet {
#define GEN_PASS_DEF_DELTANETGPUCARRYACCUMULATORS
#include "deltanet/Codegen/GPU/Passes.h.inc"
} // namespace deltanet
} // namespace mlir

using namespace mlir;
using namespace mlir::deltanet;

namespace {

constexpr StringLiteral kCarriedAccumulatorAttr =
    "deltanet.carried_accumulator";

/// The [product, tile] mark of `op`, if any.
std::optional<std::pair<int64_t, int64_t>> markOf(Operation *op) {
  auto mark = op->getAttrOfType<DenseI64ArrayAttr>(kCarriedAccumulatorAttr);
  if (!mark || mark.size() != 2)
    return std::nullopt;
  return std::make_pair(mark[0], mark[1]);
}

/// Whether `a` and `b` are the same index value: the same SSA value, or
/// results of two pure, region-free ops of the same kind and attributes on
/// the same values (the fragment's load and store compute their indices
/// separately: `affine.apply`s of the lane and the warp's tile origin).
bool sameValue(Value a, Value b, int depth = 0) {
  if (a == b)
    return true;
  Operation *x = a.getDefiningOp(), *y = b.getDefiningOp();
  if (!x || !y || depth > 16 || x->getName() != y->getName() ||
      x->getNumRegions() != 0 || y->getNumRegions() != 0 || !isPure(x) ||
      !isPure(y) || x->getAttrDictionary() != y->getAttrDictionary() ||
      x->getNumOperands() != y->getNumOperands() ||
      x->getNumResults() != y->getNumResults() ||
      cast<OpResult>(a).getResultNumber() !=
          cast<OpResult>(b).getResultNumber())
    return false;
  for (auto [u, v] : llvm::zip(x->getOperands(), y->getOperands()))
    if (!sameValue(u, v, depth + 1))
      return false;
  return true;
}

/// Whether `op` (no regions, or ones this walk enters) may write memory
/// aliasing `base`, a memref.alloc: writes to another allocation or to a
/// function / kernel argument cannot. Unknown effects may.
bool mayWriteBuffer(Operation *op, Value base) {
  if (isa<gpu::BarrierOp, nvgpu::DeviceAsyncCreateGroupOp,
          nvgpu::DeviceAsyncWaitOp>(op) ||
      op->getName().getStringRef() == "nvvm.cp.async.wait.group")
    return false; // ordering only
  auto effects = dyn_cast<MemoryEffectOpInterface>(op);
  if (!effects)
    return !isPure(op) && !op->hasTrait<OpTrait::HasRecursiveMemoryEffects>();
  SmallVector<MemoryEffects::EffectInstance> instances;
  effects.getEffects(instances);
  for (const MemoryEffects::EffectInstance &effect : instances) {
    if (!isa<MemoryEffects::Write>(effect.getEffect()))
      continue;
    Value written = effect.getValue();
    if (!written)
      return true;
    Value writtenBase = getViewedBuffer(written);
    if (writtenBase == base)
      return true;
    bool distinct = writtenBase.getDefiningOp<memref::AllocOp>() ||
                    writtenBase.getDefiningOp<memref::AllocaOp>() ||
                    isa<BlockArgument>(writtenBase);
    if (!distinct)
      return true;
  }
  return false;
}

/// One marked fragment: its load and the value its stores write.
struct Carried {
  vector::FromElementsOp load;
  Value stored;
};

/// The fragment that the stores marked like `load` write, if they write
/// exactly the elements `load` reads (same buffer, same indices, each
/// element once) and come after it in its block; null otherwise.
Value matchStoredFragment(vector::FromElementsOp load,
                          ArrayRef<memref::StoreOp> stores,
                          std::string &reason) {
  Block *block = load->getBlock();
  auto type = cast<VectorType>(load.getType());
  int64_t perRow = type.getShape().back();
  SmallVector<memref::LoadOp> loads;
  for (Value element : load.getElements()) {
    auto elementLoad = element.getDefiningOp<memref::LoadOp>();
    if (!elementLoad || elementLoad->getBlock() != block ||
        !element.hasOneUse()) {
      reason = "a fragment element is not a load used only by the fragment";
      return nullptr;
    }
    loads.push_back(elementLoad);
  }
  Value buffer = loads.front().getMemref();
  if (!getViewedBuffer(buffer).getDefiningOp<memref::AllocOp>()) {
    reason = "the accumulator is not a memref.alloc (or a view of one)";
    return nullptr;
  }
  if (stores.size() != loads.size()) {
    reason = "not one store per fragment element";
    return nullptr;
  }
  Value fragment;
  SmallVector<bool> covered(loads.size(), false);
  for (memref::StoreOp store : stores) {
    auto extract = store.getValue().getDefiningOp<vector::ExtractOp>();
    if (store->getBlock() != block || !load->isBeforeInBlock(store) ||
        store.getMemref() != buffer || !extract ||
        !extract.getDynamicPosition().empty() ||
        (fragment && extract.getSource() != fragment)) {
      reason = "a store is not of the fragment's element, after the load, "
               "in the same block and buffer";
      return nullptr;
    }
    fragment = extract.getSource();
    ArrayRef<int64_t> position = extract.getStaticPosition();
    if (position.size() != 2) {
      reason = "a store's element position is not 2-d";
      return nullptr;
    }
    int64_t element = position[0] * perRow + position[1];
    memref::LoadOp elementLoad = loads[element];
    if (covered[element] ||
        elementLoad.getIndices().size() != store.getIndices().size() ||
        !llvm::all_of(llvm::zip(elementLoad.getIndices(), store.getIndices()),
                      [](auto pair) {
                        return sameValue(std::get<0>(pair),
                                         std::get<1>(pair));
                      })) {
      reason = "a store's indices are not its element's load indices";
      return nullptr;
    }
    covered[element] = true;
  }
  if (fragment.getType() != load.getType()) {
    reason = "the stored fragment's type differs from the loaded one";
    return nullptr;
  }
  return fragment;
}

/// The marked fragments of `loop` (directly in its body) that can be
/// carried: their product's stores are the only ops in the loop that may
/// write the accumulator's buffer.
SmallVector<Carried> findCarried(scf::ForOp loop) {
  Block *body = loop.getBody();
  DenseMap<std::pair<int64_t, int64_t>, vector::FromElementsOp> loads;
  DenseMap<std::pair<int64_t, int64_t>, SmallVector<memref::StoreOp>> stores;
  for (Operation &op : *body) {
    std::optional<std::pair<int64_t, int64_t>> mark = markOf(&op);
    if (!mark)
      continue;
    if (auto load = dyn_cast<vector::FromElementsOp>(op))
      loads[*mark] = load;
    else if (auto store = dyn_cast<memref::StoreOp>(op))
      stores[*mark].push_back(store);
  }
  SmallVector<Carried> carried;
  for (auto &[mark, load] : loads) {
    std::string reason;
    Value stored = matchStoredFragment(load, stores.lookup(mark), reason);
    if (!stored) {
      LLVM_DEBUG(llvm::dbgs() << "not carried: " << reason << "\n");
      continue;
    }
    // Nothing else in the loop may write the buffer: only the marked
    // stores of the same product (each lane's own elements).
    Value base =
        getViewedBuffer(load.getElements().front().getDefiningOp<memref::LoadOp>()
                     .getMemref());
    int64_t product = mark.first;
    WalkResult result = loop.getBody()->walk([&](Operation *op) {
      if (auto store = dyn_cast<memref::StoreOp>(op)) {
        std::optional<std::pair<int64_t, int64_t>> storeMark = markOf(op);
        if (getViewedBuffer(store.getMemref()) != base ||
            (storeMark && storeMark->first == product))
          return WalkResult::advance();
        return WalkResult::interrupt();
      }
      if (isa<scf::ForOp, scf::IfOp, scf::ForallOp, scf::InParallelOp,
              scf::YieldOp>(op))
        return WalkResult::advance();
      if (op->getNumRegions() != 0 &&
          !op->hasTrait<OpTrait::HasRecursiveMemoryEffects>())
        return WalkResult::interrupt();
      return mayWriteBuffer(op, base) ? WalkResult::interrupt()
                                      : WalkResult::advance();
    });
    if (result.wasInterrupted()) {
      LLVM_DEBUG(llvm::dbgs()
                 << "not carried: another op of the loop may write the "
                    "buffer\n");
      continue;
    }
    carried.push_back({load, stored});
  }
  // Deterministic order (the loop's new iter_args): the loads' order.
  llvm::sort(carried, [](const Carried &a, const Carried &b) {
    return a.load->isBeforeInBlock(b.load);
  });
  return carried;
}

/// Carries `fragments` of `loop` as new iter_args: initial values zero
/// (never read: the first iteration loads), yielded values the stored
/// fragments; each load becomes `scf.if (iv == lb) { load } else { carried }`.
void carry(RewriterBase &rewriter, scf::ForOp loop,
           ArrayRef<Carried> fragments) {
  Location loc = loop.getLoc();
  rewriter.setInsertionPoint(loop);
  SmallVector<Value> inits;
  for (Carried fragment : fragments)
    inits.push_back(arith::ConstantOp::create(
        rewriter, loc, rewriter.getZeroAttr(fragment.load.getType())));
  FailureOr<LoopLikeOpInterface> replaced =
      cast<LoopLikeOpInterface>(loop.getOperation())
          .replaceWithAdditionalYields(
              rewriter, inits, /*replaceInitOperandUsesInLoop=*/false,
              [&](OpBuilder &, Location, ArrayRef<BlockArgument>) {
                return llvm::map_to_vector(
                    fragments, [](const Carried &c) { return c.stored; });
              });
  assert(succeeded(replaced) && "scf.for takes additional yields");
  auto newLoop = cast<scf::ForOp>(replaced->getOperation());
  unsigned firstNew = newLoop.getNumRegionIterArgs() - fragments.size();
  for (auto [i, fragment] : llvm::enumerate(fragments)) {
    vector::FromElementsOp load = fragment.load;
    rewriter.setInsertionPoint(load);
    Value first = arith::CmpIOp::create(rewriter, load.getLoc(),
                                        arith::CmpIPredicate::eq,
                                        newLoop.getInductionVar(),
                                        newLoop.getLowerBound());
    Value previous = newLoop.getRegionIterArgs()[firstNew + i];
    auto branch = scf::IfOp::create(rewriter, load.getLoc(),
                                    TypeRange{load.getType()}, first,
                                    /*withElseRegion=*/true);
    rewriter.replaceAllUsesWith(load.getResult(), branch.getResult(0));
    Block *thenBlock = branch.thenBlock();
    rewriter.setInsertionPointToStart(thenBlock);
    for (Value element : load.getElements())
      element.getDefiningOp()->moveBefore(thenBlock, thenBlock->end());
    load->moveBefore(thenBlock, thenBlock->end());
    scf::YieldOp::create(rewriter, load.getLoc(), load.getResult());
    rewriter.setInsertionPointToStart(branch.elseBlock());
    scf::YieldOp::create(rewriter, load.getLoc(), previous);
  }
}

struct DeltaNetGpuCarryAccumulatorsPass
    : public deltanet::impl::DeltaNetGpuCarryAccumulatorsBase<
          DeltaNetGpuCarryAccumulatorsPass> {
  void runOnOperation() override {
    SmallVector<scf::ForOp> loops;
    getOperation()->walk([&](vector::FromElementsOp load) {
      if (markOf(load))
        if (auto loop = dyn_cast<scf::ForOp>(load->getParentOp()))
          if (!llvm::is_contained(loops, loop))
            loops.push_back(loop);
    });
    IRRewriter rewriter(&getContext());
    for (scf::ForOp loop : loops) {
      SmallVector<Carried> fragments = findCarried(loop);
      if (!fragments.empty())
        carry(rewriter, loop, fragments);
    }
    getOperation()->walk([](Operation *op) {
      op->removeAttr(kCarriedAccumulatorAttr);
    });
  }
};

} // namespace
