/*===- gdr_inputs.h - Inputs and memref descriptors of the AOT gdr drivers --===*
 * Shared by gdr_driver.c and gdr_split_driver.c: the memref descriptors of
 * the kernels' ABI (B = 1, T, H = HV, K = V, f32) and the realistic inputs
 * both time the kernels on (L2-normalised keys, beta in (0, 1), negative
 * log-decays; srand(1): the same inputs in every driver and run).
 *===----------------------------------------------------------------------===*/
#ifndef DELTANET_BENCH_AOT_GDR_INPUTS_H
#define DELTANET_BENCH_AOT_GDR_INPUTS_H
#include <math.h>
#include <stdlib.h>
typedef struct { float *base, *data; long off, sizes[4], strides[4]; } M4;
typedef struct { float *base, *data; long off, sizes[3], strides[3]; } M3;
typedef struct { M4 o, s; } R;
typedef struct { M4 q, k, v; M3 g, beta; M4 h0; } GdrInputs;
static float nrm(void) { float u = (rand() + 1.0f) / (RAND_MAX + 2.0f), w = (rand() + 1.0f) / (RAND_MAX + 2.0f); return sqrtf(-2 * logf(u)) * cosf(6.2831853f * w); }
/* q, k, v [1, T, H, K], g, beta [1, T, H], h0 [1, H, K, K] (zeros). */
static GdrInputs gdr_inputs(long T, long H, long K) {
  float *q = malloc(4 * T * H * K), *k = malloc(4 * T * H * K), *v = malloc(4 * T * H * K), *g = malloc(4 * T * H), *be = malloc(4 * T * H), *h0 = calloc(H * K * K, 4);
  srand(1);
  for (long i = 0; i < T * H; ++i) { float n = 0; for (long d = 0; d < K; ++d) { k[i * K + d] = nrm(); n += k[i*K+d]*k[i*K+d]; q[i*K+d] = nrm() / sqrtf(K); v[i*K+d] = nrm(); }
    for (long d = 0; d < K; ++d) k[i*K+d] /= sqrtf(n); g[i] = -fabsf(nrm()) * 0.05f; be[i] = 1 / (1 + expf(-nrm())); }
  GdrInputs in;
  M4 mq = {q, q, 0, {1, T, H, K}, {T*H*K, H*K, K, 1}}, mk = mq, mv = mq; mk.base = mk.data = k; mv.base = mv.data = v;
  M3 mg = {g, g, 0, {1, T, H}, {T*H, H, 1}}, mb = mg; mb.base = mb.data = be;
  M4 mh = {h0, h0, 0, {1, H, K, K}, {H*K*K, K*K, K, 1}};
  in.q = mq; in.k = mk; in.v = mv; in.g = mg; in.beta = mb; in.h0 = mh;
  return in;
}
#endif
