// bitweave RTL kernel: an AXI4 read master that copies `count` segments of `beats` data beats
// each, segment s starting at byte address base + s * stride (every start aligned to a
// beat), into a stream, in order. It keeps up to OUTSTANDING bursts in flight, each at most
// MAX_BURST beats and never across a 4 KiB boundary (AXI4), and always accepts read data
// (RREADY = 1): the stream's consumer takes one beat per cycle.
module bw_axi_rd #(
  parameter int DW = 512,          // data bits per beat (64..1024, a power of two)
  parameter int OUTSTANDING = 8,   // read bursts in flight at most
  parameter int MAX_BURST = 64     // beats per burst at most (1..256)
) (
  input  logic          clk,
  input  logic          rst,
  input  logic          start,     // pulse: copy `count` x `beats` beats from `base`
  input  logic [63:0]   base,
  input  logic [31:0]   beats_in,  // beats per segment (>= 1)
  input  logic [31:0]   count_in,  // segments
  input  logic [63:0]   stride_in, // bytes from one segment's start to the next
  output logic          busy,      // until the last beat has arrived
  // AXI4 read address and data channels
  output logic          arvalid,
  input  logic          arready,
  output logic [63:0]   araddr,
  output logic [7:0]    arlen,
  output logic [2:0]    arsize,
  output logic [1:0]    arburst,
  input  logic          rvalid,
  output logic          rready,
  input  logic [DW-1:0] rdata,
  input  logic          rlast,
  input  logic [1:0]    rresp,
  // the stream
  output logic          s_valid,
  output logic [DW-1:0] s_data,
  output logic          s_error    // a beat came with an error response (SLVERR / DECERR)
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
  localparam int OB = $clog2(OUTSTANDING + 1);

  logic [63:0] seg;          // start of the segment being requested
  logic [31:0] off;          // beats of it requested
  logic [31:0] segs;         // segments not yet fully requested
  logic [63:0] next;
  logic [31:0] left_r;       // beats not yet received
  logic [OB-1:0] inflight;
  logic [31:0] to_4k, len;

  // the next burst: from `next`, within the segment, MAX_BURST, the 4 KiB boundary
  always_comb begin
    next = seg + 64'(off) * 64'(BYTES);
    to_4k = (32'h1000 - 32'(next[11:0])) >> BB;
    len = beats - off;
    if (len > 32'(MAX_BURST)) len = 32'(MAX_BURST);
    if (len > to_4k) len = to_4k;
  end

  assign busy = left_r != 0;
  assign arsize = 3'(BB);
  assign arburst = 2'b01;   // INCR
  assign rready = 1'b1;

  logic ar_fire, r_end;
  assign ar_fire = arvalid && arready;
  assign r_end = rvalid && rlast;

  always_ff @(posedge clk) begin
    if (rst) begin
      arvalid <= 1'b0;
      segs <= '0;
      left_r <= '0;
      inflight <= '0;
      s_valid <= 1'b0;
      s_error <= 1'b0;
    end else begin
      s_valid <= rvalid;
      s_data <= rdata;
      if (rvalid && rresp[1]) s_error <= 1'b1;
      if (rvalid) left_r <= left_r - 1;
      if (start) begin
        seg <= base;
        off <= '0;
        segs <= beats_in != 0 ? count_in : '0;
        left_r <= beats_in * count_in;
        s_error <= 1'b0;
      end else begin
        if (ar_fire) begin
          arvalid <= 1'b0;
          if (off + 32'(arlen) + 1 == beats) begin
            off <= '0;
            seg <= seg + stride;
            segs <= segs - 1;
          end else begin
            off <= off + 32'(arlen) + 1;
          end
        end
        if (!arvalid && !ar_fire && segs != 0 && 32'(inflight) < OUTSTANDING) begin
          arvalid <= 1'b1;
          araddr <= next;
          arlen <= 8'(len - 1);
        end
      end
      inflight <= inflight + OB'(ar_fire) - OB'(r_end);
    end
  end
  /* verilator lint_off UNUSEDSIGNAL */
  logic unused;
  assign unused = rresp[0];
  /* verilator lint_on UNUSEDSIGNAL */
endmodule
