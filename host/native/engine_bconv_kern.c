/*
 * Register-tiled popcount microkernels of the fused binary convolution (bw_bk_job in
 * engine.h). Lanes are output channels and each activation word is broadcast, so a tile
 * needs no horizontal sums and any window shape works (the step table aoff walks the
 * sliding window over the packed NHWC input directly: no im2col, no unpacking).
 *
 * Tiles: AVX-512 VPOPCNTDQ 16 channels x 8 columns (16 zmm accumulators); AVX2 8 channels x
 * 4 columns with nibble-table popcounts in byte counters (flushed every 31 steps, before a
 * byte can overflow); scalar 8 channels x 2 columns. Tile shape and mode are compile-time
 * constants (always_inline + constant arguments), so accumulators stay in registers.
 */
#include <immintrin.h>

#include "engine.h"

#define INLINE static inline __attribute__((always_inline))

/* ---- scalar (with or without the POPCNT instruction) ----------------------------------- */

INLINE void tile_scalar(const bw_bk_job *j, const uint64_t *w, const uint64_t *const *cols, int32_t *out,
                        const int Q, const int AND) {
  uint64_t acc[2][8] = {{0}};
  const int64_t *aoff = j->aoff;
  for (int k = 0; k < j->nsteps; k++) {
    const uint64_t *wk = w + (int64_t)k * 8;
    int64_t o = aoff[k];
    for (int q = 0; q < Q; q++) {
      uint64_t a = cols[q][o];
      for (int l = 0; l < 8; l++) acc[q][l] += (uint64_t)__builtin_popcountll(AND ? (a & wk[l]) : (a ^ wk[l]));
    }
  }
  for (int q = 0; q < Q; q++)
    for (int l = 0; l < 8; l++) out[q * j->ldo + l] = j->bias + j->sign * (int32_t)acc[q][l];
}

#define SCALAR_DRIVER(NAME, ATTR)                                                                  \
  ATTR void NAME(const bw_bk_job *j) {                                                             \
    const int64_t wblock = (int64_t)j->nsteps * 8;                                                 \
    for (int b = 0; b < j->nblocks; b++) {                                                         \
      const uint64_t *w = j->w + b * wblock;                                                       \
      for (int c = 0; c < j->ncols; c += 2) {                                                      \
        int32_t *o = j->out + c * j->ldo + b * 8;                                                  \
        int q = j->ncols - c < 2 ? 1 : 2;                                                          \
        if (j->mode_and) {                                                                         \
          if (q == 2) tile_scalar(j, w, j->cols + c, o, 2, 1);                                     \
          else tile_scalar(j, w, j->cols + c, o, 1, 1);                                            \
        } else {                                                                                   \
          if (q == 2) tile_scalar(j, w, j->cols + c, o, 2, 0);                                     \
          else tile_scalar(j, w, j->cols + c, o, 1, 0);                                            \
        }                                                                                          \
      }                                                                                            \
    }                                                                                              \
  }

SCALAR_DRIVER(bw_bk_run_generic, )
SCALAR_DRIVER(bw_bk_run_popcnt, __attribute__((target("popcnt"))))

INLINE int64_t popsum(const uint64_t *col, const int64_t *aoff, int32_t nsteps) {
  int64_t s = 0;
  for (int k = 0; k < nsteps; k++) s += __builtin_popcountll(col[aoff[k]]);
  return s;
}
__attribute__((target("popcnt"))) static int64_t popsum_insn(const uint64_t *col, const int64_t *aoff, int32_t n) {
  return popsum(col, aoff, n);
}
int64_t bw_bk_popsum(const uint64_t *col, const int64_t *aoff, int32_t nsteps, int popcnt_insn) {
  return popcnt_insn ? popsum_insn(col, aoff, nsteps) : popsum(col, aoff, nsteps);
}

/* ---- AVX-512 VPOPCNTDQ: 16 channels x 8 columns ---------------------------------------- */

#define T512 __attribute__((target("avx512f,avx512vpopcntdq")))

T512 INLINE void tile512(const bw_bk_job *j, const uint64_t *w, const uint64_t *const *cols, int32_t *out,
                         const int NB, const int Q, const int AND) {
  __m512i acc[2][8];
  const uint64_t *cp[8];
  for (int q = 0; q < Q; q++) {
    cp[q] = cols[q];
    acc[0][q] = acc[1][q] = _mm512_setzero_si512();
  }
  const int64_t wblock = (int64_t)j->nsteps * 8;
  const int64_t *aoff = j->aoff;
  for (int k = 0; k < j->nsteps; k++) {
    __m512i w0 = _mm512_load_si512(w + (int64_t)k * 8);
    __m512i w1 = NB > 1 ? _mm512_load_si512(w + wblock + (int64_t)k * 8) : w0;
    int64_t o = aoff[k];
    for (int q = 0; q < Q; q++) {
      __m512i a = _mm512_set1_epi64((long long)cp[q][o]);
      __m512i x0 = AND ? _mm512_and_si512(a, w0) : _mm512_xor_si512(a, w0);
      acc[0][q] = _mm512_add_epi64(acc[0][q], _mm512_popcnt_epi64(x0));
      if (NB > 1) {
        __m512i x1 = AND ? _mm512_and_si512(a, w1) : _mm512_xor_si512(a, w1);
        acc[1][q] = _mm512_add_epi64(acc[1][q], _mm512_popcnt_epi64(x1));
      }
    }
  }
  __m256i bias = _mm256_set1_epi32(j->bias);
  for (int q = 0; q < Q; q++)
    for (int b = 0; b < NB; b++) {
      __m256i s = _mm512_cvtepi64_epi32(acc[b][q]);
      __m256i v = j->sign < 0 ? _mm256_sub_epi32(bias, s) : _mm256_add_epi32(bias, s);
      _mm256_storeu_si256((__m256i *)(out + q * j->ldo + b * 8), v);
    }
}

#define CASES512(NB, AND)                                                 \
  switch (q) {                                                            \
    case 8: tile512(j, w, j->cols + c, o, NB, 8, AND); break;             \
    case 7: tile512(j, w, j->cols + c, o, NB, 7, AND); break;             \
    case 6: tile512(j, w, j->cols + c, o, NB, 6, AND); break;             \
    case 5: tile512(j, w, j->cols + c, o, NB, 5, AND); break;             \
    case 4: tile512(j, w, j->cols + c, o, NB, 4, AND); break;             \
    case 3: tile512(j, w, j->cols + c, o, NB, 3, AND); break;             \
    case 2: tile512(j, w, j->cols + c, o, NB, 2, AND); break;             \
    default: tile512(j, w, j->cols + c, o, NB, 1, AND); break;            \
  }

T512 void bw_bk_run_avx512(const bw_bk_job *j) {
  const int64_t wblock = (int64_t)j->nsteps * 8;
  for (int b = 0; b < j->nblocks; b += 2) {
    const uint64_t *w = j->w + b * wblock;
    int nb = j->nblocks - b >= 2 ? 2 : 1;
    for (int c = 0; c < j->ncols; c += 8) {
      int32_t *o = j->out + c * j->ldo + b * 8;
      int q = j->ncols - c < 8 ? j->ncols - c : 8;
      if (nb == 2) {
        if (j->mode_and) CASES512(2, 1) else CASES512(2, 0)
      } else {
        if (j->mode_and) CASES512(1, 1) else CASES512(1, 0)
      }
    }
  }
}

/* ---- AVX2: 8 channels x 4 columns, nibble-table popcount ------------------------------- */

#define T256 __attribute__((target("avx2")))

T256 INLINE __m256i popcnt_bytes(__m256i x, __m256i lut, __m256i low4) {
  __m256i lo = _mm256_shuffle_epi8(lut, _mm256_and_si256(x, low4));
  __m256i hi = _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(x, 4), low4));
  return _mm256_add_epi8(lo, hi);
}

T256 INLINE void tile256(const bw_bk_job *j, const uint64_t *w, const uint64_t *const *cols, int32_t *out,
                         const int Q, const int AND) {
  const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2,
                                       2, 3, 2, 3, 3, 4);
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  const __m256i zero = _mm256_setzero_si256();
  __m256i tot[4][2];
  const uint64_t *cp[4];
  for (int q = 0; q < Q; q++) {
    cp[q] = cols[q];
    tot[q][0] = tot[q][1] = zero;
  }
  const int64_t *aoff = j->aoff;
  /* a byte gains at most 8 per step: 31 steps stay below 256 */
  for (int k0 = 0; k0 < j->nsteps; k0 += 31) {
    int k1 = j->nsteps - k0 < 31 ? j->nsteps : k0 + 31;
    __m256i acc[4][2];
    for (int q = 0; q < Q; q++) acc[q][0] = acc[q][1] = zero;
    for (int k = k0; k < k1; k++) {
      __m256i w0 = _mm256_load_si256((const __m256i *)(w + (int64_t)k * 8));
      __m256i w1 = _mm256_load_si256((const __m256i *)(w + (int64_t)k * 8 + 4));
      int64_t o = aoff[k];
      for (int q = 0; q < Q; q++) {
        __m256i a = _mm256_set1_epi64x((long long)cp[q][o]);
        __m256i x0 = AND ? _mm256_and_si256(a, w0) : _mm256_xor_si256(a, w0);
        __m256i x1 = AND ? _mm256_and_si256(a, w1) : _mm256_xor_si256(a, w1);
        acc[q][0] = _mm256_add_epi8(acc[q][0], popcnt_bytes(x0, lut, low4));
        acc[q][1] = _mm256_add_epi8(acc[q][1], popcnt_bytes(x1, lut, low4));
      }
    }
    for (int q = 0; q < Q; q++) {
      tot[q][0] = _mm256_add_epi64(tot[q][0], _mm256_sad_epu8(acc[q][0], zero));
      tot[q][1] = _mm256_add_epi64(tot[q][1], _mm256_sad_epu8(acc[q][1], zero));
    }
  }
  for (int q = 0; q < Q; q++) {
    int64_t t[8];
    _mm256_storeu_si256((__m256i *)t, tot[q][0]);
    _mm256_storeu_si256((__m256i *)(t + 4), tot[q][1]);
    for (int l = 0; l < 8; l++) out[q * j->ldo + l] = j->bias + j->sign * (int32_t)t[l];
  }
}

#define CASES256(AND)                                               \
  switch (q) {                                                      \
    case 4: tile256(j, w, j->cols + c, o, 4, AND); break;           \
    case 3: tile256(j, w, j->cols + c, o, 3, AND); break;           \
    case 2: tile256(j, w, j->cols + c, o, 2, AND); break;           \
    default: tile256(j, w, j->cols + c, o, 1, AND); break;          \
  }

T256 void bw_bk_run_avx2(const bw_bk_job *j) {
  const int64_t wblock = (int64_t)j->nsteps * 8;
  for (int b = 0; b < j->nblocks; b++) {
    const uint64_t *w = j->w + b * wblock;
    for (int c = 0; c < j->ncols; c += 4) {
      int32_t *o = j->out + c * j->ldo + b * 8;
      int q = j->ncols - c < 4 ? j->ncols - c : 4;
      if (j->mode_and) CASES256(1) else CASES256(0)
    }
  }
}
