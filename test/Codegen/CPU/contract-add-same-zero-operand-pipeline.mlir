// RUN: deltanet-opt %s --deltanet-cpu-pipeline | %mlir_runner | FileCheck %s
// RUN: deltanet-opt %s --deltanet-cpu-pipeline="num-threads=2" | %mlir_runner | FileCheck %s

// One residual step X + X (I - (I + L) X) of a 1 x 1 tri_inv with X = 1 and
// L = 0 (deltanet-lower-tri-inv's products without its C = 1 fill of ones,
// as --canonicalize --cse leave them): each product is one 1 x 1 x 1
// register tile. After vectorisation the mask L, the zero fill of L X's
// accumulator and the mask's zero all fold to one dense<0.0> constant, and
// upstream's CanonicalizeContractAdd turned X + (0 * X + 0) into
// X * X + X = 2 (docs/upstream/contract-add-same-zero-operand.mlir): the
// result was 0 instead of 1.

// CHECK: rank = 3 offset = 0 sizes = [1, 1, 1] strides = [1, 1, 1] data =
// CHECK-NEXT: {{\[\[\[}}1]]]

#map = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @residual_step(%a: tensor<1x1x1xf32>) -> tensor<1x1x1xf32> {
  %zero = arith.constant 0.000000e+00 : f32
  %one = arith.constant 1.000000e+00 : f32
  %empty = tensor.empty() : tensor<1x1x1xf32>
  %x = linalg.generic {indexing_maps = [#map], iterator_types = ["parallel", "parallel", "parallel"]} outs(%empty : tensor<1x1x1xf32>) {
  ^bb0(%out: f32):
    linalg.yield %one : f32
  } -> tensor<1x1x1xf32>
  %l = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel", "parallel"]} ins(%a : tensor<1x1x1xf32>) outs(%empty : tensor<1x1x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %zero : f32
  } -> tensor<1x1x1xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%empty : tensor<1x1x1xf32>) -> tensor<1x1x1xf32>
  %lx = linalg.batch_matmul ins(%l, %x : tensor<1x1x1xf32>, tensor<1x1x1xf32>) outs(%acc : tensor<1x1x1xf32>) -> tensor<1x1x1xf32>
  %residual = linalg.generic {indexing_maps = [#map, #map, #map], iterator_types = ["parallel", "parallel", "parallel"]} ins(%x, %lx : tensor<1x1x1xf32>, tensor<1x1x1xf32>) outs(%empty : tensor<1x1x1xf32>) {
  ^bb0(%in: f32, %in_1: f32, %out: f32):
    %sum = arith.addf %in, %in_1 : f32
    %r = arith.subf %one, %sum : f32
    linalg.yield %r : f32
  } -> tensor<1x1x1xf32>
  %y = linalg.batch_matmul ins(%x, %residual : tensor<1x1x1xf32>, tensor<1x1x1xf32>) outs(%x : tensor<1x1x1xf32>) -> tensor<1x1x1xf32>
  return %y : tensor<1x1x1xf32>
}

func.func private @printMemrefF32(memref<*xf32>)

func.func @main() {
  %a = arith.constant dense<3.0> : tensor<1x1x1xf32>
  %y = call @residual_step(%a) : (tensor<1x1x1xf32>) -> tensor<1x1x1xf32>
  %ym = bufferization.to_buffer %y : tensor<1x1x1xf32> to memref<1x1x1xf32>
  %yu = memref.cast %ym : memref<1x1x1xf32> to memref<*xf32>
  call @printMemrefF32(%yu) : (memref<*xf32>) -> ()
  return
}
