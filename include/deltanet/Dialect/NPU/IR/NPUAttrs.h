//===- NPUAttrs.h - npu target attribute and enums --------------*- C++ -*-===//
//
// Declares #npu.target, the local memory spaces and the target presets.
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_DIALECT_NPU_IR_NPUATTRS_H
#define DELTANET_DIALECT_NPU_IR_NPUATTRS_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectImplementation.h"

#include "deltanet/Dialect/NPU/IR/NPUEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "deltanet/Dialect/NPU/IR/NPUAttrs.h.inc"

namespace mlir::deltanet::npu {

/// The name of the module attribute that holds the target of npu code.
inline constexpr llvm::StringLiteral kTargetAttrName = "npu.target";

/// The preset `name` ("mobile": Hexagon class, "datacenter": Ascend class;
/// docs/NPU.md cites every figure), or null for an unknown name.
TargetAttr getTargetPreset(MLIRContext *ctx, StringRef name);

} // namespace mlir::deltanet::npu

#endif // DELTANET_DIALECT_NPU_IR_NPUATTRS_H
