/*===- npu_runtime.h - Host execution and cycle model of npu ops -*- C -*-===*
 *
 * The runtime of C emitted by --deltanet-npu-pipeline (deltanet-npu-to-emitc).
 * Every npu op is executed functionally on the host and charged to the unit
 * that would run it on the target (DMA engine, matrix unit, vector unit) in
 * an overlap model: units run concurrently, each in order; an op starts
 * when its unit is free and the data it reads (or overwrites) is ready.
 * Dependencies are tracked per 64-byte line of every buffer touched, so
 * double-buffered tiles really overlap and a dependency chain really
 * serialises. See docs/NPU.md for the model and its limits.
 *
 * Header-only C99 (plus _Float16): include it, and the emitted kernel, in
 * one translation unit. The kernel defines `npu_program_target` through
 * NPU_TARGET(...).
 *===----------------------------------------------------------------------===*/

#ifndef DELTANET_NPU_RUNTIME_H
#define DELTANET_NPU_RUNTIME_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct npu_target {
  const char *name;
  long clock_mhz;
  long f16_m, f16_n, f16_k, f16_cycles;
  long i8_m, i8_n, i8_k, i8_cycles;
  long mm_latency;
  long vector_bits, vector_issue, vector_latency;
  long lhs_bytes, rhs_bytes, acc_bytes, local_bytes;
  long dma_global, dma_local, dma_latency;
} npu_target_t;

/* Emitted at the top of every kernel: the target it was compiled for. */
#define NPU_TARGET(...)                                                        \
  static const npu_target_t npu_program_target = {__VA_ARGS__};

/* Two DMA queues, as NPUs have separate engines for inbound and outbound
 * traffic (Ascend: MTE2/MTE1 in, MTE3/FixPipe out): loads into local or
 * matrix buffers, and stores out of the accumulator or to global memory. */
enum {
  NPU_DMA_IN = 0,
  NPU_DMA_OUT = 1,
  NPU_MATRIX = 2,
  NPU_VECTOR = 3,
  NPU_UNITS = 4
};
static const char *const npu_unit_names[NPU_UNITS] = {"dma_in", "dma_out",
                                                      "matrix", "vector"};

typedef struct {
  double free_at; /* cycle at which the unit can start its next op */
  double busy;    /* cycles it was occupied */
  long ops;
} npu_unit_t;

typedef struct {
  const char *p;
  size_t elem, rank, n[6], s[6];
  int write;
} npu_view_t;

#define NPU_LINE_SHIFT 6
#define NPU_MAX_VIEWS 16

static struct {
  const npu_target_t *t;
  npu_unit_t unit[NPU_UNITS];
  double makespan;
  /* line -> (written-ready cycle, last-read cycle): open addressing */
  uintptr_t *keys;
  double *ready, *read_end;
  size_t cap, count;
  /* local memories: the vector unit's (TCM / unified buffer) and the
   * matrix unit's operand and accumulator buffers */
  char *local;
  size_t local_cap, local_used;
  char *mm[3];
  size_t mm_cap[3], mm_used[3];
  void **globals;
  size_t nglobals, globals_cap;
  /* operands a harness declares on chip (npu_alloc_onchip) */
  const char *onchip[16];
  size_t onchip_bytes[16];
  int nonchip;
  npu_view_t views[NPU_MAX_VIEWS];
  int nviews;
  size_t global_bytes; /* bytes moved to/from global memory */
} npu;

/*--- dependency table ----------------------------------------------------*/

static size_t npu_slot(uintptr_t key) {
  size_t h = (size_t)(key * 0x9E3779B97F4A7C15ull);
  size_t i = h & (npu.cap - 1);
  while (npu.keys[i] && npu.keys[i] != key)
    i = (i + 1) & (npu.cap - 1);
  return i;
}

static void npu_grow(void) {
  uintptr_t *keys = npu.keys;
  double *ready = npu.ready, *read_end = npu.read_end;
  size_t cap = npu.cap;
  npu.cap = cap ? cap * 2 : (1u << 16);
  npu.keys = (uintptr_t *)calloc(npu.cap, sizeof(uintptr_t));
  npu.ready = (double *)calloc(npu.cap, sizeof(double));
  npu.read_end = (double *)calloc(npu.cap, sizeof(double));
  if (!npu.keys || !npu.ready || !npu.read_end) {
    fprintf(stderr, "npu runtime: out of memory\n");
    exit(2);
  }
  for (size_t i = 0; i < cap; ++i)
    if (keys[i]) {
      size_t j = npu_slot(keys[i]);
      npu.keys[j] = keys[i];
      npu.ready[j] = ready[i];
      npu.read_end[j] = read_end[i];
    }
  free(keys);
  free(ready);
  free(read_end);
}

/* Index of `line` in the table, inserting it (ready at cycle 0). */
static size_t npu_line(uintptr_t line) {
  uintptr_t key = line + 1; /* 0 marks an empty slot */
  if (2 * (npu.count + 1) > npu.cap)
    npu_grow();
  size_t i = npu_slot(key);
  if (!npu.keys[i]) {
    npu.keys[i] = key;
    npu.ready[i] = 0;
    npu.read_end[i] = 0;
    ++npu.count;
  }
  return i;
}

/* mode 0: earliest start for reading, 1: for writing; 2: record a read that
 * ends at `t`, 3: record a write ready at `t`. */
static double npu_lines(uintptr_t first, uintptr_t last, int mode, double t) {
  for (uintptr_t line = first; line <= last; ++line) {
    size_t i = npu_line(line);
    switch (mode) {
    case 0:
      if (npu.ready[i] > t)
        t = npu.ready[i];
      break;
    case 1:
      if (npu.ready[i] > t)
        t = npu.ready[i];
      if (npu.read_end[i] > t)
        t = npu.read_end[i];
      break;
    case 2:
      if (npu.read_end[i] < t)
        npu.read_end[i] = t;
      break;
    default:
      npu.ready[i] = t;
      break;
    }
  }
  return t;
}

/* Applies `mode` to every line of a strided view. */
static double npu_view_walk(const npu_view_t *v, int mode, double t) {
  size_t rank = v->rank, idx[6] = {0, 0, 0, 0, 0, 0};
  for (size_t d = 0; d < rank; ++d)
    if (v->n[d] == 0)
      return t;
  if (rank == 0) {
    uintptr_t a = (uintptr_t)v->p;
    return npu_lines(a >> NPU_LINE_SHIFT,
                     (a + v->elem - 1) >> NPU_LINE_SHIFT, mode, t);
  }
  size_t inner = rank - 1;
  for (;;) {
    size_t off = 0;
    for (size_t d = 0; d < inner; ++d)
      off += idx[d] * v->s[d];
    uintptr_t a = (uintptr_t)(v->p + off * v->elem);
    if (v->s[inner] == 1 || v->n[inner] == 1) {
      uintptr_t end = a + v->n[inner] * v->elem - 1;
      t = npu_lines(a >> NPU_LINE_SHIFT, end >> NPU_LINE_SHIFT, mode, t);
    } else {
      for (size_t j = 0; j < v->n[inner]; ++j) {
        uintptr_t e = a + j * v->s[inner] * v->elem;
        t = npu_lines(e >> NPU_LINE_SHIFT, (e + v->elem - 1) >> NPU_LINE_SHIFT,
                      mode, t);
      }
    }
    size_t d = inner;
    while (d > 0) {
      --d;
      if (++idx[d] < v->n[d])
        break;
      idx[d] = 0;
      if (d == 0)
        return t;
    }
    if (inner == 0)
      return t;
  }
}

static size_t npu_view_bytes(const npu_view_t *v) {
  size_t n = v->elem;
  for (size_t d = 0; d < v->rank; ++d)
    n *= v->n[d];
  return n;
}

static int npu_is_acc(const void *p) {
  const char *c = (const char *)p;
  return c >= npu.mm[2] && c < npu.mm[2] + npu.mm_cap[2];
}

static int npu_is_local(const void *p) {
  const char *c = (const char *)p;
  if (c >= npu.local && c < npu.local + npu.local_cap)
    return 1;
  for (int i = 0; i < npu.nonchip; ++i)
    if (c >= npu.onchip[i] && c < npu.onchip[i] + npu.onchip_bytes[i])
      return 1;
  for (int s = 0; s < 3; ++s)
    if (c >= npu.mm[s] && c < npu.mm[s] + npu.mm_cap[s])
      return 1;
  return 0;
}

/* Schedules an op of `occupancy` cycles (result ready `latency` later) on
 * `unit`, not before `earliest`; returns its start cycle. */
static double npu_schedule(int unit, double earliest, double occupancy,
                           double latency, double *done) {
  npu_unit_t *u = &npu.unit[unit];
  double start = u->free_at > earliest ? u->free_at : earliest;
  u->free_at = start + occupancy;
  u->busy += occupancy;
  u->ops += 1;
  *done = start + occupancy + latency;
  if (*done > npu.makespan)
    npu.makespan = *done;
  return start;
}

/*--- memory --------------------------------------------------------------*/

static void npu_reset(const npu_target_t *t) {
  for (size_t i = 0; i < npu.nglobals; ++i)
    free(npu.globals[i]);
  npu.nglobals = 0;
  for (int i = 0; i < npu.nonchip; ++i)
    free((void *)npu.onchip[i]);
  npu.nonchip = 0;
  if (npu.t != t) {
    free(npu.local);
    for (int s = 0; s < 3; ++s)
      free(npu.mm[s]);
    npu.t = t;
    npu.local_cap = (size_t)t->local_bytes;
    npu.local = (char *)aligned_alloc(64, (npu.local_cap + 63) / 64 * 64 + 64);
    long caps[3] = {t->lhs_bytes, t->rhs_bytes, t->acc_bytes};
    for (int s = 0; s < 3; ++s) {
      npu.mm_cap[s] = (size_t)caps[s];
      npu.mm[s] = (char *)aligned_alloc(64, (npu.mm_cap[s] + 63) / 64 * 64 + 64);
    }
  }
  npu.local_used = 0;
  for (int s = 0; s < 3; ++s)
    npu.mm_used[s] = 0;
  memset(npu.unit, 0, sizeof(npu.unit));
  npu.makespan = 0;
  npu.global_bytes = 0;
  npu.nviews = 0;
  if (npu.cap) {
    memset(npu.keys, 0, npu.cap * sizeof(uintptr_t));
    npu.count = 0;
  }
}

/* A buffer of the kernel: in the vector unit's local memory while it fits,
 * else in global memory. Freed by the next npu_reset. */
static void *npu_alloc(size_t bytes) {
  size_t rounded = (bytes + 63) / 64 * 64;
  if (npu.local_used + rounded <= npu.local_cap) {
    void *p = npu.local + npu.local_used;
    npu.local_used += rounded;
    return p;
  }
  void *p = aligned_alloc(64, rounded ? rounded : 64);
  if (!p) {
    fprintf(stderr, "npu runtime: out of memory (%zu bytes)\n", bytes);
    exit(2);
  }
  if (npu.nglobals == npu.globals_cap) {
    npu.globals_cap = npu.globals_cap ? 2 * npu.globals_cap : 64;
    npu.globals = (void **)realloc(npu.globals, npu.globals_cap * sizeof(void *));
  }
  npu.globals[npu.nglobals++] = p;
  return p;
}

/* A kernel operand that is already on chip (produced and consumed there by
 * the surrounding layer): moving it costs local, not global, bandwidth, and
 * it does not take space from the kernel's local memory (a model of the
 * layer's own staging buffers, e.g. Ascend's L1). Freed by npu_reset. */
static void *npu_alloc_onchip(size_t bytes) {
  if (npu.nonchip == 16) {
    fprintf(stderr, "npu runtime: too many on-chip operands\n");
    exit(2);
  }
  void *p = aligned_alloc(64, (bytes + 63) / 64 * 64 + 64);
  if (!p) {
    fprintf(stderr, "npu runtime: out of memory (%zu bytes)\n", bytes);
    exit(2);
  }
  npu.onchip[npu.nonchip] = (const char *)p;
  npu.onchip_bytes[npu.nonchip++] = bytes;
  return p;
}

/* A matrix-unit buffer (space 0: lhs, 1: rhs, 2: acc). The compiler checked
 * that one matmul's buffers fit; buffers of an earlier matmul are dead and
 * their space is reused. */
static void *npu_alloc_local(size_t space, size_t bytes) {
  size_t rounded = (bytes + 63) / 64 * 64;
  if (space > 2) {
    fprintf(stderr, "npu runtime: unknown local space %zu\n", space);
    exit(2);
  }
  if (npu.mm_used[space] + rounded > npu.mm_cap[space])
    npu.mm_used[space] = 0;
  if (rounded > npu.mm_cap[space]) {
    fprintf(stderr, "npu runtime: %zu bytes exceed local space %zu\n", bytes,
            space);
    exit(2);
  }
  void *p = npu.mm[space] + npu.mm_used[space];
  npu.mm_used[space] += rounded;
  return p;
}

/*--- ops -----------------------------------------------------------------*/

/* Copies the common rows x cols window of src into dst, zero padding the
 * rest of dst (strides in elements). */
static void npu_dma(void *dst, size_t dr, size_t dc, size_t ds0, size_t ds1,
                    const void *src, size_t sr, size_t sc, size_t ss0,
                    size_t ss1, size_t elem) {
  size_t rows = dr < sr ? dr : sr, cols = dc < sc ? dc : sc;
  char *d = (char *)dst;
  const char *s = (const char *)src;
  for (size_t i = 0; i < dr; ++i)
    for (size_t j = 0; j < dc; ++j) {
      char *to = d + (i * ds0 + j * ds1) * elem;
      if (i < rows && j < cols)
        memcpy(to, s + (i * ss0 + j * ss1) * elem, elem);
      else
        memset(to, 0, elem);
    }
  npu_view_t sv = {s, elem, 2, {rows, cols}, {ss0, ss1}, 0};
  npu_view_t dv = {d, elem, 2, {dr, dc}, {ds0, ds1}, 1};
  double t = npu_view_walk(&sv, 0, 0);
  t = npu_view_walk(&dv, 1, t);
  int global = !npu_is_local(src) || !npu_is_local(dst);
  double bytes = (double)(rows * cols * elem);
  double bw = (double)(global ? npu.t->dma_global : npu.t->dma_local);
  double done;
  int queue = (npu_is_acc(src) || !npu_is_local(dst)) ? NPU_DMA_OUT : NPU_DMA_IN;
  npu_schedule(queue, t, ceil(bytes / bw),
               global ? (double)npu.t->dma_latency : 0.0, &done);
  if (global)
    npu.global_bytes += (size_t)bytes;
  npu_view_walk(&sv, 2, done);
  npu_view_walk(&dv, 3, done);
}

static void npu_matmul_charge(const void *a, const void *b, void *c, size_t m,
                              size_t n, size_t k, size_t lda, size_t ldb,
                              size_t ldc, size_t ab_elem, size_t c_elem,
                              double cycles) {
  npu_view_t av = {(const char *)a, ab_elem, 2, {m, k}, {lda, 1}, 0};
  npu_view_t bv = {(const char *)b, ab_elem, 2, {k, n}, {ldb, 1}, 0};
  npu_view_t cv = {(const char *)c, c_elem, 2, {m, n}, {ldc, 1}, 1};
  double t = npu_view_walk(&av, 0, 0);
  t = npu_view_walk(&bv, 0, t);
  t = npu_view_walk(&cv, 1, t);
  double done;
  npu_schedule(NPU_MATRIX, t, cycles, (double)npu.t->mm_latency, &done);
  npu_view_walk(&av, 2, done);
  npu_view_walk(&bv, 2, done);
  npu_view_walk(&cv, 3, done);
}

/* c (+)= a @ b on one f16 tile, f32 accumulation. */
static void npu_matmul_f16(const _Float16 *a, const _Float16 *b, float *c,
                           size_t m, size_t n, size_t k, size_t lda, size_t ldb,
                           size_t ldc, size_t accumulate) {
  for (size_t i = 0; i < m; ++i)
    for (size_t j = 0; j < n; ++j) {
      float sum = accumulate ? c[i * ldc + j] : 0.0f;
      for (size_t p = 0; p < k; ++p)
        sum += (float)a[i * lda + p] * (float)b[p * ldb + j];
      c[i * ldc + j] = sum;
    }
  npu_matmul_charge(a, b, c, m, n, k, lda, ldb, ldc, 2, 4,
                    (double)npu.t->f16_cycles);
}

/* c (+)= a @ b on one int8 tile, exact int32 accumulation. */
static void npu_matmul_i8(const int8_t *a, const int8_t *b, int32_t *c,
                          size_t m, size_t n, size_t k, size_t lda, size_t ldb,
                          size_t ldc, size_t accumulate) {
  for (size_t i = 0; i < m; ++i)
    for (size_t j = 0; j < n; ++j) {
      int32_t sum = accumulate ? c[i * ldc + j] : 0;
      for (size_t p = 0; p < k; ++p)
        sum += (int32_t)a[i * lda + p] * (int32_t)b[p * ldb + j];
      c[i * ldc + j] = sum;
    }
  npu_matmul_charge(a, b, c, m, n, k, lda, ldb, ldc, 1, 4,
                    (double)npu.t->i8_cycles);
}

static void npu_vec_view(int write, const void *p, size_t elem, size_t rank,
                         size_t n0, size_t s0, size_t n1, size_t s1, size_t n2,
                         size_t s2, size_t n3, size_t s3, size_t n4, size_t s4,
                         size_t n5, size_t s5) {
  if (npu.nviews == NPU_MAX_VIEWS) {
    fprintf(stderr, "npu runtime: too many buffers in one vector op\n");
    exit(2);
  }
  npu_view_t v = {(const char *)p, elem, rank,
                  {n0, n1, n2, n3, n4, n5}, {s0, s1, s2, s3, s4, s5}, write};
  npu.views[npu.nviews++] = v;
}

static void npu_vec_read(const void *p, size_t elem, size_t rank, size_t n0,
                         size_t s0, size_t n1, size_t s1, size_t n2, size_t s2,
                         size_t n3, size_t s3, size_t n4, size_t s4, size_t n5,
                         size_t s5) {
  npu_vec_view(0, p, elem, rank, n0, s0, n1, s1, n2, s2, n3, s3, n4, s4, n5,
               s5);
}

static void npu_vec_write(const void *p, size_t elem, size_t rank, size_t n0,
                          size_t s0, size_t n1, size_t s1, size_t n2, size_t s2,
                          size_t n3, size_t s3, size_t n4, size_t s4, size_t n5,
                          size_t s5) {
  npu_vec_view(1, p, elem, rank, n0, s0, n1, s1, n2, s2, n3, s3, n4, s4, n5,
               s5);
}

/* Vector-unit work over the declared views: `instrs` instructions at
 * `vector_issue` per cycle, or a chain of `chain` dependent instructions of
 * `vector_latency` cycles each, whichever is longer. Operands in global
 * memory are streamed through the DMA engine before / after. */
static void npu_vec_issue(size_t instrs, size_t chain) {
  const npu_target_t *tg = npu.t;
  double t = 0, in_bytes = 0, out_bytes = 0;
  for (int i = 0; i < npu.nviews; ++i) {
    npu_view_t *v = &npu.views[i];
    t = npu_view_walk(v, v->write ? 1 : 0, t);
    if (!npu_is_local(v->p))
      *(v->write ? &out_bytes : &in_bytes) += (double)npu_view_bytes(v);
  }
  double done, ready = t;
  if (in_bytes > 0) {
    npu_schedule(NPU_DMA_IN, t, ceil(in_bytes / (double)tg->dma_global),
                 (double)tg->dma_latency, &done);
    ready = done;
    npu.global_bytes += (size_t)in_bytes;
  }
  double issue = ceil((double)instrs / (double)tg->vector_issue);
  double dependent = (double)chain * (double)tg->vector_latency;
  double cycles = issue > dependent ? issue : dependent;
  double start = npu_schedule(NPU_VECTOR, ready, cycles,
                              (double)tg->vector_latency, &done);
  if (getenv("NPU_TRACE"))
    fprintf(stderr, "vector: %zu instrs, chain %zu, %.0f cycles, start %.0f\n",
            instrs, chain, cycles, start);
  double computed = done;
  if (out_bytes > 0) {
    npu_schedule(NPU_DMA_OUT, computed, ceil(out_bytes / (double)tg->dma_global),
                 (double)tg->dma_latency, &done);
    npu.global_bytes += (size_t)out_bytes;
  }
  for (int i = 0; i < npu.nviews; ++i) {
    npu_view_t *v = &npu.views[i];
    npu_view_walk(v, v->write ? 3 : 2, v->write ? done : computed);
  }
  npu.nviews = 0;
}

/* A copy / gather / broadcast over the declared views, done by the DMA
 * engine: the bytes written, at the global bandwidth when either side is
 * in global memory, else the local one. */
static void npu_move_issue(void) {
  const npu_target_t *tg = npu.t;
  double t = 0, bytes = 0;
  int global = 0;
  for (int i = 0; i < npu.nviews; ++i) {
    npu_view_t *v = &npu.views[i];
    t = npu_view_walk(v, v->write ? 1 : 0, t);
    if (!npu_is_local(v->p))
      global = 1;
    if (v->write)
      bytes += (double)npu_view_bytes(v);
  }
  double done;
  double bw = (double)(global ? tg->dma_global : tg->dma_local);
  int queue = NPU_DMA_IN;
  for (int i = 0; i < npu.nviews; ++i)
    if (npu.views[i].write && !npu_is_local(npu.views[i].p))
      queue = NPU_DMA_OUT;
  npu_schedule(queue, t, ceil(bytes / bw),
               global ? (double)tg->dma_latency : 0.0, &done);
  if (global)
    npu.global_bytes += (size_t)bytes;
  for (int i = 0; i < npu.nviews; ++i) {
    npu_view_t *v = &npu.views[i];
    npu_view_walk(v, v->write ? 3 : 2, done);
  }
  npu.nviews = 0;
}

/*--- report --------------------------------------------------------------*/

/* One JSON object: total modeled cycles (the makespan) and per unit its busy
 * cycles and op count. */
static void npu_report(FILE *out) {
  fprintf(out, "{\"target\": \"%s\", \"cycles\": %.0f, \"us\": %.3f, "
               "\"global_bytes\": %zu, \"units\": {",
          npu.t->name, npu.makespan,
          npu.makespan / (double)npu.t->clock_mhz, npu.global_bytes);
  for (int u = 0; u < NPU_UNITS; ++u)
    fprintf(out, "%s\"%s\": {\"busy\": %.0f, \"ops\": %ld}", u ? ", " : "",
            npu_unit_names[u], npu.unit[u].busy, npu.unit[u].ops);
  fprintf(out, "}}\n");
}

#endif /* DELTANET_NPU_RUNTIME_H */
