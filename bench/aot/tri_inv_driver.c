/*===- tri_inv_driver.c - Time AOT-compiled tri_inv kernels vs C forward substitution ===*
 * Usage: [TRI_INV_BATCH=N] [TRI_INV_TOL=t] tri_inv_driver C REPS kernel.so...  (each .so exports
 * _mlir_ciface_inv for N C x C matrices, default 4096; N = 64 at C = 64 keeps
 * input and result in the L2 cache). Interleaves the kernels with a plain C forward
 * substitution, checks every result against it, prints the best time per
 * matrix and each kernel's relative error (a mismatch above TRI_INV_TOL,
 * default 1e-4, is printed). Build with -DCLK=CLOCK_MONOTONIC for wall time; the default is the
 * calling thread's CPU time, which a loaded machine distorts less.
 *===----------------------------------------------------------------------===*/
#include <stdlib.h>
#include <stdio.h>
#include <time.h>
#include <malloc.h>
#include <dlfcn.h>
#include <string.h>
#include <math.h>
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
int main(int argc, char **argv) {
  mallopt(M_MMAP_THRESHOLD, 1 << 30); mallopt(M_TRIM_THRESHOLD, 1 << 30);
  long n = getenv("TRI_INV_BATCH") ? atol(getenv("TRI_INV_BATCH")) : 4096; C = atol(argv[1]); int reps = atoi(argv[2]); int nk = argc - 3 + 1;
  double tol = getenv("TRI_INV_TOL") ? atof(getenv("TRI_INV_TOL")) : 1e-4;
  Fn fns[16]; const char *names[16]; double best[16], err[16] = {0};
  fns[0] = 0; names[0] = "C-fs";
  for (int i = 3; i < argc; ++i) {
    void *h = dlopen(argv[i], RTLD_NOW | RTLD_LOCAL); if (!h) { printf("%s\n", dlerror()); return 1; }
    fns[i - 2] = (Fn)dlsym(h, "_mlir_ciface_inv"); names[i - 2] = argv[i];
  }
  float *a = malloc(sizeof(float) * n * C * C), *ref = malloc(sizeof(float) * n * C * C);
  srand(1); for (long i = 0; i < n * C * C; ++i) a[i] = (rand() / (float)RAND_MAX - 0.5f) * (4.0f / C);
  M3 in = {a, a, 0, {n, C, C}, {C * C, C, 1}};
  M3 r = {ref, ref, 0, {n, C, C}, {C * C, C, 1}}; cfs(&r, &in);
  for (int k = 0; k < nk; ++k) best[k] = 1e9;
  for (int rep = 0; rep < reps; ++rep)
    for (int k = 0; k < nk; ++k) {
      M3 out; float *buf = 0;
      if (!fns[k]) { buf = malloc(sizeof(float) * n * C * C); out = r; out.base = out.data = buf; }
      double t0 = now();
      if (fns[k]) fns[k](&out, &in); else cfs(&out, &in);
      double dt = now() - t0; if (dt < best[k]) best[k] = dt;
      if (rep == 0) { double e = 0, nr = 0; for (long i = 0; i < n * C * C; ++i) { double d = out.data[i] - ref[i]; e += d * d; nr += (double)ref[i] * ref[i]; }
        err[k] = sqrt(e / nr); if (!(err[k] < tol)) printf("MISMATCH %s rel %.3g\n", names[k], sqrt(e / nr)); }
      free(fns[k] ? out.base : buf);
    }
  for (int k = 0; k < nk; ++k) printf("C=%ld %-28s %8.3f us/matrix  speed vs C fs %.2fx  rel err %.2g\n", C, names[k], best[k] / n * 1e6, best[0] / best[k], err[k]);
}
