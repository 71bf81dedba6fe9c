// bitweave RTL: the tile ring. TS slots of COLS pixel-stream entries, written by the
// pixel walker, read by the feeder (the window origins of a tile's columns) and, while
// the tile drains, by the output unit (each column's pool flags and output address).
// Four counters over all slots: reserved by the walker, filled, taken by the feeder,
// drained by the output unit; a slot is reused once its last tile has drained, so the
// walker stalls when TS slots are in flight. A slot also records its number of valid
// columns and its channel group (pool layers: one tile per slot; others: the feeder and
// the output unit use the slot once per channel group).
module bw_tile_ring #(
  parameter int COLS = bitweave_array::COLS,     // entries per slot (PE columns)
  parameter int TS = bitweave_array::RTL_TS,      // slots
  parameter int GW = $clog2(bitweave_array::RTL_PDEPTH),       // bits of a channel-group number
  parameter int DRAIN = 1     // columns the output unit reads per cycle
) (
  input  logic                 clk,
  input  logic                 rst,
  input  logic                 run,        // the sequencer's run phase: the feeder may start tiles
  // walker: the slot being filled, entries
  output logic                 room,       // fewer than TS slots in flight
  output logic [$clog2(TS)-1:0] fill_slot,
  input  logic                 close,      // the walker completes fill_slot this cycle
  input  logic                 wr_en,
  input  logic [$clog2(TS)-1:0] wr_slot,
  input  logic [$clog2(COLS > 1 ? COLS : 2)-1:0] wr_col,
  input  logic                 wr_first,
  input  logic                 wr_last,
  input  logic                 wr_close,   // the slot's last entry: slot complete
  input  logic [GW-1:0]        wr_g,
  input  logic [31:0]          wr_abase,
  input  logic [31:0]          wr_iy0,
  input  logic [31:0]          wr_ix0,
  input  logic [31:0]          wr_obase,
  // feeder: the oldest filled slot
  output logic                 f_ready,
  input  logic                 f_take,
  output logic [COLS*32-1:0]   f_abase,
  output logic [COLS*32-1:0]   f_iy0,
  output logic [COLS*32-1:0]   f_ix0,
  output logic [$clog2(COLS+1)-1:0] f_nvalid,
  output logic [GW-1:0]        f_g,
  // output unit: slot o_slot, lane d = column o_col + d
  input  logic [$clog2(TS)-1:0] o_slot,
  input  logic [$clog2(COLS > 1 ? COLS : 2)-1:0] o_col,
  output logic                 o_first,     // column o_col
  output logic [DRAIN-1:0]     o_last,
  output logic [DRAIN*32-1:0]  o_obase,
  output logic [GW-1:0]        o_g,
  output logic [$clog2(COLS+1)-1:0] o_nvalid,
  input  logic                 o_tile_done, // the output unit is done with its slot
  output logic                 empty        // every filled slot taken and drained
);
  localparam int SB = $clog2(TS);
  localparam int NB = $clog2(COLS + 1);

  logic [31:0] r_abase [TS][COLS];
  logic [31:0] r_iy0 [TS][COLS];
  logic [31:0] r_ix0 [TS][COLS];
  logic [31:0] r_obase [TS][COLS];
  logic [COLS-1:0] r_first [TS];
  logic [COLS-1:0] r_last [TS];
  logic [NB-1:0] r_nvalid [TS];
  logic [GW-1:0] r_g [TS];
  logic [31:0] gen_cnt, asm_cnt, iss_cnt, drn_cnt;  // reserved, filled, taken, drained

  always_ff @(posedge clk) begin
    if (rst) begin
      gen_cnt <= '0;
      asm_cnt <= '0;
      iss_cnt <= '0;
      drn_cnt <= '0;
    end else begin
      if (close) gen_cnt <= gen_cnt + 1;
      if (f_take) iss_cnt <= iss_cnt + 1;
      if (o_tile_done) drn_cnt <= drn_cnt + 1;
      if (wr_en) begin
        r_abase[wr_slot][wr_col] <= wr_abase;
        r_iy0[wr_slot][wr_col] <= wr_iy0;
        r_ix0[wr_slot][wr_col] <= wr_ix0;
        r_obase[wr_slot][wr_col] <= wr_obase;
        r_first[wr_slot][wr_col] <= wr_first;
        r_last[wr_slot][wr_col] <= wr_last;
        if (wr_close) begin
          r_nvalid[wr_slot] <= NB'(wr_col) + 1'b1;
          r_g[wr_slot] <= wr_g;
          asm_cnt <= asm_cnt + 1;
        end
      end
    end
  end

  assign room = (gen_cnt - drn_cnt) < TS;
  assign fill_slot = gen_cnt[SB-1:0];
  assign empty = asm_cnt == iss_cnt && iss_cnt == drn_cnt;

  logic [SB-1:0] islot;
  assign islot = iss_cnt[SB-1:0];
  assign f_ready = run && asm_cnt != iss_cnt;
  always_comb begin
    for (int c = 0; c < COLS; c++) begin
      f_abase[c*32 +: 32] = r_abase[islot][c];
      f_iy0[c*32 +: 32] = r_iy0[islot][c];
      f_ix0[c*32 +: 32] = r_ix0[islot][c];
    end
  end
  assign f_nvalid = r_nvalid[islot];
  assign f_g = r_g[islot];

  assign o_first = r_first[o_slot][o_col];
  always_comb begin
    for (int d = 0; d < DRAIN; d++) begin
      o_last[d] = 1'b0;
      o_obase[d*32 +: 32] = '0;
      for (int c = 0; c < COLS; c++) begin
        if (32'(o_col) + 32'(d) == 32'(c)) begin
          o_last[d] = r_last[o_slot][c];
          o_obase[d*32 +: 32] = r_obase[o_slot][c];
        end
      end
    end
  end
  assign o_g = r_g[o_slot];
  assign o_nvalid = r_nvalid[o_slot];
endmodule
