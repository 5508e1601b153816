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
#include "mlir/IR/IRMapping.h"
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

/// The value that the elementwise in-place `producer` (one init, indexed by
/// the identity) writes at `indices` of its init, given the init's old
/// value `element` there: its inputs loaded at their maps' images of
/// `indices`, its payload cloned.
Value applyInPlaceProducer(OpBuilder &b, Location loc,
                           linalg::GenericOp producer, ArrayRef<Value> indices,
                           Value element) {
  IRMapping mapping;
  Block *body = producer.getBody();
  for (OpOperand *input : producer.getDpsInputOperands()) {
    AffineMap map = producer.getMatchingIndexingMap(input);
    SmallVector<Value> at;
    for (AffineExpr expr : map.getResults())
      at.push_back(affine::makeComposedAffineApply(
          b, loc, AffineMap::get(map.getNumDims(), 0, expr),
          getAsOpFoldResult(indices)));
    mapping.map(body->getArgument(input->getOperandNumber()),
                memref::LoadOp::create(b, loc, input->get(), at));
  }
  mapping.map(body->getArgument(producer.getNumDpsInputs()), element);
  for (Operation &op : body->without_terminator())
    b.clone(op, mapping);
  return mapping.lookup(body->getTerminator()->getOperand(0));
}

/// The lane's fragment of `operand` at iteration point `base`, as the
/// register vector that nvgpu.mma.sync takes. With `roundToTf32`, each value
/// is rounded to the nearest tf32 (adding half an ulp of tf32 to the bits;
/// the tensor core then ignores the 13 low mantissa bits) instead of being
/// truncated by the hardware: truncation biases every product towards zero.
Value loadFragment(OpBuilder &b, Location loc, const Operand &operand,
                   ArrayRef<Value> base, Value lane, bool roundToTf32,
                   linalg::GenericOp producer = nullptr) {
  nvgpu::FragmentElementInfo reg =
      *nvgpu::getMmaSyncRegisterType(operand.info);
  AffineMap coord =
      *nvgpu::getLaneIdAndValueIdToOperandCoord(b, loc, operand.info);
  int64_t perRegister = reg.elementsPerRegister;
  auto regType = VectorType::get({reg.numRegistersPerFragment, perRegister},
                                 b.getF32Type());
  SmallVector<Value> elements;
  for (int64_t v = 0; v < reg.numRegistersPerFragment * perRegister; ++v) {
    SmallVector<Value> indices =
        fragmentIndices(b, loc, operand, coord, base, lane, v);
    Value element = memref::LoadOp::create(b, loc, operand.memref, indices);
    if (producer)
      element = applyInPlaceProducer(b, loc, producer, indices, element);
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

/// An elementwise linalg.generic right before `op` that updates exactly the
/// accumulator `acc` in place (its only init, indexed by the identity, its
/// old value read by the payload; inputs read through projected
/// permutations, no index ops), with nothing in between that may read or
/// write `acc`'s buffer: the product's warp tiles load every element of
/// `acc` once and store it back, so the update can be applied to the
/// fragments in registers (the state scan's decay `S *= exp(g_last)`).
linalg::GenericOp findInPlaceAccumulatorProducer(Operation *op, Value acc) {
  auto producer = dyn_cast_or_null<linalg::GenericOp>(
      findProducer(op, acc).getOperation());
  if (!producer || producer.getNumResults() != 0 ||
      producer.getNumReductionLoops() != 0 ||
      !producer.getMatchingIndexingMap(producer.getDpsInitOperand(0))
           .isIdentity() ||
      !producer.payloadUsesValueFromOperand(producer.getDpsInitOperand(0)) ||
      producer.hasIndexSemantics())
    return nullptr;
  for (OpOperand *input : producer.getDpsInputOperands())
    if (!isa<MemRefType>(input->get().getType()) ||
        !producer.getMatchingIndexingMap(input).isProjectedPermutation())
      return nullptr;
  if (llvm::any_of(producer.getBody()->without_terminator(), [](Operation &op) {
        return !isPure(&op) || op.getNumRegions() != 0;
      }))
    return nullptr;
  Value base = viewBase(acc);
  for (Operation *between = producer->getNextNode(); between != op;
       between = between->getNextNode())
    if (!isa<memref::AllocOp, memref::SubViewOp, memref::CollapseShapeOp,
             memref::ExpandShapeOp, memref::CastOp>(between) &&
        llvm::any_of(between->getOperands(),
                     [&](Value v) { return viewBase(v) == base; }))
      return nullptr;
  return producer;
}

/// A copy of `operand` (a statically shaped memref outside shared memory)
/// in a new shared-memory buffer whose rows are padded when they are a
/// multiple of 32 words: by 4 elements when the buffer's rows run along
/// the fragment's reduction index (a fragment's 8 rows x 4 reduction
/// columns then fall in distinct banks, 4 r + c), by 8 when they run along
/// the other index (`transposed`: the state scan's k read as k^T; the 4
/// reduction rows x 8 columns then fall in distinct banks, 8 r + c, where
/// a padding of 4 made 2-way conflicts). The copy is a memref.copy that
/// deltanet-gpu-map-to-threads spreads over the block's threads (16-byte
/// coalesced loads, all in flight at once, then a barrier) instead of each
/// warp waiting on its fragments' scalar global loads one k step at a time.
/// Returns the view of the copy with `operand`'s shape, or null.
Value stageInSharedMemory(OpBuilder &b, Location loc, Value operand,
                          int64_t maxBytes, bool fromProducer,
                          bool transposed) {
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
    shape.back() += transposed ? 8 : 4;
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
                      bool stageFromProducer, bool foldAccumulatorProducers)
      : OpInterfaceRewritePattern(ctx), warps(warps),
        minReduction(minReduction), maxAccumulatorTiles(maxAccumulatorTiles),
        roundToTf32(roundToTf32), stageBytes(stageBytes),
        zeroInitAccumulators(zeroInitAccumulators),
        stageFromProducer(stageFromProducer),
        foldAccumulatorProducers(foldAccumulatorProducers) {}

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

    // Warp grid: rows of 16 over warps first, then columns of 8.
    int64_t rowWarps = largestDivisorAtMost(m / kMmaM, warps);
    int64_t colWarps = largestDivisorAtMost(n / kMmaN, warps / rowWarps);
    int64_t warpRows = m / rowWarps, warpCols = n / colWarps;
    int64_t groupTiles =
        largestDivisorAtMost(warpCols / kMmaN, maxAccumulatorTiles);

    Location loc = op.getLoc();
    // C = 0 before the product (a zero fill of exactly C): accumulators
    // start at zero in registers; the fill goes.
    linalg::FillOp zeroFill =
        zeroInitAccumulators ? findZeroFill(op, c.memref) : linalg::FillOp();
    if (zeroFill)
      rewriter.eraseOp(zeroFill);
    // C updated in place just before (S *= exp(g_last)): the update is
    // applied to the fragments as they are loaded; the producer's block
    // phase (a read and a write of all of C) goes.
    linalg::GenericOp accumulatorProducer =
        !zeroFill && foldAccumulatorProducers
            ? findInPlaceAccumulatorProducer(op, c.memref)
            : linalg::GenericOp();
    rewriter.setInsertionPoint(op);
    // Whether an operand's innermost memref dim is not its fragment's
    // reduction index (a transposed read).
    auto readTransposed = [](const Operand &operand) {
      auto last = dyn_cast<AffineDimExpr>(operand.map.getResults().back());
      return last && last.getPosition() != operand.colDim;
    };
    if (stageBytes > 0) {
      // Operands in device memory are read by every warp, fragment by
      // fragment: staged in shared memory first (a coalesced block copy).
      Value aSource = a.memref;
      if (!isBlockTemporary(a.memref, block))
        if (Value staged =
                stageInSharedMemory(rewriter, loc, a.memref, stageBytes,
                                    stageFromProducer, readTransposed(a)))
          a.memref = staged;
      if (bOp.memref == aSource)
        bOp.memref = a.memref; // K K^T: one copy
      else if (!isBlockTemporary(bOp.memref, block))
        if (Value staged =
                stageInSharedMemory(rewriter, loc, bOp.memref, stageBytes,
                                    stageFromProducer, readTransposed(bOp)))
          bOp.memref = staged;
    }
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
        ArrayRef<OpFoldResult>{rewriter.getIndexAttr(rowWarps * colWarps)},
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
                                   constant(kMmaM));
    rewriter.setInsertionPoint(rows.getBody()->getTerminator());
    point[mDim] = arith::AddIOp::create(rewriter, loc, rowBase,
                                        rows.getInductionVar());
    auto groups = scf::ForOp::create(rewriter, loc, zero, constant(warpCols),
                                     constant(groupTiles * kMmaN));
    rewriter.setInsertionPoint(groups.getBody()->getTerminator());
    Value groupCol = arith::AddIOp::create(rewriter, loc, colBase,
                                           groups.getInductionVar());
    auto tileColumn = [&](int64_t t) -> Value {
      return arith::AddIOp::create(rewriter, loc, groupCol,
                                   constant(t * kMmaN));
    };
    SmallVector<Value> accumulators;
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
      at[nDim] = tileColumn(t);
      accumulators.push_back(loadFragment(rewriter, loc, c, at, lane,
                                          /*roundToTf32=*/false,
                                          accumulatorProducer));
    }
    auto steps = scf::ForOp::create(
        rewriter, loc, zero, constant(k), constant(kMmaK), accumulators,
        [&](OpBuilder &b, Location bodyLoc, Value kk, ValueRange carried) {
          SmallVector<Value> at(point);
          at[kDim] = kk;
          Value aFragment = loadFragment(b, bodyLoc, a, at, lane, roundToTf32);
          SmallVector<Value> results;
          for (int64_t t = 0; t < groupTiles; ++t) {
            at[nDim] = arith::AddIOp::create(b, bodyLoc, groupCol,
                                             constant(t * kMmaN));
            Value bFragment =
                loadFragment(b, bodyLoc, bOp, at, lane, roundToTf32);
            results.push_back(nvgpu::MmaSyncOp::create(
                b, bodyLoc, aFragment, bFragment, carried[t],
                ArrayRef<int64_t>{kMmaM, kMmaN, kMmaK},
                /*tf32Enabled=*/true));
          }
          scf::YieldOp::create(b, bodyLoc, results);
        });
    for (int64_t t = 0; t < groupTiles; ++t) {
      SmallVector<Value> at(point);
      at[nDim] = tileColumn(t);
      storeFragment(rewriter, loc, c, at, lane, steps.getResult(t));
    }
    rewriter.eraseOp(op);
    if (accumulatorProducer)
      rewriter.eraseOp(accumulatorProducer);
    return success();
  }

  int64_t warps, minReduction, maxAccumulatorTiles;
  bool roundToTf32;
  int64_t stageBytes;
  bool zeroInitAccumulators;
  bool stageFromProducer;
  bool foldAccumulatorProducers;
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
                                      foldAccumulatorProducers);
    walkAndApplyPatterns(getOperation(), std::move(patterns));
  }
};

} // namespace
