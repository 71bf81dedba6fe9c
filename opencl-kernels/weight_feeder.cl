/*
 * Weight feeder (hls/weight_feeder.h, sim/bw_weight_feeder.sv): the weight words of a
 * tile's ROWS output channels, one per PE row per cycle. The buffer holds the program's
 * weights in wide rows (host/array/wide.ts, the RTL's WIDE_WEIGHTS layout): row
 * W_OFF + g*WK + j holds word j of channel g*ROWS + r in lane r (WK = W_BITS*KH*KW*IN_WORDS,
 * words in [wbits][kh][kw][words] order; lanes past OUT_C are 0, their results are never
 * drained). A tile's k-steps read its group's rows in order, one wide row per weight word,
 * from the PE array's on-chip copy of the layer (loaded once per layer) where it fits, else
 * from DDR: one load unit for every PE row, and consecutive addresses either way.
 */

typedef struct { ulong w[BW_ROWS]; } bw_wrow;

/* Wide rows the PE array's weight store holds (BW_WEIGHT_BUF_WORDS words, generated header). */
#define BW_WEIGHT_BUF_ROWS (BW_WEIGHT_BUF_WORDS / BW_ROWS)

/* A layer's wide rows: groups x (W_BITS*KH*KW*IN_WORDS). */
inline uint bw_layer_rows(const bw_layer *L) { return L->groups * L->wbits * L->kwords; }

/* Whether the layer's weights fit the PE array's on-chip store: then they are read from DDR
 * once per layer, else every tile streams its group's rows. */
inline bool bw_weights_on_chip(const bw_layer *L) { return bw_layer_rows(L) <= BW_WEIGHT_BUF_ROWS; }
