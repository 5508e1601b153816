//===- Passes.td - deltanet conversion passes --------------*- tablegen -*-===//
//
// Declares the conversions of deltanet ops to upstream dialects (linalg, tensor, scf).
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_CONVERSION_PASSES_TD
#define DELTANET_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def DeltaNetLowerTriInv : Pass<"deltanet-lower-tri-inv"> {
  let summary = "Lower deltanet.tri_inv to linalg and tensor ops";
  let description = [{
    Rewrites every `deltanet.tri_inv` into `linalg` ops on tensors
    (`linalg.batch_matmul` chains, `linalg.generic` masks, `linalg.fill`,
    `tensor` slicing), following one of three strategies. Per-op attributes
    (`strategy`, `block_size`, `order`, `residual_steps`) override the pass
    options for that op. The matmul strategies build the inverse in one
    destination tensor: every block of the result is an `extract_slice` /
    `insert_slice` pair of it (in place after bufferization), the masks,
    the negation and the identity are fused into the ops that read `A`, and
    zero blocks are filled, never multiplied.

    * `blocked` (default, matmul-only and stable): every diagonal
      `block-size` block of the strictly lower triangle `L` is inverted
      exactly with the Neumann product `(I - D)(I + D^2)(I + D^4)...`
      (log2(block-size) factors); solved blocks are then merged pairwise
      with two matmuls, `X21 = -X22 (L21 X11)`, doubling the solved size
      until it covers `C` (the last pair of a level is smaller when `C` is
      not a power-of-two number of blocks). `L21` is read from `A` without a
      mask; when the halves of `X11` / `X22` are whole blocks, the products
      skip their zero upper right quadrant. Inside a small block the powers
      of `L` stay small, which is why this stays accurate where the full
      Neumann series does not.
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

    The matrices are independent: `batch-tile` tiles the op's batch with
    upstream `scf::tileUsingSCF` (the op's `TilingInterface`) into an
    `scf.for` over tiles of that many matrices before lowering each tile, so
    that every intermediate of a tile stays in cache instead of streaming
    the whole batch through memory once per matmul.

    Defaults that depend on the machine (the diagonal block size per
    precision, the batch tile) and the precisions its matrix units support
    come from the `TargetInfo` named by `target` (`cpu` by default; see
    docs/Architecture.md).
  }];
  let dependentDialects = [
    "::mlir::affine::AffineDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect"
  ];
  let options = [
    Option<"strategy", "strategy", "::mlir::deltanet::TriInvStrategy",
           /*default=*/"::mlir::deltanet::TriInvStrategy::Blocked",
           "Default lowering strategy of deltanet.tri_inv",
           [{::mlir::deltanet::triInvStrategyOptionValues()}]>,
    Option<"blockSize", "block-size", "int64_t", /*default=*/"0",
           "Diagonal block size of the blocked strategy (a power of two "
           "dividing C; blocks larger than C are clamped to C); 0 = the "
           "target's default (cpu: 16, or 4 with precision=i8)">,
    Option<"order", "order", "int64_t", /*default=*/"-1",
           "Number of Neumann product factors; -1 = exact">,
    Option<"residualSteps", "residual-steps", "int64_t", /*default=*/"0",
           "Number of residual corrections X <- X + X (I - (I + L) X)">,
    Option<"batchTile", "batch-tile", "int64_t", /*default=*/"-1",
           "Matrices per iteration of the loop over the batch (-1 = the "
           "target's preferred tile, 0 = the whole batch at once)">,
    Option<"precision", "precision", "::mlir::deltanet::TriInvPrecision",
           /*default=*/"::mlir::deltanet::TriInvPrecision::F32",
           "Element type of the matmul operands (accumulation is f32)",
           [{::mlir::deltanet::triInvPrecisionOptionValues()}]>,
    Option<"quantGranularity", "quant-granularity",
           "::mlir::deltanet::QuantGranularity",
           /*default=*/"::mlir::deltanet::QuantGranularity::Row",
           "Which elements of an INT8 matmul operand share a scale",
           [{::mlir::deltanet::quantGranularityOptionValues()}]>,
    Option<"lowPrecisionMergesFrom", "low-precision-merges-from", "int64_t",
           /*default=*/"0",
           "Blocked strategy: merge levels whose solved blocks are smaller "
           "than this keep f32 products, larger ones use `precision` (0 = "
           "every level in `precision`): the small products are too short "
           "to amortise a conversion of their operands">,
    Option<"quantizeMergesOnce", "quantize-merges-once", "bool",
           /*default=*/"false",
           "Blocked strategy, precision=i8: each merge quantises its "
           "operands once (not once per half product), sums the half "
           "products in i32 and dequantises once, the negation of X21 "
           "folded into the scales">,
    Option<"tolerance", "tolerance", "double", /*default=*/"0.0",
           "Relative error the lowering may spend: picks the cheapest order "
           "and residual steps of the rule table within it (0 = use order "
           "and residual-steps as given)">,
    Option<"target", "target", "std::string", /*default=*/"\"cpu\"",
           "Target whose TargetInfo supplies the defaults (block size per "
           "precision, batch tile) and the supported precisions">
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

    The products' operands are in `precision`, or per stage in
    `stage-precision`'s (`STAGE=PREC,...`: `precision=bf16
    stage-precision=chunk_state_scan=f32` rounds the operands of gated
    K K^T, the WY products and the output's three to bf16 and keeps the
    state scan's two products in f32).
  }];
  let options = [
    Option<"foldScanDecayIntoValues", "fold-scan-decay-into-values", "bool",
           /*default=*/"false",
           "State scan: S += k^T (v_new exp(g_last - g)), one elementwise op "
           "giving v_new and its decayed rows (C x V exps), k read transposed "
           "by the update; instead of the decayed copy of k (C x K exps). "
           "Set from TargetInfo::foldsScanDecayIntoValues by the pipelines.">,
    Option<"triangularRowTile", "triangular-row-tile", "int64_t",
           /*default=*/"0",
           "Products with a lower-triangular left operand (the WY products, "
           "the attention times v_new) as row tiles of this many rows, each "
           "with its own K range (the columns up to its last row): the same "
           "sums without the zero terms. f32 operands only; 0 = whole "
           "products. Set from TargetInfo::getChunkTriangularRowTile by the "
           "pipelines.">,
    Option<"triangularResultBlock", "triangular-result-block", "int64_t",
           /*default=*/"0",
           "Products of which only the lower triangle is used (gated K K^T, "
           "the attention scores Q K^T) in blocks of this many rows, each "
           "computing only the columns up to its last row (zeros beyond). "
           "f32 operands only; 0 = whole products. Set from "
           "TargetInfo::getChunkTriangularResultBlock by the pipelines.">,
    Option<"decayFactorsOnce", "decay-factors-once", "bool",
           /*default=*/"false",
           "Decay factors that depend on one row of the chunk (beta exp(g) "
           "of WY's k, exp(g) scale of the output's q, the scan's "
           "exp(g_last - g)) computed once per row as a [N, C] tensor and "
           "broadcast (C exps per chunk instead of C x K), and the scan's "
           "decayed k^T as the columns of k^T (gated_kkt's transpose) times "
           "them instead of a transposed read of k. The same values. Set "
           "from TargetInfo::computesChunkDecayFactorsOnce by the "
           "pipelines.">,
    Option<"stateDecayOutOfPlace", "state-decay-out-of-place", "bool",
           /*default=*/"false",
           "State scan: exp(g_last) S written to a new tensor (then "
           "accumulated in place by the update) instead of S's own: the "
           "chunk's output still reads S, so bufferization copied S before "
           "the in-place decay (a memcpy of the state per chunk). The same "
           "values. Set from TargetInfo::decaysChunkStateOutOfPlace by the "
           "pipelines.">,
    Option<"precision", "precision", "::mlir::deltanet::TriInvPrecision",
           /*default=*/"::mlir::deltanet::TriInvPrecision::F32",
           "Operands of the stages' products (gated K K^T, the WY products, "
           "the state scan's two, chunk_output's three): f32; bf16 / f16 "
           "rounded (f32 accumulation; the CPU codegen can run bf16 ones as "
           "AVX512_BF16 dot products); i8 quantised per row of the left and "
           "column of the right operand (i32 accumulation, rescaled to f32; "
           "AVX512_VNNI on the CPU). The state, masks, decays and the "
           "tri_inv stay f32",
           [{::mlir::deltanet::triInvPrecisionOptionValues()}]>,
    ListOption<"stagePrecision", "stage-precision", "std::string",
               "Per-stage overrides of `precision`, STAGE=PREC entries "
               "(STAGE: gated_kkt, wy_repr, chunk_state_scan, chunk_output; "
               "PREC: f32, bf16, f16, i8); the stages not listed use "
               "`precision`. An unknown stage or precision, or a stage "
               "listed twice, fails the pass. E.g. precision=bf16 "
               "stage-precision=chunk_state_scan=f32: the scan's products "
               "in f32 (the GPU's scan with f32 tiles only), the others' in "
               "bf16">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def DeltaNetNarrowStageIntermediates
    : Pass<"deltanet-narrow-stage-intermediates"> {
  let summary = "Store the chunk stages' intermediates in 16 bits where "
                "every consumer rounds them to 16 bits";
  let description = [{
    Runs on deltanet stage ops before deltanet-lower-chunk-stages (and, on
    the GPU, before the distribution to blocks). A stage whose products are
    bf16 / f16 (`precision`, `stage-precision`: the same options as
    deltanet-lower-chunk-stages) rounds some f32 operands only to feed its
    products: chunk_state_scan's `w` (and `k` with
    `fold-scan-decay-into-values`), chunk_output's `k`, `v_new` and
    `state`. Where every consumer of such an intermediate (through
    tensor.expand_shape / collapse_shape) rounds it to the same 16-bit type,
    its producer stores it rounded instead: wy_repr's `w` and
    chunk_state_scan's `states` / `v_new` get that element type (their
    lowering rounds before the store), and an elementwise producer (a
    gather, the k the stages share) gets a 16-bit copy for those consumers.
    The same bits reach the products; half the bytes are written and read.
    An f32 consumer (`stage-precision=chunk_state_scan=f32`, the default
    f32) leaves the intermediate f32. With `narrow-u`, wy_repr's `u` is
    stored in the scan's 16-bit type too where the scan is its only
    consumer: not exact (the scan otherwise reads `u` in f32).
  }];
  let options = [
    Option<"foldScanDecayIntoValues", "fold-scan-decay-into-values", "bool",
           /*default=*/"false",
           "The scan reads k only as a product operand (its decay folded "
           "into v_new, as deltanet-lower-chunk-stages' option): k is then "
           "narrowed too. Set from TargetInfo::foldsScanDecayIntoValues by "
           "the pipelines.">,
    Option<"precision", "precision", "::mlir::deltanet::TriInvPrecision",
           /*default=*/"::mlir::deltanet::TriInvPrecision::F32",
           "The stages' product precision, as deltanet-lower-chunk-stages'",
           [{::mlir::deltanet::triInvPrecisionOptionValues()}]>,
    ListOption<"stagePrecision", "stage-precision", "std::string",
               "Per-stage overrides of `precision`, as "
               "deltanet-lower-chunk-stages' (STAGE=PREC entries)">,
    Option<"narrowU", "narrow-u", "bool", /*default=*/"false",
           "Also store wy_repr's u in the 16-bit type of a chunk_state_scan "
           "that is its only reader (half the bytes written and read). "
           "Changes the numerics: the scan computes v_new = u - w S from "
           "the rounded u (it reads u in f32 otherwise), as fla does">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def DeltaNetLowerComposeSummaries : Pass<"deltanet-lower-compose-summaries"> {
  let summary = "Lower deltanet.compose_summaries to batched matmuls";
  let description = [{
    Lowers every `deltanet.compose_summaries` (`m = m2 m1`,
    `u = u2 + m2 u1`) to two `linalg.batch_matmul` ops over the batch dims
    collapsed into one, the second accumulating into `u2`.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
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

    With `fuse-readouts` each token reads the state once and writes it once:
    `d = exp(g)`, `[a; b] = [k; q] S` (one `linalg.batch_matmul` with two
    rows), `u = beta (v - d a)`, `o = scale (d b + (k . q) u)` and the
    in-place update `S <- d S + k u^T`; the same recurrence with the readout
    of the updated state expanded, rounded differently. Otherwise four
    passes over the state per token (decay, `S^T k`, rank-1 update, `S^T q`).
  }];
  let options = [
    Option<"fuseReadouts", "fuse-readouts", "bool", /*default=*/"false",
           "One read (both readouts as a two-row batched matmul) and one "
           "in-place update of the state per token instead of four passes. "
           "Set from TargetInfo::fusesRecurrentReadouts by the pipelines.">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect"
  ];
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

#endif // DELTANET_CONVERSION_PASSES_TD
