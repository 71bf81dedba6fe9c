/*
 * AVX-512 VPOPCNTDQ micro-kernel: MR (1..8) A rows x 16 panel columns, 2*MR zmm
 * accumulators of per-lane 64-bit counts. Per panel word k: two zmm loads of the panel,
 * MR broadcasts of A words, then xor/and + vpopcntq + vpaddq per accumulator. That is
 * 6 256-bit uops per 512 bit-MACs on Zen 4 (double-pumped), the same mix as `bench peak`.
 * Compiled with target attributes; called only after cpu.c found AVX-512F + VPOPCNTDQ.
 */
#include <immintrin.h>

#include "bgemm_internal.h"

#define T512 __attribute__((target("avx2,avx512f,avx512vpopcntdq")))

/* One row's step: broadcast A word, combine with both panel vectors, count, accumulate.
 * Rows are separate named variables (not an array) so that gcc keeps all 16 accumulators
 * in registers without copies. */
#define ROW_STEP(i)                                                                   \
  if (MR > i) {                                                                       \
    __m512i a = _mm512_set1_epi64((long long)Ap[i]);                                  \
    __m512i x0 = AND ? _mm512_and_si512(a, b0) : _mm512_xor_si512(a, b0);             \
    __m512i x1 = AND ? _mm512_and_si512(a, b1) : _mm512_xor_si512(a, b1);             \
    c##i##0 = _mm512_add_epi64(c##i##0, _mm512_popcnt_epi64(x0));                     \
    c##i##1 = _mm512_add_epi64(c##i##1, _mm512_popcnt_epi64(x1));                     \
  }
#define ROW_DECL(i)                                                                   \
  __m512i c##i##0 = _mm512_setzero_si512(), c##i##1 = _mm512_setzero_si512();
#define ROW_STORE(i) \
  if (MR > i) store_row(AND, kc, c##i##0, c##i##1, C + i * ldc, ncols, accumulate);

/* XNOR: P = 64*kc - popcount(a ^ b); AND: the count itself */
static inline __attribute__((always_inline)) T512 void store_row(const int AND, int kc, __m512i s0, __m512i s1,
                                                                 int32_t *c, int ncols, int accumulate) {
  if (!AND) {
    const __m512i base = _mm512_set1_epi64(64 * (long long)kc);
    s0 = _mm512_sub_epi64(base, s0);
    s1 = _mm512_sub_epi64(base, s1);
  }
  __m256i v0 = _mm512_cvtepi64_epi32(s0), v1 = _mm512_cvtepi64_epi32(s1);
  if (ncols == BW_NR) {
    if (accumulate) {
      v0 = _mm256_add_epi32(v0, _mm256_loadu_si256((const __m256i *)c));
      v1 = _mm256_add_epi32(v1, _mm256_loadu_si256((const __m256i *)(c + 8)));
    }
    _mm256_storeu_si256((__m256i *)c, v0);
    _mm256_storeu_si256((__m256i *)(c + 8), v1);
  } else {
    int32_t tmp[BW_NR];
    _mm256_storeu_si256((__m256i *)tmp, v0);
    _mm256_storeu_si256((__m256i *)(tmp + 8), v1);
    for (int j = 0; j < ncols; j++) c[j] = accumulate ? c[j] + tmp[j] : tmp[j];
  }
}

static inline __attribute__((always_inline)) T512 void
tile(const int MR, const int AND, int kc, const uint64_t *Ap, const uint64_t *Bp, int32_t *C, long ldc, int ncols,
     int accumulate) {
  ROW_DECL(0) ROW_DECL(1) ROW_DECL(2) ROW_DECL(3) ROW_DECL(4) ROW_DECL(5) ROW_DECL(6) ROW_DECL(7)
  /* kc >= 1 (the driver never calls with an empty block): a do-while keeps gcc from
   * shuffling accumulator copies around a zero-trip path */
  const uint64_t *end = Bp + (long)kc * BW_NR;
  do {
    const __m512i b0 = _mm512_load_si512((const void *)Bp), b1 = _mm512_load_si512((const void *)(Bp + 8));
    ROW_STEP(0) ROW_STEP(1) ROW_STEP(2) ROW_STEP(3) ROW_STEP(4) ROW_STEP(5) ROW_STEP(6) ROW_STEP(7)
    Ap += BW_MR, Bp += BW_NR;
  } while (Bp < end);
  ROW_STORE(0) ROW_STORE(1) ROW_STORE(2) ROW_STORE(3) ROW_STORE(4) ROW_STORE(5) ROW_STORE(6) ROW_STORE(7)
}

/* One out-of-line function per (rows, mode): keeps each loop's register allocation simple. */
#define DEFINE_TILE(MR, AND)                                                                            \
  static __attribute__((noinline)) T512 void tile_##MR##_##AND(int kc, const uint64_t *Ap, const uint64_t *Bp, \
                                                               int32_t *C, long ldc, int ncols, int accumulate) { \
    tile(MR, AND, kc, Ap, Bp, C, ldc, ncols, accumulate);                                                \
  }
#define DEFINE_TILES(MR) DEFINE_TILE(MR, 0) DEFINE_TILE(MR, 1)
DEFINE_TILES(1) DEFINE_TILES(2) DEFINE_TILES(3) DEFINE_TILES(4)
DEFINE_TILES(5) DEFINE_TILES(6) DEFINE_TILES(7) DEFINE_TILES(8)

typedef void (*tile_fn)(int, const uint64_t *, const uint64_t *, int32_t *, long, int, int);
static const tile_fn tiles[2][BW_MR] = {
    {tile_1_0, tile_2_0, tile_3_0, tile_4_0, tile_5_0, tile_6_0, tile_7_0, tile_8_0},
    {tile_1_1, tile_2_1, tile_3_1, tile_4_1, tile_5_1, tile_6_1, tile_7_1, tile_8_1},
};

T512 void bw_ukernel_avx512(int mode, int mr, int kc, const uint64_t *Ap, const uint64_t *Bp, int32_t *C, long ldc,
                            int ncols, int accumulate) {
  if (mr >= 1 && mr <= BW_MR) tiles[mode == BW_MODE_AND][mr - 1](kc, Ap, Bp, C, ldc, ncols, accumulate);
}

/*
 * Panel packing as 8x8 transposes of 64-bit words: rows n..n+7, words k..k+7 become panel
 * words k..k+7, lanes n..n+7 (unpack 64-bit pairs, then 128-bit, then 256-bit blocks).
 * Ragged edges (kc % 8, nrows < 16) go through the portable loop.
 */
static inline __attribute__((always_inline)) T512 void transpose8(const uint64_t *B, long ldb, uint64_t *out) {
  __m512i r[8], a[8], b[8];
  for (int i = 0; i < 8; i++) r[i] = _mm512_loadu_si512((const void *)(B + i * ldb));
  for (int i = 0; i < 4; i++) {
    a[2 * i] = _mm512_unpacklo_epi64(r[2 * i], r[2 * i + 1]);     /* k = 0,2,4,6 */
    a[2 * i + 1] = _mm512_unpackhi_epi64(r[2 * i], r[2 * i + 1]); /* k = 1,3,5,7 */
  }
  const __m512i lo = _mm512_set_epi64(13, 12, 5, 4, 9, 8, 1, 0);
  const __m512i hi = _mm512_set_epi64(15, 14, 7, 6, 11, 10, 3, 2);
  for (int h = 0; h < 2; h++) { /* rows 0-3, 4-7 */
    __m512i *s = a + 4 * h, *d = b + 4 * h;
    d[0] = _mm512_permutex2var_epi64(s[0], lo, s[2]); /* k = 0,4 */
    d[1] = _mm512_permutex2var_epi64(s[0], hi, s[2]); /* k = 2,6 */
    d[2] = _mm512_permutex2var_epi64(s[1], lo, s[3]); /* k = 1,5 */
    d[3] = _mm512_permutex2var_epi64(s[1], hi, s[3]); /* k = 3,7 */
  }
  static const int kk[4][2] = {{0, 4}, {2, 6}, {1, 5}, {3, 7}};
  for (int q = 0; q < 4; q++) {
    _mm512_store_si512((void *)(out + kk[q][0] * BW_NR), _mm512_shuffle_i64x2(b[q], b[q + 4], 0x44));
    _mm512_store_si512((void *)(out + kk[q][1] * BW_NR), _mm512_shuffle_i64x2(b[q], b[q + 4], 0xee));
  }
}

T512 void bw_pack_panel_avx512(int nrows, int kc, const uint64_t *B, long ldb, uint64_t *Bp) {
  if (nrows < BW_NR) {
    bw_pack_panel_generic(nrows, kc, B, ldb, Bp);
    return;
  }
  int k = 0;
  for (; k + 8 <= kc; k += 8) {
    transpose8(B + k, ldb, Bp + k * BW_NR);
    transpose8(B + 8 * ldb + k, ldb, Bp + k * BW_NR + 8);
  }
  if (k < kc) bw_pack_panel_generic(nrows, kc - k, B + k, ldb, Bp + k * BW_NR);
}
