// RUN: deltanet-opt %s --deltanet-gpu-pipeline | FileCheck %s
// RUN: deltanet-opt %s --deltanet-gpu-pipeline="recurrent-value-tile=16" | FileCheck %s --check-prefix=TILES
// RUN: not deltanet-opt %s --deltanet-gpu-pipeline="recurrent-value-tile=-1" 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: deltanet-opt %s --deltanet-gpu-pipeline -mlir-print-ir-after=deltanet-gpu-map-to-threads -o /dev/null 2>&1 \
// RUN:   | FileCheck %s --check-prefix=PHASES

// Decode (T = 1, Qwen3-Next's heads: H = 16, HV = 32, K = V = 128) through
// the GPU pipeline is ONE kernel launch: the recurrent op is distributed to
// one block per (batch, value head) (with recurrent-value-tile=16: per tile
// of 16 state columns too) before it is lowered, so the per-token linalg ops (the
// bf16 widening, the decay, the delta-rule update, the readouts) all run
// inside that block instead of one launch each (12 launches before). With
// the checked alignment (the default) that kernel has an aligned and an
// element-aligned version, launched with complementary grids (one of them
// empty: one kernel runs).
// CHECK-LABEL: llvm.func @gdr_decode
// CHECK: gpu.launch_func {{.*}} @gdr_decode_kernel::@gdr_decode_kernel blocks in (%[[A:[0-9]+]],
// CHECK-NEXT: gpu.launch_func {{.*}} @gdr_decode_kernel_0::@gdr_decode_kernel blocks in (%[[S:[0-9]+]],
// CHECK-NOT: gpu.launch_func
// CHECK: llvm.return
// TILES-LABEL: llvm.func @gdr_decode
// TILES: gpu.launch_func
// TILES-NEXT: gpu.launch_func
// TILES-NOT: gpu.launch_func
// TILES: llvm.return
// BAD: recurrent-value-tile must be >= 0 (0: whole heads), got -1

// The kernel's phases: 10 barriers. The zero fills of the two readouts
// (thread tiles of 128 x 4 = 512 iterations) stay phases of their own:
// fused into the readouts' tiles (8 barriers) the kernel ran 3x slower on
// the H200 (deltanet-gpu-map-to-threads, kMaxFusedFillTileIterations).
// PHASES-LABEL: IR Dump After DeltaNetGpuMapToThreads
// PHASES-COUNT-10: gpu.barrier
// PHASES-NOT: gpu.barrier
func.func @gdr_decode(%q: memref<1x1x16x128xbf16>, %k: memref<1x1x16x128xbf16>, %v: memref<1x1x32x128xbf16>, %g: memref<1x1x32xf32>, %beta: memref<1x1x32xbf16>, %h0: memref<1x32x128x128xf32>,
    %o: memref<1x1x32x128xbf16>, %ht: memref<1x32x128x128xf32>) attributes {llvm.emit_c_interface} {
  %qt = bufferization.to_tensor %q restrict : memref<1x1x16x128xbf16> to tensor<1x1x16x128xbf16>
  %kt = bufferization.to_tensor %k restrict : memref<1x1x16x128xbf16> to tensor<1x1x16x128xbf16>
  %vt = bufferization.to_tensor %v restrict : memref<1x1x32x128xbf16> to tensor<1x1x32x128xbf16>
  %gt = bufferization.to_tensor %g restrict : memref<1x1x32xf32> to tensor<1x1x32xf32>
  %bt = bufferization.to_tensor %beta restrict : memref<1x1x32xbf16> to tensor<1x1x32xbf16>
  %h0t = bufferization.to_tensor %h0 restrict : memref<1x32x128x128xf32> to tensor<1x32x128x128xf32>
  %ot, %hT = deltanet.recurrent_gated_delta_rule %qt, %kt, %vt, %gt, %bt, %h0t {scale = 0.0883883461 : f32}
    : (tensor<1x1x16x128xbf16>, tensor<1x1x16x128xbf16>, tensor<1x1x32x128xbf16>, tensor<1x1x32xf32>, tensor<1x1x32xbf16>, tensor<1x32x128x128xf32>) -> (tensor<1x1x32x128xbf16>, tensor<1x32x128x128xf32>)
  bufferization.materialize_in_destination %ot in restrict writable %o : (tensor<1x1x32x128xbf16>, memref<1x1x32x128xbf16>) -> ()
  bufferization.materialize_in_destination %hT in restrict writable %ht : (tensor<1x32x128x128xf32>, memref<1x32x128x128xf32>) -> ()
  return
}
