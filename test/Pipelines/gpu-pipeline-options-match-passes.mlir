// --deltanet-gpu-pipeline's options that set pass options are the pipeline's
// spelling of those options (include/deltanet/Pipelines/GpuPipeline.h, each
// declared once; the passes' documentation in Codegen/GPU/Passes.td): with
// no options the passes run with the pipeline's defaults, and every option
// reaches every pass it sets. A pipeline option mapped to no pass option, or
// a pass default that drifts from the pipeline's, fails here.
//
// RUN: deltanet-opt %s --deltanet-gpu-pipeline --dump-pass-pipeline -o /dev/null 2>&1 | FileCheck %s --check-prefix=DEFAULTS
// RUN: deltanet-opt %s --deltanet-gpu-pipeline="threads=256 kernel-threads=tri_inv=64,chunk_state_scan=256 scan-value-tile=16 recurrent-value-tile=32 fuse-chunk-prologue=false fuse-gathers=false fuse-gather-layouts=matmul fuse-scatter=true shared-row-padding=2 shared-narrow-row-bytes=64 tensor-cores-min-reduction=32 tensor-cores-stage-bytes=1024 tensor-cores-zero-init=false tensor-cores-stage-from-producer=false tensor-cores-warp-tiling=rows tensor-cores-chain-products=true tensor-cores-fold-accumulator-producers=false tensor-cores-fold-accumulator-consumers=false tensor-cores-fold-accumulator-copies=true tensor-cores-accumulator-row-padding=4 tensor-cores-carry-accumulators=false tensor-cores-int8=true tensor-cores-ldmatrix=false prefetch-max-bytes=4096 prefetch-transposed-padding=1 reduction-step=64 shared-memory-reuse=false global-alignment=8 check-global-alignment=false alignment-versioning=phase max-versioned-ops=7 eliminate-barriers=true" --dump-pass-pipeline -o /dev/null 2>&1 | FileCheck %s --check-prefix=ALL
// kernel-threads=none: no kernel's count (every kernel `threads`).
// RUN: deltanet-opt %s --deltanet-gpu-pipeline="kernel-threads=none" --dump-pass-pipeline -o /dev/null 2>&1 | FileCheck %s --check-prefix=KTNONE
// chunk-precision / chunk-stage-precision (ChunkPipelineOptions) reach
// deltanet-lower-chunk-stages:
// RUN: deltanet-opt %s --deltanet-gpu-pipeline="chunk-precision=bf16 chunk-stage-precision=chunk_state_scan=f32" --dump-pass-pipeline -o /dev/null 2>&1 | FileCheck %s --check-prefix=CHUNKPREC
// CHUNKPREC: deltanet-lower-chunk-stages{decay-factors-once=false fold-scan-decay-into-values=true precision=bf16 stage-precision={chunk_state_scan=f32} state-decay-out-of-place=false triangular-result-block={{[0-9]+}} triangular-row-tile={{[0-9]+}}}
// The passes that the pipeline's own options leave out:
// RUN: deltanet-opt %s --deltanet-gpu-pipeline="fuse-gathers=false fuse-scatter=false tensor-cores=false prefetch-loop-operands=false sink-accumulator-producers=false sink-index-computations=false" --dump-pass-pipeline -o /dev/null 2>&1 | FileCheck %s --check-prefix=OFF
// The options as --help lists them (once each: a second declaration of a
// name aborts the registration):
// RUN: deltanet-opt --help | FileCheck %s --check-prefix=HELP
// A value the option parser rejects, and one it accepts but the pipeline
// does not: a diagnostic, exit code 1.
// RUN: not deltanet-opt %s --deltanet-gpu-pipeline="reduction-step=x" 2>&1 | FileCheck %s --check-prefix=NOTINT
// RUN: not deltanet-opt %s --deltanet-gpu-pipeline="prefetch-max-bytes=-1" 2>&1 | FileCheck %s --check-prefix=RANGE
// RUN: not deltanet-opt %s --deltanet-gpu-pipeline="max-versioned-ops=-1" 2>&1 | FileCheck %s --check-prefix=MAXOPS
// RUN: not deltanet-opt %s --deltanet-gpu-pipeline="no-such-option=1" 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// RUN: not deltanet-opt %s --deltanet-gpu-pipeline="shared-narrow-row-bytes=48" 2>&1 | FileCheck %s --check-prefix=NARROW

// DEFAULTS: deltanet-gpu-distribute-to-blocks{destination-passing-only=true fuse-chunk-prologue=true recurrent-value-tile=0 scan-min-blocks=256 scan-value-tile=-1}
// DEFAULTS: deltanet-gpu-fuse-into-blocks{gather-layouts=no-broadcast gathers=true max-gather-tile-bytes=32768 scatters=true}
// DEFAULTS: deltanet-gpu-sink-accumulator-producers
// DEFAULTS: deltanet-gpu-promote-block-temporaries{narrow-row-bytes=32 row-padding=4}
// DEFAULTS: deltanet-gpu-matmuls-to-mma-sync{accumulator-row-padding=8 chain-products=false fold-accumulator-consumers=false fold-accumulator-copies=false fold-accumulator-producers=true int8=false ldmatrix=true mark-carried-accumulators=true max-accumulator-tiles=16 min-reduction=64 round-to-tf32=true stage-from-producer=true stage-operand-bytes=49152 threads=128 warp-tiling=min-loads zero-init-accumulators=true}
// DEFAULTS: deltanet-gpu-prefetch-loop-operands{global-alignment=0 max-bytes=65536 row-padding=4 threads=128 transposed-padding=-1}
// DEFAULTS: deltanet-gpu-map-to-threads{reduction-step=256 threads=128}
// DEFAULTS: deltanet-gpu-carry-accumulators
// DEFAULTS-NOT: gpu-eliminate-barriers
// DEFAULTS: deltanet-gpu-workgroup-allocs-to-dynamic-shared{reuse=true}
// DEFAULTS: deltanet-gpu-annotate-vector-alignment{check-global-alignment=true global-alignment=16 max-versioned-ops=4096 versioning=kernel}
// DEFAULTS: gpu-launch-sink-index-computations
// DEFAULTS-NEXT: gpu-kernel-outlining
// DEFAULTS: nvvm-attach-target{O=3 chip=sm_90 fast=false features=+ptx80

// ALL: deltanet-gpu-distribute-to-blocks{destination-passing-only=true fuse-chunk-prologue=false kernel-threads={tri_inv=64,chunk_state_scan=256} recurrent-value-tile=32 scan-min-blocks=256 scan-value-tile=16}
// KTNONE: deltanet-gpu-distribute-to-blocks{destination-passing-only=true fuse-chunk-prologue=true recurrent-value-tile=0

// ALL: deltanet-gpu-fuse-into-blocks{gather-layouts=matmul gathers=false max-gather-tile-bytes=32768 scatters=true}
// ALL: deltanet-gpu-promote-block-temporaries{narrow-row-bytes=64 row-padding=2}
// ALL: deltanet-gpu-matmuls-to-mma-sync{accumulator-row-padding=4 chain-products=true fold-accumulator-consumers=false fold-accumulator-copies=true fold-accumulator-producers=false int8=true ldmatrix=false mark-carried-accumulators=false max-accumulator-tiles=16 min-reduction=32 round-to-tf32=true stage-from-producer=false stage-operand-bytes=1024 threads=256 warp-tiling=rows zero-init-accumulators=false}
// (a promised alignment also lets the prefetched copies rely on it)
// ALL: deltanet-gpu-prefetch-loop-operands{global-alignment=8 max-bytes=4096 row-padding=2 threads=256 transposed-padding=1}
// ALL: deltanet-gpu-map-to-threads{reduction-step=64 threads=256}
// ALL: gpu-eliminate-barriers
// ALL: deltanet-gpu-workgroup-allocs-to-dynamic-shared{reuse=false}
// ALL: deltanet-gpu-annotate-vector-alignment{check-global-alignment=false global-alignment=8 max-versioned-ops=7 versioning=phase}

// OFF-NOT: deltanet-gpu-fuse-into-blocks
// OFF-NOT: deltanet-gpu-sink-accumulator-producers
// OFF-NOT: deltanet-gpu-matmuls-to-mma-sync
// OFF-NOT: deltanet-gpu-prefetch-loop-operands
// OFF-NOT: deltanet-gpu-drop-barriers-after-async-copies
// OFF: deltanet-gpu-map-to-threads{reduction-step=256 threads=128}
// OFF-NOT: deltanet-gpu-carry-accumulators
// OFF: deltanet-gpu-workgroup-allocs-to-dynamic-shared
// OFF-NOT: gpu-launch-sink-index-computations
// OFF: gpu-kernel-outlining

// HELP-LABEL: --deltanet-gpu-pipeline
// HELP: --alignment-versioning=<string>
// HELP-SAME: deltanet-gpu-annotate-vector-alignment versioning
// HELP: --check-global-alignment
// HELP-SAME: deltanet-gpu-annotate-vector-alignment check-global-alignment
// HELP: --kernel-threads=<string>
// HELP-SAME: deltanet-gpu-distribute-to-blocks kernel-threads
// HELP: --reduction-step=<long>
// HELP-SAME: deltanet-gpu-map-to-threads reduction-step
// HELP: --threads=<long>
// HELP-SAME: deltanet-gpu-map-to-threads, -matmuls-to-mma-sync and -prefetch-loop-operands threads

// NOTINT: 'x' value invalid for long argument!
// RANGE: deltanet-gpu-pipeline: prefetch-max-bytes must be >= 0, got -1
// MAXOPS: deltanet-gpu-pipeline: max-versioned-ops must be >= 0, got -1
// UNKNOWN: no such option no-such-option
// NARROW: deltanet-gpu-pipeline: shared-narrow-row-bytes must be a positive multiple of 32, got 48

func.func @f() {
  return
}
