/*
 * The sequencer: the tile schedule every kernel of the array walks (DESIGN section 3).
 * The feeder, the PE array and the output units each run this same sequence from the
 * layer descriptor, so only data crosses the streams (stream.cl), never control words.
 *
 * The schedule is the RTL array's (docs/ARCHITECTURE.md, "RTL array", Dataflow), tile for
 * tile: the pixel walker enumerates one pixel stream over the launch's images (per image,
 * output pixel and accumulator pixel of its pool window clipped to the map, 1x1 without
 * pool); BW_COLS consecutive entries form a slot, so dense layers put different images in
 * the columns. Pool layers walk the stream once per channel group (group -> slots; the
 * output units fold windows in stream order); other layers walk it once and use each slot
 * for every channel group in turn (slot -> group). A tile is one slot x one group and
 * streams K = W_BITS*KH*KW*PLANES*IN_WORDS k-steps through the array: the window once per
 * weight plane (outermost, as the RTL feeder walks it). The cycle model
 * (host/array/cycles.ts) describes these tiles and periods.
 *
 * No division or modulo inside the tile loops: counters only.
 */

/* One slot of the pixel stream (the RTL's tile-ring slot): BW_COLS consecutive entries,
 * each an accumulator pixel of some image; columns >= nvalid are empty. */
typedef struct {
  uint base[BW_COLS];  /* arena word of the entry's image */
  int iy0[BW_COLS];    /* window origin in the input map (may lie in the padding) */
  int ix0[BW_COLS];
  uint opix[BW_COLS];  /* output pixel oy*OUT_W + ox within the image */
  ulong first, last;   /* bit c: the entry starts / ends its pool window */
  uint nvalid;
} bw_slot;

/* A layer's tiles over `images` images: passes x slots x reps, group = pool ? pass : rep. */
typedef struct {
  bool pool;
  uint entries, slots, passes, reps;
} bw_tiling;

inline bw_tiling bw_tiling_of(const bw_layer *L, uint images) {
  bw_tiling T;
  T.pool = (L->op & BW_OP_POOL) != 0;
  T.entries = L->stream * images;
  T.slots = (T.entries + BW_COLS - 1) / BW_COLS;
  T.passes = T.pool ? L->groups : 1;
  T.reps = T.pool ? 1 : L->groups;
  return T;
}

/* The position inside a tile's k-steps: weight plane q (outermost), window row and column,
 * input word, activation plane (innermost: a weight word serves every plane in turn). */
typedef struct {
  uint q, ky, kx, w, plane;
} bw_kstep;

inline bw_kstep bw_kstep_first(void) {
  bw_kstep k;
  k.q = 0; k.ky = 0; k.kx = 0; k.w = 0; k.plane = 0;
  return k;
}

inline void bw_kstep_next(const bw_layer *L, bw_kstep *k) {
  if (++k->plane != L->planes) return;
  k->plane = 0;
  if (++k->w != L->in_words) return;
  k->w = 0;
  if (++k->kx != L->kw) return;
  k->kx = 0;
  if (++k->ky != L->kh) return;
  k->ky = 0;
  k->q++;
}

/* The pixel walker's counters (sim/bw_pixel_walker.sv). */
typedef struct {
  uint n, oy, ox, opix;
  int wy, wx; /* pool window origin in the accumulator map */
  int ay, ax; /* the entry's accumulator pixel */
} bw_walker;

inline void bw_walk_start(const bw_layer *L, bw_walker *W) {
  W->n = 0; W->oy = 0; W->ox = 0; W->opix = 0;
  W->wy = -(int)L->pph; W->wx = -(int)L->ppw;
  W->ay = 0; W->ax = 0; /* windows start inside the map (pool padding < window) */
}

/* Entry c of slot s from the walker's position, then the walker moves to the next entry. */
inline void bw_walk_entry(const bw_layer *L, bw_walker *W, uint arena_words, bw_slot *s, uint c) {
  const int ay0 = max(W->wy, 0), ax0 = max(W->wx, 0);
  const int ay1 = min(W->wy + (int)L->pkh - 1, (int)L->acc_h - 1), ax1 = min(W->wx + (int)L->pkw - 1, (int)L->acc_w - 1);
  s->base[c] = W->n * arena_words;
  s->iy0[c] = W->ay * (int)L->sh - (int)L->ph;
  s->ix0[c] = W->ax * (int)L->sw - (int)L->pw;
  s->opix[c] = W->opix;
  s->first |= (ulong)(W->ay == ay0 && W->ax == ax0) << c;
  s->last |= (ulong)(W->ay == ay1 && W->ax == ax1) << c;
  if (W->ax < ax1) {
    W->ax++;
  } else if (W->ay < ay1) {
    W->ay++; W->ax = ax0;
  } else if (W->ox != L->out_w - 1) {
    W->ox++; W->opix++; W->wx += (int)L->psw; W->ay = ay0; W->ax = max(W->wx, 0);
  } else if (W->oy != L->out_h - 1) {
    W->ox = 0; W->oy++; W->opix++; W->wx = -(int)L->ppw; W->wy += (int)L->psh; W->ay = max(W->wy, 0); W->ax = 0;
  } else {
    W->ox = 0; W->oy = 0; W->opix = 0; W->n++; W->wx = -(int)L->ppw; W->wy = -(int)L->pph; W->ay = 0; W->ax = 0;
  }
}

/* The next slot: up to BW_COLS entries of the `left` still to come. */
inline void bw_next_slot(const bw_layer *L, bw_walker *W, uint arena_words, uint *left, bw_slot *s) {
  s->first = 0; s->last = 0;
  s->nvalid = min(*left, (uint)BW_COLS);
  *left -= s->nvalid;
  for (uint c = 0; c < BW_COLS; c++) {
    if (c < s->nvalid) bw_walk_entry(L, W, arena_words, s, c);
    else { s->base[c] = 0; s->iy0[c] = 0; s->ix0[c] = 0; s->opix[c] = 0; }
  }
}
