/*
 * The decoded layer descriptor every block of the array reads. The host prepends the
 * generated bitweave_array.h (host/array/header.ts) to these files, so field indices,
 * ROWS, COLS and the opcode bits come from the single source host/array/params.ts.
 *
 * The host (host/array/kernel-abi.ts, checkLayerProgram) has already checked every
 * descriptor: geometry consistent, every region inside its buffer, all sizes < 2^31, so
 * the 32-bit index arithmetic below cannot overflow.
 */

/* One tile's output words are built in registers: the ROWS channels of a tile must lie in
 * one 64-bit output word, so a word is complete after 64 / ROWS channel tiles. */
#if (BW_WORD % BW_ROWS) != 0
#error "BW_ROWS must divide BW_WORD (a tile's channels share one packed output word)"
#endif

/* Row and column masks (valid columns, pool-min rows) are 64-bit words. */
#if BW_ROWS > 64 || BW_COLS > 64
#error "BW_ROWS and BW_COLS must be at most 64"
#endif

typedef struct {
  uint op;
  uint in_h, in_w, in_c, in_words, planes;
  uint kh, kw, sh, sw, ph, pw;
  uint pad_bit, out_c;
  uint acc_h, acc_w, out_h, out_w;
  /* the pool window; a layer without a pool runs as a 1x1 stride-1 pool, so one code
   * path serves both */
  uint pkh, pkw, psh, psw, pph, ppw;
  uint out_bits, tail;
  uint in_off, out_off, w_off, t_off, f_off;
  uint wbits;                         /* weight bit-planes */
  bool in_signed, w_signed, out_signed; /* two's complement top planes (OP_*_SIGNED) */
  /* derived */
  uint pe_mode;   /* BW_PE_*: from the planes of both operands */
  uint kwords;    /* weight words of one channel's plane: kh * kw * in_words */
  uint out_words; /* 64-bit words per plane of one output pixel (threshold mode) */
  uint ksteps;    /* array cycles per tile: wbits * kh * kw * planes * in_words */
  uint groups;    /* channel groups of BW_ROWS output channels */
  uint stream;    /* pixel-stream entries of one image: accumulator pixels of the clipped pool windows */
} bw_layer;

/* Accumulator pixels of one axis summed over the clipped pool windows. */
inline uint bw_clipped_span(uint out, uint acc, uint k, uint s, uint p) {
  uint n = 0;
  int lo = -(int)p;
  for (uint o = 0; o < out; o++, lo += (int)s) {
    const int a = max(lo, 0), b = min(lo + (int)k - 1, (int)acc - 1);
    n += (uint)(b - a + 1);
  }
  return n;
}

inline bw_layer bw_decode(__global const uint *d) {
  bw_layer L;
  L.op = d[BW_D_OPCODE];
  L.in_h = d[BW_D_IN_H]; L.in_w = d[BW_D_IN_W]; L.in_c = d[BW_D_IN_C];
  L.in_words = d[BW_D_IN_WORDS]; L.planes = d[BW_D_IN_PLANES];
  L.kh = d[BW_D_KH]; L.kw = d[BW_D_KW]; L.sh = d[BW_D_SH]; L.sw = d[BW_D_SW];
  L.ph = d[BW_D_PH]; L.pw = d[BW_D_PW];
  L.pad_bit = d[BW_D_PAD_BIT]; L.out_c = d[BW_D_OUT_C];
  L.acc_h = d[BW_D_ACC_H]; L.acc_w = d[BW_D_ACC_W];
  L.out_h = d[BW_D_OUT_H]; L.out_w = d[BW_D_OUT_W];
  if (L.op & BW_OP_POOL) {
    L.pkh = d[BW_D_POOL_KH]; L.pkw = d[BW_D_POOL_KW]; L.psh = d[BW_D_POOL_SH];
    L.psw = d[BW_D_POOL_SW]; L.pph = d[BW_D_POOL_PH]; L.ppw = d[BW_D_POOL_PW];
  } else {
    L.pkh = 1; L.pkw = 1; L.psh = 1; L.psw = 1; L.pph = 0; L.ppw = 0;
  }
  L.out_bits = d[BW_D_OUT_BITS]; L.tail = d[BW_D_TAIL];
  L.in_off = d[BW_D_IN_OFF]; L.out_off = d[BW_D_OUT_OFF]; L.w_off = d[BW_D_W_OFF];
  L.t_off = d[BW_D_T_OFF]; L.f_off = d[BW_D_F_OFF];
  L.wbits = d[BW_D_W_BITS];
  L.in_signed = (L.op & BW_OP_IN_SIGNED) != 0;
  L.w_signed = (L.op & BW_OP_W_SIGNED) != 0;
  L.out_signed = (L.op & BW_OP_OUT_SIGNED) != 0;
  L.pe_mode = L.planes == 1 ? (L.wbits == 1 ? BW_PE_XNOR : BW_PE_AND_SUB_W) : (L.wbits == 1 ? BW_PE_AND_SUB_A : BW_PE_AND);
  L.out_words = (L.out_c + BW_WORD - 1) / BW_WORD;
  L.kwords = L.kh * L.kw * L.in_words;
  L.ksteps = L.wbits * L.kwords * L.planes;
  L.groups = (L.out_c + BW_ROWS - 1) / BW_ROWS;
  L.stream = bw_clipped_span(L.out_h, L.acc_h, L.pkh, L.psh, L.pph) * bw_clipped_span(L.out_w, L.acc_w, L.pkw, L.psw, L.ppw);
  return L;
}
