// Behavioural simulation model of the Lattice ECP5 DP16KD block RAM (EBR), written for the
// gate-level checks of sim/gate from the documented behaviour of the primitive (Lattice
// ECP5 memory usage guide, FPGA-TN-02204). Yosys 0.23 ships DP16KD only as a parameter-only
// black box; its `memory_libmap` maps both of its ECP5 block RAM kinds onto this one cell
// ($__ECP5_DP16KD_ true dual port, $__ECP5_PDPW16KD_ as DP16KD with DATA_WIDTH 36).
//
// Modelled:
//  - 1024 rows of 18 bits. Port widths 1, 2, 4, 9 and 18 address a row with AD[13:4]; x9
//    takes half AD[3] (bits 8:0 or 17:9), x4 / x2 / x1 take a nibble, pair or bit of the 16
//    data bits of the row (bits 0-7 and 9-16, little-endian; the 9th bits only exist in
//    x9 / x18 / x36). Width 36 (pseudo dual port) addresses rows {AD[13:5], 0} (bits 17:0)
//    and {AD[13:5], 1} (bits 35:18); port A then only writes, with data {DIB, DIA}, and
//    port B only reads, onto {DOB, DOA}.
//  - Byte enables on AD[1:0] (x18) and AD[3:0] (x36), one per 9-bit byte.
//  - A port acts on the rising edge of its clock (CLKxMUX "INV": falling) when CEx is 1
//    and CSx[2:0] equals CSDECODE_x; it writes when WEx is also 1. Its output latch then
//    takes the addressed word, or on a write: NORMAL keeps the latch, WRITETHROUGH shows
//    the new contents of the word, READBEFOREWRITE the old ones.
//  - RSTx clears the output latch: at the clock edge (RESETMODE "SYNC", ahead of CEx) or
//    while high (RESETMODE "ASYNC"). The memory is never reset.
//  - INITVAL_00..3F: 16 rows each, row r in bits 20*(r%16) +: 18 of INITVAL_(r/16).
//  - Collisions (undefined in the hardware, and yosys does not assume any value): a port
//    reading a bit the other port writes in the same cycle (both clocks high on the edge)
//    gets the inverse of the written bit, so that a netlist relying on either the old or
//    the new value shows up as a mismatch in a gate-level check.
// Not modelled (elaboration error if used; yosys 0.23 never sets them): REGMODE "OUTREG",
// inversions other than the clocks (the xxxMUX parameters), the GSR pulse.
module DP16KD (
  input  DIA17, DIA16, DIA15, DIA14, DIA13, DIA12, DIA11, DIA10, DIA9, DIA8, DIA7, DIA6, DIA5, DIA4, DIA3, DIA2, DIA1, DIA0,
  input  ADA13, ADA12, ADA11, ADA10, ADA9, ADA8, ADA7, ADA6, ADA5, ADA4, ADA3, ADA2, ADA1, ADA0,
  input  CEA, OCEA, CLKA, WEA, RSTA,
  input  CSA2, CSA1, CSA0,
  output DOA17, DOA16, DOA15, DOA14, DOA13, DOA12, DOA11, DOA10, DOA9, DOA8, DOA7, DOA6, DOA5, DOA4, DOA3, DOA2, DOA1, DOA0,
  input  DIB17, DIB16, DIB15, DIB14, DIB13, DIB12, DIB11, DIB10, DIB9, DIB8, DIB7, DIB6, DIB5, DIB4, DIB3, DIB2, DIB1, DIB0,
  input  ADB13, ADB12, ADB11, ADB10, ADB9, ADB8, ADB7, ADB6, ADB5, ADB4, ADB3, ADB2, ADB1, ADB0,
  input  CEB, OCEB, CLKB, WEB, RSTB,
  input  CSB2, CSB1, CSB0,
  output DOB17, DOB16, DOB15, DOB14, DOB13, DOB12, DOB11, DOB10, DOB9, DOB8, DOB7, DOB6, DOB5, DOB4, DOB3, DOB2, DOB1, DOB0

);
  parameter DATA_WIDTH_A = 18;
  parameter DATA_WIDTH_B = 18;
  parameter REGMODE_A = "NOREG";
  parameter REGMODE_B = "NOREG";
  parameter RESETMODE = "SYNC";
  parameter ASYNC_RESET_RELEASE = "SYNC";
  parameter CSDECODE_A = "0b000";
  parameter CSDECODE_B = "0b000";
  parameter WRITEMODE_A = "NORMAL";
  parameter WRITEMODE_B = "NORMAL";
  parameter WID = 0;
  parameter GSR = "ENABLED";
  parameter INIT_DATA = "STATIC";
  parameter DIA17MUX = "DIA17", DIA16MUX = "DIA16", DIA15MUX = "DIA15", DIA14MUX = "DIA14", DIA13MUX = "DIA13", DIA12MUX = "DIA12";
  parameter DIA11MUX = "DIA11", DIA10MUX = "DIA10", DIA9MUX = "DIA9", DIA8MUX = "DIA8", DIA7MUX = "DIA7", DIA6MUX = "DIA6";
  parameter DIA5MUX = "DIA5", DIA4MUX = "DIA4", DIA3MUX = "DIA3", DIA2MUX = "DIA2", DIA1MUX = "DIA1", DIA0MUX = "DIA0";
  parameter ADA13MUX = "ADA13", ADA12MUX = "ADA12", ADA11MUX = "ADA11", ADA10MUX = "ADA10", ADA9MUX = "ADA9", ADA8MUX = "ADA8";
  parameter ADA7MUX = "ADA7", ADA6MUX = "ADA6", ADA5MUX = "ADA5", ADA4MUX = "ADA4", ADA3MUX = "ADA3", ADA2MUX = "ADA2";
  parameter ADA1MUX = "ADA1", ADA0MUX = "ADA0", CEAMUX = "CEA", OCEAMUX = "OCEA", CLKAMUX = "CLKA", WEAMUX = "WEA";
  parameter RSTAMUX = "RSTA", CSA2MUX = "CSA2", CSA1MUX = "CSA1", CSA0MUX = "CSA0", DOA17MUX = "DOA17", DOA16MUX = "DOA16";
  parameter DOA15MUX = "DOA15", DOA14MUX = "DOA14", DOA13MUX = "DOA13", DOA12MUX = "DOA12", DOA11MUX = "DOA11", DOA10MUX = "DOA10";
  parameter DOA9MUX = "DOA9", DOA8MUX = "DOA8", DOA7MUX = "DOA7", DOA6MUX = "DOA6", DOA5MUX = "DOA5", DOA4MUX = "DOA4";
  parameter DOA3MUX = "DOA3", DOA2MUX = "DOA2", DOA1MUX = "DOA1", DOA0MUX = "DOA0";
  parameter DIB17MUX = "DIB17", DIB16MUX = "DIB16", DIB15MUX = "DIB15", DIB14MUX = "DIB14", DIB13MUX = "DIB13", DIB12MUX = "DIB12";
  parameter DIB11MUX = "DIB11", DIB10MUX = "DIB10", DIB9MUX = "DIB9", DIB8MUX = "DIB8", DIB7MUX = "DIB7", DIB6MUX = "DIB6";
  parameter DIB5MUX = "DIB5", DIB4MUX = "DIB4", DIB3MUX = "DIB3", DIB2MUX = "DIB2", DIB1MUX = "DIB1", DIB0MUX = "DIB0";
  parameter ADB13MUX = "ADB13", ADB12MUX = "ADB12", ADB11MUX = "ADB11", ADB10MUX = "ADB10", ADB9MUX = "ADB9", ADB8MUX = "ADB8";
  parameter ADB7MUX = "ADB7", ADB6MUX = "ADB6", ADB5MUX = "ADB5", ADB4MUX = "ADB4", ADB3MUX = "ADB3", ADB2MUX = "ADB2";
  parameter ADB1MUX = "ADB1", ADB0MUX = "ADB0", CEBMUX = "CEB", OCEBMUX = "OCEB", CLKBMUX = "CLKB", WEBMUX = "WEB";
  parameter RSTBMUX = "RSTB", CSB2MUX = "CSB2", CSB1MUX = "CSB1", CSB0MUX = "CSB0", DOB17MUX = "DOB17", DOB16MUX = "DOB16";
  parameter DOB15MUX = "DOB15", DOB14MUX = "DOB14", DOB13MUX = "DOB13", DOB12MUX = "DOB12", DOB11MUX = "DOB11", DOB10MUX = "DOB10";
  parameter DOB9MUX = "DOB9", DOB8MUX = "DOB8", DOB7MUX = "DOB7", DOB6MUX = "DOB6", DOB5MUX = "DOB5", DOB4MUX = "DOB4";
  parameter DOB3MUX = "DOB3", DOB2MUX = "DOB2", DOB1MUX = "DOB1", DOB0MUX = "DOB0";

  parameter [319:0] INITVAL_00 = 320'h0;
  parameter [319:0] INITVAL_01 = 320'h0;
  parameter [319:0] INITVAL_02 = 320'h0;
  parameter [319:0] INITVAL_03 = 320'h0;
  parameter [319:0] INITVAL_04 = 320'h0;
  parameter [319:0] INITVAL_05 = 320'h0;
  parameter [319:0] INITVAL_06 = 320'h0;
  parameter [319:0] INITVAL_07 = 320'h0;
  parameter [319:0] INITVAL_08 = 320'h0;
  parameter [319:0] INITVAL_09 = 320'h0;
  parameter [319:0] INITVAL_0A = 320'h0;
  parameter [319:0] INITVAL_0B = 320'h0;
  parameter [319:0] INITVAL_0C = 320'h0;
  parameter [319:0] INITVAL_0D = 320'h0;
  parameter [319:0] INITVAL_0E = 320'h0;
  parameter [319:0] INITVAL_0F = 320'h0;
  parameter [319:0] INITVAL_10 = 320'h0;
  parameter [319:0] INITVAL_11 = 320'h0;
  parameter [319:0] INITVAL_12 = 320'h0;
  parameter [319:0] INITVAL_13 = 320'h0;
  parameter [319:0] INITVAL_14 = 320'h0;
  parameter [319:0] INITVAL_15 = 320'h0;
  parameter [319:0] INITVAL_16 = 320'h0;
  parameter [319:0] INITVAL_17 = 320'h0;
  parameter [319:0] INITVAL_18 = 320'h0;
  parameter [319:0] INITVAL_19 = 320'h0;
  parameter [319:0] INITVAL_1A = 320'h0;
  parameter [319:0] INITVAL_1B = 320'h0;
  parameter [319:0] INITVAL_1C = 320'h0;
  parameter [319:0] INITVAL_1D = 320'h0;
  parameter [319:0] INITVAL_1E = 320'h0;
  parameter [319:0] INITVAL_1F = 320'h0;
  parameter [319:0] INITVAL_20 = 320'h0;
  parameter [319:0] INITVAL_21 = 320'h0;
  parameter [319:0] INITVAL_22 = 320'h0;
  parameter [319:0] INITVAL_23 = 320'h0;
  parameter [319:0] INITVAL_24 = 320'h0;
  parameter [319:0] INITVAL_25 = 320'h0;
  parameter [319:0] INITVAL_26 = 320'h0;
  parameter [319:0] INITVAL_27 = 320'h0;
  parameter [319:0] INITVAL_28 = 320'h0;
  parameter [319:0] INITVAL_29 = 320'h0;
  parameter [319:0] INITVAL_2A = 320'h0;
  parameter [319:0] INITVAL_2B = 320'h0;
  parameter [319:0] INITVAL_2C = 320'h0;
  parameter [319:0] INITVAL_2D = 320'h0;
  parameter [319:0] INITVAL_2E = 320'h0;
  parameter [319:0] INITVAL_2F = 320'h0;
  parameter [319:0] INITVAL_30 = 320'h0;
  parameter [319:0] INITVAL_31 = 320'h0;
  parameter [319:0] INITVAL_32 = 320'h0;
  parameter [319:0] INITVAL_33 = 320'h0;
  parameter [319:0] INITVAL_34 = 320'h0;
  parameter [319:0] INITVAL_35 = 320'h0;
  parameter [319:0] INITVAL_36 = 320'h0;
  parameter [319:0] INITVAL_37 = 320'h0;
  parameter [319:0] INITVAL_38 = 320'h0;
  parameter [319:0] INITVAL_39 = 320'h0;
  parameter [319:0] INITVAL_3A = 320'h0;
  parameter [319:0] INITVAL_3B = 320'h0;
  parameter [319:0] INITVAL_3C = 320'h0;
  parameter [319:0] INITVAL_3D = 320'h0;
  parameter [319:0] INITVAL_3E = 320'h0;
  parameter [319:0] INITVAL_3F = 320'h0;


  localparam integer WA = DATA_WIDTH_A;
  localparam integer WB = DATA_WIDTH_B;

  if (REGMODE_A != "NOREG" || REGMODE_B != "NOREG") begin : g_outreg
    $error("DP16KD model: REGMODE OUTREG is not modelled");
  end
  if ((WA != 1 && WA != 2 && WA != 4 && WA != 9 && WA != 18 && WA != 36) || (WB != 1 && WB != 2 && WB != 4 && WB != 9 && WB != 18 && WB != 36)) begin : g_width
    $error("DP16KD model: data widths must be 1, 2, 4, 9, 18 or 36");
  end
  if ((WA == 36) != (WB == 36)) begin : g_pdp
    $error("DP16KD model: width 36 is the pseudo dual-port mode (both ports 36)");
  end
  if (WEAMUX != "WEA" || WEBMUX != "WEB" || CEAMUX != "CEA" || CEBMUX != "CEB" || RSTAMUX != "RSTA" || RSTBMUX != "RSTB") begin : g_mux
    $error("DP16KD model: control inversions are not modelled");
  end

  // "0bXYZ" -> 3'bXYZ
  function [2:0] csdec(input [39:0] s);
    csdec = {s[16], s[8], s[0]};
  endfunction

  reg [17:0] doa;
  reg [35:0] dob36;
  wire [17:0] dob = dob36[17:0];
  wire [17:0] doa_pin = WB == 36 ? dob36[17:0] : doa;
  wire [17:0] dob_pin = WB == 36 ? dob36[35:18] : dob36[17:0];
  wire [17:0] dia = {DIA17, DIA16, DIA15, DIA14, DIA13, DIA12, DIA11, DIA10, DIA9, DIA8, DIA7, DIA6, DIA5, DIA4, DIA3, DIA2, DIA1, DIA0};
  wire [17:0] dib = {DIB17, DIB16, DIB15, DIB14, DIB13, DIB12, DIB11, DIB10, DIB9, DIB8, DIB7, DIB6, DIB5, DIB4, DIB3, DIB2, DIB1, DIB0};
  wire [13:0] ada = {ADA13, ADA12, ADA11, ADA10, ADA9, ADA8, ADA7, ADA6, ADA5, ADA4, ADA3, ADA2, ADA1, ADA0};
  wire [13:0] adb = {ADB13, ADB12, ADB11, ADB10, ADB9, ADB8, ADB7, ADB6, ADB5, ADB4, ADB3, ADB2, ADB1, ADB0};
  assign {DOA17, DOA16, DOA15, DOA14, DOA13, DOA12, DOA11, DOA10, DOA9, DOA8, DOA7, DOA6, DOA5, DOA4, DOA3, DOA2, DOA1, DOA0} = doa_pin;
  assign {DOB17, DOB16, DOB15, DOB14, DOB13, DOB12, DOB11, DOB10, DOB9, DOB8, DOB7, DOB6, DOB5, DOB4, DOB3, DOB2, DOB1, DOB0} = dob_pin;

  wire clka = CLKAMUX == "INV" ? ~CLKA : CLKA;
  wire clkb = CLKBMUX == "INV" ? ~CLKB : CLKB;
  wire ena = CEA && {CSA2, CSA1, CSA0} == csdec(CSDECODE_A);
  wire enb = CEB && {CSB2, CSB1, CSB0} == csdec(CSDECODE_B);
  wire wra = ena && WEA;
  wire wrb = enb && WEB && WB != 36;
  wire [35:0] wda = WA == 36 ? {dib, dia} : {18'b0, dia};
  wire [35:0] wdb = {18'b0, dib};

  // the memory, one bit per entry (row * 18 + bit) so that both ports can write bits of one row
  reg ram [0:18431];

  // geometry: element k of a width-w access at address ad
  function integer row_of(input integer w, input [13:0] ad, input integer k);
    row_of = w == 36 ? {22'b0, ad[13:5], 1'b0} + k / 18 : {22'b0, ad[13:4]};
  endfunction
  function integer bit_of(input integer w, input [13:0] ad, input integer k);
    integer d;
    begin
      d = 0;
      case (w)
        36: bit_of = k % 18;
        18: bit_of = k;
        9: bit_of = (ad[3] ? 9 : 0) + k;
        default: begin
          if (w == 4) d = ad[3:2] * 4 + k;
          else if (w == 2) d = ad[3:1] * 2 + k;
          else d = {28'b0, ad[3:0]};
          bit_of = d < 8 ? d : d + 1;
        end
      endcase
    end
  endfunction
  function be_of(input integer w, input [13:0] ad, input integer k);
    be_of = (w == 36 || w == 18) ? ad[k / 9] : 1'b1;
  endfunction
  // bits a write touches in its first row (bits 17:0) and the next one (35:18)
  function [35:0] wmask(input integer w, input [13:0] ad);
    integer k;
    begin
      wmask = 0;
      for (k = 0; k < 36; k = k + 1)
        if (k < w && be_of(w, ad, k)) wmask[(row_of(w, ad, k) - row_of(w, ad, 0)) * 18 + bit_of(w, ad, k)] = 1'b1;
    end
  endfunction
  // the word a width-w access reads at ad; bits the other port writes in this cycle
  // (rows orow, orow + 1 under omask, data odat at the same bit positions) read inverted
  function [35:0] rd(input integer w, input [13:0] ad, input ocoll, input integer orow, input [35:0] omask, input [35:0] odat);
    integer k, r, b, o;
    begin
      rd = 0;
      for (k = 0; k < 36; k = k + 1)
        if (k < w) begin
          r = row_of(w, ad, k);
          b = bit_of(w, ad, k);
          o = (r - orow) * 18 + b;
          rd[k] = ram[r * 18 + b];
          if (ocoll && r >= orow && r <= orow + 1 && omask[o]) rd[k] = ~odat[o];
        end
    end
  endfunction
  // the data a write puts at bit positions of its rows (for the collision check)
  function [35:0] wpos(input integer w, input [13:0] ad, input [35:0] d);
    integer k;
    begin
      wpos = 0;
      for (k = 0; k < 36; k = k + 1)
        if (k < w) wpos[(row_of(w, ad, k) - row_of(w, ad, 0)) * 18 + bit_of(w, ad, k)] = d[k];
    end
  endfunction
  // the addressed word after a write of d under the byte enables (WRITETHROUGH)
  function [35:0] merged(input integer w, input [13:0] ad, input [35:0] d);
    integer k;
    begin
      merged = 0;
      for (k = 0; k < 36; k = k + 1)
        if (k < w) merged[k] = be_of(w, ad, k) ? d[k] : ram[row_of(w, ad, k) * 18 + bit_of(w, ad, k)];
    end
  endfunction

  wire [35:0] wma = wmask(WA, ada), wmb = wmask(WB, adb);
  wire [35:0] wpa = wpos(WA, ada, wda), wpb = wpos(WB, adb, wdb);
  wire [31:0] rowa = row_of(WA, ada, 0), rowb = row_of(WB, adb, 0);

  integer wi, wk, n, m;
  initial begin
    doa = 0;
    dob36 = 0;
    for (n = 0; n < 1024; n = n + 1)
      for (m = 0; m < 18; m = m + 1) ram[n * 18 + m] = init_row(n >> 4, n & 15, m);
  end
  function init_row(input integer blk, input integer r, input integer k);
    reg [319:0] v;
    begin
      case (blk[5:0])
        6'h00: v = INITVAL_00;
        6'h01: v = INITVAL_01;
        6'h02: v = INITVAL_02;
        6'h03: v = INITVAL_03;
        6'h04: v = INITVAL_04;
        6'h05: v = INITVAL_05;
        6'h06: v = INITVAL_06;
        6'h07: v = INITVAL_07;
        6'h08: v = INITVAL_08;
        6'h09: v = INITVAL_09;
        6'h0A: v = INITVAL_0A;
        6'h0B: v = INITVAL_0B;
        6'h0C: v = INITVAL_0C;
        6'h0D: v = INITVAL_0D;
        6'h0E: v = INITVAL_0E;
        6'h0F: v = INITVAL_0F;
        6'h10: v = INITVAL_10;
        6'h11: v = INITVAL_11;
        6'h12: v = INITVAL_12;
        6'h13: v = INITVAL_13;
        6'h14: v = INITVAL_14;
        6'h15: v = INITVAL_15;
        6'h16: v = INITVAL_16;
        6'h17: v = INITVAL_17;
        6'h18: v = INITVAL_18;
        6'h19: v = INITVAL_19;
        6'h1A: v = INITVAL_1A;
        6'h1B: v = INITVAL_1B;
        6'h1C: v = INITVAL_1C;
        6'h1D: v = INITVAL_1D;
        6'h1E: v = INITVAL_1E;
        6'h1F: v = INITVAL_1F;
        6'h20: v = INITVAL_20;
        6'h21: v = INITVAL_21;
        6'h22: v = INITVAL_22;
        6'h23: v = INITVAL_23;
        6'h24: v = INITVAL_24;
        6'h25: v = INITVAL_25;
        6'h26: v = INITVAL_26;
        6'h27: v = INITVAL_27;
        6'h28: v = INITVAL_28;
        6'h29: v = INITVAL_29;
        6'h2A: v = INITVAL_2A;
        6'h2B: v = INITVAL_2B;
        6'h2C: v = INITVAL_2C;
        6'h2D: v = INITVAL_2D;
        6'h2E: v = INITVAL_2E;
        6'h2F: v = INITVAL_2F;
        6'h30: v = INITVAL_30;
        6'h31: v = INITVAL_31;
        6'h32: v = INITVAL_32;
        6'h33: v = INITVAL_33;
        6'h34: v = INITVAL_34;
        6'h35: v = INITVAL_35;
        6'h36: v = INITVAL_36;
        6'h37: v = INITVAL_37;
        6'h38: v = INITVAL_38;
        6'h39: v = INITVAL_39;
        6'h3A: v = INITVAL_3A;
        6'h3B: v = INITVAL_3B;
        6'h3C: v = INITVAL_3C;
        6'h3D: v = INITVAL_3D;
        6'h3E: v = INITVAL_3E;
        6'h3F: v = INITVAL_3F;

        default: v = 0;
      endcase
      init_row = v[r * 20 + k];
    end
  endfunction

  // the output latches: port A reads at widths up to 18, port B up to 36
  reg [35:0] nxa, nxb;
  always @* begin
    nxa = {18'b0, doa};
    if (ena && WA != 36) begin
      if (!wra || WRITEMODE_A == "READBEFOREWRITE") nxa = rd(WA, ada, wrb && clkb, rowb, wmb, wpb);
      else if (WRITEMODE_A == "WRITETHROUGH") nxa = merged(WA, ada, wda);
    end
    nxb = dob36;
    if (enb) begin
      if (!wrb || WRITEMODE_B == "READBEFOREWRITE") nxb = rd(WB, adb, wra && clka, rowa, wma, wpa);
      else if (WRITEMODE_B == "WRITETHROUGH") nxb = merged(WB, adb, wdb);
    end
  end
  generate
    if (RESETMODE == "ASYNC") begin : g_async
      always @(posedge clka or posedge RSTA) doa <= RSTA ? 18'b0 : nxa[17:0];
      always @(posedge clkb or posedge RSTB) dob36 <= RSTB ? 36'b0 : nxb;
    end else begin : g_sync
      always @(posedge clka) doa <= RSTA ? 18'b0 : nxa[17:0];
      always @(posedge clkb) dob36 <= RSTB ? 36'b0 : nxb;
    end
  endgenerate

  // the writes
  always @(posedge clka)
    if (wra)
      for (wi = 0; wi < 36; wi = wi + 1)
        if (wi < WA && be_of(WA, ada, wi)) ram[row_of(WA, ada, wi) * 18 + bit_of(WA, ada, wi)] <= wda[wi];
  always @(posedge clkb)
    if (wrb)
      for (wk = 0; wk < 36; wk = wk + 1)
        if (wk < WB && be_of(WB, adb, wk)) ram[row_of(WB, adb, wk) * 18 + bit_of(WB, adb, wk)] <= wdb[wk];
endmodule
