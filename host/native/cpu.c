/* ISA detection (cpuid + xgetbv) and the process-wide kernel level; see cpu.h. */
#define _GNU_SOURCE /* dladdr */
#include "cpu.h"

#include <cpuid.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int g_supported[BW_ISA_COUNT];
static int g_popcnt;
static int g_use_popcnt = 1;
static int g_current = -1; /* -1: not initialised yet */

static unsigned long long xgetbv0(void) {
  unsigned int lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return ((unsigned long long)hi << 32) | lo;
}

static void detect(void) {
  unsigned int a, b, c, d;
  int avx2 = 0, avx512 = 0;
  if (__get_cpuid(1, &a, &b, &c, &d)) {
    g_popcnt = (c >> 23) & 1;
    int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, fma = (c >> 12) & 1;
    /* XCR0: bit 1 SSE, 2 AVX (ymm upper); 5 opmask, 6 zmm0-15 upper, 7 zmm16-31 */
    unsigned long long xcr0 = osxsave ? xgetbv0() : 0;
    int os_ymm = (xcr0 & 0x6) == 0x6, os_zmm = (xcr0 & 0xe6) == 0xe6;
    if (__get_cpuid_max(0, 0) >= 7) {
      __cpuid_count(7, 0, a, b, c, d);
      avx2 = avx && fma && os_ymm && ((b >> 5) & 1); /* float kernels use FMA at this level */
      int avx512f = (b >> 16) & 1, vpopcntdq = (c >> 14) & 1;
      avx512 = avx2 && os_zmm && avx512f && vpopcntdq;
    }
  }
  g_supported[BW_ISA_SCALAR] = 1;
  g_supported[BW_ISA_AVX2] = avx2;
  g_supported[BW_ISA_AVX512] = avx512;
}

static int best(void) {
  if (g_supported[BW_ISA_AVX512]) return BW_ISA_AVX512;
  if (g_supported[BW_ISA_AVX2]) return BW_ISA_AVX2;
  return BW_ISA_SCALAR;
}

static int parse_isa(const char *s) {
  for (int i = 0; i < BW_ISA_COUNT; i++)
    if (strcmp(s, bw_isa_name(i)) == 0) return i;
  return -1;
}

/* Idempotent: racing first calls compute the same values. */
static void init(void) {
  if (__atomic_load_n(&g_current, __ATOMIC_ACQUIRE) >= 0) return;
  detect();
  int isa = best();
  const char *env = getenv("BITWEAVE_ISA");
  if (env && strcmp(env, "generic") == 0) {
    g_use_popcnt = 0;
    isa = BW_ISA_SCALAR;
  } else if (env && *env) {
    int want = parse_isa(env);
    if (want < 0) fprintf(stderr, "bitweave: ignoring unknown BITWEAVE_ISA=%s (scalar|avx2|avx512|generic)\n", env);
    else if (!g_supported[want]) fprintf(stderr, "bitweave: ignoring BITWEAVE_ISA=%s: this CPU lacks it\n", env);
    else isa = want;
  }
  int expected = -1;
  __atomic_compare_exchange_n(&g_current, &expected, isa, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

int bw_isa_supported(int isa) {
  init();
  return isa >= 0 && isa < BW_ISA_COUNT && g_supported[isa];
}

int bw_isa_best(void) {
  init();
  return best();
}

int bw_isa_set(int isa) {
  if (!bw_isa_supported(isa)) return -1;
  __atomic_store_n(&g_current, isa, __ATOMIC_RELEASE);
  return isa;
}

int bw_isa_current(void) {
  init();
  return __atomic_load_n(&g_current, __ATOMIC_ACQUIRE);
}

const char *bw_isa_name(int isa) {
  switch (isa) {
  case BW_ISA_SCALAR: return "scalar";
  case BW_ISA_AVX2: return "avx2";
  case BW_ISA_AVX512: return "avx512";
  default: return "unknown";
  }
}

int bw_cpu_has_popcnt(void) {
  init();
  return g_popcnt;
}

int bw_popcnt_set(int enable) {
  init();
  if (enable && !g_popcnt) return -1;
  __atomic_store_n(&g_use_popcnt, enable ? 1 : 0, __ATOMIC_RELEASE);
  return enable ? 1 : 0;
}

int bw_popcnt_enabled(void) {
  init();
  return g_popcnt && __atomic_load_n(&g_use_popcnt, __ATOMIC_ACQUIRE);
}

int bw_cpu_count(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n >= 1 ? (int)n : 1;
}

/*
 * Keep this library, and with it libgomp, loaded until the process ends. A host that
 * dlclose()s it at exit (koffi under Node does) would otherwise unmap libgomp under its
 * parked OpenMP worker threads, which then crash the exiting process.
 */
__attribute__((constructor)) static void pin_library(void) {
  Dl_info info;
  if (dladdr((void *)pin_library, &info) && info.dli_fname) dlopen(info.dli_fname, RTLD_NOW | RTLD_NODELETE | RTLD_NOLOAD);
}
