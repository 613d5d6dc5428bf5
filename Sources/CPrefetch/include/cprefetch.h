// Prefetch hints for the Swift kernels. Swift has no prefetch intrinsic of its own, and clang's `_mm_prefetch` is a
// macro that Swift cannot import; a static inline function imported from this header is inlined into the Swift
// caller and compiles to one `prefetcht0` (checked with objdump on the release build of Kernels).
#ifndef CPREFETCH_H
#define CPREFETCH_H

/// Asks the CPU to bring the cache line holding `p` into all cache levels, ahead of a read. Never faults.
static inline __attribute__((always_inline)) void cg_prefetch_read(const void *p) {
  __builtin_prefetch(p, 0, 3);
}

/// The same with a lower temporal locality hint: 2 is `prefetcht1`, 1 `prefetcht2`, 0 `prefetchnta`. (The hint is a
/// compile-time constant of the builtin, hence one function per hint.)
static inline __attribute__((always_inline)) void cg_prefetch_read_t1(const void *p) {
  __builtin_prefetch(p, 0, 2);
}
static inline __attribute__((always_inline)) void cg_prefetch_read_t2(const void *p) {
  __builtin_prefetch(p, 0, 1);
}
static inline __attribute__((always_inline)) void cg_prefetch_read_nta(const void *p) {
  __builtin_prefetch(p, 0, 0);
}

/// One spin-wait hint (x86 `pause`; nothing elsewhere), for polling loops.
static inline __attribute__((always_inline)) void cg_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

#endif
