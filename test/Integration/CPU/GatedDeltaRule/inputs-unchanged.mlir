// Compiled functions never write their inputs: the chunk op's state scan
// starts from the initial state, which stays the caller's.
// RUN: deltanet-opt %s --deltanet-cpu-pipeline | %mlir_runner | FileCheck %s

// The initial state after two calls is still all ones, and both calls
// return the same final state.
// CHECK: data =
// CHECK-NEXT: {{\[\[\[\[}}1, 1],
// CHECK-NEXT: {{\[}}1, 1]]]]
// CHECK: data =
// CHECK-NEXT: {{\[\[\[\[}}[[A:[-0-9.e]+]], [[B:[-0-9.e]+]]],
// CHECK-NEXT: {{\[}}[[C:[-0-9.e]+]], [[D:[-0-9.e]+]]]]]]
// CHECK: data =
// CHECK-NEXT: {{\[\[\[\[}}[[A]], [[B]]],
// CHECK-NEXT: {{\[}}[[C]], [[D]]]]]]

func.func private @printMemrefF32(memref<*xf32>)

func.func @gdr(%q: tensor<1x4x1x2xf32>, %k: tensor<1x4x1x2xf32>, %v: tensor<1x4x1x2xf32>, %g: tensor<1x4x1xf32>, %beta: tensor<1x4x1xf32>, %h0: tensor<1x1x2x2xf32>) -> (tensor<1x4x1x2xf32>, tensor<1x1x2x2xf32>) {
  %o, %hT = deltanet.chunk_gated_delta_rule %q, %k, %v, %g, %beta, %h0 {chunk_size = 2 : i64} : (tensor<1x4x1x2xf32>, tensor<1x4x1x2xf32>, tensor<1x4x1x2xf32>, tensor<1x4x1xf32>, tensor<1x4x1xf32>, tensor<1x1x2x2xf32>) -> (tensor<1x4x1x2xf32>, tensor<1x1x2x2xf32>)
  return %o, %hT : tensor<1x4x1x2xf32>, tensor<1x1x2x2xf32>
}

func.func @main() {
  %q = arith.constant dense<[[[[0.6, 0.8]], [[1.0, 0.0]], [[0.0, 1.0]], [[0.8, 0.6]]]]> : tensor<1x4x1x2xf32>
  %v = arith.constant dense<[[[[1.0, 2.0]], [[3.0, 4.0]], [[5.0, 6.0]], [[7.0, 8.0]]]]> : tensor<1x4x1x2xf32>
  %g = arith.constant dense<[[[-0.1], [-0.2], [-0.3], [-0.4]]]> : tensor<1x4x1xf32>
  %beta = arith.constant dense<[[[0.5], [0.6], [0.7], [0.8]]]> : tensor<1x4x1xf32>
  %one = arith.constant 1.0 : f32
  %e = tensor.empty() : tensor<1x1x2x2xf32>
  %h0 = linalg.fill ins(%one : f32) outs(%e : tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32>
  %o1, %s1 = call @gdr(%q, %q, %v, %g, %beta, %h0) : (tensor<1x4x1x2xf32>, tensor<1x4x1x2xf32>, tensor<1x4x1x2xf32>, tensor<1x4x1xf32>, tensor<1x4x1xf32>, tensor<1x1x2x2xf32>) -> (tensor<1x4x1x2xf32>, tensor<1x1x2x2xf32>)
  %o2, %s2 = call @gdr(%q, %q, %v, %g, %beta, %h0) : (tensor<1x4x1x2xf32>, tensor<1x4x1x2xf32>, tensor<1x4x1x2xf32>, tensor<1x4x1xf32>, tensor<1x4x1xf32>, tensor<1x1x2x2xf32>) -> (tensor<1x4x1x2xf32>, tensor<1x1x2x2xf32>)
  %h0m = bufferization.to_buffer %h0 : tensor<1x1x2x2xf32> to memref<1x1x2x2xf32>
  %h0u = memref.cast %h0m : memref<1x1x2x2xf32> to memref<*xf32>
  call @printMemrefF32(%h0u) : (memref<*xf32>) -> ()
  %s1m = bufferization.to_buffer %s1 : tensor<1x1x2x2xf32> to memref<1x1x2x2xf32>
  %s1u = memref.cast %s1m : memref<1x1x2x2xf32> to memref<*xf32>
  call @printMemrefF32(%s1u) : (memref<*xf32>) -> ()
  %s2m = bufferization.to_buffer %s2 : tensor<1x1x2x2xf32> to memref<1x1x2x2xf32>
  %s2u = memref.cast %s2m : memref<1x1x2x2xf32> to memref<*xf32>
  call @printMemrefF32(%s2u) : (memref<*xf32>) -> ()
  return
}
