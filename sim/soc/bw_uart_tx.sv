// bitweave dev-board SoC: the UART transmitter of the host link (8N1, LSB first). A byte is
// taken when `valid` and `ready` are both high in a cycle; the start bit leaves on the next
// cycle and every bit lasts exactly `cpb` cycles. `ready` is high when idle and in the
// last cycle of a stop bit, so a stream of bytes goes out back to back with no idle time.
// The line is a register (no glitches) and idles high, also during reset; the register holds
// it inverted, so that it is high from configuration too (FPGA registers start at 0).
module bw_uart_tx #(
  parameter int CLKS_PER_BIT = 16   // the most clock cycles per bit `cpb` gives (sizes the counter)
) (
  input  logic       clk,
  input  logic       rst,
  input  logic [$clog2(CLKS_PER_BIT + 1)-1:0] cpb,  // clock cycles per bit, 4 .. CLKS_PER_BIT; changed only while idle
  output logic       tx,      // the line, idle high
  input  logic       valid,   // a byte to send
  input  logic [7:0] data,    // the byte, read when valid && ready
  output logic       ready    // the byte is taken this cycle if valid
);
  localparam int CW = $clog2(CLKS_PER_BIT + 1);
  logic [CW-1:0] full;   // cycles per bit, less one
  assign full = cpb - 1'b1;

  if (CLKS_PER_BIT < 4) begin : g_cpb_check
    $error("bw_uart_tx: CLKS_PER_BIT must be at least 4");
  end

  logic line_n;          // the line, inverted
  logic active;          // a character is on the line
  logic [3:0] nbit;      // its bit on the line: 0 start, 1..8 data, 9 stop
  logic [CW-1:0] cnt;    // cycles into that bit
  logic [8:0] sh;        // the bits still to send: data then the stop bit, LSB first

  assign tx = !line_n;
  assign ready = !active || (nbit == 4'd9 && cnt == full);

  always_ff @(posedge clk) begin
    if (rst) begin
      active <= 1'b0;
      line_n <= 1'b0;
      nbit <= '0;
      cnt <= '0;
    end else if (valid && ready) begin
      active <= 1'b1;
      line_n <= 1'b1;
      sh <= {1'b1, data};
      nbit <= '0;
      cnt <= '0;
    end else if (active) begin
      if (cnt == full) begin
        cnt <= '0;
        nbit <= nbit + 1'b1;
        if (nbit == 4'd9) begin
          active <= 1'b0;
          line_n <= 1'b0;
        end else begin
          line_n <= !sh[0];
          sh <= {1'b1, sh[8:1]};
        end
      end else begin
        cnt <= cnt + 1'b1;
      end
    end
  end
endmodule
