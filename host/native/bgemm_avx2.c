/*
 * AVX2 micro-kernel: up to 4 A rows x 8 panel columns (2 ymm per row) per inner loop,
 * called twice per 16-column panel. No vector popcount in AVX2: count bytes by nibble
 * lookup (vpshufb), add byte counts for up to 31 words (31*8 < 256), then fold them into
 * 64-bit lane counts with vpsadbw. Called only after cpu.c found AVX2 and OS ymm support.
 */
#include <immintrin.h>

#include "bgemm_internal.h"

#define T256 __attribute__((target("avx2")))
#define FLUSH_EVERY 31

static inline __attribute__((always_inline)) T256 __m256i byte_counts(__m256i x, __m256i lut, __m256i low4) {
  __m256i lo = _mm256_and_si256(x, low4);
  __m256i hi = _mm256_and_si256(_mm256_srli_epi16(x, 4), low4);
  return _mm256_add_epi8(_mm256_shuffle_epi8(lut, lo), _mm256_shuffle_epi8(lut, hi));
}

static inline __attribute__((always_inline)) T256 void
tile(const int MR, const int AND, int kc, const uint64_t *Ap, const uint64_t *Bp, int32_t *C, long ldc, int ncols,
     int accumulate) {
  const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2,
                                       2, 3, 2, 3, 3, 4);
  const __m256i low4 = _mm256_set1_epi8(0x0f), zero = _mm256_setzero_si256();
  __m256i tot[4][2];
#pragma GCC unroll 4
  for (int i = 0; i < MR; i++) tot[i][0] = tot[i][1] = zero;
  for (int k0 = 0; k0 < kc; k0 += FLUSH_EVERY) {
    int k1 = k0 + FLUSH_EVERY < kc ? k0 + FLUSH_EVERY : kc;
    __m256i acc[4][2];
#pragma GCC unroll 4
    for (int i = 0; i < MR; i++) acc[i][0] = acc[i][1] = zero;
    for (int k = k0; k < k1; k++) {
      __m256i b0 = _mm256_load_si256((const __m256i *)(Bp + k * BW_NR));
      __m256i b1 = _mm256_load_si256((const __m256i *)(Bp + k * BW_NR + 4));
#pragma GCC unroll 4
      for (int i = 0; i < MR; i++) {
        __m256i a = _mm256_set1_epi64x((long long)Ap[k * BW_MR + i]);
        __m256i x0 = AND ? _mm256_and_si256(a, b0) : _mm256_xor_si256(a, b0);
        __m256i x1 = AND ? _mm256_and_si256(a, b1) : _mm256_xor_si256(a, b1);
        acc[i][0] = _mm256_add_epi8(acc[i][0], byte_counts(x0, lut, low4));
        acc[i][1] = _mm256_add_epi8(acc[i][1], byte_counts(x1, lut, low4));
      }
    }
#pragma GCC unroll 4
    for (int i = 0; i < MR; i++) {
      tot[i][0] = _mm256_add_epi64(tot[i][0], _mm256_sad_epu8(acc[i][0], zero));
      tot[i][1] = _mm256_add_epi64(tot[i][1], _mm256_sad_epu8(acc[i][1], zero));
    }
  }
  for (int i = 0; i < MR; i++) {
    int64_t cnt[8];
    _mm256_storeu_si256((__m256i *)cnt, tot[i][0]);
    _mm256_storeu_si256((__m256i *)(cnt + 4), tot[i][1]);
    bw_store_row(AND ? BW_MODE_AND : BW_MODE_XNOR, kc, cnt, C + i * ldc, ncols, accumulate);
  }
}

#define CASE(MR)                                                                   \
  case MR:                                                                         \
    if (mode == BW_MODE_AND) tile(MR, 1, kc, a, b, c, ldc, nc, accumulate);         \
    else tile(MR, 0, kc, a, b, c, ldc, nc, accumulate);                             \
    break;

T256 void bw_ukernel_avx2(int mode, int mr, int kc, const uint64_t *Ap, const uint64_t *Bp, int32_t *C, long ldc,
                          int ncols, int accumulate) {
  for (int j = 0; j < ncols; j += 8) {
    int nc = ncols - j < 8 ? ncols - j : 8;
    for (int i = 0; i < mr; i += 4) {
      const uint64_t *a = Ap + i, *b = Bp + j;
      int32_t *c = C + i * ldc + j;
      switch (mr - i < 4 ? mr - i : 4) {
        CASE(1) CASE(2) CASE(3) CASE(4)
      default: break;
      }
    }
  }
}
