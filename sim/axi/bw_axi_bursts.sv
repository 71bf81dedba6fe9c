// bitweave RTL kernel: the AXI4 bursts of one copy, in order. A copy is `count` segments of
// `beats` beats, segment s starting at byte address base + s * stride (every start on a
// beat); each burst is at most MAX_BURST beats, stays inside its segment and never crosses
// a 4 KiB boundary (AXI4). `valid` with `addr` and `len` (beats) presents the next burst and
// holds it until `take`. The outputs are registers: the next burst is worked out in the
// cycle after a take (a one-cycle gap between bursts), so the length's subtract and
// compares end in a register instead of running on into the address channel and beyond.
// The read and write masters walk their address channels with it.
module bw_axi_bursts #(
  parameter int DW = 512,          // data bits per beat (64..1024, a power of two)
  parameter int MAX_BURST = 64     // beats per burst at most (1..256)
) (
  input  logic        clk,
  input  logic        rst,
  input  logic        start,       // pulse: a new copy (the shape is held from here)
  input  logic [63:0] base,
  input  logic [31:0] beats_in,    // beats per segment (>= 1)
  input  logic [31:0] count_in,    // segments
  input  logic [63:0] stride_in,   // bytes from one segment's start to the next
  input  logic        take,        // the presented burst is issued
  output logic        valid,
  output logic [63:0] addr,
  output logic [31:0] len
);
  localparam int BB = $clog2(DW / 8);

  logic [31:0] beats, off, segs;   // per segment; beats of this one issued; segments left
  logic [63:0] stride, seg;
  // the burst at (seg, off)
  logic [63:0] a_c;
  logic [31:0] to_4k, len_c;
  always_comb begin
    a_c = seg + (64'(off) << BB);
    to_4k = (32'h1000 - 32'(a_c[11:0])) >> BB;
    len_c = beats - off;
    if (len_c > 32'(MAX_BURST)) len_c = 32'(MAX_BURST);
    if (len_c > to_4k) len_c = to_4k;
  end

  always_ff @(posedge clk) begin
    if (rst) begin
      segs <= '0;
      valid <= 1'b0;
    end else if (start) begin
      beats <= beats_in;
      stride <= stride_in;
      seg <= base;
      off <= '0;
      segs <= beats_in != 0 ? count_in : '0;
      valid <= 1'b0;
    end else if (valid) begin
      if (take) begin
        valid <= 1'b0;
        if (off + len == beats) begin
          off <= '0;
          seg <= seg + stride;
          segs <= segs - 1;
        end else begin
          off <= off + len;
        end
      end
    end else if (segs != 0) begin
      // present the burst at (seg, off)
      valid <= 1'b1;
      addr <= a_c;
      len <= len_c;
    end
  end
endmodule
