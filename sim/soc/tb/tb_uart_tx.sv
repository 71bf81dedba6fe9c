// Test bench of the UART transmitter (bw_uart_tx): random bytes offered after random idle
// times, and runs of bytes offered back to back (valid held high), while a model written
// from the 8N1 definition predicts, cycle by cycle, the line and `ready`: a byte is taken
// when valid && ready, its start bit starts on the next cycle, then its eight data bits LSB
// first and the stop bit, each exactly CLKS_PER_BIT cycles; `ready` is high when idle and in
// the stop bit's last cycle, so back-to-back bytes follow with no idle time. The line must
// be high during and after reset. Prints PASS, or stops with $fatal at the first
// difference (test/sim/link.test.ts builds it with `verilator --binary`).
// (The model keeps its state with blocking assignments in clocked code.)
/* verilator lint_off BLKSEQ */
module tb_uart_tx #(
  parameter int CLKS_PER_BIT = 16,   // of the transmitter
  parameter int BYTES = 400,         // random bytes
  parameter int SEED = 1             // of the bytes and the idle times
);
  localparam int CPB = CLKS_PER_BIT;
  localparam int CPB_W = $clog2(CPB + 1);
  localparam int CHAR = 10 * CPB;    // cycles per character

  logic clk = 1'b0;
  always #1 clk = !clk;

  logic rst, tx, valid, ready;
  logic [7:0] data;
  bw_uart_tx #(.CLKS_PER_BIT(CPB)) dut (.clk, .rst, .cpb(CPB_W'(CPB)), .tx, .valid, .data, .ready);

  // the model: the character on the line and the cycle of it the line is in
  logic [9:0] frame;   // stop, data (MSB .. LSB), start
  int pos;             // cycles into the character, -1 when idle
  int taken, back_to_back, from_idle, cyc;
  logic took;          // the byte offered was taken at the last edge

  initial begin
    pos = -1;
    taken = 0;
    back_to_back = 0;
    from_idle = 0;
    cyc = 0;
    took = 1'b0;
  end

  // compare before the edge, then advance the model over it
  always @(posedge clk) begin
    logic m_ready;
    cyc++;
    took = 1'b0;
    if (rst) begin
      if (tx !== 1'b1) $fatal(1, "cycle %0d: line %b during or before reset", cyc, tx);
      pos = -1;
    end else begin
      m_ready = pos < 0 || pos == CHAR - 1;
      if (tx !== (pos < 0 ? 1'b1 : frame[pos / CPB]))
        $fatal(1, "cycle %0d: line %b, want %b (%0d cycles into byte %0d, 0x%02h)", cyc, tx, !tx, pos, taken, frame[8:1]);
      if (ready !== m_ready) $fatal(1, "cycle %0d: ready %b, want %b (%0d cycles into a character)", cyc, ready, m_ready, pos);
      if (valid && m_ready) begin
        if (pos == CHAR - 1) back_to_back++;
        else if (pos < 0) from_idle++;
        frame = {1'b1, data, 1'b0};
        pos = 0;
        taken++;
        took = 1'b1;
      end else if (pos >= 0) begin
        pos = pos == CHAR - 1 ? -1 : pos + 1;
      end
    end
  end

  // the source: drives at the falling edge, holds a byte until it is taken
  initial begin
    void'($urandom(SEED));
    rst = 1'b1;
    valid = 1'b0;
    data = '0;
    repeat (5) @(negedge clk);
    rst = 1'b0;
    for (int n = 0; n < BYTES; ) begin
      int run;
      // one byte after an idle time, or a run back to back (valid stays high)
      run = $urandom % 4 == 0 ? 2 + int'($urandom % 6) : 1;
      repeat (int'($urandom % (2 * CHAR))) @(negedge clk);
      valid = 1'b1;
      for (int i = 0; i < run; i++) begin
        data = 8'($urandom);
        do @(negedge clk); while (!took);
      end
      valid = 1'b0;
      n += run;
    end
    repeat (CHAR + 2) @(negedge clk);
    if (pos != -1 || tx !== 1'b1) $fatal(1, "the line is not idle at the end");
    if (back_to_back < BYTES / 10 || from_idle < BYTES / 10)
      $fatal(1, "coverage: %0d bytes back to back, %0d from idle", back_to_back, from_idle);
    $display("PASS: %0d bytes, %0d back to back, %0d from idle (CLKS_PER_BIT %0d)", taken, back_to_back, from_idle, CPB);
    $finish;
  end
endmodule
