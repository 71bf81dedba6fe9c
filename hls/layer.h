/*
 * One layer descriptor (BW_DESC_WORDS uint32 fields, host/array/params.ts) decoded into
 * the loop bounds every block of the array walks. All blocks iterate the same nest:
 *
 *   for tile t   (COLS consecutive output pixels, raster order)
 *    for group g (ROWS consecutive output channels)
 *     for e      (pool window element; one element when the layer has no pool)
 *      for step s = ((ky*KW + kx)*PLANES + b)*IN_WORDS + j   (one PE cycle)
 *
 * Column c of tile t is output pixel p = t*COLS + c; for pool element e = (pey, pex) it
 * computes the accumulator at (oy*POOL_SH - POOL_PH + pey, ox*POOL_SW - POOL_PW + pex),
 * which the pool ignores when it falls outside the accumulator map.
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
  /* derived */
  uint32_t and_mode; /* OP_AND_PLANES: k-bit activations, AND bit-plane passes */
  uint32_t pool;     /* OP_POOL */
  uint32_t out_words; /* ceil(out_c / 64) */
  uint32_t kwords;    /* weight words per output channel: kh*kw*in_words */
  uint32_t ksteps;    /* PE cycles per accumulator: kh*kw*planes*in_words */
  uint32_t pixels;    /* output pixels: out_h*out_w */
  uint32_t tiles, groups, elems;
};

/* ROWS: output channels per tile; COLS: output pixels per tile. */
template <int ROWS, int COLS>
Layer decode_layer(const uint32_t d[BW_DESC_WORDS]) {
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
  L.and_mode = (op & BW_OP_AND_PLANES) ? 1 : 0;
  L.out_words = (L.out_c + 63) / 64;
  L.kwords = L.kh * L.kw * L.in_words;
  L.ksteps = L.kwords * L.planes;
  L.pixels = L.out_h * L.out_w;
  L.tiles = (L.pixels + COLS - 1) / COLS;
  L.groups = (L.out_c + ROWS - 1) / ROWS;
  L.elems = L.pkh * L.pkw;
  return L;
}

/* Accumulator position column c computes for tile t and pool element e; false when the
 * column is past the last output pixel or the position lies in the pool's padding.
 * COLS: PE columns (output pixels per tile). */
template <int COLS>
inline bool column_acc_pos(const Layer &L, uint32_t t, uint32_t e, uint32_t c, int32_t &ay, int32_t &ax) {
  const uint32_t p = t * COLS + c;
  const uint32_t oy = p / (L.out_w ? L.out_w : 1);
  const uint32_t ox = p - oy * L.out_w;
  const uint32_t pey = e / L.pkw;
  const uint32_t pex = e - pey * L.pkw;
  ay = (int32_t)(oy * L.psh + pey) - (int32_t)L.pph;
  ax = (int32_t)(ox * L.psw + pex) - (int32_t)L.ppw;
  return p < L.pixels && ay >= 0 && ay < (int32_t)L.acc_h && ax >= 0 && ax < (int32_t)L.acc_w;
}

}  // namespace bw

#endif
