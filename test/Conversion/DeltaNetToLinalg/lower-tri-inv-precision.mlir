// RUN: deltanet-opt %s --deltanet-lower-tri-inv="precision=bf16 batch-tile=4" --canonicalize --cse | FileCheck %s --check-prefix=BF16
// RUN: deltanet-opt %s --deltanet-lower-tri-inv="precision=f16 strategy=forward-substitution batch-tile=0" --canonicalize --cse | FileCheck %s --check-prefix=FS16
// RUN: deltanet-opt %s --deltanet-lower-tri-inv="precision=f16 target=npu" --canonicalize --cse | FileCheck %s --check-prefix=NPU
// RUN: not deltanet-opt %s --deltanet-lower-tri-inv="precision=i4" 2>&1 | FileCheck %s --check-prefix=BAD

// Every merge takes low-precision operands and accumulates in f32. On the
// CPU the diagonal blocks' Neumann products (bands of 14, 12 and 8 at block
// 16) stay f32: too small to amortise the conversions.

// BF16-LABEL: func.func @blocked
// BF16: tensor.empty() : tensor<4x32x32xf32>
// BF16: scf.for
// BF16-NOT: bf16
// BF16: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<4x14x14xf32>, tensor<4x14x14xf32>) outs(%{{.*}} : tensor<4x14x14xf32>)
// BF16-NOT: bf16
// BF16: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<4x8x8xf32>, tensor<4x8x8xf32>) outs(%{{.*}} : tensor<4x8x8xf32>)
// BF16-NOT: bf16
// BF16: scf.yield
// BF16: arith.truncf %{{.*}} : f32 to bf16
// BF16: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<4x16x16xbf16>, tensor<4x16x16xbf16>) outs(%{{.*}} : tensor<4x16x16xf32>)
// BF16-NOT: linalg.batch_matmul ins(%{{[0-9a-z_]+}}, %{{[0-9a-z_]+}} : tensor<{{[0-9x]+}}xf32>
// BF16: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<4x16x16xbf16>, tensor<4x16x16xbf16>) outs(%{{.*}} : tensor<4x16x16xf32>)
// BF16: return %{{.*}} : tensor<4x32x32xf32>
// A target whose matrix units have no f32 (the NPU) keeps every product in
// the requested precision.
// NPU-LABEL: func.func @blocked
// NPU: arith.truncf %{{.*}} : f32 to f16
// NPU: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<4x14x14xf16>, tensor<4x14x14xf16>) outs(%{{.*}} : tensor<4x14x14xf32>)
// NPU-NOT: linalg.batch_matmul ins(%{{[0-9a-z_]+}}, %{{[0-9a-z_]+}} : tensor<{{[0-9x]+}}xf32>
// NPU: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<4x16x16xf16>, tensor<4x16x16xf16>) outs(%{{.*}} : tensor<4x16x16xf32>)
// NPU: return %{{.*}} : tensor<4x32x32xf32>
// FS16-LABEL: func.func @blocked
// FS16: scf.for
// FS16:   arith.truncf %{{.*}} : f32 to f16
// FS16:   linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<4x1x?xf16>, tensor<4x?x32xf16>) outs(%{{.*}} : tensor<4x1x32xf32>)
// BAD: for the --precision option: Cannot find option named 'i4'!
func.func @blocked(%a: tensor<4x32x32xf32>) -> tensor<4x32x32xf32> {
  %x = deltanet.tri_inv %a : tensor<4x32x32xf32>
  return %x : tensor<4x32x32xf32>
}

// The attribute wins over the pass option.
// BF16-LABEL: func.func @attribute
// BF16-NOT: bf16
// BF16: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<4x16x16xf16>, tensor<4x16x16xf16>)
// BF16-NOT: bf16
// BF16: return
func.func @attribute(%a: tensor<4x32x32xf32>) -> tensor<4x32x32xf32> {
  %x = deltanet.tri_inv %a {precision = #deltanet.precision<f16>} : tensor<4x32x32xf32>
  return %x : tensor<4x32x32xf32>
}
