// Test bench of the pixel walker and the tile ring (bw_pixel_walker + bw_tile_ring):
// random layers (pool or not, clipped pool windows, strides, paddings, batches, channel
// groups), each walked into the ring while a model of the feeder takes slots and a model
// of the output unit drains them, both after random delays (so the ring fills up and the
// walker stalls). Every slot the feeder sees (window origins, arena words, valid columns,
// group) and every column the output unit reads (pool first / last, output address) is
// compared with the pixel stream enumerated here from its definition. Prints PASS, or
// stops with $fatal at the first difference. test/sim/blocks.test.ts builds it with
// `verilator --binary` (sim/bw_pkg.sv, sim/bw_pixel_walker.sv, sim/bw_tile_ring.sv, this
// file; -GCOLS=.. -GTS=.. -GDRAIN=..) and runs it.
// (The models of the feeder and the output unit keep their queues with blocking assignments.)
/* verilator lint_off BLKSEQ */
module tb_pixel_walker #(
  parameter int COLS = 4,      // entries per slot
  parameter int TS = 4,        // ring slots
  parameter int DRAIN = 2,     // columns the output unit reads per cycle (divides COLS)
  parameter int LAYERS = 60,   // random layers
  parameter int SEED = 1       // of the random layers and delays
);
  localparam int GW = 9;
  localparam int SB = $clog2(TS);
  localparam int CB = $clog2(COLS > 1 ? COLS : 2);
  localparam int NB = $clog2(COLS + 1);

  logic clk = 1'b0;
  always #1 clk = !clk;

  logic rst, start, stop, run;
  logic [31:0] batch, arena_words, arena_base;
  bw_pkg::layer_t cfg;
  logic room, close, e_valid, e_first, e_last, e_close, idle;
  logic [SB-1:0] fill_slot, e_slot;
  logic [CB-1:0] e_col;
  logic [GW-1:0] e_g;
  logic [31:0] e_abase, e_iy0, e_ix0, e_obase;
  logic f_ready, f_take, o_first, o_tile_done, empty;
  logic [COLS*32-1:0] f_abase, f_iy0, f_ix0;
  logic [NB-1:0] f_nvalid, o_nvalid;
  logic [GW-1:0] f_g, o_g;
  logic [SB-1:0] o_slot;
  logic [CB-1:0] o_col;
  logic [DRAIN-1:0] o_last;
  logic [DRAIN*32-1:0] o_obase;

  bw_pixel_walker #(.COLS(COLS), .TS(TS), .GW(GW)) walker (
    .clk, .rst, .start, .stop, .run, .batch, .arena_words, .arena_base, .cfg, .room, .slot(fill_slot), .close,
    .e_valid, .e_slot, .e_col, .e_first, .e_last, .e_close, .e_g, .e_abase, .e_iy0, .e_ix0, .e_obase, .idle
  );
  bw_tile_ring #(.COLS(COLS), .TS(TS), .GW(GW), .DRAIN(DRAIN)) ring (
    .clk, .rst, .run, .room, .fill_slot, .close,
    .wr_en(e_valid), .wr_slot(e_slot), .wr_col(e_col), .wr_first(e_first), .wr_last(e_last), .wr_close(e_close),
    .wr_g(e_g), .wr_abase(e_abase), .wr_iy0(e_iy0), .wr_ix0(e_ix0), .wr_obase(e_obase),
    .f_ready, .f_take, .f_abase, .f_iy0, .f_ix0, .f_nvalid, .f_g,
    .o_slot, .o_col, .o_first, .o_last, .o_obase, .o_g, .o_nvalid, .o_tile_done, .empty
  );

  // one pixel-stream entry as the definition gives it
  typedef struct packed {
    logic [31:0] g;
    logic first, last;
    logic [31:0] abase, iy0, ix0, obase;
  } entry_t;
  entry_t want [$];      // entries of the layer not yet taken by the feeder
  int slot_len [$];      // entries per slot, in slot order
  entry_t taken [$];     // entries of slots taken, not yet drained
  int taken_len [$];

  function automatic int imax(int a, int b); return a > b ? a : b; endfunction
  function automatic int imin(int a, int b); return a < b ? a : b; endfunction
  function automatic int rnd(int lo, int hi); return lo + int'($urandom % (hi - lo + 1)); endfunction

  // the stream of the layer in cfg: groups (pool layers), images, output pixels, the
  // accumulator pixels of each pool window clipped to the map; COLS per slot
  task automatic enumerate();
    int groups;
    groups = cfg.pool ? int'(cfg.ngroups) : 1;
    for (int g = 0; g < groups; g++) begin
      int n_in_group;
      n_in_group = 0;
      for (int n = 0; n < int'(batch); n++) begin
        for (int oy = 0; oy < int'(cfg.out_h); oy++) begin
          for (int ox = 0; ox < int'(cfg.out_w); ox++) begin
            int y0, y1, x0, x1;
            y0 = imax(0, oy * int'(cfg.psh) - int'(cfg.pph));
            y1 = imin(int'(cfg.acc_h) - 1, oy * int'(cfg.psh) - int'(cfg.pph) + int'(cfg.pkh) - 1);
            x0 = imax(0, ox * int'(cfg.psw) - int'(cfg.ppw));
            x1 = imin(int'(cfg.acc_w) - 1, ox * int'(cfg.psw) - int'(cfg.ppw) + int'(cfg.pkw) - 1);
            for (int ay = y0; ay <= y1; ay++) begin
              for (int ax = x0; ax <= x1; ax++) begin
                entry_t e;
                int iy, ix, img, pix;
                iy = ay * int'(cfg.sh) - int'(cfg.ph);
                ix = ax * int'(cfg.sw) - int'(cfg.pw);
                img = int'(arena_base) + n * int'(arena_words);
                pix = (oy * int'(cfg.out_w) + ox) * int'(cfg.opx);
                e.g = 32'(g);
                e.first = ay == y0 && ax == x0;
                e.last = ay == y1 && ax == x1;
                e.iy0 = 32'(iy);
                e.ix0 = 32'(ix);
                e.abase = 32'(img + int'(cfg.in_off) + iy * int'(cfg.rowpx) + ix * int'(cfg.px));
                e.obase = cfg.thr ? 32'(img + int'(cfg.out_off) + pix) : 32'(2 * (img + int'(cfg.out_off)) + pix);
                want.push_back(e);
                n_in_group++;
              end
            end
          end
        end
      end
      for (int k = 0; k < n_in_group; k += COLS) slot_len.push_back(imin(COLS, n_in_group - k));
    end
  endtask

  task automatic random_layer();
    int k, s, p, acc_h, acc_w;
    cfg = '0;
    cfg.pool = $urandom % 2 == 1;
    cfg.thr = $urandom % 2 == 1;
    acc_h = rnd(1, 7);
    acc_w = rnd(1, 7);
    cfg.acc_h = 32'(acc_h);
    cfg.acc_w = 32'(acc_w);
    if (cfg.pool) begin
      k = rnd(1, imin(3, acc_h + 2)); s = rnd(1, 3); p = rnd(0, k - 1);
      cfg.pkh = 32'(k); cfg.psh = 32'(s); cfg.pph = 32'(p);
      cfg.out_h = 32'(imax(1, (acc_h + 2 * p - k) / s + 1));
      k = rnd(1, imin(3, acc_w + 2)); s = rnd(1, 3); p = rnd(0, k - 1);
      cfg.pkw = 32'(k); cfg.psw = 32'(s); cfg.ppw = 32'(p);
      cfg.out_w = 32'(imax(1, (acc_w + 2 * p - k) / s + 1));
    end else begin
      cfg.pkh = 1; cfg.pkw = 1; cfg.psh = 1; cfg.psw = 1; cfg.pph = 0; cfg.ppw = 0;
      cfg.out_h = cfg.acc_h; cfg.out_w = cfg.acc_w;
    end
    cfg.ngroups = 32'(rnd(1, 3));
    cfg.sh = 32'(rnd(1, 2)); cfg.sw = 32'(rnd(1, 2));
    cfg.ph = 32'(rnd(0, 2)); cfg.pw = 32'(rnd(0, 2));
    cfg.px = 32'(rnd(1, 4));
    cfg.rowpx = cfg.px * 32'(rnd(1, 9));
    cfg.opx = 32'(rnd(1, 5));
    cfg.in_off = 32'(rnd(0, 1000));
    cfg.out_off = 32'(rnd(0, 1000));
    batch = 32'(rnd(1, 3));
    arena_words = 32'(rnd(1, 5000));
    arena_base = $urandom % 2 == 1 ? 32'(rnd(1, 20000)) : 32'd0;   // a chunk of a larger batch (the AXI kernel's runs)
  endtask

  int layer_no = 0, slot_no = 0;  // layer being walked, slots taken so far
  function automatic void check(logic [31:0] got, logic [31:0] exp, string what);
    if (got !== exp) $fatal(1, "layer %0d, slot %0d: %s is %0d, want %0d", layer_no, slot_no, what, $signed(got), $signed(exp));
  endfunction

  // the feeder's side: take the oldest slot when it is ready, after a random delay
  always @(posedge clk) begin
    if (!rst && f_take) begin
      if (slot_len.size() == 0) $fatal(1, "the feeder got a slot the stream does not have");
      check(32'(f_nvalid), 32'(slot_len[0]), "valid columns of a slot");
      for (int c = 0; c < slot_len[0]; c++) begin
        entry_t e;
        e = want.pop_front();
        check(32'(f_g), cfg.pool ? e.g : 32'd0, "group of a slot");
        check(f_abase[c*32 +: 32], e.abase, $sformatf("arena word of column %0d", c));
        check(f_iy0[c*32 +: 32], e.iy0, $sformatf("window row of column %0d", c));
        check(f_ix0[c*32 +: 32], e.ix0, $sformatf("window column of column %0d", c));
        taken.push_back(e);
      end
      taken_len.push_back(slot_len.pop_front());
      slot_no++;
    end
  end
  // random delays, with slow phases long enough to fill a ring of many slots
  logic take_roll, drain_roll, slow = 1'b0;
  always @(negedge clk) begin
    if ($urandom % 100 == 0) slow <= !slow;
    take_roll <= $urandom % (slow ? 60 : 3) == 0;
    drain_roll <= $urandom % (slow ? 60 : 4) == 0;
  end
  assign f_take = f_ready && take_roll;

  // the output unit's side: drain the oldest taken slot DRAIN columns per cycle, then
  // release it; o_slot / o_col follow the ring's slot order as in bw_output_unit
  logic draining;
  int dlen;
  always @(posedge clk) begin
    o_tile_done <= 1'b0;
    if (rst) begin
      o_slot <= '0;
      o_col <= '0;
      draining <= 1'b0;
    end else if (!draining) begin
      if (taken_len.size() > 0 && !o_tile_done && drain_roll) begin
        draining <= 1'b1;
        dlen = taken_len.pop_front();
        o_col <= '0;
      end
    end else begin
      check(32'(o_nvalid), 32'(dlen), "valid columns at the output unit");
      check(32'(o_g), cfg.pool ? taken[0].g : 32'd0, "group at the output unit");
      check(32'(o_first), 32'(taken[0].first), $sformatf("first flag of column %0d", o_col));
      for (int d = 0; d < DRAIN && int'(o_col) + d < dlen; d++) begin
        check(32'(o_last[d]), 32'(taken[d].last), $sformatf("last flag of column %0d", int'(o_col) + d));
        check(o_obase[d*32 +: 32], taken[d].obase, $sformatf("output address of column %0d", int'(o_col) + d));
      end
      for (int d = 0; d < DRAIN && int'(o_col) + d < dlen; d++) void'(taken.pop_front());
      if (int'(o_col) + DRAIN >= dlen) begin
        draining <= 1'b0;
        o_tile_done <= 1'b1;
        o_slot <= o_slot + 1'b1;
      end else begin
        o_col <= o_col + CB'(DRAIN);
      end
    end
  end

  // coverage: cycles in which the ring was full and the walker waited
  int stalls = 0;
  always @(posedge clk) if (run && !room) stalls++;

  initial begin
    int entries;
    void'($urandom(SEED));
    entries = 0;
    rst = 1'b1; start = 1'b0; stop = 1'b0; run = 1'b0;
    cfg = '0; batch = 1; arena_words = 1; arena_base = 0;
    repeat (3) @(negedge clk);
    rst = 1'b0;
    for (int layer = 0; layer < LAYERS; layer++) begin
      int cycles;
      layer_no = layer;
      random_layer();
      enumerate();
      entries += want.size();
      start = 1'b1;
      @(negedge clk);
      start = 1'b0;
      run = 1'b1;
      cycles = 0;
      while (!(idle && empty && !draining && taken_len.size() == 0)) begin
        @(negedge clk);
        cycles++;
        if (cycles > 100000) $fatal(1, "layer %0d: the walker and the ring do not finish", layer);
      end
      if (want.size() != 0 || slot_len.size() != 0) $fatal(1, "layer %0d: %0d entries never reached the feeder", layer, want.size());
      run = 1'b0;
      stop = 1'b1;
      @(negedge clk);
      stop = 1'b0;
    end
    if (stalls == 0) $fatal(1, "the ring never filled up: the test did not cover a waiting walker");
    $display("PASS: %0d layers, %0d entries, %0d slots, ring full in %0d cycles (COLS %0d, TS %0d, DRAIN %0d)",
             LAYERS, entries, slot_no, stalls, COLS, TS, DRAIN);
    $finish;
  end
endmodule
