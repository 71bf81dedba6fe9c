// Test bench of the DP16KD model (sim/gate/cells/DP16KD.v) against the primitive's documented
// behaviour written as a plain word array per configuration: both ports of one width (1, 2,
// 4, 9, 18; 36 is the pseudo dual-port mode), each write mode, byte enables (x18: AD[1:0],
// x36: AD[3:0]), clock enables and synchronous resets of the output latches, and reads that
// meet the other port's write of the same word (the model returns the inverse of the written
// bits there). Random stimulus on a few words so that ports collide often; the ports never
// write one word at one edge (undefined). Prints PASS or stops with $fatal.
// Built with `verilator --binary` by test/sim/gate.test.ts.
module tb_dp16kd;
  logic clk = 0;
  int unsigned seed = 1;
  int cycles = 0;
  int checked = 0;
  int collisions = 0;

  dp_case #(.W(1), .MODE_A(0), .MODE_B(1)) c1 (.clk);
  dp_case #(.W(2), .MODE_A(1), .MODE_B(2)) c2 (.clk);
  dp_case #(.W(4), .MODE_A(2), .MODE_B(0)) c4 (.clk);
  dp_case #(.W(9), .MODE_A(0), .MODE_B(2)) c9 (.clk);
  dp_case #(.W(18), .MODE_A(1), .MODE_B(0)) c18 (.clk);
  dp_case #(.W(18), .MODE_A(2), .MODE_B(1)) c18b (.clk);
  dp_case #(.W(36), .MODE_A(0), .MODE_B(0)) c36 (.clk);

  initial begin
    for (cycles = 0; cycles < 20000; cycles++) begin
      #1 clk = 1;
      #1 clk = 0;
    end
    $display("PASS: 7 configurations, %0d cycles, %0d reads checked, %0d collisions",
             cycles, c1.checked + c2.checked + c4.checked + c9.checked + c18.checked + c18b.checked + c36.checked,
             c1.coll + c2.coll + c4.coll + c9.coll + c18.coll + c18b.coll + c36.coll);
    $finish;
  end
endmodule

module dp_case #(
  parameter int W = 18,
  parameter int MODE_A = 0,  // 0 NORMAL, 1 WRITETHROUGH, 2 READBEFOREWRITE
  parameter int MODE_B = 0
) (
  input logic clk
);
  localparam MA = MODE_A == 0 ? "NORMAL" : MODE_A == 1 ? "WRITETHROUGH" : "READBEFOREWRITE";
  localparam MB = MODE_B == 0 ? "NORMAL" : MODE_B == 1 ? "WRITETHROUGH" : "READBEFOREWRITE";
  // low address bits below a word, and words per block
  localparam int LO = W == 36 ? 5 : W == 18 ? 4 : W == 9 ? 3 : W == 4 ? 2 : W == 2 ? 1 : 0;
  localparam int DW = W == 36 ? 18 : W;  // bits on one port's DI / DO
  localparam int NB = W >= 18 ? W / 9 : 1;  // byte enables

  int checked = 0;
  int coll = 0;
  logic [W-1:0] mem [1 << (14 - LO)];
  logic [17:0] doa_exp, dob_exp;
  logic [35:0] b36_exp;
  initial for (int i = 0; i < (1 << (14 - LO)); i++) mem[i] = '0;
  initial begin
    doa_exp = '0;
    dob_exp = '0;
    b36_exp = '0;
  end

  logic [13:0] ada, adb;
  logic [17:0] dia, dib;
  logic cea, ceb, wea, web, rsta, rstb;
  wire [17:0] doa, dob;

  DP16KD #(.DATA_WIDTH_A(W), .DATA_WIDTH_B(W), .WRITEMODE_A(MA), .WRITEMODE_B(MB), .RESETMODE("SYNC")) dut (
    .CLKA(clk), .CLKB(clk), .CEA(cea), .CEB(ceb), .OCEA(1'b1), .OCEB(1'b1), .WEA(wea), .WEB(web), .RSTA(rsta), .RSTB(rstb),
    .CSA2(1'b0), .CSA1(1'b0), .CSA0(1'b0), .CSB2(1'b0), .CSB1(1'b0), .CSB0(1'b0),
    .ADA13(ada[13]), .ADA12(ada[12]), .ADA11(ada[11]), .ADA10(ada[10]), .ADA9(ada[9]), .ADA8(ada[8]), .ADA7(ada[7]),
    .ADA6(ada[6]), .ADA5(ada[5]), .ADA4(ada[4]), .ADA3(ada[3]), .ADA2(ada[2]), .ADA1(ada[1]), .ADA0(ada[0]),
    .ADB13(adb[13]), .ADB12(adb[12]), .ADB11(adb[11]), .ADB10(adb[10]), .ADB9(adb[9]), .ADB8(adb[8]), .ADB7(adb[7]),
    .ADB6(adb[6]), .ADB5(adb[5]), .ADB4(adb[4]), .ADB3(adb[3]), .ADB2(adb[2]), .ADB1(adb[1]), .ADB0(adb[0]),
    .DIA17(dia[17]), .DIA16(dia[16]), .DIA15(dia[15]), .DIA14(dia[14]), .DIA13(dia[13]), .DIA12(dia[12]), .DIA11(dia[11]),
    .DIA10(dia[10]), .DIA9(dia[9]), .DIA8(dia[8]), .DIA7(dia[7]), .DIA6(dia[6]), .DIA5(dia[5]), .DIA4(dia[4]),
    .DIA3(dia[3]), .DIA2(dia[2]), .DIA1(dia[1]), .DIA0(dia[0]),
    .DIB17(dib[17]), .DIB16(dib[16]), .DIB15(dib[15]), .DIB14(dib[14]), .DIB13(dib[13]), .DIB12(dib[12]), .DIB11(dib[11]),
    .DIB10(dib[10]), .DIB9(dib[9]), .DIB8(dib[8]), .DIB7(dib[7]), .DIB6(dib[6]), .DIB5(dib[5]), .DIB4(dib[4]),
    .DIB3(dib[3]), .DIB2(dib[2]), .DIB1(dib[1]), .DIB0(dib[0]),
    .DOA17(doa[17]), .DOA16(doa[16]), .DOA15(doa[15]), .DOA14(doa[14]), .DOA13(doa[13]), .DOA12(doa[12]), .DOA11(doa[11]),
    .DOA10(doa[10]), .DOA9(doa[9]), .DOA8(doa[8]), .DOA7(doa[7]), .DOA6(doa[6]), .DOA5(doa[5]), .DOA4(doa[4]),
    .DOA3(doa[3]), .DOA2(doa[2]), .DOA1(doa[1]), .DOA0(doa[0]),
    .DOB17(dob[17]), .DOB16(dob[16]), .DOB15(dob[15]), .DOB14(dob[14]), .DOB13(dob[13]), .DOB12(dob[12]), .DOB11(dob[11]),
    .DOB10(dob[10]), .DOB9(dob[9]), .DOB8(dob[8]), .DOB7(dob[7]), .DOB6(dob[6]), .DOB5(dob[5]), .DOB4(dob[4]),
    .DOB3(dob[3]), .DOB2(dob[2]), .DOB1(dob[1]), .DOB0(dob[0])
  );

  // the written bits of a word under the byte enables be (9-bit bytes; one enable below x18)
  function automatic logic [W-1:0] bemask(logic [3:0] be);
    logic [W-1:0] m = '1;
    if (W >= 18) for (int i = 0; i < W; i++) m[i] = be[i / 9];
    return m;
  endfunction

  // new stimulus on the falling edge: a few words, so that the ports meet
  always @(negedge clk) begin
    logic [13:0] wa, wb;
    wa = 14'($urandom_range(0, 3)) << LO;
    wb = 14'($urandom_range(0, 3)) << LO;
    ada = wa | 14'($urandom_range(0, (1 << LO) - 1));  // below the word: byte enables or don't care
    adb = wb | 14'($urandom_range(0, (1 << LO) - 1));
    dia = 18'($urandom);
    dib = 18'($urandom);
    cea = $urandom_range(0, 7) != 0;
    ceb = $urandom_range(0, 7) != 0;
    wea = $urandom_range(0, 1);
    web = W != 36 && $urandom_range(0, 1) == 1;
    rsta = $urandom_range(0, 15) == 0;
    rstb = $urandom_range(0, 15) == 0;
    // one word is never written by both ports at one edge
    if (cea && wea && ceb && web && ada[13:LO] == adb[13:LO]) web = 0;
    // the outputs of the edge before
    if (W == 36) begin
      if ({dob, doa} !== b36_exp) $fatal(1, "x36: read %h, expected %h", {dob, doa}, b36_exp);
    end else begin
      if (doa[DW-1:0] !== doa_exp[DW-1:0]) $fatal(1, "x%0d %s: port A read %h, expected %h", W, MA, doa[DW-1:0], doa_exp[DW-1:0]);
      if (dob[DW-1:0] !== dob_exp[DW-1:0]) $fatal(1, "x%0d %s: port B read %h, expected %h", W, MB, dob[DW-1:0], dob_exp[DW-1:0]);
    end
    checked += 2;
  end

  // the reference on the rising edge
  always @(posedge clk) begin
    logic [W-1:0] wda, wdb, ma, mb, olda, oldb, newa, newb;
    int ia, ib;
    logic awr, bwr;
    ia = int'(ada >> LO);
    ib = int'(adb >> LO);
    wda = W == 36 ? W'({dib, dia}) : W'(dia);
    wdb = W'(dib);
    ma = W == 36 ? bemask(ada[3:0]) : W == 18 ? bemask({2'b0, ada[1:0]}) : '1;
    mb = W == 18 ? bemask({2'b0, adb[1:0]}) : '1;
    awr = cea && wea;
    bwr = ceb && web;
    // what each port reads of the word it addresses: the other port's written bits inverted
    olda = mem[ia];
    oldb = mem[ib];
    if (bwr && ib == ia) begin olda = (olda & ~mb) | (~wdb & mb); coll++; end
    if (awr && ia == ib) begin oldb = (oldb & ~ma) | (~wda & ma); coll++; end
    newa = (mem[ia] & ~ma) | (wda & ma);
    newb = (mem[ib] & ~mb) | (wdb & mb);
    if (W == 36) begin
      if (rstb) b36_exp <= '0;
      else if (ceb) b36_exp <= 36'(oldb);
    end else begin
      if (rsta) doa_exp <= '0;
      else if (cea && (!wea || MODE_A == 2)) doa_exp <= 18'(olda);
      else if (cea && MODE_A == 1) doa_exp <= 18'(newa);
      if (rstb) dob_exp <= '0;
      else if (ceb && (!web || MODE_B == 2)) dob_exp <= 18'(oldb);
      else if (ceb && MODE_B == 1) dob_exp <= 18'(newb);
    end
    if (awr) mem[ia] <= newa;
    if (bwr) mem[ib] <= newb;
  end
endmodule
