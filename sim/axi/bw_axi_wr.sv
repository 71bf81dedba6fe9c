// bitweave RTL kernel: an AXI4 write master that copies `count` segments of `beats` beats
// each to byte addresses base + s * stride (every start aligned to a beat), fetching the
// beats one per cycle, in order, from an on-chip memory with one cycle of read latency.
// Bursts are at most MAX_BURST beats and never cross a 4 KiB boundary; the address channel
// runs ahead of the data. A small FIFO absorbs WREADY back-pressure.
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
  // the source memory: the next beat requested with m_req, its data one cycle later
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
  localparam int BYTES = DW / 8;
  localparam int BB = $clog2(BYTES);

  // the copy's shape, held from the start (the inputs may change after it)
  logic [31:0] beats;
  logic [63:0] stride;
  always_ff @(posedge clk) if (start) begin
    beats <= beats_in;
    stride <= stride_in;
  end
  localparam int DEPTH = 4;

  // burst length from an address and the segment's beats left (MAX_BURST, 4 KiB)
  function automatic logic [31:0] burst_len(input logic [11:0] a, input logic [31:0] left);
    logic [31:0] to_4k;
    to_4k = (32'h1000 - 32'(a)) >> BB;
    burst_len = left;
    if (burst_len > 32'(MAX_BURST)) burst_len = 32'(MAX_BURST);
    if (burst_len > to_4k) burst_len = to_4k;
  endfunction

  // address channel: segment start, beats of it addressed, segments left
  logic [63:0] a_seg, a_next;
  logic [31:0] a_off, a_segs;
  // data channel: its own walk of the same bursts, to place WLAST
  logic [63:0] w_seg;
  logic [11:0] w_next;   // the current burst's address in its page (4 KiB rule)
  logic [31:0] w_off, w_in_burst, w_total;  // burst's first beat in the segment, beat in the burst, beats sent
  logic [31:0] total, fetched;
  // responses
  logic [31:0] bursts, responses;
  // FIFO of fetched beats
  logic [DW-1:0] fifo [DEPTH];
  logic [1:0] head, tail;
  logic [2:0] count_q;
  logic pend;            // a fetch whose data arrives this cycle

  assign awsize = 3'(BB);
  assign awburst = 2'b01;
  assign bready = 1'b1;
  assign wstrb = '1;
  assign a_next = a_seg + 64'(a_off) * 64'(BYTES);
  assign w_next = 12'(w_seg + 64'(w_off) * 64'(BYTES));
  assign busy = a_segs != 0 || w_total != total || responses != bursts;
  assign m_req = fetched != total && 32'(count_q) + 32'(pend) < DEPTH - 1;
  assign wvalid = count_q != 0;
  assign wdata = fifo[head];

  logic w_fire;
  assign w_fire = wvalid && wready;
  logic [31:0] w_len;
  assign w_len = burst_len(w_next, beats - w_off);
  assign wlast = w_in_burst + 1 == w_len;

  always_ff @(posedge clk) begin
    if (rst) begin
      awvalid <= 1'b0;
      a_segs <= '0;
      total <= '0;
      fetched <= '0;
      w_total <= '0;
      bursts <= '0;
      responses <= '0;
      count_q <= '0;
      head <= '0;
      tail <= '0;
      pend <= 1'b0;
      b_error <= 1'b0;
    end else if (start) begin
      a_seg <= base;
      a_off <= '0;
      a_segs <= beats_in != 0 ? count_in : '0;
      w_seg <= base;
      w_off <= '0;
      w_in_burst <= '0;
      total <= beats_in * count_in;
      fetched <= '0;
      w_total <= '0;
      bursts <= '0;
      responses <= '0;
      count_q <= '0;
      head <= '0;
      tail <= '0;
      pend <= 1'b0;
      b_error <= 1'b0;
    end else begin
      // addresses
      if (awvalid && awready) begin
        awvalid <= 1'b0;
        bursts <= bursts + 1;
        if (a_off + 32'(awlen) + 1 == beats) begin
          a_off <= '0;
          a_seg <= a_seg + stride;
          a_segs <= a_segs - 1;
        end else begin
          a_off <= a_off + 32'(awlen) + 1;
        end
      end else if (!awvalid && a_segs != 0) begin
        awvalid <= 1'b1;
        awaddr <= a_next;
        awlen <= 8'(burst_len(a_next[11:0], beats - a_off) - 1);
      end
      // fetches and the FIFO
      pend <= m_req;
      if (m_req) fetched <= fetched + 1;
      if (pend) begin
        fifo[tail] <= m_data;
        tail <= tail + 1'b1;
      end
      count_q <= count_q + 3'(pend) - 3'(w_fire);
      // data: w_off is the current burst's first beat in its segment, w_in_burst the beat in it
      if (w_fire) begin
        head <= head + 1'b1;
        w_total <= w_total + 1;
        if (wlast) begin
          w_in_burst <= '0;
          if (w_off + w_len == beats) begin
            w_off <= '0;
            w_seg <= w_seg + stride;
          end else begin
            w_off <= w_off + w_len;
          end
        end else begin
          w_in_burst <= w_in_burst + 1;
        end
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
