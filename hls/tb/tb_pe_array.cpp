/*
 * Test bench of the PE array: random activation and weight words for every cycle, in XNOR
 * and AND bit-plane modes; every tile's accumulators equal -TAIL plus its popcount terms
 * summed here per (row, column), plane by plane. Also the popcount adder tree (synthesis)
 * and the C-simulation popcount against the compiler's popcount.
 */
#include "../pe_array.h"
#include "tb_common.h"

template <int R, int C>
static int check(tb::Rng &r, int it) {
  const tb::Geometry g = tb::random_geometry(r);
  uint32_t d[BW_DESC_WORDS];
  tb::make_desc(g, 0, 0, 0, 0, 0, d);
  const bw::Layer L = bw::decode_layer<R, C>(d, 1 + r.upto(4));
  const uint32_t words = (g.c + 63) / 64;
  const uint32_t tiles = L.tiles;
  hls::stream<bw::ActVec<C> > act;
  hls::stream<bw::WgtVec<R> > wgt;
  hls::stream<bw::AccTile<R, C> > out;
  std::vector<int64_t> want((size_t)tiles * R * C, -(int64_t)d[BW_D_TAIL]);
  for (uint32_t n = 0; n < tiles; n++)
    for (uint32_t k = 0; k < g.kh * g.kw; k++)
      for (uint32_t b = 0; b < g.planes; b++)
        for (uint32_t j = 0; j < words; j++) {
          bw::ActVec<C> a;
          bw::WgtVec<R> w;
          for (int c = 0; c < C; c++) a.w[c] = r.upto(8) == 0 ? 0 : r.next();
          for (int rr = 0; rr < R; rr++) w.w[rr] = r.upto(8) == 0 ? ~0ULL : r.next();
          act.write(a);
          wgt.write(w);
          for (int rr = 0; rr < R; rr++)
            for (int c = 0; c < C; c++) {
              int64_t term = 0;
              for (int bit = 0; bit < 64; bit++) {
                const int ab = (a.w[c] >> bit) & 1, wb = (w.w[rr] >> bit) & 1;
                if (g.planes == 1) term += ab == wb;
                else term += ab ? (wb ? 1 : -1) : 0; /* a·(±1) for a bit of plane b */
              }
              want[((size_t)n * R + rr) * C + c] += term << (g.planes == 1 ? 0 : b);
            }
        }
  bw::pe_array<R, C>(L, act, wgt, out);
  for (uint32_t n = 0; n < tiles; n++) {
    const bw::AccTile<R, C> t = out.read();
    for (int rr = 0; rr < R; rr++)
      for (int c = 0; c < C; c++)
        if (t.v[rr][c] != want[((size_t)n * R + rr) * C + c]) {
          printf("case %d: tile %u row %d column %d: %d, want %lld\n", it, n, rr, c, t.v[rr][c], (long long)want[((size_t)n * R + rr) * C + c]);
          return 1;
        }
  }
  if (!out.empty() || !act.empty() || !wgt.empty()) {
    printf("case %d: tokens left over\n", it);
    return 1;
  }
  return 0;
}

int main() {
  tb::Rng r(11);
  int fails = 0, cases = 0;
  for (int i = 0; i < 100000; i++) {
    const uint64_t x = r.upto(16) == 0 ? ~0ULL << r.upto(64) : r.next();
    if (bw::popcount64_tree(x) != tb::pc(x) || bw::popcount64(x) != tb::pc(x)) {
      printf("popcount64(%016llx) = %u (tree %u), want %u\n", (unsigned long long)x, bw::popcount64(x), bw::popcount64_tree(x), tb::pc(x));
      return 1;
    }
  }
  for (int it = 0; it < 40; it++) {
    fails += it % 2 ? check<3, 5>(r, it) : check<BW_ROWS, BW_COLS>(r, it);
    cases++;
  }
  return tb::report("tb_pe_array", fails, cases);
}
