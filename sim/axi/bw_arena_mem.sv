// bitweave RTL kernel: the on-chip activation arena of the whole batch, as bw_top's lanes
// want it. Rows of AW bits in two banks (even, odd rows); one copy per PE column serves the
// activation lanes (each reads its own pixel) and one more, the write copy, serves
// read-modify-write: the array writes a bit-plane word under a bit mask or ROWS int32
// results from any int32 index (at most two consecutive rows, one per bank), and block RAMs
// have no bit enables, so a write reads its rows from the write copy, merges, and writes
// the merged rows into every copy a cycle later (forwarded when the next write hits the
// same row). The array's writes are registered on the way in (a pipeline boundary between
// the array's output stage and the memories: one more cycle before a write lands, well
// inside the cycles between a layer's last write and the next layer's first read). The DMA
// writes and reads whole rows in the cycles the array leaves free: `a_busy` says a
// registered array write holds the port this cycle, dw_en is then ignored (the caller holds
// its row back), and dr_row is read only in a cycle without any write (the caller tracks
// which reads were served).
// (The dev-board SoC's arena, sim/soc/bw_soc.sv, is the same structure with 32-bit link
// writes instead of the DMA's rows.)
module bw_arena_mem #(
  parameter int AW = 512,                               // bits per row (a power of two, >= 64 and >= ROWS * 32)
  parameter int WORDS = 4096,                           // 64-bit words of the arena (a multiple of 2 * AW / 64)
  parameter int ROWS = bitweave_array::ROWS,            // int32 results per array write
  parameter int COLS = bitweave_array::COLS             // activation read lanes
) (
  input  logic                clk,
  input  logic                rst,
  // the array: one bit-plane write or one int32 write per cycle (DRAIN 1, 1-bit outputs)
  input  logic                o_pen,
  input  logic [31:0]         o_pbase,    // 64-bit word index
  input  logic [63:0]         o_pdata,
  input  logic [63:0]         o_pmask,
  input  logic                o_ien,
  input  logic [31:0]         o_ibase,    // int32 index
  input  logic [ROWS*32-1:0]  o_idata,
  input  logic [ROWS-1:0]     o_irows,
  output logic                a_busy,     // a registered array write takes the write port this cycle
  input  logic [COLS*32-1:0]  a_addr,     // registered 64-bit word addresses of the lanes
  output logic [COLS*64-1:0]  a_rdata,
  // the DMA: a whole row written, or a row read (data the next cycle)
  input  logic                dw_en,
  input  logic [31:0]         dw_row,
  input  logic [AW-1:0]       dw_data,
  input  logic [31:0]         dr_row,
  output logic [AW-1:0]       dr_data
);
  localparam int LANES = AW / 32;                    // int32 per row
  localparam int AROWS = WORDS * 64 / AW;            // rows
  localparam int PSHIFT = $clog2(AW / 64);           // 64-bit words per row, log2
  localparam int SLOT_B = PSHIFT > 0 ? PSHIFT : 1;
  localparam int LANE_B = $clog2(LANES);
  localparam int AR_B = $clog2(AROWS / 2);           // bank address bits

  if ((AW & (AW - 1)) != 0 || AW < 64 || AW < ROWS * 32) begin : g_aw_check
    $error("bw_arena_mem: AW must be a power of two >= 64 and >= ROWS * 32");
  end
  if (AROWS % 2 != 0 || AROWS * AW != WORDS * 64) begin : g_words_check
    $error("bw_arena_mem: WORDS must be a multiple of 2 * AW / 64 (two banks of whole rows)");
  end

  // stage 0: this cycle's write as a two-row window (row k, row k + 1); positions in the
  // window are picked by comparing small offsets with constants (no barrel shifter)
  logic s0_any;
  logic [31:0] s0_k;
  logic [2*AW-1:0] s0_wmask, s0_wdata;
  logic [SLOT_B-1:0] poff;
  logic [LANE_B-1:0] ioff;
  // the array's write, registered
  logic r_pen, r_ien;
  logic [31:0] r_pbase, r_ibase;
  logic [63:0] r_pdata, r_pmask;
  logic [ROWS*32-1:0] r_idata;
  logic [ROWS-1:0] r_irows;
  always_ff @(posedge clk) begin
    r_pen <= !rst && o_pen;
    r_ien <= !rst && !o_pen && o_ien;
    r_pbase <= o_pbase;
    r_pdata <= o_pdata;
    r_pmask <= o_pmask;
    r_ibase <= o_ibase;
    r_idata <= o_idata;
    r_irows <= o_irows;
  end
  assign a_busy = r_pen || r_ien;
  assign poff = SLOT_B'(r_pbase);
  assign ioff = r_ibase[LANE_B-1:0];
  always_comb begin
    s0_any = 1'b0;
    s0_k = '0;
    s0_wmask = '0;
    s0_wdata = '0;
    if (r_pen) begin
      s0_any = 1'b1;
      s0_k = r_pbase >> PSHIFT;
      for (int q = 0; q < AW / 64; q++) begin
        if (PSHIFT == 0 || 32'(poff) == q) begin
          s0_wmask[q*64 +: 64] = r_pmask;
          s0_wdata[q*64 +: 64] = r_pdata;
        end
      end
    end else if (r_ien) begin
      s0_any = 1'b1;
      s0_k = r_ibase >> LANE_B;
      for (int p = 0; p < 2 * LANES; p++) begin
        for (int r = 0; r < ROWS; r++) begin
          if (32'(ioff) + r == p && r_irows[r]) begin
            s0_wmask[p*32 +: 32] = '1;
            s0_wdata[p*32 +: 32] = r_idata[r*32 +: 32];
          end
        end
      end
    end else if (dw_en) begin
      s0_any = 1'b1;
      s0_k = dw_row;
      s0_wmask[AW-1:0] = '1;
      s0_wdata[AW-1:0] = dw_data;
    end
  end
  // the window's rows by bank: row k goes to bank k[0], row k + 1 to the other
  logic [AR_B-1:0] s0_addr [2];
  logic [AW-1:0] s0_mask [2], s0_data [2];
  logic s0_valid [2];
  logic [31:0] s0_k1;
  assign s0_k1 = s0_k + 1;
  always_comb begin
    for (int e = 0; e < 2; e++) begin
      if (s0_k[0] == 1'(e)) begin
        s0_addr[e] = AR_B'(s0_k >> 1);
        s0_mask[e] = s0_wmask[AW-1:0];
        s0_data[e] = s0_wdata[AW-1:0];
      end else begin
        s0_addr[e] = AR_B'(s0_k1 >> 1);
        s0_mask[e] = s0_wmask[2*AW-1:AW];
        s0_data[e] = s0_wdata[2*AW-1:AW];
      end
      s0_valid[e] = s0_any && s0_mask[e] != '0;
    end
  end
  // stage 1: merge with the row as the write copy holds it (or as the last write left it);
  // every copy of the bank takes the merged row
  logic s1_valid [2], s2_valid [2];
  logic [AR_B-1:0] s1_addr [2], s2_addr [2];
  logic [AW-1:0] s1_mask [2], s1_data [2], s2_row [2], merged [2], x_q [2];
  for (genvar e = 0; e < 2; e++) begin : g_bank
    logic [AW-1:0] xmem [AROWS / 2];
    logic [AR_B-1:0] x_addr;
    assign x_addr = s0_any ? s0_addr[e] : AR_B'(dr_row >> 1);
    assign merged[e] = (((s2_valid[e] && s2_addr[e] == s1_addr[e]) ? s2_row[e] : x_q[e]) & ~s1_mask[e]) | (s1_data[e] & s1_mask[e]);
    always_ff @(posedge clk) begin
      x_q[e] <= xmem[x_addr];
      if (s1_valid[e]) xmem[s1_addr[e]] <= merged[e];
      s1_valid[e] <= !rst && s0_valid[e];
      s1_addr[e] <= s0_addr[e];
      s1_mask[e] <= s0_mask[e];
      s1_data[e] <= s0_data[e];
      s2_valid[e] <= !rst && s1_valid[e];
      s2_addr[e] <= s1_addr[e];
      s2_row[e] <= merged[e];
    end
  end
  logic dr_bank;
  always_ff @(posedge clk) dr_bank <= dr_row[0];
  assign dr_data = x_q[dr_bank];
  // the read copies, one per activation lane, each in two banks
  for (genvar c = 0; c < COLS; c++) begin : g_lane
    logic [AW-1:0] am0 [AROWS / 2];
    logic [AW-1:0] am1 [AROWS / 2];
    always_ff @(posedge clk) begin
      if (s1_valid[0]) am0[s1_addr[0]] <= merged[0];
      if (s1_valid[1]) am1[s1_addr[1]] <= merged[1];
    end
    logic [31:0] k;
    logic [AW-1:0] row;
    assign k = a_addr[c*32 +: 32] >> PSHIFT;
    assign row = k[0] ? am1[AR_B'(k >> 1)] : am0[AR_B'(k >> 1)];
    if (AW > 64) begin : g_slot
      assign a_rdata[c*64 +: 64] = row[a_addr[c*32 +: SLOT_B] * 64 +: 64];
    end else begin : g_one
      assign a_rdata[c*64 +: 64] = row;
    end
  end
endmodule
