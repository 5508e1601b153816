// deltanet.tri_inv entry points for the GPU benchmark (bench/gpu/bench.py):
// destination-passing functions on device memrefs, batch size dynamic.
//
//   scripts/gpu-aot.sh bench/gpu/tri_inv.mlir build/bench/gpu/tri_inv.so

func.func @tri_inv_f32(%a: memref<?x64x64xf32>, %x: memref<?x64x64xf32>)
    attributes {llvm.emit_c_interface} {
  %at = bufferization.to_tensor %a restrict : memref<?x64x64xf32> to tensor<?x64x64xf32>
  %xt = deltanet.tri_inv %at : tensor<?x64x64xf32>
  bufferization.materialize_in_destination %xt in restrict writable %x
      : (tensor<?x64x64xf32>, memref<?x64x64xf32>) -> ()
  return
}

func.func @tri_inv_bf16(%a: memref<?x64x64xbf16>, %x: memref<?x64x64xbf16>)
    attributes {llvm.emit_c_interface} {
  %at = bufferization.to_tensor %a restrict : memref<?x64x64xbf16> to tensor<?x64x64xbf16>
  %xt = deltanet.tri_inv %at : tensor<?x64x64xbf16>
  bufferization.materialize_in_destination %xt in restrict writable %x
      : (tensor<?x64x64xbf16>, memref<?x64x64xbf16>) -> ()
  return
}
