// The pipelines' tri-inv-* options (TriInvPipelineOptions) are a second
// spelling of --deltanet-lower-tri-inv's options (declared once in
// deltanet/Conversion/Passes.td): with no options the pipeline runs the pass
// with the pass's own defaults, and every option reaches the pass. A new
// pass option without a pipeline spelling, or a drifted default, fails here.
//
// RUN: deltanet-opt %s --deltanet-lower-tri-inv --dump-pass-pipeline -o /dev/null 2>&1 | FileCheck %s --check-prefix=DEFAULTS
// RUN: deltanet-opt %s --deltanet-cpu-pipeline --dump-pass-pipeline -o /dev/null 2>&1 | FileCheck %s --check-prefix=DEFAULTS
// RUN: deltanet-opt %s --deltanet-cpu-pipeline="tri-inv-strategy=neumann tri-inv-block-size=8 tri-inv-order=3 tri-inv-residual-steps=2 tri-inv-batch-tile=4 tri-inv-precision=bf16 tri-inv-quant-granularity=matrix tri-inv-low-precision-merges-from=16 tri-inv-quantize-merges-once=1" --dump-pass-pipeline -o /dev/null 2>&1 | FileCheck %s --check-prefix=ALL
// (tolerance excludes order and residual steps: a run of its own.)
// RUN: deltanet-opt %s --deltanet-cpu-pipeline="tri-inv-tolerance=0.5" --dump-pass-pipeline -o /dev/null 2>&1 | FileCheck %s --check-prefix=TOLERANCE

// DEFAULTS: deltanet-lower-tri-inv{batch-tile=-1 block-size=0 low-precision-merges-from=0 order=-1 precision=f32 quant-granularity=row quantize-merges-once=false residual-steps=0 strategy=blocked target=cpu tolerance=0.000000e+00}
// ALL: deltanet-lower-tri-inv{batch-tile=4 block-size=8 low-precision-merges-from=16 order=3 precision=bf16 quant-granularity=matrix quantize-merges-once=true residual-steps=2 strategy=neumann target=cpu tolerance=0.000000e+00}
// TOLERANCE: deltanet-lower-tri-inv{batch-tile=-1 block-size=0 low-precision-merges-from=0 order=-1 precision=f32 quant-granularity=row quantize-merges-once=false residual-steps=0 strategy=blocked target=cpu tolerance=5.000000e-01}

func.func @f() {
  return
}
