// The INT8 matmuls of the CPU lowering are pairwise multiply-adds on the
// VNNI layout, which LLVM's X86 backend selects as the integer dot-product
// instruction vpdpwssd on CPUs with AVX-512 VNNI (or AVX-VNNI), and as
// vpmaddwd where there is none (int8-dot-products=0; the vpdpbusd form is
// checked in vectorize-integer-matmuls-vpdpbusd.mlir).

// RUN: deltanet-opt %s --deltanet-cpu-vectorize-integer-matmuls --canonicalize | FileCheck %s --check-prefix=KERNEL
// RUN: deltanet-opt %s --deltanet-cpu-pipeline="int8-dot-products=0" | mlir-translate --mlir-to-llvmir > %t.ll
// RUN: llc -O3 -mtriple=x86_64-unknown-linux-gnu -mcpu=icelake-server %t.ll -o - | FileCheck %s --check-prefix=VNNI
// RUN: llc -O3 -mtriple=x86_64-unknown-linux-gnu -mcpu=znver4 %t.ll -o - | FileCheck %s --check-prefix=VNNI
// RUN: llc -O3 -mtriple=x86_64-unknown-linux-gnu -mcpu=alderlake %t.ll -o - | FileCheck %s --check-prefix=AVXVNNI
// RUN: llc -O3 -mtriple=x86_64-unknown-linux-gnu -mcpu=znver3 %t.ll -o - | FileCheck %s --check-prefix=AVX2
// The whole INT8 tri_inv: every matmul becomes dot-product instructions.
// RUN: deltanet-opt %s --deltanet-lower-tri-inv="precision=i8" --deltanet-cpu-pipeline="int8-dot-products=0" | mlir-translate --mlir-to-llvmir > %t.tri.ll
// RUN: llc -O3 -mtriple=x86_64-unknown-linux-gnu -mcpu=icelake-server %t.tri.ll -o - | FileCheck %s --check-prefix=TRI

// KERNEL-LABEL: func @int8_matmul
// VNNI layout of the right operand: Bv[b, p, 2n + t] = B[b, 2p + t, n], as
// two row loads and one interleave per pair of rows and 16 columns.
// KERNEL: %[[PACKED:.*]] = scf.for
// KERNEL: vector.transfer_read %{{.*}} : tensor<?x32x32xi8>, vector<16xi8>
// KERNEL: vector.transfer_read %{{.*}} : tensor<?x32x32xi8>, vector<16xi8>
// KERNEL: vector.interleave %{{.*}}, %{{.*}} : vector<16xi8> -> vector<32xi8>
// KERNEL: vector.transfer_write %{{.*}} : vector<32xi8>, tensor<?x16x64xi8>
// KERNEL: scf.for %[[B:[a-z0-9_]+]] =
// Register tiles of 4 rows x two chunks of 16 i32 lanes (N = 32): 8
// accumulators carried over the 16 pairs of k; per pair both Bv chunks
// are loaded once and feed the 4 rows.
// KERNEL: scf.for %[[M:[a-z0-9_]+]] = %{{.*}} to %{{.*}} step %c4
// KERNEL: vector.transfer_read %{{.*}}[%[[B]], %[[M]], %{{.*}}], {{.*}} : tensor<?x16x32xi32>, vector<16xi32>
// KERNEL: scf.for %[[P:[a-z0-9_]+]] = {{.*}} -> (vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>)
// KERNEL: vector.transfer_read %[[PACKED]][%[[B]], %[[P]], %c0], {{.*}} : tensor<?x16x64xi8>, vector<32xi8>
// KERNEL: vector.transfer_read %[[PACKED]][%[[B]], %[[P]], %c32], {{.*}} : tensor<?x16x64xi8>, vector<32xi8>
// KERNEL: vector.transfer_read %{{.*}}[%[[B]], %[[M]], %{{.*}}], {{.*}} : tensor<?x16x32xi8>, vector<2xi8>
// KERNEL: vector.bitcast %{{.*}} : vector<2xi16> to vector<1xi32>
// KERNEL: vector.broadcast %{{.*}} : vector<1xi32> to vector<16xi32>
// KERNEL: arith.muli %{{.*}}, %{{.*}} : vector<32xi32>
// KERNEL: vector.shuffle {{.*}} [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30]
// KERNEL: vector.shuffle {{.*}} [1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31]
// The 8 accumulators written back after the k loop.
// KERNEL-COUNT-8: vector.transfer_write %{{.*}}#{{[0-7]}}, {{.*}} : vector<16xi32>, tensor<?x16x32xi32>
// KERNEL-NOT: linalg.batch_matmul

// With AVX-512 VNNI 16 lanes per instruction, with AVX-VNNI (VEX-encoded) 8.
// VNNI: vpdpwssd {{.*}}%zmm
// AVXVNNI: {vex} vpdpwssd {{.*}}%ymm
// AVX2-NOT: vpdpwssd
// AVX2: vpmaddwd
// TRI-NOT: vpmulld
// TRI: vpdpwssd
// TRI-NOT: vpmulld
func.func @int8_matmul(%a: tensor<?x16x32xi8>, %b: tensor<?x32x32xi8>, %c: tensor<?x16x32xi32>) -> tensor<?x16x32xi32> attributes {llvm.emit_c_interface} {
  %r = linalg.batch_matmul ins(%a, %b : tensor<?x16x32xi8>, tensor<?x32x32xi8>) outs(%c : tensor<?x16x32xi32>) -> tensor<?x16x32xi32>
  return %r : tensor<?x16x32xi32>
}

// KERNEL-LABEL: func @odd_k_and_narrow_n
// K = 3 is padded to 4 with zeros; N = 4 uses 4 lanes.
// KERNEL: tensor.pad %{{.*}} low[0, 0, 0] high[0, 0, 1]
// KERNEL: tensor.pad %{{.*}} low[0, 0, 0] high[0, 1, 0]
// KERNEL: vector<4xi32>
func.func @odd_k_and_narrow_n(%a: tensor<2x8x3xi8>, %b: tensor<2x3x4xi8>, %c: tensor<2x8x4xi32>) -> tensor<2x8x4xi32> {
  %r = linalg.batch_matmul ins(%a, %b : tensor<2x8x3xi8>, tensor<2x3x4xi8>) outs(%c : tensor<2x8x4xi32>) -> tensor<2x8x4xi32>
  return %r : tensor<2x8x4xi32>
}

// KERNEL-LABEL: func @not_a_multiple_of_4
// KERNEL: linalg.batch_matmul
func.func @not_a_multiple_of_4(%a: tensor<2x8x8xi8>, %b: tensor<2x8x2xi8>, %c: tensor<2x8x2xi32>) -> tensor<2x8x2xi32> {
  %r = linalg.batch_matmul ins(%a, %b : tensor<2x8x8xi8>, tensor<2x8x2xi8>) outs(%c : tensor<2x8x2xi32>) -> tensor<2x8x2xi32>
  return %r : tensor<2x8x2xi32>
}

// KERNEL-LABEL: func @tri_inv_i8
func.func @tri_inv_i8(%a: tensor<?x32x32xf32>) -> tensor<?x32x32xf32> attributes {llvm.emit_c_interface} {
  %x = deltanet.tri_inv %a {precision = #deltanet.precision<i8>} : tensor<?x32x32xf32>
  return %x : tensor<?x32x32xf32>
}
