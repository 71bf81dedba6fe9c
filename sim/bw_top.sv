// bitweave RTL: the array top. Array parameters (ROWS, COLS, WORD, ACC_BITS) and the
// descriptor layout come from the generated package bitweave_array (host/array/header.ts).
// It joins the blocks the OpenCL and HLS descriptions also have: the sequencer (with the
// layer decode and the tile ring), the feeder and the weight feeder, the PE array and the
// output unit; the decoded layer (bw_pkg::layer_t) goes from the sequencer to all of them.
//
// Memory interface: every read lane presents a registered address with an enable, and
// its data is sampled at the end of the same cycle (a synchronous on-chip RAM whose
// address register is the lane's address register). Lanes: descriptors (32-bit words),
// ROWS parameter lanes (int32), ROWS weight lanes and COLS activation lanes (64-bit words
// of the weight buffer and of the arena of the whole batch). Writes: two ports per
// drained column (DRAIN of them), decoded from the output unit's last pipeline registers
// and written at the clock edge: a bit-plane port (OUT_BITS masked 64-bit words at a
// stride of OUT_WORDS, one word per plane bank) and an int32 port (the pixel's ROWS
// consecutive int32 results, one wide word). Image n's arena starts at arena_base + n * arena_words.
module bw_top #(
  parameter int MAX_OUT_BITS = bitweave_array::RTL_MAX_OUT_BITS,  // largest k of k-bit threshold outputs
  parameter int PDEPTH = bitweave_array::RTL_PDEPTH,              // channel groups per layer the row units hold
  parameter int TS = bitweave_array::RTL_TS,                      // tiles in flight (ring slots)
  parameter int DRAIN = bitweave_array::RTL_DRAIN,                // columns drained per cycle (0 = COLS); divides COLS
  parameter bit WIDE_WEIGHTS = 1'b0                               // weights in wide rows of ROWS words (bw_weight_feeder)
) (
  input  logic clk,
  input  logic rst,
  input  logic start,
  input  logic [31:0] n_layers,
  input  logic [31:0] batch,
  input  logic [31:0] arena_words,
  input  logic [31:0] arena_base,     // word where image 0's arena starts (held while busy)
  output logic busy,
  output logic done,
  output logic [31:0] err,
  output logic [31:0] layer,
  output logic d_en,
  output logic [31:0] d_addr,
  input  logic [31:0] d_rdata,
  output logic [bitweave_array::ROWS-1:0] p_en,
  output logic [bitweave_array::ROWS*32-1:0] p_addr,
  input  logic [bitweave_array::ROWS*32-1:0] p_rdata,
  output logic [bitweave_array::ROWS-1:0] w_en,
  output logic [bitweave_array::ROWS*32-1:0] w_addr,
  input  logic [bitweave_array::ROWS*64-1:0] w_rdata,
  output logic [bitweave_array::COLS-1:0] a_en,
  output logic [bitweave_array::COLS*32-1:0] a_addr,
  input  logic [bitweave_array::COLS*64-1:0] a_rdata,
  // per drained column d: a bit-plane write (out_bits words at o_pbase + l * o_pstride,
  // each under o_pmask) or an int32 write (row r at int32 index o_ibase + r where o_irows)
  output logic [(DRAIN == 0 ? bitweave_array::COLS : DRAIN)-1:0] o_pen,
  output logic [(DRAIN == 0 ? bitweave_array::COLS : DRAIN)*32-1:0] o_pbase,
  output logic [(DRAIN == 0 ? bitweave_array::COLS : DRAIN)*MAX_OUT_BITS*64-1:0] o_pdata,
  output logic [63:0] o_pmask,
  output logic [31:0] o_pbits,
  output logic [31:0] o_pstride,
  output logic [(DRAIN == 0 ? bitweave_array::COLS : DRAIN)-1:0] o_ien,
  output logic [(DRAIN == 0 ? bitweave_array::COLS : DRAIN)*32-1:0] o_ibase,
  output logic [(DRAIN == 0 ? bitweave_array::COLS : DRAIN)*bitweave_array::ROWS*32-1:0] o_idata,
  output logic [bitweave_array::ROWS-1:0] o_irows
);
  localparam int ROWS = bitweave_array::ROWS;
  localparam int COLS = bitweave_array::COLS;
  localparam int WORD = bitweave_array::WORD;
  localparam int ACC = bitweave_array::ACC_BITS;
  localparam int PCW = $clog2(WORD + 1);
  localparam int PWID = bw_pkg::param_bits(MAX_OUT_BITS);
  localparam int GW = $clog2(PDEPTH);
  localparam int SB = $clog2(TS);
  localparam int CB = $clog2(COLS > 1 ? COLS : 2);
  localparam int NB = $clog2(COLS + 1);
  localparam int DR = DRAIN == 0 ? COLS : DRAIN;

  if (WORD != 64) begin : g_word_check
    $error("bw_top: WORD must be 64 (the arena and weights are 64-bit words)");
  end
  if ((ROWS & (ROWS - 1)) != 0 || ROWS > 64) begin : g_rows_check
    $error("bw_top: ROWS must be a power of two <= 64 (a channel group lies in one word)");
  end
  if (COLS % DR != 0) begin : g_drain_check
    $error("bw_top: DRAIN must divide COLS");
  end

  // the decoded layer
  bw_pkg::layer_t cfg;
  // ring
  logic f_ready, f_take, f_busy;
  logic [COLS*32-1:0] f_abase, f_iy0, f_ix0;
  logic [NB-1:0] f_nvalid, o_nvalid;
  logic [GW-1:0] f_g, o_g;
  logic [SB-1:0] o_slot;
  logic [CB-1:0] o_col;
  logic o_first;
  logic [DR-1:0] o_last;
  logic o_tile_done;
  logic [DR*32-1:0] o_obase;
  // row parameter RAM writes
  logic [ROWS-1:0] pw_en;
  logic [GW-1:0] pw_addr;
  logic [ROWS*PWID-1:0] pw_data;
  // feeder steps for the weight feeder
  logic tile_start, step_ok;
  logic [GW-1:0] tile_g;
  logic [31:0] wpix, j;
  // array edge and outputs
  logic [ROWS*WORD-1:0] w_edge;
  logic [ROWS*PCW-1:0] wpc_edge;
  logic [COLS*WORD-1:0] a_edge;
  logic [COLS*PCW-1:0] apc_edge;
  logic e_en, e_first, e_last;
  logic [3:0] e_sh;
  logic e_neg;
  logic out_valid;
  logic [DR*ROWS*ACC-1:0] out_v;

  bw_sequencer #(.ROWS(ROWS), .COLS(COLS), .MAX_OUT_BITS(MAX_OUT_BITS), .PDEPTH(PDEPTH), .PWID(PWID), .GW(GW),
                 .TS(TS), .DESC_WORDS(bitweave_array::DESC_WORDS), .DRAIN(DR)) seq (
    .clk, .rst, .start, .n_layers, .batch, .arena_words, .arena_base, .busy, .done, .err, .layer,
    .d_en, .d_addr, .d_rdata, .p_en, .p_addr, .p_rdata, .pw_en, .pw_addr, .pw_data, .cfg,
    .f_ready, .f_take, .f_abase, .f_iy0, .f_ix0, .f_nvalid, .f_g, .f_busy,
    .o_slot, .o_col, .o_first, .o_last, .o_obase, .o_g, .o_nvalid, .o_tile_done
  );

  bw_feeder #(.COLS(COLS), .WORD(WORD), .PCW(PCW), .GW(GW)) feeder (
    .clk, .rst, .cfg,
    .ready(f_ready), .take(f_take), .col_abase(f_abase), .col_iy0(f_iy0), .col_ix0(f_ix0),
    .nvalid(f_nvalid), .g(f_g), .busy(f_busy),
    .tile_start, .tile_g, .step_ok, .wpix, .j,
    .a_en, .a_addr, .a_rdata, .a_edge, .apc_edge, .e_en, .e_first, .e_last, .e_sh, .e_neg
  );

  bw_weight_feeder #(.ROWS(ROWS), .WIDE(WIDE_WEIGHTS), .WORD(WORD), .PCW(PCW), .GW(GW)) wfeeder (
    .clk, .rst, .cfg, .tile_start, .tile_g, .step_ok, .wpix, .j, .w_en, .w_addr, .w_rdata, .w_edge, .wpc_edge
  );

  bw_pe_array #(.ROWS(ROWS), .COLS(COLS), .WORD(WORD), .ACC(ACC), .PCW(PCW), .DRAIN(DR)) array (
    .clk, .mode(cfg.pe_mode), .w_edge, .wpc_edge, .a_edge, .apc_edge, .en(e_en), .first(e_first), .last(e_last), .sh(e_sh), .neg(e_neg), .drain1(cfg.pool),
    .out_valid, .out_v
  );

  bw_output_unit #(.ROWS(ROWS), .COLS(COLS), .ACC(ACC), .MAX_OUT_BITS(MAX_OUT_BITS), .PDEPTH(PDEPTH), .PWID(PWID),
           .GW(GW), .TS(TS), .DRAIN(DR)) out (
    .clk, .rst, .out_valid, .out_v,
    .rd_slot(o_slot), .rd_col(o_col), .tag_first(o_first), .tag_last(o_last), .tag_obase(o_obase),
    .slot_g(o_g), .slot_nvalid(o_nvalid),
    .thr(cfg.thr), .drain1(cfg.pool), .ngroups(cfg.ngroups), .tail(cfg.tail[ACC-1:0]), .nthr(cfg.nthr[MAX_OUT_BITS:0]),
    .oflip(cfg.oflip[MAX_OUT_BITS-1:0]),
    .out_c(cfg.out_c), .pw_en, .pw_addr, .pw_data,
    .o_pen, .o_pbase, .o_pdata, .o_pmask, .o_ien, .o_ibase, .o_idata, .o_irows, .tile_done(o_tile_done)
  );
  assign o_pbits = cfg.out_bits;
  assign o_pstride = cfg.out_words;
endmodule
