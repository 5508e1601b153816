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

// A tensor carried by a loop inside a block whose updates land in a
// promoted temporary starts from a shared-memory copy of its device-memory
// start (a loop-carried buffer has one memory space); one already starting
// in shared memory, and one whose updates stay in device memory, are left
// alone.
// CHECK-LABEL: func.func @carried
// CHECK: scf.forall
// CHECK: %[[S:.*]] = tensor.extract_slice %arg0
// CHECK: %[[D:.*]] = tensor.extract_slice %arg3
// CHECK: %[[A:.*]] = bufferization.alloc_tensor() {memory_space = #gpu.address_space<workgroup>} : tensor<16x16xf32>
// CHECK: %[[F:.*]] = linalg.fill {{.*}} outs(%[[A]]
// CHECK: %[[C:.*]] = bufferization.alloc_tensor() copy(%[[S]]) {memory_space = #gpu.address_space<workgroup>} : tensor<16x16xf32>
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %[[C]], %{{.*}} = %[[F]], %{{.*}} = %[[D]])
func.func @carried(%x: tensor<4x16x16xf32>, %y: tensor<4x16x16xf32>) -> tensor<4x16x16xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %cst = arith.constant 1.0 : f32
  %r = scf.forall (%i) in (4) shared_outs(%o = %y) -> tensor<4x16x16xf32> {
    %s0 = tensor.extract_slice %x[%i, 0, 0] [1, 16, 16] [1, 1, 1] : tensor<4x16x16xf32> to tensor<16x16xf32>
    %d0 = tensor.extract_slice %o[%i, 0, 0] [1, 16, 16] [1, 1, 1] : tensor<4x16x16xf32> to tensor<16x16xf32>
    %e = tensor.empty() : tensor<16x16xf32>
    %f = linalg.fill ins(%cst : f32) outs(%e : tensor<16x16xf32>) -> tensor<16x16xf32>
    %res:3 = scf.for %t = %c0 to %c3 step %c1 iter_args(%s = %s0, %a = %f, %d = %d0) -> (tensor<16x16xf32>, tensor<16x16xf32>, tensor<16x16xf32>) {
      %n = tensor.empty() : tensor<16x16xf32>
      %s1 = linalg.add ins(%s, %a : tensor<16x16xf32>, tensor<16x16xf32>) outs(%n : tensor<16x16xf32>) -> tensor<16x16xf32>
      %a1 = linalg.add ins(%s1, %a : tensor<16x16xf32>, tensor<16x16xf32>) outs(%a : tensor<16x16xf32>) -> tensor<16x16xf32>
      %d1 = linalg.add ins(%s1, %d : tensor<16x16xf32>, tensor<16x16xf32>) outs(%d : tensor<16x16xf32>) -> tensor<16x16xf32>
      scf.yield %s1, %a1, %d1 : tensor<16x16xf32>, tensor<16x16xf32>, tensor<16x16xf32>
    }
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %res#2 into %o[%i, 0, 0] [1, 16, 16] [1, 1, 1] : tensor<16x16xf32> into tensor<4x16x16xf32>
    }
  } {mapping = [#gpu.block<x>]}
  return %r : tensor<4x16x16xf32>
}

// 16-bit temporaries: padded by the same bytes (8 bf16 = 16 bytes, rows
// stay 16-byte aligned for ldmatrix), and rows of any multiple of
// narrow-row-bytes (default 32) bytes: 16 bf16 (32 bytes) -> 24; 8 bf16
// (16 bytes) are left alone. With narrow-row-bytes=128 only the 128-byte
// multiples are.
// RUN: deltanet-opt %s --deltanet-gpu-promote-block-temporaries="row-padding=4" -allow-unregistered-dialect | FileCheck %s --check-prefix=PAD16
// RUN: deltanet-opt %s --deltanet-gpu-promote-block-temporaries="row-padding=4 narrow-row-bytes=128" -allow-unregistered-dialect | FileCheck %s --check-prefix=PAD128
// RUN: not deltanet-opt %s --deltanet-gpu-promote-block-temporaries="narrow-row-bytes=16" -allow-unregistered-dialect 2>&1 | FileCheck %s --check-prefix=BADNARROW
// PAD16-LABEL: func.func @temporaries_16bit
// PAD16: bufferization.alloc_tensor() {memory_space = #gpu.address_space<workgroup>} : tensor<64x136xbf16>
// PAD16: bufferization.alloc_tensor() {memory_space = #gpu.address_space<workgroup>} : tensor<128x24xbf16>
// PAD16: bufferization.alloc_tensor() {memory_space = #gpu.address_space<workgroup>} : tensor<64x8xf16>
// PAD128-LABEL: func.func @temporaries_16bit
// PAD128: bufferization.alloc_tensor() {memory_space = #gpu.address_space<workgroup>} : tensor<64x136xbf16>
// PAD128: bufferization.alloc_tensor() {memory_space = #gpu.address_space<workgroup>} : tensor<128x16xbf16>
// BADNARROW: narrow-row-bytes must be a positive multiple of 32, got 16
func.func @temporaries_16bit() {
  scf.forall (%i) in (4) {
    %a = tensor.empty() : tensor<64x128xbf16>
    %b = tensor.empty() : tensor<128x16xbf16>
    %c = tensor.empty() : tensor<64x8xf16>
    "test.use"(%a, %b, %c) : (tensor<64x128xbf16>, tensor<128x16xbf16>, tensor<64x8xf16>) -> ()
  } {mapping = [#gpu.block<x>]}
  return
}
