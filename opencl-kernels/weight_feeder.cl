/*
 * Weight feeder (hls/weight_feeder.h, sim/bw_weight_feeder.sv): the weight words of a
 * tile's ROWS output channels, one per PE row per cycle, read from the packed weight
 * buffer at W_OFF, [outC][wbits][kh][kw][words] (host/array/program.ts): a channel's
 * weight planes are adjacent.
 */

/* The weight words entering the ROWS row edges at step (q, ky, kx, w) of weight plane q;
 * rows past OUT_C (the last channel tile) get 0 and their results are never drained. */
inline void bw_weights(const bw_layer *L, __global const ulong *weights, uint ch0,
                       uint q, uint ky, uint kx, uint w, ulong wv[BW_ROWS]) {
  #pragma unroll
  for (uint r = 0; r < BW_ROWS; r++) {
    uint oc = ch0 + r;
    wv[r] = oc < L->out_c ? weights[L->w_off + (oc * L->wbits + q) * L->kwords + (ky * L->kw + kx) * L->in_words + w] : 0;
  }
}
