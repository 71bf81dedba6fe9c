// bitweave dev-board SoC: the array (bw_top, unchanged but for its wide-weight option)
// with on-chip memories and the UART host link (bw_link, docs/BOARD-PROTOCOL.md). A board
// top (sim/soc/ecp5/, sim/soc/ice40/) adds the PLL, the reset and the pins.
//
// Memories (every array lane presents a registered address and takes its data in the same
// cycle, so each read lane gets a RAM whose address register is the lane's register):
//  - descriptors: 32-bit words, read by the sequencer at desc_base + d_addr;
//  - parameters: 32-bit words, one copy per PE row (each row unit loads its own channels);
//  - weights: one wide memory, a row of ROWS 64-bit words per address (WIDE_WEIGHTS: every
//    weight lane reads the same row, lane r takes word r);
//  - arena: rows of LANES int32 (LANES = max(2, ROWS)) in two banks (even, odd rows), one
//    copy per PE column for the activation lanes plus one copy that serves read-modify-
//    write: the array writes bit-planes under a bit mask and ROWS int32 results from any
//    index (at most two rows, one per bank), and block RAMs have no bit enables, so every
//    write reads its rows from the write copy, merges, and writes them to every copy a
//    cycle later (forwarded when the next write hits the same row).
// The link reaches the memories only while the array is idle (it answers BUSY otherwise).
// Build choices (SOC_BUILD in host/array/limits.ts): DRAIN 1 (one column leaves the array
// per cycle: one write per cycle) and 1-bit threshold outputs.
module bw_soc #(
  parameter int CLK_HZ = 50_000_000,     // clock frequency (Hz), for the baud divisor and INFO
  parameter int BAUD = 1_000_000,        // UART baud rate
  parameter int DESC_DEPTH = 512,        // descriptor memory, 32-bit words
  parameter int PARAM_DEPTH = 2048,      // parameter memory, 32-bit words (per PE row)
  parameter int WEIGHT_ROWS = 4096,      // weight memory, wide rows of ROWS 64-bit words
  parameter int ARENA_WORDS = 4096,      // arena, 64-bit words (per PE column, plus one)
  parameter int TIMEOUT = 1 << 20        // clock cycles of silence that drop a half-received frame
) (
  input  logic       clk,
  input  logic       rst,
  input  logic       uart_rx,
  output logic       uart_tx,
  output logic [7:0] led
);
  localparam int ROWS = bitweave_array::ROWS;
  localparam int COLS = bitweave_array::COLS;
  localparam int MAX_OUT_BITS = bitweave_array::SOC_MAX_OUT_BITS;
  localparam int DRAIN = bitweave_array::SOC_DRAIN;
  localparam int LANES = ROWS > 2 ? ROWS : 2;        // int32 per arena row
  localparam int AW = LANES * 32;                    // arena row bits
  localparam int AROWS = ARENA_WORDS * 2 / LANES;    // arena rows
  localparam int PSHIFT = $clog2(LANES / 2);        // 64-bit words per arena row, log2
  localparam int SLOT_B = PSHIFT > 0 ? PSHIFT : 1;
  localparam int LANE_B = $clog2(LANES);
  localparam int INFO_WORDS = 17;

  if (DRAIN != 1 || MAX_OUT_BITS != 1) begin : g_build_check
    $error("bw_soc: the memories take one 1-bit write per cycle (SOC_DRAIN = SOC_MAX_OUT_BITS = 1)");
  end
  if (ARENA_WORDS * 2 % (2 * LANES) != 0) begin : g_arena_check
    $error("bw_soc: ARENA_WORDS must be a multiple of LANES (two banks of whole rows)");
  end

  // ---- the array ----------------------------------------------------------------------
  logic start, busy, done;
  logic [31:0] n_layers, batch, arena_words, desc_base, err, layer;
  logic d_en;
  logic [31:0] d_addr, d_rdata;
  logic [ROWS-1:0] p_en, w_en;
  logic [ROWS*32-1:0] p_addr, p_rdata, w_addr;
  logic [ROWS*64-1:0] w_rdata;
  logic [COLS-1:0] a_en;
  logic [COLS*32-1:0] a_addr;
  logic [COLS*64-1:0] a_rdata;
  logic [0:0] o_pen, o_ien;
  logic [31:0] o_pbase, o_ibase, o_pbits, o_pstride;
  logic [63:0] o_pdata, o_pmask;
  logic [ROWS*32-1:0] o_idata;
  logic [ROWS-1:0] o_irows;

  // the array's datapath has no reset: its reset is held until the pipelines are flushed
  localparam int FLUSH = 2 * (ROWS + COLS) + 16;
  logic [$clog2(FLUSH + 1)-1:0] flush;
  logic arst;
  always_ff @(posedge clk) begin
    if (rst) flush <= '0;
    else if (32'(flush) != FLUSH) flush <= flush + 1'b1;
    arst <= rst || 32'(flush) != FLUSH;
  end

  bw_top #(.MAX_OUT_BITS(MAX_OUT_BITS), .DRAIN(DRAIN), .WIDE_WEIGHTS(1'b1)) array (
    .clk, .rst(arst), .start, .n_layers, .batch, .arena_words, .arena_base(32'd0), .busy, .done, .err, .layer,
    .d_en, .d_addr, .d_rdata, .p_en, .p_addr, .p_rdata, .w_en, .w_addr, .w_rdata,
    .a_en, .a_addr, .a_rdata, .o_pen, .o_pbase, .o_pdata, .o_pmask, .o_pbits, .o_pstride,
    .o_ien, .o_ibase, .o_idata, .o_irows
  );

  // cycles from START (counted) until done, as the RTL harness counts them
  logic [63:0] cycles;
  always_ff @(posedge clk) begin
    if (rst) cycles <= '0;
    else if (start) cycles <= 64'd1;
    else if (busy) cycles <= cycles + 1'b1;
  end

  // ---- the link -------------------------------------------------------------------------
  logic m_req, m_we, m_ack;
  logic [1:0] m_mem;
  logic [31:0] m_addr, m_wdata, m_rdata;
  logic [INFO_WORDS*32-1:0] info;
  assign info = {32'(BAUD), 32'(CLK_HZ), 32'(ARENA_WORDS), 32'(WEIGHT_ROWS), 32'(PARAM_DEPTH), 32'(DESC_DEPTH),
                 32'(bitweave_array::DESC_WORDS), 32'(DRAIN), 32'(bitweave_array::RTL_TS), 32'(bitweave_array::RTL_PDEPTH),
                 32'(MAX_OUT_BITS), 32'(bitweave_array::ACC_BITS), 32'(bitweave_array::WORD), 32'(COLS), 32'(ROWS),
                 32'd1, 32'h31575642};
  logic [4*32-1:0] mem_words;
  assign mem_words = {32'(ARENA_WORDS * 2), 32'(WEIGHT_ROWS * ROWS * 2), 32'(PARAM_DEPTH), 32'(DESC_DEPTH)};

  // the weights cannot be read back: their block RAMs' second port serves the array
  bw_link #(.CLKS_PER_BIT(CLK_HZ / BAUD), .TIMEOUT(TIMEOUT), .INFO_WORDS(INFO_WORDS), .READABLE(4'b1011)) link (
    .clk, .rst, .rx(uart_rx), .tx(uart_tx),
    .m_req, .m_we, .m_mem, .m_addr, .m_wdata, .m_ack, .m_rdata, .mem_words,
    .start, .n_layers, .batch, .arena_words, .desc_base,
    .busy(busy || arst), .done, .err, .layer, .cycles, .info
  );

  // link requests: writes of descriptors, parameters and weights and every read take one
  // cycle (ack the next); arena writes go through the merge pipeline (ack after it)
  logic lk_wr [4];
  always_comb for (int m = 0; m < 4; m++) lk_wr[m] = m_req && m_we && m_mem == 2'(m);
  logic awr_q;
  logic [1:0] rd_mem;
  logic [31:0] rd_addr;
  always_ff @(posedge clk) begin
    rd_mem <= m_mem;
    rd_addr <= m_addr;
    awr_q <= !rst && lk_wr[3];
  end

  // ---- descriptors ------------------------------------------------------------------------
  // one read port (a LUT RAM: the array reads at desc_base + d_addr in the same cycle),
  // the link's address for a link read (the link reads only while the array is idle)
  logic [31:0] desc [DESC_DEPTH];
  logic [31:0] desc_q;
  logic [31:0] d_at;
  assign d_at = m_req && !m_we && m_mem == 2'd0 ? m_addr : desc_base + d_addr;
  assign d_rdata = desc[d_at[$clog2(DESC_DEPTH)-1:0]];
  always_ff @(posedge clk) begin
    if (lk_wr[0]) desc[m_addr[$clog2(DESC_DEPTH)-1:0]] <= m_wdata;
    desc_q <= d_rdata;
  end

  // ---- parameters: one copy per row ------------------------------------------------------
  logic [31:0] param_q;
  for (genvar r = 0; r < ROWS; r++) begin : g_param
    logic [31:0] pm [PARAM_DEPTH];
    always_ff @(posedge clk) if (lk_wr[1]) pm[m_addr[$clog2(PARAM_DEPTH)-1:0]] <= m_wdata;
    assign p_rdata[r*32 +: 32] = pm[p_addr[r*32 +: $clog2(PARAM_DEPTH)]];
    if (r == 0) begin : g_link_read
      always_ff @(posedge clk) param_q <= pm[m_addr[$clog2(PARAM_DEPTH)-1:0]];
    end
  end

  // ---- weights: wide rows ------------------------------------------------------------------
  // One memory per 32-bit lane of a row, so a link write is a whole word of one memory (no
  // byte enables) and each maps to a simple dual-port block RAM: the link writes, the array
  // reads (the link cannot read the weights back: READ answers E_ADDR). A lane whose depth
  // is not a power of two is two memories, WLO (a power of two) and WHI rows, so that block
  // RAMs in their deep, narrow shapes need no wide read multiplexer.
  localparam int WR_B = $clog2(WEIGHT_ROWS);
  localparam int WL_B = $clog2(ROWS * 2);
  localparam int WLO = (1 << WR_B) == WEIGHT_ROWS ? WEIGHT_ROWS : 1 << (WR_B - 1);
  localparam int WHI = WEIGHT_ROWS - WLO;
  localparam int WLO_B = $clog2(WLO);
  localparam int WHI_B = WHI > 1 ? $clog2(WHI) : 1;
  logic [WR_B-1:0] lk_wrow, w_row;
  assign lk_wrow = m_addr[WL_B +: WR_B];
  assign w_row = w_addr[WR_B-1:0];
  for (genvar i = 0; i < ROWS * 2; i++) begin : g_wlane
    logic lane_wr;
    assign lane_wr = lk_wr[2] && 32'(m_addr[WL_B-1:0]) == i;
    logic [31:0] wlo [WLO];
    always_ff @(posedge clk) if (lane_wr && 32'(lk_wrow) < WLO) wlo[lk_wrow[WLO_B-1:0]] <= m_wdata;
    // every lane presents the same row (WIDE_WEIGHTS); lane 0 exists whenever a tile does
    if (WHI > 0) begin : g_hi
      logic [31:0] whi [WHI];
      always_ff @(posedge clk) if (lane_wr && 32'(lk_wrow) >= WLO) whi[lk_wrow[WHI_B-1:0]] <= m_wdata;
      assign w_rdata[i*32 +: 32] = 32'(w_row) >= WLO ? whi[w_row[WHI_B-1:0]] : wlo[w_row[WLO_B-1:0]];
    end else begin : g_lo
      assign w_rdata[i*32 +: 32] = wlo[w_row[WLO_B-1:0]];
    end
  end

  // ---- arena: two banks (even and odd rows) and a merge pipeline ------------------------
  // A write covers at most two consecutive rows (ROWS int32 from any index, or one 64-bit
  // word), one in each bank, so every write is one read-merge-write per bank.
  localparam int AR_B = $clog2(AROWS / 2);           // bank address bits
  // stage 0: the write of this cycle as a two-row window (low row k, high row k + 1)
  logic s0_any;
  logic [31:0] s0_k;
  logic [2*AW-1:0] s0_wmask, s0_wdata;
  // (positions in the window are picked by comparing small offsets with constants: a
  // variable shift of the 2-row window would be a barrel shifter per write lane)
  logic [PSHIFT > 0 ? PSHIFT - 1 : 0:0] poff;        // 64-bit word of the row a plane write hits
  logic [LANE_B-1:0] ioff, loff;                     // int32 lane of an int32 / link write
  assign poff = o_pbase[PSHIFT > 0 ? PSHIFT - 1 : 0:0];
  assign ioff = o_ibase[LANE_B-1:0];
  assign loff = m_addr[LANE_B-1:0];
  always_comb begin
    s0_any = 1'b0;
    s0_k = '0;
    s0_wmask = '0;
    s0_wdata = '0;
    if (o_pen[0]) begin
      // one bit-plane word (MAX_OUT_BITS 1) under a bit mask, in the first row
      s0_any = 1'b1;
      s0_k = o_pbase >> PSHIFT;
      for (int q = 0; q < LANES / 2; q++) begin
        if (PSHIFT == 0 || 32'(poff) == q) begin
          s0_wmask[q*64 +: 64] = o_pmask;
          s0_wdata[q*64 +: 64] = o_pdata;
        end
      end
    end else if (o_ien[0]) begin
      // ROWS int32 results from int32 index o_ibase (rows without a channel masked off)
      s0_any = 1'b1;
      s0_k = o_ibase >> LANE_B;
      for (int p = 0; p < 2 * LANES; p++) begin
        for (int r = 0; r < ROWS; r++) begin
          if (32'(ioff) + r == p && o_irows[r]) begin
            s0_wmask[p*32 +: 32] = '1;
            s0_wdata[p*32 +: 32] = o_idata[r*32 +: 32];
          end
        end
      end
    end else if (lk_wr[3]) begin
      s0_any = 1'b1;
      s0_k = m_addr >> LANE_B;
      for (int p = 0; p < LANES; p++) begin
        if (32'(loff) == p) begin
          s0_wmask[p*32 +: 32] = '1;
          s0_wdata[p*32 +: 32] = m_wdata;
        end
      end
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
  // link reads: int32 index m_addr, row m_addr / LANES
  logic [31:0] lk_row;
  assign lk_row = m_addr >> LANE_B;
  // stage 1: merge with the row as the write copy holds it (or as the last write left it),
  // then every copy of that bank takes the merged row
  logic s1_valid [2], s2_valid [2];
  logic [AR_B-1:0] s1_addr [2], s2_addr [2];
  logic [AW-1:0] s1_mask [2], s1_data [2], s2_row [2], merged [2], x_q [2];
  for (genvar e = 0; e < 2; e++) begin : g_bank
    logic [AW-1:0] xmem [AROWS / 2];
    logic [AR_B-1:0] x_addr;
    assign x_addr = s0_any ? s0_addr[e] : AR_B'(lk_row >> 1);
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
  // the read copies, one per activation lane, each in two banks
  for (genvar c = 0; c < COLS; c++) begin : g_arena
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
    if (LANES > 2) begin : g_slot
      assign a_rdata[c*64 +: 64] = row[a_addr[c*32 +: SLOT_B] * 64 +: 64];
    end else begin : g_one
      assign a_rdata[c*64 +: 64] = row;
    end
  end
  // lane enables are not needed (a RAM read without one is harmless), nor the high
  // address bits (the host keeps every region inside the memories, checked at load)
  /* verilator lint_off UNUSEDSIGNAL */
  logic [COLS-1:0] a_en_unused;
  logic [ROWS-1:0] p_en_unused, w_en_unused;
  logic d_en_unused;
  logic [63:0] o_misc_unused;
  logic [ROWS*32-1:0] p_addr_unused, w_addr_unused;
  logic [63:0] addr_unused;
  assign a_en_unused = a_en;
  assign p_en_unused = p_en;
  assign w_en_unused = w_en;
  assign d_en_unused = d_en;
  assign o_misc_unused = {o_pbits, o_pstride};
  assign p_addr_unused = p_addr;
  assign w_addr_unused = w_addr;
  assign addr_unused = {rd_addr, d_at};
  /* verilator lint_on UNUSEDSIGNAL */

  // ---- link answers ---------------------------------------------------------------------
  logic [LANE_B-1:0] rd_lane;
  logic rd_bank;
  always_ff @(posedge clk) begin
    m_ack <= !rst && ((m_req && !(m_we && m_mem == 2'd3)) || awr_q);
    rd_lane <= m_addr[LANE_B-1:0];
    rd_bank <= lk_row[0];
  end
  always_comb begin
    case (rd_mem)
      2'd0: m_rdata = desc_q;
      2'd1: m_rdata = param_q;
      default: m_rdata = x_q[rd_bank][rd_lane * 32 +: 32];
    endcase
  end

  assign led = {6'd0, err != 0, busy};
endmodule
