//===- MatmulsToMmaSync.cpp - Block matmuls on warp tensor cores ----------===//
//
// Rewrites the matmuls of a thread block (on buffers, inside a
// block-mapped scf.forall) into an scf.forall over the block's warps whose
// bodies run nvgpu.mma.sync (f32 accumulators: f32 operands as tf32
// m16n8k8, bf16 / f16 operands as m16n8k16; i8 x i8 -> i32 as s8 m16n8k32:
// getMmaShapeForOperands).
//
// Upstream pieces used: nvgpu.mma.sync and its NVVM lowering, the PTX
// fragment layouts (nvgpu::getLaneIdAndValueIdToOperandCoord /
// getMmaSyncRegisterType), nvgpu.ldmatrix for 16-bit fragments in shared
// memory, warp-mapped scf.forall (mapped later by
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

#include "AccumulatorEpilogue.h"
#include "ViewedBuffer.h"

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
#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "deltanet-gpu-matmuls-to-mma-sync"

namespace mlir {
namespace deltanet {
#define GEN_PASS_DEF_DELTANETGPUMATMULSTOMMASYNC
#include "deltanet/Codegen/GPU/Passes.h.inc"
} // namespace deltanet
} // namespace mlir

using namespace mlir;
using namespace mlir::deltanet;

namespace {

/// Marks an accumulator consumer applied to the fragments (erased after
/// the pattern walk).
constexpr StringLiteral kFoldedConsumer = "deltanet.folded_accumulator_consumer";

/// The mma.sync M and N of every shape used here (tf32, bf16, f16, s8).
constexpr int64_t kMmaM = 16, kMmaN = 8;

/// The mma.sync instruction a product's element types take (A and B
/// alike): with an f32 accumulator tf32 m16n8k8 for f32 operands, m16n8k16
/// for bf16 and f16 (twice the K per instruction, half the operand bytes);
/// s8 m16n8k32 for i8 x i8 -> i32 (the INT8 tri_inv's quantised products).
/// The one place that maps element types to mma shapes.
struct MmaShape {
  int64_t k;
  /// The operands' element type in the fragments.
  Type operandType;
  /// The accumulator's element type (f32, or i32 for s8 operands).
  Type accumulatorType;
  /// f32 operands run as tf32 (nvgpu.mma.sync's tf32Enabled).
  bool isTf32() const { return operandType.isF32(); }
  bool isInt8() const { return operandType.isInteger(8); }
};

/// The mma.sync shape for A and B of `operandType` accumulating into
/// `accumulatorType`, or nullopt (then the product stays SIMT). i8 products
/// only with `int8` (deltanet-gpu-matmuls-to-mma-sync's option).
std::optional<MmaShape> getMmaShapeForOperands(Type operandType,
                                               Type accumulatorType,
                                               bool int8) {
  if (accumulatorType.isF32()) {
    if (operandType.isF32())
      return MmaShape{8, operandType, accumulatorType};
    if (operandType.isBF16() || operandType.isF16())
      return MmaShape{16, operandType, accumulatorType};
  }
  if (int8 && operandType.isInteger(8) && accumulatorType.isInteger(32))
    return MmaShape{32, operandType, accumulatorType};
  return std::nullopt;
}

/// `info` as upstream's fragment layout helpers
/// (nvgpu::getMmaSyncRegisterType, getLaneIdAndValueIdToOperandCoord) take
/// it: bf16 fragments have f16's layout (PTX ISA, "Matrix Fragments for
/// mma.m16n8k16 with floating point type": .f16 and .bf16 share it), which
/// MLIR 22's helpers know only under f16.
nvgpu::WarpMatrixInfo layoutQuery(nvgpu::WarpMatrixInfo info) {
  if (info.vectorType.getElementType().isBF16())
    info.vectorType = info.vectorType.clone(
        Float16Type::get(info.vectorType.getContext()));
  return info;
}

/// The attribute that marks an accumulator fragment's load (its
/// vector.from_elements) and the stores of the fragment for
/// deltanet-gpu-carry-accumulators: [product, tile], product unique in the
/// function.
constexpr StringLiteral kCarriedAccumulatorAttr =
    "deltanet.carried_accumulator";

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

/// Why `operand`'s 16-bit fragments cannot be read with ldmatrix (empty:
/// they can). ldmatrix (`nvgpu.ldmatrix`, PTX
/// `ldmatrix.sync.aligned.m8n8.x{2,4}[.trans].shared.b16`) reads 8 x 8
/// matrices whose 8 rows of 16 bytes each lane of a group of 8 addresses:
/// the operand must be in workgroup memory, 16-bit, indexed by a projected
/// permutation whose innermost index is the fragment's row or reduction
/// index (memref stride 1), every other stride and the offset static
/// multiples of 8 elements (16 bytes), the buffer a memref.alloc (placed
/// at a 16-byte aligned offset of the dynamic shared memory by
/// deltanet-gpu-workgroup-allocs-to-dynamic-shared). Fragment tiles start
/// at multiples of 8 of both indices, so each row segment is then
/// contiguous and 16-byte aligned.
std::string whyNotLdMatrix(const Operand &operand) {
  auto type = dyn_cast<MemRefType>(operand.memref.getType());
  if (!type || type.getElementTypeBitWidth() != 16)
    return "not a memref of 16-bit elements";
  if (!gpu::GPUDialect::hasWorkgroupMemoryAddressSpace(type))
    return "not in workgroup (shared) memory";
  if (!getViewedBuffer(operand.memref).getDefiningOp<memref::AllocOp>())
    return "not a view of a memref.alloc (base alignment unknown)";
  if (!operand.map.isProjectedPermutation())
    return "indexing map is not a projected permutation";
  auto last = dyn_cast<AffineDimExpr>(operand.map.getResults().back());
  if (!last || (last.getPosition() != operand.rowDim &&
                last.getPosition() != operand.colDim))
    return "innermost index is neither the fragment's row nor its "
           "reduction index";
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(type.getStridesAndOffset(strides, offset)) ||
      ShapedType::isDynamic(offset) ||
      llvm::any_of(strides, ShapedType::isDynamic))
    return "dynamic strides or offset";
  if (strides.back() != 1)
    return "innermost stride is not 1";
  if (offset % 8 != 0)
    return "offset is not a multiple of 8 elements (16 bytes)";
  for (int64_t stride : ArrayRef(strides).drop_back())
    if (stride % 8 != 0)
      return "a row stride is not a multiple of 8 elements (16 bytes)";
  return "";
}

/// The lane's 16-bit fragment of `operand` at iteration point `base` with
/// one ldmatrix (whyNotLdMatrix is empty): A (16 x 16) as 4 matrices, B
/// (8 x 16, held [N][K]) as 2, in the fragment's register order (PTX's
/// m16n8k16 layouts): A's matrix j covers rows 8 (j mod 2) and reduction
/// columns 8 floor(j / 2), B's reduction columns 8 j. Lane l addresses row
/// l mod 8 of matrix floor(l / 8) (lanes past the last matrix repeat the
/// first ones: .x2 ignores them). Stored with the reduction index
/// innermost, a matrix's memory rows are fragment rows (plain ldmatrix);
/// stored with the row index innermost (B as [K][N], A as [K][M]), they
/// are reduction rows, transposed by `.trans`. (Two adjacent B fragments
/// per `.x4` measured 1.5% slower on the H200: session 13, docs/GPU.md.)
Value loadFragmentWithLdMatrix(OpBuilder &b, Location loc,
                               const Operand &operand, ArrayRef<Value> base,
                               Value lane) {
  nvgpu::FragmentElementInfo reg =
      *nvgpu::getMmaSyncRegisterType(layoutQuery(operand.info));
  bool isA = operand.info.operandRole == nvgpu::MatMulOperandRole::A;
  int64_t tiles = isA ? 4 : 2;
  bool transposed =
      cast<AffineDimExpr>(operand.map.getResults().back()).getPosition() ==
      operand.rowDim;
  AffineExpr l = b.getAffineDimExpr(0);
  AffineExpr tile = (l % (8 * tiles)).floorDiv(8), i = l % 8;
  AffineExpr row = isA ? (tile % 2) * 8 : b.getAffineConstantExpr(0);
  AffineExpr col = isA ? tile.floorDiv(2) * 8 : tile * 8;
  if (transposed)
    col = col + i;
  else
    row = row + i;
  AffineMap coord = AffineMap::get(2, 0, {row, col}, b.getContext());
  SmallVector<Value> indices =
      fragmentIndices(b, loc, operand, coord, base, lane, /*v=*/0);
  auto regType = VectorType::get(
      {reg.numRegistersPerFragment, reg.elementsPerRegister},
      operand.info.vectorType.getElementType());
  return nvgpu::LdMatrixOp::create(b, loc, regType, operand.memref, indices,
                                   transposed, tiles);
}

/// The lane's fragment of `operand` at iteration point `base`, as the
/// register vector that nvgpu.mma.sync takes (of the operand's element
/// type: f32, bf16 or f16). With `roundToTf32` (f32 only), each value
/// is rounded to the nearest tf32 (adding half an ulp of tf32 to the bits;
/// the tensor core then ignores the 13 low mantissa bits) instead of being
/// truncated by the hardware: truncation biases every product towards zero.
Value loadFragment(OpBuilder &b, Location loc, const Operand &operand,
                   ArrayRef<Value> base, Value lane, bool roundToTf32,
                   linalg::GenericOp producer = nullptr,
                   bool ldmatrix = false) {
  if (ldmatrix && !producer &&
      operand.info.vectorType.getElementTypeBitWidth() == 16) {
    std::string why = whyNotLdMatrix(operand);
    if (why.empty())
      return loadFragmentWithLdMatrix(b, loc, operand, base, lane);
    LLVM_DEBUG(llvm::dbgs() << "16-bit fragment of " << operand.memref
                            << " loaded per element, not by ldmatrix: " << why
                            << "\n");
  }
  nvgpu::WarpMatrixInfo layout = layoutQuery(operand.info);
  nvgpu::FragmentElementInfo reg = *nvgpu::getMmaSyncRegisterType(layout);
  AffineMap coord = *nvgpu::getLaneIdAndValueIdToOperandCoord(b, loc, layout);
  int64_t perRegister = reg.elementsPerRegister;
  Type elementType = operand.info.vectorType.getElementType();
  auto regType = VectorType::get({reg.numRegistersPerFragment, perRegister},
                                 elementType);
  SmallVector<Value> elements;
  for (int64_t v = 0; v < reg.numRegistersPerFragment * perRegister; ++v) {
    SmallVector<Value> indices =
        fragmentIndices(b, loc, operand, coord, base, lane, v);
    Value element = memref::LoadOp::create(b, loc, operand.memref, indices);
    if (producer)
      element = applyInPlaceProducer(b, loc, producer, indices, element);
    if (roundToTf32 && elementType.isF32()) {
      Value bits = arith::BitcastOp::create(b, loc, b.getI32Type(), element);
      Value half = arith::ConstantIntOp::create(b, loc, b.getI32Type(), 0x1000);
      element = arith::BitcastOp::create(
          b, loc, b.getF32Type(), arith::AddIOp::create(b, loc, bits, half));
    }
    elements.push_back(element);
  }
  return vector::FromElementsOp::create(b, loc, regType, elements);
}

/// Stores the lane's accumulator fragment of `operand` at `base`, or with
/// a `consumer`, writes what the consumer computes from each element
/// (the accumulator itself is then not written).
void storeFragment(OpBuilder &b, Location loc, const Operand &operand,
                   ArrayRef<Value> base, Value lane, Value fragment,
                   const AccumulatorConsumer *consumer = nullptr,
                   Attribute mark = {}) {
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
    if (consumer) {
      applyAccumulatorConsumer(b, loc, *consumer, indices, element);
      continue;
    }
    auto store =
        memref::StoreOp::create(b, loc, element, operand.memref, indices);
    if (mark)
      store->setAttr(kCarriedAccumulatorAttr, mark);
  }
}

/// The lane's accumulator fragment of `c` at `base` when the product also
/// takes over copies of C (`copies`: each element stored to the same
/// indices of each copy's target, as loaded, i.e. before `producer`) or its
/// load is marked for carrying (`mark`): the raw elements as one
/// vector.from_elements (marked), each then read back from it, stored to
/// the copies and updated by the in-place `producer`. The element reads
/// fold away where nothing replaces the marked load; where
/// deltanet-gpu-carry-accumulators replaces it by the fragment carried
/// from the previous loop iteration, the copies and the producer read the
/// carried values.
Value loadAccumulatorFragment(OpBuilder &b, Location loc, const Operand &c,
                              ArrayRef<Value> base, Value lane,
                              linalg::GenericOp producer,
                              ArrayRef<Value> copies, Attribute mark) {
  if (!mark && copies.empty())
    return loadFragment(b, loc, c, base, lane, /*roundToTf32=*/false,
                        producer);
  Value raw = loadFragment(b, loc, c, base, lane, /*roundToTf32=*/false);
  if (mark)
    raw.getDefiningOp()->setAttr(kCarriedAccumulatorAttr, mark);
  if (copies.empty() && !producer)
    return raw;
  nvgpu::FragmentElementInfo reg = *nvgpu::getMmaSyncRegisterType(c.info);
  AffineMap coord = *nvgpu::getLaneIdAndValueIdToOperandCoord(b, loc, c.info);
  int64_t perRegister = reg.elementsPerRegister;
  // A register's elements are adjacent in C's rows unless C is read
  // transposed; then they go to a copy with unit innermost stride as one
  // vector store (8 bytes: whole 32-byte sectors per warp, where scalar
  // stores of every other word left half-written sectors; the alignment is
  // proven by deltanet-gpu-annotate-vector-alignment).
  auto last = dyn_cast<AffineDimExpr>(c.map.getResults().back());
  bool rowsAlongColumns = last && last.getPosition() == c.colDim;
  SmallVector<Value> elements;
  for (int64_t v = 0; v < reg.numRegistersPerFragment * perRegister; ++v) {
    SmallVector<Value> indices = fragmentIndices(b, loc, c, coord, base, lane, v);
    Value element = vector::ExtractOp::create(
        b, loc, raw, ArrayRef<int64_t>{v / perRegister, v % perRegister});
    for (Value copy : copies) {
      if (!rowsAlongColumns || perRegister == 1 ||
          !cast<MemRefType>(copy.getType()).isLastDimUnitStride()) {
        memref::StoreOp::create(b, loc, element, copy, indices);
        continue;
      }
      if (v % perRegister != 0)
        continue;
      Value row = vector::ExtractOp::create(
          b, loc, raw, ArrayRef<int64_t>{v / perRegister});
      vector::StoreOp::create(b, loc, row, copy, indices);
    }
    if (producer)
      element = applyInPlaceProducer(b, loc, producer, indices, element);
    elements.push_back(element);
  }
  return vector::FromElementsOp::create(b, loc, raw.getType(), elements);
}

/// True if `value` is a view of a memref.alloc inside `block`: a block
/// temporary that deltanet-gpu-map-to-threads moves to shared memory.
bool isBlockTemporary(Value value, Operation *block) {
  auto alloc = getViewedBuffer(value).getDefiningOp<memref::AllocOp>();
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
      return getViewedBuffer(init) == base;
    });
  if (auto copy = dyn_cast<memref::CopyOp>(op))
    return getViewedBuffer(copy.getTarget()) == base;
  return true; // unknown: assume it may
}

/// The op before `op` in its block that writes `memref` exactly (a linalg op
/// with `memref` as its only init), if no op in between may write `memref`'s
/// base; null otherwise.
linalg::LinalgOp findProducer(Operation *op, Value memref) {
  Value base = getViewedBuffer(memref);
  for (Operation *prev = op->getPrevNode(); prev; prev = prev->getPrevNode()) {
    // A consumer already applied by an earlier product's warp loop (erased
    // after the walk) is not a producer to redirect.
    if (prev->hasAttr(kFoldedConsumer))
      return nullptr;
    if (auto linalgOp = dyn_cast<linalg::LinalgOp>(prev))
      if (linalgOp.getNumDpsInits() == 1 && linalgOp.getDpsInits()[0] == memref)
        return linalgOp;
    if (mayWriteTo(prev, base))
      return nullptr;
  }
  return nullptr;
}

/// Whether no op strictly between `from` and `to` (same block) uses `acc`'s
/// buffer, other than by allocating it or taking views of it.
bool isUntouchedBetween(Operation *from, Operation *to, Value acc) {
  Value base = getViewedBuffer(acc);
  for (Operation *between = from->getNextNode(); between != to;
       between = between->getNextNode())
    if (!isa<memref::AllocOp, memref::SubViewOp, memref::CollapseShapeOp,
             memref::ExpandShapeOp, memref::CastOp>(between) &&
        llvm::any_of(between->getOperands(),
                     [&](Value v) { return getViewedBuffer(v) == base; }))
      return false;
  return true;
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
  return isUntouchedBetween(fill, op, acc) ? fill : nullptr;
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
  return isUntouchedBetween(producer, op, acc) ? producer : nullptr;
}

/// Pads the rows of the accumulator `acc` when it is a block's own
/// allocation (a memref.alloc in `block`, not yet in shared memory:
/// deltanet-gpu-map-to-threads moves it there, views included) whose rows
/// are a multiple of 16 words, used only by linalg ops, copies and the
/// element loads and stores of products rewritten before: the
/// alloc gets `padding` more columns and its users a view of the original
/// shape. The state scan's S (rows of 16 or 32 words) is read by `w S` as
/// B fragments (4 reduction rows x 8 columns: 2- to 4-way bank conflicts
/// unpadded, none with 8 words more) and written as accumulator fragments
/// (8 rows x 2 words per lane pair: 4- to 8-way, 2-way padded). Returns
/// the view, or `acc` unchanged.
Value padAccumulatorRows(RewriterBase &rewriter, Value acc,
                         Operation *block, int64_t padding) {
  auto alloc = acc.getDefiningOp<memref::AllocOp>();
  MemRefType type = alloc ? alloc.getType() : MemRefType();
  if (padding <= 0 || !alloc || !block || !block->isProperAncestor(alloc) ||
      type.getMemorySpace() || !type.getLayout().isIdentity() ||
      !type.hasStaticShape() || type.getRank() < 2 ||
      type.getShape().back() % 16 != 0 ||
      !llvm::all_of(alloc->getUsers(), [](Operation *user) {
        return isa<linalg::LinalgOp, memref::CopyOp, memref::LoadOp,
                   memref::StoreOp>(user);
      }))
    return acc;
  SmallVector<int64_t> shape(type.getShape());
  shape.back() += padding;
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(alloc);
  auto padded = memref::AllocOp::create(
      rewriter, alloc.getLoc(),
      MemRefType::get(shape, type.getElementType()), alloc.getAlignmentAttr());
  int64_t rank = type.getRank();
  Value view = memref::SubViewOp::create(
      rewriter, alloc.getLoc(), padded,
      SmallVector<OpFoldResult>(rank, rewriter.getIndexAttr(0)),
      getAsIndexOpFoldResult(rewriter.getContext(), type.getShape()),
      SmallVector<OpFoldResult>(rank, rewriter.getIndexAttr(1)));
  rewriter.replaceAllUsesWith(alloc.getResult(), view);
  rewriter.eraseOp(alloc);
  return view;
}

/// Like mayWriteTo, but looking into the structured loops and branches that
/// earlier rewrites left in the block (the warp loops of a previous
/// product): true if any op nested in `op` may write `base`.
bool mayWriteToNested(Operation *op, Value base) {
  WalkResult result = op->walk([&](Operation *nested) {
    if (isa<scf::ForallOp, scf::ForOp, scf::IfOp, scf::InParallelOp>(nested))
      return WalkResult::advance(); // their bodies are visited
    if (nested->getNumRegions() != 0 && !isa<linalg::LinalgOp>(nested))
      return WalkResult::interrupt(); // unknown region op: assume it may
    if (auto store = dyn_cast<memref::StoreOp>(nested))
      return getViewedBuffer(store.getMemref()) == base ? WalkResult::interrupt()
                                                 : WalkResult::advance();
    if (isa<memref::LoadOp, nvgpu::LdMatrixOp>(nested) ||
        nested->hasTrait<OpTrait::IsTerminator>())
      return WalkResult::advance();
    return mayWriteTo(nested, base) ? WalkResult::interrupt()
                                    : WalkResult::advance();
  });
  return result.wasInterrupted();
}

/// Whether no op strictly between `from` and `to` (same block), nor any op
/// nested in one, uses `value`'s buffer other than by taking views of it.
bool isUntouchedBetweenNested(Operation *from, Operation *to, Value value) {
  Value base = getViewedBuffer(value);
  for (Operation *between = from->getNextNode(); between != to;
       between = between->getNextNode()) {
    WalkResult result = between->walk([&](Operation *nested) {
      if (isa<memref::SubViewOp, memref::CollapseShapeOp,
              memref::ExpandShapeOp, memref::CastOp>(nested))
        return WalkResult::advance();
      return llvm::any_of(nested->getOperands(),
                          [&](Value v) { return getViewedBuffer(v) == base; })
                 ? WalkResult::interrupt()
                 : WalkResult::advance();
    });
    if (result.wasInterrupted())
      return false;
  }
  return true;
}

/// A memref.copy of exactly the accumulator `acc` to another buffer before
/// `op` in its block (the state scan's copy of S to `states` at the top of
/// each chunk), with nothing in between writing `acc`'s buffer other than
/// the folded in-place `producer`, and nothing in between touching the
/// copy's target: the warp tiles load every element of `acc` exactly once
/// (before the producer's update), so each lane can store its elements to
/// the target as it loads them, and the copy (a block phase: a read of all
/// of `acc` and a barrier) goes.
memref::CopyOp findAccumulatorCopy(Operation *op, Value acc,
                                   linalg::GenericOp producer) {
  Value base = getViewedBuffer(acc);
  for (Operation *prev = op->getPrevNode(); prev; prev = prev->getPrevNode()) {
    if (auto copy = dyn_cast<memref::CopyOp>(prev);
        copy && copy.getSource() == acc &&
        getViewedBuffer(copy.getTarget()) != base)
      return isUntouchedBetweenNested(copy, op, copy.getTarget()) ? copy
                                                                  : nullptr;
    if (prev != producer.getOperation() && mayWriteToNested(prev, base))
      return nullptr;
  }
  return nullptr;
}

/// The padding in words of a staged operand's rows of a multiple of 32
/// words (stageInSharedMemory). 16-bit operands: 4 words either way (a
/// register holds two elements adjacent along the reduction index, so a
/// fragment reads 8 rows x 4 words along it, or, transposed, 8 reduction
/// rows x 4 words of column pairs: 4 r + c, distinct banks; 8 words made
/// rows r and r + 4 collide).
int64_t stagingRowPaddingWords(int64_t elementBytes, bool transposed) {
  if (elementBytes == 2)
    return 4;
  return transposed ? 8 : 4;
}

/// A copy of `operand` (a statically shaped memref outside shared memory)
/// in a new shared-memory buffer whose rows are padded when they are a
/// multiple of 32 words: (f32) by 4 elements when the buffer's rows run along
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
  if (gpu::GPUDialect::hasWorkgroupMemoryAddressSpace(type))
    return nullptr;
  int64_t elementBytes = type.getElementTypeBitWidth() / 8;
  int64_t bytes = type.getNumElements() * elementBytes;
  if (elementBytes == 0 || bytes > maxBytes)
    return nullptr;
  SmallVector<int64_t> shape(type.getShape());
  if (shape.back() * elementBytes % 128 == 0)
    shape.back() += stagingRowPaddingWords(elementBytes, transposed) * 4 /
                    elementBytes;
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

/// Moves the op defining `value` (and, first, those defining its operands)
/// before `target` when it is in `target`'s block after it: the values an
/// accumulator consumer uses (the output stage's view of o is taken after
/// the products) must dominate the warp loop that now applies it. Only
/// pure ops and views move.
void hoistDefinitionBefore(Value value, Operation *target) {
  Operation *def = value.getDefiningOp();
  if (!def || def->getBlock() != target->getBlock() ||
      def->isBeforeInBlock(target))
    return;
  for (Value operand : def->getOperands())
    hoistDefinitionBefore(operand, target);
  def->moveBefore(target);
}

/// One contraction C += A B of a block, as the warps read it: f32 C with
/// A and B f32 (tf32), bf16 or f16, or i8 x i8 -> i32 (s8).
struct Product {
  linalg::LinalgOp op;
  MmaShape shape;
  Operand a, b, c;
  int64_t mDim, nDim, kDim;
  int64_t m, n, k;
  SmallVector<unsigned> batch;
  SmallVector<int64_t> ranges;

  bool isInt8() const { return shape.isInt8(); }
};

/// `op` as a Product, or the reason it is not one.
FailureOr<Product> analyzeProduct(linalg::LinalgOp op, int64_t minReduction,
                                  bool int8, std::string &reason) {
  if (!op.hasPureBufferSemantics()) {
    reason = "not on buffers";
    return failure();
  }
  auto block = op->getParentOfType<scf::ForallOp>();
  if (!block || !isBlockMapped(block)) {
    reason = "not in a block-mapped scf.forall (or already in a warp loop)";
    return failure();
  }
  if (op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
      !linalg::isaContractionOpInterface(op)) {
    reason = "not a two-operand multiply-add contraction";
    return failure();
  }
  Type operandType = getElementTypeOrSelf(op.getDpsInputs()[0].getType());
  Type accType = getElementTypeOrSelf(op.getDpsInits()[0].getType());
  std::optional<MmaShape> shape =
      getMmaShapeForOperands(operandType, accType, int8);
  if (!shape || getElementTypeOrSelf(op.getDpsInputs()[1].getType()) !=
                    operandType) {
    reason = int8 ? "mma.sync here takes A and B of one element type: f32 "
                    "(tf32), bf16 or f16 into f32, or i8 x i8 -> i32"
                  : "mma.sync here takes A and B of one element type: f32 "
                    "(tf32), bf16 or f16 into f32 (i8: int8=true)";
    return failure();
  }
  FailureOr<linalg::ContractionDimensions> dims =
      linalg::inferContractionDims(op);
  if (failed(dims) || dims->m.size() != 1 || dims->n.size() != 1 ||
      dims->k.size() != 1) {
    reason = "needs exactly one M, one N and one K dimension";
    return failure();
  }
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  if (llvm::any_of(ranges, ShapedType::isDynamic)) {
    reason = "dynamic loop ranges";
    return failure();
  }
  int64_t mDim = dims->m[0], nDim = dims->n[0], kDim = dims->k[0];
  int64_t m = ranges[mDim], n = ranges[nDim], k = ranges[kDim];
  if (m % kMmaM != 0 || n % kMmaN != 0 || k % shape->k != 0) {
    reason = "M, N, K must be multiples of the mma shape 16 x 8 x " +
             std::to_string(shape->k);
    return failure();
  }
  // min-reduction guards against tf32's rounding of f32 operands; bf16 /
  // f16 operands were rounded by the program already, their products are
  // exact on the tensor cores at any K (i8 ones too: i32 sums).
  if (shape->isTf32() && k < minReduction) {
    reason = "reduction shorter than min-reduction (stays SIMT)";
    return failure();
  }
  if (static_cast<int64_t>(dims->batch.size() + 3) != op.getNumLoops()) {
    reason = "loops outside batch/M/N/K";
    return failure();
  }
  // Which input is (M, K) and which (K, N).
  OpOperand *lhs = op.getDpsInputOperand(0), *rhs = op.getDpsInputOperand(1);
  auto uses = [&](OpOperand *operand, int64_t dim) {
    return op.getMatchingIndexingMap(operand).isFunctionOfDim(dim);
  };
  if (!uses(lhs, mDim))
    std::swap(lhs, rhs);
  if (!uses(lhs, mDim) || !uses(rhs, nDim) || uses(lhs, nDim) ||
      uses(rhs, mDim)) {
    reason = "operands are not (M,K) x (K,N)";
    return failure();
  }
  OpOperand *acc = op.getDpsInitOperand(0);
  Product product{
      op,
      *shape,
      Operand{lhs->get(), op.getMatchingIndexingMap(lhs),
              {VectorType::get({kMmaM, shape->k}, operandType),
               nvgpu::MatMulOperandRole::A},
              mDim, kDim},
      // B is held as [N, K] (mma.sync's column-major B).
      Operand{rhs->get(), op.getMatchingIndexingMap(rhs),
              {VectorType::get({kMmaN, shape->k}, operandType),
               nvgpu::MatMulOperandRole::B},
              nDim, kDim},
      Operand{acc->get(), op.getMatchingIndexingMap(acc),
              {VectorType::get({kMmaM, kMmaN}, shape->accumulatorType),
               nvgpu::MatMulOperandRole::C},
              mDim, nDim},
      mDim, nDim, kDim, m, n, k,
      SmallVector<unsigned>(dims->batch.begin(), dims->batch.end()),
      ranges};
  return product;
}

/// The next (`forward`) or previous op of `op` in its block that has memory
/// effects; views, allocations and pure ops are skipped.
Operation *adjacentEffectfulOp(Operation *op, bool forward) {
  for (Operation *other = forward ? op->getNextNode() : op->getPrevNode();
       other; other = forward ? other->getNextNode() : other->getPrevNode())
    if (!isa<ViewLikeOpInterface, memref::AllocOp, memref::CollapseShapeOp,
             memref::ExpandShapeOp, memref::CastOp>(other) &&
        !isPure(other))
      return other;
  return nullptr;
}

/// True if `second` accumulates onto `first`'s result, so that both can
/// share register accumulators: `second` is the next op with memory effects
/// after `first`, both are products with unit batch dims and the same M x N
/// accumulator (the same buffer value, read through the same map), and
/// `second`'s operands do not read that buffer.
bool accumulatesOnto(const Product &first, const Product &second) {
  if (adjacentEffectfulOp(first.op, /*forward=*/true) != second.op)
    return false;
  if (first.c.memref != second.c.memref || first.m != second.m ||
      first.n != second.n || first.shape.k != second.shape.k ||
      first.shape.operandType != second.shape.operandType)
    return false;
  for (const Product *product : {&first, &second})
    if (llvm::any_of(product->batch,
                     [&](unsigned d) { return product->ranges[d] != 1; }))
      return false;
  // The same accumulator element at the same (M, N) point: compare the
  // maps with the batch dims at 0.
  auto project = [](const Product &p) {
    SmallVector<AffineExpr> dims;
    linalg::LinalgOp op = p.op;
    MLIRContext *ctx = op.getContext();
    for (unsigned d = 0; d < op.getNumLoops(); ++d)
      dims.push_back(d == p.mDim   ? getAffineDimExpr(0, ctx)
                     : d == p.nDim ? getAffineDimExpr(1, ctx)
                                   : getAffineConstantExpr(0, ctx));
    return p.c.map.replaceDimsAndSymbols(dims, {}, 2, 0);
  };
  if (project(first) != project(second))
    return false;
  Value base = getViewedBuffer(first.c.memref);
  return getViewedBuffer(second.a.memref) != base &&
         getViewedBuffer(second.b.memref) != base;
}

/// An f32 contraction C += A B of a thread block (one M, N and K dim, any
/// unit or static batch dims) -> an scf.forall over warps
/// (#gpu.warp<linear_dim_0>): the M x N output is split into a grid of warp
/// tiles; each warp walks its tile in register blocks of at most
/// `maxAccumulatorTiles` 16x8 accumulator tiles, which stay in registers
/// across the K loop (steps of 8: the block's A fragments, then per column
/// one B fragment and one mma.sync per row). A product that accumulates
/// onto the previous one's result (the output stage's
/// (q exp(g)) S + A v_new) is rewritten with it: one warp loop, the two K
/// loops one after the other on the same register accumulators (no store
/// and reload of the sum in between, one barrier less) with
/// `chain-products` (off by default: the second product's staged operand
/// is copied before the shared warp loop, so it lives during the first
/// product; the H200's output stage then held one block per SM instead of
/// two and ran 1.5x slower).
struct MatmulToWarpMmaSync
    : public OpInterfaceRewritePattern<linalg::LinalgOp> {
  MatmulToWarpMmaSync(MLIRContext *ctx, int64_t warps, int64_t minReduction,
                      int64_t maxAccumulatorTiles, bool roundToTf32,
                      int64_t stageBytes, bool zeroInitAccumulators,
                      bool stageFromProducer, bool minLoadsTiling,
                      bool chainProducts, bool foldAccumulatorProducers,
                      bool foldAccumulatorConsumers, bool foldAccumulatorCopies,
                      bool markCarried, int64_t accumulatorRowPadding,
                      bool int8, bool ldmatrix)
      : OpInterfaceRewritePattern(ctx), warps(warps),
        minReduction(minReduction), maxAccumulatorTiles(maxAccumulatorTiles),
        roundToTf32(roundToTf32), stageBytes(stageBytes),
        zeroInitAccumulators(zeroInitAccumulators),
        stageFromProducer(stageFromProducer), minLoadsTiling(minLoadsTiling),
        chainProducts(chainProducts),
        foldAccumulatorProducers(foldAccumulatorProducers),
        foldAccumulatorConsumers(foldAccumulatorConsumers),
        foldAccumulatorCopies(foldAccumulatorCopies), markCarried(markCarried),
        accumulatorRowPadding(accumulatorRowPadding), int8(int8),
        ldmatrix(ldmatrix) {}

  LogicalResult matchAndRewrite(linalg::LinalgOp op,
                                PatternRewriter &rewriter) const override {
    std::string reason;
    FailureOr<Product> analyzed =
        analyzeProduct(op, minReduction, int8, reason);
    if (failed(analyzed))
      return rewriter.notifyMatchFailure(op, reason);
    SmallVector<Product, 2> chain;
    // INT8 products (the tri_inv's quantised merges) take none of the
    // attention's fusions: no chaining, folds or carried accumulators.
    bool int8Product = analyzed->isInt8();
    if (chainProducts && !int8Product) {
      std::string ignored;
      if (auto next = dyn_cast_or_null<linalg::LinalgOp>(
              adjacentEffectfulOp(op, /*forward=*/true))) {
        FailureOr<Product> second =
            analyzeProduct(next, minReduction, int8, ignored);
        if (succeeded(second) &&
            accumulatesOnto(*analyzed, *second))
          return rewriter.notifyMatchFailure(
              op, "accumulates into the next product: rewritten with it");
      }
      if (auto prev = dyn_cast_or_null<linalg::LinalgOp>(
              adjacentEffectfulOp(op, /*forward=*/false))) {
        FailureOr<Product> first =
            analyzeProduct(prev, minReduction, int8, ignored);
        if (succeeded(first) &&
            accumulatesOnto(*first, *analyzed))
          chain.push_back(*first);
      }
    }
    chain.push_back(*analyzed);
    Product &head = chain.front();
    auto block = op->getParentOfType<scf::ForallOp>();
    // The block's own thread count (deltanet.block_threads, checked by the
    // pass) or the option's.
    int64_t blockWarps = *getBlockThreads(block, warps * 32) / 32;
    MLIRContext *ctx = rewriter.getContext();
    Location loc = op.getLoc();
    int64_t m = head.m, n = head.n;
    int64_t mDim = head.mDim, nDim = head.nDim;
    Operand &c = head.c;

    // C read once, elementwise, by the next op and by nothing after it (the
    // output stage's cast and scatter into o): the consumer is applied to
    // the fragments as they leave the registers, C is not written.
    std::optional<AccumulatorConsumer> consumer;
    if (foldAccumulatorConsumers && !int8Product) {
      std::string why;
      FailureOr<AccumulatorConsumer> found =
          findAccumulatorConsumer(chain.back().op, c.memref, block, why);
      if (succeeded(found)) {
        consumer = *found;
        for (Value operand : consumer->op->getOperands())
          hoistDefinitionBefore(operand, head.op);
      }
    }
    // C = 0 before the product (a zero fill of exactly C): accumulators
    // start at zero in registers; the fill goes.
    linalg::FillOp zeroFill = zeroInitAccumulators
                                  ? findZeroFill(head.op, c.memref)
                                  : linalg::FillOp();
    if (zeroFill)
      rewriter.eraseOp(zeroFill);
    // C updated in place just before (S *= exp(g_last)): the update is
    // applied to the fragments as they are loaded; the producer's block
    // phase (a read and a write of all of C) goes.
    linalg::GenericOp accumulatorProducer =
        !zeroFill && foldAccumulatorProducers && !int8Product
            ? findInPlaceAccumulatorProducer(head.op, c.memref)
            : linalg::GenericOp();
    // C copied to another buffer before the product (the state scan's
    // copy of S to `states`): each lane stores its loaded elements there.
    memref::CopyOp accumulatorCopy =
        !zeroFill && foldAccumulatorCopies && !int8Product
            ? findAccumulatorCopy(head.op, c.memref, accumulatorProducer)
            : memref::CopyOp();
    SmallVector<Value, 1> copyTargets;
    if (accumulatorCopy)
      copyTargets.push_back(accumulatorCopy.getTarget());
    // The accumulator's fragments marked for
    // deltanet-gpu-carry-accumulators (loaded C only: zero-initialised
    // accumulators carry nothing).
    int64_t markedProduct =
        markCarried && !zeroFill && !int8Product ? nextProduct++ : -1;
    auto mark = [&](int64_t tile) -> Attribute {
      return markedProduct < 0
                 ? Attribute()
                 : rewriter.getDenseI64ArrayAttr({markedProduct, tile});
    };
    // A loaded accumulator of the block's own: its rows padded.
    if (!zeroFill)
      c.memref = padAccumulatorRows(rewriter, c.memref, block,
                                    accumulatorRowPadding);
    rewriter.setInsertionPoint(head.op);
    // Whether an operand's innermost memref dim is not its fragment's
    // reduction index (a transposed read).
    auto readTransposed = [](const Operand &operand) {
      auto last = dyn_cast<AffineDimExpr>(operand.map.getResults().back());
      return last && last.getPosition() != operand.colDim;
    };
    if (stageBytes > 0) {
      // Operands in device memory are read by every warp, fragment by
      // fragment: staged in shared memory first (a coalesced block copy).
      for (Product &product : chain) {
        Value aSource = product.a.memref;
        if (!isBlockTemporary(product.a.memref, block))
          if (Value staged = stageInSharedMemory(
                  rewriter, loc, product.a.memref, stageBytes,
                  stageFromProducer, readTransposed(product.a)))
            product.a.memref = staged;
        if (product.b.memref == aSource)
          product.b.memref = product.a.memref; // K K^T: one copy
        else if (!isBlockTemporary(product.b.memref, block))
          if (Value staged = stageInSharedMemory(
                  rewriter, loc, product.b.memref, stageBytes,
                  stageFromProducer, readTransposed(product.b)))
            product.b.memref = staged;
      }
    }
    // Fragment values read from device memory (through L1) count twice:
    // S in the output stage is then read once per block, not per warp.
    // A chain uses its first product's tiling.
    auto loadWeight = [&](Value memref) -> int64_t {
      return inWorkgroupMemory(memref) || isBlockTemporary(memref, block) ? 1
                                                                        : 2;
    };
    WarpTiling tiling =
        minLoadsTiling
            ? chooseMinLoadsTiling(m, n, blockWarps, maxAccumulatorTiles,
                                   loadWeight(head.a.memref),
                                   loadWeight(head.b.memref))
            : chooseRowsTiling(m, n, blockWarps, maxAccumulatorTiles);
    int64_t colWarps = tiling.colWarps;
    int64_t warpRows = m / tiling.rowWarps, warpCols = n / colWarps;
    int64_t groupRows = tiling.groupRows, groupTiles = tiling.groupCols;
    // Index constants, created once before the warp loop.
    DenseMap<int64_t, Value> constants;
    OpBuilder constantBuilder(head.op);
    auto constant = [&](int64_t value) -> Value {
      Value &cst = constants[value];
      if (!cst)
        cst = arith::ConstantIndexOp::create(constantBuilder, loc, value);
      return cst;
    };
    Value zero = constant(0);
    auto forall = scf::ForallOp::create(
        rewriter, loc,
        ArrayRef<OpFoldResult>{
            rewriter.getIndexAttr(tiling.rowWarps * colWarps)},
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

    // Batch dims: loops (unit ones fold away; a chain has only unit ones).
    SmallVector<Value> point(head.op.getNumLoops(), zero);
    for (unsigned dim : head.batch) {
      if (head.ranges[dim] == 1)
        continue;
      auto loop = scf::ForOp::create(rewriter, loc, zero,
                                     constant(head.ranges[dim]), constant(1));
      rewriter.setInsertionPoint(loop.getBody()->getTerminator());
      point[dim] = loop.getInductionVar();
    }
    // The register blocks of the warp's tile (a loop of one block is left
    // out when the fragments are marked for carrying: the carry needs the
    // fragments' loads and stores directly in the enclosing loop's body).
    auto blockLoop = [&](Value tileBase, int64_t extent,
                         int64_t step) -> Value {
      if (markedProduct >= 0 && extent == step)
        return tileBase;
      auto loop = scf::ForOp::create(rewriter, loc, zero, constant(extent),
                                     constant(step));
      rewriter.setInsertionPoint(loop.getBody()->getTerminator());
      return arith::AddIOp::create(rewriter, loc, tileBase,
                                   loop.getInductionVar());
    };
    Value groupRow = blockLoop(rowBase, warpRows, groupRows * kMmaM);
    Value groupCol = blockLoop(colBase, warpCols, groupTiles * kMmaN);
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
              c.info.vectorType.getElementType());
          accumulators.push_back(arith::ConstantOp::create(
              rewriter, loc, regType, rewriter.getZeroAttr(regType)));
          continue;
        }
        SmallVector<Value> at(point);
        at[mDim] = tileRow(rewriter, i);
        at[nDim] = tileColumn(rewriter, t);
        accumulators.push_back(loadAccumulatorFragment(
            rewriter, loc, c, at, lane, accumulatorProducer, copyTargets,
            mark(i * groupTiles + t)));
      }
    }
    // One K loop per product of the chain, on the same accumulators.
    for (Product &product : chain) {
      SmallVector<Value> productPoint(product.op.getNumLoops(), zero);
      if (&product == &head)
        productPoint = point;
      auto steps = scf::ForOp::create(
          rewriter, loc, zero, constant(product.k), constant(product.shape.k),
          accumulators,
          [&](OpBuilder &b, Location bodyLoc, Value kk, ValueRange carried) {
            SmallVector<Value> at(productPoint);
            at[product.kDim] = kk;
            // The block's A fragments once, then per column its B fragment
            // and one mma.sync per row.
            SmallVector<Value> aFragments;
            for (int64_t i = 0; i < groupRows; ++i) {
              at[product.mDim] = tileRow(b, i);
              aFragments.push_back(loadFragment(b, bodyLoc, product.a, at,
                                                lane, roundToTf32,
                                                /*producer=*/nullptr,
                                                ldmatrix));
            }
            SmallVector<Value> results(carried.begin(), carried.end());
            for (int64_t t = 0; t < groupTiles; ++t) {
              at[product.nDim] = tileColumn(b, t);
              Value bFragment =
                  loadFragment(b, bodyLoc, product.b, at, lane, roundToTf32,
                               /*producer=*/nullptr, ldmatrix);
              for (int64_t i = 0; i < groupRows; ++i) {
                int64_t index = i * groupTiles + t;
                results[index] = nvgpu::MmaSyncOp::create(
                    b, bodyLoc, aFragments[i], bFragment, carried[index],
                    ArrayRef<int64_t>{kMmaM, kMmaN, product.shape.k},
                    /*tf32Enabled=*/product.shape.isTf32());
              }
            }
            scf::YieldOp::create(b, bodyLoc, results);
          });
      accumulators.assign(steps.getResults().begin(),
                          steps.getResults().end());
    }
    for (int64_t i = 0; i < groupRows; ++i) {
      for (int64_t t = 0; t < groupTiles; ++t) {
        SmallVector<Value> at(point);
        at[mDim] = tileRow(rewriter, i);
        at[nDim] = tileColumn(rewriter, t);
        storeFragment(rewriter, loc, c, at, lane,
                      accumulators[i * groupTiles + t],
                      consumer ? &*consumer : nullptr,
                      mark(i * groupTiles + t));
      }
    }
    for (Product &product : chain)
      rewriter.eraseOp(product.op);
    if (accumulatorProducer)
      rewriter.eraseOp(accumulatorProducer);
    // The consumer comes after `op`: walkAndApplyPatterns allows erasing
    // only the op and what precedes it, so it is marked here and erased
    // after the walk.
    if (consumer)
      rewriter.modifyOpInPlace(consumer->op, [&] {
        consumer->op->setAttr(kFoldedConsumer,
                              rewriter.getIndexAttr(consumer->accInput));
      });
    if (accumulatorCopy)
      rewriter.eraseOp(accumulatorCopy);
    return success();
  }

  int64_t warps, minReduction, maxAccumulatorTiles;
  bool roundToTf32;
  int64_t stageBytes;
  bool zeroInitAccumulators;
  bool stageFromProducer;
  bool minLoadsTiling;
  bool chainProducts;
  bool foldAccumulatorProducers;
  bool foldAccumulatorConsumers;
  bool foldAccumulatorCopies;
  bool markCarried;
  int64_t accumulatorRowPadding;
  /// i8 x i8 -> i32 products too (s8 mma.sync m16n8k32).
  bool int8;
  /// 16-bit A and B fragments in shared memory read with ldmatrix.
  bool ldmatrix;
  /// The next product's number in the marks (unique per pass run).
  mutable int64_t nextProduct = 0;
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
    if (accumulatorRowPadding < 0) {
      getOperation()->emitError("deltanet-gpu-matmuls-to-mma-sync: "
                                "accumulator-row-padding must be >= 0, got ")
          << static_cast<int64_t>(accumulatorRowPadding);
      return signalPassFailure();
    }
    if (failed(verifyBlockThreads(getOperation())))
      return signalPassFailure();
    RewritePatternSet patterns(&getContext());
    patterns.add<MatmulToWarpMmaSync>(
        &getContext(), threads / 32, minReduction, maxAccumulatorTiles,
        roundToTf32, stageOperandBytes, zeroInitAccumulators, stageFromProducer,
        warpTiling == "min-loads", chainProducts, foldAccumulatorProducers,
        foldAccumulatorConsumers, foldAccumulatorCopies,
        markCarriedAccumulators, accumulatorRowPadding, int8, ldmatrix);
    walkAndApplyPatterns(getOperation(), std::move(patterns));
    SmallVector<Operation *> folded;
    getOperation()->walk([&](linalg::GenericOp op) {
      if (op->hasAttr(kFoldedConsumer))
        folded.push_back(op);
    });
    for (Operation *op : folded) {
      auto accInput = op->getAttrOfType<IntegerAttr>(kFoldedConsumer);
      Value acc = getViewedBuffer(op->getOperand(accInput.getInt()));
      op->erase();
      eraseUnusedViews(acc);
      if (acc.use_empty() && acc.getDefiningOp<memref::AllocOp>())
        acc.getDefiningOp()->erase();
    }
  }

  /// Erases the views of `buffer` (recursively) that nothing uses: an
  /// accumulator written only by folded consumers' products (chained) is
  /// then unused, and its shared-memory tile goes before the packing.
  static void eraseUnusedViews(Value buffer) {
    for (Operation *user : llvm::make_early_inc_range(buffer.getUsers())) {
      if (!isa<ViewLikeOpInterface, memref::CollapseShapeOp,
               memref::ExpandShapeOp, memref::CastOp>(user) ||
          user->getNumResults() != 1)
        continue;
      eraseUnusedViews(user->getResult(0));
      if (user->use_empty())
        user->erase();
    }
  }
};

} // namespace
