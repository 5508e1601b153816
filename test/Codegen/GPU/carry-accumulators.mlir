// RUN: deltanet-opt %s --deltanet-gpu-carry-accumulators --split-input-file | FileCheck %s

// The state scan's update after the thread mapping, reduced to one 1 x 2
// fragment per lane (the mma replaced by an add): the fragment that the
// marked stores write back to exactly the elements the marked load read
// (indices computed twice, as the tensor-core pass does) is carried as an
// iter_args value; only the first iteration loads it. The marks go.
// CHECK-LABEL: func.func @carried
// CHECK: %[[ZERO:.*]] = arith.constant dense<0.000000e+00> : vector<1x2xf32>
// CHECK: %[[LOOP:.*]] = scf.for %[[I:.*]] = %[[LB:.*]] to %{{.*}} step %{{.*}} iter_args(%[[PREV:.*]] = %[[ZERO]]) -> (vector<1x2xf32>)
// CHECK:   %[[FIRST:.*]] = arith.cmpi eq, %[[I]], %[[LB]]
// CHECK:   %[[FRAG:.*]] = scf.if %[[FIRST]] -> (vector<1x2xf32>) {
// CHECK:     memref.load
// CHECK:     memref.load
// CHECK:     %[[LOADED:.*]] = vector.from_elements
// CHECK:     scf.yield %[[LOADED]]
// CHECK:   } else {
// CHECK:     scf.yield %[[PREV]]
// CHECK:   }
// CHECK:   %[[NEW:.*]] = arith.addf %[[FRAG]], %[[FRAG]]
// CHECK-NOT: memref.load
// CHECK:   memref.store
// CHECK:   memref.store
// CHECK:   scf.yield %[[NEW]] : vector<1x2xf32>
// CHECK-NOT: deltanet.carried_accumulator
func.func @carried(%lane: index, %n: index, %dst: memref<16x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %acc = memref.alloc() : memref<16x8xf32, #gpu.address_space<workgroup>>
  scf.for %i = %c0 to %n step %c1 {
    %r = affine.apply affine_map<()[s0] -> (s0 floordiv 4)>()[%lane]
    %c = affine.apply affine_map<()[s0] -> ((s0 mod 4) * 2)>()[%lane]
    %c_1 = affine.apply affine_map<()[s0] -> ((s0 mod 4) * 2 + 1)>()[%lane]
    %e0 = memref.load %acc[%r, %c] : memref<16x8xf32, #gpu.address_space<workgroup>>
    %e1 = memref.load %acc[%r, %c_1] : memref<16x8xf32, #gpu.address_space<workgroup>>
    %f = vector.from_elements %e0, %e1 {deltanet.carried_accumulator = array<i64: 0, 0>} : vector<1x2xf32>
    %g = arith.addf %f, %f : vector<1x2xf32>
    gpu.barrier
    %s = affine.apply affine_map<()[s0] -> (s0 floordiv 4)>()[%lane]
    %d = affine.apply affine_map<()[s0] -> ((s0 mod 4) * 2)>()[%lane]
    %d_1 = affine.apply affine_map<()[s0] -> ((s0 mod 4) * 2 + 1)>()[%lane]
    %x0 = vector.extract %g[0, 0] : f32 from vector<1x2xf32>
    memref.store %x0, %acc[%s, %d] {deltanet.carried_accumulator = array<i64: 0, 0>} : memref<16x8xf32, #gpu.address_space<workgroup>>
    %x1 = vector.extract %g[0, 1] : f32 from vector<1x2xf32>
    memref.store %x1, %acc[%s, %d_1] {deltanet.carried_accumulator = array<i64: 0, 0>} : memref<16x8xf32, #gpu.address_space<workgroup>>
    // Reads of the buffer (w S, the states copy) and writes elsewhere are fine.
    memref.copy %acc, %dst : memref<16x8xf32, #gpu.address_space<workgroup>> to memref<16x8xf32>
  }
  return
}

// -----

// Another write of the buffer in the loop (here an unmarked store nested in
// a branch): the memory may no longer hold what the lane stored: not carried.
// CHECK-LABEL: func.func @other_writer
// CHECK-NOT: iter_args
// CHECK-NOT: scf.if {{.*}} -> (vector
// CHECK-NOT: deltanet.carried_accumulator
func.func @other_writer(%lane: index, %n: index, %p: i1, %v: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %acc = memref.alloc() : memref<16x8xf32, #gpu.address_space<workgroup>>
  scf.for %i = %c0 to %n step %c1 {
    %r = affine.apply affine_map<()[s0] -> (s0 floordiv 4)>()[%lane]
    %c = affine.apply affine_map<()[s0] -> ((s0 mod 4) * 2)>()[%lane]
    %c_1 = affine.apply affine_map<()[s0] -> ((s0 mod 4) * 2 + 1)>()[%lane]
    %e0 = memref.load %acc[%r, %c] : memref<16x8xf32, #gpu.address_space<workgroup>>
    %e1 = memref.load %acc[%r, %c_1] : memref<16x8xf32, #gpu.address_space<workgroup>>
    %f = vector.from_elements %e0, %e1 {deltanet.carried_accumulator = array<i64: 0, 0>} : vector<1x2xf32>
    %g = arith.addf %f, %f : vector<1x2xf32>
    %x0 = vector.extract %g[0, 0] : f32 from vector<1x2xf32>
    memref.store %x0, %acc[%r, %c] {deltanet.carried_accumulator = array<i64: 0, 0>} : memref<16x8xf32, #gpu.address_space<workgroup>>
    %x1 = vector.extract %g[0, 1] : f32 from vector<1x2xf32>
    memref.store %x1, %acc[%r, %c_1] {deltanet.carried_accumulator = array<i64: 0, 0>} : memref<16x8xf32, #gpu.address_space<workgroup>>
    scf.if %p {
      memref.store %v, %acc[%c0, %c0] : memref<16x8xf32, #gpu.address_space<workgroup>>
    }
  }
  return
}

// -----

// Stores to other elements than the load read (columns swapped): not
// carried.
// CHECK-LABEL: func.func @other_elements
// CHECK-NOT: iter_args
func.func @other_elements(%lane: index, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %acc = memref.alloc() : memref<16x8xf32, #gpu.address_space<workgroup>>
  scf.for %i = %c0 to %n step %c1 {
    %r = affine.apply affine_map<()[s0] -> (s0 floordiv 4)>()[%lane]
    %c = affine.apply affine_map<()[s0] -> ((s0 mod 4) * 2)>()[%lane]
    %c_1 = affine.apply affine_map<()[s0] -> ((s0 mod 4) * 2 + 1)>()[%lane]
    %e0 = memref.load %acc[%r, %c] : memref<16x8xf32, #gpu.address_space<workgroup>>
    %e1 = memref.load %acc[%r, %c_1] : memref<16x8xf32, #gpu.address_space<workgroup>>
    %f = vector.from_elements %e0, %e1 {deltanet.carried_accumulator = array<i64: 0, 0>} : vector<1x2xf32>
    %g = arith.addf %f, %f : vector<1x2xf32>
    %x0 = vector.extract %g[0, 0] : f32 from vector<1x2xf32>
    memref.store %x0, %acc[%r, %c_1] {deltanet.carried_accumulator = array<i64: 0, 0>} : memref<16x8xf32, #gpu.address_space<workgroup>>
    %x1 = vector.extract %g[0, 1] : f32 from vector<1x2xf32>
    memref.store %x1, %acc[%r, %c] {deltanet.carried_accumulator = array<i64: 0, 0>} : memref<16x8xf32, #gpu.address_space<workgroup>>
  }
  return
}

// -----

// A second product accumulating into the same buffer in the loop (its
// marked stores, another product number, another lane layout): the first
// product's lane would no longer read back its own value: neither is
// carried.
// CHECK-LABEL: func.func @two_products
// CHECK-NOT: iter_args
func.func @two_products(%lane: index, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %acc = memref.alloc() : memref<16x8xf32, #gpu.address_space<workgroup>>
  scf.for %i = %c0 to %n step %c1 {
    %r = affine.apply affine_map<()[s0] -> (s0 floordiv 4)>()[%lane]
    %c = affine.apply affine_map<()[s0] -> ((s0 mod 4) * 2)>()[%lane]
    %e0 = memref.load %acc[%r, %c] : memref<16x8xf32, #gpu.address_space<workgroup>>
    %f = vector.from_elements %e0 {deltanet.carried_accumulator = array<i64: 0, 0>} : vector<1x1xf32>
    %g = arith.addf %f, %f : vector<1x1xf32>
    %x0 = vector.extract %g[0, 0] : f32 from vector<1x1xf32>
    memref.store %x0, %acc[%r, %c] {deltanet.carried_accumulator = array<i64: 0, 0>} : memref<16x8xf32, #gpu.address_space<workgroup>>
    %e1 = memref.load %acc[%c, %r] : memref<16x8xf32, #gpu.address_space<workgroup>>
    %h = vector.from_elements %e1 {deltanet.carried_accumulator = array<i64: 1, 0>} : vector<1x1xf32>
    %k = arith.addf %h, %h : vector<1x1xf32>
    %x1 = vector.extract %k[0, 0] : f32 from vector<1x1xf32>
    memref.store %x1, %acc[%c, %r] {deltanet.carried_accumulator = array<i64: 1, 0>} : memref<16x8xf32, #gpu.address_space<workgroup>>
  }
  return
}
