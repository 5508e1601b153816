//===- AnnotateVectorAlignment.cpp - Prove alignment of vector accesses ---===//
//
// vector.load / vector.store on shared memory and on the program's own
// device buffers (gpu.alloc) get the byte alignment that their address
// provably has, so that NVPTX emits ld/st.shared/global.v2/v4 instead of
// scalar accesses (LLVM only sees the element alignment, and cannot see through
// the thread-id arithmetic of the tiling). Hand-written: upstream has no
// divisibility analysis for memref addresses.
//
// Accesses to the function's memref arguments (the caller's buffers, whose
// alignment is unknown) are aligned only under `global-alignment`; with
// `check-global-alignment` the launches holding accesses that rely on it are
// versioned on a test of the arguments' addresses made by the host before
// the launch: by default (`versioning=kernel`) as two kernels, the aligned
// one and an element-aligned copy, exactly one of them launched with
// blocks; with `versioning=phase` inside the kernel, each phase (the ops
// between two barriers) holding such accesses as one `scf.if` over its
// aligned form and a scalar copy (phases larger than `max-versioned-ops`
// are split: their nested regions versioned the same way, their own
// accesses one by one).
//
//===----------------------------------------------------------------------===//

#include "deltanet/Codegen/GPU/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SetVector.h"
#include <numeric>

namespace mlir {
namespace deltanet {
#define GEN_PASS_DEF_DELTANETGPUANNOTATEVECTORALIGNMENT
#include "deltanet/Codegen/GPU/Passes.h.inc"
} // namespace deltanet
} // namespace mlir

using namespace mlir;
using namespace mlir::deltanet;

namespace {

/// "Any multiple": the value 0, or an unbounded divisor.
constexpr int64_t kAny = int64_t(1) << 40;

int64_t gcd(int64_t a, int64_t b) { return std::gcd(a, b); }
int64_t mul(int64_t a, int64_t b) {
  return (a >= kAny / std::max<int64_t>(b, 1)) ? kAny : a * b;
}

int64_t multipleOf(Value value, int depth = 0);

int64_t multipleOfExpr(AffineExpr expr, ValueRange dims, ValueRange symbols,
                       int depth) {
  switch (expr.getKind()) {
  case AffineExprKind::Constant: {
    int64_t c = std::abs(cast<AffineConstantExpr>(expr).getValue());
    return c == 0 ? kAny : c;
  }
  case AffineExprKind::DimId:
    return multipleOf(dims[cast<AffineDimExpr>(expr).getPosition()], depth);
  case AffineExprKind::SymbolId:
    return multipleOf(symbols[cast<AffineSymbolExpr>(expr).getPosition()],
                      depth);
  case AffineExprKind::Add: {
    auto bin = cast<AffineBinaryOpExpr>(expr);
    return gcd(multipleOfExpr(bin.getLHS(), dims, symbols, depth),
               multipleOfExpr(bin.getRHS(), dims, symbols, depth));
  }
  case AffineExprKind::Mul: {
    auto bin = cast<AffineBinaryOpExpr>(expr);
    return mul(multipleOfExpr(bin.getLHS(), dims, symbols, depth),
               multipleOfExpr(bin.getRHS(), dims, symbols, depth));
  }
  case AffineExprKind::Mod: {
    // a mod c = a - c * floor(a / c): a multiple of gcd(a's, c).
    auto bin = cast<AffineBinaryOpExpr>(expr);
    return gcd(multipleOfExpr(bin.getLHS(), dims, symbols, depth),
               multipleOfExpr(bin.getRHS(), dims, symbols, depth));
  }
  default:
    return 1;
  }
}

/// A positive number that provably divides `value` (kAny for zero).
int64_t multipleOf(Value value, int depth) {
  if (depth > 24)
    return 1;
  ++depth;
  APInt constant;
  if (matchPattern(value, m_ConstantInt(&constant))) {
    int64_t c = std::abs(constant.getSExtValue());
    return c == 0 ? kAny : c;
  }
  Operation *def = value.getDefiningOp();
  if (!def)
    return 1;
  if (isa<arith::AddIOp, arith::SubIOp, arith::SelectOp>(def)) {
    unsigned first = isa<arith::SelectOp>(def) ? 1 : 0;
    return gcd(multipleOf(def->getOperand(first), depth),
               multipleOf(def->getOperand(first + 1), depth));
  }
  if (isa<arith::MulIOp>(def))
    return mul(multipleOf(def->getOperand(0), depth),
               multipleOf(def->getOperand(1), depth));
  if (isa<arith::IndexCastOp, arith::IndexCastUIOp>(def))
    return multipleOf(def->getOperand(0), depth);
  if (auto apply = dyn_cast<affine::AffineApplyOp>(def)) {
    AffineMap map = apply.getAffineMap();
    return multipleOfExpr(map.getResult(0),
                          apply.getMapOperands().take_front(map.getNumDims()),
                          apply.getMapOperands().drop_front(map.getNumDims()),
                          depth);
  }
  return 1;
}

/// Multiple (in bytes) of the address of element 0 of `memref`, if it
/// lives in shared memory carved out of the dynamic shared memory (16-byte
/// aligned) or in a device buffer that the program allocates itself
/// (gpu.alloc: the driver's allocations are at least 256-byte aligned; 16
/// assumed) or, with `globalAlignment`, in one of the function's memref
/// arguments (identity layout: the caller promises that alignment); 0 if
/// unknown (e.g. the entry point's arguments without the promise, which
/// may be views at any element offset).
/// `root`, if given, is set to the function argument whose promised
/// alignment the result relies on.
int64_t baseBytes(Value memref, int64_t globalAlignment,
                  BlockArgument *root = nullptr, int depth = 0) {
  if (depth > 16)
    return 0;
  auto type = dyn_cast<MemRefType>(memref.getType());
  if (!type)
    return 0;
  // A memref argument of the function (a device buffer, identity layout:
  // offset 0) is aligned as the caller promises.
  if (auto arg = dyn_cast<BlockArgument>(memref)) {
    if (globalAlignment <= 0 || !type.getLayout().isIdentity() ||
        !isa<FunctionOpInterface>(arg.getOwner()->getParentOp()))
      return 0;
    if (root)
      *root = arg;
    return globalAlignment;
  }
  int64_t elementBytes = type.getElementTypeBitWidth() / 8;
  Operation *def = memref.getDefiningOp();
  if (!def)
    return 0;
  // memref.alloc: a host-level one becomes a gpu.alloc, a block's one
  // shared memory (deltanet-gpu-prefetch-loop-operands asks before both).
  if (isa<gpu::AllocOp, memref::AllocOp>(def))
    return 16;
  if (!gpu::GPUDialect::hasWorkgroupMemoryAddressSpace(type))
    if (!isa<memref::SubViewOp, memref::CollapseShapeOp, memref::ExpandShapeOp,
             memref::CastOp>(def))
      return 0;
  if (auto view = dyn_cast<memref::ViewOp>(def)) {
    if (!isa_and_nonnull<gpu::DynamicSharedMemoryOp>(
            view.getSource().getDefiningOp()))
      return 0;
    return gcd(16, multipleOf(view.getByteShift()));
  }
  if (auto subview = dyn_cast<memref::SubViewOp>(def)) {
    int64_t source =
        baseBytes(subview.getSource(), globalAlignment, root, depth + 1);
    if (!source)
      return 0;
    SmallVector<int64_t> strides;
    int64_t offset;
    if (failed(subview.getSourceType().getStridesAndOffset(strides, offset)))
      return 0;
    int64_t elements = kAny;
    for (auto [value, stride] :
         llvm::zip(subview.getMixedOffsets(), strides)) {
      if (ShapedType::isDynamic(stride))
        return 0;
      int64_t m = kAny;
      if (auto attr = dyn_cast<Attribute>(value)) {
        int64_t c = std::abs(cast<IntegerAttr>(attr).getInt());
        m = c == 0 ? kAny : c;
      } else {
        m = multipleOf(cast<Value>(value));
      }
      elements = gcd(elements, mul(m, stride == 0 ? kAny : stride));
    }
    return gcd(source, mul(elements, elementBytes));
  }
  if (isa<memref::CollapseShapeOp, memref::ExpandShapeOp, memref::CastOp>(
          def))
    return baseBytes(def->getOperand(0), globalAlignment, root, depth + 1);
  return 0;
}

/// The provable alignment (a power of two, in bytes) of a 1-D vector access
/// of `vectorType` at `indices` of `memref`; 0 if nothing beyond the element.
int64_t accessAlignment(Value memref, ValueRange indices,
                        VectorType vectorType, int64_t globalAlignment,
                        BlockArgument *root = nullptr) {
  auto type = cast<MemRefType>(memref.getType());
  int64_t base = baseBytes(memref, globalAlignment, root);
  if (!base)
    return 0;
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(type.getStridesAndOffset(strides, offset)))
    return 0;
  int64_t elementBytes = type.getElementTypeBitWidth() / 8;
  int64_t elements = kAny;
  for (auto [index, stride] : llvm::zip(indices, strides)) {
    if (ShapedType::isDynamic(stride))
      return 0;
    elements = gcd(elements, mul(multipleOf(index), stride == 0 ? kAny : stride));
  }
  int64_t bytes = gcd(base, mul(elements, elementBytes));
  int64_t vectorBytes = vectorType.getNumElements() * elementBytes;
  int64_t alignment = 1;
  while (alignment * 2 <= vectorBytes && bytes % (alignment * 2) == 0)
    alignment *= 2;
  return alignment > elementBytes ? alignment : 0;
}

/// The base and indices of a vector.load / vector.store; null base otherwise.
std::tuple<Value, ValueRange, VectorType> vectorAccess(Operation *op) {
  if (auto load = dyn_cast<vector::LoadOp>(op))
    return {load.getBase(), load.getIndices(), load.getVectorType()};
  if (auto store = dyn_cast<vector::StoreOp>(op))
    return {store.getBase(), store.getIndices(), store.getVectorType()};
  return {Value(), ValueRange(), VectorType()};
}

/// The provable alignment of `op` if it is a vector.load / vector.store
/// (`accessAlignment` of its base and indices); 0 otherwise.
int64_t vectorAccessAlignment(Operation *op, int64_t globalAlignment) {
  auto [base, indices, vectorType] = vectorAccess(op);
  return base ? accessAlignment(base, indices, vectorType, globalAlignment)
              : 0;
}

/// The vector accesses of `launch` that would rely on the promised
/// alignment of a function argument (a larger alignment than without it),
/// and those arguments.
struct AlignmentDependencies {
  SmallVector<Operation *> accesses;
  SmallVector<BlockArgument> arguments;
};
AlignmentDependencies alignmentDependencies(gpu::LaunchOp launch,
                                            int64_t globalAlignment) {
  AlignmentDependencies deps;
  llvm::SetVector<BlockArgument> roots;
  launch.walk([&](Operation *op) {
    auto [base, indices, vectorType] = vectorAccess(op);
    // 1-D accesses only (what deltanet-gpu-lower-vectors leaves): their
    // fallback is one scalar access per element along the last dimension.
    if (!base || vectorType.getRank() != 1)
      return;
    BlockArgument root;
    int64_t promised =
        accessAlignment(base, indices, vectorType, globalAlignment, &root);
    if (root && promised > accessAlignment(base, indices, vectorType, 0)) {
      deps.accesses.push_back(op);
      roots.insert(root);
    }
  });
  deps.arguments = roots.takeVector();
  return deps;
}

/// `(address & (alignment - 1)) == 0` for every one of `arguments`,
/// computed on the host before `launch`.
Value isAligned(gpu::LaunchOp launch, ArrayRef<BlockArgument> arguments,
                int64_t alignment) {
  OpBuilder b(launch);
  Location loc = launch.getLoc();
  Value mask = arith::ConstantIndexOp::create(b, loc, alignment - 1);
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value aligned;
  for (BlockArgument argument : arguments) {
    Value address =
        memref::ExtractAlignedPointerAsIndexOp::create(b, loc, argument);
    Value low = arith::AndIOp::create(b, loc, address, mask);
    Value ok =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, low, zero);
    aligned = aligned ? arith::AndIOp::create(b, loc, aligned, ok) : ok;
  }
  return aligned;
}

/// The element-aligned form of a 1-D vector access: one scalar
/// memref.load / memref.store per element (a vector access with the
/// element's alignment would be merged by LLVM with the aligned one of the
/// other branch, keeping the smaller alignment).
Value emitScalarAccess(OpBuilder &b, Location loc, Operation *access) {
  auto [base, indices, vectorType] = vectorAccess(access);
  SmallVector<Value> at(indices.begin(), indices.end());
  Value last = at.back();
  SmallVector<Value> elements;
  for (int64_t i = 0, e = vectorType.getNumElements(); i < e; ++i) {
    at.back() = i == 0 ? last
                       : arith::AddIOp::create(
                             b, loc, last,
                             arith::ConstantIndexOp::create(b, loc, i));
    if (auto store = dyn_cast<vector::StoreOp>(access)) {
      Value element = vector::ExtractOp::create(
          b, loc, store.getValueToStore(), ArrayRef<int64_t>{i});
      memref::StoreOp::create(b, loc, element, base, at);
    } else {
      elements.push_back(memref::LoadOp::create(b, loc, base, at));
    }
  }
  if (isa<vector::LoadOp>(access))
    return vector::FromElementsOp::create(b, loc, vectorType, elements);
  return Value();
}

/// Versions one access on `aligned` (uniform over the grid): `scf.if
/// aligned { the vector access with `promised` alignment } else { scalar
/// accesses }`: for accesses in phases too large to copy (a copy of the
/// whole tri_inv kernel under one branch made LLVM keep values live across
/// both: 168 instead of 72 registers per thread, measured on an H200).
void versionAccess(Operation *access, Value aligned, int64_t promised) {
  OpBuilder b(access);
  Location loc = access->getLoc();
  auto ifOp = scf::IfOp::create(b, loc, access->getResultTypes(), aligned,
                                /*withElseRegion=*/true);
  // Aligned: the access itself, moved.
  Block *thenBlock = ifOp.thenBlock();
  if (thenBlock->mightHaveTerminator())
    access->moveBefore(thenBlock->getTerminator());
  else
    access->moveBefore(thenBlock, thenBlock->end());
  access->setAttr("alignment", b.getI64IntegerAttr(promised));
  if (access->getNumResults()) {
    OpBuilder end = OpBuilder::atBlockEnd(thenBlock);
    scf::YieldOp::create(end, loc, access->getResults());
  }
  Block *elseBlock = ifOp.elseBlock();
  OpBuilder inner = elseBlock->mightHaveTerminator()
                        ? OpBuilder(elseBlock->getTerminator())
                        : OpBuilder::atBlockEnd(elseBlock);
  if (Value loaded = emitScalarAccess(inner, loc, access))
    scf::YieldOp::create(inner, loc, loaded);
  for (auto [from, to] : llvm::zip(access->getResults(), ifOp->getResults()))
    from.replaceUsesWithIf(to, [&](OpOperand &use) {
      return use.getOwner()->getBlock() != thenBlock;
    });
}
/// The ops of a block between two barriers (or its ends): one phase of the
/// block's threads.
using Phase = SmallVector<Operation *>;

SmallVector<Phase> phasesOf(Block &block) {
  SmallVector<Phase> phases(1);
  for (Operation &op : block.without_terminator()) {
    if (isa<gpu::BarrierOp>(op)) {
      phases.emplace_back();
      continue;
    }
    phases.back().push_back(&op);
  }
  return phases;
}

/// Versions the accesses of one kernel (those in `accesses`) on `aligned`,
/// each phase as a whole where it has at most `maxOps` ops.
class PhaseVersioning {
public:
  PhaseVersioning(const llvm::DenseSet<Operation *> &accesses,
                  Value aligned, int64_t globalAlignment, int64_t maxOps)
      : accesses(accesses), aligned(aligned), globalAlignment(globalAlignment),
        maxOps(maxOps) {}

  /// Versions the accesses in `block` (and its nested regions).
  void versionBlock(Block &block) {
    for (Phase &phase : phasesOf(block)) {
      int64_t ops = 0, found = 0;
      for (Operation *op : phase)
        op->walk([&](Operation *nested) {
          ++ops;
          found += accesses.contains(nested);
        });
      if (!found)
        continue;
      if (ops <= maxOps) {
        versionPhase(withoutAddressing(phase));
        continue;
      }
      // Too large to copy: each access in it on its own, or the phases of
      // the regions that hold them.
      for (Operation *op : phase) {
        if (accesses.contains(op)) {
          versionAccess(op, aligned, promisedAlignment(op));
          continue;
        }
        for (Region &region : op->getRegions())
          for (Block &nested : region)
            versionBlock(nested);
      }
    }
  }

private:
  int64_t promisedAlignment(Operation *access) const {
    return vectorAccessAlignment(access, globalAlignment);
  }

  /// The ops of `phase` that stay in front of its versions: side-effect
  /// free ops without regions computing from values outside (indices,
  /// subviews, thread ids). Both versions use them, and later phases still
  /// see how their addresses are computed (an scf.if result would hide the
  /// alignment from the analysis).
  Phase withoutAddressing(ArrayRef<Operation *> phase) {
    llvm::SmallPtrSet<Operation *, 32> versioned;
    Phase rest;
    for (Operation *op : phase) {
      bool stays = op->getNumRegions() == 0 && isMemoryEffectFree(op) &&
                   llvm::none_of(op->getOperands(), [&](Value operand) {
                     return versioned.contains(operand.getDefiningOp());
                   });
      if (!stays) {
        versioned.insert(op);
        rest.push_back(op);
      } else if (!rest.empty()) {
        // In front of the versions (its operands are all there).
        op->moveBefore(rest.front());
      }
    }
    return rest;
  }

  /// `scf.if aligned { phase, its accesses with their promised alignment }
  /// else { a copy with scalar accesses }`, yielding the phase's values
  /// used after it.
  void versionPhase(ArrayRef<Operation *> phase) {
    Block *block = phase.front()->getBlock();
    // The promised alignments, from the addresses as they are now.
    DenseMap<Operation *, int64_t> promised;
    for (Operation *op : phase)
      op->walk([&](Operation *nested) {
        if (accesses.contains(nested))
          promised[nested] = promisedAlignment(nested);
      });
    llvm::SmallPtrSet<Operation *, 32> inPhase(phase.begin(), phase.end());
    SmallVector<Value> escaping;
    for (Operation *op : phase)
      for (Value result : op->getResults())
        if (llvm::any_of(result.getUsers(), [&](Operation *user) {
              return !inPhase.contains(block->findAncestorOpInBlock(*user));
            }))
          escaping.push_back(result);

    OpBuilder b(phase.front());
    Location loc = phase.front()->getLoc();
    auto ifOp = scf::IfOp::create(b, loc, ValueRange(escaping).getTypes(),
                                  aligned, /*withElseRegion=*/true);
    // Aligned: the phase itself, moved.
    Block *thenBlock = ifOp.thenBlock();
    Block *elseBlock = ifOp.elseBlock();
    if (thenBlock->mightHaveTerminator())
      thenBlock->getTerminator()->erase();
    if (elseBlock->mightHaveTerminator())
      elseBlock->getTerminator()->erase();
    for (Operation *op : phase)
      op->moveBefore(thenBlock, thenBlock->end());
    // Element-aligned: a copy, its versioned accesses scalar.
    IRMapping mapping;
    OpBuilder inner = OpBuilder::atBlockEnd(elseBlock);
    for (Operation *op : phase)
      inner.clone(*op, mapping);
    SmallVector<Operation *> copies;
    for (Operation *op : phase)
      op->walk([&](Operation *nested) {
        if (accesses.contains(nested))
          copies.push_back(mapping.lookupOrNull(nested));
      });
    for (Operation *copy : copies) {
      assert(copy && "clone maps every nested op");
      OpBuilder at(copy);
      if (Value loaded = emitScalarAccess(at, copy->getLoc(), copy))
        copy->getResult(0).replaceAllUsesWith(loaded);
      copy->erase();
    }
    SmallVector<Value> elseValues;
    for (Value value : escaping)
      elseValues.push_back(mapping.lookup(value));
    OpBuilder thenEnd = OpBuilder::atBlockEnd(thenBlock);
    scf::YieldOp::create(thenEnd, loc, escaping);
    OpBuilder elseEnd = OpBuilder::atBlockEnd(elseBlock);
    scf::YieldOp::create(elseEnd, loc, elseValues);
    for (auto [from, to] : llvm::zip(escaping, ifOp->getResults()))
      from.replaceUsesWithIf(to, [&](OpOperand &use) {
        return !ifOp->isProperAncestor(use.getOwner());
      });
    for (auto [access, alignment] : promised)
      access->setAttr("alignment", b.getI64IntegerAttr(alignment));
  }

  const llvm::DenseSet<Operation *> &accesses;
  Value aligned;
  int64_t globalAlignment;
  int64_t maxOps;
};

/// Two launches of the kernel on the host: the launch with `accesses` at
/// their promised alignment, with `aligned ? grid : 0` blocks along x, and a
/// copy of it with `aligned ? 0 : grid` blocks, whose accesses get only the
/// alignment provable without the promise (as with global-alignment=0).
/// Each kernel is compiled on its own; exactly one of them has blocks (an
/// empty grid launches nothing: the runtime skips it). Not `scf.if` over
/// the two launches: gpu-async-region synchronises the host at the end of
/// each branch, once per versioned launch.
void versionLaunch(gpu::LaunchOp launch, Value aligned,
                   ArrayRef<Operation *> accesses, int64_t globalAlignment) {
  assert(launch->getNumResults() == 0 && "runs before gpu-async-region");
  SmallVector<int64_t> promised;
  for (Operation *access : accesses)
    promised.push_back(vectorAccessAlignment(access, globalAlignment));
  OpBuilder b(launch);
  Location loc = launch.getLoc();
  b.setInsertionPointAfter(launch);
  auto copy = cast<gpu::LaunchOp>(b.clone(*launch));
  b.setInsertionPoint(launch);
  Value blocks = launch.getGridSizeX();
  Value none = arith::ConstantIndexOp::create(b, loc, 0);
  launch.getGridSizeXMutable().assign(
      arith::SelectOp::create(b, loc, aligned, blocks, none));
  copy.getGridSizeXMutable().assign(
      arith::SelectOp::create(b, loc, aligned, none, blocks));
  for (auto [access, alignment] : llvm::zip(accesses, promised))
    access->setAttr("alignment", b.getI64IntegerAttr(alignment));
}
} // namespace

int64_t mlir::deltanet::provableAlignment(Value memref,
                                          int64_t globalAlignment) {
  return baseBytes(memref, globalAlignment);
}

namespace {

struct DeltaNetGpuAnnotateVectorAlignmentPass
    : public deltanet::impl::DeltaNetGpuAnnotateVectorAlignmentBase<
          DeltaNetGpuAnnotateVectorAlignmentPass> {
  using Base::Base;

  void runOnOperation() override {
    if (globalAlignment < 0 ||
        (globalAlignment > 0 && !llvm::isPowerOf2_64(globalAlignment))) {
      emitError(getOperation()->getLoc())
          << "deltanet-gpu-annotate-vector-alignment: global-alignment must "
             "be 0 or a power of two, got "
          << static_cast<int64_t>(globalAlignment);
      return signalPassFailure();
    }
    if (versioning != "kernel" && versioning != "phase") {
      emitError(getOperation()->getLoc())
          << "deltanet-gpu-annotate-vector-alignment: versioning must be "
             "kernel or phase, got '"
          << versioning << "'";
      return signalPassFailure();
    }
    if (maxVersionedOps < 0) {
      emitError(getOperation()->getLoc())
          << "deltanet-gpu-annotate-vector-alignment: max-versioned-ops must "
             "be >= 0, got "
          << static_cast<int64_t>(maxVersionedOps);
      return signalPassFailure();
    }
    // Accesses that would rely on the arguments' alignment: an aligned and
    // an element-aligned version of their kernels or phases, chosen at run
    // time.
    llvm::DenseSet<Operation *> versioned;
    if (globalAlignment > 0 && checkGlobalAlignment) {
      SmallVector<gpu::LaunchOp> launches;
      getOperation()->walk(
          [&](gpu::LaunchOp launch) { launches.push_back(launch); });
      for (gpu::LaunchOp launch : launches) {
        AlignmentDependencies deps =
            alignmentDependencies(launch, globalAlignment);
        if (deps.accesses.empty())
          continue;
        Value aligned = isAligned(launch, deps.arguments, globalAlignment);
        versioned.insert(deps.accesses.begin(), deps.accesses.end());
        if (versioning == "kernel") {
          versionLaunch(launch, aligned, deps.accesses, globalAlignment);
          continue;
        }
        llvm::DenseSet<Operation *> accesses(deps.accesses.begin(),
                                             deps.accesses.end());
        PhaseVersioning(accesses, aligned, globalAlignment, maxVersionedOps)
            .versionBlock(launch.getBody().front());
      }
    }
    // Every other access; the arguments' alignment is assumed only when
    // promised without a check.
    int64_t assumed = checkGlobalAlignment ? 0 : globalAlignment;
    Builder b(&getContext());
    getOperation()->walk([&](Operation *op) {
      if (versioned.contains(op))
        return;
      if (int64_t a = vectorAccessAlignment(op, assumed))
        op->setAttr("alignment", b.getI64IntegerAttr(a));
    });
  }
};

} // namespace
