/*
 * Feeder: the sliding-window activation feeder. Loads one image's input feature map
 * (canonical NHWC bit-planes) into an on-chip buffer once per layer, then builds the
 * activation word of every PE column for every cycle straight from it: the window position
 * follows stride and padding, padded pixels read pad_word (PAD_BIT in the real channel bits,
 * 0 in the tail). No im2col copy exists anywhere.
 */
#ifndef BW_FEEDER_H
#define BW_FEEDER_H

#include "bw_stream.h"
#include "layer.h"
#include "tokens.h"

namespace bw {

/*
 * COLS:    PE columns (output pixels per tile); a tile is replayed once per channel group.
 * MAX_FM:  on-chip feature-map buffer, 64-bit words (>= in_h*in_w*planes*in_words).
 */
template <int COLS, int MAX_FM>
void feeder(const Layer L, const word_t *arena, hls::stream<ActVec<COLS> > &act) {
  BW_BUFFER word_t fm[MAX_FM];
#pragma HLS BIND_STORAGE variable = fm type = ram_2p impl = uram
  const uint32_t fm_words = L.in_h * L.in_w * L.planes * L.in_words;
load:
  for (uint32_t i = 0; i < fm_words; i++) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT max = 4096
    fm[i] = arena[L.in_off + i];
  }

  int32_t cy[COLS], cx[COLS];
  bool cvalid[COLS];
#pragma HLS ARRAY_PARTITION variable = cy complete
#pragma HLS ARRAY_PARTITION variable = cx complete
#pragma HLS ARRAY_PARTITION variable = cvalid complete

tiles:
  for (uint32_t t = 0; t < L.tiles; t++) {
  groups:
    for (uint32_t g = 0; g < L.groups; g++) {
    elems:
      for (uint32_t e = 0; e < L.elems; e++) {
      columns:
        for (int c = 0; c < COLS; c++) {
#pragma HLS UNROLL
          int32_t ay, ax;
          cvalid[c] = column_acc_pos<COLS>(L, t, e, (uint32_t)c, ay, ax);
          /* top-left input pixel of the window (may lie in the padding) */
          cy[c] = ay * (int32_t)L.sh - (int32_t)L.ph;
          cx[c] = ax * (int32_t)L.sw - (int32_t)L.pw;
        }
        uint32_t ky = 0, kx = 0, b = 0, j = 0;
      steps:
        for (uint32_t s = 0; s < L.ksteps; s++) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT max = 576
          ActVec<COLS> v;
          const word_t pad = pad_word(L.pad_bit, L.in_c, j);
        col:
          for (int c = 0; c < COLS; c++) {
#pragma HLS UNROLL
            const int32_t iy = cy[c] + (int32_t)ky;
            const int32_t ix = cx[c] + (int32_t)kx;
            const bool inside = iy >= 0 && iy < (int32_t)L.in_h && ix >= 0 && ix < (int32_t)L.in_w;
            word_t a = pad;
            if (cvalid[c] && inside) a = fm[(((uint32_t)iy * L.in_w + (uint32_t)ix) * L.planes + b) * L.in_words + j];
            v.w[c] = a;
          }
          act.write(v);
          if (++j == L.in_words) {
            j = 0;
            if (++b == L.planes) {
              b = 0;
              if (++kx == L.kw) {
                kx = 0;
                ++ky;
              }
            }
          }
        }
      }
    }
  }
}

}  // namespace bw

#endif
