// bitweave RTL: one processing element of the output-stationary xnor-popcount array.
// Each cycle it takes one WORD-bit activation word (from above) and one weight word (from
// the left), adds the word's term to its accumulator and forwards both operands one PE on.
// XNOR mode (1-bit x 1-bit): term = popcount(~(a ^ w)). AND modes, pass (activation plane p,
// weight plane q): term = +-(t << (p + q)), negative when exactly one of p, q is a signed
// top plane (the feeder's sh and neg), with t by the layer's mode (bitweave_array::PE_*):
// AND_SUB_A 2*popcount(a & w) - popcount(a) (+-1 weights), AND_SUB_W 2*popcount(a & w) -
// popcount(w) (+-1 activations), AND popcount(a & w) (both integer): a bipolar operand
// 2*bit - 1 doubles the count and subtracts the other operand's ones. popcount(a) comes
// with the activation word from the column feeder, popcount(w) with the weight word from
// the weight feeder, so the PE counts one word. The control bits travel with the weight
// word; on the last word of a tile the final sum is copied into `res` (the second
// accumulator buffer), so the drain of one tile overlaps the next tile's accumulation. The
// popcount and the add are pipelined: `res` holds a tile's sum two cycles after its last
// word arrives. The accumulator wraps modulo 2^ACC: partial sums of signed passes may leave
// the signed range, a result inside it comes out exact.
module bw_pe #(
  parameter int WORD = bitweave_array::WORD,   // bits per weight / activation word
  parameter int ACC = bitweave_array::ACC_BITS,    // accumulator bits
  parameter int PCW = $clog2(WORD + 1)      // bits of a word's popcount, $clog2(WORD+1)
) (
  input  logic            clk,
  input  logic [1:0]      mode,
  input  logic [WORD-1:0] a_in,
  input  logic [PCW-1:0]  apc_in,
  input  logic [WORD-1:0] w_in,
  input  logic [PCW-1:0]  wpc_in,
  input  logic            en_in,
  input  logic            first_in,
  input  logic            last_in,
  input  logic [3:0]      sh_in,
  input  logic            neg_in,
  output logic [WORD-1:0] a_out,
  output logic [PCW-1:0]  apc_out,
  output logic [WORD-1:0] w_out,
  output logic [PCW-1:0]  wpc_out,
  output logic            en_out,
  output logic            first_out,
  output logic            last_out,
  output logic [3:0]      sh_out,
  output logic            neg_out,
  output logic [ACC-1:0]  res
);
  // Two stages: the word's popcount is registered, then added, so a 64-bit popcount and the
  // accumulator's carry chain are separate paths (one cycle of latency, no throughput cost).
  logic [PCW-1:0] pcw, pc_q, sub_q;
  logic en_q, first_q, last_q, neg_q;
  logic [3:0] sh_q;
  logic [ACC-1:0] t, term, sum, acc;

  localparam logic [1:0] XNOR = 2'(bitweave_array::PE_XNOR);
  localparam logic [1:0] SUB_A = 2'(bitweave_array::PE_AND_SUB_A);
  localparam logic [1:0] SUB_W = 2'(bitweave_array::PE_AND_SUB_W);

  assign pcw = PCW'($countones(mode == XNOR ? ~(a_in ^ w_in) : (a_in & w_in)));

  always_comb begin
    // stage 2: the term of the registered popcount (mode is constant during a layer)
    if (mode == XNOR) t = {{(ACC - PCW){1'b0}}, pc_q};
    else if (mode == SUB_A || mode == SUB_W) t = {{(ACC - PCW - 1){1'b0}}, pc_q, 1'b0} - {{(ACC - PCW){1'b0}}, sub_q};
    else t = {{(ACC - PCW){1'b0}}, pc_q};
    term = t << sh_q;
    // +-term in one adder: acc + (term ^ neg) + neg
    sum = (first_q ? '0 : acc) + (term ^ {ACC{neg_q}}) + ACC'(neg_q);
  end

  always_ff @(posedge clk) begin
    a_out <= a_in;
    apc_out <= apc_in;
    w_out <= w_in;
    wpc_out <= wpc_in;
    en_out <= en_in;
    first_out <= first_in;
    last_out <= last_in;
    sh_out <= sh_in;
    neg_out <= neg_in;
    // stage 1: the popcount (one serves every mode) and the other operand's ones
    pc_q <= pcw;
    sub_q <= mode == SUB_W ? wpc_in : apc_in;
    en_q <= en_in;
    first_q <= first_in;
    last_q <= last_in;
    sh_q <= sh_in;
    neg_q <= neg_in;
    if (en_q) begin
      acc <= sum;
      if (last_q) res <= sum;
    end
  end
endmodule
