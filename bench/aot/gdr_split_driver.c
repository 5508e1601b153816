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
 *===----------------------------------------------------------------------===*/
#include <stdlib.h>
#include <stdio.h>
#include <time.h>
#include <malloc.h>
#include <dlfcn.h>
#include <math.h>
#include <string.h>
#include "gdr_inputs.h"
typedef void (*Fn)(R *, M4 *, M4 *, M4 *, M3 *, M3 *, M4 *);
typedef void (*FnO)(M4 *, M4 *, M4 *, M3 *, M3 *, M4 *, M4 *, M4 *);
static double clk(int c) { struct timespec t; clock_gettime(c, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
static int cmp(const void *a, const void *b) { double x = *(double*)a, y = *(double*)b; return x < y ? -1 : x > y; }
int main(int argc, char **argv) {
  if (!getenv("GDR_PLAIN_MALLOC")) { mallopt(M_MMAP_THRESHOLD, 1 << 30); mallopt(M_TRIM_THRESHOLD, 1 << 30); }
  long T = 4096, H = atol(argv[1]), K = 128; int reps = atoi(argv[2]); int nk = argc - 3;
  GdrInputs in = gdr_inputs(T, H, K);
  M4 mq = in.q, mk = in.k, mv = in.v, mh = in.h0; M3 mg = in.g, mb = in.beta;
  float *ob = malloc(4 * T * H * K + 64), *sb = malloc(4 * H * K * K + 64);
  M4 mo = {ob, ob, 0, {1, T, H, K}, {T*H*K, H*K, K, 1}}, ms = {sb, sb, 0, {1, H, K, K}, {H*K*K, K*K, K, 1}};
  void *f[16]; int outp[16]; float *obs[16]; double *w[16], *p[16], *m[16]; float *ref = malloc(4 * T * H * K);
  for (int i = 0; i < nk; ++i) { char *c = strchr(argv[i+3], ':'); outp[i] = c != 0; obs[i] = ob; if (c) { *c = 0; char *d = strchr(c + 1, ':'); if (d) { obs[i] = (float *)((char *)malloc(4 * T * H * K + 65536) + atol(d + 1)); } }
    void *h = dlopen(argv[i+3], RTLD_NOW); if (!h) { printf("%s\n", dlerror()); return 1; } f[i] = dlsym(h, "_mlir_ciface_gdr");
    w[i] = malloc(reps * 8); p[i] = malloc(reps * 8); m[i] = malloc(reps * 8); }
  for (int rep = -1; rep < reps; ++rep) for (int i = 0; i < nk; ++i) {
    R r; double w0 = clk(CLOCK_MONOTONIC), p0 = clk(CLOCK_PROCESS_CPUTIME_ID), m0 = clk(CLOCK_THREAD_CPUTIME_ID);
    if (outp[i]) { mo.base = mo.data = obs[i]; ((FnO)f[i])(&mq, &mk, &mv, &mg, &mb, &mh, &mo, &ms); } else ((Fn)f[i])(&r, &mq, &mk, &mv, &mg, &mb, &mh);
    double w1 = clk(CLOCK_MONOTONIC), p1 = clk(CLOCK_PROCESS_CPUTIME_ID), m1 = clk(CLOCK_THREAD_CPUTIME_ID);
    float *od = outp[i] ? obs[i] : r.o.data; if (rep == -1 && getenv("GDR_PRINT_ADDRESSES")) printf("%d: o %% 65536 = %ld, q %% 65536 = %ld, v %% 65536 = %ld\n", i, (long)od % 65536, (long)mq.data % 65536, (long)mv.data % 65536);
    if (rep == -1) { if (i == 0) memcpy(ref, od, 4 * T * H * K); else if (memcmp(ref, od, 4 * T * H * K)) printf("%s: output differs from the first kernel's (bitwise)\n", argv[i+3]); }
    if (!outp[i]) { free(r.o.base); free(r.s.base); }
    if (rep >= 0) { w[i][rep] = w1 - w0; p[i][rep] = p1 - p0; m[i][rep] = m1 - m0; }
  }
  for (int i = 0; i < nk; ++i) { qsort(w[i], reps, 8, cmp); qsort(p[i], reps, 8, cmp); qsort(m[i], reps, 8, cmp);
    printf("H=%ld %-30s wall med %7.2f min %7.2f | proc-cpu med %7.2f min %7.2f | main-cpu med %7.2f min %7.2f ms\n", H, argv[i+3], w[i][reps/2]*1e3, w[i][0]*1e3, p[i][reps/2]*1e3, p[i][0]*1e3, m[i][reps/2]*1e3, m[i][0]*1e3); }
}
