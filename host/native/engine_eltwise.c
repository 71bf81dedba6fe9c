/*
 * Element-wise host ops, bit-exact with reference/scalar.ts and float-ops.ts: every float32
 * operation rounds once (no FMA, -ffp-contract=off), in the reference's order.
 *
 * Each op is a "span" kernel over a contiguous run of elements, compiled per ISA from one
 * plain-C body (independent elements, so the compiler's vectorisation changes no result;
 * sign packing and tanh/sigmoid use explicit intrinsics). The public ops split a tensor
 * into blocks over threads; engine_chain.c runs several spans per cache-sized block.
 */
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "engine.h"

#define INLINE static inline __attribute__((always_inline))
#define A512 __attribute__((target("avx512f")))
#define A256 __attribute__((target("avx2")))

/* round((2^k-1) * clip(x, 0, 1)), half up, exactly as scalar.ts's quantizeLevel (k > 1) */
INLINE int32_t level_of(float x, int32_t levels) {
  float c = x > 1 ? 1.0f : x >= 0 ? x : 0.0f; /* NaN -> 0 */
  float t = (float)levels * c;                 /* exact product rounded once, as Math.fround */
  return (int32_t)floor((double)t + 0.5);      /* + 0.5 in double, as in JavaScript */
}

/* round((2^(k-1)-1) * clip(x, -1, 1)), half up, as quantizeLevel(x, k, true): -M..M */
INLINE int32_t slevel_of(float x, int32_t m) {
  float c = x > 1 ? 1.0f : x >= -1 ? x : x < -1 ? -1.0f : 0.0f; /* NaN -> 0 */
  float t = (float)m * c;
  return (int32_t)floor((double)t + 0.5);
}

/* ---- span bodies ------------------------------------------------------------------------- */

/* n is a multiple of channels and the span starts at channel 0 */
INLINE void bn_body(const float *x, float *y, int64_t n, int32_t channels, const float *mean, const float *scale,
                    const float *beta) {
  if (channels < 16 && n >= 64) {
    /* few channels (an RGB input): parameters repeated to a run of whole pixels at least
       64 wide, so the inner loop is long enough to vectorise; the same per-element steps */
    enum { RUN = 64 + 16 };
    float m[RUN], sc[RUN], b[RUN];
    const int32_t L = channels * ((64 + channels - 1) / channels);
    for (int32_t i = 0; i < L; i++) m[i] = mean[i % channels], sc[i] = scale[i % channels], b[i] = beta[i % channels];
    int64_t r = 0;
    for (; r + L <= n; r += L)
      for (int32_t i = 0; i < L; i++) y[r + i] = ((x[r + i] - m[i]) * sc[i]) + b[i];
    for (int32_t i = 0; r + i < n; i++) y[r + i] = ((x[r + i] - m[i]) * sc[i]) + b[i];
    return;
  }
  for (int64_t r = 0; r < n; r += channels)
    for (int32_t c = 0; c < channels; c++) y[r + c] = ((x[r + c] - mean[c]) * scale[c]) + beta[c];
}

INLINE void add_body(const float *a, const float *b, float *y, int64_t n) {
  for (int64_t i = 0; i < n; i++) y[i] = a[i] + b[i];
}

INLINE void relu_body(const float *x, float *y, int64_t n) {
  for (int64_t i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : 0.0f; /* NaN and -0 give +0 */
}

INLINE void quantize_body(const float *x, float *y, int64_t n, int32_t bits, int32_t sgn) {
  int32_t levels = (1 << bits) - 1, m = (1 << (bits - 1)) - 1;
  if (bits > 1 && sgn)
    for (int64_t i = 0; i < n; i++) y[i] = (float)((double)slevel_of(x[i], m) / m);
  else if (bits == 1)
    for (int64_t i = 0; i < n; i++) y[i] = x[i] >= 0 ? 1.0f : -1.0f;
  else
    for (int64_t i = 0; i < n; i++) y[i] = (float)((double)level_of(x[i], levels) / levels);
}

INLINE void dequantize_body(const int32_t *x, float *y, int64_t n, double divisor) {
  if (divisor == 1)
    for (int64_t i = 0; i < n; i++) y[i] = (float)x[i]; /* v / 1 is v: one rounding, int -> float */
  else
    for (int64_t i = 0; i < n; i++) y[i] = (float)((double)x[i] / divisor);
}

/* k-bit levels to bit-planes: pixels * bits * words output words (signed: two's complement) */
INLINE void levels_body(const float *x, int64_t pixels, int32_t c, int32_t bits, int32_t sgn, uint64_t *y) {
  int32_t words = (c + 63) / 64, levels = (1 << bits) - 1, m = (1 << (bits - 1)) - 1;
  for (int64_t p = 0; p < pixels; p++) {
    uint64_t *yp = y + p * bits * words;
    memset(yp, 0, (size_t)bits * words * 8);
    for (int32_t ch = 0; ch < c; ch++) {
      float v = x[p * c + ch];
      int32_t lv = bits == 1 ? v >= 0 : sgn ? slevel_of(v, m) : level_of(v, levels);
      for (int32_t b = 0; b < bits; b++)
        if ((lv >> b) & 1) yp[b * words + (ch >> 6)] |= 1ULL << (ch & 63);
    }
  }
}

/* 1-bit: bit c of a pixel = x[c] >= 0 (NaN -> 0), 64 channels per word */
A512 INLINE void sign_avx512(const float *x, int64_t pixels, int32_t c, uint64_t *y) {
  int32_t words = (c + 63) / 64;
  const __m512 zero = _mm512_setzero_ps();
  for (int64_t p = 0; p < pixels; p++) {
    const float *xp = x + p * c;
    for (int32_t j = 0; j < words; j++) {
      uint64_t w = 0;
      for (int32_t i = 64 * j; i < 64 * j + 64 && i < c; i += 16) {
        __mmask16 valid = c - i >= 16 ? 0xffff : (__mmask16)((1u << (c - i)) - 1);
        __m512 v = _mm512_maskz_loadu_ps(valid, xp + i);
        w |= (uint64_t)_mm512_mask_cmp_ps_mask(valid, v, zero, _CMP_GE_OQ) << (i - 64 * j);
      }
      y[p * words + j] = w;
    }
  }
}

A256 INLINE void sign_avx2(const float *x, int64_t pixels, int32_t c, uint64_t *y) {
  int32_t words = (c + 63) / 64;
  const __m256 zero = _mm256_setzero_ps();
  for (int64_t p = 0; p < pixels; p++) {
    const float *xp = x + p * c;
    for (int32_t j = 0; j < words; j++) {
      uint64_t w = 0;
      int32_t end = 64 * j + 64 < c ? 64 * j + 64 : c, i = 64 * j;
      for (; i + 8 <= end; i += 8)
        w |= (uint64_t)(uint32_t)_mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(xp + i), zero, _CMP_GE_OQ)) << (i - 64 * j);
      for (; i < end; i++) w |= (uint64_t)(xp[i] >= 0) << (i - 64 * j);
      y[p * words + j] = w;
    }
  }
}

INLINE void sign_sse2(const float *x, int64_t pixels, int32_t c, uint64_t *y) { levels_body(x, pixels, c, 1, 0, y); }

/* ---- per-ISA span functions --------------------------------------------------------------- */

#define DEF_SPANS(SUF, ATTR, SIGN)                                                                  \
  ATTR static void bn_##SUF(const float *x, float *y, int64_t n, int32_t ch, const float *m, const float *s, \
                            const float *b) {                                                       \
    bn_body(x, y, n, ch, m, s, b);                                                                  \
  }                                                                                                 \
  ATTR static void add_##SUF(const float *a, const float *b, float *y, int64_t n) { add_body(a, b, y, n); } \
  ATTR static void relu_##SUF(const float *x, float *y, int64_t n) { relu_body(x, y, n); }          \
  ATTR static void quantize_##SUF(const float *x, float *y, int64_t n, int32_t bits, int32_t sgn) { \
    quantize_body(x, y, n, bits, sgn);                                                              \
  }                                                                                                 \
  ATTR static void dequantize_##SUF(const int32_t *x, float *y, int64_t n, double d) {              \
    dequantize_body(x, y, n, d);                                                                    \
  }                                                                                                 \
  ATTR static void binarize_##SUF(const float *x, int64_t pixels, int32_t c, int32_t bits, int32_t sgn, \
                                  uint64_t *y) {                                                    \
    if (bits == 1) SIGN(x, pixels, c, y);                                                           \
    else levels_body(x, pixels, c, bits, sgn, y);                                                   \
  }

DEF_SPANS(avx512, A512, sign_avx512)
DEF_SPANS(avx2, A256, sign_avx2)
DEF_SPANS(sse2, , sign_sse2)

#define DISPATCH(isa, NAME, ...)                          \
  do {                                                    \
    if ((isa) == BW_ISA_AVX512) NAME##_avx512(__VA_ARGS__); \
    else if ((isa) == BW_ISA_AVX2) NAME##_avx2(__VA_ARGS__); \
    else NAME##_sse2(__VA_ARGS__);                        \
  } while (0)

void bw_span_batchnorm(int isa, const float *x, float *y, int64_t n, int32_t channels, const float *mean,
                       const float *scale, const float *beta) {
  DISPATCH(isa, bn, x, y, n, channels, mean, scale, beta);
}
void bw_span_add(int isa, const float *a, const float *b, float *y, int64_t n) { DISPATCH(isa, add, a, b, y, n); }
void bw_span_activation(int isa, int32_t fn, const float *x, float *y, int64_t n) {
  if (fn == 0) DISPATCH(isa, relu, x, y, n);
  else if (fn == 1 && isa == BW_ISA_AVX512) bw_tanh_avx512(x, y, n);
  else if (fn == 1 && isa == BW_ISA_AVX2) bw_tanh_avx2(x, y, n);
  else if (fn == 1)
    for (int64_t i = 0; i < n; i++) y[i] = bw_det_tanh_f32(x[i]);
  else if (isa == BW_ISA_AVX512) bw_sigmoid_avx512(x, y, n);
  else if (isa == BW_ISA_AVX2) bw_sigmoid_avx2(x, y, n);
  else
    for (int64_t i = 0; i < n; i++) y[i] = bw_det_sigmoid_f32(x[i]);
}
void bw_span_quantize(int isa, const float *x, float *y, int64_t n, int32_t bits, int32_t sgn) {
  DISPATCH(isa, quantize, x, y, n, bits, sgn);
}
void bw_span_dequantize(int isa, const int32_t *x, float *y, int64_t n, double divisor) {
  DISPATCH(isa, dequantize, x, y, n, divisor);
}
void bw_span_binarize(int isa, const float *x, int64_t pixels, int32_t c, int32_t bits, int32_t sgn, uint64_t *y) {
  DISPATCH(isa, binarize, x, pixels, c, bits, sgn, y);
}

/* ---- whole-tensor ops: blocks over threads ------------------------------------------------ */

#define BLOCK 16384

/* threads for n elements at about ns_per_elem each */
static int team(int64_t n, double ns_per_elem, int32_t threads) {
  return bw_team((double)n * ns_per_elem, threads, (n + BLOCK - 1) / BLOCK);
}

int bw_batchnorm(const float *x, float *y, int64_t n, int32_t channels, const float *mean, const float *scale,
                 const float *beta, int32_t threads) {
  if (!x || !y || !mean || !scale || !beta || channels < 1 || n < 0 || n % channels) return BW_E_ARG;
  const int isa = bw_engine_isa();
  const int64_t rows = n / channels, rows_per = (BLOCK + channels - 1) / channels;
  const int64_t nb = (rows + rows_per - 1) / rows_per;
  const int nt = bw_team((double)n * 0.5, threads, nb);
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(dynamic, 1)
  for (int64_t blk = 0; blk < nb; blk++) {
    int64_t r0 = blk * rows_per, r1 = r0 + rows_per < rows ? r0 + rows_per : rows;
    bw_span_batchnorm(isa, x + r0 * channels, y + r0 * channels, (r1 - r0) * channels, channels, mean, scale, beta);
  }
  return BW_OK;
}

#define FOR_BLOCKS(n, nsper, BODY)                                          \
  do {                                                                      \
    const int isa = bw_engine_isa();                                        \
    const int64_t nb = ((n) + BLOCK - 1) / BLOCK;                           \
    const int nt = team((n), (nsper), threads);                             \
    _Pragma("omp parallel for num_threads(nt) if (nt > 1) schedule(dynamic, 1)") \
    for (int64_t blk = 0; blk < nb; blk++) {                                \
      int64_t i0 = blk * BLOCK, m = (n) - i0 < BLOCK ? (n) - i0 : BLOCK;    \
      BODY;                                                                 \
    }                                                                       \
    (void)isa;                                                              \
  } while (0)

int bw_activation(int32_t fn, const float *x, float *y, int64_t n, int32_t threads) {
  if (!x || !y || n < 0 || fn < 0 || fn > 2) return BW_E_ARG;
  FOR_BLOCKS(n, fn == 0 ? 0.3 : 3.0, bw_span_activation(isa, fn, x + i0, y + i0, m));
  return BW_OK;
}

int bw_add(const float *a, const float *b, float *y, int64_t n, int32_t threads) {
  if (!a || !b || !y || n < 0) return BW_E_ARG;
  FOR_BLOCKS(n, 0.5, bw_span_add(isa, a + i0, b + i0, y + i0, m));
  return BW_OK;
}

int bw_quantize(const float *x, float *y, int64_t n, int32_t bits, int32_t sgn, int32_t threads) {
  if (!x || !y || n < 0 || bits < 1 || bits > BW_MAX_BITS || (sgn != 0 && sgn != 1) || (sgn && bits < 2)) return BW_E_ARG;
  FOR_BLOCKS(n, 1.0, bw_span_quantize(isa, x + i0, y + i0, m, bits, sgn));
  return BW_OK;
}

int bw_dequantize(const int32_t *x, float *y, int64_t n, double divisor, int32_t threads) {
  if (!x || !y || n < 0 || !(divisor != 0) || !isfinite(divisor)) return BW_E_ARG;
  FOR_BLOCKS(n, 0.5, bw_span_dequantize(isa, x + i0, y + i0, m, divisor));
  return BW_OK;
}

int bw_binarize(const float *x, int64_t pixels, int32_t c, int32_t bits, int32_t sgn, uint64_t *y, int32_t threads) {
  if (!x || !y || pixels < 0 || c < 1 || bits < 1 || bits > BW_MAX_BITS || (sgn != 0 && sgn != 1) || (sgn && bits < 2)) return BW_E_ARG;
  const int isa = bw_engine_isa();
  const int64_t chunk = 256, words = (c + 63) / 64;
  const int64_t nb = (pixels + chunk - 1) / chunk;
  const int nt = bw_team((double)pixels * c * (bits == 1 ? 0.2 : 2.0), threads, nb);
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(dynamic, 1)
  for (int64_t blk = 0; blk < nb; blk++) {
    int64_t p0 = blk * chunk, m = pixels - p0 < chunk ? pixels - p0 : chunk;
    bw_span_binarize(isa, x + p0 * c, m, c, bits, sgn, y + p0 * bits * words);
  }
  return BW_OK;
}
