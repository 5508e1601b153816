//===- PrecisionMatmul.h - Batched matmuls in a chosen precision -*- C++ -*-===//
//
// One batched matmul on f32 tensors with its operands represented in a
// lower precision (bf16 / f16 rounding, symmetric INT8 quantisation), the
// sum in f32: shared by the tri_inv and chunk-stage lowerings.
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_LIB_CONVERSION_DELTANETTOLINALG_PRECISIONMATMUL_H
#define DELTANET_LIB_CONVERSION_DELTANETTOLINALG_PRECISIONMATMUL_H

#include "deltanet/Dialect/DeltaNet/IR/DeltaNetAttrs.h"
#include "mlir/IR/Value.h"

namespace mlir {
namespace deltanet {
class StructuredBuilder;

/// `acc + lhs @ rhs` (or `lhs @ rhs` when `acc` is null) on f32 tensors
/// `batch x m x k` and `batch x k x n`, with the operands represented as
/// `precision` says: f32 unchanged; bf16 / f16 each operand rounded by a
/// `linalg.generic` of one `arith.truncf` (operands already of that type are
/// used as they are); i8 each operand quantised (`deltanet.quantize`, scales
/// per row of `lhs` and column of `rhs`, or per matrix), an i8 x i8 -> i32
/// matmul, `deltanet.dequantize` and an f32 add of `acc`. The sum is f32.
Value emitPrecisionMatmul(StructuredBuilder &sb, Value lhs, Value rhs,
                          Value acc, TriInvPrecision precision,
                          QuantGranularity granularity);

} // namespace deltanet
} // namespace mlir

#endif // DELTANET_LIB_CONVERSION_DELTANETTOLINALG_PRECISIONMATMUL_H
