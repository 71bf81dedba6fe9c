/*
 * Test bench of the top function and the sequencer: random layer programs of one or two
 * chained layers (the second reads what the first wrote), up to 12 images (so slots span
 * images), against the golden model of tb_common.h, image by image. Also the
 * C-simulation bench of run_hls.tcl (csim_design, cosim_design); link it with
 * bitweave_array.cpp. Its arrays are at least the m_axi depths (depths.h), so co-simulation
 * never reads past them.
 */
#include <string.h>

#include "../depths.h"
#include "../sequencer.h"
#include "tb_common.h"

/* the top function under test (bitweave_array.cpp, compiled and linked separately) */
extern "C" void bitweave_array(const uint32_t *program, uint32_t layers, const uint64_t *weights, const int32_t *params,
                               uint64_t *arena, uint32_t arena_words, uint32_t images);

template <int R, int C>
static void run_variant(const uint32_t *p, uint32_t layers, const uint64_t *w, const int32_t *q, uint64_t *a, uint32_t aw, uint32_t n) {
  bw::run_program<R, C, BW_HLS_MAX_FM_WORDS, BW_HLS_MAX_KWORDS, BW_HLS_MAX_OUT_C>(p, layers, w, q, a, aw, n);
}

int main() {
  tb::Rng r(2024);
  int fails = 0, cases = 0;
  for (int it = 0; it < 60; it++) {
    const bool chain = it % 3 == 0;
    tb::Geometry g1 = tb::random_geometry(r);
    if (chain && g1.out_bits == 0) g1.out_bits = 1 + r.upto(2);
    uint32_t d[2 * BW_DESC_WORDS];
    const uint32_t in1 = g1.h * g1.w * g1.planes * ((g1.c + 63) / 64);
    uint32_t wsize1 = g1.out_c * g1.kh * g1.kw * ((g1.c + 63) / 64);
    const uint32_t L1 = g1.out_bits ? (1u << g1.out_bits) - 1 : 0;
    const uint32_t out1 = tb::make_desc(g1, 0, in1, 0, 0, g1.out_c * L1, d);
    uint32_t layers = 1, arena_words = in1 + out1, wsize = wsize1, psize = g1.out_c * (L1 + 1);
    if (chain) {
      tb::Geometry g2 = tb::random_geometry(r);
      g2.h = d[BW_D_OUT_H];
      g2.w = d[BW_D_OUT_W];
      g2.c = g1.out_c;
      g2.planes = g1.out_bits;
      g2.kh = 1 + r.upto(g2.h < 3 ? g2.h : 3);
      g2.kw = 1 + r.upto(g2.w < 3 ? g2.w : 3);
      g2.ph = r.upto(g2.kh);
      g2.pw = r.upto(g2.kw);
      g2.pool = false;
      const uint32_t L2 = g2.out_bits ? (1u << g2.out_bits) - 1 : 0;
      const uint32_t out2 = tb::make_desc(g2, in1, arena_words, wsize, psize, psize + g2.out_c * L2, d + BW_DESC_WORDS);
      wsize += g2.out_c * g2.kh * g2.kw * ((g2.c + 63) / 64);
      psize += g2.out_c * (L2 + 1);
      arena_words += out2;
      layers = 2;
    }
    uint32_t images = 1 + r.upto(12);
    while (images > 1 && (uint64_t)images * arena_words > BW_DEPTH_ARENA) images--;
    if ((uint64_t)layers * BW_DESC_WORDS > BW_DEPTH_GMEM0 || psize + 1 > BW_DEPTH_GMEM0 || wsize + 1 > BW_DEPTH_WEIGHTS ||
        (uint64_t)images * arena_words > BW_DEPTH_ARENA) {
      printf("case %d: the bench's buffers exceed the m_axi depths (depths.h)\n", it);
      return 1;
    }
    std::vector<uint64_t> weights(BW_DEPTH_WEIGHTS), arena(BW_DEPTH_ARENA), want;
    std::vector<int32_t> params(BW_DEPTH_GMEM0);
    std::vector<uint32_t> program(BW_DEPTH_GMEM0);
    memcpy(program.data(), d, sizeof(uint32_t) * layers * BW_DESC_WORDS);
    for (uint32_t l = 0; l < layers; l++) {
      const uint32_t *dl = d + l * BW_DESC_WORDS;
      const uint32_t k = dl[BW_D_OUT_C] * dl[BW_D_KH] * dl[BW_D_KW];
      tb::random_bits(r, weights.data() + dl[BW_D_W_OFF], k, dl[BW_D_IN_C]);
      tb::random_params(r, dl, params.data());
    }
    for (uint32_t i = 0; i < images; i++) tb::random_bits(r, arena.data() + (size_t)i * arena_words, g1.h * g1.w * g1.planes, g1.c);
    want = arena;
    for (uint32_t i = 0; i < images; i++)
      for (uint32_t l = 0; l < layers; l++) tb::golden_layer(d + l * BW_DESC_WORDS, want.data() + (size_t)i * arena_words, weights.data(), params.data());
    for (int v = 0; v < 3; v++) {
      std::vector<uint64_t> got = arena;
      if (v == 0) bitweave_array(program.data(), layers, weights.data(), params.data(), got.data(), arena_words, images);
      else if (v == 1) run_variant<3, 5>(program.data(), layers, weights.data(), params.data(), got.data(), arena_words, images);
      else run_variant<1, 1>(program.data(), layers, weights.data(), params.data(), got.data(), arena_words, images);
      cases++;
      if (got != want) {
        if (!fails) {
          size_t k = 0;
          while (got[k] == want[k]) k++;
          printf("case %d (%s, %u layers, %u images): arena word %zu is %016llx, want %016llx\n", it, v == 2 ? "1x1" : v ? "3x5" : "default", layers, images, k,
                 (unsigned long long)got[k], (unsigned long long)want[k]);
        }
        fails++;
      }
    }
  }
  return tb::report("tb_kernel", fails, cases);
}
