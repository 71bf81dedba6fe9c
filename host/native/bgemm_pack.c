/*
 * Float -> packed bits for the GEMM operands (sign(x): x >= 0 -> bit 1; NaN -> 0;
 * LSB-first 64-bit words; bits past the end of a row are 0).
 *   rows: X is rows x cols (leading dim ldx); out row r = bits of X row r.
 *   cols: X is rows x cols; out row c = bits of X column c (a K x N im2col matrix becomes
 *         the N x K/64 operand B of bw_bgemm_*).
 * AVX-512 compares 16 floats into a mask at once; other machines use the plain loops.
 * Both are memory-bound on large inputs (about DRAM bandwidth with 2 threads).
 */
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#include "bgemm.h"
#include "bgemm_internal.h"
#include "cpu.h"

#define T512 __attribute__((target("avx2,avx512f")))

static void rows_plain(const float *x, int cols, uint64_t *out) {
  for (int w = 0; w * 64 < cols; w++) {
    uint64_t word = 0;
    for (int j = 0; j < 64 && w * 64 + j < cols; j++) word |= (uint64_t)(x[w * 64 + j] >= 0.0f) << j;
    out[w] = word;
  }
}

static T512 void rows_avx512(const float *x, int cols, uint64_t *out) {
  const __m512 zero = _mm512_setzero_ps();
  int w = 0;
  for (; (w + 1) * 64 <= cols; w++) {
    const float *p = x + w * 64;
    uint64_t m0 = _mm512_cmp_ps_mask(_mm512_loadu_ps(p), zero, _CMP_GE_OQ);
    uint64_t m1 = _mm512_cmp_ps_mask(_mm512_loadu_ps(p + 16), zero, _CMP_GE_OQ);
    uint64_t m2 = _mm512_cmp_ps_mask(_mm512_loadu_ps(p + 32), zero, _CMP_GE_OQ);
    uint64_t m3 = _mm512_cmp_ps_mask(_mm512_loadu_ps(p + 48), zero, _CMP_GE_OQ);
    out[w] = m0 | m1 << 16 | m2 << 32 | m3 << 48;
  }
  if (w * 64 < cols) rows_plain(x + w * 64, cols - w * 64, out + w);
}

typedef struct {
  int rows, cols, avx512;
  const float *X;
  long ldx, ldo;
  uint64_t *out;
} rows_job;

#define ROWS_PER_ITEM 16

static void rows_item(void *ctx, int i) {
  const rows_job *p = ctx;
  for (int r = i * ROWS_PER_ITEM; r < p->rows && r < (i + 1) * ROWS_PER_ITEM; r++) {
    if (p->avx512) rows_avx512(p->X + r * p->ldx, p->cols, p->out + r * p->ldo);
    else rows_plain(p->X + r * p->ldx, p->cols, p->out + r * p->ldo);
  }
}

void bw_pack_rows_f32(int rows, int cols, const float *X, long ldx, uint64_t *out, long ldo, int threads) {
  if (rows <= 0 || cols <= 0) return;
  rows_job p = {.rows = rows, .cols = cols, .avx512 = bw_isa_current() == BW_ISA_AVX512, .X = X, .ldx = ldx, .ldo = ldo, .out = out};
  bw_parallel_items(threads, (rows + ROWS_PER_ITEM - 1) / ROWS_PER_ITEM, rows_item, &p);
}

/*
 * Columns: one 64-row band of X and a chunk of CHUNK columns become CHUNK words (one per
 * output row), accumulated in an L1-resident strip. X is read in long contiguous runs
 * (CHUNK floats = 8 KiB per row), which DRAM and the prefetchers need; four rows are merged
 * per pass over the strip to keep the strip traffic low.
 */
#define CHUNK 2048

static void cols_chunk_plain(int nbits, int ncols, const float *X, long ldx, uint64_t *strip) {
  memset(strip, 0, sizeof(uint64_t) * (size_t)ncols);
  for (int b = 0; b < nbits; b++) {
    const float *row = X + b * ldx;
    for (int c = 0; c < ncols; c++) strip[c] |= (uint64_t)(row[c] >= 0.0f) << b;
  }
}

static T512 void cols_chunk_avx512(int nbits, int ncols, const float *X, long ldx, uint64_t *strip) {
  const int n16 = ncols & ~15;
  const __m512 zero = _mm512_setzero_ps();
  memset(strip, 0, sizeof(uint64_t) * (size_t)ncols);
  int b = 0;
  for (; b + 4 <= nbits; b += 4) {
    const float *r0 = X + b * ldx, *r1 = r0 + ldx, *r2 = r1 + ldx, *r3 = r2 + ldx;
    const __m512i b0 = _mm512_set1_epi64((long long)(1ull << b)), b1 = _mm512_slli_epi64(b0, 1);
    const __m512i b2 = _mm512_slli_epi64(b0, 2), b3 = _mm512_slli_epi64(b0, 3);
    for (int c = 0; c < n16; c += 16) {
      __mmask16 m0 = _mm512_cmp_ps_mask(_mm512_loadu_ps(r0 + c), zero, _CMP_GE_OQ);
      __mmask16 m1 = _mm512_cmp_ps_mask(_mm512_loadu_ps(r1 + c), zero, _CMP_GE_OQ);
      __mmask16 m2 = _mm512_cmp_ps_mask(_mm512_loadu_ps(r2 + c), zero, _CMP_GE_OQ);
      __mmask16 m3 = _mm512_cmp_ps_mask(_mm512_loadu_ps(r3 + c), zero, _CMP_GE_OQ);
      __m512i lo = _mm512_loadu_si512((const void *)(strip + c)), hi = _mm512_loadu_si512((const void *)(strip + c + 8));
      lo = _mm512_mask_or_epi64(lo, (__mmask8)m0, lo, b0), hi = _mm512_mask_or_epi64(hi, (__mmask8)(m0 >> 8), hi, b0);
      lo = _mm512_mask_or_epi64(lo, (__mmask8)m1, lo, b1), hi = _mm512_mask_or_epi64(hi, (__mmask8)(m1 >> 8), hi, b1);
      lo = _mm512_mask_or_epi64(lo, (__mmask8)m2, lo, b2), hi = _mm512_mask_or_epi64(hi, (__mmask8)(m2 >> 8), hi, b2);
      lo = _mm512_mask_or_epi64(lo, (__mmask8)m3, lo, b3), hi = _mm512_mask_or_epi64(hi, (__mmask8)(m3 >> 8), hi, b3);
      _mm512_storeu_si512((void *)(strip + c), lo);
      _mm512_storeu_si512((void *)(strip + c + 8), hi);
    }
    for (int c = n16; c < ncols; c++)
      strip[c] |= (uint64_t)(r0[c] >= 0.0f) << b | (uint64_t)(r1[c] >= 0.0f) << (b + 1) |
                  (uint64_t)(r2[c] >= 0.0f) << (b + 2) | (uint64_t)(r3[c] >= 0.0f) << (b + 3);
  }
  for (; b < nbits; b++) {
    const float *row = X + b * ldx;
    for (int c = 0; c < ncols; c++) strip[c] |= (uint64_t)(row[c] >= 0.0f) << b;
  }
}

typedef struct {
  int rows, cols, chunks, avx512;
  const float *X;
  long ldx, ldo;
  uint64_t *out;
} cols_job;

static __thread uint64_t *tls_strip;

static void cols_item(void *ctx, int j) {
  const cols_job *p = ctx;
  const int w = j / p->chunks, ch = j % p->chunks;
  const int c0 = ch * CHUNK, nc = p->cols - c0 < CHUNK ? p->cols - c0 : CHUNK;
  const int nbits = p->rows - w * 64 < 64 ? p->rows - w * 64 : 64;
  const float *x = p->X + (long)w * 64 * p->ldx + c0;
  uint64_t *o = p->out + (long)c0 * p->ldo + w;
  if (!tls_strip) tls_strip = aligned_alloc(64, sizeof(uint64_t) * CHUNK);
  if (!tls_strip) { /* no 16 KiB: bit by bit, straight into the output */
    for (int c = 0; c < nc; c++) {
      uint64_t word = 0;
      for (int b = 0; b < nbits; b++) word |= (uint64_t)(x[b * p->ldx + c] >= 0.0f) << b;
      o[c * p->ldo] = word;
    }
    return;
  }
  if (p->avx512) cols_chunk_avx512(nbits, nc, x, p->ldx, tls_strip);
  else cols_chunk_plain(nbits, nc, x, p->ldx, tls_strip);
  for (int c = 0; c < nc; c++) o[c * p->ldo] = tls_strip[c];
}

int bw_pack_cols_f32(int rows, int cols, const float *X, long ldx, uint64_t *out, long ldo, int threads) {
  if (rows <= 0 || cols <= 0) return 0;
  cols_job p = {.rows = rows, .cols = cols, .chunks = (cols + CHUNK - 1) / CHUNK, .avx512 = bw_isa_current() == BW_ISA_AVX512,
                .X = X, .ldx = ldx, .ldo = ldo, .out = out};
  const long jobs = (long)((rows + 63) / 64) * p.chunks;
  bw_parallel_items(threads, (int)jobs, cols_item, &p);
  return 0;
}
