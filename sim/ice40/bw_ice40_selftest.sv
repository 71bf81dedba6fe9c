// bitweave on the iCEBreaker (iCE40 UP5K): the PE array (bw_pe_array) at the size of the
// generated package (ROWS x COLS, 2x2 for `make bitstream BOARD=icebreaker`) driven by a
// self-test stream: 64-bit LFSRs supply weight and activation words for tiles of K = 16
// words (period P = 16 >= COLS), and every drained accumulator is folded into a signature
// register. The green LED blinks with the signature's top bit, the red LED shows that
// results keep coming. The full top (sequencer, feeder, output units) is larger than the
// UP5K; `make synth` reports its size.
module bw_ice40_selftest (
  input  logic clk,      // 12 MHz oscillator
  input  logic btn_n,    // user button: hold to reset
  output logic led_r_n,
  output logic led_g_n
);
  localparam int ROWS = bitweave_array::ROWS;
  localparam int COLS = bitweave_array::COLS;
  localparam int WORD = bitweave_array::WORD;
  localparam int ACC = bitweave_array::ACC_BITS;
  localparam int PCW = $clog2(WORD + 1);
  localparam int K = 16;

  logic rst;
  logic [3:0] por = 4'd0;  // power-on reset counter (FPGA registers start at 0)
  always_ff @(posedge clk) begin
    if (!por[3]) por <= por + 1'b1;
    rst <= !por[3] || !btn_n;
  end

  // one xorshift LFSR per row and column
  function automatic logic [63:0] next(input logic [63:0] x);
    logic [63:0] y;
    y = x ^ (x << 13);
    y = y ^ (y >> 7);
    next = y ^ (y << 17);
  endfunction

  logic [ROWS*WORD-1:0] w_edge;
  logic [COLS*WORD-1:0] a_edge;
  logic [COLS*PCW-1:0] apc_edge;
  logic [4:0] step;
  logic en, first, last;
  always_ff @(posedge clk) begin
    if (rst) begin
      for (int r = 0; r < ROWS; r++) w_edge[r*WORD +: WORD] <= 64'h9e3779b97f4a7c15 ^ (64'(r) + 64'd1);
      for (int c = 0; c < COLS; c++) a_edge[c*WORD +: WORD] <= 64'hbf58476d1ce4e5b9 ^ (64'(c) + 64'd1);
      step <= '0;
      en <= 1'b0;
    end else begin
      for (int r = 0; r < ROWS; r++) w_edge[r*WORD +: WORD] <= next(w_edge[r*WORD +: WORD]);
      for (int c = 0; c < COLS; c++) a_edge[c*WORD +: WORD] <= next(a_edge[c*WORD +: WORD]);
      step <= step == 5'(K - 1) ? '0 : step + 1'b1;
      en <= 1'b1;
    end
    first <= step == 0;
    last <= step == 5'(K - 1);
  end
  always_comb for (int c = 0; c < COLS; c++) apc_edge[c*PCW +: PCW] = PCW'($countones(a_edge[c*WORD +: WORD]));

  logic out_valid;
  logic [ROWS*ACC-1:0] out_v;
  bw_pe_array #(.ROWS(ROWS), .COLS(COLS), .WORD(WORD), .ACC(ACC), .PCW(PCW)) array (
    .clk, .mode(2'(bitweave_array::PE_XNOR)), .w_edge, .wpc_edge('0), .a_edge, .apc_edge, .en, .first, .last, .sh(4'd0), .neg(1'b0),
    .drain1(1'b1), .out_valid, .out_v
  );

  logic [31:0] sig;
  logic [23:0] seen;
  always_ff @(posedge clk) begin
    if (rst) begin
      sig <= '0;
      seen <= '0;
    end else if (out_valid) begin
      sig <= {sig[30:0], sig[31]} ^ 32'(^out_v) ^ 32'(out_v[ACC-1:0]);
      seen <= seen + 1'b1;
    end
  end
  assign led_g_n = !sig[31];
  assign led_r_n = !seen[23];
endmodule
