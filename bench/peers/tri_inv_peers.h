/*===- tri_inv_peers.h - Native peers of deltanet.tri_inv -------*- C -*-===*
 *
 * Declares the peers tri-inv-bench times beside the compiled strategies.
 *
 *===----------------------------------------------------------------------===*/

#ifndef DELTANET_BENCH_TRI_INV_PEERS_H
#define DELTANET_BENCH_TRI_INV_PEERS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Layout-compatible with StridedMemRefType<float, 3>. */
typedef struct {
  float *basePtr;
  float *data;
  int64_t offset;
  int64_t sizes[3];
  int64_t strides[3];
} Memref3;

void peerForwardSubstitution(Memref3 *out, Memref3 *in);
void peerMemcpy(Memref3 *out, Memref3 *in);
void peerLapackStrtri(Memref3 *out, Memref3 *in);
void peerSgemm(Memref3 *out, Memref3 *in);
int peerHaveOpenBLAS(void);
void peerSetOpenBLASThreads(int threads);
/* OpenBLAS's kernel family (e.g. "SkylakeX"), or "" without OpenBLAS. */
const char *peerOpenBLASCoreName(void);

#ifdef __cplusplus
}
#endif

#endif /* DELTANET_BENCH_TRI_INV_PEERS_H */
