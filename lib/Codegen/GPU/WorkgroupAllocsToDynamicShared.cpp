//===- WorkgroupAllocsToDynamicShared.cpp - Pack shared memory of a launch ===//
//
// Workgroup memref.alloc inside gpu.launch -> views of one dynamic shared
// memory buffer, with byte reuse between allocations whose lifetimes do not
// overlap and are separated by a barrier. Hand-written: upstream lowers such allocs to malloc, and its
// workgroup attributions are static shared memory (48 KiB at most in PTX).
//
//===----------------------------------------------------------------------===//

#include "deltanet/Codegen/GPU/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir {
namespace deltanet {
#define GEN_PASS_DEF_DELTANETGPUWORKGROUPALLOCSTODYNAMICSHARED
#include "deltanet/Codegen/GPU/Passes.h.inc"
} // namespace deltanet
} // namespace mlir

using namespace mlir;
using namespace mlir::deltanet;

namespace {

struct Allocation {
  memref::AllocOp op;
  int64_t bytes;
  int64_t first, last; // positions in the launch body of the live range
  int64_t offset = -1;
};

/// Position in `body` of the top-level op that contains `op`.
int64_t positionIn(Block &body, Operation *op,
                   const DenseMap<Operation *, int64_t> &positions) {
  Operation *top = body.findAncestorOpInBlock(*op);
  return top ? positions.lookup(top) : 0;
}

/// Last position at which `value` or a view of it is used.
int64_t lastUse(Block &body, Value value,
                const DenseMap<Operation *, int64_t> &positions) {
  int64_t last = 0;
  SmallVector<Value> worklist{value};
  while (!worklist.empty()) {
    Value v = worklist.pop_back_val();
    for (Operation *user : v.getUsers()) {
      last = std::max(last, positionIn(body, user, positions));
      if (isa<ViewLikeOpInterface>(user) ||
          isa<memref::CollapseShapeOp, memref::ExpandShapeOp,
              memref::CastOp>(user))
        for (Value result : user->getResults())
          worklist.push_back(result);
    }
  }
  return last;
}

LogicalResult packLaunch(gpu::LaunchOp launch, bool reuse) {
  Block &body = launch.getBody().front();
  DenseMap<Operation *, int64_t> positions;
  SmallVector<int64_t> barriers;
  int64_t index = 0;
  for (Operation &op : body) {
    if (isa<gpu::BarrierOp>(op))
      barriers.push_back(index);
    positions[&op] = index++;
  }
  // `later` may take `earlier`'s bytes only if a barrier of the block
  // orders all of earlier's accesses before later's: the positions alone do
  // not (gpu-eliminate-barriers, which runs before this packing while the
  // allocations are still distinct, erases the barriers between accesses
  // to different allocations; sharing bytes across such a gap made the
  // attention's o wrong with threads=256 on the H200).
  auto ordered = [&](const Allocation &earlier, const Allocation &later) {
    if (later.first <= earlier.last)
      return false;
    auto next = llvm::upper_bound(barriers, earlier.last);
    return next != barriers.end() && *next < later.first;
  };

  SmallVector<Allocation> allocations;
  WalkResult walk = launch.getBody().walk([&](memref::AllocOp alloc) {
    auto type = alloc.getType();
    if (!gpu::GPUDialect::hasWorkgroupMemoryAddressSpace(type))
      return WalkResult::advance();
    if (!type.hasStaticShape() || !type.getLayout().isIdentity()) {
      alloc.emitOpError("workgroup allocation needs a static shape and an "
                        "identity layout");
      return WalkResult::interrupt();
    }
    int64_t bytes =
        type.getNumElements() * type.getElementTypeBitWidth() / 8;
    int64_t first = positionIn(body, alloc, positions);
    allocations.push_back(
        {alloc, bytes, first, lastUse(body, alloc.getResult(), positions)});
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();
  if (allocations.empty())
    return success();

  // Each allocation in turn at the lowest 16-byte aligned offset that is
  // free over its live range; returns the total bytes (offsets set).
  auto place = [&](ArrayRef<Allocation *> order) {
    int64_t total = 0;
    SmallVector<Allocation *> placed;
    for (Allocation *a : order) {
      SmallVector<std::pair<int64_t, int64_t>> busy;
      for (Allocation *p : placed)
        if (!reuse || !(ordered(*p, *a) || ordered(*a, *p)))
          busy.push_back({p->offset, p->offset + p->bytes});
      llvm::sort(busy);
      int64_t offset = 0;
      for (auto [begin, end] : busy) {
        if (offset + a->bytes <= begin)
          break;
        offset = std::max<int64_t>(offset, llvm::alignTo(end, 16));
      }
      a->offset = offset;
      total = std::max(total, offset + a->bytes);
      placed.push_back(a);
    }
    return total;
  };
  // Largest first (ties: program order). The greedy placement depends on
  // the order: with reuse, a few bytes more per 16-bit tile (rows padded to
  // 16 bytes for ldmatrix) reordered the bf16 chunk prologue's tiles and
  // grew it from 61200 to 80144 bytes (3 -> 2 blocks per SM). In a launch
  // with 16-bit tiles, two more orders are tried (ties of size: the latest
  // first; the longest-lived first) and kept only when strictly smaller
  // (the prologue: 68880 bytes). Launches of f32 tiles keep the size order:
  // their packing, and the f32 builds' PTX, are unchanged.
  SmallVector<Allocation *> order;
  for (Allocation &a : allocations)
    order.push_back(&a);
  llvm::stable_sort(order, [](Allocation *a, Allocation *b) {
    return a->bytes > b->bytes;
  });
  SmallVector<SmallVector<Allocation *>> alternatives(2, order);
  llvm::stable_sort(alternatives[0], [](Allocation *a, Allocation *b) {
    return a->bytes > b->bytes || (a->bytes == b->bytes && a->first > b->first);
  });
  llvm::stable_sort(alternatives[1], [](Allocation *a, Allocation *b) {
    int64_t la = a->last - a->first, lb = b->last - b->first;
    return la > lb || (la == lb && a->bytes > b->bytes);
  });
  SmallVector<Allocation *> *best = &order;
  int64_t total = place(order);
  bool narrowTiles = llvm::any_of(allocations, [](Allocation &a) {
    return a.op.getType().getElementTypeBitWidth() == 16;
  });
  if (reuse && narrowTiles) {
    for (SmallVector<Allocation *> &alternative : alternatives)
      if (int64_t bytes = place(alternative); bytes < total) {
        total = bytes;
        best = &alternative;
      }
    place(*best); // the offsets of the best order, not of the last tried
  }

  IRRewriter rewriter(launch.getContext());
  Location loc = launch.getLoc();
  rewriter.setInsertionPointToStart(&body);
  auto workgroup = gpu::AddressSpaceAttr::get(
      launch.getContext(), gpu::GPUDialect::getWorkgroupAddressSpace());
  auto bytesType = MemRefType::get({ShapedType::kDynamic},
                                   rewriter.getI8Type(), nullptr, workgroup);
  Value base = gpu::DynamicSharedMemoryOp::create(rewriter, loc, bytesType);
  for (Allocation &a : allocations) {
    rewriter.setInsertionPoint(a.op);
    Value offset = arith::ConstantIndexOp::create(rewriter, loc, a.offset);
    Value view = memref::ViewOp::create(rewriter, a.op.getLoc(), a.op.getType(),
                                        base, offset, ValueRange{});
    for (Operation *user : llvm::make_early_inc_range(a.op->getUsers()))
      if (isa<memref::DeallocOp>(user))
        rewriter.eraseOp(user);
    rewriter.replaceOp(a.op, view);
  }
  rewriter.setInsertionPoint(launch);
  Value size = arith::ConstantIntOp::create(rewriter, loc, total, 32);
  launch.getDynamicSharedMemorySizeMutable().assign(size);
  return success();
}

struct DeltaNetGpuWorkgroupAllocsToDynamicSharedPass
    : public deltanet::impl::DeltaNetGpuWorkgroupAllocsToDynamicSharedBase<
          DeltaNetGpuWorkgroupAllocsToDynamicSharedPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<gpu::LaunchOp> launches;
    getOperation()->walk([&](gpu::LaunchOp op) { launches.push_back(op); });
    for (gpu::LaunchOp launch : launches)
      if (failed(packLaunch(launch, reuse)))
        return signalPassFailure();
  }
};

} // namespace
