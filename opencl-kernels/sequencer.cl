/*
 * The sequencer and the kernel: walks a layer program (DESIGN section 3). One launch
 * processes `images` images; for each layer descriptor of the device segment it runs the
 * layer over all of them, so the host never round-trips per layer and one compiled kernel
 * runs every model.
 *
 * The schedule is the RTL array's (docs/ARCHITECTURE.md, "RTL array", Dataflow), tile for
 * tile: the pixel walker enumerates one pixel stream over the launch's images (per image,
 * output pixel and accumulator pixel of its pool window clipped to the map, 1x1 without
 * pool); BW_COLS consecutive entries form a slot, so dense layers put different images in
 * the columns. Pool layers walk the stream once per channel group (group -> slots; the
 * output units fold windows in stream order); other layers walk it once and use each slot
 * for every channel group in turn (slot -> group). A tile is one slot x one group and
 * streams K = W_BITS*KH*KW*PLANES*IN_WORDS words through the array: the window once per
 * weight plane (outermost, as the RTL feeder walks it). The cycle model
 * (host/array/cycles.ts) describes these tiles and periods; in hardware the output units
 * drain tile t while the array computes tile t+1 (double-buffered accumulators), which an
 * FPGA compiler builds by pipelining the tile loop.
 *
 * FPGA style: a single work-item (Intel "single work-item" / Xilinx task kernel), no
 * channels or pipes, so the same source runs on PoCL.
 */

/* The pixel walker's counters (sim/bw_pixel_walker.sv): no division or modulo. */
typedef struct {
  uint n, oy, ox, opix;
  int wy, wx; /* pool window origin in the accumulator map */
  int ay, ax; /* the entry's accumulator pixel */
} bw_walker;

inline void bw_walk_start(const bw_layer *L, bw_walker *W) {
  W->n = 0; W->oy = 0; W->ox = 0; W->opix = 0;
  W->wy = -(int)L->pph; W->wx = -(int)L->ppw;
  W->ay = 0; W->ax = 0; /* windows start inside the map (pool padding < window) */
}

/* Entry c of slot s from the walker's position, then the walker moves to the next entry. */
inline void bw_walk_entry(const bw_layer *L, bw_walker *W, uint arena_words, bw_slot *s, uint c) {
  const int ay0 = max(W->wy, 0), ax0 = max(W->wx, 0);
  const int ay1 = min(W->wy + (int)L->pkh - 1, (int)L->acc_h - 1), ax1 = min(W->wx + (int)L->pkw - 1, (int)L->acc_w - 1);
  s->base[c] = W->n * arena_words;
  s->iy0[c] = W->ay * (int)L->sh - (int)L->ph;
  s->ix0[c] = W->ax * (int)L->sw - (int)L->pw;
  s->opix[c] = W->opix;
  s->first |= (ulong)(W->ay == ay0 && W->ax == ax0) << c;
  s->last |= (ulong)(W->ay == ay1 && W->ax == ax1) << c;
  if (W->ax < ax1) {
    W->ax++;
  } else if (W->ay < ay1) {
    W->ay++; W->ax = ax0;
  } else if (W->ox != L->out_w - 1) {
    W->ox++; W->opix++; W->wx += (int)L->psw; W->ay = ay0; W->ax = max(W->wx, 0);
  } else if (W->oy != L->out_h - 1) {
    W->ox = 0; W->oy++; W->opix++; W->wx = -(int)L->ppw; W->wy += (int)L->psh; W->ay = max(W->wy, 0); W->ax = 0;
  } else {
    W->ox = 0; W->oy = 0; W->opix = 0; W->n++; W->wx = -(int)L->ppw; W->wy = -(int)L->pph; W->ay = 0; W->ax = 0;
  }
}

/* Channels of group g whose pool takes the minimum (FLAG_POOL_MIN), one bit per row. */
inline ulong bw_min_rows(const bw_layer *L, __global const int *params, uint ch0) {
  ulong m = 0;
  if (!(L->op & BW_OP_POOL)) return 0;
  #pragma unroll
  for (uint r = 0; r < BW_ROWS; r++) {
    const uint ch = ch0 + r;
    if (ch < L->out_c && (params[L->f_off + ch] & BW_FLAG_POOL_MIN)) m |= (ulong)1 << r;
  }
  return m;
}

/* One layer over the launch's images. */
inline void bw_layer_run(const bw_layer *L, __global const ulong *weights, __global const int *params,
                         __global ulong *arena, uint arena_words, uint images) {
  const bool pool_layer = L->op & BW_OP_POOL;
  const uint in_top = L->in_signed ? L->planes - 1 : BW_MAX_BITS, w_top = L->w_signed ? L->wbits - 1 : BW_MAX_W_BITS;
  const bool thresholds = L->op & BW_OP_THRESHOLD;
  const uint groups_per_word = BW_WORD / BW_ROWS;
  const uint entries = L->stream * images;
  const uint slots = (entries + BW_COLS - 1) / BW_COLS;
  const uint passes = pool_layer ? L->groups : 1, reps = pool_layer ? 1 : L->groups;

  int acc[BW_ROWS][BW_COLS];
  int pool[BW_ROWS];                /* the row units' pool registers */
  int done[BW_COLS][BW_ROWS];       /* pixels a tile finishes */
  uint done_c[BW_COLS];
  ulong outw[BW_COLS][BW_MAX_BITS]; /* packed output words under construction (no pool) */
  for (uint c = 0; c < BW_COLS; c++)
    for (uint b = 0; b < BW_MAX_BITS; b++) outw[c][b] = 0;
  for (uint r = 0; r < BW_ROWS; r++) pool[r] = 0;

  for (uint pass = 0; pass < passes; pass++) {
    bw_walker W;
    bw_walk_start(L, &W);
    uint left = entries;
    for (uint sl = 0; sl < slots; sl++) {
      bw_slot s;
      s.first = 0; s.last = 0;
      s.nvalid = min(left, (uint)BW_COLS);
      left -= s.nvalid;
      for (uint c = 0; c < BW_COLS; c++) {
        if (c < s.nvalid) bw_walk_entry(L, &W, arena_words, &s, c);
        else { s.base[c] = 0; s.iy0[c] = 0; s.ix0[c] = 0; s.opix[c] = 0; }
      }
      for (uint rep = 0; rep < reps; rep++) {
        const uint g = pool_layer ? pass : rep;
        const uint ch0 = g * BW_ROWS;
        /* the PE array: one tile */
        #pragma unroll
        for (uint r = 0; r < BW_ROWS; r++)
          #pragma unroll
          for (uint c = 0; c < BW_COLS; c++) acc[r][c] = 0;
        for (uint q = 0; q < L->wbits; q++)
          for (uint ky = 0; ky < L->kh; ky++)
            for (uint kx = 0; kx < L->kw; kx++)
              for (uint w = 0; w < L->in_words; w++) {
                const ulong pad = bw_pad_word(L, w);
                ulong wv[BW_ROWS];
                bw_weights(L, weights, ch0, q, ky, kx, w, wv);
                /* the weight word stays in the row registers for every bit-plane pass */
                for (uint plane = 0; plane < L->planes; plane++) {
                  ulong a[BW_COLS];
                  bw_feed(L, arena, &s, ky, kx, plane, w, pad, a);
                  if (L->pe_mode == BW_PE_XNOR) bw_pe_xnor(acc, wv, a);
                  else bw_pe_and(acc, wv, a, L->pe_mode, plane + q, (plane == in_top) != (q == w_top));
                }
              }
        /* the output units */
        const uint nd = bw_out_fold(L, pool, acc, &s, bw_min_rows(L, params, ch0), done, done_c);
        for (uint k = 0; k < nd; k++) {
          const uint c = done_c[k];
          if (!thresholds) {
            bw_out_ints(L, arena, done[k], s.base[c], s.opix[c], ch0);
            continue;
          }
          ulong bits[BW_MAX_BITS];
          bw_out_levels(L, params, done[k], ch0, bits);
          if (pool_layer) {
            bw_out_merge_bits(L, arena, bw_out_addr(L, s.base[c], s.opix[c], 0, ch0 / BW_WORD), ch0, bits);
          } else {
            for (uint b = 0; b < L->out_bits; b++) outw[c][b] |= bits[b];
          }
        }
        /* without pool a column's word is complete after its 64 / ROWS groups */
        if (thresholds && !pool_layer && ((g + 1) % groups_per_word == 0 || g + 1 == L->groups)) {
          for (uint c = 0; c < s.nvalid; c++)
            for (uint b = 0; b < L->out_bits; b++) {
              arena[bw_out_addr(L, s.base[c], s.opix[c], b, g / groups_per_word)] = outw[c][b];
              outw[c][b] = 0;
            }
        }
      }
    }
  }
}

__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void bitweave_array(__global const uint *program, const uint layers, __global const ulong *weights,
                    __global const int *params, __global ulong *arena, const uint arena_words, const uint images) {
  for (uint l = 0; l < layers; l++) {
    /* one work-item: a layer's writes are visible to the next layer's reads in program order */
    const bw_layer L = bw_decode(program + l * BW_DESC_WORDS);
    bw_layer_run(&L, weights, params, arena, arena_words, images);
  }
}
