//===- DeltaNetOps.td - DeltaNet operations ----------------*- tablegen -*-===//
//
// Operations of the deltanet dialect.
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_DIALECT_DELTANET_IR_DELTANETOPS_TD
#define DELTANET_DIALECT_DELTANET_IR_DELTANETOPS_TD

include "deltanet/Dialect/DeltaNet/IR/DeltaNetDialect.td"
include "deltanet/Dialect/DeltaNet/IR/DeltaNetAttrs.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/BuiltinTypes.td"
include "mlir/Interfaces/InferTypeOpInterface.td"

class DeltaNet_Op<string mnemonic, list<Trait> traits = []>
    : Op<DeltaNet_Dialect, mnemonic, traits>;

// Element types are checked by the verifiers, which say which ones are allowed.
def DeltaNet_Tensor : RankedTensorOf<[AnyType]>;

//===----------------------------------------------------------------------===//
// TriInvOp
//===----------------------------------------------------------------------===//

def DeltaNet_TriInvOp : DeltaNet_Op<"tri_inv",
    [Pure, SameOperandsAndResultType]> {
  let summary = "inverse of I + (strictly lower triangle of the operand)";
  let description = [{
    Computes, for each trailing `C x C` matrix `A` of `%a`, the inverse
    `X = (I + L)^-1` where `L = tril(A, -1)` is the strictly lower triangle of
    `A`. The diagonal and the upper triangle of `A` are ignored (they may hold
    anything). `X` is unit lower triangular.

    The operand has rank >= 2: any number of leading batch dimensions (static
    or dynamic) followed by a static square `C x C` matrix of `f32`, `f16` or
    `bf16`. The result has the operand's type. Low-precision element types
    are widened to `f32` for the computation and rounded once at the end.

    The optional attributes override the lowering options of
    `--deltanet-lower-tri-inv` for this op only:

    * `strategy`: `#deltanet.strategy<blocked>` (default of the pass),
      `#deltanet.strategy<neumann>` or `#deltanet.strategy<forward_substitution>`.
    * `block_size`: side of the diagonal blocks of the `blocked` strategy; a
      power of two dividing `C`.
    * `order`: number of Neumann product factors `(I + L^(2^i))`, i = 0..order-1,
      i.e. the series is summed up to the power `2^order - 1`. The result is
      exact (up to rounding) when `2^order >= C` (`neumann`) or
      `2^order >= block_size` (`blocked`, where it applies to the diagonal
      blocks); smaller orders truncate. At least 1.
    * `residual_steps`: number of residual corrections
      `X <- X + X (I - (I + L) X)` applied at the end; each one squares the
      truncation error. At least 0.

    Example:

    ```mlir
    %x = deltanet.tri_inv %a : tensor<?x4x64x64xf32>
    %y = deltanet.tri_inv %a {strategy = #deltanet.strategy<neumann>, order = 3 : i64,
                              residual_steps = 1 : i64} : tensor<64x64xf32>
    ```
  }];

  let arguments = (ins
    DeltaNet_Tensor:$a,
    OptionalAttr<DeltaNet_TriInvStrategyAttr>:$strategy,
    OptionalAttr<I64Attr>:$block_size,
    OptionalAttr<I64Attr>:$order,
    OptionalAttr<I64Attr>:$residual_steps
  );
  let results = (outs DeltaNet_Tensor:$x);

  let assemblyFormat = "$a attr-dict `:` type($a)";
  let hasVerifier = 1;

  let extraClassDeclaration = [{
    /// The side `C` of the trailing square matrices.
    int64_t getMatrixSize() {
      return getA().getType().getShape().back();
    }
    /// The optional integer attributes as signed values (the generated
    /// accessors of I64Attr return them zero-extended).
    std::optional<int64_t> getBlockSizeValue() {
      return signedValue(getBlockSizeAttr());
    }
    std::optional<int64_t> getOrderValue() { return signedValue(getOrderAttr()); }
    std::optional<int64_t> getResidualStepsValue() {
      return signedValue(getResidualStepsAttr());
    }

  private:
    static std::optional<int64_t> signedValue(::mlir::IntegerAttr attr) {
      if (!attr)
        return std::nullopt;
      return attr.getInt();
    }

  public:
  }];
}

#endif // DELTANET_DIALECT_DELTANET_IR_DELTANETOPS_TD
