// RUN: deltanet-opt %s --deltanet-protect-function-inputs | FileCheck %s

// Public definitions: tensor arguments become read-only for bufferization,
// explicit annotations are kept.
// CHECK-LABEL: func.func @public(
// CHECK-SAME: %{{.*}}: tensor<4xf32> {bufferization.writable = false}
// CHECK-SAME: %{{.*}}: index
// CHECK-SAME: %{{.*}}: tensor<4xf32> {bufferization.writable = true}
func.func @public(%a: tensor<4xf32>, %i: index, %b: tensor<4xf32> {bufferization.writable = true}) -> tensor<4xf32> {
  return %a : tensor<4xf32>
}

// Private functions are internal to the module: left to the analysis.
// CHECK-LABEL: func.func private @internal(
// CHECK-NOT: bufferization.writable
// CHECK-SAME: -> tensor<4xf32>
func.func private @internal(%a: tensor<4xf32>) -> tensor<4xf32> {
  return %a : tensor<4xf32>
}
