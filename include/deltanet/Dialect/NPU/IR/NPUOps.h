//===- NPUOps.h - npu dialect operations ------------------------*- C++ -*-===//
//
// Declares the ops of the npu dialect.
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_DIALECT_NPU_IR_NPUOPS_H
#define DELTANET_DIALECT_NPU_IR_NPUOPS_H

#include "deltanet/Dialect/NPU/IR/NPUAttrs.h"
#include "deltanet/Dialect/NPU/IR/NPUDialect.h"

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "deltanet/Dialect/NPU/IR/NPUOps.h.inc"

#endif // DELTANET_DIALECT_NPU_IR_NPUOPS_H
