//===- Passes.h - CPU codegen passes ----------------------------*- C++ -*-===//
//
// Declares the CPU codegen passes, their patterns, the CPU codegen pipeline
// (linalg on tensors to the LLVM dialect) and their registration.
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_CODEGEN_CPU_PASSES_H
#define DELTANET_CODEGEN_CPU_PASSES_H

#include "deltanet/Codegen/CPU/CodegenOptions.h"
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
/// the unit-stride loop innermost, and LLVM; `options` as documented on
/// CPUCodegenOptions.
void buildCPUCodegenPassPipeline(OpPassManager &pm,
                                 const CPUCodegenOptions &options = {});

#define GEN_PASS_REGISTRATION
#include "deltanet/Codegen/CPU/Passes.h.inc"

} // namespace deltanet
} // namespace mlir

#endif // DELTANET_CODEGEN_CPU_PASSES_H
