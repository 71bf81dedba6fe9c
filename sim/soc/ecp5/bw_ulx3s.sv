// bitweave on the ULX3S (Lattice ECP5 LFE5U-85F): the board top around the dev-board SoC
// bw_soc. Pins: boards/ulx3s/ulx3s.lpf; built by `make bitstream BOARD=ulx3s`
// (host/build/open-flow.ts), which computes the PLL dividers for the target clock and sets
// them as this module's parameters.
//
// Clock: an EHXPLLL makes the SoC clock from the 25 MHz oscillator, fed back from CLKOP:
//   f_pfd = f_osc / CLKI_DIV           (3.125 .. 400 MHz)
//   f_out = f_pfd * CLKFB_DIV          (the SoC clock, CLKOP; 10 .. 400 MHz)
//   f_vco = f_out * CLKOP_DIV          (400 .. 800 MHz)
// with CLKI_DIV in 1..128, CLKFB_DIV in 1..80, CLKOP_DIV in 1..128. The flow takes the
// dividers whose f_out is nearest the target, then the f_vco nearest 600 MHz (the search of
// Project Trellis' ecppll); CLKOP_CPHASE = CLKOP_DIV / 2 (rounded down) as ecppll sets it.
// The defaults are the flow's choice for 50 MHz. bw_soc gets CLK_HZ = f_out in Hz.
//
// Reset: bw_soc's rst is active high and synchronous to clk. It is held while the PLL is
// not locked (asserted at once when lock is lost) or FIRE1 is pressed, and released
// RST_CYCLES clock cycles after lock with the button up. FIRE1 (R1) is high when pressed;
// BTN0 is not used (it is the power button and may reload the FPGA through PROGRAMN).
module bw_ulx3s #(
  parameter int OSC_HZ = 25_000_000,  // the board's oscillator
  parameter int CLKI_DIV = 1,         // reference divider
  parameter int CLKFB_DIV = 2,        // feedback divider (the multiplier, CLKOP fed back)
  parameter int CLKOP_DIV = 12,       // VCO -> CLKOP divider
  parameter int CLKOP_CPHASE = 6,     // CLKOP coarse phase, in VCO cycles
  parameter int BAUD = 1_000_000,     // the UART link (boards/ulx3s.json link.baud)
  parameter int RST_CYCLES = 16       // reset held this many cycles after lock and button release
) (
  input  logic clk_25mhz,   // G2: 25 MHz oscillator
  input  logic btn_fire1,   // R1: FIRE1, 1 = pressed; resets the SoC
  input  logic ftdi_txd,    // M1: FT231X TXD -> FPGA (the SoC's uart_rx)
  output logic ftdi_rxd,    // L4: FPGA -> FT231X RXD (the SoC's uart_tx)
  output logic [7:0] led    // B2 C2 C1 D2 D1 E2 E1 H3, 1 = lit
);
  // f_out in Hz: OSC_HZ * CLKFB_DIV stays below 2^31 for a 25 MHz oscillator (CLKFB_DIV <= 80)
  localparam int CLK_HZ = OSC_HZ / CLKI_DIV * CLKFB_DIV + (OSC_HZ % CLKI_DIV) * CLKFB_DIV / CLKI_DIV;
  localparam int VCO_KHZ = CLK_HZ / 1000 * CLKOP_DIV;

  if (CLKI_DIV < 1 || CLKI_DIV > 128 || CLKFB_DIV < 1 || CLKFB_DIV > 80 || CLKOP_DIV < 1 || CLKOP_DIV > 128) begin : g_div_check
    $error("bw_ulx3s: PLL divider out of range (CLKI_DIV 1..128, CLKFB_DIV 1..80, CLKOP_DIV 1..128)");
  end
  if (VCO_KHZ < 400_000 || VCO_KHZ > 800_000) begin : g_vco_check
    $error("bw_ulx3s: PLL VCO outside 400..800 MHz");
  end

  logic clk, locked;
  /* verilator lint_off PINCONNECTEMPTY */  // the PLL's other outputs are unused
  (* ICP_CURRENT = "12", LPF_RESISTOR = "8", MFG_ENABLE_FILTEROPAMP = "1", MFG_GMCREF_SEL = "2" *)
  EHXPLLL #(
    .PLLRST_ENA("DISABLED"),
    .INTFB_WAKE("DISABLED"),
    .STDBY_ENABLE("DISABLED"),
    .DPHASE_SOURCE("DISABLED"),
    .OUTDIVIDER_MUXA("DIVA"),
    .OUTDIVIDER_MUXB("DIVB"),
    .OUTDIVIDER_MUXC("DIVC"),
    .OUTDIVIDER_MUXD("DIVD"),
    .CLKI_DIV(CLKI_DIV),
    .CLKFB_DIV(CLKFB_DIV),
    .CLKOP_ENABLE("ENABLED"),
    .CLKOP_DIV(CLKOP_DIV),
    .CLKOP_CPHASE(CLKOP_CPHASE),
    .CLKOP_FPHASE(0),
    .FEEDBK_PATH("CLKOP")
  ) pll (
    .CLKI(clk_25mhz),
    .CLKFB(clk),
    .RST(1'b0),
    .STDBY(1'b0),
    .PHASESEL0(1'b0),
    .PHASESEL1(1'b0),
    .PHASEDIR(1'b0),
    .PHASESTEP(1'b0),
    .PHASELOADREG(1'b0),
    .PLLWAKESYNC(1'b0),
    .ENCLKOP(1'b0),
    .ENCLKOS(1'b0),
    .ENCLKOS2(1'b0),
    .ENCLKOS3(1'b0),
    .CLKOP(clk),
    .CLKOS(),
    .CLKOS2(),
    .CLKOS3(),
    .LOCK(locked),
    .INTLOCK(),
    .REFCLK(),
    .CLKINTFB()
  );
  /* verilator lint_on PINCONNECTEMPTY */

  // the button through two flip-flops (it is asynchronous to clk)
  logic [1:0] btn_s;
  always_ff @(posedge clk) btn_s <= {btn_s[0], btn_fire1};

  // reset: set at once while the PLL is unlocked, counted down once it is locked and the
  // button is up; registers power up at 0, and lock is low until the PLL runs
  localparam int RW = $clog2(RST_CYCLES + 1);
  logic [RW-1:0] hold;
  logic rst;
  always_ff @(posedge clk or negedge locked) begin
    if (!locked) begin
      hold <= RW'(RST_CYCLES);
      rst <= 1'b1;
    end else if (btn_s[1]) begin
      hold <= RW'(RST_CYCLES);
      rst <= 1'b1;
    end else if (hold != 0) begin
      hold <= hold - 1'b1;
      rst <= 1'b1;
    end else begin
      rst <= 1'b0;
    end
  end

  // on-chip memories in EBR: 144 KiB of weights (BMXNet's MNIST model and fashion-cnn need
  // 137.5 KiB), a 16 KiB arena per PE column plus the write copy, 8 KiB of parameters per row
  localparam int WEIGHT_KIB = 144;
  bw_soc #(.CLK_HZ(CLK_HZ), .BAUD(BAUD), .WEIGHT_ROWS(WEIGHT_KIB * 1024 / (bitweave_array::ROWS * 8)), .ARENA_WORDS(2048),
           .PARAM_DEPTH(2048), .DESC_DEPTH(512)) soc (
    .clk,
    .rst,
    .uart_rx(ftdi_txd),
    .uart_tx(ftdi_rxd),
    .led
  );
endmodule
