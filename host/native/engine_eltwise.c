/*
 * Element-wise host ops, bit-exact with reference/scalar.ts and float-ops.ts: every float32
 * operation rounds once (no FMA, -ffp-contract=off), in the reference's order. Plain loops
 * over independent elements, which the compiler may vectorise without changing any result.
 * Large tensors are split into contiguous blocks, one per thread.
 */
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "engine.h"

#define BLOCK 16384

static int team(int64_t n, int32_t threads) {
  if (n < BW_PAR_MIN || threads < 2) return 1;
  int64_t t = n / (BW_PAR_MIN / 2);
  return t < threads ? (int)t : threads;
}

int bw_batchnorm(const float *x, float *y, int64_t n, int32_t channels, const float *mean, const float *scale,
                 const float *beta, int32_t threads) {
  if (!x || !y || !mean || !scale || !beta || channels < 1 || n < 0 || n % channels) return BW_E_ARG;
  int64_t rows = n / channels;
  int nt = team(n, threads);
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = x + r * channels;
    float *yr = y + r * channels;
    for (int32_t c = 0; c < channels; c++) yr[c] = ((xr[c] - mean[c]) * scale[c]) + beta[c];
  }
  return BW_OK;
}

int bw_activation(int32_t fn, const float *x, float *y, int64_t n, int32_t threads) {
  if (!x || !y || n < 0 || fn < 0 || fn > 2) return BW_E_ARG;
  int isa = bw_engine_isa();
  int64_t nb = (n + BLOCK - 1) / BLOCK;
  int nt = team(n, threads);
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
  for (int64_t blk = 0; blk < nb; blk++) {
    int64_t i0 = blk * BLOCK, m = n - i0 < BLOCK ? n - i0 : BLOCK;
    const float *xs = x + i0;
    float *ys = y + i0;
    if (fn == 0) {
      for (int64_t i = 0; i < m; i++) ys[i] = xs[i] > 0 ? xs[i] : 0.0f; /* NaN and -0 give +0 */
    } else if (fn == 1) {
      if (isa == BW_ISA_AVX512) bw_tanh_avx512(xs, ys, m);
      else if (isa == BW_ISA_AVX2) bw_tanh_avx2(xs, ys, m);
      else
        for (int64_t i = 0; i < m; i++) ys[i] = bw_det_tanh_f32(xs[i]);
    } else {
      if (isa == BW_ISA_AVX512) bw_sigmoid_avx512(xs, ys, m);
      else if (isa == BW_ISA_AVX2) bw_sigmoid_avx2(xs, ys, m);
      else
        for (int64_t i = 0; i < m; i++) ys[i] = bw_det_sigmoid_f32(xs[i]);
    }
  }
  return BW_OK;
}

int bw_add(const float *a, const float *b, float *y, int64_t n, int32_t threads) {
  if (!a || !b || !y || n < 0) return BW_E_ARG;
  int nt = team(n, threads);
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
  for (int64_t i = 0; i < n; i++) y[i] = a[i] + b[i];
  return BW_OK;
}

/* round((2^k-1) * clip(x, 0, 1)), half up, exactly as scalar.ts's quantizeLevel (k > 1) */
static inline int32_t level_of(float x, int32_t levels) {
  float c = x > 1 ? 1.0f : x >= 0 ? x : 0.0f; /* NaN -> 0 */
  float t = (float)levels * c;                 /* exact product rounded once, as Math.fround */
  return (int32_t)floor((double)t + 0.5);      /* + 0.5 in double, as in JavaScript */
}

int bw_quantize(const float *x, float *y, int64_t n, int32_t bits, int32_t threads) {
  if (!x || !y || n < 0 || bits < 1 || bits > 8) return BW_E_ARG;
  int32_t levels = (1 << bits) - 1;
  int nt = team(n, threads);
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
  for (int64_t i = 0; i < n; i++) {
    if (bits == 1) y[i] = x[i] >= 0 ? 1.0f : -1.0f;
    else y[i] = (float)((double)level_of(x[i], levels) / levels);
  }
  return BW_OK;
}

int bw_dequantize(const int32_t *x, float *y, int64_t n, double divisor, int32_t threads) {
  if (!x || !y || n < 0 || !(divisor != 0) || !isfinite(divisor)) return BW_E_ARG;
  int nt = team(n, threads);
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
  for (int64_t i = 0; i < n; i++) y[i] = (float)((double)x[i] / divisor);
  return BW_OK;
}

/* ---- binarize: float NHWC -> bit-planes --------------------------------------------------- */

/* 1-bit: bit c of a pixel = x[c] >= 0 (NaN -> 0), 64 channels per word */
__attribute__((target("avx512f"))) static void sign_pixels_avx512(const float *x, int64_t pixels, int32_t c,
                                                                   uint64_t *y) {
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

__attribute__((target("avx2"))) static void sign_pixels_avx2(const float *x, int64_t pixels, int32_t c, uint64_t *y) {
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

static void levels_pixels(const float *x, int64_t pixels, int32_t c, int32_t bits, uint64_t *y) {
  int32_t words = (c + 63) / 64, levels = (1 << bits) - 1;
  for (int64_t p = 0; p < pixels; p++) {
    uint64_t *yp = y + p * bits * words;
    memset(yp, 0, (size_t)bits * words * 8);
    for (int32_t ch = 0; ch < c; ch++) {
      int32_t lv = bits == 1 ? x[p * c + ch] >= 0 : level_of(x[p * c + ch], levels);
      for (int32_t b = 0; b < bits; b++)
        if ((lv >> b) & 1) yp[b * words + (ch >> 6)] |= 1ULL << (ch & 63);
    }
  }
}

int bw_binarize(const float *x, int64_t pixels, int32_t c, int32_t bits, uint64_t *y, int32_t threads) {
  if (!x || !y || pixels < 0 || c < 1 || bits < 1 || bits > 8) return BW_E_ARG;
  int isa = bw_engine_isa();
  const int64_t chunk = 256;
  int64_t nb = (pixels + chunk - 1) / chunk;
  int nt = team(pixels * c, threads);
  int64_t words = (c + 63) / 64;
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
  for (int64_t blk = 0; blk < nb; blk++) {
    int64_t p0 = blk * chunk, m = pixels - p0 < chunk ? pixels - p0 : chunk;
    const float *xs = x + p0 * c;
    uint64_t *ys = y + p0 * bits * words;
    if (bits == 1 && isa == BW_ISA_AVX512) sign_pixels_avx512(xs, m, c, ys);
    else if (bits == 1 && isa == BW_ISA_AVX2) sign_pixels_avx2(xs, m, c, ys);
    else levels_pixels(xs, m, c, bits, ys);
  }
  return BW_OK;
}
