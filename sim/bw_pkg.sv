// bitweave RTL: what the blocks share besides the generated array package: the decoded
// layer (declared once instead of as ~40 ports of every block that walks it), the layout
// of a channel's parameter word in the row units, and the 16x16 products of the loop-bound
// arithmetic. Array-independent, so the blocks stay parameterised by ROWS, COLS, ...
// The PE array and the output unit, which `make synth` measures on their own, take the
// few layer values they need as plain ports instead.
package bw_pkg;
  // One layer descriptor decoded into the values the blocks walk; written by bw_layer
  // while the layer is prepared, constant while it runs (the RTL counterpart of Layer in
  // hls/layer.h). Flags first, so every 32-bit field is word-aligned in the packed vector.
  typedef struct packed {
    logic        and_mode;   // OP_AND_PLANES: some operand is k-bit, AND bit-plane passes
    logic [1:0]  pe_mode;    // bitweave_array::PE_*: the PEs' term (XNOR or an AND mode)
    logic        in_signed;  // OP_IN_SIGNED: the top activation plane weighs -2^(k-1)
    logic        w_signed;   // OP_W_SIGNED: the top weight plane weighs -2^(q-1)
    logic        thr;        // OP_THRESHOLD: k-bit outputs through thresholds (else int32)
    logic        pool;       // OP_POOL
    logic [63:0] pad_full;   // pad word of a plane's inner words (PAD_BIT in every bit)
    logic [63:0] pad_last;   // pad word of a plane's last word (0 in the tail bits)
    logic [31:0] in_h;       // input map height
    logic [31:0] in_w;       // input map width
    logic [31:0] in_words;   // 64-bit words per input pixel and plane
    logic [31:0] in_planes;  // input bit-planes
    logic [31:0] w_bits;     // weight bit-planes
    logic [31:0] kh;         // kernel height
    logic [31:0] kw;         // kernel width
    logic [31:0] sh;         // stride (rows)
    logic [31:0] sw;         // stride (columns)
    logic [31:0] ph;         // padding (rows)
    logic [31:0] pw;         // padding (columns)
    logic [31:0] out_c;      // output channels
    logic [31:0] acc_h;      // accumulator map height
    logic [31:0] acc_w;      // accumulator map width
    logic [31:0] out_h;      // output map height (after the pool)
    logic [31:0] out_w;      // output map width (after the pool)
    logic [31:0] pkh;        // pool window height (1 without pool)
    logic [31:0] pkw;        // pool window width (1 without pool)
    logic [31:0] psh;        // pool stride (rows; 1 without pool)
    logic [31:0] psw;        // pool stride (columns; 1 without pool)
    logic [31:0] pph;        // pool padding (rows; 0 without pool)
    logic [31:0] ppw;        // pool padding (columns; 0 without pool)
    logic [31:0] out_bits;   // k of the k-bit outputs (0: int32 outputs)
    logic [31:0] nthr;       // thresholds per channel, L = 2^k - 1 (0: int32 outputs)
    logic [31:0] oflip;      // OP_OUT_SIGNED: 2^(k-1), the level bit inverted (n - 2^(k-1)); else 0
    logic [31:0] tail;       // xnor tail correction (the low ACC bits are used)
    logic [31:0] in_off;     // arena word of the input map of image 0
    logic [31:0] out_off;    // arena word of the output map of image 0
    logic [31:0] w_off;      // first weight word of the layer
    logic [31:0] t_off;      // first threshold in the parameter memory
    logic [31:0] f_off;      // first per-channel flag word in the parameter memory
    logic [31:0] out_words;  // 64-bit words per output pixel and plane, ceil(OUT_C/64)
    logic [31:0] ngroups;    // channel groups G = ceil(OUT_C/ROWS)
    logic [31:0] px;         // arena words per input pixel, IN_PLANES*IN_WORDS
    logic [31:0] wk;         // weight words per output channel, W_BITS*KH*KW*IN_WORDS
    logic [31:0] wpw;        // PE steps per kernel pixel, W_BITS*IN_PLANES*IN_WORDS (of K)
    logic [31:0] rowpx;      // arena words per input row, IN_W*IN_PLANES*IN_WORDS
    logic [31:0] opx;        // arena words (int32 outputs: int32s) per output pixel
    logic [31:0] k_steps;    // words per output K = W_BITS*KH*KW*IN_PLANES*IN_WORDS
    logic [31:0] period;     // tile period P >= K (see bw_layer)
  } layer_t;

  // A channel's parameter word in the row units: threshold j (32 bits) at [32j +: 32]
  // for j < 2^MAX_OUT_BITS - 1, then FLAG_FLIP at bit PWID-2 and FLAG_POOL_MIN at PWID-1.
  function automatic int param_bits(input int max_out_bits);
    param_bits = 2 + 32 * ((1 << max_out_bits) - 1);
  endfunction

  // 16 x 16 -> 32-bit product (the verilator backend keeps loop fields below 2^16)
  function automatic logic [31:0] m16(input logic [15:0] a, input logic [15:0] b);
    m16 = {16'd0, a} * {16'd0, b};
  endfunction

  // a times a weight-plane count k in 0..7 (W_BITS <= 4) as shifts and one add: a 16x3
  // multiplier mapped to LUT adders was the decoder's longest path
  function automatic logic [31:0] mw(input logic [15:0] a, input logic [2:0] k);
    logic [31:0] x;
    x = {16'd0, a};
    mw = (k[0] ? x : 32'd0) + (k[1] ? x << 1 : 32'd0) + (k[2] ? x << 2 : 32'd0);
  endfunction
endpackage
