// bitweave RTL: the weight feeder (weight_feeder.h). Feeds PE row r the weights of output
// channel oc0 + r of the tile's channel group, one 64-bit word per step, in the order the
// feeder walks the window: word W_OFF + (oc0+r)*WK + ((q*KH + ky)*KW+kx)*IN_WORDS + j (a
// channel's weight planes lie one after another, WK = W_BITS*KH*KW*IN_WORDS), the same word
// for every bit-plane of a k-bit input, with its popcount (the PEs subtract it when the
// activations are 1-bit, PE_AND_SUB_W). Rows past OUT_C read nothing and feed zeros.
// It follows the feeder's steps (tile start, step valid, kernel pixel, word) and keeps its
// two stages in line with the activation words: F1 registers the lane requests, F2 the
// array's weight edge. Per layer it registers ROWS*WK and r*WK from the decoded layer.
// WIDE: the weights lie in wide rows of ROWS words (the dev-board SoC's one wide memory,
// sim/soc): row W_OFF + g*WK + (ky*KW+kx)*IN_WORDS + j holds the word of channel g*ROWS + r
// in lane r, so every lane presents the same row address.
module bw_weight_feeder #(
  parameter int ROWS = bitweave_array::ROWS,     // PE rows = weight lanes
  parameter bit WIDE = 1'b0,                     // weights in wide rows (one address for all lanes)
  parameter int WORD = bitweave_array::WORD,    // bits per weight word
  parameter int PCW = $clog2(WORD + 1),      // bits of a word's popcount, $clog2(WORD+1)
  parameter int GW = $clog2(bitweave_array::RTL_PDEPTH)        // bits of a channel-group number
) (
  input  logic                 clk,
  input  logic                 rst,
  /* verilator lint_off UNUSEDSIGNAL */
  input  bw_pkg::layer_t       cfg,
  /* verilator lint_on UNUSEDSIGNAL */
  // the feeder's steps
  input  logic                 tile_start,  // a tile starts: latch its group
  input  logic [GW-1:0]        tile_g,      // its channel group
  input  logic                 step_ok,     // a step of the tile's K words
  input  logic [31:0]          wpix,        // (ky*KW + kx)*IN_WORDS of the step
  input  logic [31:0]          j,           // its word in the pixel
  // weight memory lanes
  output logic [ROWS-1:0]      w_en,
  output logic [ROWS*32-1:0]   w_addr,
  input  logic [ROWS*64-1:0]   w_rdata,
  // array edge
  output logic [ROWS*WORD-1:0] w_edge,
  output logic [ROWS*PCW-1:0]  wpc_edge
);
  localparam int RSHIFT = $clog2(ROWS);

  // per layer: ROWS*WK (a group's words) and r*WK (row r's first word)
  logic [31:0] gwk;
  logic [31:0] wrow [ROWS];
  always_ff @(posedge clk) begin
    gwk <= cfg.wk << RSHIFT;
    for (int r = 0; r < ROWS; r++) wrow[r] <= bw_pkg::m16(cfg.wk[15:0], 16'(r));
  end

  // per tile: the group's first word, rows that hold real channels
  logic [31:0] wbase;
  logic [ROWS-1:0] rvalid;
  logic [31:0] oc0;
  assign oc0 = 32'(tile_g) * ROWS;
  always_ff @(posedge clk) begin
    if (!rst && tile_start) begin
      for (int r = 0; r < ROWS; r++) rvalid[r] <= oc0 + 32'(r) < cfg.out_c;
      wbase <= cfg.w_off + 32'(tile_g) * (WIDE ? cfg.wk : gwk);
    end
  end

  // F1: registered lane requests; F2: edge registers
  always_ff @(posedge clk) begin
    for (int r = 0; r < ROWS; r++) begin
      w_en[r] <= !rst && step_ok && rvalid[r];
      w_addr[r*32 +: 32] <= wbase + (WIDE ? 32'd0 : wrow[r]) + wpix + j;
      w_edge[r*WORD +: WORD] <= w_en[r] ? w_rdata[r*64 +: WORD] : '0;
      wpc_edge[r*PCW +: PCW] <= w_en[r] ? PCW'($countones(w_rdata[r*64 +: WORD])) : '0;
    end
  end
endmodule
