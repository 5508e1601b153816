//===- DeltaNetOps.cpp - DeltaNet operations and their verifiers ----------===//
//
// Implements the operations of the deltanet dialect, chiefly their verifiers.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Dialect/DeltaNet/IR/DeltaNetOps.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StructuredOpsUtils.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mlir::deltanet;

/// Whether `type` is one of the floating-point types deltanet ops compute on.
static bool isSupportedFloat(Type type) {
  return type.isF32() || type.isF16() || type.isBF16();
}

namespace {
/// Binds named dimensions (B, T, H, ...) across the operands and results of
/// an op and reports the first inconsistency. Dynamic sizes match anything.
class DimBinder {
public:
  explicit DimBinder(Operation *op) : op(op) {}

  /// Checks that `value` is a ranked tensor with one dim per name in `dims`
  /// and binds/compares each named size.
  LogicalResult bind(Value value, StringRef what, ArrayRef<StringRef> dims) {
    auto type = cast<RankedTensorType>(value.getType());
    if (type.getEncoding())
      return op->emitOpError()
             << what << " must not have a tensor encoding, got " << type;
    if (type.getRank() != static_cast<int64_t>(dims.size()))
      return op->emitOpError()
             << what << " must have rank " << dims.size() << " (["
             << llvm::join(dims, ", ") << "]), got " << type;
    for (auto [index, name] : llvm::enumerate(dims)) {
      int64_t size = type.getDimSize(index);
      if (ShapedType::isDynamic(size))
        continue;
      // Empty tensors are not supported: the lowerings slice every dim.
      if (size == 0)
        return op->emitOpError() << what << " dim " << index << " (" << name
                                 << ") must be at least 1, got 0";
      auto [it, inserted] = bound.try_emplace(name, size, what.str());
      if (!inserted && it->second.first != size)
        return op->emitOpError()
               << what << " dim " << index << " (" << name << ") is " << size
               << ", but " << it->second.second << " has " << name << " = "
               << it->second.first;
    }
    return success();
  }

  /// Binds `name` to `size` on behalf of `what` (the first binding wins).
  void bindSize(StringRef name, int64_t size, StringRef what) {
    bound.try_emplace(name, size, what.str());
  }

  /// The static size bound to `name`, if any.
  std::optional<int64_t> get(StringRef name) const {
    auto it = bound.find(name);
    if (it == bound.end())
      return std::nullopt;
    return it->second.first;
  }

private:
  Operation *op;
  llvm::StringMap<std::pair<int64_t, std::string>> bound;
};
} // namespace

/// Checks that every value in `values` is a tensor of f32.
static LogicalResult verifyAllF32(Operation *op, ValueRange values) {
  for (Value value : values) {
    Type element = cast<ShapedType>(value.getType()).getElementType();
    if (!element.isF32())
      return op->emitOpError("expects f32 tensors, got ") << value.getType();
  }
  return success();
}

/// `values` are f32 tensors, or bf16 / f16 ones: intermediates that their
/// consumer stage only rounds to 16 bits before its products, stored in
/// them by their producer (deltanet-narrow-stage-intermediates).
static LogicalResult verifyF32Or16Bit(Operation *op, ValueRange values) {
  for (Value value : values) {
    Type element = cast<ShapedType>(value.getType()).getElementType();
    if (!element.isF32() && !element.isBF16() && !element.isF16())
      return op->emitOpError("expects f32, bf16 or f16 tensors, got ")
             << value.getType();
  }
  return success();
}

//===----------------------------------------------------------------------===//
// TriInvOp
//===----------------------------------------------------------------------===//

//===----------------------------------------------------------------------===//
// TriInvOp: shape reification and tiling over the batch
//===----------------------------------------------------------------------===//

LogicalResult
TriInvOp::reifyResultShapes(OpBuilder &b,
                            ReifiedRankedShapedTypeDims &reifiedReturnShapes) {
  reifiedReturnShapes.push_back(tensor::getMixedSizes(b, getLoc(), getA()));
  return success();
}

/// One parallel loop per batch dim; the trailing C x C matrix is not a loop
/// (a tile always holds whole matrices).
SmallVector<utils::IteratorType> TriInvOp::getLoopIteratorTypes() {
  return SmallVector<utils::IteratorType>(getA().getType().getRank() - 2,
                                          utils::IteratorType::parallel);
}

SmallVector<Range> TriInvOp::getIterationDomain(OpBuilder &b) {
  OpFoldResult zero = b.getIndexAttr(0), one = b.getIndexAttr(1);
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, getLoc(), getA());
  SmallVector<Range> domain;
  for (OpFoldResult size : ArrayRef(sizes).drop_back(2))
    domain.push_back(Range{zero, size, one});
  return domain;
}

/// The offsets and sizes of the operand/result slice of a batch tile.
static void wholeMatrixTile(TriInvOp op, OpBuilder &b,
                            ArrayRef<OpFoldResult> offsets,
                            ArrayRef<OpFoldResult> sizes,
                            SmallVectorImpl<OpFoldResult> &sliceOffsets,
                            SmallVectorImpl<OpFoldResult> &sliceSizes) {
  int64_t c = op.getMatrixSize();
  sliceOffsets.assign(offsets.begin(), offsets.end());
  sliceSizes.assign(sizes.begin(), sizes.end());
  sliceOffsets.append(2, b.getIndexAttr(0));
  sliceSizes.append(2, b.getIndexAttr(c));
}

FailureOr<TilingResult>
TriInvOp::getTiledImplementation(OpBuilder &b, ArrayRef<OpFoldResult> offsets,
                                 ArrayRef<OpFoldResult> sizes) {
  SmallVector<OpFoldResult> sliceOffsets, sliceSizes;
  wholeMatrixTile(*this, b, offsets, sizes, sliceOffsets, sliceSizes);
  SmallVector<OpFoldResult> strides(sliceOffsets.size(), b.getIndexAttr(1));
  auto slice = tensor::ExtractSliceOp::create(b, getLoc(), getA(), sliceOffsets,
                                              sliceSizes, strides);
  Operation *tiled = b.clone(*getOperation());
  tiled->setOperand(0, slice);
  tiled->getResult(0).setType(slice.getType());
  return TilingResult{
      {tiled}, SmallVector<Value>(tiled->getResults()), {slice.getOperation()}};
}

LogicalResult TriInvOp::getResultTilePosition(
    OpBuilder &b, unsigned resultNumber, ArrayRef<OpFoldResult> offsets,
    ArrayRef<OpFoldResult> sizes, SmallVector<OpFoldResult> &resultOffsets,
    SmallVector<OpFoldResult> &resultSizes) {
  wholeMatrixTile(*this, b, offsets, sizes, resultOffsets, resultSizes);
  return success();
}

//===----------------------------------------------------------------------===//
// Verifiers
//===----------------------------------------------------------------------===//

LogicalResult TriInvOp::verify() {
  RankedTensorType type = getA().getType();
  if (type.getRank() < 2)
    return emitOpError("operand must have rank >= 2 (batch dims followed by "
                       "a C x C matrix), got rank ")
           << type.getRank();
  if (!isSupportedFloat(type.getElementType()))
    return emitOpError("element type must be f32, f16 or bf16, got ")
           << type.getElementType();
  ArrayRef<int64_t> shape = type.getShape();
  int64_t rows = shape[shape.size() - 2], cols = shape.back();
  if (ShapedType::isDynamic(rows) || ShapedType::isDynamic(cols))
    return emitOpError("trailing matrix dims must be static, got ") << type;
  if (rows != cols)
    return emitOpError("trailing matrix must be square, got ")
           << rows << "x" << cols;
  if (rows < 1)
    return emitOpError("matrix size must be at least 1, got ") << rows;
  if (type.getEncoding())
    return emitOpError("operand must not have a tensor encoding, got ") << type;
  for (int64_t dim = 0, e = type.getRank() - 2; dim < e; ++dim)
    if (shape[dim] == 0)
      return emitOpError("batch dim ")
             << dim << " must be at least 1 (empty batches are not "
             << "supported), got 0";

  if (std::optional<int64_t> blockSize = getBlockSizeValue()) {
    if (*blockSize < 1 || !llvm::isPowerOf2_64(*blockSize))
      return emitOpError("block_size must be a positive power of two, got ")
             << *blockSize;
    if (rows % *blockSize != 0)
      return emitOpError("block_size ")
             << *blockSize << " does not divide the matrix size " << rows;
    if (getStrategy() && *getStrategy() != TriInvStrategy::Blocked)
      return emitOpError("block_size only applies to the 'blocked' "
                         "strategy, but strategy is '")
             << stringifyTriInvStrategy(*getStrategy()) << "'";
  }
  if (std::optional<int64_t> order = getOrderValue()) {
    if (*order < 1)
      return emitOpError("order must be >= 1, got ") << *order;
    if (getStrategy() && *getStrategy() == TriInvStrategy::ForwardSubstitution)
      return emitOpError("order does not apply to the 'forward_substitution' "
                         "strategy, which is exact");
  }
  if (std::optional<int64_t> steps = getResidualStepsValue()) {
    if (*steps < 0)
      return emitOpError("residual_steps must be >= 0, got ") << *steps;
    // Each step squares the error and costs two matmuls: more than a few
    // cannot help, and thousands make compilation hang.
    if (*steps > TriInvOp::kMaxResidualSteps)
      return emitOpError("residual_steps must be at most ")
             << TriInvOp::kMaxResidualSteps << ", got " << *steps;
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Gated delta rule ops
//===----------------------------------------------------------------------===//

/// Checks the `cu_seqlens` operand of a gated delta rule: a rank-1 tensor of
/// i32/i64 with `B = 1`, binding `N` (its size - 1) when static; constant
/// offsets must start at 0, never decrease and end at a static `T`.
static LogicalResult verifyCuSeqlens(Operation *op, Value cuSeqlens,
                                     DimBinder &dims) {
  auto type = cast<RankedTensorType>(cuSeqlens.getType());
  if (type.getRank() != 1 || !(type.getElementType().isSignlessInteger(32) ||
                               type.getElementType().isSignlessInteger(64)))
    return op->emitOpError("cu_seqlens must be a rank-1 tensor of i32 or i64 "
                           "(N + 1 sequence offsets), got ")
           << type;
  if (type.getEncoding())
    return op->emitOpError("cu_seqlens must not have a tensor encoding, got ")
           << type;
  std::optional<int64_t> batch = dims.get("B");
  if (batch != 1)
    return op->emitOpError("with cu_seqlens the sequences are packed along T "
                           "and the batch B must be a static 1, got ")
           << (batch ? std::to_string(*batch) : std::string("?"));
  int64_t size = type.getDimSize(0);
  if (!ShapedType::isDynamic(size)) {
    if (size < 2)
      return op->emitOpError("cu_seqlens must hold at least 2 offsets (one "
                             "sequence), got ")
             << size;
    // The states are [N, HV, K, V]: bind N before they are checked.
    dims.bindSize("N", size - 1, "cu_seqlens (N + 1 offsets)");
  }
  DenseIntElementsAttr offsets;
  if (!matchPattern(cuSeqlens, m_Constant(&offsets)))
    return success();
  SmallVector<int64_t> values;
  for (const APInt &value : offsets.getValues<APInt>())
    values.push_back(value.getSExtValue());
  if (values.front() != 0)
    return op->emitOpError("cu_seqlens must start at 0, got ")
           << values.front();
  for (size_t i = 1; i < values.size(); ++i)
    if (values[i] < values[i - 1])
      return op->emitOpError("cu_seqlens must not decrease, but offset ")
             << i << " is " << values[i] << " after " << values[i - 1];
  std::optional<int64_t> tokens = dims.get("T");
  if (tokens && values.back() != *tokens)
    return op->emitOpError("the last cu_seqlens offset must be T = ")
           << *tokens << " (every token in one sequence), got "
           << values.back();
  return success();
}

/// The verifier shared by chunk_gated_delta_rule and
/// recurrent_gated_delta_rule.
template <typename OpTy> static LogicalResult verifyGatedDeltaRule(OpTy op) {
  DimBinder dims(op);
  // With cu_seqlens the states hold one entry per sequence (N), not per
  // batch.
  StringRef stateBatch = op.getCuSeqlens() ? "N" : "B";
  if (failed(dims.bind(op.getQ(), "q", {"B", "T", "H", "K"})) ||
      failed(dims.bind(op.getK(), "k", {"B", "T", "H", "K"})) ||
      failed(dims.bind(op.getV(), "v", {"B", "T", "HV", "V"})) ||
      failed(dims.bind(op.getG(), "g", {"B", "T", "HV"})) ||
      failed(dims.bind(op.getBeta(), "beta", {"B", "T", "HV"})))
    return failure();
  if (Value cuSeqlens = op.getCuSeqlens())
    if (failed(verifyCuSeqlens(op, cuSeqlens, dims)))
      return failure();
  if (failed(dims.bind(op.getInitialState(), "initial_state",
                       {stateBatch, "HV", "K", "V"})) ||
      failed(dims.bind(op.getO(), "o", {"B", "T", "HV", "V"})) ||
      failed(dims.bind(op.getFinalState(), "final_state",
                       {stateBatch, "HV", "K", "V"})))
    return failure();
  for (StringRef name : {"H", "HV", "K", "V"}) {
    std::optional<int64_t> size = dims.get(name);
    if (!size)
      return op.emitOpError("head count and head dims (H, HV, K, V) must be "
                            "static, but ")
             << name << " is dynamic";
    if (*size < 1)
      return op.emitOpError() << name << " must be at least 1, got " << *size;
  }
  int64_t h = *dims.get("H"), hv = *dims.get("HV");
  if (hv % h != 0)
    return op.emitOpError("the number of value heads HV = ")
           << hv << " must be a multiple of the number of q/k heads H = " << h;

  Type elementType = op.getQ().getType().getElementType();
  if (!isSupportedFloat(elementType))
    return op.emitOpError("q, k and v must have element type f32, f16 or "
                          "bf16, got ")
           << elementType;
  for (auto [value, name] : {std::pair<Value, StringRef>{op.getK(), "k"},
                             {op.getV(), "v"},
                             {op.getO(), "o"}})
    if (cast<ShapedType>(value.getType()).getElementType() != elementType)
      return op.emitOpError() << name << " must have q's element type "
                              << elementType << ", got " << value.getType();
  for (auto [value, name] : {std::pair<Value, StringRef>{op.getG(), "g"},
                             {op.getBeta(), "beta"},
                             {op.getInitialState(), "initial_state"}}) {
    Type type = cast<ShapedType>(value.getType()).getElementType();
    if (!type.isF32() && type != elementType)
      return op.emitOpError()
             << name << " must have element type f32 or q's element type "
             << elementType << ", got " << value.getType();
  }
  if (op.getFinalState().getType().getElementType() !=
      op.getInitialState().getType().getElementType())
    return op.emitOpError("final_state must have initial_state's element "
                          "type, got ")
           << op.getFinalState().getType();
  if (std::optional<APFloat> scale = op.getScale())
    if (!scale->isFiniteNonZero())
      return op.emitOpError("scale must be finite and non-zero");
  return success();
}

LogicalResult ChunkGatedDeltaRuleOp::verify() {
  int64_t chunkSize = getChunkSizeAttr().getInt();
  if (chunkSize < 1 || !llvm::isPowerOf2_64(chunkSize))
    return emitOpError("chunk_size must be a positive power of two, got ")
           << chunkSize;
  return verifyGatedDeltaRule(*this);
}

LogicalResult RecurrentGatedDeltaRuleOp::verify() {
  return verifyGatedDeltaRule(*this);
}

//===----------------------------------------------------------------------===//
// Stage ops
//===----------------------------------------------------------------------===//

LogicalResult GatedKKTOp::verify() {
  DimBinder dims(*this);
  if (failed(dims.bind(getK(), "k", {"N", "C", "K"})) ||
      failed(dims.bind(getG(), "g", {"N", "C"})) ||
      failed(dims.bind(getBeta(), "beta", {"N", "C"})) ||
      failed(dims.bind(getA(), "a", {"N", "C", "C"})))
    return failure();
  return verifyAllF32(*this, getOperation()->getOperands().take_front(3));
}

LogicalResult WYReprOp::verify() {
  DimBinder dims(*this);
  if (failed(dims.bind(getT(), "t", {"N", "C", "C"})) ||
      failed(dims.bind(getK(), "k", {"N", "C", "K"})) ||
      failed(dims.bind(getV(), "v", {"N", "C", "V"})) ||
      failed(dims.bind(getG(), "g", {"N", "C"})) ||
      failed(dims.bind(getBeta(), "beta", {"N", "C"})) ||
      failed(dims.bind(getW(), "w", {"N", "C", "K"})) ||
      failed(dims.bind(getU(), "u", {"N", "C", "V"})))
    return failure();
  if (failed(verifyAllF32(*this, getOperation()->getOperands())))
    return failure();
  return verifyF32Or16Bit(*this, {getW(), getU()});
}

LogicalResult ChunkStateScanOp::verify() {
  DimBinder dims(*this);
  if (failed(dims.bind(getK(), "k", {"M", "NC", "C", "K"})) ||
      failed(dims.bind(getW(), "w", {"M", "NC", "C", "K"})) ||
      failed(dims.bind(getU(), "u", {"M", "NC", "C", "V"})) ||
      failed(dims.bind(getG(), "g", {"M", "NC", "C"})) ||
      failed(dims.bind(getInitialState(), "initial_state", {"M", "K", "V"})) ||
      failed(dims.bind(getStates(), "states", {"M", "NC", "K", "V"})) ||
      failed(dims.bind(getVNew(), "v_new", {"M", "NC", "C", "V"})) ||
      failed(dims.bind(getFinalState(), "final_state", {"M", "K", "V"})))
    return failure();
  for (StringRef name : {"C", "K", "V"})
    if (!dims.get(name))
      return emitOpError("chunk size and head dims must be static, but ")
             << name << " is dynamic";
  if (failed(verifyAllF32(*this,
                          {getG(), getInitialState(), getFinalState()})))
    return failure();
  return verifyF32Or16Bit(*this,
                          {getK(), getW(), getU(), getStates(), getVNew()});
}

LogicalResult ChunkOutputOp::verify() {
  DimBinder dims(*this);
  if (failed(dims.bind(getQ(), "q", {"N", "C", "K"})) ||
      failed(dims.bind(getK(), "k", {"N", "C", "K"})) ||
      failed(dims.bind(getVNew(), "v_new", {"N", "C", "V"})) ||
      failed(dims.bind(getState(), "state", {"N", "K", "V"})) ||
      failed(dims.bind(getG(), "g", {"N", "C"})) ||
      failed(dims.bind(getO(), "o", {"N", "C", "V"})))
    return failure();
  if (failed(verifyAllF32(*this, {getQ(), getG(), getO()})))
    return failure();
  return verifyF32Or16Bit(*this, {getK(), getVNew(), getState()});
}

//===----------------------------------------------------------------------===//
// Segment summaries
//===----------------------------------------------------------------------===//

LogicalResult GatedDeltaRuleSummaryOp::verify() {
  int64_t chunkSize = getChunkSizeAttr().getInt();
  if (chunkSize < 1 || !llvm::isPowerOf2_64(chunkSize))
    return emitOpError("chunk_size must be a positive power of two, got ")
           << chunkSize;
  DimBinder dims(*this);
  if (failed(dims.bind(getK(), "k", {"B", "T", "H", "K"})) ||
      failed(dims.bind(getV(), "v", {"B", "T", "HV", "V"})) ||
      failed(dims.bind(getG(), "g", {"B", "T", "HV"})) ||
      failed(dims.bind(getBeta(), "beta", {"B", "T", "HV"})) ||
      failed(dims.bind(getM(), "m", {"B", "HV", "K", "K"})) ||
      failed(dims.bind(getU(), "u", {"B", "HV", "K", "V"})))
    return failure();
  for (StringRef name : {"H", "HV", "K", "V"})
    if (!dims.get(name))
      return emitOpError("head count and head dims (H, HV, K, V) must be "
                         "static, but ")
             << name << " is dynamic";
  int64_t h = *dims.get("H"), hv = *dims.get("HV");
  if (hv % h != 0)
    return emitOpError("the number of value heads HV = ")
           << hv << " must be a multiple of the number of k heads H = " << h;
  Type elementType = getK().getType().getElementType();
  if (!isSupportedFloat(elementType))
    return emitOpError("k and v must have element type f32, f16 or bf16, "
                       "got ")
           << elementType;
  if (getV().getType().getElementType() != elementType)
    return emitOpError("v must have k's element type ")
           << elementType << ", got " << getV().getType();
  for (auto [value, name] : {std::pair<Value, StringRef>{getG(), "g"},
                             {getBeta(), "beta"}}) {
    Type type = cast<ShapedType>(value.getType()).getElementType();
    if (!type.isF32() && type != elementType)
      return emitOpError() << name
                           << " must have element type f32 or k's element "
                              "type "
                           << elementType << ", got " << value.getType();
  }
  // Summaries are composed many times: they stay in f32.
  return verifyAllF32(*this, getOperation()->getResults());
}

LogicalResult ComposeSummariesOp::verify() {
  auto m1Type = cast<RankedTensorType>(getM1().getType());
  if (m1Type.getRank() < 2)
    return emitOpError("m1 must have rank >= 2 ([..., K, K]), got ")
           << m1Type;
  SmallVector<std::string> names;
  for (int64_t i = 0, e = m1Type.getRank() - 2; i < e; ++i)
    names.push_back("B" + std::to_string(i));
  auto withTail = [&](StringRef a, StringRef b) {
    SmallVector<StringRef> dimNames(names.begin(), names.end());
    dimNames.push_back(a);
    dimNames.push_back(b);
    return dimNames;
  };
  DimBinder dims(*this);
  if (failed(dims.bind(getM1(), "m1", withTail("K", "K"))) ||
      failed(dims.bind(getU1(), "u1", withTail("K", "V"))) ||
      failed(dims.bind(getM2(), "m2", withTail("K", "K"))) ||
      failed(dims.bind(getU2(), "u2", withTail("K", "V"))) ||
      failed(dims.bind(getM(), "m", withTail("K", "K"))) ||
      failed(dims.bind(getU(), "u", withTail("K", "V"))))
    return failure();
  for (StringRef name : {"K", "V"})
    if (!dims.get(name))
      return emitOpError("head dims (K, V) must be static, but ")
             << name << " is dynamic";
  if (failed(verifyAllF32(*this, getOperation()->getOperands())))
    return failure();
  return verifyAllF32(*this, getOperation()->getResults());
}

//===----------------------------------------------------------------------===//
// Quantisation ops
//===----------------------------------------------------------------------===//

LogicalResult QuantizeOp::verify() {
  // As DimBinder does for the other ops: the lowering builds plain tensors,
  // so an encoding would be dropped (a result's: invalid IR).
  for (auto [what, value] : {std::pair<StringRef, Value>{"input", getInput()},
                             {"quantized", getQuantized()},
                             {"scale", getScale()}}) {
    auto type = cast<RankedTensorType>(value.getType());
    if (type.getEncoding())
      return emitOpError() << what << " must not have a tensor encoding, got "
                           << type;
  }
  RankedTensorType inputType = getInput().getType();
  if (!inputType.getElementType().isF32())
    return emitOpError("input must be a tensor of f32, got ") << inputType;
  int64_t rank = inputType.getRank();
  ArrayRef<int64_t> dims = getReductionDims();
  if (dims.empty())
    return emitOpError("reduction_dims must not be empty");
  for (auto [index, dim] : llvm::enumerate(dims)) {
    if (dim < 0 || dim >= rank)
      return emitOpError("reduction dim ")
             << dim << " is out of range for rank " << rank;
    if (index > 0 && dim <= dims[index - 1])
      return emitOpError("reduction_dims must be strictly increasing");
  }
  RankedTensorType quantizedType = getQuantized().getType();
  if (quantizedType.getShape() != inputType.getShape() ||
      !quantizedType.getElementType().isSignlessInteger(8))
    return emitOpError("quantized result must be a tensor of i8 with the "
                       "input's shape, got ")
           << quantizedType;
  SmallVector<int64_t> scaleShape;
  for (int64_t dim = 0; dim < rank; ++dim)
    if (!llvm::is_contained(dims, dim))
      scaleShape.push_back(inputType.getDimSize(dim));
  RankedTensorType scaleType = getScale().getType();
  if (scaleType.getShape() != ArrayRef<int64_t>(scaleShape) ||
      !scaleType.getElementType().isF32())
    return emitOpError("scale must be a tensor of f32 with the input's shape "
                       "without the reduction dims (")
           << RankedTensorType::get(scaleShape, scaleType.getElementType())
           << "), got " << scaleType;
  return success();
}

LogicalResult DequantizeOp::verify() {
  DimBinder dims(*this);
  if (failed(dims.bind(getAcc(), "acc", {"N", "M", "P"})) ||
      failed(dims.bind(getResult(), "result", {"N", "M", "P"})))
    return failure();
  int64_t scaleRank = getLhsScale().getType().getRank();
  if (scaleRank == 2) {
    if (failed(dims.bind(getLhsScale(), "lhs_scale", {"N", "M"})) ||
        failed(dims.bind(getRhsScale(), "rhs_scale", {"N", "P"})))
      return failure();
  } else if (scaleRank == 1) {
    if (failed(dims.bind(getLhsScale(), "lhs_scale", {"N"})) ||
        failed(dims.bind(getRhsScale(), "rhs_scale", {"N"})))
      return failure();
  } else {
    return emitOpError("scales must have rank 2 (per row of lhs and column "
                       "of rhs) or 1 (per matrix), got rank ")
           << scaleRank;
  }
  if (!getAcc().getType().getElementType().isSignlessInteger(32))
    return emitOpError("acc must be a tensor of i32, got ")
           << getAcc().getType();
  return verifyAllF32(*this, {getLhsScale(), getRhsScale(), getResult()});
}

#define GET_OP_CLASSES
#include "deltanet/Dialect/DeltaNet/IR/DeltaNetOps.cpp.inc"
