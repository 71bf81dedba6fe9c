/*
 * Sliding-window feeder (sim/bw_feeder.sv): builds the activation words each PE column
 * consumes in a cycle straight from the packed NHWC input map, so no im2col copy exists in
 * device memory, and streams them to the PE array (stream.cl `act`).
 *
 * A tile's column c computes accumulator pixel (ay, ax) of its entry's image; at k-step
 * (q, ky, kx, word, plane) it needs word `word` of bit-plane `plane` of input pixel
 * (ay*SH - PH + ky, ax*SW - PW + kx). Pixels outside the map are padding: every plane
 * holds PAD_BIT in the real channel bits and 0 in the tail bits (past IN_C), matching the
 * zero tails of stored activations and weights, so the xnor tail correction stays a
 * per-layer constant (TAIL).
 */

/* The padding word for word `w` of a pixel: PAD_BIT in the real channel bits only. */
inline ulong bw_pad_word(const bw_layer *L, uint w) {
  if (!L->pad_bit) return 0;
  uint real = L->in_c - w * BW_WORD; /* real channel bits in this word, >= 1 */
  return real >= BW_WORD ? ~(ulong)0 : (((ulong)1 << real) - 1);
}

/* The address of word w, plane `plane` of the input pixel (iy, ix) of column c's image. */
inline uint bw_in_addr(const bw_layer *L, const bw_slot *s, uint c, uint iy, uint ix, uint plane, uint w) {
  return s->base[c] + L->in_off + ((iy * L->in_w + ix) * L->planes + plane) * L->in_words + w;
}

/* Whether column c's window position (ky, kx) is a real input pixel (else padding). */
inline bool bw_inside(const bw_layer *L, const bw_slot *s, uint c, uint ky, uint kx) {
  const int iy = s->iy0[c] + (int)ky, ix = s->ix0[c] + (int)kx;
  return c < s->nvalid && iy >= 0 && iy < (int)L->in_h && ix >= 0 && ix < (int)L->in_w;
}

/* k-steps of one weight plane: the window's words, (ky, kx, w, plane) with the plane innermost. */
inline uint bw_window_steps(const bw_layer *L) { return L->kh * L->kw * L->in_words * L->planes; }

/* Whether a slot's windows fit the feeder's on-chip window store (BW_REPLAY_STEPS words per column). */
inline bool bw_windows_on_chip(const bw_layer *L) { return bw_window_steps(L) <= BW_REPLAY_STEPS; }

/* Copies every column's window into `win`: column c at c * BW_REPLAY_STEPS, in the map's
 * order (ky, kx, plane, word), so that a window row inside the map is one contiguous run of
 * KW pixels; padding words where the window leaves the map. One load site. */
inline void bw_load_windows(const bw_layer *L, __global BW_ARENA_IN const ulong *restrict arena, const bw_slot *s,
                            __local ulong *restrict win) {
  const uint pixel = L->planes * L->in_words, run = L->kw * pixel;
  for (uint c = 0; c < BW_COLS; c++) {
    uint i = c * BW_REPLAY_STEPS;
    for (uint ky = 0; ky < L->kh; ky++, i += run) {
      const int iy = s->iy0[c] + (int)ky, ix = s->ix0[c];
      if (c < s->nvalid && iy >= 0 && iy < (int)L->in_h && ix >= 0 && ix + (int)L->kw <= (int)L->in_w) {
        const uint base = bw_in_addr(L, s, c, (uint)iy, (uint)ix, 0, 0);
        for (uint j = 0; j < run; j++) win[i + j] = arena[base + j];
        continue;
      }
      /* a row that reaches into the padding, pixel by pixel; the address is only formed for
       * inside pixels, so it never leaves the input region */
      for (uint kx = 0, j = i; kx < L->kw; kx++) {
        const bool inside = bw_inside(L, s, c, ky, kx);
        const uint base = inside ? bw_in_addr(L, s, c, (uint)iy, (uint)(ix + (int)kx), 0, 0) : 0;
        for (uint plane = 0; plane < L->planes; plane++)
          for (uint w = 0; w < L->in_words; w++, j++) win[j] = inside ? arena[base + plane * L->in_words + w] : bw_pad_word(L, w);
      }
    }
  }
}

/* One cycle of the feeder: BW_COLS activation words for step k, from the window store
 * (word `wi` of each column's window, in the map's order) or, for windows larger than the
 * store, straight from the map one column after another (one load site either way). */
inline bw_act bw_feed(const bw_layer *L, __global BW_ARENA_IN const ulong *restrict arena, const bw_slot *s,
                      const bw_kstep *k, bool on_chip, __local const ulong *restrict win, uint wi) {
  bw_act a;
  if (on_chip) {
    #pragma unroll
    for (uint c = 0; c < BW_COLS; c++) a.w[c] = win[c * BW_REPLAY_STEPS + wi];
    return a;
  }
  const ulong pad = bw_pad_word(L, k->w);
  for (uint c = 0; c < BW_COLS; c++) {
    const bool inside = bw_inside(L, s, c, k->ky, k->kx);
    a.w[c] = inside ? arena[bw_in_addr(L, s, c, (uint)(s->iy0[c] + (int)k->ky), (uint)(s->ix0[c] + (int)k->kx), k->plane, k->w)] : pad;
  }
  return a;
}

/* Kernel 1 of 3: walks the tiles of `layers` descriptors and streams every tile's k-steps.
 * Each slot's windows are copied on chip once (where they fit) and every weight plane's
 * pass reads them from there. Without pool a slot serves every channel group: its words
 * are streamed once when the PE array can replay them (bw_replays), else once per group. */
__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void bw_feeder(__global const uint *restrict program, const uint layers, __global const ulong *restrict arena,
               const uint arena_words, const uint images, __global ulong *restrict act_fifo) {
  __global bw_act *restrict act_q = (__global bw_act *)act_fifo;
  __global BW_ARENA_IN const ulong *restrict in_map = arena;
  __local ulong win[BW_COLS * BW_REPLAY_STEPS];
  BW_STREAM_STATE(act);
  for (uint l = 0; l < layers; l++) {
    if (l > 0) BW_LAYER_WAIT();
    const bw_layer L = bw_decode(program + l * BW_DESC_WORDS);
    const bw_tiling T = bw_tiling_of(&L, images);
    const bool on_chip = bw_windows_on_chip(&L);
    for (uint pass = 0; pass < T.passes; pass++) {
      bw_walker W;
      bw_walk_start(&L, &W);
      uint left = T.entries;
      for (uint sl = 0; sl < T.slots; sl++) {
        bw_slot s;
        bw_next_slot(&L, &W, arena_words, &left, &s);
        if (on_chip) bw_load_windows(&L, in_map, &s, win);
        const uint streams = bw_replays(L.ksteps, T.reps) ? 1 : T.reps;
        for (uint rep = 0; rep < streams; rep++) {
          bw_kstep k = bw_kstep_first();
          for (uint step = 0; step < L.ksteps; step++) {
            /* the step's word in the window store, (ky, kx, plane, word) */
            const uint wi = ((k.ky * L.kw + k.kx) * L.planes + k.plane) * L.in_words + k.w;
            BW_PUSH(act, act_q, bw_feed(&L, in_map, &s, &k, on_chip, win, wi));
            bw_kstep_next(&L, &k);
          }
        }
      }
    }
  }
}
