/*
 * PE array: ROWS x COLS processing elements, output stationary. Every cycle PE (r, c)
 * takes row r's weight word and column c's activation word and adds to its accumulator
 *   XNOR mode (1-bit activations):  popcount(~(a ^ w))
 *   AND mode  (bit-plane b of k-bit activations):  (2*popcount(a & w) - popcount(a)) << b
 * Accumulators start at -TAIL (the zero tail bits xnor counts as matches). After a tile's
 * last cycle the whole tile leaves in one token (the RTL's DRAIN = COLS; the output unit
 * takes the accumulators while the array starts the next tile, as double-buffered
 * accumulators do).
 *
 * In this C++ model the words reach all PEs of a row / column in the same cycle (the
 * unrolled loops below); the RTL implementation forwards them one PE per cycle with a
 * skew, which changes latency, not results.
 */
#ifndef BW_PE_ARRAY_H
#define BW_PE_ARRAY_H

#include "bw_stream.h"
#include "layer.h"
#include "tokens.h"

namespace bw {

/* One PE cycle: the popcount term for activation word a and weight word w (the shift is
 * on the unsigned bit pattern: a power-of-two scale without a multiplier). */
inline acc_t pe_term(word_t a, word_t w, uint32_t and_mode, uint32_t plane) {
  if (!and_mode) return (acc_t)popcount64(~(a ^ w));
  const acc_t t = (acc_t)(2 * popcount64(a & w)) - (acc_t)popcount64(a);
  return (acc_t)((uint32_t)t << plane);
}

/*
 * ROWS: PE rows (output channels per tile).
 * COLS: PE columns (entries per slot).
 */
template <int ROWS, int COLS>
void pe_array(const Layer L, hls::stream<ActVec<COLS> > &act, hls::stream<WgtVec<ROWS> > &wgt,
              hls::stream<AccTile<ROWS, COLS> > &out) {
  acc_t acc[ROWS][COLS];
#pragma HLS ARRAY_PARTITION variable = acc complete dim = 0
tiles:
  for (uint32_t n = 0; n < L.tiles; n++) {
#pragma HLS LOOP_TRIPCOUNT max = 4096
  init:
    for (int r = 0; r < ROWS; r++) {
#pragma HLS UNROLL
      for (int c = 0; c < COLS; c++) {
#pragma HLS UNROLL
        acc[r][c] = -(acc_t)L.tail;
      }
    }
    uint32_t plane = 0, j = 0;
  steps:
    for (uint32_t s = 0; s < L.ksteps; s++) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT max = 576
      const ActVec<COLS> a = act.read();
      const WgtVec<ROWS> w = wgt.read();
    pe_rows:
      for (int r = 0; r < ROWS; r++) {
#pragma HLS UNROLL
      pe_cols:
        for (int c = 0; c < COLS; c++) {
#pragma HLS UNROLL
          acc[r][c] += pe_term(a.w[c], w.w[r], L.and_mode, plane);
        }
      }
      if (++j == L.in_words) {
        j = 0;
        if (++plane == L.planes) plane = 0;
      }
    }
    AccTile<ROWS, COLS> tile;
  drain:
    for (int r = 0; r < ROWS; r++) {
#pragma HLS UNROLL
      for (int c = 0; c < COLS; c++) {
#pragma HLS UNROLL
        tile.v[r][c] = acc[r][c];
      }
    }
    out.write(tile);
  }
}

}  // namespace bw

#endif
