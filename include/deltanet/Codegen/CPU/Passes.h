//===- Passes.h - CPU codegen passes ----------------------------*- C++ -*-===//
//
// Declares the CPU codegen passes, their patterns, the CPU codegen pipeline
// (linalg on tensors to the LLVM dialect) and their registration.
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_CODEGEN_CPU_PASSES_H
#define DELTANET_CODEGEN_CPU_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/X86Vector/X86VectorDialect.h"
#include "mlir/Pass/Pass.h"

namespace mlir {
class OpPassManager;
class RewritePatternSet;
namespace deltanet {

#define GEN_PASS_DECL
#include "deltanet/Codegen/CPU/Passes.h.inc"

/// Adds the pattern lowering INT8 batch matmuls to dot-product vector code:
/// with `unsignedSignedDots`, AVX512_VNNI `vpdpbusd` (4 products per lane),
/// else pairwise multiply-adds (vpdpwssd with VNNI, vpmaddwd on AVX2).
void populateVectorizeIntegerMatmulsPatterns(RewritePatternSet &patterns,
                                             bool unsignedSignedDots = false);

/// Adds the pattern rewriting strided memref.copy into linalg.copy.
void populateCopiesToLinalgPatterns(RewritePatternSet &patterns);

/// Adds the pattern moving reduction loops of linalg.generic ops outward.
void populateInterchangeReductionsPatterns(RewritePatternSet &patterns);

/// Adds the CPU codegen passes: linalg/tensor/scf on tensors (as the
/// deltanet conversions leave them) to the LLVM dialect for the host CPU:
/// matmul vectorisation, one-shot bufferization across function boundaries
/// (inputs of public functions read-only), buffer deallocation, loops with
/// the unit-stride loop innermost, and LLVM. `numThreads` != 1: scf.forall
/// loops (deltanet-cpu-parallelize-heads) become OpenMP parallel loops with
/// that many threads (0: the OpenMP runtime's choice, i.e. OMP_NUM_THREADS
/// or every core); the code then needs libomp at run time.
/// `bf16DotProducts`: bf16 x bf16 -> f32 matmuls become AVX512_BF16 dot
/// products (`vdpbf16ps`, deltanet-cpu-vectorize-bf16-matmuls) instead of
/// f32 FMAs on widened operands; the code then needs a CPU with AVX512_BF16.
/// `int8DotProducts`: i8 x i8 -> i32 matmuls as AVX512_VNNI `vpdpbusd`
/// (4 byte products per lane) instead of pairwise i16 multiply-adds; the
/// code then needs a CPU with AVX512_VNNI and AVX512VL.
/// `resultsToOutParams`: memref results become caller-provided out-param
/// arguments (upstream buffer-results-to-out-params right after
/// bufferization, allocations of the results hoisted into the arguments).
/// `prefetchGatherRows`: deltanet-cpu-prefetch-gather-rows runs (the chunk
/// loop's next input rows prefetched inside its largest products).
void buildCPUCodegenPassPipeline(OpPassManager &pm, int64_t numThreads = 1,
                                 bool bf16DotProducts = false,
                                 bool int8DotProducts = false,
                                 bool resultsToOutParams = false,
                                 bool prefetchGatherRows = true);

#define GEN_PASS_REGISTRATION
#include "deltanet/Codegen/CPU/Passes.h.inc"

} // namespace deltanet
} // namespace mlir

#endif // DELTANET_CODEGEN_CPU_PASSES_H
