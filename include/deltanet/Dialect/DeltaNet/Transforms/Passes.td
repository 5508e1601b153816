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

    `precision=bf16|f16` rounds the operands of every matmul to that type
    (one `linalg.generic` of `arith.truncf` per operand) and keeps the
    `linalg.batch_matmul` accumulator in f32, as matrix units do.

    `precision=i8` quantises both operands of every matmul with
    `deltanet.quantize` (symmetric INT8; with `quant-granularity=row` one
    scale per row of the left operand and per column of the right one, with
    `matrix` one per matrix), multiplies them with an i8 x i8 -> i32
    `linalg.batch_matmul`, and rescales the accumulator to f32 with
    `deltanet.dequantize`. Every power `L^k`, every block and every merge
    operand is thus requantised with its own scale: the dynamic range of
    the powers (1e6..1e9 for correlated keys over a 64 chunk) never has to
    fit one scale. Sums, masks and the identity stay f32 (the vector unit).
    The default diagonal block of `blocked` is 4 in INT8: inside 16 x 16
    blocks the powers reach ~60 with correlated keys and the int8 Neumann
    sum loses their cancellation (measured 0.35 relative error at key
    correlation 0.98), while 4 x 4 blocks and INT8 merges hold 1.5e-2 up to
    C = 128. An explicit block size above 8 with `precision=i8` is honoured
    with a warning; so is `precision=i8` with the `neumann`
    strategy on matrices larger than 8, whose powers int8 cannot resolve.

    `tolerance=E` (> 0) chooses `order` and `residual-steps` for every op
    that sets neither, from a rule table measured offline
    (`scripts/calibrate-tri-inv-tolerance.py`: worst relative error over
    realistic chunk matrices, key correlation 0 to 0.6, decay 0.05 to 0.5,
    emulating the precision) by strategy, matrix (or diagonal block) size
    and precision: the cheapest entry whose bound is <= E. A tolerance the
    table cannot meet is an error that names the best bound. A remark
    reports every choice. The table is in `docs/TriInvTolerance.md`.

    The matrices are independent: `batch-tile` wraps the computation in an
    `scf.for` over tiles of that many matrices, so that every intermediate
    of a tile stays in cache instead of streaming the whole batch through
    memory once per matmul.
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
    Option<"blockSize", "block-size", "int64_t", /*default=*/"0",
           "Diagonal block size of the blocked strategy (a power of two "
           "dividing C; blocks larger than C are clamped to C); 0 = 16, or "
           "4 with precision=i8">,
    Option<"order", "order", "int64_t", /*default=*/"-1",
           "Number of Neumann product factors; -1 = exact">,
    Option<"residualSteps", "residual-steps", "int64_t", /*default=*/"0",
           "Number of residual corrections X <- X + X (I - (I + L) X)">,
    Option<"batchTile", "batch-tile", "int64_t", /*default=*/"16",
           "Matrices per iteration of the loop over the batch (0 = the "
           "whole batch at once)">,
    Option<"precision", "precision", "::mlir::deltanet::TriInvPrecision",
           /*default=*/"::mlir::deltanet::TriInvPrecision::F32",
           "Element type of the matmul operands (accumulation is f32)",
           [{::llvm::cl::values(
             clEnumValN(::mlir::deltanet::TriInvPrecision::F32, "f32",
                        "f32 operands"),
             clEnumValN(::mlir::deltanet::TriInvPrecision::BF16, "bf16",
                        "bf16 operands, f32 accumulation"),
             clEnumValN(::mlir::deltanet::TriInvPrecision::F16, "f16",
                        "f16 operands, f32 accumulation"),
             clEnumValN(::mlir::deltanet::TriInvPrecision::I8, "i8",
                        "symmetric INT8 operands, i32 accumulation, "
                        "rescaled to f32"))}]>,
    Option<"quantGranularity", "quant-granularity",
           "::mlir::deltanet::QuantGranularity",
           /*default=*/"::mlir::deltanet::QuantGranularity::Row",
           "Which elements of an INT8 matmul operand share a scale",
           [{::llvm::cl::values(
             clEnumValN(::mlir::deltanet::QuantGranularity::Row, "row",
                        "one scale per row of the left and per column of "
                        "the right operand (default)"),
             clEnumValN(::mlir::deltanet::QuantGranularity::Matrix, "matrix",
                        "one scale per matrix"))}]>,
    Option<"tolerance", "tolerance", "double", /*default=*/"0.0",
           "Relative error the lowering may spend: picks the cheapest order "
           "and residual steps of the rule table within it (0 = use order "
           "and residual-steps as given)">
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

def DeltaNetLowerQuantization : Pass<"deltanet-lower-quantization"> {
  let summary = "Lower deltanet.quantize and deltanet.dequantize to linalg";
  let description = [{
    `deltanet.quantize` becomes a max-abs reduction (`linalg.generic`, the
    reduction dims innermost) and an elementwise `linalg.generic` computing
    `round(x * 127 / max)` clamped to [-127, 127] and truncated to i8;
    `deltanet.dequantize` an elementwise `linalg.generic` of
    `sitofp(acc) * lhs_scale * rhs_scale` broadcasting the scales.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def DeltaNetCpuVectorizeIntegerMatmuls
    : Pass<"deltanet-cpu-vectorize-integer-matmuls"> {
  let summary = "Lower INT8 batched matmuls to integer dot-product vector code";
  let description = [{
    Rewrites every `linalg.batch_matmul` of `i8 x i8 -> i32` on tensors with
    static matrix dims (N a multiple of 4) into the kernel shape of integer
    dot-product units:

    * the right operand is repacked to the VNNI layout `Bv[b, p, 2n + t] =
      B[b, 2p + t, n]` (K padded to even with zeros), so that the two
      products of a pair of `k` sit next to each other and W columns are
      one contiguous vector;
    * for every batch and row, `scf.for` over pairs `p` accumulates W i32
      lanes (W = 16, 8 or 4 dividing N) at once: the pair `(A[m, 2p],
      A[m, 2p+1])` sign-extended to i16 and broadcast, times
      `Bv[p, 2n : 2(n+W)]`
      sign-extended to i16, summed pairwise into the accumulator.

    The pairwise multiply-add is written portably (sign-extending
    multiplies, an even/odd `vector.shuffle` sum, the accumulation): LLVM's
    X86 backend selects it as the integer dot-product instruction
    `vpdpwssd` on every CPU with AVX-512 VNNI or AVX-VNNI (Cascade Lake and
    later, Zen 4 and later, Alder Lake), 32 products and their sums per
    512-bit instruction, and as `vpmaddwd` + `vpaddd` on AVX2 and AVX-512
    CPUs without VNNI. `test/Conversion/CPU/int8-matmul-vnni.mlir` checks
    the assembly for both. Other integer matmuls are left alone.
  }];
  let dependentDialects = [
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::vector::VectorDialect"
  ];
}

def DeltaNetCpuVectorizeMatmuls : Pass<"deltanet-cpu-vectorize-matmuls"> {
  let summary = "Tile static batched matmuls to rows and vectorise them";
  let description = [{
    Tiles every statically shaped `linalg.batch_matmul` on tensors to one
    matrix row per iteration (`scf.for` over batch and rows, upstream
    `TilingInterface` tiling) and vectorises each row product into a
    `vector.contract` (upstream `linalg::vectorize`). The contraction is
    later lowered to outer products over the unit-stride output row, i.e.
    fused multiply-adds on full SIMD vectors, instead of scalar loops that
    LLVM's loop vectoriser declines for short trip counts. Mixed-precision
    matmuls (bf16 x bf16 -> f32) get their operands widened first, which is
    the same computation (batch_matmul extends them before multiplying).
    Matmuls with dynamic shapes are left alone.
  }];
  let dependentDialects = [
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::vector::VectorDialect"
  ];
}

def DeltaNetProtectFunctionInputs
    : Pass<"deltanet-protect-function-inputs", "::mlir::ModuleOp"> {
  let summary = "Mark the tensor arguments of public functions read-only";
  let description = [{
    One-shot bufferization across function boundaries treats function
    arguments as writable unless they carry `bufferization.writable = false`,
    so a loop that starts from an input (a state scan from the initial
    state) may update the caller's buffer in place. This pass adds
    `bufferization.writable = false` to every tensor argument of every public
    function definition that has no such attribute yet: callers (C, C++,
    Python) keep their inputs, and bufferization copies where needed.
  }];
  let dependentDialects = ["::mlir::bufferization::BufferizationDialect"];
}

def DeltaNetCpuCopiesToLinalg : Pass<"deltanet-cpu-copies-to-linalg"> {
  let summary = "Rewrite strided memref.copy into linalg.copy";
  let description = [{
    `memref.copy` between non-contiguous memrefs (subviews, as bufferization
    produces for slices) lowers to a call of the generic `memrefCopy` runtime
    function, which copies element by element through a descriptor walk.
    This pass rewrites such copies into `linalg.copy`, which
    `convert-linalg-to-loops` turns into plain loops that LLVM vectorises.
    Copies between contiguous identity-layout memrefs are left alone (they
    become `memcpy`).
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def DeltaNetDecomposeChunkGatedDeltaRule
    : Pass<"deltanet-decompose-chunk-gated-delta-rule"> {
  let summary = "Decompose deltanet.chunk_gated_delta_rule into its stages";
  let description = [{
    Rewrites every `deltanet.chunk_gated_delta_rule` into:

    1. optional L2 normalisation of `q`, `k` (`linalg.generic` reductions);
    2. zero padding of `T` to a multiple of the chunk size (`tensor.pad`;
       padded tokens have `k = v = q = 0`, `beta = 0`, `g = 0`, which leave
       the state unchanged) and a gather into the chunked layout
       `[B, HV, NC, C, *]`, broadcasting q/k heads to value heads and
       widening to f32;
    3. the in-chunk cumulative log decay `G` (a masked `linalg.generic`);
    4. `deltanet.gated_kkt` -> `deltanet.tri_inv` -> `deltanet.wy_repr`
       over all `B * HV * NC` chunks at once;
    5. `deltanet.chunk_state_scan` across the chunks of each sequence;
    6. `deltanet.chunk_output`, scattered back to `[B, T, HV, V]`.

    The `deltanet.tri_inv` ops it creates are lowered by
    `--deltanet-lower-tri-inv` with that pass's options.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def DeltaNetLowerChunkStages : Pass<"deltanet-lower-chunk-stages"> {
  let summary = "Lower the chunk stage ops to linalg and scf";
  let description = [{
    Lowers `deltanet.gated_kkt`, `deltanet.wy_repr` and
    `deltanet.chunk_output` to `linalg.batch_matmul` chains with explicit
    causal/decay masks (`linalg.generic`), and `deltanet.chunk_state_scan`
    to an `scf.for` over chunks carrying the state, whose body is two
    batched matmuls and elementwise decays.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def DeltaNetLowerRecurrentGatedDeltaRule
    : Pass<"deltanet-lower-recurrent-gated-delta-rule"> {
  let summary = "Lower deltanet.recurrent_gated_delta_rule to a token loop";
  let description = [{
    Lowers every `deltanet.recurrent_gated_delta_rule` to an `scf.for` over
    tokens carrying the state `[B, HV, K, V]` and the output, with
    `linalg.generic` bodies for the decay, the delta-rule update and the
    readout.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

#endif // DELTANET_DIALECT_DELTANET_TRANSFORMS_PASSES_TD
