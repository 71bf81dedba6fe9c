// bitweave RTL kernel: an AXI4 read master that copies `count` segments of `beats` data beats
// each, segment s starting at byte address base + s * stride (every start aligned to a
// beat), into a stream, in order. Bursts come from bw_axi_bursts; up to OUTSTANDING are in
// flight; the consumer holds read data back with s_ready (RREADY), which it must lower while
// it still has room for the beat accepted in that cycle and the one before.
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
  input  logic          s_ready,   // RREADY: the consumer takes a beat (in s_valid the next cycle)
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
  localparam int OB = $clog2(OUTSTANDING + 1);

  logic b_valid;
  logic [31:0] b_len, left_r;      // the burst's beats; beats of the copy not yet received
  logic [OB-1:0] inflight;
  logic ar_fire, r_fire, r_end;
  assign ar_fire = arvalid && arready;
  assign r_fire = rvalid && rready;
  assign r_end = r_fire && rlast;

  bw_axi_bursts #(.DW(DW), .MAX_BURST(MAX_BURST)) bursts (
    .clk, .rst, .start, .base, .beats_in, .count_in, .stride_in, .take(ar_fire), .valid(b_valid), .addr(araddr), .len(b_len)
  );
  // held until taken: the burst does not move and in-flight bursts only complete meanwhile
  assign arvalid = b_valid && 32'(inflight) < OUTSTANDING;
  assign arlen = 8'(b_len - 1);
  assign arsize = 3'($clog2(DW / 8));
  assign arburst = 2'b01;   // INCR
  assign rready = s_ready;
  assign busy = left_r != 0;

  always_ff @(posedge clk) begin
    if (rst) begin
      left_r <= '0;
      inflight <= '0;
      s_valid <= 1'b0;
      s_error <= 1'b0;
    end else begin
      s_valid <= r_fire;
      s_data <= rdata;
      if (start) begin
        left_r <= beats_in * count_in;
        s_error <= 1'b0;
      end else begin
        if (r_fire) left_r <= left_r - 1;
        if (r_fire && rresp[1]) s_error <= 1'b1;
      end
      inflight <= inflight + OB'(ar_fire) - OB'(r_end);
    end
  end
  /* verilator lint_off UNUSEDSIGNAL */
  logic unused;
  assign unused = rresp[0];
  /* verilator lint_on UNUSEDSIGNAL */
endmodule
