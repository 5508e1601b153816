// A DeltaNet chunk matrix inverted three ways with deltanet.tri_inv.
//
//   deltanet-opt examples/tri_inv.mlir --deltanet-cpu-pipeline | \
//     mlir-runner -e main -entry-point-result=void \
//       -shared-libs=/usr/lib/llvm-22/lib/libmlir_runner_utils.so,/usr/lib/llvm-22/lib/libmlir_c_runner_utils.so
//
// %a is A = tril(diag(beta) K K^T exp(G_i - G_j), -1) for an 8-token chunk
// (keys of dimension 16, correlated); its diagonal and upper triangle hold 9s
// that tri_inv ignores. X = (I + A)^-1 is printed from the default (blocked,
// here with 4x4 blocks) lowering, and the largest absolute difference of the
// blocked and Neumann results from forward substitution.

func.func private @printMemrefF32(memref<*xf32>)

func.func @main() {
  %a = arith.constant dense<"0x000010410000104100001041000010410000104100001041000010410000104176042A3E0000104100001041000010410000104100001041000010410000104184E7093E38342D3E000010410000104100001041000010410000104100001041B6E5A93E1DDD053F9D3BFD3E0000104100001041000010410000104100001041F5F3A63EC339FB3E50AD053F0660F33E000010410000104100001041000010418F0F853E3EF2B53E32CFB63E941BC43E49E5CB3E00001041000010410000104181ED8E3E1F40CB3E2D49D13EDE93CE3EB4BDC63E1BACDF3E000010410000104190364C3EEF9CA13E7A86B43EA2B49F3E551DC63E7BE8A73E1518DB3E00001041"> : tensor<8x8xf32>

  %blocked = deltanet.tri_inv %a {block_size = 4 : i64} : tensor<8x8xf32>
  %neumann = deltanet.tri_inv %a {strategy = #deltanet.strategy<neumann>} : tensor<8x8xf32>
  %exact = deltanet.tri_inv %a {strategy = #deltanet.strategy<forward_substitution>} : tensor<8x8xf32>

  %m = bufferization.to_buffer %blocked : tensor<8x8xf32> to memref<8x8xf32>
  %u = memref.cast %m : memref<8x8xf32> to memref<*xf32>
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()

  // max |blocked - exact| and max |neumann - exact|.
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<f32>
  %acc = linalg.fill ins(%zero : f32) outs(%init : tensor<f32>) -> tensor<f32>
  %diff:2 = linalg.generic {
      indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>,
                       affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> ()>,
                       affine_map<(i, j) -> ()>],
      iterator_types = ["reduction", "reduction"]}
      ins(%blocked, %neumann, %exact : tensor<8x8xf32>, tensor<8x8xf32>, tensor<8x8xf32>)
      outs(%acc, %acc : tensor<f32>, tensor<f32>) {
  ^bb0(%b: f32, %n: f32, %e: f32, %db: f32, %dn: f32):
    %xb = arith.subf %b, %e : f32
    %xn = arith.subf %n, %e : f32
    %ab = math.absf %xb : f32
    %an = math.absf %xn : f32
    %mb = arith.maximumf %db, %ab : f32
    %mn = arith.maximumf %dn, %an : f32
    linalg.yield %mb, %mn : f32, f32
  } -> (tensor<f32>, tensor<f32>)
  %db = tensor.extract %diff#0[] : tensor<f32>
  %dn = tensor.extract %diff#1[] : tensor<f32>
  %both = tensor.from_elements %db, %dn : tensor<2xf32>
  %dm = bufferization.to_buffer %both : tensor<2xf32> to memref<2xf32>
  %du = memref.cast %dm : memref<2xf32> to memref<*xf32>
  call @printMemrefF32(%du) : (memref<*xf32>) -> ()
  return
}
