//===- NPUDialect.cpp - npu dialect registration --------------------------===//
//
// Registers the ops and attributes of the npu dialect.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Dialect/NPU/IR/NPUDialect.h"
#include "deltanet/Dialect/NPU/IR/NPUOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::deltanet::npu;

#include "deltanet/Dialect/NPU/IR/NPUOpsDialect.cpp.inc"

#include "deltanet/Dialect/NPU/IR/NPUEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "deltanet/Dialect/NPU/IR/NPUAttrs.cpp.inc"

void NPUDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "deltanet/Dialect/NPU/IR/NPUOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "deltanet/Dialect/NPU/IR/NPUAttrs.cpp.inc"
      >();
}
