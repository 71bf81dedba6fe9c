/*
 * One layer descriptor (BW_DESC_WORDS uint32 fields, host/array/params.ts) decoded into
 * the loop bounds every block of the array walks, for a call on `images` images. The
 * schedule is the RTL array's (docs/ARCHITECTURE.md, "RTL array", Dataflow):
 *
 *   pixel stream: for image n, output pixel (oy, ox), accumulator pixel (ay, ax) of its
 *                 pool window clipped to the accumulator map (1x1 without pool), one
 *                 entry each; COLS consecutive entries form a slot (the last slot of a
 *                 pass may be partial), so dense layers put different images in the columns.
 *   pool layers:  channel group g -> slots of the batch's stream (the stream is walked
 *                 once per group; the output unit folds windows in stream order);
 *   other layers: slot -> channel group (the stream is walked once, each slot serves
 *                 every group in turn).
 *   tile:         one slot x one group, K = W_BITS*KH*KW*PLANES*IN_WORDS PE cycles, step
 *                 s = (((q*KH + ky)*KW + kx)*PLANES + b)*IN_WORDS + j: the window once
 *                 per weight plane q.
 */
#ifndef BW_LAYER_H
#define BW_LAYER_H

#include "bw_types.h"

namespace bw {

struct Layer {
  uint32_t in_h, in_w, in_c, in_words, planes;
  uint32_t kh, kw, sh, sw, ph, pw, pad_bit;
  uint32_t out_c, acc_h, acc_w, out_h, out_w;
  uint32_t pkh, pkw, psh, psw, pph, ppw; /* effective pool: 1x1 stride 1 without OP_POOL */
  uint32_t out_bits;                     /* threshold epilogue bits; 0 = int32 output */
  uint32_t tail;
  uint32_t in_off, out_off, w_off, t_off, f_off;
  uint32_t wbits;     /* weight bit-planes */
  uint32_t in_top;    /* the activations' signed top plane (OP_IN_SIGNED), else BW_MAX_BITS */
  uint32_t w_top;     /* the weights' signed top plane (OP_W_SIGNED), else BW_MAX_W_BITS */
  uint32_t out_flip;  /* signed outputs (OP_OUT_SIGNED): the level bit inverted, 2^(OUT_BITS-1), else 0 */
  /* derived */
  uint32_t pe_mode;   /* BW_PE_*: XNOR, or the AND mode of the two operands' planes */
  uint32_t pool;      /* OP_POOL */
  uint32_t out_words; /* ceil(out_c / 64) */
  uint32_t kpix;      /* kernel pixels: kh*kw */
  uint32_t kwords;    /* weight words per output channel, every plane: wbits*kh*kw*in_words */
  uint32_t ksteps;    /* PE cycles per tile: wbits*kh*kw*planes*in_words */
  uint32_t fm_words;  /* words of one image's input map */
  uint32_t pixels;    /* output pixels per image: out_h*out_w */
  uint32_t groups;    /* channel groups of ROWS output channels */
  uint32_t images;    /* images of this call (the batch the stream walks) */
  uint64_t entries;   /* pixel-stream entries of one pass over the batch */
  uint32_t slots;     /* slots of one pass: ceil(entries / COLS) */
  uint32_t passes;    /* walks of the stream: groups on pool layers, else 1 */
  uint32_t reps;      /* tiles per slot: 1 on pool layers, else groups */
  uint32_t tiles;     /* groups * slots */
};

/* Accumulator pixels of one axis summed over the clipped pool windows (incremental, no division). */
inline uint32_t clipped_span(uint32_t out, uint32_t acc, uint32_t k, uint32_t s, uint32_t p) {
  uint32_t n = 0;
  int32_t lo = -(int32_t)p;
span:
  for (uint32_t o = 0; o < out; o++) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT max = 256
    const int32_t a = lo < 0 ? 0 : lo;
    const int32_t b = lo + (int32_t)k - 1 > (int32_t)acc - 1 ? (int32_t)acc - 1 : lo + (int32_t)k - 1;
    n += (uint32_t)(b - a + 1);
    lo += (int32_t)s;
  }
  return n;
}

/* ROWS: output channels per tile; COLS: pixel-stream entries per slot (PE columns). */
template <int ROWS, int COLS>
Layer decode_layer(const uint32_t d[BW_DESC_WORDS], uint32_t images) {
  Layer L;
  const uint32_t op = d[BW_D_OPCODE];
  L.in_h = d[BW_D_IN_H];
  L.in_w = d[BW_D_IN_W];
  L.in_c = d[BW_D_IN_C];
  L.in_words = d[BW_D_IN_WORDS];
  L.planes = d[BW_D_IN_PLANES];
  L.kh = d[BW_D_KH];
  L.kw = d[BW_D_KW];
  L.sh = d[BW_D_SH];
  L.sw = d[BW_D_SW];
  L.ph = d[BW_D_PH];
  L.pw = d[BW_D_PW];
  L.pad_bit = d[BW_D_PAD_BIT] & 1;
  L.out_c = d[BW_D_OUT_C];
  L.acc_h = d[BW_D_ACC_H];
  L.acc_w = d[BW_D_ACC_W];
  L.out_h = d[BW_D_OUT_H];
  L.out_w = d[BW_D_OUT_W];
  L.pool = (op & BW_OP_POOL) ? 1 : 0;
  L.pkh = L.pool ? d[BW_D_POOL_KH] : 1;
  L.pkw = L.pool ? d[BW_D_POOL_KW] : 1;
  L.psh = L.pool ? d[BW_D_POOL_SH] : 1;
  L.psw = L.pool ? d[BW_D_POOL_SW] : 1;
  L.pph = L.pool ? d[BW_D_POOL_PH] : 0;
  L.ppw = L.pool ? d[BW_D_POOL_PW] : 0;
  L.out_bits = (op & BW_OP_THRESHOLD) ? d[BW_D_OUT_BITS] : 0;
  L.tail = d[BW_D_TAIL];
  L.in_off = d[BW_D_IN_OFF];
  L.out_off = d[BW_D_OUT_OFF];
  L.w_off = d[BW_D_W_OFF];
  L.t_off = d[BW_D_T_OFF];
  L.f_off = d[BW_D_F_OFF];
  L.wbits = d[BW_D_W_BITS];
  L.in_top = (op & BW_OP_IN_SIGNED) ? L.planes - 1 : BW_MAX_BITS;
  L.w_top = (op & BW_OP_W_SIGNED) ? L.wbits - 1 : BW_MAX_W_BITS;
  L.out_flip = (op & BW_OP_OUT_SIGNED) && L.out_bits ? 1u << (L.out_bits - 1) : 0;
  L.pe_mode = L.planes == 1 ? (L.wbits == 1 ? BW_PE_XNOR : BW_PE_AND_SUB_W) : (L.wbits == 1 ? BW_PE_AND_SUB_A : BW_PE_AND);
  L.out_words = (L.out_c + 63) / 64;
  L.kpix = L.kh * L.kw;
  L.kwords = L.wbits * L.kpix * L.in_words;
  L.ksteps = L.kwords * L.planes;
  L.fm_words = L.in_h * L.in_w * L.planes * L.in_words;
  L.pixels = L.out_h * L.out_w;
  L.groups = (L.out_c + ROWS - 1) / ROWS;
  L.images = images;
  const uint64_t per_image = (uint64_t)clipped_span(L.out_h, L.acc_h, L.pkh, L.psh, L.pph) *
                             clipped_span(L.out_w, L.acc_w, L.pkw, L.psw, L.ppw);
  L.entries = per_image * images;
  L.slots = (uint32_t)((L.entries + COLS - 1) / COLS);
  L.passes = L.pool ? L.groups : 1;
  L.reps = L.pool ? 1 : L.groups;
  L.tiles = L.groups * L.slots;
  return L;
}

}  // namespace bw

#endif
