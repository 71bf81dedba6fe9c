/*
 * Test bench of the output unit over a batch: random accumulator maps (one per image) are
 * drained as the PE array would, tile by tile in the schedule's order (slots of the pixel
 * stream enumerated here from its definition; garbage in empty columns and in rows past
 * OUT_C); every image's arena must then hold the golden pool (max / min per channel) +
 * thresholds (flip, k-bit levels) packed into bit-planes, or the int32 values two per
 * word, and nothing outside the output regions may change.
 */
#include "../output_unit.h"
#include "tb_common.h"

template <int R, int C>
static int check(tb::Rng &r, int it) {
  const tb::Geometry g = tb::random_geometry(r);
  uint32_t d[BW_DESC_WORDS];
  const uint32_t levels = g.out_bits ? (1u << g.out_bits) - 1 : 0;
  const uint32_t out = tb::make_desc(g, 0, 5, 0, 1, 1 + g.out_c * levels, d);
  const uint32_t images = 1 + r.upto(9), arena_words = 5 + out + 3;
  const bw::Layer L = bw::decode_layer<R, C>(d, images);
  std::vector<int32_t> params(1 + g.out_c * (levels + 1) + 1);
  tb::random_params(r, d, params.data());
  const uint32_t ah = d[BW_D_ACC_H], aw = d[BW_D_ACC_W];
  const int32_t K = (int32_t)(g.kh * g.kw * g.c);
  std::vector<std::vector<int32_t> > acc(images, std::vector<int32_t>((size_t)ah * aw * g.out_c));
  for (auto &m : acc)
    for (auto &v : m) v = g.planes == 1 ? r.range(0, K) : r.range(-K, K);
  const std::vector<tb::Entry> stream = tb::pixel_stream(d, images);
  const uint32_t groups = (g.out_c + R - 1) / R, slots = (uint32_t)((stream.size() + C - 1) / C);
  hls::stream<bw::Slot<C> > so;
  hls::stream<bw::AccTile<R, C> > in;
  for (uint32_t pass = 0; pass < (g.pool ? groups : 1); pass++)
    for (uint32_t sl = 0; sl < slots; sl++) {
      bw::Slot<C> s;
      s.nvalid = 0;
      s.g = pass;
      for (uint32_t c = 0; c < (uint32_t)C; c++) {
        const bool ok = sl * C + c < stream.size();
        const tb::Entry e = ok ? stream[sl * C + c] : tb::Entry{0, 0, 0, 0, 0, false, false};
        s.n[c] = e.n;
        s.iy0[c] = s.ix0[c] = 0; /* the feeder's */
        s.opix[c] = e.oy * d[BW_D_OUT_W] + e.ox;
        s.first[c] = e.first;
        s.last[c] = e.last;
        if (ok) s.nvalid = c + 1;
      }
      so.write(s);
      for (uint32_t rep = 0; rep < (g.pool ? 1 : groups); rep++) {
        const uint32_t grp = g.pool ? pass : rep;
        bw::AccTile<R, C> t;
        for (int rr = 0; rr < R; rr++)
          for (uint32_t c = 0; c < (uint32_t)C; c++) {
            const uint32_t oc = grp * R + rr;
            const bool ok = c < s.nvalid && oc < g.out_c;
            const tb::Entry &e = stream[ok ? sl * C + c : 0];
            t.v[rr][c] = ok ? acc[e.n][((size_t)e.ay * aw + e.ax) * g.out_c + oc] : (int32_t)r.next();
          }
        in.write(t);
      }
    }
  std::vector<uint64_t> got((size_t)images * arena_words), want;
  for (auto &w : got) w = r.next();
  want = got;
  for (uint32_t n = 0; n < images; n++) tb::golden_out(d, acc[n], want.data() + (size_t)n * arena_words, params.data());
  bw::output_unit<R, C, 256, BW_MAX_BITS>(L, params.data(), so, in, got.data(), arena_words);
  if (!in.empty() || !so.empty()) {
    printf("case %d: tokens left over\n", it);
    return 1;
  }
  for (size_t k = 0; k < got.size(); k++)
    if (got[k] != want[k]) {
      printf("case %d: image %zu arena word %zu (output region %u..%u): %016llx, want %016llx\n", it, k / arena_words, k % arena_words, 5, 5 + out,
             (unsigned long long)got[k], (unsigned long long)want[k]);
      return 1;
    }
  return 0;
}

int main() {
  tb::Rng r(13);
  int fails = 0, cases = 0;
  for (int it = 0; it < 150; it++) {
    fails += it % 3 == 2 ? check<1, 1>(r, it) : it % 3 ? check<3, 5>(r, it) : check<BW_ROWS, BW_COLS>(r, it);
    cases++;
  }
  return tb::report("tb_output_unit", fails, cases);
}
