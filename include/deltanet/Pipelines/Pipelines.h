//===- Pipelines.h - deltanet pass pipelines --------------------*- C++ -*-===//
//
// Declares the end-to-end pass pipelines that compile deltanet programs.
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_PIPELINES_PIPELINES_H
#define DELTANET_PIPELINES_PIPELINES_H

#include "deltanet/Dialect/DeltaNet/IR/DeltaNetAttrs.h"
#include "mlir/Pass/PassOptions.h"

namespace mlir {
class OpPassManager;
namespace deltanet {

/// Options of `--deltanet-cpu-pipeline`.
struct CpuPipelineOptions : public PassPipelineOptions<CpuPipelineOptions> {
  PassOptions::Option<TriInvStrategy> triInvStrategy{
      *this, "tri-inv-strategy",
      llvm::cl::desc("Default lowering strategy of deltanet.tri_inv"),
      llvm::cl::init(TriInvStrategy::Blocked),
      llvm::cl::values(
          clEnumValN(TriInvStrategy::Blocked, "blocked",
                     "exact Neumann diagonal blocks and matmul merges"),
          clEnumValN(TriInvStrategy::Neumann, "neumann",
                     "(truncated) Neumann product with band trimming"),
          clEnumValN(TriInvStrategy::ForwardSubstitution,
                     "forward-substitution",
                     "exact row-by-row forward substitution"))};
  PassOptions::Option<int64_t> triInvBlockSize{
      *this, "tri-inv-block-size",
      llvm::cl::desc("Diagonal block size of the blocked strategy (0 = 16, "
                     "or 4 with precision i8)"),
      llvm::cl::init(0)};
  PassOptions::Option<int64_t> triInvOrder{
      *this, "tri-inv-order",
      llvm::cl::desc("Number of Neumann product factors; -1 = exact"),
      llvm::cl::init(-1)};
  PassOptions::Option<int64_t> triInvResidualSteps{
      *this, "tri-inv-residual-steps",
      llvm::cl::desc("Number of residual corrections after the inverse"),
      llvm::cl::init(0)};
  PassOptions::Option<int64_t> triInvBatchTile{
      *this, "tri-inv-batch-tile",
      llvm::cl::desc("Matrices per tile of the tri_inv batch loop (0 = no "
                     "tiling)"),
      llvm::cl::init(16)};
  PassOptions::Option<TriInvPrecision> triInvPrecision{
      *this, "tri-inv-precision",
      llvm::cl::desc("Element type of the tri_inv matmul operands"),
      llvm::cl::init(TriInvPrecision::F32),
      llvm::cl::values(clEnumValN(TriInvPrecision::F32, "f32", "f32 operands"),
                       clEnumValN(TriInvPrecision::BF16, "bf16",
                                  "bf16 operands, f32 accumulation"),
                       clEnumValN(TriInvPrecision::F16, "f16",
                                  "f16 operands, f32 accumulation"),
                       clEnumValN(TriInvPrecision::I8, "i8",
                                  "symmetric INT8 operands, i32 "
                                  "accumulation, rescaled to f32"))};
  PassOptions::Option<QuantGranularity> triInvQuantGranularity{
      *this, "tri-inv-quant-granularity",
      llvm::cl::desc("Which elements of an INT8 matmul operand share a scale"),
      llvm::cl::init(QuantGranularity::Row),
      llvm::cl::values(
          clEnumValN(QuantGranularity::Row, "row",
                     "per row of the left and column of the right operand"),
          clEnumValN(QuantGranularity::Matrix, "matrix", "per matrix"))};
  PassOptions::Option<double> triInvTolerance{
      *this, "tri-inv-tolerance",
      llvm::cl::desc("Relative error tri_inv may spend: order and residual "
                     "steps from the rule table (0 = as given)"),
      llvm::cl::init(0.0)};
};

/// Adds the passes that lower deltanet ops on tensors to the LLVM dialect
/// for the host CPU: deltanet lowering to linalg, one-shot bufferization
/// across function boundaries, buffer deallocation, loops and LLVM.
void buildCpuPipeline(OpPassManager &pm, const CpuPipelineOptions &options);

/// Registers `--deltanet-cpu-pipeline`.
void registerDeltaNetPipelines();

} // namespace deltanet
} // namespace mlir

#endif // DELTANET_PIPELINES_PIPELINES_H
