//===- Passes.td - NPU codegen passes ----------------------*- tablegen -*-===//
//
// Passes that map linalg on buffers to the npu dialect and emit C.
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_CODEGEN_NPU_PASSES_TD
#define DELTANET_CODEGEN_NPU_PASSES_TD

include "mlir/Pass/PassBase.td"

def DeltaNetNpuLowerForwardSubstitution
    : Pass<"deltanet-npu-lower-forward-substitution", "ModuleOp"> {
  let summary = "deltanet.tri_inv by forward substitution, rows in place";
  let description = [{
    The baseline of the NPU comparison, honest: every `deltanet.tri_inv`
    whose strategy is `forward-substitution` (its attribute or `strategy`)
    becomes, per tile of `batch-tile` matrices, `-L` and `X = I` in local
    buffers and one row product per row `X[:, i, :i] = -L[:, i, :i] X[:, :i,
    :i]` written in place (a `linalg.batch_matmul` on buffers with one row,
    which `deltanet-npu-map-to-units` puts on the vector unit with its
    chain of `i` dependent multiply-adds), the rows of all matrices of the
    tile in one op so that they fill the vector pipeline. The tensor-level
    forward substitution of `--deltanet-lower-tri-inv` would make
    bufferization copy `X[:i, :i]` for every row.

    Precision: rows are computed with f32 accumulation; `f16`/`bf16`/`i8`
    are costed at fp16 vector lanes (`npu.lane_bits = 16`), `f32` at fp32
    lanes. This flatters the baseline (fp16 arithmetic would be less
    accurate), which is the conservative side for the comparison.
  }];
  let options = [
    Option<"strategy", "strategy", "::mlir::deltanet::TriInvStrategy",
           "::mlir::deltanet::TriInvStrategy::Blocked",
           "Strategy of tri_inv ops without a strategy attribute",
           [{::llvm::cl::values(
             clEnumValN(::mlir::deltanet::TriInvStrategy::Blocked, "blocked", "blocked"),
             clEnumValN(::mlir::deltanet::TriInvStrategy::Neumann, "neumann", "neumann"),
             clEnumValN(::mlir::deltanet::TriInvStrategy::ForwardSubstitution,
                        "forward-substitution", "forward substitution"))}]>,
    Option<"precision", "precision", "::mlir::deltanet::TriInvPrecision",
           "::mlir::deltanet::TriInvPrecision::F32",
           "Precision of tri_inv ops without a precision attribute",
           [{::llvm::cl::values(
             clEnumValN(::mlir::deltanet::TriInvPrecision::F32, "f32", "f32"),
             clEnumValN(::mlir::deltanet::TriInvPrecision::BF16, "bf16", "bf16"),
             clEnumValN(::mlir::deltanet::TriInvPrecision::F16, "f16", "f16"),
             clEnumValN(::mlir::deltanet::TriInvPrecision::I8, "i8", "i8"))}]>,
    Option<"batchTile", "batch-tile", "int64_t", "16",
           "Matrices per tile (the largest divisor of the batch up to it)">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect"];
}

def DeltaNetNpuDemoteMatmuls : Pass<"deltanet-npu-demote-matmuls", "ModuleOp"> {
  let summary = "Round f32 matmul operands to f16 for a matrix unit without f32";
  let description = [{
    On tensors. The matrix units of both presets multiply fp16 or int8 only:
    every `linalg.batch_matmul` with f32 operands and more than one row
    (`M > 1`) gets its operands rounded to f16 (f32 accumulation), as NPU
    kernels of the chunk stages do. Row-times-matrix products (`M = 1`, the
    rows of forward substitution) stay on the vector unit. Element-type
    conversions that only feed matmul operands are marked `npu.fused_cast`:
    the data movers convert on the way into the operand buffers (Ascend's
    MTEs convert during movement), so they cost no vector instructions.
    With `demote=false` the pass only marks.
  }];
  let options = [
    Option<"demote", "demote", "bool", "true",
           "Round f32 operands of M > 1 matmuls to f16 (else only mark "
           "fused casts)">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def DeltaNetNpuMapToUnits : Pass<"deltanet-npu-map-to-units", "ModuleOp"> {
  let summary = "Map linalg on buffers to npu matrix, vector and DMA ops";
  let description = [{
    On memrefs, after bufferization. Every `linalg.batch_matmul` whose
    operands the matrix unit takes (f16 or i8, static `M > 1`, `N`, `K`) is
    tiled to the unit's tile shape: per output tile, an accumulator loaded by
    DMA, one `npu.matmul` per `K` tile on operand tiles brought in by DMA
    (zero padded at the edges), and a DMA back. Operand and accumulator
    buffers are `npu.alloc_local`; they are double-buffered (alternating
    by tile parity, so the DMA of the next tile overlaps the current
    product) when twice the tile fits the target's buffer, single-buffered
    when only once fits, and a tile that does not fit at all is an error.

    Every other linalg op becomes vector-unit work (`npu.vector`) with its
    instruction count (iterations / lanes x ops per element) and dependency
    chain: row-times-matrix products (forward substitution) issue `K`
    multiply-adds per output vector in a chain of length `K`.

    The target is the module's `npu.target` attribute or, without one, the
    preset named by `target` (which is then attached to the module).
  }];
  let options = [
    Option<"target", "target", "std::string", "\"mobile\"",
           "Preset used when the module has no npu.target attribute: "
           "mobile (Hexagon class) or datacenter (Ascend class)">,
    Option<"doubleBuffer", "double-buffer", "bool", "true",
           "Double-buffer matrix-unit tiles where two fit">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::deltanet::npu::NPUDialect"];
}

def DeltaNetNpuToEmitC : Pass<"deltanet-npu-to-emitc", "ModuleOp"> {
  let summary = "Convert npu, memref, scf, arith, math and func to EmitC";
  let description = [{
    The last step of `--deltanet-npu-pipeline`: upstream's arith, scf, math
    and func conversions to EmitC, plus ours for buffers and npu ops. A
    buffer is a C pointer to its first element (upstream's memref-to-emitc
    handles statically shaped arrays only, not allocations that outlive a
    scope, views or dynamic windows); loads and stores index it with the
    static strides; `memref.reinterpret_cast` (what views become after
    `expand-strided-metadata`) offsets it. npu ops become calls of the
    runtime header `npu_runtime.h` (`runtime/npu/`), and the module gets
    the target's parameters (`NPU_TARGET(...)`) for the cost model.
  }];
  let dependentDialects = ["::mlir::emitc::EmitCDialect"];
}

#endif // DELTANET_CODEGEN_NPU_PASSES_TD
