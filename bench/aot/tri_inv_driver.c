/*===- tri_inv_driver.c - Time AOT-compiled tri_inv kernels vs C forward substitution ===*
 * Usage: [TRI_INV_BATCH=N] [TRI_INV_TOL=t] tri_inv_driver C REPS kernel.so[:o[:OFF]]...
 * (each .so exports _mlir_ciface_inv for N C x C matrices, default 4096; N = 64 at C = 64
 * keeps input and result in the L2 cache). Interleaves the kernels with a plain C forward
 * substitution, checks every result against it, prints the best and the median time per
 * matrix and each kernel's relative error (a mismatch above TRI_INV_TOL, default 1e-4, is
 * printed; TRI_INV_TOL=0 asks for bitwise equality with the first kernel's result instead).
 * Build with -DCLK=CLOCK_MONOTONIC for wall time; the default is the calling thread's CPU
 * time, which a loaded machine distorts less; the wall time of the same calls is printed
 * beside it (a best CPU time far below the best wall time is a clock artefact, not a speed).
 * Placement modes (session 19, our forward substitution's two speeds):
 *   ":o"            the kernel was built with results-to-out-params=1 (ciface(in, out)) and
 *                   writes into a caller buffer, at OFF bytes past a 2 MiB boundary with
 *                   ":o:OFF" (default 0), the same buffer every call;
 *   TRI_INV_IN_OFF  the input at that many bytes past a 2 MiB boundary (default: malloc);
 *   TRI_INV_HEAP_SHIFT=S  a live malloc(S) around each returned-output kernel's call, which
 *                   moves the kernel's own mallocs (result, temporaries) by S bytes;
 *   TRI_INV_PRINT_ADDRESSES=1  prints each kernel's input / result addresses mod 4096.
 * "yard-l1" / "yard-l2" / "yard-fma" among the kernels: yardsticks timed in the same rounds,
 * 2^18 dependent loads chasing a random cycle through 16 KiB (L1-resident) / 512 KiB
 * (L2-resident), printed in ns per load, or 2^22 AVX-512 adds in 16 independent chains (the
 * FMA pipes' throughput), in ns per add: they move only with the core's state, never with our
 * code.
 *===----------------------------------------------------------------------===*/
#include <stdlib.h>
#include <stdio.h>
#include <time.h>
#include <malloc.h>
#include <dlfcn.h>
#include <string.h>
#include <math.h>
#include <sys/mman.h>
#include <immintrin.h>
#ifndef CLK
#define CLK CLOCK_THREAD_CPUTIME_ID
#endif
typedef struct { float *base, *data; long off, sizes[3], strides[3]; } M3;
typedef void (*Fn)(M3 *, M3 *);
static long C;
static void cfs(M3 *out, M3 *in) {
  long n = in->sizes[0], c = C; float *x = out->data; const float *a = in->data;
  for (long b = 0; b < n; ++b) {
    const float *A = a + b * c * c; float *X = x + b * c * c;
    for (long i = 0; i < c; ++i) {
      float *xi = X + i * c;
      for (long j = 0; j < c; ++j) xi[j] = (i == j);
      for (long k = 0; k < i; ++k) {
        float l = A[i * c + k]; const float *xk = X + k * c;
        for (long j = 0; j <= k; ++j) xi[j] -= l * xk[j];
      }
    }
  }
}
static double now() { struct timespec t; clock_gettime(CLK, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
static double wallNow() { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
/* `bytes` at `off` past a 2 MiB boundary, on 4 KiB pages. */
static float *placed(long bytes, long off) {
  long huge = 2l << 20, len = (bytes + off + huge - 1) / huge * huge; char *p = aligned_alloc(huge, len);
  madvise(p, len, MADV_NOHUGEPAGE); memset(p, 0, len); return (float *)(p + off); }
static volatile long yard_sink;
static long *yard_rings[2];
static void yard(int which) {
  long n = (which ? 512 << 10 : 16 << 10) / 64, *ring = yard_rings[which];
  if (!ring) { ring = yard_rings[which] = aligned_alloc(64, n * 64); long *perm = malloc(n * 8);
    for (long i = 0; i < n; ++i) perm[i] = i;
    srand(7); for (long i = n - 1; i > 0; --i) { long j = rand() % (i + 1), t = perm[i]; perm[i] = perm[j]; perm[j] = t; }
    for (long i = 0; i < n; ++i) ring[perm[i] * 8] = perm[(i + 1) % n] * 8; free(perm); }
  long p = 0; for (long i = 0; i < (1l << 18); ++i) p = ring[p]; yard_sink = p; }
__attribute__((target("avx512f"))) static void yard_fma(void) {
  __m512 a[16]; for (int c = 0; c < 16; ++c) a[c] = _mm512_set1_ps(c);
  __m512 d = _mm512_set1_ps(1e-7f);
  for (long i = 0; i < (1l << 18); ++i) for (int c = 0; c < 16; ++c) { a[c] = _mm512_add_ps(a[c], d); __asm__ volatile("" : "+v"(a[c])); }
  for (int c = 1; c < 16; ++c) a[0] = _mm512_add_ps(a[0], a[c]); yard_sink = (long)_mm512_reduce_add_ps(a[0]); }
static int cmpd(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return x < y ? -1 : x > y; }
int main(int argc, char **argv) {
  mallopt(M_MMAP_THRESHOLD, 1 << 30); mallopt(M_TRIM_THRESHOLD, 1 << 30);
  long n = getenv("TRI_INV_BATCH") ? atol(getenv("TRI_INV_BATCH")) : 4096; C = atol(argv[1]); int reps = atoi(argv[2]); int nk = argc - 3 + 1;
  double tol = getenv("TRI_INV_TOL") ? atof(getenv("TRI_INV_TOL")) : 1e-4;
  long shift = getenv("TRI_INV_HEAP_SHIFT") ? atol(getenv("TRI_INV_HEAP_SHIFT")) : 0;
  int printAddr = getenv("TRI_INV_PRINT_ADDRESSES") != 0;
  long bytes = sizeof(float) * n * C * C;
  Fn fns[16]; const char *names[16]; double best[16], err[16] = {0}; int outp[16] = {0}, yd[16] = {0}; float *obs[16] = {0};
  double *times = malloc(sizeof(double) * 16 * reps), *walls = malloc(sizeof(double) * 16 * reps);
  fns[0] = 0; names[0] = "C-fs";
  for (int i = 3; i < argc; ++i) {
    names[i - 2] = argv[i]; fns[i - 2] = 0;
    if (!strcmp(argv[i], "yard-l1") || !strcmp(argv[i], "yard-l2") || !strcmp(argv[i], "yard-fma")) { yd[i - 2] = argv[i][5] == 'f' ? 3 : argv[i][6] == '1' ? 1 : 2; continue; }
    char *c = strchr(argv[i], ':');
    if (c) { *c = 0; outp[i - 2] = 1; obs[i - 2] = placed(bytes, c[1] == 'o' && c[2] == ':' ? atol(c + 3) : 0); }
    void *h = dlopen(argv[i], RTLD_NOW | RTLD_LOCAL); if (!h) { printf("%s\n", dlerror()); return 1; }
    fns[i - 2] = (Fn)dlsym(h, "_mlir_ciface_inv"); names[i - 2] = argv[i];
  }
  float *a = getenv("TRI_INV_IN_OFF") ? placed(bytes, atol(getenv("TRI_INV_IN_OFF"))) : malloc(bytes), *ref = malloc(bytes), *first = malloc(bytes);
  srand(1); for (long i = 0; i < n * C * C; ++i) a[i] = (rand() / (float)RAND_MAX - 0.5f) * (4.0f / C);
  M3 in = {a, a, 0, {n, C, C}, {C * C, C, 1}};
  M3 r = {ref, ref, 0, {n, C, C}, {C * C, C, 1}}; cfs(&r, &in);
  int firstK = -1; for (int k = 0; k < nk; ++k) best[k] = 1e9;
  for (int rep = 0; rep < reps; ++rep)
    for (int k = 0; k < nk; ++k) {
      if (yd[k]) { double t0 = now(); if (yd[k] == 3) yard_fma(); else yard(yd[k] - 1); double dt = now() - t0; if (dt < best[k]) best[k] = dt; times[k * reps + rep] = dt; continue; }
      M3 out = r; float *buf = 0, *pad = 0;
      if (k == 0) { buf = malloc(bytes); out.base = out.data = buf; }
      else if (outp[k]) out.base = out.data = obs[k];
      else if (shift) pad = malloc(shift);
      double w0 = wallNow(), t0 = now();
      if (k == 0) cfs(&out, &in); else if (outp[k]) fns[k](&in, &out); else fns[k](&out, &in);
      double dt = now() - t0; walls[k * reps + rep] = wallNow() - w0; if (dt < best[k]) best[k] = dt; times[k * reps + rep] = dt;
      if (rep == 0) { double e = 0, nr = 0; for (long i = 0; i < n * C * C; ++i) { double d = out.data[i] - ref[i]; e += d * d; nr += (double)ref[i] * ref[i]; }
        err[k] = sqrt(e / nr);
        if (tol == 0 && k > 0 && firstK < 0) { memcpy(first, out.data, bytes); firstK = k; }
        else if (tol == 0 && k > 0 && memcmp(first, out.data, bytes)) printf("MISMATCH %s: not bitwise equal to %s\n", names[k], names[firstK]);
        else if (tol > 0 && !(err[k] < tol)) printf("MISMATCH %s rel %.3g\n", names[k], sqrt(e / nr));
        if (printAddr) printf("%-28s in %% 4096 = %4ld, out %% 4096 = %4ld, out - in = %ld\n", names[k], (long)in.data % 4096, (long)out.data % 4096, (long)((char *)out.data - (char *)in.data)); }
      if (k == 0) free(buf); else if (!outp[k]) free(out.base);
      free(pad);
    }
  for (int k = 0; k < nk; ++k) {
    /* Calls whose CPU time is below 0.75x the least wall time of all calls of this kernel: the
     * CPU-time clock of this VM lost time there (session 19), they are no speed. */
    double minWall = 1e9, wallOfBest = 0; int lost = 0;
    for (int i = 0; i < reps; ++i) { if (walls[k * reps + i] < minWall) minWall = walls[k * reps + i]; if (times[k * reps + i] == best[k]) wallOfBest = walls[k * reps + i]; }
    for (int i = 0; i < reps; ++i) lost += times[k * reps + i] < 0.75 * minWall;
    qsort(times + k * reps, reps, sizeof(double), cmpd); qsort(walls + k * reps, reps, sizeof(double), cmpd);
    if (yd[k]) { double per = yd[k] == 3 ? 1e9 / (1l << 22) : 1e9 / (1l << 18);
      printf("C=%ld %-28s %8.3f ns/%s (median %8.3f)\n", C, names[k], best[k] * per, yd[k] == 3 ? "add " : "load", times[k * reps + reps / 2] * per); continue; }
    printf("C=%ld %-28s %8.3f us/matrix (median %8.3f)  speed vs C fs %.2fx  rel err %.2g  wall best %.3f median %.3f", C, names[k], best[k] / n * 1e6, times[k * reps + reps / 2] / n * 1e6, best[0] / best[k], err[k], walls[k * reps] / n * 1e6, walls[k * reps + reps / 2] / n * 1e6);
    if (lost) printf("  CLOCK: %d calls below 0.75x the best wall (best CPU's call: wall %.3f)", lost, wallOfBest / n * 1e6);
    printf("\n"); }
}
