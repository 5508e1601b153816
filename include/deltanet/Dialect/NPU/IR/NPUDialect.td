//===- NPUDialect.td - The npu dialect definition ----------*- tablegen -*-===//
//
// The `npu` dialect: an NPU-like machine with a matrix unit, a vector unit and
// DMA between global memory and small local buffers.
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_DIALECT_NPU_IR_NPUDIALECT_TD
#define DELTANET_DIALECT_NPU_IR_NPUDIALECT_TD

include "mlir/IR/OpBase.td"

def NPU_Dialect : Dialect {
  let name = "npu";
  let summary = "An NPU-like target: matrix unit, vector unit, DMA, local buffers";
  let description = [{
    The `npu` dialect models the machines the matmul-only triangular inverse
    is written for: a *matrix unit* that multiplies fixed-size tiles of
    fp16 or int8 operands held in dedicated operand buffers (HMX on Hexagon,
    the cube unit of Ascend's Da Vinci core), a wide *vector unit* for
    elementwise work, and a *DMA engine* that moves data between global
    memory and the local buffers. The machine's parameters are a
    `#npu.target` attribute.

    Ops work on memrefs. `npu.alloc_local` names a buffer of one of the
    local memories; `npu.dma` copies a 2-D window between any two buffers
    (zero padding a larger destination); `npu.matmul` is one matrix-unit tile
    product; `npu.vector` wraps vector-unit work (its region holds the
    computation, its operands say what it reads and writes, `instrs` and
    `chain` what it costs). `--deltanet-npu-to-emitc` turns them into calls of
    the runtime header `runtime/npu/npu_runtime.h`, which executes them on the
    host and counts cycles per unit.
  }];
  let cppNamespace = "::mlir::deltanet::npu";
  let useDefaultAttributePrinterParser = 1;
}

#endif // DELTANET_DIALECT_NPU_IR_NPUDIALECT_TD
