// RUN: deltanet-opt %s --deltanet-gpu-promote-block-temporaries -allow-unregistered-dialect | FileCheck %s
// RUN: deltanet-opt %s --deltanet-gpu-promote-block-temporaries="row-padding=4" -allow-unregistered-dialect | FileCheck %s --check-prefix=PAD

// Temporaries of a block go to shared memory. With row-padding, those whose
// rows are a multiple of 32 words (128 and 64 f32) get 4 more elements per
// row, used through a slice of the original shape; rows of 16 words and
// rank-1 temporaries are left alone.
// CHECK-LABEL: func.func @temporaries
// CHECK: bufferization.alloc_tensor() {memory_space = #gpu.address_space<workgroup>} : tensor<64x128xf32>
// CHECK-NOT: tensor.extract_slice
// PAD-LABEL: func.func @temporaries
// PAD: %[[A:.*]] = bufferization.alloc_tensor() {memory_space = #gpu.address_space<workgroup>} : tensor<64x132xf32>
// PAD: tensor.extract_slice %[[A]][0, 0] [64, 128] [1, 1] : tensor<64x132xf32> to tensor<64x128xf32>
// PAD: bufferization.alloc_tensor() {memory_space = #gpu.address_space<workgroup>} : tensor<128x68xf32>
// PAD: bufferization.alloc_tensor() {memory_space = #gpu.address_space<workgroup>} : tensor<64x16xf32>
// PAD: bufferization.alloc_tensor() {memory_space = #gpu.address_space<workgroup>} : tensor<64xf32>
// A tensor.empty outside any block loop stays (device memory).
// PAD: tensor.empty() : tensor<64x128xf32>
func.func @temporaries(%x: tensor<4x64x128xf32>) -> (tensor<4x64x128xf32>, tensor<64x128xf32>) {
  %cst = arith.constant 1.0 : f32
  %r = scf.forall (%i) in (4) shared_outs(%o = %x) -> tensor<4x64x128xf32> {
    %a = tensor.empty() : tensor<64x128xf32>
    %b = tensor.empty() : tensor<128x64xf32>
    %c = tensor.empty() : tensor<64x16xf32>
    %d = tensor.empty() : tensor<64xf32>
    %fa = linalg.fill ins(%cst : f32) outs(%a : tensor<64x128xf32>) -> tensor<64x128xf32>
    %fb = linalg.fill ins(%cst : f32) outs(%b : tensor<128x64xf32>) -> tensor<128x64xf32>
    %fc = linalg.fill ins(%cst : f32) outs(%c : tensor<64x16xf32>) -> tensor<64x16xf32>
    %fd = linalg.fill ins(%cst : f32) outs(%d : tensor<64xf32>) -> tensor<64xf32>
    "test.use"(%fb, %fc, %fd) : (tensor<128x64xf32>, tensor<64x16xf32>, tensor<64xf32>) -> ()
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %fa into %o[%i, 0, 0] [1, 64, 128] [1, 1, 1] : tensor<64x128xf32> into tensor<4x64x128xf32>
    }
  } {mapping = [#gpu.block<x>]}
  %e = tensor.empty() : tensor<64x128xf32>
  return %r, %e : tensor<4x64x128xf32>, tensor<64x128xf32>
}
