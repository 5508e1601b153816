// A block loop's thread count (deltanet.block_threads) that is not a
// multiple of 32 in [32, 1024]: an error on the loop from every pass that
// reads it (block-threads.mlir: the valid case).
// RUN: deltanet-opt %s --verify-diagnostics --deltanet-gpu-matmuls-to-mma-sync -o /dev/null
// RUN: deltanet-opt %s --verify-diagnostics --deltanet-gpu-prefetch-loop-operands -o /dev/null
// RUN: deltanet-opt %s --verify-diagnostics --deltanet-gpu-map-to-threads -o /dev/null


func.func @bad_count(%a: memref<4x64xf32>, %b: memref<4x64xf32>) {
  // expected-error @+1 {{'scf.forall' op 'deltanet.block_threads' must be an integer multiple of 32 in [32, 1024], got 100 : i64}}
  scf.forall (%i) in (4) {
    %as = memref.subview %a[%i, 0] [1, 64] [1, 1] : memref<4x64xf32> to memref<1x64xf32, strided<[64, 1], offset: ?>>
    %bs = memref.subview %b[%i, 0] [1, 64] [1, 1] : memref<4x64xf32> to memref<1x64xf32, strided<[64, 1], offset: ?>>
    linalg.copy ins(%as : memref<1x64xf32, strided<[64, 1], offset: ?>>) outs(%bs : memref<1x64xf32, strided<[64, 1], offset: ?>>)
  } {mapping = [#gpu.block<x>], deltanet.block_threads = 100 : i64}
  return
}
