// bitweave RTL: the output side of the array. Takes the deskewed accumulators (all rows,
// one column per cycle), looks up each column's pixel-stream tag (valid, pool first/last,
// output address) in the tile ring, runs the ROWS row units in lock-step and packs their
// results into arena writes:
//   threshold epilogue: plane b of the k-bit levels -> one masked 64-bit word per plane
//     (write lane b); the channel group's bits, plus the zero tail bits past OUT_C when
//     the group holds the last channel;
//   int epilogue: row r writes its int32 into its half of the 64-bit word (lane r).
module bw_out #(
  parameter int ROWS = 8,
  parameter int COLS = 8,
  parameter int ACC = 24,
  parameter int MAX_OUT_BITS = 2,
  parameter int PDEPTH = 512,
  parameter int PWID = 2 + 32 * ((1 << MAX_OUT_BITS) - 1),
  parameter int GW = $clog2(PDEPTH),
  parameter int TS = 16
) (
  input  logic                 clk,
  input  logic                 rst,
  // from the array
  input  logic                 out_valid,
  input  logic [ROWS*ACC-1:0]  out_v,
  // tile ring lookup (combinational)
  output logic [$clog2(TS)-1:0] rd_slot,
  output logic [$clog2(COLS > 1 ? COLS : 2)-1:0] rd_col,
  input  logic                 tag_first,
  input  logic                 tag_last,
  input  logic [31:0]          tag_obase,
  input  logic [GW-1:0]        slot_g,
  input  logic [$clog2(COLS+1)-1:0] slot_nvalid,
  // layer configuration
  input  logic                 thr,
  input  logic [ACC-1:0]       tail,
  input  logic [MAX_OUT_BITS:0] nthr,
  input  logic [31:0]          out_c,
  input  logic [31:0]          out_bits,
  input  logic [31:0]          out_words,
  // parameter RAM writes (same address for every row)
  input  logic [ROWS-1:0]      pw_en,
  input  logic [GW-1:0]        pw_addr,
  input  logic [ROWS*PWID-1:0] pw_data,
  // arena write lanes
  output logic [ROWS-1:0]      o_en,
  output logic [ROWS*32-1:0]   o_addr,
  output logic [ROWS*64-1:0]   o_data,
  output logic [ROWS*64-1:0]   o_mask,
  output logic                 tile_done
);
  localparam int CB = $clog2(COLS > 1 ? COLS : 2);
  localparam int SB = $clog2(TS);

  // S0: column / tile counters
  logic [CB-1:0] col;
  logic [SB-1:0] slot;
  always_ff @(posedge clk) begin
    if (rst) begin
      col <= '0;
      slot <= '0;
    end else if (out_valid) begin
      if (32'(col) == COLS - 1) begin
        col <= '0;
        slot <= slot + 1'b1;
      end else begin
        col <= col + 1'b1;
      end
    end
  end
  assign rd_slot = slot;
  assign rd_col = col;

  // S1 registers (shared control)
  logic valid1, first1, last1, tdone1;
  logic [31:0] obase1;
  logic [GW-1:0] g1;
  logic [ROWS*ACC-1:0] v1;
  // S2, S3
  logic emit2, tdone2, emit3, tdone3;
  logic [31:0] obase2, obase3;
  logic [GW-1:0] g2, g3;

  always_ff @(posedge clk) begin
    if (rst) begin
      valid1 <= 1'b0;
      tdone1 <= 1'b0;
      emit2 <= 1'b0;
      tdone2 <= 1'b0;
      emit3 <= 1'b0;
      tdone3 <= 1'b0;
    end else begin
      valid1 <= out_valid && ({1'b0, col} < slot_nvalid);
      tdone1 <= out_valid && 32'(col) == COLS - 1;
      emit2 <= valid1 && last1;
      tdone2 <= tdone1;
      emit3 <= emit2;
      tdone3 <= tdone2;
    end
    first1 <= tag_first;
    last1 <= tag_last;
    obase1 <= tag_obase;
    g1 <= slot_g;
    v1 <= out_v;
    obase2 <= obase1;
    g2 <= g1;
    obase3 <= obase2;
    g3 <= g2;
  end

  logic [MAX_OUT_BITS-1:0] level3 [ROWS];
  logic [31:0] e3 [ROWS];
  for (genvar r = 0; r < ROWS; r++) begin : g_row
    bw_row_unit #(.ACC(ACC), .MAX_OUT_BITS(MAX_OUT_BITS), .PDEPTH(PDEPTH), .PWID(PWID), .GW(GW)) ru (
      .clk,
      .pw_en(pw_en[r]), .pw_addr, .pw_data(pw_data[r*PWID +: PWID]),
      .pr_addr(slot_g),
      .v1(v1[r*ACC +: ACC]), .valid1, .first1, .tail, .nthr,
      .level3(level3[r]), .e3(e3[r])
    );
  end

  // S3 -> S4: pack into write lanes
  logic [31:0] oc0;
  logic [63:0] grp_mask, tail_mask;
  logic [5:0] last_bit;
  always_comb begin
    oc0 = 32'(g3) * ROWS;
    grp_mask = '0;
    for (int r = 0; r < ROWS; r++) if (oc0 + 32'(r) < out_c) grp_mask[(oc0[5:0] + 6'(r))] = 1'b1;
    last_bit = 6'(out_c - 1);
    tail_mask = (oc0 + ROWS >= out_c) ? ~((64'd2 << last_bit) - 64'd1) : 64'd0;
  end

  always_ff @(posedge clk) begin
    for (int l = 0; l < ROWS; l++) begin
      if (thr) begin
        logic [63:0] d;
        d = '0;
        for (int r = 0; r < ROWS; r++) d[(oc0[5:0] + 6'(r))] = (l < MAX_OUT_BITS) && (oc0 + 32'(r) < out_c) ? level3[r][l % MAX_OUT_BITS] : 1'b0;
        o_en[l] <= !rst && emit3 && 32'(l) < out_bits;
        o_addr[l*32 +: 32] <= obase3 + 32'(l) * out_words + (oc0 >> 6);
        o_data[l*64 +: 64] <= d;
        o_mask[l*64 +: 64] <= grp_mask | tail_mask;
      end else begin
        logic [31:0] idx;
        idx = obase3 + oc0 + 32'(l);
        o_en[l] <= !rst && emit3 && oc0 + 32'(l) < out_c;
        o_addr[l*32 +: 32] <= idx >> 1;
        o_data[l*64 +: 64] <= {e3[l], e3[l]};
        o_mask[l*64 +: 64] <= idx[0] ? {32'hffffffff, 32'h0} : {32'h0, 32'hffffffff};
      end
    end
    tile_done <= !rst && tdone3;
  end
endmodule
