//===- LowerChunkStateScanToMmaChain.cpp - 16-bit scan as an mma chain ----===//
//
// A 16-bit deltanet.chunk_state_scan (k, w in bf16 / f16) -> one gpu.launch
// in which every warp keeps 16 columns of the state, transposed (S^T, 16 x
// K), in m16n8 f32 accumulator fragments across the chunk loop, and feeds
// each product's A operand from the previous product's accumulators
// (FlashAttention-2's trick; PTX ISA, "Matrix Fragments for mma.m16n8k16":
// an m16n8 f32 fragment pair rounded to 16 bits is the m16n8k16 A fragment).
//
// Hand-written because upstream cannot express this: its vector / nvgpu
// lowerings (and ours in MatmulsToMmaSync.cpp) take every product's operands
// from memory, so the generic scan round-trips S and v_new through shared
// memory with a barrier between each of its phases.
//
// The fragment helpers (lane coordinates, cp.async copies, ldmatrix /
// mma.sync, accumulators -> A fragment) are MmaChainBuilder's.
//
//===----------------------------------------------------------------------===//

#include "deltanet/Codegen/GPU/Passes.h"

#include "CallerDestination.h"
#include "ChunkOperandSource.h"
#include "MmaChainBuilder.h"

#include "deltanet/Dialect/DeltaNet/IR/DeltaNetDialect.h"
#include "deltanet/Dialect/DeltaNet/IR/DeltaNetOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir {
namespace deltanet {
#define GEN_PASS_DEF_DELTANETGPULOWERCHUNKSTATESCANTOMMACHAIN
#include "deltanet/Codegen/GPU/Passes.h.inc"
} // namespace deltanet
} // namespace mlir

using namespace mlir;
using namespace mlir::deltanet;

namespace {

constexpr int64_t kWarpSize = kChainWarpSize;

/// The scan's sizes: sequences, chunks, chunk length, key and value width,
/// the 16-bit product type of k and w, and u's type (f32, or k's with
/// narrow-scan-u).
struct ScanShape {
  int64_t sequences, chunks, chunk, keys, values;
  Type element, uElement;
};

/// Elements of a row of the staged u: the block's 16 * rowGroups columns
/// and 16 bytes (rows 2 * quad and 2 * quad + 1 of a fragment load land in
/// distinct banks).
int64_t stagedURow(const ScanShape &s, int64_t rowGroups) {
  return 16 * rowGroups + 128 / s.uElement.getIntOrFloatBitWidth();
}

/// Why the scan keeps the generic path, or an empty string.
std::string unsupportedReason(ChunkStateScanOp op, ScanShape &shape) {
  auto type = [](Value v) { return cast<RankedTensorType>(v.getType()); };
  Type element;
  std::string reason = chainPreconditionFailure(op, op.getK(), "k", element);
  if (!reason.empty())
    return reason;
  if (type(op.getW()).getElementType() != element)
    return "w and k differ in element type";
  Type f32 = Float32Type::get(op.getContext());
  Type uElement = type(op.getU()).getElementType();
  if ((uElement != f32 && uElement != element) ||
      type(op.getG()).getElementType() != f32 ||
      type(op.getInitialState()).getElementType() != f32 ||
      type(op.getFinalState()).getElementType() != f32)
    return "g and the states in and out must be f32, u f32 or k's type";
  for (Value v : {op.getStates(), op.getVNew()}) {
    Type t = type(v).getElementType();
    if (t != f32 && t != element)
      return "states / v_new must be f32 or k's type";
  }
  ArrayRef<int64_t> k = type(op.getK()).getShape();
  ArrayRef<int64_t> u = type(op.getU()).getShape();
  shape = {k[0], k[1], k[2], k[3], u[3], element, uElement};
  if (shape.chunk % 16 != 0 || shape.chunk > 128)
    return "chunk length not a multiple of 16 or above 128";
  if (shape.keys % 16 != 0 || shape.keys > 128)
    return "K not a multiple of 16 or above 128 (the state's registers)";
  if (shape.values % 16 != 0)
    return "V not a multiple of 16";
  if (shape.chunks < 1)
    return "no chunks";
  if (shape.sequences > 65535)
    return "more sequences than grid rows (65535)";
  return "";
}

/// Row groups (16 state columns each) per block: `requestedWarps / split`,
/// or the most of 4, 2, 1 dividing V / 16 that gives at least `minBlocks`
/// blocks.
int64_t chooseRowGroups(const ScanShape &s, int64_t requestedWarps,
                        int64_t split, int64_t minBlocks) {
  int64_t tiles = s.values / 16;
  if (requestedWarps > 0) {
    int64_t groups = std::max<int64_t>(requestedWarps / split, 1);
    return tiles % groups == 0 ? groups : 1;
  }
  for (int64_t groups : {4, 2})
    if (tiles % groups == 0 && s.sequences * (tiles / groups) >= minBlocks)
      return groups;
  return 1;
}

/// Warps sharing a row group by key: `requested` (1 or 2), or 2 when the
/// halves of K are whole k-step pairs; 1 where K does not split so.
int64_t chooseKeySplit(const ScanShape &s, int64_t requested) {
  if (s.keys % 32 != 0)
    return 1;
  return requested == 1 ? 1 : 2;
}

/// Elements of a row of a warp's store tile: 16 value columns and 8 of
/// padding (rows 48 bytes apart: the lanes' 16-bit fragment stores into it
/// hit distinct banks).
constexpr int64_t kTileRow = 16 + 8;

/// Rows of a warp's store tile: its keys of a state or its tokens of v_new.
int64_t tileRowsOf(const ScanShape &s, int64_t split) {
  return std::max(s.keys / split, s.chunk / split);
}

/// Shared memory of one block: k and w [stages][C][K + padding] (16-bit), u
/// [stages][C][stagedURow] (u's type) and g [stages][C] (f32), with a key
/// split the
/// partial products [warps][C / 8][32][4] (f32), with staged stores each
/// warp's tile [rows][kTileRow] (16-bit).
int64_t sharedBytesOf(const ScanShape &s, int64_t rowGroups, int64_t split,
                      int64_t padding, bool stagedStores, int64_t stages) {
  int64_t bytes = stages * 2 * s.chunk * (s.keys + padding) * 2;
  bytes += stages * s.chunk * stagedURow(s, rowGroups) *
               (s.uElement.getIntOrFloatBitWidth() / 8) +
           stages * s.chunk * 4;
  if (split > 1)
    bytes += rowGroups * split * (s.chunk / 8) * 4 * kWarpSize * 4;
  if (stagedStores)
    bytes += rowGroups * split * tileRowsOf(s, split) * kTileRow * 2;
  return bytes;
}

/// Why k is read from the scan's own operand (the gather kept), or "" with
/// `source` filled in: k read where the decomposition's chunk gather
/// `k[B][T][H][K] -> [B][HV][NC][C][K]` (ChunkOperandSource), collapsed to
/// the scan's `[M = B * HV][NC][C][K]`, reads it, the elements unchanged.
std::string unreadableKeySource(Value k, const ScanShape &s,
                                ChunkOperandSource &source) {
  std::string why;
  source = traceChunkOperand(k, &why);
  if (!source.copy)
    return why;
  if (!source.isChunkGather() || source.chunkShape.size() != 2)
    return "k is not the chunk gather [B][T][H][K] -> [B][HV][NC][C][K] "
           "collapsed to [B * HV][NC][C][K]" +
           (why.empty() ? std::string() : ": " + why);
  if (source.sourceElement() != s.element ||
      source.elements != ElementCopy::Exact)
    return "the gather converts k's elements (not a copy of k's type)";
  return "";
}

/// Builds the launch body: index helpers, fragment loads / stores, the
/// staged copies and the per-chunk chain.
struct ChainBuilder : MmaChainBuilder {
  ScanShape s;
  // Warps per block (`warps`): `rowGroups` groups of 16 state columns, each
  // split over `split` warps by key (warp h of a group owns S^T's key
  // columns [h K / split, (h + 1) K / split): `ownKeys`).
  int64_t split, rowGroups, ownKeys, padding;
  // Buffers (global).
  Value k, w, u, g, init, states, vNew, final;
  // The staged chunks (workgroup memory, two slots): k and w [2][C][K + pad],
  // the block's columns of u [2][C][stagedURow], g [2][C]; with a
  // key split, the warps' partial w S products [warps][C / 8][4][32].
  Value kStaged, wStaged, uStaged, gStaged, partial;
  // The lane's rows of S^T.
  Value rowLo, rowHi;
  // The block's first state column; the lane's rows within the block; the
  // warp's partner in the key split, its first key column, and the first
  // token of the v_new columns it stores.
  Value blockCol0, localLo, localHi, partner, keyBase, tokenBase;
  // k read in place (`keySource`, [B][T][H][K]; null: k is [M][NC][C][K]):
  // the sequence's batch and key head; whether this kernel copies it in
  // 16-byte pieces (the launch for a 16-byte aligned source) or by element.
  Value keySource, keyBatch, keyHead;
  int64_t valueHeads = 0, headsPerKey = 1;
  bool keyPieces = true;
  // With staged stores: each warp's tile [warps][rows][kTileRow] through
  // which the states and v_new leave in 16-byte rows; the warp's first
  // column within the block.
  Value storeTile, warpCol0;
  // With movmatrix stores (`rowStores`): whether the lane's quad is even
  // and the first of the 4 value columns it stores of a row.
  bool rowStores = false;
  Value evenQuad, pieceCol;
  // Slots of the staged chunks: chunk c + stages - 1's copy is issued
  // while chunk c is computed (2: double buffering).
  int64_t stages = 2;

  ChainBuilder(OpBuilder &b, Location loc, ScanShape s, int64_t warps,
               int64_t split, int64_t padding)
      : MmaChainBuilder(b, loc, s.element, warps), s(s), split(split),
        rowGroups(warps / split), ownKeys(s.keys / split), padding(padding) {}

  /// Lane coordinates; rows of S^T (value columns) owned by this lane.
  void setUpLane(Value blockX, Value blockY, Value threadX) {
    seq = blockY;
    setUpLaneIds(threadX);
    Value half = rem(warp, split);
    partner = arith::XOrIOp::create(b, loc, warp, idx(1));
    keyBase = mul(half, ownKeys);
    tokenBase = mul(half, s.chunk / split);
    blockCol0 = mul(blockX, 16 * rowGroups);
    localLo = add(mul(div(warp, split), 16), group);
    localHi = add(localLo, 8);
    rowLo = add(blockCol0, localLo);
    rowHi = add(blockCol0, localHi);
  }

  /// (column, row) of element `i` (2 * r + e) of an accumulator fragment
  /// whose columns start at `colBase` (if any) + `col0`.
  std::pair<Value, Value> accCoord(int64_t col0, int64_t i, bool local = false,
                                   Value colBase = {}) {
    Value col = add(mul(quad, 2), col0 + i % 2);
    if (colBase)
      col = add(colBase, col);
    if (local)
      return {col, i / 2 ? localHi : localLo};
    return {col, i / 2 ? rowHi : rowLo};
  }

  /// An S^T-shaped fragment read from a buffer that holds its transpose:
  /// element (row, col) = buf[lead..., col, row], widened to f32.
  Value loadTransposed(Value buf, ValueRange lead, int64_t col0,
                       bool localRows = false, Value colBase = {}) {
    SmallVector<Value> elements;
    for (int64_t i = 0; i < 4; ++i) {
      auto [col, row] = accCoord(col0, i, localRows, colBase);
      SmallVector<Value> indices(lead);
      indices.append({col, row});
      Value v = memref::LoadOp::create(b, loc, buf, indices);
      if (v.getType() != b.getF32Type())
        v = arith::ExtFOp::create(b, loc, b.getF32Type(), v);
      elements.push_back(v);
    }
    return vector::FromElementsOp::create(b, loc, acc, elements);
  }

  /// The inverse: buf[lead..., col, row] = fragment (row, col), rounded to
  /// the buffer's element type.
  void storeTransposed(Value fragment, Value buf, ValueRange lead,
                       int64_t col0, Value colBase = {}) {
    Type element = cast<MemRefType>(buf.getType()).getElementType();
    for (int64_t i = 0; i < 4; ++i) {
      auto [col, row] = accCoord(col0, i, false, colBase);
      Value v = vector::ExtractOp::create(b, loc, fragment,
                                          ArrayRef<int64_t>{i / 2, i % 2});
      if (element != v.getType())
        v = arith::TruncFOp::create(b, loc, element, v);
      SmallVector<Value> indices(lead);
      indices.append({col, row});
      memref::StoreOp::create(b, loc, v, buf, indices);
    }
  }

  /// The scan's lane coordinates beyond setUpLane's: the warp's first
  /// column in the block; with k read in place, the sequence's batch and
  /// key head.
  void setUpScanLane() {
    warpCol0 = mul(div(warp, split), 16);
    if (rowStores) {
      // Even quads store columns 2q..2q+3 of the lower 8, odd quads
      // 8+2(q-1)..8+2q+1: four lanes fill a row's 16 columns (32 bytes).
      // Written 4 (q / 2) + 8 (q % 2): a multiple of 4 elements that
      // deltanet-gpu-annotate-vector-alignment proves (8-byte stores).
      Value odd = rem(quad, 2);
      evenQuad = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, odd,
                                       idx(0));
      Value within = add(mul(div(quad, 2), 4), mul(odd, 8));
      pieceCol = add(add(blockCol0, warpCol0), within);
    }
    if (!keySource)
      return;
    keyBatch = div(seq, valueHeads);
    keyHead = div(rem(seq, valueHeads), headsPerKey);
  }

  /// k's chunk `chunk` from its source [B][T][H][K] (rows chunk * C + j of
  /// the key head) into slot `slot` of kStaged: cp.async copies of 16 bytes
  /// in a group of their own (`keyPieces`: the kernel launched for a
  /// 16-byte aligned source), or element copies (the kernel for a torch
  /// view at an odd offset; slow, but right).
  void copyKeysFromSource(Value chunk, Value slot, SmallVector<Value> &tokens) {
    int64_t perCopy = elementsPer16Bytes(kStaged);
    Value firstToken = mul(chunk, s.chunk);
    forEachPiece(
        s.chunk, s.keys, perCopy, ExtraThreads::RepeatLastRow,
        [&](Value row, Value col) {
          Value token = add(firstToken, row);
          if (keyPieces)
            return asyncCopy(kStaged, {slot, row, col}, keySource,
                             {keyBatch, token, keyHead, col}, perCopy, tokens);
          auto loop = scf::ForOp::create(b, loc, idx(0), idx(perCopy), idx(1));
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(loop.getBody());
          Value at = add(col, loop.getInductionVar());
          Value v = memref::LoadOp::create(
              b, loc, keySource, ValueRange{keyBatch, token, keyHead, at});
          memref::StoreOp::create(b, loc, v, kStaged,
                                  ValueRange{slot, row, at});
        });
  }

  /// Waits for the warp's lanes (orders their accesses to its store tile).
  void syncWarp() {
    NVVM::SyncWarpOp::create(
        b, loc,
        arith::ConstantIntOp::create(b, loc, b.getI32Type(), -1).getResult());
  }

  /// S^T-shaped fragments (the warp's 16 value columns x 8 columns each)
  /// into dst[lead..., colBase + column, value column], as staged stores:
  /// the fragments rounded into the warp's store tile, then each lane
  /// moves 16-byte pieces of its rows (two lanes a row of 16 value columns:
  /// one 32-byte sector) to dst, instead of 2-byte stores that touch four
  /// rows per warp instruction.
  void storeRowsThroughTile(ArrayRef<Value> fragments, Value dst,
                            ValueRange lead, Value colBase) {
    Type element = cast<MemRefType>(storeTile.getType()).getElementType();
    for (auto [j, fragment] : llvm::enumerate(fragments))
      for (int64_t i = 0; i < 4; ++i) {
        Value v = vector::ExtractOp::create(b, loc, fragment,
                                            ArrayRef<int64_t>{i / 2, i % 2});
        v = arith::TruncFOp::create(b, loc, element, v);
        Value col = add(mul(quad, 2), int64_t(j) * 8 + i % 2);
        Value row = i / 2 ? add(group, 8) : group;
        memref::StoreOp::create(b, loc, v, storeTile,
                                ValueRange{warp, col, row});
      }
    syncWarp();
    int64_t perPiece = 16 * 8 / element.getIntOrFloatBitWidth();
    int64_t perRow = 16 / perPiece;
    int64_t pieces = int64_t(fragments.size()) * 8 * perRow;
    auto pieceType = VectorType::get({perPiece}, element);
    for (int64_t first = 0; first < pieces; first += kWarpSize) {
      Value linear = add(lane, first);
      if (first + kWarpSize > pieces)
        linear = arith::MinUIOp::create(b, loc, linear, idx(pieces - 1));
      Value row = div(linear, perRow);
      Value part = mul(rem(linear, perRow), perPiece);
      // (16-byte aligned: rows of kTileRow / V elements, pieces of 16
      // bytes; deltanet-gpu-annotate-vector-alignment proves it.)
      Value piece = vector::LoadOp::create(b, loc, pieceType, storeTile,
                                           ValueRange{warp, row, part});
      SmallVector<Value> indices(lead);
      indices.append({add(colBase, row), add(add(blockCol0, warpCol0), part)});
      vector::StoreOp::create(b, loc, piece, dst, indices);
    }
    syncWarp();
  }

  /// Row `r` (0: value columns 0-7, 1: 8-15) of an accumulator fragment
  /// rounded to 16 bits, its two elements packed in an i32 (b16x2).
  Value packedRow(Value fragment, int64_t r) {
    Value pair = vector::ExtractOp::create(b, loc, fragment, r);
    Value half = arith::TruncFOp::create(
        b, loc, VectorType::get({2}, s.element), pair);
    Value bits = vector::BitCastOp::create(
        b, loc, VectorType::get({1}, b.getI32Type()), half);
    return vector::ExtractOp::create(b, loc, bits, int64_t(0));
  }

  /// The transpose of the warp's 8 x 8 16-bit matrix `packed` (lane (g, q)
  /// holds row g, columns 2q and 2q + 1), in the same layout: PTX's
  /// movmatrix (sm_75+; no NVVM op for it upstream, hence inline asm, with
  /// side effects so that it stays where the whole warp executes it).
  Value movmatrixTrans(Value packed) {
    return LLVM::InlineAsmOp::create(
               b, loc, b.getI32Type(), ValueRange{packed},
               "movmatrix.sync.aligned.m8n8.trans.b16 $0, $1;", "=r,r",
               /*has_side_effects=*/true, /*is_align_stack=*/false,
               LLVM::tailcallkind::TailCallKind::None,
               LLVM::AsmDialectAttr(), ArrayAttr())
        .getRes();
  }

  /// S^T-shaped fragments (the warp's 16 value columns x 8 columns each)
  /// into dst[lead..., colBase + 8 j + row, value column] as 8-byte
  /// stores: each fragment's halves transposed (movmatrix: lane (g, q) then
  /// holds row g's columns 2q, 2q + 1 of each half), the even quad taking
  /// its odd neighbour's lower-half pair and the odd quad the even one's
  /// upper-half pair (one shuffle), so that the four lanes of a row write
  /// its 32 bytes (one sector) instead of four 2-byte stores per fragment
  /// touching half sectors.
  void storeRowsByMovmatrix(ArrayRef<Value> fragments, Value dst,
                            ValueRange lead, Value colBase) {
    auto pieceType = VectorType::get({4}, s.element);
    auto pairType = VectorType::get({2}, b.getI32Type());
    for (auto [j, fragment] : llvm::enumerate(fragments)) {
      Value lo = movmatrixTrans(packedRow(fragment, 0));
      Value hi = movmatrixTrans(packedRow(fragment, 1));
      Value sent = arith::SelectOp::create(b, loc, evenQuad, hi, lo);
      Value got = gpu::ShuffleOp::create(b, loc, sent, 1, kWarpSize,
                                         gpu::ShuffleMode::XOR)
                      .getShuffleResult();
      Value first = arith::SelectOp::create(b, loc, evenQuad, lo, got);
      Value second = arith::SelectOp::create(b, loc, evenQuad, got, hi);
      Value pair = vector::FromElementsOp::create(b, loc, pairType,
                                                  ValueRange{first, second});
      Value piece = vector::BitCastOp::create(b, loc, pieceType, pair);
      SmallVector<Value> indices(lead);
      indices.append({add(add(colBase, group), int64_t(j) * 8), pieceCol});
      vector::StoreOp::create(b, loc, piece, dst, indices);
    }
  }

  /// Chunk `chunk`'s k, w, the block's columns of u, and g into slot `slot`
  /// of the staging buffers; one cp.async group.
  Value stageChunk(Value chunk, Value slot) {
    SmallVector<Value> tokens;
    if (keySource)
      copyKeysFromSource(chunk, slot, tokens);
    else
      copyChunk(k, kStaged, chunk, slot, s.chunk, s.keys, idx(0), tokens);
    copyChunk(w, wStaged, chunk, slot, s.chunk, s.keys, idx(0), tokens);
    copyChunk(u, uStaged, chunk, slot, s.chunk, 16 * rowGroups, blockCol0,
              tokens);
    copyChunk(g, gStaged, chunk, slot, 0, s.chunk, idx(0), tokens);
    auto tokenType = nvgpu::DeviceAsyncTokenType::get(b.getContext());
    return nvgpu::DeviceAsyncCreateGroupOp::create(b, loc, tokenType, tokens);
  }

  /// v_new^T (C / 8 fragments) = u^T + (-S^T) w^T, B fragments of w (rows
  /// = tokens, [C][K] in shared memory: mma's column-major B) by ldmatrix.
  /// The reduction outermost, so that one A fragment of S^T is live at a
  /// time; the accumulators start at zero and u^T is added last (its loads'
  /// latency behind the products).
  SmallVector<Value> newValues(ArrayRef<Value> stateT, Value slot,
                               ArrayRef<Value> uT) {
    Value zero = arith::ConstantOp::create(b, loc, acc, b.getZeroAttr(acc));
    SmallVector<Value> accs(s.chunk / 8, zero);
    Value rowInTile = rem(lane, 8), matrix = div(lane, 8);
    for (int64_t ks = 0; ks < ownKeys / 16; ks += 2) {
      bool pair = ks + 1 < ownKeys / 16;
      Value a0 = aFromAccumulators(stateT[2 * ks], stateT[2 * ks + 1], true);
      Value a1 = pair ? aFromAccumulators(stateT[2 * ks + 2],
                                          stateT[2 * ks + 3], true)
                      : Value();
      Value col =
          add(add(mul(pair ? matrix : rem(matrix, 2), 8), ks * 16), keyBase);
      for (int64_t jn = 0; jn < s.chunk / 8; ++jn) {
        Value row = add(rowInTile, jn * 8);
        Value loaded =
            ldmatrix(wStaged, ValueRange{slot, row, col}, pair ? 4 : 2, false);
        accs[jn] = mma(a0, bFragment(loaded, 0), accs[jn]);
        if (pair)
          accs[jn] = mma(a1, bFragment(loaded, 2), accs[jn]);
      }
    }
    if (split > 1)
      addPartnerProducts(accs);
    for (int64_t jn = 0; jn < s.chunk / 8; ++jn)
      accs[jn] = arith::AddFOp::create(b, loc, uT[jn], accs[jn]);
    return accs;
  }

  /// With a key split, each warp of a pair has the product over its half of
  /// the keys: both add the other's (through `partial`, one barrier; each
  /// lane writes its fragment as one 16-byte vector and reads back the one
  /// its partner lane wrote: 4 wavefronts per warp access, conflict-free).
  void addPartnerProducts(SmallVector<Value> &accs) {
    auto flat = VectorType::get({4}, b.getF32Type());
    for (int64_t jn = 0; jn < s.chunk / 8; ++jn)
      vector::StoreOp::create(
          b, loc, vector::ShapeCastOp::create(b, loc, flat, accs[jn]),
          partial, ValueRange{warp, idx(jn), lane, idx(0)});
    gpu::BarrierOp::create(b, loc);
    for (int64_t jn = 0; jn < s.chunk / 8; ++jn) {
      Value other = vector::LoadOp::create(
          b, loc, flat, partial, ValueRange{partner, idx(jn), lane, idx(0)});
      accs[jn] = arith::AddFOp::create(
          b, loc, accs[jn], vector::ShapeCastOp::create(b, loc, acc, other));
    }
  }

  /// S^T * exp(g_last) + Vd^T k, B fragments of k ([C][K] read along C: mma's
  /// column-major B is its transpose) by ldmatrix.trans.
  SmallVector<Value> updateState(SmallVector<Value> stateT,
                                 ArrayRef<Value> decayedT, Value slot,
                                 Value chunkDecay) {
    Value decay = vector::BroadcastOp::create(b, loc, acc, chunkDecay);
    for (Value &fragment : stateT)
      fragment = arith::MulFOp::create(b, loc, fragment, decay);
    // The reduction (tokens) outermost: one A fragment live at a time.
    Value rowInTile = rem(lane, 8), matrix = div(lane, 8);
    Value rowHalf = mul(rem(matrix, 2), 8), colHalf = mul(div(matrix, 2), 8);
    for (int64_t cs = 0; cs < s.chunk / 16; ++cs) {
      Value a =
          aFromAccumulators(decayedT[2 * cs], decayedT[2 * cs + 1], false);
      Value row = add(add(rowInTile, rowHalf), cs * 16);
      for (int64_t jk = 0; jk < ownKeys / 8; jk += 2) {
        Value col = add(add(colHalf, jk * 8), keyBase);
        Value loaded = ldmatrix(kStaged, ValueRange{slot, row, col}, 4, true);
        stateT[jk] = mma(a, bFragment(loaded, 0), stateT[jk]);
        stateT[jk + 1] = mma(a, bFragment(loaded, 2), stateT[jk + 1]);
      }
    }
    return stateT;
  }

  /// A chunk's staged u^T in the accumulator layout (C / 8 fragments),
  /// then g at the lane's token columns (C / 4), then g_last.
  SmallVector<Value> loadChunkInputs(Value slot) {
    SmallVector<Value> inputs;
    for (int64_t jn = 0; jn < s.chunk / 8; ++jn)
      inputs.push_back(
          loadTransposed(uStaged, ValueRange{slot}, jn * 8, /*localRows=*/true));
    for (int64_t jn = 0; jn < s.chunk / 8; ++jn)
      for (int64_t e = 0; e < 2; ++e)
        inputs.push_back(memref::LoadOp::create(
            b, loc, gStaged, ValueRange{slot, accCoord(jn * 8, e).first}));
    inputs.push_back(memref::LoadOp::create(b, loc, gStaged,
                                            ValueRange{slot, idx(s.chunk - 1)}));
    return inputs;
  }

  /// v_new^T's tiles into v_new (transposed); with a key split, each warp
  /// of a pair stores its share of the tokens (both hold all of them).
  void storeNewValues(ArrayRef<Value> vNewT, ValueRange lead) {
    int64_t share = s.chunk / 8 / split;
    Value first = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                        tokenBase, idx(0));
    SmallVector<Value> tiles;
    for (int64_t jn = 0; jn < share; ++jn) {
      Value tile = vNewT[jn];
      for (int64_t h = 1; h < split; ++h)
        tile = arith::SelectOp::create(b, loc, first, tile,
                                       vNewT[jn + h * share]);
      tiles.push_back(tile);
    }
    if (storeTile)
      return storeRowsThroughTile(tiles, vNew, lead, tokenBase);
    if (rowStores)
      return storeRowsByMovmatrix(tiles, vNew, lead, tokenBase);
    for (auto [jn, tile] : llvm::enumerate(tiles))
      storeTransposed(tile, vNew, lead, int64_t(jn) * 8, tokenBase);
  }

  /// One chunk: wait for its staged k, w, u, g (the oldest of the pending
  /// copy groups), stage chunk + stages - 1's, store S, then v_new = u - w
  /// S and S <- exp(g_last) S + (k decayed)^T v_new. Returns the new S^T
  /// and the pending copy groups, oldest first.
  SmallVector<Value> chunkStep(Value chunk, SmallVector<Value> stateT,
                               ArrayRef<Value> pending) {
    // The groups issued after this chunk's may stay in flight.
    nvgpu::DeviceAsyncWaitOp::create(b, loc, pending.front(),
                                     b.getI32IntegerAttr(stages - 2));
    gpu::BarrierOp::create(b, loc);
    Value slot = rem(chunk, stages);
    // The slot read in the previous chunk (every warp is past it: the
    // barrier above).
    Value nextSlot = stages == 2
                         ? arith::SubIOp::create(b, loc, idx(1), slot)
                         : rem(add(chunk, stages - 1), stages);
    Value next = arith::MinUIOp::create(b, loc, add(chunk, stages - 1),
                                        idx(s.chunks - 1));
    Value staged = stageChunk(next, nextSlot);
    SmallVector<Value> inputs = loadChunkInputs(slot);

    SmallVector<Value> lead{seq, chunk};
    if (storeTile)
      storeRowsThroughTile(stateT, states, lead, keyBase);
    else if (rowStores)
      storeRowsByMovmatrix(stateT, states, lead, keyBase);
    else
      for (int64_t j = 0; j < ownKeys / 8; ++j)
        storeTransposed(stateT[j], states, lead, j * 8, keyBase);

    int64_t tiles = s.chunk / 8;
    ArrayRef<Value> uT = ArrayRef<Value>(inputs).take_front(tiles);
    ArrayRef<Value> gTokens = ArrayRef<Value>(inputs).slice(tiles, 2 * tiles);
    Value gLast = inputs.back();
    SmallVector<Value> vNewT = newValues(stateT, slot, uT);
    SmallVector<Value> decayedT;
    storeNewValues(vNewT, lead);
    for (int64_t jn = 0; jn < tiles; ++jn) {
      SmallVector<Value> d;
      for (int64_t e = 0; e < 2; ++e)
        d.push_back(math::ExpOp::create(
            b, loc,
            arith::SubFOp::create(b, loc, gLast, gTokens[2 * jn + e])));
      Value tokenDecay = vector::FromElementsOp::create(
          b, loc, acc, ValueRange{d[0], d[1], d[0], d[1]});
      decayedT.push_back(
          arith::MulFOp::create(b, loc, vNewT[jn], tokenDecay));
    }
    Value chunkDecay = math::ExpOp::create(b, loc, gLast);
    SmallVector<Value> results =
        updateState(stateT, decayedT, slot, chunkDecay);
    results.append(pending.begin() + 1, pending.end());
    results.push_back(staged);
    return results;
  }

  /// The launch body.
  void build(Value blockX, Value blockY, Value threadX, bool stagedStores) {
    setFragmentTypes();
    kStaged = workgroupAlloc({stages, s.chunk, s.keys + padding}, s.element);
    wStaged = workgroupAlloc({stages, s.chunk, s.keys + padding}, s.element);
    // Rows of 16 * warps + 4 words (f32; 16-bit: 8 * warps + 4 words): a
    // load's token rows 2 * quad (+ 1) lie 8 * quad words apart modulo 32,
    // its 8 columns in distinct banks.
    uStaged =
        workgroupAlloc({stages, s.chunk, stagedURow(s, rowGroups)}, s.uElement);
    gStaged = workgroupAlloc({stages, s.chunk}, b.getF32Type());
    if (split > 1)
      partial = workgroupAlloc({warps, s.chunk / 8, kWarpSize, 4},
                               b.getF32Type());
    if (stagedStores)
      storeTile = workgroupAlloc({warps, tileRowsOf(s, split), kTileRow},
                                 s.element);
    setUpLane(blockX, blockY, threadX);
    setUpScanLane();

    SmallVector<Value> stateT;
    for (int64_t j = 0; j < ownKeys / 8; ++j)
      stateT.push_back(
          loadTransposed(init, ValueRange{seq}, j * 8, false, keyBase));
    // Carried: S^T and the pending copy groups (chunks 0 .. stages - 2
    // staged before the loop, the last chunk repeated where there are
    // fewer).
    int64_t stateTiles = ownKeys / 8;
    SmallVector<Value> carried(stateT);
    for (int64_t c = 0; c + 1 < stages; ++c)
      carried.push_back(
          stageChunk(idx(std::min(c, s.chunks - 1)), idx(c)));
    auto loop = scf::ForOp::create(b, loc, idx(0), idx(s.chunks), idx(1),
                                   carried);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(loop.getBody());
      ValueRange args = loop.getRegionIterArgs();
      SmallVector<Value> out =
          chunkStep(loop.getInductionVar(),
                    SmallVector<Value>(args.take_front(stateTiles)),
                    SmallVector<Value>(args.drop_front(stateTiles)));
      scf::YieldOp::create(b, loc, out);
    }
    // The last (redundant) copies complete before the block exits.
    nvgpu::DeviceAsyncWaitOp::create(b, loc, loop.getResults().back(),
                                     b.getI32IntegerAttr(0));
    for (int64_t j = 0; j < ownKeys / 8; ++j)
      storeTransposed(loop.getResult(j), final, ValueRange{seq}, j * 8,
                      keyBase);
  }
};

struct ChunkStateScanToMmaChain : public OpRewritePattern<ChunkStateScanOp> {
  ChunkStateScanToMmaChain(MLIRContext *context, int64_t warps,
                           int64_t keySplit, int64_t minBlocks,
                           int64_t padding, bool keyFromSource,
                           bool stagedStores, bool movmatrixStores,
                           int64_t stages)
      : OpRewritePattern(context), warps(warps), keySplit(keySplit),
        minBlocks(minBlocks), padding(padding), keyFromSource(keyFromSource),
        stagedStores(stagedStores), movmatrixStores(movmatrixStores),
        stages(stages) {}

  LogicalResult matchAndRewrite(ChunkStateScanOp op,
                                PatternRewriter &rewriter) const override {
    ScanShape shape;
    std::string reason = unsupportedReason(op, shape);
    if (!reason.empty())
      return rewriter.notifyMatchFailure(op, reason);
    int64_t split = chooseKeySplit(shape, keySplit);
    int64_t rowGroups = chooseRowGroups(shape, warps, split, minBlocks);
    // Row stores (16 bytes through a tile, or 8 bytes after a register
    // transpose) where the states and v_new are k's 16-bit type.
    bool sixteenBitResults =
        getElementTypeOrSelf(op.getStates().getType()) == shape.element &&
        getElementTypeOrSelf(op.getVNew().getType()) == shape.element;
    bool staged = stagedStores && sixteenBitResults;
    int64_t sharedBytes =
        sharedBytesOf(shape, rowGroups, split, padding, staged, stages);
    if (sharedBytes > kChainMaxSharedBytes)
      return rewriter.notifyMatchFailure(
          op, "the staged chunks need " + std::to_string(sharedBytes) +
                  " B of shared memory (at most " +
                  std::to_string(kChainMaxSharedBytes) + ")");
    Location loc = op.getLoc();

    auto bufferOf = [&](Value tensor) {
      return readOnlyBufferOf(rewriter, loc, tensor);
    };
    auto allocFor = [&](Value result) {
      return allocBufferFor(rewriter, loc, result);
    };
    ChainBuilder chain(rewriter, loc, shape, rowGroups * split, split,
                       padding);
    chain.rowStores = movmatrixStores && sixteenBitResults && !staged;
    chain.stages = stages;
    // k read where its gather reads it, when that gather is understood
    // (otherwise the reason is reported and the gathered k read).
    ChunkOperandSource keys;
    std::string keyReason =
        keyFromSource ? unreadableKeySource(op.getK(), shape, keys) : "off";
    Value keyAligned;
    if (keyReason.empty()) {
      chain.keySource = bufferOf(keys.tensor);
      chain.valueHeads = keys.valueHeads;
      chain.headsPerKey = keys.headRatio;
      // 16-byte cp.async needs a 16-byte aligned source (rows are K * 2
      // bytes apart): checked on the host, which launches one of two
      // kernels (as deltanet-gpu-annotate-vector-alignment's
      // versioning=kernel: the other gets an empty grid).
      Value address = memref::ExtractAlignedPointerAsIndexOp::create(
          rewriter, loc, chain.keySource);
      Value low = arith::AndIOp::create(
          rewriter, loc, address,
          arith::ConstantIndexOp::create(rewriter, loc, 15));
      keyAligned = arith::CmpIOp::create(
          rewriter, loc, arith::CmpIPredicate::eq, low,
          arith::ConstantIndexOp::create(rewriter, loc, 0));
    } else {
      if (keyFromSource)
        (void)rewriter.notifyMatchFailure(
            op, "k read from the gathered operand: " + keyReason);
      chain.k = bufferOf(op.getK());
    }
    chain.w = bufferOf(op.getW());
    chain.u = bufferOf(op.getU());
    chain.g = bufferOf(op.getG());
    chain.init = bufferOf(op.getInitialState());
    chain.states = allocFor(op.getStates());
    chain.vNew = allocFor(op.getVNew());
    // The final state in the caller's buffer where it is only copied there
    // (no device-to-device copy after the kernel).
    CallerDestination finalDestination =
        findCallerDestination(op.getFinalState());
    chain.final = finalDestination
                      ? finalDestination.buffer(rewriter, loc)
                      : allocFor(op.getFinalState());

    Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
    Value tiles = arith::ConstantIndexOp::create(
        rewriter, loc, shape.values / (16 * rowGroups));
    Value sequences =
        arith::ConstantIndexOp::create(rewriter, loc, shape.sequences);
    Value threads =
        arith::ConstantIndexOp::create(rewriter, loc,
                                       kWarpSize * rowGroups * split);
    auto buildLaunch = [&](Value gridX, ChainBuilder kernel) {
      auto launch = gpu::LaunchOp::create(rewriter, loc, gridX, sequences,
                                          one, threads, one, one);
      OpBuilder::InsertionGuard guard(rewriter);
      Block &body = launch.getBody().front();
      rewriter.setInsertionPointToEnd(&body);
      auto terminator = gpu::TerminatorOp::create(rewriter, loc);
      rewriter.setInsertionPoint(terminator);
      kernel.build(launch.getBlockIds().x, launch.getBlockIds().y,
                   launch.getThreadIds().x, staged);
    };
    if (!keyAligned) {
      buildLaunch(tiles, chain);
    } else {
      // The kernel with 16-byte copies of k, and its twin with element
      // copies; one of them gets the blocks.
      Value none = arith::ConstantIndexOp::create(rewriter, loc, 0);
      buildLaunch(arith::SelectOp::create(rewriter, loc, keyAligned, tiles,
                                          none),
                  chain);
      ChainBuilder elementwise = chain;
      elementwise.keyPieces = false;
      buildLaunch(arith::SelectOp::create(rewriter, loc, keyAligned, none,
                                          tiles),
                  elementwise);
    }
    SmallVector<Value> results;
    SmallVector<Value> buffers{chain.states, chain.vNew, chain.final};
    for (auto [result, buffer] : llvm::zip(op->getResults(), buffers)) {
      // The final state written in place: its copy goes, nothing reads it.
      if (buffer == chain.final && finalDestination) {
        finalDestination.erase(rewriter);
        results.push_back(Value());
        continue;
      }
      results.push_back(bufferization::ToTensorOp::create(
          rewriter, loc, result.getType(), buffer, /*restrict=*/true,
          /*writable=*/true));
    }
    Operation *kProducer = op.getK().getDefiningOp();
    rewriter.replaceOp(op, results);
    // The gather then goes if nothing else reads it (otherwise its other
    // reader may recompute it in its own blocks: fuse-into-blocks).
    if (keyReason.empty() && kProducer->use_empty()) {
      Operation *gather = kProducer->getOperand(0).getDefiningOp();
      rewriter.eraseOp(kProducer);
      if (gather->use_empty())
        rewriter.eraseOp(gather);
    }
    return success();
  }

  int64_t warps, keySplit, minBlocks, padding;
  bool keyFromSource, stagedStores, movmatrixStores;
  int64_t stages;
};

struct LowerChunkStateScanToMmaChainPass
    : public deltanet::impl::DeltaNetGpuLowerChunkStateScanToMmaChainBase<
          LowerChunkStateScanToMmaChainPass> {
  using Base::Base;

  void runOnOperation() override {
    if (warps < 0 || keySplit < 0 || keySplit > 2 || rowPadding < 0 ||
        rowPadding % 8 != 0 || stages < 2 || stages > 4) {
      getOperation().emitError()
          << getArgument()
          << ": warps must be >= 0, key-split 0, 1 or 2, row-padding a "
             "multiple of 8 and stages 2, 3 or 4";
      return signalPassFailure();
    }
    // Collected first: a rewrite may erase the copy of the final state into
    // the caller's buffer, after the scan (walkAndApplyPatterns allows
    // erasing the matched op only). One application per scan, no folding of
    // anything else.
    SmallVector<ChunkStateScanOp> scans;
    getOperation().walk([&](ChunkStateScanOp op) { scans.push_back(op); });
    ChunkStateScanToMmaChain pattern(&getContext(), warps, keySplit,
                                     minBlocks, rowPadding, keyFromSource,
                                     stagedStores, movmatrixStores, stages);
    PatternRewriter rewriter(&getContext());
    for (ChunkStateScanOp op : scans) {
      rewriter.setInsertionPoint(op);
      (void)pattern.matchAndRewrite(op, rewriter);
    }
  }
};

} // namespace
