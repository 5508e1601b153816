// RUN: deltanet-opt %s --deltanet-lower-chunk-stages="precision=bf16" | FileCheck %s --check-prefix=BF16
// RUN: deltanet-opt %s --deltanet-lower-chunk-stages="precision=i8" | FileCheck %s --check-prefix=I8
// RUN: deltanet-opt %s --deltanet-lower-chunk-stages | FileCheck %s --check-prefix=F32
// The whole pipeline: the stages' INT8 products as AVX512_VNNI vpdpbusd,
// bf16 ones as AVX512_BF16 vdpbf16ps (the intrinsic calls in the LLVM
// dialect; the instructions are checked in vectorize-bf16-matmuls.mlir and
// vectorize-integer-matmuls-vpdpbusd.mlir).
// RUN: deltanet-opt %s --deltanet-cpu-pipeline="chunk-precision=i8 int8-dot-products=1" | FileCheck %s --check-prefix=VNNI
// RUN: deltanet-opt %s --deltanet-cpu-pipeline="chunk-precision=bf16 bf16-dot-products=1" | FileCheck %s --check-prefix=DPBF16
// RUN: not deltanet-opt %s --deltanet-cpu-pipeline="chunk-precision=f64" 2>&1 | FileCheck %s --check-prefix=BAD

// The stage products' operands in the chunk precision, the sums in f32; the
// masks, decays and the state stay f32.

// With bf16, k rounded once (one truncf generic), transposed as bf16, a
// bf16 x bf16 -> f32 batch_matmul; the mask reads its f32 result.
// BF16-LABEL: func.func @gated_kkt
// BF16: %[[K:.*]] = linalg.generic {{.*}} ins(%arg0 : tensor<2x8x4xf32>) outs(%{{.*}} : tensor<2x8x4xbf16>)
// BF16: arith.truncf %{{.*}} : f32 to bf16
// BF16: %[[KT:.*]] = linalg.transpose ins(%[[K]] : tensor<2x8x4xbf16>) outs(%{{.*}} : tensor<2x4x8xbf16>)
// BF16: %[[GRAM:.*]] = linalg.batch_matmul ins(%[[K]], %[[KT]] : tensor<2x8x4xbf16>, tensor<2x4x8xbf16>) outs(%{{.*}} : tensor<2x8x8xf32>)
// BF16: linalg.generic {{.*}} ins(%[[GRAM]], {{.*}} : tensor<2x8x8xf32>,
// INT8: exactly one quantisation per operand (per row of k, per column of
// k^T), an i8 x i8 -> i32 product, one dequantisation.
// I8-LABEL: func.func @gated_kkt
// I8: %[[QA:.*]], %[[SA:.*]] = deltanet.quantize %arg0 along [2] : tensor<2x8x4xf32>
// I8: %[[QB:.*]], %[[SB:.*]] = deltanet.quantize %{{.*}} along [1] : tensor<2x4x8xf32>
// I8: %[[P:.*]] = linalg.batch_matmul ins(%[[QA]], %[[QB]] : tensor<2x8x4xi8>, tensor<2x4x8xi8>) outs(%{{.*}} : tensor<2x8x8xi32>)
// I8: deltanet.dequantize %[[P]], %[[SA]], %[[SB]]
// F32-LABEL: func.func @gated_kkt
// F32-NOT: truncf
// F32-NOT: deltanet.quantize
// F32: linalg.batch_matmul ins(%arg0, %{{.*}} : tensor<2x8x4xf32>, tensor<2x4x8xf32>)
func.func @gated_kkt(%k: tensor<2x8x4xf32>, %g: tensor<2x8xf32>, %beta: tensor<2x8xf32>) -> tensor<2x8x8xf32> {
  %a = deltanet.gated_kkt %k, %g, %beta : (tensor<2x8x4xf32>, tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8x8xf32>
  return %a : tensor<2x8x8xf32>
}

// chunk_output: three products (q exp(g) S, q k^T, attention v_new), each on
// bf16 operands / INT8 quantised; the carried product is the accumulator of
// the last.
// BF16-LABEL: func.func @chunk_output
// BF16: %[[C:.*]] = linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x8x4xbf16>, tensor<2x4x3xbf16>) outs(%{{.*}} : tensor<2x8x3xf32>)
// BF16: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x8x4xbf16>, tensor<2x4x8xbf16>) outs(%{{.*}} : tensor<2x8x8xf32>)
// BF16: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x8x8xbf16>, tensor<2x8x3xbf16>) outs(%[[C]] : tensor<2x8x3xf32>)
// I8-LABEL: func.func @chunk_output
// I8-COUNT-6: deltanet.quantize
// I8-NOT: deltanet.quantize
// I8: return
func.func @chunk_output(%q: tensor<2x8x4xf32>, %k: tensor<2x8x4xf32>, %v: tensor<2x8x3xf32>, %s: tensor<2x4x3xf32>, %g: tensor<2x8xf32>) -> tensor<2x8x3xf32> {
  %o = deltanet.chunk_output %q, %k, %v, %s, %g {scale = 0.5 : f32} : (tensor<2x8x4xf32>, tensor<2x8x4xf32>, tensor<2x8x3xf32>, tensor<2x4x3xf32>, tensor<2x8xf32>) -> tensor<2x8x3xf32>
  return %o : tensor<2x8x3xf32>
}

// The whole chunk op (C = 16, K = V = 16): gated K K^T, the WY products,
// the state scan's two and the output's three run as dot products.
// VNNI-LABEL: llvm.func @gdr
// VNNI: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd
// DPBF16-LABEL: llvm.func @gdr
// DPBF16: llvm.call_intrinsic "llvm.x86.avx512bf16.dpbf16ps.512"
// BAD: f64
func.func @gdr(%q: tensor<1x32x1x16xf32>, %k: tensor<1x32x1x16xf32>, %v: tensor<1x32x1x16xf32>, %g: tensor<1x32x1xf32>, %beta: tensor<1x32x1xf32>, %h0: tensor<1x1x16x16xf32>) -> (tensor<1x32x1x16xf32>, tensor<1x1x16x16xf32>) {
  %o, %s = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %beta, %h0 {chunk_size = 16 : i64} : (tensor<1x32x1x16xf32>, tensor<1x32x1x16xf32>, tensor<1x32x1x16xf32>, tensor<1x32x1xf32>, tensor<1x32x1xf32>, tensor<1x1x16x16xf32>) -> (tensor<1x32x1x16xf32>, tensor<1x1x16x16xf32>)
  return %o, %s : tensor<1x32x1x16xf32>, tensor<1x1x16x16xf32>
}
