/*
 * Feeder: the sliding-window activation feeder. For every slot of the pixel stream (from
 * the walker) it streams, per tile, the activation word of every PE column for every PE
 * cycle, straight from the input feature map: the window origin comes with the entry,
 * padded pixels read pad_word (PAD_BIT in the real channel bits, 0 in the tail). No im2col.
 *
 * Each column has its own copy of the feature map (the RTL's per-column arena read lanes):
 * fm is partitioned completely in its first dimension, so the COLS data-dependent reads of
 * one cycle go to COLS different memories and II = 1 is reachable (Vitis HLS ARRAY_PARTITION
 * and BIND_STORAGE, UG1399 "HLS Pragmas"). A column's copy holds the image its current
 * entry belongs to and is reloaded when the column moves to another image (stream order:
 * once per image and pass); one read of the image serves every column that moves to it in
 * that slot (convolutions: about two reads of each image per pass; dense layers: each image
 * is loaded by the one column it lands in). Those loads are memory traffic outside the
 * cycle model (host/array/cycles.ts).
 */
#ifndef BW_FEEDER_H
#define BW_FEEDER_H

#include "bw_stream.h"
#include "layer.h"
#include "tokens.h"

namespace bw {

/*
 * COLS:    PE columns (entries per slot).
 * MAX_FM:  words of one column's feature-map copy (>= in_h*in_w*planes*in_words).
 */
template <int COLS, int MAX_FM>
void feeder(const Layer L, const word_t *arena, uint32_t arena_words, hls::stream<Slot<COLS> > &slots,
            hls::stream<ActVec<COLS> > &act) {
  BW_BUFFER word_t fm[COLS][MAX_FM];
#pragma HLS ARRAY_PARTITION variable = fm complete dim = 1
#pragma HLS BIND_STORAGE variable = fm type = ram_2p impl = uram
  uint32_t resident[COLS]; /* image in the column's copy */
  bool loaded[COLS];
#pragma HLS ARRAY_PARTITION variable = resident complete
#pragma HLS ARRAY_PARTITION variable = loaded complete
init:
  for (int c = 0; c < COLS; c++) {
#pragma HLS UNROLL
    loaded[c] = false;
    resident[c] = 0;
  }
  const uint32_t row_words = L.in_w * L.planes * L.in_words; /* words of one input row */
  const uint32_t px_words = L.planes * L.in_words;           /* words of one input pixel */
  const uint32_t steps = L.reps * L.ksteps;                  /* the slot once per tile */
slots:
  for (uint32_t t = 0; t < L.passes * L.slots; t++) {
#pragma HLS LOOP_TRIPCOUNT max = 4096
    const Slot<COLS> s = slots.read();
    /* columns that move to another image; one read of a word serves all that move to it */
    bool need[COLS];
#pragma HLS ARRAY_PARTITION variable = need complete
  needs:
    for (int c = 0; c < COLS; c++) {
#pragma HLS UNROLL
      need[c] = (uint32_t)c < s.nvalid && !(loaded[c] && resident[c] == s.n[c]);
    }
  load_images:
    for (int c0 = 0; c0 < COLS; c0++) {
      if (!need[c0]) continue;
      const uint32_t n = s.n[c0];
      const uint64_t base = (uint64_t)n * arena_words + L.in_off;
    load:
      for (uint32_t i = 0; i < L.fm_words; i++) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT max = 4096
        const word_t w = arena[base + i];
        for (int c = 0; c < COLS; c++) {
#pragma HLS UNROLL
          if (need[c] && s.n[c] == n) fm[c][i] = w;
        }
      }
    loaded_now:
      for (int c = 0; c < COLS; c++) {
#pragma HLS UNROLL
        if (need[c] && s.n[c] == n) {
          need[c] = false;
          loaded[c] = true;
          resident[c] = n;
        }
      }
    }
    int32_t origin[COLS]; /* word of the window origin (meaningful where the pixel is inside) */
#pragma HLS ARRAY_PARTITION variable = origin complete
  origins:
    for (int c = 0; c < COLS; c++) {
#pragma HLS UNROLL
      origin[c] = s.iy0[c] * (int32_t)row_words + s.ix0[c] * (int32_t)px_words;
    }
    /* reps x ksteps flattened: (ky, kx, b, j) by incremental counters, address too */
    uint32_t ky = 0, kx = 0, b = 0, j = 0;
    uint32_t off = 0; /* (ky*in_w + kx)*px_words + b*in_words + j, relative to the window origin */
  steps:
    for (uint32_t k = 0; k < steps; k++) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT max = 4096
      ActVec<COLS> v;
      const word_t pad = pad_word(L.pad_bit, L.in_c, j);
    col:
      for (int c = 0; c < COLS; c++) {
#pragma HLS UNROLL
        const int32_t iy = s.iy0[c] + (int32_t)ky;
        const int32_t ix = s.ix0[c] + (int32_t)kx;
        const bool inside = (uint32_t)c < s.nvalid && iy >= 0 && iy < (int32_t)L.in_h && ix >= 0 && ix < (int32_t)L.in_w;
        v.w[c] = inside ? fm[c][(uint32_t)(origin[c] + (int32_t)off)] : pad;
      }
      act.write(v);
      off++;
      if (++j == L.in_words) {
        j = 0;
        if (++b == L.planes) {
          b = 0;
          if (++kx == L.kw) {
            kx = 0;
            off += row_words - L.kw * px_words;
            if (++ky == L.kh) {
              ky = 0;
              off = 0;
            }
          }
        }
      }
    }
  }
}

}  // namespace bw

#endif
