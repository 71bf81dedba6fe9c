// bitweave RTL: one processing element of the output-stationary xnor-popcount array.
// Each cycle it takes one WORD-bit activation word (from above) and one weight word (from
// the left), adds the match count to its accumulator and forwards both operands one PE on.
// XNOR mode: term = popcount(~(a ^ w)); AND mode (bit-plane pass b of a k-bit input):
// term = (2*popcount(a & w) - popcount(a)) << b, with popcount(a) computed once per column
// by the feeder. The control bits travel with the weight word; on the last word of a tile
// the final sum is copied into `res` (the second accumulator buffer), so the drain of one
// tile overlaps the next tile's accumulation.
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
  logic [PCW-1:0] pcw;
  logic [ACC-1:0] term, sum, acc;

  always_comb begin
    // one popcount serves both modes
    pcw = PCW'($countones(and_mode ? (a_in & w_in) : ~(a_in ^ w_in)));
    if (and_mode) term = (({{(ACC - PCW - 1){1'b0}}, pcw, 1'b0}) - {{(ACC - PCW){1'b0}}, apc_in}) << b_in;
    else term = {{(ACC - PCW){1'b0}}, pcw};
    sum = first_in ? term : acc + term;
  end

  always_ff @(posedge clk) begin
    a_out <= a_in;
    apc_out <= apc_in;
    w_out <= w_in;
    en_out <= en_in;
    first_out <= first_in;
    last_out <= last_in;
    b_out <= b_in;
    if (en_in) begin
      acc <= sum;
      if (last_in) res <= sum;
    end
  end
endmodule
