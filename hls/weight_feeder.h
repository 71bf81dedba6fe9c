/*
 * Weight feeder: for every tile and channel group, loads the ROWS output channels' packed
 * weights ([outC][kh][kw][in_words] 64-bit words) into a row-partitioned on-chip buffer and
 * sends each PE row its weight word every cycle. The same weight word serves every
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
tiles:
  for (uint32_t t = 0; t < L.tiles; t++) {
  groups:
    for (uint32_t g = 0; g < L.groups; g++) {
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
    elems:
      for (uint32_t e = 0; e < L.elems; e++) {
        uint32_t kpix = 0, b = 0, j = 0; /* kpix = ky*kw + kx */
      steps:
        for (uint32_t s = 0; s < L.ksteps; s++) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT max = 576
          WgtVec<ROWS> v;
        row:
          for (int r = 0; r < ROWS; r++) {
#pragma HLS UNROLL
            v.w[r] = wbuf[r][kpix * L.in_words + j];
          }
          wgt.write(v);
          if (++j == L.in_words) {
            j = 0;
            if (++b == L.planes) {
              b = 0;
              ++kpix;
            }
          }
        }
      }
    }
  }
}

}  // namespace bw

#endif
