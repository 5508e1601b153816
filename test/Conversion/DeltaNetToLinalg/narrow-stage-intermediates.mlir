// deltanet-narrow-stage-intermediates: an intermediate that every consumer
// stage only rounds to 16 bits is stored in them by its producer (the same
// bits reach the products, half the bytes move).
// bf16 everywhere, the scan's decay folded into v_new (the GPU's scan): w,
// the scan's k, states and v_new, and the output's k in bf16.
// RUN: deltanet-opt %s --deltanet-decompose-chunk-gated-delta-rule --deltanet-narrow-stage-intermediates="precision=bf16 fold-scan-decay-into-values=true" | FileCheck %s --check-prefix=BF16
// f16 the same way.
// RUN: deltanet-opt %s --deltanet-decompose-chunk-gated-delta-rule --deltanet-narrow-stage-intermediates="precision=f16 fold-scan-decay-into-values=true" | FileCheck %s --check-prefix=F16
// The scan in f32 (a consumer of w and k that reads them in f32): they stay
// f32; the output stage's operands (states, v_new, k) are bf16.
// RUN: deltanet-opt %s --deltanet-decompose-chunk-gated-delta-rule --deltanet-narrow-stage-intermediates="precision=bf16 stage-precision=chunk_state_scan=f32 fold-scan-decay-into-values=true" | FileCheck %s --check-prefix=MIXED
// The scan decaying k in f32 (the CPU's scan): its k stays f32, w is bf16.
// RUN: deltanet-opt %s --deltanet-decompose-chunk-gated-delta-rule --deltanet-narrow-stage-intermediates="precision=bf16" | FileCheck %s --check-prefix=NOFOLD
// f32 (the default) and i8 stages: nothing changes.
// RUN: deltanet-opt %s --deltanet-decompose-chunk-gated-delta-rule --deltanet-narrow-stage-intermediates | FileCheck %s --check-prefix=F32
// RUN: deltanet-opt %s --deltanet-decompose-chunk-gated-delta-rule --deltanet-narrow-stage-intermediates="precision=i8 fold-scan-decay-into-values=true" | FileCheck %s --check-prefix=F32
// Lowered: wy_repr rounds w once after its products, the scan stores its
// states and v_new rounded and reads w / k as they are (no rounding of them
// in its loop).
// RUN: deltanet-opt %s --deltanet-decompose-chunk-gated-delta-rule --deltanet-narrow-stage-intermediates="precision=bf16 fold-scan-decay-into-values=true" --deltanet-lower-chunk-stages="precision=bf16 fold-scan-decay-into-values=true" | FileCheck %s --check-prefix=LOWER
// narrow-u: wy_repr's u stored in bf16 too (the scan its only reader),
// and the lowered scan widens its chunk of u to f32 before v_new = u - w S.
// RUN: deltanet-opt %s --deltanet-decompose-chunk-gated-delta-rule --deltanet-narrow-stage-intermediates="precision=bf16 fold-scan-decay-into-values=true narrow-u=true" | FileCheck %s --check-prefix=NARROWU
// RUN: deltanet-opt %s --deltanet-decompose-chunk-gated-delta-rule --deltanet-narrow-stage-intermediates="precision=bf16 fold-scan-decay-into-values=true narrow-u=true" --deltanet-lower-chunk-stages="precision=bf16 fold-scan-decay-into-values=true" | FileCheck %s --check-prefix=NARROWULOWER
// The pipelines run it with the chunk precisions:
// RUN: deltanet-opt %s --deltanet-cpu-pipeline="chunk-precision=bf16" --dump-pass-pipeline -o /dev/null 2>&1 | FileCheck %s --check-prefix=PIPE
// RUN: not deltanet-opt %s --deltanet-narrow-stage-intermediates="stage-precision=scan=bf16" 2>&1 | FileCheck %s --check-prefix=BAD

// BF16-LABEL: func.func @gdr
// The scan's and the output's k: bf16 copies of the gathered k (one
// after CSE), the gathered k itself stays f32 for gated K K^T and WY.
// BF16: linalg.generic {{.*}} outs(%{{.*}} : tensor<1x1x2x16x16xf32>)
// BF16: linalg.generic {{.*}} outs(%{{.*}} : tensor<1x1x2x16x16xbf16>)
// BF16-NEXT: ^bb0(%{{.*}}: f32, %{{.*}}: bf16):
// BF16-NEXT: arith.truncf %{{.*}} : f32 to bf16
// BF16: deltanet.gated_kkt {{.*}} : (tensor<2x16x16xf32>,
// BF16: %{{.*}}, %{{.*}} = deltanet.wy_repr {{.*}} : (tensor<2x16x16xf32>, tensor<2x16x16xf32>, {{.*}}) -> (tensor<2x16x16xbf16>, tensor<2x16x16xf32>)
// BF16: %[[SK:.*]] = tensor.collapse_shape %{{.*}} into tensor<1x2x16x16xbf16>
// BF16: %[[W:.*]] = tensor.expand_shape {{.*}} : tensor<2x16x16xbf16> into tensor<1x2x16x16xbf16>
// BF16: deltanet.chunk_state_scan %[[SK]], %[[W]], {{.*}} : (tensor<1x2x16x16xbf16>, tensor<1x2x16x16xbf16>, tensor<1x2x16x16xf32>, tensor<1x2x16xf32>, tensor<1x16x16xf32>) -> (tensor<1x2x16x16xbf16>, tensor<1x2x16x16xbf16>, tensor<1x16x16xf32>)
// BF16: deltanet.chunk_output {{.*}} : (tensor<2x16x16xf32>, tensor<2x16x16xbf16>, tensor<2x16x16xbf16>, tensor<2x16x16xbf16>, tensor<2x16xf32>) -> tensor<2x16x16xf32>

// NARROWU-LABEL: func.func @gdr
// NARROWU: deltanet.wy_repr {{.*}} -> (tensor<2x16x16xbf16>, tensor<2x16x16xbf16>)
// NARROWU: deltanet.chunk_state_scan {{.*}} : (tensor<1x2x16x16xbf16>, tensor<1x2x16x16xbf16>, tensor<1x2x16x16xbf16>, tensor<1x2x16xf32>, tensor<1x16x16xf32>)
// NARROWULOWER-LABEL: func.func @gdr
// NARROWULOWER: scf.for
// NARROWULOWER: tensor.extract_slice %{{.*}} : tensor<1x2x16x16xbf16> to tensor<1x16x16xbf16>
// NARROWULOWER: arith.extf %{{.*}} : bf16 to f32
// NARROWULOWER: scf.yield

// F16-LABEL: func.func @gdr
// F16: deltanet.wy_repr {{.*}} -> (tensor<2x16x16xf16>, tensor<2x16x16xf32>)
// F16: deltanet.chunk_state_scan {{.*}} : (tensor<1x2x16x16xf16>, tensor<1x2x16x16xf16>, tensor<1x2x16x16xf32>, tensor<1x2x16xf32>, tensor<1x16x16xf32>) -> (tensor<1x2x16x16xf16>, tensor<1x2x16x16xf16>, tensor<1x16x16xf32>)
// F16: deltanet.chunk_output {{.*}} : (tensor<2x16x16xf32>, tensor<2x16x16xf16>, tensor<2x16x16xf16>, tensor<2x16x16xf16>, tensor<2x16xf32>) -> tensor<2x16x16xf32>

// MIXED-LABEL: func.func @gdr
// MIXED: deltanet.wy_repr {{.*}} -> (tensor<2x16x16xf32>, tensor<2x16x16xf32>)
// MIXED: deltanet.chunk_state_scan {{.*}} : (tensor<1x2x16x16xf32>, tensor<1x2x16x16xf32>, tensor<1x2x16x16xf32>, tensor<1x2x16xf32>, tensor<1x16x16xf32>) -> (tensor<1x2x16x16xbf16>, tensor<1x2x16x16xbf16>, tensor<1x16x16xf32>)
// MIXED: deltanet.chunk_output {{.*}} : (tensor<2x16x16xf32>, tensor<2x16x16xbf16>, tensor<2x16x16xbf16>, tensor<2x16x16xbf16>, tensor<2x16xf32>) -> tensor<2x16x16xf32>

// NOFOLD-LABEL: func.func @gdr
// NOFOLD: deltanet.chunk_state_scan {{.*}} : (tensor<1x2x16x16xf32>, tensor<1x2x16x16xbf16>, tensor<1x2x16x16xf32>, tensor<1x2x16xf32>, tensor<1x16x16xf32>) -> (tensor<1x2x16x16xbf16>, tensor<1x2x16x16xbf16>, tensor<1x16x16xf32>)

// F32-LABEL: func.func @gdr
// F32-NOT: bf16
// F32-NOT: f16
// F32: return

// LOWER-LABEL: func.func @gdr
// LOWER: deltanet.tri_inv
// w's product, then w rounded right after it (the GPU's accumulator
// epilogue position), then u's product.
// LOWER: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x16x16xbf16>, tensor<2x16x16xbf16>) outs(%{{.*}} : tensor<2x16x16xf32>)
// LOWER-NEXT: tensor.empty() : tensor<2x16x16xbf16>
// LOWER-NEXT: linalg.generic
// LOWER-NEXT: ^bb0(%{{.*}}: f32, %{{.*}}: bf16):
// LOWER-NEXT: arith.truncf %{{.*}} : f32 to bf16
// LOWER: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x16x16xbf16>, tensor<2x16x16xbf16>) outs(%{{.*}} : tensor<2x16x16xf32>)
// LOWER: scf.for {{.*}} -> (tensor<1x16x16xf32>, tensor<1x2x16x16xbf16>, tensor<1x2x16x16xbf16>)
// The state rounded once: the product's operand and the stored states.
// LOWER: arith.truncf %{{.*}} : f32 to bf16
// LOWER: tensor.insert_slice %{{.*}} : tensor<1x16x16xbf16> into tensor<1x2x16x16xbf16>
// LOWER: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<1x16x16xbf16>, tensor<1x16x16xbf16>) outs(%{{.*}} : tensor<1x16x16xf32>)
// LOWER: tensor.insert_slice %{{.*}} : tensor<1x16x16xbf16> into tensor<1x2x16x16xbf16>
// LOWER: linalg.batch_matmul indexing_maps = {{.*}} ins(%{{.*}}, %{{.*}} : tensor<1x16x16xbf16>, tensor<1x16x16xbf16>) outs(%{{.*}} : tensor<1x16x16xf32>)
// LOWER: scf.yield

// PIPE: deltanet-narrow-stage-intermediates{{{.*}}precision=bf16
// PIPE: deltanet-lower-chunk-stages
// BAD: deltanet-narrow-stage-intermediates: stage-precision entries are STAGE=PREC

func.func @gdr(%q: tensor<1x32x1x16xf32>, %k: tensor<1x32x1x16xf32>, %v: tensor<1x32x1x16xf32>, %g: tensor<1x32x1xf32>, %beta: tensor<1x32x1xf32>, %h0: tensor<1x1x16x16xf32>) -> (tensor<1x32x1x16xf32>, tensor<1x1x16x16xf32>) {
  %o, %s = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %beta, %h0 {chunk_size = 16 : i64} : (tensor<1x32x1x16xf32>, tensor<1x32x1x16xf32>, tensor<1x32x1x16xf32>, tensor<1x32x1xf32>, tensor<1x32x1xf32>, tensor<1x1x16x16xf32>) -> (tensor<1x32x1x16xf32>, tensor<1x1x16x16xf32>)
  return %o, %s : tensor<1x32x1x16xf32>, tensor<1x1x16x16xf32>
}
