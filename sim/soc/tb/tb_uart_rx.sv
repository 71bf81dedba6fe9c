// Test bench of the UART receiver (bw_uart_rx): a line driven from the 8N1 definition with
// random bytes, back to back or after idle times, at the nominal rate and 2.5 % slower or
// faster (bit edges at rounded fractional times), mixed with what must not yield a byte:
// low glitches of 1 .. CLKS_PER_BIT/2 cycles on the idle line, characters whose stop bit is
// low (framing errors) and breaks (the line low for many characters). The bytes received
// must be exactly the good ones, in order, each announced once; after every glitch, framing
// error and break the next good byte must arrive. Prints PASS, or stops with $fatal at the
// first difference (test/sim/link.test.ts builds it with `verilator --binary`).
// (The checker keeps its queue with blocking assignments in clocked code.)
/* verilator lint_off BLKSEQ */
module tb_uart_rx #(
  parameter int CLKS_PER_BIT = 16,   // of the receiver
  parameter int EVENTS = 400,        // random characters, glitches and breaks
  parameter int SEED = 1             // of the events
);
  localparam int CPB = CLKS_PER_BIT;
  localparam int CPB_W = $clog2(CPB + 1);

  logic clk = 1'b0;
  always #1 clk = !clk;

  logic rst, rx, valid;
  logic [7:0] data;
  bw_uart_rx #(.CLKS_PER_BIT(CPB)) dut (.clk, .rst, .cpb(CPB_W'(CPB)), .rx, .valid, .data);

  logic [7:0] want [$];   // good bytes sent, not yet received
  int got, cyc;
  initial begin
    got = 0;
    cyc = 0;
  end
  always @(posedge clk) begin
    cyc++;
    if (valid) begin
      if (want.size() == 0) $fatal(1, "cycle %0d: byte 0x%02h received, none sent", cyc, data);
      if (data !== want[0]) $fatal(1, "cycle %0d: byte %0d is 0x%02h, want 0x%02h", cyc, got, data, want[0]);
      void'(want.pop_front());
      got++;
    end
  end

  // one character: start, data LSB first, stop; bit i starts at round(i * CPB * rate)
  task automatic char(input logic [7:0] b, input logic stop, input int permil);
    int t;
    t = 0;
    for (int i = 0; i < 10; i++) begin
      int e;
      e = ((i + 1) * CPB * (1000 + permil) + 500) / 1000;
      rx = i == 0 ? 1'b0 : i == 9 ? stop : b[i - 1];
      repeat (e - t) @(negedge clk);
      t = e;
    end
    rx = 1'b1;
  endtask

  task automatic idle(input int cycles);
    rx = 1'b1;
    repeat (cycles) @(negedge clk);
  endtask

  // a good byte; it arrives at its stop bit, a few cycles late through the synchroniser,
  // so the byte before it must have arrived when it ends
  task automatic good(input int permil);
    logic [7:0] b;
    b = 8'($urandom);
    want.push_back(b);
    char(b, 1'b1, permil);
    if (want.size() > 1) $fatal(1, "byte 0x%02h not received", want[0]);
  endtask

  initial begin
    int glitches, framing, breaks, bytes;
    void'($urandom(SEED));
    glitches = 0;
    framing = 0;
    breaks = 0;
    bytes = 0;
    rst = 1'b1;
    rx = 1'b1;
    repeat (4) @(negedge clk);
    rst = 1'b0;
    idle(CPB);
    for (int n = 0; n < EVENTS; n++) begin
      int permil;
      permil = ($urandom % 3 == 0) ? 0 : ($urandom % 2 == 0 ? -25 : 25);
      case ($urandom % 8)
        0: begin  // a glitch on the idle line, then a byte
          rx = 1'b0;
          repeat (1 + int'($urandom % (CPB / 2))) @(negedge clk);
          idle(CPB);
          glitches++;
        end
        1: begin  // a framing error: the byte is dropped
          char(8'($urandom), 1'b0, permil);
          idle(int'($urandom % CPB) + 1);
          framing++;
        end
        2: if ($urandom % 4 == 0) begin  // a break
          rx = 1'b0;
          repeat (20 * CPB + int'($urandom % (10 * CPB))) @(negedge clk);
          idle(int'($urandom % CPB) + 1);
          breaks++;
        end
        3: idle(int'($urandom % (3 * CPB)));
        default: ;  // back to back
      endcase
      good(permil);
      bytes++;
    end
    idle(12 * CPB);
    if (want.size() != 0 || got != bytes) $fatal(1, "%0d bytes received of %0d", got, bytes);
    if (glitches < EVENTS / 16 || framing < EVENTS / 16 || breaks == 0)
      $fatal(1, "coverage: %0d glitches, %0d framing errors, %0d breaks", glitches, framing, breaks);
    $display("PASS: %0d bytes, %0d glitches, %0d framing errors, %0d breaks (CLKS_PER_BIT %0d)", got, glitches, framing, breaks, CPB);
    $finish;
  end
endmodule
