// bitweave RTL: the ROWS x COLS grid of PEs with input skew, drain chains and output deskew.
// Inputs arrive unskewed at the edge: row r's weight word and control are delayed r cycles,
// column c's activation word c cycles, so PE(r,c) sees word k of a tile at edge time k+r+c.
// When the tile's last word has passed the end of row r, the row's result buffers load
// into a drain chain that shifts one column per cycle towards column 0; row outputs are
// then delayed by ROWS-1-r cycles so that all rows leave together, one column per cycle.
// The tile period P must be >= COLS (the feeder guarantees it).
module bw_array #(
  parameter int ROWS = 8,
  parameter int COLS = 8,
  parameter int WORD = 64,
  parameter int ACC = 24,
  parameter int PCW = 7
) (
  input  logic                 clk,
  input  logic                 and_mode,
  input  logic [ROWS*WORD-1:0] w_edge,
  input  logic [COLS*WORD-1:0] a_edge,
  input  logic [COLS*PCW-1:0]  apc_edge,
  input  logic                 en,
  input  logic                 first,
  input  logic                 last,
  input  logic [2:0]           b,
  output logic                 out_valid,
  output logic [ROWS*ACC-1:0]  out_v
);
  localparam int CW = WORD + 6; // weight word + en, first, last, b[2:0]

  // horizontal (weight + control) and vertical (activation + popcount) links
  logic [CW-1:0]         hl [ROWS][COLS+1];
  logic [WORD+PCW-1:0]   vl [ROWS+1][COLS];
  logic [ACC-1:0]        res [ROWS][COLS];

  // row skew: row r delayed r cycles
  for (genvar r = 0; r < ROWS; r++) begin : g_rskew
    logic [CW-1:0] edge_in;
    assign edge_in = {w_edge[r*WORD +: WORD], en, first, last, b};
    if (r == 0) begin : g_direct
      assign hl[r][0] = edge_in;
    end else begin : g_delay
      logic [CW-1:0] d [r];
      always_ff @(posedge clk) begin
        d[0] <= edge_in;
        for (int i = 1; i < r; i++) d[i] <= d[i-1];
      end
      assign hl[r][0] = d[r-1];
    end
  end

  // column skew: column c delayed c cycles
  for (genvar c = 0; c < COLS; c++) begin : g_cskew
    logic [WORD+PCW-1:0] edge_in;
    assign edge_in = {a_edge[c*WORD +: WORD], apc_edge[c*PCW +: PCW]};
    if (c == 0) begin : g_direct
      assign vl[0][c] = edge_in;
    end else begin : g_delay
      logic [WORD+PCW-1:0] d [c];
      always_ff @(posedge clk) begin
        d[0] <= edge_in;
        for (int i = 1; i < c; i++) d[i] <= d[i-1];
      end
      assign vl[0][c] = d[c-1];
    end
  end

  for (genvar r = 0; r < ROWS; r++) begin : g_row
    for (genvar c = 0; c < COLS; c++) begin : g_col
      bw_pe #(.WORD(WORD), .ACC(ACC), .PCW(PCW)) pe (
        .clk, .and_mode,
        .a_in(vl[r][c][PCW +: WORD]), .apc_in(vl[r][c][PCW-1:0]),
        .w_in(hl[r][c][6 +: WORD]), .en_in(hl[r][c][5]), .first_in(hl[r][c][4]), .last_in(hl[r][c][3]), .b_in(hl[r][c][2:0]),
        .a_out(vl[r+1][c][PCW +: WORD]), .apc_out(vl[r+1][c][PCW-1:0]),
        .w_out(hl[r][c+1][6 +: WORD]), .en_out(hl[r][c+1][5]), .first_out(hl[r][c+1][4]), .last_out(hl[r][c+1][3]), .b_out(hl[r][c+1][2:0]),
        .res(res[r][c])
      );
    end
  end

  // unused ends of the links: weights leaving the last column, activations the last row
  /* verilator lint_off UNUSEDSIGNAL */
  logic sink;
  always_comb begin
    sink = 1'b0;
    for (int r = 0; r < ROWS; r++) sink = sink ^ (^hl[r][COLS]);
    for (int c = 0; c < COLS; c++) sink = sink ^ (^vl[ROWS][c]);
  end
  /* verilator lint_on UNUSEDSIGNAL */

  // drain chains and deskew
  logic [ROWS-1:0] row_valid;
  for (genvar r = 0; r < ROWS; r++) begin : g_drain
    logic [ACC-1:0] d [COLS];
    logic [COLS-1:0] dv;
    logic load;
    assign load = hl[r][COLS][5] & hl[r][COLS][3]; // en & last leaving the row's end
    always_ff @(posedge clk) begin
      for (int c = 0; c < COLS; c++) begin
        if (load) begin
          d[c] <= res[r][c];
          dv[c] <= 1'b1;
        end else if (c == COLS - 1) begin
          d[c] <= '0;
          dv[c] <= 1'b0;
        end else begin
          d[c] <= d[c+1];
          dv[c] <= dv[c+1];
        end
      end
    end
    localparam int DLY = ROWS - 1 - r;
    if (DLY == 0) begin : g_nodelay
      assign out_v[r*ACC +: ACC] = d[0];
      assign row_valid[r] = dv[0];
    end else begin : g_deskew
      logic [ACC-1:0] q [DLY];
      always_ff @(posedge clk) begin
        q[0] <= d[0];
        for (int i = 1; i < DLY; i++) q[i] <= q[i-1];
      end
      assign out_v[r*ACC +: ACC] = q[DLY-1];
      assign row_valid[r] = 1'b0; // aligned with the last row's valid
      /* verilator lint_off UNUSEDSIGNAL */
      logic unused_dv;
      assign unused_dv = ^dv[0];
      /* verilator lint_on UNUSEDSIGNAL */
    end
  end
  assign out_valid = row_valid[ROWS-1];
  /* verilator lint_off UNUSEDSIGNAL */
  logic unused_rv;
  assign unused_rv = ^row_valid[ROWS-1:0];
  /* verilator lint_on UNUSEDSIGNAL */
endmodule
