//===- deltanet-fuzz.cpp - libFuzzer target for the deltanet compiler -----===//
//
// Parses a fuzzed input as MLIR, verifies it and, if it is valid, runs the
// deltanet lowering passes or the whole CPU pipeline on it, with options
// derived from the first two bytes of the input. Diagnostics are captured,
// not printed: an input may be rejected with errors, but must never crash,
// assert, leak or hit undefined behaviour (the target is built with
// -fsanitize=fuzzer,address,undefined; see scripts/fuzz.sh).
//
// Input layout: byte 0 and byte 1 select the mode and the options (see
// decodeHeader), the rest is MLIR text. Set DELTANET_FUZZ_VERBOSE=1 to print,
// for every input, the equivalent deltanet-opt command line and the MLIR, which
// is how a crash becomes a lit regression test (test/Fuzz/).
//
// Fuzz surface: modules built from the builtin, func, arith, math, tensor,
// linalg, scf, bufferization, memref and deltanet dialects; other dialects are
// not registered (upstream parsers we do not own are out of scope).
//
//===----------------------------------------------------------------------===//

#include "deltanet/InitDeltaNet.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <cstdlib>
#include <string>

using namespace mlir;

namespace {

/// Dialects whose ops a fuzzed module may contain.
constexpr llvm::StringLiteral kAllowedDialects[] = {
    "builtin",       "func",   "arith",    "math",   "tensor", "linalg", "scf",
    "bufferization", "memref", "deltanet", "affine", "vector", "cf",     "ub",
    "index",         "llvm"};

DialectRegistry *registry = nullptr;
bool verbose = false;
bool i8Supported = false;
bool toleranceSupported = false;

/// What to run on a valid module.
enum class Mode { RoundTrip, DeltaNetPasses, OnePass, CpuPipeline };

struct Header {
  Mode mode;
  std::string pipeline; // textual pass pipeline (empty for RoundTrip)
};

/// Option values, valid and invalid ones: invalid values must be diagnosed.
const char *const kStrategies[] = {nullptr, "blocked", "neumann",
                                   "forward-substitution"};
const char *const kBlockSizes[] = {nullptr, "1", "2", "4", "8", "32", "3", "0"};
const char *const kOrders[] = {nullptr, "-1", "1", "2", "3", "5", "0", "-2"};
const char *const kSteps[] = {nullptr, "1", "2", "-1"};
const char *const kTiles[] = {nullptr, "0", "3", "-2"};
const char *const kPrecisions[] = {nullptr, "bf16", "f16", "i8"};
const char *const kOnePass[] = {
    "deltanet-decompose-chunk-gated-delta-rule", "deltanet-lower-chunk-stages",
    "deltanet-lower-recurrent-gated-delta-rule", "deltanet-lower-tri-inv"};

/// Decodes bytes 0 and 1: mode (2 bits), strategy (2), precision (2),
/// block size (3), order (3), residual steps (2), batch tile (2).
Header decodeHeader(uint8_t b0, uint8_t b1) {
  unsigned bits = b0 | (b1 << 8);
  auto take = [&](unsigned n) {
    unsigned v = bits & ((1u << n) - 1);
    bits >>= n;
    return v;
  };
  Header h;
  h.mode = static_cast<Mode>(take(2));
  const char *strategy = kStrategies[take(2)];
  const char *precision = kPrecisions[take(2)];
  if (precision && llvm::StringRef(precision) == "i8" && !i8Supported)
    precision = "f32";
  const char *blockSize = kBlockSizes[take(3)];
  const char *order = kOrders[take(3)];
  const char *steps = kSteps[take(2)];
  const char *tile = kTiles[take(2)];

  bool pipeline = h.mode == Mode::CpuPipeline;
  std::string prefix = pipeline ? "tri-inv-" : "";
  SmallVector<std::string> opts;
  auto add = [&](const char *name, const char *value) {
    if (value)
      opts.push_back(prefix + name + "=" + value);
  };
  add("strategy", strategy);
  add("block-size", blockSize);
  add("order", order);
  add("residual-steps", steps);
  add("batch-tile", tile);
  add("precision", precision);
  // With i8 and no explicit order, let the tolerance pick order and steps
  // (when this build has the option).
  if (toleranceSupported && precision && llvm::StringRef(precision) == "i8" &&
      !order)
    add("tolerance", "2e-2");
  std::string options = opts.empty() ? "" : "{" + llvm::join(opts, " ") + "}";

  switch (h.mode) {
  case Mode::RoundTrip:
    break;
  case Mode::DeltaNetPasses:
    h.pipeline = "builtin.module(deltanet-decompose-chunk-gated-delta-rule,"
                 "deltanet-lower-chunk-stages,"
                 "deltanet-lower-recurrent-gated-delta-rule,"
                 "deltanet-lower-tri-inv" +
                 options + ",canonicalize,cse)";
    break;
  case Mode::OnePass: {
    // The block-size slot picks the pass; lower-tri-inv gets the options.
    unsigned which = (b1 >> 1) & 3;
    h.pipeline = std::string("builtin.module(") + kOnePass[which] +
                 (which == 3 ? options : "") + ")";
    break;
  }
  case Mode::CpuPipeline:
    h.pipeline = "builtin.module(deltanet-cpu-pipeline" + options + ")";
    break;
  }
  return h;
}

/// Whether `source` names a dialect outside kAllowedDialects: `name.` after a
/// character that cannot precede it in an SSA value, symbol or alias name
/// (an op, a type `!name.x`, an attribute `#name.x`, a generic op
/// `"name.op"`), or `!name<` / `#name<`. Conservative: it may reject inputs
/// that only use such a string inside a string literal.
bool mentionsOtherDialects(llvm::StringRef source) {
  auto isIdent = [](char c) {
    return llvm::isAlnum(c) || c == '_' || c == '$' || c == '.' || c == '-';
  };
  auto allowed = [](llvm::StringRef ns) {
    for (llvm::StringRef a : kAllowedDialects)
      if (ns == a)
        return true;
    return false;
  };
  for (size_t i = 0, e = source.size(); i < e; ++i) {
    char c = source[i];
    if (!(llvm::isAlpha(c) || c == '_'))
      continue;
    char prev = i ? source[i - 1] : ' ';
    if (isIdent(prev) || prev == '%' || prev == '@' || prev == '^') {
      continue;
    }
    size_t j = i;
    while (j < e && (llvm::isAlnum(source[j]) || source[j] == '_'))
      ++j;
    llvm::StringRef word = source.slice(i, j);
    bool dotted = j + 1 < e && source[j] == '.' &&
                  (llvm::isAlpha(source[j + 1]) || source[j + 1] == '_');
    bool angled = j < e && source[j] == '<' && (prev == '!' || prev == '#');
    if ((dotted || angled) && !allowed(word))
      return true;
    i = j;
  }
  return false;
}

/// Whether `module` has a static shape or chunk size so large that compiling
/// it is slow rather than wrong: compile time grows with static sizes (the
/// CPU pipeline vectorises static matmuls row by row; a chunk_size of 1024
/// takes ~12 s, 65536 more than 100 s), which would only make the fuzzer
/// report timeouts. Bounds: dims <= 512, 2^22 elements, chunk_size <= 256.
bool tooLarge(ModuleOp module) {
  auto large = [](Type type) {
    auto shaped = dyn_cast<ShapedType>(type);
    if (!shaped || !shaped.hasRank())
      return false;
    int64_t elements = 1;
    for (int64_t d : shaped.getShape()) {
      if (ShapedType::isDynamic(d))
        continue;
      if (d > 512)
        return true;
      elements *= d;
      if (elements > (int64_t(1) << 22))
        return true;
    }
    return false;
  };
  WalkResult result = module->walk([&](Operation *op) {
    for (Type t : op->getResultTypes())
      if (large(t))
        return WalkResult::interrupt();
    for (Region &region : op->getRegions())
      for (Block &block : region)
        for (BlockArgument arg : block.getArguments())
          if (large(arg.getType()))
            return WalkResult::interrupt();
    if (auto chunk = op->getAttrOfType<IntegerAttr>("chunk_size"))
      if (chunk.getValue().getSignificantBits() > 64 ||
          chunk.getValue().getSExtValue() > 256)
        return WalkResult::interrupt();
    return WalkResult::advance();
  });
  return result.wasInterrupted();
}

/// Whether every op of `module` belongs to an allowed dialect.
bool onlyAllowedDialects(ModuleOp module) {
  WalkResult result = module->walk([](Operation *op) {
    StringRef ns = op->getName().getDialectNamespace();
    for (StringRef allowed : kAllowedDialects)
      if (ns == allowed)
        return WalkResult::advance();
    return WalkResult::interrupt();
  });
  return !result.wasInterrupted();
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  verbose = std::getenv("DELTANET_FUZZ_VERBOSE") != nullptr;
  registerAllPasses();
  deltanet::registerDeltaNetPassesAndPipelines();
  registry = new DialectRegistry();
  // As in deltanet-opt: every dialect and its external models (bufferization,
  // tiling, ...), which the pipeline needs; mentionsOtherDialects keeps the
  // parsers of the dialects outside kAllowedDialects out of reach.
  registerAllDialects(*registry);
  registerAllExtensions(*registry);
  deltanet::registerDeltaNetDialect(*registry);
  {
    // Probe whether this build knows precision=i8 and tolerance (added
    // separately); llvm::cl prints a line for each unknown value.
    MLIRContext context(*registry, MLIRContext::Threading::DISABLED);
    ScopedDiagnosticHandler quiet(&context,
                                  [](Diagnostic &) { return success(); });
    PassManager pm(&context);
    std::string errors;
    llvm::raw_string_ostream os(errors);
    i8Supported = succeeded(parsePassPipeline(
        "builtin.module(deltanet-lower-tri-inv{precision=i8})", pm, os));
    PassManager pm2(&context);
    toleranceSupported = succeeded(parsePassPipeline(
        "builtin.module(deltanet-lower-tri-inv{tolerance=2e-2})", pm2, os));
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2)
    return 0;
  Header header = decodeHeader(data[0], data[1]);
  // A NUL-terminated copy: the MLIR lexer reads up to the terminator.
  std::string source(reinterpret_cast<const char *>(data) + 2, size - 2);

  if (verbose) {
    llvm::errs() << "// deltanet-fuzz input: ";
    if (header.pipeline.empty())
      llvm::errs() << "deltanet-opt -verify-roundtrip";
    else
      llvm::errs() << "deltanet-opt --pass-pipeline='" << header.pipeline
                   << "'";
    llvm::errs() << "\n" << source << "\n// end of input\n";
  }

  MLIRContext context(*registry, MLIRContext::Threading::DISABLED);
  context.printOpOnDiagnostic(false);
  context.printStackTraceOnDiagnostic(false);
  std::string diagnostics;
  llvm::raw_string_ostream diagStream(diagnostics);
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
    if (verbose)
      diagStream << diag.getLocation() << ": " << diag << "\n";
    return success();
  });

  if (mentionsOtherDialects(source))
    return -1;
  ParserConfig config(&context);
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(source, config);
  auto finish = [&](int status) {
    if (verbose)
      llvm::errs() << diagnostics;
    return status;
  };
  if (!module) {
    if (verbose)
      llvm::errs() << "// parse failed\n";
    return finish(-1); // not added to the corpus
  }
  if (!onlyAllowedDialects(*module))
    return finish(-1);
  if (failed(verify(*module)))
    return finish(0);

  if (header.mode == Mode::RoundTrip) {
    // The printed form of a valid module must parse back and verify.
    std::string printed;
    llvm::raw_string_ostream os(printed);
    module->print(os);
    OwningOpRef<ModuleOp> again = parseSourceString<ModuleOp>(printed, config);
    if (!again || failed(verify(*again))) {
      llvm::errs() << "deltanet-fuzz: the printed module does not parse back:\n"
                   << printed << "\n"
                   << diagnostics;
      std::abort();
    }
    return finish(0);
  }

  if (tooLarge(*module))
    return finish(-1);
  PassManager pm(&context, ModuleOp::getOperationName());
  std::string pipelineErrors;
  llvm::raw_string_ostream pipelineStream(pipelineErrors);
  if (failed(parsePassPipeline(header.pipeline, pm, pipelineStream))) {
    // Every option value the header can produce must at least parse.
    llvm::errs() << "deltanet-fuzz: cannot parse pipeline " << header.pipeline
                 << ": " << pipelineErrors << "\n";
    std::abort();
  }
  // A pass failure is fine (diagnosed); a crash is not. After a successful
  // pipeline the module must verify (the pass manager checks it too).
  bool ok = succeeded(pm.run(*module));
  if (ok && failed(verify(*module))) {
    llvm::errs() << "deltanet-fuzz: the pipeline produced invalid IR\n"
                 << diagnostics;
    std::abort();
  }
  if (verbose)
    llvm::errs() << "// pipeline " << (ok ? "succeeded" : "failed") << "\n";
  return finish(0);
}
