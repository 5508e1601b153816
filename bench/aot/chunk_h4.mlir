func.func @gdr(%q: tensor<1x4096x4x128xf32>, %k: tensor<1x4096x4x128xf32>, %v: tensor<1x4096x4x128xf32>, %g: tensor<1x4096x4xf32>, %beta: tensor<1x4096x4xf32>, %h0: tensor<1x4x128x128xf32>) -> (tensor<1x4096x4x128xf32>, tensor<1x4x128x128xf32>) attributes {llvm.emit_c_interface} {
  %o, %s = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %beta, %h0 {chunk_size = 64 : i64, scale = 0.0883883 : f32} : (tensor<1x4096x4x128xf32>, tensor<1x4096x4x128xf32>, tensor<1x4096x4x128xf32>, tensor<1x4096x4xf32>, tensor<1x4096x4xf32>, tensor<1x4x128x128xf32>) -> (tensor<1x4096x4x128xf32>, tensor<1x4x128x128xf32>)
  return %o, %s : tensor<1x4096x4x128xf32>, tensor<1x4x128x128xf32>
}
