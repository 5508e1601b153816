//===- TriInvPipelineOptions.h - tri_inv options of pipelines ---*- C++ -*-===//
//
// The tri_inv lowering options as options of any target pipeline
// (`tri-inv-<name>`), and the helper adding the target-neutral lowering.
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_PIPELINES_TRIINVPIPELINEOPTIONS_H
#define DELTANET_PIPELINES_TRIINVPIPELINEOPTIONS_H

#include "deltanet/Conversion/DeltaNetToLinalg/DeltaNetToLinalg.h"
#include "mlir/Pass/PassOptions.h"

namespace mlir {
class OpPassManager;
namespace deltanet {
class TargetInfo;

/// A mixin that adds --deltanet-lower-tri-inv's options to a target's
/// pipeline options, spelled `tri-inv-<name>`:
///
///   struct XPipelineOptions : PassPipelineOptions<XPipelineOptions>,
///                             TriInvPipelineOptions { ...target options... };
///
/// The options are declared once, in deltanet/Conversion/Passes.td: the
/// defaults here are read from the ODS-generated struct
/// `DeltaNetLowerTriInvOptions`, the enum spellings come from
/// TriInvOptionValues.h, and `getLowerTriInvOptions` is the one place that
/// maps them back (test/Pipelines/tri-inv-options-match-pass.mlir checks
/// that every pass option reaches the pass).
struct TriInvPipelineOptions : public virtual ::mlir::detail::PassOptions {
  ::mlir::detail::PassOptions::Option<TriInvStrategy> triInvStrategy{
      *this, "tri-inv-strategy",
      llvm::cl::desc("Default lowering strategy of deltanet.tri_inv"),
      llvm::cl::init(passDefaults().strategy), triInvStrategyOptionValues()};
  ::mlir::detail::PassOptions::Option<int64_t> triInvBlockSize{
      *this, "tri-inv-block-size",
      llvm::cl::desc("Diagonal block size of the blocked strategy (0 = the "
                     "target's default)"),
      llvm::cl::init(passDefaults().blockSize)};
  ::mlir::detail::PassOptions::Option<int64_t> triInvOrder{
      *this, "tri-inv-order",
      llvm::cl::desc("Number of Neumann product factors; -1 = exact"),
      llvm::cl::init(passDefaults().order)};
  ::mlir::detail::PassOptions::Option<int64_t> triInvResidualSteps{
      *this, "tri-inv-residual-steps",
      llvm::cl::desc("Number of residual corrections after the inverse"),
      llvm::cl::init(passDefaults().residualSteps)};
  ::mlir::detail::PassOptions::Option<int64_t> triInvBatchTile{
      *this, "tri-inv-batch-tile",
      llvm::cl::desc("Matrices per tile of the tri_inv batch loop (-1 = the "
                     "target's preferred tile, 0 = no tiling)"),
      llvm::cl::init(passDefaults().batchTile)};
  ::mlir::detail::PassOptions::Option<TriInvPrecision> triInvPrecision{
      *this, "tri-inv-precision",
      llvm::cl::desc("Element type of the tri_inv matmul operands"),
      llvm::cl::init(passDefaults().precision), triInvPrecisionOptionValues()};
  ::mlir::detail::PassOptions::Option<QuantGranularity> triInvQuantGranularity{
      *this, "tri-inv-quant-granularity",
      llvm::cl::desc("Which elements of an INT8 matmul operand share a scale"),
      llvm::cl::init(passDefaults().quantGranularity),
      quantGranularityOptionValues()};
  ::mlir::detail::PassOptions::Option<int64_t> triInvLowPrecisionMergesFrom{
      *this, "tri-inv-low-precision-merges-from",
      llvm::cl::desc("Blocked: merge levels of smaller blocks keep f32 "
                     "products (0 = every level in the precision)"),
      llvm::cl::init(passDefaults().lowPrecisionMergesFrom)};
  ::mlir::detail::PassOptions::Option<bool> triInvQuantizeMergesOnce{
      *this, "tri-inv-quantize-merges-once",
      llvm::cl::desc("Blocked, i8: quantise each merge operand once, sum "
                     "the half products in i32, dequantise once"),
      llvm::cl::init(passDefaults().quantizeMergesOnce)};
  ::mlir::detail::PassOptions::Option<double> triInvTolerance{
      *this, "tri-inv-tolerance",
      llvm::cl::desc("Relative error tri_inv may spend: order and residual "
                     "steps from the rule table (0 = as given)"),
      llvm::cl::init(passDefaults().tolerance)};

  /// These options as --deltanet-lower-tri-inv's, for `target`.
  DeltaNetLowerTriInvOptions
  getLowerTriInvOptions(const TargetInfo &target) const;

private:
  static const DeltaNetLowerTriInvOptions &passDefaults() {
    static const DeltaNetLowerTriInvOptions defaults;
    return defaults;
  }
};

/// A mixin that adds --deltanet-lower-chunk-stages' `precision` to a
/// target's pipeline options as `chunk-precision` (declared once here for
/// the CPU and GPU pipelines; the default is the pass's, from the
/// ODS-generated `DeltaNetLowerChunkStagesOptions`). What each target does
/// with a precision (and which it rejects) is the target pipeline's.
struct ChunkPipelineOptions : public virtual ::mlir::detail::PassOptions {
  ::mlir::detail::PassOptions::Option<TriInvPrecision> chunkPrecision{
      *this, "chunk-precision",
      llvm::cl::desc(
          "Operands of the chunk op's stage products (gated K K^T, WY, the "
          "state scan's two, the output's three; deltanet-lower-chunk-stages "
          "precision): f32 (default), bf16 / f16 (f32 accumulation), i8 "
          "(per-row / per-column scales, i32 accumulation; CPU only). The "
          "state, masks, decays and tri_inv (tri-inv-precision) stay f32. "
          "CPU: bf16 as vdpbf16ps with bf16-dot-products, i8 as vpdpbusd "
          "with int8-dot-products; f32 by default, also for bf16 inputs: i8 "
          "measured 1.07-1.2x faster at 2-6% relative error, bf16 slower "
          "(vdpbf16ps at half the f32 FMA rate on Sapphire Rapids; "
          "docs/Performance.md, session 9). GPU: bf16 / f16 products on "
          "mma.sync m16n8k16 (tensor-cores), their operands' shared tiles "
          "in 16 bits; f32 (tf32 m16n8k8) by default until measured "
          "(docs/GPU.md, session 10)"),
      llvm::cl::init(passDefaults().precision), triInvPrecisionOptionValues()};
  ::mlir::detail::PassOptions::ListOption<std::string> chunkStagePrecision{
      *this, "chunk-stage-precision",
      llvm::cl::desc(
          "Per-stage overrides of chunk-precision, STAGE=PREC entries "
          "(deltanet-lower-chunk-stages stage-precision; STAGE: gated_kkt, "
          "wy_repr, chunk_state_scan, chunk_output; PREC as "
          "chunk-precision's, i8 CPU only). GPU: chunk-precision=bf16 "
          "chunk-stage-precision=chunk_state_scan=f32 keeps the scan's f32 "
          "tiles (its bf16 copies beside them had made its shared memory "
          "123904 B, one block per SM, 2.3x slower on the H200, session 10) "
          "with the other stages' products in bf16 (docs/GPU.md)")};

private:
  static const DeltaNetLowerChunkStagesOptions &passDefaults() {
    static const DeltaNetLowerChunkStagesOptions defaults;
    return defaults;
  }
};

/// Adds deltanet-narrow-stage-intermediates for `target` and the chunk
/// stages' precisions: intermediates that every consumer stage rounds to 16
/// bits stored in them by their producer (the GPU pipeline runs it before
/// its distribution to blocks too).
void addNarrowStageIntermediatesPass(
    OpPassManager &pm, const TargetInfo &target,
    TriInvPrecision chunkPrecision,
    llvm::ArrayRef<std::string> chunkStagePrecision, bool narrowU = false);

/// Adds the target-neutral half of every target's pipeline: chunk attention
/// decomposed into its stages, stages, recurrence and tri_inv (its batch
/// tiled as `target` prefers) lowered to linalg/tensor/scf on tensors,
/// quantization ops lowered, canonicalized. `chunkPrecision`: the operands
/// of the chunk stages' products (deltanet-lower-chunk-stages precision),
/// `chunkStagePrecision` its per-stage overrides (stage-precision).
void addDeltaNetToLinalgPasses(
    OpPassManager &pm, const TriInvPipelineOptions &options,
    const TargetInfo &target,
    TriInvPrecision chunkPrecision = TriInvPrecision::F32,
    ArrayRef<std::string> chunkStagePrecision = {});

} // namespace deltanet
} // namespace mlir

#endif // DELTANET_PIPELINES_TRIINVPIPELINEOPTIONS_H
