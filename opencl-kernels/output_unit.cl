/*
 * Per-row output units (sim/bw_output_unit.sv, bw_row_unit.sv). For each finished tile
 * (one slot x one channel group) they:
 *  1. correct the xnor count for the zero tail bits (subtract TAIL) and fold the tile's
 *     columns in stream order into each row's pool register: max, or min where the
 *     channel's FLAG_POOL_MIN is set (a decreasing folded BatchNorm), so the pool stays
 *     exact; an entry that starts a window resets the register, one that ends a window
 *     finishes that output pixel (a window may span tiles; without pool every entry is a
 *     whole window);
 *  2. for each finished pixel: compare with the channel's 2^OUT_BITS - 1 thresholds (XOR
 *     FLAG_FLIP), count the passed ones (signed outputs: that count with its top bit
 *     inverted) and set the level's bits in the packed output words of the next layer, or
 *     write the raw int32 (two per 64-bit arena word, low first).
 * Layers without pool use a slot for every channel group in turn, so a column's packed
 * word is complete after 64 / ROWS consecutive groups and is written once from registers;
 * pool layers walk the groups outermost, so each group's ROWS bits are merged into the
 * arena word (read-modify-write: the RTL's masked write ports; the last group clears the
 * word's tail bits).
 */

/* Step 1: fold tile `acc` into the pool registers; the finished pixels' values go to
 * done[k] (column done_c[k]); returns their number. */
inline uint bw_out_fold(const bw_layer *L, int pool[BW_ROWS], const int acc[BW_ROWS][BW_COLS], const bw_slot *s,
                        ulong min_rows, int done[BW_COLS][BW_ROWS], uint done_c[BW_COLS]) {
  const int tail = (int)L->tail;
  uint nd = 0;
  for (uint c = 0; c < s->nvalid; c++) {
    const bool first = (s->first >> c) & 1;
    #pragma unroll
    for (uint r = 0; r < BW_ROWS; r++) {
      const int v = acc[r][c] - tail;
      const bool use_min = (min_rows >> r) & 1;
      pool[r] = first ? v : use_min ? min(pool[r], v) : max(pool[r], v);
      done[nd][r] = pool[r];
    }
    if ((s->last >> c) & 1) done_c[nd++] = c;
  }
  return nd;
}

/* Step 2, threshold epilogue: the level bits of the group's channels for finished pixel k,
 * as they sit in the group's output word (one word per plane). */
inline void bw_out_levels(const bw_layer *L, __global const int *params, const int v[BW_ROWS], uint ch0,
                          ulong bits[BW_MAX_BITS]) {
  const uint levels = (1u << L->out_bits) - 1;
  for (uint b = 0; b < L->out_bits; b++) bits[b] = 0;
  #pragma unroll
  for (uint r = 0; r < BW_ROWS; r++) {
    const uint ch = ch0 + r;
    if (ch >= L->out_c) continue;
    const bool flip = params[L->f_off + ch] & BW_FLAG_FLIP;
    __global const int *t = params + L->t_off + ch * levels;
    uint level = 0;
    for (uint j = 0; j < levels; j++) level += (v[r] >= t[j]) != flip;
    if (L->out_signed) level ^= 1u << (L->out_bits - 1); /* n - 2^(k-1) in k-bit two's complement */
    for (uint b = 0; b < L->out_bits; b++) bits[b] |= (ulong)((level >> b) & 1) << (ch % BW_WORD);
  }
}

/* The arena word of plane b, output word g of pixel opix of the image at base. */
inline uint bw_out_addr(const bw_layer *L, uint base, uint opix, uint b, uint g) {
  return base + L->out_off + (opix * L->out_bits + b) * L->out_words + g;
}

/* Pool layers: merge the group's bits into the arena words (the last group also writes the
 * word's tail bits past OUT_C as 0). */
inline void bw_out_merge_bits(const bw_layer *L, __global ulong *arena, uint addr0, uint ch0, const ulong bits[BW_MAX_BITS]) {
  const uint lo = ch0 % BW_WORD;
  const bool last_group = ch0 + BW_ROWS >= L->out_c;
  const uint n = last_group ? BW_WORD - lo : BW_ROWS;
  const ulong mask = (n >= BW_WORD ? ~(ulong)0 : (((ulong)1 << n) - 1)) << lo;
  for (uint b = 0; b < L->out_bits; b++) {
    const uint a = addr0 + b * L->out_words;
    arena[a] = (arena[a] & ~mask) | bits[b];
  }
}

/* Integer epilogue: raw int32 per (pixel, channel), NHWC, two per 64-bit word. */
inline void bw_out_ints(const bw_layer *L, __global ulong *arena, const int v[BW_ROWS], uint base, uint opix, uint ch0) {
  /* little-endian devices (every OpenCL FPGA board and PoCL on x86/ARM): int32 element e of
   * the region is the low (e even) or high (e odd) half of 64-bit word e / 2 */
  __global int *out = (__global int *)(arena + base + L->out_off);
  #pragma unroll
  for (uint r = 0; r < BW_ROWS; r++) {
    const uint ch = ch0 + r;
    if (ch < L->out_c) out[opix * L->out_c + ch] = v[r];
  }
}
