// bitweave dev-board SoC: the CRC of the host link's frames (docs/BOARD-PROTOCOL.md),
// CRC-16/CCITT-FALSE: polynomial 0x1021, initial value 0xFFFF, no reflection, no final
// xor ("123456789" gives 0x29B1). The link sees one byte per UART character, so the CRC
// advances a byte at a time: `next` is the value after byte b, eight shifts of the MSB-first
// register unrolled into one combinational step (a few LUT levels, ample for a UART).
package bw_crc16;
  localparam logic [15:0] INIT = 16'hFFFF;  // value before the first byte
  localparam logic [15:0] POLY = 16'h1021;  // x^16 + x^12 + x^5 + 1

  // the CRC after byte b, given the CRC before it
  function automatic logic [15:0] next(input logic [15:0] crc, input logic [7:0] b);
    logic [15:0] c;
    c = crc ^ {b, 8'h00};
    for (int i = 0; i < 8; i++) c = c[15] ? (c << 1) ^ POLY : c << 1;
    next = c;
  endfunction
endpackage
