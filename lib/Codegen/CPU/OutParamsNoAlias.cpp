//===- OutParamsNoAlias.cpp - Out-param data pointers marked noalias ------===//
//
// Marks the data pointers of the out-param arguments that upstream
// buffer-results-to-out-params created `noalias` in the LLVM functions, in
// two steps around convert-func-to-llvm, which drops argument attributes of
// the memrefs it expands into several arguments.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Codegen/CPU/Passes.h"

#include "mlir/Conversion/LLVMCommon/TypeConverter.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

namespace mlir {
namespace deltanet {
#define GEN_PASS_DEF_DELTANETCPURECORDOUTPARAMSNOALIAS
#define GEN_PASS_DEF_DELTANETCPUAPPLYOUTPARAMSNOALIAS
#include "deltanet/Codegen/CPU/Passes.h.inc"
} // namespace deltanet
} // namespace mlir

using namespace mlir;
using namespace mlir::deltanet;

namespace {

/// What buffer-results-to-out-params (with `add-result-attr`) puts on the
/// arguments it adds.
constexpr llvm::StringLiteral kOutParamAttrName = "bufferize.result";
/// The function attribute carrying the positions across the conversion.
constexpr llvm::StringLiteral kNoAliasArguments = "deltanet.noalias_arguments";
/// The number of arguments the LLVM function is expected to have: the
/// C-interface wrapper that convert-func-to-llvm adds copies the function's
/// attributes but has one pointer per memref, and is left alone.
constexpr llvm::StringLiteral kLLVMArgumentCount =
    "deltanet.llvm_argument_count";

struct RecordOutParamsNoAliasPass
    : public deltanet::impl::DeltaNetCpuRecordOutParamsNoAliasBase<
          RecordOutParamsNoAliasPass> {
  using Base::Base;

  void runOnOperation() override {
    getOperation()->walk([](func::FuncOp func) { record(func); });
  }

  static void record(func::FuncOp func) {
    if (func.isExternal())
      return;
    // The signature convert-func-to-llvm will give the function (its
    // default options, as the CPU pipeline runs it): a ranked memref
    // becomes (allocated, aligned, offset, sizes..., strides...).
    LLVMTypeConverter converter(func.getContext());
    LLVMTypeConverter::SignatureConversion signature(func.getNumArguments());
    if (!converter.convertFunctionSignature(func.getFunctionType(),
                                           /*isVariadic=*/false,
                                           /*useBarePtrCallConv=*/false,
                                           signature))
      return;
    SmallVector<int64_t> positions;
    for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i) {
      if (!isa<MemRefType>(func.getArgument(i).getType()) ||
          !func.getArgAttr(i, kOutParamAttrName))
        continue;
      std::optional<LLVMTypeConverter::SignatureConversion::InputMapping>
          mapping = signature.getInputMapping(i);
      // The aligned pointer: the one every access goes through.
      if (mapping && mapping->size >= 2)
        positions.push_back(mapping->inputNo + 1);
    }
    if (positions.empty())
      return;
    Builder b(func.getContext());
    func->setAttr(kNoAliasArguments, b.getDenseI64ArrayAttr(positions));
    func->setAttr(kLLVMArgumentCount,
                  b.getI64IntegerAttr(signature.getConvertedTypes().size()));
  }
};

struct ApplyOutParamsNoAliasPass
    : public deltanet::impl::DeltaNetCpuApplyOutParamsNoAliasBase<
          ApplyOutParamsNoAliasPass> {
  using Base::Base;

  void runOnOperation() override {
    WalkResult result = getOperation()->walk([](LLVM::LLVMFuncOp func) {
      return succeeded(apply(func)) ? WalkResult::advance()
                                    : WalkResult::interrupt();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }

  static LogicalResult apply(LLVM::LLVMFuncOp func) {
    auto positions = func->getAttrOfType<DenseI64ArrayAttr>(kNoAliasArguments);
    auto count = func->getAttrOfType<IntegerAttr>(kLLVMArgumentCount);
    func->removeAttr(kNoAliasArguments);
    func->removeAttr(kLLVMArgumentCount);
    if (!positions || !count || func.isExternal() ||
        static_cast<int64_t>(func.getNumArguments()) != count.getInt())
      return success();
    for (int64_t position : positions.asArrayRef()) {
      if (!isa<LLVM::LLVMPointerType>(
              func.getArgument(position).getType())) {
        return func.emitError()
               << "argument " << position
               << " recorded as an out-param's data pointer is not a pointer";
      }
      func.setArgAttr(position, LLVM::LLVMDialect::getNoAliasAttrName(),
                      UnitAttr::get(func.getContext()));
    }
    return success();
  }
};

} // namespace
