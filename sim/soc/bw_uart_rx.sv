// bitweave dev-board SoC: the UART receiver of the host link (8N1, LSB first). The line is
// asynchronous to clk, so it passes a two-flip-flop synchroniser first. A low level on the
// idle line starts a character; it is checked again half a bit later and, if high by then,
// taken for a glitch and ignored. Data bits are sampled at their middles,
// `cpb` cycles apart, and so is the stop bit: if that is low (a framing error, e.g. a baud-rate
// mismatch or a break) the byte is dropped and the receiver waits for the line to go high
// before it looks for the next start bit. Sampling at mid-bit tolerates a baud-rate error of
// a few percent either way. A byte leaves as a one-cycle `valid` pulse at the middle of its
// stop bit, so a following start bit is never missed.
module bw_uart_rx #(
  parameter int CLKS_PER_BIT = 16   // the most clock cycles per bit `cpb` gives (sizes the counters)
) (
  input  logic       clk,
  input  logic       rst,
  input  logic [$clog2(CLKS_PER_BIT + 1)-1:0] cpb,  // clock cycles per bit, 4 .. CLKS_PER_BIT; changed only while idle
  input  logic       rx,      // the line, idle high, asynchronous
  output logic       valid,   // one-cycle pulse: a byte arrived with a good stop bit
  output logic [7:0] data     // that byte, held until the next one
);
  localparam int CW = $clog2(CLKS_PER_BIT + 1);
  logic [CW-1:0] half, full;   // cycles from the start edge's first cycle to mid-bit, and per bit, less one
  assign half = (cpb >> 1) - 1'b1;
  assign full = cpb - 1'b1;

  if (CLKS_PER_BIT < 4) begin : g_cpb_check
    $error("bw_uart_rx: CLKS_PER_BIT must be at least 4");
  end

  // two-flip-flop synchroniser; the line is high (idle) out of reset
  logic rx_m, rx_s;
  always_ff @(posedge clk) begin
    if (rst) begin
      rx_m <= 1'b1;
      rx_s <= 1'b1;
    end else begin
      rx_m <= rx;
      rx_s <= rx_m;
    end
  end

  typedef enum logic [2:0] { R_IDLE, R_START, R_DATA, R_STOP, R_BREAK } rstate_t;
  rstate_t st;
  logic [CW-1:0] cnt;    // cycles into the current bit (from its sampling point)
  logic [2:0] nbit;      // data bits received
  logic [7:0] sh;        // data bits, shifted in from the top (LSB first on the line)

  always_ff @(posedge clk) begin
    valid <= 1'b0;
    if (rst) begin
      st <= R_IDLE;
      cnt <= '0;
      nbit <= '0;
    end else begin
      case (st)
        R_IDLE: if (!rx_s) begin
          st <= R_START;
          cnt <= '0;
        end
        R_START: begin
          if (cnt == half) begin
            // mid start bit: still low, or it was a glitch
            st <= rx_s ? R_IDLE : R_DATA;
            cnt <= '0;
            nbit <= '0;
          end else begin
            cnt <= cnt + 1'b1;
          end
        end
        R_DATA: begin
          if (cnt == full) begin
            cnt <= '0;
            sh <= {rx_s, sh[7:1]};
            nbit <= nbit + 1'b1;
            if (nbit == 3'd7) st <= R_STOP;
          end else begin
            cnt <= cnt + 1'b1;
          end
        end
        R_STOP: begin
          if (cnt == full) begin
            cnt <= '0;
            if (rx_s) begin
              valid <= 1'b1;
              data <= sh;
              st <= R_IDLE;
            end else begin
              st <= R_BREAK;  // framing error: drop the byte
            end
          end else begin
            cnt <= cnt + 1'b1;
          end
        end
        default: if (rx_s) st <= R_IDLE;  // R_BREAK: wait for the idle level
      endcase
    end
  end
endmodule
