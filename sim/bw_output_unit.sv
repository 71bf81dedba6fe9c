// bitweave RTL: the output unit (output_unit.cl / hls/output_unit.h). Takes the deskewed
// accumulators (all rows, DRAIN columns per cycle, or one on pool layers), looks up each
// column's pixel-stream tag (valid, pool first/last, output address) in the tile ring,
// runs the ROWS row units (bw_row_unit) in lock-step and packs their results into two
// write ports per drained column d (column col+d), driven from the last pipeline registers:
//   threshold epilogue: the plane port writes OUT_BITS 64-bit words, plane l of the k-bit
//     levels at word p_base + l*OUT_WORDS, under one mask shared by all columns (the
//     channel group's bits, plus the zero tail bits past OUT_C when the group holds the
//     last channel);
//   int epilogue: the int port writes the ROWS int32 results of the pixel at int32 index
//     i_base + r, for the rows the shared row mask marks as real channels.
// Channel group of a tile: the ring slot's on pool layers; otherwise a slot's columns
// serve every group in turn (group-inner order, see bw_sequencer), counted here.
module bw_output_unit #(
  parameter int ROWS = bitweave_array::ROWS,                                  // PE rows = row units
  parameter int COLS = bitweave_array::COLS,                                  // PE columns (entries of a tile)
  parameter int ACC = bitweave_array::ACC_BITS,                                  // accumulator bits
  parameter int MAX_OUT_BITS = bitweave_array::RTL_MAX_OUT_BITS,                          // largest k of k-bit outputs
  parameter int PDEPTH = bitweave_array::RTL_PDEPTH,                              // row-unit RAM depth (channel groups)
  parameter int PWID = 2 + 32 * ((1 << MAX_OUT_BITS) - 1), // parameter word (bw_pkg::param_bits)
  parameter int GW = $clog2(PDEPTH),                       // bits of a channel-group number
  parameter int TS = bitweave_array::RTL_TS,                                   // tile ring slots
  parameter int DRAIN = 1                                  // columns drained per cycle
) (
  input  logic                 clk,
  input  logic                 rst,
  // from the array
  input  logic                 out_valid,
  input  logic [DRAIN*ROWS*ACC-1:0] out_v,
  // tile ring lookup (combinational), lane d = column rd_col + d
  output logic [$clog2(TS)-1:0] rd_slot,
  output logic [$clog2(COLS > 1 ? COLS : 2)-1:0] rd_col,
  input  logic                 tag_first,   // column rd_col
  input  logic [DRAIN-1:0]     tag_last,
  input  logic [DRAIN*32-1:0]  tag_obase,
  input  logic [GW-1:0]        slot_g,
  input  logic [$clog2(COLS+1)-1:0] slot_nvalid,
  // layer configuration
  input  logic                 thr,
  input  logic                 drain1,     // pool layer: one column per cycle, groups from the ring
  input  logic [31:0]          ngroups,
  input  logic [ACC-1:0]       tail,
  input  logic [MAX_OUT_BITS:0] nthr,
  input  logic [MAX_OUT_BITS-1:0] oflip,   // signed outputs: the level bit to invert (n - 2^(k-1))
  input  logic [31:0]          out_c,
  // parameter RAM writes (same address for every row)
  input  logic [ROWS-1:0]      pw_en,
  input  logic [GW-1:0]        pw_addr,
  input  logic [ROWS*PWID-1:0] pw_data,
  // arena write ports: bit-planes
  output logic [DRAIN-1:0]     o_pen,
  output logic [DRAIN*32-1:0]  o_pbase,      // arena word of plane 0
  output logic [DRAIN*MAX_OUT_BITS*64-1:0] o_pdata,
  output logic [63:0]          o_pmask,
  // int32 results
  output logic [DRAIN-1:0]     o_ien,
  output logic [DRAIN*32-1:0]  o_ibase,      // int32 index of row 0
  output logic [DRAIN*ROWS*32-1:0] o_idata,
  output logic [ROWS-1:0]      o_irows,      // rows that hold real channels
  output logic                 tile_done   // a ring slot is no longer needed
);
  localparam int CB = $clog2(COLS > 1 ? COLS : 2);
  localparam int SB = $clog2(TS);

  // S0: column / group / slot counters
  logic [CB-1:0] col;
  logic [SB-1:0] slot;
  logic [GW-1:0] grp;
  logic [31:0] step;
  logic tile_end, slot_end;
  logic [GW-1:0] g0;
  always_comb begin
    step = drain1 ? 32'd1 : DRAIN;
    tile_end = 32'(col) + step >= COLS;
    slot_end = tile_end && (drain1 || 32'(grp) + 1 >= ngroups);
    g0 = drain1 ? slot_g : grp;
  end
  always_ff @(posedge clk) begin
    if (rst) begin
      col <= '0;
      slot <= '0;
      grp <= '0;
    end else if (out_valid) begin
      if (tile_end) begin
        col <= '0;
        if (slot_end) begin
          slot <= slot + 1'b1;
          grp <= '0;
        end else begin
          grp <= grp + 1'b1;
        end
      end else begin
        col <= col + CB'(step);
      end
    end
  end
  assign rd_slot = slot;
  assign rd_col = col;

  // S1 registers (shared control)
  logic [DRAIN-1:0] valid1, last1, emit2, emit3;
  logic first1, tdone1, tdone2, tdone3;
  logic [31:0] obase1 [DRAIN];
  logic [31:0] obase2 [DRAIN];
  logic [31:0] obase3 [DRAIN];
  logic [GW-1:0] g1, g2, g3;
  logic [DRAIN*ROWS*ACC-1:0] v1;

  always_ff @(posedge clk) begin
    if (rst) begin
      valid1 <= '0;
      tdone1 <= 1'b0;
      emit2 <= '0;
      tdone2 <= 1'b0;
      emit3 <= '0;
      tdone3 <= 1'b0;
    end else begin
      for (int d = 0; d < DRAIN; d++) valid1[d] <= out_valid && 32'(d) < step && 32'(col) + 32'(d) < 32'(slot_nvalid);
      tdone1 <= out_valid && slot_end;
      emit2 <= valid1 & last1;
      tdone2 <= tdone1;
      emit3 <= emit2;
      tdone3 <= tdone2;
    end
    first1 <= tag_first;
    last1 <= tag_last;
    for (int d = 0; d < DRAIN; d++) begin
      obase1[d] <= tag_obase[d*32 +: 32];
      obase2[d] <= obase1[d];
      obase3[d] <= obase2[d];
    end
    g1 <= g0;
    v1 <= out_v;
    g2 <= g1;
    g3 <= g2;
  end

  logic [DRAIN*MAX_OUT_BITS-1:0] level3 [ROWS];
  logic [DRAIN*32-1:0] e3 [ROWS];
  for (genvar r = 0; r < ROWS; r++) begin : g_row
    logic [DRAIN*ACC-1:0] vr;
    for (genvar d = 0; d < DRAIN; d++) begin : g_lane
      assign vr[d*ACC +: ACC] = v1[(d*ROWS + r)*ACC +: ACC];
    end
    bw_row_unit #(.ACC(ACC), .MAX_OUT_BITS(MAX_OUT_BITS), .PDEPTH(PDEPTH), .PWID(PWID), .GW(GW), .DRAIN(DRAIN)) ru (
      .clk,
      .pw_en(pw_en[r]), .pw_addr, .pw_data(pw_data[r*PWID +: PWID]),
      .pr_addr(g0),
      .v1(vr), .valid1(valid1[0]), .first1, .tail, .nthr, .oflip,
      .level3(level3[r]), .e3(e3[r])
    );
  end

  // S3: pack into the write ports. Shared by every column: the group's first channel,
  // which of its rows hold real channels, the word mask.
  logic [31:0] oc0;
  logic [5:0] last_bit;
  always_comb begin
    oc0 = 32'(g3) * ROWS;
    for (int r = 0; r < ROWS; r++) o_irows[r] = oc0 + 32'(r) < out_c;
    o_pmask = '0;
    for (int r = 0; r < ROWS; r++) if (o_irows[r]) o_pmask[(oc0[5:0] + 6'(r))] = 1'b1;
    last_bit = 6'(out_c - 1);
    if (oc0 + ROWS >= out_c) o_pmask = o_pmask | ~((64'd2 << last_bit) - 64'd1);
  end

  for (genvar d = 0; d < DRAIN; d++) begin : g_wcol
    assign o_pen[d] = emit3[d] & thr;
    assign o_ien[d] = emit3[d] & !thr;
    assign o_pbase[d*32 +: 32] = obase3[d] + (oc0 >> 6);
    assign o_ibase[d*32 +: 32] = obase3[d] + oc0;
    for (genvar l = 0; l < MAX_OUT_BITS; l++) begin : g_plane
      logic [63:0] w;
      always_comb begin
        w = '0;
        for (int r = 0; r < ROWS; r++) w[(oc0[5:0] + 6'(r))] = o_irows[r] & level3[r][d*MAX_OUT_BITS + l];
      end
      assign o_pdata[(d*MAX_OUT_BITS + l)*64 +: 64] = w;
    end
    for (genvar r = 0; r < ROWS; r++) begin : g_int
      assign o_idata[(d*ROWS + r)*32 +: 32] = e3[r][d*32 +: 32];
    end
  end

  always_ff @(posedge clk) tile_done <= !rst && tdone3;
endmodule
