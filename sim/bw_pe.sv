// bitweave RTL: one processing element of the output-stationary xnor-popcount array.
// Each cycle it takes one WORD-bit activation word (from above) and one weight word (from
// the left), adds the match count to its accumulator and forwards both operands one PE on.
// XNOR mode: term = popcount(~(a ^ w)); AND mode (bit-plane pass b of a k-bit input):
// term = (2*popcount(a & w) - popcount(a)) << b, with popcount(a) computed once per column
// by the feeder. The control bits travel with the weight word; on the last word of a tile
// the final sum is copied into `res` (the second accumulator buffer), so the drain of one
// tile overlaps the next tile's accumulation. The popcount and the add are pipelined: `res`
// holds a tile's sum two cycles after its last word arrives.
module bw_pe #(
  parameter int WORD = bitweave_array::WORD,   // bits per weight / activation word
  parameter int ACC = bitweave_array::ACC_BITS,    // accumulator bits
  parameter int PCW = $clog2(WORD + 1)      // bits of a word's popcount, $clog2(WORD+1)
) (
  input  logic            clk,
  input  logic            and_mode,
  input  logic [WORD-1:0] a_in,
  input  logic [PCW-1:0]  apc_in,
  input  logic [WORD-1:0] w_in,
  input  logic            en_in,
  input  logic            first_in,
  input  logic            last_in,
  input  logic [2:0]      b_in,
  output logic [WORD-1:0] a_out,
  output logic [PCW-1:0]  apc_out,
  output logic [WORD-1:0] w_out,
  output logic            en_out,
  output logic            first_out,
  output logic            last_out,
  output logic [2:0]      b_out,
  output logic [ACC-1:0]  res
);
  // Two stages: the word's popcount is registered, then added, so a 64-bit popcount and the
  // accumulator's carry chain are separate paths (one cycle of latency, no throughput cost).
  logic [PCW-1:0] pcw, pc_q, apc_q;
  logic en_q, first_q, last_q;
  logic [2:0] b_q;
  logic [ACC-1:0] term, sum, acc;

  assign pcw = PCW'($countones(and_mode ? (a_in & w_in) : ~(a_in ^ w_in)));

  always_comb begin
    // stage 2: the term of the registered popcount (and_mode is constant during a layer)
    if (and_mode) term = (({{(ACC - PCW - 1){1'b0}}, pc_q, 1'b0}) - {{(ACC - PCW){1'b0}}, apc_q}) << b_q;
    else term = {{(ACC - PCW){1'b0}}, pc_q};
    sum = first_q ? term : acc + term;
  end

  always_ff @(posedge clk) begin
    a_out <= a_in;
    apc_out <= apc_in;
    w_out <= w_in;
    en_out <= en_in;
    first_out <= first_in;
    last_out <= last_in;
    b_out <= b_in;
    // stage 1: the popcount (one serves both modes)
    pc_q <= pcw;
    apc_q <= apc_in;
    en_q <= en_in;
    first_q <= first_in;
    last_q <= last_in;
    b_q <= b_in;
    if (en_q) begin
      acc <= sum;
      if (last_q) res <= sum;
    end
  end
endmodule
