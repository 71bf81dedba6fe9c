/*
 * Test bench of the output unit: a random accumulator map is drained tile by tile as the
 * PE array would (garbage in columns the pool must ignore); the arena must then hold the
 * golden pool (max / min per channel) + thresholds (flip, k-bit levels) packed into
 * bit-planes, or the int32 values two per word, and nothing outside the output region
 * may change.
 */
#include "../output_unit.h"
#include "tb_common.h"

template <int R, int C>
static int check(tb::Rng &r, int it) {
  const tb::Geometry g = tb::random_geometry(r);
  uint32_t d[BW_DESC_WORDS];
  const uint32_t levels = g.out_bits ? (1u << g.out_bits) - 1 : 0;
  const uint32_t out = tb::make_desc(g, 0, 5, 0, 1, 1 + g.out_c * levels, d);
  const bw::Layer L = bw::decode_layer<R, C>(d);
  std::vector<int32_t> params(1 + g.out_c * (levels + 1) + 1);
  tb::random_params(r, d, params.data());
  const uint32_t ah = d[BW_D_ACC_H], aw = d[BW_D_ACC_W];
  std::vector<int32_t> acc((size_t)ah * aw * g.out_c);
  const int32_t K = (int32_t)(g.kh * g.kw * g.c);
  for (auto &v : acc) v = g.planes == 1 ? r.range(0, K) : r.range(-K, K);
  hls::stream<bw::AccRow<C> > in;
  for (uint32_t t = 0; t < L.tiles; t++)
    for (uint32_t grp = 0; grp < L.groups; grp++)
      for (uint32_t e = 0; e < L.elems; e++)
        for (int rr = 0; rr < R; rr++) {
          bw::AccRow<C> row;
          for (int c = 0; c < C; c++) {
            int32_t ay, ax;
            const uint32_t oc = grp * R + rr;
            const bool ok = bw::column_acc_pos<C>(L, t, e, (uint32_t)c, ay, ax);
            row.v[c] = ok && oc < g.out_c ? acc[((size_t)ay * aw + ax) * g.out_c + oc] : (int32_t)r.next();
          }
          in.write(row);
        }
  std::vector<uint64_t> got(5 + out + 3), want;
  for (auto &w : got) w = r.next();
  want = got;
  tb::golden_out(d, acc, want.data(), params.data());
  bw::output_unit<R, C, 256, BW_MAX_BITS>(L, params.data(), in, got.data());
  if (!in.empty()) {
    printf("case %d: tokens left over\n", it);
    return 1;
  }
  for (size_t k = 0; k < got.size(); k++)
    if (got[k] != want[k]) {
      printf("case %d: arena word %zu (output region %u..%u): %016llx, want %016llx\n", it, k, 5, 5 + out, (unsigned long long)got[k], (unsigned long long)want[k]);
      return 1;
    }
  return 0;
}

int main() {
  tb::Rng r(13);
  int fails = 0, cases = 0;
  for (int it = 0; it < 120; it++) {
    fails += it % 2 ? check<3, 5>(r, it) : check<BW_ROWS, BW_COLS>(r, it);
    cases++;
  }
  return tb::report("tb_output_unit", fails, cases);
}
