/*
 * Shared pieces of the HLS test benches (hls/tb/tb_*.cpp): a seeded generator, a layer
 * descriptor builder (the same fields host/array/program.ts encodes) and a golden model of
 * one binary layer written straight from the semantics (docs/ARCHITECTURE.md), independent
 * of the kernel's loop nest. Each bench prints PASS or the first mismatch and exits 0 / 1.
 */
#ifndef BW_TB_COMMON_H
#define BW_TB_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <vector>

#include "bitweave_array.h"
#include "layer.h"

namespace tb {

struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ULL + 1) {}
  uint64_t next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
  uint32_t upto(uint32_t n) { return (uint32_t)(next() % n); } /* 0..n-1 */
  int32_t range(int32_t lo, int32_t hi) { return lo + (int32_t)upto((uint32_t)(hi - lo + 1)); }
};

inline uint32_t win(uint32_t in, uint32_t k, uint32_t s, uint32_t p) { return (in + 2 * p - k) / s + 1; }
inline uint32_t pc(uint64_t x) { return (uint32_t)__builtin_popcountll(x); }

struct Geometry {
  uint32_t h, w, c, planes, kh, kw, sh, sw, ph, pw, pad_bit, out_c;
  bool pool;
  uint32_t pkh, pkw, psh, psw, pph, ppw;
  uint32_t out_bits; /* 0: int32 output */
};

/* A random geometry whose windows fit (as validateModel requires). */
inline Geometry random_geometry(Rng &r) {
  for (;;) {
    Geometry g;
    g.h = r.range(1, 9);
    g.w = r.range(1, 9);
    const uint32_t cs[] = {1, 3, 5, 63, 64, 65, 70, 130};
    g.c = cs[r.upto(8)];
    g.out_c = cs[r.upto(8)];
    const uint32_t pl[] = {1, 1, 2, 3};
    g.planes = pl[r.upto(4)];
    g.kh = r.range(1, 4);
    g.kw = r.range(1, 4);
    g.sh = r.range(1, 2);
    g.sw = r.range(1, 2);
    g.ph = r.range(0, 2);
    g.pw = r.range(0, 2);
    g.pad_bit = r.upto(2);
    g.pool = r.upto(2) == 0;
    g.pkh = r.range(1, 3);
    g.pkw = g.pkh;
    g.psh = r.range(1, 3);
    g.psw = g.psh;
    g.pph = r.range(0, 1);
    g.ppw = g.pph;
    const uint32_t ob[] = {0, 1, 1, 2};
    g.out_bits = ob[r.upto(4)];
    if (g.ph >= g.kh || g.pw >= g.kw || g.h + 2 * g.ph < g.kh || g.w + 2 * g.pw < g.kw) continue;
    const uint32_t ah = win(g.h, g.kh, g.sh, g.ph), aw = win(g.w, g.kw, g.sw, g.pw);
    if (g.pool && (g.pph >= g.pkh || ah + 2 * g.pph < g.pkh || aw + 2 * g.ppw < g.pkw)) continue;
    (void)aw;
    return g;
  }
}

/* Descriptor for g with the given offsets; returns the output region size in words. */
inline uint32_t make_desc(const Geometry &g, uint32_t in_off, uint32_t out_off, uint32_t w_off, uint32_t t_off, uint32_t f_off,
                          uint32_t d[BW_DESC_WORDS]) {
  for (int i = 0; i < BW_DESC_WORDS; i++) d[i] = 0;
  const uint32_t words = (g.c + 63) / 64;
  const uint32_t ah = win(g.h, g.kh, g.sh, g.ph), aw = win(g.w, g.kw, g.sw, g.pw);
  const uint32_t oh = g.pool ? win(ah, g.pkh, g.psh, g.pph) : ah, ow = g.pool ? win(aw, g.pkw, g.psw, g.ppw) : aw;
  d[BW_D_OPCODE] = (g.out_bits ? BW_OP_THRESHOLD : 0) | (g.pool ? BW_OP_POOL : 0) | (g.planes > 1 ? BW_OP_AND_PLANES : 0);
  d[BW_D_IN_H] = g.h; d[BW_D_IN_W] = g.w; d[BW_D_IN_C] = g.c; d[BW_D_IN_WORDS] = words; d[BW_D_IN_PLANES] = g.planes;
  d[BW_D_KH] = g.kh; d[BW_D_KW] = g.kw; d[BW_D_SH] = g.sh; d[BW_D_SW] = g.sw; d[BW_D_PH] = g.ph; d[BW_D_PW] = g.pw;
  d[BW_D_PAD_BIT] = g.pad_bit; d[BW_D_OUT_C] = g.out_c;
  d[BW_D_ACC_H] = ah; d[BW_D_ACC_W] = aw; d[BW_D_OUT_H] = oh; d[BW_D_OUT_W] = ow;
  if (g.pool) {
    d[BW_D_POOL_KH] = g.pkh; d[BW_D_POOL_KW] = g.pkw; d[BW_D_POOL_SH] = g.psh; d[BW_D_POOL_SW] = g.psw;
    d[BW_D_POOL_PH] = g.pph; d[BW_D_POOL_PW] = g.ppw;
  }
  d[BW_D_OUT_BITS] = g.out_bits;
  d[BW_D_W_BITS] = 1; /* binary weights: the integer layers are checked through the backend (test/backends) */
  d[BW_D_TAIL] = g.planes == 1 ? g.kh * g.kw * (64 * words - g.c) : 0;
  d[BW_D_IN_OFF] = in_off; d[BW_D_OUT_OFF] = out_off; d[BW_D_W_OFF] = w_off; d[BW_D_T_OFF] = t_off; d[BW_D_F_OFF] = f_off;
  const uint32_t ow64 = (g.out_c + 63) / 64;
  return g.out_bits ? oh * ow * g.out_bits * ow64 : (oh * ow * g.out_c + 1) / 2;
}

/* Random canonical bits for n words-per-plane runs of c channels (tail bits zero). */
inline void random_bits(Rng &r, uint64_t *dst, uint32_t runs, uint32_t c) {
  const uint32_t words = (c + 63) / 64;
  for (uint32_t i = 0; i < runs; i++)
    for (uint32_t j = 0; j < words; j++) {
      uint64_t v = r.next();
      const uint32_t real = c - 64 * j;
      if (real < 64) v &= ((uint64_t)1 << real) - 1;
      dst[i * words + j] = v;
    }
}

/* Accumulator map [ah][aw][out_c] of one layer, straight from the definition. */
inline std::vector<int32_t> golden_acc(const uint32_t *d, const uint64_t *arena, const uint64_t *weights) {
  const uint32_t H = d[BW_D_IN_H], W = d[BW_D_IN_W], C = d[BW_D_IN_C], words = d[BW_D_IN_WORDS], planes = d[BW_D_IN_PLANES];
  const uint32_t kh = d[BW_D_KH], kw = d[BW_D_KW], oc_n = d[BW_D_OUT_C], ah = d[BW_D_ACC_H], aw = d[BW_D_ACC_W];
  std::vector<int32_t> acc((size_t)ah * aw * oc_n);
  for (uint32_t y = 0; y < ah; y++)
    for (uint32_t x = 0; x < aw; x++)
      for (uint32_t oc = 0; oc < oc_n; oc++) {
        int64_t v = 0;
        for (uint32_t ky = 0; ky < kh; ky++)
          for (uint32_t kx = 0; kx < kw; kx++) {
            const int32_t iy = (int32_t)(y * d[BW_D_SH] + ky) - (int32_t)d[BW_D_PH];
            const int32_t ix = (int32_t)(x * d[BW_D_SW] + kx) - (int32_t)d[BW_D_PW];
            const bool in = iy >= 0 && iy < (int32_t)H && ix >= 0 && ix < (int32_t)W;
            for (uint32_t b = 0; b < planes; b++) {
              int64_t both = 0, ones = 0, match = 0;
              for (uint32_t j = 0; j < words; j++) {
                uint64_t a;
                if (in) {
                  a = arena[d[BW_D_IN_OFF] + (((uint64_t)iy * W + ix) * planes + b) * words + j];
                } else {
                  a = 0;
                  if (d[BW_D_PAD_BIT])
                    for (uint32_t ch = 64 * j; ch < C && ch < 64 * j + 64; ch++) a |= (uint64_t)1 << (ch - 64 * j);
                }
                const uint64_t w = weights[d[BW_D_W_OFF] + ((uint64_t)(oc * kh + ky) * kw + kx) * words + j];
                both += pc(a & w);
                ones += pc(a);
                /* matches among the real channel bits only */
                for (uint32_t bit = 0; bit < 64 && 64 * j + bit < C; bit++) match += (((a ^ ~w) >> bit) & 1);
              }
              if (planes == 1) v += match;
              else v += (2 * both - ones) << b;
            }
          }
        acc[((size_t)y * aw + x) * oc_n + oc] = (int32_t)v;
      }
  return acc;
}

/* Integer pool and output transform of an accumulator map, into the arena's output region. */
inline void golden_out(const uint32_t *d, const std::vector<int32_t> &acc, uint64_t *arena, const int32_t *params) {
  const uint32_t oc_n = d[BW_D_OUT_C], ah = d[BW_D_ACC_H], aw = d[BW_D_ACC_W], oh = d[BW_D_OUT_H], ow = d[BW_D_OUT_W];
  const bool pool = d[BW_D_OPCODE] & BW_OP_POOL, thr = d[BW_D_OPCODE] & BW_OP_THRESHOLD;
  const uint32_t bits = thr ? d[BW_D_OUT_BITS] : 0, L = thr ? (1u << bits) - 1 : 0, ow64 = (oc_n + 63) / 64;
  std::vector<int32_t> ints;
  for (uint32_t y = 0; y < oh; y++)
    for (uint32_t x = 0; x < ow; x++) {
      for (uint32_t w = 0; w < bits * ow64; w++) arena[d[BW_D_OUT_OFF] + ((uint64_t)y * ow + x) * bits * ow64 + w] = 0;
      for (uint32_t oc = 0; oc < oc_n; oc++) {
        const uint32_t flags = (uint32_t)params[d[BW_D_F_OFF] + oc];
        int32_t v;
        if (!pool) {
          v = acc[((size_t)y * aw + x) * oc_n + oc];
        } else {
          const bool mn = flags & BW_FLAG_POOL_MIN;
          v = mn ? INT32_MAX : INT32_MIN;
          for (uint32_t py = 0; py < d[BW_D_POOL_KH]; py++)
            for (uint32_t px = 0; px < d[BW_D_POOL_KW]; px++) {
              const int32_t yy = (int32_t)(y * d[BW_D_POOL_SH] + py) - (int32_t)d[BW_D_POOL_PH];
              const int32_t xx = (int32_t)(x * d[BW_D_POOL_SW] + px) - (int32_t)d[BW_D_POOL_PW];
              if (yy < 0 || yy >= (int32_t)ah || xx < 0 || xx >= (int32_t)aw) continue;
              const int32_t s = acc[((size_t)yy * aw + xx) * oc_n + oc];
              v = mn ? (s < v ? s : v) : (s > v ? s : v);
            }
        }
        if (thr) {
          uint32_t level = 0;
          for (uint32_t j = 0; j < L; j++) level += ((v >= params[d[BW_D_T_OFF] + oc * L + j]) != ((flags & BW_FLAG_FLIP) != 0));
          for (uint32_t b = 0; b < bits; b++)
            if ((level >> b) & 1) arena[d[BW_D_OUT_OFF] + ((uint64_t)y * ow + x) * bits * ow64 + b * ow64 + oc / 64] |= (uint64_t)1 << (oc % 64);
        } else {
          ints.push_back(v);
        }
      }
    }
  for (size_t i = 0; i < ints.size(); i += 2) {
    const uint64_t lo = (uint32_t)ints[i], hi = i + 1 < ints.size() ? (uint32_t)ints[i + 1] : 0;
    arena[d[BW_D_OUT_OFF] + i / 2] = lo | (hi << 32);
  }
}

/* The whole layer into a copy of the arena. */
inline void golden_layer(const uint32_t *d, uint64_t *arena, const uint64_t *weights, const int32_t *params) {
  golden_out(d, golden_acc(d, arena, weights), arena, params);
}

/* Random thresholds around the accumulator range's middle, flags with flip / pool-min. */
inline void random_params(Rng &r, const uint32_t *d, int32_t *params) {
  const uint32_t oc_n = d[BW_D_OUT_C];
  const int32_t K = (int32_t)(d[BW_D_KH] * d[BW_D_KW] * d[BW_D_IN_C]);
  const int32_t mid = d[BW_D_IN_PLANES] == 1 ? K / 2 : 0;
  if (d[BW_D_OPCODE] & BW_OP_THRESHOLD) {
    const uint32_t L = (1u << d[BW_D_OUT_BITS]) - 1;
    for (uint32_t i = 0; i < oc_n * L; i++) params[d[BW_D_T_OFF] + i] = mid + r.range(-K / 3 - 2, K / 3 + 2);
  }
  for (uint32_t oc = 0; oc < oc_n; oc++) params[d[BW_D_F_OFF] + oc] = (int32_t)r.upto(4);
}

/* One entry of the pixel stream (docs/ARCHITECTURE.md, "RTL array", Dataflow). */
struct Entry {
  uint32_t n, oy, ox;
  int32_t ay, ax;
  bool first, last;
};

/* One pass of a layer's pixel stream over `images` images, from its definition: every
 * image, output pixel and accumulator pixel of its pool window inside the map. */
inline std::vector<Entry> pixel_stream(const uint32_t *d, uint32_t images) {
  const bool pool = d[BW_D_OPCODE] & BW_OP_POOL;
  const int32_t pkh = pool ? d[BW_D_POOL_KH] : 1, pkw = pool ? d[BW_D_POOL_KW] : 1, psh = pool ? d[BW_D_POOL_SH] : 1,
                psw = pool ? d[BW_D_POOL_SW] : 1, pph = pool ? d[BW_D_POOL_PH] : 0, ppw = pool ? d[BW_D_POOL_PW] : 0;
  std::vector<Entry> out;
  for (uint32_t n = 0; n < images; n++)
    for (uint32_t oy = 0; oy < d[BW_D_OUT_H]; oy++)
      for (uint32_t ox = 0; ox < d[BW_D_OUT_W]; ox++) {
        std::vector<Entry> win;
        for (int32_t py = 0; py < pkh; py++)
          for (int32_t px = 0; px < pkw; px++) {
            const int32_t ay = (int32_t)oy * psh - pph + py, ax = (int32_t)ox * psw - ppw + px;
            if (ay < 0 || ax < 0 || ay >= (int32_t)d[BW_D_ACC_H] || ax >= (int32_t)d[BW_D_ACC_W]) continue;
            win.push_back({n, oy, ox, ay, ax, false, false});
          }
        win.front().first = true;
        win.back().last = true;
        out.insert(out.end(), win.begin(), win.end());
      }
  return out;
}

inline int report(const char *bench, int fails, int cases) {
  if (fails) {
    printf("%s: FAIL (%d of %d cases)\n", bench, fails, cases);
    return 1;
  }
  printf("%s: PASS (%d cases)\n", bench, cases);
  return 0;
}

}  // namespace tb

#endif
