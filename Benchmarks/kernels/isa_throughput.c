// Throughput of one core's 512-bit multiply-add instructions: FP32 FMA (vfmadd231ps), the BF16 pair dot product
// (vdpbf16ps, AVX512_BF16) and the 8-bit dot product (vpdpbusd, AVX512_VNNI), 12 independent accumulators each, so
// that latency does not limit. It tells whether a lower-precision prefill GEMM could beat OpenBLAS's FP32 sgemm on
// a CPU: per instruction, vfmadd231ps does 16 multiply-adds, vdpbf16ps 32 and vpdpbusd 64.
// Build and run on a CPU with AVX512_BF16 and AVX512_VNNI (the benchmark only, not part of the product):
//   gcc -O2 Benchmarks/kernels/isa_throughput.c -o /tmp/isa_throughput && /tmp/isa_throughput
#include <stdio.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

#define ONE(op, r) op " %%zmm30, %%zmm31, %%zmm" #r "\n"
#define TWELVE(op) \
  ONE(op, 0) ONE(op, 1) ONE(op, 2) ONE(op, 3) ONE(op, 4) ONE(op, 5) ONE(op, 6) ONE(op, 7) ONE(op, 8) ONE(op, 9) \
  ONE(op, 10) ONE(op, 11)
#define CLOBBERS "rcx", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11"
#define LOOP(op) __asm__ volatile("mov %0, %%rcx\n1:\n" TWELVE(op) "dec %%rcx\njnz 1b\n" ::"r"(n) : CLOBBERS)

int main(void) {
  const long n = 100000000;
  for (int round = 0; round < 3; round++) {
    double t0 = now();
    LOOP("vfmadd231ps");
    double t1 = now();
    LOOP("vdpbf16ps");
    double t2 = now();
    LOOP("vpdpbusd");
    double t3 = now();
    double fma = 12.0 * n / (t1 - t0) / 1e9, bf16 = 12.0 * n / (t2 - t1) / 1e9, vnni = 12.0 * n / (t3 - t2) / 1e9;
    printf("zmm instructions/ns: vfmadd231ps %.2f (%.0f G mul-add/s), vdpbf16ps %.2f (%.0f), vpdpbusd %.2f (%.0f)\n",
           fma, fma * 16, bf16, bf16 * 32, vnni, vnni * 64);
  }
  return 0;
}
