/*
 * Sliding-window feeder: builds the activation word each PE column consumes in a cycle
 * straight from the packed NHWC input map, so no im2col copy exists in device memory.
 *
 * A tile's column c computes accumulator pixel (ay, ax); at array cycle k = (ky, kx,
 * plane, word) it needs word `word` of bit-plane `plane` of input pixel
 * (ay*SH - PH + ky, ax*SW - PW + kx). Pixels outside the map are padding: every plane
 * holds PAD_BIT in the real channel bits and 0 in the tail bits (past IN_C), matching the
 * zero tails of stored activations and weights, so the xnor tail correction stays a
 * per-layer constant (TAIL).
 */

/* Column origins of one tile: the window's top-left input pixel, and whether the column
 * holds a real accumulator pixel at all (tile edges, pool padding). */
typedef struct {
  int iy0[BW_COLS];
  int ix0[BW_COLS];
  ulong valid; /* bit c: column c computes a real accumulator pixel */
} bw_columns;

/* The padding word for word `w` of a pixel: PAD_BIT in the real channel bits only. */
inline ulong bw_pad_word(const bw_layer *L, uint w) {
  if (!L->pad_bit) return 0;
  uint real = L->in_c - w * BW_WORD; /* real channel bits in this word, >= 1 */
  return real >= BW_WORD ? ~(ulong)0 : (((ulong)1 << real) - 1);
}

/* One cycle of the feeder: COLS activation words for step (ky, kx, plane, w). */
inline void bw_feed(const bw_layer *L, __global const ulong *in, const bw_columns *cols,
                    uint ky, uint kx, uint plane, uint w, ulong pad, ulong a[BW_COLS]) {
  #pragma unroll
  for (uint c = 0; c < BW_COLS; c++) {
    int iy = cols->iy0[c] + (int)ky;
    int ix = cols->ix0[c] + (int)kx;
    bool inside = ((cols->valid >> c) & 1) && iy >= 0 && iy < (int)L->in_h && ix >= 0 && ix < (int)L->in_w;
    /* the address is only formed for inside pixels, so it never leaves the input region */
    a[c] = inside ? in[(((uint)iy * L->in_w + (uint)ix) * L->planes + plane) * L->in_words + w] : pad;
  }
}
