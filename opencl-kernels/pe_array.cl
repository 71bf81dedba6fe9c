/*
 * The ROWS x COLS processing elements. Each PE (r, c) owns one accumulator (output
 * channel r, pixel c of the tile) and per cycle adds the popcount of one weight word and
 * one activation word:
 *   XNOR mode (1-bit x 1-bit):  acc += popcount(~(a ^ w))            (match count P)
 *   AND mode, pass (activation plane p, weight plane q):  acc += s * t, s = +-2^(p+q)
 *     (negative when exactly one of p, q is a signed top plane) and t by BW_PE_*:
 *     AND_SUB_A (+-1 weights)      2*popcount(a & w) - popcount(a)
 *     AND_SUB_W (+-1 activations)  2*popcount(a & w) - popcount(w)
 *     AND       (both integer)     popcount(a & w)
 * (host/array/params.ts PE_MODE; a bipolar operand 2*bit - 1 gives the doubled popcount
 * minus the other operand's ones). popcount(a) is a per-column and popcount(w) a per-row
 * term, computed once per column / row as the feeders would.
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

inline void bw_pe_and(int acc[BW_ROWS][BW_COLS], const ulong w[BW_ROWS], const ulong a[BW_COLS], uint mode, uint shift, bool neg) {
  const int dbl = mode == BW_PE_AND ? 1 : 2;
  int ones_a[BW_COLS], ones_w[BW_ROWS];
  #pragma unroll
  for (uint c = 0; c < BW_COLS; c++) ones_a[c] = mode == BW_PE_AND_SUB_A ? (int)popcount(a[c]) : 0;
  #pragma unroll
  for (uint r = 0; r < BW_ROWS; r++) ones_w[r] = mode == BW_PE_AND_SUB_W ? (int)popcount(w[r]) : 0;
  /* a multiplication, not a shift: the term is negative when fewer than half match */
  const int scale = neg ? -(1 << shift) : (1 << shift);
  #pragma unroll
  for (uint r = 0; r < BW_ROWS; r++) {
    #pragma unroll
    for (uint c = 0; c < BW_COLS; c++) acc[r][c] += (dbl * (int)popcount(a[c] & w[r]) - ones_a[c] - ones_w[r]) * scale;
  }
}
