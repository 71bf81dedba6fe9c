/*
 * Test bench of the feeder (and the weight feeder): every token equals the word the
 * sliding window addresses, computed here from the output pixel, pool element and kernel
 * position directly (padding, stride, pad value, planes, tile and group replays).
 */
#include "../feeder.h"
#include "../weight_feeder.h"
#include "tb_common.h"

template <int R, int C>
static int check(tb::Rng &r, int it) {
  const tb::Geometry g = tb::random_geometry(r);
  uint32_t d[BW_DESC_WORDS];
  const uint32_t words = (g.c + 63) / 64, in = g.h * g.w * g.planes * words;
  tb::make_desc(g, 3, in + 3, 2, 0, 0, d);
  const bw::Layer L = bw::decode_layer<R, C>(d);
  std::vector<uint64_t> arena(in + 3), weights(2 + g.out_c * g.kh * g.kw * words);
  tb::random_bits(r, arena.data() + 3, g.h * g.w * g.planes, g.c);
  tb::random_bits(r, weights.data() + 2, g.out_c * g.kh * g.kw, g.c);
  hls::stream<bw::ActVec<C> > act;
  hls::stream<bw::WgtVec<R> > wgt;
  bw::feeder<C, 4096>(L, arena.data(), act);
  bw::weight_feeder<R, 1024>(L, weights.data(), wgt);
  const uint32_t pixels = d[BW_D_OUT_H] * d[BW_D_OUT_W];
  const uint32_t pk = g.pool ? g.pkh * g.pkw : 1;
  for (uint32_t t = 0; t * C < pixels; t++)
    for (uint32_t grp = 0; grp * R < g.out_c; grp++)
      for (uint32_t e = 0; e < pk; e++)
        for (uint32_t ky = 0; ky < g.kh; ky++)
          for (uint32_t kx = 0; kx < g.kw; kx++)
            for (uint32_t b = 0; b < g.planes; b++)
              for (uint32_t j = 0; j < words; j++) {
                if (act.empty() || wgt.empty()) {
                  printf("case %d: streams end early\n", it);
                  return 1;
                }
                const bw::ActVec<C> a = act.read();
                const bw::WgtVec<R> w = wgt.read();
                for (int c = 0; c < C; c++) {
                  const uint32_t p = t * C + c;
                  if (p >= pixels) continue;
                  const uint32_t oy = p / d[BW_D_OUT_W], ox = p % d[BW_D_OUT_W];
                  const int32_t ay = g.pool ? (int32_t)(oy * g.psh + e / g.pkw) - (int32_t)g.pph : (int32_t)oy;
                  const int32_t ax = g.pool ? (int32_t)(ox * g.psw + e % g.pkw) - (int32_t)g.ppw : (int32_t)ox;
                  if (ay < 0 || ax < 0 || ay >= (int32_t)d[BW_D_ACC_H] || ax >= (int32_t)d[BW_D_ACC_W]) continue;
                  const int32_t iy = ay * (int32_t)g.sh - (int32_t)g.ph + (int32_t)ky, ix = ax * (int32_t)g.sw - (int32_t)g.pw + (int32_t)kx;
                  uint64_t want = 0;
                  if (iy >= 0 && ix >= 0 && iy < (int32_t)g.h && ix < (int32_t)g.w) {
                    want = arena[3 + (((uint64_t)iy * g.w + ix) * g.planes + b) * words + j];
                  } else if (g.pad_bit) {
                    for (uint32_t ch = 64 * j; ch < g.c && ch < 64 * j + 64; ch++) want |= (uint64_t)1 << (ch % 64);
                  }
                  if (a.w[c] != want) {
                    printf("case %d: tile %u group %u elem %u k(%u,%u) plane %u word %u column %d: %016llx, want %016llx\n", it, t, grp, e, ky, kx, b, j, c,
                           (unsigned long long)a.w[c], (unsigned long long)want);
                    return 1;
                  }
                }
                for (int rr = 0; rr < R; rr++) {
                  const uint32_t oc = grp * R + rr;
                  const uint64_t want = oc < g.out_c ? weights[2 + ((uint64_t)(oc * g.kh + ky) * g.kw + kx) * words + j] : 0;
                  if (w.w[rr] != want) {
                    printf("case %d: weight row %d, tile %u group %u k(%u,%u) word %u: %016llx, want %016llx\n", it, rr, t, grp, ky, kx, j,
                           (unsigned long long)w.w[rr], (unsigned long long)want);
                    return 1;
                  }
                }
              }
  if (!act.empty() || !wgt.empty()) {
    printf("case %d: extra tokens\n", it);
    return 1;
  }
  return 0;
}

int main() {
  tb::Rng r(7);
  int fails = 0, cases = 0;
  for (int it = 0; it < 80; it++) {
    fails += it % 2 ? check<3, 5>(r, it) : check<BW_ROWS, BW_COLS>(r, it);
    cases++;
  }
  return tb::report("tb_feeder", fails, cases);
}
