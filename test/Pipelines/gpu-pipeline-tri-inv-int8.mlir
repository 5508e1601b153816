// tri-inv-precision=i8 on the GPU: the blocked inverse with batched levels,
// every merge product the CPU's INT8 matmul (emitPrecisionMatmul: the blocks
// quantised per row of the left and column of the right operand by
// deltanet.quantize, an i8 x i8 -> i32 batched matmul, deltanet.dequantize;
// the diagonal 4 x 4 blocks in f32 as on the CPU), all in the block's shared
// memory: per level of 2s-wide pairs (s = 4, 8, 16, 32) two i8 products over
// the 64 / 2s pairs. The products are SIMT i8 x i8 -> i32 multiply-adds;
// with tensor-cores-int8 (off by default: not yet run on a device) the
// last level's (32 x 32 x 32) go to the s8 tensor cores. Numerics against
// float64 (SIMT): gpu-pipeline-cpu-emulation.test.
// RUN: deltanet-opt %s --deltanet-gpu-pipeline="tri-inv-precision=i8" -mlir-print-ir-before=deltanet-gpu-map-to-threads -o /dev/null 2>&1 | FileCheck %s
// RUN: deltanet-opt %s --deltanet-gpu-pipeline="tri-inv-precision=i8" | FileCheck %s --check-prefix=PTX
// RUN: deltanet-opt %s --deltanet-gpu-pipeline="tri-inv-precision=i8 tri-inv-quant-granularity=matrix" | FileCheck %s --check-prefix=PTX
// RUN: deltanet-opt %s --deltanet-gpu-pipeline="tri-inv-precision=i8 tensor-cores-int8=true" | FileCheck %s --check-prefix=MMA
// RUN: not deltanet-opt %s --deltanet-gpu-pipeline="tri-inv-precision=i4" 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: deltanet-opt %s --deltanet-gpu-pipeline="tri-inv-precision=i8 tri-inv-block-size=16" -o /dev/null 2>&1 | FileCheck %s --check-prefix=BLOCK16 --allow-empty

// CHECK-LABEL: func.func @tri_inv_i8
// CHECK: scf.forall
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : memref<8x4x4xi8, #gpu.address_space<workgroup>>, memref<8x4x4xi8, #gpu.address_space<workgroup>>) outs(%{{.*}} : memref<8x4x4xi32, #gpu.address_space<workgroup>>)
// CHECK: linalg.batch_matmul ins({{.*}}memref<8x4x4xi8{{.*}}) outs({{.*}}memref<8x4x4xi32
// CHECK: linalg.batch_matmul ins({{.*}}memref<4x8x8xi8{{.*}}) outs({{.*}}memref<4x8x8xi32
// CHECK: linalg.batch_matmul ins({{.*}}memref<4x8x8xi8{{.*}}) outs({{.*}}memref<4x8x8xi32
// CHECK: linalg.batch_matmul ins({{.*}}memref<2x16x16xi8{{.*}}) outs({{.*}}memref<2x16x16xi32
// CHECK: linalg.batch_matmul ins({{.*}}memref<2x16x16xi8{{.*}}) outs({{.*}}memref<2x16x16xi32
// CHECK: linalg.batch_matmul ins({{.*}}memref<1x32x32xi8{{.*}}) outs({{.*}}xi32
// CHECK: linalg.batch_matmul ins({{.*}}memref<1x32x32xi8{{.*}}) outs({{.*}}xi32
// CHECK-NOT: linalg.batch_matmul
// CHECK: } {mapping = [#gpu.block<x>]}

// The kernel: the i8 operands are sign-extended and multiplied-added in
// i32. (The quantisation's rounding and |x| are libdevice calls, inlined
// where $CUDA_HOME has libdevice, as every kernel's exp: not checked here.)
// PTX: gpu.binary @tri_inv_i8_kernel
// PTX-SAME: .target sm_90
// PTX-SAME: cvt.s32.s8
// PTX-SAME: mad.lo.s32

// tensor-cores-int8: the last level's two 32 x 32 x 32 products (4 warps,
// 16 x 16 each: 2 m16n8k32 per warp and product) on the s8 tensor cores
// (upstream's lowering saturates; |sums| <= 127^2 x 32, far inside i32).
// MMA: gpu.binary @tri_inv_i8_kernel
// MMA-SAME: mma.sync.aligned.m16n8k32.row.col.satfinite.s32.s8.s8.s32

// BAD: tri-inv-precision

// No INT8 hazard warning for blocks of 16: with batched levels the
// diagonal blocks' Neumann products are f32 (the CPU's hazard is their
// int8 sums).
// BLOCK16-NOT: warning
func.func @tri_inv_i8(%a: memref<4x64x64xf32>, %x: memref<4x64x64xf32>) attributes {llvm.emit_c_interface} {
  %at = bufferization.to_tensor %a restrict : memref<4x64x64xf32> to tensor<4x64x64xf32>
  %xt = deltanet.tri_inv %at : tensor<4x64x64xf32>
  bufferization.materialize_in_destination %xt in restrict writable %x : (tensor<4x64x64xf32>, memref<4x64x64xf32>) -> ()
  return
}
