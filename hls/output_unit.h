/*
 * Output unit: the ROWS row units in lock-step (sim/bw_output_unit.sv, bw_row_unit.sv).
 * Per tile (one slot x one channel group, in the schedule's order, layer.h) it
 *   1. on pool layers folds the tile's columns in stream order, one per cycle (the RTL's
 *      pool drain), into each row's pool register: max, or min
 *      where the channel's flag has FLAG_POOL_MIN; an entry that starts a window resets
 *      it, one that ends a window finishes that output pixel (a window may span tiles;
 *      without pool every entry is a whole window, and the whole tile is taken at once:
 *      the RTL's DRAIN = COLS);
 *   2. applies the threshold epilogue to the finished pixels, level = #{j : (v >= t_j) XOR
 *      flip} with 2^OUT_BITS - 1 thresholds per channel (signed outputs: counted from
 *      2^(OUT_BITS-1), so the stored bits are level - 2^(OUT_BITS-1)), or keeps the raw int32;
 *   3. writes them: threshold layers without pool collect a slot's pixels over its
 *      channel groups (consecutive tiles) and write whole words after the last group;
 *      pool layers (group-outer) and int32 outputs merge the group's bits / halves into
 *      the arena word (read-modify-write: the RTL's masked write ports). The last group
 *      also clears a word's tail bits past OUT_C, an odd int32 count's last high half is 0.
 * Every pipelined loop here has only fixed-bound inner loops or none (nests flattened by
 * hand with incremental counters): UG1399, PIPELINE pragma, unrolls every loop inside a
 * pipelined loop, which a runtime bound prevents.
 */
#ifndef BW_OUTPUT_UNIT_H
#define BW_OUTPUT_UNIT_H

#include "bw_stream.h"
#include "layer.h"
#include "tokens.h"

namespace bw {

/* Bits of channels [lo, hi) that fall in output word w; with `tail`, also the bits past hi
 * up to the word's end (the last group clears the tail). */
inline word_t channel_mask(uint32_t w, uint32_t lo, uint32_t hi, bool tail) {
  const uint32_t w0 = 64 * w, w1 = 64 * w + 64;
  const uint32_t a = lo > w0 ? lo : w0;
  const uint32_t b = tail ? w1 : (hi < w1 ? hi : w1);
  if (a >= b) return 0;
  const word_t upto_b = (b - w0) >= 64 ? ~(word_t)0 : (((word_t)1 << (b - w0)) - 1);
  return upto_b & ~(((word_t)1 << (a - w0)) - 1);
}

/*
 * ROWS:      PE rows (output channels per tile).
 * COLS:      PE columns (entries per slot).
 * MAX_OUT_C: output channels the slot buffer holds.
 * MAX_BITS:  output activation bits (bit-planes) the slot buffer and threshold registers hold.
 */
template <int ROWS, int COLS, int MAX_OUT_C, int MAX_BITS>
void output_unit(const Layer L, const int32_t *params, hls::stream<Slot<COLS> > &slots,
                 hls::stream<AccTile<ROWS, COLS> > &in, word_t *arena, uint32_t arena_words) {
  const int MAX_OUT_WORDS = (MAX_OUT_C + 63) / 64;
  const int MAX_LEVELS = (1 << MAX_BITS) - 1;
  BW_BUFFER word_t obuf[COLS][MAX_BITS * MAX_OUT_WORDS]; /* bit-planes of the slot's pixels (no pool) */
#pragma HLS ARRAY_PARTITION variable = obuf complete dim = 1
  /* the row units' parameter RAMs: row r's thresholds of group g at [r][g*levels + j] and its
   * flip flag at [r][g] when every group fits (layers without pool, groups and
   * groups*levels <= MAX_LEVELS: loaded once per layer, as the RTL loads them); else one
   * group at index 0, reloaded when the group changes (pool layers: once per group) */
  int32_t thr[ROWS][MAX_LEVELS];
  bool flip[ROWS][MAX_LEVELS];
#pragma HLS ARRAY_PARTITION variable = thr complete dim = 1
#pragma HLS ARRAY_PARTITION variable = flip complete dim = 1
  bool use_min[ROWS];
  acc_t pooled[ROWS];          /* the row units' pool registers */
  acc_t done[COLS][ROWS];      /* pixels finished by the current tile */
  uint32_t level[COLS][ROWS];
  uint32_t done_c[COLS];       /* their columns */
#pragma HLS ARRAY_PARTITION variable = flip complete
#pragma HLS ARRAY_PARTITION variable = use_min complete
#pragma HLS ARRAY_PARTITION variable = pooled complete
#pragma HLS ARRAY_PARTITION variable = done complete dim = 0
#pragma HLS ARRAY_PARTITION variable = level complete dim = 0

  const uint32_t levels = L.out_bits ? (1u << L.out_bits) - 1 : 0;
  const uint32_t pix_words = L.out_bits * L.out_words;
  const uint32_t ints = L.pixels * L.out_c; /* int32 outputs per image */
  const bool collect = L.out_bits && !L.pool;
regs:
  for (int r = 0; r < ROWS; r++) {
#pragma HLS UNROLL
    use_min[r] = false;
    pooled[r] = 0;
    for (int c = 0; c < COLS; c++) {
#pragma HLS UNROLL
      level[c][r] = 0;
      done[c][r] = 0;
    }
  }
clear:
  for (uint32_t k = 0; k < pix_words; k++) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT max = 16
    for (int c = 0; c < COLS; c++) {
#pragma HLS UNROLL
      obuf[c][k] = 0;
    }
  }
  const bool all = !L.pool && L.groups <= (uint32_t)MAX_LEVELS && L.groups * levels <= (uint32_t)MAX_LEVELS;
  uint32_t have = 0xffffffffu; /* the group at index 0 (not all) */
  if (all) {
    uint32_t at = 0;
  groups_load:
    for (uint32_t g = 0; g < L.groups; g++) {
#pragma HLS LOOP_TRIPCOUNT max = 255
    rows_all:
      for (int r = 0; r < ROWS; r++) {
        const uint32_t oc = g * ROWS + (uint32_t)r;
        flip[r][g] = oc < L.out_c && ((uint32_t)params[L.f_off + oc] & BW_FLAG_FLIP) != 0;
      thresholds_all:
        for (uint32_t j = 0; j < levels; j++) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT max = 3
          thr[r][at + j] = oc < L.out_c ? params[L.t_off + oc * levels + j] : 0;
        }
      }
      at += levels;
    }
  }
slots:
  for (uint32_t t = 0; t < L.passes * L.slots; t++) {
#pragma HLS LOOP_TRIPCOUNT max = 4096
    const Slot<COLS> s = slots.read();
  tiles:
    for (uint32_t rep = 0; rep < L.reps; rep++) {
#pragma HLS LOOP_TRIPCOUNT max = 64
      const uint32_t g = L.pool ? s.g : rep;
      const uint32_t lo = g * ROWS, hi = lo + ROWS < L.out_c ? lo + ROWS : L.out_c;
      const bool last_group = g == L.groups - 1;
      if (!all && g != have) {
      params_load:
        for (int r = 0; r < ROWS; r++) {
          const uint32_t oc = lo + (uint32_t)r;
          const uint32_t f = oc < L.out_c ? (uint32_t)params[L.f_off + oc] : 0u;
          flip[r][0] = (f & BW_FLAG_FLIP) != 0;
          use_min[r] = L.pool && (f & BW_FLAG_POOL_MIN) != 0;
        thresholds_load:
          for (uint32_t j = 0; j < levels; j++) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT max = 3
            thr[r][j] = oc < L.out_c ? params[L.t_off + oc * levels + j] : 0;
          }
        }
        have = g;
      }
      const uint32_t pg = all ? g : 0, tb = all ? g * levels : 0; /* the group's parameters */
      const AccTile<ROWS, COLS> a = in.read();
      uint32_t nd = 0;
      if (!L.pool) {
        /* 1-2 without pool: every entry is a whole window, so the whole tile at once (the
         * RTL's DRAIN = COLS): the columns in parallel, one cycle per threshold */
      fold_tile:
        for (int c = 0; c < COLS; c++) {
#pragma HLS UNROLL
          for (int r = 0; r < ROWS; r++) {
#pragma HLS UNROLL
            done[c][r] = a.v[r][c];
            level[c][r] = L.out_flip; /* signed outputs: n + 2^(k-1) = n - 2^(k-1) mod 2^k */
          }
          done_c[c] = (uint32_t)c;
        }
        nd = s.nvalid;
      threshold_tile:
        for (uint32_t j = 0; j < levels; j++) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT max = 3
          for (int c = 0; c < COLS; c++) {
#pragma HLS UNROLL
            for (int r = 0; r < ROWS; r++) {
#pragma HLS UNROLL
              if ((done[c][r] >= thr[r][tb + j]) != flip[r][pg]) level[c][r]++;
            }
          }
        }
      } else {
        /* 1. pool layers: fold the columns in stream order, one per cycle (the RTL's pool drain) */
      fold:
        for (int c = 0; c < COLS; c++) {
#pragma HLS PIPELINE II = 1
          if ((uint32_t)c < s.nvalid) {
            for (int r = 0; r < ROWS; r++) {
#pragma HLS UNROLL
              const acc_t v = a.v[r][c];
              const acc_t p = s.first[c] ? v : use_min[r] ? (v < pooled[r] ? v : pooled[r]) : (v > pooled[r] ? v : pooled[r]);
              pooled[r] = p;
              done[nd][r] = p;
              level[nd][r] = L.out_flip;
            }
            if (s.last[c]) {
              done_c[nd] = (uint32_t)c;
              nd++;
            }
          }
        }
        /* 2. thresholds of the finished windows: (pixel, threshold) flattened */
        uint32_t k = 0, j = 0;
      threshold:
        for (uint32_t i = 0; i < nd * levels; i++) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT max = 24
          for (int r = 0; r < ROWS; r++) {
#pragma HLS UNROLL
            if ((done[k][r] >= thr[r][tb + j]) != flip[r][pg]) level[k][r]++;
          }
          if (++j == levels) {
            j = 0;
            k++;
          }
        }
      }
      /* 3. outputs */
      const uint32_t w0 = lo >> 6, w1 = (hi - 1) >> 6; /* the group's words (w1 <= w0 + 1) */
      uint32_t k = 0;
      if (collect) {
        /* the group's bits into every column's slot buffer at once */
        uint32_t b = 0, w = w0;
      planes_tile:
        for (uint32_t i = 0; i < L.out_bits * (w1 - w0 + 1); i++) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT max = 4
          for (int c = 0; c < COLS; c++) {
#pragma HLS UNROLL
            word_t bits = 0;
            for (int r = 0; r < ROWS; r++) {
#pragma HLS UNROLL
              const uint32_t oc = lo + (uint32_t)r;
              if (oc < hi && (oc >> 6) == w && ((level[c][r] >> b) & 1)) bits |= (word_t)1 << (oc & 63);
            }
            if ((uint32_t)c < nd) obuf[c][b * L.out_words + w] |= bits;
          }
          if (w++ == w1) {
            w = w0;
            b++;
          }
        }
        if (last_group) {
          uint32_t c = 0, kw = 0;
        write:
          for (uint32_t i = 0; i < s.nvalid * pix_words; i++) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT max = 128
            arena[(uint64_t)s.n[c] * arena_words + L.out_off + (uint64_t)s.opix[c] * pix_words + kw] = obuf[c][kw];
            obuf[c][kw] = 0;
            if (++kw == pix_words) {
              kw = 0;
              c++;
            }
          }
        }
      } else if (L.out_bits) {
        /* pool layers: merge each finished window's bits into the arena words */
        uint32_t b = 0, w = w0;
      planes:
        for (uint32_t i = 0; i < nd * L.out_bits * (w1 - w0 + 1); i++) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT max = 32
          const uint32_t c = done_c[k];
          word_t bits = 0;
          for (int r = 0; r < ROWS; r++) {
#pragma HLS UNROLL
            const uint32_t oc = lo + (uint32_t)r;
            if (oc < hi && (oc >> 6) == w && ((level[k][r] >> b) & 1)) bits |= (word_t)1 << (oc & 63);
          }
          const word_t mask = channel_mask(w, lo, hi, last_group);
          const uint64_t addr = (uint64_t)s.n[c] * arena_words + L.out_off + (uint64_t)s.opix[c] * pix_words + b * L.out_words + w;
          arena[addr] = (arena[addr] & ~mask) | bits;
          if (w++ == w1) {
            w = w0;
            if (++b == L.out_bits) {
              b = 0;
              k++;
            }
          }
        }
      } else {
        /* int32: each finished pixel's channels into their arena halves */
        uint32_t r = 0;
      ints_out:
        for (uint32_t i = 0; i < nd * ROWS; i++) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT max = 64
          const uint32_t oc = lo + r;
          if (oc < L.out_c) {
            const uint32_t c = done_c[k];
            const uint32_t idx = s.opix[c] * L.out_c + oc;
            const uint64_t addr = (uint64_t)s.n[c] * arena_words + L.out_off + (idx >> 1);
            const word_t v = (word_t)(uint32_t)done[k][r];
            const word_t old = arena[addr];
            if (idx & 1) arena[addr] = (old & 0xffffffffULL) | (v << 32);
            else if (idx == ints - 1) arena[addr] = v; /* odd count: the high half is 0 */
            else arena[addr] = (old & ~(word_t)0xffffffffULL) | v;
          }
          if (++r == ROWS) {
            r = 0;
            k++;
          }
        }
      }
    }
  }
}

}  // namespace bw

#endif
