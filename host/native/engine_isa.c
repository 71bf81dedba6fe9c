/*
 * Which kernels the engine runs. The ISA policy (detection, bw_isa_set, BITWEAVE_ISA,
 * bw_popcnt_set) belongs to cpu.h, shared with the GEMM kernels, so one override switches
 * every kernel of the library. Should cpu.h be absent from a build, the engine detects the
 * best level itself and takes no override.
 */
#include <stdlib.h>

#include "engine.h"

#if __has_include("cpu.h")
#include "cpu.h"

int bw_engine_isa(void) { return bw_isa_current(); }
int bw_engine_has_popcnt(void) { return bw_popcnt_enabled(); }

#else

int bw_engine_isa(void) {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vpopcntdq")) return BW_ISA_AVX512;
  if (__builtin_cpu_supports("avx2")) return BW_ISA_AVX2;
  return BW_ISA_SCALAR;
}

int bw_engine_has_popcnt(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("popcnt") != 0;
}

#endif

static double par_ns = BW_PAR_NS;

void bw_engine_set_parallel_ns(double ns) { par_ns = ns < 0 ? BW_PAR_NS : ns; }

int bw_team(double work_ns, int32_t threads, int64_t parts) {
  const double min = par_ns;
  if (threads < 2 || parts < 2 || work_ns < min) return 1;
  double t = min > 0 ? work_ns / min : threads;
  if (t > threads) t = threads;
  if (t > (double)parts) t = (double)parts;
  return t < 1 ? 1 : (int)t;
}

void *bw_alloc(size_t bytes) {
  size_t n = (bytes + 63) & ~(size_t)63;
  return aligned_alloc(64, n ? n : 64);
}

void *bw_scratch(int which, size_t bytes) {
  static __thread void *buf[8];
  static __thread size_t cap[8];
  if (which < 0 || which >= 8) return NULL;
  if (cap[which] < bytes) {
    size_t n = bytes + bytes / 4; /* some headroom: sizes vary a little between calls */
    void *p = bw_alloc(n);
    if (!p) return NULL;
    free(buf[which]);
    buf[which] = p;
    cap[which] = n;
  }
  return buf[which];
}
