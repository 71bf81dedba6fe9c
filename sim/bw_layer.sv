// bitweave RTL: descriptor fetch and decode (layer.cl / hls/layer.h). Reads a layer's
// DESC_WORDS descriptor words, one per cycle on the descriptor lane, and decodes them in
// four steps into the bw_pkg::layer_t every block reads: geometry, effective pool window
// (1x1 without pool), products such as K = W_BITS*KH*KW*IN_PLANES*IN_WORDS (16x16 multipliers,
// hence the steps), the tile period P and the error bits of layers the RTL cannot run.
// While a layer runs, the next layer's descriptor is prefetched into the same word
// buffer (the current one is decoded by then), so the fetch before the next layer only
// requests the words a short layer left unread.
// Tile period P: max(K, COLS) on pool layers (the drain moves one column per cycle);
// otherwise max(K, COLS/DRAIN, ceil(COLS/G)), so that the drain (DRAIN columns per
// cycle) and the pixel walker (COLS cycles per ring slot, G tiles per slot) keep up.
// The sequencer says which phase it is in; this block says when it is done.
module bw_layer #(
  parameter int ROWS = bitweave_array::ROWS,          // PE rows: output channels per channel group
  parameter int COLS = bitweave_array::COLS,          // PE columns: pixel-stream entries per tile
  parameter int MAX_OUT_BITS = bitweave_array::RTL_MAX_OUT_BITS,  // largest k of k-bit threshold outputs
  parameter int PDEPTH = bitweave_array::RTL_PDEPTH,      // channel groups a layer may have (row-unit RAM depth)
  parameter int DESC_WORDS = bitweave_array::DESC_WORDS,   // 32-bit words per descriptor
  parameter int DRAIN = 1          // columns the array drains per cycle (not on pool layers)
) (
  input  logic           clk,
  input  logic           rst,
  // phase of the sequencer
  input  logic           restart,    // a program starts: descriptor 0, errors cleared
  input  logic           fetch,      // request the descriptor words not yet read
  input  logic           decode,     // one decode step per cycle
  input  logic           prefetch,   // a layer runs and another follows: read its descriptor
  input  logic           advance,    // move on to the next descriptor
  output logic           fetched,    // every word of the descriptor requested
  output logic           decoded,    // the last decode step is this cycle
  output logic           bad,        // with decoded: the layer cannot run (err says why)
  // errors (bitweave_array::ERR_*): OUT_BITS unsupported output bits, GROUPS too many
  // channel groups, PLANES input planes 0 or above MAX_BITS, LOOP a loop field too large
  output logic [31:0]    err,
  // descriptor memory lane
  output logic           d_en,
  output logic [31:0]    d_addr,
  input  logic [31:0]    d_rdata,
  output bw_pkg::layer_t cfg
);
  localparam int RSHIFT = $clog2(ROWS);
  localparam logic [31:0] LOOP_MAX = 32'((1 << bitweave_array::RTL_LOOP_BITS) - 1);  // loop fields are 16-bit

  logic [31:0] dsc [DESC_WORDS];
  logic [31:0] dcount, dbase;
  logic [$clog2(DESC_WORDS)-1:0] didx;
  logic [1:0] step;
  // decode intermediates
  logic [5:0] in_c;
  logic [31:0] kk, wpl;

  // smallest period that lets G tiles cover the walker's COLS cycles per slot
  logic [31:0] pwalk;
  always_comb begin
    pwalk = COLS;
    for (int p = COLS; p >= 1; p--) if (32'(p) * cfg.ngroups >= COLS) pwalk = p;
  end

  logic kbad;
  assign kbad = cfg.k_steps == 0 || (cfg.k_steps | cfg.rowpx | cfg.px | cfg.opx | cfg.wk) > LOOP_MAX;
  // the PE mode follows from the two operands' planes (host/array/params.ts peMode)
  logic in1, w1;
  assign in1 = dsc[bitweave_array::D_IN_PLANES] == 32'd1;
  assign w1 = dsc[bitweave_array::D_W_BITS] == 32'd1;
  assign fetched = dcount >= DESC_WORDS;
  assign decoded = step == 2'd3;
  assign bad = err != 0 || kbad;

  always_ff @(posedge clk) begin
    if (rst) begin
      err <= '0;
      d_en <= 1'b0;
    end else begin
      d_en <= 1'b0;
      if (d_en) dsc[didx] <= d_rdata; // the word requested last cycle
      if (restart) begin
        err <= '0;
        dbase <= '0;
        dcount <= '0;
      end
      if (advance) dbase <= dbase + DESC_WORDS;
      // request word dcount of this descriptor (fetch) or of the next one (prefetch)
      if ((fetch || prefetch) && dcount < DESC_WORDS) begin
        d_en <= 1'b1;
        d_addr <= (prefetch ? dbase + DESC_WORDS : dbase) + dcount;
        didx <= $bits(didx)'(dcount);
        dcount <= dcount + 1;
      end else if (fetch) begin
        step <= '0;
        dcount <= '0;
      end
      if (decode) begin
        step <= step + 1'b1;
        case (step)
          2'd0: begin
            cfg.and_mode <= dsc[bitweave_array::D_OPCODE][2];
            cfg.in_signed <= dsc[bitweave_array::D_OPCODE][3];
            cfg.w_signed <= dsc[bitweave_array::D_OPCODE][4];
            cfg.pe_mode <= 2'(in1 ? (w1 ? bitweave_array::PE_XNOR : bitweave_array::PE_AND_SUB_W)
                                  : (w1 ? bitweave_array::PE_AND_SUB_A : bitweave_array::PE_AND));
            cfg.w_bits <= dsc[bitweave_array::D_W_BITS];
            // activation x weight planes (W_BITS <= 4: a 16x3 product)
            wpl <= bw_pkg::mw(dsc[bitweave_array::D_IN_PLANES][15:0], dsc[bitweave_array::D_W_BITS][2:0]);
            cfg.thr <= dsc[bitweave_array::D_OPCODE][0];
            cfg.pool <= dsc[bitweave_array::D_OPCODE][1];
            cfg.in_h <= dsc[bitweave_array::D_IN_H];
            cfg.in_w <= dsc[bitweave_array::D_IN_W];
            in_c <= dsc[bitweave_array::D_IN_C][5:0];
            cfg.in_words <= dsc[bitweave_array::D_IN_WORDS];
            cfg.in_planes <= dsc[bitweave_array::D_IN_PLANES];
            cfg.kh <= dsc[bitweave_array::D_KH];
            cfg.kw <= dsc[bitweave_array::D_KW];
            cfg.sh <= dsc[bitweave_array::D_SH];
            cfg.sw <= dsc[bitweave_array::D_SW];
            cfg.ph <= dsc[bitweave_array::D_PH];
            cfg.pw <= dsc[bitweave_array::D_PW];
            cfg.out_c <= dsc[bitweave_array::D_OUT_C];
            cfg.acc_h <= dsc[bitweave_array::D_ACC_H];
            cfg.acc_w <= dsc[bitweave_array::D_ACC_W];
            cfg.out_h <= dsc[bitweave_array::D_OUT_H];
            cfg.out_w <= dsc[bitweave_array::D_OUT_W];
            if (dsc[bitweave_array::D_OPCODE][1]) begin
              cfg.pkh <= dsc[bitweave_array::D_POOL_KH];
              cfg.pkw <= dsc[bitweave_array::D_POOL_KW];
              cfg.psh <= dsc[bitweave_array::D_POOL_SH];
              cfg.psw <= dsc[bitweave_array::D_POOL_SW];
              cfg.pph <= dsc[bitweave_array::D_POOL_PH];
              cfg.ppw <= dsc[bitweave_array::D_POOL_PW];
            end else begin
              cfg.pkh <= 1; cfg.pkw <= 1; cfg.psh <= 1; cfg.psw <= 1; cfg.pph <= 0; cfg.ppw <= 0;
            end
            cfg.out_bits <= dsc[bitweave_array::D_OPCODE][0] ? dsc[bitweave_array::D_OUT_BITS] : 32'd0;
            cfg.tail <= dsc[bitweave_array::D_TAIL];
            cfg.in_off <= dsc[bitweave_array::D_IN_OFF];
            cfg.out_off <= dsc[bitweave_array::D_OUT_OFF];
            cfg.w_off <= dsc[bitweave_array::D_W_OFF];
            cfg.t_off <= dsc[bitweave_array::D_T_OFF];
            cfg.f_off <= dsc[bitweave_array::D_F_OFF];
            cfg.out_words <= (dsc[bitweave_array::D_OUT_C] + 63) >> 6;
            cfg.ngroups <= (dsc[bitweave_array::D_OUT_C] + ROWS - 1) >> RSHIFT;
          end
          2'd1: begin
            cfg.px <= bw_pkg::m16(cfg.in_planes[15:0], cfg.in_words[15:0]);
            kk <= bw_pkg::m16(cfg.kh[15:0], cfg.kw[15:0]);
            cfg.nthr <= cfg.thr ? 32'((MAX_OUT_BITS + 1)'((1 << cfg.out_bits[3:0]) - 1)) : '0;
            cfg.oflip <= dsc[bitweave_array::D_OPCODE][5] && cfg.thr && cfg.out_bits != 0 ? 32'(1) << (cfg.out_bits[3:0] - 4'd1) : '0;
            cfg.wpw <= bw_pkg::m16(wpl[15:0], cfg.in_words[15:0]);
            cfg.wk <= bw_pkg::mw(cfg.in_words[15:0], cfg.w_bits[2:0]); // times KH*KW in step 2
            cfg.pad_full <= dsc[bitweave_array::D_PAD_BIT][0] ? '1 : '0;
            cfg.pad_last <= !dsc[bitweave_array::D_PAD_BIT][0] ? '0 : in_c == 6'd0 ? '1 : ((64'd1 << in_c) - 64'd1);
            if (cfg.thr && (cfg.out_bits > MAX_OUT_BITS || cfg.out_bits == 0)) err[$clog2(bitweave_array::ERR_OUT_BITS)] <= 1'b1;
            if (cfg.ngroups > PDEPTH) err[$clog2(bitweave_array::ERR_GROUPS)] <= 1'b1;
            if (cfg.in_planes > bitweave_array::MAX_BITS || cfg.in_planes == 0 || cfg.w_bits > bitweave_array::MAX_W_BITS || cfg.w_bits == 0)
              err[$clog2(bitweave_array::ERR_PLANES)] <= 1'b1;
            if ((cfg.in_h | cfg.in_w | cfg.in_words | cfg.kh | cfg.kw | cfg.sh | cfg.sw | cfg.acc_h | cfg.acc_w | cfg.out_h | cfg.out_w | cfg.out_c) > LOOP_MAX) err[$clog2(bitweave_array::ERR_LOOP)] <= 1'b1;
          end
          2'd2: begin
            cfg.k_steps <= bw_pkg::m16(kk[15:0], cfg.wpw[15:0]);
            cfg.wk <= bw_pkg::m16(kk[15:0], cfg.wk[15:0]);
            cfg.rowpx <= bw_pkg::m16(cfg.in_w[15:0], cfg.px[15:0]);
            cfg.opx <= cfg.thr ? bw_pkg::m16(cfg.out_bits[15:0], cfg.out_words[15:0]) : cfg.out_c;
          end
          default: begin
            if (cfg.pool) cfg.period <= cfg.k_steps > COLS ? cfg.k_steps : COLS;
            else begin
              logic [31:0] pmin;
              pmin = COLS / DRAIN > pwalk ? COLS / DRAIN : pwalk;
              cfg.period <= cfg.k_steps > pmin ? cfg.k_steps : pmin;
            end
            if (kbad) err[$clog2(bitweave_array::ERR_LOOP)] <= 1'b1;
          end
        endcase
      end
    end
  end

  /* verilator lint_off UNUSEDSIGNAL */
  logic unused;
  assign unused = ^{kk[31:16], wpl[31:16]};
  /* verilator lint_on UNUSEDSIGNAL */
endmodule
