// RUN: deltanet-opt %s --deltanet-gpu-prefetch-loop-operands | FileCheck %s
// RUN: deltanet-opt %s --deltanet-gpu-prefetch-loop-operands=global-alignment=16 | FileCheck %s --check-prefix=ALIGNED

// A block's sequential loop reading, per iteration, a 4 x 8 f32 view of a
// buffer the program allocates (16-byte aligned) and a view of the
// function's argument %x, accumulating into a buffer of the block. The
// program's view is staged in a new shared buffer (rows padded by 4) one
// iteration ahead: copies of iteration 0 before the loop, a wait before
// the reader, the next iteration's copies after it. The argument's view
// is left alone unless its alignment is promised (ALIGNED); the written
// view %acc never qualifies.
// CHECK-LABEL: func.func @loop
// CHECK: %[[BUF:.*]] = memref.alloc() : memref<4x12xf32, #gpu.address_space<workgroup>>
// CHECK: %[[VIEW:.*]] = memref.subview %[[BUF]][0, 0] [4, 8] [1, 1]
// CHECK: scf.forall (%[[T0:.*]]) in (128) {
// CHECK: scf.if
// CHECK: scf.if
// CHECK: nvgpu.device_async_copy %{{.*}}[%{{.*}}, %{{.*}}], %[[VIEW]][%{{.*}}, %{{.*}}], 4 {bypassL1}
// CHECK: nvgpu.device_async_create_group
// CHECK: } {mapping = [#gpu.thread<linear_dim_0>]}
// CHECK: scf.for %[[I:.*]] = %c0 to %[[N:.*]] step %c1 {
// CHECK: scf.forall
// CHECK-NEXT: nvvm.cp.async.wait.group 0
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[VIEW]], %{{.*}} : memref<4x8xf32, strided<[12, 1]>, #gpu.address_space<workgroup>>, memref<4x8xf32, strided<[8, 1], offset: ?>>)
// CHECK: scf.forall
// CHECK: %[[NEXT:.*]] = arith.addi %[[I]], %c1
// CHECK: arith.cmpi slt, %[[NEXT]], %[[N]]
// CHECK: memref.subview %{{.*}}[%[[NEXT]], 0, 0] [1, 4, 8]
// CHECK: nvgpu.device_async_copy
// CHECK: } {mapping = [#gpu.thread<linear_dim_0>]}
// CHECK-NEXT: }
// CHECK-NOT: nvgpu.device_async_copy
// ALIGNED-LABEL: func.func @loop
// ALIGNED: memref.alloc() : memref<4x12xf32, #gpu.address_space<workgroup>>
// ALIGNED: memref.alloc() : memref<4x12xf32, #gpu.address_space<workgroup>>
// ALIGNED: scf.for
// ALIGNED: linalg.generic
// ALIGNED-SAME: ins(%{{.*}}, %{{.*}} : memref<4x8xf32, strided<[12, 1]>, #gpu.address_space<workgroup>>, memref<4x8xf32, strided<[12, 1]>, #gpu.address_space<workgroup>>)
func.func @loop(%x: memref<16x4x8xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %data = memref.alloc() : memref<16x4x8xf32>
  scf.forall (%b) in (2) {
    %acc = memref.alloc() : memref<4x8xf32, #gpu.address_space<workgroup>>
    scf.for %i = %c0 to %n step %c1 {
      %d = memref.subview %data[%i, 0, 0] [1, 4, 8] [1, 1, 1] : memref<16x4x8xf32> to memref<4x8xf32, strided<[8, 1], offset: ?>>
      %a = memref.subview %x[%i, 0, 0] [1, 4, 8] [1, 1, 1] : memref<16x4x8xf32> to memref<4x8xf32, strided<[8, 1], offset: ?>>
      linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                      iterator_types = ["parallel", "parallel"]}
          ins(%d, %a : memref<4x8xf32, strided<[8, 1], offset: ?>>, memref<4x8xf32, strided<[8, 1], offset: ?>>)
          outs(%acc : memref<4x8xf32, #gpu.address_space<workgroup>>) {
      ^bb0(%p: f32, %q: f32, %o: f32):
        %s = arith.addf %p, %q : f32
        %t = arith.addf %o, %s : f32
        linalg.yield %t : f32
      }
    }
  } {mapping = [#gpu.block<x>]}
  return
}

// A view read by columns (the transposed read of the state scan's decayed
// k^T): with transposed-padding=1 its buffer's rows are padded by one
// element (a row stride of 1 mod 32 words: the threads' runs of 4 rows hit
// different banks), so it is copied in 4-byte pieces (PAD1); by default (transposed-padding=-1) the
// rows are padded like the others and copied in 16-byte pieces.
// RUN: deltanet-opt %s --deltanet-gpu-prefetch-loop-operands=transposed-padding=1 | FileCheck %s --check-prefix=PAD1
// PAD1-LABEL: func.func @transposed
// PAD1: memref.alloc() : memref<8x9xf32, #gpu.address_space<workgroup>>
// PAD1: nvgpu.device_async_copy {{.*}}, 1 : memref<8x8xf32, strided<[8, 1], offset: ?>> to memref<8x8xf32, strided<[9, 1]>, #gpu.address_space<workgroup>>
// CHECK-LABEL: func.func @transposed
// CHECK: memref.alloc() : memref<8x12xf32, #gpu.address_space<workgroup>>
// CHECK: nvgpu.device_async_copy {{.*}}, 4 {bypassL1} : memref<8x8xf32, strided<[8, 1], offset: ?>> to memref<8x8xf32, strided<[12, 1]>, #gpu.address_space<workgroup>>
func.func @transposed(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %data = memref.alloc() : memref<16x8x8xf32>
  scf.forall (%b) in (2) {
    %acc = memref.alloc() : memref<8x8xf32, #gpu.address_space<workgroup>>
    scf.for %i = %c0 to %n step %c1 {
      %d = memref.subview %data[%i, 0, 0] [1, 8, 8] [1, 1, 1] : memref<16x8x8xf32> to memref<8x8xf32, strided<[8, 1], offset: ?>>
      linalg.generic {indexing_maps = [affine_map<(i, j) -> (j, i)>, affine_map<(i, j) -> (i, j)>],
                      iterator_types = ["parallel", "parallel"]}
          ins(%d : memref<8x8xf32, strided<[8, 1], offset: ?>>)
          outs(%acc : memref<8x8xf32, #gpu.address_space<workgroup>>) {
      ^bb0(%p: f32, %o: f32):
        %t = arith.addf %o, %p : f32
        linalg.yield %t : f32
      }
    }
  } {mapping = [#gpu.block<x>]}
  return
}

// The loop writes the buffer it reads (iteration i + 1's rows of %data
// from iteration i's): a copy issued an iteration early would read stale
// data, so nothing is prefetched.
// CHECK-LABEL: func.func @written
// CHECK-NOT: nvgpu.device_async_copy
// CHECK: return
func.func @written(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %data = memref.alloc() : memref<17x4x8xf32>
  scf.forall (%b) in (2) {
    scf.for %i = %c0 to %n step %c1 {
      %d = memref.subview %data[%i, 0, 0] [1, 4, 8] [1, 1, 1] : memref<17x4x8xf32> to memref<4x8xf32, strided<[8, 1], offset: ?>>
      %j = arith.addi %i, %c1 : index
      %e = memref.subview %data[%j, 0, 0] [1, 4, 8] [1, 1, 1] : memref<17x4x8xf32> to memref<4x8xf32, strided<[8, 1], offset: ?>>
      linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                      iterator_types = ["parallel", "parallel"]}
          ins(%d : memref<4x8xf32, strided<[8, 1], offset: ?>>)
          outs(%e : memref<4x8xf32, strided<[8, 1], offset: ?>>) {
      ^bb0(%p: f32, %o: f32):
        %t = arith.addf %o, %p : f32
        linalg.yield %t : f32
      }
    }
  } {mapping = [#gpu.block<x>]}
  return
}
