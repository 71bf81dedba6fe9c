/*
 * Float convolution and dense layers, bit-exact with reference/float-ops.ts: for every
 * output, acc = 0, acc = fma(w, x, acc) over (ky, kx, c) in that order (a fused
 * multiply-add: one rounding per term, what FMA instructions and C's fmaf do), then
 * acc + bias. Vectors run across output channels (weights are transposed to
 * [ky][kx][c][out]), and a tile also covers several output pixels, so every lane performs
 * exactly the reference's sequential sum. No BLAS: a GEMM library reorders the sums, which
 * changes the last bits of the logits.
 *
 * Padded positions are read as 0 from a zero-padded copy instead of being skipped: the
 * product is then +-0 and fma(w, 0, acc) = acc for every acc (an accumulator that starts
 * at +0 can never become -0 under round-to-nearest), so the result is identical.
 *
 * Fusion (bw_fconv_fuse): element-wise ops on the input (a BatchNorm before the conv) run
 * while the padded copy is made, and ops on the output (BatchNorm, activation, quantize)
 * run on each tile while it is in cache, so the tensors between them never exist. They
 * are the same per-element functions as engine_eltwise.c's, hence the same bits.
 *
 * Dense is a 1x1 convolution over a 1 x batch "image" whose pixels are the batch images.
 *
 * Grouped convs (groups > 1): output o sums over the c/groups input channels of its group
 * only, in the same (ky, kx, c) order. Each group is a small conv of its own (weights
 * [group][ky][kx][c][out of the group]) whose kernel row is kw runs of c/groups channels
 * instead of one run of kw*c. A depthwise conv (one input channel per group, few outputs
 * each) instead runs vectors across all output channels at once: lane o multiplies its
 * own weight by input channel o/m (m outputs per group; for m > 1 the padded copy repeats
 * each input channel m times), a kh*kw-term fma chain per lane.
 */
#include <immintrin.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

/* A fused element-wise op: BATCHNORM (per-channel parameters), ACTIVATION or QUANTIZE. */
typedef struct fused_op {
  int32_t kind, param, sgn;
  float *mean, *scale, *beta; /* one allocation (mean), channels values each */
} fused_op;

#define MAX_FUSED 8

struct bw_fconv {
  bw_conv2d_desc d;
  int32_t dense;
  int32_t icg, ocg; /* input / output channels of one group */
  int32_t dw;       /* depthwise kernel: vectors across every group's outputs */
  int32_t ng, no;   /* weight layout: groups and outputs per group (dw: 1 and out_c) */
  int32_t ocp;      /* no rounded up to 16 (a multiple of every ISA's lane count) */
  float *wt;        /* [ng][kh*kw*icg][ocp] */
  float *bias;      /* [ng][ocp] or NULL */
  int32_t npre, npost;
  fused_op pre[MAX_FUSED], post[MAX_FUSED]; /* on the input (c channels), on the output (out_c) */
  int32_t has_pool, nafter, out_bits, out_sgn;
  bw_pool_desc pool;                         /* on the output after post (h, w, c = out_h, out_w, out_c) */
  fused_op after[MAX_FUSED];                 /* on the pooled map, then binarize when out_bits >= 1 */
};

static bw_fconv *make(const bw_conv2d_desc *d, int dense, const float *weight, const float *bias) {
  bw_fconv *f = calloc(1, sizeof *f);
  if (!f) return NULL;
  f->d = *d;
  f->dense = dense;
  f->icg = d->c / d->groups;
  f->ocg = d->out_c / d->groups;
  /* many outputs per group fill vectors within the group (the input value is broadcast) */
  f->dw = d->groups > 1 && f->icg == 1 && f->ocg < 8;
  f->ng = f->dw ? 1 : d->groups;
  f->no = f->dw ? d->out_c : f->ocg;
  f->ocp = (f->no + 15) / 16 * 16;
  const int64_t taps = (int64_t)d->kh * d->kw * f->icg, wlen = f->ng * taps * f->ocp;
  f->wt = bw_alloc((size_t)wlen * 4);
  f->bias = bias ? bw_alloc((size_t)(f->ng * f->ocp) * 4) : NULL;
  if (!f->wt || (bias && !f->bias)) {
    bw_fconv_free(f);
    return NULL;
  }
  memset(f->wt, 0, (size_t)wlen * 4);
  if (bias) memset(f->bias, 0, (size_t)(f->ng * f->ocp) * 4);
  for (int64_t o = 0; o < d->out_c; o++) {
    const int64_t lg = o / f->no, j = o % f->no;
    for (int64_t t = 0; t < taps; t++) f->wt[(lg * taps + t) * f->ocp + j] = weight[o * taps + t];
    if (bias) f->bias[lg * f->ocp + j] = bias[o];
  }
  return f;
}

bw_fconv *bw_conv2d_create(const bw_conv2d_desc *d, const float *weight, const float *bias) {
  if (!d || !weight) return NULL;
  if (d->h < 1 || d->w < 1 || d->c < 1 || d->out_c < 1 || d->kh < 1 || d->kw < 1 || d->sh < 1 || d->sw < 1) return NULL;
  if (d->ph < 0 || d->pw < 0 || d->ph >= d->kh || d->pw >= d->kw || d->kh > 64 || d->kw > 64) return NULL;
  if (d->h > 65536 || d->w > 65536 || d->c > 65536 || d->out_c > 65536) return NULL;
  if (d->groups < 1 || d->c % d->groups || d->out_c % d->groups) return NULL;
  int32_t oh = (d->h + 2 * d->ph - d->kh) / d->sh + 1, ow = (d->w + 2 * d->pw - d->kw) / d->sw + 1;
  if (d->h + 2 * d->ph < d->kh || d->w + 2 * d->pw < d->kw || oh != d->out_h || ow != d->out_w) return NULL;
  return make(d, 0, weight, bias);
}

bw_fconv *bw_dense_create(int32_t in_features, int32_t out_features, const float *weight, const float *bias) {
  if (!weight || in_features < 1 || in_features > (1 << 24) || out_features < 1 || out_features > (1 << 24)) return NULL;
  bw_conv2d_desc d = {.h = 1, .w = 1, .c = in_features, .kh = 1, .kw = 1, .sh = 1, .sw = 1, .out_c = out_features,
                      .out_h = 1, .out_w = 1, .groups = 1};
  return make(&d, 1, weight, bias);
}

/* the parameters copy_ops allocated (one block per BatchNorm, NULL otherwise) */
static void free_ops(fused_op *ops, int32_t n) {
  for (int32_t i = 0; i < n; i++) {
    free(ops[i].mean);
    ops[i].mean = NULL;
  }
}

void bw_fconv_free(bw_fconv *f) {
  if (!f) return;
  free_ops(f->pre, f->npre);
  free_ops(f->post, f->npost);
  free_ops(f->after, f->nafter);
  free(f->wt);
  free(f->bias);
  free(f);
}

__attribute__((target("avx512f"))) static int64_t fma_avx512(const float *a, const float *b, const float *c, float *y,
                                                              int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps(y + i, _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), _mm512_loadu_ps(c + i)));
  return i;
}
__attribute__((target("avx2,fma"))) static int64_t fma_avx2(const float *a, const float *b, const float *c, float *y,
                                                             int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), _mm256_loadu_ps(c + i)));
  return i;
}

static int copy_ops(fused_op *dst, const bw_ew_op *src, int32_t n, int32_t channels) {
  for (int32_t i = 0; i < n; i++) {
    const bw_ew_op *o = &src[i];
    fused_op *t = &dst[i];
    memset(t, 0, sizeof *t);
    t->kind = o->kind;
    t->param = o->param;
    t->sgn = o->sgn;
    switch (o->kind) {
    case BW_EW_BATCHNORM:
      if (!o->mean || !o->scale || !o->beta) return 0;
      t->mean = malloc((size_t)channels * 3 * sizeof(float));
      if (!t->mean) return 0;
      t->scale = t->mean + channels;
      t->beta = t->scale + channels;
      memcpy(t->mean, o->mean, (size_t)channels * 4);
      memcpy(t->scale, o->scale, (size_t)channels * 4);
      memcpy(t->beta, o->beta, (size_t)channels * 4);
      break;
    case BW_EW_ACTIVATION:
      if (o->param < 0 || o->param > 2) return 0;
      break;
    case BW_EW_QUANTIZE:
      if (o->param < 1 || o->param > BW_MAX_BITS || (o->sgn != 0 && o->sgn != 1) || (o->sgn && o->param < 2)) return 0;
      break;
    default:
      return 0;
    }
  }
  return 1;
}

int bw_fconv_fuse(bw_fconv *f, const bw_ew_op *pre, int32_t npre, const bw_ew_op *post, int32_t npost) {
  if (!f || npre < 0 || npost < 0 || npre > MAX_FUSED || npost > MAX_FUSED || (npre && !pre) || (npost && !post))
    return BW_E_ARG;
  if (f->npre || f->npost || f->has_pool || (npre && f->dense)) return BW_E_ARG; /* once; dense inputs are flattened */
  /* counted as they are copied, so bw_fconv_free releases a partial copy */
  int ok = copy_ops(f->pre, pre, npre, f->d.c);
  f->npre = npre;
  ok = ok && copy_ops(f->post, post, npost, f->d.out_c);
  f->npost = npost;
  if (ok) return BW_OK;
  free_ops(f->pre, f->npre);
  free_ops(f->post, f->npost);
  f->npre = f->npost = 0;
  return BW_E_ARG;
}

/* ops in order on n values (src -> dst, then in place): whole pixels of `channels`
   channels from channel c0 on (n a multiple of channels) */
static void apply_ops(int isa, const fused_op *ops, int32_t nops, const float *src, float *dst, int64_t n, int32_t channels,
                      int32_t c0) {
  for (int32_t i = 0; i < nops; i++, src = dst) {
    const fused_op *o = &ops[i];
    if (o->kind == BW_EW_BATCHNORM)
      bw_span_batchnorm(isa, src, dst, n, channels, o->mean + c0, o->scale + c0, o->beta + c0);
    else if (o->kind == BW_EW_ACTIVATION) bw_span_activation(isa, o->param, src, dst, n);
    else bw_span_quantize(isa, src, dst, n, o->param, o->sgn);
  }
  if (nops == 0 && src != dst) memcpy(dst, src, (size_t)n * 4);
}

int bw_fconv_fuse_pool(bw_fconv *f, const bw_pool_desc *pool, const bw_ew_op *after, int32_t nafter, int32_t out_bits,
                       int32_t out_sgn) {
  if (!f || f->dense || f->has_pool || !pool || nafter < 0 || nafter > MAX_FUSED || (nafter && !after)) return BW_E_ARG;
  if (out_bits < 0 || out_bits > BW_MAX_BITS || (out_sgn != 0 && out_sgn != 1) || (out_sgn && out_bits < 2)) return BW_E_ARG;
  if (pool->h != f->d.out_h || pool->w != f->d.out_w || pool->c != f->d.out_c || !bw_pool_valid(pool)) return BW_E_ARG;
  if (!copy_ops(f->after, after, nafter, f->d.out_c)) {
    free_ops(f->after, nafter); /* entries copy_ops did not reach are still zero (calloc) */
    return BW_E_ARG;
  }
  f->nafter = nafter;
  f->pool = *pool;
  f->out_bits = out_bits;
  f->out_sgn = out_sgn;
  f->has_pool = 1;
  return BW_OK;
}

int bw_fma_f32(const float *a, const float *b, const float *c, float *y, int64_t n) {
  if (!a || !b || !c || !y || n < 0) return BW_E_ARG;
  const int isa = bw_engine_isa();
  int64_t i = 0;
  if (isa == BW_ISA_AVX512) i = fma_avx512(a, b, c, y, n);
  else if (isa == BW_ISA_AVX2) i = fma_avx2(a, b, c, y, n);
  for (; i < n; i++) y[i] = fmaf(a[i], b[i], c[i]);
  return BW_OK;
}

/* ---- tiles: PX consecutive output pixels of one row x NV vectors of channels ------------ */

typedef struct geo {
  int64_t wp, c, sw;  /* input row width in pixels, channels per pixel, horizontal stride */
  int32_t kh, kw;
  /* a kernel row is `runs` runs of `run` contiguous steps, `c` apart: one run of kw*c for a
     dense conv ((kx, c) are contiguous in NHWC), kw runs of c/groups for a grouped one */
  int32_t runs;
  int64_t run;
  const float *wt;     /* of the group */
  int64_t ocp;
  const float *bias;   /* of the group, or NULL */
  int32_t out_c;       /* outputs of the group */
  int64_t ystride;     /* output pixel stride (every group's outputs) */
} geo;

#define INLINE static inline __attribute__((always_inline))

/*
 * One ISA's tile and row driver, written once with that ISA's native vector type (generic
 * vectors wider than the hardware compile badly). x0: input pixel (oy*sh, ox*sw) of the
 * first output pixel; y: its output at channel o0.
 */
/* a tile's bias and store: acc[p][v] (+ bias) to output pixel p, channels o0 + LANES*v.. of the group */
#define STORE_TILE(SUF, VT, LANES, LOAD, ADD)                                                       \
  for (int v = 0; v < NV; v++) {                                                                    \
    if (g->bias) {                                                                                  \
      VT b = LOAD(g->bias + o0 + LANES * v);                                                        \
      for (int p = 0; p < PX; p++) acc[p][v] = ADD(acc[p][v], b);                                   \
    }                                                                                               \
    int64_t n = g->out_c - (o0 + LANES * v);                                                        \
    if (n > LANES) n = LANES;                                                                       \
    for (int p = 0; p < PX; p++) memcpy(y + p * g->ystride + LANES * v, &acc[p][v], (size_t)n * 4); \
  }

/* outputs [o0, o1) of the group at output pixels [ox0, ox1) of one row, by tiles */
#define DEF_ROW(NAME, TILE, ATTR, LANES, PXM, NVM)                                                  \
  ATTR static void NAME(const geo *g, const float *xrow, float *yrow, int64_t ox0, int64_t ox1, int64_t o0, \
                        int64_t o1) {                                                               \
    for (int64_t o = o0; o < o1;) {                                                                 \
      int nv = (o1 - o) >= LANES * NVM ? NVM : 1;                                                   \
      int64_t ox = ox0;                                                                             \
      for (; ox + PXM <= ox1; ox += PXM) {                                                          \
        const float *x0 = xrow + ox * g->sw * g->c;                                                 \
        float *y = yrow + ox * g->ystride + o;                                                      \
        if (nv == NVM) TILE(g, x0, y, o, PXM, NVM);                                                 \
        else TILE(g, x0, y, o, PXM, 1);                                                             \
      }                                                                                             \
      for (; ox < ox1; ox++) {                                                                      \
        const float *x0 = xrow + ox * g->sw * g->c;                                                 \
        float *y = yrow + ox * g->ystride + o;                                                      \
        if (nv == NVM) TILE(g, x0, y, o, 1, NVM);                                                   \
        else TILE(g, x0, y, o, 1, 1);                                                               \
      }                                                                                             \
      o += LANES * nv;                                                                              \
    }                                                                                               \
  }

#define DEF_ISA(SUF, ATTR, VT, LANES, PXM, NVM, LOAD, LOADN, SET1, ADD, FMADD, ZERO)                \
  ATTR INLINE void tile_##SUF(const geo *g, const float *x0, float *y, int64_t o0, const int PX,      \
                              const int NV) {                                                       \
    VT acc[PXM][NVM];                                                                               \
    for (int p = 0; p < PX; p++)                                                                    \
      for (int v = 0; v < NV; v++) acc[p][v] = ZERO();                                              \
    const float *w = g->wt + o0;                                                                    \
    const int64_t pstep = (int64_t)g->sw * g->c;                                                    \
    for (int ky = 0; ky < g->kh; ky++) {                                                            \
      for (int q = 0; q < g->runs; q++) {                                                           \
        const float *xr = x0 + ((int64_t)ky * g->wp + q) * g->c;                                    \
        for (int64_t j = 0; j < g->run; j++, w += g->ocp) {                                         \
          VT wv[NVM];                                                                               \
          for (int v = 0; v < NV; v++) wv[v] = LOAD(w + LANES * v);                                 \
          for (int p = 0; p < PX; p++) {                                                            \
            VT xb = SET1(xr[p * pstep + j]);                                                        \
            for (int v = 0; v < NV; v++) acc[p][v] = FMADD(wv[v], xb, acc[p][v]);                  \
          }                                                                                         \
        }                                                                                           \
      }                                                                                             \
    }                                                                                               \
    STORE_TILE(SUF, VT, LANES, LOAD, ADD)                                                           \
  }                                                                                                 \
  /* depthwise: lane o is channel o of the input (repeated per output, see the top) */            \
  ATTR INLINE void dwtile_##SUF(const geo *g, const float *x0, float *y, int64_t o0, const int PX,  \
                                const int NV) {                                                     \
    VT acc[PXM][NVM];                                                                               \
    int nl[NVM];                                                                                    \
    for (int v = 0; v < NV; v++) {                                                                  \
      const int64_t n = g->out_c - (o0 + LANES * v);                                                \
      nl[v] = n > LANES ? LANES : (int)n;                                                           \
    }                                                                                               \
    for (int p = 0; p < PX; p++)                                                                    \
      for (int v = 0; v < NV; v++) acc[p][v] = ZERO();                                              \
    const float *w = g->wt + o0;                                                                    \
    const int64_t pstep = (int64_t)g->sw * g->c;                                                    \
    for (int ky = 0; ky < g->kh; ky++)                                                              \
      for (int kx = 0; kx < g->kw; kx++, w += g->ocp) {                                             \
        const float *xt = x0 + ((int64_t)ky * g->wp + kx) * g->c + o0;                              \
        VT wv[NVM];                                                                                 \
        for (int v = 0; v < NV; v++) wv[v] = LOAD(w + LANES * v);                                   \
        for (int p = 0; p < PX; p++)                                                                \
          for (int v = 0; v < NV; v++)                                                              \
            acc[p][v] = FMADD(wv[v], LOADN(xt + p * pstep + LANES * v, nl[v]), acc[p][v]);          \
      }                                                                                             \
    STORE_TILE(SUF, VT, LANES, LOAD, ADD)                                                           \
  }                                                                                                 \
  DEF_ROW(row_##SUF, tile_##SUF, ATTR, LANES, PXM, NVM)                                             \
  DEF_ROW(dwrow_##SUF, dwtile_##SUF, ATTR, LANES, PXM, NVM)

/* scalar level: 4 floats per "vector", each lane through fmaf (correctly rounded in
   glibc with or without an FMA unit); slow, but only forced levels and old CPUs use it */
typedef struct f4 {
  float v[4];
} f4;
static inline f4 f4_load(const float *p) {
  f4 r;
  memcpy(r.v, p, sizeof r.v);
  return r;
}
static inline f4 f4_set1(float x) { return (f4){{x, x, x, x}}; }
static inline f4 f4_add(f4 a, f4 b) { return (f4){{a.v[0] + b.v[0], a.v[1] + b.v[1], a.v[2] + b.v[2], a.v[3] + b.v[3]}}; }
static inline f4 f4_fmadd(f4 a, f4 b, f4 c) {
  return (f4){{fmaf(a.v[0], b.v[0], c.v[0]), fmaf(a.v[1], b.v[1], c.v[1]), fmaf(a.v[2], b.v[2], c.v[2]),
               fmaf(a.v[3], b.v[3], c.v[3])}};
}
static inline f4 f4_zero(void) { return f4_set1(0.0f); }
/* the first n (<= lanes) floats at p, the other lanes 0: never reads past a tensor's end */
static inline f4 f4_loadn(const float *p, int n) {
  f4 r = {{0, 0, 0, 0}};
  memcpy(r.v, p, (size_t)n * 4);
  return r;
}
__attribute__((target("avx512f"))) static inline __m512 loadn_avx512(const float *p, int n) {
  return n == 16 ? _mm512_loadu_ps(p) : _mm512_maskz_loadu_ps((__mmask16)((1u << n) - 1), p);
}
static const int32_t MASK8[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
__attribute__((target("avx2,fma"))) static inline __m256 loadn_avx2(const float *p, int n) {
  return n == 8 ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, _mm256_loadu_si256((const __m256i *)(MASK8 + 8 - n)));
}

/* register budgets: AVX-512 32 zmm (16 accumulators), AVX2 16 ymm (8); the AVX2 level
   includes FMA (cpu.c) */
DEF_ISA(avx512, __attribute__((target("avx512f"))), __m512, 16, 4, 4, _mm512_load_ps, loadn_avx512, _mm512_set1_ps,
        _mm512_add_ps, _mm512_fmadd_ps, _mm512_setzero_ps)
DEF_ISA(avx2, __attribute__((target("avx2,fma"))), __m256, 8, 4, 2, _mm256_load_ps, loadn_avx2, _mm256_set1_ps,
        _mm256_add_ps, _mm256_fmadd_ps, _mm256_setzero_ps)
DEF_ISA(scalar, , f4, 4, 4, 2, f4_load, f4_loadn, f4_set1, f4_add, f4_fmadd, f4_zero)

/*
 * Outputs [o0, o1) of layout group lg (f->no per group) at output pixels [ox0, ox1) of one
 * row; xrow / yrow: the row's first pixel, all channels. g: the geometry of group 0.
 */
static void conv_row(const bw_fconv *f, const geo *g, int isa, const float *xrow, float *yrow, int64_t ox0, int64_t ox1,
                     int64_t lg, int64_t o0, int64_t o1) {
  if (f->dw) {
    if (isa == BW_ISA_AVX512) dwrow_avx512(g, xrow, yrow, ox0, ox1, o0, o1);
    else if (isa == BW_ISA_AVX2) dwrow_avx2(g, xrow, yrow, ox0, ox1, o0, o1);
    else dwrow_scalar(g, xrow, yrow, ox0, ox1, o0, o1);
    return;
  }
  geo gg = *g;
  if (lg) {
    gg.wt += lg * (int64_t)f->d.kh * f->d.kw * f->icg * f->ocp;
    if (gg.bias) gg.bias += lg * f->ocp;
    xrow += lg * f->icg;
    yrow += lg * f->ocg;
  }
  if (isa == BW_ISA_AVX512) row_avx512(&gg, xrow, yrow, ox0, ox1, o0, o1);
  else if (isa == BW_ISA_AVX2) row_avx2(&gg, xrow, yrow, ox0, ox1, o0, o1);
  else row_scalar(&gg, xrow, yrow, ox0, ox1, o0, o1);
}

#define OX_CHUNK 64

/*
 * Conv, post ops, pool, after ops (and binarize) by bands of pooled rows: a band computes
 * the conv rows its windows cover into this thread's buffer (whole rows, every channel),
 * runs the post ops on them, pools each output row from them, runs the after ops on it
 * and writes it (as floats, or packed into bit-planes). Bands never cross images.
 */
static int run_pooled(const bw_fconv *f, const geo *g, const float *src, int64_t hp, int64_t wp, int32_t batch, float *y,
                      int32_t threads, int isa) {
  const bw_conv2d_desc *d = &f->d;
  const bw_pool_desc *pd = &f->pool;
  const int64_t oc = d->out_c, words = (oc + 63) / 64;
  const int64_t rows_img = pd->out_h;
  /* bands of ~8 pooled rows, fewer when the batch would not give each thread several */
  int64_t band = ((int64_t)batch * rows_img + 4 * threads - 1) / (4 * threads);
  if (band > 8) band = 8;
  if (band < 1) band = 1;
  const int64_t bands_img = (rows_img + band - 1) / band, items = (int64_t)batch * bands_img;
  const int64_t max_rows = (band - 1) * pd->sh + pd->kh; /* conv rows one band can need */
  const double work = (double)batch * d->out_h * d->out_w * oc * d->kh * d->kw * f->icg * 0.05;
  const int nt = bw_team(work, threads, items);
  /* whole images per work item when there are enough of them, so that a thread runs an
     image's bands in order and keeps the conv rows two bands share (1 in 17 at 8 pooled rows
     of a 3x3 stride-2 pool) instead of computing them again */
  const int64_t chunk = batch >= 2 * nt ? bands_img : 1;
  const int64_t row_len = d->out_w * oc;
  int failed = 0;
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    float *rows = bw_scratch(0, (size_t)(max_rows * row_len) * 4);
    float *prow = bw_scratch(1, (size_t)(pd->out_w * oc) * 4);
    if (!rows || !prow) {
#pragma omp atomic write
      failed = 1;
    }
    int64_t pn = -1, pr0 = 0, pr1 = 0; /* image and conv rows this thread's buffer holds */
#pragma omp for schedule(dynamic, chunk)
    for (int64_t it = 0; it < items; it++) {
      if (!rows || !prow) continue;
      const int64_t n = it / bands_img, py0 = (it % bands_img) * band;
      const int64_t py1 = py0 + band < rows_img ? py0 + band : rows_img;
      /* conv rows [r0, r1): every window of pooled rows [py0, py1), clipped to the map */
      int64_t r0 = py0 * pd->sh - pd->ph, r1 = (py1 - 1) * pd->sh - pd->ph + pd->kh;
      if (r0 < 0) r0 = 0;
      if (r1 > d->out_h) r1 = d->out_h;
      int64_t kept = 0; /* rows [r0, r0 + kept) are in the buffer from this thread's last band */
      if (n == pn && r0 >= pr0 && r0 < pr1) {
        kept = (pr1 < r1 ? pr1 : r1) - r0;
        memmove(rows, rows + (r0 - pr0) * row_len, (size_t)(kept * row_len) * 4);
      }
      pn = n, pr0 = r0, pr1 = r1;
      for (int64_t r = r0 + kept; r < r1; r++) {
        const float *xrow = src + (n * hp + r * d->sh) * wp * g->c;
        float *yrow = rows + (r - r0) * d->out_w * oc;
        for (int64_t lg = 0; lg < f->ng; lg++) conv_row(f, g, isa, xrow, yrow, 0, d->out_w, lg, 0, f->no);
        apply_ops(isa, f->post, f->npost, yrow, yrow, d->out_w * oc, (int32_t)oc, 0);
      }
      for (int64_t py = py0; py < py1; py++) {
        const int64_t opx = (n * rows_img + py) * pd->out_w; /* first output pixel of the row */
        float *dst = f->out_bits ? prow : y + opx * oc;
        bw_pool_out_row(isa, pd, rows, r0, py, dst);
        apply_ops(isa, f->after, f->nafter, dst, dst, pd->out_w * oc, (int32_t)oc, 0);
        if (f->out_bits)
          bw_span_binarize(isa, dst, pd->out_w, (int32_t)oc, f->out_bits, f->out_sgn,
                           (uint64_t *)(void *)y + opx * f->out_bits * words);
      }
    }
  }
  return failed ? BW_E_NOMEM : BW_OK;
}

int bw_fconv_run(const bw_fconv *f, int32_t batch, const float *x, int64_t x_len, float *y, int64_t y_len,
                 int32_t threads) {
  if (!f || !x || !y || batch < 1 || threads < 1) return BW_E_ARG;
  bw_conv2d_desc d = f->d;
  if (x_len != (int64_t)batch * d.h * d.w * d.c) return BW_E_SIZE;
  const int64_t words = (d.out_c + 63) / 64;
  if (f->has_pool) {
    const int64_t px = (int64_t)batch * f->pool.out_h * f->pool.out_w;
    if (y_len != (f->out_bits ? px * f->out_bits * words : px * d.out_c)) return BW_E_SIZE;
  } else if (y_len != (int64_t)batch * d.out_h * d.out_w * d.out_c) {
    return BW_E_SIZE;
  }
  if (f->dense) { /* the batch becomes one row of pixels */
    d.w = d.out_w = batch;
    batch = 1;
  }
  const int64_t hp = d.h + 2 * d.ph, wp = d.w + 2 * d.pw;
  const int isa = bw_engine_isa();
  /* a depthwise conv with m > 1 outputs per group reads input channel o/m in lane o: the
     copy repeats each channel m times (xc channels per pixel) */
  const int64_t m = f->dw ? f->ocg : 1, xc = d.c * m;
  const float *src = x;
  if (d.ph || d.pw || f->npre || m > 1) {
    /* the padded (pre-op, repeated) copy of the input; workers only read it */
    float *padded = bw_scratch(7, (size_t)((int64_t)batch * hp * wp * xc) * 4);
    if (!padded) return BW_E_NOMEM;
    const int64_t in_rows = (int64_t)batch * hp;
    const int ct = bw_team((double)in_rows * wp * xc * (0.3 + 1.0 * f->npre), threads, in_rows);
    int failed = 0;
#pragma omp parallel for num_threads(ct) if (ct > 1) schedule(dynamic, 8)
    for (int64_t r = 0; r < in_rows; r++) {
      int64_t n = r / hp, py = r % hp, iy = py - d.ph;
      float *dst = padded + r * wp * xc;
      if (iy < 0 || iy >= d.h) {
        memset(dst, 0, (size_t)(wp * xc) * 4);
        continue;
      }
      memset(dst, 0, (size_t)(d.pw * xc) * 4);
      memset(dst + (d.pw + d.w) * xc, 0, (size_t)(d.pw * xc) * 4);
      const float *row = x + (n * d.h + iy) * d.w * d.c;
      if (m == 1) {
        apply_ops(isa, f->pre, f->npre, row, dst + d.pw * d.c, d.w * d.c, d.c, 0);
        continue;
      }
      float *tmp = f->npre ? bw_scratch(2, (size_t)(d.w * d.c) * 4) : NULL;
      if (f->npre && !tmp) {
#pragma omp atomic write
        failed = 1;
        continue;
      }
      if (f->npre) row = (apply_ops(isa, f->pre, f->npre, row, tmp, d.w * d.c, d.c, 0), tmp);
      float *o = dst + d.pw * xc;
      for (int64_t i = 0; i < d.w * d.c; i++)
        for (int64_t j = 0; j < m; j++) *o++ = row[i];
    }
    if (failed) return BW_E_NOMEM;
    src = padded;
  }
  geo g = {.wp = wp, .c = xc, .sw = d.sw, .kh = d.kh, .kw = d.kw, .wt = f->wt, .ocp = f->ocp, .bias = f->bias,
           .out_c = f->no, .ystride = d.out_c, .runs = f->d.groups > 1 ? d.kw : 1,
           .run = f->d.groups > 1 ? f->icg : (int64_t)d.kw * d.c};
  if (f->has_pool) return run_pooled(f, &g, src, hp, wp, batch, y, threads, isa);
  /* items: (row, ox chunk, group of the weight layout, 64-channel block); each writes its own outputs */
  const int64_t rows = (int64_t)batch * d.out_h;
  const int64_t nox = (d.out_w + OX_CHUNK - 1) / OX_CHUNK;
  const int64_t nblk = (f->no + 63) / 64, noc = f->ng * nblk;
  const int64_t items = rows * nox * noc;
  /* ~0.05 ns per multiply-add; a dense layer at a small batch is bound by streaming its
     weights instead (~0.1 ns per byte), which a second core also speeds up */
  const double macs_ns = (double)rows * d.out_w * d.out_c * d.kh * d.kw * f->icg * 0.05;
  const double weight_ns = (double)d.kh * d.kw * f->icg * f->ng * f->ocp * 4 * 0.1;
  const int nt = bw_team(macs_ns > weight_ns ? macs_ns : weight_ns, threads, items);
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(dynamic, 1)
  for (int64_t it = 0; it < items; it++) {
    int64_t r = it / (nox * noc), rest = it % (nox * noc);
    int64_t ox0 = (rest / noc) * OX_CHUNK, lg = (rest % noc) / nblk, o0 = ((rest % noc) % nblk) * 64;
    int64_t ox1 = ox0 + OX_CHUNK < d.out_w ? ox0 + OX_CHUNK : d.out_w;
    int64_t o1 = o0 + 64 < f->no ? o0 + 64 : f->no;
    int64_t n = r / d.out_h, oy = r % d.out_h;
    const float *xrow = src + (n * hp + oy * d.sh) * wp * xc;
    float *yrow = y + r * d.out_w * d.out_c;
    conv_row(f, &g, isa, xrow, yrow, ox0, ox1, lg, o0, o1);
    if (f->npost && noc == 1) /* while the tile is in cache; whole pixels: one span */
      apply_ops(isa, f->post, f->npost, yrow + ox0 * d.out_c, yrow + ox0 * d.out_c, (ox1 - ox0) * d.out_c, d.out_c, 0);
    else if (f->npost)
      for (int64_t ox = ox0; ox < ox1; ox++) {
        const int64_t c0 = lg * f->no + o0; /* the block's first channel */
        float *yp = yrow + ox * d.out_c + c0;
        apply_ops(isa, f->post, f->npost, yp, yp, o1 - o0, (int32_t)(o1 - o0), (int32_t)c0);
      }
  }
  return BW_OK;
}
