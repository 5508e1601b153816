/*===- dot_throughput.c - Throughput of the CPU's dot-product instructions --===*
 * Times 24 independent accumulators of vdpbf16ps / vfmadd231ps (zmm, ymm),
 * vpdpbusd and vpdpwssd (zmm) in a loop (inline asm, thread CPU time):
 * ns per instruction. vdpbf16ps does 32 multiply-adds per zmm instruction,
 * vfmadd231ps 16, vpdpbusd 64, vpdpwssd 32 (issue 13: why bf16 dot
 * products cannot beat f32 FMAs on a CPU where vdpbf16ps is slow).
 * Build: clang -O2 -march=native bench/aot/dot_throughput.c -o dot_throughput
 *===----------------------------------------------------------------------===*/
#include <stdio.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

#define R(I, W, n) #I " %%" #W "0, %%" #W "1, %%" #W #n "\n"
#define BODY(I, W)                                                            \
  R(I, W, 2) R(I, W, 3) R(I, W, 4) R(I, W, 5) R(I, W, 6) R(I, W, 7)           \
  R(I, W, 8) R(I, W, 9) R(I, W, 10) R(I, W, 11) R(I, W, 12) R(I, W, 13)       \
  R(I, W, 14) R(I, W, 15) R(I, W, 16) R(I, W, 17) R(I, W, 18) R(I, W, 19)     \
  R(I, W, 20) R(I, W, 21) R(I, W, 22) R(I, W, 23) R(I, W, 24) R(I, W, 25)
#define CLOBBERS                                                              \
  "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",     \
  "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm16", "xmm17", "xmm18",      \
  "xmm19", "xmm20", "xmm21", "xmm22", "xmm23", "xmm24", "xmm25"
#define TIME(I, W, MACS)                                                      \
  do {                                                                        \
    double t0 = now();                                                        \
    for (long i = 0; i < n; ++i)                                              \
      __asm__ volatile(BODY(I, W) ::: CLOBBERS);                              \
    double ns = (now() - t0) / (n * 24.0) * 1e9;                              \
    printf("%-12s %s: %.3f ns/instruction, %5.1f multiply-adds/ns\n", #I, #W,  \
           ns, MACS / ns);                                                    \
  } while (0)

int main(void) {
  long n = 10000000;
  TIME(vdpbf16ps, zmm, 32);
  TIME(vfmadd231ps, zmm, 16);
  TIME(vdpbf16ps, ymm, 16);
  TIME(vfmadd231ps, ymm, 8);
  TIME(vpdpbusd, zmm, 64);
  TIME(vpdpwssd, zmm, 32);
  return 0;
}
