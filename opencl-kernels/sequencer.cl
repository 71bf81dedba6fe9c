/*
 * The sequencer and the kernel: walks a layer program (DESIGN section 3). One launch
 * processes `images` images; for each image it executes every layer descriptor of the
 * device segment in order on that image's arena, so the host never round-trips per layer
 * and one compiled kernel runs every model.
 *
 * Within a layer the work is a stream of tiles, ROWS output channels x COLS output
 * pixels, visited (pixel tile, channel tile, pool-window position) with the window
 * position innermost (the output units pool over consecutive tiles) and the channel tiles
 * of one 64-bit output word consecutive (the units complete a packed word before moving
 * on). Accumulators are double-buffered: the loop below is software-pipelined so that
 * tile t is computed into bank t&1 while tile t-1 is drained from the other bank, which
 * is the overlap the hardware has (an FPGA compiler turns the two halves of one
 * iteration into concurrent stages).
 *
 * FPGA style: a single work-item (Intel "single work-item" / Xilinx task kernel), no
 * channels or pipes, so the same source runs on PoCL.
 */

/* Per-bank tile state that travels with the accumulators from the array to the drain. */
typedef struct {
  uint pix0;  /* first output pixel of the tile */
  uint ch0;   /* first output channel */
  uint pp;    /* pool-window position, 0 .. pkh*pkw-1 */
  ulong valid; /* columns holding real accumulator pixels at this window position */
} bw_tile;

/* Tile t of a layer: its pixel and channel origins and its column origins for the feeder. */
inline bw_tile bw_tile_at(const bw_layer *L, uint t, uint ctiles, bw_columns *cols) {
  const uint np = L->pkh * L->pkw;
  bw_tile T;
  T.pp = t % np;
  const uint rest = t / np;
  T.ch0 = (rest % ctiles) * BW_ROWS;
  T.pix0 = (rest / ctiles) * BW_COLS;
  const uint py = T.pp / L->pkw, px = T.pp % L->pkw;
  const uint pixels = L->out_h * L->out_w;
  T.valid = 0;
  #pragma unroll
  for (uint c = 0; c < BW_COLS; c++) {
    const uint p = T.pix0 + c;
    const uint oy = p / L->out_w, ox = p % L->out_w;
    /* the accumulator pixel this column computes at window position (py, px) */
    const int ay = (int)(oy * L->psh + py) - (int)L->pph;
    const int ax = (int)(ox * L->psw + px) - (int)L->ppw;
    const bool ok = p < pixels && ay >= 0 && ay < (int)L->acc_h && ax >= 0 && ax < (int)L->acc_w;
    T.valid |= (ulong)ok << c;
    cols->iy0[c] = ay * (int)L->sh - (int)L->ph;
    cols->ix0[c] = ax * (int)L->sw - (int)L->pw;
  }
  cols->valid = T.valid;
  return T;
}

/* Channels of the tile whose pool takes the minimum (FLAG_POOL_MIN), one bit per row. */
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

/* One layer on one image's arena. */
inline void bw_layer_run(const bw_layer *L, __global const ulong *weights, __global const int *params,
                         __global ulong *arena) {
  const uint ctiles = (L->out_c + BW_ROWS - 1) / BW_ROWS;
  const uint ptiles = (L->out_h * L->out_w + BW_COLS - 1) / BW_COLS;
  const uint np = L->pkh * L->pkw;
  const uint tiles = ptiles * ctiles * np;
  const bool and_mode = L->op & BW_OP_AND_PLANES;
  const bool thresholds = L->op & BW_OP_THRESHOLD;
  const uint tiles_per_word = BW_WORD / BW_ROWS;
  __global const ulong *in = arena + L->in_off;

  int acc[2][BW_ROWS][BW_COLS];  /* the two accumulator banks */
  bw_tile meta[2];
  int pool[BW_ROWS][BW_COLS];    /* the output units' pool registers */
  ulong outw[BW_COLS][BW_MAX_BITS]; /* packed output words under construction */
  for (uint c = 0; c < BW_COLS; c++)
    for (uint b = 0; b < BW_MAX_BITS; b++) outw[c][b] = 0;

  for (uint t = 0; t <= tiles; t++) {
    const uint bank = t & 1;
    /* the PE array: tile t into bank t&1 */
    if (t < tiles) {
      bw_columns cols;
      meta[bank] = bw_tile_at(L, t, ctiles, &cols);
      #pragma unroll
      for (uint r = 0; r < BW_ROWS; r++)
        #pragma unroll
        for (uint c = 0; c < BW_COLS; c++) acc[bank][r][c] = 0;
      for (uint ky = 0; ky < L->kh; ky++)
        for (uint kx = 0; kx < L->kw; kx++)
          for (uint w = 0; w < L->in_words; w++) {
            const ulong pad = bw_pad_word(L, w);
            ulong wv[BW_ROWS];
            bw_weights(L, weights, meta[bank].ch0, ky, kx, w, wv);
            /* the weight word stays in the row registers for every bit-plane pass */
            for (uint plane = 0; plane < L->planes; plane++) {
              ulong a[BW_COLS];
              bw_feed(L, in, &cols, ky, kx, plane, w, pad, a);
              if (and_mode) bw_pe_and(acc[bank], wv, a, plane);
              else bw_pe_xnor(acc[bank], wv, a);
            }
          }
    }
    /* the output units: tile t-1 from the other bank */
    if (t > 0) {
      const bw_tile T = meta[bank ^ 1];
      bw_out_merge(L, pool, acc[bank ^ 1], T.valid, bw_min_rows(L, params, T.ch0), T.pp == 0);
      if (T.pp == np - 1) {
        if (thresholds) {
          bw_out_threshold(L, params, pool, T.ch0, outw);
          const uint ct = T.ch0 / BW_ROWS;
          if ((ct + 1) % tiles_per_word == 0 || ct + 1 == ctiles) bw_out_store_words(L, arena, T.pix0, ct / tiles_per_word, outw);
        } else {
          bw_out_ints(L, arena, pool, T.pix0, T.ch0);
        }
      }
    }
  }
}

__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void bitweave_array(__global const uint *program, const uint layers, __global const ulong *weights,
                    __global const int *params, __global ulong *arena, const uint arena_words, const uint images) {
  for (uint i = 0; i < images; i++) {
    __global ulong *img = arena + (ulong)i * arena_words;
    for (uint l = 0; l < layers; l++) {
      /* one work-item: a layer's writes are visible to the next layer's reads in program order */
      const bw_layer L = bw_decode(program + l * BW_DESC_WORDS);
      bw_layer_run(&L, weights, params, img);
    }
  }
}
