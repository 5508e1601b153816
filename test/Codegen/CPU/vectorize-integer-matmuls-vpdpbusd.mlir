// INT8 matmuls as AVX512_VNNI vpdpbusd (4 byte products per i32 lane):
// deltanet-cpu-vectorize-integer-matmuls{unsigned-signed-dots} packs groups
// of 4 rows of B, offsets A by 128 (xor of the sign bit) and corrects by
// 128 * B's column sums; deltanet-cpu-lower-byte-dot-products turns the
// portable u8 x s8 dot product into the intrinsic.

// RUN: deltanet-opt %s --deltanet-cpu-vectorize-integer-matmuls="unsigned-signed-dots=1" --canonicalize | FileCheck %s --check-prefix=KERNEL
// RUN: deltanet-opt %s --deltanet-cpu-vectorize-integer-matmuls="unsigned-signed-dots=1" --deltanet-cpu-lower-byte-dot-products | FileCheck %s --check-prefix=INTRINSIC
// RUN: deltanet-opt %s --deltanet-cpu-pipeline="int8-dot-products=1" | mlir-translate --mlir-to-llvmir > %t.ll
// RUN: llc -O3 -mtriple=x86_64-unknown-linux-gnu -mcpu=icelake-server %t.ll -o - | FileCheck %s --check-prefix=ASM
// The whole INT8 tri_inv: the merges' products are vpdpbusd in their loops,
// and the per-row max |x| an integer max reduction (no NaN-propagating
// float max reduction, which x86 expands to scalar compare chains).
// RUN: deltanet-opt %s --deltanet-lower-tri-inv="precision=i8 block-size=16" --deltanet-cpu-pipeline="int8-dot-products=1" -o %t.tri.mlir
// RUN: FileCheck %s --check-prefix=TRILLVM < %t.tri.mlir
// RUN: mlir-translate --mlir-to-llvmir %t.tri.mlir > %t.tri.ll
// RUN: llc -O3 -mtriple=x86_64-unknown-linux-gnu -mcpu=sapphirerapids %t.tri.ll -o - | FileCheck %s --check-prefix=TRI

// KERNEL-LABEL: func @int8_matmul
// Groups of 4 rows interleaved: Bv[b, q, 4n + t] = B[b, 4q + t, n].
// KERNEL: %[[PACKED:.*]] = scf.for
// KERNEL-COUNT-4: vector.transfer_read %{{.*}} : tensor<?x32x32xi8>, vector<16xi8>
// KERNEL: vector.interleave %{{.*}}, %{{.*}} : vector<16xi8> -> vector<32xi8>
// KERNEL: vector.interleave %{{.*}}, %{{.*}} : vector<16xi8> -> vector<32xi8>
// KERNEL: vector.interleave %{{.*}}, %{{.*}} : vector<32xi8> -> vector<64xi8>
// KERNEL: vector.transfer_write %{{.*}} : vector<64xi8>, tensor<?x8x128xi8>
// KERNEL: scf.for %[[B:[a-z0-9_]+]] =
// The correction: column sums of B (rows sign-extended and added), times 128.
// KERNEL: scf.for {{.*}} -> (vector<16xi32>)
// KERNEL: arith.extsi %{{.*}} : vector<16xi8> to vector<16xi32>
// KERNEL: arith.shli
// Register tiles of 4 rows x 2 chunks (8 accumulators, corrected) over the
// 8 groups of k; per group both Bv chunks loaded once for the 4 rows.
// KERNEL: scf.for %[[M:[a-z0-9_]+]] = %{{.*}} to %{{.*}} step %c4
// KERNEL: vector.transfer_read %{{.*}}[%[[B]], %[[M]], %{{.*}}], {{.*}} : tensor<?x16x32xi32>, vector<16xi32>
// KERNEL: arith.subi
// KERNEL: scf.for %[[Q:[a-z0-9_]+]] = {{.*}} -> (vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>, vector<16xi32>)
// KERNEL: vector.transfer_read %[[PACKED]][%[[B]], %[[Q]], %c0], {{.*}} : tensor<?x8x128xi8>, vector<64xi8>
// KERNEL: vector.transfer_read %[[PACKED]][%[[B]], %[[Q]], %c64], {{.*}} : tensor<?x8x128xi8>, vector<64xi8>
// 4 bytes of A, offset by 128, broadcast to the 16 lanes.
// KERNEL: vector.transfer_read %{{.*}}[%[[B]], %[[M]], %{{.*}}], {{.*}} : tensor<?x16x32xi8>, vector<4xi8>
// KERNEL: arith.xori %{{.*}}, %{{.*}} : vector<4xi8>
// KERNEL: vector.bitcast %{{.*}} : vector<4xi8> to vector<1xi32>
// KERNEL: vector.broadcast %{{.*}} : vector<1xi32> to vector<16xi32>
// KERNEL: arith.extui %{{.*}} : vector<16x4xi8> to vector<16x4xi32>
// KERNEL: arith.extsi %{{.*}} : vector<16x4xi8> to vector<16x4xi32>
// KERNEL: vector.multi_reduction <add>, %{{.*}}, %{{.*}} [1] : vector<16x4xi32> to vector<16xi32>
// KERNEL-NOT: linalg.batch_matmul

// INTRINSIC-LABEL: func @int8_matmul
// INTRINSIC: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%{{.*}}, %{{.*}}, %{{.*}}) : (vector<16xi32>, vector<64xi8>, vector<64xi8>) -> vector<16xi32>
// INTRINSIC-NOT: vector.multi_reduction <add>, {{.*}} : vector<16x4xi32>
// INTRINSIC-LABEL: func @odd_k_and_narrow_n
// INTRINSIC: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.128"

// ASM-LABEL: int8_matmul:
// ASM: vpdpbusd {{.*}}%zmm
// ASM-LABEL: odd_k_and_narrow_n:
// ASM: vpdpbusd {{.*}}%xmm

// TRILLVM: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd
// TRILLVM-NOT: llvm.intr.vector.reduce.fmaximum
// TRILLVM: llvm.intr.vector.reduce.smax
// TRILLVM-NOT: llvm.intr.vector.reduce.fmaximum
// TRI-LABEL: tri_inv_i8:
// TRI: vpdpbusd {{.*}}%zmm
func.func @int8_matmul(%a: tensor<?x16x32xi8>, %b: tensor<?x32x32xi8>, %c: tensor<?x16x32xi32>) -> tensor<?x16x32xi32> attributes {llvm.emit_c_interface} {
  %r = linalg.batch_matmul ins(%a, %b : tensor<?x16x32xi8>, tensor<?x32x32xi8>) outs(%c : tensor<?x16x32xi32>) -> tensor<?x16x32xi32>
  return %r : tensor<?x16x32xi32>
}

// K = 3 is padded to 4 with zeros; N = 4 uses 4 lanes.
// KERNEL-LABEL: func @odd_k_and_narrow_n
// KERNEL: tensor.pad %{{.*}} low[0, 0, 0] high[0, 0, 1]
// KERNEL: tensor.pad %{{.*}} low[0, 0, 0] high[0, 1, 0]
// KERNEL: vector.multi_reduction <add>, %{{.*}}, %{{.*}} [1] : vector<4x4xi32> to vector<4xi32>
func.func @odd_k_and_narrow_n(%a: tensor<2x8x3xi8>, %b: tensor<2x3x4xi8>, %c: tensor<2x8x4xi32>) -> tensor<2x8x4xi32> {
  %r = linalg.batch_matmul ins(%a, %b : tensor<2x8x3xi8>, tensor<2x3x4xi8>) outs(%c : tensor<2x8x4xi32>) -> tensor<2x8x4xi32>
  return %r : tensor<2x8x4xi32>
}

func.func @tri_inv_i8(%a: tensor<?x32x32xf32>) -> tensor<?x32x32xf32> attributes {llvm.emit_c_interface} {
  %x = deltanet.tri_inv %a {precision = #deltanet.precision<i8>} : tensor<?x32x32xf32>
  return %x : tensor<?x32x32xf32>
}
