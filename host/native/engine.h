/*
 * bitweave native engine: every op of a compiled model (host/compile/model.ts) in C,
 * bit-exact with the TypeScript reference backend (host/backends/reference/).
 *
 * Layouts are the canonical ones (docs/FORMAT.md §5): NHWC feature maps; bit tensors hold
 * per pixel `planes` bit-planes of ceil(c/64) 64-bit words (LSB-first, tail bits zero).
 *
 * The caller (host/backends/native/index.ts) validates every size before calling; the run
 * functions still check the element counts they are given against the op's geometry and
 * return BW_E_SIZE instead of touching memory when they disagree.
 *
 * Threads: every parallel loop gives each output element to exactly one thread and never
 * reduces across threads, so results are identical at any thread count. Loops hand out
 * blocks dynamically: on a shared machine a preempted thread then delays one block, not
 * half the op.
 *
 * Float layers round once per step in float32 (compiled with -ffp-contract=off: the
 * compiler never fuses on its own) and keep the reference's summation order; the
 * multiply-adds of conv and dense are explicit fused ones (one rounding, as fmaF32 in
 * host/core/scalar.ts). Vector code runs ACROSS independent outputs (channels, features,
 * elements), never across the terms of one sum.
 */
#ifndef BITWEAVE_ENGINE_H
#define BITWEAVE_ENGINE_H

#include <stddef.h>
#include <stdint.h>

/* return codes of the run functions (BW_OK, BW_E_SIZE, BW_E_NOMEM, BW_E_ARG) and the
   bit-plane limit BW_MAX_BITS: the generated header (host/array/limits.ts) */
#include "bitweave_array.h"

/* ---- binary convolution / dense (the array's op), engine_bconv.c ----------------------- */

/* Geometry and options of one bconv op; mirrors BconvOp + its input and output tensors. */
typedef struct bw_bconv_desc {
  int32_t h, w, c, in_bits;          /* input bit tensor (in_bits = planes) */
  int32_t kh, kw, sh, sw, ph, pw;    /* window */
  int32_t pad_bit;                   /* 0/1: bit of every plane of padded pixels (real bits) */
  int32_t out_c;
  int32_t has_pool;                  /* integer pool on the accumulators */
  int32_t pkh, pkw, psh, psw, pph, ppw;
  int32_t out_bits;                  /* 0 = int32 output, k >= 1 = k-bit threshold epilogue */
  int32_t out_h, out_w;              /* output map (after the pool); checked by create */
  int32_t in_signed;                 /* k-bit inputs (k >= 2) are two's complement */
  int32_t w_bits, w_signed;          /* weight planes 1..4 (1 = bipolar); two's complement (w_bits >= 2) */
  int32_t out_signed;                /* k-bit outputs (k >= 2) store level - 2^(k-1) */
  int32_t pad_zero;                  /* zero padding (1-bit x 1-bit, pad_bit 1): v = Q = K + dot */
} bw_bconv_desc;

typedef struct bw_bconv bw_bconv;

/*
 * Prepare a bconv: copies and repacks weights (w_bits planes of [out_c][kh][kw][ceil(c/64)] 64-bit words),
 * thresholds ([out_c][2^out_bits - 1], may be NULL for int output), flip ([out_c]) and
 * use_min ([out_c], NULL without pool). Returns NULL on an inconsistent desc or no memory.
 */
bw_bconv *bw_bconv_create(const bw_bconv_desc *d, const uint64_t *weight, const int32_t *thresholds,
                          const uint8_t *flip, const uint8_t *use_min);
void bw_bconv_free(bw_bconv *b);
/* in: batch * h*w*in_bits*ceil(c/64) words; out: bits (words) or int32 elements. */
int bw_bconv_run(const bw_bconv *b, int32_t batch, const uint64_t *in, int64_t in_words, void *out,
                 int64_t out_len, int32_t threads);

/* ---- float convolution and dense, engine_fconv.c ------------------------------------------ */

typedef struct bw_conv2d_desc {
  int32_t h, w, c, kh, kw, sh, sw, ph, pw, out_c, out_h, out_w;
  int32_t groups; /* >= 1, divides c and out_c: output o reads the c/groups channels of group o/(out_c/groups) */
} bw_conv2d_desc;

typedef struct bw_fconv bw_fconv;

/* weight [out_c][kh][kw][c/groups], bias [out_c] or NULL. */
bw_fconv *bw_conv2d_create(const bw_conv2d_desc *d, const float *weight, const float *bias);
/* weight [out][in] (inputs in HWC order), bias [out] or NULL: a 1x1 conv on a 1x1 map. */
bw_fconv *bw_dense_create(int32_t in_features, int32_t out_features, const float *weight, const float *bias);
void bw_fconv_free(bw_fconv *f);
/*
 * Fuse element-wise ops (bw_ew_op, slots ignored; parameters copied) into a conv/dense:
 * `pre` (conv only) run on its input values, padded positions stay 0; `post` on its
 * outputs, each in order: BATCHNORM, ACTIVATION or QUANTIZE, at most 8 each, once per
 * handle. The run then reads the tensor before `pre` and writes the one after `post`.
 */
struct bw_ew_op;
int bw_fconv_fuse(bw_fconv *f, const struct bw_ew_op *pre, int32_t npre, const struct bw_ew_op *post, int32_t npost);
/*
 * Fuse a pool on the conv's output (after `post`), ops on the pooled map (`after`:
 * BATCHNORM, ACTIVATION, QUANTIZE) and, with out_bits >= 1, a final binarize to out_bits
 * bit-planes (out_sgn: two's complement levels). Conv only, after bw_fconv_fuse (if any),
 * once. The run then writes the pooled map: floats, or bit-plane words (y is then
 * uint64_t *, y_len in 64-bit words). Work goes by bands of pooled rows; each band
 * computes the conv rows it needs into a per-thread buffer (the row bands share is
 * computed twice), so the conv's full-size output never exists.
 */
struct bw_pool_desc;
int bw_fconv_fuse_pool(bw_fconv *f, const struct bw_pool_desc *pool, const struct bw_ew_op *after, int32_t nafter,
                       int32_t out_bits, int32_t out_sgn);
int bw_fconv_run(const bw_fconv *f, int32_t batch, const float *x, int64_t x_len, float *y, int64_t y_len,
                 int32_t threads);

/* ---- element-wise and pooling host ops, engine_eltwise.c / engine_pool.c ------------------ */

/* y = ((x - mean[c]) * scale[c]) + beta[c], c = i % channels, float32 per step. */
int bw_batchnorm(const float *x, float *y, int64_t n, int32_t channels, const float *mean, const float *scale,
                 const float *beta, int32_t threads);
/* fn: 0 = relu, 1 = tanh, 2 = sigmoid (deterministic, engine_detmath.c). */
int bw_activation(int32_t fn, const float *x, float *y, int64_t n, int32_t threads);
int bw_add(const float *a, const float *b, float *y, int64_t n, int32_t threads);
/* QActivation forward value (bits = 1: sign as ±1; k > 1: level / (2^k - 1); signed: s / (2^(k-1) - 1)). */
int bw_quantize(const float *x, float *y, int64_t n, int32_t bits, int32_t sgn, int32_t threads);
/* float NHWC -> bit-planes: pixels * bits * ceil(c/64) words (sgn: two's complement levels). */
int bw_binarize(const float *x, int64_t pixels, int32_t c, int32_t bits, int32_t sgn, uint64_t *y, int32_t threads);
/* y = float32(v / divisor), the division in double. */
int bw_dequantize(const int32_t *x, float *y, int64_t n, double divisor, int32_t threads);

/* ---- fused chains of element-wise ops, engine_chain.c ------------------------------------- */

/*
 * Consecutive element-wise ops over tensors of one geometry (pixels x c) run block by
 * block: each block of pixels goes through every op while it is in cache, and tensors
 * that never leave the chain live only in a block-sized scratch. Same results as running
 * the ops one after another (element-wise ops do not mix elements).
 */
#define BW_EW_DEQUANTIZE 0
#define BW_EW_ADD 1
#define BW_EW_BATCHNORM 2
#define BW_EW_ACTIVATION 3
#define BW_EW_QUANTIZE 4
#define BW_EW_BINARIZE 5

typedef struct bw_ew_op {
  int32_t kind;
  int32_t a, b, y;                  /* value slots; b only for ADD */
  int32_t param;                    /* bits (QUANTIZE, BINARIZE), fn (ACTIVATION) */
  int32_t sgn;                      /* QUANTIZE, BINARIZE: signed levels (bits >= 2) */
  double divisor;                   /* DEQUANTIZE */
  const float *mean, *scale, *beta; /* BATCHNORM, c values each */
} bw_ew_op;

#define BW_SLOT_F32 0
#define BW_SLOT_I32 1
#define BW_SLOT_BITS 2

/* A value of the chain: a whole tensor passed at run time (external), or block scratch. */
typedef struct bw_ew_slot {
  int32_t kind;     /* BW_SLOT_*; BITS slots must be external */
  int32_t planes;   /* bit-planes of a BITS slot */
  int32_t external;
} bw_ew_slot;

typedef struct bw_chain bw_chain;

/* Checks and copies the ops (BatchNorm parameters included); NULL if inconsistent. */
bw_chain *bw_chain_create(const bw_ew_op *ops, int32_t nops, const bw_ew_slot *slots, int32_t nslots, int32_t c);
void bw_chain_free(bw_chain *ch);
/*
 * Run on `pixels` pixels of c channels. data[s] / lens[s]: the tensor of external slot s
 * and its length in elements (f32/i32) or 64-bit words (bits); ignored for internal slots.
 * A length that does not match pixels is BW_E_SIZE, before any memory is touched.
 */
int bw_chain_run(const bw_chain *ch, void *const *data, const int64_t *lens, int64_t pixels, int32_t threads);

/*
 * A bconv with int32 output (no pool, out_c a multiple of 8) whose output feeds a chain
 * directly: each work item runs the chain on its output pixels while they are in cache,
 * so the int32 tensor never reaches memory. `slot` is the chain's external I32 slot that
 * the bconv's output stands for (its data/lens entries are ignored); every other external
 * slot is passed as in bw_chain_run, over batch * out_h * out_w pixels.
 */
int bw_bconv_run_chain(const bw_bconv *b, int32_t batch, const uint64_t *in, int64_t in_words, const bw_chain *ch,
                       int32_t slot, void *const *data, const int64_t *lens, int32_t threads);

/* ---- the session's input: finiteness check and NCHW -> NHWC, engine_layout.c ------------ */

/* Index of the first NaN or +-inf among x[0..n), or n when every value is finite. */
int64_t bw_first_nonfinite(const float *x, int64_t n, int32_t threads);
/* n images of c x hw values (NCHW) to hw x c each (NHWC); x and y must not overlap. */
int bw_nchw_to_nhwc(const float *x, float *y, int32_t n, int32_t c, int64_t hw, int32_t threads);

typedef struct bw_pool_desc {
  int32_t h, w, c, kh, kw, sh, sw, ph, pw, out_h, out_w;
  int32_t mode;                /* 0 = max, 1 = avg */
  int32_t count_include_pad;   /* avg: count padded positions inside the padded input */
} bw_pool_desc;

int bw_pool(const bw_pool_desc *d, int32_t batch, const float *x, int64_t x_len, float *y, int64_t y_len,
            int32_t threads);

/* ---- ISA selection, engine_isa.c -------------------------------------------------------- */

/* Instruction sets the engine's kernels use: 0 scalar, 1 AVX2, 2 AVX-512 (F + VPOPCNTDQ). */
#define BW_ISA_SCALAR 0
#define BW_ISA_AVX2 1
#define BW_ISA_AVX512 2

/* The level to run now: cpu.h's bw_isa_current() (override: bw_isa_set or BITWEAVE_ISA). */
int bw_engine_isa(void);
/* 1 when scalar kernels may use the POPCNT instruction (cpu.h's bw_popcnt_enabled()). */
int bw_engine_has_popcnt(void);

/* ---- internal helpers shared by the engine's files ---------------------------------------- */

/* detmath.ts ported: identical operation sequence in double, so identical bits. */
double bw_det_exp(double x);
float bw_det_tanh_f32(float x);
float bw_det_sigmoid_f32(float x);

/* y = fmaf(a, b, c) elementwise with the current ISA's FMA (tests compare the reference's fmaF32) */
int bw_fma_f32(const float *a, const float *b, const float *c, float *y, int64_t n);
/* detExp on n doubles with the current ISA's kernel: lets tests compare doubles exactly. */
int bw_exp_f64(const double *x, double *y, int64_t n);
/* Vector versions (engine_detmath.c); n arbitrary, same results as the scalar ones. */
void bw_tanh_avx2(const float *x, float *y, int64_t n);
void bw_tanh_avx512(const float *x, float *y, int64_t n);
void bw_sigmoid_avx2(const float *x, float *y, int64_t n);
void bw_sigmoid_avx512(const float *x, float *y, int64_t n);

/*
 * Binary convolution microkernels (engine_bconv_kern.c). Weights are repacked with output
 * channels as lanes: w[block][step][8], step = (ky*kw + kx)*words + j; column q is one
 * output pixel (one bit-plane of it for k-bit inputs) given as the address of its window
 * origin, so step k reads cols[q][aoff[k]]. Computes, for every 8-channel block and column,
 * out[q*ldo + 8*block + lane] = bias + sign * sum_k popcount(cols[q][aoff[k]] OP w[block][k][lane])
 * with OP = xor (mode_and = 0) or and (mode_and = 1).
 */
typedef struct bw_bk_job {
  int32_t nsteps;
  const int64_t *aoff;
  const uint64_t *w;       /* first 8-channel block */
  int32_t nblocks;
  const uint64_t *const *cols;
  int32_t ncols;
  int32_t mode_and;
  int32_t bias, sign;
  int32_t *out;
  int64_t ldo;
} bw_bk_job;

void bw_bk_run_generic(const bw_bk_job *j);
void bw_bk_run_popcnt(const bw_bk_job *j);
void bw_bk_run_avx2(const bw_bk_job *j);
void bw_bk_run_avx512(const bw_bk_job *j);
/* sum_k popcount(col[aoff[k]]) (k-bit inputs: ones of one plane over the window) */
int64_t bw_bk_popsum(const uint64_t *col, const int64_t *aoff, int32_t nsteps, int popcnt_insn);

/* chain internals for bw_bconv_run_chain (engine_chain.c) */
int bw_chain_int_slot(const bw_chain *ch, int32_t slot);
int32_t bw_chain_channels(const bw_chain *ch);
int bw_chain_check(const bw_chain *ch, void *const *data, const int64_t *lens, int64_t pixels, int32_t skip);
size_t bw_chain_scratch_bytes(const bw_chain *ch);
/* pixels [p0, p0 + np) through the chain, slot `slot` read from `values` (pixel p0 first) */
void bw_chain_span(const bw_chain *ch, void *const *data, int64_t p0, int64_t np, int32_t slot, const int32_t *values,
                   char *scratch, int isa);

/* pool geometry checks (bw_pool's), and one output row of a pool from input rows row0.. */
int bw_pool_valid(const bw_pool_desc *d);
void bw_pool_out_row(int isa, const bw_pool_desc *d, const float *rows, int64_t row0, int64_t oy, float *y);

/* element-wise spans at a given ISA (engine_eltwise.c); batchnorm spans start at channel 0 */
void bw_span_batchnorm(int isa, const float *x, float *y, int64_t n, int32_t channels, const float *mean,
                       const float *scale, const float *beta);
void bw_span_add(int isa, const float *a, const float *b, float *y, int64_t n);
void bw_span_activation(int isa, int32_t fn, const float *x, float *y, int64_t n);
void bw_span_quantize(int isa, const float *x, float *y, int64_t n, int32_t bits, int32_t sgn);
void bw_span_dequantize(int isa, const int32_t *x, float *y, int64_t n, double divisor);
void bw_span_binarize(int isa, const float *x, int64_t pixels, int32_t c, int32_t bits, int32_t sgn, uint64_t *y);

/* 64-byte aligned allocation (weights); free with free(). NULL on failure. */
void *bw_alloc(size_t bytes);
/*
 * Per-thread scratch buffer number `which` (0..7) of at least `bytes`, 64-byte aligned,
 * grown as needed and kept for the thread's lifetime: calls reuse warm memory instead of
 * paying malloc and first-touch page faults every time. NULL on failure. Valid until the
 * same thread asks for the same buffer again.
 */
void *bw_scratch(int which, size_t bytes);

/*
 * Threads for a parallel loop of `parts` independent pieces worth about `work_ns` of one
 * core's time: one thread per BW_PAR_NS of work (at least one), so a team is woken only
 * when each member gets enough to pay for it. 20 us: the library's OpenMP workers spin
 * briefly between regions (GOMP_SPINCOUNT, host/backends/native/lib.ts), so consecutive
 * ops of one inference find them awake; on the 2-core development VM this made ResNet-18
 * (224x224) at batch 1 4.3-5.0 ms instead of 5.7 (150 us with sleeping workers, whose
 * wake-up on a VM can cost more than a small op).
 */
#define BW_PAR_NS 20000.0
int bw_team(double work_ns, int32_t threads, int64_t parts);
/* Replace BW_PAR_NS (ns < 0: back to the default). Tests set 0 so small ops use every thread. */
void bw_engine_set_parallel_ns(double ns);

#endif
