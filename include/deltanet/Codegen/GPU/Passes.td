//===- Passes.td - GPU code generation passes --------------*- tablegen -*-===//
//
// Declares the passes that map deltanet programs onto NVIDIA GPUs.
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_CODEGEN_GPU_PASSES_TD
#define DELTANET_CODEGEN_GPU_PASSES_TD

include "mlir/Pass/PassBase.td"

def DeltaNetGpuDistributeToBlocks : Pass<"deltanet-gpu-distribute-to-blocks"> {
  let summary = "One GPU thread block per matrix of a batched deltanet op";
  let description = [{
    Wraps every batched `deltanet.tri_inv` (leading dimensions = batch) in
    an `scf.forall` over its batch dimensions (at most three), mapped to
    `#gpu.block<x/y/z>` (the innermost batch dimension to `x`). The body
    inverts one `C x C` matrix, so the whole per-matrix chain that the
    target-neutral lowering produces later becomes one kernel (one launch)
    whose temporaries can live in shared memory.

    The chunk stage ops (`gated_kkt`, `wy_repr`, `chunk_output`) get one
    block per chunk; `chunk_state_scan` one block per sequence, or with
    `scan-value-tile=T` one per sequence and tile of `T` state columns (the
    columns of the state are independent in the recurrence); with
    `scan-value-tile=-1` the tile is chosen from the shape: the largest of
    32, 16 and 8 columns that still gives `scan-min-blocks` blocks.
    With `fuse-chunk-prologue` (default), a `gated_kkt` read only by a
    `tri_inv` read only by a `wy_repr` (as its `T`) becomes one block per
    chunk computing all three: A and its inverse stay inside the block
    (shared memory) instead of going through device memory, one launch
    instead of three.
    `recurrent_gated_delta_rule` (decode) gets one block per (batch, value
    head), or with `recurrent-value-tile=T` per (batch, value head, tile of
    `T` state columns), the token loop inside the block: one launch for the
    op.

    With `kernel-threads=KIND=N,...`, each block loop whose kernel is of a
    listed kind gets `deltanet.block_threads = N` (a discardable i64 on the
    `scf.forall`): the passes that spread a block over its threads
    (`-matmuls-to-mma-sync`, `-prefetch-loop-operands`, `-map-to-threads`)
    use N for it instead of their `threads` option, and the `gpu.launch`
    has N threads. KIND is the block's deltanet op (`tri_inv`, `gated_kkt`,
    `wy_repr`, `chunk_state_scan`, `chunk_output`,
    `recurrent_gated_delta_rule`) or `chunk_prologue` (the fused
    gated_kkt -> tri_inv -> wy_repr). Blocks of other kinds (and those of
    `deltanet-gpu-distribute-linalg-to-blocks`) keep the passes' count.

    Functions must be in destination-passing style (results written into
    memref arguments): a function returning a tensor is an error, since
    its result would be a host allocation (unless
    `destination-passing-only=false`, for testing the distribution alone).
  }];
  let options = [
    Option<"destinationPassingOnly", "destination-passing-only", "bool",
           /*default=*/"true",
           "Reject functions that return tensors">,
    Option<"scanValueTile", "scan-value-tile", "int64_t", /*default=*/"0",
           "chunk_state_scan: one block per sequence and tile of this many "
           "state columns (V); 0 or a tile that does not divide V: one "
           "block per sequence; -1: chosen from the shape (the largest of "
           "32, 16, 8 giving at least scan-min-blocks blocks)">,
    Option<"scanMinBlocks", "scan-min-blocks", "int64_t", /*default=*/"256",
           "scan-value-tile=-1: blocks (sequences x V / tile) the chosen "
           "tile should at least give: about 2 per SM of an H200 (132 SMs; "
           "the scan's 112 KB of shared memory at 32 columns, less at 16, "
           "fit 2 blocks per SM). Measured there (docs/GPU.md, session 8): "
           "16 columns at 32 sequences (0.676 ms against 0.894 for 32), 8 "
           "at 4 (session 7's choices were 32 and 8 with 64)">,
    Option<"fuseChunkPrologue", "fuse-chunk-prologue", "bool",
           /*default=*/"true",
           "gated_kkt -> tri_inv -> wy_repr of one chunk in one block (one "
           "launch; A and its inverse stay in the block's shared memory) "
           "instead of a block loop each">,
    Option<"recurrentValueTile", "recurrent-value-tile", "int64_t",
           /*default=*/"0",
           "recurrent_gated_delta_rule: one block per (batch, value head) "
           "and tile of this many state columns (V); 0 or a tile that does "
           "not divide V: one block per (batch, value head)">,
    ListOption<"kernelThreads", "kernel-threads", "std::string",
               "Threads per block of kernels by kind, KIND=N entries (KIND: "
               "tri_inv, gated_kkt, wy_repr, chunk_state_scan, chunk_output, "
               "recurrent_gated_delta_rule, chunk_prologue; N a multiple of "
               "32 in [32, 1024]), recorded as deltanet.block_threads on the "
               "block loops; kinds not listed: the later passes' threads">,
  ];
  let dependentDialects = ["scf::SCFDialect", "tensor::TensorDialect",
                           "gpu::GPUDialect", "affine::AffineDialect"];
}

def DeltaNetGpuPromoteBlockTemporaries
    : Pass<"deltanet-gpu-promote-block-temporaries"> {
  let summary = "Temporaries of a thread block in workgroup (shared) memory";
  let description = [{
    Inside every `scf.forall` mapped to GPU blocks, replaces each statically
    shaped `tensor.empty` by `bufferization.alloc_tensor` in
    `#gpu.address_space<workgroup>`, so that one-shot bufferization puts the
    block's intermediates in shared memory instead of device memory. A
    tensor carried by an `scf.for` inside a block whose updates land in such
    a temporary but whose start does not (a slice of a device-memory
    operand: the recurrent op's initial state) starts from a shared-memory
    copy (a loop-carried buffer has one memory space).

    With `row-padding=P`, a temporary of rank >= 2 whose rows are a
    multiple of 32 words is allocated with P more elements per row (2 P
    for 16-bit elements: the same bytes as 32-bit ones, so that 16-bit rows
    stay 16-byte aligned for ldmatrix) and used through a slice: a column
    then spans all banks, so the 8 rows x 4 columns that the lanes of a
    warp read for a tensor-core fragment (or the 8 rows of 16 bytes of an
    ldmatrix matrix) are not serialised on one bank. 16-bit rows are padded
    when they are a multiple of `narrow-row-bytes` bytes (default 32: also
    the state scan's 16-column tiles, whose 32-byte rows put rows r and
    r + 4 of an ldmatrix matrix on the same banks; H200, large shape,
    bf16: scan 0.353 -> 0.340 ms, 62736 -> 63760 shared bytes; 128: the
    32-word rule of 32-bit rows).
  }];
  let options = [
    Option<"rowPadding", "row-padding", "int64_t", /*default=*/"0",
           "Elements added to each row of temporaries whose rows are a "
           "multiple of 32 words (16-bit rows: twice as many; 0: none)">,
    Option<"narrowRowBytes", "narrow-row-bytes", "int64_t",
           /*default=*/"32",
           "16-bit rows are padded when their bytes are a multiple of this "
           "(a multiple of 32)">,
  ];
  let dependentDialects = ["bufferization::BufferizationDialect",
                           "gpu::GPUDialect"];
}

def DeltaNetGpuMapToThreads : Pass<"deltanet-gpu-map-to-threads",
                                   "func::FuncOp"> {
  let summary = "Block-mapped scf.forall on buffers -> gpu.launch with every "
                "linalg op spread over the block's threads";
  let description = [{
    Runs after bufferization. Inside every `scf.forall` mapped to GPU
    blocks: `memref.copy` becomes `linalg.copy`; every linalg op is tiled
    (upstream `scf::tileUsingSCF`) into an `scf.forall` mapped to linear
    thread ids with at most `threads` iterations, parallel dimensions split
    innermost first so that consecutive threads touch consecutive elements
    (coalesced); the block forall becomes a `gpu.launch` of `threads`
    threads, and the thread foralls are mapped by upstream's
    `mapNestedForallToThreadsImpl` with a `gpu.barrier` after each.
    A thread's tile is vectorised whole if it has at most 1024 iterations;
    a larger one with a long reduction (the attention's K = 128 matmuls) is
    vectorised in steps along its reduction loops (`reduction-step`), so
    that its accumulator is read and written once per step, not once per
    multiply-add. A zero `linalg.fill` of the accumulator of the next op
    (its only output, read through a projected permutation) is done by
    each thread on its own tile of that op: one barrier-separated phase
    instead of two. A thread's tile of an op that reads or writes diagonal
    blocks through a repeated loop dim (`(n, p, i, k) -> (n, p, i, p, k)`,
    the GPU's batched tri_inv levels) has one `p`: its unit loop dims are
    dropped (rank-reducing subviews) so that it vectorises, as a
    `linalg.contract` when it is a plain f32 multiply-add (FMAs). Host-level
    copies between strided views of device buffers become one-block
    launches.
  }];
  let options = [
    Option<"threads", "threads", "int64_t", /*default=*/"256",
           "Threads per block (a multiple of 32)">,
    Option<"reductionStep", "reduction-step", "int64_t", /*default=*/"256",
           "A thread's tile too large to vectorise whole (> 1024 "
           "iterations) with at most this many parallel iterations: its "
           "reduction loops are tiled by an scf.for into vectorised steps of "
           "at most this many iterations (0: such tiles stay scalar loop "
           "nests)">,
  ];
  let dependentDialects = ["gpu::GPUDialect", "linalg::LinalgDialect",
                           "scf::SCFDialect", "arith::ArithDialect",
                           "affine::AffineDialect"];
}

def DeltaNetGpuMatmulsToMmaSync
    : Pass<"deltanet-gpu-matmuls-to-mma-sync", "func::FuncOp"> {
  let summary = "Matmuls of thread blocks -> warp loops of nvgpu.mma.sync "
                "(tf32, bf16, f16 tensor cores)";
  let description = [{
    Runs after bufferization, before `deltanet-gpu-map-to-threads`. Every
    f32 contraction inside a block-mapped `scf.forall` with one M, N and K
    dimension (any static batch dims, operands read through their indexing
    maps: transposed and strided views work) whose M, N, K are multiples of
    16, 8, 8 and whose K is at least `min-reduction` becomes an
    `scf.forall` over the block's warps (`#gpu.warp<linear_dim_0>`, mapped
    to thread ids by `deltanet-gpu-map-to-threads` with a barrier after it).
    The M x N output is split into a grid of warp tiles; a warp walks its
    tile in register blocks of at most `max-accumulator-tiles` 16 x 8
    accumulators, which stay in registers across the K loop: per step of
    8, the block's A fragments (one per row of 16), then per column of 8
    one B fragment and one `nvgpu.mma.sync` (m16n8k8, tf32) per row.
    `warp-tiling=min-loads` (default) picks the grid and block shape that
    load the fewest fragment values per step (these kernels are bound by
    shared-memory / L1 traffic); `rows` is the original choice (rows of 16
    over warps first, blocks one row high). With `chain-products`, a
    product accumulating onto the previous product's result shares its
    warp loop and register accumulators (off by default: measured slower,
    see the option). Fragment
    layouts are upstream's (`nvgpu::getLaneIdAndValueIdToOperandCoord`);
    f32 operands are loaded per element (arbitrary strides), from device
    memory unless `stage-operand-bytes` copies them to shared memory first (from its producer's output when an earlier op
    of the block computes it: `stage-from-producer`). A zero fill of the
    accumulator right before the product becomes zero registers
    (`zero-init-accumulators`). Other linalg ops stay for the SIMT mapping, and so do
    contractions this pass rejects (the reason is a match-failure note
    under `-debug`).

    tf32 keeps 10 mantissa bits: each product has a relative error of about
    5e-4. The attention's stage products tolerate it; the blocked inverse's
    merges (K <= C / 2, e.g. <= 32 at C = 64) do not (its tolerance is
    1e-5), hence `min-reduction` (default 64).

    bf16 and f16 operands (a contraction whose A and B are both bf16 or both
    f16, f32 accumulator: what `chunk-precision=bf16|f16` and
    `tri-inv-precision=bf16|f16` make) run on `mma.sync` m16n8k16 (K steps
    of 16, fragments `vector<4x2xT>` / `vector<2x2xT>`, layouts of f16), at
    any K that is a multiple of 16: their products are exact, the program
    rounded the operands already, so `min-reduction` does not apply. Staged
    16-bit operands take half the shared bytes. bf16 needs
    `deltanet-gpu-lower-bf16-mma-sync` before the NVVM lowering. With
    `ldmatrix` (default), a 16-bit A or B fragment in shared memory is one
    `nvgpu.ldmatrix` (PTX `ldmatrix.sync.aligned.m8n8.x4` for A, `.x2` for
    B; `.trans` when the operand is stored with its row index innermost:
    B as [K][N], A as [K][M]) instead of one 16-bit load per element,
    where each 8-element row segment is contiguous and 16-byte aligned: a
    `memref.alloc` in workgroup memory, indexed by a projected permutation,
    innermost stride 1, the other strides and the offset static multiples
    of 8 elements. Other 16-bit fragments stay per element (the reason
    under `-debug-only=deltanet-gpu-matmuls-to-mma-sync`). Staged 16-bit
    rows of a multiple of 128 bytes are padded by 16 bytes (8 rows of an
    ldmatrix matrix in distinct banks).
  }];
  let options = [
    Option<"threads", "threads", "int64_t", /*default=*/"128",
           "Threads per block (the warps are threads / 32)">,
    Option<"minReduction", "min-reduction", "int64_t", /*default=*/"64",
           "tf32 contractions with a shorter K stay SIMT (the inverse's "
           "merges); bf16 / f16 ones are exact at any K">,
    Option<"maxAccumulatorTiles", "max-accumulator-tiles", "int64_t",
           /*default=*/"16",
           "16 x 8 accumulator tiles a warp keeps in registers at once "
           "(4 registers each)">,
    Option<"warpTiling", "warp-tiling", "std::string",
           /*default=*/"\"min-loads\"",
           "How the warps split the M x N output: rows (rows of 16 over "
           "warps first, register blocks of one row of 16) or min-loads "
           "(the warp grid and register blocks of up to "
           "max-accumulator-tiles accumulators that load the fewest "
           "fragment values per k step, e.g. 2 x 2 warps of 32 x 64 for a "
           "64 x 128 output: 96 instead of 144)">,
    Option<"chainProducts", "chain-products", "bool", /*default=*/"false",
           "A product that accumulates onto the previous product's result "
           "(the next op with memory effects, same accumulator, unit batch "
           "dims) is rewritten with it: one warp loop whose K loops share "
           "the register accumulators (no store, barrier and reload of the "
           "partial sum; the output stage's (q exp(g)) S + A v_new). Off by "
           "default: the second product's staged operand then lives during "
           "the first product, and the output stage went from 103 to 119 KB "
           "of shared memory, one block per SM, 0.438 -> 0.672 ms on the "
           "H200 (registers 211 -> 156)">,
    Option<"stageOperandBytes", "stage-operand-bytes", "int64_t",
           /*default=*/"0",
           "A and B operands outside shared memory of at most this many "
           "bytes are first copied into (row-padded) shared memory by the "
           "whole block (coalesced, one barrier); 0: read in place">,
    Option<"roundToTf32", "round-to-tf32", "bool", /*default=*/"true",
           "Round operands to the nearest tf32 (else the tensor core "
           "truncates them, which biases products towards zero)">,
    Option<"zeroInitAccumulators", "zero-init-accumulators", "bool",
           /*default=*/"true",
           "A zero linalg.fill of exactly the accumulator before the product "
           "(nothing in between writing its buffer): accumulators start at "
           "zero in registers and the fill (a block phase) is erased">,
    Option<"stageFromProducer", "stage-from-producer", "bool",
           /*default=*/"true",
           "An operand staged in shared memory whose producer is an earlier "
           "linalg op of the same block (the state scan's v_new): the "
           "producer writes the shared copy and a copy right after it "
           "writes device memory, instead of the product's staging reading "
           "back the device memory the block just wrote">,
    Option<"foldAccumulatorProducers", "fold-accumulator-producers", "bool",
           /*default=*/"true",
           "An elementwise linalg op updating exactly the accumulator in "
           "place right before the product (the state scan's decay of S) is "
           "applied to the accumulator fragments as they are loaded into "
           "registers, and erased: one block phase and a read and write of "
           "the accumulator less">,
    Option<"foldAccumulatorConsumers", "fold-accumulator-consumers", "bool",
           /*default=*/"true",
           "An elementwise linalg.generic right after the product that reads "
           "each element of the accumulator (a block temporary) once and "
           "writes another buffer, the accumulator unused after it (the "
           "output stage's cast to bf16 and scatter into o, gated_kkt's "
           "mask and decays): applied to the accumulator fragments as they "
           "leave the registers, and erased; the accumulator is not "
           "written (its shared-memory tile and the consumer's block phase "
           "go when nothing else uses them)">,
    Option<"foldAccumulatorCopies", "fold-accumulator-copies", "bool",
           /*default=*/"false",
           "A memref.copy of exactly the accumulator to another buffer "
           "before the product (the state scan's copy of S to `states`), "
           "with nothing in between writing the accumulator (but a folded "
           "producer) or touching the target: each lane stores the "
           "accumulator elements it loads to the target too (a register's "
           "adjacent elements as one 8-byte vector store), and the copy (a "
           "block phase: a read of the accumulator and a barrier) is "
           "erased. Off by default: measured slower on the H200 (state "
           "scan 0.564 -> 0.587 ms large, 0.180 -> 0.197 ms small; the "
           "states stores then delay the update's warps, docs/GPU.md)">,
    Option<"int8", "int8", "bool", /*default=*/"false",
           "Also i8 x i8 -> i32 contractions (the INT8 tri_inv's quantised "
           "products) whose M, N, K are multiples of 16, 8, 32, on the s8 "
           "tensor cores (mma.sync m16n8k32, upstream's lowering with "
           "satfinite; no min-reduction: the sums are exact), without the "
           "f32 products' fusions (chaining, folds, carried accumulators). "
           "Off by default: not yet run on a device">,
    Option<"ldmatrix", "ldmatrix", "bool", /*default=*/"true",
           "16-bit A / B fragments in shared memory (16-byte aligned rows) "
           "read with nvgpu.ldmatrix (.trans for a [K][N] B) instead of "
           "per-element loads">,
    Option<"markCarriedAccumulators", "mark-carried-accumulators", "bool",
           /*default=*/"false",
           "Mark each loaded accumulator fragment and its stores "
           "(`deltanet.carried_accumulator`) for "
           "deltanet-gpu-carry-accumulators, and leave out the register "
           "block loops of one iteration">,
    Option<"accumulatorRowPadding", "accumulator-row-padding", "int64_t",
           /*default=*/"8",
           "Words added to the rows of a loaded accumulator that is the "
           "block's own allocation (used only by linalg ops, copies, loads "
           "and stores) "
           "when its rows are a multiple of 16 words: the state scan's S, "
           "read as w S's B fragments and written as accumulator fragments "
           "(bank conflicts); 0: unpadded">,
  ];
  let dependentDialects = ["gpu::GPUDialect", "nvgpu::NVGPUDialect",
                           "scf::SCFDialect", "vector::VectorDialect",
                           "memref::MemRefDialect", "arith::ArithDialect",
                           "affine::AffineDialect"];
}

def DeltaNetGpuLowerChunkStateScanToMmaChain
    : Pass<"deltanet-gpu-lower-chunk-state-scan-to-mma-chain",
           "func::FuncOp"> {
  let summary = "A 16-bit deltanet.chunk_state_scan as one gpu.launch whose "
                "warps carry the transposed state in mma.sync registers";
  let description = [{
    Runs before `deltanet-gpu-distribute-to-blocks`, on tensors. A
    `deltanet.chunk_state_scan` whose `k` and `w` are bf16 or f16 (the
    products' precision, `deltanet-narrow-stage-intermediates`) becomes a
    `gpu.launch` (operands through `bufferization.to_buffer`, results
    `memref.alloc` + `bufferization.to_tensor`): one block per sequence `m`
    and tile of `16 x warps` state columns, each warp owning 16 columns of
    the state as the rows of `S^T` (`[16 x K]`, `K / 8` m16n8 f32
    accumulator fragments carried as `scf.for` iter_args over the chunks).
    Per chunk, FlashAttention-2's trick makes every product's A operand the
    previous product's accumulator registers (an m16n8 f32 fragment pair,
    rounded to 16 bits, is the m16n8k16 A fragment):

    ```
    states[m, c]^T = S^T                                  (stores)
    v_new^T = u^T + (-S^T) w^T      (u^T loaded into the accumulators,
                                     B = w [C][K]: ldmatrix)
    Vd^T    = v_new^T * exp(g_last - g)   (per token column)
    S^T     = exp(g_last) S^T + Vd^T k    (B = k [C][K]: ldmatrix.trans)
    ```

    Only `w` and `k` of a chunk go through shared memory (cp.async, double
    buffered, with u's and g's chunk: the next chunk's copy issued before
    this chunk's products; one barrier per chunk). With `key-split=2` two
    warps share each 16 columns, each holding half of the keys (half the
    registers and products per warp, twice the warps on the tensor cores):
    their partial `w S` products are summed through shared memory (a second
    barrier per chunk).
    Hand-written: upstream's vector / nvgpu lowerings take every product's
    operands from memory and cannot keep such a chain in registers.

    Left to the generic path (the reason reported as a match failure): f32
    `k` / `w`, dynamic shapes, `C` or `K` not a multiple of 16, `K > 128`
    (registers), `C > 128`, `V` not a multiple of 16, a scan already inside
    a block loop or kernel.

    `k-from-source`: where `k` is the decomposition's gather
    (`k[B][T][H][K] -> [B][HV][NC][C][K]`, a plain copy, collapsed to
    `[M][NC][C][K]`), its chunks are staged from the gather's input (rows
    `c * C + j` of key head `hv / (HV / H)`: cp.async of 16 bytes where the
    host finds the input 16-byte aligned, element copies otherwise) and the
    gather goes if nothing else reads it. `staged-stores` (off by
    default): the 16-bit states and `v_new` leave through a per-warp
    shared tile as 16-byte row stores. `movmatrix-stores` (on by default):
    they leave as 8-byte stores, four lanes filling a 32-byte row sector,
    after a register transpose of each fragment (`movmatrix`) and one
    shuffle. With a key split the halves of `w S` are exchanged as 16-byte
    vectors (`[warps][C / 8][32][4]`).
  }];
  let options = [
    Option<"warps", "warps", "int64_t", /*default=*/"0",
           "Warps per block: row groups of 16 state columns times "
           "key-split; 0: the most of 4, 2, 1 row groups dividing V / 16 "
           "that still gives min-blocks blocks">,
    Option<"keySplit", "key-split", "int64_t", /*default=*/"0",
           "Warps sharing a row group, each owning a half of the keys "
           "(its S^T fragments and products; the halves of w S exchanged "
           "through shared memory, a second barrier per chunk): 1 or 2; "
           "0: 2 where K is a multiple of 32 (twice the warps on the "
           "tensor cores)">,
    Option<"minBlocks", "min-blocks", "int64_t", /*default=*/"128",
           "With warps=0: the fewest blocks a row-group count may give">,
    Option<"rowPadding", "row-padding", "int64_t", /*default=*/"8",
           "Elements added to each row of the staged w and k chunks "
           "(ldmatrix bank conflicts; a multiple of 8)">,
    Option<"keyFromSource", "k-from-source", "bool", /*default=*/"true",
           "Stage k's chunks from the tensor the decomposition's gather "
           "reads ([B][T][H][K], key head hv / (HV / H)) instead of the "
           "gathered [M][NC][C][K] (the gather then goes if nothing else "
           "reads it); a producer not understood keeps the gather">,
    Option<"stagedStores", "staged-stores", "bool", /*default=*/"false",
           "Store the 16-bit states and v_new in 16-byte rows through a "
           "per-warp shared-memory tile instead of 2-byte stores from the "
           "fragments (off: measured slower on the H200, the tile's round "
           "trip on each chunk's path; docs/GPU.md)">,
    Option<"movmatrixStores", "movmatrix-stores", "bool", /*default=*/"true",
           "Store the 16-bit states and v_new in 8-byte pieces of whole "
           "32-byte row sectors: each fragment's two 8 x 8 halves "
           "transposed in registers (movmatrix.trans) and neighbouring "
           "lanes' pairs exchanged (one shuffle), instead of four 2-byte "
           "stores per fragment (staged-stores takes precedence)">,
    Option<"stages", "stages", "int64_t", /*default=*/"3",
           "Slots of the staged k / w / u / g chunks (2, 3 or 4): chunk c "
           "+ stages - 1's cp.async copy is issued while chunk c is "
           "computed, so that stages - 1 chunks are in flight (3: measured "
           "faster than 2 on an H200, docs/GPU.md)">,
  ];
  let dependentDialects = ["gpu::GPUDialect", "nvgpu::NVGPUDialect",
                           "NVVM::NVVMDialect", "LLVM::LLVMDialect",
                           "scf::SCFDialect", "vector::VectorDialect",
                           "memref::MemRefDialect", "arith::ArithDialect",
                           "bufferization::BufferizationDialect",
                           "math::MathDialect"];
}

def DeltaNetGpuLowerChunkOutputToMmaChain
    : Pass<"deltanet-gpu-lower-chunk-output-to-mma-chain", "func::FuncOp"> {
  let summary = "A 16-bit deltanet.chunk_output as one gpu.launch whose "
                "warps chain q k^T into (.) v_new in mma.sync registers";
  let description = [{
    Runs before `deltanet-gpu-distribute-to-blocks`, on tensors. A
    `deltanet.chunk_output` whose `k`, `v_new` and `state` are bf16 or f16
    (`deltanet-narrow-stage-intermediates`) and whose `q` is a widened
    tensor of that type becomes a `gpu.launch` in FlashAttention-2's
    structure: one block per chunk and tile of `value-tile` value columns,
    `C / 16` warps, each owning 16 query rows:

    ```
    P = q k^T                      (A = q by ldmatrix, B = k [C][K]: ldmatrix)
    P = tril(P * exp(g_i - g_j)) * scale                  (in registers)
    O = (q * exp(g) * scale) state (B = state [K][BV]: ldmatrix.trans)
    O += P v_new                   (A = P's accumulators rounded to 16 bits,
                                    B = v_new [C][BV]: ldmatrix.trans)
    ```

    The tiles of P above a warp's rows are skipped with their products.
    q, k, v_new, the state and g are staged in shared memory with cp.async
    (one group, one barrier); q and k are read from the tensors the
    pipeline gathers them from (an elementwise copy / extf through a
    collapse_shape); o is written through the pipeline's scatter (an
    elementwise copy whose input map is dims and floordiv / mod pairs) as
    2-element stores, into the function's out-parameter where the scatter
    only fills one (`bufferization.materialize_in_destination`), else into
    a new buffer. Hand-written: upstream's vector / nvgpu lowerings take
    every product's operands from memory and cannot keep such a chain in
    registers.

    Left to the generic path (the reason reported as a match failure): f32
    `k`, `v_new` or `state`, a `q` that is not a widened 16-bit tensor,
    dynamic shapes, `C` or `K` not a multiple of 16, `C > 128`, `K > 256`,
    `V` not a multiple of 16 or of the value tile, more shared memory than
    227 KiB, an op already inside a block loop or kernel.
  }];
  let options = [
    Option<"valueTile", "value-tile", "int64_t", /*default=*/"0",
           "Value columns per block (a multiple of 16 dividing V); 0: the "
           "largest of 128 and 64 dividing V whose staged tiles fit in "
           "shared memory, else V">,
    Option<"rowPadding", "row-padding", "int64_t", /*default=*/"8",
           "Elements added to each row of the staged q, k, v_new and state "
           "(ldmatrix bank conflicts; a multiple of 8)">,
  ];
  let dependentDialects = ["gpu::GPUDialect", "nvgpu::NVGPUDialect",
                           "scf::SCFDialect", "vector::VectorDialect",
                           "memref::MemRefDialect", "arith::ArithDialect",
                           "bufferization::BufferizationDialect",
                           "math::MathDialect"];
}

def DeltaNetGpuLowerChunkPrologueToMmaChain
    : Pass<"deltanet-gpu-lower-chunk-prologue-to-mma-chain", "func::FuncOp"> {
  let summary = "A 16-bit chunk prologue (gated_kkt, tri_inv, wy_repr) as "
                "one gpu.launch whose warps keep their rows of every C x C "
                "matrix in mma.sync registers";
  let description = [{
    Runs before `deltanet-gpu-distribute-to-blocks`, on tensors. A
    `deltanet.wy_repr` whose `t` is a `deltanet.tri_inv` of a
    `deltanet.gated_kkt` (each read only by the next; the same `k`, `g`,
    `beta`) and whose `w` is bf16 or f16 (the products' precision,
    `deltanet-narrow-stage-intermediates`) becomes a `gpu.launch` with one
    block per chunk and `C / 16` warps, warp `i` owning rows `16 i ..
    16 i + 15` of each `C x C` matrix in m16n8 f32 accumulator fragments:

    ```
    A = tril(beta_i exp(g_i - g_j) (K K^T)_ij, -1)   (masked in registers)
    T = (I + A)^-1, blocked (no intermediate grows):
        each warp: its 16 x 16 diagonal block's inverse by the Neumann
        product (I - D)(I + D^2)(I + D^4)(I + D^8) (exact: D^16 = 0);
        log2(C / 16) merges of neighbouring blocks: T -= T (A_L T)
        (A_L: the pairs' lower-left blocks of A)
    w = (T diag(beta exp(g))) K;  u = (T diag(beta)) V
    ```

    (The Neumann product over all of C, used before, is unstable: its
    partial products are (I - A^(2^m)) (I + A)^-1, ~1e9 on correlated keys
    without decay.) Every product's A operand is the previous product's
    accumulators or a shared tile, B operands come from shared memory by
    `ldmatrix`; the WY products' operands are rounded to the 16-bit type.
    The inverse follows the `tri_inv`'s precision (its `precision`
    attribute, else `inverse-precision`): 16-bit operands for bf16 / f16,
    and for f32 each operand split into a 16-bit high part and the 16-bit
    rounding of its remainder, three products (hi hi + hi lo + lo hi, f32
    sums: ~2^-17 relative with bf16 parts); an i8 `tri_inv` is refused.
    `k`, `v` and `beta` are read where the decomposition's chunk gathers
    read them (the `[B, T, H, D]` inputs) when the operand is such a
    gather, so those f32 copies are not materialised; 16-bit `k` / `v`
    rows are staged with cp.async when a host-side test finds them 16-byte
    aligned (else a second launch with element loads). With
    `fuse-cumulative-decays`, when `g` is the decomposition's in-chunk
    cumulative sum of the decays' gather and its other readers come after
    the prologue, the kernel sums the chunk's `[B, T, HV]` decays itself (in
    the same order), uses them and stores them for those readers: the g
    gather and cumulative-sum kernels go.
    Hand-written: upstream's vector / nvgpu lowerings take every product's
    operands from memory (the generic prologue: A, each inverse level and
    T through shared memory in f32, barriers between the phases).

    Left to the generic path (the reason reported as a match failure): f32
    `w`, dynamic shapes, `C` other than 16, 32, 64, `K` or `V` not a
    multiple of 16 or above 128, a prologue already inside a block loop or
    kernel, a `tri_inv` / `gated_kkt` with other readers.
  }];
  let options = [
    Option<"rowPadding", "row-padding", "int64_t", /*default=*/"8",
           "Elements added to each row of the staged k, v and P "
           "(ldmatrix bank conflicts; a multiple of 8)">,
    Option<"inversePrecision", "inverse-precision",
           "::mlir::deltanet::TriInvPrecision",
           /*default=*/"::mlir::deltanet::TriInvPrecision::F32",
           "Precision of the inverse's products for a tri_inv without a "
           "precision attribute (the pipelines pass tri-inv-precision): "
           "f32 = 16-bit high and low parts, three products; bf16 / f16 = "
           "16-bit operands; i8 = not lowered here",
           [{::mlir::deltanet::triInvPrecisionOptionValues()}]>,
    Option<"fuseCumulativeDecays", "fuse-cumulative-decays", "bool",
           /*default=*/"true",
           "When g is the decomposition's in-chunk cumulative sum of the "
           "log decays' gather, compute it in this kernel from the [B, T, "
           "HV] decays and store it for the later stages (no gather and "
           "cumulative-sum kernels)">,
  ];
  let dependentDialects = ["gpu::GPUDialect", "nvgpu::NVGPUDialect",
                           "scf::SCFDialect", "vector::VectorDialect",
                           "memref::MemRefDialect", "arith::ArithDialect",
                           "bufferization::BufferizationDialect",
                           "math::MathDialect"];
}

def DeltaNetGpuPrefetchLoopOperands
    : Pass<"deltanet-gpu-prefetch-loop-operands", "func::FuncOp"> {
  let summary = "A block loop's per-iteration device-memory operands staged "
                "in shared memory one iteration ahead with cp.async";
  let description = [{
    Runs after bufferization (and deltanet-gpu-matmuls-to-mma-sync), before
    `deltanet-gpu-map-to-threads`. In an `scf.for` directly inside a
    block-mapped `scf.forall` (the state scan's chunk loop), a
    `memref.subview` of a device buffer whose offsets are the induction
    variable and loop invariants, read only by a staging `memref.copy` into
    shared memory and by linalg inputs (also through subviews), is copied
    into a shared buffer with upstream `nvgpu.device_async_copy` (pieces of
    16 bytes, L1 bypassed, where both layouts allow; else 8 or 4) one
    iteration ahead: the first iteration's copies before the
    loop, iteration i + 1's right after the last op of iteration i that
    reads the buffer (so they overlap the rest of the body), and a
    `cp.async.wait_group 0` thread loop (followed by the mapping's barrier)
    before the first reader. A staging copy's buffer is reused (hoisted out
    of the loop); other views get a new buffer, rows padded by
    `row-padding` elements (`transposed-padding` when a reader walks its
    columns), at most `max-bytes` of new shared memory per loop. Only views
    that are provably 4-byte aligned (the program's own buffers, or
    arguments under `global-alignment`) with whole 4-byte rows are taken;
    the others stay as they are.
  }];
  let options = [
    Option<"threads", "threads", "int64_t", /*default=*/"128",
           "Threads per block (issuing the copies)">,
    Option<"maxBytes", "max-bytes", "int64_t", /*default=*/"65536",
           "New shared memory per loop for views not staged before">,
    Option<"rowPadding", "row-padding", "int64_t", /*default=*/"4",
           "Elements added to each row of a new buffer (bank conflicts)">,
    Option<"transposedPadding", "transposed-padding", "int64_t",
           /*default=*/"-1",
           "Elements added to each row of a new buffer that a reader walks "
           "by columns (a transposed read; 1: no bank conflicts, copied in "
           "4-byte pieces; measured no faster on the H200 for the scan's "
           "k); -1: as row-padding">,
    Option<"globalAlignment", "global-alignment", "int64_t", /*default=*/"0",
           "Byte alignment promised for the function's memref arguments">,
  ];
  let dependentDialects = ["gpu::GPUDialect", "nvgpu::NVGPUDialect",
                           "NVVM::NVVMDialect", "scf::SCFDialect",
                           "memref::MemRefDialect", "arith::ArithDialect",
                           "affine::AffineDialect"];
}

def DeltaNetGpuDropBarriersAfterAsyncCopies
    : Pass<"deltanet-gpu-drop-barriers-after-async-copies"> {
  let summary = "Erase the barrier after a thread-mapped region that only "
                "issues cp.async copies";
  let description = [{
    Runs after `deltanet-gpu-map-to-threads`, which puts a barrier after every
    thread loop. A barrier right after an `scf.if` that only issues
    `nvgpu.device_async_copy` ops (and their groups and addresses: the
    copies of deltanet-gpu-prefetch-loop-operands) orders nothing: the
    copies' writes become visible only at the later `cp.async.wait_group` and
    its barrier, and the readers of the previous contents were ordered by
    the barrier before the copies.
  }];
  let dependentDialects = ["gpu::GPUDialect"];
}

def DeltaNetGpuCarryAccumulators : Pass<"deltanet-gpu-carry-accumulators"> {
  let summary = "Tensor-core accumulator fragments carried across a loop in "
                "registers instead of reloaded from memory";
  let description = [{
    Runs after `deltanet-gpu-map-to-threads`, on the fragments that
    `deltanet-gpu-matmuls-to-mma-sync mark-carried-accumulators=true` marked
    (`deltanet.carried_accumulator = [product, tile]` on the fragment's
    `vector.from_elements` of loads and on the stores of its final value).
    The state scan updates S (its accumulator C) in every chunk: each lane
    loads its fragment of S from shared memory, accumulates k^T v_new onto
    it and stores it back, and the next chunk loads the same elements
    again. Where the marked load and stores are directly in an `scf.for`'s
    body (the chunk loop), the stores write exactly the elements the load
    reads (same buffer, same indices: the lane owns them), the load comes
    first, and nothing else in the loop (at any depth) may write the
    buffer other than the stores of the same product, the fragment is
    carried as an `iter_args` value: only the first iteration loads it
    (an `scf.if` on the induction variable), the later ones take the value
    the previous iteration stored. The stores stay (the buffer is still
    read by other ops: `w S`, the final state). Ours because upstream's
    loop-carried vector forwarding (VectorToGPU, store-to-load forwarding,
    `scf` hoisting) works on whole-buffer vector transfers, not on a
    lane's fragment elements addressed by the thread id.
    The marks are removed (carried or not).
  }];
  let dependentDialects = ["scf::SCFDialect", "arith::ArithDialect",
                           "vector::VectorDialect"];
}

def DeltaNetGpuWorkgroupAllocsToDynamicShared
    : Pass<"deltanet-gpu-workgroup-allocs-to-dynamic-shared"> {
  let summary = "Workgroup memref.alloc inside gpu.launch -> views of the "
                "launch's dynamic shared memory";
  let description = [{
    Upstream lowers `memref.alloc` in workgroup memory inside a kernel to a
    `malloc` call, and static workgroup attributions are capped at 48 KiB by
    PTX. This pass packs every statically shaped workgroup `memref.alloc` of
    a `gpu.launch` into one `gpu.dynamic_shared_memory` buffer (16-byte
    aligned `memref.view`s) and sets the launch's dynamic shared memory size;
    the runtime raises the 48 KiB opt-in limit when needed. Allocations
    whose lifetimes (first to last use in the launch body) do not overlap
    and are separated by a `gpu.barrier` of the launch body share bytes
    (unless `reuse=false`): without the barrier, threads still reading the
    first could race with threads writing the second (upstream
    gpu-eliminate-barriers runs before this pass, while the allocations are
    distinct, and erases barriers between them). Placement is greedy, the
    largest allocation first, each at the lowest free offset; in a launch
    with 16-bit allocations two more orders (equal sizes latest first;
    longest-lived first) are tried and kept when strictly smaller (the bf16
    chunk prologue: 80144 -> 68880 bytes once its 16-bit rows were padded
    to 16 bytes for ldmatrix). Launches of 32-bit allocations keep the
    size order.
  }];
  let options = [
    Option<"reuse", "reuse", "bool", /*default=*/"true",
           "Let allocations with disjoint lifetimes share bytes">,
  ];
  let dependentDialects = ["gpu::GPUDialect", "memref::MemRefDialect",
                           "arith::ArithDialect"];
}

def DeltaNetGpuLowerVectors : Pass<"deltanet-gpu-lower-vectors"> {
  let summary = "Per-thread vector code to 1-D loads, stores and FMAs";
  let description = [{
    Applies upstream's progressive vector lowerings: `vector.contract` to
    outer products and `vector.fma`, transfer permutations to broadcasts and
    transposes, n-D transfers (after `convert-vector-to-scf` has unrolled
    them to 1-D) to `vector.load` / `vector.store`, multi-reductions,
    broadcasts, shape casts, transposes and masks to 1-D ops that the NVVM
    conversion handles.
  }];
  let dependentDialects = ["vector::VectorDialect", "arith::ArithDialect",
                           "memref::MemRefDialect"];
}

def DeltaNetGpuLowerBf16MmaSync : Pass<"deltanet-gpu-lower-bf16-mma-sync"> {
  let summary = "bf16 nvgpu.mma.sync (m16n8k16, f32 accumulators) -> "
                "nvvm.mma.sync";
  let description = [{
    Runs on the kernels (gpu.module) right before upstream's NVVM lowering.
    Each `nvgpu.mma.sync` with bf16 operands (`vector<4x2xbf16>`,
    `vector<2x2xbf16>`, `vector<2x2xf32>`, `mmaShape = [16, 8, 16]`, as
    `deltanet-gpu-matmuls-to-mma-sync` emits them) becomes an
    `nvvm.mma.sync` (`multiplicandAPtxType = #nvvm.mma_type<bf16>`, row x
    col) on the registers packed two bf16 per i32, which translates to
    `llvm.nvvm.mma.m16n8k16.row.col.bf16` (PTX
    `mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32`). The gap it
    fills: MLIR 22's `-convert-nvgpu-to-nvvm` rejects bf16 operands
    ("failed to deduce operand PTX types"); f16, tf32 and integer products
    are left to it.
  }];
  let dependentDialects = ["NVVM::NVVMDialect", "LLVM::LLVMDialect",
                           "vector::VectorDialect"];
}

def DeltaNetGpuAnnotateVectorAlignment
    : Pass<"deltanet-gpu-annotate-vector-alignment"> {
  let summary = "Alignment of vector loads and stores on shared memory";
  let description = [{
    Sets the `alignment` of `vector.load` / `vector.store` on shared memory
    carved from the 16-byte aligned dynamic shared memory to the largest
    power of two (up to the vector's size) that provably divides the address:
    a small divisibility analysis over the view offset, the subview offsets
    and the indices (constants, `+`, `*`, `mod`, `affine.apply`, thread-id
    arithmetic). NVPTX then emits `ld.shared.v2` / `v4`; LLVM alone sees only
    the element alignment. With `global-alignment`, views of the function's
    memref arguments (device buffers) are analysed the same way, their
    base taken to be aligned to that many bytes: `ld.global.v4` /
    `st.global.v4` instead of four scalar accesses. With
    `check-global-alignment` (the default) that is not a promise: in each
    `gpu.launch` with accesses that rely on it, the host computes
    `(address & (global-alignment - 1)) == 0` for the arguments they rely on
    (`memref.extract_aligned_pointer_as_index`) once per launch, and
    `versioning` says what it chooses between. `kernel` (the default): two
    launches of the kernel, the one with the aligned accesses given blocks
    only when the addresses are aligned (`aligned ? grid : 0` along x), a
    copy of it with only the alignment provable without the promise given
    blocks only when they are not (an empty grid launches nothing: the
    runtime skips it; an `scf.if` over two launches would make
    gpu-async-region synchronise the host after each). The two kernels are
    compiled separately: the aligned one is exactly the kernel of
    `check-global-alignment=false`, the other that of `global-alignment=0`
    (PTX byte-identical, checked with extract_ptx.py). `phase`: inside the
    kernel, each phase holding such accesses (the ops between two
    `gpu.barrier`s of a block) becomes one `scf.if` over the phase and a
    copy of it with element-aligned (scalar) accesses, its side-effect free
    address arithmetic left in front; a phase of more than
    `max-versioned-ops` ops is not copied: the phases of its nested regions
    are versioned the same way, its own accesses one by one
    (`max-versioned-ops=0`: every access, session 7's scheme). Measured on
    the H200 (docs/GPU.md, session 8): one branch per access made the
    decode kernel 3x slower (0.101 vs 0.032 ms), and both in-kernel forms
    make ptxas allocate for the two versions together (decode: 32
    registers and 34 KB of spills; tri_inv per phase 251 instead of 128
    registers): hence whole kernels. Without the check the caller promises
    the alignment, and a less aligned buffer gets a misaligned-address
    fault.
  }];
  let options = [
    Option<"globalAlignment", "global-alignment", "int64_t", /*default=*/"0",
           "Byte alignment of the memref arguments' base pointers that the "
           "aligned kernels assume (a power of two; 0: only the element's)">,
    Option<"checkGlobalAlignment", "check-global-alignment", "bool",
           /*default=*/"true",
           "Check the arguments' alignment at run time and fall back to an "
           "element-aligned copy of each kernel (or phase, see versioning) "
           "that relies on it (false: the caller promises it)">,
    Option<"versioning", "versioning", "std::string", /*default=*/"\"kernel\"",
           "What check-global-alignment versions: kernel (the launch on "
           "the host: an aligned kernel and an element-aligned one, each "
           "compiled on its own) or phase (in the kernel, each phase between "
           "barriers that holds such accesses; see max-versioned-ops)">,
    Option<"maxVersionedOps", "max-versioned-ops", "int64_t",
           /*default=*/"4096",
           "versioning=phase: largest phase (ops, nested ones included) "
           "versioned as a whole; larger ones are versioned in "
           "their nested phases and per access (0: every access on its "
           "own)">,
  ];
  let dependentDialects = ["vector::VectorDialect", "scf::SCFDialect",
                           "arith::ArithDialect", "memref::MemRefDialect"];
}

def DeltaNetGpuFuseElementwise : Pass<"deltanet-gpu-fuse-elementwise"> {
  let summary = "Fuse elementwise linalg producers into their consumers "
                "inside GPU blocks";
  let description = [{
    Upstream `linalg` elementwise fusion on tensors, also for producers with
    several users, restricted to ops inside block-mapped `scf.forall` loops:
    a cheap elementwise value is recomputed by each consumer instead of
    being stored in shared memory, synchronised and read back.
  }];
  let dependentDialects = ["linalg::LinalgDialect", "affine::AffineDialect"];
}

def DeltaNetGpuFuseIntoBlocks : Pass<"deltanet-gpu-fuse-into-blocks"> {
  let summary = "Host-level gathers and scatters into the block loops that "
                "read / produce their data";
  let description = [{
    Runs after the deltanet lowering, before
    `deltanet-gpu-distribute-linalg-to-blocks`. A host-level "layout cast"
    is a `linalg.generic` outside block loops with parallel loops only, one
    input, an output it does not read and a body of `arith.extf` /
    `arith.truncf` (the decomposed attention's gathers of q, k, v, beta into
    the f32 chunked layout `[B, HV, NC, C, *]`, and its scatter of o back to
    `[B, T, HV, V]`). Each would be its own kernel with a round trip through
    device memory.

    - `gathers`: a block-level `tensor.extract_slice` (directly in a
      block-mapped `scf.forall`, not in a loop inside it) of a gather, or of
      a `collapse_shape` of one (upstream's bubbling puts the slice above
      the reshape first), is replaced by the gather tiled to that slice
      (upstream `replaceExtractSliceWithTiledProducer`): the block reads
      its chunk of the bf16 argument and widens it into its own tile.
      Tiles above `max-gather-tile-bytes` (the state scan's
      whole-sequence slices) stay slices of the gather. A gather left
      without uses is erased; one still read elsewhere (k, by the scan)
      stays a kernel of its own. A block's gathered tile read only through
      a `collapse_shape` of unit dims or a `linalg.transpose` is gathered
      straight into that layout (one generic, unit dims reading index 0):
      it is then a plain elementwise producer that
      `deltanet-gpu-fuse-elementwise` fuses into its consumer (wy_repr's
      scaled k and v need no tile of their own), and the output stage's k
      is gathered into k^T without a k tile beside it.
    - `scatters`: `scatter(expand_shape(R))`, `R` the single-use result of
      a block loop that inserts one row `[i, 0, ...]` per block, is
      computed by each block on its row (upstream `getTiledImplementation`
      at the iteration tile that reads exactly that row; the scatter's map
      may be dims or `(t floordiv C, t mod C)` pairs over whole chunks, so
      a ragged last chunk is left alone); the loop's shared output becomes
      the scatter's destination. The output stage then writes o in bf16 and
      its final layout.
  }];
  let options = [
    Option<"gathers", "gathers", "bool", /*default=*/"true",
           "Recompute gathers' chunks in the blocks that read them">,
    Option<"scatters", "scatters", "bool", /*default=*/"true",
           "Compute a scatter of a block loop's result in its blocks">,
    Option<"gatherLayouts", "gather-layouts", "std::string",
           /*default=*/"\"no-broadcast\"",
           "Gather a block's tile straight into the layout its single user "
           "reads: all (unit-dim collapses and transposes), no-broadcast "
           "(not a collapse that an elementwise op reads with a broadcast), "
           "matmul (only collapses that a matmul reads, and transposes), "
           "none">,
    Option<"maxGatherTileBytes", "max-gather-tile-bytes", "int64_t",
           /*default=*/"32768",
           "Largest gather tile (bytes of its f32 result) a block recomputes "
           "(default: one chunk of 64 x 128; the state scan's slices of a "
           "whole sequence stay slices of the gather)">,
  ];
  let dependentDialects = ["affine::AffineDialect", "linalg::LinalgDialect",
                           "tensor::TensorDialect"];
}

def DeltaNetGpuSinkAccumulatorProducers
    : Pass<"deltanet-gpu-sink-accumulator-producers"> {
  let summary = "Inside GPU blocks, a matmul that produces another matmul's "
                "accumulator is computed right before it";
  let description = [{
    Runs on tensors, before bufferization. For a `linalg.matmul` /
    `linalg.batch_matmul` inside a block loop whose `outs` is the single-use
    result of another matmul of the same block (the output stage: `o = P
    v_new` accumulated onto `(q exp(g)) S`), the producer and the ops of the
    block that feed only it (the scaled q, its fill) move right before the
    consumer. Block temporaries live in shared memory from their producer
    to their last reader: computed first, the accumulator was alive during
    the whole intra-chunk product (q k^T, its mask), which set the output
    stage's shared-memory peak (120 KB, one block per SM at K = V = 128;
    86 KB after). Same ops, same accumulation order.
  }];
}

def DeltaNetGpuDistributeLinalgToBlocks
    : Pass<"deltanet-gpu-distribute-linalg-to-blocks"> {
  let summary = "linalg ops outside block loops -> scf.forall on GPU blocks";
  let description = [{
    After the deltanet lowering, linalg ops on tensors that are not inside a
    block-mapped `scf.forall` (the decomposed attention's gathers, scatters
    and cumulative decays) are tiled by 1 along up to three of their
    non-unit parallel loops (all but the innermost parallel loop), mapped to
    `#gpu.block<x/y/z>` (the loop with the most blocks on x: y and z hold at
    most 65535 blocks, more there is an error); the rest of each op stays in
    its block for `deltanet-gpu-map-to-threads`. A block that would hold
    fewer than `min-block-elements` iterations (the attention's gathers of
    q / k / v: one row of 128 features) also takes a tile of the innermost
    grid loop (the largest divisor of its extent within
    `min-block-elements`; e.g. 16 tokens x 128 features), so that each
    thread has runs of consecutive elements to load and store (coalesced,
    vectorised) instead of one 2-byte element. A reduction counts its
    outputs against `min-reduction-outputs` instead (the cumulative decays,
    64 outputs per chunk: 8 chunks per block, every thread busy). A `tensor.pad` outside
    block loops (the summary's values `[0 | v]`) is first decomposed into a
    fill and a `linalg.copy` into a slice of it (upstream
    `DecomposePadOpPattern`, then ours), so that neither is a host-level
    strided copy run by a single block.
  }];
  let options = [
    Option<"minBlockElements", "min-block-elements", "int64_t",
           /*default=*/"2048",
           "Iterations a block should at least hold (128 threads x 16): "
           "smaller blocks take a tile of the innermost grid loop; 0 or 1: "
           "tile every grid loop by 1">,
    Option<"minReductionOutputs", "min-reduction-outputs", "int64_t",
           /*default=*/"512",
           "Outputs (parallel iterations) a block of a reduction should at "
           "least hold (128 threads x runs of 4; the cumulative decays: 8 "
           "chunks per block instead of 1, all threads busy); 0 or 1: tile "
           "every grid loop by 1">,
  ];
  let dependentDialects = ["scf::SCFDialect", "tensor::TensorDialect",
                           "gpu::GPUDialect", "affine::AffineDialect"];
}

def DeltaNetGpuHostAllocsToDevice : Pass<"deltanet-gpu-host-allocs-to-device",
                                         "func::FuncOp"> {
  let summary = "Host-level memref.alloc -> gpu.alloc / gpu.dealloc";
  let description = [{
    Runs after `deltanet-gpu-map-to-threads`: the buffers that host code
    allocates (temporaries between kernels) live in device memory, freed
    before the function returns. Host code that would touch device memory
    itself (a copy, load, store or linalg op outside every kernel) is an
    error naming the op.
  }];
  let dependentDialects = ["gpu::GPUDialect"];
}

def DeltaNetGpuUntieSharedInits : Pass<"deltanet-gpu-untie-shared-inits"> {
  let summary = "One tensor.empty / zero fill per destination operand";
  let description = [{
    Runs right before `eliminate-empty-tensors`. CSE merges identical
    `tensor.empty` and `linalg.fill` ops, so the lowering of an op with two
    results (e.g. `deltanet.wy_repr`: `w = T kbg` and `u = T vb`, each a
    matmul into a zero fill) ends up with one fill feeding both matmuls'
    `outs`. Empty-tensor elimination then ties that fill to the first
    result's destination, and one-shot bufferization, which orders the
    `tensor.parallel_insert_slice` ops of an `scf.forall` terminator
    sequentially, computed the second matmul in place in the first
    result's destination slice and copied it to its own destination only
    after the first result had overwritten it: both results were `w`
    (the GPU attention's relative error of 1.0).

    This pass gives every destination (`outs`) use of a `tensor.empty`, or
    of a `linalg.fill` of one, beyond the first its own clone, so that each
    result is computed in its own destination and no buffer is shared
    between two results.
  }];
  let dependentDialects = ["linalg::LinalgDialect", "tensor::TensorDialect"];
}

#endif // DELTANET_CODEGEN_GPU_PASSES_TD
