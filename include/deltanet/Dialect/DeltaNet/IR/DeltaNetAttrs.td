//===- DeltaNetAttrs.td - DeltaNet enums and attributes ----*- tablegen -*-===//
//
// Enumerations and attributes that steer how deltanet ops are lowered.
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_DIALECT_DELTANET_IR_DELTANETATTRS_TD
#define DELTANET_DIALECT_DELTANET_IR_DELTANETATTRS_TD

include "deltanet/Dialect/DeltaNet/IR/DeltaNetDialect.td"
include "mlir/IR/EnumAttr.td"

def DeltaNet_TriInvStrategy : I32EnumAttr<"TriInvStrategy",
    "how a unit lower-triangular inverse is computed", [
      I32EnumAttrCase<"ForwardSubstitution", 0, "forward_substitution">,
      I32EnumAttrCase<"Neumann", 1, "neumann">,
      I32EnumAttrCase<"Blocked", 2, "blocked">
    ]> {
  let cppNamespace = "::mlir::deltanet";
  let genSpecializedAttr = 0;
}

def DeltaNet_TriInvStrategyAttr
    : EnumAttr<DeltaNet_Dialect, DeltaNet_TriInvStrategy, "strategy"> {
  let summary = "lowering strategy of `deltanet.tri_inv`";
  let description = [{
    * `forward_substitution`: exact, row by row (the sequential baseline).
    * `neumann`: truncated Neumann series in product form
      `(I - L)(I + L^2)(I + L^4)...`, matmul-only.
    * `blocked`: exact Neumann inverse of each diagonal block, then
      matmul-only merges `X21 = -X22 L21 X11` that double the solved size.
  }];
  let assemblyFormat = "`<` $value `>`";
}

def DeltaNet_TriInvPrecision : I32EnumAttr<"TriInvPrecision",
    "element type of the matmul operands of a tri_inv lowering", [
      I32EnumAttrCase<"F32", 0, "f32">,
      I32EnumAttrCase<"BF16", 1, "bf16">,
      I32EnumAttrCase<"F16", 2, "f16">,
      I32EnumAttrCase<"I8", 3, "i8">
    ]> {
  let cppNamespace = "::mlir::deltanet";
  let genSpecializedAttr = 0;
}

def DeltaNet_TriInvPrecisionAttr
    : EnumAttr<DeltaNet_Dialect, DeltaNet_TriInvPrecision, "precision"> {
  let summary = "matmul operand precision of `deltanet.tri_inv`";
  let description = [{
    * `f32`: every matmul in f32.
    * `bf16`, `f16`: the operands of every matmul rounded to that type,
      products accumulated in f32 (what matrix units do).
    * `i8`: the operands of every matmul quantised to symmetric INT8 with
      their own scales (`deltanet.quantize`), multiplied in i8 x i8 -> i32,
      and rescaled to f32 (`deltanet.dequantize`): every power and every
      block uses the whole int8 range.
  }];
  let assemblyFormat = "`<` $value `>`";
}

def DeltaNet_QuantGranularity : I32EnumAttr<"QuantGranularity",
    "which elements share one INT8 scale", [
      I32EnumAttrCase<"Row", 0, "row">,
      I32EnumAttrCase<"Matrix", 1, "matrix">
    ]> {
  let cppNamespace = "::mlir::deltanet";
  let genSpecializedAttr = 0;
}

#endif // DELTANET_DIALECT_DELTANET_IR_DELTANETATTRS_TD
