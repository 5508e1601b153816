/*===- gdr_driver.c - Time AOT-compiled gated delta rule kernels -----------===*
 * Usage: gdr_driver H REPS kernel.so...  (each .so exports _mlir_ciface_gdr for
 * B=1 T=4096 H=HV K=V=128 f32). Checks every output against the first
 * kernel's, prints the best time. -DCLK=CLOCK_MONOTONIC: wall time (needed
 * for several threads); default: the calling thread's CPU time. Large blocks
 * stay mapped after free unless GDR_PLAIN_MALLOC=1 is set.
 *===----------------------------------------------------------------------===*/
#include <stdlib.h>
#include <stdio.h>
#include <time.h>
#include <malloc.h>
#include <dlfcn.h>
#include <math.h>
#ifndef CLK
#define CLK CLOCK_THREAD_CPUTIME_ID
#endif
typedef struct { float *base, *data; long off, sizes[4], strides[4]; } M4;
typedef struct { float *base, *data; long off, sizes[3], strides[3]; } M3;
typedef struct { M4 o, s; } R;
typedef void (*Fn)(R *, M4 *, M4 *, M4 *, M3 *, M3 *, M4 *);
static double now() { struct timespec t; clock_gettime(CLK, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
static float nrm() { float u = (rand() + 1.0f) / (RAND_MAX + 2.0f), w = (rand() + 1.0f) / (RAND_MAX + 2.0f); return sqrtf(-2 * logf(u)) * cosf(6.2831853f * w); }
int main(int argc, char **argv) {
  /* GDR_PLAIN_MALLOC=1: glibc's default (trimming, mmap of large blocks), as
   * in gdr-bench, Python and most callers; else freed memory stays mapped. */
  if (!getenv("GDR_PLAIN_MALLOC")) { mallopt(M_MMAP_THRESHOLD, 1 << 30); mallopt(M_TRIM_THRESHOLD, 1 << 30); }
  long T = 4096, H = atol(argv[1]), K = 128; int reps = atoi(argv[2]); int nk = argc - 3;
  float *q = malloc(4 * T * H * K), *k = malloc(4 * T * H * K), *v = malloc(4 * T * H * K), *g = malloc(4 * T * H), *be = malloc(4 * T * H), *h0 = calloc(H * K * K, 4);
  srand(1);
  for (long i = 0; i < T * H; ++i) { float n = 0; for (long d = 0; d < K; ++d) { k[i * K + d] = nrm(); n += k[i*K+d]*k[i*K+d]; q[i*K+d] = nrm() / sqrtf(K); v[i*K+d] = nrm(); }
    for (long d = 0; d < K; ++d) k[i*K+d] /= sqrtf(n); g[i] = -fabsf(nrm()) * 0.05f; be[i] = 1 / (1 + expf(-nrm())); }
  M4 mq = {q, q, 0, {1, T, H, K}, {T*H*K, H*K, K, 1}}, mk = mq, mv = mq; mk.base = mk.data = k; mv.base = mv.data = v;
  M3 mg = {g, g, 0, {1, T, H}, {T*H, H, 1}}, mb = mg; mb.base = mb.data = be;
  M4 mh = {h0, h0, 0, {1, H, K, K}, {H*K*K, K*K, K, 1}};
  Fn fns[32]; double best[32]; if (nk > 32) { printf("at most 32 kernels\n"); return 1; } float *o0 = malloc(4 * T * H * K);
  for (int i = 0; i < nk; ++i) { void *h = dlopen(argv[i + 3], RTLD_NOW); if (!h) { printf("%s\n", dlerror()); return 1; } fns[i] = (Fn)dlsym(h, "_mlir_ciface_gdr"); best[i] = 1e9; }
  for (int rep = 0; rep < reps; ++rep) for (int i = 0; i < nk; ++i) {
    R r; double t0 = now(); fns[i](&r, &mq, &mk, &mv, &mg, &mb, &mh); double dt = now() - t0; if (dt < best[i]) best[i] = dt;
    if (rep == 0) { if (i == 0) for (long j = 0; j < T*H*K; ++j) o0[j] = r.o.data[j]; else { double e = 0, n = 0; for (long j = 0; j < T*H*K; ++j) { double d = r.o.data[j] - o0[j]; e += d*d; n += (double)o0[j]*o0[j]; } printf("%s vs first: rel %.2e%s\n", argv[i+3], sqrt(e/n), sqrt(e/n) < 1e-4 ? "" : " MISMATCH"); } }
    free(r.o.base); free(r.s.base); }
  for (int i = 0; i < nk; ++i) printf("H=%ld %-24s %8.2f ms  %.2fx vs first\n", H, argv[i + 3], best[i] * 1e3, best[0] / best[i]);
}
