//===- DeltaNetDialect.h - DeltaNet dialect declaration ---------*- C++ -*-===//
//
// Declares the deltanet dialect class.
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_DIALECT_DELTANET_IR_DELTANETDIALECT_H
#define DELTANET_DIALECT_DELTANET_IR_DELTANETDIALECT_H

#include "mlir/IR/Dialect.h"

#include "deltanet/Dialect/DeltaNet/IR/DeltaNetOpsDialect.h.inc"

#endif // DELTANET_DIALECT_DELTANET_IR_DELTANETDIALECT_H
