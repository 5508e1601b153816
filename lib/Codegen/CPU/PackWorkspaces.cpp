//===- PackWorkspaces.cpp - One allocation for a block's own buffers ------===//
//
// Replaces the static-shape memref.alloc ops that a block allocates and
// frees itself by memref.view ops of one i8 buffer (one malloc / free and
// one live base pointer per block, e.g. per head for the hoisted chunk-loop
// workspaces).
//
//===----------------------------------------------------------------------===//

#include "deltanet/Codegen/CPU/Passes.h"
#include "deltanet/Codegen/Common/BufferSize.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/Support/MathExtras.h"

namespace mlir {
namespace deltanet {
#define GEN_PASS_DEF_DELTANETCPUPACKWORKSPACES
#include "deltanet/Codegen/CPU/Passes.h.inc"
} // namespace deltanet
} // namespace mlir

using namespace mlir;
using namespace mlir::deltanet;

namespace {

/// A buffer that its block allocates and frees itself.
struct Workspace {
  memref::AllocOp alloc;
  memref::DeallocOp dealloc;
  int64_t bytes;
  int64_t alignment;
};

/// `alloc` as a packing candidate: static shape, identity layout, byte-sized
/// elements, at most `maxBytes`, and one user that frees it, in its block.
/// Any other use (views, loads, calls, a loop's init) is fine: the buffer
/// only lives longer, in the packed buffer, until that block frees it.
std::optional<Workspace> asWorkspace(memref::AllocOp alloc, int64_t alignment,
                                     int64_t maxBytes) {
  MemRefType type = alloc.getType();
  std::optional<int64_t> bytes = getStaticBufferBytes(type);
  if (!bytes || !type.getLayout().isIdentity() || type.getMemorySpace() ||
      type.getElementTypeBitWidth() % 8 != 0 ||
      alloc.getSymbolOperands().size() || *bytes == 0 || *bytes > maxBytes)
    return std::nullopt;
  memref::DeallocOp dealloc;
  for (Operation *user : alloc->getUsers()) {
    auto free = dyn_cast<memref::DeallocOp>(user);
    if (!free)
      continue;
    // Freed twice or in another block (a conditional release): not ours.
    if (dealloc || free->getBlock() != alloc->getBlock())
      return std::nullopt;
    dealloc = free;
  }
  if (!dealloc)
    return std::nullopt;
  int64_t align = std::max<int64_t>(alignment, alloc.getAlignment().value_or(1));
  return Workspace{alloc, dealloc, *bytes, align};
}

/// Packs the workspaces of `block` into one i8 buffer.
void packBlock(RewriterBase &rewriter, Block &block, int64_t alignment,
                  int64_t maxBytes, int64_t stagger) {
  SmallVector<Workspace> workspaces;
  for (auto alloc : block.getOps<memref::AllocOp>())
    if (std::optional<Workspace> w = asWorkspace(alloc, alignment, maxBytes))
      workspaces.push_back(*w);
  if (workspaces.size() < 2)
    return;

  // Offsets in allocation order, `stagger` bytes between two views (the
  // 32 KiB / 16 KiB workspaces back to back all start at the same offset
  // modulo 4 KiB: the same L1 sets and 4K aliasing between a product's
  // operands, measured 8% slower); the buffer aligned like its strictest
  // view.
  SmallVector<int64_t> offsets;
  int64_t total = 0, bufferAlignment = alignment;
  for (const Workspace &w : workspaces) {
    total = llvm::alignTo(offsets.empty() ? 0 : total + stagger, w.alignment);
    offsets.push_back(total);
    total += w.bytes;
    bufferAlignment = std::max(bufferAlignment, w.alignment);
  }
  Operation *lastFree = workspaces.front().dealloc;
  for (const Workspace &w : workspaces)
    if (lastFree->isBeforeInBlock(w.dealloc))
      lastFree = w.dealloc;

  Location loc = workspaces.front().alloc.getLoc();
  rewriter.setInsertionPoint(workspaces.front().alloc);
  auto bufferType = MemRefType::get({total}, rewriter.getI8Type());
  Value buffer = memref::AllocOp::create(
      rewriter, loc, bufferType, ValueRange{},
      rewriter.getI64IntegerAttr(bufferAlignment));
  // Freed where the last of the workspaces was.
  rewriter.setInsertionPointAfter(lastFree);
  memref::DeallocOp::create(rewriter, lastFree->getLoc(), buffer);
  for (auto [w, offset] : llvm::zip_equal(workspaces, offsets)) {
    rewriter.setInsertionPoint(w.alloc);
    Value byteShift =
        arith::ConstantIndexOp::create(rewriter, w.alloc.getLoc(), offset);
    Value view = memref::ViewOp::create(rewriter, w.alloc.getLoc(),
                                        w.alloc.getType(), buffer, byteShift,
                                        ValueRange{});
    rewriter.eraseOp(w.dealloc);
    rewriter.replaceOp(w.alloc, view);
  }
}

struct DeltaNetCpuPackWorkspacesPass
    : public deltanet::impl::DeltaNetCpuPackWorkspacesBase<
          DeltaNetCpuPackWorkspacesPass> {
  using Base::Base;

  void runOnOperation() override {
    if (alignment < 1 || !llvm::isPowerOf2_64(alignment) || maxBytes < 1 ||
        stagger < 0) {
      getOperation()->emitError("deltanet-cpu-pack-workspaces: alignment "
                                "must be a power of two, max-bytes >= 1 and "
                                "stagger >= 0, got alignment = ")
          << static_cast<int64_t>(alignment)
          << ", max-bytes = " << static_cast<int64_t>(maxBytes)
          << ", stagger = " << static_cast<int64_t>(stagger);
      return signalPassFailure();
    }
    SmallVector<Block *> blocks;
    getOperation()->walk([&](Block *block) { blocks.push_back(block); });
    IRRewriter rewriter(&getContext());
    for (Block *block : blocks)
      packBlock(rewriter, *block, alignment, maxBytes, stagger);
  }
};

} // namespace
