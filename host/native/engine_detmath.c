/*
 * host/core/detmath.ts in C: exp by Cody-Waite reduction and a degree-13 Taylor polynomial,
 * tanh and sigmoid from it, all in double with the same operations in the same order, then
 * rounded to float. libm's exp/tanh may differ from V8's in the last bit; these do not.
 *
 * The vector versions evaluate every branch on every lane and select per lane; each lane
 * performs exactly the scalar operation sequence (mul and add stay separate: no FMA in the
 * target lists, and -ffp-contract=off), so they return the scalar bits.
 */
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "engine.h"

#define LN2_HI 6.93147180369123816490e-1
#define LN2_LO 1.90821492927058770002e-10
#define INV_LN2 1.44269504088896338700e0
#define C2 (1.0 / 2)
#define C3 (1.0 / 6)
#define C4 (1.0 / 24)
#define C5 (1.0 / 120)
#define C6 (1.0 / 720)
#define C7 (1.0 / 5040)
#define C8 (1.0 / 40320)
#define C9 (1.0 / 362880)
#define C10 (1.0 / 3628800)
#define C11 (1.0 / 39916800)
#define C12 (1.0 / 479001600)
#define C13 (1.0 / 6227020800)
/* k + 1.5*2^52 puts an integer k (|k| < 2^51) in the low mantissa bits */
#define MAGIC 6755399441055744.0
#define MAGIC_BITS 0x4338000000000000LL

static double pow2i(int k) {
  uint64_t bits = (uint64_t)(k + 1023) << 52;
  double d;
  memcpy(&d, &bits, sizeof d);
  return d;
}

double bw_det_exp(double x) {
  if (x != x) return NAN;
  if (x > 709) return INFINITY;
  if (x < -708) return 0;
  double k = floor(x * INV_LN2 + 0.5);
  double r = (x - k * LN2_HI) - k * LN2_LO;
  double p = C13;
  p = p * r + C12;
  p = p * r + C11;
  p = p * r + C10;
  p = p * r + C9;
  p = p * r + C8;
  p = p * r + C7;
  p = p * r + C6;
  p = p * r + C5;
  p = p * r + C4;
  p = p * r + C3;
  p = p * r + C2;
  p = p * r + 1;
  p = p * r + 1;
  return p * pow2i((int)k);
}

float bw_det_tanh_f32(float xf) {
  double x = xf;
  if (x != x) return NAN;
  double a = x < 0 ? -x : x;
  double y;
  if (a >= 9.5) {
    y = 1;
  } else if (a < 1.0 / 4096) {
    double a2 = a * a;
    y = a - (a * a2) / 3 + (2 * a * a2 * a2) / 15;
  } else {
    double t = bw_det_exp(2 * a);
    y = (t - 1) / (t + 1);
  }
  return (float)(x < 0 ? -y : y);
}

float bw_det_sigmoid_f32(float xf) {
  double x = xf;
  if (x != x) return NAN;
  return (float)(1 / (1 + bw_det_exp(-x)));
}

/* ---- AVX-512: 8 doubles per step ------------------------------------------------------- */

#define T512 __attribute__((target("avx512f")))
#define S8(v) _mm512_set1_pd(v)

/* exp for lanes already inside [-708, 709] (callers select the out-of-range results). */
T512 static inline __m512d exp8(__m512d x) {
  __m512d k = _mm512_roundscale_pd(_mm512_add_pd(_mm512_mul_pd(x, S8(INV_LN2)), S8(0.5)),
                                   _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
  __m512d r = _mm512_sub_pd(_mm512_sub_pd(x, _mm512_mul_pd(k, S8(LN2_HI))), _mm512_mul_pd(k, S8(LN2_LO)));
  static const double c[] = {C12, C11, C10, C9, C8, C7, C6, C5, C4, C3, C2, 1, 1};
  __m512d p = S8(C13);
  for (int i = 0; i < 13; i++) p = _mm512_add_pd(_mm512_mul_pd(p, r), S8(c[i]));
  __m512i ki = _mm512_sub_epi64(_mm512_castpd_si512(_mm512_add_pd(k, S8(MAGIC))), _mm512_set1_epi64(MAGIC_BITS));
  __m512i e = _mm512_slli_epi64(_mm512_add_epi64(ki, _mm512_set1_epi64(1023)), 52);
  return _mm512_mul_pd(p, _mm512_castsi512_pd(e));
}

/* -v (sign flip, as the scalar unary minus) where m is set */
T512 static inline __m512d neg8(__m512d v, __mmask8 m) {
  __m512i s = _mm512_set1_epi64((long long)0x8000000000000000ULL);
  return _mm512_castsi512_pd(_mm512_mask_xor_epi64(_mm512_castpd_si512(v), m, _mm512_castpd_si512(v), s));
}

T512 static inline __m512d tanh8(__m512d x) {
  __mmask8 neg = _mm512_cmp_pd_mask(x, S8(0), _CMP_LT_OQ);
  __m512d a = neg8(x, neg);
  __mmask8 tiny = _mm512_cmp_pd_mask(a, S8(1.0 / 4096), _CMP_LT_OQ);
  __mmask8 big = _mm512_cmp_pd_mask(a, S8(9.5), _CMP_GE_OQ);
  __mmask8 nan = _mm512_cmp_pd_mask(x, x, _CMP_UNORD_Q);
  __m512d y = S8(1);
  /* the branches cost divisions: evaluate each only when some lane takes it */
  if ((__mmask8)~(tiny | big | nan)) {
    __m512d t = exp8(_mm512_mul_pd(S8(2), _mm512_min_pd(a, S8(9.5))));
    y = _mm512_mask_div_pd(y, (__mmask8) ~(tiny | big), _mm512_sub_pd(t, S8(1)), _mm512_add_pd(t, S8(1)));
  }
  if (tiny) {
    __m512d a2 = _mm512_mul_pd(a, a);
    __m512d ty = _mm512_add_pd(_mm512_sub_pd(a, _mm512_div_pd(_mm512_mul_pd(a, a2), S8(3))),
                               _mm512_div_pd(_mm512_mul_pd(_mm512_mul_pd(_mm512_mul_pd(S8(2), a), a2), a2), S8(15)));
    y = _mm512_mask_mov_pd(y, tiny, ty);
  }
  y = neg8(y, neg);
  return _mm512_mask_mov_pd(y, nan, S8(NAN)); /* the scalar code returns the NaN constant */
}

/* detExp on any lanes: NaN stays NaN, above 709 gives Infinity, below -708 gives 0 */
T512 static inline __m512d exp8_full(__m512d x) {
  __m512d e = exp8(_mm512_max_pd(_mm512_min_pd(x, S8(709)), S8(-708)));
  e = _mm512_mask_mov_pd(e, _mm512_cmp_pd_mask(x, S8(709), _CMP_GT_OQ), S8(INFINITY));
  e = _mm512_mask_mov_pd(e, _mm512_cmp_pd_mask(x, S8(-708), _CMP_LT_OQ), S8(0));
  return _mm512_mask_mov_pd(e, _mm512_cmp_pd_mask(x, x, _CMP_UNORD_Q), S8(NAN));
}

T512 static inline __m512d sigmoid8(__m512d x) {
  __m512d y = _mm512_div_pd(S8(1), _mm512_add_pd(S8(1), exp8_full(neg8(x, 0xff))));
  return _mm512_mask_mov_pd(y, _mm512_cmp_pd_mask(x, x, _CMP_UNORD_Q), S8(NAN));
}

T512 static void exp_avx512(const double *x, double *y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm512_storeu_pd(y + i, exp8_full(_mm512_loadu_pd(x + i)));
  for (; i < n; i++) y[i] = bw_det_exp(x[i]);
}

T512 void bw_tanh_avx512(const float *x, float *y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm512_cvtpd_ps(tanh8(_mm512_cvtps_pd(_mm256_loadu_ps(x + i)))));
  for (; i < n; i++) y[i] = bw_det_tanh_f32(x[i]);
}

T512 void bw_sigmoid_avx512(const float *x, float *y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm512_cvtpd_ps(sigmoid8(_mm512_cvtps_pd(_mm256_loadu_ps(x + i)))));
  for (; i < n; i++) y[i] = bw_det_sigmoid_f32(x[i]);
}

/* ---- AVX2: 4 doubles per step ---------------------------------------------------------- */

#define T256 __attribute__((target("avx2")))
#define S4(v) _mm256_set1_pd(v)

T256 static inline __m256d exp4(__m256d x) {
  __m256d k = _mm256_floor_pd(_mm256_add_pd(_mm256_mul_pd(x, S4(INV_LN2)), S4(0.5)));
  __m256d r = _mm256_sub_pd(_mm256_sub_pd(x, _mm256_mul_pd(k, S4(LN2_HI))), _mm256_mul_pd(k, S4(LN2_LO)));
  static const double c[] = {C12, C11, C10, C9, C8, C7, C6, C5, C4, C3, C2, 1, 1};
  __m256d p = S4(C13);
  for (int i = 0; i < 13; i++) p = _mm256_add_pd(_mm256_mul_pd(p, r), S4(c[i]));
  __m256i ki = _mm256_sub_epi64(_mm256_castpd_si256(_mm256_add_pd(k, S4(MAGIC))), _mm256_set1_epi64x(MAGIC_BITS));
  __m256i e = _mm256_slli_epi64(_mm256_add_epi64(ki, _mm256_set1_epi64x(1023)), 52);
  return _mm256_mul_pd(p, _mm256_castsi256_pd(e));
}

T256 static inline __m256d tanh4(__m256d x) {
  __m256d neg = _mm256_cmp_pd(x, S4(0), _CMP_LT_OQ);
  __m256d a = _mm256_blendv_pd(x, _mm256_xor_pd(x, S4(-0.0)), neg);
  __m256d tiny = _mm256_cmp_pd(a, S4(1.0 / 4096), _CMP_LT_OQ);
  __m256d big = _mm256_cmp_pd(a, S4(9.5), _CMP_GE_OQ);
  __m256d nan = _mm256_cmp_pd(x, x, _CMP_UNORD_Q);
  __m256d y = S4(1);
  /* the branches cost divisions: evaluate each only when some lane takes it */
  if (_mm256_movemask_pd(_mm256_or_pd(_mm256_or_pd(tiny, big), nan)) != 0xf) {
    __m256d t = exp4(_mm256_mul_pd(S4(2), _mm256_min_pd(a, S4(9.5))));
    y = _mm256_blendv_pd(_mm256_div_pd(_mm256_sub_pd(t, S4(1)), _mm256_add_pd(t, S4(1))), y, _mm256_or_pd(tiny, big));
  }
  if (_mm256_movemask_pd(tiny)) {
    __m256d a2 = _mm256_mul_pd(a, a);
    __m256d ty = _mm256_add_pd(_mm256_sub_pd(a, _mm256_div_pd(_mm256_mul_pd(a, a2), S4(3))),
                               _mm256_div_pd(_mm256_mul_pd(_mm256_mul_pd(_mm256_mul_pd(S4(2), a), a2), a2), S4(15)));
    y = _mm256_blendv_pd(y, ty, tiny);
  }
  y = _mm256_blendv_pd(y, _mm256_xor_pd(y, S4(-0.0)), neg);
  return _mm256_blendv_pd(y, S4(NAN), nan); /* the scalar code returns the NaN constant */
}

T256 static inline __m256d exp4_full(__m256d x) {
  __m256d e = exp4(_mm256_max_pd(_mm256_min_pd(x, S4(709)), S4(-708)));
  e = _mm256_blendv_pd(e, S4(INFINITY), _mm256_cmp_pd(x, S4(709), _CMP_GT_OQ));
  e = _mm256_blendv_pd(e, S4(0), _mm256_cmp_pd(x, S4(-708), _CMP_LT_OQ));
  return _mm256_blendv_pd(e, S4(NAN), _mm256_cmp_pd(x, x, _CMP_UNORD_Q));
}

T256 static inline __m256d sigmoid4(__m256d x) {
  __m256d y = _mm256_div_pd(S4(1), _mm256_add_pd(S4(1), exp4_full(_mm256_xor_pd(x, S4(-0.0)))));
  return _mm256_blendv_pd(y, S4(NAN), _mm256_cmp_pd(x, x, _CMP_UNORD_Q));
}

T256 static void exp_avx2(const double *x, double *y, int64_t n) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) _mm256_storeu_pd(y + i, exp4_full(_mm256_loadu_pd(x + i)));
  for (; i < n; i++) y[i] = bw_det_exp(x[i]);
}

T256 void bw_tanh_avx2(const float *x, float *y, int64_t n) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) _mm_storeu_ps(y + i, _mm256_cvtpd_ps(tanh4(_mm256_cvtps_pd(_mm_loadu_ps(x + i)))));
  for (; i < n; i++) y[i] = bw_det_tanh_f32(x[i]);
}

T256 void bw_sigmoid_avx2(const float *x, float *y, int64_t n) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) _mm_storeu_ps(y + i, _mm256_cvtpd_ps(sigmoid4(_mm256_cvtps_pd(_mm_loadu_ps(x + i)))));
  for (; i < n; i++) y[i] = bw_det_sigmoid_f32(x[i]);
}

/* ---- detExp on doubles, at the current ISA (for tests: exact against detmath.ts) ------ */

int bw_exp_f64(const double *x, double *y, int64_t n) {
  if (!x || !y || n < 0) return BW_E_ARG;
  switch (bw_engine_isa()) {
    case BW_ISA_AVX512: exp_avx512(x, y, n); break;
    case BW_ISA_AVX2: exp_avx2(x, y, n); break;
    default:
      for (int64_t i = 0; i < n; i++) y[i] = bw_det_exp(x[i]);
  }
  return BW_OK;
}
