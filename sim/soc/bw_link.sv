// bitweave dev-board SoC: the host link, the board's side of docs/BOARD-PROTOCOL.md. It
// receives request frames over the UART (bw_uart_rx), checks them, runs the command on the
// SoC's memory bus or run control, and sends exactly one reply per frame it accepted
// (bw_uart_tx), both CRC-16/CCITT-FALSE checked (bw_crc16).
//
// Reception hunts for 0xA5 and parses cmd, seq, len. A length above 1,029 or wrong for a
// known command is answered with E_LEN at once, and the rest of the frame is then hunted
// through like any bytes between frames. Otherwise the payload and the CRC are received: a
// WRITE's data words go into a 256-word buffer (an inferred block RAM), so nothing reaches
// memory unless the whole frame's CRC is good. A frame whose bytes stop for more than TIMEOUT
// cycles is dropped without a reply. Checks of a complete frame, in this order: CRC (E_CRC,
// with the seq as received), command (E_CMD), READ count 1..256 (E_LEN), memory and range
// (E_ADDR), the array running (E_BUSY, for WRITE, READ and START). Then WRITE copies the
// buffer to memory word by word and replies; READ replies, fetching each word as the reply
// reaches it; START reads its four words from the buffer into n_layers .. desc_base (in the
// three cycles before the pulse) and pulses `start`; INFO replies with `info`, STATUS with a
// snapshot of the run state taken when the frame is complete; BAUD replies at the current
// rate, then sets the UART's clocks per bit once that reply has left. Bytes that arrive while a
// command runs or its reply is queued are ignored: the host waits for the reply. Receiving
// and replying never overlap, so one CRC register serves both.
//
// Memory bus: one request at a time. m_req is a one-cycle pulse; m_we, m_mem, m_addr and
// m_wdata are valid with it and held until m_ack, which may come in the cycle of m_req or
// any later one (m_rdata is read in the m_ack cycle). m_ack while no request is open is
// ignored; a request never answered stalls the link until reset.
//
// Run control: `done` may be a pulse or a level that falls in the cycle after the start
// pulse (bw_top's); it is latched for STATUS, and ignored in the start pulse's own cycle.
// `busy` is sampled when a frame is checked (E_BUSY) and for STATUS. rst is synchronous and
// active high; tx idles high from configuration on.
module bw_link #(
  parameter int CLKS_PER_BIT = 16,        // clock cycles per UART bit after reset (BAUD sets 4 .. MAX_CPB)
  parameter int TIMEOUT = 1 << 20,        // clock cycles of silence inside a frame that drop it
  parameter int INFO_WORDS = 17,          // u32 words of the INFO reply
  parameter logic [3:0] READABLE = 4'b1111 // memories READ may read (bit i: memory i); others answer E_ADDR
) (
  input  logic clk, input logic rst,
  input  logic rx, output logic tx,
  // memory bus, one request at a time: m_req is a one-cycle pulse; the SoC answers with a
  // one-cycle m_ack some cycles later (m_rdata valid with m_ack for reads)
  output logic m_req, output logic m_we, output logic [1:0] m_mem,
  output logic [31:0] m_addr,             // 32-bit word index in memory m_mem
  output logic [31:0] m_wdata,
  input  logic m_ack, input logic [31:0] m_rdata,
  input  logic [4*32-1:0] mem_words,      // size of memory i (32-bit words) at [32i +: 32]; the link checks ranges itself (E_ADDR)
  // run control
  output logic start,                     // one-cycle pulse, with the four values below held from then on
  output logic [31:0] n_layers, output logic [31:0] batch, output logic [31:0] arena_words, output logic [31:0] desc_base,
  input  logic busy, input logic done, input logic [31:0] err, input logic [31:0] layer, input logic [63:0] cycles,
  input  logic [INFO_WORDS*32-1:0] info    // INFO reply words, word i at [32i +: 32]
);
  localparam int MAX_WORDS = INFO_WORDS > 256 ? INFO_WORDS : 256;  // longest reply, words
  localparam int KW = $clog2(MAX_WORDS + 1);             // bits of a word count
  localparam int TW = $clog2(TIMEOUT + 1);               // bits of the silence counter

  if (TIMEOUT <= 10 * CLKS_PER_BIT) begin : g_timeout_check
    $error("bw_link: TIMEOUT must exceed one UART character (10 * CLKS_PER_BIT cycles)");
  end
  if (INFO_WORDS < 1 || INFO_WORDS > 16383) begin : g_info_check
    $error("bw_link: INFO_WORDS must be 1 .. 16383 (the reply's len is u16)");
  end

  // commands and status codes
  localparam logic [7:0] C_INFO = 8'h01, C_WRITE = 8'h02, C_READ = 8'h03, C_START = 8'h04, C_STATUS = 8'h05, C_BAUD = 8'h06;
  localparam logic [7:0] S_OK = 8'd0, E_CRC = 8'd1, E_CMD = 8'd2, E_LEN = 8'd3, E_ADDR = 8'd4, E_BUSY = 8'd5, E_ARG = 8'd6;
  // BAUD's largest clocks per bit: a character (10 bits) inside the timeout, and a u16
  localparam int MAX_CPB = (TIMEOUT - 1) / 10 < 65535 ? (TIMEOUT - 1) / 10 : 65535;
  localparam int CW = $clog2(MAX_CPB + 1);               // bits of clocks per bit

  // ---- UART ---------------------------------------------------------------------------
  logic rx_valid;
  logic [7:0] rx_data;
  logic [CW-1:0] cpb, cpb_next;            // clocks per bit now; after the pending BAUD reply
  logic cpb_pend;
  bw_uart_rx #(.CLKS_PER_BIT(MAX_CPB)) u_rx (.clk, .rst, .cpb, .rx, .valid(rx_valid), .data(rx_data));

  logic tx_valid, tx_ready;
  logic [7:0] tx_data;
  bw_uart_tx #(.CLKS_PER_BIT(MAX_CPB)) u_tx (.clk, .rst, .cpb, .tx, .valid(tx_valid), .data(tx_data), .ready(tx_ready));

  // ---- state ----------------------------------------------------------------------------
  typedef enum logic [3:0] {
    L_HUNT, L_CMD, L_SEQ, L_LEN0, L_LEN1, L_PAY, L_CRC0, L_CRC1,  // receiving a frame
    L_CHECK, L_EXEC, L_LOAD, L_COMMIT, L_REPLY                    // running it (bytes ignored)
  } lstate_t;
  typedef enum logic [1:0] { Q_HDR, Q_WORD, Q_BYTES, Q_CRC } qstate_t;
  typedef enum logic [1:0] { K_NONE, K_INFO, K_STATUS, K_READ } kind_t;  // the reply's payload

  lstate_t st;
  logic in_frame;                          // between a frame's 0xA5 and its last CRC byte
  assign in_frame = st != L_HUNT && st < L_CHECK;

  // the request
  logic [7:0] cmd, seq, len_lo, crc_lo;
  logic [8:0] wwords;                      // data words of a WRITE
  logic [10:0] rem;                        // payload bytes still to come
  logic [2:0] hdr;                         // WRITE/READ header bytes (mem, addr) still to come
  logic [9:0] dcnt;                        // payload bytes after that header so far (mod 1024)
  logic [7:0] p_mem;                       // WRITE/READ mem
  logic [31:0] p_addr;                     // WRITE/READ addr
  logic [23:0] wacc;                       // the last three payload bytes (the latest on top)
  logic crc_ok;
  logic [TW-1:0] quiet;                    // cycles since the last byte of the frame

  // the command and its reply
  logic [KW-1:0] k;                        // word of the WRITE, READ reply, INFO reply; START load step
  logic [KW-1:0] nwords;                   // words of the WRITE or of the reply
  logic [KW-1:0] k_last;                   // nwords - 1
  logic ph;                                // a memory request is open
  qstate_t q;
  kind_t kind;
  logic [7:0] r_status;
  logic [2:0] hi;                          // header or CRC byte of the reply
  logic [1:0] bi;                          // byte of the reply word
  logic [31:0] word;                       // the reply word being sent
  logic [1:0] s_flags;                     // STATUS snapshot: flags, err, layer, cycles
  logic [31:0] s_err, s_layer;
  logic [63:0] s_cycles;
  logic [15:0] crc;                        // CRC of the request, then of the reply, so far
  logic done_seen;                         // `done` since the last start

  // ---- payload buffer: 256 words, one write and one registered read port ---------------
  logic [31:0] pbuf [256];
  logic pb_we;
  logic [7:0] pb_wa;
  logic [31:0] pb_wd, pb_q;
  always_ff @(posedge clk) begin
    if (pb_we) pbuf[pb_wa] <= pb_wd;
    pb_q <= pbuf[k[7:0]];
  end
  // a payload byte completes a data word (WRITE data, START's four words)
  assign pb_we = st == L_PAY && rx_valid && hdr == 0 && dcnt[1:0] == 2'd3;
  assign pb_wa = dcnt[9:2];
  assign pb_wd = {rx_data, wacc};
  assign m_wdata = pb_q;                   // the buffer word k, stable while a write is open

  // ---- checks -----------------------------------------------------------------------------
  logic known, is_mem, len_fits, len_bad;
  logic [15:0] len_in;                     // the length, with its high byte arriving
  logic [15:0] rd_count;                   // READ count (the payload's last two bytes)
  logic [KW-1:0] count;                    // words of the WRITE or READ
  logic [31:0] size;
  logic [8:0] count_q;                     // count (registered)
  logic [32:0] last;                       // addr + count (registered)
  logic in_range;                          // memory known, words inside it (registered)
  logic [7:0] status;
  assign len_in = {rx_data, len_lo};
  // the payload length the command in cmd takes (any, for unknown commands); the comparisons
  // with constants are spelled out in bits, which a LUT does without a carry chain
  always_comb begin
    case (cmd)
      C_INFO, C_STATUS: len_fits = len_in == 16'd0;
      C_READ: len_fits = len_in == 16'd7;
      C_START: len_fits = len_in == 16'd16;
      C_BAUD: len_fits = len_in == 16'd2;
      C_WRITE: len_fits = len_in[1:0] == 2'b01 && len_in[15:3] != 0;  // 9, 13, 17, ...
      default: len_fits = 1'b1;
    endcase
  end
  // len > 1,029 (0x405)
  assign len_bad = len_in[15:11] != 0 || (len_in[10] && (len_in[9:3] != 0 || len_in[2:1] == 2'b11)) || !len_fits;
  assign known = cmd >= C_INFO && cmd <= C_BAUD;
  assign is_mem = cmd == C_WRITE || cmd == C_READ;
  assign rd_count = wacc[23:8];
  assign count = cmd == C_WRITE ? KW'(wwords) : KW'(rd_count[8:0]);
  assign size = mem_words[32 * p_mem[1:0] +: 32];
  // the range check in register stages, one carry chain each; the operands are stable from
  // the end of the payload, two UART characters (the CRC) before the result is used
  always_ff @(posedge clk) begin
    count_q <= count[8:0];
    last <= {1'b0, p_addr} + 33'(count_q);
    in_range <= p_mem[7:2] == 0 && last <= {1'b0, size};
  end
  logic cpb_high;                          // BAUD's clocks per bit above MAX_CPB
  if (MAX_CPB < 65535) begin : g_cpb_high
    assign cpb_high = 32'(rd_count) > MAX_CPB;
  end else begin : g_cpb_any
    assign cpb_high = 1'b0;
  end
  always_comb begin
    if (!crc_ok) status = E_CRC;
    else if (!known) status = E_CMD;
    else if (cmd == C_READ && (rd_count == 0 || rd_count[15:9] != 0 || (rd_count[8] && rd_count[7:0] != 0))) status = E_LEN;
    else if (is_mem && (!in_range || (cmd == C_READ && !READABLE[p_mem[1:0]]))) status = E_ADDR;
    else if ((is_mem || cmd == C_START) && busy) status = E_BUSY;
    else if (cmd == C_BAUD && (rd_count < 16'd4 || cpb_high)) status = E_ARG;
    else status = S_OK;
  end

  // ---- the reply's bytes ----------------------------------------------------------------
  // the next word of an INFO or STATUS reply (word k)
  logic [31:0] info_k, status_k;
  assign info_k = info[32*k +: 32];
  always_comb begin
    case (k[2:0])
      3'd0: status_k = {30'd0, s_flags};
      3'd1: status_k = s_err;
      3'd2: status_k = s_layer;
      3'd3: status_k = s_cycles[31:0];
      default: status_k = s_cycles[63:32];
    endcase
  end

  // the next byte: header (0x5A, status, seq, len), payload, CRC (low byte first)
  logic [15:0] r_len;
  logic [7:0] tx_next;
  assign r_len = 16'(nwords) << 2;
  always_comb begin
    if (q == Q_HDR) begin
      case (hi)
        3'd0: tx_next = 8'h5A;
        3'd1: tx_next = r_status;
        3'd2: tx_next = seq;
        3'd3: tx_next = r_len[7:0];
        default: tx_next = r_len[15:8];
      endcase
    end else if (q == Q_BYTES) begin
      tx_next = word[8*bi +: 8];
    end else begin
      tx_next = hi == 0 ? crc[7:0] : crc[15:8];
    end
  end

  // the CRC after the byte received or sent now
  logic [15:0] crc_next;
  assign crc_next = bw_crc16::next(crc, st == L_REPLY ? tx_next : rx_data);

  // ---- the frame parser and command engine -------------------------------------------------
  always_ff @(posedge clk) begin
    m_req <= 1'b0;
    start <= 1'b0;
    if (rst) begin
      st <= L_HUNT;
      quiet <= '0;
      tx_valid <= 1'b0;
      m_we <= 1'b0;
      m_mem <= '0;
      m_addr <= '0;
      n_layers <= '0;
      batch <= '0;
      arena_words <= '0;
      desc_base <= '0;
      done_seen <= 1'b0;
      cpb <= CW'(CLKS_PER_BIT);
      cpb_pend <= 1'b0;
    end else begin
      // a BAUD reply has left (the link hunts again, the transmitter is idle): the new rate
      if (cpb_pend && st == L_HUNT && !tx_valid && tx_ready) begin
        cpb <= cpb_next;
        cpb_pend <= 1'b0;
      end

      // `done` is a pulse or a level that the start pulse clears at the next edge
      if (done && !start) done_seen <= 1'b1;

      // silence inside a frame
      quiet <= in_frame && !rx_valid && quiet != TW'(TIMEOUT) ? quiet + 1'b1 : '0;

      // the byte queued for the transmitter leaves
      if (tx_valid && tx_ready) tx_valid <= 1'b0;

      case (st)
        L_HUNT: if (rx_valid && rx_data == 8'hA5) begin
          st <= L_CMD;
          crc <= bw_crc16::INIT;
        end
        L_CMD, L_SEQ, L_LEN0, L_LEN1, L_PAY, L_CRC0, L_CRC1: begin
          if (rx_valid) begin
            if (st != L_CRC0 && st != L_CRC1) crc <= crc_next;
            case (st)
              L_CMD: begin
                cmd <= rx_data;
                st <= L_SEQ;
              end
              L_SEQ: begin
                seq <= rx_data;
                st <= L_LEN0;
              end
              L_LEN0: begin
                len_lo <= rx_data;
                st <= L_LEN1;
              end
              L_LEN1: begin
                wwords <= len_in[10:2] - 9'd1;
                rem <= len_in[10:0];
                hdr <= is_mem ? 3'd5 : 3'd0;
                dcnt <= '0;
                if (len_bad) begin
                  // answered at once; the rest of the frame is bytes between frames
                  r_status <= E_LEN;
                  nwords <= '0;
                  hi <= '0;
                  q <= Q_HDR;
                  crc <= bw_crc16::INIT;
                  st <= L_REPLY;
                end else begin
                  st <= len_in == 16'd0 ? L_CRC0 : L_PAY;
                end
              end
              L_PAY: begin
                rem <= rem - 1'b1;
                if (rem == 11'd1) st <= L_CRC0;
                if (hdr != 0) begin
                  hdr <= hdr - 1'b1;
                  if (hdr == 3'd5) p_mem <= rx_data;
                  else p_addr <= {rx_data, p_addr[31:8]};
                end else begin
                  dcnt <= dcnt + 1'b1;
                  wacc <= {rx_data, wacc[23:8]};
                end
              end
              L_CRC0: begin
                crc_lo <= rx_data;
                st <= L_CRC1;
              end
              default: begin  // L_CRC1
                crc_ok <= {rx_data, crc_lo} == crc;
                st <= L_CHECK;
              end
            endcase
          end else if (quiet == TW'(TIMEOUT)) begin
            st <= L_HUNT;  // the frame stopped: dropped without a reply
          end
        end

        L_CHECK: begin
          // a complete frame: check it
          r_status <= status;
          st <= L_EXEC;
        end

        L_EXEC: begin
          // then run it
          kind <= K_NONE;
          nwords <= '0;
          hi <= '0;
          q <= Q_HDR;
          crc <= bw_crc16::INIT;
          k <= '0;
          ph <= '0;
          m_we <= cmd == C_WRITE;
          m_mem <= p_mem[1:0];
          m_addr <= p_addr;
          s_flags <= {done_seen, busy};
          s_err <= err;
          s_layer <= layer;
          s_cycles <= cycles;
          st <= L_REPLY;
          if (r_status == S_OK) begin
            case (cmd)
              C_INFO: begin
                kind <= K_INFO;
                nwords <= KW'(INFO_WORDS);
                k_last <= KW'(INFO_WORDS - 1);
              end
              C_STATUS: begin
                kind <= K_STATUS;
                nwords <= KW'(5);
                k_last <= KW'(4);
              end
              C_READ: begin
                kind <= K_READ;
                nwords <= count;
                k_last <= count - 1'b1;
              end
              C_BAUD: begin
                cpb_next <= CW'(rd_count);
                cpb_pend <= 1'b1;
              end
              C_WRITE: begin
                nwords <= count;
                k_last <= count - 1'b1;
                st <= L_COMMIT;
              end
              default: st <= L_LOAD;  // C_START
            endcase
          end
        end

        L_LOAD: begin
          // START: buffer word k - 1 is in pb_q
          k <= k + 1'b1;
          case (k[2:0])
            3'd1: n_layers <= pb_q;
            3'd2: batch <= pb_q;
            3'd3: arena_words <= pb_q;
            3'd4: begin
              desc_base <= pb_q;
              start <= 1'b1;
              done_seen <= 1'b0;
              k <= '0;
              st <= L_REPLY;
            end
            default: ;
          endcase
        end

        L_COMMIT: begin
          // WRITE: buffer word k (in pb_q from the cycle after k is set) to memory word m_addr
          if (!ph) begin
            m_req <= 1'b1;
            ph <= 1'b1;
          end else if (m_ack) begin
            ph <= 1'b0;
            m_addr <= m_addr + 1'b1;
            k <= k + 1'b1;
            if (k == k_last) begin
              nwords <= '0;  // the reply has no payload
              k <= '0;
              st <= L_REPLY;
            end
          end
        end

        default: begin  // L_REPLY
          if (q == Q_WORD) begin
            // reply word k into `word`
            bi <= '0;
            case (kind)
              K_INFO: begin
                word <= info_k;
                q <= Q_BYTES;
              end
              K_STATUS: begin
                word <= status_k;
                q <= Q_BYTES;
              end
              default: begin  // K_READ: one memory read
                if (!ph) begin
                  m_req <= 1'b1;
                  ph <= 1'b1;
                end else if (m_ack) begin
                  word <= m_rdata;
                  m_addr <= m_addr + 1'b1;
                  ph <= 1'b0;
                  q <= Q_BYTES;
                end
              end
            endcase
          end else if (!tx_valid) begin
            // the next byte to the transmitter (status .. payload into the CRC)
            tx_valid <= 1'b1;
            tx_data <= tx_next;
            if (q == Q_BYTES || (q == Q_HDR && hi != 0)) crc <= crc_next;
            case (q)
              Q_HDR: begin
                hi <= hi + 1'b1;
                if (hi == 3'd4) begin
                  hi <= '0;
                  q <= nwords != 0 ? Q_WORD : Q_CRC;
                end
              end
              Q_BYTES: begin
                bi <= bi + 1'b1;
                if (bi == 2'd3) begin
                  k <= k + 1'b1;
                  q <= k == k_last ? Q_CRC : Q_WORD;
                end
              end
              default: begin  // Q_CRC
                hi <= hi + 1'b1;
                if (hi != 0) st <= L_HUNT;
              end
            endcase
          end
        end
      endcase
    end
  end
endmodule
