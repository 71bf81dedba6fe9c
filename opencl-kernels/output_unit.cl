/*
 * Per-row output units. They drain a finished accumulator bank (one tile) while the PE
 * array fills the other bank, and:
 *  1. correct the xnor count for the zero tail bits (subtract TAIL);
 *  2. pool on integers: a tile is visited once per pool-window position, and each visit
 *     is merged into the unit's pool register with max, or min where the channel's
 *     FLAG_POOL_MIN is set (a decreasing folded BatchNorm), so the pool stays exact;
 *     accumulator pixels outside the map (pool padding) are skipped;
 *  3. after the last window position: either compare with the channel's 2^OUT_BITS - 1
 *     thresholds (XOR FLAG_FLIP) and set the level's bits in the packed output words of
 *     the next layer, or write the raw int32 (two per 64-bit arena word, low first).
 */

/* Step 1 and 2: merge bank `acc` (window position `first` = the first one) into `pool`. */
inline void bw_out_merge(const bw_layer *L, int pool[BW_ROWS][BW_COLS], const int acc[BW_ROWS][BW_COLS],
                         ulong valid, ulong min_rows, bool first) {
  const int tail = (int)L->tail;
  #pragma unroll
  for (uint r = 0; r < BW_ROWS; r++) {
    const bool use_min = (min_rows >> r) & 1;
    #pragma unroll
    for (uint c = 0; c < BW_COLS; c++) {
      const int v = acc[r][c] - tail;
      int p = first ? (use_min ? INT_MAX : INT_MIN) : pool[r][c];
      if ((valid >> c) & 1) p = use_min ? min(p, v) : max(p, v);
      pool[r][c] = p;
    }
  }
}

/* Step 3, threshold epilogue: OR each channel's level bits into the output words. */
inline void bw_out_threshold(const bw_layer *L, __global const int *params, const int pool[BW_ROWS][BW_COLS],
                             uint ch0, ulong outw[BW_COLS][BW_MAX_BITS]) {
  const uint levels = (1u << L->out_bits) - 1;
  #pragma unroll
  for (uint r = 0; r < BW_ROWS; r++) {
    const uint ch = ch0 + r;
    if (ch >= L->out_c) continue;
    const bool flip = params[L->f_off + ch] & BW_FLAG_FLIP;
    __global const int *t = params + L->t_off + ch * levels;
    const uint bit = ch % BW_WORD;
    #pragma unroll
    for (uint c = 0; c < BW_COLS; c++) {
      const int v = pool[r][c];
      uint level = 0;
      for (uint j = 0; j < levels; j++) level += (v >= t[j]) != flip;
      for (uint b = 0; b < L->out_bits; b++) outw[c][b] |= (ulong)((level >> b) & 1) << bit;
    }
  }
}

/* Writes the finished output words of word group `g` for the tile's pixels, then clears them. */
inline void bw_out_store_words(const bw_layer *L, __global ulong *arena, uint pix0, uint g,
                               ulong outw[BW_COLS][BW_MAX_BITS]) {
  const uint pixels = L->out_h * L->out_w;
  #pragma unroll
  for (uint c = 0; c < BW_COLS; c++) {
    const uint p = pix0 + c;
    for (uint b = 0; b < L->out_bits; b++) {
      if (p < pixels) arena[L->out_off + (p * L->out_bits + b) * L->out_words + g] = outw[c][b];
      outw[c][b] = 0;
    }
  }
}

/* Step 3, integer epilogue: raw int32 per (pixel, channel), NHWC, two per 64-bit word. */
inline void bw_out_ints(const bw_layer *L, __global ulong *arena, const int pool[BW_ROWS][BW_COLS], uint pix0, uint ch0) {
  const uint pixels = L->out_h * L->out_w;
  /* little-endian devices (every OpenCL FPGA board and PoCL on x86/ARM): int32 element e of
   * the region is the low (e even) or high (e odd) half of 64-bit word e / 2 */
  __global int *out = (__global int *)(arena + L->out_off);
  #pragma unroll
  for (uint r = 0; r < BW_ROWS; r++) {
    const uint ch = ch0 + r;
    #pragma unroll
    for (uint c = 0; c < BW_COLS; c++) {
      const uint p = pix0 + c;
      if (ch < L->out_c && p < pixels) out[p * L->out_c + ch] = pool[r][c];
    }
  }
}
