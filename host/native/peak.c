/*
 * `bench peak`: the measured popcount ceiling of this machine. Register-resident loops of
 * the same instruction mix as the GEMM kernels, on 12 independent accumulators (enough to
 * cover latencies and fill every port), so memory plays no part:
 *   avx512   acc += vpopcntq(a ^ b)            512 bit-MACs per vector step
 *   avx2     bytes += lut(a ^ b) (vpshufb), vpsadbw every 31 steps, 256 per step
 *   scalar   acc += popcnt(a ^ b) (or the portable count), 64 per step
 * b changes every iteration (through an empty asm) so nothing can be hoisted.
 * Returns binary MACs (bit-ops) per second summed over `threads` threads, each running
 * `iters` iterations; *seconds receives the wall time. -1 if the ISA is unsupported.
 *
 * The float32 FMA ceiling beside it (what the float layers' kernels run: engine_fconv.c),
 * the same way: 12 independent chains acc = fma(acc, m, k) per ISA width (scalar: fmaf).
 */
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <time.h>

#include "cpu.h"

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

#define R12(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)

/* bits per iteration of each loop */
#define BITS_AVX512 (12 * 512)
#define BITS_AVX2 (12 * 256 * 31)
#define BITS_SCALAR (12 * 64)

static volatile uint64_t sink;

__attribute__((target("avx2,avx512f,avx512vpopcntdq"))) static void loop_avx512(long iters) {
#define D(j) __m512i c##j = _mm512_setzero_si512(), a##j = _mm512_set1_epi64(0x9e3779b97f4a7c15ll * (j + 1));
#define S(j) c##j = _mm512_add_epi64(c##j, _mm512_popcnt_epi64(_mm512_xor_si512(a##j, b)));
#define F(j) s = _mm512_add_epi64(s, c##j);
  R12(D)
  __m512i b = _mm512_set1_epi64(12345), s = _mm512_setzero_si512();
  for (long i = 0; i < iters; i++) {
    __asm__ volatile("" : "+v"(b));
    R12(S)
  }
  R12(F)
  sink = (uint64_t)_mm512_reduce_add_epi64(s);
#undef D
#undef S
#undef F
}

__attribute__((target("avx2"))) static void loop_avx2(long iters) {
  const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2,
                                       2, 3, 2, 3, 3, 4);
  const __m256i low4 = _mm256_set1_epi8(0x0f), zero = _mm256_setzero_si256();
#define D(j) __m256i c##j, t##j = zero, a##j = _mm256_set1_epi64x(0x9e3779b97f4a7c15ll * (j + 1));
#define Z(j) c##j = zero;
#define S(j)                                                                                 \
  {                                                                                          \
    __m256i x = _mm256_xor_si256(a##j, b);                                                   \
    __m256i lo = _mm256_shuffle_epi8(lut, _mm256_and_si256(x, low4));                        \
    __m256i hi = _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(x, 4), low4));  \
    c##j = _mm256_add_epi8(c##j, _mm256_add_epi8(lo, hi));                                   \
  }
#define W(j) t##j = _mm256_add_epi64(t##j, _mm256_sad_epu8(c##j, zero));
#define F(j) s = _mm256_add_epi64(s, t##j);
  R12(D)
  __m256i b = _mm256_set1_epi64x(12345), s = zero;
  for (long i = 0; i < iters; i++) {
    R12(Z)
    for (int r = 0; r < 31; r++) {
      __asm__ volatile("" : "+x"(b));
      R12(S)
    }
    R12(W)
  }
  R12(F)
  sink = (uint64_t)_mm256_extract_epi64(s, 0) + (uint64_t)_mm256_extract_epi64(s, 3);
#undef D
#undef Z
#undef S
#undef W
#undef F
}

static inline __attribute__((always_inline)) int swar_count(uint64_t x) {
  x = x - ((x >> 1) & 0x5555555555555555ull);
  x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
  x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
  return (int)((x * 0x0101010101010101ull) >> 56);
}

/* COUNT is #defined before each instantiation (a macro argument would not reach S) */
#define SCALAR_LOOP(NAME, ATTR)                                                       \
  ATTR static void NAME(long iters) {                                                 \
    uint64_t b = 12345, s = 0;                                                        \
    R12(D)                                                                            \
    for (long i = 0; i < iters; i++) {                                                \
      __asm__ volatile("" : "+r"(b));                                                 \
      R12(S)                                                                          \
    }                                                                                 \
    R12(F)                                                                            \
    sink = s;                                                                         \
  }
#define D(j) uint64_t c##j = 0, a##j = 0x9e3779b97f4a7c15ull * (j + 1);
#define S(j) c##j += (uint64_t)COUNT(a##j ^ b);
#define F(j) s += c##j;
#define COUNT __builtin_popcountll
SCALAR_LOOP(loop_popcnt, __attribute__((target("popcnt"))))
#undef COUNT
#define COUNT swar_count
SCALAR_LOOP(loop_generic, )
#undef COUNT
#undef D
#undef S
#undef F

/* ---- float32 FMA: m < 1 and k > 0 keep every chain at a normal value near k / (1 - m).
 * VT, SET1, FMA, ADD, FIRST are #defined before each instantiation (as COUNT above). */
static volatile float fsink;
#define FMA_LOOP(NAME, ATTR, CONSTRAINT)                                   \
  ATTR static void NAME(long iters) {                                     \
    VT m = SET1(0.999f), k = SET1(0.001f);                                \
    R12(D)                                                                \
    for (long i = 0; i < iters; i++) {                                    \
      __asm__ volatile("" : CONSTRAINT(m));                               \
      R12(S)                                                              \
    }                                                                     \
    R12(F)                                                                \
    fsink = FIRST(c0);                                                    \
  }
#define D(j) VT c##j = SET1(0.25f * (j + 1));
#define S(j) c##j = FMA(c##j, m, k);
#define F(j) if (j) c0 = ADD(c0, c##j);
#define VT __m512
#define SET1 _mm512_set1_ps
#define FMA _mm512_fmadd_ps
#define ADD _mm512_add_ps
#define FIRST _mm512_cvtss_f32
FMA_LOOP(fma_avx512, __attribute__((target("avx512f"))), "+v")
#undef VT
#undef SET1
#undef FMA
#undef ADD
#undef FIRST
#define VT __m256
#define SET1 _mm256_set1_ps
#define FMA _mm256_fmadd_ps
#define ADD _mm256_add_ps
#define FIRST _mm256_cvtss_f32
FMA_LOOP(fma_avx2, __attribute__((target("avx2,fma"))), "+x")
#undef VT
#undef SET1
#undef FMA
#undef ADD
#undef FIRST
#define VT float
#define SET1(x) (x)
#define FMA fmaf
#define ADD(a, b) ((a) + (b))
#define FIRST(x) (x)
FMA_LOOP(fma_scalar, , "+x")
#undef VT
#undef SET1
#undef FMA
#undef ADD
#undef FIRST
#undef D
#undef S
#undef F

/* Warm-up (clocks and the vector unit's power state), then `iters` on each of `threads`
 * threads at once: the wall time. */
static double timed(void (*fn)(long), int threads, long iters) {
  fn(iters / 10 + 1);
  double t0 = now_s();
#pragma omp parallel num_threads(threads) if (threads > 1)
  fn(iters);
  return now_s() - t0;
}

static double rate(double per_iter, int threads, long iters, double t, double *seconds) {
  if (seconds) *seconds = t;
  return t > 0 ? per_iter * (double)iters * threads / t : -1.0;
}

double bw_peak_fma(int isa, int threads, long iters, double *seconds) {
  if (isa < 0) isa = bw_isa_current();
  if (!bw_isa_supported(isa) || threads < 1 || iters < 1) return -1.0;
  void (*fn)(long) = isa == BW_ISA_AVX512 ? fma_avx512 : isa == BW_ISA_AVX2 ? fma_avx2 : fma_scalar;
  const double per = 12.0 * (isa == BW_ISA_AVX512 ? 16 : isa == BW_ISA_AVX2 ? 8 : 1);
  return rate(per, threads, iters, timed(fn, threads, iters), seconds);
}

double bw_peak_bitops(int isa, int threads, long iters, double *seconds) {
  if (isa < 0) isa = bw_isa_current();
  if (!bw_isa_supported(isa) || threads < 1 || iters < 1) return -1.0;
  double bits;
  void (*fn)(long);
  switch (isa) {
  case BW_ISA_AVX512: fn = loop_avx512, bits = BITS_AVX512; break;
  case BW_ISA_AVX2: fn = loop_avx2, bits = BITS_AVX2; iters = iters / 31 > 0 ? iters / 31 : 1; break;
  default: fn = bw_popcnt_enabled() ? loop_popcnt : loop_generic, bits = BITS_SCALAR; break;
  }
  return rate(bits, threads, iters, timed(fn, threads, iters), seconds);
}
