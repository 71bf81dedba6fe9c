// bitweave RTL kernel: an on-chip memory the DMA fills with whole beats and the array reads
// item by item. Lines of LW = max(DW, IW) bits: a line gathers LW / DW beats (items wider
// than a beat) or holds LW / IW items (narrower ones). NR read ports, one copy each (the
// PE rows' parameter lanes read different channels); a port presents a registered item
// address and takes the item in the same cycle, like bw_top's lanes.
module bw_line_mem #(
  parameter int DW = 512,     // bits per DMA beat (a power of two)
  parameter int IW = 32,      // bits per item (a power of two)
  parameter int ITEMS = 1024, // items held (a multiple of the items per line)
  parameter int NR = 1        // read ports
) (
  input  logic             clk,
  input  logic             rst,
  input  logic             clear,      // the next beat starts line 0
  input  logic             b_valid,    // a beat of the DMA stream
  input  logic [DW-1:0]    b_data,
  input  logic [NR*32-1:0] r_addr,     // item addresses
  output logic [NR*IW-1:0] r_data,
  output logic             overflow    // a beat went past ITEMS since clear
);
  localparam int LW = DW > IW ? DW : IW;
  localparam int PER = LW / IW;                 // items per line
  localparam int BEATS = LW / DW;               // beats per line
  localparam int LINES = ITEMS / PER;
  localparam int LB = LINES > 1 ? $clog2(LINES) : 1;
  localparam int PB = PER > 1 ? $clog2(PER) : 1;
  localparam int GB = BEATS > 1 ? $clog2(BEATS) : 1;

  if (ITEMS % PER != 0) begin : g_items_check
    $error("bw_line_mem: ITEMS must be a multiple of the items per line");
  end

  logic [31:0] line;
  logic [GB-1:0] beat;
  logic [LW-1:0] gather;
  logic w_en;
  logic [LW-1:0] w_line;
  always_comb begin
    w_line = gather >> DW;                // earlier beats below, this one on top (beat 0 lowest)
    w_line[LW-1 -: DW] = b_data;
    w_en = b_valid && (BEATS == 1 || 32'(beat) == BEATS - 1);
  end
  always_ff @(posedge clk) begin
    if (rst || clear) begin
      line <= '0;
      beat <= '0;
      overflow <= 1'b0;
    end else if (b_valid) begin
      if (BEATS > 1) begin
        gather <= gather >> DW;
        gather[LW-1 -: DW] <= b_data;
        beat <= 32'(beat) == BEATS - 1 ? '0 : beat + 1'b1;
      end
      if (w_en) line <= line + 1;
      if (w_en && line >= LINES) overflow <= 1'b1;
    end
  end

  for (genvar p = 0; p < NR; p++) begin : g_port
    logic [LW-1:0] mem [LINES];
    always_ff @(posedge clk) if (w_en && line < LINES) mem[LB'(line)] <= w_line;
    logic [31:0] a;
    logic [LW-1:0] l;
    assign a = r_addr[p*32 +: 32];
    assign l = mem[LB'(a / PER)];
    if (PER > 1) begin : g_pick
      assign r_data[p*IW +: IW] = l[PB'(a) * IW +: IW];
    end else begin : g_whole
      assign r_data[p*IW +: IW] = l;
    end
  end
endmodule
