// The CPU pipeline's prefetch-gather-rows option: deltanet-cpu-prefetch-gather-rows
// runs by default (after bufferization) and not when the option is off; the
// chunk op's compiled code then holds prefetches (llvm.intr.prefetch) or none
// (each head's q / k / v rows, T x K f32 = 2 MiB: not below the pass's
// min-source-bytes, 1 MiB; at T = 1024 nothing is prefetched).
// RUN: deltanet-opt %s --deltanet-cpu-pipeline --dump-pass-pipeline -o /dev/null 2>&1 | FileCheck %s --check-prefix=ON
// RUN: deltanet-opt %s --deltanet-cpu-pipeline="prefetch-gather-rows=false" --dump-pass-pipeline -o /dev/null 2>&1 | FileCheck %s --check-prefix=OFF
// RUN: deltanet-opt %s --deltanet-cpu-pipeline | FileCheck %s --check-prefix=CODE-ON
// RUN: deltanet-opt %s --deltanet-cpu-pipeline="prefetch-gather-rows=false" | FileCheck %s --check-prefix=CODE-OFF

// ON: one-shot-bufferize
// ON: deltanet-cpu-prefetch-gather-rows
// OFF-NOT: deltanet-cpu-prefetch-gather-rows

// CODE-ON-LABEL: llvm.func @gdr
// CODE-ON: llvm.intr.prefetch
// CODE-OFF-LABEL: llvm.func @gdr
// CODE-OFF-NOT: llvm.intr.prefetch

func.func @gdr(%q: tensor<1x4096x4x128xf32>, %k: tensor<1x4096x4x128xf32>, %v: tensor<1x4096x4x128xf32>, %g: tensor<1x4096x4xf32>, %beta: tensor<1x4096x4xf32>, %h0: tensor<1x4x128x128xf32>) -> (tensor<1x4096x4x128xf32>, tensor<1x4x128x128xf32>) {
  %o, %s = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %beta, %h0 {chunk_size = 64 : i64, scale = 0.0883883 : f32} : (tensor<1x4096x4x128xf32>, tensor<1x4096x4x128xf32>, tensor<1x4096x4x128xf32>, tensor<1x4096x4xf32>, tensor<1x4096x4xf32>, tensor<1x4x128x128xf32>) -> (tensor<1x4096x4x128xf32>, tensor<1x4x128x128xf32>)
  return %o, %s : tensor<1x4096x4x128xf32>, tensor<1x4x128x128xf32>
}
