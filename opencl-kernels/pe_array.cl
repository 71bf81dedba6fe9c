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
  /* t * (+-2^shift) as a shift of the unsigned bits and a negation (no multiplier, so no
   * DSP block per PE): the same two's complement value, and no signed-shift overflow */
  #pragma unroll
  for (uint r = 0; r < BW_ROWS; r++) {
    #pragma unroll
    for (uint c = 0; c < BW_COLS; c++) {
      const int v = (int)((uint)(dbl * (int)popcount(a[c] & w[r]) - ones_a[c] - ones_w[r]) << shift);
      acc[r][c] += neg ? -v : v;
    }
  }
}

/* Kernel 2 of 3: per tile, one flattened loop over the k-steps (one activation vector in,
 * or replayed from the slot's store for the second and later channel groups; the group's
 * next wide weight row fetched at plane 0 and held for the other planes), then the tile's
 * accumulators out, column by column. The accumulators live in registers: the
 * output units' stream buffers the drain, so no accumulator bank is indexed at run time. */
__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void bw_pe_array(__global const uint *restrict program, const uint layers, __global const ulong *restrict weights,
                 const uint images, __global const ulong *restrict act_fifo, __global int *restrict acc_fifo) {
  __global const bw_act *restrict act_q = (__global const bw_act *)act_fifo;
  __global bw_acc *restrict acc_q = (__global bw_acc *)acc_fifo;
  BW_STREAM_STATE(act);
  BW_STREAM_STATE(acc);
  __local bw_act replay[BW_REPLAY_STEPS];
  __local bw_wrow wstore[BW_WEIGHT_BUF_ROWS];
  for (uint l = 0; l < layers; l++) {
    const bw_layer L = bw_decode(program + l * BW_DESC_WORDS);
    const bw_tiling T = bw_tiling_of(&L, images);
    const bool replays = bw_replays(L.ksteps, T.reps);
    __global const bw_wrow *restrict wlayer = (__global const bw_wrow *)weights + L.w_off;
    const bool on_chip = bw_weights_on_chip(&L);
    if (on_chip)
      for (uint i = 0; i < bw_layer_rows(&L); i++) wstore[i] = wlayer[i];
    const uint in_top = L.in_signed ? L.planes - 1 : BW_MAX_BITS, w_top = L.w_signed ? L.wbits - 1 : BW_MAX_W_BITS;
    for (uint pass = 0; pass < T.passes; pass++)
      for (uint sl = 0; sl < T.slots; sl++)
        for (uint rep = 0; rep < T.reps; rep++) {
          uint wrow = (T.pool ? pass : rep) * L.wbits * L.kwords; /* the group's first wide row */
          int acc[BW_ROWS][BW_COLS];
          #pragma unroll
          for (uint r = 0; r < BW_ROWS; r++)
            #pragma unroll
            for (uint c = 0; c < BW_COLS; c++) acc[r][c] = 0;
          bw_kstep k = bw_kstep_first();
          bw_wrow wv;
          for (uint step = 0; step < L.ksteps; step++) {
            if (k.plane == 0) wv = on_chip ? wstore[wrow++] : wlayer[wrow++];
            bw_act a;
            if (replays && rep > 0) {
              a = replay[step];
            } else {
              a = BW_POP(act, act_q);
              if (replays) replay[step] = a;
            }
            if (L.pe_mode == BW_PE_XNOR) bw_pe_xnor(acc, wv.w, a.w);
            else bw_pe_and(acc, wv.w, a.w, L.pe_mode, k.plane + k.q, (k.plane == in_top) != (k.q == w_top));
            bw_kstep_next(&L, &k);
          }
          #pragma unroll
          for (uint c = 0; c < BW_COLS; c++) {
            bw_acc col;
            #pragma unroll
            for (uint r = 0; r < BW_ROWS; r++) col.v[r] = acc[r][c];
            BW_PUSH(acc, acc_q, col);
          }
        }
  }
}
