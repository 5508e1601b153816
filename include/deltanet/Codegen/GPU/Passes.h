//===- Passes.h - GPU code generation passes --------------------*- C++ -*-===//
//
// Declares the passes that map deltanet programs onto NVIDIA GPUs.
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_CODEGEN_GPU_PASSES_H
#define DELTANET_CODEGEN_GPU_PASSES_H

#include "deltanet/Conversion/DeltaNetToLinalg/TriInvOptionValues.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir {
namespace deltanet {

#define GEN_PASS_DECL
#include "deltanet/Codegen/GPU/Passes.h.inc"

/// True if `forall` is mapped to GPU blocks.
bool isBlockMapped(scf::ForallOp forall);

/// True if `op` is nested (at any depth) in an scf.forall mapped to GPU
/// blocks.
bool isInsideBlockLoop(Operation *op);

/// The discardable attribute (i64) on a block-mapped scf.forall that gives
/// its kernel's threads per block, set by deltanet-gpu-distribute-to-blocks
/// (`kernel-threads`). The passes that spread a block over its threads
/// (-matmuls-to-mma-sync, -prefetch-loop-operands, -map-to-threads) use it
/// where present, their `threads` option elsewhere.
constexpr llvm::StringLiteral kBlockThreadsAttrName = "deltanet.block_threads";

/// The threads of block `forall`: its kBlockThreadsAttrName, or
/// `defaultThreads` without one; failure (an error on `forall`) when the
/// attribute is not an integer multiple of 32 in [32, 1024].
FailureOr<int64_t> getBlockThreads(scf::ForallOp forall,
                                   int64_t defaultThreads);

/// Checks kBlockThreadsAttrName on every block loop under `root` (an error
/// on each bad one).
LogicalResult verifyBlockThreads(Operation *root);

/// The byte alignment that the address of element 0 of `memref` provably
/// has (0 if unknown): shared memory and the program's own allocations are
/// 16-byte aligned, the function's arguments `globalAlignment`; views keep
/// what their offsets allow (deltanet-gpu-annotate-vector-alignment).
int64_t provableAlignment(Value memref, int64_t globalAlignment);

#define GEN_PASS_REGISTRATION
#include "deltanet/Codegen/GPU/Passes.h.inc"

} // namespace deltanet
} // namespace mlir

#endif // DELTANET_CODEGEN_GPU_PASSES_H
