// stage-precision=STAGE=PREC,... overrides `precision` per chunk stage.
// precision=bf16 with the state scan in f32: gated K K^T, the WY products
// and the output's three on bf16 operands, the scan's two on f32 ones with
// no rounding inside its loop (the GPU's scan keeps f32 shared tiles only).
// RUN: deltanet-opt %s --deltanet-decompose-chunk-gated-delta-rule --deltanet-lower-chunk-stages="precision=bf16 stage-precision=chunk_state_scan=f32" | FileCheck %s --check-prefix=MIXED
// The converse: only the scan in bf16.
// RUN: deltanet-opt %s --deltanet-decompose-chunk-gated-delta-rule --deltanet-lower-chunk-stages="stage-precision=chunk_state_scan=bf16" | FileCheck %s --check-prefix=SCAN16
// Every stage listed: `precision` is not used; i8 for one stage only.
// RUN: deltanet-opt %s --deltanet-decompose-chunk-gated-delta-rule --deltanet-lower-chunk-stages="precision=bf16 stage-precision=gated_kkt=i8,wy_repr=f32,chunk_state_scan=f32,chunk_output=f32" | FileCheck %s --check-prefix=KKT8
// The pipelines' spelling (chunk-stage-precision) reaches the pass:
// RUN: deltanet-opt %s --deltanet-cpu-pipeline="chunk-precision=bf16 chunk-stage-precision=chunk_state_scan=f32,wy_repr=f16" --dump-pass-pipeline -o /dev/null 2>&1 | FileCheck %s --check-prefix=PIPE
// (the GPU pipeline's: test/Pipelines/gpu-pipeline-options-match-passes.mlir)
// RUN: deltanet-opt %s --deltanet-cpu-pipeline --dump-pass-pipeline -o /dev/null 2>&1 | FileCheck %s --check-prefix=PIPEDEFAULT

// MIXED-LABEL: func.func @gdr
// gated K K^T: k rounded once, a bf16 product.
// MIXED: arith.truncf %{{.*}} : f32 to bf16
// MIXED: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x16x16xbf16>, tensor<2x16x16xbf16>) outs(%{{.*}} : tensor<2x16x16xf32>)
// MIXED: deltanet.tri_inv
// MIXED-COUNT-2: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x16x16xbf16>, tensor<2x16x16xbf16>) outs(%{{.*}} : tensor<2x16x16xf32>)
// MIXED: scf.for
// MIXED-NOT: bf16
// MIXED: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<1x16x16xf32>, tensor<1x16x16xf32>) outs(%{{.*}} : tensor<1x16x16xf32>)
// MIXED-NOT: bf16
// MIXED: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<1x16x16xf32>, tensor<1x16x16xf32>) outs(%{{.*}} : tensor<1x16x16xf32>)
// MIXED-NOT: bf16
// MIXED: scf.yield
// MIXED-COUNT-3: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x16x16xbf16>, tensor<2x16x16xbf16>) outs(%{{.*}} : tensor<2x16x16xf32>)
// MIXED: return

// SCAN16-LABEL: func.func @gdr
// SCAN16-NOT: bf16
// SCAN16: scf.for
// SCAN16: arith.truncf %{{.*}} : f32 to bf16
// SCAN16: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<1x16x16xbf16>, tensor<1x16x16xbf16>) outs(%{{.*}} : tensor<1x16x16xf32>)
// SCAN16: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<1x16x16xbf16>, tensor<1x16x16xbf16>) outs(%{{.*}} : tensor<1x16x16xf32>)
// SCAN16: scf.yield
// SCAN16-NOT: bf16
// SCAN16: return

// KKT8-LABEL: func.func @gdr
// KKT8-COUNT-2: deltanet.quantize
// KKT8: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x16x16xi8>, tensor<2x16x16xi8>) outs(%{{.*}} : tensor<2x16x16xi32>)
// KKT8: deltanet.dequantize
// KKT8-NOT: deltanet.quantize
// KKT8-NOT: bf16
// KKT8: return

// PIPE: deltanet-lower-chunk-stages{{{.*}}precision=bf16 stage-precision={chunk_state_scan=f32,wy_repr=f16}{{.*}}}
// PIPEDEFAULT: deltanet-lower-chunk-stages{{{.*}}precision=f32
// PIPEDEFAULT-NOT: stage-precision
// PIPEDEFAULT-SAME: }

func.func @gdr(%q: tensor<1x32x1x16xf32>, %k: tensor<1x32x1x16xf32>, %v: tensor<1x32x1x16xf32>, %g: tensor<1x32x1xf32>, %beta: tensor<1x32x1xf32>, %h0: tensor<1x1x16x16xf32>) -> (tensor<1x32x1x16xf32>, tensor<1x1x16x16xf32>) {
  %o, %s = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %beta, %h0 {chunk_size = 16 : i64} : (tensor<1x32x1x16xf32>, tensor<1x32x1x16xf32>, tensor<1x32x1x16xf32>, tensor<1x32x1xf32>, tensor<1x32x1xf32>, tensor<1x1x16x16xf32>) -> (tensor<1x32x1x16xf32>, tensor<1x1x16x16xf32>)
  return %o, %s : tensor<1x32x1x16xf32>, tensor<1x1x16x16xf32>
}
