//===- NPUOps.td - npu dialect operations ------------------*- tablegen -*-===//
//
// Local buffers, DMA, matrix-unit tile products and vector-unit work.
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_DIALECT_NPU_IR_NPUOPS_TD
#define DELTANET_DIALECT_NPU_IR_NPUOPS_TD

include "deltanet/Dialect/NPU/IR/NPUAttrs.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/OpBase.td"

class NPU_Op<string mnemonic, list<Trait> traits = []>
    : Op<NPU_Dialect, mnemonic, traits>;

def NPU_AllocLocalOp : NPU_Op<"alloc_local"> {
  let summary = "a buffer in one of the NPU's local memories";
  let description = [{
    Allocates a statically shaped buffer in the local memory `space`
    (matrix-unit operand and accumulator buffers, or the vector unit's local
    memory). `deltanet-npu-map-to-units` checks that the buffers of every
    space fit its capacity in the target.

    ```mlir
    %lhs = npu.alloc_local <matrix_lhs> : memref<2x16x16xf16>
    ```
  }];
  let arguments = (ins NPU_LocalSpaceAttr:$space);
  let results = (outs Res<AnyStaticShapeMemRef, "", [MemAlloc]>:$buffer);
  let assemblyFormat = "$space attr-dict `:` type($buffer)";
  let hasVerifier = 1;
}

def NPU_DmaOp : NPU_Op<"dma"> {
  let summary = "copy a 2-D window between buffers (DMA engine)";
  let description = [{
    Copies the window common to `source` and `target` (the minimum of their
    sizes per dimension) from `source` into the top-left of `target`; the
    rest of a larger `target` is zero-filled (padding a partial tile to the
    matrix unit's shape). Either side may be global memory or a local
    buffer; sizes and strides may be dynamic.

    ```mlir
    npu.dma %a_window, %lhs_tile : memref<?x?xf16, strided<[64, 1], offset: ?>>, memref<16x16xf16>
    ```
  }];
  let arguments = (ins Arg<AnyMemRef, "", [MemRead]>:$source,
                       Arg<AnyMemRef, "", [MemWrite]>:$target);
  let assemblyFormat =
      "$source `,` $target attr-dict `:` type($source) `,` type($target)";
  let hasVerifier = 1;
}

def NPU_MatmulOp : NPU_Op<"matmul"> {
  let summary = "one matrix-unit tile product";
  let description = [{
    `acc = lhs @ rhs`, or `acc += lhs @ rhs` with `accumulate`, on local
    tiles: `MxK` f16 times `KxN` f16 into `MxN` f32, or i8 x i8 into i32
    (exact integer accumulation).

    ```mlir
    npu.matmul %lhs, %rhs, %acc {accumulate} : memref<16x16xf16>, memref<16x16xf16>, memref<16x16xf32>
    ```
  }];
  let arguments = (ins Arg<AnyMemRef, "", [MemRead]>:$lhs,
                       Arg<AnyMemRef, "", [MemRead]>:$rhs,
                       Arg<AnyMemRef, "", [MemRead, MemWrite]>:$acc,
                       UnitAttr:$accumulate);
  let assemblyFormat = "$lhs `,` $rhs `,` $acc attr-dict `:` type($lhs) `,` "
                       "type($rhs) `,` type($acc)";
  let hasVerifier = 1;
}

def NPU_YieldOp : NPU_Op<"yield", [Pure, Terminator,
                                   ParentOneOf<["VectorOp"]>]> {
  let summary = "terminates the body of npu.vector";
  let assemblyFormat = "attr-dict";
}

def NPU_VectorOp : NPU_Op<"vector", [
    RecursiveMemoryEffects, AttrSizedOperandSegments,
    SingleBlockImplicitTerminator<"YieldOp">]> {
  let summary = "work on the vector unit";
  let description = [{
    The region computes something on the vector unit (a `linalg` op on
    memrefs, later loops). `inputs` and `outputs` are the buffers it reads
    and writes: the cost model orders it after their producers. `instrs` is
    the number of vector instructions it issues (lanes of the target already
    applied), `chain` the length of its longest chain of dependent
    instructions (a row of forward substitution: its `i` multiply-adds).
    With `data_movement` the body only moves data (a copy, gather or
    broadcast) and the DMA engine does it as a strided copy instead of the
    vector unit.

    ```mlir
    npu.vector ins(%a : memref<16x64xf32>) outs(%b : memref<16x64xf32>)
        instrs(%c32) chain(%c0) {
      linalg.generic ... ins(%a ...) outs(%b ...)
    }
    ```
  }];
  let arguments = (ins Variadic<AnyMemRef>:$inputs,
                       Variadic<AnyMemRef>:$outputs,
                       Index:$instrs, Index:$chain,
                       UnitAttr:$data_movement);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    (`ins` `(` $inputs^ `:` type($inputs) `)`)?
    (`outs` `(` $outputs^ `:` type($outputs) `)`)?
    `instrs` `(` $instrs `)` `chain` `(` $chain `)` $body attr-dict
  }];
  let hasVerifier = 1;
}

#endif // DELTANET_DIALECT_NPU_IR_NPUOPS_TD
