/*
 * Tokens on the hls::streams between the blocks: one slot of the pixel stream, one
 * activation / weight vector per PE cycle, one finished tile of accumulators.
 */
#ifndef BW_TOKENS_H
#define BW_TOKENS_H

#include "bw_types.h"

namespace bw {

/* COLS: entries per slot (PE columns). A slot of the pixel stream (the RTL's tile-ring slot);
 * columns >= nvalid are empty. */
template <int COLS>
struct Slot {
  uint32_t n[COLS];    /* image of the entry */
  int32_t iy0[COLS];   /* window origin in the input map (may lie in the padding) */
  int32_t ix0[COLS];
  uint32_t opix[COLS]; /* output pixel oy*OUT_W + ox within the image */
  bool first[COLS];    /* the entry starts its pool window */
  bool last[COLS];     /* the entry ends its pool window */
  uint32_t nvalid;     /* entries in the slot, 1..COLS */
  uint32_t g;          /* channel group of the pass (pool layers) */
};

/* COLS: PE columns. One activation word per column for one PE cycle. */
template <int COLS>
struct ActVec {
  word_t w[COLS];
};

/* ROWS: PE rows. One weight word per row for one PE cycle. */
template <int ROWS>
struct WgtVec {
  word_t w[ROWS];
};

/* ROWS: PE rows; COLS: PE columns. A finished tile, drained whole (the RTL's DRAIN = COLS). */
template <int ROWS, int COLS>
struct AccTile {
  acc_t v[ROWS][COLS];
};

}  // namespace bw

#endif
