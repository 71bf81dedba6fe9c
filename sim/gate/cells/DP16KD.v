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
//    the new value shows up as a mismatch in a gate-level check. Both ports writing bits of
//    one row at one edge both land (a bit both write takes either value).
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

  reg [17:0] ram [0:1023];

  // the 16 data bits of a row (x1 / x2 / x4 view) and back
  function [17:0] spread(input [15:0] d);
    spread = {1'b0, d[15:8], 1'b0, d[7:0]};
  endfunction
  function [15:0] gather(input [17:0] r);
    gather = {r[16:9], r[7:0]};
  endfunction
  // the bits of its row a width-w (<= 18) access at ad covers; a write's under its byte enables
  function [17:0] amask(input integer w, input [13:0] ad, input wr);
    case (w)
      18: amask = wr ? {{9{ad[1]}}, {9{ad[0]}}} : 18'h3ffff;
      9: amask = ad[3] ? 18'h3fe00 : 18'h001ff;
      4: amask = spread(16'h000f << {ad[3:2], 2'b0});
      2: amask = spread(16'h0003 << {ad[3:1], 1'b0});
      default: amask = spread(16'h0001 << ad[3:0]);
    endcase
  endfunction
  // a word's data at its bits of the row, and back
  function [17:0] place(input integer w, input [13:0] ad, input [17:0] d);
    case (w)
      18: place = d;
      9: place = ad[3] ? {d[8:0], 9'b0} : {9'b0, d[8:0]};
      4: place = spread({12'b0, d[3:0]} << {ad[3:2], 2'b0});
      2: place = spread({14'b0, d[1:0]} << {ad[3:1], 1'b0});
      default: place = spread({15'b0, d[0]} << ad[3:0]);
    endcase
  endfunction
  function [17:0] extract(input integer w, input [13:0] ad, input [17:0] r);
    case (w)
      18: extract = r;
      9: extract = {9'b0, ad[3] ? r[17:9] : r[8:0]};
      4: extract = {2'b0, gather(r) >> {ad[3:2], 2'b0}} & 18'h0000f;
      2: extract = {2'b0, gather(r) >> {ad[3:1], 1'b0}} & 18'h00003;
      default: extract = {2'b0, gather(r) >> ad[3:0]} & 18'h00001;
    endcase
  endfunction

  // the rows each port addresses (x36: two), and what its write puts there (mask, data)
  wire [9:0] ra0 = WA == 36 ? {ada[13:5], 1'b0} : ada[13:4];
  wire [9:0] ra1 = {ada[13:5], 1'b1};
  wire [17:0] ma0 = WA == 36 ? {{9{ada[1]}}, {9{ada[0]}}} : amask(WA, ada, 1'b1);
  wire [17:0] ma1 = WA == 36 ? {{9{ada[3]}}, {9{ada[2]}}} : 18'b0;
  wire [17:0] da0 = WA == 36 ? dia : place(WA, ada, dia);
  wire [17:0] da1 = dib;
  wire [9:0] rb0 = WB == 36 ? {adb[13:5], 1'b0} : adb[13:4];
  wire [9:0] rb1 = {adb[13:5], 1'b1};
  wire [17:0] mb0 = amask(WB, adb, 1'b1);
  wire [17:0] db0 = place(WB, adb, dib);
  // writes of this edge (both clocks high when a port acts: one clock, or both edges at once)
  wire a_now = wra && clka;
  wire b_now = wrb && clkb;

  // the bits of row r that the write of the other port changes at this edge
  function [17:0] a_mask_at(input [9:0] r);
    a_mask_at = !a_now ? 18'b0 : r == ra0 ? ma0 : (WA == 36 && r == ra1) ? ma1 : 18'b0;
  endfunction
  function [17:0] a_data_at(input [9:0] r);
    a_data_at = r == ra0 ? da0 : da1;
  endfunction
  function [17:0] b_mask_at(input [9:0] r);
    b_mask_at = (b_now && r == rb0) ? mb0 : 18'b0;
  endfunction

  // row r as a read of port a (b) sees it: bits the other port writes now read inverted
  function [17:0] seen_by_a(input [9:0] r);
    reg [17:0] m;
    begin
      m = b_mask_at(r);
      seen_by_a = (ram[r] & ~m) | (~db0 & m);
    end
  endfunction
  function [17:0] seen_by_b(input [9:0] r);
    reg [17:0] m;
    begin
      m = a_mask_at(r);
      seen_by_b = (ram[r] & ~m) | (~a_data_at(r) & m);
    end
  endfunction

  // the output latches: port A reads at widths up to 18, port B up to 36 (x36: {DOB, DOA})
  reg [17:0] nxa;
  reg [35:0] nxb;
  always @* begin
    nxa = doa;
    if (ena && WA != 36) begin
      if (!wra || WRITEMODE_A == "READBEFOREWRITE") nxa = extract(WA, ada, seen_by_a(ra0));
      else if (WRITEMODE_A == "WRITETHROUGH") nxa = extract(WA, ada, (ram[ra0] & ~ma0) | (da0 & ma0));
    end
    nxb = dob36;
    if (enb) begin
      if (WB == 36) nxb = {seen_by_b(rb1), seen_by_b(rb0)};
      else if (!wrb || WRITEMODE_B == "READBEFOREWRITE") nxb = {18'b0, extract(WB, adb, seen_by_b(rb0))};
      else if (WRITEMODE_B == "WRITETHROUGH") nxb = {18'b0, extract(WB, adb, (ram[rb0] & ~mb0) | (db0 & mb0))};
    end
  end
  generate
    if (RESETMODE == "ASYNC") begin : g_async
      always @(posedge clka or posedge RSTA) doa <= RSTA ? 18'b0 : nxa;
      always @(posedge clkb or posedge RSTB) dob36 <= RSTB ? 36'b0 : nxb;
    end else begin : g_sync
      always @(posedge clka) doa <= RSTA ? 18'b0 : nxa;
      always @(posedge clkb) dob36 <= RSTB ? 36'b0 : nxb;
    end
  endgenerate

  // the writes, whole rows at a time; where both ports write one row at this edge, each
  // writes the merged row (bits both write are undefined in the part: here the writer's)
  always @(posedge clka)
    if (wra) begin
      ram[ra0] <= (ram[ra0] & ~ma0 & ~b_mask_at(ra0)) | (db0 & b_mask_at(ra0) & ~ma0) | (da0 & ma0);
      if (WA == 36) ram[ra1] <= (ram[ra1] & ~ma1) | (da1 & ma1);
    end
  always @(posedge clkb)
    if (wrb) ram[rb0] <= (ram[rb0] & ~mb0 & ~a_mask_at(rb0)) | (a_data_at(rb0) & a_mask_at(rb0) & ~mb0) | (db0 & mb0);

  integer n;
  initial begin
    doa = 0;
    dob36 = 0;
    for (n = 0; n < 1024; n = n + 1) ram[n] = init_row(n);
  end
  function [17:0] init_row(input integer r);
    reg [319:0] v;
    begin
      case (r[9:4])
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
      init_row = v[r[3:0] * 20 +: 18];
    end
  endfunction
endmodule
