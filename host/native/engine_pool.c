/*
 * Float max / average pooling on NHWC maps, bit-exact with reference/float-ops.ts:
 * max ignores padded positions and keeps the first NaN it meets; avg sums the window in
 * (ky, kx) order, counts padded positions inside the padded input when count_include_pad
 * (positions a 'full'-convention window runs past the padding are never counted) and
 * divides once. Vectors run across channels, each lane the scalar recipe.
 */
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "engine.h"

#define INLINE static inline __attribute__((always_inline))

/* one scalar channel: the reference's update */
INLINE float max_step(float acc, float v) { return (v > acc || v != v) ? v : acc; }

/*
 * Output pixel (oy, ox) of image base x, all channels into y[0..C). Per ISA: VT holds LANES
 * channels; TAKE(v, acc) selects v where v > acc or v is NaN (the scalar max_step per lane).
 */
#define DEF_ISA(SUF, ATTR, VT, LANES, LOADU, STOREU, SET1, ADD, DIV, MAXSTEP)                        \
  ATTR INLINE void pixel_##SUF(const bw_pool_desc *d, const float *x, int64_t row0, int64_t oy, int64_t ox, float *y) { \
    const int64_t C = d->c;                                                                         \
    const int64_t y0 = oy * d->sh - d->ph, x0 = ox * d->sw - d->pw;                                 \
    const int64_t ylo = y0 < 0 ? 0 : y0, yhi = y0 + d->kh < d->h ? y0 + d->kh : d->h;               \
    const int64_t xlo = x0 < 0 ? 0 : x0, xhi = x0 + d->kw < d->w ? x0 + d->kw : d->w;               \
    if (d->mode == 0) {                                                                             \
      int64_t c = 0;                                                                                \
      for (; c + LANES <= C; c += LANES) {                                                          \
        VT acc = SET1(-INFINITY);                                                                   \
        for (int64_t iy = ylo; iy < yhi; iy++)                                                      \
          for (int64_t ix = xlo; ix < xhi; ix++) acc = MAXSTEP(acc, LOADU(x + ((iy - row0) * d->w + ix) * C + c)); \
        STOREU(y + c, acc);                                                                         \
      }                                                                                             \
      for (; c < C; c++) {                                                                          \
        float acc = -INFINITY;                                                                      \
        for (int64_t iy = ylo; iy < yhi; iy++)                                                      \
          for (int64_t ix = xlo; ix < xhi; ix++) acc = max_step(acc, x[((iy - row0) * d->w + ix) * C + c]);  \
        y[c] = acc;                                                                                 \
      }                                                                                             \
      return;                                                                                       \
    }                                                                                               \
    /* avg: inside positions are exactly [ylo, yhi) x [xlo, xhi); with count_include_pad also */    \
    /* the padded ones within the padded input (a window never starts before -pad) */              \
    int64_t count = (yhi - ylo) * (xhi - xlo);                                                      \
    if (d->count_include_pad) {                                                                     \
      int64_t py = (y0 + d->kh < d->h + d->ph ? y0 + d->kh : d->h + d->ph) - y0;                    \
      int64_t px = (x0 + d->kw < d->w + d->pw ? x0 + d->kw : d->w + d->pw) - x0;                    \
      count = py * px;                                                                              \
    }                                                                                               \
    const float div = (float)(count ? count : 1); /* exact: a small integer */                      \
    int64_t c = 0;                                                                                  \
    for (; c + LANES <= C; c += LANES) {                                                            \
      VT acc = SET1(0.0f);                                                                          \
      for (int64_t iy = ylo; iy < yhi; iy++)                                                        \
        for (int64_t ix = xlo; ix < xhi; ix++) acc = ADD(acc, LOADU(x + ((iy - row0) * d->w + ix) * C + c));   \
      STOREU(y + c, DIV(acc, SET1(div)));                                                           \
    }                                                                                               \
    for (; c < C; c++) {                                                                            \
      float acc = 0;                                                                                \
      for (int64_t iy = ylo; iy < yhi; iy++)                                                        \
        for (int64_t ix = xlo; ix < xhi; ix++) acc = acc + x[((iy - row0) * d->w + ix) * C + c];             \
      y[c] = acc / div;                                                                             \
    }                                                                                               \
  }                                                                                                 \
  ATTR static void row_##SUF(const bw_pool_desc *d, const float *x, float *y, int64_t r) {          \
    int64_t n = r / d->out_h, oy = r % d->out_h;                                                    \
    const float *xn = x + n * d->h * d->w * d->c;                                                   \
    for (int64_t ox = 0; ox < d->out_w; ox++) pixel_##SUF(d, xn, 0, oy, ox, y + (r * d->out_w + ox) * d->c); \
  }                                                                                                 \
  ATTR static void rows_##SUF(const bw_pool_desc *d, const float *rows, int64_t row0, int64_t oy, float *y) { \
    for (int64_t ox = 0; ox < d->out_w; ox++) pixel_##SUF(d, rows, row0, oy, ox, y + ox * d->c);    \
  }

#define A512 __attribute__((target("avx512f")))
#define A256 __attribute__((target("avx2")))

A512 INLINE __m512 maxstep16(__m512 acc, __m512 v) {
  __mmask16 take = _mm512_cmp_ps_mask(v, acc, _CMP_GT_OQ) | _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
  return _mm512_mask_mov_ps(acc, take, v);
}
A256 INLINE __m256 maxstep8(__m256 acc, __m256 v) {
  __m256 take = _mm256_or_ps(_mm256_cmp_ps(v, acc, _CMP_GT_OQ), _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
  return _mm256_blendv_ps(acc, v, take);
}
INLINE __m128 maxstep4(__m128 acc, __m128 v) {
  __m128 take = _mm_or_ps(_mm_cmpgt_ps(v, acc), _mm_cmpunord_ps(v, v));
  return _mm_or_ps(_mm_and_ps(take, v), _mm_andnot_ps(take, acc));
}

DEF_ISA(avx512, A512, __m512, 16, _mm512_loadu_ps, _mm512_storeu_ps, _mm512_set1_ps, _mm512_add_ps, _mm512_div_ps,
        maxstep16)
DEF_ISA(avx2, A256, __m256, 8, _mm256_loadu_ps, _mm256_storeu_ps, _mm256_set1_ps, _mm256_add_ps, _mm256_div_ps,
        maxstep8)
DEF_ISA(sse2, , __m128, 4, _mm_loadu_ps, _mm_storeu_ps, _mm_set1_ps, _mm_add_ps, _mm_div_ps, maxstep4)

int bw_pool_valid(const bw_pool_desc *d) {
  if (!d || d->c < 1 || d->kh < 1 || d->kw < 1 || d->sh < 1 || d->sw < 1 || d->ph < 0 || d->pw < 0 || d->mode < 0 ||
      d->mode > 1 || d->out_h < 1 || d->out_w < 1)
    return 0;
  /* every window must start inside the padded input and reach real data (validateModel) */
  return !((int64_t)(d->out_h - 1) * d->sh - d->ph > d->h - 1 || (int64_t)(d->out_w - 1) * d->sw - d->pw > d->w - 1 ||
           d->ph >= d->kh || d->pw >= d->kw);
}

void bw_pool_out_row(int isa, const bw_pool_desc *d, const float *rows, int64_t row0, int64_t oy, float *y) {
  if (isa == BW_ISA_AVX512) rows_avx512(d, rows, row0, oy, y);
  else if (isa == BW_ISA_AVX2) rows_avx2(d, rows, row0, oy, y);
  else rows_sse2(d, rows, row0, oy, y);
}

int bw_pool(const bw_pool_desc *d, int32_t batch, const float *x, int64_t x_len, float *y, int64_t y_len,
            int32_t threads) {
  if (!d || !x || !y || batch < 1 || threads < 1 || d->c < 1 || d->kh < 1 || d->kw < 1 || d->sh < 1 || d->sw < 1 ||
      d->ph < 0 || d->pw < 0 || d->mode < 0 || d->mode > 1)
    return BW_E_ARG;
  if (x_len != (int64_t)batch * d->h * d->w * d->c || y_len != (int64_t)batch * d->out_h * d->out_w * d->c)
    return BW_E_SIZE;
  /* every window must start inside the padded input and reach real data (validateModel) */
  if ((int64_t)(d->out_h - 1) * d->sh - d->ph > d->h - 1 || (int64_t)(d->out_w - 1) * d->sw - d->pw > d->w - 1 ||
      d->ph >= d->kh || d->pw >= d->kw)
    return BW_E_ARG;
  const bw_pool_desc dd = *d;
  const int64_t rows = (int64_t)batch * d->out_h;
  const int isa = bw_engine_isa();
  int nt = bw_team((double)rows * d->out_w * d->c * d->kh * d->kw * 0.3, threads, rows);
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(dynamic, 1)
  for (int64_t r = 0; r < rows; r++) {
    if (isa == BW_ISA_AVX512) row_avx512(&dd, x, y, r);
    else if (isa == BW_ISA_AVX2) row_avx2(&dd, x, y, r);
    else row_sse2(&dd, x, y, r);
  }
  return BW_OK;
}
