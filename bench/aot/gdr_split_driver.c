/*===- gdr_split_driver.c - Wall, process and thread CPU per gdr call ------===*
 * Usage: gdr_split_driver H REPS kernel.so[:o]...  (each .so exports
 * _mlir_ciface_gdr for B=1 T=4096 H=HV K=V=128 f32; ":o": compiled with
 * results-to-out-params, writing into one caller buffer). Calls the kernels
 * interleaved (REPS rounds after one warm-up round), memcmp's every output
 * with the first kernel's (prints a line when it differs), and prints per
 * kernel the median / min of the wall time, the process's CPU time (all
 * threads: with several threads, the work plus OpenMP's spinning) and the
 * calling thread's CPU time. Large blocks stay mapped after free unless
 * GDR_PLAIN_MALLOC=1. Session 17 (docs/Performance.md, cpu21). Build:
 *   clang -O2 gdr_split_driver.c -o gdr_split_driver -lm -ldl
 * Session 18 (cpu23): placement and disturbance.
 * GDR_PLACE="q:OFF,k:OFF,v:OFF,g:OFF,beta:OFF,h0:OFF,o:OFF,s:OFF" (any
 * subset) puts each named buffer at byte OFF past a 2 MiB boundary of its
 * own allocation (inputs copied there; o / s: the caller buffers of the
 * ":o" kernels); "kernel.so:o:OFF[:SOFF]" gives one kernel its own o at OFF
 * (and final state at SOFF). GDR_HUGE=1: those buffers madvise'd
 * MADV_HUGEPAGE (2 MiB pages: the physical L2 index bits fixed too), else
 * MADV_NOHUGEPAGE. GDR_PRINT_ADDRESSES=1 prints the offsets. Each line also
 * says how often the calling thread was preempted per call (involuntary
 * context switches: another process on its CPU) and on which CPUs it ran.
 * "yard-fma" / "yard-l2" among the kernels: yardsticks (below) timed the
 * same way; the first real kernel's output is the reference.
 *===----------------------------------------------------------------------===*/
#define _GNU_SOURCE
#include <stdlib.h>
#include <stdio.h>
#include <time.h>
#include <malloc.h>
#include <dlfcn.h>
#include <math.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sched.h>
#include <immintrin.h>
#include "gdr_inputs.h"
typedef void (*Fn)(R *, M4 *, M4 *, M4 *, M3 *, M3 *, M4 *);
typedef void (*FnO)(M4 *, M4 *, M4 *, M3 *, M3 *, M4 *, M4 *, M4 *);
/* Involuntary context switches of the calling thread so far. */
static long preempted(void) { struct rusage u; getrusage(RUSAGE_THREAD, &u); return u.ru_nivcsw; }
static double clk(int c) { struct timespec t; clock_gettime(c, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
/* `bytes` at `off` past a 2 MiB boundary (see GDR_PLACE). */
static void *placed(long bytes, long off) {
  long huge = 2l << 20, len = (bytes + off + huge - 1) / huge * huge; char *p = aligned_alloc(huge, len);
  madvise(p, len, getenv("GDR_HUGE") && atoi(getenv("GDR_HUGE")) ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
  memset(p, 0, len); return p + off; }
/* The offset GDR_PLACE gives buffer `name`, or -1. */
static long placement(const char *name) {
  const char *s = getenv("GDR_PLACE"); long n = strlen(name);
  for (; s && *s; s = strchr(s, ',') ? strchr(s, ',') + 1 : 0)
    if (!strncmp(s, name, n) && s[n] == ':') return atol(s + n + 1);
  return -1; }
static void place(float **base, float **data, const char *name, long count) {
  long off = placement(name); if (off < 0) return;
  float *p = placed(4 * count, off); memcpy(p, *data, 4 * count); *base = *data = p; }
/* Yardsticks timed beside the kernels: their CPU time moves only when the
 * core does (what else runs on it or beside it), never with our code or
 * buffers: 2^25 AVX-512 multiply-adds in 16 independent chains, and 2^20
 * dependent loads chasing a random cycle through 512 KiB (L2-resident). */
static volatile float yard_sink;
__attribute__((target("avx512f"))) static void yard_fma(void) {
  __m512 a[16]; for (int c = 0; c < 16; ++c) a[c] = _mm512_set1_ps(c);
  for (long n = 0; n < (1l << 25) / 16; ++n) for (int c = 0; c < 16; ++c) a[c] = _mm512_fmadd_ps(a[c], _mm512_set1_ps(0.999f), _mm512_set1_ps(1e-3f));
  for (int c = 1; c < 16; ++c) a[0] = _mm512_add_ps(a[0], a[c]); yard_sink = _mm512_reduce_add_ps(a[0]); }
static long *yard_ring;
static void yard_l2(void) { if (!yard_ring) { long n = (512 << 10) / 8 / 8; yard_ring = aligned_alloc(64, n * 64); long *perm = malloc(n * 8); for (long i = 0; i < n; ++i) perm[i] = i; srand(7); for (long i = n - 1; i > 0; --i) { long j = rand() % (i + 1), t = perm[i]; perm[i] = perm[j]; perm[j] = t; } for (long i = 0; i < n; ++i) yard_ring[perm[i] * 8] = perm[(i + 1) % n] * 8; free(perm); }
  long p = 0; for (long i = 0; i < (1l << 20); ++i) p = yard_ring[p]; yard_sink = p; }
static int cmp(const void *a, const void *b) { double x = *(double*)a, y = *(double*)b; return x < y ? -1 : x > y; }
int main(int argc, char **argv) {
  if (!getenv("GDR_PLAIN_MALLOC")) { mallopt(M_MMAP_THRESHOLD, 1 << 30); mallopt(M_TRIM_THRESHOLD, 1 << 30); }
  long T = 4096, H = atol(argv[1]), K = 128; int reps = atoi(argv[2]); int nk = argc - 3;
  GdrInputs in = gdr_inputs(T, H, K);
  M4 mq = in.q, mk = in.k, mv = in.v, mh = in.h0; M3 mg = in.g, mb = in.beta;
  place(&mq.base, &mq.data, "q", T * H * K); place(&mk.base, &mk.data, "k", T * H * K); place(&mv.base, &mv.data, "v", T * H * K);
  place(&mg.base, &mg.data, "g", T * H); place(&mb.base, &mb.data, "beta", T * H); place(&mh.base, &mh.data, "h0", H * K * K);
  float *ob = placement("o") >= 0 ? placed(4 * T * H * K, placement("o")) : malloc(4 * T * H * K + 64);
  float *sb = placement("s") >= 0 ? placed(4 * H * K * K, placement("s")) : malloc(4 * H * K * K + 64);
  if (getenv("GDR_PRINT_ADDRESSES")) printf("offsets mod 2 MiB: q %ld k %ld v %ld g %ld beta %ld h0 %ld o %ld s %ld\n", (long)mq.data % (2l << 20), (long)mk.data % (2l << 20), (long)mv.data % (2l << 20), (long)mg.data % (2l << 20), (long)mb.data % (2l << 20), (long)mh.data % (2l << 20), (long)ob % (2l << 20), (long)sb % (2l << 20));
  M4 mo = {ob, ob, 0, {1, T, H, K}, {T*H*K, H*K, K, 1}}, ms = {sb, sb, 0, {1, H, K, K}, {H*K*K, K*K, K, 1}};
  void *f[16]; int outp[16]; float *obs[16], *sbs[16]; double *w[16], *p[16], *m[16]; float *ref = malloc(4 * T * H * K); long cs[16] = {0}, cpus[16] = {0}; void (*yard[16])(void); int haveRef = 0;
  for (int i = 0; i < nk; ++i) { char *c = strchr(argv[i+3], ':'); outp[i] = c != 0; obs[i] = ob; sbs[i] = sb; if (c) { *c = 0; char *d = strchr(c + 1, ':'); if (d) { obs[i] = placed(4 * T * H * K, atol(d + 1)); char *e = strchr(d + 1, ':'); if (e) sbs[i] = placed(4 * H * K * K, atol(e + 1)); } }
    yard[i] = !strcmp(argv[i+3], "yard-fma") ? yard_fma : !strcmp(argv[i+3], "yard-l2") ? yard_l2 : 0;
    if (yard[i]) { w[i] = malloc(reps * 8); p[i] = malloc(reps * 8); m[i] = malloc(reps * 8); continue; }
    void *h = dlopen(argv[i+3], RTLD_NOW); if (!h) { printf("%s\n", dlerror()); return 1; } f[i] = dlsym(h, "_mlir_ciface_gdr");
    w[i] = malloc(reps * 8); p[i] = malloc(reps * 8); m[i] = malloc(reps * 8); }
  for (int rep = -1; rep < reps; ++rep) for (int i = 0; i < nk; ++i) {
    R r; long cs0 = preempted(); int cpu0 = sched_getcpu(); double w0 = clk(CLOCK_MONOTONIC), p0 = clk(CLOCK_PROCESS_CPUTIME_ID), m0 = clk(CLOCK_THREAD_CPUTIME_ID);
    if (yard[i]) yard[i](); else if (outp[i]) { mo.base = mo.data = obs[i]; ms.base = ms.data = sbs[i]; ((FnO)f[i])(&mq, &mk, &mv, &mg, &mb, &mh, &mo, &ms); } else ((Fn)f[i])(&r, &mq, &mk, &mv, &mg, &mb, &mh);
    double w1 = clk(CLOCK_MONOTONIC), p1 = clk(CLOCK_PROCESS_CPUTIME_ID), m1 = clk(CLOCK_THREAD_CPUTIME_ID);
    if (rep >= 0) { cs[i] += preempted() - cs0; cpus[i] |= 1l << cpu0 | 1l << sched_getcpu(); }
    if (yard[i]) { if (rep >= 0) { w[i][rep] = w1 - w0; p[i][rep] = p1 - p0; m[i][rep] = m1 - m0; } continue; }
    float *od = outp[i] ? obs[i] : r.o.data; if (rep == -1 && getenv("GDR_PRINT_ADDRESSES")) printf("%d: o %% 2 MiB = %ld\n", i, (long)od % (2l << 20));
    if (rep == -1) { if (!haveRef) { memcpy(ref, od, 4 * T * H * K); haveRef = 1; } else if (memcmp(ref, od, 4 * T * H * K)) printf("%s: output differs from the first kernel's (bitwise)\n", argv[i+3]); }
    if (!outp[i]) { free(r.o.base); free(r.s.base); }
    if (rep >= 0) { w[i][rep] = w1 - w0; p[i][rep] = p1 - p0; m[i][rep] = m1 - m0; }
  }
  for (int i = 0; i < nk; ++i) { qsort(w[i], reps, 8, cmp); qsort(p[i], reps, 8, cmp); qsort(m[i], reps, 8, cmp);
    printf("H=%ld %-30s wall med %7.2f min %7.2f | proc-cpu med %7.2f min %7.2f | main-cpu med %7.2f min %7.2f ms | preempted %.1f / call, cpus %#lx\n", H, argv[i+3], w[i][reps/2]*1e3, w[i][0]*1e3, p[i][reps/2]*1e3, p[i][0]*1e3, m[i][reps/2]*1e3, m[i][0]*1e3, (double)cs[i] / reps, cpus[i]); }
}
