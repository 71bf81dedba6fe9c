/*
 * Weight feeder (hls/weight_feeder.h, sim/bw_weight_feeder.sv): the weight words of a
 * tile's ROWS output channels, one per PE row per cycle. The buffer holds the program's
 * weights in wide rows (host/array/wide.ts, the RTL's WIDE_WEIGHTS layout): row
 * W_OFF + g*WK + j holds word j of channel g*ROWS + r in lane r (WK = W_BITS*KH*KW*IN_WORDS,
 * words in [wbits][kh][kw][words] order; lanes past OUT_C are 0, their results are never
 * drained). A tile's k-steps read its group's rows in order, one wide row per weight word:
 * one load unit for every PE row, and consecutive addresses.
 */

typedef struct { ulong w[BW_ROWS]; } bw_wrow;

/* The first wide row of channel group g. */
inline __global const bw_wrow *bw_group_rows(const bw_layer *L, __global const ulong *restrict weights, uint g) {
  return (__global const bw_wrow *)weights + L->w_off + g * L->wbits * L->kwords;
}
