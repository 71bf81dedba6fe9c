// Test bench of the host link (bw_link, with bw_uart_rx, bw_uart_tx and bw_crc16): a host
// that speaks docs/BOARD-PROTOCOL.md at the bit level on `rx` and reads the replies off `tx`
// with a receiver of its own, a model of the SoC's four memories on the memory bus (random
// m_ack latency, 0 .. 6 cycles, 0 meaning in the cycle of m_req) and a model of the array's
// run control (busy for a set time, `done` as a pulse or as bw_top's level). Every reply is
// compared byte for byte, its CRC computed here bit by bit from the definition. Covered:
// INFO; WRITE then READ round trips (1 .. 256 words, up to the end of each memory) checked
// against a shadow of the memories after every request; every status code (E_CRC with the
// seq as received and nothing written, E_CMD, E_LEN at once for lengths wrong for the
// command or above 1,029 and after the frame for a READ count out of 1 .. 256, E_ADDR for
// unknown memories, ranges past the end and addresses that wrap, E_BUSY for WRITE, READ and
// START while the array runs); STATUS flags (busy, done latched since the last START, also
// when `done` is a level the START clears, and for a run that is done at once) and its
// snapshot of err, layer and a 64-bit cycle count whose low word wraps during the run;
// START's values, held from the pulse on; frames cut short (dropped after TIMEOUT cycles of
// silence, exactly at the boundary, then the next frame works); garbage bytes and glitches
// between frames; and random requests at the end. Prints PASS with counts, or stops with
// $fatal at the first difference (test/sim/link.test.ts builds it with `verilator --binary`).
// (The host, the receiver and the models keep their state with blocking assignments. Tasks
// clear their local queues first: Verilator 5.006 keeps them from one call to the next.)
/* verilator lint_off BLKSEQ */
module tb_link #(
  parameter int CLKS_PER_BIT = 16,   // of the link
  parameter int ROUNDS = 6,          // random WRITE / READ round trips
  parameter int RANDOM = 40,         // random requests at the end
  parameter int SEED = 1             // of data, addresses, latencies and garbage
);
  localparam int CPB = CLKS_PER_BIT;
  localparam int CHAR = 10 * CPB;          // cycles per UART character
  localparam int TIMEOUT = 40 * CPB;       // the link's timeout, short so that tests are quick
  localparam int INFO_WORDS = 17;
  localparam int MAXW = 1024;              // words the memory models hold

  // the SoC's memories (32-bit words): descriptors, parameters, weights, arena
  function automatic int size_of(input int m);
    /* verilator no_inline_task */
    case (m)
      0: return 40;
      1: return 24;
      2: return 600;
      default: return 300;
    endcase
  endfunction

  typedef logic [7:0] bytes_t [$];

  logic clk = 1'b0;
  always #1 clk = !clk;

  logic rst, rx, tx;
  logic m_req, m_we, m_ack, start, busy, done;
  logic [1:0] m_mem;
  logic [31:0] m_addr, m_wdata, m_rdata;
  logic [4*32-1:0] mem_words;
  logic [31:0] n_layers, batch, arena_words, desc_base, err, layer;
  logic [63:0] cycles;
  logic [INFO_WORDS*32-1:0] info;

  bw_link #(.CLKS_PER_BIT(CPB), .TIMEOUT(TIMEOUT), .INFO_WORDS(INFO_WORDS)) dut (
    .clk, .rst, .rx, .tx, .m_req, .m_we, .m_mem, .m_addr, .m_wdata, .m_ack, .m_rdata, .mem_words,
    .start, .n_layers, .batch, .arena_words, .desc_base, .busy, .done, .err, .layer, .cycles, .info
  );

  int cyc = 0;
  always @(posedge clk) cyc++;

  // ---- the memories ------------------------------------------------------------------------
  logic [31:0] mem [4][MAXW];      // what the link reads and writes
  logic [31:0] shadow [4][MAXW];   // what they must hold
  logic open_req = 1'b0;           // a request waits for its m_ack
  logic zero_lat = 1'b0;           // the next request is acknowledged in its own cycle
  logic ack_q = 1'b0;
  int lat;
  logic q_we;
  logic [1:0] q_mem;
  logic [31:0] q_addr, q_wdata;
  int mem_writes = 0, mem_reads = 0, zero_lat_acks = 0;

  assign m_ack = ack_q || (m_req && zero_lat);
  assign m_rdata = m_ack ? mem[m_mem][m_addr[9:0]] : 32'hDEADBEEF;

  always @(posedge clk) begin
    if (m_req) begin
      if (open_req) $fatal(1, "cycle %0d: m_req while a request is open", cyc);
      if (m_addr >= 32'(size_of(int'(m_mem)))) $fatal(1, "cycle %0d: request of word %0d of memory %0d (%0d words)", cyc, m_addr, m_mem, size_of(int'(m_mem)));
      q_we = m_we;
      q_mem = m_mem;
      q_addr = m_addr;
      q_wdata = m_wdata;
      if (!zero_lat) begin
        open_req = 1'b1;
        lat = 1 + int'($urandom % 6);
      end
    end
    if (m_ack) begin
      if (m_we !== q_we || m_mem !== q_mem || m_addr !== q_addr || (m_we && m_wdata !== q_wdata))
        $fatal(1, "cycle %0d: the request changed before m_ack", cyc);
      if (m_we) begin
        mem[m_mem][m_addr[9:0]] = m_wdata;
        mem_writes++;
      end else begin
        mem_reads++;
      end
      if (!open_req) zero_lat_acks++;
      open_req = 1'b0;
      ack_q <= 1'b0;
    end else if (open_req) begin
      if (m_we !== q_we || m_mem !== q_mem || m_addr !== q_addr || (m_we && m_wdata !== q_wdata))
        $fatal(1, "cycle %0d: the request changed before m_ack", cyc);
      lat--;
      if (lat == 0) ack_q <= 1'b1;
    end
  end
  always @(negedge clk) if (!open_req && !m_req) zero_lat = $urandom % 4 == 0;

  task automatic check_memories(input string what);
    for (int m = 0; m < 4; m++)
      for (int a = 0; a < size_of(m); a++)
        if (mem[m][a] !== shadow[m][a])
          $fatal(1, "%s: memory %0d word %0d is 0x%08h, want 0x%08h", what, m, a, mem[m][a], shadow[m][a]);
  endtask

  // ---- the array's run control ------------------------------------------------------------
  int run_len = 0;                 // cycles the next run is busy (0: done at once)
  logic done_level = 1'b0;         // `done` is a level cleared by START (bw_top), else a pulse
  int run_left = 0;
  int starts = 0;
  logic [127:0] want_vals;         // n_layers, batch, arena_words, desc_base of the next start
  logic [127:0] vals_prev = '0;
  int vals_changed = -1;           // cycle the values changed without a start yet
  logic start_prev = 1'b0;
  logic [31:0] run_err = 32'hE000_0001, run_layer = 32'd7;
  logic [63:0] cycles_base = 64'h0123_4567_89AB_CDEF;

  always @(posedge clk) begin
    logic [127:0] vals;
    vals = {desc_base, arena_words, batch, n_layers};
    if (rst) begin
      busy <= 1'b0;
      done <= 1'b0;
      err <= run_err;
      layer <= run_layer;
      cycles <= cycles_base;
    end else begin
      if (vals !== vals_prev && vals_changed < 0) vals_changed = cyc;
      vals_prev = vals;
      if (start && start_prev) $fatal(1, "cycle %0d: start longer than a cycle", cyc);
      start_prev = start;
      if (start) begin
        if (busy) $fatal(1, "cycle %0d: start while busy", cyc);
        if (vals !== want_vals)
          $fatal(1, "cycle %0d: started with n_layers %0d batch %0d arena_words %0d desc_base %0d, want %0d %0d %0d %0d", cyc,
                 n_layers, batch, arena_words, desc_base, want_vals[31:0], want_vals[63:32], want_vals[95:64], want_vals[127:96]);
        starts++;
        vals_changed = -1;
        err <= run_err;
        layer <= run_layer;
        cycles <= cycles_base;
        run_left = run_len;
        busy <= run_len != 0;
        done <= run_len == 0;
      end else if (run_left != 0) begin
        cycles <= cycles + 1;
        run_left--;
        if (run_left == 0) begin
          busy <= 1'b0;
          done <= 1'b1;
        end
      end else if (!done_level) begin
        done <= 1'b0;
      end
      if (vals_changed >= 0 && cyc - vals_changed > 4) $fatal(1, "cycle %0d: run values changed without a start", cyc);
    end
  end

  // ---- the host: bytes on rx, replies off tx ---------------------------------------------------
  function automatic logic [15:0] crc_of(input bytes_t b);
    /* verilator no_inline_task */
    logic [15:0] r;
    r = 16'hFFFF;
    foreach (b[i]) begin
      for (int j = 7; j >= 0; j--) begin
        logic top;
        top = r[15] ^ b[i][j];
        r = {r[14:0], 1'b0};
        if (top) r = r ^ 16'h1021;
      end
    end
    return r;
  endfunction

  // the host's UART: one character, driven at falling edges (bit counts in variables: loops
  // with timing that Verilator unrolls make the model slow to compile)
  int bits_per_char = 10, cycles_per_bit = CPB;
  task automatic send_byte(input logic [7:0] b);
    logic [9:0] c;
    c = {1'b1, b, 1'b0};
    for (int i = 0; i < bits_per_char; i++) begin
      rx = c[i];
      repeat (cycles_per_bit) @(negedge clk);
    end
  endtask

  task automatic idle(input int n);
    rx = 1'b1;
    repeat (n) @(negedge clk);
  endtask

  // the reply receiver: samples tx at mid-bit, checks the stop bit
  logic [7:0] got [$];
  initial begin
    forever begin
      @(negedge clk);
      if (!rst && tx === 1'b0) begin
        logic [7:0] b;
        repeat (cycles_per_bit / 2) @(negedge clk);
        if (tx !== 1'b0) $fatal(1, "cycle %0d: a glitch on tx", cyc);
        for (int i = 0; i < bits_per_char - 2; i++) begin
          repeat (cycles_per_bit) @(negedge clk);
          b[i[2:0]] = tx;
        end
        repeat (cycles_per_bit) @(negedge clk);
        if (tx !== 1'b1) $fatal(1, "cycle %0d: stop bit of a reply byte low", cyc);
        got.push_back(b);
      end
    end
  end

  // a request frame; len may be given wrong
  function automatic bytes_t frame(input logic [7:0] cmd, input logic [7:0] seq, input bytes_t payload, input int len = -1);
    /* verilator no_inline_task */
    bytes_t f, body;
    logic [15:0] c, n;
    f.delete();
    body.delete();
    n = len < 0 ? 16'(payload.size()) : 16'(len);
    body.push_back(cmd);
    body.push_back(seq);
    body.push_back(n[7:0]);
    body.push_back(n[15:8]);
    foreach (payload[i]) body.push_back(payload[i]);
    c = crc_of(body);
    f.push_back(8'hA5);
    foreach (body[i]) f.push_back(body[i]);
    f.push_back(c[7:0]);
    f.push_back(c[15:8]);
    return f;
  endfunction

  // b with w appended, little-endian
  function automatic bytes_t with32(input bytes_t b, input logic [31:0] w);
    /* verilator no_inline_task */
    bytes_t r;
    r = b;
    for (int i = 0; i < 4; i++) r.push_back(w[8*i +: 8]);
    return r;
  endfunction

  function automatic bytes_t mem_payload(input logic [7:0] m, input logic [31:0] addr);
    /* verilator no_inline_task */
    bytes_t p;
    p.delete();
    p.push_back(m);
    return with32(p, addr);
  endfunction

  function automatic bytes_t info_payload();
    bytes_t p;
    p.delete();
    for (int i = 0; i < INFO_WORDS; i++) p = with32(p, info[32*i +: 32]);
    return p;
  endfunction

  function automatic logic [7:0] not_a5();
    /* verilator no_inline_task */
    logic [7:0] b;
    do b = 8'($urandom); while (b == 8'hA5);
    return b;
  endfunction

  logic [7:0] seq_next = 8'd1;
  function automatic logic [7:0] new_seq();
    seq_next = seq_next + 8'd1;
    return seq_next;
  endfunction

  // waits for n reply bytes (at most `wait_cycles` for the first, two characters for each next)
  task automatic take(input int n, input int wait_cycles, output bytes_t b, input string what);
    int t;
    b.delete();
    t = 0;
    while (got.size() == 0) begin
      @(negedge clk);
      t++;
      if (t > wait_cycles) $fatal(1, "%s: no reply after %0d cycles", what, wait_cycles);
    end
    for (int i = 0; i < n; i++) begin
      t = 0;
      while (got.size() == 0) begin
        @(negedge clk);
        t++;
        if (t > 2 * CHAR) $fatal(1, "%s: reply stops after %0d bytes", what, b.size());
      end
      b.push_back(got.pop_front());
    end
  endtask

  task automatic expect_silence(input int n, input string what);
    idle(n);
    if (got.size() != 0) $fatal(1, "%s: %0d unexpected reply bytes (first 0x%02h)", what, got.size(), got[0]);
  endtask

  // noise between frames: garbage bytes (never 0xA5) and short low glitches
  int garbage = 0, glitches = 0;
  task automatic noise();
    int n;
    n = int'($urandom % 4);
    for (int i = 0; i < n; i++) begin
      if ($urandom % 3 == 0) begin
        rx = 1'b0;
        repeat (1 + int'($urandom % (CPB / 2))) @(negedge clk);
        idle(CPB);
        glitches++;
      end else begin
        send_byte(not_a5());
        garbage++;
      end
      idle(int'($urandom % CPB));
    end
  endtask

  // ---- one request and its reply ---------------------------------------------------------------
  // What the next transaction sends and expects, set by the prepare functions below: its bytes,
  // and after t_keep of them (all: -1) its reply, or silence; the rest of the bytes follow the
  // reply (E_LEN at once). t_gap idle cycles go before byte t_gap_at.
  bytes_t t_bytes;
  int t_keep, t_gap_at, t_gap, t_quiet, t_wait, t_writes, t_starts;
  logic t_reply, t_is_status;
  logic [7:0] t_status, t_seq;
  bytes_t t_payload;
  logic [1:0] t_flags;
  int replies = 0, timeouts = 0;
  int by_status [7] = '{0, 0, 0, 0, 0, 0, 0};

  function automatic void t_new(input logic [7:0] cmd, input bytes_t payload, input logic [7:0] status);
    t_seq = new_seq();
    t_bytes = frame(cmd, t_seq, payload);
    t_status = status;
    t_payload.delete();
    t_keep = -1;
    t_gap_at = -1;
    t_gap = 0;
    t_reply = 1'b1;
    t_quiet = 2 * CHAR;
    t_is_status = 1'b0;
    t_wait = 8 * CHAR + 4000;
    t_writes = 0;
    t_starts = 0;
  endfunction

  function automatic void p_info();
    bytes_t e;
    e.delete();
    t_new(8'h01, e, 8'd0);
    t_payload = info_payload();
  endfunction

  // STATUS: flags exactly; err, layer as driven; cycles as driven at some time in the exchange
  function automatic void p_status(input logic [1:0] flags);
    bytes_t e;
    e.delete();
    t_new(8'h05, e, 8'd0);
    t_is_status = 1'b1;
    t_flags = flags;
  endfunction

  // n random words to m, addr (an OK updates the shadow)
  function automatic void p_write(input logic [7:0] m, input logic [31:0] addr, input int n, input logic [7:0] status);
    bytes_t p;
    logic [31:0] w;
    p = mem_payload(m, addr);
    for (int i = 0; i < n; i++) begin
      w = $urandom;
      p = with32(p, w);
      if (status == 8'd0) shadow[m[1:0]][addr + 32'(i)] = w;
    end
    t_new(8'h02, p, status);
    t_wait += 10 * n;
    if (status == 8'd0) t_writes = n;
  endfunction

  // count words from m, addr: the shadow's
  function automatic void p_read(input logic [7:0] m, input logic [31:0] addr, input logic [15:0] count, input logic [7:0] status);
    bytes_t p;
    p = mem_payload(m, addr);
    p.push_back(count[7:0]);
    p.push_back(count[15:8]);
    t_new(8'h03, p, status);
    if (status == 8'd0) for (int i = 0; i < int'(count); i++) t_payload = with32(t_payload, shadow[m[1:0]][addr + 32'(i)]);
  endfunction

  function automatic void p_start(input logic [31:0] nl, input logic [31:0] b, input logic [31:0] aw, input logic [31:0] db, input logic [7:0] status);
    bytes_t p;
    p.delete();
    p = with32(p, nl);
    p = with32(p, b);
    p = with32(p, aw);
    p = with32(p, db);
    t_new(8'h04, p, status);
    if (status == 8'd0) begin
      want_vals = {db, aw, b, nl};
      t_starts = 1;
    end
  endfunction

  // E_CRC: a WRITE with a corrupted payload byte (0), CRC byte (1) or seq (2, echoed as
  // received), or a corrupted START (3); nothing may be written or started
  function automatic void p_crc(input int variant);
    bytes_t p;
    p.delete();
    if (variant == 3) begin
      for (int i = 0; i < 4; i++) p = with32(p, 32'd1);
      t_new(8'h04, p, 8'd1);
      t_bytes[5 + 2] ^= 8'h04;
    end else begin
      p = mem_payload(8'd3, 32'd10);
      for (int i = 0; i < 8; i++) p = with32(p, $urandom);
      t_new(8'h02, p, 8'd1);
      case (variant)
        0: t_bytes[5 + 7] ^= 8'h10;
        1: t_bytes[t_bytes.size() - 1] ^= 8'h01;
        default: begin
          t_bytes[2] ^= 8'h80;
          t_seq ^= 8'h80;
        end
      endcase
    end
  endfunction

  // an unknown command with n payload bytes
  function automatic void p_cmd(input logic [7:0] cmd, input int n);
    bytes_t p;
    p.delete();
    for (int j = 0; j < n; j++) p.push_back(8'($urandom));
    t_new(cmd, p, 8'd2);
  endfunction

  // BAUD with clocks per bit `cpb` (a value out of 4 .. (TIMEOUT - 1) / 10: E_ARG and no
  // change; CLKS_PER_BIT itself: OK and the rate stays)
  function automatic void p_baud(input logic [15:0] cpb, input logic [7:0] st);
    bytes_t p;
    p.delete();
    p.push_back(cpb[7:0]);
    p.push_back(cpb[15:8]);
    t_new(8'h06, p, st);
  endfunction

  // a length wrong for the command: E_LEN once the length has arrived; the rest of the
  // frame (here never 0xA5), up to 40 bytes of it, follows as garbage
  function automatic void p_len(input logic [7:0] cmd, input int len);
    bytes_t e;
    e.delete();
    t_new(cmd, e, 8'd3);
    t_bytes = frame(cmd, t_seq, e, len);
    while (t_bytes.size() > 5) void'(t_bytes.pop_back());
    for (int i = 0; i < (len + 2 < 40 ? len + 2 : 40); i++) t_bytes.push_back(not_a5());
    t_keep = 5;
  endfunction

  // the first `keep` bytes of a WRITE, then silence: dropped without a reply
  function automatic void p_cut(input int keep);
    bytes_t p;
    p = mem_payload(8'd0, 32'd0);
    for (int j = 0; j < 4; j++) p = with32(p, $urandom);
    t_new(8'h02, p, 8'd0);
    while (t_bytes.size() > keep) void'(t_bytes.pop_back());
    t_reply = 1'b0;
    t_quiet = TIMEOUT + 2 * CHAR;
  endfunction

  // an INFO frame with `gap` idle cycles before byte k: dropped when the silence between the
  // bytes (their stop bits are CHAR + gap cycles apart) exceeds TIMEOUT cycles; then the bytes
  // left are garbage (never 0xA5)
  function automatic void p_gap(input int k, input int gap, input logic dropped);
    bytes_t e;
    e.delete();
    do p_info(); while (t_bytes[2] == 8'hA5 || t_bytes[5] == 8'hA5 || t_bytes[6] == 8'hA5);
    t_gap_at = k;
    t_gap = gap;
    t_reply = !dropped;
  endfunction

  // sends the bytes, checks the reply (or the silence), the writes and the starts
  task automatic transact(input string what);
    bytes_t p;
    logic [63:0] lo, hi;
    int w0, s0, at;
    w0 = mem_writes;
    s0 = starts;
    lo = cycles;
    at = t_keep < 0 ? t_bytes.size() : t_keep;
    for (int i = 0; i <= t_bytes.size(); i++) begin
      if (i == at) begin
        if (t_reply) begin
          // the reply: header, payload, CRC over status .. payload
          bytes_t h, all;
          int n;
          h.delete();
          all.delete();
          take(5, t_wait, h, what);
          if (h[0] !== 8'h5A) $fatal(1, "%s: reply starts with 0x%02h", what, h[0]);
          if (h[1] !== t_status) $fatal(1, "%s: status %0d, want %0d", what, h[1], t_status);
          if (h[2] !== t_seq) $fatal(1, "%s: seq %0d, want %0d", what, h[2], t_seq);
          n = int'({h[4], h[3]});
          take(n + 2, 2 * CHAR, p, what);
          hi = cycles;
          for (int j = 1; j < 5; j++) all.push_back(h[j]);
          for (int j = 0; j < n; j++) all.push_back(p[j]);
          if ({p[n + 1], p[n]} !== crc_of(all)) $fatal(1, "%s: reply CRC 0x%04h, want 0x%04h", what, {p[n + 1], p[n]}, crc_of(all));
          if (t_is_status) begin
            logic [31:0] w [5];
            logic [63:0] c;
            if (n != 20) $fatal(1, "%s: %0d payload bytes, want 20", what, n);
            for (int j = 0; j < 5; j++) w[j] = {p[4*j + 3], p[4*j + 2], p[4*j + 1], p[4*j]};
            c = {w[4], w[3]};
            if (w[0] !== 32'(t_flags)) $fatal(1, "%s: flags %0d, want %0d", what, w[0], t_flags);
            if (w[1] !== err || w[2] !== layer) $fatal(1, "%s: err 0x%08h layer %0d, want 0x%08h %0d", what, w[1], w[2], err, layer);
            if (c < lo || c > hi) $fatal(1, "%s: cycles 0x%016h, want 0x%016h .. 0x%016h", what, c, lo, hi);
          end else begin
            if (n != t_payload.size()) $fatal(1, "%s: %0d payload bytes, want %0d", what, n, t_payload.size());
            for (int j = 0; j < n; j++) if (p[j] !== t_payload[j]) $fatal(1, "%s: payload byte %0d is 0x%02h, want 0x%02h", what, j, p[j], t_payload[j]);
          end
          replies++;
          if (t_status < 8'd7) by_status[t_status[2:0]]++;
        end else begin
          expect_silence(t_quiet, what);
          timeouts++;
        end
      end
      if (i < t_bytes.size()) begin
        if (i == t_gap_at) idle(t_gap);
        send_byte(t_bytes[i]);
      end
    end
    if (at < t_bytes.size()) expect_silence(2 * CHAR, what);  // the rest was ignored
    if (mem_writes != w0 + t_writes) $fatal(1, "%s: %0d memory writes, want %0d", what, mem_writes - w0, t_writes);
    if (starts != s0 + t_starts) $fatal(1, "%s: %0d starts, want %0d", what, starts - s0, t_starts);
    check_memories(what);
  endtask

  // ---- the tests: a list of steps, then one pass over it ------------------------------------
  typedef enum int {
    OP_INFO, OP_STATUS, OP_WRITE, OP_READ, OP_START, OP_CRC, OP_CMD, OP_LEN, OP_CUT, OP_GAP,
    OP_RUN, OP_WAIT, OP_NOISE, OP_BAUD
  } op_t;
  op_t op_q [$];
  logic [31:0] a_q [$], b_q [$], c_q [$], d_q [$];
  logic [7:0] st_q [$];
  string what_q [$];

  function automatic void add(input op_t op, input logic [31:0] a, input logic [31:0] b, input logic [31:0] c, input logic [31:0] d, input logic [7:0] st, input string what);
    op_q.push_back(op);
    a_q.push_back(a);
    b_q.push_back(b);
    c_q.push_back(c);
    d_q.push_back(d);
    st_q.push_back(st);
    what_q.push_back(what);
  endfunction
  // loop bounds in variables: Verilator would unroll the loops that build the list
  int n_rounds = ROUNDS, n_random = RANDOM, n_mems = 4;
  // the common ones
  function automatic void info_();
    add(OP_INFO, 0, 0, 0, 0, 0, "INFO");
  endfunction
  function automatic void status_(input logic [1:0] flags, input string what);
    add(OP_STATUS, 32'(flags), 0, 0, 0, 0, what);
  endfunction
  function automatic void write_(input int m, input logic [31:0] addr, input int n, input logic [7:0] st, input string what);
    add(OP_WRITE, 32'(m), addr, 32'(n), 0, st, what);
  endfunction
  function automatic void read_(input int m, input logic [31:0] addr, input int n, input logic [7:0] st, input string what);
    add(OP_READ, 32'(m), addr, 32'(n), 0, st, what);
  endfunction
  // the next run: busy for `len` cycles (0: done at once), done a level or a pulse, its
  // cycle count from `base`
  function automatic void run_(input int len, input logic level, input logic [63:0] base);
    add(OP_RUN, 32'(level), base[31:0], 32'(len), base[63:32], 0, "");
  endfunction
  function automatic void rand_range(input int most, output int m, output int n, output logic [31:0] a);
    m = int'($urandom % 4);
    n = 1 + int'($urandom % (size_of(m) < most ? size_of(m) : most));
    a = 32'($urandom % (size_of(m) - n + 1));
  endfunction

  initial begin
    void'($urandom(SEED));
    for (int m = 0; m < 4; m++) begin
      mem_words[32*m +: 32] = 32'(size_of(m));
      for (int a = 0; a < MAXW; a++) begin
        mem[m][a] = $urandom;
        shadow[m][a] = mem[m][a];
      end
    end
    info[31:0] = 32'h31575642;
    for (int i = 1; i < INFO_WORDS; i++) info[32*i +: 32] = $urandom;

    // INFO, STATUS out of reset
    info_();
    status_(2'b00, "STATUS after reset");

    // WRITE / READ round trips: one word, a whole 256-word frame at the end of the weights,
    // the last words of each memory, then random ranges with noise between the frames
    write_(2, 0, 1, 0, "WRITE 1 word");
    read_(2, 0, 1, 0, "READ 1 word");
    write_(2, 32'(size_of(2) - 256), 256, 0, "WRITE 256 words");
    read_(2, 32'(size_of(2) - 256), 256, 0, "READ 256 words");
    for (int m = 0; m < n_mems; m++) begin
      write_(m, 32'(size_of(m) - 3), 3, 0, "WRITE the last words");
      read_(m, 32'(size_of(m) - 5), 5, 0, "READ the last words");
    end
    for (int r = 0; r < n_rounds; r++) begin
      int m, n;
      logic [31:0] a;
      rand_range(64, m, n, a);
      add(OP_NOISE, 0, 0, 0, 0, 0, "");
      write_(m, a, n, 0, "round trip: WRITE");
      add(OP_NOISE, 0, 0, 0, 0, 0, "");
      read_(m, a, n, 0, "round trip: READ");
    end

    // E_CRC
    add(OP_CRC, 0, 0, 0, 0, 1, "E_CRC: a payload byte");
    add(OP_CRC, 1, 0, 0, 0, 1, "E_CRC: a CRC byte");
    add(OP_CRC, 2, 0, 0, 0, 1, "E_CRC: the seq");
    add(OP_CRC, 3, 0, 0, 0, 1, "E_CRC: START");
    // E_CMD: unknown commands, with and without payload
    add(OP_CMD, 32'h00, 0, 0, 0, 2, "E_CMD 0x00");
    add(OP_CMD, 32'h07, 0, 3, 0, 2, "E_CMD 0x07");
    add(OP_CMD, 32'h5A, 0, 7, 0, 2, "E_CMD 0x5A");
    add(OP_CMD, 32'hA5, 0, 16, 0, 2, "E_CMD 0xA5");
    add(OP_CMD, 32'h80, 0, 1029, 0, 2, "E_CMD 0x80, 1029 bytes");
    add(OP_CMD, 32'hFF, 0, 1, 0, 2, "E_CMD 0xFF");
    // E_LEN at once: lengths wrong for the command or above 1,029
    add(OP_LEN, 32'h01, 0, 1, 0, 3, "E_LEN: INFO 1 byte");
    add(OP_LEN, 32'h05, 0, 4, 0, 3, "E_LEN: STATUS 4 bytes");
    add(OP_LEN, 32'h03, 0, 6, 0, 3, "E_LEN: READ 6 bytes");
    add(OP_LEN, 32'h03, 0, 8, 0, 3, "E_LEN: READ 8 bytes");
    add(OP_LEN, 32'h04, 0, 15, 0, 3, "E_LEN: START 15 bytes");
    add(OP_LEN, 32'h04, 0, 20, 0, 3, "E_LEN: START 20 bytes");
    add(OP_LEN, 32'h02, 0, 0, 0, 3, "E_LEN: WRITE no payload");
    add(OP_LEN, 32'h06, 0, 0, 0, 3, "E_LEN: BAUD no payload");
    add(OP_LEN, 32'h06, 0, 4, 0, 3, "E_LEN: BAUD 4 bytes");
    // BAUD: E_ARG outside 4 .. (TIMEOUT - 1) / 10 (the rate stays), OK at the current rate
    add(OP_BAUD, 32'd3, 0, 0, 0, 6, "E_ARG: BAUD 3 clocks per bit");
    add(OP_BAUD, 32'd0, 0, 0, 0, 6, "E_ARG: BAUD 0 clocks per bit");
    add(OP_BAUD, 32'((TIMEOUT - 1) / 10 + 1), 0, 0, 0, 6, "E_ARG: BAUD whose character outlasts the timeout");
    add(OP_BAUD, 32'hFFFF, 0, 0, 0, 6, "E_ARG: BAUD 65535 clocks per bit");
    add(OP_BAUD, 32'(CPB), 0, 0, 0, 0, "BAUD at the current rate");
    add(OP_INFO, 0, 0, 0, 0, 0, "INFO after BAUD");
    add(OP_LEN, 32'h02, 0, 5, 0, 3, "E_LEN: WRITE no words");
    add(OP_LEN, 32'h02, 0, 8, 0, 3, "E_LEN: WRITE 8 bytes");
    add(OP_LEN, 32'h02, 0, 10, 0, 3, "E_LEN: WRITE 10 bytes");
    add(OP_LEN, 32'h02, 0, 1033, 0, 3, "E_LEN: WRITE 257 words");
    add(OP_LEN, 32'h01, 0, 1030, 0, 3, "E_LEN: INFO 1030 bytes");
    add(OP_LEN, 32'h77, 0, 1030, 0, 3, "E_LEN: unknown command, 1030 bytes");
    add(OP_LEN, 32'h02, 0, 65535, 0, 3, "E_LEN: WRITE 65535 bytes");
    add(OP_LEN, 32'h80, 0, 32768, 0, 3, "E_LEN: unknown command, 32768 bytes");
    // E_LEN after the frame: a READ count out of 1 .. 256
    read_(0, 0, 0, 3, "E_LEN: READ count 0");
    read_(2, 0, 257, 3, "E_LEN: READ count 257");
    read_(2, 0, 65535, 3, "E_LEN: READ count 65535");
    read_(2, 0, 256, 0, "READ count 256");
    // E_ADDR: unknown memories, past the end, wrapping addresses
    read_(4, 0, 1, 4, "E_ADDR: READ memory 4");
    write_(255, 0, 1, 4, "E_ADDR: WRITE memory 255");
    write_(4, 0, 2, 4, "E_ADDR: WRITE memory 4");
    for (int m = 0; m < n_mems; m++) begin
      read_(m, 32'(size_of(m) - 4), 5, 4, "E_ADDR: READ one word past the end");
      write_(m, 32'(size_of(m)), 1, 4, "E_ADDR: WRITE at the end");
      write_(m, 32'(size_of(m) - 1), 2, 4, "E_ADDR: WRITE one word past the end");
    end
    read_(3, 32'hFFFF_FFFF, 1, 4, "E_ADDR: READ at 2^32 - 1");
    read_(2, 32'hFFFF_FF00, 256, 4, "E_ADDR: READ wrapping to 0");
    write_(2, 32'hFFFF_FFFE, 4, 4, "E_ADDR: WRITE wrapping to 0");

    // START and STATUS, E_BUSY while the array runs (its cycle count's low word wraps)
    run_(300 * CHAR, 1'b0, 64'h0000_0002_0000_0000 - 64'(150 * CHAR));
    add(OP_START, 5, 2, 1000, 0, 0, "START");
    status_(2'b01, "STATUS while busy");
    write_(1, 0, 2, 5, "E_BUSY: WRITE");
    read_(1, 0, 2, 5, "E_BUSY: READ");
    add(OP_START, 9, 9, 9, 9, 5, "E_BUSY: START");
    info_();
    status_(2'b01, "STATUS still busy");
    add(OP_WAIT, 0, 0, 0, 0, 0, "");
    status_(2'b10, "STATUS done (a pulse)");
    status_(2'b10, "STATUS done, again");
    read_(1, 0, 2, 0, "READ after the run");
    // done as a level that START clears (bw_top's); runs done at once (n_layers 0)
    run_(3 * CHAR, 1'b1, 64'd1000);
    add(OP_START, 1, 1, 64, 16, 0, "START (done a level)");
    add(OP_WAIT, 0, 0, 0, 0, 0, "");
    status_(2'b10, "STATUS done (a level)");
    run_(60 * CHAR, 1'b1, 64'd5000);
    add(OP_START, 32'hFFFF_FFFF, 32'h8000_0000, 32'h0123_4567, 32'hFEDC_BA98, 0, "START with done high");
    status_(2'b01, "STATUS busy, done was high at START");
    add(OP_WAIT, 0, 0, 0, 0, 0, "");
    run_(0, 1'b1, 64'd7);
    add(OP_START, 0, 1, 2, 3, 0, "START done at once (a level)");
    status_(2'b10, "STATUS done at once (a level)");
    run_(0, 1'b0, 64'd9);
    add(OP_START, 4, 3, 2, 1, 0, "START done at once (a pulse)");
    status_(2'b10, "STATUS done at once (a pulse)");

    // frames cut short: after 0xA5, in the header, in a WRITE's payload, before the CRC
    add(OP_CUT, 0, 0, 1, 0, 0, "timeout after 0xA5");
    info_();
    add(OP_CUT, 0, 0, 4, 0, 0, "timeout in the header");
    status_(2'b10, "STATUS after a timeout");
    add(OP_CUT, 0, 0, 12, 0, 0, "timeout in the payload");
    read_(0, 0, 4, 0, "READ after a timeout");
    add(OP_CUT, 0, 0, 27, 0, 0, "timeout before the last CRC byte");
    info_();
    // the boundary: bytes CHAR + gap cycles apart; TIMEOUT cycles of silence pass, one more not
    for (int k = 1; k < n_mems + 3; k += 2) begin
      add(OP_GAP, 32'(k), 0, 32'(TIMEOUT + 1 - CHAR), 0, 0, "silence of TIMEOUT cycles");
      add(OP_GAP, 32'(k), 0, 32'(TIMEOUT + 2 - CHAR), 1, 0, "silence of TIMEOUT + 1 cycles");
      info_();
    end

    // random requests with noise between them
    for (int r = 0; r < n_random; r++) begin
      int m, n;
      logic [31:0] a;
      rand_range(16, m, n, a);
      add(OP_NOISE, 0, 0, 0, 0, 0, "");
      case ($urandom % 6)
        0: info_();
        1: status_(2'b10, "random STATUS");
        2: write_(m, a, n, 0, "random WRITE");
        3: read_(m, a, n, 0, "random READ");
        4: write_(m, 32'(size_of(m) - n + 1), n, 4, "random WRITE past the end");
        default: read_(m, 32'(size_of(m) - n + 1) + 32'($urandom % 8), n, 4, "random READ past the end");
      endcase
    end

    // run them
    rx = 1'b1;
    rst = 1'b1;
    repeat (5) @(negedge clk);
    rst = 1'b0;
    idle(3 * CPB);
    foreach (op_q[i]) begin
      logic [31:0] a, b, c, d;
      logic [7:0] st;
      string what;
      a = a_q[i];
      b = b_q[i];
      c = c_q[i];
      d = d_q[i];
      st = st_q[i];
      what = $sformatf("step %0d (%s)", i, what_q[i]);
      case (op_q[i])
        OP_RUN: begin
          done_level = a[0];
          cycles_base = {d, b};
          run_len = int'(c);
          run_err = run_err + 32'h11;
          run_layer = run_layer + 32'd1;
        end
        OP_WAIT: begin
          while (busy) @(negedge clk);
          idle(CHAR);
        end
        OP_NOISE: noise();
        default: begin
          case (op_q[i])
            OP_INFO: p_info();
            OP_STATUS: p_status(a[1:0]);
            OP_WRITE: p_write(a[7:0], b, int'(c), st);
            OP_READ: p_read(a[7:0], b, c[15:0], st);
            OP_START: p_start(a, b, c, d, st);
            OP_CRC: p_crc(int'(a));
            OP_CMD: p_cmd(a[7:0], int'(c));
            OP_LEN: p_len(a[7:0], int'(c));
            OP_BAUD: p_baud(a[15:0], st);
            OP_CUT: p_cut(int'(c));
            default: p_gap(int'(a), int'(c), d[0]);  // OP_GAP
          endcase
          transact(what);
        end
      endcase
    end

    expect_silence(4 * CHAR, "the end");
    check_memories("the end");
    if (by_status[0] == 0 || by_status[1] == 0 || by_status[2] == 0 || by_status[3] == 0 || by_status[4] == 0 || by_status[5] == 0 || by_status[6] == 0)
      $fatal(1, "coverage: replies by status %0d %0d %0d %0d %0d %0d %0d", by_status[0], by_status[1], by_status[2], by_status[3], by_status[4], by_status[5], by_status[6]);
    if (zero_lat_acks == 0) $fatal(1, "coverage: no m_ack in the cycle of m_req");
    $display("PASS: %0d replies (OK %0d, E_CRC %0d, E_CMD %0d, E_LEN %0d, E_ADDR %0d, E_BUSY %0d, E_ARG %0d), %0d words written, %0d read, %0d starts, %0d timeouts, %0d garbage bytes, %0d glitches (CLKS_PER_BIT %0d)",
             replies, by_status[0], by_status[1], by_status[2], by_status[3], by_status[4], by_status[5], by_status[6], mem_writes, mem_reads, starts, timeouts, garbage, glitches, CPB);
    $finish;
  end
endmodule
