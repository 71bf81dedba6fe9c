/*
 * Fused binary convolution / dense (BconvOp): popcount accumulate over the packed NHWC
 * input, integer pool, then thresholds packed straight into the next layer's bit-planes or
 * raw int32 for a host layer. Semantics: docs/FORMAT.md §5 and reference/bconv.ts.
 *
 * Work is split into items = (a run of output rows over the flattened batch, a range of
 * 64 output channels). An item computes the conv rows its pooled rows need into a small
 * int32 scratch (L2-resident) with the microkernels, pools and writes its outputs. Every
 * output word belongs to exactly one item, so the result is the same at any thread count.
 *
 * 1-bit inputs x 1-bit weights: P = K - sum popcount(a XOR w) (matches = real bits -
 * mismatches; the zero tails of both operands never mismatch, so no tail correction).
 * Otherwise every operand value is sum_p coef_p·bit_p + offset (bipolar: 2·bit - 1; k-bit:
 * 2^p, the top plane -2^(k-1) when signed), so
 *   v = sum_{p,q} ca_p·cw_q·popcount(a_p AND w_q) + w0·sum_p ca_p·popcount(a_p)
 *       + a0·sum_q cw_q·popcount(w_q):
 * one AND-popcount kernel pass per weight plane over every activation plane's columns; the
 * activation ones do not depend on the output channel (once per column), the weight ones
 * not on the pixel (once per channel, at create). a0·w0 != 0 only for 1-bit x 1-bit.
 *
 * Zero padding (pad_zero, 1-bit x 1-bit): Q = K + dot over the real positions. The kernels
 * run with +1 padding (P+), and Q = 2·P+ - sum over the padded window positions of
 * sum_c w, a per-channel table per kernel position (zsum) that only border pixels touch.
 */
#include <immintrin.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

struct bw_bconv {
  bw_bconv_desc d;
  int32_t words;      /* 64-bit words per input plane (ceil(c/64)) */
  int32_t out_words;  /* words per output plane (ceil(out_c/64)) */
  int32_t nblocks;    /* 8-channel weight blocks */
  int32_t nsteps;     /* kh*kw*words */
  int32_t K;          /* kh*kw*c real bits */
  int32_t L;          /* thresholds per channel (2^out_bits - 1), 0 for int output */
  int32_t padded;     /* the input is copied into a padded buffer first */
  int32_t hp, wp;     /* (padded) input height and width the columns index */
  int32_t ah, aw;     /* conv output before the pool */
  int64_t pxw;        /* words per input pixel (in_bits*words) */
  int64_t *aoff;      /* [nsteps] word offset of step k from the window origin */
  uint64_t *wpack;    /* [wb][nblocks][nsteps][8] */
  int32_t wb;         /* weight planes */
  int32_t xnor;       /* 1-bit inputs x 1-bit weights: P by xor */
  int64_t wplane;     /* 64-bit words of one repacked weight plane */
  int32_t ca[BW_MAX_BITS], cw[4], a0, w0; /* plane coefficients and offsets of the operands */
  int32_t *wones;     /* [wb][nblocks*8] popcount of each weight plane per channel */
  int32_t *zsum;      /* pad_zero: [kh*kw][nblocks*8] sum_c w (±1) per kernel position and channel */
  uint64_t pad_word[]; /* flexible: [words] the word pattern of a padded pixel's plane */
};

/* per-channel tables are appended after the struct and pad_word in one block */
typedef struct tables {
  int32_t *thr;    /* [L][nblocks*8] thresholds, transposed so channels are contiguous */
  int32_t *flipm;  /* [nblocks*8] -1 where flip, else 0 */
  int32_t *minm;   /* [nblocks*8] -1 where the pool takes the min, else 0 */
  uint64_t *flipw; /* [out_words] the flip bits packed like an output plane */
} tables;

static tables tables_of(const bw_bconv *b) {
  int64_t ocp = (int64_t)b->nblocks * 8; /* a multiple of 8: flipw stays 8-byte aligned */
  int32_t *base = (int32_t *)(b->pad_word + b->words);
  tables t = {base, base + (int64_t)b->L * ocp, base + (int64_t)b->L * ocp + ocp,
              (uint64_t *)(base + (int64_t)(b->L + 2) * ocp)};
  return t;
}

static int32_t win_out(int32_t size, int32_t k, int32_t s, int32_t p) {
  int32_t span = size + 2 * p - k;
  return span < 0 ? 0 : span / s + 1;
}

bw_bconv *bw_bconv_create(const bw_bconv_desc *d, const uint64_t *weight, const int32_t *thresholds,
                          const uint8_t *flip, const uint8_t *use_min) {
  /* the TypeScript side validated the model; these checks only keep the C safe on its own */
  if (!d || !weight) return NULL;
  if (d->h < 1 || d->w < 1 || d->c < 1 || d->in_bits < 1 || d->in_bits > 8 || d->out_c < 1) return NULL;
  if (d->kh < 1 || d->kw < 1 || d->sh < 1 || d->sw < 1 || d->ph < 0 || d->pw < 0) return NULL;
  if (d->ph >= d->kh || d->pw >= d->kw || d->kh > 64 || d->kw > 64 || d->sh > 64 || d->sw > 64) return NULL;
  if (d->h > 65536 || d->w > 65536 || d->c > (1 << 24) || d->out_c > 65536) return NULL;
  if (d->out_bits < 0 || d->out_bits > 8 || (d->out_bits > 0 && (!thresholds || !flip))) return NULL;
  if (d->pad_bit != 0 && d->pad_bit != 1) return NULL;
  if (d->w_bits < 1 || d->w_bits > 4 || (d->in_signed != 0 && d->in_signed != 1) || (d->w_signed != 0 && d->w_signed != 1) ||
      (d->out_signed != 0 && d->out_signed != 1))
    return NULL;
  if ((d->in_signed && d->in_bits < 2) || (d->w_signed && d->w_bits < 2) || (d->out_signed && d->out_bits < 2)) return NULL;
  if (d->pad_zero != 0 && (d->pad_zero != 1 || d->in_bits != 1 || d->w_bits != 1 || d->pad_bit != 1)) return NULL;
  int32_t ah = win_out(d->h, d->kh, d->sh, d->ph), aw = win_out(d->w, d->kw, d->sw, d->pw);
  if (ah < 1 || aw < 1) return NULL;
  int32_t oh = ah, ow = aw;
  if (d->has_pool) {
    if (!use_min || d->pkh < 1 || d->pkw < 1 || d->psh < 1 || d->psw < 1 || d->pph < 0 || d->ppw < 0) return NULL;
    if (d->pph >= d->pkh || d->ppw >= d->pkw) return NULL;
    oh = win_out(ah, d->pkh, d->psh, d->pph);
    ow = win_out(aw, d->pkw, d->psw, d->ppw);
  }
  if (oh != d->out_h || ow != d->out_w || oh < 1 || ow < 1) return NULL;
  int64_t words = (d->c + 63) / 64;
  int64_t nsteps = (int64_t)d->kh * d->kw * words;
  int64_t K = (int64_t)d->kh * d->kw * d->c;
  /* largest |operand|: 1 (bipolar), 2^(k-1) (signed), 2^k - 1 (unsigned); |v| <= K·amax·wmax */
  int64_t amax = d->in_bits == 1 ? 1 : d->in_signed ? 1LL << (d->in_bits - 1) : (1LL << d->in_bits) - 1;
  int64_t wmax = d->w_bits == 1 ? 1 : d->w_signed ? 1LL << (d->w_bits - 1) : (1LL << d->w_bits) - 1;
  if (K * amax * wmax * (d->pad_zero ? 2 : 1) > INT_MAX || nsteps > INT_MAX / 8) return NULL;

  int32_t L = d->out_bits ? (1 << d->out_bits) - 1 : 0;
  int64_t nblocks = (d->out_c + 7) / 8, ocp = nblocks * 8;
  size_t head = sizeof(bw_bconv) + (size_t)words * 8;
  bw_bconv *b = calloc(1, head + (size_t)(L + 2) * ocp * 4 + (size_t)((d->out_c + 63) / 64) * 8);
  if (!b) return NULL;
  b->d = *d;
  b->words = (int32_t)words;
  b->out_words = (d->out_c + 63) / 64;
  b->nblocks = (int32_t)nblocks;
  b->nsteps = (int32_t)nsteps;
  b->K = (int32_t)K;
  b->L = L;
  b->padded = d->ph > 0 || d->pw > 0;
  b->hp = d->h + 2 * d->ph;
  b->wp = d->w + 2 * d->pw;
  b->ah = ah;
  b->aw = aw;
  b->pxw = (int64_t)d->in_bits * words;
  b->wb = d->w_bits;
  b->xnor = d->in_bits == 1 && d->w_bits == 1;
  b->wplane = nblocks * nsteps * 8;
  for (int32_t p = 0; p < d->in_bits; p++)
    b->ca[p] = d->in_bits == 1 ? 2 : (d->in_signed && p == d->in_bits - 1) ? -(1 << p) : 1 << p;
  for (int32_t q = 0; q < d->w_bits; q++)
    b->cw[q] = d->w_bits == 1 ? 2 : (d->w_signed && q == d->w_bits - 1) ? -(1 << q) : 1 << q;
  b->a0 = d->in_bits == 1 ? -1 : 0;
  b->w0 = d->w_bits == 1 ? -1 : 0;
  b->aoff = bw_alloc((size_t)nsteps * 8);
  b->wpack = bw_alloc((size_t)(b->wb * b->wplane) * 8);
  b->wones = bw_alloc((size_t)(b->wb * ocp) * 4);
  b->zsum = d->pad_zero ? bw_alloc((size_t)d->kh * d->kw * ocp * 4) : NULL;
  if (!b->aoff || !b->wpack || !b->wones || (d->pad_zero && !b->zsum)) {
    bw_bconv_free(b);
    return NULL;
  }
  if (d->pad_bit)
    for (int32_t c = 0; c < d->c; c++) b->pad_word[c >> 6] |= 1ULL << (c & 63);

  /* step k = (ky*kw + kx)*words + j reads word j of window pixel (ky, kx) */
  int64_t row = (int64_t)b->wp * b->pxw;
  for (int64_t ky = 0, k = 0; ky < d->kh; ky++)
    for (int64_t kx = 0; kx < d->kw; kx++)
      for (int64_t j = 0; j < words; j++) b->aoff[k++] = ky * row + kx * b->pxw + j;

  /* weights: per plane, channels become lanes, 8 per block; missing channels are zero words */
  for (int64_t q = 0; q < b->wb; q++)
    for (int64_t blk = 0; blk < nblocks; blk++)
      for (int64_t l = 0; l < 8; l++) {
        int64_t oc = blk * 8 + l, ones = 0;
        for (int64_t k = 0; k < nsteps; k++) {
          uint64_t w = oc < d->out_c ? weight[(q * d->out_c + oc) * nsteps + k] : 0;
          b->wpack[q * b->wplane + (blk * nsteps + k) * 8 + l] = w;
          ones += __builtin_popcountll(w);
        }
        b->wones[q * ocp + oc] = (int32_t)ones; /* <= K */
      }

  if (d->pad_zero)
    for (int64_t kp = 0; kp < (int64_t)d->kh * d->kw; kp++)
      for (int64_t oc = 0; oc < ocp; oc++) {
        int64_t ones = 0;
        for (int64_t j = 0; oc < d->out_c && j < words; j++) ones += __builtin_popcountll(weight[oc * nsteps + kp * words + j]);
        b->zsum[kp * ocp + oc] = oc < d->out_c ? (int32_t)(2 * ones - d->c) : 0;
      }

  tables t = tables_of(b);
  for (int64_t oc = 0; oc < d->out_c; oc++) {
    for (int32_t jx = 0; jx < L; jx++) t.thr[jx * ocp + oc] = thresholds[oc * L + jx];
    if (L) t.flipm[oc] = flip[oc] ? -1 : 0;
    if (L && flip[oc]) t.flipw[oc >> 6] |= 1ULL << (oc & 63);
    if (d->has_pool) t.minm[oc] = use_min[oc] ? -1 : 0;
  }
  return b;
}

void bw_bconv_free(bw_bconv *b) {
  if (!b) return;
  free(b->aoff);
  free(b->wpack);
  free(b->wones);
  free(b->zsum);
  free(b);
}

/* ---- one item ------------------------------------------------------------------------- */

typedef struct scratch {
  const uint64_t **cols; /* [cap_cols] */
  int32_t *raw;          /* [wb][cap_cols][ldo] kernel output (AND mode) */
  int32_t *v;            /* [cap_px][ldo] accumulators (k-bit: combined planes) */
  int32_t *pool;         /* [ldo] pooled accumulators of one output pixel */
  int32_t *lv;           /* [ldo] output levels of one pixel */
  int32_t *ustart;       /* [units per item] first scratch pixel of each output row */
  char *chain;           /* the chain's block scratch (plan.chain) */
} scratch;

typedef struct plan {
  const bw_bconv *b;
  const uint64_t *src; /* input or its padded copy */
  void *out;
  int32_t units_per_item, oc_chunk, n_oc;
  int64_t n_units, n_items;
  int32_t cap_px, ldo; /* scratch capacity: pixels (not planes), channel stride */
  int isa, popcnt;
  const bw_chain *chain; /* int output run through this chain per item (out unused) */
  int32_t chain_slot;
  void *const *chain_data;
} plan;

/* ---- epilogue: integer pool, then thresholds packed to bit-planes or raw int32 ------------ */

/*
 * Written once, compiled per ISA (plain loops over channels vectorise at that width; the
 * bit packing uses the ISA's compare-to-mask). GE64: bit r = v[r] >= t[r]; BIT64: bit r =
 * bit `b` of lv[r]; n <= 64 channels.
 */
#define DEF_EMIT(SUF, ATTR, GE64, BIT64)                                                              \
  ATTR static void emit_##SUF(const plan *p, scratch *s, int64_t u0, int64_t u1, int32_t oc0, int32_t noc) { \
    const bw_bconv *b = p->b;                                                                         \
    const bw_bconv_desc *d = &b->d;                                                                   \
    const tables t = tables_of(b);                                                                    \
    const int64_t ocp = (int64_t)b->nblocks * 8;                                                      \
    const int32_t pkh = d->has_pool ? d->pkh : 1, psh = d->has_pool ? d->psh : 1, pph = d->has_pool ? d->pph : 0; \
    for (int64_t u = u0; u < u1; u++) {                                                               \
      int64_t n = u / d->out_h;                                                                       \
      int32_t py = (int32_t)(u % d->out_h);                                                           \
      int32_t cy0 = py * psh - pph, lo = cy0 < 0 ? 0 : cy0, hi = cy0 + pkh < b->ah ? cy0 + pkh : b->ah; \
      for (int32_t px = 0; px < d->out_w; px++) {                                                     \
        const int32_t *pv;                                                                            \
        if (d->has_pool) {                                                                            \
          /* max of v (or of -v where the folded map decreases: that is the min) */                   \
          const int32_t *m = t.minm + oc0;                                                            \
          int32_t *acc = s->pool;                                                                     \
          for (int32_t r = 0; r < noc; r++) acc[r] = INT_MIN;                                         \
          int32_t cx0 = px * d->psw - d->ppw;                                                         \
          int32_t xlo = cx0 < 0 ? 0 : cx0, xhi = cx0 + d->pkw < b->aw ? cx0 + d->pkw : b->aw;         \
          for (int32_t cy = lo; cy < hi; cy++)                                                        \
            for (int32_t cx = xlo; cx < xhi; cx++) {                                                  \
              const int32_t *v = s->v + (int64_t)(s->ustart[u - u0] + (cy - lo) * b->aw + cx) * p->ldo; \
              for (int32_t r = 0; r < noc; r++) {                                                     \
                int32_t x = (v[r] ^ m[r]) - m[r];                                                     \
                acc[r] = x > acc[r] ? x : acc[r];                                                     \
              }                                                                                       \
            }                                                                                         \
          for (int32_t r = 0; r < noc; r++) acc[r] = (acc[r] ^ m[r]) - m[r];                          \
          pv = acc;                                                                                   \
        } else {                                                                                      \
          pv = s->v + (int64_t)(s->ustart[u - u0] + px) * p->ldo;                                     \
        }                                                                                             \
        int64_t opix = (n * d->out_h + py) * d->out_w + px;                                           \
        if (!b->L) {                                                                                  \
          memcpy((int32_t *)p->out + opix * d->out_c + oc0, pv, (size_t)noc * 4);                      \
          continue;                                                                                   \
        }                                                                                             \
        uint64_t *ow = (uint64_t *)p->out + opix * d->out_bits * b->out_words + oc0 / 64;             \
        if (b->L == 1) { /* 1-bit: (v >= t) XOR flip, 64 channels per word */                         \
          for (int32_t r = 0; r < noc; r += 64) {                                                     \
            int nn = noc - r < 64 ? noc - r : 64;                                                     \
            ow[r / 64] = GE64(pv + r, t.thr + oc0 + r, nn) ^ t.flipw[(oc0 + r) / 64];                 \
          }                                                                                           \
          continue;                                                                                   \
        }                                                                                             \
        /* k-bit: level = #{j: v >= t_j}, or 2^k-1 minus that where flip */                           \
        int32_t *lv = s->lv;                                                                          \
        const int32_t *fm = t.flipm + oc0;                                                            \
        for (int32_t r = 0; r < noc; r++) lv[r] = 0;                                                  \
        for (int32_t jx = 0; jx < b->L; jx++) {                                                       \
          const int32_t *th = t.thr + jx * ocp + oc0;                                                 \
          for (int32_t r = 0; r < noc; r++) lv[r] += pv[r] >= th[r];                                  \
        }                                                                                             \
        for (int32_t r = 0; r < noc; r++) lv[r] = (lv[r] ^ fm[r]) + (fm[r] & (b->L + 1));             \
        if (d->out_signed) /* signed: the count n stored as n - 2^(k-1), i.e. top bit inverted */   \
          for (int32_t r = 0; r < noc; r++) lv[r] ^= 1 << (d->out_bits - 1);                          \
        for (int32_t bit = 0; bit < d->out_bits; bit++)                                               \
          for (int32_t r = 0; r < noc; r += 64) {                                                     \
            int nn = noc - r < 64 ? noc - r : 64;                                                     \
            ow[(int64_t)bit * b->out_words + r / 64] = BIT64(lv + r, nn, bit);                        \
          }                                                                                           \
      }                                                                                               \
    }                                                                                                 \
  }

#define A512 __attribute__((target("avx512f")))
#define A256 __attribute__((target("avx2")))
#define INLINE static inline __attribute__((always_inline))

A512 INLINE uint64_t ge64_avx512(const int32_t *v, const int32_t *t, int n) {
  uint64_t w = 0;
  for (int i = 0; i < n; i += 16) {
    __mmask16 valid = n - i >= 16 ? 0xffff : (__mmask16)((1u << (n - i)) - 1);
    __m512i a = _mm512_maskz_loadu_epi32(valid, v + i), b = _mm512_maskz_loadu_epi32(valid, t + i);
    w |= (uint64_t)_mm512_mask_cmp_epi32_mask(valid, a, b, _MM_CMPINT_NLT) << i;
  }
  return w;
}
A512 INLINE uint64_t bit64_avx512(const int32_t *lv, int n, int bit) {
  uint64_t w = 0;
  __m512i m = _mm512_set1_epi32(1 << bit);
  for (int i = 0; i < n; i += 16) {
    __mmask16 valid = n - i >= 16 ? 0xffff : (__mmask16)((1u << (n - i)) - 1);
    w |= (uint64_t)_mm512_mask_test_epi32_mask(valid, _mm512_maskz_loadu_epi32(valid, lv + i), m) << i;
  }
  return w;
}

A256 INLINE uint64_t ge64_avx2(const int32_t *v, const int32_t *t, int n) {
  uint64_t w = 0;
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256i lt = _mm256_cmpgt_epi32(_mm256_loadu_si256((const __m256i *)(t + i)), _mm256_loadu_si256((const __m256i *)(v + i)));
    w |= (uint64_t)(~(uint32_t)_mm256_movemask_ps(_mm256_castsi256_ps(lt)) & 0xffu) << i;
  }
  for (; i < n; i++) w |= (uint64_t)(v[i] >= t[i]) << i;
  return w;
}
A256 INLINE uint64_t bit64_avx2(const int32_t *lv, int n, int bit) {
  uint64_t w = 0;
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256i x = _mm256_slli_epi32(_mm256_loadu_si256((const __m256i *)(lv + i)), 31 - bit);
    w |= (uint64_t)(uint32_t)_mm256_movemask_ps(_mm256_castsi256_ps(x)) << i;
  }
  for (; i < n; i++) w |= (uint64_t)((lv[i] >> bit) & 1) << i;
  return w;
}

INLINE uint64_t ge64_sse2(const int32_t *v, const int32_t *t, int n) {
  uint64_t w = 0;
  for (int i = 0; i < n; i++) w |= (uint64_t)(v[i] >= t[i]) << i;
  return w;
}
INLINE uint64_t bit64_sse2(const int32_t *lv, int n, int bit) {
  uint64_t w = 0;
  for (int i = 0; i < n; i++) w |= (uint64_t)((lv[i] >> bit) & 1) << i;
  return w;
}

DEF_EMIT(avx512, A512, ge64_avx512, bit64_avx512)
DEF_EMIT(avx2, A256, ge64_avx2, bit64_avx2)
DEF_EMIT(sse2, , ge64_sse2, bit64_sse2)

/*
 * Zero padding: turn the item's P+ (computed with +1 padding) into Q = 2·P+ - sum of zsum
 * over the window positions that fall outside the input. Pixels are visited in the order
 * run_item's step 1 lists them.
 */
static void zero_pad_fix(const plan *p, int64_t u0, int64_t u1, int32_t *v, int64_t vld, int32_t oc0, int32_t noc) {
  const bw_bconv *b = p->b;
  const bw_bconv_desc *d = &b->d;
  const int64_t ocp = (int64_t)b->nblocks * 8;
  const int32_t pkh = d->has_pool ? d->pkh : 1, psh = d->has_pool ? d->psh : 1, pph = d->has_pool ? d->pph : 0;
  int64_t i = 0;
  for (int64_t u = u0; u < u1; u++) {
    int32_t cy0 = (int32_t)(u % d->out_h) * psh - pph;
    int32_t lo = cy0 < 0 ? 0 : cy0, hi = cy0 + pkh < b->ah ? cy0 + pkh : b->ah;
    for (int32_t cy = lo; cy < hi; cy++)
      for (int32_t cx = 0; cx < b->aw; cx++, i++) {
        int32_t *vi = v + i * vld;
        for (int32_t r = 0; r < noc; r++) vi[r] *= 2;
        int32_t iy0 = cy * d->sh - d->ph, ix0 = cx * d->sw - d->pw;
        if (iy0 >= 0 && iy0 + d->kh <= d->h && ix0 >= 0 && ix0 + d->kw <= d->w) continue; /* inside */
        for (int32_t ky = 0; ky < d->kh; ky++) {
          int32_t iy = iy0 + ky, row_out = iy < 0 || iy >= d->h;
          for (int32_t kx = 0; kx < d->kw; kx++) {
            int32_t ix = ix0 + kx;
            if (!row_out && ix >= 0 && ix < d->w) continue;
            const int32_t *z = b->zsum + (int64_t)(ky * d->kw + kx) * ocp + oc0;
            for (int32_t r = 0; r < noc; r++) vi[r] -= z[r];
          }
        }
      }
  }
}

static void run_item(const plan *p, int64_t item, scratch *s) {
  const bw_bconv *b = p->b;
  const bw_bconv_desc *d = &b->d;
  const int32_t P = d->in_bits;
  const int64_t u0 = (item / p->n_oc) * p->units_per_item;
  const int64_t u1 = u0 + p->units_per_item < p->n_units ? u0 + p->units_per_item : p->n_units;
  const int32_t oc0 = (int32_t)(item % p->n_oc) * p->oc_chunk;
  const int32_t oc1 = oc0 + p->oc_chunk < d->out_c ? oc0 + p->oc_chunk : d->out_c;
  const int32_t noc = oc1 - oc0;
  const int32_t pkh = d->has_pool ? d->pkh : 1, psh = d->has_pool ? d->psh : 1, pph = d->has_pool ? d->pph : 0;

  /* 1. columns: window origins of every conv pixel the item's output rows need */
  int32_t npx = 0;
  for (int64_t u = u0; u < u1; u++) {
    int64_t n = u / d->out_h;
    int32_t py = (int32_t)(u % d->out_h);
    int32_t cy0 = py * psh - pph;
    int32_t lo = cy0 < 0 ? 0 : cy0, hi = cy0 + pkh < b->ah ? cy0 + pkh : b->ah;
    s->ustart[u - u0] = npx;
    for (int32_t cy = lo; cy < hi; cy++)
      for (int32_t cx = 0; cx < b->aw; cx++, npx++) {
        const uint64_t *base = p->src + ((n * b->hp + (int64_t)cy * d->sh) * b->wp + (int64_t)cx * d->sw) * b->pxw;
        for (int32_t pl = 0; pl < P; pl++) s->cols[npx * P + pl] = base + (int64_t)pl * b->words;
      }
  }

  /* 2. popcount accumulate, 8-channel blocks x columns. Raw integers without a pool go
     straight to the output when whole 8-channel blocks fit (columns are then consecutive
     output pixels); otherwise to the scratch. */
  const int direct = !d->has_pool && !b->L && d->out_c % 8 == 0;
  /* with a chain the item's int32 pixels stay in the scratch (ldo = out_c there) */
  int32_t *vdst = p->chain ? s->v : direct ? (int32_t *)p->out + u0 * d->out_w * d->out_c + oc0 : s->v;
  const int64_t vld = direct ? d->out_c : p->ldo;
  const int64_t ncols = (int64_t)npx * P, rawp = ncols * p->ldo; /* raw: [wb][column][ldo] */
  bw_bk_job job = {
      .nsteps = b->nsteps, .aoff = b->aoff, .nblocks = (noc + 7) / 8, .cols = s->cols, .ncols = (int32_t)ncols,
      .mode_and = !b->xnor, .bias = b->xnor ? b->K : 0, .sign = b->xnor ? -1 : 1, .ldo = b->xnor ? vld : p->ldo,
  };
  for (int32_t q = 0; q < b->wb; q++) {
    job.w = b->wpack + q * b->wplane + (int64_t)(oc0 / 8) * b->nsteps * 8;
    job.out = b->xnor ? vdst : s->raw + q * rawp;
    switch (p->isa) {
      case BW_ISA_AVX512: bw_bk_run_avx512(&job); break;
      case BW_ISA_AVX2: bw_bk_run_avx2(&job); break;
      default: p->popcnt ? bw_bk_run_popcnt(&job) : bw_bk_run_generic(&job); break;
    }
  }
  if (d->pad_zero) zero_pad_fix(p, u0, u1, vdst, vld, oc0, noc);
  if (!b->xnor) {
    const int32_t WB = b->wb, a0 = b->a0, w0 = b->w0;
    const int32_t *wones = b->wones + oc0;
    const int64_t ocp = (int64_t)b->nblocks * 8;
    int32_t cc[BW_MAX_BITS * 4]; /* ca_p·cw_q */
    for (int32_t pl = 0; pl < P; pl++)
      for (int32_t q = 0; q < WB; q++) cc[pl * WB + q] = b->ca[pl] * b->cw[q];
    for (int32_t i = 0; i < npx; i++) {
      int64_t base = 0; /* channel-independent: w0·sum_p ca_p·ones_p */
      if (w0)
        for (int32_t pl = 0; pl < P; pl++) base += (int64_t)w0 * b->ca[pl] * bw_bk_popsum(s->cols[i * P + pl], b->aoff, b->nsteps, p->popcnt);
      int32_t *v = vdst + (int64_t)i * vld;
      for (int32_t r = 0; r < noc; r++) {
        int64_t acc = base;
        for (int32_t pl = 0; pl < P; pl++) {
          const int32_t *raw = s->raw + ((int64_t)i * P + pl) * p->ldo + r;
          for (int32_t q = 0; q < WB; q++) acc += (int64_t)cc[pl * WB + q] * raw[q * rawp];
        }
        if (a0)
          for (int32_t q = 0; q < WB; q++) acc += (int64_t)a0 * b->cw[q] * wones[q * ocp + r];
        v[r] = (int32_t)acc; /* |v| <= K·amax·wmax <= INT_MAX (checked at create) */
      }
    }
  }

  /* 3. pool, then the output transform (already done for direct int output) */
  if (p->chain) {
    bw_chain_span(p->chain, p->chain_data, u0 * d->out_w, (u1 - u0) * d->out_w, p->chain_slot, s->v, s->chain, p->isa);
    return;
  }
  if (direct) return;
  switch (p->isa) {
    case BW_ISA_AVX512: emit_avx512(p, s, u0, u1, oc0, noc); break;
    case BW_ISA_AVX2: emit_avx2(p, s, u0, u1, oc0, noc); break;
    default: emit_sse2(p, s, u0, u1, oc0, noc); break;
  }
}

/* ---- run -------------------------------------------------------------------------------- */

/* Copy the batch into a buffer with pad pixels around every image. */
static void pad_input(const bw_bconv *b, const uint64_t *in, uint64_t *dst, int32_t batch, int nt) {
  const bw_bconv_desc *d = &b->d;
  const int64_t pxw = b->pxw, rowp = (int64_t)b->wp * pxw, row = (int64_t)d->w * pxw;
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
  for (int64_t r = 0; r < (int64_t)batch * b->hp; r++) {
    int64_t n = r / b->hp, y = r % b->hp - d->ph;
    uint64_t *o = dst + r * rowp;
    if (y < 0 || y >= d->h) {
      for (int64_t x = 0; x < b->wp; x++)
        for (int32_t pl = 0; pl < d->in_bits; pl++) memcpy(o + x * pxw + pl * b->words, b->pad_word, (size_t)b->words * 8);
      continue;
    }
    for (int64_t x = 0; x < d->pw; x++)
      for (int32_t pl = 0; pl < d->in_bits; pl++) {
        memcpy(o + x * pxw + pl * b->words, b->pad_word, (size_t)b->words * 8);
        memcpy(o + (b->wp - 1 - x) * pxw + pl * b->words, b->pad_word, (size_t)b->words * 8);
      }
    memcpy(o + d->pw * pxw, in + (n * d->h + y) * row, (size_t)row * 8);
  }
}

static int run(const bw_bconv *b, int32_t batch, const uint64_t *in, void *out, const bw_chain *ch, int32_t slot,
               void *const *data, int32_t threads);

int bw_bconv_run(const bw_bconv *b, int32_t batch, const uint64_t *in, int64_t in_words, void *out,
                 int64_t out_len, int32_t threads) {
  if (!b || !in || !out || batch < 1 || threads < 1) return BW_E_ARG;
  const bw_bconv_desc *d = &b->d;
  int64_t opx = (int64_t)batch * d->out_h * d->out_w;
  if (in_words != (int64_t)batch * d->h * d->w * b->pxw) return BW_E_SIZE;
  if (out_len != (b->L ? opx * d->out_bits * b->out_words : opx * d->out_c)) return BW_E_SIZE;
  return run(b, batch, in, out, NULL, -1, NULL, threads);
}

int bw_bconv_run_chain(const bw_bconv *b, int32_t batch, const uint64_t *in, int64_t in_words, const bw_chain *ch,
                       int32_t slot, void *const *data, const int64_t *lens, int32_t threads) {
  if (!b || !in || !ch || !data || !lens || batch < 1 || threads < 1) return BW_E_ARG;
  const bw_bconv_desc *d = &b->d;
  if (b->L || d->has_pool || d->out_c % 8 || bw_chain_channels(ch) != d->out_c || !bw_chain_int_slot(ch, slot))
    return BW_E_ARG;
  if (in_words != (int64_t)batch * d->h * d->w * b->pxw) return BW_E_SIZE;
  int rc = bw_chain_check(ch, data, lens, (int64_t)batch * d->out_h * d->out_w, slot);
  if (rc != BW_OK) return rc;
  return run(b, batch, in, NULL, ch, slot, data, threads);
}

static int run(const bw_bconv *b, int32_t batch, const uint64_t *in, void *out, const bw_chain *ch, int32_t slot,
               void *const *data, int32_t threads) {
  const bw_bconv_desc *d = &b->d;
  plan p = {.b = b, .out = out, .isa = bw_engine_isa(), .popcnt = bw_engine_has_popcnt(), .chain = ch,
            .chain_slot = slot, .chain_data = data};
  p.n_units = (int64_t)batch * d->out_h;
  const int32_t pkh = d->has_pool ? d->pkh : 1;
  const int32_t rows_per_unit = pkh < b->ah ? pkh : b->ah;
  const int64_t px_per_unit = (int64_t)rows_per_unit * b->aw;

  /* channel chunks only when rows alone cannot feed the threads (e.g. dense at batch 1) */
  int32_t chunks64 = (d->out_c + 63) / 64;
  p.n_oc = 1;
  if (p.n_units < 2 * threads && !ch) { /* a chain needs whole pixels per item */
    int64_t want = (4 * threads + p.n_units - 1) / p.n_units;
    p.n_oc = (int32_t)(want < chunks64 ? want : chunks64);
  }
  p.oc_chunk = ((chunks64 + p.n_oc - 1) / p.n_oc) * 64;
  p.n_oc = (d->out_c + p.oc_chunk - 1) / p.oc_chunk;
  p.ldo = ((p.oc_chunk < d->out_c ? p.oc_chunk : d->out_c) + 7) / 8 * 8;

  /* rows per item: scratch around 64K accumulators, and enough items to balance threads */
  int64_t upi = (65536 / p.ldo) / (px_per_unit * d->in_bits * b->wb);
  int64_t balance = (p.n_units + 4 * threads - 1) / (4 * threads);
  if (upi > balance) upi = balance;
  if (upi < 1) upi = 1;
  p.units_per_item = (int32_t)upi;
  p.n_items = ((p.n_units + upi - 1) / upi) * p.n_oc;
  p.cap_px = (int32_t)(upi * px_per_unit);

  uint64_t *padded = NULL;
  /* ~0.1 ns per 64-bit popcount step of one channel, ~0.5 ns per accumulator epilogue */
  double acc = (double)p.n_units * px_per_unit * b->nblocks * 8;
  int nt = bw_team(acc * (b->nsteps * d->in_bits * b->wb * 0.1 + 0.5), threads, p.n_items);
  if (b->padded) {
    padded = bw_scratch(7, (size_t)batch * b->hp * b->wp * b->pxw * 8); /* this thread's; workers only read it */
    if (!padded) return BW_E_NOMEM;
    pad_input(b, in, padded, batch, nt);
    p.src = padded;
  } else {
    p.src = in;
  }

  int failed = 0;
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    scratch s;
    int64_t cols = (int64_t)p.cap_px * d->in_bits;
    s.cols = bw_scratch(0, (size_t)cols * sizeof *s.cols);
    s.raw = !b->xnor ? bw_scratch(1, (size_t)(cols * p.ldo * b->wb) * 4) : NULL;
    s.v = bw_scratch(2, (size_t)((int64_t)p.cap_px * p.ldo) * 4);
    s.pool = bw_scratch(3, (size_t)p.ldo * 4);
    s.lv = bw_scratch(4, (size_t)p.ldo * 4);
    s.ustart = bw_scratch(5, (size_t)p.units_per_item * 4);
    s.chain = ch ? bw_scratch(6, bw_chain_scratch_bytes(ch)) : NULL;
    int ok = s.cols && s.v && s.pool && s.lv && s.ustart && (b->xnor || s.raw) && (!ch || s.chain);
    if (!ok) {
#pragma omp atomic write
      failed = 1;
    }
#pragma omp for schedule(dynamic, 1)
    for (int64_t it = 0; it < p.n_items; it++)
      if (ok) run_item(&p, it, &s);
  }
  return failed ? BW_E_NOMEM : BW_OK;
}
