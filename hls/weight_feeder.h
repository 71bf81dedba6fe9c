/*
 * Weight feeder: for every tile, the ROWS output channels' packed weights
 * ([outC][wbits][kh][kw][in_words] 64-bit words: a channel's planes adjacent, so the
 * window's word counter runs on into the next plane), one word per PE row per cycle, from a
 * row-partitioned on-chip buffer (row r holds channels g*ROWS + r). When every group's
 * weights fit (groups * wbits*kh*kw*in_words <= MAX_KWORDS; fashion-cnn's and BMXNet MNIST's
 * layers do) they load once per layer, as the RTL's on-chip weight lanes hold them;
 * otherwise the buffer holds one group and reloads when the group changes: once per group
 * on pool layers (group -> slots), per tile on other layers (slot -> group), memory
 * traffic outside the cycle model. The same weight word serves every bit-plane of a k-bit
 * activation.
 */
#ifndef BW_WEIGHT_FEEDER_H
#define BW_WEIGHT_FEEDER_H

#include "bw_stream.h"
#include "layer.h"
#include "tokens.h"

namespace bw {

/*
 * ROWS:       PE rows (output channels per tile).
 * MAX_KWORDS: weight words per output channel the buffer holds (>= wbits*kh*kw*in_words).
 */
template <int ROWS, int MAX_KWORDS>
void weight_feeder(const Layer L, const word_t *weights, hls::stream<WgtVec<ROWS> > &wgt) {
  BW_BUFFER word_t wbuf[ROWS][MAX_KWORDS];
#pragma HLS ARRAY_PARTITION variable = wbuf complete dim = 1
  const bool all = (uint64_t)L.groups * L.kwords <= (uint64_t)MAX_KWORDS; /* every group on chip */
  uint32_t g = 0, slot = 0;    /* the tile's group and slot, by counters */
  uint32_t base = 0;           /* the group's first word in wbuf: g * kwords when all, else 0 */
  uint32_t have = 0xffffffffu; /* group in wbuf (one group at a time) */
  if (all) {
    uint32_t at = 0;
  groups_load:
    for (uint32_t gg = 0; gg < L.groups; gg++) {
#pragma HLS LOOP_TRIPCOUNT max = 512
    rows_all:
      for (int r = 0; r < ROWS; r++) {
        const uint32_t oc = gg * ROWS + (uint32_t)r;
      load_all:
        for (uint32_t k = 0; k < L.kwords; k++) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT max = 576
          wbuf[r][at + k] = oc < L.out_c ? weights[L.w_off + oc * L.kwords + k] : (word_t)0;
        }
      }
      at += L.kwords;
    }
  }
tiles:
  for (uint32_t t = 0; t < L.tiles; t++) {
#pragma HLS LOOP_TRIPCOUNT max = 4096
    if (!all && g != have) {
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
    uint32_t kw_word = 0, b = 0, j = 0; /* kw_word = ((q*kh + ky)*kw + kx)*in_words + j */
  steps:
    for (uint32_t s = 0; s < L.ksteps; s++) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT max = 576
      WgtVec<ROWS> v;
    row:
      for (int r = 0; r < ROWS; r++) {
#pragma HLS UNROLL
        v.w[r] = wbuf[r][base + kw_word];
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
    const uint32_t g0 = g;
    if (L.pool) {
      if (++slot == L.slots) {
        slot = 0;
        g++;
      }
    } else if (++g == L.groups) {
      g = 0;
    }
    if (all) base = g == 0 ? 0 : g == g0 ? base : base + L.kwords;
  }
}

}  // namespace bw

#endif
