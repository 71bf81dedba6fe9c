/*
 * Weight feeder: for every tile, the ROWS output channels' packed weights
 * ([outC][kh][kw][in_words] 64-bit words), one word per PE row per cycle, from a
 * row-partitioned on-chip buffer that holds one channel group. Tiles come in the
 * schedule's order (layer.h): pool layers group -> slots, so a group's weights load once;
 * other layers slot -> group, so they reload per tile (memory traffic outside the cycle
 * model; the RTL reads them from on-chip weight lanes). The same weight word serves every
 * bit-plane of a k-bit activation.
 */
#ifndef BW_WEIGHT_FEEDER_H
#define BW_WEIGHT_FEEDER_H

#include "bw_stream.h"
#include "layer.h"
#include "tokens.h"

namespace bw {

/*
 * ROWS:       PE rows (output channels per tile).
 * MAX_KWORDS: weight words per output channel the buffer holds (>= kh*kw*in_words).
 */
template <int ROWS, int MAX_KWORDS>
void weight_feeder(const Layer L, const word_t *weights, hls::stream<WgtVec<ROWS> > &wgt) {
  BW_BUFFER word_t wbuf[ROWS][MAX_KWORDS];
#pragma HLS ARRAY_PARTITION variable = wbuf complete dim = 1
  uint32_t g = 0, slot = 0; /* the tile's group and slot, by counters */
  uint32_t have = 0xffffffffu; /* group in wbuf */
tiles:
  for (uint32_t t = 0; t < L.tiles; t++) {
#pragma HLS LOOP_TRIPCOUNT max = 4096
    if (g != have) {
    rows:
      for (int r = 0; r < ROWS; r++) {
        const uint32_t oc = g * ROWS + (uint32_t)r;
      load:
        for (uint32_t k = 0; k < L.kwords; k++) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT max = 576
          wbuf[r][k] = oc < L.out_c ? weights[L.w_off + oc * L.kwords + k] : (word_t)0;
        }
      }
      have = g;
    }
    uint32_t kw_word = 0, b = 0, j = 0; /* kw_word = (ky*kw + kx)*in_words + j */
  steps:
    for (uint32_t s = 0; s < L.ksteps; s++) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT max = 576
      WgtVec<ROWS> v;
    row:
      for (int r = 0; r < ROWS; r++) {
#pragma HLS UNROLL
        v.w[r] = wbuf[r][kw_word];
      }
      wgt.write(v);
      if (++j == L.in_words) {
        j = 0;
        if (++b == L.planes) {
          b = 0;
          kw_word++;
        } else {
          kw_word -= L.in_words - 1;
        }
      } else {
        kw_word++;
      }
    }
    /* next tile: pool layers group -> slots, others slot -> group */
    if (L.pool) {
      if (++slot == L.slots) {
        slot = 0;
        g++;
      }
    } else if (++g == L.groups) {
      g = 0;
    }
  }
}

}  // namespace bw

#endif
