//===- tri_inv_bench.cpp - Accuracy and speed of deltanet.tri_inv ---------===//
//
// Compiles `deltanet.tri_inv` on a batch of C x C matrices with every lowering
// strategy through the CPU pipeline, JITs it, measures its accuracy against a
// float64 forward substitution on DeltaNet-like inputs and its speed with
// Google Benchmark, then prints a markdown summary table. Every strategy has
// accuracy bounds (about 3-5x the errors measured on 4096 matrices); a
// configuration that fails to compile or exceeds a bound makes the run exit
// with status 1 after the table, naming it.
//
// Beside them, in the same process and on the same inputs: a plain C forward
// substitution (clang -O3 -march=native), LAPACK strtri through OpenBLAS, a
// memcpy of the same bytes and an OpenBLAS sgemm of one C x C x C product per
// matrix (bench/peers/tri_inv_peers.c).
//
// Usage: tri-inv-bench [--sizes=16,32,...] [--threads=N] [--batch=N]
//                      [--dynamic-batch] [--keep-heap] [--benchmark_* flags]
// --batch=64 keeps a C = 64 batch (1 MiB in, 1 MiB out) in the L2 cache, so
// the arithmetic is timed instead of DRAM; --dynamic-batch compiles the
// function for `tensor<?xCxCxf32>`; --keep-heap reuses freed result memory
// instead of page-faulting a fresh result in every call (see main).
//
//===----------------------------------------------------------------------===//

#include "BenchCommandLine.h"
#include "LoadAverage.h"
#include "peers/tri_inv_peers.h"

#include "deltanet/Dialect/DeltaNet/IR/DeltaNetAttrs.h"
#include "deltanet/Runtime/Compiler.h"
#include "deltanet/Runtime/MemRefCall.h"

#include "mlir/ExecutionEngine/CRunnerUtils.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/TargetParser/Host.h"

#include <benchmark/benchmark.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <malloc.h>
#include <map>
#include <memory>
#include <random>
#include <regex>
#include <string>
#include <unistd.h>
#include <vector>

using namespace mlir;

namespace {

/// Number of C x C matrices per call (`--batch`): the default 4096 streams
/// 64 MiB in and out at C = 64 (DRAM-bound on this machine); a batch that fits
/// the L2 cache (e.g. 64: 1 MiB in, 1 MiB out) measures the arithmetic.
int64_t kBatch = 4096;
/// Whether the compiled function takes a dynamic batch (`--dynamic-batch`):
/// `tensor<?xCxCxf32>` instead of the static `tensor<kBatch x C x C x f32>`.
bool kDynamicBatch = false;
/// Head dimension of the keys the matrices are built from.
constexpr int kHeadDim = 128;
/// Matrix sizes benchmarked unless `--sizes` says otherwise.
const int64_t kDefaultSizes[] = {16, 32, 64, 128};

//===----------------------------------------------------------------------===//
// Strategies
//===----------------------------------------------------------------------===//

/// One way of lowering tri_inv, as op attributes.
struct Strategy {
  /// Short identifier, used in benchmark names.
  std::string id;
  /// Human readable description, used in the table.
  std::string label;
  /// The op's attribute dictionary, without braces.
  std::string attrs;
  bool isBaseline = false;
  /// INT8 scale granularity (a pipeline option, not an op attribute).
  deltanet::QuantGranularity granularity = deltanet::QuantGranularity::Row;
  /// Largest accepted max relative error on realistic / adversarial inputs;
  /// NaN: reported, not asserted (configurations that are wrong by design).
  double maxRealistic = NAN, maxAdversarial = NAN;
  /// A native peer instead of compiled code (same calling convention).
  void (*peer)(Memref3 *, Memref3 *) = nullptr;
  /// Whether the result is an inverse to check (not memcpy / sgemm).
  bool isInverse = true;
  /// Extra CPU pipeline options (codegen choices, not op attributes).
  std::string pipelineOptions;
  /// Whether the op's tensors are bf16 (half the bytes in and out; the
  /// lowering widens to f32 once and rounds the result once) instead of f32.
  bool bf16Storage = false;
};

/// The bound of the smallest listed matrix size >= `c`, NaN above them all.
double boundForSize(int64_t c,
                    std::initializer_list<std::pair<int64_t, double>> bounds) {
  for (auto [size, bound] : bounds)
    if (c <= size)
      return bound;
  return NAN;
}

/// The strategies compared for matrices of size `c`; the first one is the
/// forward-substitution baseline.
std::vector<Strategy> getStrategies(int64_t c) {
  int64_t exactOrder = llvm::Log2_64_Ceil(c);
  constexpr auto kRow = deltanet::QuantGranularity::Row;
  // Bounds: about 3-5x the largest errors measured over C = 16..128 (README,
  // "tri_inv: accuracy vs float64"), per C where the error grows with C.
  std::vector<Strategy> strategies;
  strategies.push_back({"forward_substitution", "forward substitution",
                        "strategy = #deltanet.strategy<forward_substitution>",
                        /*isBaseline=*/true, kRow, 1.5e-7, 5e-7});
  strategies.push_back({"peer_c_forward_substitution",
                        "peer: C forward substitution (clang -O3 "
                        "-march=native)",
                        "", false, deltanet::QuantGranularity::Row, NAN, NAN,
                        peerForwardSubstitution});
  if (peerHaveOpenBLAS()) {
    strategies.push_back(
        {"peer_lapack_strtri", "peer: LAPACK strtri (OpenBLAS)", "", false,
         deltanet::QuantGranularity::Row, NAN, NAN, peerLapackStrtri});
    strategies.push_back({"peer_sgemm",
                          "peer: OpenBLAS sgemm C x C x C (rate, not an "
                          "inverse)",
                          "", false, deltanet::QuantGranularity::Row, NAN, NAN,
                          peerSgemm, /*isInverse=*/false});
  }
  strategies.push_back({"peer_memcpy", "peer: memcpy of the same bytes", "",
                        false, deltanet::QuantGranularity::Row, NAN, NAN,
                        peerMemcpy,
                        /*isInverse=*/false});
  strategies.push_back(
      {"blocked_bs16", "blocked (block 16)",
       "strategy = #deltanet.strategy<blocked>, block_size = 16 : i64",
       /*isBaseline=*/false, kRow, 3e-7, 3e-5});
  // The CPU's default f32 block size since session 8 (4 x 4 diagonal
  // blocks and two more merge levels; CPU TargetInfo).
  strategies.push_back(
      {"blocked_bs4", "blocked (block 4, the CPU's f32 default)",
       "strategy = #deltanet.strategy<blocked>, block_size = 4 : i64",
       /*isBaseline=*/false, kRow, 3e-7, 3e-5});
  strategies.push_back({"blocked_bs16_bf16", "blocked (block 16), bf16 matmuls",
                        "strategy = #deltanet.strategy<blocked>, block_size = "
                        "16 : i64, precision = #deltanet.precision<bf16>",
                        /*isBaseline=*/false, kRow, 6e-3, 0.75});
  // The same bf16 lowering with the matmuls as AVX512_BF16 dot products
  // (vdpbf16ps) instead of f32 FMAs on widened operands, where the host has
  // them: the same products, summed in the instruction's order.
  if (llvm::sys::getHostCPUFeatures().lookup("avx512bf16")) {
    Strategy dot = strategies.back();
    dot.id = "blocked_bs16_bf16_vdpbf16ps";
    dot.label = "blocked (block 16), bf16 matmuls as vdpbf16ps";
    dot.pipelineOptions = "bf16-dot-products=1";
    strategies.push_back(dot);
  }
  // tri_inv on bf16 tensors (a bf16 model's matrices): half the bytes in
  // and out, the CPU's default f32 arithmetic inside; and with bf16 products
  // on vdpbf16ps. The error
  // includes rounding the input and the result to bf16 (vs the f32 input's
  // float64 inverse).
  auto bf16Storage = [&](llvm::StringRef from, llvm::StringRef id,
                         llvm::StringRef label) {
    auto source = llvm::find_if(
        strategies, [&](const Strategy &s) { return s.id == from; });
    if (source == strategies.end())
      return;
    Strategy storage = *source;
    storage.id = id.str();
    storage.label = label.str();
    storage.bf16Storage = true;
    // Measured 1.2e-3 / 6.6e-3 at C = 64 (realistic / adversarial).
    storage.maxRealistic = 6e-3;
    storage.maxAdversarial = 3e-2;
    strategies.push_back(storage);
  };
  bf16Storage("blocked_bs4", "blocked_bs4_bf16_storage",
              "blocked (block 4), bf16 tensors, f32 arithmetic");
  bf16Storage("blocked_bs16_bf16_vdpbf16ps",
              "blocked_bs16_bf16_storage_vdpbf16ps",
              "blocked (block 16), bf16 tensors, bf16 matmuls as vdpbf16ps");
  strategies.push_back({"blocked_bs16_f16", "blocked (block 16), f16 matmuls",
                        "strategy = #deltanet.strategy<blocked>, block_size = "
                        "16 : i64, precision = #deltanet.precision<f16>",
                        /*isBaseline=*/false, kRow, 8e-4, 8e-2});
  strategies.push_back({"blocked_bs4_i8",
                        "blocked (block 4), i8 per-row scales",
                        "strategy = #deltanet.strategy<blocked>, block_size = "
                        "4 : i64, precision = #deltanet.precision<i8>",
                        /*isBaseline=*/false, kRow, 2e-2, 5e-2});
  strategies.push_back(
      {"blocked_bs4_i8_matrix", "blocked (block 4), i8 per-matrix scales",
       "strategy = #deltanet.strategy<blocked>, block_size = "
       "4 : i64, precision = #deltanet.precision<i8>",
       /*isBaseline=*/false, deltanet::QuantGranularity::Matrix, 3e-2, 8e-2});
  // The same INT8 inverse with each merge's operands quantised once (the
  // split products summed in i32, one dequantisation writing -U), and with
  // the merges of blocks below 16 in f32 as well (their 4 x 4 / 8 x 8
  // products are too short to amortise a quantisation): session 10.
  {
    Strategy once = strategies[strategies.size() - 2];
    once.id = "blocked_bs4_i8_once";
    once.label = "blocked (block 4), i8, operands quantised once per merge";
    once.pipelineOptions = "tri-inv-quantize-merges-once=1";
    strategies.push_back(once);
    once.id = "blocked_bs4_i8_once_from16";
    once.label = "blocked (block 4), i8 merges of blocks >= 16 (quantised "
                 "once), f32 below";
    once.pipelineOptions = "tri-inv-quantize-merges-once=1 "
                           "tri-inv-low-precision-merges-from=16";
    strategies.push_back(once);
    // One more INT8 variant with the CPU pipeline options in
    // TRI_INV_BENCH_I8_EXTRA (e.g. "tri-inv-quantize-merges-once=1
    // tri-inv-low-precision-merges-from=32"), for per-level cost probes;
    // the same accuracy bounds.
    if (const char *extra = getenv("TRI_INV_BENCH_I8_EXTRA")) {
      once.id = "blocked_bs4_i8_extra";
      once.label = std::string("blocked (block 4), i8, ") + extra;
      once.pipelineOptions = extra;
      strategies.push_back(once);
    }
  }
  // 16x16 INT8 blocks lose the cancelling powers on adversarial keys (2 to
  // 44): reported only.
  strategies.push_back({"blocked_bs16_i8", "blocked (block 16), i8 per-row",
                        "strategy = #deltanet.strategy<blocked>, block_size = "
                        "16 : i64, precision = #deltanet.precision<i8>",
                        /*isBaseline=*/false, kRow, 2.5e-2, NAN});
  // The exact series loses f32 digits as C grows (adversarial keys from
  // C = 64 on: 1e3 to 1e14, reported only).
  strategies.push_back(
      {"neumann_exact",
       "neumann exact (order " + std::to_string(exactOrder) + ")",
       "strategy = #deltanet.strategy<neumann>, order = " +
           std::to_string(exactOrder) + " : i64",
       /*isBaseline=*/false, kRow,
       boundForSize(c, {{16, 3e-7}, {32, 2e-6}, {64, 1e-4}, {128, 0.5}}),
       boundForSize(c, {{16, 3e-5}, {32, 2e-2}})});
  // Truncated series: a truncation error of 5e-3 at C = 16 on realistic
  // keys; beyond, and on adversarial keys, the truncation diverges (1 to 1e7,
  // reported only).
  double truncated = boundForSize(c, {{16, 2e-2}});
  strategies.push_back({"neumann_o3", "neumann (order 3)",
                        "strategy = #deltanet.strategy<neumann>, order = 3 "
                        ": i64, residual_steps = 0 : i64",
                        /*isBaseline=*/false, kRow, truncated, NAN});
  strategies.push_back({"neumann_o2_r1", "neumann (order 2, 1 residual step)",
                        "strategy = #deltanet.strategy<neumann>, order = 2 "
                        ": i64, residual_steps = 1 : i64",
                        /*isBaseline=*/false, kRow, truncated, NAN});
  return strategies;
}

/// The MLIR function `@inv` applying tri_inv with `attrs` to a batch of
/// `c` x `c` matrices.
std::string getSource(int64_t c, const std::string &attrs, bool bf16) {
  std::string type = "tensor<" +
                     (kDynamicBatch ? std::string("?") : std::to_string(kBatch)) +
                     "x" + std::to_string(c) + "x" + std::to_string(c) + "x" +
                     (bf16 ? "bf16" : "f32") + ">";
  return "func.func @inv(%a: " + type + ") -> " + type +
         " attributes {llvm.emit_c_interface} {\n"
         "  %x = deltanet.tri_inv %a {" +
         attrs + "} : " + type +
         "\n"
         "  return %x : " +
         type + "\n}\n";
}

//===----------------------------------------------------------------------===//
// Compilation
//===----------------------------------------------------------------------===//

using InvFn = void (*)(StridedMemRefType<float, 3> *result,
                       StridedMemRefType<float, 3> *input);

//===----------------------------------------------------------------------===//
// Inputs and reference
//===----------------------------------------------------------------------===//

/// How DeltaNet-like inputs are drawn.
struct Distribution {
  /// Squared correlation of the keys with a direction shared by the chunk.
  double correlation;
  /// Scale of the per-token log decay.
  double decay;
};

constexpr Distribution kRealistic = {0.3, 0.05};
constexpr Distribution kAdversarial = {0.98, 0.0};

/// A batch of `kBatch` row-major `c` x `c` matrices
///   A = tril(diag(beta) K K^T * exp(G_i - G_j), -1)
/// with garbage on and above the diagonal.
std::vector<float> generateInputs(int64_t c, const Distribution &dist,
                                  uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<float> a(kBatch * c * c);
  std::vector<double> keys(c * kHeadDim), shared(kHeadDim), beta(c), g(c);
  double noiseScale = std::sqrt(1.0 - dist.correlation);
  double sharedScale = std::sqrt(dist.correlation);
  for (int64_t b = 0; b < kBatch; ++b) {
    for (double &s : shared)
      s = normal(rng);
    double cumulative = 0.0;
    for (int64_t t = 0; t < c; ++t) {
      double *k = &keys[t * kHeadDim];
      double norm = 0.0;
      for (int d = 0; d < kHeadDim; ++d) {
        k[d] = noiseScale * normal(rng) + sharedScale * shared[d];
        norm += k[d] * k[d];
      }
      norm = std::sqrt(norm);
      for (int d = 0; d < kHeadDim; ++d)
        k[d] /= norm;
      beta[t] = 1.0 / (1.0 + std::exp(-normal(rng)));
      cumulative += -std::abs(normal(rng)) * dist.decay;
      g[t] = cumulative;
    }
    float *m = &a[b * c * c];
    for (int64_t i = 0; i < c; ++i) {
      for (int64_t j = 0; j < c; ++j) {
        if (j >= i) {
          m[i * c + j] = static_cast<float>(normal(rng) * 100.0);
          continue;
        }
        double dot = 0.0;
        for (int d = 0; d < kHeadDim; ++d)
          dot += keys[i * kHeadDim + d] * keys[j * kHeadDim + d];
        m[i * c + j] =
            static_cast<float>(beta[i] * dot * std::exp(g[i] - g[j]));
      }
    }
  }
  return a;
}

/// The float64 inverse of I + tril(a, -1) of every matrix of the batch,
/// by forward substitution: X[i, :] = e_i - sum_{k<i} L[i, k] X[k, :].
std::vector<double> referenceInverses(const std::vector<float> &a, int64_t c) {
  std::vector<double> x(a.size(), 0.0);
  for (int64_t b = 0; b < kBatch; ++b) {
    const float *l = &a[b * c * c];
    double *xb = &x[b * c * c];
    for (int64_t i = 0; i < c; ++i) {
      double *row = &xb[i * c];
      row[i] = 1.0;
      for (int64_t k = 0; k < i; ++k) {
        double lik = l[i * c + k];
        const double *rowK = &xb[k * c];
        for (int64_t j = 0; j <= k; ++j)
          row[j] -= lik * rowK[j];
      }
    }
  }
  return x;
}

/// A memref descriptor of a batch of `c` x `c` matrices at `data`.
StridedMemRefType<float, 3> getDescriptor(float *data, int64_t c) {
  return deltanet::makeMemRef<float, 3>(data, {kBatch, c, c});
}

/// `x` rounded to bf16 (to nearest even), as its bits.
uint16_t toBF16(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof(bits));
  if ((bits & 0x7fffffffu) > 0x7f800000u) // NaN: keep it quiet
    return static_cast<uint16_t>((bits >> 16) | 0x40);
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>(bits >> 16);
}

float fromBF16(uint16_t x) {
  uint32_t bits = static_cast<uint32_t>(x) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof(f));
  return f;
}

/// The input of one strategy: the f32 batch, or its bf16 rounding for a
/// strategy on bf16 tensors. The descriptor's element type is nominal: a
/// memref descriptor has the same layout for every element type.
struct Input {
  std::vector<float> f32;
  std::vector<uint16_t> bf16;

  explicit Input(std::vector<float> values) : f32(std::move(values)) {
    bf16.reserve(f32.size());
    for (float x : f32)
      bf16.push_back(toBF16(x));
  }
  StridedMemRefType<float, 3> descriptor(bool bf16Storage, int64_t c) {
    return getDescriptor(
        bf16Storage ? reinterpret_cast<float *>(bf16.data()) : f32.data(), c);
  }
  size_t bytes(bool bf16Storage) const {
    return bf16Storage ? bf16.size() * sizeof(uint16_t)
                       : f32.size() * sizeof(float);
  }
};

/// Result of checking one compiled strategy on one input batch.
struct Accuracy {
  /// Max over the batch of ||X - X_ref||_F / ||X_ref||_F (NaN if any matrix
  /// has a non-finite error).
  double maxRelError = NAN;
  /// Why the run could not be checked, if it could not.
  std::string problem;
};

/// Runs `fn` once on `input` (bf16 tensors if `bf16Storage`) and compares
/// the result with `reference`.
Accuracy measureAccuracy(InvFn fn, Input input, bool bf16Storage,
                         const std::vector<double> &reference, int64_t c) {
  Accuracy accuracy;
  Input pristine = input;
  StridedMemRefType<float, 3> in = input.descriptor(bf16Storage, c);
  StridedMemRefType<float, 3> out;
  fn(&out, &in);

  if (out.data == in.data || out.basePtr == in.basePtr) {
    accuracy.problem = "result aliases the input";
    return accuracy;
  }
  if (std::memcmp(pristine.descriptor(bf16Storage, c).data, in.data,
                  input.bytes(bf16Storage)) != 0)
    accuracy.problem = "input was modified";
  if (out.sizes[0] != kBatch || out.sizes[1] != c || out.sizes[2] != c) {
    accuracy.problem = "unexpected result shape";
    deltanet::releaseResult(out, in.basePtr);
    return accuracy;
  }

  double maxError = 0.0;
  bool finite = true;
  for (int64_t b = 0; b < kBatch && finite; ++b) {
    double diff = 0.0, norm = 0.0;
    for (int64_t i = 0; i < c; ++i) {
      for (int64_t j = 0; j < c; ++j) {
        double ref = reference[(b * c + i) * c + j];
        int64_t at = out.offset + b * out.strides[0] + i * out.strides[1] +
                     j * out.strides[2];
        double got = bf16Storage
                         ? fromBF16(reinterpret_cast<uint16_t *>(out.data)[at])
                         : out.data[at];
        diff += (got - ref) * (got - ref);
        norm += ref * ref;
      }
    }
    double error = std::sqrt(diff / norm);
    if (!std::isfinite(error))
      finite = false;
    maxError = std::max(maxError, error);
  }
  deltanet::releaseResult(out, in.basePtr);
  accuracy.maxRelError = finite ? maxError : NAN;
  return accuracy;
}

//===----------------------------------------------------------------------===//
// Benchmark configurations
//===----------------------------------------------------------------------===//

/// One (C, strategy) pair: its compiled code and everything measured.
struct Config {
  int64_t c;
  Strategy strategy;
  std::string benchmarkName;
  std::unique_ptr<ExecutionEngine> engine;
  InvFn fn = nullptr;
  std::string error;
  double compileSeconds = 0.0;
  Accuracy realistic, adversarial;
  /// Accumulated over the reported iteration runs of its benchmark, or the
  /// median repetition's once Google Benchmark reports one (with
  /// --benchmark_report_aggregates_only it reports nothing else).
  double realSeconds = 0.0, cpuSeconds = 0.0;
  int64_t iterations = 0;
  bool fromMedian = false;

  /// Why this configuration fails its accuracy check, or an empty string.
  std::string accuracyFailure() const {
    if (!fn)
      return "did not compile: " + error;
    std::string why;
    auto check = [&](const char *inputs, const Accuracy &accuracy,
                     double bound) {
      if (!accuracy.problem.empty())
        why += std::string(why.empty() ? "" : "; ") + inputs + ": " +
               accuracy.problem;
      if (std::isnan(bound))
        return;
      // NaN errors (non-finite results) fail too.
      if (!(accuracy.maxRelError <= bound))
        why += llvm::formatv("{0}{1} error {2:e2} > bound {3:e1}",
                             why.empty() ? "" : "; ", inputs,
                             accuracy.maxRelError, bound)
                   .str();
    };
    check("realistic", realistic, strategy.maxRealistic);
    check("adversarial", adversarial, strategy.maxAdversarial);
    return why;
  }

  /// Real (wall-clock) or process CPU time per matrix, in ns.
  double nsPerMatrix(bool cpu = false) const {
    return iterations ? (cpu ? cpuSeconds : realSeconds) /
                            static_cast<double>(iterations) /
                            static_cast<double>(kBatch) * 1e9
                      : NAN;
  }
};

/// Times one call on the realistic batch.
void runBenchmark(benchmark::State &state, Config *config, Input *input) {
  if (!config->fn) {
    state.SkipWithError(config->error.c_str());
    return;
  }
  StridedMemRefType<float, 3> in =
      input->descriptor(config->strategy.bf16Storage, config->c);
  for (auto _ : state) {
    StridedMemRefType<float, 3> out;
    config->fn(&out, &in);
    benchmark::DoNotOptimize(out.data);
    deltanet::releaseResult(out, in.basePtr);
  }
  // Matrices per second of real time, inverted: seconds per matrix.
  state.counters["time/matrix"] =
      benchmark::Counter(static_cast<double>(kBatch),
                         benchmark::Counter::kIsIterationInvariantRate |
                             benchmark::Counter::kInvert);
}

std::string formatError(const Accuracy &accuracy) {
  if (!accuracy.problem.empty() && std::isnan(accuracy.maxRelError))
    return "ERROR: " + accuracy.problem;
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.2e", accuracy.maxRelError);
  std::string text = std::isnan(accuracy.maxRelError) ? "nan/inf" : buffer;
  if (!accuracy.problem.empty())
    text += " (" + accuracy.problem + ")";
  return text;
}

std::string formatNumber(double value, const char *format) {
  if (std::isnan(value))
    return "-";
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), format, value);
  return buffer;
}

/// The console reporter, plus a markdown summary of all configurations
/// once every benchmark has run.
class SummaryReporter : public benchmark::ConsoleReporter {
public:
  SummaryReporter(OutputOptions options,
                  std::vector<std::unique_ptr<Config>> &configs,
                  int64_t threads)
      : ConsoleReporter(options), configs(configs), threads(threads) {
    for (auto &config : configs)
      byName[config->benchmarkName] = config.get();
  }

  void ReportRuns(const std::vector<Run> &runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run &run : runs) {
      if (run.error_occurred)
        continue;
      auto it = byName.find(run.run_name.function_name);
      if (it == byName.end())
        continue;
      Config &config = *it->second;
      // A median aggregate holds one repetition's accumulated times and
      // iteration count; it replaces the sums of the iteration runs.
      bool median = run.run_type == Run::RT_Aggregate &&
                    run.aggregate_name == "median";
      if (median) {
        config.realSeconds = run.real_accumulated_time;
        config.cpuSeconds = run.cpu_accumulated_time;
        config.iterations = run.iterations;
        config.fromMedian = true;
        continue;
      }
      if (run.run_type != Run::RT_Iteration || config.fromMedian)
        continue;
      config.realSeconds += run.real_accumulated_time;
      config.cpuSeconds += run.cpu_accumulated_time;
      config.iterations += run.iterations;
    }
  }

  void Finalize() override {
    ConsoleReporter::Finalize();
    std::ostream &os = GetOutputStream();
    os << "\n## deltanet.tri_inv, batch of " << kBatch << " matrices"
       << (kDynamicBatch ? " (dynamic batch dimension)" : "")
       << ", CPU pipeline defaults, " << threads << " thread(s)\n\n"
       << "Relative error: max over the batch of ||X - X_ref||_F / "
          "||X_ref||_F, X_ref = float64 forward substitution. ns / matrix: "
          "real time (the speed ratios; the median repetition's with "
          "--benchmark_repetitions, else the mean over all runs); CPU ns: "
          "the process's CPU time, which a loaded machine distorts less "
          "(1 thread).\n\n"
       << "| C | strategy | rel. error realistic | rel. error adversarial | "
          "ns / matrix | CPU ns / matrix | speed vs forward substitution | "
          "speed vs C forward substitution |\n"
       << "|---:|---|---:|---:|---:|---:|---:|---:|\n";
    std::map<int64_t, double> baseline, peerBaseline;
    for (auto &config : configs) {
      if (config->strategy.isBaseline)
        baseline[config->c] = config->nsPerMatrix();
      if (config->strategy.peer == peerForwardSubstitution)
        peerBaseline[config->c] = config->nsPerMatrix();
    }
    for (auto &config : configs) {
      os << "| " << config->c << " | " << config->strategy.label << " | ";
      if (!config->fn) {
        os << "ERROR: " << config->error << " | | | | | |\n";
        continue;
      }
      double ns = config->nsPerMatrix();
      double ratio = baseline.count(config->c) ? baseline[config->c] / ns : NAN;
      double peerRatio =
          peerBaseline.count(config->c) ? peerBaseline[config->c] / ns : NAN;
      if (config->strategy.isInverse)
        os << formatError(config->realistic) << " | "
           << formatError(config->adversarial) << " | ";
      else
        os << "- | - | ";
      os << formatNumber(ns, "%.1f") << " | "
         << formatNumber(config->nsPerMatrix(/*cpu=*/true), "%.1f") << " | "
         << formatNumber(ratio, "%.2fx")
         << " | " << formatNumber(peerRatio, "%.2fx") << " |\n";
    }
    os << std::flush;
  }

private:
  std::vector<std::unique_ptr<Config>> &configs;
  int64_t threads;
  std::map<std::string, Config *> byName;
};

/// Removes `--sizes=a,b,...` from the command line and returns its values,
/// or the default sizes. Returns an empty list on a malformed value.
std::vector<int64_t> takeSizes(int &argc, char **argv) {
  std::vector<int64_t> sizes(std::begin(kDefaultSizes),
                             std::end(kDefaultSizes));
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    llvm::StringRef arg = argv[i];
    if (!arg.consume_front("--sizes=")) {
      argv[kept++] = argv[i];
      continue;
    }
    sizes.clear();
    llvm::SmallVector<llvm::StringRef> parts;
    arg.split(parts, ',', /*MaxSplit=*/-1, /*KeepEmpty=*/false);
    for (llvm::StringRef part : parts) {
      int64_t size;
      if (part.trim().getAsInteger(10, size) || size < 2)
        return {};
      sizes.push_back(size);
    }
  }
  argc = kept;
  argv[argc] = nullptr;
  return sizes;
}

/// Removes `--NAME=N` from the command line and returns N (`fallback` when
/// absent; -1 on a malformed value or one below `minimum`).
int64_t takeIntFlag(int &argc, char **argv, llvm::StringRef name,
                    int64_t fallback, int64_t minimum) {
  int64_t value = fallback;
  std::string prefix = ("--" + name + "=").str();
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    llvm::StringRef arg = argv[i];
    if (!arg.consume_front(prefix)) {
      argv[kept++] = argv[i];
      continue;
    }
    if (arg.getAsInteger(10, value) || value < minimum)
      return -1;
  }
  argc = kept;
  argv[argc] = nullptr;
  return value;
}

} // namespace

int main(int argc, char **argv) {
  auto start = std::chrono::steady_clock::now();
  auto elapsed = [](std::chrono::steady_clock::time_point since) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                         since)
        .count();
  };

  std::vector<int64_t> sizes = takeSizes(argc, argv);
  if (sizes.empty()) {
    llvm::errs() << "error: --sizes expects a comma-separated list of "
                    "matrix sizes >= 2\n";
    return 1;
  }
  int64_t threads = takeIntFlag(argc, argv, "threads", 1, 1);
  if (threads < 1) {
    llvm::errs() << "error: --threads expects an integer >= 1\n";
    return 1;
  }
  kBatch = takeIntFlag(argc, argv, "batch", kBatch, 1);
  if (kBatch < 1) {
    llvm::errs() << "error: --batch expects an integer >= 1\n";
    return 1;
  }
  kDynamicBatch = deltanet::bench::takeBoolFlag(argc, argv, "dynamic-batch");
  // Every call (compiled code and peers alike) returns a fresh result; at
  // 4096 x 64 x 64 f32 (64 MiB) glibc maps it anew and returns it to the
  // kernel on free, so each call page-faults 16 Ki pages, which the kernel
  // zeroes: ~7 us per matrix of a 64 MiB memcpy here against ~1.7 us into a
  // reused buffer. --keep-heap keeps freed blocks in the heap (as
  // bench/aot's drivers do) so the large batch measures memory bandwidth
  // instead of page faults.
  deltanet::bench::takeKeepHeapFlag(argc, argv);
  deltanet::bench::reportLoadAverage("at start");
  // OpenBLAS on the same number of threads as the compiled code.
  peerSetOpenBLASThreads(static_cast<int>(threads));
  // A peer on SSE3 kernels while the host has AVX-512 is no peer (OpenBLAS
  // does not recognise a VM's generic CPU model).
  if (peerHaveOpenBLAS()) {
    std::string core = peerOpenBLASCoreName();
    llvm::errs() << "OpenBLAS kernels: " << core << "\n";
    if (llvm::StringRef(core).equals_insensitive("prescott") &&
        llvm::sys::getHostCPUFeatures().lookup("avx512f"))
      llvm::errs() << "warning: OpenBLAS runs its SSE3 (Prescott) kernels on "
                      "an AVX-512 host: rerun with OPENBLAS_CORETYPE=SkylakeX "
                      "for a fair LAPACK / sgemm peer\n";
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv))
    return 1;

  DialectRegistry registry;
  deltanet::registerCompilerDependencies(registry);
  MLIRContext context(registry, MLIRContext::Threading::DISABLED);
  context.loadAllAvailableDialects();

  // Compile every configuration that --benchmark_filter selects (all by
  // default) and check its accuracy; keep the realistic inputs for timing.
  // The filter is matched against "tri_inv/C=<c>/<id>/" (the registered
  // name's prefix), as Google Benchmark matches it (std::regex_search); a
  // negative filter ("-...") or one that selects nothing (`^$`: the
  // accuracy-only run of the bench/tri-inv-bench-accuracy test) compiles
  // everything.
  std::string filter = benchmark::GetBenchmarkFilter();
  bool filtering = !filter.empty() && filter != "." && filter != "all" &&
                   filter.front() != '-';
  std::regex selected(filtering ? filter : ".");
  auto prefixOf = [](int64_t c, const Strategy &strategy) {
    return "tri_inv/C=" + std::to_string(c) + "/" + strategy.id + "/";
  };
  if (filtering)
    filtering = llvm::any_of(sizes, [&](int64_t c) {
      return llvm::any_of(getStrategies(c), [&](const Strategy &strategy) {
        return std::regex_search(prefixOf(c, strategy), selected);
      });
    });
  std::vector<std::unique_ptr<Config>> configs;
  std::map<int64_t, Input> realisticInputs;
  for (int64_t c : sizes) {
    auto setupStart = std::chrono::steady_clock::now();
    Input realistic(generateInputs(c, kRealistic, 1000 + c));
    Input adversarial(generateInputs(c, kAdversarial, 2000 + c));
    std::vector<double> realisticRef = referenceInverses(realistic.f32, c);
    std::vector<double> adversarialRef = referenceInverses(adversarial.f32, c);
    llvm::errs() << llvm::format("C = %lld: inputs and references in %.1f s\n",
                                 static_cast<long long>(c),
                                 elapsed(setupStart));

    for (const Strategy &strategy : getStrategies(c)) {
      if (filtering && !std::regex_search(prefixOf(c, strategy), selected))
        continue;
      auto config = std::make_unique<Config>();
      config->c = c;
      config->strategy = strategy;
      config->benchmarkName =
          "tri_inv/C=" + std::to_string(c) + "/" + strategy.id;

      auto compileStart = std::chrono::steady_clock::now();
      deltanet::CompileOptions options;
      options.pipelineOptions =
          ("tri-inv-quant-granularity=" +
           deltanet::stringifyQuantGranularity(strategy.granularity) +
           " num-threads=" + std::to_string(threads) + " " +
           strategy.pipelineOptions)
              .str();
      if (strategy.peer)
        config->fn = reinterpret_cast<InvFn>(strategy.peer);
      else
        config->engine = deltanet::compile(
            context, getSource(c, strategy.attrs, strategy.bf16Storage),
            options, config->error);
      if (config->engine) {
        auto symbol = config->engine->lookup("_mlir_ciface_inv");
        if (symbol)
          config->fn = reinterpret_cast<InvFn>(*symbol);
        else
          config->error = llvm::toString(symbol.takeError());
      }
      config->compileSeconds = elapsed(compileStart);

      if (config->fn && !strategy.isInverse) {
        llvm::errs() << "  " << config->benchmarkName << "\n";
      } else if (config->fn) {
        config->realistic =
            measureAccuracy(config->fn, realistic, strategy.bf16Storage,
                            realisticRef, c);
        config->adversarial =
            measureAccuracy(config->fn, adversarial, strategy.bf16Storage,
                            adversarialRef, c);
        std::string failure = config->accuracyFailure();
        llvm::errs() << llvm::format(
            "  %-40s compiled in %.2f s, max rel. error %s / %s%s\n",
            config->benchmarkName.c_str(), config->compileSeconds,
            formatError(config->realistic).c_str(),
            formatError(config->adversarial).c_str(),
            failure.empty() ? "" : ("  FAIL: " + failure).c_str());
      } else {
        llvm::errs() << "  " << config->benchmarkName
                     << ": FAILED: " << config->error << "\n";
      }
      configs.push_back(std::move(config));
    }
    realisticInputs.emplace(c, std::move(realistic));
  }

  for (auto &config : configs)
    benchmark::RegisterBenchmark(config->benchmarkName.c_str(), runBenchmark,
                                 config.get(), &realisticInputs.at(config->c))
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->MinTime(0.2);

  SummaryReporter reporter(isatty(STDOUT_FILENO)
                               ? benchmark::ConsoleReporter::OO_ColorTabular
                               : benchmark::ConsoleReporter::OO_Tabular,
                           configs, threads);
  benchmark::RunSpecifiedBenchmarks(&reporter);
  deltanet::bench::reportLoadAverage("after the runs", static_cast<int>(threads));
  benchmark::Shutdown();

  std::cout
      << llvm::formatv("\nTotal runtime: {0:F1} s\n", elapsed(start)).str();

  // The accuracy check: every configuration compiled and within its bounds.
  int failures = 0;
  for (auto &config : configs) {
    std::string failure = config->accuracyFailure();
    if (failure.empty())
      continue;
    ++failures;
    std::cout << "FAIL: " << config->benchmarkName << ": " << failure << "\n";
  }
  std::cout << llvm::formatv("accuracy check: {0} of {1} configurations "
                             "failed\n",
                             failures, configs.size())
                   .str()
            << std::flush;
  return failures ? 1 : 0;
}
