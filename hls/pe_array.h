/*
 * PE array: ROWS x COLS processing elements, output stationary. Every cycle PE (r, c)
 * takes row r's weight word and column c's activation word and adds to its accumulator
 *   XNOR mode (1-bit x 1-bit):  popcount(~(a ^ w))
 *   AND mode, pass (activation plane b, weight plane q):  +-(t << (b + q)), negative when
 *   exactly one of b, q is a signed top plane, t by the layer's BW_PE_* mode:
 *     AND_SUB_A (+-1 weights)      2*popcount(a & w) - popcount(a)
 *     AND_SUB_W (+-1 activations)  2*popcount(a & w) - popcount(w)
 *     AND       (both integer)     popcount(a & w)
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

/* One PE cycle: the term for activation word a and weight word w (the shift is on the
 * unsigned bit pattern: a power-of-two scale without a multiplier; the sign a negation). */
inline acc_t pe_term(word_t a, word_t w, uint32_t mode, uint32_t shift, bool neg) {
  if (mode == BW_PE_XNOR) return (acc_t)popcount64(~(a ^ w));
  const uint32_t both = popcount64(a & w);
  const acc_t t = mode == BW_PE_AND ? (acc_t)both
                : (acc_t)(2 * both) - (acc_t)popcount64(mode == BW_PE_AND_SUB_A ? a : w);
  const acc_t s = (acc_t)((uint32_t)t << shift);
  return neg ? -s : s;
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
    uint32_t plane = 0, j = 0, pix = 0, q = 0; /* step (q, pixel, plane, word) */
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
          acc[r][c] += pe_term(a.w[c], w.w[r], L.pe_mode, plane + q, (plane == L.in_top) != (q == L.w_top));
        }
      }
      if (++j == L.in_words) {
        j = 0;
        if (++plane == L.planes) {
          plane = 0;
          if (++pix == L.kpix) {
            pix = 0;
            q++;
          }
        }
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
