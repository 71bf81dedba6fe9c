// bitweave RTL kernel: an AXI4 write master that copies `beats` beats, fetched one per
// cycle from an on-chip memory with one cycle of read latency, to byte address `base`
// (aligned to a beat). Bursts are at most MAX_BURST beats and never cross a 4 KiB boundary;
// the address channel runs ahead of the data. The last beat is written under `last_strb`
// (the copy may end inside a beat). A small FIFO absorbs WREADY back-pressure.
module bw_axi_wr #(
  parameter int DW = 512,          // data bits per beat (64..1024, a power of two)
  parameter int MAX_BURST = 64     // beats per burst at most (1..256)
) (
  input  logic            clk,
  input  logic            rst,
  input  logic            start,
  input  logic [63:0]     base,
  input  logic [31:0]     beats,
  input  logic [DW/8-1:0] last_strb,
  output logic            busy,       // until every write response has arrived
  output logic            b_error,    // a write response was SLVERR / DECERR
  // the source memory: beat m_idx requested with m_req, its data one cycle later
  output logic            m_req,
  output logic [31:0]     m_idx,
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
  localparam int DEPTH = 4;

  // burst length from an address and the beats left (MAX_BURST, the 4 KiB boundary)
  function automatic logic [31:0] burst_len(input logic [11:0] a, input logic [31:0] left);
    logic [31:0] to_4k;
    to_4k = (32'h1000 - 32'(a)) >> BB;
    burst_len = left;
    if (burst_len > 32'(MAX_BURST)) burst_len = 32'(MAX_BURST);
    if (burst_len > to_4k) burst_len = to_4k;
  endfunction

  // address channel
  logic [63:0] a_next;
  logic [31:0] a_left;
  // data channel: its own burst walk, to place WLAST
  logic [63:0] w_next;
  logic [31:0] w_left, w_in_burst, w_sent;
  // responses
  logic [31:0] bursts, responses;
  logic issuing;
  // FIFO of fetched beats
  logic [DW-1:0] fifo [DEPTH];
  logic [1:0] head, tail;
  logic [2:0] count;
  logic pend;            // a fetch whose data arrives this cycle
  logic [31:0] fetched;

  assign awsize = 3'(BB);
  assign awburst = 2'b01;
  assign bready = 1'b1;
  assign busy = issuing || a_left != 0 || w_sent != 0 || responses != bursts;
  assign m_idx = fetched;
  assign m_req = issuing && fetched != beats && 32'(count) + 32'(pend) < DEPTH - 1;
  assign wvalid = count != 0;
  assign wdata = fifo[head];

  logic w_fire;
  assign w_fire = wvalid && wready;

  always_comb begin
    wlast = w_in_burst + 1 == burst_len(w_next[11:0], w_left);
    wstrb = w_sent + 1 == beats ? last_strb : '1;
  end

  always_ff @(posedge clk) begin
    if (rst) begin
      awvalid <= 1'b0;
      a_left <= '0;
      w_sent <= '0;
      bursts <= '0;
      responses <= '0;
      issuing <= 1'b0;
      count <= '0;
      head <= '0;
      tail <= '0;
      pend <= 1'b0;
      fetched <= '0;
      b_error <= 1'b0;
    end else if (start) begin
      a_next <= base;
      a_left <= beats;
      w_next <= base;
      w_left <= beats;
      w_in_burst <= '0;
      w_sent <= '0;
      bursts <= '0;
      responses <= '0;
      issuing <= beats != 0;
      count <= '0;
      head <= '0;
      tail <= '0;
      pend <= 1'b0;
      fetched <= '0;
      b_error <= 1'b0;
    end else begin
      // addresses
      if (awvalid && awready) begin
        awvalid <= 1'b0;
        a_next <= a_next + (64'(awlen) + 64'd1) * 64'(BYTES);
        a_left <= a_left - (32'(awlen) + 1);
        bursts <= bursts + 1;
      end else if (!awvalid && a_left != 0) begin
        awvalid <= 1'b1;
        awaddr <= a_next;
        awlen <= 8'(burst_len(a_next[11:0], a_left) - 1);
      end
      // fetches and the FIFO
      pend <= m_req;
      if (m_req) fetched <= fetched + 1;
      if (pend) begin
        fifo[tail] <= m_data;
        tail <= tail + 1'b1;
      end
      count <= count + 3'(pend) - 3'(w_fire);
      if (w_fire) begin
        head <= head + 1'b1;
        if (wlast) begin
          w_next <= w_next + (64'(w_in_burst) + 64'd1) * 64'(BYTES);
          w_left <= w_left - (w_in_burst + 1);
          w_in_burst <= '0;
        end else begin
          w_in_burst <= w_in_burst + 1;
        end
        if (w_sent + 1 == beats) begin
          w_sent <= '0;
          issuing <= 1'b0;
        end else begin
          w_sent <= w_sent + 1;
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
