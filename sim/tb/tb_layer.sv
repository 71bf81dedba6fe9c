// Test bench of descriptor fetch and decode (bw_layer): pairs of random descriptors (valid
// layers, and layers with each kind of field the RTL refuses) in a descriptor memory
// that answers the lane as bw_top's does. For each pair: fetch and decode the first,
// compare every field of the decoded layer, the error bits and `bad` with values computed
// here from the descriptor; prefetch the second for a random number of cycles, advance,
// fetch the rest (only the words not prefetched may be requested) and check it the same
// way. Needs the generated package bitweave_array (ROWS, COLS, descriptor layout).
// Prints PASS, or stops with $fatal at the first difference (test/sim/blocks.test.ts).
// (The test bench computes its expectations with blocking assignments in clocked code.)
/* verilator lint_off BLKSEQ */
module tb_layer #(
  parameter int DRAIN = 1,      // columns drained per cycle (divides COLS)
  parameter int PDEPTH = 16,    // channel groups the row units hold (small: err bit 1 is hit)
  parameter int PAIRS = 300,    // random descriptor pairs
  parameter int SEED = 1        // of the descriptors and prefetch lengths
);
  localparam int ROWS = bitweave_array::ROWS;
  localparam int COLS = bitweave_array::COLS;
  localparam int DW = bitweave_array::DESC_WORDS;
  localparam int MAX_OUT_BITS = 2;

  logic clk = 1'b0;
  always #1 clk = !clk;

  logic rst, restart, fetch, decode, prefetch, advance, fetched, decoded, bad;
  logic [31:0] err, d_addr, d_rdata;
  logic d_en;
  bw_pkg::layer_t cfg;

  bw_layer #(.ROWS(ROWS), .COLS(COLS), .MAX_OUT_BITS(MAX_OUT_BITS), .PDEPTH(PDEPTH), .DESC_WORDS(DW), .DRAIN(DRAIN)) dut (
    .clk, .rst, .restart, .fetch, .decode, .prefetch, .advance, .fetched, .decoded, .bad, .err,
    .d_en, .d_addr, .d_rdata, .cfg
  );

  // the descriptor memory: a registered request is answered in the same cycle
  logic [31:0] mem [2*DW];
  int requests;
  assign d_rdata = d_en && d_addr < 2 * DW ? mem[d_addr] : 32'hdeadbeef;
  always @(posedge clk) begin
    if (d_en) begin
      if (d_addr >= 2 * DW) $fatal(1, "read descriptor word %0d outside the memory", d_addr);
      requests++;
    end
  end

  function automatic int rnd(int lo, int hi); return lo + int'($urandom % (hi - lo + 1)); endfunction
  // the product of the low 16 bits of two fields
  function automatic logic [31:0] m16(logic [31:0] a, logic [31:0] b); return (a & 32'hffff) * (b & 32'hffff); endfunction

  // a descriptor at word base: usually a layer the RTL runs, sometimes one field it refuses
  task automatic random_descriptor(int base);
    logic [31:0] d [DW];
    int bad_kind;
    for (int i = 0; i < DW; i++) d[i] = $urandom;
    d[bitweave_array::D_OPCODE] = 32'($urandom % 64);
    d[bitweave_array::D_IN_H] = 32'(rnd(1, 40));
    d[bitweave_array::D_IN_W] = 32'(rnd(1, 40));
    d[bitweave_array::D_IN_C] = 32'(rnd(1, 300));
    d[bitweave_array::D_IN_WORDS] = (d[bitweave_array::D_IN_C] + 63) / 64;
    d[bitweave_array::D_IN_PLANES] = 32'(rnd(1, 8));
    d[bitweave_array::D_W_BITS] = 32'(rnd(1, 4));
    d[bitweave_array::D_KH] = 32'(rnd(1, 5));
    d[bitweave_array::D_KW] = 32'(rnd(1, 5));
    d[bitweave_array::D_SH] = 32'(rnd(1, 3));
    d[bitweave_array::D_SW] = 32'(rnd(1, 3));
    d[bitweave_array::D_PH] = 32'(rnd(0, 2));
    d[bitweave_array::D_PW] = 32'(rnd(0, 2));
    d[bitweave_array::D_PAD_BIT] = 32'($urandom % 2);
    d[bitweave_array::D_OUT_C] = 32'(rnd(1, ROWS * PDEPTH));
    d[bitweave_array::D_ACC_H] = 32'(rnd(1, 40));
    d[bitweave_array::D_ACC_W] = 32'(rnd(1, 40));
    d[bitweave_array::D_OUT_H] = 32'(rnd(1, 40));
    d[bitweave_array::D_OUT_W] = 32'(rnd(1, 40));
    for (int i = bitweave_array::D_POOL_KH; i <= bitweave_array::D_POOL_PW; i++) d[i] = 32'(rnd(0, 3));
    d[bitweave_array::D_OUT_BITS] = 32'(rnd(1, MAX_OUT_BITS));
    d[bitweave_array::D_TAIL] = 32'(rnd(0, 63));
    if ($urandom % 3 == 0) begin  // K = 1 word: the tile period is set by the drain or the walker
      d[bitweave_array::D_KH] = 1; d[bitweave_array::D_KW] = 1; d[bitweave_array::D_IN_PLANES] = 1; d[bitweave_array::D_W_BITS] = 1;
      d[bitweave_array::D_IN_C] = 32'(rnd(1, 64)); d[bitweave_array::D_IN_WORDS] = 1;
    end
    bad_kind = rnd(0, 13);
    case (bad_kind)
      1: d[bitweave_array::D_OUT_BITS] = 32'($urandom % 2 == 0 ? 0 : rnd(MAX_OUT_BITS + 1, 9));
      2: d[bitweave_array::D_OUT_C] = 32'(rnd(ROWS * PDEPTH + 1, ROWS * PDEPTH + 200));
      3: d[bitweave_array::D_IN_PLANES] = 32'($urandom % 2 == 0 ? 0 : rnd(9, 12));
      4: d[rnd(bitweave_array::D_IN_H, bitweave_array::D_OUT_W)] = 32'(rnd(65536, 70000));
      5: d[bitweave_array::D_KH] = 0;
      6: d[bitweave_array::D_IN_WORDS] = 32'(rnd(3000, 9000));
      7: d[bitweave_array::D_W_BITS] = 32'($urandom % 2 == 0 ? 0 : rnd(5, 7));
      default: ;
    endcase
    for (int i = 0; i < DW; i++) mem[base + i] = d[i];
  endtask

  function automatic void check(logic [31:0] got, logic [31:0] exp, string what, int pair);
    if (got !== exp) $fatal(1, "pair %0d: %s is %0d (0x%0h), want %0d (0x%0h)", pair, what, got, got, exp, exp);
  endfunction

  // the decoded layer and error bits as the descriptor at word base defines them
  task automatic check_decoded(int base, int pair);
    logic [31:0] d [DW];
    logic thr, pool;
    logic [31:0] g, px, kk, k, wk, rowpx, opx, out_words, nthr, period, e, in_c, wb, oflip;
    logic [1:0] mode;
    for (int i = 0; i < DW; i++) d[i] = mem[base + i];
    thr = d[bitweave_array::D_OPCODE][0];
    pool = d[bitweave_array::D_OPCODE][1];
    check(32'(cfg.thr), 32'(thr), "thr", pair);
    check(32'(cfg.pool), 32'(pool), "pool", pair);
    check(32'(cfg.and_mode), 32'(d[bitweave_array::D_OPCODE][2]), "and_mode", pair);
    check(32'(cfg.in_signed), 32'(d[bitweave_array::D_OPCODE][3]), "in_signed", pair);
    check(32'(cfg.w_signed), 32'(d[bitweave_array::D_OPCODE][4]), "w_signed", pair);
    check(cfg.w_bits, d[bitweave_array::D_W_BITS], "w_bits", pair);
    if (d[bitweave_array::D_IN_PLANES] == 1) mode = d[bitweave_array::D_W_BITS] == 1 ? 2'd0 : 2'd2;
    else mode = d[bitweave_array::D_W_BITS] == 1 ? 2'd1 : 2'd3;
    check(32'(cfg.pe_mode), 32'(mode), "pe_mode", pair);
    check(cfg.in_h, d[bitweave_array::D_IN_H], "in_h", pair);
    check(cfg.in_w, d[bitweave_array::D_IN_W], "in_w", pair);
    check(cfg.in_words, d[bitweave_array::D_IN_WORDS], "in_words", pair);
    check(cfg.in_planes, d[bitweave_array::D_IN_PLANES], "in_planes", pair);
    check(cfg.kh, d[bitweave_array::D_KH], "kh", pair);
    check(cfg.kw, d[bitweave_array::D_KW], "kw", pair);
    check(cfg.sh, d[bitweave_array::D_SH], "sh", pair);
    check(cfg.sw, d[bitweave_array::D_SW], "sw", pair);
    check(cfg.ph, d[bitweave_array::D_PH], "ph", pair);
    check(cfg.pw, d[bitweave_array::D_PW], "pw", pair);
    check(cfg.out_c, d[bitweave_array::D_OUT_C], "out_c", pair);
    check(cfg.acc_h, d[bitweave_array::D_ACC_H], "acc_h", pair);
    check(cfg.acc_w, d[bitweave_array::D_ACC_W], "acc_w", pair);
    check(cfg.out_h, d[bitweave_array::D_OUT_H], "out_h", pair);
    check(cfg.out_w, d[bitweave_array::D_OUT_W], "out_w", pair);
    check(cfg.pkh, pool ? d[bitweave_array::D_POOL_KH] : 1, "pkh", pair);
    check(cfg.pkw, pool ? d[bitweave_array::D_POOL_KW] : 1, "pkw", pair);
    check(cfg.psh, pool ? d[bitweave_array::D_POOL_SH] : 1, "psh", pair);
    check(cfg.psw, pool ? d[bitweave_array::D_POOL_SW] : 1, "psw", pair);
    check(cfg.pph, pool ? d[bitweave_array::D_POOL_PH] : 0, "pph", pair);
    check(cfg.ppw, pool ? d[bitweave_array::D_POOL_PW] : 0, "ppw", pair);
    check(cfg.out_bits, thr ? d[bitweave_array::D_OUT_BITS] : 0, "out_bits", pair);
    check(cfg.tail, d[bitweave_array::D_TAIL], "tail", pair);
    check(cfg.in_off, d[bitweave_array::D_IN_OFF], "in_off", pair);
    check(cfg.out_off, d[bitweave_array::D_OUT_OFF], "out_off", pair);
    check(cfg.w_off, d[bitweave_array::D_W_OFF], "w_off", pair);
    check(cfg.t_off, d[bitweave_array::D_T_OFF], "t_off", pair);
    check(cfg.f_off, d[bitweave_array::D_F_OFF], "f_off", pair);
    in_c = d[bitweave_array::D_IN_C] % 64;
    check(cfg.pad_full[31:0], d[bitweave_array::D_PAD_BIT][0] ? '1 : '0, "pad_full", pair);
    check(cfg.pad_full[63:32], d[bitweave_array::D_PAD_BIT][0] ? '1 : '0, "pad_full (high)", pair);
    for (int b = 0; b < 64; b++) begin
      check(32'(cfg.pad_last[b]), 32'(d[bitweave_array::D_PAD_BIT][0] && (in_c == 0 || b < int'(in_c))), $sformatf("pad_last bit %0d", b), pair);
    end
    out_words = (d[bitweave_array::D_OUT_C] + 63) / 64;
    g = (d[bitweave_array::D_OUT_C] + ROWS - 1) / ROWS;
    nthr = thr && d[bitweave_array::D_OUT_BITS] <= MAX_OUT_BITS ? (1 << d[bitweave_array::D_OUT_BITS]) - 1 : 0;
    px = m16(d[bitweave_array::D_IN_PLANES], d[bitweave_array::D_IN_WORDS]);
    kk = m16(d[bitweave_array::D_KH], d[bitweave_array::D_KW]);
    wb = d[bitweave_array::D_W_BITS] & 7; // 3 bits are decoded: W_BITS > MAX_W_BITS is an error anyway
    k = m16(kk, m16(m16(d[bitweave_array::D_IN_PLANES], wb), d[bitweave_array::D_IN_WORDS]));
    wk = m16(kk, m16(wb, d[bitweave_array::D_IN_WORDS]));
    oflip = d[bitweave_array::D_OPCODE][5] && thr ? 32'(1) << (d[bitweave_array::D_OUT_BITS] - 1) : 0;
    rowpx = m16(d[bitweave_array::D_IN_W], px);
    opx = thr ? m16(d[bitweave_array::D_OUT_BITS], out_words) : d[bitweave_array::D_OUT_C];
    if (pool) period = k > COLS ? k : COLS;
    else begin
      period = k;
      if (COLS / DRAIN > period) period = COLS / DRAIN;
      if ((COLS + g - 1) / g > period) period = (COLS + g - 1) / g;
    end
    check(cfg.out_words, out_words, "out_words", pair);
    check(cfg.ngroups, g, "ngroups", pair);
    if (!(thr && d[bitweave_array::D_OUT_BITS] > MAX_OUT_BITS)) check(cfg.nthr, nthr, "nthr", pair);
    if (!(thr && (d[bitweave_array::D_OUT_BITS] > MAX_OUT_BITS || d[bitweave_array::D_OUT_BITS] == 0))) check(cfg.oflip, oflip, "oflip", pair);
    check(cfg.px, px, "px", pair);
    check(cfg.wpw, m16(m16(d[bitweave_array::D_IN_PLANES], wb), d[bitweave_array::D_IN_WORDS]), "wpw", pair);
    check(cfg.k_steps, k, "k_steps", pair);
    check(cfg.wk, wk, "wk", pair);
    check(cfg.rowpx, rowpx, "rowpx", pair);
    check(cfg.opx, opx, "opx", pair);
    check(cfg.period, period, "period", pair);
    e = 0;
    if (thr && (d[bitweave_array::D_OUT_BITS] > MAX_OUT_BITS || d[bitweave_array::D_OUT_BITS] == 0)) e[0] = 1;
    if (g > PDEPTH) e[1] = 1;
    if (d[bitweave_array::D_IN_PLANES] > 8 || d[bitweave_array::D_IN_PLANES] == 0) e[2] = 1;
    if (d[bitweave_array::D_W_BITS] > bitweave_array::MAX_W_BITS || d[bitweave_array::D_W_BITS] == 0) e[2] = 1;
    // loop fields of 16 bits
    if (d[bitweave_array::D_IN_H] > 32'hffff || d[bitweave_array::D_IN_W] > 32'hffff || d[bitweave_array::D_IN_WORDS] > 32'hffff ||
        d[bitweave_array::D_KH] > 32'hffff || d[bitweave_array::D_KW] > 32'hffff || d[bitweave_array::D_SH] > 32'hffff ||
        d[bitweave_array::D_SW] > 32'hffff || d[bitweave_array::D_ACC_H] > 32'hffff || d[bitweave_array::D_ACC_W] > 32'hffff ||
        d[bitweave_array::D_OUT_H] > 32'hffff || d[bitweave_array::D_OUT_W] > 32'hffff || d[bitweave_array::D_OUT_C] > 32'hffff) e[3] = 1;
    if (k == 0 || (k | rowpx | px | opx | wk) > 32'hffff) e[3] = 1;
    check(err, e, "error bits", pair);
    check(32'(bad), 32'(e != 0), "bad", pair);
  endtask

  // the sequencer's fetch and decode phases
  task automatic fetch_all(int pair, int want_requests);
    requests = 0;
    fetch = 1'b1;
    while (!fetched) @(negedge clk);
    @(negedge clk);
    fetch = 1'b0;
    check(32'(requests), 32'(want_requests), "descriptor words requested", pair);
  endtask
  task automatic decode_all();
    decode = 1'b1;
    while (!decoded) @(negedge clk);
    @(negedge clk);
    decode = 1'b0;
  endtask

  int prefetched_total = 0, decoded_total = 0, refused = 0;
  logic [3:0] err_seen = '0;  // coverage: every error bit
  initial begin
    void'($urandom(SEED));
    rst = 1'b1; restart = 1'b0; fetch = 1'b0; decode = 1'b0; prefetch = 1'b0; advance = 1'b0;
    repeat (2) @(negedge clk);
    rst = 1'b0;
    for (int pair = 0; pair < PAIRS; pair++) begin
      int pre;
      random_descriptor(0);
      random_descriptor(DW);
      restart = 1'b1;
      @(negedge clk);
      restart = 1'b0;
      fetch_all(pair, DW);
      decode_all();
      check_decoded(0, pair);
      decoded_total++;
      err_seen |= err[3:0];
      refused += int'(bad);
      if (bad) continue;  // the sequencer stops at a refused layer
      // the layer runs: prefetch for a random time, then the next descriptor
      pre = rnd(0, DW + 8);
      requests = 0;
      prefetch = 1'b1;
      repeat (pre) @(negedge clk);
      prefetch = 1'b0;
      @(negedge clk);
      check(32'(requests), 32'(pre < DW ? pre : DW), "descriptor words prefetched", pair);
      prefetched_total += pre < DW ? pre : DW;
      advance = 1'b1;
      @(negedge clk);
      advance = 1'b0;
      fetch_all(pair, DW - (pre < DW ? pre : DW));
      decode_all();
      check_decoded(DW, pair);
      decoded_total++;
      err_seen |= err[3:0];
      refused += int'(bad);
    end
    if (err_seen != 4'hf || refused < PAIRS / 4 || decoded_total - refused < PAIRS / 2) begin
      $fatal(1, "coverage: error bits seen %b, %0d of %0d layers refused", err_seen, refused, decoded_total);
    end
    $display("PASS: %0d descriptors, %0d refused (error bits %b seen), %0d words prefetched (ROWS %0d, COLS %0d, DRAIN %0d, PDEPTH %0d)",
             decoded_total, refused, err_seen, prefetched_total, ROWS, COLS, DRAIN, PDEPTH);
    $finish;
  end
endmodule
