//===- Passes.h - NPU codegen passes ----------------------------*- C++ -*-===//
//
// Declares the passes that map linalg to the npu dialect and emit C.
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_CODEGEN_NPU_PASSES_H
#define DELTANET_CODEGEN_NPU_PASSES_H

#include "deltanet/Dialect/DeltaNet/IR/DeltaNetAttrs.h"
#include "deltanet/Dialect/NPU/IR/NPUOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/EmitC/IR/EmitC.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir {
namespace deltanet {

#define GEN_PASS_DECL
#include "deltanet/Codegen/NPU/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "deltanet/Codegen/NPU/Passes.h.inc"

} // namespace deltanet
} // namespace mlir

#endif // DELTANET_CODEGEN_NPU_PASSES_H
