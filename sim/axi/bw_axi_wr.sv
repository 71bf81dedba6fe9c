// bitweave RTL kernel: an AXI4 write master that copies `count` segments of `beats` beats
// each to byte addresses base + s * stride (every start aligned to a beat), fetching the
// beats one per cycle, in order, from a source with one cycle of read latency. Bursts come
// from bw_axi_bursts on the address channel; each issued burst's length goes into a small
// queue that the data channel follows to place WLAST (so the data never runs ahead of its
// address). A small FIFO absorbs WREADY back-pressure.
module bw_axi_wr #(
  parameter int DW = 512,          // data bits per beat (64..1024, a power of two)
  parameter int MAX_BURST = 64     // beats per burst at most (1..256)
) (
  input  logic            clk,
  input  logic            rst,
  input  logic            start,
  input  logic [63:0]     base,
  input  logic [31:0]     beats_in,   // beats per segment (>= 1)
  input  logic [31:0]     count_in,   // segments
  input  logic [63:0]     stride_in,  // bytes from one segment's start to the next
  output logic            busy,       // until every write response has arrived
  output logic            b_error,    // a write response was SLVERR / DECERR
  // the source: the next beat requested with m_req (only while m_ready), its data one cycle later
  input  logic            m_ready,
  output logic            m_req,
  input  logic [DW-1:0]   m_data,
  // AXI4 write channels
  output logic            awvalid,
  input  logic            awready,
  output logic [63:0]     awaddr,
  output logic [7:0]      awlen,
  output logic [2:0]      awsize,
  output logic [1:0]      awburst,
  output logic            wvalid,
  input  logic            wready,
  output logic [DW-1:0]   wdata,
  output logic [DW/8-1:0] wstrb,
  output logic            wlast,
  input  logic            bvalid,
  output logic            bready,
  input  logic [1:0]      bresp
);
  localparam int DEPTH = 4;
  localparam int LQ = 8;           // issued bursts whose data has not all left

  logic [31:0] total, fetched, sent, in_burst, aw_len;
  logic [31:0] bursts, responses;
  logic [DW-1:0] fifo [DEPTH];
  logic [1:0] head, tail;
  logic [2:0] held;
  logic pend;            // a fetch whose data arrives this cycle
  logic b_valid;
  logic [7:0] lq_head;
  logic [$clog2(LQ+1)-1:0] lq_count;

  logic aw_fire, w_fire;
  assign aw_fire = awvalid && awready;
  assign w_fire = wvalid && wready;

  bw_axi_bursts #(.DW(DW), .MAX_BURST(MAX_BURST)) aw_bursts (
    .clk, .rst, .start, .base, .beats_in, .count_in, .stride_in, .take(aw_fire), .valid(b_valid), .addr(awaddr), .len(aw_len)
  );
  // AWLEN of the bursts issued, in order; the data channel's bursts follow it
  assign awvalid = b_valid && 32'(lq_count) < LQ;
  bw_fifo #(.W(8), .DEPTH(LQ)) len_q (
    .clk, .rst(rst || start), .push(aw_fire), .din(awlen), .pop(w_fire && wlast), .head(lq_head), .count(lq_count)
  );

  assign awlen = 8'(aw_len - 1);
  assign awsize = 3'($clog2(DW / 8));
  assign awburst = 2'b01;
  assign bready = 1'b1;
  assign wstrb = '1;
  assign busy = b_valid || sent != total || responses != bursts;
  assign m_req = m_ready && fetched != total && 32'(held) + 32'(pend) < DEPTH - 1;
  assign wvalid = held != 0 && lq_count != 0;
  assign wdata = fifo[head];
  assign wlast = in_burst[7:0] == lq_head;

  always_ff @(posedge clk) begin
    if (rst || start) begin
      total <= rst ? '0 : beats_in * count_in;
      fetched <= '0;
      sent <= '0;
      in_burst <= '0;
      bursts <= '0;
      responses <= '0;
      held <= '0;
      head <= '0;
      tail <= '0;
      pend <= 1'b0;
      b_error <= 1'b0;
    end else begin
      if (aw_fire) bursts <= bursts + 1;
      pend <= m_req;
      if (m_req) fetched <= fetched + 1;
      if (pend) begin
        fifo[tail] <= m_data;
        tail <= tail + 1'b1;
      end
      held <= held + 3'(pend) - 3'(w_fire);
      if (w_fire) begin
        head <= head + 1'b1;
        sent <= sent + 1;
        in_burst <= wlast ? '0 : in_burst + 1;
      end
      if (bvalid) begin
        responses <= responses + 1;
        if (bresp[1]) b_error <= 1'b1;
      end
    end
  end
  /* verilator lint_off UNUSEDSIGNAL */
  logic unused;
  assign unused = bresp[0];
  /* verilator lint_on UNUSEDSIGNAL */
endmodule
