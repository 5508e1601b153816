//===- gdr_bench.cpp - Chunk vs recurrent gated delta rule on the CPU -----===//
//
// Compiles deltanet.chunk_gated_delta_rule and
// deltanet.recurrent_gated_delta_rule for one shape through
// --deltanet-cpu-pipeline, checks every kernel against a float64 recurrence
// (exit status 1, before any timing, when one exceeds its bound), reports how
// far the chunk kernels are from the recurrent one, and times them with
// Google Benchmark (tokens/s as a counter).
//
// Peer: llama.cpp's fused CPU op `ggml_gated_delta_net` (a token-by-token
// recurrence parallel over heads) when the bench is configured with
// -DDELTANET_GGML_SOURCE_DIR=<ggml source tree> (bench/CMakeLists.txt builds
// its CPU backend); same inputs, its output and final state checked against
// the float64 recurrence and our recurrent op (a mismatch fails the run).
//
// The row `.../out-params` is the chunk op compiled with
// results-to-out-params: it writes `o` and the final state into buffers
// allocated once before the timed loop (ggml's condition) instead of
// returning fresh mallocs; checked against float64 like every kernel, and
// twice into the same buffers (first filled with NaN, then holding the
// previous call's results) for bitwise-identical results equal to the
// returning chunk op's.
//
// Usage: gdr-bench [--B=1 --T=4096 --H=4 --HV=4 --K=128 --V=128
//                   --chunk-size=64 --threads=1[,N...]] [--buffer-stagger=S]
//                  [--keep-heap]
//                  [--benchmark_* flags]
// --threads=N: our kernels compiled with num-threads=N (OpenMP over heads),
// ggml's graph computed on N threads. --threads=1,2: every row once per
// thread count, in one process (row names prefixed `threads=N/`), so that
// the rows interleave (--benchmark_enable_random_interleaving) and the
// 2-thread speed-up is a same-run ratio; every kernel's outputs must then
// be bitwise identical to its first thread count's. libomp's workers sleep
// right after each parallel region (KMP_BLOCKTIME=0 unless set): spinning
// for the default 200 ms they would share the machine with the next row;
// ggml's pool is paused after its rows for the same reason. --keep-heap: freed blocks stay in the
// process's heap (glibc's mmap threshold and trimming off), so the outputs
// each call returns (32 MiB of `o` at H = 16) reuse memory that is already
// mapped instead of page-faulting fresh pages, which the kernel zeroes.
// --buffer-stagger=S: the bench's n-th tensor (q, k, v, g, beta, h0, o,
// final state) starts n * S bytes past a 4 KiB boundary (S >= 1; without
// it, all at 4 KiB boundaries); the offsets are printed. Each row's `preempted` counter:
// involuntary context switches of the timed thread per iteration. The row
// `yardstick/l2_pointer_chase` times dependent loads through 512 KiB: it
// moves only with the machine (what else uses the core), not with our code.
//
//===----------------------------------------------------------------------===//

#include "BenchCommandLine.h"
#include "LoadAverage.h"
#include "deltanet/Dialect/DeltaNet/IR/DeltaNetAttrs.h"
#include "deltanet/Runtime/Compiler.h"
#include "deltanet/Runtime/MemRefCall.h"

#include "mlir/ExecutionEngine/CRunnerUtils.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/TargetParser/Host.h"

#include <benchmark/benchmark.h>

#ifdef DELTANET_BENCH_HAVE_GGML
#include "ggml-cpu.h"
#include "ggml.h"
#endif

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <malloc.h>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <sys/resource.h>

using namespace mlir;

namespace {

using Memref4 = StridedMemRefType<float, 4>;
using Memref3 = StridedMemRefType<float, 3>;

/// Results of the compiled function: `o` and the final state.
struct Results {
  Memref4 o;
  Memref4 state;
  /// Whether the buffers are the caller's (out-params), not the callee's
  /// mallocs that release() frees.
  bool callerOwned = false;
};
using GdrFn = void (*)(Results *, Memref4 *, Memref4 *, Memref4 *, Memref3 *,
                       Memref3 *, Memref4 *);
/// The same function compiled with results-to-out-params: `o` and the final
/// state are written into the last two arguments.
using GdrOutParamsFn = void (*)(Memref4 *, Memref4 *, Memref4 *, Memref3 *,
                                Memref3 *, Memref4 *, Memref4 *, Memref4 *);

/// The benchmarked shape.
struct Shape {
  int64_t b = 1, t = 4096, h = 4, hv = 4, k = 128, v = 128, chunk = 64;
};

/// Bytes past a 4 KiB boundary of the next tensor the bench allocates
/// (--buffer-stagger: the n-th tensor at n * stagger; without it, 0: every
/// one at a 4 KiB boundary).
int64_t bufferStagger = 0, tensorsAllocated = 0;

/// Places every tensor at a fixed offset modulo 4 KiB (the L1 set index and
/// the 4K-aliasing bits), the same in every process: an 8 MiB std::vector
/// lands wherever the heap is after the JIT's allocations (16-byte
/// alignment). Session 18 (docs/Performance.md).
template <typename T> struct PlacedAllocator {
  using value_type = T;
  PlacedAllocator() = default;
  template <typename U> PlacedAllocator(const PlacedAllocator<U> &) {}
  T *allocate(size_t n) {
    int64_t offset = (tensorsAllocated++ * bufferStagger) % 4096;
    size_t bytes = llvm::alignTo(n * sizeof(T) + 4096 + offset, 4096);
    char *base = static_cast<char *>(std::aligned_alloc(4096, bytes));
    if (!base)
      llvm::report_fatal_error("gdr-bench: out of memory");
    // The base pointer, for deallocate, just below the data.
    char *data = base + 4096 + offset;
    reinterpret_cast<char **>(data)[-1] = base;
    return reinterpret_cast<T *>(data);
  }
  void deallocate(T *p, size_t) { std::free(reinterpret_cast<char **>(p)[-1]); }
  bool operator==(const PlacedAllocator &) const { return true; }
};
using PlacedVector = std::vector<float, PlacedAllocator<float>>;

/// A dense row-major f32 tensor and its memref descriptor.
template <int Rank> struct Tensor {
  PlacedVector data;
  StridedMemRefType<float, Rank> ref;

  explicit Tensor(std::array<int64_t, Rank> sizes) {
    int64_t n = 1;
    for (int64_t s : sizes)
      n *= s;
    data.resize(n);
    ref = deltanet::makeMemRef<float, Rank>(data.data(), sizes);
  }
};

/// Inputs drawn as in test/lib/gdr_testgen.py ("realistic"): L2-normalised
/// keys with correlation 0.3 to a shared direction, beta = sigmoid(N(0,1)),
/// g = -|N(0,1)| * 0.1, small random initial state.
struct Inputs {
  Tensor<4> q, k, v;
  Tensor<3> g, beta;
  Tensor<4> h0;

  explicit Inputs(const Shape &s)
      : q({s.b, s.t, s.h, s.k}), k({s.b, s.t, s.h, s.k}),
        v({s.b, s.t, s.hv, s.v}), g({s.b, s.t, s.hv}), beta({s.b, s.t, s.hv}),
        h0({s.b, s.hv, s.k, s.v}) {
    std::mt19937_64 rng(42);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> shared(s.k);
    for (float &x : shared)
      x = normal(rng);
    auto keyLike = [&](PlacedVector &data, float corr) {
      for (size_t row = 0; row < data.size() / s.k; ++row) {
        float *x = &data[row * s.k];
        double norm = 0.0;
        for (int64_t i = 0; i < s.k; ++i) {
          x[i] =
              std::sqrt(1 - corr) * normal(rng) + std::sqrt(corr) * shared[i];
          norm += double(x[i]) * x[i];
        }
        for (int64_t i = 0; i < s.k; ++i)
          x[i] /= std::sqrt(norm);
      }
    };
    keyLike(q.data, 0.0f);
    keyLike(k.data, 0.3f);
    for (float &x : v.data)
      x = normal(rng);
    for (float &x : g.data)
      x = -std::fabs(normal(rng)) * 0.1f;
    for (float &x : beta.data)
      x = 1.0f / (1.0f + std::exp(-normal(rng)));
    for (float &x : h0.data)
      x = 0.1f * normal(rng);
  }
};

std::string tensorType(std::initializer_list<int64_t> dims) {
  std::string s = "tensor<";
  for (int64_t d : dims)
    s += std::to_string(d) + "x";
  return s + "f32>";
}

/// `@gdr` applying the chunk op (chunk > 0) or the recurrent op.
std::string getSource(const Shape &s, bool chunked) {
  std::string qk = tensorType({s.b, s.t, s.h, s.k});
  std::string v = tensorType({s.b, s.t, s.hv, s.v});
  std::string gb = tensorType({s.b, s.t, s.hv});
  std::string st = tensorType({s.b, s.hv, s.k, s.v});
  std::string types = "(" + qk + ", " + qk + ", " + v + ", " + gb + ", " + gb +
                      ", " + st + ") -> (" + v + ", " + st + ")";
  std::string op = chunked ? "deltanet.chunk_gated_delta_rule"
                           : "deltanet.recurrent_gated_delta_rule";
  std::string attrs =
      chunked ? " {chunk_size = " + std::to_string(s.chunk) + " : i64}" : "";
  return llvm::formatv(
             "func.func @gdr(%q: {0}, %k: {0}, %v: {1}, %g: {2}, %beta: {2}, "
             "%h0: {3}) -> ({1}, {3}) attributes {{llvm.emit_c_interface} {{\n"
             "  %o, %hT = {4} %q, %k, %v, %g, %beta, %h0{5} : {6}\n"
             "  return %o, %hT : {1}, {3}\n}\n",
             qk, v, gb, st, op, attrs, types)
      .str();
}

/// The float64 gated delta rule, token by token (the semantics of both ops):
/// per batch and value head j (q/k head j / (HV / H)), S = h0 (K x V), then
///   S <- S exp(g_t); u = beta_t (v_t - S^T k_t); S <- S + k_t u^T;
///   o_t = S^T (q_t / sqrt(K)).
/// Returns o ([B, T, HV, V]) and the final states ([B, HV, K, V]).
std::pair<std::vector<double>, std::vector<double>>
referenceRecurrence(const Shape &s, const Inputs &in) {
  std::vector<double> o(s.b * s.t * s.hv * s.v), state(s.b * s.hv * s.k * s.v);
  double scale = 1.0 / std::sqrt(double(s.k));
  std::vector<double> u(s.v);
  for (int64_t b = 0; b < s.b; ++b) {
    for (int64_t j = 0; j < s.hv; ++j) {
      int64_t i = j / (s.hv / s.h);
      double *st = &state[(b * s.hv + j) * s.k * s.v];
      const float *h0 = &in.h0.data[(b * s.hv + j) * s.k * s.v];
      std::copy(h0, h0 + s.k * s.v, st);
      for (int64_t t = 0; t < s.t; ++t) {
        const float *q = &in.q.data[((b * s.t + t) * s.h + i) * s.k];
        const float *k = &in.k.data[((b * s.t + t) * s.h + i) * s.k];
        const float *v = &in.v.data[((b * s.t + t) * s.hv + j) * s.v];
        double decay = std::exp(double(in.g.data[(b * s.t + t) * s.hv + j]));
        double beta = in.beta.data[(b * s.t + t) * s.hv + j];
        for (int64_t x = 0; x < s.k * s.v; ++x)
          st[x] *= decay;
        for (int64_t y = 0; y < s.v; ++y)
          u[y] = v[y];
        for (int64_t x = 0; x < s.k; ++x)
          for (int64_t y = 0; y < s.v; ++y)
            u[y] -= st[x * s.v + y] * k[x];
        for (int64_t x = 0; x < s.k; ++x)
          for (int64_t y = 0; y < s.v; ++y)
            st[x * s.v + y] += k[x] * beta * u[y];
        double *ot = &o[((b * s.t + t) * s.hv + j) * s.v];
        for (int64_t y = 0; y < s.v; ++y)
          ot[y] = 0.0;
        for (int64_t x = 0; x < s.k; ++x)
          for (int64_t y = 0; y < s.v; ++y)
            ot[y] += st[x * s.v + y] * q[x] * scale;
      }
    }
  }
  return {std::move(o), std::move(state)};
}

/// Caller-provided outputs of the out-param kernels, allocated once (as
/// ggml's tensors are, in its context).
struct Outputs {
  Tensor<4> o, state;
  explicit Outputs(const Shape &s)
      : o({s.b, s.t, s.hv, s.v}), state({s.b, s.hv, s.k, s.v}) {}
};

/// A compiled variant, its function pointer and its accuracy bound.
struct Kernel {
  std::string name;
  std::unique_ptr<ExecutionEngine> engine;
  GdrFn fn = nullptr;
  /// Set instead of `fn` for a kernel compiled with results-to-out-params.
  GdrOutParamsFn outParamsFn = nullptr;
  /// Largest accepted relative error of the outputs and of the final states
  /// against the float64 recurrence.
  double bound = 0.0;
  /// The num-threads it was compiled with.
  int64_t threads = 1;
};

/// Involuntary context switches of the calling thread so far.
long involuntaryContextSwitches() {
  rusage usage;
  getrusage(RUSAGE_THREAD, &usage);
  return usage.ru_nivcsw;
}

/// Calls `kernel`; an out-param kernel writes into `out` (and the Results
/// view them, caller-owned).
Results run(const Kernel &kernel, Inputs &in, Outputs &out) {
  Results r;
  if (kernel.outParamsFn) {
    kernel.outParamsFn(&in.q.ref, &in.k.ref, &in.v.ref, &in.g.ref, &in.beta.ref,
                       &in.h0.ref, &out.o.ref, &out.state.ref);
    r.o = out.o.ref;
    r.state = out.state.ref;
    r.callerOwned = true;
    return r;
  }
  kernel.fn(&r, &in.q.ref, &in.k.ref, &in.v.ref, &in.g.ref, &in.beta.ref,
            &in.h0.ref);
  return r;
}

void release(Results &r) {
  if (r.callerOwned)
    return;
  deltanet::releaseResult(r.o, nullptr);
  deltanet::releaseResult(r.state, nullptr);
}

/// Whether two results hold the same bits.
bool bitwiseEqual(const Memref4 &a, const Memref4 &b) {
  int64_t n = a.sizes[0] * a.sizes[1] * a.sizes[2] * a.sizes[3];
  return std::memcmp(a.data, b.data, n * sizeof(float)) == 0;
}

/// ||a - b||_F / ||b||_F over the `n` elements of dense row-major data.
template <typename T>
double relativeDifference(const float *a, const T *b, int64_t n) {
  double num = 0.0, den = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    double d = double(a[i]) - double(b[i]);
    num += d * d;
    den += double(b[i]) * double(b[i]);
  }
  return std::sqrt(num / den);
}

double relativeDifference(const Memref4 &a, const Memref4 &b) {
  return relativeDifference(a.data, b.data,
                            a.sizes[0] * a.sizes[1] * a.sizes[2] * a.sizes[3]);
}

#ifdef DELTANET_BENCH_HAVE_GGML
/// llama.cpp's fused CPU op on the bench's inputs: one ggml graph with
/// `ggml_gated_delta_net`, its tensors in one ggml context, computed by a
/// persistent ggml thread pool (as llama.cpp does). ggml's layouts are ours
/// with the dims reversed (q, k: [K, H, T, B] = our [B, T, H, K]; g, beta:
/// [1, HV, T, B]), except the state: ggml keeps S^T ([V, K] per head, key
/// index fastest), so h0 is transposed in and the final state out. ggml's
/// scale is 1/sqrt(V) (ours 1/sqrt(K): the peer needs K == V) and its q/k
/// heads are tiled (value head j reads head j % H) where ours are
/// interleaved (j / (HV / H)): the same for H == HV, which it needs too.
struct GgmlPeer {
  ggml_context *ctx = nullptr;
  ggml_cgraph *graph = nullptr;
  ggml_tensor *out = nullptr;
  ggml_threadpool *pool = nullptr;
  ggml_cplan plan{};
  std::vector<uint8_t> work;
  Shape s;

  static bool supports(const Shape &s, std::string &why) {
    if (s.k != s.v)
      why = "needs K == V (ggml's state is S_v x S_v)";
    else if (s.h != s.hv)
      why = "needs H == HV (ggml tiles q/k heads, we interleave them)";
    return why.empty();
  }

  GgmlPeer(const Shape &shape, const Inputs &in, int threads) : s(shape) {
    size_t floats = 2 * s.b * s.t * s.h * s.k + s.b * s.t * s.hv * s.v +
                    2 * s.b * s.t * s.hv + s.b * s.hv * s.k * s.v +
                    (s.b * s.t * s.hv * s.v + s.b * s.hv * s.v * s.v);
    ggml_init_params params = {floats * sizeof(float) + 16 * ggml_tensor_overhead() +
                                   ggml_graph_overhead() + (1 << 20),
                               nullptr, /*no_alloc=*/false};
    ctx = ggml_init(params);
    auto tensor = [&](int64_t n0, int64_t n1, int64_t n2, int64_t n3,
                      const float *data) {
      ggml_tensor *t = ggml_new_tensor_4d(ctx, GGML_TYPE_F32, n0, n1, n2, n3);
      std::memcpy(t->data, data, ggml_nbytes(t));
      return t;
    };
    ggml_tensor *q = tensor(s.k, s.h, s.t, s.b, in.q.data.data());
    ggml_tensor *k = tensor(s.k, s.h, s.t, s.b, in.k.data.data());
    ggml_tensor *v = tensor(s.v, s.hv, s.t, s.b, in.v.data.data());
    ggml_tensor *g = tensor(1, s.hv, s.t, s.b, in.g.data.data());
    ggml_tensor *beta = tensor(1, s.hv, s.t, s.b, in.beta.data.data());
    std::vector<float> stateT(in.h0.data.size());
    for (int64_t bh = 0; bh < s.b * s.hv; ++bh)
      for (int64_t x = 0; x < s.k; ++x)
        for (int64_t y = 0; y < s.v; ++y)
          stateT[(bh * s.v + y) * s.k + x] = in.h0.data[(bh * s.k + x) * s.v + y];
    ggml_tensor *state = tensor(s.v, s.v, s.hv, s.b, stateT.data());
    out = ggml_gated_delta_net(ctx, q, k, v, g, beta, state, /*K=*/1);
    graph = ggml_new_graph(ctx);
    ggml_build_forward_expand(graph, out);
    ggml_threadpool_params poolParams = ggml_threadpool_params_default(threads);
    pool = ggml_threadpool_new(&poolParams);
    plan = ggml_graph_plan(graph, threads, pool);
    work.resize(plan.work_size);
    plan.work_data = work.data();
  }
  ~GgmlPeer() {
    ggml_threadpool_free(pool);
    ggml_free(ctx);
  }

  bool run() { return ggml_graph_compute(graph, &plan) == GGML_STATUS_SUCCESS; }

  /// The attention output, [B, T, HV, V] as ours.
  const float *output() const { return static_cast<const float *>(out->data); }
  /// The final state transposed back to our [B, HV, K, V].
  std::vector<float> finalState() const {
    const float *st = output() + s.b * s.t * s.hv * s.v;
    std::vector<float> state(s.b * s.hv * s.k * s.v);
    for (int64_t bh = 0; bh < s.b * s.hv; ++bh)
      for (int64_t x = 0; x < s.k; ++x)
        for (int64_t y = 0; y < s.v; ++y)
          state[(bh * s.k + x) * s.v + y] = st[(bh * s.v + y) * s.k + x];
    return state;
  }
};
#endif

/// Removes `--name=TEXT` from argv; returns TEXT, or nothing when the flag
/// is not there.
std::optional<std::string> takeFlagText(int &argc, char **argv,
                                        const char *name) {
  std::string prefix = std::string("--") + name + "=";
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], prefix.c_str(), prefix.size()) != 0)
      continue;
    std::string text = argv[i] + prefix.size();
    for (int j = i; j + 1 < argc; ++j)
      argv[j] = argv[j + 1];
    --argc;
    return text;
  }
  return std::nullopt;
}

[[noreturn]] void invalidFlag(const char *name, const std::string &text,
                              const char *expected) {
  llvm::errs() << "gdr-bench: invalid value in '--" << name << "=" << text
               << "': expected " << expected << "\n";
  std::exit(1);
}

/// Consumes `--name=value` from argv; returns whether it was there.
bool takeFlag(int &argc, char **argv, const char *name, int64_t &value) {
  std::optional<std::string> text = takeFlagText(argc, argv, name);
  if (!text)
    return false;
  char *end = nullptr;
  value = std::strtoll(text->c_str(), &end, 10);
  if (*end != '\0' || value < 1)
    invalidFlag(name, *text, "a positive integer");
  return true;
}

/// Consumes `--name=v1,v2,...` (positive integers, no repeats) from argv;
/// returns whether it was there.
bool takeListFlag(int &argc, char **argv, const char *name,
                  std::vector<int64_t> &values) {
  std::optional<std::string> text = takeFlagText(argc, argv, name);
  if (!text)
    return false;
  values.clear();
  llvm::SmallVector<llvm::StringRef> items;
  llvm::StringRef(*text).split(items, ',');
  for (llvm::StringRef item : items) {
    int64_t value = 0;
    if (item.getAsInteger(10, value) || value < 1 ||
        llvm::is_contained(values, value))
      invalidFlag(name, *text,
                  "distinct positive integers separated by commas");
    values.push_back(value);
  }
  return true;
}

/// Copies of a call's outputs (an out-params kernel's live in the shared
/// buffers the next call overwrites).
std::pair<std::vector<float>, std::vector<float>>
snapshot(const Results &r) {
  auto copy = [](const Memref4 &m) {
    int64_t n = m.sizes[0] * m.sizes[1] * m.sizes[2] * m.sizes[3];
    return std::vector<float>(m.data, m.data + n);
  };
  return {copy(r.o), copy(r.state)};
}

} // namespace

int main(int argc, char **argv) {
  Shape shape;
  takeFlag(argc, argv, "B", shape.b);
  takeFlag(argc, argv, "T", shape.t);
  takeFlag(argc, argv, "H", shape.h);
  takeFlag(argc, argv, "HV", shape.hv);
  takeFlag(argc, argv, "K", shape.k);
  takeFlag(argc, argv, "V", shape.v);
  takeFlag(argc, argv, "chunk-size", shape.chunk);
  std::vector<int64_t> threadCounts = {1};
  takeListFlag(argc, argv, "threads", threadCounts);
  int64_t maxThreads = *llvm::max_element(threadCounts);
  // Before the JIT loads libomp (it reads the variable once).
  setenv("KMP_BLOCKTIME", "0", /*overwrite=*/0);
  deltanet::bench::takeKeepHeapFlag(argc, argv);
  takeFlag(argc, argv, "buffer-stagger", bufferStagger);
  benchmark::Initialize(&argc, argv);
  deltanet::bench::reportLoadAverage("at start");
  if (benchmark::ReportUnrecognizedArguments(argc, argv))
    return 1;

  DialectRegistry registry;
  deltanet::registerCompilerDependencies(registry);
  MLIRContext context(registry, MLIRContext::Threading::DISABLED);

  // The recurrent op (the reference of the comparison) and the chunk op
  // with its tri_inv in f32, bf16 (widened to f32 FMAs, and as AVX512_BF16
  // dot products where the host has them) and INT8, with its stage products
  // in INT8 (chunk-precision=i8) and, where the host has AVX512_BF16, in
  // bf16 as vdpbf16ps (chunk-precision=bf16); both ops also with their
  // outputs written into caller buffers (results-to-out-params).
  // Bounds: about 4x the errors measured at the default shape (output /
  // state vs float64: recurrent 2.4e-7, chunk 3.1e-7 / 4.6e-7, chunk with a
  // bf16 tri_inv 7.3e-4, with an INT8 tri_inv 4.0e-3; README; INT8 stage
  // products 2.1e-2 / 2.1e-2, docs/Performance.md session 9; bf16 stage
  // products 4.1e-3 / 3.4e-3, session 13).
  struct Variant {
    std::string name;
    bool chunked;
    deltanet::TriInvPrecision triInvPrecision;
    const char *extraOptions;
    double bound;
    /// The variant returning its results that an out-params one must match
    /// bit for bit (-1: none).
    int returningTwin = -1;
  };
  llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
  bool hostHasBF16 = features.lookup("avx512bf16");
  using deltanet::TriInvPrecision;
  std::string chunkName =
      "chunk_gated_delta_rule/chunk=" + std::to_string(shape.chunk);
  std::vector<Variant> variants = {
      {"recurrent_gated_delta_rule", false, TriInvPrecision::F32, "", 1e-6},
      {chunkName, true, TriInvPrecision::F32, "", 2e-6},
      {chunkName + "/tri_inv=bf16", true, TriInvPrecision::BF16, "", 3e-3},
      {chunkName + "/tri_inv=i8", true, TriInvPrecision::I8, "", 1.5e-2},
      {chunkName + "/stages=i8", true, TriInvPrecision::F32,
       " chunk-precision=i8", 8e-2},
      {chunkName + "/out-params", true, TriInvPrecision::F32,
       " results-to-out-params=1", 2e-6, /*returningTwin=*/1},
      {"recurrent_gated_delta_rule/out-params", false, TriInvPrecision::F32,
       " results-to-out-params=1", 1e-6, /*returningTwin=*/0}};
  if (hostHasBF16) {
    variants.push_back({chunkName + "/tri_inv=bf16/vdpbf16ps", true,
                        TriInvPrecision::BF16, " bf16-dot-products=1", 3e-3});
    variants.push_back({chunkName + "/stages=bf16/vdpbf16ps", true,
                        TriInvPrecision::F32,
                        " chunk-precision=bf16 bf16-dot-products=1", 2e-2});
  }
  // Every variant at every thread count: kernels[t * variants.size() + i]
  // is variant i at threadCounts[t].
  bool manyThreadCounts = threadCounts.size() > 1;
  auto rowPrefix = [&](int64_t threads) {
    return manyThreadCounts ? "threads=" + std::to_string(threads) + "/"
                            : std::string();
  };
  std::vector<Kernel> kernels(variants.size() * threadCounts.size());
  for (auto [index, kernel] : llvm::enumerate(kernels)) {
    const Variant &variant = variants[index % variants.size()];
    kernel.threads = threadCounts[index / variants.size()];
    kernel.name = rowPrefix(kernel.threads) + variant.name;
    kernel.bound = variant.bound;
    std::string error;
    deltanet::CompileOptions options;
    options.pipelineOptions =
        ("tri-inv-precision=" +
         deltanet::stringifyTriInvPrecision(variant.triInvPrecision) +
         " num-threads=" + std::to_string(kernel.threads) +
         variant.extraOptions)
            .str();
    kernel.engine = deltanet::compile(
        context, getSource(shape, variant.chunked), options, error);
    if (!kernel.engine) {
      llvm::errs() << kernel.name << ": " << error << "\n";
      return 1;
    }
    auto symbol = kernel.engine->lookup("_mlir_ciface_gdr");
    if (!symbol) {
      llvm::errs() << kernel.name << ": " << llvm::toString(symbol.takeError())
                   << "\n";
      return 1;
    }
    if (variant.returningTwin >= 0)
      kernel.outParamsFn = reinterpret_cast<GdrOutParamsFn>(*symbol);
    else
      kernel.fn = reinterpret_cast<GdrFn>(*symbol);
  }

  static Inputs inputs(shape);
  static Outputs outputs(shape);
  // Where the buffers landed (their offsets modulo 4 KiB: L1 sets and 4K
  // aliasing), so that a report says which placement it measured (session
  // 18 measured none slower than another).
  auto pageOffset = [](const void *p) {
    return reinterpret_cast<uintptr_t>(p) % 4096;
  };
  llvm::errs() << llvm::formatv(
      "buffers modulo 4 KiB: q {0}, k {1}, v {2}, g {3}, beta {4}, o {5}, "
      "state {6}\n",
      pageOffset(inputs.q.data.data()), pageOffset(inputs.k.data.data()),
      pageOffset(inputs.v.data.data()), pageOffset(inputs.g.data.data()),
      pageOffset(inputs.beta.data.data()), pageOffset(outputs.o.data.data()),
      pageOffset(outputs.state.data.data()));
  // Every kernel against the float64 recurrence, before any timing.
  auto [refO, refState] = referenceRecurrence(shape, inputs);
  bool accurate = true;
  for (Kernel &kernel : kernels) {
    if (kernel.outParamsFn) {
      std::fill(outputs.o.data.begin(), outputs.o.data.end(), NAN);
      std::fill(outputs.state.data.begin(), outputs.state.data.end(), NAN);
    }
    Results r = run(kernel, inputs, outputs);
    double errO = relativeDifference(r.o.data, refO.data(), refO.size());
    double errS =
        relativeDifference(r.state.data, refState.data(), refState.size());
    bool ok = errO <= kernel.bound && errS <= kernel.bound;
    accurate &= ok;
    llvm::errs() << llvm::formatv(
        "{0} vs float64 recurrence: output {1:e2}, final state {2:e2} "
        "(bound {3:e1}){4}\n",
        kernel.name, errO, errS, kernel.bound, ok ? "" : "  FAIL");
    release(r);
  }

  // Each out-param kernel into NaN-filled buffers, then again into its
  // previous results: the same bits (it writes them whole and accumulates
  // nothing from them), and the same bits as its returning twin.
  for (auto [index, kernel] : llvm::enumerate(kernels)) {
    const Variant &variant = variants[index % variants.size()];
    if (variant.returningTwin < 0)
      continue;
    std::fill(outputs.o.data.begin(), outputs.o.data.end(), NAN);
    std::fill(outputs.state.data.begin(), outputs.state.data.end(), NAN);
    run(kernel, inputs, outputs);
    PlacedVector firstO = outputs.o.data, firstState = outputs.state.data;
    Results again = run(kernel, inputs, outputs);
    Results returned =
        run(kernels[index - index % variants.size() + variant.returningTwin],
            inputs, outputs);
    bool same = outputs.o.data == firstO &&
                outputs.state.data == firstState &&
                bitwiseEqual(again.o, returned.o) &&
                bitwiseEqual(again.state, returned.state);
    accurate &= same;
    llvm::errs() << kernel.name
                 << (same ? ": a second call into the same buffers and the "
                            "returning op give the same bits\n"
                          : ": a second call into the same buffers or the "
                            "returning op differs  FAIL\n");
    release(returned);
  }

  // Every kernel at every thread count: the same bits as at the first
  // (the pipeline's guarantee for num-threads).
  for (auto [index, kernel] : llvm::enumerate(kernels)) {
    if (index < variants.size())
      continue;
    Results first = run(kernels[index % variants.size()], inputs, outputs);
    auto [firstO, firstState] = snapshot(first);
    release(first);
    Results r = run(kernel, inputs, outputs);
    auto [o, state] = snapshot(r);
    release(r);
    bool same = o == firstO && state == firstState;
    accurate &= same;
    llvm::errs() << llvm::formatv(
        "{0}: {1} threads vs {2}: {3}\n", kernel.name, kernel.threads,
        threadCounts.front(), same ? "the same bits" : "different bits  FAIL");
  }

  Results recurrent = run(kernels[0], inputs, outputs);
#ifdef DELTANET_BENCH_HAVE_GGML
  // llama.cpp's fused op: against float64 with the recurrent op's bound,
  // and against our recurrent op (both are f32 recurrences).
  std::string ggmlSkip;
  // One peer (graph and thread pool) per thread count.
  static std::vector<std::unique_ptr<GgmlPeer>> ggmls;
  if (!GgmlPeer::supports(shape, ggmlSkip))
    llvm::errs() << "peer ggml_gated_delta_net skipped: " << ggmlSkip << "\n";
  for (int64_t threads : threadCounts) {
    if (!ggmlSkip.empty())
      break;
    auto &ggml = ggmls.emplace_back(
        std::make_unique<GgmlPeer>(shape, inputs, threads));
    if (!ggml->run()) {
      llvm::errs() << "ggml_gated_delta_net: graph compute failed\n";
      return 1;
    }
    std::vector<float> ggmlState = ggml->finalState();
    double errO = relativeDifference(ggml->output(), refO.data(), refO.size());
    double errS =
        relativeDifference(ggmlState.data(), refState.data(), refState.size());
    double bound = kernels[0].bound;
    bool ok = errO <= bound && errS <= bound;
    accurate &= ok;
    llvm::errs() << llvm::formatv(
        "peer ggml_gated_delta_net (llama.cpp, {0} threads) vs float64 "
        "recurrence: output {1:e2}, final state {2:e2} (bound {3:e1}){4}\n",
        threads, errO, errS, bound, ok ? "" : "  FAIL");
    llvm::errs() << llvm::formatv(
        "peer ggml_gated_delta_net vs recurrent relative difference: output "
        "{0:e2}, final state {1:e2}\n",
        relativeDifference(ggml->output(), recurrent.o.data, refO.size()),
        relativeDifference(ggmlState.data(), recurrent.state.data,
                           refState.size()));
    ggml_threadpool_pause(ggml->pool);
  }
#else
  llvm::errs() << "peer ggml_gated_delta_net not built (configure with "
                  "-DDELTANET_GGML_SOURCE_DIR=<ggml source tree>)\n";
#endif
  if (!accurate) {
    release(recurrent);
    llvm::errs() << "gdr-bench: a kernel exceeds its accuracy bound; not "
                    "timing it\n";
    return 1;
  }

  for (Kernel &kernel : llvm::drop_begin(kernels)) {
    // Every other variant (the recurrent op's out-params twin too).
    Results result = run(kernel, inputs, outputs);
    llvm::errs() << llvm::formatv(
        "B={0} T={1} H={2} HV={3} K={4} V={5}: {6} vs recurrent relative "
        "difference: output {7:e2}, final state {8:e2}\n",
        shape.b, shape.t, shape.h, shape.hv, shape.k, shape.v, kernel.name,
        relativeDifference(result.o, recurrent.o),
        relativeDifference(result.state, recurrent.state));
    release(result);
  }
  release(recurrent);

  // Every row: `iteration` timed in real time, reported as tokens/s.
  // `finish` (optional) runs after the row's timed loop.
  auto registerRow = [shape](const std::string &name,
                             std::function<void(benchmark::State &)> iteration,
                             std::function<void()> finish = nullptr) {
    benchmark::RegisterBenchmark(
        name.c_str(),
        [shape, iteration, finish](benchmark::State &state) {
          long preemptedBefore = involuntaryContextSwitches();
          for (auto _ : state)
            iteration(state);
          if (finish)
            finish();
          // Another process on the timed thread's CPU (its cache traffic
          // and the switches count in the row's time): nonzero on a busy
          // machine.
          state.counters["preempted"] = benchmark::Counter(
              double(involuntaryContextSwitches() - preemptedBefore),
              benchmark::Counter::kAvgIterations);
          state.counters["tokens/s"] =
              benchmark::Counter(double(shape.b * shape.t),
                                 benchmark::Counter::kIsIterationInvariantRate);
        })
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->MinTime(1.0);
  };
  for (Kernel &kernel : kernels)
    registerRow(kernel.name, [&kernel](benchmark::State &) {
      Results r = run(kernel, inputs, outputs);
      benchmark::DoNotOptimize(r.o.data);
      release(r);
    });
#ifdef DELTANET_BENCH_HAVE_GGML
  for (auto [ggml, threads] : llvm::zip(ggmls, threadCounts)) {
    GgmlPeer *peer = ggml.get();
    // Paused after its row: its workers would poll on for a while.
    registerRow(
        rowPrefix(threads) + "peer/ggml_gated_delta_net",
        [peer](benchmark::State &state) {
          if (!peer->run())
            state.SkipWithError("ggml graph compute failed");
        },
        [peer] { ggml_threadpool_pause(peer->pool); });
  }
#endif
  // A yardstick that shares nothing with the kernels: 2^20 dependent loads
  // around a random cycle through 512 KiB (L2-resident). Its time moves only
  // with the core (another process's cache traffic on it), so a row that is
  // slow while the yardstick is slow says the machine, not the kernel
  // (session 18: the out-params and recurrent rows' swings between
  // processes follow it).
  static std::vector<uint32_t> ring = [] {
    std::vector<uint32_t> order((512 << 10) / 64);
    for (size_t i = 0; i < order.size(); ++i)
      order[i] = i;
    std::shuffle(order.begin(), order.end(), std::mt19937(7));
    std::vector<uint32_t> next(order.size() * 16);
    for (size_t i = 0; i < order.size(); ++i)
      next[order[i] * 16] = order[(i + 1) % order.size()] * 16;
    return next;
  }();
  registerRow("yardstick/l2_pointer_chase", [](benchmark::State &) {
    uint32_t at = 0;
    for (int i = 0; i < (1 << 20); ++i)
      at = ring[at];
    benchmark::DoNotOptimize(at);
  });
  std::string threadList;
  for (int64_t threads : threadCounts)
    threadList += (threadList.empty() ? "" : ",") + std::to_string(threads);
  benchmark::AddCustomContext("threads", threadList);
  benchmark::AddCustomContext("KMP_BLOCKTIME", std::getenv("KMP_BLOCKTIME"));
  benchmark::RunSpecifiedBenchmarks();
  deltanet::bench::reportLoadAverage("after the runs",
                                     static_cast<int>(maxThreads));
  benchmark::Shutdown();
  return 0;
}
