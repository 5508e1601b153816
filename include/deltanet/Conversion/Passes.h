//===- Passes.h - deltanet conversion passes --------------------*- C++ -*-===//
//
// Declares the passes converting deltanet ops to upstream dialects and
// their registration.
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_CONVERSION_PASSES_H
#define DELTANET_CONVERSION_PASSES_H

#include "deltanet/Conversion/DeltaNetToLinalg/DeltaNetToLinalg.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"

namespace mlir {
namespace deltanet {

#define GEN_PASS_REGISTRATION
#include "deltanet/Conversion/Passes.h.inc"

} // namespace deltanet
} // namespace mlir

#endif // DELTANET_CONVERSION_PASSES_H
