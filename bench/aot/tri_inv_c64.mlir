func.func @inv(%a: tensor<4096x64x64xf32>) -> tensor<4096x64x64xf32> attributes {llvm.emit_c_interface} {
  %x = deltanet.tri_inv %a : tensor<4096x64x64xf32>
  return %x : tensor<4096x64x64xf32>
}
