//===- Passes.td - DeltaNet transformation passes ----------*- tablegen -*-===//
//
// Declares the passes that lower and optimise deltanet ops.
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_DIALECT_DELTANET_TRANSFORMS_PASSES_TD
#define DELTANET_DIALECT_DELTANET_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def DeltaNetLowerTriInv : Pass<"deltanet-lower-tri-inv"> {
  let summary = "Lower deltanet.tri_inv to linalg and tensor ops";
  let description = [{
    Rewrites every `deltanet.tri_inv` into `linalg` ops on tensors
    (`linalg.batch_matmul` chains, `linalg.generic` masks and gathers,
    `tensor` slicing), following one of three strategies. Per-op attributes
    (`strategy`, `block_size`, `order`, `residual_steps`) override the pass
    options for that op.

    * `blocked` (default, matmul-only and stable): the strictly lower
      triangle `L` is padded with zeros to a power-of-two number of
      `block-size` blocks; every diagonal block is inverted exactly with the
      Neumann product `(I - D)(I + D^2)(I + D^4)...` (log2(block-size)
      factors); solved blocks are then merged pairwise with two matmuls,
      `X21 = -X22 (L21 X11)`, doubling the solved size until it covers `C`.
      Inside a small block the powers of `L` stay small, which is why this
      stays accurate where the full Neumann series does not.
    * `neumann`: `X = (I - L)(I + L^2)(I + L^4)...(I + L^(2^(order-1)))`,
      the sum of the powers `(-L)^k` for `k < 2^order`. `L^k` vanishes on
      its first `k-1` subdiagonals, so every power and every product is
      computed on the band that can be non-zero only (trimmed slices).
      Exact when `2^order >= C`; smaller orders truncate. Numerically
      unsafe for correlated keys with weak decay: the powers can grow to
      1e9 before cancelling.
    * `forward-substitution`: the exact sequential baseline: row `i` of `X`
      is `-L[i, :i] X[:i, :i]`, computed in an `scf.for` over rows.

    `order` counts the Neumann product factors: `-1` (default) is the
    smallest order that makes the result exact (`ceil(log2 C)` for
    `neumann`, `log2(block-size)` for the diagonal blocks of `blocked`);
    explicit values must be >= 1. `residual-steps` appends that many
    corrections `X <- X + X (I - (I + L) X)`, each of which squares the
    truncation error (two matmuls each).

    Low-precision element types (`f16`, `bf16`) are widened to `f32` for the
    computation and rounded once at the end.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect"
  ];
  let options = [
    Option<"strategy", "strategy", "::mlir::deltanet::TriInvStrategy",
           /*default=*/"::mlir::deltanet::TriInvStrategy::Blocked",
           "Default lowering strategy of deltanet.tri_inv",
           [{::llvm::cl::values(
             clEnumValN(::mlir::deltanet::TriInvStrategy::Blocked, "blocked",
                        "exact Neumann diagonal blocks and matmul merges (default)"),
             clEnumValN(::mlir::deltanet::TriInvStrategy::Neumann, "neumann",
                        "(truncated) Neumann product with band trimming"),
             clEnumValN(::mlir::deltanet::TriInvStrategy::ForwardSubstitution,
                        "forward-substitution",
                        "exact row-by-row forward substitution"))}]>,
    Option<"blockSize", "block-size", "int64_t", /*default=*/"16",
           "Diagonal block size of the blocked strategy (a power of two "
           "dividing C; blocks larger than C are clamped to C)">,
    Option<"order", "order", "int64_t", /*default=*/"-1",
           "Number of Neumann product factors; -1 = exact">,
    Option<"residualSteps", "residual-steps", "int64_t", /*default=*/"0",
           "Number of residual corrections X <- X + X (I - (I + L) X)">
  ];
}

def DeltaNetCpuInterchangeReductions
    : Pass<"deltanet-cpu-interchange-reductions"> {
  let summary = "Move reduction loops of linalg.generic ops outward for CPU "
                "vectorisation";
  let description = [{
    Permutes the iteration space of every `linalg.generic` whose innermost
    loop is a reduction so that the parallel dimension indexing the
    contiguous (last) dimension of its output becomes innermost. After
    `convert-linalg-to-loops`, matmuls then have the unit-stride form
    `C[i, j] += A[i, k] * B[k, j]` with `j` innermost, which LLVM's loop
    vectoriser turns into SIMD code without reassociating floating-point
    sums.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

#endif // DELTANET_DIALECT_DELTANET_TRANSFORMS_PASSES_TD
