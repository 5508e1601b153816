//===- MmaChainBuilder.cpp - Fragment helpers of hand-written mma chains --===//
//
// See MmaChainBuilder.h.
//
//===----------------------------------------------------------------------===//

#include "MmaChainBuilder.h"

#include "deltanet/Codegen/GPU/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::deltanet;

Value MmaChainBuilder::idx(int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}
Value MmaChainBuilder::add(Value x, Value y) {
  return arith::AddIOp::create(b, loc, x, y);
}
Value MmaChainBuilder::mul(Value x, int64_t c) {
  return arith::MulIOp::create(b, loc, x, idx(c));
}
Value MmaChainBuilder::div(Value x, int64_t c) {
  return arith::DivUIOp::create(b, loc, x, idx(c));
}
Value MmaChainBuilder::rem(Value x, int64_t c) {
  return arith::RemUIOp::create(b, loc, x, idx(c));
}

void MmaChainBuilder::setUpLaneIds(Value threadX) {
  thread = threadX;
  lane = rem(thread, kChainWarpSize);
  group = div(lane, 4);
  quad = rem(lane, 4);
  warp = div(thread, kChainWarpSize);
}

void MmaChainBuilder::setFragmentTypes() {
  acc = VectorType::get({2, 2}, b.getF32Type());
  aFrag = VectorType::get({4, 2}, element);
  bFrag = VectorType::get({2, 2}, element);
}

void MmaChainBuilder::forEachPiece(
    int64_t rows, int64_t width, int64_t perPiece, ExtraThreads extra,
    function_ref<void(Value row, Value col)> body) {
  int64_t threads = kChainWarpSize * warps;
  int64_t perRow = width / perPiece;
  int64_t pieces = rows * perRow;
  for (int64_t first = 0; first < pieces; first += threads) {
    Value linear = add(thread, first);
    bool past = first + threads > pieces;
    if (past && extra == ExtraThreads::RepeatLastPiece)
      linear = arith::MinUIOp::create(b, loc, linear, idx(pieces - 1));
    Value row = div(linear, perRow);
    Value col = mul(rem(linear, perRow), perPiece);
    if (past && extra == ExtraThreads::RepeatLastRow)
      row = arith::MinUIOp::create(b, loc, row, idx(rows - 1));
    body(row, col);
  }
}

int64_t MmaChainBuilder::elementsPer16Bytes(Value memref) {
  return 16 * 8 / cast<MemRefType>(memref.getType()).getElementTypeBitWidth();
}

void MmaChainBuilder::asyncCopy(Value dst, ValueRange dstIndices, Value src,
                                ValueRange srcIndices, int64_t elements,
                                SmallVector<Value> &tokens) {
  auto tokenType = nvgpu::DeviceAsyncTokenType::get(b.getContext());
  tokens.push_back(nvgpu::DeviceAsyncCopyOp::create(
      b, loc, tokenType, dst, dstIndices, src, srcIndices,
      b.getIndexAttr(elements), /*srcElements=*/Value(),
      /*bypassL1=*/b.getUnitAttr()));
}

void MmaChainBuilder::copyChunk(Value src, Value dst, Value chunk, Value slot,
                                int64_t rows, int64_t width, Value srcCol0,
                                SmallVector<Value> &tokens) {
  int64_t perCopy = elementsPer16Bytes(src);
  forEachPiece(std::max<int64_t>(rows, 1), width, perCopy,
               ExtraThreads::RepeatLastRow, [&](Value row, Value col) {
                 SmallVector<Value> srcIndices{seq, chunk}, dstIndices{slot};
                 if (rows) {
                   srcIndices.append({row, add(srcCol0, col)});
                   dstIndices.append({row, col});
                 } else {
                   // One row: `row` is 0, the excess threads' columns wrap
                   // around.
                   srcIndices.push_back(col);
                   dstIndices.push_back(col);
                 }
                 asyncCopy(dst, dstIndices, src, srcIndices, perCopy, tokens);
               });
}

void MmaChainBuilder::waitForCopies(ValueRange tokens) {
  auto tokenType = nvgpu::DeviceAsyncTokenType::get(b.getContext());
  Value group =
      nvgpu::DeviceAsyncCreateGroupOp::create(b, loc, tokenType, tokens);
  nvgpu::DeviceAsyncWaitOp::create(b, loc, group, b.getI32IntegerAttr(0));
}

Value MmaChainBuilder::aFromAccumulators(Value lo, Value hi, bool negate) {
  auto half = VectorType::get({2, 2}, element);
  Value a = arith::ConstantOp::create(b, loc, aFrag, b.getZeroAttr(aFrag));
  int64_t row = 0;
  for (Value fragment : {lo, hi}) {
    Value rounded = arith::TruncFOp::create(b, loc, half, fragment);
    for (int64_t r = 0; r < 2; ++r) {
      Value pair = vector::ExtractOp::create(b, loc, rounded, r);
      a = vector::InsertOp::create(b, loc, pair, a, row++);
    }
  }
  if (negate)
    a = arith::NegFOp::create(b, loc, a);
  return a;
}

Value MmaChainBuilder::bFragment(Value loaded, int64_t first) {
  Value fragment =
      arith::ConstantOp::create(b, loc, bFrag, b.getZeroAttr(bFrag));
  for (int64_t r = 0; r < 2; ++r) {
    Value pair = vector::ExtractOp::create(b, loc, loaded, first + r);
    fragment = vector::InsertOp::create(b, loc, pair, fragment, r);
  }
  return fragment;
}

Value MmaChainBuilder::ldmatrix(Value buf, ValueRange indices, int64_t tiles,
                                bool trans) {
  auto type = VectorType::get({tiles, 2}, element);
  return nvgpu::LdMatrixOp::create(b, loc, type, buf, indices, trans,
                                    uint32_t(tiles));
}

Value MmaChainBuilder::mma(Value a, Value bOperand, Value c) {
  return nvgpu::MmaSyncOp::create(b, loc, a, bOperand, c,
                                  ArrayRef<int64_t>{16, 8, 16});
}

Value MmaChainBuilder::workgroupAlloc(ArrayRef<int64_t> shape, Type type) {
  auto workgroup = gpu::AddressSpaceAttr::get(
      b.getContext(), gpu::GPUDialect::getWorkgroupAddressSpace());
  return memref::AllocOp::create(
      b, loc,
      MemRefType::get(shape, type, MemRefLayoutAttrInterface(), workgroup));
}

std::string mlir::deltanet::chainPreconditionFailure(Operation *op,
                                                     Value sixteenBit,
                                                     StringRef name,
                                                     Type &element) {
  for (Value v : op->getOperands())
    if (!cast<RankedTensorType>(v.getType()).hasStaticShape())
      return "dynamic shapes";
  element = cast<RankedTensorType>(sixteenBit.getType()).getElementType();
  if (!element.isBF16() && !element.isF16())
    return (name + " is not bf16 / f16 (f32 products stay on the generic "
                   "path)")
        .str();
  if (op->getParentOfType<gpu::LaunchOp>() || isInsideBlockLoop(op))
    return "already inside a kernel or block loop";
  return "";
}

Value mlir::deltanet::allSixteenByteAligned(OpBuilder &b, Location loc,
                                            ValueRange buffers) {
  Value aligned;
  for (Value buffer : buffers) {
    Value pointer =
        memref::ExtractAlignedPointerAsIndexOp::create(b, loc, buffer);
    Value misalignment = arith::RemUIOp::create(
        b, loc, pointer, arith::ConstantIndexOp::create(b, loc, 16));
    Value ok = arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::eq, misalignment,
        arith::ConstantIndexOp::create(b, loc, 0));
    aligned = aligned ? arith::AndIOp::create(b, loc, aligned, ok) : ok;
  }
  return aligned;
}

Value mlir::deltanet::readOnlyBufferOf(OpBuilder &b, Location loc,
                                       Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  return bufferization::ToBufferOp::create(
      b, loc, MemRefType::get(type.getShape(), type.getElementType()), tensor,
      /*read_only=*/true);
}

Value mlir::deltanet::allocBufferFor(OpBuilder &b, Location loc,
                                     Value result) {
  auto type = cast<RankedTensorType>(result.getType());
  return memref::AllocOp::create(
      b, loc, MemRefType::get(type.getShape(), type.getElementType()));
}
