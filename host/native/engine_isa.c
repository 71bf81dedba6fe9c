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

void *bw_alloc(size_t bytes) {
  size_t n = (bytes + 63) & ~(size_t)63;
  return aligned_alloc(64, n ? n : 64);
}
