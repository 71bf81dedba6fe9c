/*
 * Test bench of the pixel walker, the feeder and the weight feeder over a batch: every
 * slot the walker sends equals COLS consecutive entries of the pixel stream enumerated here
 * from its definition (tb_common.h pixel_stream; pool layers once per channel group), and
 * every activation / weight token equals the word the sliding window addresses for that
 * entry, tile by tile in the schedule's order (pool layers group -> slot, others slot ->
 * group), with padding, strides, pad value and planes.
 */
#include "../feeder.h"
#include "../walker.h"
#include "../weight_feeder.h"
#include "tb_common.h"

template <int R, int C>
static int check(tb::Rng &r, int it) {
  const tb::Geometry g = tb::random_geometry(r);
  uint32_t d[BW_DESC_WORDS];
  const uint32_t words = (g.c + 63) / 64, in = g.h * g.w * g.planes * words;
  const uint32_t arena_words = in + 5, images = 1 + r.upto(9);
  tb::make_desc(g, 3, in + 3, 2, 0, 0, d);
  const bw::Layer L = bw::decode_layer<R, C>(d, images);
  std::vector<uint64_t> arena((size_t)images * arena_words), weights(2 + g.out_c * g.kh * g.kw * words);
  for (uint32_t n = 0; n < images; n++) tb::random_bits(r, arena.data() + (size_t)n * arena_words + 3, g.h * g.w * g.planes, g.c);
  tb::random_bits(r, weights.data() + 2, g.out_c * g.kh * g.kw, g.c);
  hls::stream<bw::Slot<C> > sf, so;
  hls::stream<bw::ActVec<C> > act;
  hls::stream<bw::WgtVec<R> > wgt;
  bw::walker<C>(L, sf, so);
  bw::feeder<C, 4096>(L, arena.data(), arena_words, sf, act);
  /* a buffer that holds every group, or (64 words) often only one: both weight paths */
  if (it % 4 < 2) bw::weight_feeder<R, 1024>(L, weights.data(), wgt);
  else bw::weight_feeder<R, 64>(L, weights.data(), wgt);
  const std::vector<tb::Entry> stream = tb::pixel_stream(d, images);
  const uint32_t groups = (g.out_c + R - 1) / R, slots = (uint32_t)((stream.size() + C - 1) / C);
  const uint32_t passes = g.pool ? groups : 1, reps = g.pool ? 1 : groups;
  for (uint32_t pass = 0; pass < passes; pass++)
    for (uint32_t sl = 0; sl < slots; sl++) {
      if (so.empty()) {
        printf("case %d: the walker stops early\n", it);
        return 1;
      }
      const bw::Slot<C> s = so.read();
      const uint32_t nvalid = stream.size() - sl * C < (uint32_t)C ? (uint32_t)(stream.size() - sl * C) : (uint32_t)C;
      if (s.nvalid != nvalid || (g.pool && s.g != pass)) {
        printf("case %d: slot %u has %u entries (group %u), want %u (group %u)\n", it, sl, s.nvalid, s.g, nvalid, pass);
        return 1;
      }
      for (uint32_t c = 0; c < nvalid; c++) {
        const tb::Entry &e = stream[sl * C + c];
        if (s.n[c] != e.n || s.iy0[c] != e.ay * (int32_t)g.sh - (int32_t)g.ph || s.ix0[c] != e.ax * (int32_t)g.sw - (int32_t)g.pw ||
            s.opix[c] != e.oy * d[BW_D_OUT_W] + e.ox || s.first[c] != e.first || s.last[c] != e.last) {
          printf("case %d: slot %u column %u differs from stream entry %u\n", it, sl, c, sl * C + c);
          return 1;
        }
      }
      for (uint32_t rep = 0; rep < reps; rep++) {
        const uint32_t grp = g.pool ? pass : rep;
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
                for (uint32_t c = 0; c < nvalid; c++) {
                  const tb::Entry &e = stream[sl * C + c];
                  const int32_t iy = e.ay * (int32_t)g.sh - (int32_t)g.ph + (int32_t)ky, ix = e.ax * (int32_t)g.sw - (int32_t)g.pw + (int32_t)kx;
                  uint64_t want = 0;
                  if (iy >= 0 && ix >= 0 && iy < (int32_t)g.h && ix < (int32_t)g.w) {
                    want = arena[(size_t)e.n * arena_words + 3 + (((uint64_t)iy * g.w + ix) * g.planes + b) * words + j];
                  } else if (g.pad_bit) {
                    for (uint32_t ch = 64 * j; ch < g.c && ch < 64 * j + 64; ch++) want |= (uint64_t)1 << (ch % 64);
                  }
                  if (a.w[c] != want) {
                    printf("case %d: slot %u group %u k(%u,%u) plane %u word %u column %u: %016llx, want %016llx\n", it, sl, grp, ky, kx, b, j, c,
                           (unsigned long long)a.w[c], (unsigned long long)want);
                    return 1;
                  }
                }
                for (int rr = 0; rr < R; rr++) {
                  const uint32_t oc = grp * R + rr;
                  const uint64_t want = oc < g.out_c ? weights[2 + ((uint64_t)(oc * g.kh + ky) * g.kw + kx) * words + j] : 0;
                  if (w.w[rr] != want) {
                    printf("case %d: weight row %d, slot %u group %u k(%u,%u) word %u: %016llx, want %016llx\n", it, rr, sl, grp, ky, kx, j,
                           (unsigned long long)w.w[rr], (unsigned long long)want);
                    return 1;
                  }
                }
              }
      }
    }
  if (!act.empty() || !wgt.empty() || !so.empty()) {
    printf("case %d: extra tokens\n", it);
    return 1;
  }
  return 0;
}

int main() {
  tb::Rng r(7);
  int fails = 0, cases = 0;
  for (int it = 0; it < 80; it++) {
    fails += it % 3 == 2 ? check<1, 1>(r, it) : it % 3 ? check<3, 5>(r, it) : check<BW_ROWS, BW_COLS>(r, it);
    cases++;
  }
  return tb::report("tb_feeder", fails, cases);
}
