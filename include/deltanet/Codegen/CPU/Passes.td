//===- Passes.td - CPU codegen passes ----------------------*- tablegen -*-===//
//
// Declares the passes that turn linalg on tensors into fast loops for CPUs.
//
//===----------------------------------------------------------------------===//

#ifndef DELTANET_CODEGEN_CPU_PASSES_TD
#define DELTANET_CODEGEN_CPU_PASSES_TD

include "mlir/Pass/PassBase.td"

def DeltaNetCpuVectorizeIntegerMatmuls
    : Pass<"deltanet-cpu-vectorize-integer-matmuls"> {
  let summary = "Lower INT8 batched matmuls to integer dot-product vector code";
  let description = [{
    Rewrites every `linalg.batch_matmul` of `i8 x i8 -> i32` on tensors with
    static matrix dims (N a multiple of 4) into the kernel shape of integer
    dot-product units:

    * the right operand is repacked to the VNNI layout `Bv[b, p, 2n + t] =
      B[b, 2p + t, n]` (K padded to even with zeros), so that the two
      products of a pair of `k` sit next to each other and W columns are
      one contiguous vector;
    * for every batch and row, `scf.for` over pairs `p` accumulates W i32
      lanes (W = 16, 8 or 4 dividing N) at once: the pair `(A[m, 2p],
      A[m, 2p+1])` sign-extended to i16 and broadcast, times
      `Bv[p, 2n : 2(n+W)]`
      sign-extended to i16, summed pairwise into the accumulator.

    The pairwise multiply-add is written portably (sign-extending
    multiplies, an even/odd `vector.shuffle` sum, the accumulation): LLVM's
    X86 backend selects it as the integer dot-product instruction
    `vpdpwssd` on every CPU with AVX-512 VNNI or AVX-VNNI (Cascade Lake and
    later, Zen 4 and later, Alder Lake), 32 products and their sums per
    512-bit instruction, and as `vpmaddwd` + `vpaddd` on AVX2 and AVX-512
    CPUs without VNNI. `test/Codegen/CPU/vectorize-integer-matmuls-vnni.mlir`
    checks the assembly for both. Other integer matmuls are left alone.

    With `unsigned-signed-dots`, groups of 4 rows are interleaved instead
    (`Bv[b, q, 4n + t] = B[b, 4q + t, n]`, K padded to a multiple of 4) and
    each step is an unsigned x signed byte dot product of 4 per lane
    (`extui` / `extsi` to i32, `muli`, `vector.multi_reduction <add>` over
    the 4), which deltanet-cpu-lower-byte-dot-products turns into AVX512_VNNI
    `vpdpbusd` after bufferization (64 byte products per 512-bit
    instruction, twice `vpdpwssd`'s): the 4 bytes of A are offset by 128 (an
    xor of the sign bit: unsigned 1..255 for the symmetric quantisation's
    -127..127) and broadcast, and `128 * sum_k B[k, n]` (computed once per
    batch) is subtracted from the accumulator, so the i32 result is exactly
    the default's. The packing (both layouts) is explicit vector code: `G`
    row loads and `G - 1` `vector.interleave` per G rows and W columns.

    Why not upstream x86vector's `populateVectorContractToPackedTypeDotProductPatterns`:
    its INT8 lowering emits `x86vector.avx.dot.i8` = `vpdpbssd` (signed x
    signed bytes, AVX-VNNI-INT8: Sierra Forest, Arrow Lake, Diamond Rapids),
    which AVX-512 VNNI CPUs such as Sapphire Rapids or Zen 4 do not have
    (they have `vpdpbusd`, unsigned x signed, and `vpdpwssd`); x86vector
    has no `vpdpbusd` op (deltanet-cpu-lower-byte-dot-products emits the
    LLVM intrinsic).
  }];
  let options = [
    Option<"unsignedSignedDots", "unsigned-signed-dots", "bool",
           /*default=*/"false",
           "Products as unsigned x signed byte dot products of 4 per lane "
           "(A offset by 128, corrected by B's column sums: vpdpbusd after "
           "deltanet-cpu-lower-byte-dot-products) instead of pairwise i16 "
           "multiply-adds">
  ];
  let dependentDialects = [
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::vector::VectorDialect"
  ];
}

def DeltaNetCpuLowerByteDotProducts
    : Pass<"deltanet-cpu-lower-byte-dot-products"> {
  let summary = "Unsigned x signed byte dot products of 4 as AVX512_VNNI "
                "vpdpbusd";
  let description = [{
    Rewrites `vector.multi_reduction <add>` over the inner dim of a
    `W x 4` product `muli(extui(x), extsi(y))` of i8 vectors into i32
    (W = 16, 8 or 4), accumulated into a `vector<W x i32>`: the form
    `deltanet-cpu-vectorize-integer-matmuls{unsigned-signed-dots}` emits,
    into one call of `llvm.x86.avx512.vpdpbusd.{512,256,128}` on the
    operands viewed as `4W` bytes (the unsigned operand first). Written by
    hand because upstream has no op for it (x86vector's INT8 dot product is
    `vpdpbssd`, AVX-VNNI-INT8, which AVX-512 VNNI CPUs such as Sapphire
    Rapids lack, and LLVM selects `vpdpbusd` from generic IR only in whole
    reductions). Runs after bufferization: the intrinsic call has no
    memory-effect model, which ownership-based buffer deallocation needs.
    The code then needs AVX512_VNNI (and AVX512VL for W < 16). No
    overflow: each 4-product sum is exact in i32 and the accumulation
    wraps like `arith.addi`.
  }];
  let dependentDialects = [
    "::mlir::LLVM::LLVMDialect",
    "::mlir::vector::VectorDialect"
  ];
}

def DeltaNetCpuVectorizeBF16Matmuls
    : Pass<"deltanet-cpu-vectorize-bf16-matmuls"> {
  let summary = "Lower bf16 batched matmuls to AVX512_BF16 dot products";
  let description = [{
    Rewrites every statically shaped `linalg.batch_matmul` of `bf16 x bf16
    -> f32` on tensors (K even, N a multiple of 4) into the VNNI form that
    upstream x86vector lowers to `vdpbf16ps` (16 f32 lanes, each summing
    two bf16 products, per 512-bit instruction):

    * the left operand is viewed as pairs of k (`tensor.expand_shape` to
      `[B, M, K/2, 2]`), the right operand packed to the VNNI layout
      `Bv[b, p, n, t] = B[b, 2p + t, n]` by a `linalg.generic` on B viewed
      as pairs of rows, tiled and vectorised (upstream) to two row loads and
      one `vector.interleave` per pair and W columns; when B is an
      elementwise `arith.truncf` of an f32 tensor, that tensor is read and
      each row rounded whole in the pack (no bf16 copy of B). Upstream
      `linalg.pack`, lowered to `expand_shape` + `linalg.transpose`, became
      scalar 16-bit moves here (12% of a bf16 tri_inv);
    * the contraction over `(b, m, n, p, t)` is tiled to `1 x rows x cols`
      output tiles (largest divisors of M and N, whole K), each vectorised
      into one `vector.contract` (upstream `linalg::vectorize`, then
      `populateVectorReductionToContractPatterns` and
      `populateFoldArithExtensionPatterns`: bf16 operands, f32 accumulator);
    * the contraction is unrolled (upstream vector unrolling, reduction
      dims outermost) to one pair of k times `1 x 1 x W` accumulators (W =
      16, 8 or 4 dividing N), with its reads and writes cut to the same
      pieces;
    * upstream `populateVectorContractToPackedTypeDotProductPatterns` turns
      each piece into a broadcast of the A pair and an
      `x86vector.avx512.dot`, i.e. `llvm.x86.avx512bf16.dpbf16ps.{128,256,512}`.

    The generated code needs a CPU with AVX512_BF16 (Cooper Lake, Sapphire
    Rapids and later, Zen 4 and later) and `convert-vector-to-llvm` with
    `enable-x86vector`; `deltanet-cpu-flatten-vector-transfers` after
    bufferization turns the pieces' reads into single vector loads.
    Numerics: bf16 products are exact in f32 either way; `vdpbf16ps` adds
    the two products of a pair to the accumulator in its own order and
    flushes f32 denormals to zero, so results differ from the widened f32
    FMAs in the last bits. Other matmuls are left alone.
  }];
  let options = [
    Option<"rows", "rows", "int64_t", /*default=*/"8",
           "Output rows per register tile (>= 1; the largest divisor of M "
           "not above it)">,
    Option<"cols", "cols", "int64_t", /*default=*/"32",
           "Output columns per register tile (>= 1; the largest divisor of "
           "N not above it)">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::vector::VectorDialect",
    "::mlir::x86vector::X86VectorDialect"
  ];
}

def DeltaNetCpuFlattenVectorTransfers
    : Pass<"deltanet-cpu-flatten-vector-transfers"> {
  let summary = "Flatten n-D vector transfers of contiguous memory to 1-D";
  let description = [{
    Applies upstream's `populateFlattenVectorTransferPatterns` and
    `populateVectorTransferDropUnitDimsPatterns` on buffers: a transfer of
    `vector<1x1x16x2xbf16>` whose trailing dims are contiguous in its memref
    becomes one `vector<32xbf16>` transfer of a collapsed view, hence one
    vector load, instead of 16 transfers of its innermost `vector<2xbf16>`
    rows. The CPU pipeline runs it after bufferization when bf16 matmuls
    are lowered to dot products (`deltanet-cpu-vectorize-bf16-matmuls`).
  }];
  let dependentDialects = [
    "::mlir::memref::MemRefDialect",
    "::mlir::vector::VectorDialect"
  ];
}

def DeltaNetCpuVectorizeElementwise
    : Pass<"deltanet-cpu-vectorize-elementwise"> {
  let summary = "Tile elementwise linalg.generic ops to rows and vectorise "
                "them";
  let description = [{
    Tiles every `linalg.generic` on tensors with a static innermost
    loop whose operands are indexed by the identity map or a broadcast of it
    (a projection keeping the loop order: per-row / per-column scales) and
    whose loops are all parallel or reduce with a max / min (whose result
    does not depend on the order: INT8 quantisation's max-abs scales; sums
    are left alone) (masks, the identity, negations, additions, the INT8
    quantise / dequantise: `linalg.index` in the body is fine) to one row of the innermost dimension per `scf.for` iteration
    (upstream `TilingInterface` tiling), and vectorises each row (upstream
    `linalg::vectorize`; `linalg.index` becomes `vector.step`). Without it
    these ops become scalar loops, and LLVM's loop vectoriser leaves short
    rows with index-dependent selects scalar: the strictly lower mask of
    `tri_inv` alone took a third of its time. Rows longer than
    `max-row-length` elements are left to the scalar loops (the vector
    would not fit the register file). Outer dimensions may be dynamic (a
    dynamic `tri_inv` batch): they are tiled by 1 like static ones, so every
    row is still a static vector.

    A vectorised `maximumf` reduction of `absf(x)` (f32) along a dim longer
    than 1 (INT8 quantisation's per-row scale) then becomes an integer max
    of the magnitudes' bits and one `maximumf` with the accumulator: the same
    value (sign-cleared floats order like their bits, NaNs propagate), but
    `vpmaxsd` and shuffles instead of the scalar compare chains x86 gets for
    the NaN-propagating float max reduction.
  }];
  let options = [
    Option<"maxRowLength", "max-row-length", "int64_t", /*default=*/"256",
           "Longest innermost dimension that is vectorised whole (>= 1)">
  ];
  let dependentDialects = [
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::vector::VectorDialect"
  ];
}

def DeltaNetCpuVectorizeTransposes
    : Pass<"deltanet-cpu-vectorize-transposes"> {
  let summary = "Transposes of the two innermost dims as square vector "
                "tiles lowered to shuffles";
  let description = [{
    Tiles every statically shaped f32 `linalg.transpose` on tensors that
    swaps its two innermost dimensions (the others in place), both of them
    multiples of `tile`, to `tile x tile` blocks (upstream `TilingInterface`
    tiling; unit tiles of the outer dimensions) and vectorises each block
    (upstream `linalg::vectorize`): one `vector.transfer_read` of the
    block's rows, a `vector.transpose` and one `vector.transfer_write`. The
    transposed read becomes a row read and a transpose (upstream
    transfer permutation-map lowering), and with `tile` = 16 the transpose
    becomes the 16 x 16 shuffle network (upstream
    `VectorTransposeLowering::Shuffle16x16`: AVX-512 unpack / permute
    instructions). Without it the transpose is a scalar loop that LLVM
    vectorises into one 16-lane gather per output vector (the chunk op's
    `k^T`, 3% of its time). Other transposes are left alone; the values
    moved are the same.
  }];
  let options = [
    Option<"tile", "tile", "int64_t", /*default=*/"16",
           "Rows and columns of the square blocks (>= 1; 16 = AVX-512's "
           "f32 lanes: the 16 x 16 shuffle network; other sizes: one flat "
           "shuffle per block, upstream's Shuffle1D)">
  ];
  let dependentDialects = [
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::vector::VectorDialect"
  ];
}

def DeltaNetCpuVectorizeMatmuls : Pass<"deltanet-cpu-vectorize-matmuls"> {
  let summary = "Tile batched matmuls to register tiles and vectorise them";
  let description = [{
    Tiles every statically shaped `linalg.batch_matmul` on tensors to one
    matrix row per iteration (`scf.for` over batch and rows, upstream
    `TilingInterface` tiling) and vectorises each row product into a
    `vector.contract` (upstream `linalg::vectorize`). The contraction is
    later lowered to outer products over the unit-stride output row, i.e.
    fused multiply-adds on full SIMD vectors, instead of scalar loops that
    LLVM's loop vectoriser declines for short trip counts. Mixed-precision
    matmuls (bf16 x bf16 -> f32) get their operands widened first, which is
    the same computation (batch_matmul extends them before multiplying).
    The batch dimension may be dynamic (a dynamic `tri_inv` batch, or its
    smaller last tile): it is tiled by 1, so the register tiles are the
    same static ones under a loop to the batch size. Matmuls with a dynamic
    M or N are left alone.

    Dynamic K (forward substitution's rows, `[B, 1, i] x [B, i, C]`): the
    static M x N register tiles as above, each an `scf.for` over K in steps
    of 1 (upstream `scf::tileUsingSCF`) whose step is a static contraction
    (upstream `linalg::vectorize`), the accumulator's read and write hoisted
    out of the loop (upstream `hoistLoopInvariantSubsets`): it is carried in
    vector registers. The multiply-adds per output element run over k in
    order. Such a tile also covers several matrices of a static batch when
    M is below `rows` (`rows / M`, the largest divisor of the batch not
    above it), so that its accumulator chains are independent: forward
    substitution's row is one chain per accumulator, latency-bound with one
    matrix per tile.

    Register tiling: each tile is `rows` rows of the output (fewer when M is
    smaller or `rows` does not divide it: the largest divisor of M not above
    `rows`), so the outer-product lowering keeps a `rows x N` block of
    accumulators in vector registers and loads each row of the right operand
    once per `rows` rows instead of once per row. `rows = 1` is the previous
    row-by-row scheme.

    A `linalg.fill` producing a matmul's accumulator is fused into its tiles
    (upstream `tileConsumerAndFuseProducersUsingSCF`): once vectorised, the
    tile's accumulator starts as a constant zero vector, and no fill pass
    over the output (nor its reload) remains.

    Tile order: row tiles outermost, unless the right operand (one batch
    element) is larger than `columns-outer-bytes`: then the column tiles
    are outermost (upstream tiling's interchange), so that one `K x cols`
    panel of the right operand stays in the L1 cache while every row tile
    uses it, instead of the whole right operand streamed from L2 once per
    row tile (the chunk state scan's and chunk_output's `w S` / `q S`,
    S = 128 x 128 f32 = 64 KiB: 8 passes over S become one). The left
    operand is then re-read once per column tile, `cols / rows` times less
    traffic. Each tile computes the same sums either way (bitwise identical
    results).

    Reduction loop: a tile whose K is deeper than `reduction-step` is an
    `scf.for` over K in steps of `reduction-step` carrying its accumulator
    vector (f32 contractions of operands read whole from tensors); each
    step is one `rows x reduction-step` by `reduction-step x cols`
    contraction. The multiply-adds and their order are unchanged (bitwise
    identical results); the code is one step's outer products instead of
    K of them unrolled per tile, which kept the chunk op's loop body
    (~53,000 instructions) from staying in the instruction cache. Default
    8 (session 12; 16 before): the chunk op 1.00-1.07x faster than with
    16, bitwise identical outputs, tri_inv unchanged (docs/Performance.md).
  }];
  let options = [
    Option<"rows", "rows", "int64_t", /*default=*/"8",
           "Output rows per register tile (>= 1)">,
    Option<"cols", "cols", "int64_t", /*default=*/"32",
           "Output columns per register tile (>= 1; the largest divisor of "
           "N not above it)">,
    Option<"columnsOuterBytes", "columns-outer-bytes", "int64_t",
           /*default=*/"49152",
           "Column tiles outermost for right operands larger than this many "
           "bytes per batch element (default: the 48 KiB L1 data cache of "
           "the measured AVX-512 Xeon); 0 = always, -1 = never">,
    Option<"reductionStep", "reduction-step", "int64_t", /*default=*/"8",
           "Register tiles with a deeper reduction (K) loop over it in "
           "steps of this many (the largest divisor of K not above it), "
           "the accumulators carried in registers; 0 = K unrolled whole">
  ];
  let dependentDialects = [
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::vector::VectorDialect"
  ];
}

def DeltaNetCpuInterchangeReductions
    : Pass<"deltanet-cpu-interchange-reductions"> {
  let summary = "Move reduction loops of linalg.generic ops outward for CPU "
                "vectorisation";
  let description = [{
    Permutes the iteration space of every `linalg.generic` whose innermost
    loop is a reduction so that the parallel dimension indexing the
    contiguous (last) dimension of its output becomes innermost. After
    `convert-linalg-to-loops`, matmuls then have the unit-stride form
    `C[i, j] += A[i, k] * B[k, j]` with `j` innermost, which LLVM's loop
    vectoriser turns into SIMD code without reassociating floating-point
    sums.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def DeltaNetCpuCopiesToLinalg : Pass<"deltanet-cpu-copies-to-linalg"> {
  let summary = "Rewrite strided memref.copy into linalg.copy";
  let description = [{
    `memref.copy` between non-contiguous memrefs (subviews, as bufferization
    produces for slices) lowers to a call of the generic `memrefCopy` runtime
    function, which copies element by element through a descriptor walk.
    This pass rewrites such copies into `linalg.copy`, which
    `convert-linalg-to-loops` turns into plain loops that LLVM vectorises.
    Copies between contiguous identity-layout memrefs are left alone (they
    become `memcpy`).
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def DeltaNetCpuApproximateExp : Pass<"deltanet-cpu-approximate-exp"> {
  let summary = "Rewrite f32 math.exp into inline polynomial code";
  let description = [{
    Applies upstream MLIR's polynomial approximation of `math.exp`
    (`populateMathPolynomialApproximationPatterns`, range reduction to
    `2^n * exp(r)` and a minimax polynomial; a few ulp of error in f32)
    instead of lowering it to a call of libm's scalar `expf`. The decay
    factors of the chunk stages (`exp(g_i - g_j)` for every pair of a chunk)
    then vectorise with the loops around them; with libm calls they took
    about a fifth of the chunk op's time.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::math::MathDialect",
    "::mlir::vector::VectorDialect"
  ];
}

def DeltaNetCpuParallelizeHeads : Pass<"deltanet-cpu-parallelize-heads"> {
  let summary = "Distribute independent heads and matrices over an scf.forall";
  let description = [{
    Coarse-grained parallelism for several cores, before the target-neutral
    lowering:

    * `deltanet.chunk_gated_delta_rule` and
      `deltanet.recurrent_gated_delta_rule` become an `scf.forall` over
      (batch, value head); each iteration runs the op on its slices
      (`B = 1`, `H = HV = 1`; value head `j` reads q/k head `j / (HV / H)`)
      and inserts its `o` and final state with `tensor.parallel_insert_slice`;
    * with `matrix-tile` > 0, a batched `deltanet.tri_inv` becomes an
      `scf.forall` over tiles of that many matrices (upstream
      `scf::tileUsingSCF` with a forall loop, through the op's
      `TilingInterface`).

    Iterations share no data and no reduction crosses them, so the results
    are bitwise identical for any number of threads. The CPU pipeline
    always distributes the heads (one head's working set at a time is also
    faster on one core) and tri_inv tiles when `num-threads` is not 1;
    after bufferization the forall becomes an `scf.for`
    (`scf-forall-to-for`, one thread) or `scf.parallel`
    (`scf-forall-to-parallel`) and then an OpenMP parallel loop
    (`convert-scf-to-openmp`).
  }];
  let options = [
    Option<"matrixTile", "matrix-tile", "int64_t", /*default=*/"0",
           "tri_inv matrices per forall iteration (0 = leave tri_inv alone)">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def DeltaNetCpuInlineAllocaScopes : Pass<"deltanet-cpu-inline-alloca-scopes"> {
  let summary = "Inline memref.alloca_scope regions that allocate no stack";
  let description = [{
    `convert-scf-to-openmp` wraps every parallel loop body in a
    `memref.alloca_scope`, whose region must remain a single block, so the
    loops inside the body cannot be lowered to control flow afterwards.
    Upstream's canonicalization inlines such a scope only when it contains
    no op that might allocate on the stack, and counts every op without
    memory-effect information (e.g. the `func.call` of the buffer
    deallocation helper) as one. This pass inlines scopes (without results,
    single block) that contain no `memref.alloca` / `llvm.alloca`: without
    stack allocations the scope has nothing to release.
  }];
}

def DeltaNetCpuRecordOutParamsNoAlias
    : Pass<"deltanet-cpu-record-out-params-noalias"> {
  let summary = "Record which LLVM arguments of a function will be its "
                "out-params' data pointers";
  let description = [{
    First half of marking out-params `noalias`, on every `func.func` in
    the operation. A function whose results
    upstream `buffer-results-to-out-params` (with `add-result-attr`) turned
    into arguments writes them through pointers that LLVM must assume may
    alias the inputs: every store to `o` or the state may change what the
    next load of q / k / v reads, which keeps loads from moving across
    stores (a returned result, malloc'd inside, has no such doubt).
    The out-params contract already excludes overlap with an input, so the
    aligned (data) pointer of each can be LLVM `noalias`. Upstream
    `convert-func-to-llvm` drops the argument attributes of memrefs that it
    expands into several arguments, so this pass, before it, records the
    positions those pointers will have (upstream's own signature
    conversion, default options, as the CPU pipeline runs it) in the
    function attribute `deltanet.noalias_arguments`, with the expected
    argument count; `deltanet-cpu-apply-out-params-noalias` then sets
    `llvm.noalias` on them.
  }];
}

def DeltaNetCpuApplyOutParamsNoAlias
    : Pass<"deltanet-cpu-apply-out-params-noalias"> {
  let summary = "Mark the recorded out-param data pointers llvm.noalias";
  let description = [{
    Second half of marking out-params `noalias` (see
    `deltanet-cpu-record-out-params-noalias`), after
    `convert-func-to-llvm`, on every `llvm.func` in the operation: sets `llvm.noalias` on the arguments that
    `deltanet.noalias_arguments` lists when the function has the recorded
    number of arguments (the C-interface wrapper, which inherits the
    attributes but takes one pointer per memref, is left alone), and
    removes the two attributes from every function. A recorded argument
    that is not a pointer is an error.
  }];
}

def DeltaNetCpuPackWorkspaces : Pass<"deltanet-cpu-pack-workspaces"> {
  let summary = "One heap allocation for the static-shape buffers that a "
                "block allocates and frees itself";
  let description = [{
    In every block, the `memref.alloc` ops of static shape and identity
    layout whose only deallocation is one `memref.dealloc` in the same block
    (the chunk loop's workspaces once `buffer-loop-hoisting` has moved them
    before the loop: gathered q / k / v rows, decays, stage tiles, tri_inv's
    blocks) become `memref.view`s of one `i8` buffer, allocated where the
    first of them was and freed where the last of them was, each view at an
    offset aligned to `alignment` bytes (or the alloc's own, if larger),
    `stagger` bytes apart.
    One malloc / free per block instead of one per buffer, and one base
    pointer live across the loop instead of one per workspace (hoisting
    alone kept ~30 pointers live through the chunk loop: more spills, and it
    measured 1-12% slower at H = 16, docs/Performance.md, session 17).
    Buffers a loop yields, returned results and buffers freed conditionally
    or elsewhere are left alone; so are blocks with fewer than two
    candidates, and candidates above `max-bytes`.
  }];
  let options = [
    Option<"alignment", "alignment", "int64_t", /*default=*/"64",
           "Byte alignment of every view's offset in the packed buffer "
           "(and of the buffer)">,
    Option<"maxBytes", "max-bytes", "int64_t", /*default=*/"262144",
           "Largest buffer packed, in bytes (larger ones keep their own "
           "allocation)">,
    Option<"stagger", "stagger", "int64_t", /*default=*/"64",
           "Bytes left free after each view, so that buffers whose sizes "
           "are multiples of 4 KiB do not all start at the same offset "
           "modulo 4 KiB (rounded up to `alignment`). 0 packed the chunk "
           "op's workspaces back to back: 8% slower at H = 16 (L1 set "
           "conflicts / 4K aliasing between a product's operands); 64-320 "
           "measured alike, as fast as separate mallocs (docs/"
           "Performance.md, session 17)">,
  ];
  let dependentDialects = ["mlir::memref::MemRefDialect",
                           "mlir::arith::ArithDialect"];
}

def DeltaNetCpuPrefetchGatherRows
    : Pass<"deltanet-cpu-prefetch-gather-rows"> {
  let summary = "Prefetch the rows that a loop's next iteration gathers, one "
                "cache line per inner iteration of its products";
  let description = [{
    For every `scf.for` whose body gathers rows of a buffer defined outside
    it (a `linalg.copy`, or a `linalg.generic` that only yields its input,
    from a static-size `memref.subview`, sizes and strides from outside the
    loop, whose offsets are computed from the induction variable: the chunk
    loop's q / k / v / g / beta gathers of
    `deltanet.chunk_gated_delta_rule`), this pass emits `memref.prefetch`
    ops (LLVM's `llvm.prefetch`) of the lines that the *next* iteration
    gathers (the current one's on the last iteration). They go into the
    innermost loops of the `products` largest register-tiled products of
    the body (loop nests with constant bounds around a `vector.contract`),
    gathered source `i` into product `i mod products`, one line (or
    `ceil(lines / iterations)` lines) per inner iteration: the misses are
    spread over the multiply-adds instead of stalling the copy loop, and
    never more than a few are in flight. A product with fewer than
    `lines / max-lines-per-iteration` inner iterations gets no source (with
    INT8 stage products or `vdpbf16ps`, `chunk-precision=i8` or
    `bf16-dot-products`, the largest such nests are small and nothing is
    prefetched). The next views are the
    gather's `memref.subview` with the offsets recomputed (pure ops cloned)
    for the next induction value.

    Gathered buffers of a static size below `min-source-bytes` are left
    alone: they stay cached across the iterations (g and beta, `[B, T, H]`:
    64 / 256 KiB at H = 4 / 16), and prefetching them measured slower.

    Lines: every index of the view's outer dims is a row; a unit-stride
    innermost dim has `line-bytes` per line, any other innermost dim one
    element per line. Run after bufferization (on memrefs), while the
    products are still `vector.contract`s. Prefetches do not change any
    value: results are bitwise identical.
  }];
  let options = [
    Option<"products", "products", "int64_t", /*default=*/"3",
           "products (largest inner iteration counts) that host prefetches; "
           "0 = off">,
    Option<"locality", "locality", "int64_t", /*default=*/"3",
           "llvm.prefetch locality hint: 3 = all cache levels (prefetcht0) "
           "... 0 = non-temporal">,
    Option<"lineBytes", "line-bytes", "int64_t", /*default=*/"64",
           "cache line size in bytes">,
    Option<"minSourceBytes", "min-source-bytes", "int64_t",
           /*default=*/"1048576",
           "gathered buffers of a static size below this stay cached across "
           "the iterations and are not prefetched (default: 1 MiB, this "
           "CPU's L2 per core)">,
    Option<"maxLinesPerIteration", "max-lines-per-iteration", "int64_t",
           /*default=*/"2",
           "a source is prefetched only where its product has enough inner "
           "iterations for at most this many lines each (fewer: bursts of "
           "misses, measured slower)">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect"];
}

#endif // DELTANET_CODEGEN_CPU_PASSES_TD
