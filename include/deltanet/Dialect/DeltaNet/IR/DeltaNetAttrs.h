//===- DeltaNetAttrs.h - DeltaNet enums and attributes ----------*- C++ -*-===//
//
// Declares the enumerations and attributes of the deltanet dialect.
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_DIALECT_DELTANET_IR_DELTANETATTRS_H
#define DELTANET_DIALECT_DELTANET_IR_DELTANETATTRS_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectImplementation.h"

#include "deltanet/Dialect/DeltaNet/IR/DeltaNetEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "deltanet/Dialect/DeltaNet/IR/DeltaNetAttrs.h.inc"

#endif // DELTANET_DIALECT_DELTANET_IR_DELTANETATTRS_H
