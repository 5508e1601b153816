//===- Passes.td - Target-neutral deltanet rewrites --------*- tablegen -*-===//
//
// Declares the rewrites of deltanet ops into other deltanet ops (decompositions).
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_DIALECT_DELTANET_TRANSFORMS_PASSES_TD
#define DELTANET_DIALECT_DELTANET_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

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

    With `chunk-loop`, steps 2-6 run per chunk instead, in one `scf.for`
    over the chunks that carries the state and the output: each iteration
    gathers its chunk (`[B * HV, C, *]`; the L2 norm is per chunk too) and
    runs the stages on it, so no stage tensor spans the sequence (the CPU
    pipeline's choice: per-chunk workspaces stay in cache and are reused
    heap blocks). The zero padding of a `T` that is not a multiple of `C`
    stays a whole-sequence `tensor.pad`.
  }];
  let options = [
    Option<"chunkLoop", "chunk-loop", "bool", /*default=*/"false",
           "Run the stages per chunk in one scf.for carrying the state and "
           "the output, instead of over all chunks at once">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def DeltaNetUnpackVarlenGatedDeltaRule
    : Pass<"deltanet-unpack-varlen-gated-delta-rule"> {
  let summary = "Rewrite gated delta rules with cu_seqlens into a padded batch";
  let description = [{
    Rewrites every `deltanet.chunk_gated_delta_rule` and
    `deltanet.recurrent_gated_delta_rule` that has `cu_seqlens` (`N`
    sequences packed along `T`, `B = 1`) into:

    1. the sequence bounds from the offsets, clamped to `[0, T]` (bad
       offsets give unspecified results, never out-of-bounds accesses), and
       the longest length `L` (at least 1);
    2. a gather of `q`, `k`, `v`, `g`, `beta` into `[N, L, ...]`: row `n`
       holds sequence `n` from position 0, zeros after its end (`beta = 0`,
       `g = 0`: the state is unchanged by the padding);
    3. the same op without `cu_seqlens` on that batch (initial and final
       states are already `[N, HV, K, V]`), so chunks start at every
       sequence's first token and never straddle two sequences;
    4. a scatter of the output rows back to `[1, T, HV, V]`.

    Every stage of the chunk decomposition, the scan across chunks included,
    stays batched over `N * HV` sequences; the price is padding every
    sequence to the longest one (`N * L` tokens instead of `T`).
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def DeltaNetDecomposeGatedDeltaRuleSummary
    : Pass<"deltanet-decompose-gated-delta-rule-summary"> {
  let summary = "Decompose deltanet.gated_delta_rule_summary into the chunk "
                "stages on an augmented state";
  let description = [{
    Rewrites every `deltanet.gated_delta_rule_summary` into the chunk-wise
    decomposition of `deltanet.chunk_gated_delta_rule` run on the augmented
    state `[I | 0]` (`[B, HV, K, K + V]`) with values `[0 | v]` (a
    `tensor.pad` of `v`): the chunk recurrence treats every state column
    alike, so its final state is `[M | U]`, sliced into the results. The
    chunk op is decomposed here (the same pattern as
    `--deltanet-decompose-chunk-gated-delta-rule`: `gated_kkt`, `tri_inv`,
    `wy_repr`, `chunk_state_scan`), and the stages that only fed its output
    (`chunk_output`, the gather of `o`, the normalisation of `q`) are
    erased as dead code, so `chunk_state_scan` is lowered without its
    `states` and `v_new` results. The `tri_inv` ops are lowered by
    `--deltanet-lower-tri-inv` with that pass's options.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

#endif // DELTANET_DIALECT_DELTANET_TRANSFORMS_PASSES_TD
