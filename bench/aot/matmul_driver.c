/*===- matmul_driver.c - Compiled batched matmuls vs OpenBLAS sgemm --------===*
 * Usage: matmul_driver REPS kernel.so BATCH M N K [kernel.so BATCH M N K ...]
 * Each .so exports _mlir_ciface_mm(result, a, b) for a `BATCH x M x K` by
 * `BATCH x K x N` f32 batch_matmul (bench/aot/matmul.sh writes them: the
 * shapes of the chunk op's per-chunk stage matmuls). Every kernel is
 * interleaved with BATCH cblas_sgemm calls on the same operands, checked
 * against them (relative Frobenius difference), and the best time of REPS
 * is printed with both GFLOP/s rates and their ratio (issue 13's target:
 * the matmul stages at >= 50% of OpenBLAS's sgemm rate at the same sizes).
 * Build with -DCLK=CLOCK_MONOTONIC for wall time; the default is the
 * calling thread's CPU time, which a loaded machine distorts less.
 *===----------------------------------------------------------------------===*/
#include <cblas.h>
#include <dlfcn.h>
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifndef CLK
#define CLK CLOCK_THREAD_CPUTIME_ID
#endif
typedef struct { float *base, *data; long off, sizes[3], strides[3]; } M3;
typedef void (*Fn)(M3 *, M3 *, M3 *);
static double now(void) { struct timespec t; clock_gettime(CLK, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
static M3 desc(float *p, long b, long r, long c) { M3 m = {p, p, 0, {b, r, c}, {r * c, c, 1}}; return m; }
int main(int argc, char **argv) {
  if (argc < 7 || (argc - 2) % 5) { fprintf(stderr, "usage: matmul_driver REPS kernel.so BATCH M N K ...\n"); return 2; }
  mallopt(M_MMAP_THRESHOLD, 1 << 30); mallopt(M_TRIM_THRESHOLD, 1 << 30);
  openblas_set_num_threads(1);
  /* Debian's OpenBLAS 0.3.21 falls back to SSE3 (Prescott) kernels on CPU
   * models it does not know (this VM's): set OPENBLAS_CORETYPE=SkylakeX. */
  printf("OpenBLAS kernels: %s%s\n", openblas_get_corename(),
         strcmp(openblas_get_corename(), "Prescott") ? "" : "  (SSE3: set OPENBLAS_CORETYPE=SkylakeX on an AVX-512 host)");
  int reps = atoi(argv[1]);
  for (int arg = 2; arg + 4 < argc; arg += 5) {
    void *h = dlopen(argv[arg], RTLD_NOW | RTLD_LOCAL);
    if (!h) { printf("%s\n", dlerror()); return 1; }
    Fn fn = (Fn)dlsym(h, "_mlir_ciface_mm");
    if (!fn) { printf("%s: no _mlir_ciface_mm\n", argv[arg]); return 1; }
    long b = atol(argv[arg + 1]), m = atol(argv[arg + 2]), n = atol(argv[arg + 3]), k = atol(argv[arg + 4]);
    float *a = malloc(sizeof(float) * b * m * k), *bb = malloc(sizeof(float) * b * k * n), *ref = malloc(sizeof(float) * b * m * n);
    srand(1);
    for (long i = 0; i < b * m * k; ++i) a[i] = rand() / (float)RAND_MAX - 0.5f;
    for (long i = 0; i < b * k * n; ++i) bb[i] = rand() / (float)RAND_MAX - 0.5f;
    M3 da = desc(a, b, m, k), db = desc(bb, b, k, n);
    double best = 1e9, bestBlas = 1e9, diff = 0, norm = 0;
    for (int rep = 0; rep < reps; ++rep) {
      double t0 = now();
      for (long i = 0; i < b; ++i)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)n, (int)k, 1.0f, a + i * m * k, (int)k, bb + i * k * n, (int)n, 0.0f, ref + i * m * n, (int)n);
      double t1 = now();
      M3 out;
      fn(&out, &da, &db);
      double t2 = now();
      if (t1 - t0 < bestBlas) bestBlas = t1 - t0;
      if (t2 - t1 < best) best = t2 - t1;
      if (rep == 0)
        for (long i = 0; i < b * m * n; ++i) { double d = out.data[out.off + i] - ref[i]; diff += d * d; norm += (double)ref[i] * ref[i]; }
      free(out.base);
    }
    double flop = 2.0 * b * m * n * k, rel = sqrt(diff / norm);
    printf("%3ld x [%3ld x %3ld] x [%3ld x %3ld]: ours %6.2f GFLOP/s, OpenBLAS sgemm %6.2f GFLOP/s, ratio %.2f  (rel. diff %.1e)%s\n",
           b, m, k, k, n, flop / best * 1e-9, flop / bestBlas * 1e-9, bestBlas / best, rel, rel < 1e-5 ? "" : "  MISMATCH");
    if (!(rel < 1e-5)) return 1;
    free(a); free(bb); free(ref);
  }
  return 0;
}
