//===- Passes.h - Codegen passes of every target ----------------*- C++ -*-===//
//
// Declares the codegen passes every deltanet target uses and their
// registration.
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_CODEGEN_COMMON_PASSES_H
#define DELTANET_CODEGEN_COMMON_PASSES_H

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Pass/Pass.h"

namespace mlir {
namespace deltanet {

#define GEN_PASS_DECL
#include "deltanet/Codegen/Common/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "deltanet/Codegen/Common/Passes.h.inc"

} // namespace deltanet
} // namespace mlir

#endif // DELTANET_CODEGEN_COMMON_PASSES_H
