// Block-RAM patterns for the dev-board SoC (sim/gate, docs/ARCHITECTURE.md "Gate-level
// checks"): a read lane that presents a registered address in its own module, as bw_top's
// lanes do, and a `logic [W-1:0] mem [DEPTH]` array read asynchronously at that address,
// with one write port, joined in ebr_top. After flattening, yosys `memory_dff` may merge
// the lane's address register into the memory's read port, which is then synchronous and
// fits a DP16KD. VARIANT picks the pattern (what maps to EBR is in the docs):
//   0  address register without enable or reset (bw_top's lanes)
//   1  address register with a clock enable (hold the address)
//   2  address register with a synchronous reset
//   3  no address register: the read address comes straight from the inputs
//   4  read data registered instead (`rdata <= mem[raddr]`, the textbook block RAM)
//   5  bit-masked writes (one enable per bit, as the arena's masked bit-plane words)
//   6  byte-masked writes (one enable per 8-bit byte)
//   7  two read lanes on one array
//   8  as 0, with initial contents (a boot ROM / preloaded table: DP16KD INITVAL)
//   9  true dual port: a second port writes wmask at raddr2 when en, both ports read
//      registered data at their own address (waddr, raddr2); not in `make gate-ebr` or the
//      tests: it synthesises for minutes into flip-flops (no block RAM takes two write
//      ports with the RTL's write priority)
module ebr_lane #(
  parameter int AW = 9,
  parameter int MODE = 0  // 0 plain, 1 clock enable, 2 synchronous reset
) (
  input  logic          clk,
  input  logic          rst,
  input  logic          en,
  input  logic [AW-1:0] addr_d,
  output logic [AW-1:0] addr_q
);
  always_ff @(posedge clk) begin
    if (MODE == 2 && rst) addr_q <= '0;
    else if (MODE != 1 || en) addr_q <= addr_d;
  end
endmodule

module ebr_top #(
  parameter int W = 64,
  parameter int DEPTH = 512,
  parameter int VARIANT = 0
) (
  input  logic                     clk,
  input  logic                     rst,
  input  logic                     en,
  input  logic                     we,
  input  logic [$clog2(DEPTH)-1:0] waddr,
  input  logic [W-1:0]             wdata,
  input  logic [W-1:0]             wmask,
  input  logic [$clog2(DEPTH)-1:0] raddr,
  input  logic [$clog2(DEPTH)-1:0] raddr2,
  output logic [W-1:0]             rdata,
  output logic [W-1:0]             rdata2
);
  localparam int AW = $clog2(DEPTH);
  logic [W-1:0] mem [DEPTH];
  if (VARIANT == 8) begin : g_init
    initial for (int i = 0; i < DEPTH; i++) mem[i] = {(W + 15) / 16{16'(i * 40503 + 12345)}};
  end

  // the write port
  always_ff @(posedge clk) begin
    if (VARIANT == 5) begin
      for (int i = 0; i < W; i++) if (we && wmask[i]) mem[waddr][i] <= wdata[i];
    end else if (VARIANT == 6) begin
      for (int i = 0; i < W / 8; i++) if (we && wmask[i]) mem[waddr][8*i +: 8] <= wdata[8*i +: 8];
    end else if (we) begin
      mem[waddr] <= wdata;
    end
    if (VARIANT == 9 && en) mem[raddr2] <= wmask;
  end

  // the read lane(s)
  logic [AW-1:0] a1, a2;
  if (VARIANT == 3) begin : g_comb
    assign rdata = mem[raddr];
    assign a1 = raddr;
  end else if (VARIANT == 9) begin : g_tdp
    always_ff @(posedge clk) begin
      rdata <= mem[waddr];
      rdata2 <= mem[raddr2];
    end
    assign a1 = waddr;
  end else if (VARIANT == 4) begin : g_rdreg
    always_ff @(posedge clk) rdata <= mem[raddr];
    assign a1 = raddr;
  end else begin : g_lane
    ebr_lane #(.AW(AW), .MODE(VARIANT == 1 ? 1 : VARIANT == 2 ? 2 : 0)) lane (.clk, .rst, .en, .addr_d(raddr), .addr_q(a1));
    assign rdata = mem[a1];
  end
  if (VARIANT == 9) begin : g_tdp2
    assign a2 = raddr2;
  end else if (VARIANT == 7) begin : g_two
    ebr_lane #(.AW(AW)) lane2 (.clk, .rst, .en, .addr_d(raddr2), .addr_q(a2));
    assign rdata2 = mem[a2];
  end else begin : g_one
    assign a2 = raddr2;
    assign rdata2 = '0;
  end
  /* verilator lint_off UNUSEDSIGNAL */
  logic unused;
  assign unused = ^{a1, a2, wmask};
  /* verilator lint_on UNUSEDSIGNAL */
endmodule
