// Malformed stage-precision entries fail the pass (and the pipelines that
// pass them on) with a diagnostic naming the entry.
// RUN: not deltanet-opt %s --deltanet-lower-chunk-stages="stage-precision=attention=bf16" 2>&1 | FileCheck %s --check-prefix=UNKSTAGE
// RUN: not deltanet-opt %s --deltanet-lower-chunk-stages="stage-precision=chunk_output=fp8" 2>&1 | FileCheck %s --check-prefix=UNKPREC
// RUN: not deltanet-opt %s --deltanet-lower-chunk-stages="stage-precision=chunk_output" 2>&1 | FileCheck %s --check-prefix=NOEQ
// RUN: not deltanet-opt %s --deltanet-lower-chunk-stages="stage-precision=chunk_output=bf16,gated_kkt=f16,chunk_output=f32" 2>&1 | FileCheck %s --check-prefix=TWICE
// RUN: not deltanet-opt %s --deltanet-cpu-pipeline="chunk-stage-precision=wy=bf16" 2>&1 | FileCheck %s --check-prefix=CPU
// The GPU pipeline checks the entries before it runs, and rejects i8 in
// any stage as it does chunk-precision=i8.
// RUN: not deltanet-opt %s --deltanet-gpu-pipeline="chunk-stage-precision=wy=bf16" 2>&1 | FileCheck %s --check-prefix=GPU
// RUN: not deltanet-opt %s --deltanet-gpu-pipeline="chunk-precision=bf16 chunk-stage-precision=chunk_state_scan=f32,chunk_output=i8" 2>&1 | FileCheck %s --check-prefix=GPUI8

// UNKSTAGE: lower-chunk-stages-invalid-options.mlir:0:0: error: deltanet-lower-chunk-stages: stage-precision entries are STAGE=PREC (STAGE: gated_kkt, wy_repr, chunk_state_scan, chunk_output; PREC: f32, bf16, f16, i8), got 'attention=bf16'
// UNKPREC: error: deltanet-lower-chunk-stages: stage-precision entries are STAGE=PREC ({{.*}}), got 'chunk_output=fp8'
// NOEQ: error: deltanet-lower-chunk-stages: stage-precision entries are STAGE=PREC ({{.*}}), got 'chunk_output'
// TWICE: error: deltanet-lower-chunk-stages: stage-precision lists stage 'chunk_output' twice
// (deltanet-narrow-stage-intermediates, the first pass with these options, reports it)
// CPU: error: deltanet-narrow-stage-intermediates: stage-precision entries are STAGE=PREC ({{.*}}), got 'wy=bf16'
// GPU: deltanet-gpu-pipeline: chunk-stage-precision: stage-precision entries are STAGE=PREC ({{.*}}), got 'wy=bf16'
// GPUI8: deltanet-gpu-pipeline: chunk-stage-precision: i8 is not offered on the GPU

func.func @f(%k: tensor<2x8x4xf32>, %g: tensor<2x8xf32>, %beta: tensor<2x8xf32>) -> tensor<2x8x8xf32> {
  %a = deltanet.gated_kkt %k, %g, %beta : (tensor<2x8x4xf32>, tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8x8xf32>
  return %a : tensor<2x8x8xf32>
}
