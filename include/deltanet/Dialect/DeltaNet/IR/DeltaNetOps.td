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
include "mlir/Interfaces/TilingInterface.td"

class DeltaNet_Op<string mnemonic, list<Trait> traits = []>
    : Op<DeltaNet_Dialect, mnemonic, traits>;

// Element types are checked by the verifiers, which say which ones are allowed.
def DeltaNet_Tensor : RankedTensorOf<[AnyType]>;

//===----------------------------------------------------------------------===//
// TriInvOp
//===----------------------------------------------------------------------===//

def DeltaNet_TriInvOp : DeltaNet_Op<"tri_inv",
    [Pure, SameOperandsAndResultType,
     DeclareOpInterfaceMethods<ReifyRankedShapedTypeOpInterface,
       ["reifyResultShapes"]>,
     DeclareOpInterfaceMethods<TilingInterface,
       ["getLoopIteratorTypes", "getIterationDomain",
        "getTiledImplementation", "getResultTilePosition"]>]> {
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

    The matrices are independent: the op implements `TilingInterface` over
    its batch dims (every loop parallel; a tile is a `tri_inv` of a slice of
    the batch), which is how targets tile the batch
    (`--deltanet-tile-tri-inv-batch`).

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
    * `precision`: `#deltanet.precision<f32>` (default), `<bf16>` or `<f16>`:
      the operands of every matmul are rounded to that type, accumulation
      stays f32; `<i8>`: every matmul operand is quantised to symmetric
      INT8 with its own scales, multiplied in i8 x i8 -> i32 and rescaled
      to f32.

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
    OptionalAttr<I64Attr>:$residual_steps,
    OptionalAttr<DeltaNet_TriInvPrecisionAttr>:$precision
  );
  let results = (outs DeltaNet_Tensor:$x);

  let assemblyFormat = "$a attr-dict `:` type($a)";
  let hasVerifier = 1;

  let extraClassDeclaration = [{
    /// The most residual steps an op or the lowering accepts: each step
    /// squares the error and costs two matmuls, so more cannot help, and
    /// thousands make compilation hang.
    static constexpr int64_t kMaxResidualSteps = 16;

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

//===----------------------------------------------------------------------===//
// Gated delta rule
//===----------------------------------------------------------------------===//

class DeltaNet_GatedDeltaRuleOp<string mnemonic, dag extraArgs,
                                string extraDescription>
    : DeltaNet_Op<mnemonic, [Pure]> {
  let arguments = !con((ins
    DeltaNet_Tensor:$q,
    DeltaNet_Tensor:$k,
    DeltaNet_Tensor:$v,
    DeltaNet_Tensor:$g,
    DeltaNet_Tensor:$beta,
    DeltaNet_Tensor:$initial_state,
    Optional<DeltaNet_Tensor>:$cu_seqlens),
    extraArgs,
    (ins OptionalAttr<F32Attr>:$scale,
         UnitAttr:$use_qk_l2norm));
  let results = (outs DeltaNet_Tensor:$o, DeltaNet_Tensor:$final_state);
  let assemblyFormat = [{
    $q `,` $k `,` $v `,` $g `,` $beta `,` $initial_state
    (`cu_seqlens` `(` $cu_seqlens^ `)`)? attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;

  code commonDescription = [{
    Gated delta rule, per batch `b` and value head `j` (q/k head
    `i = j / (HV / H)`), tokens `t = 0..T-1`, state `S` (`K x V`) starting at
    `initial_state[b, j]`:

    ```
    S <- S * exp(g_t);  u = beta_t (v_t - S^T k_t);  S <- S + k_t u^T
    o_t = S^T (scale * q_t)
    ```

    Operands (flash-linear-attention layouts): `q`, `k`: `[B, T, H, K]`;
    `v`: `[B, T, HV, V]`; `g` (per-token log decay, <= 0), `beta`:
    `[B, T, HV]`; `initial_state`: `[B, HV, K, V]`. Results: `o`:
    `[B, T, HV, V]` with `v`'s element type, `final_state`: `[B, HV, K, V]`
    with `initial_state`'s element type. `B` and `T` may be dynamic, `H`,
    `HV`, `K`, `V` are static and `HV` is a multiple of `H`. `q`, `k`, `v`
    share one of f32, f16, bf16; `g`, `beta` and the states are f32 or that
    type; everything is computed and accumulated in f32.

    `scale` defaults to `K^-1/2`. With `use_qk_l2norm`, `q` and `k` are first
    normalised along `K`: `x / sqrt(sum(x^2) + 1e-6)`.

    **Variable-length batches.** With the optional `cu_seqlens` operand
    (`tensor<(N+1)xi32>` or `i64`, the cumulative sequence offsets of
    flash-linear-attention), `B` must be 1 and the `T` tokens are `N`
    sequences packed one after the other: sequence `n` is tokens
    `cu_seqlens[n] .. cu_seqlens[n+1]-1`. Each sequence has its own state:
    `initial_state` and `final_state` are `[N, HV, K, V]`, and the
    recurrence restarts at every sequence (no chunk straddles two). The
    offsets must start at 0, never decrease and end at `T`; the verifier
    checks it when they are constants (and the size `N + 1` against the
    states when static). At run time, offsets outside `[0, T]` are clamped
    (never read or write out of bounds) but give unspecified results.

    ```mlir
    %o, %hN = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %beta, %h0
        cu_seqlens(%offsets) {chunk_size = 64 : i64}
        : (tensor<1x?x16x128xf32>, tensor<1x?x16x128xf32>, tensor<1x?x32x128xf32>,
           tensor<1x?x32xf32>, tensor<1x?x32xf32>, tensor<4x32x128x128xf32>,
           tensor<5xi32>) -> (tensor<1x?x32x128xf32>, tensor<4x32x128x128xf32>)
    ```
  }];
  let description = !strconcat(extraDescription, commonDescription);

  let extraClassDeclaration = [{
    /// The scale applied to q: the attribute, or K^-1/2.
    float getScaleOrDefault() {
      if (std::optional<::llvm::APFloat> s = getScale())
        return s->convertToFloat();
      int64_t keyDim = getQ().getType().getShape().back();
      return 1.0f / std::sqrt(static_cast<float>(keyDim));
    }
  }];
}

def DeltaNet_ChunkGatedDeltaRuleOp : DeltaNet_GatedDeltaRuleOp<
    "chunk_gated_delta_rule", (ins I64Attr:$chunk_size), [{
    Gated DeltaNet attention in its chunk-wise parallel form (the prefill
    path). The semantics are those of the token-by-token recurrence below;
    `chunk_size` (a power of two) selects how the computation is blocked:
    per chunk `A = tril(diag(beta) K K^T * exp(G_i - G_j), -1)` is inverted
    with `deltanet.tri_inv`, the WY representation `w`, `u` is formed, the
    state is scanned across chunks and the output combines causal
    intra-chunk attention with the carried state. `T` need not be a
    multiple of `chunk_size`.

    Example:

    ```mlir
    %o, %hT = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %beta, %h0
        {chunk_size = 64 : i64, scale = 0.0884 : f32}
        : (tensor<1x4096x16x128xf32>, tensor<1x4096x16x128xf32>,
           tensor<1x4096x32x128xf32>, tensor<1x4096x32xf32>,
           tensor<1x4096x32xf32>, tensor<1x32x128x128xf32>)
        -> (tensor<1x4096x32x128xf32>, tensor<1x32x128x128xf32>)
    ```

  }]>;

def DeltaNet_RecurrentGatedDeltaRuleOp : DeltaNet_GatedDeltaRuleOp<
    "recurrent_gated_delta_rule", (ins), [{
    Gated DeltaNet attention computed token by token (the decode path, and
    the semantic reference of `deltanet.chunk_gated_delta_rule`).

  }]>;

//===----------------------------------------------------------------------===//
// Stages of the chunk-wise decomposition
//===----------------------------------------------------------------------===//

def DeltaNet_GatedKKTOp : DeltaNet_Op<"gated_kkt", [Pure]> {
  let summary = "strictly lower gated key Gram matrix of every chunk";
  let description = [{
    For every chunk `n` of `C` tokens: `a[n, i, j] = beta[n, i] *
    (k[n, i] . k[n, j]) * exp(g[n, i] - g[n, j])` for `i > j`, 0 otherwise,
    where `g` is the in-chunk cumulative log decay. Shapes: `k`:
    `[N, C, K]`, `g`, `beta`: `[N, C]`, `a`: `[N, C, C]`, all f32.
  }];
  let arguments = (ins DeltaNet_Tensor:$k, DeltaNet_Tensor:$g,
                       DeltaNet_Tensor:$beta);
  let results = (outs DeltaNet_Tensor:$a);
  let assemblyFormat = [{
    $k `,` $g `,` $beta attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def DeltaNet_WYReprOp : DeltaNet_Op<"wy_repr", [Pure]> {
  let summary = "WY representation of a chunk's delta-rule updates";
  let description = [{
    Given `t = (I + A)^-1` of every chunk (from `deltanet.tri_inv`):
    `w = t (beta * exp(g) * k)` and `u = t (beta * v)`, with the scalings
    applied per row (token). Shapes: `t`: `[N, C, C]`, `k`: `[N, C, K]`,
    `v`: `[N, C, V]`, `g`, `beta`: `[N, C]`; results `w`: `[N, C, K]`,
    `u`: `[N, C, V]`, all f32, except that `w` may be bf16 / f16 when every
    consumer only rounds it to that type before its products
    (`deltanet-narrow-stage-intermediates`).
  }];
  let arguments = (ins DeltaNet_Tensor:$t, DeltaNet_Tensor:$k,
                       DeltaNet_Tensor:$v, DeltaNet_Tensor:$g,
                       DeltaNet_Tensor:$beta);
  let results = (outs DeltaNet_Tensor:$w, DeltaNet_Tensor:$u);
  let assemblyFormat = [{
    $t `,` $k `,` $v `,` $g `,` $beta attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def DeltaNet_ChunkStateScanOp : DeltaNet_Op<"chunk_state_scan", [Pure]> {
  let summary = "sequential scan of the recurrent state across chunks";
  let description = [{
    For every sequence `m` (batch x value head) and chunk `c` in order, with
    `S` starting at `initial_state[m]`:

    ```
    states[m, c] = S
    v_new[m, c]  = u[m, c] - w[m, c] S
    S <- exp(g[m, c, C-1]) S + (k[m, c] * exp(g[m, c, C-1] - g[m, c]))^T v_new[m, c]
    ```

    and `final_state[m] = S`. Shapes: `k`, `w`: `[M, NC, C, K]`, `u`:
    `[M, NC, C, V]`, `g`: `[M, NC, C]` (in-chunk cumulative log decay),
    `initial_state`: `[M, K, V]`; results `states`: `[M, NC, K, V]`,
    `v_new`: `[M, NC, C, V]`, `final_state`: `[M, K, V]`, all f32, except
    that `k`, `w`, `states` and `v_new` may be bf16 / f16: operands this
    stage only rounds to 16 bits before its products, and results every
    consumer of which does (`deltanet-narrow-stage-intermediates`).
  }];
  let arguments = (ins DeltaNet_Tensor:$k, DeltaNet_Tensor:$w,
                       DeltaNet_Tensor:$u, DeltaNet_Tensor:$g,
                       DeltaNet_Tensor:$initial_state);
  let results = (outs DeltaNet_Tensor:$states, DeltaNet_Tensor:$v_new,
                      DeltaNet_Tensor:$final_state);
  let assemblyFormat = [{
    $k `,` $w `,` $u `,` $g `,` $initial_state attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def DeltaNet_ChunkOutputOp : DeltaNet_Op<"chunk_output", [Pure]> {
  let summary = "output of every chunk: carried state plus causal attention";
  let description = [{
    `o = scale * ((q * exp(g)) state + (tril(q k^T * exp(g_i - g_j))) v_new)`
    per chunk, the lower triangle including the diagonal. Shapes: `q`, `k`:
    `[N, C, K]`, `v_new`: `[N, C, V]`, `state`: `[N, K, V]` (the state
    entering the chunk), `g`: `[N, C]`; result `o`: `[N, C, V]`, all f32,
    except that `k`, `v_new` and `state` may be bf16 / f16 (operands this
    stage only rounds to 16 bits before its products;
    `deltanet-narrow-stage-intermediates`).
  }];
  let arguments = (ins DeltaNet_Tensor:$q, DeltaNet_Tensor:$k,
                       DeltaNet_Tensor:$v_new, DeltaNet_Tensor:$state,
                       DeltaNet_Tensor:$g, F32Attr:$scale);
  let results = (outs DeltaNet_Tensor:$o);
  let assemblyFormat = [{
    $q `,` $k `,` $v_new `,` $state `,` $g attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Segment summaries (context parallelism)
//===----------------------------------------------------------------------===//

def DeltaNet_GatedDeltaRuleSummaryOp
    : DeltaNet_Op<"gated_delta_rule_summary", [Pure]> {
  let summary = "affine map of the state over a segment of tokens";
  let description = [{
    The gated delta rule is affine in its incoming state: per batch `b` and
    value head `j`, a segment of tokens maps the state it receives, `h_in`
    (`K x V`), to the state it leaves, `h_out = M h_in + U`, with `M`
    (`K x K`) and `U` (`K x V`) independent of `h_in`. This op computes
    `(M, U)` of the whole segment `k`, `v`, `g`, `beta` (the semantics,
    layouts and element types of `deltanet.chunk_gated_delta_rule`, without
    `q` and the state): `M = prod_t exp(g_t) (I - beta_t k_t k_t^T)`, the
    latest token leftmost, and `U` the final state from a zero state.

    Summaries compose (`deltanet.compose_summaries`), so a long sequence
    split into segments (across processes, devices or threads) is run as:
    the summary of every segment in parallel, a short scan over summaries
    giving each segment's entry state, then every segment from its entry
    state in parallel (`deltanet.chunk_gated_delta_rule` with
    `initial_state`). The payload between segments is `K^2 + K V` floats per
    head, independent of `T`.

    `chunk_size` (a power of two) blocks the computation as in the chunk op,
    whose decomposition and tri_inv lowering (with the pipeline's
    `tri-inv-*` options) the op reuses: it is the final state of the chunk
    recurrence on the augmented state `[M | U]` (`K x (K + V)`) entering as
    `[I | 0]` with values `[0 | v]`
    (`--deltanet-decompose-gated-delta-rule-summary`). With `use_qk_l2norm`,
    `k` is normalised along `K` first, as in the chunk op.

    Operands: `k`: `[B, T, H, K]`; `v`: `[B, T, HV, V]`; `g` (per-token log
    decay), `beta`: `[B, T, HV]`. Results `m`: `[B, HV, K, K]`, `u`:
    `[B, HV, K, V]`, f32. `B` and `T` may be dynamic, `H`, `HV`, `K`, `V`
    are static, `HV` is a multiple of `H`; `k` and `v` share one of f32,
    f16, bf16; `g` and `beta` are f32 or that type.

    ```mlir
    %m, %u = deltanet.gated_delta_rule_summary %k, %v, %g, %beta {chunk_size = 64 : i64}
        : (tensor<1x?x4x128xf32>, tensor<1x?x4x128xf32>, tensor<1x?x4xf32>,
           tensor<1x?x4xf32>) -> (tensor<1x4x128x128xf32>, tensor<1x4x128x128xf32>)
    ```
  }];
  let arguments = (ins DeltaNet_Tensor:$k, DeltaNet_Tensor:$v,
                       DeltaNet_Tensor:$g, DeltaNet_Tensor:$beta,
                       I64Attr:$chunk_size, UnitAttr:$use_qk_l2norm);
  let results = (outs DeltaNet_Tensor:$m, DeltaNet_Tensor:$u);
  let assemblyFormat = [{
    $k `,` $v `,` $g `,` $beta attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def DeltaNet_ComposeSummariesOp : DeltaNet_Op<"compose_summaries", [Pure]> {
  let summary = "summary of two consecutive segments";
  let description = [{
    Given the summaries `(m1, u1)` of a segment and `(m2, u2)` of the
    segment that follows it (from `deltanet.gated_delta_rule_summary`),
    returns the summary of both: `h -> m2 (m1 h + u1) + u2`, i.e.

    ```
    m = m2 m1,   u = m2 u1 + u2
    ```

    Composition is associative (not commutative), so any scan order over a
    sequence of segments gives the same result up to rounding. Shapes:
    `m1`, `m2`, `m`: `[..., K, K]`; `u1`, `u2`, `u`: `[..., K, V]`, with the
    same leading (batch) dims, static `K` and `V`, all f32. To apply a
    summary to a state `h` only (`m h + u`), compose it after `(*, h)`:
    the `u` result is the state (the `m` result is then unused and removed
    as dead code).

    ```mlir
    %m, %u = deltanet.compose_summaries %m1, %u1, %m2, %u2
        : (tensor<2x4x64x64xf32>, tensor<2x4x64x32xf32>, tensor<2x4x64x64xf32>,
           tensor<2x4x64x32xf32>) -> (tensor<2x4x64x64xf32>, tensor<2x4x64x32xf32>)
    ```
  }];
  let arguments = (ins DeltaNet_Tensor:$m1, DeltaNet_Tensor:$u1,
                       DeltaNet_Tensor:$m2, DeltaNet_Tensor:$u2);
  let results = (outs DeltaNet_Tensor:$m, DeltaNet_Tensor:$u);
  let assemblyFormat = [{
    $m1 `,` $u1 `,` $m2 `,` $u2 attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// INT8 quantisation
//===----------------------------------------------------------------------===//

def DeltaNet_QuantizeOp : DeltaNet_Op<"quantize", [Pure]> {
  let summary = "symmetric INT8 quantisation with one scale per slice";
  let description = [{
    Quantises `%input` (f32) to symmetric INT8. Elements that differ only in
    the `reduction_dims` share one scale: `scale = max |x| / 127` over
    them, and `quantized = round(x / scale)` (in [-127, 127]; 0 where the
    whole slice is 0, whose scale is then 0). `x ~= quantized * scale`.
    The scale tensor has the input's shape without the reduction dims.

    The INT8 lowering of `deltanet.tri_inv` quantises the left operand of
    every matmul per row (`reduction_dims = [2]` on `[N, M, K]`), the right
    operand per column (`[1]` on `[N, K, P]`), or both per matrix
    (`[1, 2]`), so that every power of `L` and every block gets the whole
    int8 range whatever its magnitude.

    ```mlir
    %q, %s = deltanet.quantize %x along [2] : tensor<?x16x16xf32> -> tensor<?x16x16xi8>, tensor<?x16xf32>
    ```
  }];
  let arguments = (ins DeltaNet_Tensor:$input,
                       DenseI64ArrayAttr:$reduction_dims);
  let results = (outs DeltaNet_Tensor:$quantized, DeltaNet_Tensor:$scale);
  let assemblyFormat = [{
    $input `along` $reduction_dims attr-dict `:` type($input) `->`
    type($quantized) `,` type($scale)
  }];
  let hasVerifier = 1;
}

def DeltaNet_DequantizeOp : DeltaNet_Op<"dequantize", [Pure]> {
  let summary = "rescale an INT8 matmul's i32 accumulator to f32";
  let description = [{
    Given the i32 result `%acc` (`[N, M, P]`) of a matmul of INT8 operands
    quantised by `deltanet.quantize`, returns `acc * lhs_scale * rhs_scale`
    in f32, where the scales are either the per-row scales of the left
    operand (`[N, M]`) and the per-column scales of the right operand
    (`[N, P]`), or one scale per matrix for both (`[N]`).

    ```mlir
    %y = deltanet.dequantize %acc, %sa, %sb : (tensor<?x16x16xi32>, tensor<?x16xf32>, tensor<?x16xf32>) -> tensor<?x16x16xf32>
    ```
  }];
  let arguments = (ins DeltaNet_Tensor:$acc, DeltaNet_Tensor:$lhs_scale,
                       DeltaNet_Tensor:$rhs_scale);
  let results = (outs DeltaNet_Tensor:$result);
  let assemblyFormat = [{
    $acc `,` $lhs_scale `,` $rhs_scale attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

#endif // DELTANET_DIALECT_DELTANET_IR_DELTANETOPS_TD
