//===- DeltaNetOps.h - DeltaNet operations ----------------------*- C++ -*-===//
//
// Declares the operations of the deltanet dialect.
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_DIALECT_DELTANET_IR_DELTANETOPS_H
#define DELTANET_DIALECT_DELTANET_IR_DELTANETOPS_H

#include "deltanet/Dialect/DeltaNet/IR/DeltaNetAttrs.h"
#include "deltanet/Dialect/DeltaNet/IR/DeltaNetDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/TilingInterface.h"

#define GET_OP_CLASSES
#include "deltanet/Dialect/DeltaNet/IR/DeltaNetOps.h.inc"

#endif // DELTANET_DIALECT_DELTANET_IR_DELTANETOPS_H
