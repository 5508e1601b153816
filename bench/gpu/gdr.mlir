// deltanet.chunk_gated_delta_rule entry points for the GPU benchmark
// (bench/gpu/bench.py --what gdr): the issue's two shapes, bf16 q/k/v/beta,
// f32 log decays and states, destination-passing on device memrefs.
//
//   scripts/gpu-aot.sh bench/gpu/gdr.mlir build/bench/gpu/gdr.so

func.func @gdr_large(%q: memref<1x8192x16x128xbf16>, %k: memref<1x8192x16x128xbf16>, %v: memref<1x8192x32x128xbf16>, %g: memref<1x8192x32xf32>, %beta: memref<1x8192x32xbf16>, %h0: memref<1x32x128x128xf32>,
    %o: memref<1x8192x32x128xbf16>, %ht: memref<1x32x128x128xf32>) attributes {llvm.emit_c_interface} {
  %qt = bufferization.to_tensor %q restrict : memref<1x8192x16x128xbf16> to tensor<1x8192x16x128xbf16>
  %kt = bufferization.to_tensor %k restrict : memref<1x8192x16x128xbf16> to tensor<1x8192x16x128xbf16>
  %vt = bufferization.to_tensor %v restrict : memref<1x8192x32x128xbf16> to tensor<1x8192x32x128xbf16>
  %gt = bufferization.to_tensor %g restrict : memref<1x8192x32xf32> to tensor<1x8192x32xf32>
  %bt = bufferization.to_tensor %beta restrict : memref<1x8192x32xbf16> to tensor<1x8192x32xbf16>
  %h0t = bufferization.to_tensor %h0 restrict : memref<1x32x128x128xf32> to tensor<1x32x128x128xf32>
  %ot, %hT = deltanet.chunk_gated_delta_rule %qt, %kt, %vt, %gt, %bt, %h0t {chunk_size = 64 : i64, scale = 0.0883883461 : f32}
    : (tensor<1x8192x16x128xbf16>, tensor<1x8192x16x128xbf16>, tensor<1x8192x32x128xbf16>, tensor<1x8192x32xf32>, tensor<1x8192x32xbf16>, tensor<1x32x128x128xf32>) -> (tensor<1x8192x32x128xbf16>, tensor<1x32x128x128xf32>)
  bufferization.materialize_in_destination %ot in restrict writable %o : (tensor<1x8192x32x128xbf16>, memref<1x8192x32x128xbf16>) -> ()
  bufferization.materialize_in_destination %hT in restrict writable %ht : (tensor<1x32x128x128xf32>, memref<1x32x128x128xf32>) -> ()
  return
}

func.func @gdr_small(%q: memref<1x4096x4x128xbf16>, %k: memref<1x4096x4x128xbf16>, %v: memref<1x4096x4x128xbf16>, %g: memref<1x4096x4xf32>, %beta: memref<1x4096x4xbf16>, %h0: memref<1x4x128x128xf32>,
    %o: memref<1x4096x4x128xbf16>, %ht: memref<1x4x128x128xf32>) attributes {llvm.emit_c_interface} {
  %qt = bufferization.to_tensor %q restrict : memref<1x4096x4x128xbf16> to tensor<1x4096x4x128xbf16>
  %kt = bufferization.to_tensor %k restrict : memref<1x4096x4x128xbf16> to tensor<1x4096x4x128xbf16>
  %vt = bufferization.to_tensor %v restrict : memref<1x4096x4x128xbf16> to tensor<1x4096x4x128xbf16>
  %gt = bufferization.to_tensor %g restrict : memref<1x4096x4xf32> to tensor<1x4096x4xf32>
  %bt = bufferization.to_tensor %beta restrict : memref<1x4096x4xbf16> to tensor<1x4096x4xbf16>
  %h0t = bufferization.to_tensor %h0 restrict : memref<1x4x128x128xf32> to tensor<1x4x128x128xf32>
  %ot, %hT = deltanet.chunk_gated_delta_rule %qt, %kt, %vt, %gt, %bt, %h0t {chunk_size = 64 : i64, scale = 0.0883883461 : f32}
    : (tensor<1x4096x4x128xbf16>, tensor<1x4096x4x128xbf16>, tensor<1x4096x4x128xbf16>, tensor<1x4096x4xf32>, tensor<1x4096x4xbf16>, tensor<1x4x128x128xf32>) -> (tensor<1x4096x4x128xbf16>, tensor<1x4x128x128xf32>)
  bufferization.materialize_in_destination %ot in restrict writable %o : (tensor<1x4096x4x128xbf16>, memref<1x4096x4x128xbf16>) -> ()
  bufferization.materialize_in_destination %hT in restrict writable %ht : (tensor<1x4x128x128xf32>, memref<1x4x128x128xf32>) -> ()
  return
}
