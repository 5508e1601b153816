//===- NPUDialect.h - npu dialect declaration -------------------*- C++ -*-===//
//
// Declares the npu dialect class.
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_DIALECT_NPU_IR_NPUDIALECT_H
#define DELTANET_DIALECT_NPU_IR_NPUDIALECT_H

#include "mlir/IR/Dialect.h"

#include "deltanet/Dialect/NPU/IR/NPUOpsDialect.h.inc"

#endif // DELTANET_DIALECT_NPU_IR_NPUDIALECT_H
