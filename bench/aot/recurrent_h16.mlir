func.func @gdr(%q: tensor<1x4096x16x128xf32>, %k: tensor<1x4096x16x128xf32>, %v: tensor<1x4096x16x128xf32>, %g: tensor<1x4096x16xf32>, %beta: tensor<1x4096x16xf32>, %h0: tensor<1x16x128x128xf32>) -> (tensor<1x4096x16x128xf32>, tensor<1x16x128x128xf32>) attributes {llvm.emit_c_interface} {
  %o, %s = deltanet.recurrent_gated_delta_rule %q, %k, %v, %g, %beta, %h0 {scale = 0.0883883 : f32} : (tensor<1x4096x16x128xf32>, tensor<1x4096x16x128xf32>, tensor<1x4096x16x128xf32>, tensor<1x4096x16xf32>, tensor<1x4096x16xf32>, tensor<1x16x128x128xf32>) -> (tensor<1x4096x16x128xf32>, tensor<1x16x128x128xf32>)
  return %o, %s : tensor<1x4096x16x128xf32>, tensor<1x16x128x128xf32>
}
