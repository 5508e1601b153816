//===- NPUAttrs.td - npu target attribute and enums --------*- tablegen -*-===//
//
// The machine description of an NPU-like target and the local memory spaces.
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_DIALECT_NPU_IR_NPUATTRS_TD
#define DELTANET_DIALECT_NPU_IR_NPUATTRS_TD

include "deltanet/Dialect/NPU/IR/NPUDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def NPU_LocalSpace : I32EnumAttr<"LocalSpace", "a local memory of the NPU", [
      I32EnumAttrCase<"MatrixLhs", 0, "matrix_lhs">,
      I32EnumAttrCase<"MatrixRhs", 1, "matrix_rhs">,
      I32EnumAttrCase<"MatrixAcc", 2, "matrix_acc">,
      I32EnumAttrCase<"Vector", 3, "vector">
    ]> {
  let cppNamespace = "::mlir::deltanet::npu";
  let genSpecializedAttr = 0;
}

def NPU_LocalSpaceAttr : EnumAttr<NPU_Dialect, NPU_LocalSpace, "space"> {
  let summary = "which local memory a buffer lives in";
  let assemblyFormat = "`<` $value `>`";
}

def NPU_TargetAttr : AttrDef<NPU_Dialect, "Target"> {
  let mnemonic = "target";
  let summary = "parameters of an NPU-like machine";
  let description = [{
    Everything the compiler and the cost model know about the machine (one
    core). Cycles are core clock cycles.

    * `mm_tile_f16`, `mm_tile_i8`: the matrix unit's tile `[M, N, K]` per
      operand type (`[0, 0, 0]`: not supported); `mm_cycles_f16`,
      `mm_cycles_i8`: issue cycles per tile product; `mm_latency`: cycles
      until its result can be read. The matrix unit has no fp32 (both
      presets): f32 matmuls run on the vector unit.
    * `vector_bits`: vector register width; `vector_issue`: vector
      instructions per cycle; `vector_latency`: cycles from an instruction to
      a dependent one.
    * `mm_lhs_bytes`, `mm_rhs_bytes`, `mm_acc_bytes`: matrix operand /
      accumulator buffers; `local_bytes`: vector-side local memory (TCM,
      unified buffer).
    * `dma_global_bytes_per_cycle`, `dma_local_bytes_per_cycle`: DMA
      bandwidth from/to global memory and between local buffers;
      `dma_latency`: cycles from issue to the first byte.
    * `clock_mhz`: to convert cycles into time.

    `deltanet-npu-pipeline{target=mobile}` and `{target=datacenter}` are the
    presets of docs/NPU.md (every figure cited there or marked as an
    assumption).
  }];
  let parameters = (ins
    StringRefParameter<"preset name">:$name,
    "int64_t":$clock_mhz,
    ArrayRefParameter<"int64_t", "[M, N, K] of an f16 tile">:$mm_tile_f16,
    "int64_t":$mm_cycles_f16,
    ArrayRefParameter<"int64_t", "[M, N, K] of an i8 tile">:$mm_tile_i8,
    "int64_t":$mm_cycles_i8,
    "int64_t":$mm_latency,
    "int64_t":$vector_bits,
    "int64_t":$vector_issue,
    "int64_t":$vector_latency,
    "int64_t":$mm_lhs_bytes,
    "int64_t":$mm_rhs_bytes,
    "int64_t":$mm_acc_bytes,
    "int64_t":$local_bytes,
    "int64_t":$dma_global_bytes_per_cycle,
    "int64_t":$dma_local_bytes_per_cycle,
    "int64_t":$dma_latency
  );
  // Keyword form (struct() would print the tiles without brackets).
  let assemblyFormat = [{
      `<` `name` `=` $name `,`
      `clock_mhz` `=` $clock_mhz `,`
      `mm_tile_f16` `=` `[` $mm_tile_f16 `]` `,`
      `mm_cycles_f16` `=` $mm_cycles_f16 `,`
      `mm_tile_i8` `=` `[` $mm_tile_i8 `]` `,`
      `mm_cycles_i8` `=` $mm_cycles_i8 `,`
      `mm_latency` `=` $mm_latency `,`
      `vector_bits` `=` $vector_bits `,`
      `vector_issue` `=` $vector_issue `,`
      `vector_latency` `=` $vector_latency `,`
      `mm_lhs_bytes` `=` $mm_lhs_bytes `,`
      `mm_rhs_bytes` `=` $mm_rhs_bytes `,`
      `mm_acc_bytes` `=` $mm_acc_bytes `,`
      `local_bytes` `=` $local_bytes `,`
      `dma_global_bytes_per_cycle` `=` $dma_global_bytes_per_cycle `,`
      `dma_local_bytes_per_cycle` `=` $dma_local_bytes_per_cycle `,`
      `dma_latency` `=` $dma_latency `>`
  }];
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The tile [M, N, K] for operands of `type` (f16 or i8), or an empty
    /// array when the matrix unit does not take it.
    ArrayRef<int64_t> getTileFor(Type type) const;
    /// Vector lanes for elements of `bits` bits.
    int64_t getLanes(int64_t bits) const {
      return std::max<int64_t>(1, getVectorBits() / bits);
    }
    /// Capacity in bytes of a local memory.
    int64_t getCapacity(LocalSpace space) const;
  }];
}

#endif // DELTANET_DIALECT_NPU_IR_NPUATTRS_TD
