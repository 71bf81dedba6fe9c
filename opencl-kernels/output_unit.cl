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

/* Levels per channel at most (2^BW_MAX_BITS - 1 thresholds). */
#define BW_MAX_LEVELS ((1 << BW_MAX_BITS) - 1)

/* The channel group's parameters in the output units' local memory, copied from params
 * when the group changes: two contiguous reads (thresholds, flags), so two load units
 * serve every row, and the per-pixel work reads on-chip memory only. */
inline void bw_load_group(const bw_layer *L, __global const int *restrict params, uint ch0, __local int *restrict thr,
                          __local int *restrict flags) {
  const uint levels = (1u << L->out_bits) - 1;
  const uint rows = min((uint)BW_ROWS, L->out_c - ch0);
  if (L->op & BW_OP_THRESHOLD)
    for (uint i = 0; i < rows * levels; i++) thr[i] = params[L->t_off + ch0 * levels + i];
  if (L->op & (BW_OP_THRESHOLD | BW_OP_POOL))
    for (uint r = 0; r < rows; r++) flags[r] = params[L->f_off + ch0 + r];
}

/* Step 2, threshold epilogue: the level bits of the group's channels for finished pixel k,
 * as they sit in the group's output word (one word per plane). */
inline void bw_out_levels(const bw_layer *L, __local const int *restrict thr, __local const int *restrict flags,
                          const int v[BW_ROWS], uint ch0, ulong bits[BW_MAX_BITS]) {
  const uint levels = (1u << L->out_bits) - 1;
  for (uint b = 0; b < L->out_bits; b++) bits[b] = 0;
  #pragma unroll
  for (uint r = 0; r < BW_ROWS; r++) {
    const uint ch = ch0 + r;
    if (ch >= L->out_c) continue;
    const bool flip = flags[r] & BW_FLAG_FLIP;
    __local const int *t = thr + r * levels;
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
inline void bw_out_merge_bits(const bw_layer *L, __global ulong *restrict arena, uint addr0, uint ch0, const ulong bits[BW_MAX_BITS]) {
  const uint lo = ch0 % BW_WORD;
  const bool last_group = ch0 + BW_ROWS >= L->out_c;
  const uint n = last_group ? BW_WORD - lo : BW_ROWS;
  const ulong mask = (n >= BW_WORD ? ~(ulong)0 : (((ulong)1 << n) - 1)) << lo;
  for (uint b = 0; b < L->out_bits; b++) {
    const uint a = addr0 + b * L->out_words;
    arena[a] = (arena[a] & ~mask) | bits[b];
  }
}

/* Integer epilogue: raw int32 per (pixel, channel), NHWC, two per 64-bit word; one store
 * site (a loop, not unrolled: the channels of a pixel are consecutive addresses). */
inline void bw_out_ints(const bw_layer *L, __global ulong *restrict arena, const int v[BW_ROWS], uint base, uint opix, uint ch0) {
  /* little-endian devices (every OpenCL FPGA board and PoCL on x86/ARM): int32 element e of
   * the region is the low (e even) or high (e odd) half of 64-bit word e / 2 */
  __global int *out = (__global int *)(arena + base + L->out_off) + opix * L->out_c + ch0;
  const uint rows = min((uint)BW_ROWS, L->out_c - ch0);
  for (uint r = 0; r < rows; r++) out[r] = v[r];
}

/* Channels of the group whose pool takes the minimum (FLAG_POOL_MIN), one bit per row. */
inline ulong bw_min_rows(const bw_layer *L, __local const int *restrict flags, uint ch0) {
  ulong m = 0;
  if (!(L->op & BW_OP_POOL)) return 0;
  #pragma unroll
  for (uint r = 0; r < BW_ROWS; r++) {
    const uint ch = ch0 + r;
    if (ch < L->out_c && (flags[r] & BW_FLAG_POOL_MIN)) m |= (ulong)1 << r;
  }
  return m;
}

/* Kernel 3 of 3: takes each tile's accumulators from the PE array, walks the same slots
 * as the feeder for their pixels, and writes the layer's outputs. */
__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void bw_output_unit(__global const uint *restrict program, const uint layers, __global const int *restrict params,
                    __global ulong *restrict arena, const uint arena_words, const uint images, __global const int *restrict acc_fifo) {
  __global const bw_acc *restrict acc_q = (__global const bw_acc *)acc_fifo;
  BW_STREAM_STATE(acc);
  __local int thr[BW_ROWS * BW_MAX_LEVELS];
  __local int flags[BW_ROWS];
  for (uint l = 0; l < layers; l++) {
    const bw_layer L = bw_decode(program + l * BW_DESC_WORDS);
    const bw_tiling T = bw_tiling_of(&L, images);
    const bool thresholds = L.op & BW_OP_THRESHOLD;
    const uint groups_per_word = BW_WORD / BW_ROWS;

    int pool[BW_ROWS];                /* the row units' pool registers */
    int done[BW_COLS][BW_ROWS];       /* pixels a tile finishes */
    uint done_c[BW_COLS];
    ulong outw[BW_COLS][BW_MAX_BITS]; /* packed output words under construction (no pool) */
    for (uint c = 0; c < BW_COLS; c++)
      for (uint b = 0; b < BW_MAX_BITS; b++) outw[c][b] = 0;
    for (uint r = 0; r < BW_ROWS; r++) pool[r] = 0;
    uint held = ~0u; /* the channel group whose parameters are in thr / flags */

    for (uint pass = 0; pass < T.passes; pass++) {
      bw_walker W;
      bw_walk_start(&L, &W);
      uint left = T.entries;
      for (uint sl = 0; sl < T.slots; sl++) {
        bw_slot s;
        bw_next_slot(&L, &W, arena_words, &left, &s);
        uint word_groups = 0, word = 0; /* groups gathered into the current output word, its index */
        for (uint rep = 0; rep < T.reps; rep++) {
          const uint ch0 = (T.pool ? pass : rep) * BW_ROWS;
          if (ch0 != held) {
            bw_load_group(&L, params, ch0, thr, flags);
            held = ch0;
          }
          int acc[BW_ROWS][BW_COLS];
          for (uint c = 0; c < BW_COLS; c++) {
            const bw_acc col = BW_POP(acc, acc_q);
            #pragma unroll
            for (uint r = 0; r < BW_ROWS; r++) acc[r][c] = col.v[r];
          }
          const uint nd = bw_out_fold(&L, pool, acc, &s, bw_min_rows(&L, flags, ch0), done, done_c);
          for (uint k = 0; k < nd; k++) {
            const uint c = done_c[k];
            if (!thresholds) {
              bw_out_ints(&L, arena, done[k], s.base[c], s.opix[c], ch0);
              continue;
            }
            ulong bits[BW_MAX_BITS];
            bw_out_levels(&L, thr, flags, done[k], ch0, bits);
            if (T.pool) {
              bw_out_merge_bits(&L, arena, bw_out_addr(&L, s.base[c], s.opix[c], 0, ch0 / BW_WORD), ch0, bits);
            } else {
              for (uint b = 0; b < L.out_bits; b++) outw[c][b] |= bits[b];
            }
          }
          /* without pool a column's word is complete after its 64 / ROWS groups */
          if (thresholds && !T.pool && (++word_groups == groups_per_word || rep + 1 == T.reps)) {
            for (uint c = 0; c < s.nvalid; c++)
              for (uint b = 0; b < L.out_bits; b++) {
                arena[bw_out_addr(&L, s.base[c], s.opix[c], b, word)] = outw[c][b];
                outw[c][b] = 0;
              }
            word_groups = 0;
            word++;
          }
        }
      }
    }
    if (l + 1 < layers) BW_LAYER_DONE(l);
  }
}
