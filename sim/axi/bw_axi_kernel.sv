// bitweave RTL kernel: the array (bw_top) as a Vitis RTL kernel. An AXI4-Lite control slave
// with the ap_ctrl_hs block and the kernel's arguments (bw_axil_ctrl; offsets in
// host/array/axi-kernel.ts), three AXI4 masters (gmem0: descriptors and parameters, gmem1:
// weights, gmem2: the arena, read and written) and on-chip memories that feed the array's
// lanes at its rate.
//
// One call (ap_start .. ap_done):
//   1. check the arguments against the on-chip memories (a call that does not fit sets
//      AXI_ERR_SIZE and does nothing else);
//   2. stage: if `stage`, descriptors then parameters over gmem0 and weights over gmem1 (wide
//      rows of ROWS 64-bit words: bw_top's WIDE_WEIGHTS mode), in parallel with
//   3. the first in_words of every image's arena (the segment's inputs) over gmem2;
//   4. run the layer program on the batch (bw_top), `chunk` images at a time: a chunk runs
//      once its inputs are in, while the next chunks' inputs arrive and
//   5. the last chunk's output windows (out_off, out_words) go back over gmem2; ap_done
//      when every chunk is written back.
// So DDR traffic overlaps the array except for the first chunk's inputs and the last
// chunk's outputs; the host picks `chunk` (host/array/axi-kernel.ts: axiChunk).
// Copies move whole arena rows (RW = AW / 64 words; arena_words is a multiple), so every
// image's windows start on a row in both memories.
// The array is built as the dev-board SoC's (AXI_DRAIN, AXI_MAX_OUT_BITS: one output
// column per cycle, 1-bit outputs), so the arena takes one write per cycle.
module bw_axi_kernel #(
  parameter int DATA_BITS = bitweave_array::AXI_DATA_BITS,      // AXI4 master data width (64..1024, a power of two)
  parameter int OUTSTANDING = bitweave_array::AXI_OUTSTANDING,  // read bursts in flight per master
  parameter int MAX_BURST = bitweave_array::AXI_MAX_BURST,      // beats per burst at most
  parameter int DESC_DEPTH = bitweave_array::AXI_DESC_DEPTH,    // descriptor memory, 32-bit words
  parameter int PARAM_DEPTH = bitweave_array::AXI_PARAM_DEPTH,  // parameter memory, 32-bit words (per PE row)
  parameter int WEIGHT_ROWS = bitweave_array::AXI_WEIGHT_ROWS,  // weight memory, wide rows of ROWS 64-bit words
  parameter int ARENA_WORDS = bitweave_array::AXI_ARENA_WORDS   // arena, 64-bit words (per PE column, plus one)
) (
  input  logic                   ap_clk,
  input  logic                   ap_rst_n,
  /* verilator lint_off SYMRSVDWORD */
  output logic                   interrupt,
  /* verilator lint_on SYMRSVDWORD */
  input  logic                   s_axi_control_AWVALID,
  output logic                   s_axi_control_AWREADY,
  input  logic [7:0]             s_axi_control_AWADDR,
  input  logic                   s_axi_control_WVALID,
  output logic                   s_axi_control_WREADY,
  input  logic [31:0]            s_axi_control_WDATA,
  input  logic [3:0]             s_axi_control_WSTRB,
  output logic                   s_axi_control_BVALID,
  input  logic                   s_axi_control_BREADY,
  output logic [1:0]             s_axi_control_BRESP,
  input  logic                   s_axi_control_ARVALID,
  output logic                   s_axi_control_ARREADY,
  input  logic [7:0]             s_axi_control_ARADDR,
  output logic                   s_axi_control_RVALID,
  input  logic                   s_axi_control_RREADY,
  output logic [31:0]            s_axi_control_RDATA,
  output logic [1:0]             s_axi_control_RRESP,
`define BW_AXI_MASTER(P) \
  output logic P``_AWVALID, input logic P``_AWREADY, output logic [63:0] P``_AWADDR, output logic [7:0] P``_AWLEN, \
  output logic [2:0] P``_AWSIZE, output logic [1:0] P``_AWBURST, \
  output logic P``_WVALID, input logic P``_WREADY, output logic [DATA_BITS-1:0] P``_WDATA, \
  output logic [DATA_BITS/8-1:0] P``_WSTRB, output logic P``_WLAST, \
  input logic P``_BVALID, output logic P``_BREADY, input logic [1:0] P``_BRESP, \
  output logic P``_ARVALID, input logic P``_ARREADY, output logic [63:0] P``_ARADDR, output logic [7:0] P``_ARLEN, \
  output logic [2:0] P``_ARSIZE, output logic [1:0] P``_ARBURST, \
  input logic P``_RVALID, output logic P``_RREADY, input logic [DATA_BITS-1:0] P``_RDATA, input logic P``_RLAST, \
  input logic [1:0] P``_RRESP
  `BW_AXI_MASTER(m_axi_gmem0),
  `BW_AXI_MASTER(m_axi_gmem1),
  `BW_AXI_MASTER(m_axi_gmem2)
`undef BW_AXI_MASTER
);
  localparam int ROWS = bitweave_array::ROWS;
  localparam int COLS = bitweave_array::COLS;
  localparam int DW = DATA_BITS;
  localparam int BYTES = DW / 8;
  localparam int BB = $clog2(BYTES);
  localparam int NARGS = bitweave_array::AXI_NARGS;
  localparam int AW = DW > ROWS * 32 ? DW : ROWS * 32;   // arena row bits
  localparam int APB = AW / DW;                           // beats per arena row
  localparam int APB_B = APB > 1 ? $clog2(APB) : 1;
  localparam int MAX_OUT_BITS = bitweave_array::AXI_MAX_OUT_BITS;
  localparam int DRAIN = bitweave_array::AXI_DRAIN;

  if (DRAIN != 1 || MAX_OUT_BITS != 1) begin : g_build_check
    $error("bw_axi_kernel: the arena takes one 1-bit write per cycle (AXI_DRAIN = AXI_MAX_OUT_BITS = 1)");
  end
  if ((DW & (DW - 1)) != 0 || DW < 64 || DW > 1024) begin : g_dw_check
    $error("bw_axi_kernel: DATA_BITS must be a power of two in 64..1024");
  end

  logic clk, rst;
  assign clk = ap_clk;
  always_ff @(posedge clk) rst <= !ap_rst_n;

  // ---- control --------------------------------------------------------------------------
  logic ap_start, taken, finished, idle;
  logic [NARGS*64-1:0] args;
  logic [5*32-1:0] status;
  bw_axil_ctrl #(.ADDR_BITS(8), .NARGS(NARGS)) ctrl (
    .clk, .rst,
    .awvalid(s_axi_control_AWVALID), .awready(s_axi_control_AWREADY), .awaddr(s_axi_control_AWADDR),
    .wvalid(s_axi_control_WVALID), .wready(s_axi_control_WREADY), .wdata(s_axi_control_WDATA), .wstrb(s_axi_control_WSTRB),
    .bvalid(s_axi_control_BVALID), .bready(s_axi_control_BREADY), .bresp(s_axi_control_BRESP),
    .arvalid(s_axi_control_ARVALID), .arready(s_axi_control_ARREADY), .araddr(s_axi_control_ARADDR),
    .rvalid(s_axi_control_RVALID), .rready(s_axi_control_RREADY), .rdata(s_axi_control_RDATA), .rresp(s_axi_control_RRESP),
    .ap_start, .taken, .finished, .idle, .args, .status, .interrupt
  );
  // slot i of the argument block (its low word for a scalar)
  `define BW_ARG(i) args[(i)*64 +: 64]
  `define BW_ARG32(i) args[(i)*64 +: 32]
  logic [63:0] program_a, weights_a, params_a, arena_a;
  logic [31:0] layers, arena_words, images, weight_words, param_words, in_words, out_off, out_words, chunk;
  logic stage;
  assign program_a = `BW_ARG(bitweave_array::AXI_ARG_PROGRAM);
  assign layers = `BW_ARG32(bitweave_array::AXI_ARG_LAYERS);
  assign weights_a = `BW_ARG(bitweave_array::AXI_ARG_WEIGHTS);
  assign params_a = `BW_ARG(bitweave_array::AXI_ARG_PARAMS);
  assign arena_a = `BW_ARG(bitweave_array::AXI_ARG_ARENA);
  assign arena_words = `BW_ARG32(bitweave_array::AXI_ARG_ARENA_WORDS);
  assign images = `BW_ARG32(bitweave_array::AXI_ARG_IMAGES);
  assign weight_words = `BW_ARG32(bitweave_array::AXI_ARG_WEIGHT_WORDS);
  assign param_words = `BW_ARG32(bitweave_array::AXI_ARG_PARAM_WORDS);
  assign stage = args[(bitweave_array::AXI_ARG_STAGE)*64];
  assign in_words = `BW_ARG32(bitweave_array::AXI_ARG_IN_WORDS);
  assign out_off = `BW_ARG32(bitweave_array::AXI_ARG_OUT_OFF);
  assign out_words = `BW_ARG32(bitweave_array::AXI_ARG_OUT_WORDS);
  assign chunk = `BW_ARG32(bitweave_array::AXI_ARG_CHUNK);
  `undef BW_ARG
  `undef BW_ARG32

  // sizes of this call: 64-bit arena words, beats of each copy. The arguments hold still
  // through a call, so the products are registered (S_ARGS gives them a cycle before the
  // check) and sized to the on-chip arena, which every checked call fits.
  localparam int AWB = $clog2(ARENA_WORDS + 1);
  logic [63:0] batch_words;
  always_ff @(posedge clk) batch_words <= 64'(images) * 64'(arena_words);
  function automatic logic [31:0] beats_of(input logic [63:0] bytes);
    beats_of = 32'((bytes + 64'(BYTES) - 64'd1) >> BB);
  endfunction
  // arena rows: RW words each; an image's arena is whole rows; the copies move whole rows
  localparam int RW = AW / 64;
  localparam int RWB = $clog2(RW);
  logic [31:0] img_rows, in_rows, out_row0, out_rows;
  assign img_rows = arena_words >> RWB;
  assign in_rows = (in_words + 32'(RW - 1)) >> RWB;
  assign out_row0 = out_off >> RWB;
  assign out_rows = ((out_off + out_words + 32'(RW - 1)) >> RWB) - out_row0;
  logic size_ok;
  always_ff @(posedge clk) size_ok <= layers != 0 && images != 0 && arena_words != 0 && (arena_words & 32'(RW - 1)) == 0
                   && in_words <= arena_words && 64'(out_off) + 64'(out_words) <= 64'(arena_words)
                   && 64'(layers) * bitweave_array::DESC_WORDS <= 64'(DESC_DEPTH)
                   && 64'(param_words) <= 64'(PARAM_DEPTH)
                   && 64'(weight_words) <= 64'(WEIGHT_ROWS) * ROWS
                   && batch_words <= 64'(ARENA_WORDS);
  // the batch runs on the array in chunks of cimgs images (the last one may be smaller);
  // per chunk: its images, arena words and rows (set at the check, held for the call)
  logic [31:0] cimgs_c, cimgs, chunk_words, chunk_rows;
  assign cimgs_c = chunk == 0 || chunk >= images ? images : chunk;
  always_ff @(posedge clk) begin
    cimgs <= cimgs_c;
    chunk_words <= 32'(AWB'(cimgs_c) * AWB'(arena_words));
    chunk_rows <= 32'(AWB'(cimgs_c) * AWB'(img_rows));
  end

  // ---- the array ----------------------------------------------------------------------------
  logic a_start, a_busy, a_done;
  logic [31:0] a_err, a_layer, a_batch, a_base;
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
  logic a_writes;   // the arena's write port is the array's this cycle

  // the array's datapath has no reset: its reset is held until the pipelines are flushed
  localparam int FLUSH = 2 * (ROWS + COLS) + 16;
  logic [$clog2(FLUSH + 1)-1:0] flush;
  logic arst;
  always_ff @(posedge clk) begin
    if (rst) flush <= '0;
    else if (32'(flush) != FLUSH) flush <= flush + 1'b1;
    arst <= rst || 32'(flush) != FLUSH;
  end

  // the array runs a chunk: a_batch images from arena word a_base
  bw_top #(.MAX_OUT_BITS(MAX_OUT_BITS), .DRAIN(DRAIN), .WIDE_WEIGHTS(1'b1)) array (
    .clk, .rst(arst), .start(a_start), .n_layers(layers), .batch(a_batch), .arena_words, .arena_base(a_base),
    .busy(a_busy), .done(a_done), .err(a_err), .layer(a_layer),
    .d_en, .d_addr, .d_rdata, .p_en, .p_addr, .p_rdata, .w_en, .w_addr, .w_rdata,
    .a_en, .a_addr, .a_rdata, .o_pen, .o_pbase, .o_pdata, .o_pmask, .o_pbits, .o_pstride,
    .o_ien, .o_ibase, .o_idata, .o_irows
  );

  // ---- DMA ----------------------------------------------------------------------------------
  logic rd0_start, rd1_start, rd2_start, wr_start;
  logic [63:0] rd0_base;
  logic [31:0] rd0_beats;
  logic rd0_busy, rd1_busy, rd2_busy, wr_busy;
  logic s0_valid, s1_valid, s2_valid, s0_err, s1_err, s2_err, w_err, s2_ready;
  logic [DW-1:0] s0_data, s1_data, s2_data;

  bw_axi_rd #(.DW(DW), .OUTSTANDING(OUTSTANDING), .MAX_BURST(MAX_BURST)) rd0 (
    .clk, .rst, .start(rd0_start), .base(rd0_base), .beats_in(rd0_beats), .count_in(32'd1), .stride_in('0), .busy(rd0_busy), .s_ready(1'b1),
    .arvalid(m_axi_gmem0_ARVALID), .arready(m_axi_gmem0_ARREADY), .araddr(m_axi_gmem0_ARADDR), .arlen(m_axi_gmem0_ARLEN),
    .arsize(m_axi_gmem0_ARSIZE), .arburst(m_axi_gmem0_ARBURST), .rvalid(m_axi_gmem0_RVALID), .rready(m_axi_gmem0_RREADY),
    .rdata(m_axi_gmem0_RDATA), .rlast(m_axi_gmem0_RLAST), .rresp(m_axi_gmem0_RRESP),
    .s_valid(s0_valid), .s_data(s0_data), .s_error(s0_err)
  );
  bw_axi_rd #(.DW(DW), .OUTSTANDING(OUTSTANDING), .MAX_BURST(MAX_BURST)) rd1 (
    .clk, .rst, .start(rd1_start), .base(weights_a), .beats_in(beats_of(64'(weight_words) * 8)), .count_in(32'd1), .stride_in('0), .busy(rd1_busy), .s_ready(1'b1),
    .arvalid(m_axi_gmem1_ARVALID), .arready(m_axi_gmem1_ARREADY), .araddr(m_axi_gmem1_ARADDR), .arlen(m_axi_gmem1_ARLEN),
    .arsize(m_axi_gmem1_ARSIZE), .arburst(m_axi_gmem1_ARBURST), .rvalid(m_axi_gmem1_RVALID), .rready(m_axi_gmem1_RREADY),
    .rdata(m_axi_gmem1_RDATA), .rlast(m_axi_gmem1_RLAST), .rresp(m_axi_gmem1_RRESP),
    .s_valid(s1_valid), .s_data(s1_data), .s_error(s1_err)
  );
  // every image's inputs, in one copy: the array starts a chunk once its images are in
  bw_axi_rd #(.DW(DW), .OUTSTANDING(OUTSTANDING), .MAX_BURST(MAX_BURST)) rd2 (
    .clk, .rst, .start(rd2_start), .base(arena_a), .beats_in(in_rows * APB), .count_in(images), .stride_in(64'(arena_words) * 8), .busy(rd2_busy), .s_ready(s2_ready),
    .arvalid(m_axi_gmem2_ARVALID), .arready(m_axi_gmem2_ARREADY), .araddr(m_axi_gmem2_ARADDR), .arlen(m_axi_gmem2_ARLEN),
    .arsize(m_axi_gmem2_ARSIZE), .arburst(m_axi_gmem2_ARBURST), .rvalid(m_axi_gmem2_RVALID), .rready(m_axi_gmem2_RREADY),
    .rdata(m_axi_gmem2_RDATA), .rlast(m_axi_gmem2_RLAST), .rresp(m_axi_gmem2_RRESP),
    .s_valid(s2_valid), .s_data(s2_data), .s_error(s2_err)
  );

  // the write-back of one chunk: each image's output window, whole rows, from the row queue
  logic m_req, m_ready;
  logic [DW-1:0] m_data;
  logic [63:0] wr_base;
  logic [31:0] wr_count;
  bw_axi_wr #(.DW(DW), .MAX_BURST(MAX_BURST)) wr (
    .clk, .rst, .start(wr_start), .base(wr_base), .beats_in(out_rows * APB), .count_in(wr_count),
    .stride_in(64'(arena_words) * 8), .busy(wr_busy), .b_error(w_err), .m_ready, .m_req, .m_data,
    .awvalid(m_axi_gmem2_AWVALID), .awready(m_axi_gmem2_AWREADY), .awaddr(m_axi_gmem2_AWADDR), .awlen(m_axi_gmem2_AWLEN),
    .awsize(m_axi_gmem2_AWSIZE), .awburst(m_axi_gmem2_AWBURST), .wvalid(m_axi_gmem2_WVALID), .wready(m_axi_gmem2_WREADY),
    .wdata(m_axi_gmem2_WDATA), .wstrb(m_axi_gmem2_WSTRB), .wlast(m_axi_gmem2_WLAST),
    .bvalid(m_axi_gmem2_BVALID), .bready(m_axi_gmem2_BREADY), .bresp(m_axi_gmem2_BRESP)
  );
  // gmem0 and gmem1 only read
`define BW_AXI_NO_WRITE(P) \
  assign P``_AWVALID = 1'b0; assign P``_AWADDR = '0; assign P``_AWLEN = '0; assign P``_AWSIZE = 3'(BB); \
  assign P``_AWBURST = 2'b01; assign P``_WVALID = 1'b0; assign P``_WDATA = '0; assign P``_WSTRB = '0; \
  assign P``_WLAST = 1'b0; assign P``_BREADY = 1'b1;
  `BW_AXI_NO_WRITE(m_axi_gmem0)
  `BW_AXI_NO_WRITE(m_axi_gmem1)
`undef BW_AXI_NO_WRITE

  // ---- on-chip memories ------------------------------------------------------------------
  // gmem0's stream goes to the descriptors, then to the parameters
  logic to_desc;
  logic desc_clear, param_clear, weight_clear, arena_clear;
  logic desc_over, param_over, weight_over;
  bw_line_mem #(.DW(DW), .IW(32), .ITEMS(DESC_DEPTH), .NR(1)) desc_mem (
    .clk, .rst, .clear(desc_clear), .b_valid(s0_valid && to_desc), .b_data(s0_data),
    .r_addr(d_addr), .r_data(d_rdata), .overflow(desc_over)
  );
  bw_line_mem #(.DW(DW), .IW(32), .ITEMS(PARAM_DEPTH), .NR(ROWS)) param_mem (
    .clk, .rst, .clear(param_clear), .b_valid(s0_valid && !to_desc), .b_data(s0_data),
    .r_addr(p_addr), .r_data(p_rdata), .overflow(param_over)
  );
  // WIDE_WEIGHTS: every lane presents the same row; lane r takes word r of it
  bw_line_mem #(.DW(DW), .IW(ROWS * 64), .ITEMS(WEIGHT_ROWS), .NR(1)) weight_mem (
    .clk, .rst, .clear(weight_clear), .b_valid(s1_valid), .b_data(s1_data),
    .r_addr(w_addr[31:0]), .r_data(w_rdata), .overflow(weight_over)
  );

  // The arena's one write port serves the array first; the DMA's rows wait in two queues,
  // into the arena (inputs) and out of it (the write-back), and take the cycles the array
  // leaves free, in turn when both have a row.
  localparam int QD = 8;                  // rows per queue
  localparam int QB = $clog2(QD + 1);
  // in: beats gathered into rows (APB beats per row); row r of image n's inputs goes to
  // arena row n * img_rows + r; an entry is {last row of its image, row, data}
  logic [31:0] ar_img, ar_r;
  logic [APB_B-1:0] ar_beat;
  logic [AW-1:0] ar_gather, ar_line;
  logic ar_wen;
  always_comb begin
    ar_line = ar_gather >> DW;
    ar_line[AW-1 -: DW] = s2_data;
    ar_wen = s2_valid && (APB == 1 || 32'(ar_beat) == APB - 1);
  end
  logic [AW+32:0] iq_head;
  logic [QB-1:0] iq_count;
  logic dw_en;
  bw_fifo #(.W(AW + 33), .DEPTH(QD)) in_q (
    .clk, .rst(rst || arena_clear), .push(ar_wen), .din({ar_r + 1 == in_rows, ar_img + ar_r, ar_line}),
    .pop(dw_en), .head(iq_head), .count(iq_count)
  );
  // RREADY while the queue has room for the beats accepted in this cycle and the last
  assign s2_ready = 32'(iq_count) + 3 <= QD;
  always_ff @(posedge clk) begin
    if (rst || arena_clear) begin
      ar_img <= '0;
      ar_r <= '0;
      ar_beat <= '0;
    end else if (s2_valid) begin
      if (APB > 1) begin
        ar_gather <= ar_line;
        ar_beat <= 32'(ar_beat) == APB - 1 ? '0 : ar_beat + 1'b1;
      end
      if (ar_wen) begin
        if (ar_r + 1 == in_rows) begin
          ar_r <= '0;
          ar_img <= ar_img + img_rows;
        end else begin
          ar_r <= ar_r + 1;
        end
      end
    end
  end
  // out: the rows of the chunk being written back, read from the arena's write copy into
  // the queue; the writer takes them beat by beat
  logic [31:0] pf_img, pf_r, pf_left, dr_row;
  logic pf_want, dr_take, pf_pend, turn;
  logic [AW-1:0] dr_data, oq_head;
  logic [QB-1:0] oq_count;
  logic [APB_B-1:0] oq_part;
  logic oq_pop;
  assign dr_row = pf_img + out_row0 + pf_r;
  assign pf_want = pf_left != 0 && 32'(oq_count) + 32'(pf_pend) < QD;
  assign dw_en = iq_count != 0 && !a_writes && (!pf_want || !turn);
  assign dr_take = pf_want && !a_writes && !dw_en;
  bw_fifo #(.W(AW), .DEPTH(QD)) out_q (
    .clk, .rst, .push(pf_pend), .din(dr_data), .pop(oq_pop), .head(oq_head), .count(oq_count)
  );
  assign m_ready = oq_count != 0;
  assign oq_pop = m_req && (APB == 1 || 32'(oq_part) == APB - 1);
  always_ff @(posedge clk) begin
    if (rst) begin
      pf_pend <= 1'b0;
      oq_part <= '0;
      turn <= 1'b0;
    end else begin
      pf_pend <= dr_take;
      if (iq_count != 0 && pf_want && !a_writes) turn <= !turn;
      if (m_req) oq_part <= oq_pop ? '0 : oq_part + 1'b1;
    end
    if (m_req) m_data <= oq_head[32'(oq_part) * DW +: DW];
  end

  bw_arena_mem #(.AW(AW), .WORDS(ARENA_WORDS), .ROWS(ROWS), .COLS(COLS)) arena_mem (
    .clk, .rst,
    .o_pen(o_pen[0]), .o_pbase, .o_pdata, .o_pmask, .o_ien(o_ien[0]), .o_ibase, .o_idata, .o_irows,
    .a_addr, .a_rdata,
    .dw_en, .dw_row(iq_head[AW +: 32]), .dw_data(iq_head[AW-1:0]),
    .dr_row, .dr_data, .a_busy(a_writes)
  );

  // ---- the call -----------------------------------------------------------------------------
  // After the staging (descriptors, then parameters, over gmem0; weights over gmem1) three
  // engines overlap, each a chunk at a time in order: the input copy (one copy of every
  // image's inputs), the array (a chunk once its inputs are in) and the write-back (a chunk
  // once the array has run it).
  typedef enum logic [2:0] {S_IDLE, S_ARGS, S_CHECK, S_LOAD, S_PARAMS, S_RUN, S_DONE} state_t;
  state_t st;
  logic [63:0] cycles;
  logic [31:0] array_cycles, err;
  logic bus_err, bus_err_q, staged, running, a_go;
  logic [31:0] in_img, run_img, done_img, wb_img, run_n, wb_n, wb_row, wb_w;
  logic wb_active, wb_go, wr_start_q;
  assign idle = st == S_IDLE;
  assign taken = st == S_IDLE && ap_start && !arst;
  assign status = {32'(ROWS | (COLS << 8) | (BB << 16) | (bitweave_array::AXI_VERSION << 24)), err, array_cycles, cycles[63:32], cycles[31:0]};
  assign bus_err = s0_err || s1_err || s2_err || w_err || desc_over || param_over || weight_over;
  // staging is over once gmem0 and gmem1 are quiet after S_PARAMS started the parameters
  assign staged = st == S_RUN && !rd0_busy && !rd1_busy && !s0_valid && !s1_valid;
  // the next chunk's images and what they need, registered in two steps after run_img or
  // wb_img moves (a 2-cycle settle before the engine may take the chunk), so no decision
  // waits on a subtract, compare and multiply in one cycle
  logic [31:0] next_n, run_need, wb_next, wb_rows;
  logic [1:0] run_settle, wb_settle;
  always_ff @(posedge clk) begin
    next_n <= images - run_img < cimgs ? images - run_img : cimgs;
    run_need <= run_img + next_n;
    wb_next <= images - wb_img < cimgs ? images - wb_img : cimgs;
    wb_rows <= 32'(AWB'(out_rows) * AWB'(wb_next));
  end
  // the array takes the next chunk when it is idle, the program is staged, the chunk's inputs
  // are in and nothing failed
  assign a_go = staged && !running && !a_start && run_settle == 0 && run_img != images && err == 0 && !bus_err && !bus_err_q
                && (in_rows == 0 || in_img >= run_need);
  // the writer takes the next chunk the array has finished
  assign wb_go = st == S_RUN && !wb_active && wb_settle == 0 && wb_img != done_img;

  always_comb begin
    rd0_start = 1'b0;
    rd0_base = program_a;
    rd0_beats = beats_of(64'(layers) * bitweave_array::DESC_WORDS * 4);
    rd1_start = 1'b0;
    rd2_start = 1'b0;
    desc_clear = 1'b0;
    param_clear = 1'b0;
    weight_clear = 1'b0;
    arena_clear = 1'b0;
    case (st)
      S_CHECK: if (size_ok) begin
        rd0_start = stage;
        desc_clear = stage;
        rd1_start = stage && weight_words != 0;
        weight_clear = stage;
        rd2_start = in_rows != 0;
        arena_clear = 1'b1;
      end
      S_PARAMS: if (!rd0_busy && !s0_valid) begin
        rd0_start = param_words != 0;
        rd0_base = params_a;
        rd0_beats = beats_of(64'(param_words) * 4);
        param_clear = 1'b1;
      end
      default: ;
    endcase
  end

  always_ff @(posedge clk) begin
    finished <= 1'b0;
    a_start <= 1'b0;
    if (rst) begin
      st <= S_IDLE;
      cycles <= '0;
      array_cycles <= '0;
      err <= '0;
      to_desc <= 1'b1;
      running <= 1'b0;
      wb_active <= 1'b0;
      bus_err_q <= 1'b0;
      wr_start <= 1'b0;
    end else begin
      if (st != S_IDLE) cycles <= cycles + 1;
      // the writer starts the cycle after wb_go, on the registered base and count
      wr_start <= wb_go && out_rows != 0;
      wr_start_q <= wr_start;
      if (bus_err) bus_err_q <= 1'b1;
      if (run_settle != 0) run_settle <= run_settle - 1'b1;
      if (wb_settle != 0) wb_settle <= wb_settle - 1'b1;
      // the input copy's progress: images whose every input row is in the arena
      if (dw_en && iq_head[AW + 32]) in_img <= in_img + 1;
      // the array: a chunk at a time, a_base words into the arena
      if (a_go) begin
        a_start <= 1'b1;
        a_batch <= next_n;
        run_n <= next_n;
        run_img <= run_img + next_n;
        run_settle <= 2'd2;
      end
      if (a_start) running <= 1'b1;
      if (running) begin
        array_cycles <= array_cycles + 1;
        if (a_done && !a_busy) begin
          running <= 1'b0;
          a_base <= a_base + chunk_words;
          if (a_err != 0) err <= a_err;
          else begin
            // the chunk's last writes land in the arena within two cycles: the write-back waits
            done_img <= done_img + run_n;
            wb_settle <= 2'd2;
          end
        end
      end
      // the write-back: a chunk at a time; its rows into the out queue, the writer from it
      if (wb_go) begin
        wb_active <= 1'b1;
        wb_n <= wb_next;
        wr_base <= arena_a + (64'(wb_w) + (64'(out_row0) << RWB)) * 8;
        wr_count <= wb_next;
        pf_img <= wb_row;
        pf_r <= '0;
        pf_left <= wb_rows;
      end else if (dr_take) begin
        pf_left <= pf_left - 1;
        if (pf_r + 1 == out_rows) begin
          pf_r <= '0;
          pf_img <= pf_img + img_rows;
        end else begin
          pf_r <= pf_r + 1;
        end
      end
      if (wb_active && !wb_go && !wr_start && !wr_start_q && !wr_busy && pf_left == 0 && oq_count == 0 && !pf_pend) begin
        wb_active <= 1'b0;
        wb_img <= wb_img + wb_n;
        wb_settle <= 2'd2;
        wb_row <= wb_row + chunk_rows;
        wb_w <= wb_w + chunk_words;
      end
      case (st)
        S_IDLE: if (ap_start && !arst) begin
          st <= S_ARGS;
          cycles <= 64'd1;
          array_cycles <= '0;
          err <= '0;
          bus_err_q <= 1'b0;
        end
        S_ARGS: st <= S_CHECK;
        S_CHECK: if (!size_ok) begin
          err <= 32'(bitweave_array::AXI_ERR_SIZE);
          st <= S_DONE;
        end else begin
          to_desc <= 1'b1;
          in_img <= '0;
          run_img <= '0;
          run_settle <= 2'd2;
          done_img <= '0;
          wb_img <= '0;
          wb_settle <= 2'd2;
          wb_row <= '0;
          wb_w <= '0;
          a_base <= '0;
          st <= stage ? S_LOAD : S_RUN;
        end
        // descriptors arrive; then the parameters over the same master
        S_LOAD: if (!rd0_busy && !s0_valid) begin
          to_desc <= 1'b0;
          st <= S_PARAMS;
        end
        S_PARAMS: if (!rd0_busy && !s0_valid) st <= S_RUN;
        // done when every chunk is written back (or, after a failure, once every engine is quiet)
        S_RUN: if (!running && !a_go && !a_start && !wb_active && !wb_go && !rd0_busy && !rd1_busy && !rd2_busy
                   && !s0_valid && !s1_valid && !s2_valid && iq_count == 0
                   && (wb_img == images || err != 0 || bus_err || bus_err_q)) begin
          if ((bus_err || bus_err_q) && err == 0) err <= 32'(bitweave_array::AXI_ERR_BUS);
          st <= S_DONE;
        end
        S_DONE: begin
          finished <= 1'b1;
          st <= S_IDLE;
        end
        default: st <= S_IDLE;
      endcase
    end
  end

  // lane enables are not needed (a RAM read without one is harmless), nor the other weight
  // lanes' addresses (WIDE_WEIGHTS: all equal) or the plane write's stride (1-bit outputs)
  /* verilator lint_off UNUSEDSIGNAL */
  logic unused;
  assign unused = ^{a_en, p_en, w_en, d_en, o_pbits, o_pstride, w_addr, a_layer,
                    m_axi_gmem0_AWREADY, m_axi_gmem0_WREADY, m_axi_gmem0_BVALID, m_axi_gmem0_BRESP,
                    m_axi_gmem1_AWREADY, m_axi_gmem1_WREADY, m_axi_gmem1_BVALID, m_axi_gmem1_BRESP};
  /* verilator lint_on UNUSEDSIGNAL */
endmodule
