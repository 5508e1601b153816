//===- DeltaNetDialect.cpp - DeltaNet dialect registration ----------------===//
//
// Registers the ops and attributes of the deltanet dialect.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Dialect/DeltaNet/IR/DeltaNetDialect.h"
#include "deltanet/Dialect/DeltaNet/IR/DeltaNetOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::deltanet;

#include "deltanet/Dialect/DeltaNet/IR/DeltaNetOpsDialect.cpp.inc"

#include "deltanet/Dialect/DeltaNet/IR/DeltaNetEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "deltanet/Dialect/DeltaNet/IR/DeltaNetAttrs.cpp.inc"

void DeltaNetDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "deltanet/Dialect/DeltaNet/IR/DeltaNetOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "deltanet/Dialect/DeltaNet/IR/DeltaNetAttrs.cpp.inc"
      >();
}
