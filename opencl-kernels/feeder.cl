/*
 * Sliding-window feeder: builds the activation word each PE column consumes in a cycle
 * straight from the packed NHWC input map, so no im2col copy exists in device memory.
 *
 * A tile's column c computes accumulator pixel (ay, ax) of its entry's image; at array
 * cycle k = (ky, kx, plane, word) it needs word `word` of bit-plane `plane` of input pixel
 * (ay*SH - PH + ky, ax*SW - PW + kx). Pixels outside the map are padding: every plane
 * holds PAD_BIT in the real channel bits and 0 in the tail bits (past IN_C), matching the
 * zero tails of stored activations and weights, so the xnor tail correction stays a
 * per-layer constant (TAIL).
 */

/* One slot of the pixel stream (the RTL's tile-ring slot): BW_COLS consecutive entries,
 * each an accumulator pixel of some image; columns >= nvalid are empty. */
typedef struct {
  uint base[BW_COLS];  /* arena word of the entry's image */
  int iy0[BW_COLS];    /* window origin in the input map (may lie in the padding) */
  int ix0[BW_COLS];
  uint opix[BW_COLS];  /* output pixel oy*OUT_W + ox within the image */
  ulong first, last;   /* bit c: the entry starts / ends its pool window */
  uint nvalid;
} bw_slot;

/* The padding word for word `w` of a pixel: PAD_BIT in the real channel bits only. */
inline ulong bw_pad_word(const bw_layer *L, uint w) {
  if (!L->pad_bit) return 0;
  uint real = L->in_c - w * BW_WORD; /* real channel bits in this word, >= 1 */
  return real >= BW_WORD ? ~(ulong)0 : (((ulong)1 << real) - 1);
}

/* One cycle of the feeder: BW_COLS activation words for step (ky, kx, plane, w). */
inline void bw_feed(const bw_layer *L, __global const ulong *arena, const bw_slot *s,
                    uint ky, uint kx, uint plane, uint w, ulong pad, ulong a[BW_COLS]) {
  #pragma unroll
  for (uint c = 0; c < BW_COLS; c++) {
    int iy = s->iy0[c] + (int)ky;
    int ix = s->ix0[c] + (int)kx;
    bool inside = c < s->nvalid && iy >= 0 && iy < (int)L->in_h && ix >= 0 && ix < (int)L->in_w;
    /* the address is only formed for inside pixels, so it never leaves the input region */
    a[c] = inside ? arena[s->base[c] + L->in_off + (((uint)iy * L->in_w + (uint)ix) * L->planes + plane) * L->in_words + w] : pad;
  }
}
