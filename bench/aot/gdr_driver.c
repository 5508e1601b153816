/*===- gdr_driver.c - Time AOT-compiled gated delta rule kernels -----------===*
 * Usage: gdr_driver H REPS kernel.so...  (each .so exports _mlir_ciface_gdr for
 * B=1 T=4096 H=HV K=V=128 f32). Checks every output against the first
 * kernel's, prints the median and the best time (session 19: on this VM the
 * calling thread's CPU time under-counts some interrupted calls, so a best
 * CPU time can be far below any call's wall time: read the medians).
 * -DCLK=CLOCK_MONOTONIC: wall time (needed for several threads); default:
 * the calling thread's CPU time. Large blocks
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
#include "gdr_inputs.h"
typedef void (*Fn)(R *, M4 *, M4 *, M4 *, M3 *, M3 *, M4 *);
static double now() { struct timespec t; clock_gettime(CLK, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
int main(int argc, char **argv) {
  /* GDR_PLAIN_MALLOC=1: glibc's default (trimming, mmap of large blocks), as
   * in gdr-bench, Python and most callers; else freed memory stays mapped. */
  if (!getenv("GDR_PLAIN_MALLOC")) { mallopt(M_MMAP_THRESHOLD, 1 << 30); mallopt(M_TRIM_THRESHOLD, 1 << 30); }
  long T = 4096, H = atol(argv[1]), K = 128; int reps = atoi(argv[2]); int nk = argc - 3;
  GdrInputs in = gdr_inputs(T, H, K);
  M4 mq = in.q, mk = in.k, mv = in.v, mh = in.h0; M3 mg = in.g, mb = in.beta;
  Fn fns[32]; double best[32]; if (nk > 32) { printf("at most 32 kernels\n"); return 1; } float *o0 = malloc(4 * T * H * K);
  double *times = malloc(sizeof(double) * nk * (reps > 0 ? reps : 1)); /* times[i * reps + rep] */
  for (int i = 0; i < nk; ++i) { void *h = dlopen(argv[i + 3], RTLD_NOW); if (!h) { printf("%s\n", dlerror()); return 1; } fns[i] = (Fn)dlsym(h, "_mlir_ciface_gdr"); best[i] = 1e9; }
  for (int rep = 0; rep < reps; ++rep) for (int i = 0; i < nk; ++i) {
    R r; double t0 = now(); fns[i](&r, &mq, &mk, &mv, &mg, &mb, &mh); double dt = now() - t0; if (dt < best[i]) best[i] = dt; times[i * reps + rep] = dt;
    if (rep == 0) { if (i == 0) for (long j = 0; j < T*H*K; ++j) o0[j] = r.o.data[j]; else { double e = 0, n = 0; for (long j = 0; j < T*H*K; ++j) { double d = r.o.data[j] - o0[j]; e += d*d; n += (double)o0[j]*o0[j]; } printf("%s vs first: rel %.2e%s\n", argv[i+3], sqrt(e/n), sqrt(e/n) < 1e-4 ? "" : " MISMATCH"); } }
    free(r.o.base); free(r.s.base); }
  double median[32];
  for (int i = 0; i < nk; ++i) { /* insertion sort of this kernel's times */
    double *t = times + i * reps;
    for (int a = 1; a < reps; ++a) for (int b = a; b > 0 && t[b - 1] > t[b]; --b) { double x = t[b]; t[b] = t[b - 1]; t[b - 1] = x; }
    median[i] = reps % 2 ? t[reps / 2] : 0.5 * (t[reps / 2 - 1] + t[reps / 2]); }
  for (int i = 0; i < nk; ++i) printf("H=%ld %-24s median %8.2f ms  %.2fx vs first   best %8.2f ms  %.2fx\n", H, argv[i + 3],
                                      median[i] * 1e3, median[0] / median[i], best[i] * 1e3, best[0] / best[i]);
}
