/*
 * Output unit: one per PE row (the ROWS rows are unrolled here). For each tile and channel
 * group it
 *   1. pools the drained accumulators over the pool window elements on the integers,
 *      per channel max, or min where the channel's flag has FLAG_POOL_MIN (positions in the
 *      pool's padding are ignored);
 *   2. applies the threshold epilogue, level = #{j : (v >= t_j) XOR flip} with
 *      2^OUT_BITS - 1 thresholds per channel, and sets the level's bits in the output
 *      pixel's bit-planes (channels innermost, 64 per word, LSB first);
 *      or, without a threshold epilogue, keeps the raw int32;
 *   3. once every group of the tile is done, writes the tile's output pixels to the arena:
 *      bit-planes word by word, or int32 values two per 64-bit word, low half first.
 * Tiles cover consecutive output pixels, so the int32 stream carries a half-filled word
 * from one tile to the next and never reads the arena back.
 */
#ifndef BW_OUTPUT_UNIT_H
#define BW_OUTPUT_UNIT_H

#include "bw_stream.h"
#include "layer.h"
#include "tokens.h"

namespace bw {

/*
 * ROWS:      PE rows (output channels per tile).
 * COLS:      PE columns (output pixels per tile).
 * MAX_OUT_C: output channels the tile buffers hold.
 * MAX_BITS:  output activation bits (bit-planes) the tile buffer holds.
 */
template <int ROWS, int COLS, int MAX_OUT_C, int MAX_BITS>
void output_unit(const Layer L, const int32_t *params, hls::stream<AccRow<COLS> > &in, word_t *arena) {
  const int MAX_OUT_WORDS = (MAX_OUT_C + 63) / 64;
  const int MAX_LEVELS = (1 << MAX_BITS) - 1;
  BW_BUFFER word_t obuf[COLS][MAX_BITS * MAX_OUT_WORDS]; /* bit-planes of the tile's pixels */
  BW_BUFFER int32_t ibuf[COLS][MAX_OUT_C];               /* raw integers of the tile's pixels */
#pragma HLS ARRAY_PARTITION variable = obuf complete dim = 1
#pragma HLS ARRAY_PARTITION variable = ibuf complete dim = 1
  acc_t pooled[ROWS][COLS];
#pragma HLS ARRAY_PARTITION variable = pooled complete dim = 0
  int32_t thr[ROWS][MAX_LEVELS];
#pragma HLS ARRAY_PARTITION variable = thr complete dim = 1
  uint32_t flags[ROWS];
#pragma HLS ARRAY_PARTITION variable = flags complete

  const uint32_t levels = L.out_bits ? (1u << L.out_bits) - 1 : 0;
  const uint32_t pix_words = L.out_bits * L.out_words;
  /* int32 output: the low half waiting for its high half */
  uint32_t pending = 0;
  bool have_pending = false;
  uint32_t next_word = L.out_off;

tiles:
  for (uint32_t t = 0; t < L.tiles; t++) {
    const uint32_t p0 = t * COLS;
    const uint32_t n = L.pixels - p0 < (uint32_t)COLS ? L.pixels - p0 : (uint32_t)COLS;
    if (L.out_bits) {
    clear:
      for (uint32_t k = 0; k < pix_words; k++) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT max = 16
        for (int c = 0; c < COLS; c++) {
#pragma HLS UNROLL
          obuf[c][k] = 0;
        }
      }
    }
  groups:
    for (uint32_t g = 0; g < L.groups; g++) {
    params_load:
      for (int r = 0; r < ROWS; r++) {
        const uint32_t oc = g * ROWS + (uint32_t)r;
        flags[r] = oc < L.out_c ? (uint32_t)params[L.f_off + oc] : 0u;
        if (!L.pool) flags[r] &= ~(uint32_t)BW_FLAG_POOL_MIN;
        for (uint32_t j = 0; j < levels; j++) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT max = 255
          thr[r][j] = oc < L.out_c ? params[L.t_off + oc * levels + j] : 0;
        }
        for (int c = 0; c < COLS; c++) {
#pragma HLS UNROLL
          pooled[r][c] = (flags[r] & BW_FLAG_POOL_MIN) ? (acc_t)0x7fffffff : (acc_t)(-0x7fffffff - 1);
        }
      }
    elems:
      for (uint32_t e = 0; e < L.elems; e++) {
        bool valid[COLS];
#pragma HLS ARRAY_PARTITION variable = valid complete
        for (int c = 0; c < COLS; c++) {
#pragma HLS UNROLL
          int32_t ay, ax;
          valid[c] = column_acc_pos<COLS>(L, t, e, (uint32_t)c, ay, ax);
        }
      pool_rows:
        for (int r = 0; r < ROWS; r++) {
#pragma HLS PIPELINE II = 1
          const AccRow<COLS> row = in.read();
          const bool use_min = (flags[r] & BW_FLAG_POOL_MIN) != 0;
          for (int c = 0; c < COLS; c++) {
#pragma HLS UNROLL
            const acc_t v = row.v[c];
            if (valid[c] && (use_min ? v < pooled[r][c] : v > pooled[r][c])) pooled[r][c] = v;
          }
        }
      }
    epilogue:
      for (int r = 0; r < ROWS; r++) {
        const uint32_t oc = g * ROWS + (uint32_t)r;
        if (oc >= L.out_c) continue;
        const bool flip = (flags[r] & BW_FLAG_FLIP) != 0;
        for (int c = 0; c < COLS; c++) {
#pragma HLS PIPELINE II = 1
          if ((uint32_t)c >= n) continue;
          const acc_t v = pooled[r][c];
          if (L.out_bits) {
            uint32_t level = 0;
          thresholds:
            for (uint32_t j = 0; j < levels; j++) {
#pragma HLS LOOP_TRIPCOUNT max = 3
              if ((v >= thr[r][j]) != flip) level++;
            }
          planes:
            for (uint32_t b = 0; b < L.out_bits; b++) {
#pragma HLS LOOP_TRIPCOUNT max = 2
              if ((level >> b) & 1) obuf[c][b * L.out_words + (oc >> 6)] |= (word_t)1 << (oc & 63);
            }
          } else {
            ibuf[c][oc] = v;
          }
        }
      }
    }
  write:
    if (L.out_bits) {
      for (uint32_t c = 0; c < n; c++) {
        for (uint32_t k = 0; k < pix_words; k++) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT max = 16
          arena[L.out_off + (p0 + c) * pix_words + k] = obuf[c][k];
        }
      }
    } else {
      for (uint32_t c = 0; c < n; c++) {
        for (uint32_t oc = 0; oc < L.out_c; oc++) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT max = 1024
          const uint32_t v = (uint32_t)ibuf[c][oc];
          if (have_pending) {
            arena[next_word++] = (word_t)pending | ((word_t)v << 32);
            have_pending = false;
          } else {
            pending = v;
            have_pending = true;
          }
        }
      }
    }
  }
  if (have_pending) arena[next_word] = (word_t)pending; /* odd count: high half 0 */
}

}  // namespace bw

#endif
