//===- PrefetchGatherRows.cpp - Prefetch the next iteration's gathered rows ===//
//
// Software prefetch of the rows that a loop gathers from a strided input in
// its next iteration, one cache line per inner iteration of its products.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Codegen/CPU/Passes.h"
#include "deltanet/Codegen/Common/BufferSize.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/STLExtras.h"

namespace mlir {
namespace deltanet {
#define GEN_PASS_DEF_DELTANETCPUPREFETCHGATHERROWS
#include "deltanet/Codegen/CPU/Passes.h.inc"
} // namespace deltanet
} // namespace mlir

using namespace mlir;
using namespace mlir::deltanet;

namespace {

/// The source view of a copy (`linalg.copy`, or a `linalg.generic` that only
/// yields its input) from a `memref.subview` with static sizes, else null.
memref::SubViewOp gatheredView(Operation *op) {
  auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
  if (!linalgOp || !linalgOp.hasPureBufferSemantics() ||
      linalgOp.getNumDpsInputs() != 1 || linalgOp.getNumDpsInits() != 1)
    return nullptr;
  if (auto generic = dyn_cast<linalg::GenericOp>(op)) {
    if (generic.getNumParallelLoops() != generic.getNumLoops())
      return nullptr;
    Block &body = generic.getRegion().front();
    auto yield = dyn_cast<linalg::YieldOp>(body.getTerminator());
    if (body.getOperations().size() != 1 || yield.getNumOperands() != 1 ||
        yield.getOperand(0) != body.getArgument(0))
      return nullptr;
  } else if (!isa<linalg::CopyOp>(op)) {
    return nullptr;
  }
  auto view =
      linalgOp.getDpsInputOperand(0)->get().getDefiningOp<memref::SubViewOp>();
  if (!view || !view.getType().hasStaticShape())
    return nullptr;
  return view;
}

/// Whether `cloneForNextIteration` can compute `value` for the next
/// iteration of `loop`: it is defined outside the loop, is the induction
/// variable, or comes from pure, region-free ops of the loop body.
bool isComputableForNextIteration(scf::ForOp loop, Value value) {
  if (value == loop.getInductionVar() || loop.isDefinedOutsideOfLoop(value))
    return true;
  Operation *def = value.getDefiningOp();
  return def && def->getNumRegions() == 0 && isPure(def) &&
         llvm::all_of(def->getOperands(), [&](Value operand) {
           return isComputableForNextIteration(loop, operand);
         });
}

/// `value` as computed for the next iteration of `loop` (its induction
/// variable mapped to `nextIv` in `mapping`): the pure, region-free ops of
/// the loop body it comes from are cloned at the builder's insertion point;
/// values defined outside the loop are used as they are. Requires
/// `isComputableForNextIteration(loop, value)`.
Value cloneForNextIteration(OpBuilder &b, scf::ForOp loop, Value value,
                            IRMapping &mapping) {
  if (Value mapped = mapping.lookupOrNull(value))
    return mapped;
  if (loop.isDefinedOutsideOfLoop(value))
    return value;
  Operation *def = value.getDefiningOp();
  assert(def && def->getNumRegions() == 0 && isPure(def) &&
         "not computable for the next iteration");
  for (Value operand : def->getOperands())
    cloneForNextIteration(b, loop, operand, mapping);
  Operation *clone = b.clone(*def, mapping);
  return clone->getResult(cast<OpResult>(value).getResultNumber());
}

/// Whether `value` is computed from `loop`'s induction variable.
bool dependsOnInductionVar(scf::ForOp loop, Value value) {
  if (value == loop.getInductionVar())
    return true;
  if (loop.isDefinedOutsideOfLoop(value))
    return false;
  Operation *def = value.getDefiningOp();
  return def && llvm::any_of(def->getOperands(), [&](Value operand) {
           return dependsOnInductionVar(loop, operand);
         });
}

/// A loop nest `outer` .. `innermost` with constant bounds whose innermost
/// body holds a vector.contract (a register-tiled product).
struct ProductNest {
  SmallVector<scf::ForOp> loops;
  int64_t iterations = 1;
};

std::optional<ProductNest> productNest(scf::ForOp outer) {
  ProductNest nest;
  scf::ForOp loop = outer;
  while (loop) {
    std::optional<APInt> trips = loop.getStaticTripCount();
    if (!trips || trips->getSExtValue() <= 0)
      return std::nullopt;
    nest.loops.push_back(loop);
    nest.iterations *= trips->getSExtValue();
    Block *body = loop.getBody();
    if (!body->getOps<vector::ContractionOp>().empty())
      return nest;
    auto inner = body->getOps<scf::ForOp>();
    if (std::distance(inner.begin(), inner.end()) != 1)
      return std::nullopt;
    loop = *inner.begin();
  }
  return std::nullopt;
}

/// The rows of a static view in cache lines: every index of the outer dims
/// is a row; a unit-stride innermost dim holds `elementsPerLine` elements
/// per line, any other innermost dim one element per line.
struct LineLayout {
  SmallVector<int64_t> outerSizes;
  int64_t linesPerRow, elementsPerLine, lines;
};

std::optional<LineLayout> lineLayout(MemRefType type, int64_t lineBytes) {
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(type.getStridesAndOffset(strides, offset)) || type.getRank() == 0)
    return std::nullopt;
  unsigned bits = type.getElementTypeBitWidth();
  if (bits == 0 || bits % 8 != 0)
    return std::nullopt;
  LineLayout layout;
  ArrayRef<int64_t> shape = type.getShape();
  layout.outerSizes.assign(shape.begin(), shape.end() - 1);
  int64_t inner = shape.back();
  layout.elementsPerLine =
      strides.back() == 1 ? std::max<int64_t>(1, lineBytes / (bits / 8)) : 1;
  layout.linesPerRow = llvm::divideCeil(inner, layout.elementsPerLine);
  layout.lines = layout.linesPerRow;
  for (int64_t size : layout.outerSizes)
    layout.lines *= size;
  return layout;
}

struct DeltaNetCpuPrefetchGatherRowsPass
    : public deltanet::impl::DeltaNetCpuPrefetchGatherRowsBase<
          DeltaNetCpuPrefetchGatherRowsPass> {
  using Base::Base;

  void runOnOperation() override {
    if (products <= 0)
      return;
    if (locality < 0 || locality > 3 || lineBytes <= 0 ||
        maxLinesPerIteration <= 0) {
      getOperation()->emitError()
          << "deltanet-cpu-prefetch-gather-rows: locality must be 0-3, "
             "line-bytes and max-lines-per-iteration positive (got "
          << static_cast<int64_t>(locality) << ", "
          << static_cast<int64_t>(lineBytes) << ", "
          << static_cast<int64_t>(maxLinesPerIteration) << ")";
      return signalPassFailure();
    }
    SmallVector<scf::ForOp> loops;
    getOperation()->walk([&](scf::ForOp loop) { loops.push_back(loop); });
    for (scf::ForOp loop : loops)
      prefetchNextIteration(loop);
  }

  /// Whether a gathered buffer is small enough to stay in cache across the
  /// iterations (static size below `min-source-bytes`): no prefetch.
  bool staysCached(Type type) const {
    auto memref = dyn_cast<MemRefType>(type);
    std::optional<int64_t> bytes =
        memref ? getStaticBufferBytes(memref) : std::nullopt;
    return bytes && *bytes < minSourceBytes;
  }

  /// Prefetches, inside the `products` largest product nests of `loop`'s
  /// body, the rows that `loop`'s next iteration gathers.
  void prefetchNextIteration(scf::ForOp loop) {
    Block *body = loop.getBody();
    SmallVector<memref::SubViewOp> sources;
    SmallVector<ProductNest> nests;
    for (Operation &op : body->without_terminator()) {
      if (memref::SubViewOp view = gatheredView(&op)) {
        auto outside = [&](Value v) { return loop.isDefinedOutsideOfLoop(v); };
        if (outside(view.getSource()) &&
            llvm::all_of(view.getSizes(), outside) &&
            llvm::all_of(view.getStrides(), outside) &&
            !staysCached(view.getSource().getType()) &&
            llvm::any_of(view.getOffsets(), [&](Value offset) {
              return dependsOnInductionVar(loop, offset);
            }) &&
            !llvm::is_contained(sources, view))
          sources.push_back(view);
      } else if (auto outer = dyn_cast<scf::ForOp>(&op)) {
        if (std::optional<ProductNest> nest = productNest(outer))
          nests.push_back(*nest);
      }
    }
    if (sources.empty() || nests.empty())
      return;
    // The largest products host the prefetches, in program order.
    auto before = [](const ProductNest &a, const ProductNest &b) {
      return a.loops.front()->isBeforeInBlock(b.loops.front());
    };
    llvm::sort(nests, [&](const ProductNest &a, const ProductNest &b) {
      if (a.iterations != b.iterations)
        return a.iterations > b.iterations;
      return before(a, b);
    });
    nests.resize(std::min<size_t>(nests.size(), products));
    llvm::sort(nests, before);

    // Plan first: source i (of those whose layout is known and whose
    // offsets can be computed for the next iteration) goes to nest
    // i mod #nests; a nest too small for its source (more than
    // `max-lines-per-iteration` lines per innermost iteration: a burst of
    // misses) gets none. Only planned prefetches build IR.
    struct PlannedPrefetch {
      memref::SubViewOp view;
      LineLayout layout;
      ProductNest *nest;
    };
    SmallVector<PlannedPrefetch> plan;
    int64_t candidates = 0;
    for (memref::SubViewOp view : sources) {
      std::optional<LineLayout> layout = lineLayout(view.getType(), lineBytes);
      if (!layout || !llvm::all_of(view.getOffsets(), [&](Value offset) {
            return isComputableForNextIteration(loop, offset);
          }))
        continue;
      ProductNest &nest = nests[candidates++ % nests.size()];
      if (static_cast<int64_t>(llvm::divideCeil(layout->lines,
                                                nest.iterations)) >
          maxLinesPerIteration)
        continue;
      plan.push_back({view, *layout, &nest});
    }
    if (plan.empty())
      return;

    // The next iteration's views (the current one's on the last iteration),
    // at the top of the body; each inner iteration of a nest prefetches the
    // next lines of its sources.
    OpBuilder b(loop.getContext());
    b.setInsertionPointToStart(body);
    Location loc = loop.getLoc();
    Value iv = loop.getInductionVar();
    Value next = arith::AddIOp::create(b, loc, iv, loop.getStep());
    Value inRange = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt,
                                          next, loop.getUpperBound());
    Value nextIv = arith::SelectOp::create(b, loc, inRange, next, iv);
    SmallVector<Value> nextViews;
    for (PlannedPrefetch &prefetch : plan) {
      memref::SubViewOp view = prefetch.view;
      IRMapping mapping;
      mapping.map(iv, nextIv);
      SmallVector<Value> offsets;
      for (Value offset : view.getOffsets())
        offsets.push_back(cloneForNextIteration(b, loop, offset, mapping));
      nextViews.push_back(memref::SubViewOp::create(
          b, view.getLoc(), view.getType(), view.getSource(), offsets,
          view.getSizes(), view.getStrides(), view.getStaticOffsets(),
          view.getStaticSizes(), view.getStaticStrides()));
    }
    for (auto [prefetch, nextView] : llvm::zip_equal(plan, nextViews))
      prefetchInNest(*prefetch.nest, nextView, prefetch.layout);
  }

  /// Prefetches the lines of `view` in the deepest loop of `nest` that
  /// runs at most as many iterations as there are lines (before the nest if
  /// even its outermost loop runs more): each iteration prefetches
  /// ceil(lines / iterations) consecutive lines, so no line is fetched twice
  /// and the innermost loop gets no branch.
  void prefetchInNest(ProductNest &nest, Value view,
                      const LineLayout &layout) {
    int64_t depth = 0, iterations = 1;
    for (scf::ForOp loop : nest.loops) {
      int64_t trips = loop.getStaticTripCount()->getSExtValue();
      if (iterations * trips > layout.lines)
        break;
      iterations *= trips;
      ++depth;
    }
    OpBuilder b(view.getContext());
    if (depth == 0)
      b.setInsertionPoint(nest.loops.front());
    else
      b.setInsertionPointToStart(nest.loops[depth - 1].getBody());
    Location loc = nest.loops.front().getLoc();
    auto constant = [&](int64_t v) -> Value {
      return arith::ConstantIndexOp::create(b, loc, v);
    };
    // Linear index of the iteration of the loops 0 .. depth - 1.
    Value iteration = constant(0);
    for (scf::ForOp loop : ArrayRef(nest.loops).take_front(depth)) {
      int64_t trips = loop.getStaticTripCount()->getSExtValue();
      Value local = arith::DivUIOp::create(
          b, loc,
          arith::SubIOp::create(b, loc, loop.getInductionVar(),
                                loop.getLowerBound()),
          loop.getStep());
      iteration = loop == nest.loops.front()
                      ? local
                      : arith::AddIOp::create(
                            b, loc,
                            arith::MulIOp::create(b, loc, iteration,
                                                  constant(trips)),
                            local);
    }
    int64_t perIteration = llvm::divideCeil(layout.lines, iterations);
    Value first =
        arith::MulIOp::create(b, loc, iteration, constant(perIteration));
    for (int64_t j = 0; j < perIteration; ++j) {
      Value line =
          j == 0 ? first : arith::AddIOp::create(b, loc, first, constant(j));
      // The last iteration's surplus repeats the last line.
      if (iterations * perIteration > layout.lines)
        line = arith::MinUIOp::create(b, loc, line, constant(layout.lines - 1));
      // line -> (outer indices, inner element).
      Value row =
          arith::DivUIOp::create(b, loc, line, constant(layout.linesPerRow));
      Value inner = arith::MulIOp::create(
          b, loc,
          arith::RemUIOp::create(b, loc, line, constant(layout.linesPerRow)),
          constant(layout.elementsPerLine));
      SmallVector<Value> indices(layout.outerSizes.size());
      for (int64_t d = layout.outerSizes.size() - 1; d >= 0; --d) {
        int64_t size = layout.outerSizes[d];
        if (size == 1) {
          indices[d] = constant(0);
          continue;
        }
        indices[d] = arith::RemUIOp::create(b, loc, row, constant(size));
        row = arith::DivUIOp::create(b, loc, row, constant(size));
      }
      indices.push_back(inner);
      memref::PrefetchOp::create(b, loc, view, indices, /*isWrite=*/false,
                                 static_cast<uint32_t>(locality),
                                 /*isDataCache=*/true);
    }
  }
};

} // namespace
