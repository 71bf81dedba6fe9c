/*
 * Tokens on the hls::streams between the blocks (one token per PE cycle or per drained row).
 */
#ifndef BW_TOKENS_H
#define BW_TOKENS_H

#include "bw_types.h"

namespace bw {

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

/* COLS: PE columns. The accumulators of one PE row, drained after the last step. */
template <int COLS>
struct AccRow {
  acc_t v[COLS];
};

}  // namespace bw

#endif
