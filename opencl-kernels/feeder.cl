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

/* One cycle of the feeder: BW_COLS activation words for step k. */
inline bw_act bw_feed(const bw_layer *L, __global BW_ARENA_IN const ulong *restrict arena, const bw_slot *s,
                      const bw_kstep *k, ulong pad) {
  bw_act a;
  #pragma unroll
  for (uint c = 0; c < BW_COLS; c++) {
    int iy = s->iy0[c] + (int)k->ky;
    int ix = s->ix0[c] + (int)k->kx;
    bool inside = c < s->nvalid && iy >= 0 && iy < (int)L->in_h && ix >= 0 && ix < (int)L->in_w;
    /* the address is only formed for inside pixels, so it never leaves the input region */
    a.w[c] = inside ? arena[s->base[c] + L->in_off + (((uint)iy * L->in_w + (uint)ix) * L->planes + k->plane) * L->in_words + k->w] : pad;
  }
  return a;
}

/* Kernel 1 of 3: walks the tiles of `layers` descriptors and streams every tile's k-steps.
 * Without pool a slot serves every channel group: its words are streamed once when the PE
 * array can replay them (bw_replays), else once per group. */
__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void bw_feeder(__global const uint *restrict program, const uint layers, __global const ulong *restrict arena,
               const uint arena_words, const uint images, __global ulong *restrict act_fifo) {
  __global bw_act *restrict act_q = (__global bw_act *)act_fifo;
  __global BW_ARENA_IN const ulong *restrict in_map = arena;
  BW_STREAM_STATE(act);
  for (uint l = 0; l < layers; l++) {
    if (l > 0) BW_LAYER_WAIT();
    const bw_layer L = bw_decode(program + l * BW_DESC_WORDS);
    const bw_tiling T = bw_tiling_of(&L, images);
    for (uint pass = 0; pass < T.passes; pass++) {
      bw_walker W;
      bw_walk_start(&L, &W);
      uint left = T.entries;
      for (uint sl = 0; sl < T.slots; sl++) {
        bw_slot s;
        bw_next_slot(&L, &W, arena_words, &left, &s);
        const uint streams = bw_replays(L.ksteps, T.reps) ? 1 : T.reps;
        for (uint rep = 0; rep < streams; rep++) {
          bw_kstep k = bw_kstep_first();
          ulong pad = bw_pad_word(&L, 0);
          for (uint step = 0; step < L.ksteps; step++) {
            BW_PUSH(act, act_q, bw_feed(&L, in_map, &s, &k, pad));
            bw_kstep_next(&L, &k);
            if (k.plane == 0) pad = bw_pad_word(&L, k.w);
          }
        }
      }
    }
  }
}
