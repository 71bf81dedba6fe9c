// bitweave RTL: the PE array (pe_array.cl / hls/pe_array.h): the ROWS x COLS grid of PEs
// with input skew, drain chains and output deskew.
// Inputs arrive unskewed at the edge: row r's weight word, its popcount and the control are
// delayed r cycles, column c's activation word and its popcount c cycles, so PE(r,c) sees word k of a tile at edge time k+r+c.
// When the tile's last word has passed the end of row r, the row's results load into a
// drain chain that shifts towards column 0 by DRAIN columns per cycle (by one when
// `drain1`, for pool windows that the row units fold in stream order); row outputs are then
// delayed by ROWS-1-r cycles so that all rows leave together, DRAIN columns per cycle
// (lane d = column col+d). The tile period P must be >= COLS/DRAIN (>= COLS when drain1).
// With DRAIN > 1 a tile can finish before the previous one has reached the row's end, so
// PE(r,c)'s result is first delayed COLS-1-c cycles (column deskew); with DRAIN = 1 the
// PE's result register holds it long enough (P >= COLS).
module bw_pe_array #(
  parameter int ROWS = bitweave_array::ROWS,    // PE rows (output channels of a tile)
  parameter int COLS = bitweave_array::COLS,    // PE columns (pixel-stream entries of a tile)
  parameter int WORD = bitweave_array::WORD,   // bits per weight / activation word
  parameter int ACC = bitweave_array::ACC_BITS,    // accumulator bits
  parameter int PCW = $clog2(WORD + 1),     // bits of a word's popcount, $clog2(WORD+1)
  parameter int DRAIN = 1    // columns leaving per cycle; divides COLS
) (
  input  logic                 clk,
  input  logic [1:0]           mode,        // bitweave_array::PE_* of the layer
  input  logic [ROWS*WORD-1:0] w_edge,
  input  logic [ROWS*PCW-1:0]  wpc_edge,
  input  logic [COLS*WORD-1:0] a_edge,
  input  logic [COLS*PCW-1:0]  apc_edge,
  input  logic                 en,
  input  logic                 first,
  input  logic                 last,
  input  logic [3:0]           sh,          // the pass's shift p + q
  input  logic                 neg,         // the pass's sign
  input  logic                 drain1,      // drain one column per cycle (pool layers)
  output logic                 out_valid,
  output logic [DRAIN*ROWS*ACC-1:0] out_v   // lane d, row r at (d*ROWS + r)*ACC
);
  if (DRAIN < 1 || COLS % DRAIN != 0) begin : g_drain_check
    $error("bw_pe_array: DRAIN must divide COLS");
  end
  localparam int CW = WORD + PCW + 8; // weight word, its popcount, en, first, last, neg, sh[3:0]

  // horizontal (weight + control) and vertical (activation + popcount) links
  logic [CW-1:0]         hl [ROWS][COLS+1];
  logic [WORD+PCW-1:0]   vl [ROWS+1][COLS];
  logic [ACC-1:0]        res [ROWS][COLS];

  // row skew: row r delayed r cycles
  for (genvar r = 0; r < ROWS; r++) begin : g_rskew
    logic [CW-1:0] edge_in;
    assign edge_in = {w_edge[r*WORD +: WORD], wpc_edge[r*PCW +: PCW], en, first, last, neg, sh};
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
        .clk, .mode,
        .a_in(vl[r][c][PCW +: WORD]), .apc_in(vl[r][c][PCW-1:0]),
        .w_in(hl[r][c][PCW+8 +: WORD]), .wpc_in(hl[r][c][8 +: PCW]), .en_in(hl[r][c][7]), .first_in(hl[r][c][6]), .last_in(hl[r][c][5]),
        .neg_in(hl[r][c][4]), .sh_in(hl[r][c][3:0]),
        .a_out(vl[r+1][c][PCW +: WORD]), .apc_out(vl[r+1][c][PCW-1:0]),
        .w_out(hl[r][c+1][PCW+8 +: WORD]), .wpc_out(hl[r][c+1][8 +: PCW]), .en_out(hl[r][c+1][7]), .first_out(hl[r][c+1][6]), .last_out(hl[r][c+1][5]),
        .neg_out(hl[r][c+1][4]), .sh_out(hl[r][c+1][3:0]),
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

  // column deskew (DRAIN > 1): every column of a row reaches its drain chain together
  logic [ACC-1:0] held [ROWS][COLS];
  for (genvar r = 0; r < ROWS; r++) begin : g_held
    for (genvar c = 0; c < COLS; c++) begin : g_col
      localparam int CD = DRAIN > 1 ? COLS - 1 - c : 0;
      if (CD == 0) begin : g_direct
        assign held[r][c] = res[r][c];
      end else begin : g_delay
        logic [ACC-1:0] q [CD];
        always_ff @(posedge clk) begin
          q[0] <= res[r][c];
          for (int i = 1; i < CD; i++) q[i] <= q[i-1];
        end
        assign held[r][c] = q[CD-1];
      end
    end
  end

  // drain chains and row deskew
  logic [ROWS-1:0] row_valid;
  for (genvar r = 0; r < ROWS; r++) begin : g_drain
    logic [ACC-1:0] d [COLS];
    logic [COLS-1:0] dv;
    logic at_end, load;
    assign at_end = hl[r][COLS][7] & hl[r][COLS][5]; // en & last leaving the row's end
    // the PEs' sums are ready one cycle after that (their popcount stage)
    always_ff @(posedge clk) load <= at_end;
    always_ff @(posedge clk) begin
      for (int c = 0; c < COLS; c++) begin
        if (load) begin
          d[c] <= held[r][c];
          dv[c] <= 1'b1;
        end else if (drain1 || DRAIN == 1) begin
          d[c] <= c + 1 < COLS ? d[(c + 1) % COLS] : '0;
          dv[c] <= c + 1 < COLS ? dv[(c + 1) % COLS] : 1'b0;
        end else begin
          d[c] <= c + DRAIN < COLS ? d[(c + DRAIN) % COLS] : '0;
          dv[c] <= c + DRAIN < COLS ? dv[(c + DRAIN) % COLS] : 1'b0;
        end
      end
    end
    logic [DRAIN*ACC-1:0] lanes;
    for (genvar l = 0; l < DRAIN; l++) begin : g_lane
      assign lanes[l*ACC +: ACC] = d[l];
    end
    localparam int DLY = ROWS - 1 - r;
    logic [DRAIN*ACC-1:0] outl;
    if (DLY == 0) begin : g_nodelay
      assign outl = lanes;
      assign row_valid[r] = dv[0];
    end else begin : g_deskew
      logic [DRAIN*ACC-1:0] q [DLY];
      always_ff @(posedge clk) begin
        q[0] <= lanes;
        for (int i = 1; i < DLY; i++) q[i] <= q[i-1];
      end
      assign outl = q[DLY-1];
      assign row_valid[r] = 1'b0; // aligned with the last row's valid
      /* verilator lint_off UNUSEDSIGNAL */
      logic unused_dv;
      assign unused_dv = ^dv[0];
      /* verilator lint_on UNUSEDSIGNAL */
    end
    for (genvar l = 0; l < DRAIN; l++) begin : g_out
      assign out_v[(l*ROWS + r)*ACC +: ACC] = outl[l*ACC +: ACC];
    end
  end
  assign out_valid = row_valid[ROWS-1];
  /* verilator lint_off UNUSEDSIGNAL */
  logic unused_rv;
  assign unused_rv = ^row_valid[ROWS-1:0];
  /* verilator lint_on UNUSEDSIGNAL */
endmodule
