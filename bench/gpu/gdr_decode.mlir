// deltanet.recurrent_gated_delta_rule at T = 1 (decode) for the GPU benchmark
// (bench/gpu/bench.py --what decode): the large shape's heads (H=16, HV=32,
// K=V=128), bf16 q/k/v/beta, f32 log decay and states, destination-passing.
//
//   scripts/gpu-aot.sh bench/gpu/gdr_decode.mlir .gpu/lib/gdr_decode.so

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
