/*
 * C-simulation library (build/libbitweave_hls.so): the HLS kernel compiled with g++, behind
 * a small C ABI the hls-csim backend calls through koffi (host/backends/hls-csim/).
 *
 * bw_hls_run re-checks the whole layer program against the buffer lengths it is given and
 * against the kernel's on-chip buffer bounds before the kernel touches any memory, so a
 * bad program is an error code with a message, never an out-of-bounds access.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <thread>
#include <vector>

#include "../bw_types.h"
#include "../sequencer.h"

extern "C" void bitweave_array(const uint32_t *program, uint32_t layers, const uint64_t *weights, const int32_t *params,
                               uint64_t *arena, uint32_t arena_words, uint32_t images);

/* return codes BW_HLS_OK, BW_HLS_E_ARG, BW_HLS_E_PROGRAM, BW_HLS_E_LIMIT: the generated
 * bitweave_array.h (host/array/limits.ts) */

extern "C" {

/* ROWS, COLS, WORD, ACC_BITS, DESC_WORDS, MAX_FM_WORDS, MAX_KWORDS, MAX_OUT_C, MAX_BITS */
int32_t bw_hls_info(int32_t *out, int32_t n) {
  const int32_t v[] = {BW_ROWS, BW_COLS, BW_WORD, BW_ACC_BITS, BW_DESC_WORDS, BW_HLS_MAX_FM_WORDS,
                       BW_HLS_MAX_KWORDS, BW_HLS_MAX_OUT_C, BW_MAX_BITS};
  const int32_t k = (int32_t)(sizeof v / sizeof v[0]);
  if (!out) return k;
  for (int32_t i = 0; i < n && i < k; i++) out[i] = v[i];
  return k;
}

}  // extern "C"

namespace {

uint64_t window_size(uint64_t in, uint64_t k, uint64_t s, uint64_t p) {
  if (in + 2 * p < k) return 0;
  return (in + 2 * p - k) / s + 1;
}

int fail(char *msg, int32_t len, int code, uint32_t layer, const char *what, uint64_t a, uint64_t b) {
  if (msg && len > 0) snprintf(msg, (size_t)len, "layer %u: %s (%llu vs %llu)", layer, what, (unsigned long long)a, (unsigned long long)b);
  return code;
}

/* Every bound the kernel relies on: the rules of host/array/descriptor.ts
 * (descriptorProblem with hlsLimits), restated here because this is a C ABI that must not
 * trust its caller; a test feeds both the same mutated programs and checks they agree.
 * Per-target bounds come first, so that the products below cannot overflow 64 bits. */
int check_program(const uint32_t *prog, uint64_t prog_len, uint32_t layers, uint64_t weight_words, uint64_t param_entries,
                  uint64_t arena_words, char *msg, int32_t len) {
  if (layers == 0 || (uint64_t)layers * BW_DESC_WORDS > prog_len) return fail(msg, len, BW_HLS_E_ARG, 0, "program shorter than layers * BW_DESC_WORDS", prog_len, (uint64_t)layers * BW_DESC_WORDS);
  for (uint32_t l = 0; l < layers; l++) {
    const uint32_t *d = prog + (uint64_t)l * BW_DESC_WORDS;
    const uint64_t op = d[BW_D_OPCODE];
#define NEED(cond, what, a, b) \
  if (!(cond)) return fail(msg, len, BW_HLS_E_PROGRAM, l, what, (uint64_t)(a), (uint64_t)(b))
#define LIMIT(cond, what, a, b) \
  if (!(cond)) return fail(msg, len, BW_HLS_E_LIMIT, l, what, (uint64_t)(a), (uint64_t)(b))
#define RANGE(f, lo, hi) NEED((uint64_t)d[f] >= (uint64_t)(lo) && (uint64_t)d[f] <= (uint64_t)(hi), (#f " out of range") + 5, d[f], hi)
#define BOUND(f, hi) LIMIT((uint64_t)d[f] <= (uint64_t)(hi), (#f " exceeds the kernel's bound") + 5, d[f], hi)
    const uint64_t known = BW_OP_THRESHOLD | BW_OP_POOL | BW_OP_AND_PLANES | BW_OP_IN_SIGNED | BW_OP_W_SIGNED | BW_OP_OUT_SIGNED;
    NEED((op & ~known) == 0, "unknown opcode bits", op, known);
    RANGE(BW_D_IN_H, 1, BW_INDEX_LIMIT - 1);
    RANGE(BW_D_IN_W, 1, BW_INDEX_LIMIT - 1);
    RANGE(BW_D_IN_C, 1, BW_INDEX_LIMIT - 1);
    RANGE(BW_D_IN_WORDS, 1, BW_INDEX_LIMIT - 1);
    RANGE(BW_D_IN_PLANES, 1, BW_INDEX_LIMIT - 1);
    RANGE(BW_D_W_BITS, 1, BW_INDEX_LIMIT - 1);
    RANGE(BW_D_KH, 1, BW_INDEX_LIMIT - 1);
    RANGE(BW_D_KW, 1, BW_INDEX_LIMIT - 1);
    RANGE(BW_D_SH, 1, BW_INDEX_LIMIT - 1);
    RANGE(BW_D_SW, 1, BW_INDEX_LIMIT - 1);
    RANGE(BW_D_OUT_C, 1, BW_INDEX_LIMIT - 1);
    RANGE(BW_D_ACC_H, 1, BW_INDEX_LIMIT - 1);
    RANGE(BW_D_ACC_W, 1, BW_INDEX_LIMIT - 1);
    RANGE(BW_D_OUT_H, 1, BW_INDEX_LIMIT - 1);
    RANGE(BW_D_OUT_W, 1, BW_INDEX_LIMIT - 1);
    /* the kernel's bounds (hlsLimits) */
    BOUND(BW_D_IN_H, 65536);
    BOUND(BW_D_IN_W, 65536);
    BOUND(BW_D_ACC_H, 65536);
    BOUND(BW_D_ACC_W, 65536);
    BOUND(BW_D_OUT_H, 65536);
    BOUND(BW_D_OUT_W, 65536);
    BOUND(BW_D_OUT_C, 65536);
    BOUND(BW_D_IN_WORDS, 65536);
    BOUND(BW_D_KH, 64);
    BOUND(BW_D_KW, 64);
    BOUND(BW_D_SH, 64);
    BOUND(BW_D_SW, 64);
    BOUND(BW_D_PH, 64);
    BOUND(BW_D_PW, 64);
    BOUND(BW_D_OUT_C, BW_HLS_MAX_OUT_C);
    const uint64_t in_c = d[BW_D_IN_C], words = d[BW_D_IN_WORDS], planes = d[BW_D_IN_PLANES];
    const uint64_t kh = d[BW_D_KH], kw = d[BW_D_KW], out_c = d[BW_D_OUT_C];
    NEED(words == (in_c + 63) / 64, "IN_WORDS is not ceil(IN_C/64)", words, (in_c + 63) / 64);
    const uint64_t wbits = d[BW_D_W_BITS];
    LIMIT(planes <= BW_MAX_BITS, "more input bit-planes than the kernel takes", planes, BW_MAX_BITS);
    LIMIT(wbits <= BW_MAX_W_BITS, "more weight bit-planes than the kernel takes", wbits, BW_MAX_W_BITS);
    const bool xnor = planes == 1 && wbits == 1;
    NEED(((op & BW_OP_AND_PLANES) != 0) == !xnor, "AND mode must match IN_PLANES > 1 or W_BITS > 1", op, planes);
    NEED(!(op & BW_OP_IN_SIGNED) || planes >= 2, "IN_SIGNED needs IN_PLANES >= 2", op, planes);
    NEED(!(op & BW_OP_W_SIGNED) || wbits >= 2, "W_SIGNED needs W_BITS >= 2", op, wbits);
    RANGE(BW_D_PAD_BIT, 0, 1);
    NEED(d[BW_D_PH] < kh && d[BW_D_PW] < kw, "padding must be smaller than the kernel", d[BW_D_PH], kh);
    const uint64_t acc_h = window_size(d[BW_D_IN_H], kh, d[BW_D_SH], d[BW_D_PH]);
    const uint64_t acc_w = window_size(d[BW_D_IN_W], kw, d[BW_D_SW], d[BW_D_PW]);
    NEED(d[BW_D_ACC_H] == acc_h && d[BW_D_ACC_W] == acc_w, "ACC_H x ACC_W does not follow from the window", d[BW_D_ACC_H], acc_h);
    uint64_t out_h = acc_h, out_w = acc_w;
    if (op & BW_OP_POOL) {
      RANGE(BW_D_POOL_KH, 1, 64);
      RANGE(BW_D_POOL_KW, 1, 64);
      RANGE(BW_D_POOL_SH, 1, 64);
      RANGE(BW_D_POOL_SW, 1, 64);
      NEED(d[BW_D_POOL_PH] < d[BW_D_POOL_KH] && d[BW_D_POOL_PW] < d[BW_D_POOL_KW], "pool padding must be smaller than the pool", d[BW_D_POOL_PH], d[BW_D_POOL_KH]);
      out_h = window_size(acc_h, d[BW_D_POOL_KH], d[BW_D_POOL_SH], d[BW_D_POOL_PH]);
      out_w = window_size(acc_w, d[BW_D_POOL_KW], d[BW_D_POOL_SW], d[BW_D_POOL_PW]);
    }
    NEED(d[BW_D_OUT_H] == out_h && d[BW_D_OUT_W] == out_w, "OUT_H x OUT_W does not follow from the pool", d[BW_D_OUT_H], out_h);
    const uint64_t tail = xnor ? kh * kw * (64 * words - in_c) : 0;
    NEED(d[BW_D_TAIL] == tail, "TAIL does not match the geometry", d[BW_D_TAIL], tail);
    const bool thr = (op & BW_OP_THRESHOLD) != 0;
    if (thr) {
      LIMIT(d[BW_D_OUT_BITS] >= 1 && d[BW_D_OUT_BITS] <= BW_MAX_BITS, "OUT_BITS outside 1..BW_MAX_BITS", d[BW_D_OUT_BITS], BW_MAX_BITS);
    } else {
      NEED(d[BW_D_OUT_BITS] == 0, "OUT_BITS must be 0 for integer outputs", d[BW_D_OUT_BITS], 0);
    }
    NEED(!(op & BW_OP_OUT_SIGNED) || (thr && d[BW_D_OUT_BITS] >= 2), "OUT_SIGNED needs a threshold epilogue with OUT_BITS >= 2", op, d[BW_D_OUT_BITS]);
    /* accumulator width: |v| <= K * max|a| * max|w| (xnor: K) must fit BW_ACC_BITS signed
     * (compile/model.ts accumulatorRange: a signed k-bit operand reaches 2^(k-1), unsigned 2^k - 1) */
    const uint64_t amax = planes == 1 ? 1 : (op & BW_OP_IN_SIGNED) ? (1ull << (planes - 1)) : (1ull << planes) - 1;
    const uint64_t wmax = wbits == 1 ? 1 : (op & BW_OP_W_SIGNED) ? (1ull << (wbits - 1)) : (1ull << wbits) - 1;
    const uint64_t mag = amax * wmax * kh * kw * in_c;
    LIMIT(mag < (1ull << (BW_ACC_BITS - 1)), "accumulator range exceeds BW_ACC_BITS", mag, 1ull << (BW_ACC_BITS - 1));
    /* on-chip buffers */
    const uint64_t fm = (uint64_t)d[BW_D_IN_H] * d[BW_D_IN_W] * planes * words;
    LIMIT(fm <= BW_HLS_MAX_FM_WORDS, "input feature map exceeds the kernel's buffer (BW_HLS_MAX_FM_WORDS)", fm, BW_HLS_MAX_FM_WORDS);
    const uint64_t kwords = wbits * kh * kw * words; /* every weight plane of a channel */
    LIMIT(kwords <= BW_HLS_MAX_KWORDS, "weights per output channel exceed the kernel's buffer (BW_HLS_MAX_KWORDS)", kwords, BW_HLS_MAX_KWORDS);
    /* regions inside their buffers, output apart from input */
    const uint64_t out_words = (out_c + 63) / 64;
    const uint64_t out_region = thr ? out_h * out_w * d[BW_D_OUT_BITS] * out_words : (out_h * out_w * out_c + 1) / 2;
    NEED((uint64_t)d[BW_D_IN_OFF] + fm <= arena_words, "input region outside the arena", (uint64_t)d[BW_D_IN_OFF] + fm, arena_words);
    NEED((uint64_t)d[BW_D_OUT_OFF] + out_region <= arena_words, "output region outside the arena", (uint64_t)d[BW_D_OUT_OFF] + out_region, arena_words);
    NEED((uint64_t)d[BW_D_W_OFF] + out_c * kwords <= weight_words, "weights outside the weight buffer", (uint64_t)d[BW_D_W_OFF] + out_c * kwords, weight_words);
    if (thr) {
      const uint64_t levels = (1ull << d[BW_D_OUT_BITS]) - 1;
      NEED((uint64_t)d[BW_D_T_OFF] + out_c * levels <= param_entries, "thresholds outside the parameter buffer", (uint64_t)d[BW_D_T_OFF] + out_c * levels, param_entries);
    }
    NEED((uint64_t)d[BW_D_F_OFF] + out_c <= param_entries, "flags outside the parameter buffer", (uint64_t)d[BW_D_F_OFF] + out_c, param_entries);
    const uint64_t in_lo = d[BW_D_IN_OFF], in_hi = in_lo + fm, out_lo = d[BW_D_OUT_OFF], out_hi = out_lo + out_region;
    NEED(out_hi <= in_lo || in_hi <= out_lo, "output region overlaps the input region", out_lo, in_lo);
#undef BOUND
#undef RANGE
#undef LIMIT
#undef NEED
  }
  return BW_HLS_OK;
}

typedef void (*kernel_fn)(const uint32_t *, uint32_t, const uint64_t *, const int32_t *, uint64_t *, uint32_t, uint32_t);

template <int R, int C>
void variant(const uint32_t *p, uint32_t layers, const uint64_t *w, const int32_t *q, uint64_t *a, uint32_t aw, uint32_t n) {
  bw::run_program<R, C, BW_HLS_MAX_FM_WORDS, BW_HLS_MAX_KWORDS, BW_HLS_MAX_OUT_C>(p, layers, w, q, a, aw, n);
}

/* Tiles of every layer of a program on `images` images, as the kernel's blocks count them. */
template <int R, int C>
void tiles_variant(const uint32_t *p, uint32_t layers, uint32_t images, uint32_t *tiles) {
  for (uint32_t l = 0; l < layers; l++) tiles[l] = bw::decode_layer<R, C>(p + (uint64_t)l * BW_DESC_WORDS, images).tiles;
}

typedef void (*tiles_fn)(const uint32_t *, uint32_t, uint32_t, uint32_t *);

tiles_fn find_tiles(int32_t rows, int32_t cols) {
  if (rows == BW_ROWS && cols == BW_COLS) return tiles_variant<BW_ROWS, BW_COLS>;
#define BW_SHAPE(R, C) \
  if (rows == (R) && cols == (C)) return tiles_variant<R, C>;
  BW_HLS_CSIM_SHAPES(BW_SHAPE)
#undef BW_SHAPE
  return nullptr;
}

/* Array shapes compiled into this library: the header's (through the real top function)
 * and BW_HLS_CSIM_SHAPES, odd ones the tests use to move every tile edge. */
kernel_fn find_variant(int32_t rows, int32_t cols) {
  if (rows == BW_ROWS && cols == BW_COLS) return bitweave_array;
#define BW_SHAPE(R, C) \
  if (rows == (R) && cols == (C)) return variant<R, C>;
  BW_HLS_CSIM_SHAPES(BW_SHAPE)
#undef BW_SHAPE
  return nullptr;
}

}  // namespace

extern "C" {

int32_t bw_hls_check(const uint32_t *program, int64_t program_len, uint32_t layers, int64_t weight_words, int64_t param_entries,
                     uint32_t arena_words, char *msg, int32_t msg_len) {
  if (msg && msg_len > 0) msg[0] = 0;
  if (!program || program_len < 0 || weight_words < 0 || param_entries < 0) return fail(msg, msg_len, BW_HLS_E_ARG, 0, "bad buffer arguments", 0, 0);
  return check_program(program, (uint64_t)program_len, layers, (uint64_t)weight_words, (uint64_t)param_entries, arena_words, msg, msg_len);
}

/* The kernel's schedule: tiles (slot x channel group) of every layer of a checked program
 * on `images` images (one kernel call), for the tests that compare it with the cycle model
 * (host/array/cycles.ts). */
int32_t bw_hls_tiles(int32_t rows, int32_t cols, const uint32_t *program, int64_t program_len, uint32_t layers, uint32_t images,
                     uint32_t *tiles, int32_t tiles_len, char *msg, int32_t msg_len) {
  if (msg && msg_len > 0) msg[0] = 0;
  tiles_fn f = find_tiles(rows, cols);
  if (!f) return fail(msg, msg_len, BW_HLS_E_ARG, 0, "array shape not compiled into this library (rows, cols)", (uint64_t)rows, (uint64_t)cols);
  if (!program || !tiles || program_len < 0 || tiles_len < 0 || (uint64_t)tiles_len < layers || images == 0 ||
      (uint64_t)layers * BW_DESC_WORDS > (uint64_t)program_len)
    return fail(msg, msg_len, BW_HLS_E_ARG, 0, "bad buffer arguments", 0, 0);
  f(program, layers, images, tiles);
  return BW_HLS_OK;
}

/* Runs the kernel on `images` images. rows/cols pick a compiled array shape (see
 * find_variant); threads > 1 splits the images among threads (each a kernel invocation on
 * its own slice of the arena, as separate compute units would). */
int32_t bw_hls_run(int32_t rows, int32_t cols, const uint32_t *program, int64_t program_len, uint32_t layers,
                   const uint64_t *weights, int64_t weight_words, const int32_t *params, int64_t param_entries, uint64_t *arena,
                   int64_t arena_len, uint32_t arena_words, uint32_t images, int32_t threads, char *msg, int32_t msg_len) {
  if (msg && msg_len > 0) msg[0] = 0;
  kernel_fn k = find_variant(rows, cols);
  if (!k) return fail(msg, msg_len, BW_HLS_E_ARG, 0, "array shape not compiled into this library (rows, cols)", (uint64_t)rows, (uint64_t)cols);
  if (!program || !weights || !params || !arena || images == 0 || arena_words == 0 || program_len < 0 || weight_words < 1 ||
      param_entries < 1 || arena_len < 0 || threads < 1)
    return fail(msg, msg_len, BW_HLS_E_ARG, 0, "bad buffer arguments", 0, 0);
  if ((uint64_t)images * arena_words > (uint64_t)arena_len)
    return fail(msg, msg_len, BW_HLS_E_ARG, 0, "arena shorter than images * arena_words", (uint64_t)arena_len, (uint64_t)images * arena_words);
  const int32_t rc = check_program(program, (uint64_t)program_len, layers, (uint64_t)weight_words, (uint64_t)param_entries, arena_words, msg, msg_len);
  if (rc != BW_HLS_OK) return rc;
  const uint32_t nt = (uint32_t)threads < images ? (uint32_t)threads : images;
  if (nt <= 1) {
    k(program, layers, weights, params, arena, arena_words, images);
    return BW_HLS_OK;
  }
  std::vector<std::thread> pool;
  uint32_t start = 0;
  for (uint32_t t = 0; t < nt; t++) {
    const uint32_t n = images / nt + (t < images % nt ? 1 : 0);
    uint64_t *slice = arena + (uint64_t)start * arena_words;
    try {
      pool.emplace_back([=] { k(program, layers, weights, params, slice, arena_words, n); });
    } catch (...) {
      k(program, layers, weights, params, slice, arena_words, n); /* no thread available: run it here */
    }
    start += n;
  }
  for (auto &th : pool) th.join();
  return BW_HLS_OK;
}

}  // extern "C"
