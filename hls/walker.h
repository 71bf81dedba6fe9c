/*
 * Pixel walker (sim/bw_pixel_walker.sv): enumerates the layer's pixel stream over the
 * whole batch, one entry per cycle: for every image n, output pixel (oy, ox) and
 * accumulator pixel (ay, ax) of its pool window clipped to the map (1x1 without pool), in
 * raster order. COLS consecutive entries (fewer at the end of a pass) form a slot, sent to
 * the feeder and to the output unit. Pool layers walk the stream once per channel group,
 * other layers once (each slot then serves every group). Incremental counters only: no
 * division or modulo by a runtime value.
 */
#ifndef BW_WALKER_H
#define BW_WALKER_H

#include "bw_stream.h"
#include "layer.h"
#include "tokens.h"

namespace bw {

/* COLS: entries per slot (PE columns). */
template <int COLS>
void walker(const Layer L, hls::stream<Slot<COLS> > &to_feeder, hls::stream<Slot<COLS> > &to_output) {
  const int32_t acc_h = (int32_t)L.acc_h, acc_w = (int32_t)L.acc_w;
passes:
  for (uint32_t g = 0; g < L.passes; g++) {
#pragma HLS LOOP_TRIPCOUNT max = 64
    uint32_t n = 0, oy = 0, ox = 0, opix = 0, col = 0;
    int32_t wy = -(int32_t)L.pph, wx = -(int32_t)L.ppw; /* pool window origin in the accumulator map */
    int32_t ay = 0, ax = 0;                              /* windows start inside the map (pad < window) */
    /* the slot being filled, one register per column */
    uint32_t sn[COLS], sopix[COLS];
    int32_t siy0[COLS], six0[COLS];
    bool sfirst[COLS], slast[COLS];
#pragma HLS ARRAY_PARTITION variable = sn complete
#pragma HLS ARRAY_PARTITION variable = sopix complete
#pragma HLS ARRAY_PARTITION variable = siy0 complete
#pragma HLS ARRAY_PARTITION variable = six0 complete
#pragma HLS ARRAY_PARTITION variable = sfirst complete
#pragma HLS ARRAY_PARTITION variable = slast complete
  entries:
    for (uint64_t e = 0; e < L.entries; e++) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT max = 65536
      const int32_t ay0 = wy < 0 ? 0 : wy, ax0 = wx < 0 ? 0 : wx;
      const int32_t ay1 = wy + (int32_t)L.pkh - 1 > acc_h - 1 ? acc_h - 1 : wy + (int32_t)L.pkh - 1;
      const int32_t ax1 = wx + (int32_t)L.pkw - 1 > acc_w - 1 ? acc_w - 1 : wx + (int32_t)L.pkw - 1;
      sn[col] = n;
      siy0[col] = ay * (int32_t)L.sh - (int32_t)L.ph;
      six0[col] = ax * (int32_t)L.sw - (int32_t)L.pw;
      sopix[col] = opix;
      sfirst[col] = ay == ay0 && ax == ax0;
      slast[col] = ay == ay1 && ax == ax1;
      if (col == COLS - 1 || e == L.entries - 1) {
        Slot<COLS> s;
      pack:
        for (int c = 0; c < COLS; c++) {
#pragma HLS UNROLL
          s.n[c] = sn[c];
          s.iy0[c] = siy0[c];
          s.ix0[c] = six0[c];
          s.opix[c] = sopix[c];
          s.first[c] = sfirst[c];
          s.last[c] = slast[c];
        }
        s.nvalid = col + 1;
        s.g = g;
        to_feeder.write(s);
        to_output.write(s);
        col = 0;
      } else {
        col++;
      }
      /* next entry: within the window, else the next window, row of windows, image */
      if (ax < ax1) {
        ax++;
      } else if (ay < ay1) {
        ay++;
        ax = ax0;
      } else if (ox != L.out_w - 1) {
        ox++;
        opix++;
        wx += (int32_t)L.psw;
        ay = ay0;
        ax = wx < 0 ? 0 : wx;
      } else if (oy != L.out_h - 1) {
        ox = 0;
        oy++;
        opix++;
        wx = -(int32_t)L.ppw;
        wy += (int32_t)L.psh;
        ay = wy < 0 ? 0 : wy;
        ax = 0;
      } else {
        ox = 0;
        oy = 0;
        opix = 0;
        n++;
        wx = -(int32_t)L.ppw;
        wy = -(int32_t)L.pph;
        ay = 0;
        ax = 0;
      }
    }
  }
}

}  // namespace bw

#endif
