// A lone bf16 chunk_state_scan (M = 4, NC = 3, C = 64, K = 128, V = 64) for
// the device check of the mma chain's layouts (bench/gpu/scan_check.py).
func.func @scan(%k: memref<4x3x64x128xbf16>, %w: memref<4x3x64x128xbf16>, %u: memref<4x3x64x64xf32>, %g: memref<4x3x64xf32>, %h0: memref<4x128x64xf32>,
    %states: memref<4x3x128x64xbf16>, %vnew: memref<4x3x64x64xbf16>, %ht: memref<4x128x64xf32>) attributes {llvm.emit_c_interface} {
  %kt = bufferization.to_tensor %k restrict : memref<4x3x64x128xbf16> to tensor<4x3x64x128xbf16>
  %wt = bufferization.to_tensor %w restrict : memref<4x3x64x128xbf16> to tensor<4x3x64x128xbf16>
  %ut = bufferization.to_tensor %u restrict : memref<4x3x64x64xf32> to tensor<4x3x64x64xf32>
  %gt = bufferization.to_tensor %g restrict : memref<4x3x64xf32> to tensor<4x3x64xf32>
  %ht0 = bufferization.to_tensor %h0 restrict : memref<4x128x64xf32> to tensor<4x128x64xf32>
  %s, %v, %f = deltanet.chunk_state_scan %kt, %wt, %ut, %gt, %ht0 : (tensor<4x3x64x128xbf16>, tensor<4x3x64x128xbf16>, tensor<4x3x64x64xf32>, tensor<4x3x64xf32>, tensor<4x128x64xf32>) -> (tensor<4x3x128x64xbf16>, tensor<4x3x64x64xbf16>, tensor<4x128x64xf32>)
  bufferization.materialize_in_destination %s in restrict writable %states : (tensor<4x3x128x64xbf16>, memref<4x3x128x64xbf16>) -> ()
  bufferization.materialize_in_destination %v in restrict writable %vnew : (tensor<4x3x64x64xbf16>, memref<4x3x64x64xbf16>) -> ()
  bufferization.materialize_in_destination %f in restrict writable %ht : (tensor<4x128x64xf32>, memref<4x128x64xf32>) -> ()
  return
}
