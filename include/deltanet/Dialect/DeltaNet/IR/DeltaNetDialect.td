//===- DeltaNetDialect.td - DeltaNet dialect definition ----*- tablegen -*-===//
//
// The `deltanet` dialect: chunk-wise Gated DeltaNet linear attention.
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_DIALECT_DELTANET_IR_DELTANETDIALECT_TD
#define DELTANET_DIALECT_DELTANET_IR_DELTANETDIALECT_TD

include "mlir/IR/OpBase.td"

def DeltaNet_Dialect : Dialect {
  let name = "deltanet";
  let summary = "Chunk-wise Gated DeltaNet linear attention and its building blocks";
  let description = [{
    The `deltanet` dialect expresses the computations of chunk-wise Gated
    DeltaNet linear attention (the layer of Qwen3-Next / Qwen3.5 style models)
    at a level where the compiler can still choose *how* to compute them.

    Its central building block is `deltanet.tri_inv`, the inverse of the unit
    lower-triangular matrix `I + L` every chunk has to invert. The lowering
    passes rewrite it into matmul-only forms (blocked Neumann inverses with
    matmul merges, truncated Neumann products with structural masking and
    residual correction) on `linalg` and `tensor`, or into the exact forward
    substitution baseline.
  }];
  let cppNamespace = "::mlir::deltanet";
  let useDefaultAttributePrinterParser = 1;
}

#endif // DELTANET_DIALECT_DELTANET_IR_DELTANETDIALECT_TD
