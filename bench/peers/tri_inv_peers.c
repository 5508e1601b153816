/*===- tri_inv_peers.c - Native peers of deltanet.tri_inv -----------------===*
 *
 * The references tri-inv-bench times beside the compiled strategies, with
 * the same calling convention as the JIT-compiled `_mlir_ciface_inv` (a
 * fresh row-major result buffer per call): a plain forward substitution
 * (compiled with clang -O3 -march=native by bench/CMakeLists.txt), LAPACK
 * strtri (unit lower triangular, OpenBLAS), a memcpy of the same bytes and
 * an OpenBLAS sgemm of one C x C x C product per matrix.
 *
 *===----------------------------------------------------------------------===*/

#include "tri_inv_peers.h"

#include <stdlib.h>
#include <string.h>

#ifdef DELTANET_BENCH_HAVE_OPENBLAS
#include <cblas.h>
#include <lapacke.h>
#endif

static float *allocResult(Memref3 *out, const Memref3 *in) {
  int64_t n = in->sizes[0] * in->sizes[1] * in->sizes[2];
  float *x = (float *)aligned_alloc(64, (size_t)((n * 4 + 63) / 64 * 64));
  *out = *in;
  out->basePtr = out->data = x;
  out->offset = 0;
  out->strides[0] = in->sizes[1] * in->sizes[2];
  out->strides[1] = in->sizes[2];
  out->strides[2] = 1;
  return x;
}

/* X = (I + tril(A, -1))^-1, row by row: X[i, :] = e_i - sum_k L[i,k] X[k, :]. */
void peerForwardSubstitution(Memref3 *out, Memref3 *in) {
  int64_t batch = in->sizes[0], c = in->sizes[1];
  float *x = allocResult(out, in);
  const float *a = in->data + in->offset;
  for (int64_t b = 0; b < batch; ++b) {
    const float *l = a + b * c * c;
    float *xb = x + b * c * c;
    for (int64_t i = 0; i < c; ++i) {
      float *row = xb + i * c;
      for (int64_t j = 0; j < c; ++j)
        row[j] = i == j ? 1.0f : 0.0f;
      for (int64_t k = 0; k < i; ++k) {
        float lik = l[i * c + k];
        const float *rowK = xb + k * c;
        for (int64_t j = 0; j <= k; ++j)
          row[j] -= lik * rowK[j];
      }
    }
  }
}

void peerMemcpy(Memref3 *out, Memref3 *in) {
  float *x = allocResult(out, in);
  memcpy(x, in->data + in->offset,
         (size_t)(in->sizes[0] * in->sizes[1] * in->sizes[2]) * sizeof(float));
}

int peerHaveOpenBLAS(void) {
#ifdef DELTANET_BENCH_HAVE_OPENBLAS
  return 1;
#else
  return 0;
#endif
}

void peerSetOpenBLASThreads(int threads) {
#ifdef DELTANET_BENCH_HAVE_OPENBLAS
  openblas_set_num_threads(threads);
#else
  (void)threads;
#endif
}

/* Debian's OpenBLAS 0.3.21 (DYNAMIC_ARCH) picks its kernels from the CPUID
 * model, and a VM's generic "Intel Xeon Processor" model is unknown to it: it
 * falls back to "Prescott" (SSE3) kernels, 5-6x slower than its AVX-512
 * ones here, unless OPENBLAS_CORETYPE=SkylakeX is set. */
const char *peerOpenBLASCoreName(void) {
#ifdef DELTANET_BENCH_HAVE_OPENBLAS
  return openblas_get_corename();
#else
  return "";
#endif
}

/* strtri on the unit lower triangle of each matrix (its diagonal and upper
 * triangle are not referenced), then the upper triangle zeroed. */
void peerLapackStrtri(Memref3 *out, Memref3 *in) {
  int64_t batch = in->sizes[0], c = in->sizes[1];
  float *x = allocResult(out, in);
  memcpy(x, in->data + in->offset, (size_t)(batch * c * c) * sizeof(float));
#ifdef DELTANET_BENCH_HAVE_OPENBLAS
  for (int64_t b = 0; b < batch; ++b) {
    float *xb = x + b * c * c;
    LAPACKE_strtri(LAPACK_ROW_MAJOR, 'L', 'U', (lapack_int)c, xb,
                   (lapack_int)c);
    for (int64_t i = 0; i < c; ++i) {
      xb[i * c + i] = 1.0f;
      for (int64_t j = i + 1; j < c; ++j)
        xb[i * c + j] = 0.0f;
    }
  }
#endif
}

/* One C x C x C sgemm per matrix (X_b = A_b A_b): the achievable matmul rate
 * at these sizes. */
void peerSgemm(Memref3 *out, Memref3 *in) {
  int64_t batch = in->sizes[0], c = in->sizes[1];
  float *x = allocResult(out, in);
#ifdef DELTANET_BENCH_HAVE_OPENBLAS
  const float *a = in->data + in->offset;
  for (int64_t b = 0; b < batch; ++b)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)c, (int)c,
                (int)c, 1.0f, a + b * c * c, (int)c, a + b * c * c, (int)c,
                0.0f, x + b * c * c, (int)c);
#else
  (void)x;
  (void)batch;
  (void)c;
#endif
}
