// Test bench of the link's CRC (bw_crc16): CRC-16/CCITT-FALSE of the catalogue's check
// message ("123456789" -> 0x29B1) and of a few fixed messages, then of random messages
// (0 .. 1,100 bytes) computed a byte at a time with bw_crc16::next and here bit by bit from
// the definition (a 16-bit shift register fed one message bit per step, MSB first, that
// subtracts the polynomial when a 1 leaves the top). Prints PASS, or stops with $fatal at
// the first difference (test/sim/link.test.ts builds it with `verilator --binary`).
module tb_crc16 #(
  parameter int MESSAGES = 300,   // random messages
  parameter int SEED = 1          // of the messages
);
  // the definition: polynomial division of the message, one bit at a time
  function automatic logic [15:0] crc_bits(input logic [7:0] msg [$]);
    logic [15:0] r;
    r = 16'hFFFF;
    foreach (msg[i]) begin
      for (int j = 7; j >= 0; j--) begin
        logic top;
        top = r[15] ^ msg[i][j];
        r = {r[14:0], 1'b0};
        if (top) r = r ^ 16'h1021;
      end
    end
    return r;
  endfunction

  function automatic logic [15:0] crc_bytes(input logic [7:0] msg [$]);
    logic [15:0] c;
    c = bw_crc16::INIT;
    foreach (msg[i]) c = bw_crc16::next(c, msg[i]);
    return c;
  endfunction

  task automatic check(input string what, input logic [7:0] msg [$], input logic [15:0] want);
    logic [15:0] got;
    got = crc_bytes(msg);
    if (got !== want) $fatal(1, "%s (%0d bytes): CRC 0x%04h, want 0x%04h", what, msg.size(), got, want);
  endtask

  initial begin
    logic [7:0] m [$];
    int bytes;
    void'($urandom(SEED));
    m.delete();
    for (int i = 0; i < 9; i++) m.push_back(8'h31 + 8'(i));  // "123456789"
    check("check message", m, 16'h29B1);
    check("check message, bitwise", m, crc_bits(m));
    m.delete();
    check("empty message", m, 16'hFFFF);
    m.push_back(8'h41);  // "A"
    check("\"A\"", m, 16'hB915);
    m.delete();
    for (int i = 0; i < 256; i++) m.push_back(8'h00);
    check("256 zero bytes", m, 16'h41E8);
    bytes = 0;
    for (int n = 0; n < MESSAGES; n++) begin
      int len;
      len = n < 4 ? n : int'($urandom % 1101);
      m.delete();
      for (int i = 0; i < len; i++) m.push_back(8'($urandom));
      check($sformatf("random message %0d", n), m, crc_bits(m));
      bytes += len;
    end
    $display("PASS: %0d random messages, %0d bytes, check value 0x29B1", MESSAGES, bytes);
    $finish;
  end
endmodule
