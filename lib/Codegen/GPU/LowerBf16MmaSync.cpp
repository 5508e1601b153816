//===- LowerBf16MmaSync.cpp - bf16 nvgpu.mma.sync to nvvm.mma.sync --------===//
//
// Lowers the bf16 nvgpu.mma.sync (m16n8k16, f32 accumulators) that
// deltanet-gpu-matmuls-to-mma-sync emits to nvvm.mma.sync, before
// upstream's -convert-nvgpu-to-nvvm runs.
//
// Ours only because of an upstream gap: MLIR 22's nvgpu.mma.sync verifies
// bf16 operands, but its NVVM lowering (NVGPUToNVVM.cpp, MmaSyncOptoNVVM)
// deduces the PTX operand type from the element type and knows f16, tf32,
// s8 / u8, s4 / u4 and f64 only ("failed to deduce operand PTX types"),
// while nvvm.mma.sync with multiplicandAPtxType = #nvvm.mma_type<bf16> and
// operands packed two per i32 translates to llvm.nvvm.mma.m16n8k16.row.col.
// bf16. Upstream would need bf16 -> NVVM::MMATypes::bf16 in that deduction
// and the bf16 pairs packed as i32 (as it packs i8 quads) instead of
// vector<2xf16>; with that, this pass goes.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Codegen/GPU/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/WalkPatternRewriteDriver.h"

namespace mlir {
namespace deltanet {
#define GEN_PASS_DEF_DELTANETGPULOWERBF16MMASYNC
#include "deltanet/Codegen/GPU/Passes.h.inc"
} // namespace deltanet
} // namespace mlir

using namespace mlir;
using namespace mlir::deltanet;

namespace {

/// The registers of a bf16 fragment (vector<Rx2xbf16>), each pair of bf16
/// as the i32 that nvvm.mma.sync takes (the first element in the low half,
/// as PTX packs .bf16x2).
SmallVector<Value> packBf16Pairs(OpBuilder &b, Location loc, Value fragment) {
  auto type = cast<VectorType>(fragment.getType());
  auto i32x1 = VectorType::get({1}, b.getI32Type());
  SmallVector<Value> registers;
  for (int64_t r = 0; r < type.getDimSize(0); ++r) {
    Value pair = vector::ExtractOp::create(b, loc, fragment, r);
    Value packed = vector::BitCastOp::create(b, loc, i32x1, pair);
    registers.push_back(vector::ExtractOp::create(b, loc, packed, 0));
  }
  return registers;
}

/// nvgpu.mma.sync m16n8k16 with bf16 A and B (vector<4x2xbf16>,
/// vector<2x2xbf16>) and an f32 accumulator (vector<2x2xf32>) ->
/// nvvm.mma.sync (row-major A, column-major B as PTX's mma.sync.row.col),
/// its result struct unpacked into the accumulator's vector type.
struct Bf16MmaSyncToNVVM : public OpRewritePattern<nvgpu::MmaSyncOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(nvgpu::MmaSyncOp op,
                                PatternRewriter &rewriter) const override {
    auto aType = cast<VectorType>(op.getMatrixA().getType());
    auto bType = cast<VectorType>(op.getMatrixB().getType());
    auto cType = cast<VectorType>(op.getMatrixC().getType());
    if (!aType.getElementType().isBF16())
      return rewriter.notifyMatchFailure(op, "not a bf16 product (upstream "
                                             "lowers the other types)");
    std::array<int64_t, 3> shape = op.getMmaShapeAsArray();
    if (shape != std::array<int64_t, 3>{16, 8, 16} ||
        aType.getShape() != ArrayRef<int64_t>{4, 2} ||
        !bType.getElementType().isBF16() ||
        bType.getShape() != ArrayRef<int64_t>{2, 2} ||
        !cType.getElementType().isF32() ||
        cType.getShape() != ArrayRef<int64_t>{2, 2})
      return rewriter.notifyMatchFailure(
          op, "only m16n8k16 bf16 x bf16 + f32 (vector<4x2xbf16>, "
              "vector<2x2xbf16>, vector<2x2xf32>) is lowered here");
    Location loc = op.getLoc();
    SmallVector<Value> a = packBf16Pairs(rewriter, loc, op.getMatrixA());
    SmallVector<Value> b = packBf16Pairs(rewriter, loc, op.getMatrixB());
    SmallVector<Value> c;
    for (int64_t i = 0; i < 4; ++i)
      c.push_back(vector::ExtractOp::create(
          rewriter, loc, op.getMatrixC(), ArrayRef<int64_t>{i / 2, i % 2}));
    Type f32 = rewriter.getF32Type();
    auto resultType = LLVM::LLVMStructType::getLiteral(
        rewriter.getContext(), {f32, f32, f32, f32});
    auto mma = NVVM::MmaOp::create(
        rewriter, loc, resultType, a, b, c, shape,
        /*b1Op=*/std::nullopt, /*intOverflow=*/std::nullopt,
        std::array<NVVM::MMATypes, 2>{NVVM::MMATypes::bf16,
                                      NVVM::MMATypes::bf16},
        std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                       NVVM::MMALayout::col});
    SmallVector<Value> d;
    for (int64_t i = 0; i < 4; ++i)
      d.push_back(LLVM::ExtractValueOp::create(rewriter, loc, mma, i));
    rewriter.replaceOpWithNewOp<vector::FromElementsOp>(op, cType, d);
    return success();
  }
};

struct DeltaNetGpuLowerBf16MmaSyncPass
    : public deltanet::impl::DeltaNetGpuLowerBf16MmaSyncBase<
          DeltaNetGpuLowerBf16MmaSyncPass> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<Bf16MmaSyncToNVVM>(&getContext());
    walkAndApplyPatterns(getOperation(), std::move(patterns));
  }
};

} // namespace
