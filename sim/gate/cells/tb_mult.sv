// Products that yosys maps onto MULT18X18D (synth_ecp5 without -nodsp): unsigned, signed and
// mixed operands up to 18 x 18 bits, and a wider one split over several blocks. The gate-level
// test checks the netlist (with sim/gate/cells/MULT18X18D.v) against this RTL.
module tb_mult (
  input  logic        clk,
  input  logic [17:0] a,
  input  logic [17:0] b,
  input  logic [23:0] c,
  input  logic [23:0] d,
  output logic [35:0] pu,
  output logic [35:0] ps,
  output logic [35:0] pm,
  output logic [47:0] pw
);
  assign pu = a * b;
  assign ps = $signed(a) * $signed(b);
  assign pm = $signed(a) * $signed({1'b0, b});
  always_ff @(posedge clk) pw <= c * d;
endmodule
