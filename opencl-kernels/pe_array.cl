/*
 * The ROWS x COLS processing elements. Each PE (r, c) owns one accumulator (output
 * channel r, pixel c of the tile) and per cycle adds the popcount of one weight word and
 * one activation word:
 *   XNOR mode (1-bit inputs):  acc += popcount(~(a ^ w))            (match count P)
 *   AND mode  (k-bit inputs):  acc += 2^plane * (2*popcount(a & w) - popcount(a))
 * (DESIGN section 1: sum_b 2^b (2 popcount(a_b AND w) - popcount(a_b))). popcount(a) is a
 * per-column term, computed once per column as the column feeder would.
 *
 * The loops are fully unrolled into ROWS*COLS PEs. The weight word is broadcast along a
 * row and the activation word along a column within one loop iteration; an FPGA compiler
 * pipelines this into the skewed, forwarded systolic wavefront (the RTL in sim/ spells
 * the skew out), and the integer results are the same either way.
 */
inline void bw_pe_xnor(int acc[BW_ROWS][BW_COLS], const ulong w[BW_ROWS], const ulong a[BW_COLS]) {
  #pragma unroll
  for (uint r = 0; r < BW_ROWS; r++) {
    #pragma unroll
    for (uint c = 0; c < BW_COLS; c++) acc[r][c] += (int)popcount(~(a[c] ^ w[r]));
  }
}

inline void bw_pe_and(int acc[BW_ROWS][BW_COLS], const ulong w[BW_ROWS], const ulong a[BW_COLS], uint plane) {
  int ones[BW_COLS];
  #pragma unroll
  for (uint c = 0; c < BW_COLS; c++) ones[c] = (int)popcount(a[c]);
  /* a multiplication, not a shift: the term is negative when fewer than half match */
  const int scale = 1 << plane;
  #pragma unroll
  for (uint r = 0; r < BW_ROWS; r++) {
    #pragma unroll
    for (uint c = 0; c < BW_COLS; c++) acc[r][c] += (2 * (int)popcount(a[c] & w[r]) - ones[c]) * scale;
  }
}
