//===- Pipeline.cpp - CPU codegen: linalg on tensors to LLVM --------------===//
//
// Builds the CPU codegen pass pipeline from upstream passes and ours.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Codegen/CPU/Passes.h"

#include "deltanet/Codegen/Common/BufferSize.h"
#include "deltanet/Codegen/Common/GuardedCanonicalizer.h"
#include "deltanet/Codegen/Common/Passes.h"
#include "mlir/Conversion/Passes.h"
#include "mlir/Conversion/VectorToSCF/VectorToSCF.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/Dialect/Vector/Transforms/Passes.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using namespace mlir::deltanet;

/// Whether `alloc` (a memref.alloc result) is a static buffer of integers
/// or floats of at most `maxBytes` at the function level, i.e. allocated
/// once per call, not once per iteration of a loop (a stack allocation in a
/// loop body grows the stack every iteration) nor inside a parallel region
/// (an OpenMP thread's stack).
static bool isFunctionLevelScratch(Value alloc, int64_t maxBytes) {
  Operation *op = alloc.getDefiningOp();
  auto type = dyn_cast<MemRefType>(alloc.getType());
  if (!op || !type || !isa<FunctionOpInterface>(op->getParentOp()))
    return false;
  std::optional<int64_t> bytes = getStaticBufferBytes(type);
  return bytes && *bytes <= maxBytes;
}

void mlir::deltanet::buildCPUCodegenPassPipeline(
    OpPassManager &pm, const CPUCodegenOptions &options) {
  // INT8 matmuls as vpdpbusd dot products when asked, else pairwise
  // multiply-adds (vpdpwssd where the CPU has VNNI); bf16 ones as vdpbf16ps
  // dot products when asked; static float batched matmuls: register tiles
  // as vector contractions.
  DeltaNetCpuVectorizeIntegerMatmulsOptions integerMatmuls;
  integerMatmuls.unsignedSignedDots = options.int8DotProducts;
  pm.addPass(createDeltaNetCpuVectorizeIntegerMatmuls(integerMatmuls));
  if (options.bf16DotProducts)
    pm.addPass(createDeltaNetCpuVectorizeBF16Matmuls());
  pm.addPass(createDeltaNetCpuVectorizeMatmuls());
  // Transposes of the two innermost dims (the chunk op's k^T) as 16 x 16
  // vector blocks lowered to shuffles, instead of gathers.
  pm.addPass(createDeltaNetCpuVectorizeTransposes());
  // Masks, identities, negations, additions and the INT8 quantisation
  // (broadcast scales, max-abs reductions): one vector row at a time.
  pm.addPass(createDeltaNetCpuVectorizeElementwise());
  // Every canonicalizer from here on without upstream's miscompiling
  // vector.contract + add fold (1 x 1 x 1 register tiles; session 19).
  pm.addPass(createGuardedCanonicalizerPass());

  // Tensors -> buffers, across function boundaries with identity layouts
  // so that `llvm.emit_c_interface` functions take plain memrefs; callers'
  // input buffers are never written.
  pm.addPass(createDeltaNetProtectFunctionInputs());
  // Results assembled with tensor.insert_slice into a tensor.empty (the
  // blocked inverse, batch tiles) are computed in their destination instead
  // of a temporary that is then copied.
  pm.addPass(bufferization::createEmptyTensorEliminationPass());
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  // Loops carrying tensors (state scans) may yield new buffers.
  bufferize.allowReturnAllocsFromLoops = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  // Destination-passing at the boundary: results as out-param arguments.
  // Before the deallocation pipeline, which then sees the out-params as
  // caller-owned arguments: a result left in a temporary (a state carried
  // by a loop) is copied into its argument and the temporary freed. After
  // it, a result's buffer would already be handed to the caller (not
  // freed), and the pass's copy into the argument would leak it. A result
  // allocated in the function (static or dynamic shape) is replaced by its
  // argument: computed in place, no allocation and no copy.
  if (options.resultsToOutParams) {
    bufferization::BufferResultsToOutParamsPassOptions outParams;
    outParams.addResultAttribute = true;
    outParams.hoistStaticAllocs = true;
    outParams.hoistDynamicAllocs = true;
    outParams.modifyPublicFunctions = true;
    pm.addPass(bufferization::createBufferResultsToOutParamsPass(outParams));
  }
  // Loop-invariant buffers allocated before their loop (upstream
  // buffer-loop-hoisting: never out of scf.forall / scf.parallel, whose
  // iterations each need their own; what a loop yields, the carried state,
  // stays inside it). Those then at function level of at most
  // maxStackScratchBytes go on the stack: the blocked tri_inv allocated and
  // freed two to three temporaries per diagonal block and merge, each
  // iteration of each level (~10 malloc / free pairs per matrix at C = 32;
  // 1.32x / 1.16x faster at C = 32 / 64). The rest that a block allocates
  // and frees itself (the chunk loop's ~30 stage workspaces, once per head
  // instead of once per chunk) is packed into one buffer per block after
  // deallocation: one malloc / free and one live base pointer (hoisted
  // alone, the ~30 pointers live across the chunk loop cost more than the
  // mallocs they saved). docs/Performance.md, session 17.
  pm.addNestedPass<func::FuncOp>(bufferization::createBufferLoopHoistingPass());
  if (options.maxStackScratchBytes > 0)
    pm.addNestedPass<func::FuncOp>(
        bufferization::createPromoteBuffersToStackPass(
            [maxBytes = options.maxStackScratchBytes](Value alloc) {
              return isFunctionLevelScratch(alloc, maxBytes);
            }));
  buildGuardedBufferDeallocationPipeline(pm);
  pm.addPass(createConvertBufferizationToMemRefPass());
  pm.addPass(createDeltaNetCpuPackWorkspaces());
  // Independent iterations (scf.forall over heads / matrix tiles): a loop
  // on one thread, else scf.parallel, later OpenMP.
  if (options.numThreads == 1)
    pm.addPass(createForallToForLoopPass());
  else
    pm.addPass(createForallToParallelLoopPass());
  // The chunk loop's next q / k / v / g / beta rows prefetched inside its
  // largest products, one cache line per inner iteration.
  if (options.prefetchGatherRows)
    pm.addNestedPass<func::FuncOp>(createDeltaNetCpuPrefetchGatherRows());

  // INT8 byte dot products as vpdpbusd (an intrinsic call: after buffer
  // deallocation, which needs the memory effects of every op).
  if (options.int8DotProducts)
    pm.addNestedPass<func::FuncOp>(createDeltaNetCpuLowerByteDotProducts());
  // Reductions left by the vectoriser (the INT8 quantisation's max-abs
  // scales) as vector.reduction per row: convert-vector-to-llvm does not
  // lower vector.multi_reduction.
  pm.addNestedPass<func::FuncOp>(vector::createLowerVectorMultiReductionPass(
      vector::VectorMultiReductionLowering::InnerReduction));
  // The dot products' operand pieces as single vector loads.
  if (options.bf16DotProducts)
    pm.addNestedPass<func::FuncOp>(createDeltaNetCpuFlattenVectorTransfers());

  // Buffers -> loops, unit-stride loops innermost.
  pm.addNestedPass<func::FuncOp>(createDeltaNetCpuCopiesToLinalg());
  pm.addNestedPass<func::FuncOp>(createLinalgGeneralizeNamedOpsPass());
  pm.addNestedPass<func::FuncOp>(createDeltaNetCpuInterchangeReductions());
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  pm.addNestedPass<func::FuncOp>(createDeltaNetCpuApproximateExp());
  pm.addPass(createGuardedCanonicalizerPass());

  // Vectors, loops and memrefs -> LLVM; contractions as outer products
  // (FMAs along the unit-stride output row).
  // Fully unrolled: no per-iteration stack temporaries inside loops.
  if (options.numThreads != 1) {
    ConvertSCFToOpenMPPassOptions openMP;
    openMP.numThreads = static_cast<unsigned>(options.numThreads);
    pm.addPass(createConvertSCFToOpenMPPass(openMP));
    // The conversion wraps each parallel body in memref.alloca_scope, which
    // must stay a single block; the bodies hold heap allocations only.
    pm.addPass(createDeltaNetCpuInlineAllocaScopes());
  }
  pm.addNestedPass<func::FuncOp>(createConvertVectorToSCFPass(
      VectorTransferToSCFOptions().enableFullUnroll()));
  pm.addNestedPass<func::FuncOp>(createSCFToControlFlowPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addNestedPass<func::FuncOp>(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  ConvertVectorToLLVMPassOptions vectorToLLVM;
  vectorToLLVM.vectorContractLowering =
      vector::VectorContractLowering::OuterProduct;
  // x86vector.avx512.dot -> llvm.x86.avx512bf16.dpbf16ps.
  vectorToLLVM.x86Vector = options.bf16DotProducts;
  pm.addPass(createConvertVectorToLLVMPass(vectorToLLVM));
  if (options.numThreads != 1)
    pm.addPass(createConvertOpenMPToLLVMPass());
  pm.addPass(createConvertIndexToLLVMPass());
  // Out-params may not overlap the inputs (the option's contract): their
  // data pointers become llvm.noalias, which convert-func-to-llvm alone
  // would drop, so loads of the inputs can move across stores to them.
  if (options.resultsToOutParams)
    pm.addPass(createDeltaNetCpuRecordOutParamsNoAlias());
  pm.addPass(createConvertFuncToLLVMPass());
  if (options.resultsToOutParams)
    pm.addPass(createDeltaNetCpuApplyOutParamsNoAlias());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createUBToLLVMConversionPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}
