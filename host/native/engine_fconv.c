/*
 * Float convolution and dense layers, bit-exact with reference/float-ops.ts: for every
 * output, acc = 0, acc += w*x over (ky, kx, c) in that order (one rounding for the product,
 * one for the sum), then acc + bias. Vectors run across output channels (weights are
 * transposed to [ky][kx][c][out]), and a tile also covers several output pixels, so every
 * lane performs exactly the reference's sequential sum. No BLAS: a GEMM library reorders
 * the sums, which changes the last bits of the logits.
 *
 * Padded positions are read as 0 from a zero-padded copy instead of being skipped: the
 * product is then +-0 and adding +-0 leaves any accumulator unchanged (an accumulator that
 * starts at +0 can never become -0 under round-to-nearest), so the result is identical.
 *
 * Dense is a 1x1 convolution over a 1 x batch "image" whose pixels are the batch images.
 */
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

struct bw_fconv {
  bw_conv2d_desc d;
  int32_t dense;
  int32_t ocp;  /* out_c rounded up to 16 (a multiple of every ISA's lane count) */
  float *wt;    /* [kh*kw*c][ocp] */
  float *bias;  /* [ocp] or NULL */
};

static bw_fconv *make(const bw_conv2d_desc *d, int dense, const float *weight, const float *bias) {
  bw_fconv *f = calloc(1, sizeof *f);
  if (!f) return NULL;
  f->d = *d;
  f->dense = dense;
  f->ocp = (d->out_c + 15) / 16 * 16;
  int64_t taps = (int64_t)d->kh * d->kw * d->c;
  f->wt = bw_alloc((size_t)(taps * f->ocp) * 4);
  f->bias = bias ? bw_alloc((size_t)f->ocp * 4) : NULL;
  if (!f->wt || (bias && !f->bias)) {
    bw_fconv_free(f);
    return NULL;
  }
  memset(f->wt, 0, (size_t)(taps * f->ocp) * 4);
  for (int64_t o = 0; o < d->out_c; o++)
    for (int64_t t = 0; t < taps; t++) f->wt[t * f->ocp + o] = weight[o * taps + t];
  if (bias) {
    memset(f->bias, 0, (size_t)f->ocp * 4);
    memcpy(f->bias, bias, (size_t)d->out_c * 4);
  }
  return f;
}

bw_fconv *bw_conv2d_create(const bw_conv2d_desc *d, const float *weight, const float *bias) {
  if (!d || !weight) return NULL;
  if (d->h < 1 || d->w < 1 || d->c < 1 || d->out_c < 1 || d->kh < 1 || d->kw < 1 || d->sh < 1 || d->sw < 1) return NULL;
  if (d->ph < 0 || d->pw < 0 || d->ph >= d->kh || d->pw >= d->kw || d->kh > 64 || d->kw > 64) return NULL;
  if (d->h > 65536 || d->w > 65536 || d->c > 65536 || d->out_c > 65536) return NULL;
  int32_t oh = (d->h + 2 * d->ph - d->kh) / d->sh + 1, ow = (d->w + 2 * d->pw - d->kw) / d->sw + 1;
  if (d->h + 2 * d->ph < d->kh || d->w + 2 * d->pw < d->kw || oh != d->out_h || ow != d->out_w) return NULL;
  return make(d, 0, weight, bias);
}

bw_fconv *bw_dense_create(int32_t in_features, int32_t out_features, const float *weight, const float *bias) {
  if (!weight || in_features < 1 || in_features > (1 << 24) || out_features < 1 || out_features > (1 << 24)) return NULL;
  bw_conv2d_desc d = {.h = 1, .w = 1, .c = in_features, .kh = 1, .kw = 1, .sh = 1, .sw = 1, .out_c = out_features,
                      .out_h = 1, .out_w = 1};
  return make(&d, 1, weight, bias);
}

void bw_fconv_free(bw_fconv *f) {
  if (!f) return;
  free(f->wt);
  free(f->bias);
  free(f);
}

/* ---- tiles: PX consecutive output pixels of one row x NV vectors of channels ------------ */

typedef struct geo {
  int64_t wp, c, sw;  /* input row width in pixels, channels, horizontal stride */
  int32_t kh, kw;
  const float *wt;
  int64_t ocp;
  const float *bias;
  int32_t out_c;
} geo;

#define INLINE static inline __attribute__((always_inline))

/*
 * One ISA's tile and row driver, written once with that ISA's native vector type (generic
 * vectors wider than the hardware compile badly). x0: input pixel (oy*sh, ox*sw) of the
 * first output pixel; y: its output at channel o0.
 */
#define DEF_ISA(SUF, ATTR, VT, LANES, PXM, NVM, LOAD, SET1, ADD, MUL, ZERO)                         \
  ATTR INLINE void tile_##SUF(const geo *g, const float *x0, float *y, int64_t o0, const int PX,      \
                              const int NV) {                                                       \
    VT acc[PXM][NVM];                                                                               \
    for (int p = 0; p < PX; p++)                                                                    \
      for (int v = 0; v < NV; v++) acc[p][v] = ZERO();                                              \
    const float *w = g->wt + o0;                                                                    \
    for (int ky = 0; ky < g->kh; ky++)                                                              \
      for (int kx = 0; kx < g->kw; kx++) {                                                          \
        const float *xr = x0 + (ky * g->wp + kx) * g->c;                                            \
        for (int64_t c = 0; c < g->c; c++, w += g->ocp) {                                           \
          VT wv[NVM];                                                                               \
          for (int v = 0; v < NV; v++) wv[v] = LOAD(w + LANES * v);                                 \
          for (int p = 0; p < PX; p++) {                                                            \
            VT xb = SET1(xr[p * g->sw * g->c + c]);                                                 \
            for (int v = 0; v < NV; v++) acc[p][v] = ADD(acc[p][v], MUL(wv[v], xb));                \
          }                                                                                         \
        }                                                                                           \
      }                                                                                             \
    for (int v = 0; v < NV; v++) {                                                                  \
      if (g->bias) {                                                                                \
        VT b = LOAD(g->bias + o0 + LANES * v);                                                      \
        for (int p = 0; p < PX; p++) acc[p][v] = ADD(acc[p][v], b);                                 \
      }                                                                                             \
      int64_t n = g->out_c - (o0 + LANES * v);                                                      \
      if (n > LANES) n = LANES;                                                                     \
      for (int p = 0; p < PX; p++) memcpy(y + p * (int64_t)g->out_c + LANES * v, &acc[p][v], (size_t)n * 4); \
    }                                                                                               \
  }                                                                                                 \
  ATTR static void row_##SUF(const geo *g, const float *xrow, float *yrow, int64_t ox0, int64_t ox1,  \
                             int64_t o0, int64_t o1) {                                              \
    for (int64_t o = o0; o < o1;) {                                                                 \
      int nv = (o1 - o) >= LANES * NVM ? NVM : 1;                                                   \
      int64_t ox = ox0;                                                                             \
      for (; ox + PXM <= ox1; ox += PXM) {                                                          \
        const float *x0 = xrow + ox * g->sw * g->c;                                                 \
        float *y = yrow + ox * g->out_c + o;                                                        \
        if (nv == NVM) tile_##SUF(g, x0, y, o, PXM, NVM);                                           \
        else tile_##SUF(g, x0, y, o, PXM, 1);                                                       \
      }                                                                                             \
      for (; ox < ox1; ox++) {                                                                      \
        const float *x0 = xrow + ox * g->sw * g->c;                                                 \
        float *y = yrow + ox * g->out_c + o;                                                        \
        if (nv == NVM) tile_##SUF(g, x0, y, o, 1, NVM);                                             \
        else tile_##SUF(g, x0, y, o, 1, 1);                                                         \
      }                                                                                             \
      o += LANES * nv;                                                                              \
    }                                                                                               \
  }

/* register budgets: AVX-512 32 zmm (16 accumulators), AVX2 and SSE2 16 registers (8) */
DEF_ISA(avx512, __attribute__((target("avx512f"))), __m512, 16, 4, 4, _mm512_load_ps, _mm512_set1_ps, _mm512_add_ps,
        _mm512_mul_ps, _mm512_setzero_ps)
DEF_ISA(avx2, __attribute__((target("avx2"))), __m256, 8, 4, 2, _mm256_load_ps, _mm256_set1_ps, _mm256_add_ps,
        _mm256_mul_ps, _mm256_setzero_ps)
DEF_ISA(sse2, , __m128, 4, 4, 2, _mm_load_ps, _mm_set1_ps, _mm_add_ps, _mm_mul_ps, _mm_setzero_ps)

#define OX_CHUNK 64

int bw_fconv_run(const bw_fconv *f, int32_t batch, const float *x, int64_t x_len, float *y, int64_t y_len,
                 int32_t threads) {
  if (!f || !x || !y || batch < 1 || threads < 1) return BW_E_ARG;
  bw_conv2d_desc d = f->d;
  if (x_len != (int64_t)batch * d.h * d.w * d.c) return BW_E_SIZE;
  if (y_len != (int64_t)batch * d.out_h * d.out_w * d.out_c) return BW_E_SIZE;
  if (f->dense) { /* the batch becomes one row of pixels */
    d.w = d.out_w = batch;
    batch = 1;
  }
  const int64_t hp = d.h + 2 * d.ph, wp = d.w + 2 * d.pw;
  float *padded = NULL;
  const float *src = x;
  if (d.ph || d.pw) {
    padded = bw_scratch(7, (size_t)((int64_t)batch * hp * wp * d.c) * 4); /* workers only read it */
    if (!padded) return BW_E_NOMEM;
    memset(padded, 0, (size_t)((int64_t)batch * hp * wp * d.c) * 4);
    for (int64_t r = 0; r < (int64_t)batch * d.h; r++) {
      int64_t n = r / d.h, iy = r % d.h;
      memcpy(padded + ((n * hp + iy + d.ph) * wp + d.pw) * d.c, x + r * d.w * d.c, (size_t)(d.w * d.c) * 4);
    }
    src = padded;
  }
  geo g = {.wp = wp, .c = d.c, .sw = d.sw, .kh = d.kh, .kw = d.kw, .wt = f->wt, .ocp = f->ocp, .bias = f->bias,
           .out_c = d.out_c};
  /* items: (row, ox chunk, 64-channel group); each writes its own outputs */
  const int64_t rows = (int64_t)batch * d.out_h;
  const int64_t nox = (d.out_w + OX_CHUNK - 1) / OX_CHUNK;
  const int64_t noc = (d.out_c + 63) / 64;
  const int64_t items = rows * nox * noc;
  const int isa = bw_engine_isa();
  const int nt = bw_team((double)rows * d.out_w * d.out_c * d.kh * d.kw * d.c * 0.05, threads, items);
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(dynamic, 1)
  for (int64_t it = 0; it < items; it++) {
    int64_t r = it / (nox * noc), rest = it % (nox * noc);
    int64_t ox0 = (rest / noc) * OX_CHUNK, o0 = (rest % noc) * 64;
    int64_t ox1 = ox0 + OX_CHUNK < d.out_w ? ox0 + OX_CHUNK : d.out_w;
    int64_t o1 = o0 + 64 < d.out_c ? o0 + 64 : d.out_c;
    int64_t n = r / d.out_h, oy = r % d.out_h;
    const float *xrow = src + (n * hp + oy * d.sh) * wp * d.c;
    float *yrow = y + r * d.out_w * d.out_c;
    if (isa == BW_ISA_AVX512) row_avx512(&g, xrow, yrow, ox0, ox1, o0, o1);
    else if (isa == BW_ISA_AVX2) row_avx2(&g, xrow, yrow, ox0, ox1, o0, o1);
    else row_sse2(&g, xrow, yrow, ox0, ox1, o0, o1);
  }
  return BW_OK;
}
