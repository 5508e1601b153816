//===- ProtectFunctionInputs.cpp - Public tensor arguments read-only ------===//
//
// Marks tensor arguments of public functions `bufferization.writable = false`.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Codegen/Common/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir {
namespace deltanet {
#define GEN_PASS_DEF_DELTANETPROTECTFUNCTIONINPUTS
#include "deltanet/Codegen/Common/Passes.h.inc"
} // namespace deltanet
} // namespace mlir

using namespace mlir;
using namespace mlir::deltanet;

namespace {

struct DeltaNetProtectFunctionInputsPass
    : public deltanet::impl::DeltaNetProtectFunctionInputsBase<
          DeltaNetProtectFunctionInputsPass> {
  using Base::Base;

  void runOnOperation() override {
    StringRef writable = bufferization::BufferizationDialect::kWritableAttrName;
    BoolAttr readOnly = BoolAttr::get(&getContext(), false);
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (func.isExternal() || !func.isPublic())
        continue;
      for (auto [index, type] : llvm::enumerate(func.getArgumentTypes()))
        if (isa<TensorType>(type) && !func.getArgAttr(index, writable))
          func.setArgAttr(index, writable, readOnly);
    }
  }
};

} // namespace
