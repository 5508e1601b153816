// RUN: deltanet-opt %s --deltanet-gpu-workgroup-allocs-to-dynamic-shared | FileCheck %s
// RUN: deltanet-opt %s --deltanet-gpu-workgroup-allocs-to-dynamic-shared=reuse=false | FileCheck %s --check-prefix=NOREUSE

// %a and %b are live together (offsets 0 and 4096); %c starts after both
// died and takes offset 0 again: 4096 + 1024 bytes in all. Without reuse the
// three are stacked: 4096 + 1024 + 4096.
// CHECK-LABEL: func.func @pack
// CHECK: %[[SIZE:.*]] = arith.constant 5120 : i32
// CHECK: gpu.launch {{.*}} dynamic_shared_memory_size %[[SIZE]]
// CHECK: %[[BASE:.*]] = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
// CHECK: %[[O0:.*]] = arith.constant 0 : index
// CHECK: memref.view %[[BASE]][%[[O0]]][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<32x32xf32, #gpu.address_space<workgroup>>
// CHECK: %[[O1:.*]] = arith.constant 4096 : index
// CHECK: memref.view %[[BASE]][%[[O1]]][] : {{.*}} to memref<16x16xf32, #gpu.address_space<workgroup>>
// CHECK: %[[O2:.*]] = arith.constant 0 : index
// CHECK: memref.view %[[BASE]][%[[O2]]][] : {{.*}} to memref<32x32xf32, #gpu.address_space<workgroup>>
// CHECK-NOT: memref.alloc
// NOREUSE: arith.constant 9216 : i32
func.func @pack(%src: memref<32x32xf32>, %dst: memref<32x32xf32>) {
  %c1 = arith.constant 1 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    %a = memref.alloc() : memref<32x32xf32, #gpu.address_space<workgroup>>
    %b = memref.alloc() : memref<16x16xf32, #gpu.address_space<workgroup>>
    memref.copy %src, %a : memref<32x32xf32> to memref<32x32xf32, #gpu.address_space<workgroup>>
    %s = memref.subview %a[0, 0] [16, 16] [1, 1] : memref<32x32xf32, #gpu.address_space<workgroup>> to memref<16x16xf32, strided<[32, 1]>, #gpu.address_space<workgroup>>
    memref.copy %s, %b : memref<16x16xf32, strided<[32, 1]>, #gpu.address_space<workgroup>> to memref<16x16xf32, #gpu.address_space<workgroup>>
    gpu.barrier
    %c = memref.alloc() : memref<32x32xf32, #gpu.address_space<workgroup>>
    memref.copy %dst, %c : memref<32x32xf32> to memref<32x32xf32, #gpu.address_space<workgroup>>
    memref.copy %c, %dst : memref<32x32xf32, #gpu.address_space<workgroup>> to memref<32x32xf32>
    gpu.terminator
  }
  return
}

// The same lifetimes without a barrier between %a's and %b's last reads and
// %c's first write: threads still reading %a could race with threads
// writing %c (gpu-eliminate-barriers erases such barriers while the
// allocations are distinct), so %c gets bytes of its own: 4096 + 1024 +
// 4096, as without reuse.
// CHECK-LABEL: func.func @pack_without_barrier
// CHECK: arith.constant 9216 : i32
// CHECK: %[[A:.*]] = arith.constant 0 : index
// CHECK-NEXT: memref.view %{{.*}}[%[[A]]][] : {{.*}} to memref<32x32xf32, #gpu.address_space<workgroup>>
// CHECK: %[[B:.*]] = arith.constant 8192 : index
// CHECK-NEXT: memref.view %{{.*}}[%[[B]]][] : {{.*}} to memref<16x16xf32, #gpu.address_space<workgroup>>
// CHECK: %[[C:.*]] = arith.constant 4096 : index
// CHECK-NEXT: memref.view %{{.*}}[%[[C]]][] : {{.*}} to memref<32x32xf32, #gpu.address_space<workgroup>>
func.func @pack_without_barrier(%src: memref<32x32xf32>, %dst: memref<32x32xf32>) {
  %c1 = arith.constant 1 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    %a = memref.alloc() : memref<32x32xf32, #gpu.address_space<workgroup>>
    %b = memref.alloc() : memref<16x16xf32, #gpu.address_space<workgroup>>
    memref.copy %src, %a : memref<32x32xf32> to memref<32x32xf32, #gpu.address_space<workgroup>>
    %s = memref.subview %a[0, 0] [16, 16] [1, 1] : memref<32x32xf32, #gpu.address_space<workgroup>> to memref<16x16xf32, strided<[32, 1]>, #gpu.address_space<workgroup>>
    memref.copy %s, %b : memref<16x16xf32, strided<[32, 1]>, #gpu.address_space<workgroup>> to memref<16x16xf32, #gpu.address_space<workgroup>>
    %c = memref.alloc() : memref<32x32xf32, #gpu.address_space<workgroup>>
    memref.copy %dst, %c : memref<32x32xf32> to memref<32x32xf32, #gpu.address_space<workgroup>>
    memref.copy %c, %dst : memref<32x32xf32, #gpu.address_space<workgroup>> to memref<32x32xf32>
    gpu.terminator
  }
  return
}
