//===- NpuToEmitC.cpp - npu, buffers and control flow to EmitC ------------===//
//
// The final conversion of --deltanet-npu-pipeline: upstream arith/scf/math/
// func to EmitC, plus buffers as C pointers and npu ops as calls of the
// runtime header npu_runtime.h.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Codegen/NPU/Passes.h"

#include "mlir/Conversion/ArithToEmitC/ArithToEmitC.h"
#include "mlir/Conversion/FuncToEmitC/FuncToEmitC.h"
#include "mlir/Conversion/MathToEmitC/MathToEmitC.h"
#include "mlir/Conversion/SCFToEmitC/SCFToEmitC.h"
#include "mlir/Dialect/EmitC/Transforms/TypeConversions.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Transforms/DialectConversion.h"
#include "llvm/ADT/StringExtras.h"

namespace mlir {
namespace deltanet {
#define GEN_PASS_DEF_DELTANETNPUTOEMITC
#include "deltanet/Codegen/NPU/Passes.h.inc"
} // namespace deltanet
} // namespace mlir

using namespace mlir;
using namespace mlir::deltanet;
using namespace mlir::deltanet::npu;

namespace {

/// Runtime views passed to npu_vec_read/npu_vec_write have at most this
/// many dimensions.
constexpr int64_t kMaxViewRank = 6;

Type sizeT(MLIRContext *ctx) { return emitc::SizeTType::get(ctx); }

Value sizeConstant(OpBuilder &b, Location loc, int64_t v) {
  return emitc::ConstantOp::create(b, loc, sizeT(b.getContext()),
                                   b.getIndexAttr(v));
}

/// `v` (an index value of the source program) as a size_t value.
Value asSizeT(ConversionPatternRewriter &rewriter, Location loc, Value v) {
  Value mapped = rewriter.getRemappedValue(v);
  if (!mapped)
    mapped = v;
  if (isa<emitc::SizeTType>(mapped.getType()))
    return mapped;
  return UnrealizedConversionCastOp::create(
             rewriter, loc, sizeT(rewriter.getContext()), mapped)
      .getResult(0);
}

Value foldResultAsSizeT(ConversionPatternRewriter &rewriter, Location loc,
                        OpFoldResult v) {
  if (std::optional<int64_t> c = getConstantIntValue(v))
    return sizeConstant(rewriter, loc, *c);
  return asSizeT(rewriter, loc, cast<Value>(v));
}

/// Sizes and strides (in elements) of a buffer of the source program, as
/// size_t values: from the memref.reinterpret_cast that made the view, or
/// from a statically strided type.
struct Geometry {
  SmallVector<Value> sizes, strides;
};

FailureOr<Geometry>
geometryOf(Value buffer, ConversionPatternRewriter &rewriter, Location loc) {
  Geometry g;
  // A memref.cast only changes what the type knows statically.
  while (auto cast = buffer.getDefiningOp<memref::CastOp>())
    buffer = cast.getSource();
  if (auto cast = buffer.getDefiningOp<memref::ReinterpretCastOp>()) {
    for (OpFoldResult s : cast.getMixedSizes())
      g.sizes.push_back(foldResultAsSizeT(rewriter, loc, s));
    for (OpFoldResult s : cast.getMixedStrides())
      g.strides.push_back(foldResultAsSizeT(rewriter, loc, s));
    return g;
  }
  auto type = cast<MemRefType>(buffer.getType());
  SmallVector<int64_t> strides;
  int64_t offset;
  if (!type.hasStaticShape() ||
      failed(type.getStridesAndOffset(strides, offset)) ||
      llvm::any_of(strides, ShapedType::isDynamic))
    return failure();
  for (int64_t s : type.getShape())
    g.sizes.push_back(sizeConstant(rewriter, loc, s));
  for (int64_t s : strides)
    g.strides.push_back(sizeConstant(rewriter, loc, s));
  return g;
}

int64_t elementBytes(Value buffer) {
  return llvm::divideCeil(
      cast<MemRefType>(buffer.getType()).getElementTypeBitWidth(), 8);
}

/// A call of the runtime with no results.
void callRuntime(OpBuilder &b, Location loc, StringRef callee,
                 ValueRange operands) {
  emitc::CallOpaqueOp::create(b, loc, TypeRange{}, callee, operands);
}

/// The element offset of `indices` with static `strides`, as size_t.
Value linearIndex(OpBuilder &b, Location loc, ValueRange indices,
                  ArrayRef<int64_t> strides) {
  Type st = sizeT(b.getContext());
  Value sum;
  for (auto [index, stride] : llvm::zip(indices, strides)) {
    Value term = index;
    if (stride != 1)
      term =
          emitc::MulOp::create(b, loc, st, index, sizeConstant(b, loc, stride));
    sum = sum ? emitc::AddOp::create(b, loc, st, sum, term).getResult() : term;
  }
  return sum ? sum : sizeConstant(b, loc, 0);
}

/// Static strides of `type` (loads and stores after fold-memref-alias-ops
/// address allocations and arguments, whose strides are static).
FailureOr<SmallVector<int64_t>> staticStrides(MemRefType type) {
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(type.getStridesAndOffset(strides, offset)) ||
      llvm::any_of(strides, ShapedType::isDynamic))
    return failure();
  return strides;
}

//===----------------------------------------------------------------------===//
// Buffers
//===----------------------------------------------------------------------===//

/// memref.alloc / memref.alloca -> npu_alloc(bytes): the runtime places it
/// in local memory while it fits, else in global memory.
template <typename AllocOp>
struct AllocLowering : public OpConversionPattern<AllocOp> {
  using OpConversionPattern<AllocOp>::OpConversionPattern;
  LogicalResult
  matchAndRewrite(AllocOp op, typename AllocOp::Adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    MemRefType type = op.getType();
    if (!type.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "dynamic allocation");
    Location loc = op.getLoc();
    int64_t bytes = type.getNumElements() *
                    llvm::divideCeil(type.getElementTypeBitWidth(), 8);
    MLIRContext *ctx = rewriter.getContext();
    auto voidPtr = emitc::PointerType::get(emitc::OpaqueType::get(ctx, "void"));
    Value raw = emitc::CallOpaqueOp::create(
                    rewriter, loc, TypeRange{voidPtr}, "npu_alloc",
                    ValueRange{sizeConstant(rewriter, loc, bytes)})
                    .getResult(0);
    rewriter.replaceOpWithNewOp<emitc::CastOp>(
        op, this->getTypeConverter()->convertType(type), raw);
    return success();
  }
};

/// memref.dealloc: the runtime's arena is reset between kernel calls.
struct DeallocLowering : public OpConversionPattern<memref::DeallocOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(memref::DeallocOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.eraseOp(op);
    return success();
  }
};

/// The lvalue `ptr[linear index]` of element `indices` of a statically
/// strided buffer, or failure (with the reason) for dynamic strides.
static FailureOr<Value> elementLValue(ConversionPatternRewriter &rewriter,
                                      Operation *op, MemRefType type,
                                      Value converted, ValueRange indices) {
  FailureOr<SmallVector<int64_t>> strides = staticStrides(type);
  if (failed(strides))
    return rewriter.notifyMatchFailure(op, "dynamic strides");
  Value index = linearIndex(rewriter, op->getLoc(), indices, *strides);
  auto ptr = cast<TypedValue<emitc::PointerType>>(converted);
  return emitc::SubscriptOp::create(rewriter, op->getLoc(), ptr, index)
      .getResult();
}

struct LoadLowering : public OpConversionPattern<memref::LoadOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(memref::LoadOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    FailureOr<Value> lvalue =
        elementLValue(rewriter, op, op.getMemRefType(), adaptor.getMemref(),
                      adaptor.getIndices());
    if (failed(lvalue))
      return failure();
    rewriter.replaceOpWithNewOp<emitc::LoadOp>(
        op, getTypeConverter()->convertType(op.getType()), *lvalue);
    return success();
  }
};

struct StoreLowering : public OpConversionPattern<memref::StoreOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(memref::StoreOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    FailureOr<Value> lvalue =
        elementLValue(rewriter, op, op.getMemRefType(), adaptor.getMemref(),
                      adaptor.getIndices());
    if (failed(lvalue))
      return failure();
    rewriter.replaceOpWithNewOp<emitc::AssignOp>(op, *lvalue,
                                                 adaptor.getValue());
    return success();
  }
};

/// memref.reinterpret_cast (a view after expand-strided-metadata): the
/// pointer to its first element. Consumers read sizes and strides from the
/// op itself (geometryOf).
struct ReinterpretCastLowering
    : public OpConversionPattern<memref::ReinterpretCastOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(memref::ReinterpretCastOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value offset =
        foldResultAsSizeT(rewriter, loc, op.getMixedOffsets().front());
    Type type = getTypeConverter()->convertType(op.getType());
    // Pointer arithmetic takes a (signed) integer in EmitC.
    offset =
        emitc::CastOp::create(rewriter, loc, rewriter.getI64Type(), offset);
    rewriter.replaceOpWithNewOp<emitc::AddOp>(op, type, adaptor.getSource(),
                                              offset);
    return success();
  }
};

/// memref.cast: the same pointer.
struct CastLowering : public OpConversionPattern<memref::CastOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(memref::CastOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(op, adaptor.getSource());
    return success();
  }
};

/// memref.extract_strided_metadata of a statically strided buffer: the
/// same pointer as base (its offset subtracted) and constants.
struct ExtractStridedMetadataLowering
    : public OpConversionPattern<memref::ExtractStridedMetadataOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(memref::ExtractStridedMetadataOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = cast<MemRefType>(op.getSource().getType());
    SmallVector<int64_t> strides;
    int64_t offset;
    if (!type.hasStaticShape() ||
        failed(type.getStridesAndOffset(strides, offset)) ||
        ShapedType::isDynamic(offset) ||
        llvm::any_of(strides, ShapedType::isDynamic))
      return rewriter.notifyMatchFailure(op, "dynamic metadata");
    Location loc = op.getLoc();
    Value base = adaptor.getSource();
    Type baseType =
        getTypeConverter()->convertType(op.getBaseBuffer().getType());
    if (offset != 0)
      base = emitc::SubOp::create(
          rewriter, loc, baseType, base,
          emitc::ConstantOp::create(rewriter, loc, rewriter.getI64Type(),
                                    rewriter.getI64IntegerAttr(offset)));
    SmallVector<Value> results = {base, sizeConstant(rewriter, loc, offset)};
    for (int64_t s : type.getShape())
      results.push_back(sizeConstant(rewriter, loc, s));
    for (int64_t s : strides)
      results.push_back(sizeConstant(rewriter, loc, s));
    rewriter.replaceOp(op, results);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// npu ops
//===----------------------------------------------------------------------===//

struct AllocLocalLowering : public OpConversionPattern<AllocLocalOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(AllocLocalOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MemRefType type = op.getType();
    int64_t bytes = type.getNumElements() *
                    llvm::divideCeil(type.getElementTypeBitWidth(), 8);
    MLIRContext *ctx = rewriter.getContext();
    auto voidPtr = emitc::PointerType::get(emitc::OpaqueType::get(ctx, "void"));
    Value raw =
        emitc::CallOpaqueOp::create(
            rewriter, loc, TypeRange{voidPtr}, "npu_alloc_local",
            ValueRange{sizeConstant(rewriter, loc,
                                    static_cast<int64_t>(op.getSpace())),
                       sizeConstant(rewriter, loc, bytes)})
            .getResult(0);
    rewriter.replaceOpWithNewOp<emitc::CastOp>(
        op, getTypeConverter()->convertType(type), raw);
    return success();
  }
};

struct DmaLowering : public OpConversionPattern<DmaOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(DmaOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    FailureOr<Geometry> src = geometryOf(op.getSource(), rewriter, loc);
    FailureOr<Geometry> dst = geometryOf(op.getTarget(), rewriter, loc);
    if (failed(src) || failed(dst))
      return rewriter.notifyMatchFailure(op, "unknown window geometry");
    callRuntime(rewriter, loc, "npu_dma",
                {adaptor.getTarget(), dst->sizes[0], dst->sizes[1],
                 dst->strides[0], dst->strides[1], adaptor.getSource(),
                 src->sizes[0], src->sizes[1], src->strides[0], src->strides[1],
                 sizeConstant(rewriter, loc, elementBytes(op.getSource()))});
    rewriter.eraseOp(op);
    return success();
  }
};

struct MatmulLowering : public OpConversionPattern<MatmulOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(MatmulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    FailureOr<Geometry> lhs = geometryOf(op.getLhs(), rewriter, loc);
    FailureOr<Geometry> rhs = geometryOf(op.getRhs(), rewriter, loc);
    FailureOr<Geometry> acc = geometryOf(op.getAcc(), rewriter, loc);
    if (failed(lhs) || failed(rhs) || failed(acc))
      return rewriter.notifyMatchFailure(op, "unknown tile geometry");
    auto lhsType = cast<MemRefType>(op.getLhs().getType());
    auto rhsType = cast<MemRefType>(op.getRhs().getType());
    StringRef callee =
        lhsType.getElementType().isF16() ? "npu_matmul_f16" : "npu_matmul_i8";
    callRuntime(rewriter, loc, callee,
                {adaptor.getLhs(), adaptor.getRhs(), adaptor.getAcc(),
                 sizeConstant(rewriter, loc, lhsType.getDimSize(0)),
                 sizeConstant(rewriter, loc, rhsType.getDimSize(1)),
                 sizeConstant(rewriter, loc, lhsType.getDimSize(1)),
                 lhs->strides[0], rhs->strides[0], acc->strides[0],
                 sizeConstant(rewriter, loc, op.getAccumulate() ? 1 : 0)});
    rewriter.eraseOp(op);
    return success();
  }
};

/// npu.vector -> npu_vec_read/npu_vec_write per buffer, npu_vec_issue with
/// the cost, then the body inline (it computes the result on the host).
struct VectorLowering : public OpConversionPattern<VectorOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(VectorOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto declare = [&](StringRef callee, Value original,
                       Value converted) -> LogicalResult {
      FailureOr<Geometry> g = geometryOf(original, rewriter, loc);
      if (failed(g) || g->sizes.size() > kMaxViewRank)
        return failure();
      SmallVector<Value> operands = {
          converted, sizeConstant(rewriter, loc, elementBytes(original)),
          sizeConstant(rewriter, loc, g->sizes.size())};
      for (int64_t d = 0; d < kMaxViewRank; ++d) {
        bool real = d < static_cast<int64_t>(g->sizes.size());
        operands.push_back(real ? g->sizes[d] : sizeConstant(rewriter, loc, 1));
        operands.push_back(real ? g->strides[d]
                                : sizeConstant(rewriter, loc, 0));
      }
      callRuntime(rewriter, loc, callee, operands);
      return success();
    };
    for (auto [original, converted] :
         llvm::zip(op.getInputs(), adaptor.getInputs()))
      if (failed(declare("npu_vec_read", original, converted)))
        return rewriter.notifyMatchFailure(op, "unknown input geometry");
    for (auto [original, converted] :
         llvm::zip(op.getOutputs(), adaptor.getOutputs()))
      if (failed(declare("npu_vec_write", original, converted)))
        return rewriter.notifyMatchFailure(op, "unknown output geometry");
    if (op.getDataMovement())
      callRuntime(rewriter, loc, "npu_move_issue", {});
    else
      callRuntime(rewriter, loc, "npu_vec_issue",
                  {adaptor.getInstrs(), adaptor.getChain()});
    Block &body = op.getBody().front();
    rewriter.eraseOp(body.getTerminator());
    rewriter.inlineBlockBefore(&body, op);
    rewriter.eraseOp(op);
    return success();
  }
};

/// Float min/max that upstream arith-to-emitc leaves alone: C99 fmaxf/fminf
/// (NaN handling is not an issue on these finite values).
template <typename Op>
struct FloatMinMaxLowering : public OpConversionPattern<Op> {
  FloatMinMaxLowering(const TypeConverter &tc, MLIRContext *ctx,
                      StringRef callee)
      : OpConversionPattern<Op>(tc, ctx), callee(callee) {}
  LogicalResult
  matchAndRewrite(Op op, typename Op::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Type type = op.getType();
    if (!type.isF32() && !type.isF16())
      return rewriter.notifyMatchFailure(op, "not f32/f16");
    Value result = emitc::CallOpaqueOp::create(rewriter, op.getLoc(),
                                               TypeRange{rewriter.getF32Type()},
                                               callee, adaptor.getOperands())
                       .getResult(0);
    if (!type.isF32())
      result = emitc::CastOp::create(rewriter, op.getLoc(), type, result);
    rewriter.replaceOp(op, result);
    return success();
  }
  std::string callee;
};

/// math.roundeven (INT8 quantisation) -> C99 rintf: round to nearest,
/// ties to even, in the default rounding mode.
struct RoundEvenLowering : public OpConversionPattern<math::RoundEvenOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(math::RoundEvenOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (!op.getType().isF32())
      return rewriter.notifyMatchFailure(op, "not f32");
    rewriter.replaceOpWithNewOp<emitc::CallOpaqueOp>(
        op, TypeRange{op.getType()}, "rintf", adaptor.getOperands());
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Pass
//===----------------------------------------------------------------------===//

/// `NPU_TARGET(...)`: the target's parameters as the runtime's struct.
std::string targetDefinition(TargetAttr t) {
  std::string text;
  llvm::raw_string_ostream os(text);
  auto tile = [&](ArrayRef<int64_t> v) {
    os << v[0] << ", " << v[1] << ", " << v[2] << ", ";
  };
  os << "NPU_TARGET(\"" << t.getName() << "\", " << t.getClockMhz() << ", ";
  tile(t.getMmTileF16());
  os << t.getMmCyclesF16() << ", ";
  tile(t.getMmTileI8());
  os << t.getMmCyclesI8() << ", " << t.getMmLatency() << ", "
     << t.getVectorBits() << ", " << t.getVectorIssue() << ", "
     << t.getVectorLatency() << ", " << t.getMmLhsBytes() << ", "
     << t.getMmRhsBytes() << ", " << t.getMmAccBytes() << ", "
     << t.getLocalBytes() << ", " << t.getDmaGlobalBytesPerCycle() << ", "
     << t.getDmaLocalBytesPerCycle() << ", " << t.getDmaLatency() << ")";
  return text;
}

struct DeltaNetNpuToEmitCPass
    : public deltanet::impl::DeltaNetNpuToEmitCBase<DeltaNetNpuToEmitCPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    auto target = module->getAttrOfType<TargetAttr>(kTargetAttrName);
    if (!target) {
      emitError(module.getLoc())
          << "npu: the module has no npu.target attribute (run "
             "deltanet-npu-map-to-units first)";
      return signalPassFailure();
    }

    TypeConverter typeConverter;
    typeConverter.addConversion([](Type type) { return type; });
    populateEmitCSizeTTypeConversions(typeConverter);
    typeConverter.addConversion([](MemRefType type) -> Type {
      return emitc::PointerType::get(type.getElementType());
    });
    auto materialize = [](OpBuilder &b, Type type, ValueRange inputs,
                          Location loc) -> Value {
      return UnrealizedConversionCastOp::create(b, loc, type, inputs)
          .getResult(0);
    };
    typeConverter.addSourceMaterialization(materialize);
    typeConverter.addTargetMaterialization(materialize);

    RewritePatternSet patterns(ctx);
    populateArithToEmitCPatterns(typeConverter, patterns);
    populateFuncToEmitCPatterns(typeConverter, patterns);
    populateSCFToEmitCConversionPatterns(patterns, typeConverter);
    populateConvertMathToEmitCPatterns(patterns, emitc::LanguageTarget::c99);
    patterns.add<
        AllocLowering<memref::AllocOp>, AllocLowering<memref::AllocaOp>,
        DeallocLowering, LoadLowering, StoreLowering, ReinterpretCastLowering,
        CastLowering, ExtractStridedMetadataLowering, AllocLocalLowering,
        DmaLowering, MatmulLowering, VectorLowering, RoundEvenLowering>(
        typeConverter, ctx);
    patterns.add<FloatMinMaxLowering<arith::MaximumFOp>,
                 FloatMinMaxLowering<arith::MaxNumFOp>>(typeConverter, ctx,
                                                        "fmaxf");
    patterns.add<FloatMinMaxLowering<arith::MinimumFOp>,
                 FloatMinMaxLowering<arith::MinNumFOp>>(typeConverter, ctx,
                                                        "fminf");

    ConversionTarget conversionTarget(*ctx);
    conversionTarget.addLegalDialect<emitc::EmitCDialect>();
    conversionTarget.addIllegalDialect<arith::ArithDialect, func::FuncDialect,
                                       math::MathDialect, memref::MemRefDialect,
                                       scf::SCFDialect, NPUDialect>();
    conversionTarget.addLegalOp<ModuleOp, UnrealizedConversionCastOp>();
    if (failed(applyPartialConversion(module, conversionTarget,
                                      std::move(patterns)))) {
      emitError(module.getLoc())
          << "npu: could not convert the program to EmitC";
      return signalPassFailure();
    }

    // The runtime header, libm, and the target for the cost model.
    OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
    emitc::IncludeOp::create(b, module.getLoc(), "math.h", true);
    emitc::IncludeOp::create(b, module.getLoc(), "npu_runtime.h", false);
    emitc::VerbatimOp::create(b, module.getLoc(),
                              b.getStringAttr(targetDefinition(target)));
    module->removeAttr(kTargetAttrName);
  }
};

} // namespace
