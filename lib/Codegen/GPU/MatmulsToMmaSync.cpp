//===- MatmulsToMmaSync.cpp - Block matmuls on warp tensor cores ----------===//
//
// Rewrites the f32 matmuls of a thread block (on buffers, inside a
// block-mapped scf.forall) into an scf.forall over the block's warps whose
// bodies run nvgpu.mma.sync (m16n8k8, tf32 operands, f32 accumulators).
//
// Upstream pieces used: nvgpu.mma.sync and its NVVM lowering, the PTX
// fragment layouts (nvgpu::getLaneIdAndValueIdToOperandCoord /
// getMmaSyncRegisterType), warp-mapped scf.forall (mapped later by
// upstream's mapNestedForallToThreadsImpl in deltanet-gpu-map-to-threads).
// What is ours, and why: the warp loop nest. Upstream's
// `transform.nvgpu.rewrite_matmul_as_mma_sync` rewrites only a linalg.matmul
// of exactly one mma shape, so tiled to that shape every k step would load
// and store the accumulator in memory; VectorToGPU's
// convertVectorToNVVMCompatibleMMASync needs the whole warp tile vectorised,
// unrolled to native shapes and its accumulators hoisted into loop-carried
// vectors first, and silently keeps the SIMT code when one op of a chain is
// not in its canonical form. Here each warp keeps a row of accumulator tiles
// in registers across the whole reduction, and any contraction whose
// indexing maps are projected permutations (transposed operands, unit batch
// dims, strided views) is read through its own maps.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Codegen/GPU/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/NVGPU/Utils/MMAUtils.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/WalkPatternRewriteDriver.h"

namespace mlir {
namespace deltanet {
#define GEN_PASS_DEF_DELTANETGPUMATMULSTOMMASYNC
#include "deltanet/Codegen/GPU/Passes.h.inc"
} // namespace deltanet
} // namespace mlir

using namespace mlir;
using namespace mlir::deltanet;

namespace {

/// The mma.sync shape for tf32 operands.
constexpr int64_t kMmaM = 16, kMmaN = 8, kMmaK = 8;

/// Largest divisor of `n` that is at most `cap` (>= 1).
int64_t largestDivisorAtMost(int64_t n, int64_t cap) {
  for (int64_t d = std::min(n, cap); d > 1; --d)
    if (n % d == 0)
      return d;
  return 1;
}

/// How a block's warps split an M x N product: a rowWarps x colWarps grid
/// of warp tiles, each walked in register blocks of groupRows x groupCols
/// 16 x 8 accumulator tiles (kept across the whole K loop).
struct WarpTiling {
  int64_t rowWarps, colWarps, groupRows, groupCols;
};

/// Fragment values a block loads from memory per k step of 8 (tf32: an A
/// fragment is 4 values per lane, a B fragment 2), A's weighted by
/// `aWeight` and B's by `bWeight`: the cost that the `min-loads` tiling
/// minimises. Each warp loads groupRows A and groupCols B fragments per
/// register block.
int64_t fragmentLoadsPerStep(int64_t m, int64_t n, const WarpTiling &t,
                             int64_t aWeight = 1, int64_t bWeight = 1) {
  int64_t blocks = (m / t.rowWarps / (kMmaM * t.groupRows)) *
                   (n / t.colWarps / (kMmaN * t.groupCols));
  return t.rowWarps * t.colWarps * blocks *
         (4 * aWeight * t.groupRows + 2 * bWeight * t.groupCols);
}

/// The original tiling (`warp-tiling=rows`): rows of 16 over warps first,
/// then columns of 8; register blocks of one row of 16.
WarpTiling chooseRowsTiling(int64_t m, int64_t n, int64_t warps,
                            int64_t maxTiles) {
  int64_t rowWarps = largestDivisorAtMost(m / kMmaM, warps);
  int64_t colWarps = largestDivisorAtMost(n / kMmaN, warps / rowWarps);
  return {rowWarps, colWarps, 1,
          largestDivisorAtMost(n / colWarps / kMmaN, maxTiles)};
}

/// `warp-tiling=min-loads`: among the warp grids that keep as many warps
/// busy as the rows tiling and the register blocks of at most `maxTiles`
/// accumulators, the one loading the fewest (weighted) fragment values per
/// k step (ties: the rows tiling, then fewer row warps, then fewer rows per
/// block). A 64 x 128 product on 4 warps: 4 warps of 64 x 32 in blocks of
/// 4 x 4 tiles (or 2 x 2 warps of 32 x 64, blocks of 2 x 8) load 96 values
/// per step instead of 144 (4 warps of 16 x 128, blocks 1 x 16).
/// Shared-memory / L1 traffic, not the tensor cores, bounds these kernels.
WarpTiling chooseMinLoadsTiling(int64_t m, int64_t n, int64_t warps,
                                int64_t maxTiles, int64_t aWeight,
                                int64_t bWeight) {
  WarpTiling best = chooseRowsTiling(m, n, warps, maxTiles);
  int64_t busy = best.rowWarps * best.colWarps;
  int64_t bestCost = fragmentLoadsPerStep(m, n, best, aWeight, bWeight);
  for (int64_t rowWarps = 1; rowWarps <= busy; ++rowWarps) {
    if (busy % rowWarps != 0 || (m / kMmaM) % rowWarps != 0 ||
        (n / kMmaN) % (busy / rowWarps) != 0)
      continue;
    int64_t colWarps = busy / rowWarps;
    int64_t rowTiles = m / rowWarps / kMmaM, colTiles = n / colWarps / kMmaN;
    for (int64_t r = 1; r <= rowTiles; ++r) {
      if (rowTiles % r != 0)
        continue;
      for (int64_t c = 1; c <= colTiles && r * c <= maxTiles; ++c) {
        if (colTiles % c != 0)
          continue;
        WarpTiling candidate{rowWarps, colWarps, r, c};
        int64_t cost =
            fragmentLoadsPerStep(m, n, candidate, aWeight, bWeight);
        if (cost < bestCost) {
          best = candidate;
          bestCost = cost;
        }
      }
    }
  }
  return best;
}

/// One operand of the contraction as the warp reads or writes it.
struct Operand {
  Value memref;
  AffineMap map; // iteration space -> memref indices
  nvgpu::WarpMatrixInfo info;
  /// Iteration dims of the fragment's (row, col).
  int64_t rowDim, colDim;
};

/// The memref indices of value `v` of the lane's fragment of `operand` at
/// iteration point `base` (the tile's origin; the row/col dims offset by the
/// fragment layout `coord`: (lane, value) -> (row, col)).
SmallVector<Value> fragmentIndices(OpBuilder &b, Location loc,
                                   const Operand &operand, AffineMap coord,
                                   ArrayRef<Value> base, Value lane,
                                   int64_t v) {
  SmallVector<Value> point(base);
  for (auto [result, dim] :
       llvm::zip(coord.getResults(),
                 std::array<int64_t, 2>{operand.rowDim, operand.colDim})) {
    AffineExpr d0 = b.getAffineDimExpr(0);
    AffineMap offset =
        AffineMap::get(3, 0, d0 + result.shiftDims(2, 1), b.getContext());
    point[dim] = affine::makeComposedAffineApply(
        b, loc, offset,
        {OpFoldResult(base[dim]), OpFoldResult(lane), b.getIndexAttr(v)});
  }
  SmallVector<Value> indices;
  for (AffineExpr expr : operand.map.getResults())
    indices.push_back(affine::makeComposedAffineApply(
        b, loc, AffineMap::get(operand.map.getNumDims(), 0, expr),
        getAsOpFoldResult(point)));
  return indices;
}

/// The lane's fragment of `operand` at iteration point `base`, as the
/// register vector that nvgpu.mma.sync takes. With `roundToTf32`, each value
/// is rounded to the nearest tf32 (adding half an ulp of tf32 to the bits;
/// the tensor core then ignores the 13 low mantissa bits) instead of being
/// truncated by the hardware: truncation biases every product towards zero.
Value loadFragment(OpBuilder &b, Location loc, const Operand &operand,
                   ArrayRef<Value> base, Value lane, bool roundToTf32) {
  nvgpu::FragmentElementInfo reg =
      *nvgpu::getMmaSyncRegisterType(operand.info);
  AffineMap coord =
      *nvgpu::getLaneIdAndValueIdToOperandCoord(b, loc, operand.info);
  int64_t perRegister = reg.elementsPerRegister;
  auto regType = VectorType::get({reg.numRegistersPerFragment, perRegister},
                                 b.getF32Type());
  SmallVector<Value> elements;
  for (int64_t v = 0; v < reg.numRegistersPerFragment * perRegister; ++v) {
    Value element = memref::LoadOp::create(
        b, loc, operand.memref,
        fragmentIndices(b, loc, operand, coord, base, lane, v));
    if (roundToTf32) {
      Value bits = arith::BitcastOp::create(b, loc, b.getI32Type(), element);
      Value half = arith::ConstantIntOp::create(b, loc, b.getI32Type(), 0x1000);
      element = arith::BitcastOp::create(
          b, loc, b.getF32Type(), arith::AddIOp::create(b, loc, bits, half));
    }
    elements.push_back(element);
  }
  return vector::FromElementsOp::create(b, loc, regType, elements);
}

/// Stores the lane's accumulator fragment of `operand` at `base`.
void storeFragment(OpBuilder &b, Location loc, const Operand &operand,
                   ArrayRef<Value> base, Value lane, Value fragment) {
  nvgpu::FragmentElementInfo reg =
      *nvgpu::getMmaSyncRegisterType(operand.info);
  AffineMap coord =
      *nvgpu::getLaneIdAndValueIdToOperandCoord(b, loc, operand.info);
  int64_t perRegister = reg.elementsPerRegister;
  for (int64_t v = 0; v < reg.numRegistersPerFragment * perRegister; ++v) {
    SmallVector<Value> indices =
        fragmentIndices(b, loc, operand, coord, base, lane, v);
    Value element = vector::ExtractOp::create(
        b, loc, fragment, ArrayRef<int64_t>{v / perRegister, v % perRegister});
    memref::StoreOp::create(b, loc, element, operand.memref, indices);
  }
}

/// True if `value` is a memref in shared (workgroup) memory.
bool inSharedMemory(Value value) {
  auto type = dyn_cast<MemRefType>(value.getType());
  auto space = type ? dyn_cast_or_null<gpu::AddressSpaceAttr>(
                          type.getMemorySpace())
                    : nullptr;
  return space &&
         space.getValue() == gpu::GPUDialect::getWorkgroupAddressSpace();
}

/// The memref that `value` views (through subviews, reshapes and casts).
Value viewBase(Value value) {
  while (Operation *def = value.getDefiningOp()) {
    if (auto view = dyn_cast<ViewLikeOpInterface>(def))
      value = view.getViewSource();
    else if (isa<memref::CollapseShapeOp, memref::ExpandShapeOp,
                 memref::CastOp>(def))
      value = def->getOperand(0);
    else
      break;
  }
  return value;
}

/// True if `value` is a view of a memref.alloc inside `block`: a block
/// temporary that deltanet-gpu-map-to-threads moves to shared memory.
bool isBlockTemporary(Value value, Operation *block) {
  auto alloc = viewBase(value).getDefiningOp<memref::AllocOp>();
  return alloc && block->isProperAncestor(alloc);
}

/// True if `op` may write memory other than a fresh allocation or a buffer
/// whose base differs from `base`.
bool mayWriteTo(Operation *op, Value base) {
  if (isa<memref::AllocOp, memref::SubViewOp, memref::CollapseShapeOp,
          memref::ExpandShapeOp, memref::CastOp>(op) ||
      isPure(op))
    return false;
  if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op))
    return llvm::any_of(linalgOp.getDpsInits(), [&](Value init) {
      return viewBase(init) == base;
    });
  if (auto copy = dyn_cast<memref::CopyOp>(op))
    return viewBase(copy.getTarget()) == base;
  return true; // unknown: assume it may
}

/// The op before `op` in its block that writes `memref` exactly (a linalg op
/// with `memref` as its only init), if no op in between may write `memref`'s
/// base; null otherwise.
linalg::LinalgOp findProducer(Operation *op, Value memref) {
  Value base = viewBase(memref);
  for (Operation *prev = op->getPrevNode(); prev; prev = prev->getPrevNode()) {
    if (auto linalgOp = dyn_cast<linalg::LinalgOp>(prev))
      if (linalgOp.getNumDpsInits() == 1 && linalgOp.getDpsInits()[0] == memref)
        return linalgOp;
    if (mayWriteTo(prev, base))
      return nullptr;
  }
  return nullptr;
}

/// A zero `linalg.fill` of exactly the accumulator `acc` before `op`, with
/// nothing in between that may write `acc`'s buffer: the accumulators can
/// start at zero in registers and the fill (a barrier-separated block phase)
/// is dead, since the warp tiles store every element of `acc`.
linalg::FillOp findZeroFill(Operation *op, Value acc) {
  auto fill = dyn_cast_or_null<linalg::FillOp>(
      findProducer(op, acc).getOperation());
  if (!fill)
    return nullptr;
  if (!matchPattern(fill.getInputs()[0], m_AnyZeroFloat()))
    return nullptr;
  // Nothing in between may read the zeros either.
  Value base = viewBase(acc);
  for (Operation *between = fill->getNextNode(); between != op;
       between = between->getNextNode())
    if (!isa<memref::AllocOp, memref::SubViewOp, memref::CollapseShapeOp,
             memref::ExpandShapeOp, memref::CastOp>(between) &&
        llvm::any_of(between->getOperands(),
                     [&](Value v) { return viewBase(v) == base; }))
      return nullptr;
  return fill;
}

/// A copy of `operand` (a statically shaped memref outside shared memory)
/// in a new shared-memory buffer whose rows are padded by 4 elements when
/// they are a multiple of 32 words (a fragment's 8 rows x 4 columns then
/// fall in distinct banks). The copy is a memref.copy that
/// deltanet-gpu-map-to-threads spreads over the block's threads (16-byte
/// coalesced loads, all in flight at once, then a barrier) instead of each
/// warp waiting on its fragments' scalar global loads one k step at a time.
/// Returns the view of the copy with `operand`'s shape, or null.
Value stageInSharedMemory(OpBuilder &b, Location loc, Value operand,
                          int64_t maxBytes, bool fromProducer) {
  auto type = dyn_cast<MemRefType>(operand.getType());
  if (!type || !type.hasStaticShape() || type.getRank() < 2)
    return nullptr;
  if (auto space =
          dyn_cast_or_null<gpu::AddressSpaceAttr>(type.getMemorySpace()))
    if (space.getValue() == gpu::GPUDialect::getWorkgroupAddressSpace())
      return nullptr;
  int64_t bytes = type.getNumElements() * 4;
  if (bytes > maxBytes)
    return nullptr;
  SmallVector<int64_t> shape(type.getShape());
  if (shape.back() % 32 == 0)
    shape.back() += 4;
  auto workgroup = gpu::AddressSpaceAttr::get(
      b.getContext(), gpu::GPUDialect::getWorkgroupAddressSpace());
  auto allocType = MemRefType::get(shape, type.getElementType(),
                                   MemRefLayoutAttrInterface(), workgroup);
  Value alloc = memref::AllocOp::create(b, loc, allocType);
  int64_t rank = type.getRank();
  SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0));
  SmallVector<OpFoldResult> strides(rank, b.getIndexAttr(1));
  Value view = memref::SubViewOp::create(
      b, loc, alloc, offsets,
      getAsIndexOpFoldResult(b.getContext(), type.getShape()), strides);
  // The operand's producer in this block (v_new = u - w S in the state
  // scan) writes the shared copy directly, and the copy goes the other way
  // (shared -> device memory, right after the producer): the product then
  // reads shared memory instead of waiting on device memory that the block
  // has just written.
  Operation *user = b.getInsertionBlock() &&
                            b.getInsertionPoint() != b.getInsertionBlock()->end()
                        ? &*b.getInsertionPoint()
                        : nullptr;
  if (linalg::LinalgOp producer = user && fromProducer
                                      ? findProducer(user, operand)
                                      : linalg::LinalgOp()) {
    OpOperand &init = *producer.getDpsInitOperand(0);
    if (!producer.payloadUsesValueFromOperand(&init)) {
      // The alloc and its view move before the producer.
      alloc.getDefiningOp()->moveBefore(producer);
      view.getDefiningOp()->moveBefore(producer);
      init.set(view);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointAfter(producer);
      memref::CopyOp::create(b, loc, view, operand);
      return view;
    }
  }
  memref::CopyOp::create(b, loc, operand, view);
  return view;
}

/// An f32 contraction C += A B of a thread block (one M, N and K dim, any
/// unit or static batch dims) -> an scf.forall over warps
/// (#gpu.warp<linear_dim_0>): the M x N output is split into a grid of warp
/// tiles (M over warps first); each warp walks its tile in rows of 16 and
/// groups of at most `maxAccumulatorTiles` 16x8 accumulator tiles, which
/// stay in registers across the K loop (steps of 8: one A fragment, then
/// one B fragment and one mma.sync per accumulator tile).
struct MatmulToWarpMmaSync
    : public OpInterfaceRewritePattern<linalg::LinalgOp> {
  MatmulToWarpMmaSync(MLIRContext *ctx, int64_t warps, int64_t minReduction,
                      int64_t maxAccumulatorTiles, bool roundToTf32,
                      int64_t stageBytes, bool zeroInitAccumulators,
                      bool stageFromProducer, bool minLoadsTiling)
      : OpInterfaceRewritePattern(ctx), warps(warps),
        minReduction(minReduction), maxAccumulatorTiles(maxAccumulatorTiles),
        roundToTf32(roundToTf32), stageBytes(stageBytes),
        zeroInitAccumulators(zeroInitAccumulators),
        stageFromProducer(stageFromProducer), minLoadsTiling(minLoadsTiling) {}

  LogicalResult matchAndRewrite(linalg::LinalgOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureBufferSemantics())
      return rewriter.notifyMatchFailure(op, "not on buffers");
    auto block = op->getParentOfType<scf::ForallOp>();
    if (!block || !isBlockMapped(block))
      return rewriter.notifyMatchFailure(
          op, "not in a block-mapped scf.forall (or already in a warp loop)");
    if (op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
        !linalg::isaContractionOpInterface(op))
      return rewriter.notifyMatchFailure(
          op, "not a two-operand multiply-add contraction");
    for (OpOperand &operand : op->getOpOperands())
      if (getElementTypeOrSelf(operand.get().getType()) !=
          rewriter.getF32Type())
        return rewriter.notifyMatchFailure(
            op, "tf32 mma.sync needs f32 operands and accumulator");
    FailureOr<linalg::ContractionDimensions> dims =
        linalg::inferContractionDims(op);
    if (failed(dims) || dims->m.size() != 1 || dims->n.size() != 1 ||
        dims->k.size() != 1)
      return rewriter.notifyMatchFailure(
          op, "needs exactly one M, one N and one K dimension");
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    if (llvm::any_of(ranges, ShapedType::isDynamic))
      return rewriter.notifyMatchFailure(op, "dynamic loop ranges");
    int64_t mDim = dims->m[0], nDim = dims->n[0], kDim = dims->k[0];
    int64_t m = ranges[mDim], n = ranges[nDim], k = ranges[kDim];
    if (m % kMmaM != 0 || n % kMmaN != 0 || k % kMmaK != 0)
      return rewriter.notifyMatchFailure(
          op, "M, N, K must be multiples of the mma shape 16 x 8 x 8");
    if (k < minReduction)
      return rewriter.notifyMatchFailure(
          op, "reduction shorter than min-reduction (stays SIMT)");
    if (static_cast<int64_t>(dims->batch.size() + 3) != op.getNumLoops())
      return rewriter.notifyMatchFailure(op, "loops outside batch/M/N/K");

    // Which input is (M, K) and which (K, N).
    OpOperand *lhs = op.getDpsInputOperand(0), *rhs = op.getDpsInputOperand(1);
    auto uses = [&](OpOperand *operand, int64_t dim) {
      return op.getMatchingIndexingMap(operand).isFunctionOfDim(dim);
    };
    if (!uses(lhs, mDim))
      std::swap(lhs, rhs);
    if (!uses(lhs, mDim) || !uses(rhs, nDim) || uses(lhs, nDim) ||
        uses(rhs, mDim))
      return rewriter.notifyMatchFailure(op, "operands are not (M,K) x (K,N)");
    OpOperand *acc = op.getDpsInitOperand(0);

    MLIRContext *ctx = rewriter.getContext();
    Type f32 = rewriter.getF32Type();
    Operand a{lhs->get(), op.getMatchingIndexingMap(lhs),
              {VectorType::get({kMmaM, kMmaK}, f32), nvgpu::MatMulOperandRole::A},
              mDim, kDim};
    // B is held as [N, K] (mma.sync's column-major B).
    Operand bOp{rhs->get(), op.getMatchingIndexingMap(rhs),
                {VectorType::get({kMmaN, kMmaK}, f32),
                 nvgpu::MatMulOperandRole::B},
                nDim, kDim};
    Operand c{acc->get(), op.getMatchingIndexingMap(acc),
              {VectorType::get({kMmaM, kMmaN}, f32), nvgpu::MatMulOperandRole::C},
              mDim, nDim};


    Location loc = op.getLoc();
    // C = 0 before the product (a zero fill of exactly C): accumulators
    // start at zero in registers; the fill goes.
    linalg::FillOp zeroFill =
        zeroInitAccumulators ? findZeroFill(op, c.memref) : linalg::FillOp();
    if (zeroFill)
      rewriter.eraseOp(zeroFill);
    rewriter.setInsertionPoint(op);
    if (stageBytes > 0) {
      // Operands in device memory are read by every warp, fragment by
      // fragment: staged in shared memory first (a coalesced block copy).
      Value aSource = a.memref;
      if (!isBlockTemporary(a.memref, block))
        if (Value staged =
                stageInSharedMemory(rewriter, loc, a.memref, stageBytes,
                                    stageFromProducer))
          a.memref = staged;
      if (bOp.memref == aSource)
        bOp.memref = a.memref; // K K^T: one copy
      else if (!isBlockTemporary(bOp.memref, block))
        if (Value staged =
                stageInSharedMemory(rewriter, loc, bOp.memref, stageBytes,
                                    stageFromProducer))
          bOp.memref = staged;
    }
    // Fragment values read from device memory (through L1) count twice:
    // S in the output stage is then read once per block, not per warp.
    auto loadWeight = [&](Value memref) -> int64_t {
      return inSharedMemory(memref) || isBlockTemporary(memref, block) ? 1
                                                                        : 2;
    };
    WarpTiling tiling =
        minLoadsTiling
            ? chooseMinLoadsTiling(m, n, warps, maxAccumulatorTiles,
                                   loadWeight(a.memref), loadWeight(bOp.memref))
            : chooseRowsTiling(m, n, warps, maxAccumulatorTiles);
    int64_t colWarps = tiling.colWarps;
    int64_t warpRows = m / tiling.rowWarps, warpCols = n / colWarps;
    int64_t groupRows = tiling.groupRows, groupTiles = tiling.groupCols;
    // Index constants, created once before the warp loop.
    DenseMap<int64_t, Value> constants;
    OpBuilder constantBuilder(op);
    auto constant = [&](int64_t value) -> Value {
      Value &c = constants[value];
      if (!c)
        c = arith::ConstantIndexOp::create(constantBuilder, loc, value);
      return c;
    };
    Value zero = constant(0);
    auto forall = scf::ForallOp::create(
        rewriter, loc,
        ArrayRef<OpFoldResult>{rewriter.getIndexAttr(tiling.rowWarps * colWarps)},
        ValueRange{},
        rewriter.getArrayAttr(
            {gpu::GPUWarpMappingAttr::get(ctx, gpu::MappingId::LinearDim0)}));
    constantBuilder.setInsertionPoint(forall);
    OpBuilder::InsertionGuard guard(rewriter);
    rewriter.setInsertionPoint(forall.getTerminator());
    Value warp = forall.getInductionVar(0);
    Value lane = gpu::LaneIdOp::create(rewriter, loc, IntegerAttr());
    AffineExpr w = rewriter.getAffineDimExpr(0);
    Value rowBase = affine::makeComposedAffineApply(
        rewriter, loc, w.floorDiv(colWarps) * warpRows, {OpFoldResult(warp)});
    Value colBase = affine::makeComposedAffineApply(
        rewriter, loc, (w % colWarps) * warpCols, {OpFoldResult(warp)});

    // Batch dims: loops (unit ones fold away).
    SmallVector<Value> point(op.getNumLoops(), zero);
    for (unsigned dim : dims->batch) {
      if (ranges[dim] == 1)
        continue;
      auto loop = scf::ForOp::create(rewriter, loc, zero, constant(ranges[dim]),
                                     constant(1));
      rewriter.setInsertionPoint(loop.getBody()->getTerminator());
      point[dim] = loop.getInductionVar();
    }
    auto rows = scf::ForOp::create(rewriter, loc, zero, constant(warpRows),
                                   constant(groupRows * kMmaM));
    rewriter.setInsertionPoint(rows.getBody()->getTerminator());
    Value groupRow = arith::AddIOp::create(rewriter, loc, rowBase,
                                           rows.getInductionVar());
    auto groups = scf::ForOp::create(rewriter, loc, zero, constant(warpCols),
                                     constant(groupTiles * kMmaN));
    rewriter.setInsertionPoint(groups.getBody()->getTerminator());
    Value groupCol = arith::AddIOp::create(rewriter, loc, colBase,
                                           groups.getInductionVar());
    // Row i of 16 and column t of 8 of the register block.
    auto tileRow = [&](OpBuilder &b, int64_t i) -> Value {
      return i == 0 ? groupRow
                    : arith::AddIOp::create(b, loc, groupRow,
                                            constant(i * kMmaM));
    };
    auto tileColumn = [&](OpBuilder &b, int64_t t) -> Value {
      return arith::AddIOp::create(b, loc, groupCol, constant(t * kMmaN));
    };
    SmallVector<Value> accumulators;
    for (int64_t i = 0; i < groupRows; ++i) {
      for (int64_t t = 0; t < groupTiles; ++t) {
        if (zeroFill) {
          auto regType = VectorType::get(
              {nvgpu::getMmaSyncRegisterType(c.info)->numRegistersPerFragment,
               nvgpu::getMmaSyncRegisterType(c.info)->elementsPerRegister},
              f32);
          accumulators.push_back(arith::ConstantOp::create(
              rewriter, loc, regType, rewriter.getZeroAttr(regType)));
          continue;
        }
        SmallVector<Value> at(point);
        at[mDim] = tileRow(rewriter, i);
        at[nDim] = tileColumn(rewriter, t);
        accumulators.push_back(
            loadFragment(rewriter, loc, c, at, lane, /*roundToTf32=*/false));
      }
    }
    auto steps = scf::ForOp::create(
        rewriter, loc, zero, constant(k), constant(kMmaK), accumulators,
        [&](OpBuilder &b, Location bodyLoc, Value kk, ValueRange carried) {
          SmallVector<Value> at(point);
          at[kDim] = kk;
          // The block's A fragments once, then per column its B fragment
          // and one mma.sync per row.
          SmallVector<Value> aFragments;
          for (int64_t i = 0; i < groupRows; ++i) {
            at[mDim] = tileRow(b, i);
            aFragments.push_back(
                loadFragment(b, bodyLoc, a, at, lane, roundToTf32));
          }
          SmallVector<Value> results(carried.begin(), carried.end());
          for (int64_t t = 0; t < groupTiles; ++t) {
            at[nDim] = tileColumn(b, t);
            Value bFragment =
                loadFragment(b, bodyLoc, bOp, at, lane, roundToTf32);
            for (int64_t i = 0; i < groupRows; ++i) {
              int64_t index = i * groupTiles + t;
              results[index] = nvgpu::MmaSyncOp::create(
                  b, bodyLoc, aFragments[i], bFragment, carried[index],
                  ArrayRef<int64_t>{kMmaM, kMmaN, kMmaK},
                  /*tf32Enabled=*/true);
            }
          }
          scf::YieldOp::create(b, bodyLoc, results);
        });
    for (int64_t i = 0; i < groupRows; ++i) {
      for (int64_t t = 0; t < groupTiles; ++t) {
        SmallVector<Value> at(point);
        at[mDim] = tileRow(rewriter, i);
        at[nDim] = tileColumn(rewriter, t);
        storeFragment(rewriter, loc, c, at, lane,
                      steps.getResult(i * groupTiles + t));
      }
    }
    rewriter.eraseOp(op);
    return success();
  }

  int64_t warps, minReduction, maxAccumulatorTiles;
  bool roundToTf32;
  int64_t stageBytes;
  bool zeroInitAccumulators;
  bool stageFromProducer;
  bool minLoadsTiling;
};

struct DeltaNetGpuMatmulsToMmaSyncPass
    : public deltanet::impl::DeltaNetGpuMatmulsToMmaSyncBase<
          DeltaNetGpuMatmulsToMmaSyncPass> {
  using Base::Base;

  void runOnOperation() override {
    if (threads <= 0 || threads % 32 != 0 || threads > 1024) {
      getOperation()->emitError("deltanet-gpu-matmuls-to-mma-sync: threads "
                                "must be a multiple of 32 in [32, 1024], got ")
          << static_cast<int64_t>(threads);
      return signalPassFailure();
    }
    if (warpTiling != "rows" && warpTiling != "min-loads") {
      getOperation()->emitError("deltanet-gpu-matmuls-to-mma-sync: "
                                "warp-tiling must be rows or min-loads, got '")
          << warpTiling << "'";
      return signalPassFailure();
    }
    if (maxAccumulatorTiles < 1) {
      getOperation()->emitError("deltanet-gpu-matmuls-to-mma-sync: "
                                "max-accumulator-tiles must be >= 1, got ")
          << static_cast<int64_t>(maxAccumulatorTiles);
      return signalPassFailure();
    }
    RewritePatternSet patterns(&getContext());
    patterns.add<MatmulToWarpMmaSync>(&getContext(), threads / 32,
                                      minReduction, maxAccumulatorTiles,
                                      roundToTf32, stageOperandBytes,
                                      zeroInitAccumulators,
                                      stageFromProducer,
                                      warpTiling == "min-loads");
    walkAndApplyPatterns(getOperation(), std::move(patterns));
  }
};

} // namespace
