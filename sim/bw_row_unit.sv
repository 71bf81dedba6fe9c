// bitweave RTL: the output unit of one PE row (one output channel of the current group).
// Holds the per-channel parameters of the layer (thresholds and flip / pool-min flags) in
// a small RAM indexed by channel group, and processes the row's accumulators in pixel-
// stream order, DRAIN lanes per cycle (all of one channel group, so one parameter read
// serves every lane):
//   S1: x = acc - TAIL (xnor correction); integer pool fold (max, or min where the flag
//       says so) over the entries of one pool window (first..last) on lane 0 (pool
//       layers drain one column per cycle; other layers have 1x1 windows);
//   S2: the finished value is compared with the channel's thresholds: level =
//       #{j < L : (v >= t_j) XOR flip}, its top bit inverted for signed outputs (oflip:
//       n - 2^(k-1) in k-bit two's complement); the int epilogue passes v on.
// Packing the rows' results into output words happens in bw_output_unit.
module bw_row_unit #(
  parameter int ACC = bitweave_array::ACC_BITS,                                  // accumulator bits
  parameter int MAX_OUT_BITS = bitweave_array::RTL_MAX_OUT_BITS,                          // largest k of k-bit outputs
  parameter int PDEPTH = bitweave_array::RTL_PDEPTH,                              // parameter RAM depth (channel groups)
  parameter int PWID = 2 + 32 * ((1 << MAX_OUT_BITS) - 1), // parameter word (bw_pkg::param_bits)
  parameter int GW = $clog2(PDEPTH),                       // bits of a RAM address
  parameter int DRAIN = 1                                  // lanes (columns per cycle)
) (
  input  logic                    clk,
  // parameter RAM write port (layer start)
  input  logic                    pw_en,
  input  logic [GW-1:0]           pw_addr,
  input  logic [PWID-1:0]         pw_data,
  // S0: parameter read for the group of the value entering S1 next cycle
  input  logic [GW-1:0]           pr_addr,
  // S1 (lane l at [l*ACC +: ACC])
  input  logic [DRAIN*ACC-1:0]    v1,
  input  logic                    valid1,     // lane 0 holds a stream entry
  input  logic                    first1,     // lane 0 starts a pool window
  input  logic [ACC-1:0]          tail,
  input  logic [MAX_OUT_BITS:0]   nthr,       // thresholds per channel (L)
  input  logic [MAX_OUT_BITS-1:0] oflip,      // signed outputs: 2^(k-1), else 0
  // S3 results, per lane
  output logic [DRAIN*MAX_OUT_BITS-1:0] level3,
  output logic [DRAIN*32-1:0]     e3
);
  localparam int LMAX = (1 << MAX_OUT_BITS) - 1;

  logic [PWID-1:0] ram [PDEPTH];
  logic [PWID-1:0] prm1, prm2;
  logic [ACC-1:0] cur, x1, fold1;
  logic [ACC-1:0] e2 [DRAIN];

  always_ff @(posedge clk) begin
    if (pw_en) ram[pw_addr] <= pw_data;
    prm1 <= ram[pr_addr];
  end

  always_comb begin
    x1 = v1[ACC-1:0] - tail;
    if (first1) fold1 = x1;
    else if (prm1[PWID-1]) fold1 = ($signed(x1) < $signed(cur)) ? x1 : cur;   // FLAG_POOL_MIN
    else fold1 = ($signed(x1) > $signed(cur)) ? x1 : cur;
  end

  always_ff @(posedge clk) begin
    if (valid1) cur <= fold1;
    e2[0] <= fold1;
    for (int l = 1; l < DRAIN; l++) e2[l] <= v1[l*ACC +: ACC] - tail;
    prm2 <= prm1;
  end

  // S2: thresholds
  for (genvar l = 0; l < DRAIN; l++) begin : g_lane
    logic [32:0] ev;
    logic [MAX_OUT_BITS:0] cnt;
    always_comb begin
      ev = {{(33 - ACC){e2[l][ACC-1]}}, e2[l]};
      cnt = '0;
      for (int j = 0; j < LMAX; j++) begin
        if (j < 32'(nthr)) begin
          // prm2[PWID-2] is FLAG_FLIP
          if (($signed(ev) >= $signed({prm2[32*j+31], prm2[32*j +: 32]})) != prm2[PWID-2]) cnt = cnt + 1'b1;
        end
      end
    end

    always_ff @(posedge clk) begin
      level3[l*MAX_OUT_BITS +: MAX_OUT_BITS] <= cnt[MAX_OUT_BITS-1:0] ^ oflip;
      e3[l*32 +: 32] <= ev[31:0];
    end

    /* verilator lint_off UNUSEDSIGNAL */
    logic unused;
    assign unused = cnt[MAX_OUT_BITS];
    /* verilator lint_on UNUSEDSIGNAL */
  end
endmodule
