// bitweave RTL: the layer-program sequencer (sequencer.cl / hls/sequencer.h). Walks the
// layer program host/array/program.ts encodes, one layer after the other, with the
// layer-level state machine: fetch the descriptor (bw_layer; words prefetched while the
// previous layer ran are not read again), decode it (four cycles), load the per-channel
// parameters into the row units (bw_param_load), then run: the pixel walker
// (bw_pixel_walker) fills the tile ring (bw_tile_ring) that the feeder and the output unit
// consume, until the walker is done and every tile has been issued, computed and written.
// A layer starts after the previous one's last write. Loop order: on pool layers layer ->
// channel group -> tiles over the batch; otherwise layer -> ring slot -> channel group.
module bw_sequencer #(
  parameter int ROWS = bitweave_array::ROWS,                                  // PE rows: output channels per group
  parameter int COLS = bitweave_array::COLS,                                  // PE columns: entries per tile
  parameter int MAX_OUT_BITS = bitweave_array::RTL_MAX_OUT_BITS,                          // largest k of k-bit outputs
  parameter int PDEPTH = bitweave_array::RTL_PDEPTH,                              // channel groups the row units hold
  parameter int PWID = bw_pkg::param_bits(MAX_OUT_BITS),   // bits of a row-unit parameter word
  parameter int GW = $clog2(PDEPTH),                       // bits of a channel-group number
  parameter int TS = bitweave_array::RTL_TS,                                   // tile ring slots
  parameter int DESC_WORDS = bitweave_array::DESC_WORDS,                           // 32-bit words per descriptor
  parameter int DRAIN = 1                                  // columns drained per cycle
) (
  input  logic                 clk,
  input  logic                 rst,
  input  logic                 start,
  input  logic [31:0]          n_layers,
  input  logic [31:0]          batch,
  input  logic [31:0]          arena_words,
  input  logic [31:0]          arena_base,
  output logic                 busy,
  output logic                 done,
  output logic [31:0]          err,
  output logic [31:0]          layer,
  // descriptor memory
  output logic                 d_en,
  output logic [31:0]          d_addr,
  input  logic [31:0]          d_rdata,
  // parameter memory lanes
  output logic [ROWS-1:0]      p_en,
  output logic [ROWS*32-1:0]   p_addr,
  input  logic [ROWS*32-1:0]   p_rdata,
  // row-unit parameter RAM writes
  output logic [ROWS-1:0]      pw_en,
  output logic [GW-1:0]        pw_addr,
  output logic [ROWS*PWID-1:0] pw_data,
  // the decoded layer, for the datapath
  output bw_pkg::layer_t       cfg,
  // feeder side of the ring
  output logic                 f_ready,
  input  logic                 f_take,
  output logic [COLS*32-1:0]   f_abase,
  output logic [COLS*32-1:0]   f_iy0,
  output logic [COLS*32-1:0]   f_ix0,
  output logic [$clog2(COLS+1)-1:0] f_nvalid,
  output logic [GW-1:0]        f_g,
  input  logic                 f_busy,
  // output side of the ring
  input  logic [$clog2(TS)-1:0] o_slot,
  input  logic [$clog2(COLS > 1 ? COLS : 2)-1:0] o_col,
  output logic                 o_first,     // column o_col
  output logic [DRAIN-1:0]     o_last,      // lane d: column o_col + d
  output logic [DRAIN*32-1:0]  o_obase,
  output logic [GW-1:0]        o_g,
  output logic [$clog2(COLS+1)-1:0] o_nvalid,
  input  logic                 o_tile_done
);
  localparam int SB = $clog2(TS);
  localparam int CB = $clog2(COLS > 1 ? COLS : 2);

  typedef enum logic [2:0] { S_IDLE, S_DESC, S_PREP, S_PARAM, S_RUN, S_NEXT } state_t;
  state_t st;
  logic more;             // another layer follows this one
  assign more = layer + 1 < n_layers;
  assign busy = st != S_IDLE;

  logic fetched, decoded, bad, param_done, walker_idle, ring_empty;
  always_ff @(posedge clk) begin
    if (rst) begin
      st <= S_IDLE;
      done <= 1'b0;
      layer <= '0;
    end else begin
      case (st)
        S_IDLE: if (start) begin
          done <= 1'b0;
          layer <= '0;
          if (n_layers == 0 || batch == 0) done <= 1'b1;
          else st <= S_DESC;
        end
        S_DESC: if (fetched) st <= S_PREP;
        S_PREP: if (decoded) begin
          if (bad) begin
            st <= S_IDLE;
            done <= 1'b1;
          end else begin
            st <= S_PARAM;
          end
        end
        S_PARAM: if (param_done) st <= S_RUN;
        S_RUN: if (walker_idle && ring_empty && !f_busy) st <= S_NEXT;
        default: begin // S_NEXT
          if (more) begin
            layer <= layer + 1;
            st <= S_DESC;
          end else begin
            st <= S_IDLE;
            done <= 1'b1;
          end
        end
      endcase
    end
  end

  bw_layer #(.ROWS(ROWS), .COLS(COLS), .MAX_OUT_BITS(MAX_OUT_BITS), .PDEPTH(PDEPTH),
             .DESC_WORDS(DESC_WORDS), .DRAIN(DRAIN)) dec (
    .clk, .rst,
    .restart(st == S_IDLE && start), .fetch(st == S_DESC), .decode(st == S_PREP),
    .prefetch(st == S_RUN && more), .advance(st == S_NEXT && more),
    .fetched, .decoded, .bad, .err, .d_en, .d_addr, .d_rdata, .cfg
  );

  bw_param_load #(.ROWS(ROWS), .MAX_OUT_BITS(MAX_OUT_BITS), .PDEPTH(PDEPTH), .PWID(PWID), .GW(GW)) pload (
    .clk, .rst, .init(st == S_PREP && decoded && !bad), .active(st == S_PARAM), .cfg, .done(param_done),
    .p_en, .p_addr, .p_rdata, .pw_en, .pw_addr, .pw_data
  );

  // walker -> ring
  logic room, close;
  logic [SB-1:0] fill_slot;
  logic e_valid, e_first, e_last, e_close;
  logic [SB-1:0] e_slot;
  logic [CB-1:0] e_col;
  logic [GW-1:0] e_g;
  logic [31:0] e_abase, e_iy0, e_ix0, e_obase;

  bw_pixel_walker #(.COLS(COLS), .TS(TS), .GW(GW)) walker (
    .clk, .rst, .start(st == S_PARAM && param_done), .stop(st == S_NEXT), .run(st == S_RUN),
    .batch, .arena_words, .arena_base, .cfg, .room, .slot(fill_slot), .close,
    .e_valid, .e_slot, .e_col, .e_first, .e_last, .e_close, .e_g, .e_abase, .e_iy0, .e_ix0, .e_obase,
    .idle(walker_idle)
  );

  bw_tile_ring #(.COLS(COLS), .TS(TS), .GW(GW), .DRAIN(DRAIN)) ring (
    .clk, .rst, .run(st == S_RUN), .room, .fill_slot, .close,
    .wr_en(e_valid), .wr_slot(e_slot), .wr_col(e_col), .wr_first(e_first), .wr_last(e_last), .wr_close(e_close),
    .wr_g(e_g), .wr_abase(e_abase), .wr_iy0(e_iy0), .wr_ix0(e_ix0), .wr_obase(e_obase),
    .f_ready, .f_take, .f_abase, .f_iy0, .f_ix0, .f_nvalid, .f_g,
    .o_slot, .o_col, .o_first, .o_last, .o_obase, .o_g, .o_nvalid, .o_tile_done, .empty(ring_empty)
  );
endmodule
