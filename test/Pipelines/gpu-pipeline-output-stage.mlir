// RUN: deltanet-opt %s --deltanet-gpu-pipeline="check-global-alignment=false tensor-cores-fold-accumulator-consumers=true tensor-cores-chain-products=true" -mlir-print-ir-after=gpu-kernel-outlining -o /dev/null 2>&1 | FileCheck %s
// RUN: deltanet-opt %s --deltanet-gpu-pipeline=check-global-alignment=false -mlir-print-ir-after=gpu-kernel-outlining -o /dev/null 2>&1 \
// RUN:   | FileCheck %s --check-prefix=UNFOLDED

// The output stage at K = V = 128 (tensor cores): o = (q exp(g)) S +
// mask(q k^T exp(g_i - g_j)) v_new, written as bf16 into o. With
// tensor-cores-fold-accumulator-consumers and tensor-cores-chain-products
// (both off by default since session 9: slower once the kernels' constants
// are sunk, see docs/GPU.md)
// the two products share their register accumulators and the cast and
// scatter into o are applied to them (no f32 tile of o in shared memory,
// no copy phase), and the mask is applied to q k^T's accumulators (no
// shared tile of q k^T): 86016 bytes of shared memory per block instead of
// 103424 (2 blocks per SM on sm_90 either way; the peak is now the q, k^T
// and masked-A tiles of the first phase). The output stage is the 5th
// launch (gated_kkt, tri_inv and wy_repr are one: fuse-chunk-prologue).
// CHECK-LABEL: func.func @gdr(
// CHECK-COUNT-4: gpu.launch_func
// CHECK: gpu.launch_func @gdr_kernel_4::@gdr_kernel {{.*}} dynamic_shared_memory_size %c86016_i32 args(%arg0 : memref<1x128x1x128xbf16>
// UNFOLDED-LABEL: func.func @gdr(
// UNFOLDED-COUNT-4: gpu.launch_func
// UNFOLDED: gpu.launch_func @gdr_kernel_4::@gdr_kernel {{.*}} dynamic_shared_memory_size %c103424_i32 args(%arg0 : memref<1x128x1x128xbf16>
func.func @gdr(%q: memref<1x128x1x128xbf16>, %k: memref<1x128x1x128xbf16>, %v: memref<1x128x1x128xbf16>, %g: memref<1x128x1xf32>, %beta: memref<1x128x1xbf16>, %h0: memref<1x1x128x128xf32>, %o: memref<1x128x1x128xbf16>, %ht: memref<1x1x128x128xf32>) attributes {llvm.emit_c_interface} {
  %qt = bufferization.to_tensor %q restrict : memref<1x128x1x128xbf16> to tensor<1x128x1x128xbf16>
  %kt = bufferization.to_tensor %k restrict : memref<1x128x1x128xbf16> to tensor<1x128x1x128xbf16>
  %vt = bufferization.to_tensor %v restrict : memref<1x128x1x128xbf16> to tensor<1x128x1x128xbf16>
  %gt = bufferization.to_tensor %g restrict : memref<1x128x1xf32> to tensor<1x128x1xf32>
  %betat = bufferization.to_tensor %beta restrict : memref<1x128x1xbf16> to tensor<1x128x1xbf16>
  %h0t = bufferization.to_tensor %h0 restrict : memref<1x1x128x128xf32> to tensor<1x1x128x128xf32>
  %ot, %hT = deltanet.chunk_gated_delta_rule %qt, %kt, %vt, %gt, %betat, %h0t {chunk_size = 64 : i64, scale = 0.0883883461 : f32} : (tensor<1x128x1x128xbf16>, tensor<1x128x1x128xbf16>, tensor<1x128x1x128xbf16>, tensor<1x128x1xf32>, tensor<1x128x1xbf16>, tensor<1x1x128x128xf32>) -> (tensor<1x128x1x128xbf16>, tensor<1x1x128x128xf32>)
  bufferization.materialize_in_destination %ot in restrict writable %o : (tensor<1x128x1x128xbf16>, memref<1x128x1x128xbf16>) -> ()
  bufferization.materialize_in_destination %hT in restrict writable %ht : (tensor<1x1x128x128xf32>, memref<1x1x128x128xf32>) -> ()
  return
}
