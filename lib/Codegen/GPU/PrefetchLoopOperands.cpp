//===- PrefetchLoopOperands.cpp - cp.async prefetch of a block loop's operands ===//
//
// A sequential scf.for inside a thread block (the state scan's chunk loop)
// reads, every iteration, views of device buffers that depend only on the
// induction variable (the chunk's w, k, u, g): their loads do not depend on
// anything the loop computes, yet each is waited for in a barrier-separated
// phase of its own. This pass stages each such view in shared memory with
// asynchronous copies (upstream `nvgpu.device_async_copy`, 16 bytes each,
// cp.async.cg) issued one iteration ahead: the copy for iteration i + 1 is
// issued right after the last op of iteration i that reads the buffer, the
// one for the first iteration before the loop, and one
// `cp.async.wait_group 0` (NVVM; it takes no token, which could not cross
// the thread loops) before the first reader of each iteration waits for
// them. Views that already had a staging copy (the tensor-core operands of
// deltanet-gpu-matmuls-to-mma-sync) keep their buffer (hoisted out of the
// loop); views read by linalg ops get a new row-padded buffer.
//
// Hand-written: upstream's pipelining (scf::pipelineForLoop,
// nvgpu::createAsyncGroups, memref::multiBuffer) works on loops whose body
// is one stage of copies then compute; here the copies overlap the other
// phases of the same loop body (single buffered, the buffer's last reader
// is known), and the copies are issued by the block's threads before the
// thread mapping exists.
//
// deltanet-gpu-drop-barriers-after-async-copies (after the thread mapping)
// erases the barrier that the mapping puts after each issuing thread loop:
// cp.async writes are invisible until the wait, and the barrier before it
// already orders the readers of the previous iteration.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Codegen/GPU/Passes.h"

#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/MapVector.h"

namespace mlir {
namespace deltanet {
#define GEN_PASS_DEF_DELTANETGPUPREFETCHLOOPOPERANDS
#define GEN_PASS_DEF_DELTANETGPUDROPBARRIERSAFTERASYNCCOPIES
#include "deltanet/Codegen/GPU/Passes.h.inc"
} // namespace deltanet
} // namespace mlir

using namespace mlir;
using namespace mlir::deltanet;

namespace {


/// A per-iteration view of a device buffer and the shared buffer it is
/// staged in.
struct Prefetch {
  memref::SubViewOp view;
  Value buffer;
  int64_t pieceBytes;
  Operation *lastReader = nullptr;
};

/// The root allocation or argument under views of `value`.
Value viewRoot(Value value) {
  while (Operation *def = value.getDefiningOp()) {
    if (!isa<memref::SubViewOp, memref::CollapseShapeOp, memref::ExpandShapeOp,
             memref::CastOp>(def))
      break;
    value = def->getOperand(0);
  }
  return value;
}

/// The largest piece (16, 8 or 4 bytes) in which `view` can be copied with
/// cp.async into shared memory, 0 if none: device memory outside the block,
/// static shape, unit innermost stride, rows, strides and the provable
/// alignment of the view in whole pieces.
int64_t copyPieceBytes(memref::SubViewOp view, scf::ForallOp block,
                       int64_t globalAlignment) {
  MemRefType type = view.getType();
  if (gpu::GPUDialect::hasWorkgroupMemoryAddressSpace(type))
    return 0; // already in shared memory
  Value root = viewRoot(view.getResult());
  if (Operation *def = root.getDefiningOp())
    if (block->isAncestor(def))
      return 0; // a buffer of the block (shared memory after the mapping)
  if (!type.hasStaticShape() || type.getRank() == 0)
    return 0;
  int64_t elementBits = type.getElementTypeBitWidth();
  if (elementBits % 8 != 0 || elementBits > 32 || 32 % elementBits != 0)
    return 0;
  int64_t elementBytes = elementBits / 8;
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(type.getStridesAndOffset(strides, offset)) ||
      strides.back() != 1)
    return 0;
  int64_t alignment = provableAlignment(view.getResult(), globalAlignment);
  for (int64_t piece : {int64_t(16), int64_t(8), int64_t(4)}) {
    bool fits = alignment != 0 && alignment % piece == 0 &&
                (type.getShape().back() * elementBytes) % piece == 0;
    for (int64_t stride : ArrayRef<int64_t>(strides).drop_back())
      fits &= !ShapedType::isDynamic(stride) &&
              (stride * elementBytes) % piece == 0;
    if (fits)
      return piece;
  }
  return 0;
}

/// True if a linalg op reads `operand` with its innermost dimension indexed
/// by another loop than the op's innermost one (a transposed read: the
/// threads' runs of 4 walk the operand's columns).
bool readsTransposed(OpOperand &operand) {
  auto linalgOp = dyn_cast<linalg::LinalgOp>(operand.getOwner());
  if (!linalgOp)
    return false;
  AffineMap map = linalgOp.getMatchingIndexingMap(&operand);
  if (map.getNumResults() == 0)
    return false;
  auto last = dyn_cast<AffineDimExpr>(map.getResults().back());
  return !last || last.getPosition() != map.getNumDims() - 1;
}

/// True if an op of `loop` (at any depth) other than `except` may write
/// the buffer under `value` (through any view of its root): a copy issued
/// an iteration early would then read stale data, or be overwritten.
bool writtenInLoop(scf::ForOp loop, Value value, Operation *except) {
  Value root = viewRoot(value);
  WalkResult walk = loop.getBody()->walk([&](Operation *op) {
    if (op == except)
      return WalkResult::advance();
    for (Value operand : op->getOperands()) {
      if (!isa<MemRefType>(operand.getType()) || viewRoot(operand) != root)
        continue;
      auto effects = dyn_cast<MemoryEffectOpInterface>(op);
      if (!effects) {
        if (op->hasTrait<OpTrait::HasRecursiveMemoryEffects>() ||
            isa<ViewLikeOpInterface>(op))
          continue;
        return WalkResult::interrupt(); // unknown effects
      }
      if (hasEffect<MemoryEffects::Write>(op, operand))
        return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return walk.wasInterrupted();
}

/// Views `value` of `loop`'s body and the top-level ops of the body that
/// use them (through views).
SmallVector<Operation *> topLevelUsers(scf::ForOp loop, Value value) {
  SmallVector<Operation *> users;
  SmallVector<Value> worklist{value};
  Block *body = loop.getBody();
  while (!worklist.empty()) {
    Value v = worklist.pop_back_val();
    for (Operation *user : v.getUsers()) {
      if (Operation *top = body->findAncestorOpInBlock(*user))
        users.push_back(top);
      if (isa<ViewLikeOpInterface, memref::CollapseShapeOp,
              memref::ExpandShapeOp, memref::CastOp>(user))
        worklist.append(user->result_begin(), user->result_end());
    }
  }
  return users;
}

/// Moves the (operand-free or hoistable) definition of `value` out of `loop`.
LogicalResult hoist(scf::ForOp loop, Value value) {
  Operation *def = value.getDefiningOp();
  if (!def || !loop->isAncestor(def))
    return success();
  if (def->getNumRegions() != 0 || (!isPure(def) && !isa<memref::AllocOp>(def)))
    return failure();
  for (Value operand : def->getOperands())
    if (failed(hoist(loop, operand)))
      return failure();
  def->moveBefore(loop);
  return success();
}

/// Emits, for thread `tid` of `threads`, async copies of `source` into
/// `target` (same shape) in pieces of `pieceBytes`: piece `tid + r *
/// threads` for every round r, the last round guarded when the pieces do
/// not divide evenly; one group per guarded region.
void emitCopies(OpBuilder &b, Location loc, Value source, Value target,
                Value tid, int64_t threads, int64_t pieceBytes) {
  auto type = cast<MemRefType>(source.getType());
  MLIRContext *ctx = b.getContext();
  int64_t elementBytes = type.getElementTypeBitWidth() / 8;
  int64_t perPiece = pieceBytes / elementBytes;
  ArrayRef<int64_t> shape = type.getShape();
  int64_t piecesPerRow = shape.back() / perPiece;
  int64_t pieces = piecesPerRow;
  for (int64_t d : shape.drop_back())
    pieces *= d;
  auto tokenType = nvgpu::DeviceAsyncTokenType::get(ctx);
  AffineExpr d0 = getAffineDimExpr(0, ctx);
  auto copyPiece = [&](OpBuilder &nb, Value linear) -> Value {
    // Row-major delinearisation of the piece index.
    SmallVector<Value> indices(shape.size());
    AffineExpr rest = d0.floorDiv(piecesPerRow);
    indices.back() = affine::AffineApplyOp::create(
        nb, loc, AffineMap::get(1, 0, (d0 % piecesPerRow) * perPiece),
        ValueRange{linear});
    for (int64_t i = static_cast<int64_t>(shape.size()) - 2; i >= 0; --i) {
      indices[i] = affine::AffineApplyOp::create(
          nb, loc, AffineMap::get(1, 0, rest % shape[i]), ValueRange{linear});
      rest = rest.floorDiv(shape[i]);
    }
    return nvgpu::DeviceAsyncCopyOp::create(
        nb, loc, tokenType, target, indices, source, indices,
        nb.getIndexAttr(perPiece), /*srcElements=*/Value(),
        /*bypassL1=*/pieceBytes == 16 ? nb.getUnitAttr() : UnitAttr());
  };
  SmallVector<Value> tokens;
  int64_t rounds = llvm::divideCeil(pieces, threads);
  for (int64_t r = 0; r < rounds; ++r) {
    Value linear = affine::AffineApplyOp::create(
        b, loc, AffineMap::get(1, 0, d0 + r * threads), ValueRange{tid});
    if ((r + 1) * threads <= pieces) {
      tokens.push_back(copyPiece(b, linear));
      continue;
    }
    Value inRange = arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::ult, linear,
        arith::ConstantIndexOp::create(b, loc, pieces));
    scf::IfOp::create(b, loc, inRange, [&](OpBuilder &nb, Location) {
      Value token = copyPiece(nb, linear);
      nvgpu::DeviceAsyncCreateGroupOp::create(nb, loc, tokenType,
                                              ValueRange{token});
      scf::YieldOp::create(nb, loc);
    });
  }
  if (!tokens.empty())
    nvgpu::DeviceAsyncCreateGroupOp::create(b, loc, tokenType, tokens);
}

/// A thread loop of the block (`threads` threads) whose body is built by
/// `body(builder, threadId)`.
void emitThreadLoop(OpBuilder &b, Location loc, int64_t threads,
                    function_ref<void(OpBuilder &, Value)> body) {
  MLIRContext *ctx = b.getContext();
  auto forall = scf::ForallOp::create(
      b, loc, ArrayRef<OpFoldResult>{b.getIndexAttr(threads)}, ValueRange{},
      b.getArrayAttr(
          {gpu::GPUThreadMappingAttr::get(ctx, gpu::MappingId::LinearDim0)}));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(forall.getTerminator());
  body(b, forall.getInductionVar(0));
}

struct DeltaNetGpuPrefetchLoopOperandsPass
    : public deltanet::impl::DeltaNetGpuPrefetchLoopOperandsBase<
          DeltaNetGpuPrefetchLoopOperandsPass> {
  using Base::Base;

  void runOnOperation() override {
    if (threads <= 0 || threads % 32 != 0 || maxBytes < 0 || rowPadding < 0 ||
        transposedPadding < -1) {
      emitError(getOperation()->getLoc())
          << "deltanet-gpu-prefetch-loop-operands: threads must be a "
             "positive multiple of 32, max-bytes and row-padding >= 0, "
             "transposed-padding >= -1";
      return signalPassFailure();
    }
    if (failed(verifyBlockThreads(getOperation())))
      return signalPassFailure();
    SmallVector<scf::ForOp> loops;
    getOperation()->walk([&](scf::ForOp loop) {
      auto block = dyn_cast<scf::ForallOp>(loop->getParentOp());
      if (block && isBlockMapped(block))
        loops.push_back(loop);
    });
    for (scf::ForOp loop : loops)
      if (failed(prefetch(loop)))
        return signalPassFailure();
  }

  /// The views of `loop` to prefetch, their buffers created or hoisted.
  LogicalResult prefetch(scf::ForOp loop) {
    auto block = cast<scf::ForallOp>(loop->getParentOp());
    Value iv = loop.getInductionVar();
    Location loc = loop.getLoc();
    OpBuilder b(loop);
    SmallVector<Prefetch> prefetches;
    int64_t newBytes = 0;
    // The candidates first: taking one erases its staging copy and
    // rewrites its nested views, which may be the ops that follow it.
    SmallVector<memref::SubViewOp> views;
    for (Operation &op : *loop.getBody())
      if (auto view = dyn_cast<memref::SubViewOp>(&op))
        if (loop.isDefinedOutsideOfLoop(view.getSource()))
          views.push_back(view);
    for (memref::SubViewOp view : views) {
      bool usesIv = false, invariantOtherwise = true;
      for (Value operand : view.getOffsets()) {
        usesIv |= operand == iv;
        invariantOtherwise &=
            operand == iv || loop.isDefinedOutsideOfLoop(operand);
      }
      if (!usesIv || !invariantOtherwise || !view.getSizes().empty() ||
          !view.getStrides().empty())
        continue;
      int64_t pieceBytes = copyPieceBytes(view, block, globalAlignment);
      if (!pieceBytes)
        continue;
      // Readers: one staging copy into shared memory, linalg inputs, scalar
      // loads (an operand of an elementwise op folded into a tensor-core
      // product's fragment loads, deltanet-gpu-matmuls-to-mma-sync), and
      // views of the view read by those.
      memref::CopyOp staging;
      bool onlyReads = true, transposed = false;
      auto isLinalgInput = [](OpOperand &use) {
        if (isa<memref::LoadOp>(use.getOwner()))
          return true;
        auto linalgOp = dyn_cast<linalg::LinalgOp>(use.getOwner());
        return linalgOp && linalgOp.isDpsInput(&use);
      };
      for (OpOperand &use : view->getUses()) {
        auto copy = dyn_cast<memref::CopyOp>(use.getOwner());
        if (copy && copy.getSource() == view.getResult() && !staging &&
            isa<MemRefType>(copy.getTarget().getType()) &&
            gpu::GPUDialect::hasWorkgroupMemoryAddressSpace(
                cast<MemRefType>(copy.getTarget().getType())) &&
            copy->getBlock() == loop.getBody()) {
          staging = copy;
          continue;
        }
        if (isLinalgInput(use)) {
          transposed |= readsTransposed(use);
          continue;
        }
        auto subview = dyn_cast<memref::SubViewOp>(use.getOwner());
        if (subview && llvm::all_of(subview->getUses(), isLinalgInput))
          continue;
        onlyReads = false;
      }
      // Nothing else in the loop may write the source (read an iteration
      // early) or the staging buffer (filled an iteration early).
      if (!onlyReads || writtenInLoop(loop, view.getSource(), nullptr) ||
          (staging && writtenInLoop(loop, staging.getTarget(), staging)))
        continue;
      Value buffer;
      if (staging) {
        // The staging buffer (deltanet-gpu-matmuls-to-mma-sync's: rows
        // padded to whole 16 bytes) takes the pieces its layout allows.
        auto targetType = cast<MemRefType>(staging.getTarget().getType());
        SmallVector<int64_t> strides;
        int64_t offset;
        if (failed(targetType.getStridesAndOffset(strides, offset)))
          continue;
        int64_t elementBytes = targetType.getElementTypeBitWidth() / 8;
        while (pieceBytes >= 4 &&
               llvm::any_of(ArrayRef<int64_t>(strides).drop_back(),
                            [&](int64_t stride) {
                              return ShapedType::isDynamic(stride) ||
                                     (stride * elementBytes) % pieceBytes != 0;
                            }))
          pieceBytes /= 2;
        if (pieceBytes < 4 || failed(hoist(loop, staging.getTarget())))
          continue;
        buffer = staging.getTarget();
        staging.erase();
      } else {
        MemRefType type = view.getType();
        int64_t bytes =
            type.getNumElements() * type.getElementTypeBitWidth() / 8;
        if (newBytes + bytes > maxBytes)
          continue;
        newBytes += bytes;
        // Rows padded like deltanet-gpu-promote-block-temporaries' tiles,
        // or by `transposed-padding` when a reader walks the columns (a
        // row stride of 1 mod 32 words: no bank conflicts between the
        // threads' rows; copied in smaller pieces then).
        SmallVector<int64_t> shape(type.getShape());
        int64_t elementBytes = type.getElementTypeBitWidth() / 8;
        int64_t padding =
            transposed && transposedPadding >= 0 ? transposedPadding
                                                 : rowPadding;
        bool pad = shape.size() >= 2 && padding > 0;
        if (pad) {
          shape.back() += padding;
          while (pieceBytes >= 4 &&
                 (shape.back() * elementBytes) % pieceBytes != 0)
            pieceBytes /= 2;
          if (pieceBytes < 4 || pieceBytes < elementBytes)
            continue;
        }
        auto workgroup = gpu::AddressSpaceAttr::get(
            b.getContext(), gpu::GPUDialect::getWorkgroupAddressSpace());
        auto allocType = MemRefType::get(shape, type.getElementType(),
                                         MemRefLayoutAttrInterface(),
                                         workgroup);
        buffer = memref::AllocOp::create(b, loc, allocType);
        if (pad) {
          SmallVector<OpFoldResult> zeros(shape.size(), b.getIndexAttr(0)),
              ones(shape.size(), b.getIndexAttr(1)), sizes;
          for (int64_t d : type.getShape())
            sizes.push_back(b.getIndexAttr(d));
          buffer = memref::SubViewOp::create(b, loc, buffer, zeros, sizes,
                                             ones);
        }
      }
      // The readers read the buffer.
      for (OpOperand &use : llvm::make_early_inc_range(view->getUses())) {
        if (auto subview = dyn_cast<memref::SubViewOp>(use.getOwner())) {
          OpBuilder sb(subview);
          auto resultType = memref::SubViewOp::inferRankReducedResultType(
              subview.getType().getShape(),
              cast<MemRefType>(buffer.getType()),
              subview.getMixedOffsets(), subview.getMixedSizes(),
              subview.getMixedStrides());
          auto replacement = memref::SubViewOp::create(
              sb, subview.getLoc(), cast<MemRefType>(resultType), buffer,
              subview.getMixedOffsets(), subview.getMixedSizes(),
              subview.getMixedStrides());
          subview.replaceAllUsesWith(replacement.getResult());
          subview.erase();
          continue;
        }
        use.set(buffer);
      }
      prefetches.push_back({view, buffer, pieceBytes});
    }
    if (prefetches.empty())
      return success();

    // Positions of the readers: the wait goes before the first reader of
    // any buffer, each buffer's next copy after its last reader.
    Operation *firstReader = nullptr;
    for (Prefetch &p : prefetches) {
      for (Operation *user : topLevelUsers(loop, p.buffer)) {
        if (!firstReader || user->isBeforeInBlock(firstReader))
          firstReader = user;
        if (!p.lastReader || p.lastReader->isBeforeInBlock(user))
          p.lastReader = user;
      }
      if (!p.lastReader)
        return loop.emitError("deltanet-gpu-prefetch-loop-operands: a "
                              "prefetched buffer has no reader in the loop");
    }

    // The view at another iteration.
    auto viewAt = [&](OpBuilder &nb, Prefetch &p, Value at) -> Value {
      IRMapping mapping;
      mapping.map(iv, at);
      return nb.clone(*p.view, mapping)->getResult(0);
    };
    // The block's own thread count (deltanet.block_threads) or the option's.
    int64_t threadCount = *getBlockThreads(block, threads);
    // Before the loop: the first iteration's copies.
    {
      OpBuilder pb(loop);
      emitThreadLoop(pb, loc, threadCount, [&](OpBuilder &nb, Value tid) {
        Value any = arith::CmpIOp::create(nb, loc, arith::CmpIPredicate::slt,
                                          loop.getLowerBound(),
                                          loop.getUpperBound());
        scf::IfOp::create(nb, loc, any, [&](OpBuilder &ib, Location) {
          for (Prefetch &p : prefetches)
            emitCopies(ib, loc, viewAt(ib, p, loop.getLowerBound()), p.buffer,
                       tid, threadCount, p.pieceBytes);
          scf::YieldOp::create(ib, loc);
        });
      });
    }
    // In the loop: wait before the first reader.
    {
      OpBuilder wb(firstReader);
      emitThreadLoop(wb, loc, threadCount, [&](OpBuilder &nb, Value) {
        NVVM::CpAsyncWaitGroupOp::create(nb, loc, 0);
      });
    }
    // After each buffer's last reader: the next iteration's copies (one
    // thread loop per reader).
    llvm::MapVector<Operation *, SmallVector<Prefetch *>> byReader;
    for (Prefetch &p : prefetches)
      byReader[p.lastReader].push_back(&p);
    for (auto &entry : byReader) {
      SmallVector<Prefetch *> &group = entry.second;
      OpBuilder ab(entry.first->getContext());
      ab.setInsertionPointAfter(entry.first);
      emitThreadLoop(ab, loc, threadCount, [&](OpBuilder &nb, Value tid) {
        Value next = arith::AddIOp::create(nb, loc, iv, loop.getStep());
        Value more = arith::CmpIOp::create(nb, loc, arith::CmpIPredicate::slt,
                                           next, loop.getUpperBound());
        scf::IfOp::create(nb, loc, more, [&](OpBuilder &ib, Location) {
          for (Prefetch *p : group)
            emitCopies(ib, loc, viewAt(ib, *p, next), p->buffer, tid,
                       threadCount, p->pieceBytes);
          scf::YieldOp::create(ib, loc);
        });
      });
    }
    for (Prefetch &p : prefetches)
      if (p.view->use_empty())
        p.view.erase();
    return success();
  }
};

/// True if `op` only issues async copies (and computes their addresses).
bool onlyIssuesAsyncCopies(Operation *op) {
  bool issues = false, other = false;
  op->walk([&](Operation *nested) {
    if (nested == op)
      return;
    if (isa<nvgpu::DeviceAsyncCopyOp>(nested))
      issues = true;
    else if (!isa<nvgpu::DeviceAsyncCreateGroupOp, scf::YieldOp, scf::IfOp,
                  memref::SubViewOp, affine::AffineApplyOp>(nested) &&
             !(isPure(nested) && nested->getNumRegions() == 0))
      other = true;
  });
  return issues && !other;
}

struct DeltaNetGpuDropBarriersAfterAsyncCopiesPass
    : public deltanet::impl::DeltaNetGpuDropBarriersAfterAsyncCopiesBase<
          DeltaNetGpuDropBarriersAfterAsyncCopiesPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<gpu::BarrierOp> barriers;
    getOperation()->walk([&](gpu::BarrierOp barrier) {
      auto issue = dyn_cast_or_null<scf::IfOp>(barrier->getPrevNode());
      if (issue && onlyIssuesAsyncCopies(issue))
        barriers.push_back(barrier);
    });
    for (gpu::BarrierOp barrier : barriers)
      barrier.erase();
  }
};

} // namespace
