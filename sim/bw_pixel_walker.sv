// bitweave RTL: the pixel walker. Enumerates a layer's pixel stream, one entry per cycle
// while the tile ring has room: for every image n, every output pixel (oy, ox) and every
// accumulator pixel (ay, ax) of its pool window (clipped to the map; 1x1 without pool),
// in raster order. COLS consecutive entries (fewer at the end of a group's stream) fill
// one ring slot. On pool layers the stream is walked once per channel group (a pool
// window may span tiles and the row units fold it in stream order); otherwise once, and
// each slot serves every group. Dense layers therefore put different images in the columns.
// Two pipeline stages (E1, E2) turn an entry into what the feeder and the output unit
// need: the arena word of its window origin, the origin (iy0, ix0) for the pad test, the
// pool first / last flags and the output address (a word, or an int32 index).
module bw_pixel_walker #(
  parameter int COLS = bitweave_array::COLS,           // entries per ring slot (PE columns)
  parameter int TS = bitweave_array::RTL_TS,            // ring slots
  parameter int GW = $clog2(bitweave_array::RTL_PDEPTH)              // bits of a channel-group number
) (
  input  logic                 clk,
  input  logic                 rst,
  input  logic                 start,      // parameters loaded: walk from the first entry
  input  logic                 stop,       // the layer is over
  input  logic                 run,        // the sequencer's run phase
  input  logic [31:0]          batch,
  input  logic [31:0]          arena_words,  // arena words per image
  input  logic [31:0]          arena_base,   // word of image 0's arena
  /* verilator lint_off UNUSEDSIGNAL */
  input  bw_pkg::layer_t       cfg,
  /* verilator lint_on UNUSEDSIGNAL */
  // ring slot being filled
  input  logic                 room,       // the ring can take another slot
  input  logic [$clog2(TS)-1:0] slot,
  output logic                 close,      // this cycle's entry completes the slot
  // entries, two cycles later (column col of slot e_slot)
  output logic                 e_valid,
  output logic [$clog2(TS)-1:0] e_slot,
  output logic [$clog2(COLS > 1 ? COLS : 2)-1:0] e_col,
  output logic                 e_first,    // starts a pool window
  output logic                 e_last,     // ends a pool window
  output logic                 e_close,    // the slot's last entry
  output logic [GW-1:0]        e_g,        // channel group (pool layers)
  output logic [31:0]          e_abase,    // arena word of the window origin
  output logic [31:0]          e_iy0,      // window origin row (signed)
  output logic [31:0]          e_ix0,      // window origin column (signed)
  output logic [31:0]          e_obase,    // output word (thresholds) or int32 index
  output logic                 idle        // walked to the end, nothing in flight
);
  localparam int SB = $clog2(TS);
  localparam int CB = $clog2(COLS > 1 ? COLS : 2);

  logic gen_on, gen_done;
  logic [31:0] gg, gn, nbase, goy, gox, gay, gax, oofs;
  logic signed [31:0] wys, wxs;   // window origin of the output pixel in the accumulator map
  logic [CB-1:0] gcol;
  // The pool window clipped to the accumulator map (rows ay0c..ay1c, columns ax0c..ax1c) is
  // kept in registers beside the window (wye, wxe: its unclipped last row and column) and
  // moved with it, so the per-entry decisions compare registers and the adds happen only
  // where the window moves; the layer's limits are registered at start (cfg holds through
  // the layer). This keeps the walker's path short enough for the array's clock.
  logic signed [31:0] ay0c, ay1c, ax0c, ax1c, wye, wxe;
  logic signed [31:0] ah1, aw1, ay1f, ax1f;   // acc_h - 1, acc_w - 1; the first window's clipped ends
  logic [31:0] oh1, ow1, bt1, ng1;             // out_h - 1, out_w - 1, batch - 1, ngroups - 1
  function automatic logic signed [31:0] lo0(input logic signed [31:0] v);
    lo0 = v < 0 ? 32'sd0 : v;
  endfunction
  function automatic logic signed [31:0] upto(input logic signed [31:0] v, input logic signed [31:0] hi);
    upto = v > hi ? hi : v;
  endfunction
  logic signed [31:0] wys_n, wxs_n, wye_n, wxe_n, ay1_0, ax1_0;
  assign wys_n = wys + $signed(cfg.psh);
  assign wxs_n = wxs + $signed(cfg.psw);
  assign wye_n = wye + $signed(cfg.psh);
  assign wxe_n = wxe + $signed(cfg.psw);
  // the first window's ends, from cfg (at start)
  assign ay1_0 = upto(-$signed(cfg.pph) + $signed(cfg.pkh) - 1, $signed(cfg.acc_h) - 1);
  assign ax1_0 = upto(-$signed(cfg.ppw) + $signed(cfg.pkw) - 1, $signed(cfg.acc_w) - 1);
  logic e0_first, e0_last, e0_endgrp, emit;
  assign e0_first = $signed(gay) == ay0c && $signed(gax) == ax0c;
  assign e0_last = $signed(gay) == ay1c && $signed(gax) == ax1c;
  assign e0_endgrp = e0_last && gox == ow1 && goy == oh1 && gn == bt1;
  assign emit = run && gen_on && !gen_done && room;
  assign close = emit && (32'(gcol) == COLS - 1 || e0_endgrp);

  always_ff @(posedge clk) begin
    if (rst) begin
      gen_on <= 1'b0;
      gen_done <= 1'b0;
    end else if (start) begin
      gen_on <= 1'b1;
      gen_done <= 1'b0;
      gg <= '0; gn <= '0; nbase <= arena_base; goy <= '0; gox <= '0; gay <= '0; gax <= '0; oofs <= '0;
      wys <= -$signed(cfg.pph);
      wxs <= -$signed(cfg.ppw);
      wye <= -$signed(cfg.pph) + $signed(cfg.pkh) - 1;
      wxe <= -$signed(cfg.ppw) + $signed(cfg.pkw) - 1;
      ay0c <= '0;
      ax0c <= '0;
      ay1c <= ay1_0;
      ax1c <= ax1_0;
      ay1f <= ay1_0;
      ax1f <= ax1_0;
      ah1 <= $signed(cfg.acc_h) - 1;
      aw1 <= $signed(cfg.acc_w) - 1;
      oh1 <= cfg.out_h - 1;
      ow1 <= cfg.out_w - 1;
      bt1 <= batch - 1;
      ng1 <= cfg.ngroups - 1;
      gcol <= '0;
    end else if (stop) begin
      gen_on <= 1'b0;
    end else if (emit) begin
      gcol <= close ? '0 : gcol + 1'b1;
      if ($signed(gax) < ax1c) begin
        gax <= gax + 1;
      end else if ($signed(gay) < ay1c) begin
        gay <= gay + 1;
        gax <= ax0c;
      end else begin
        oofs <= oofs + cfg.opx;
        if (gox != ow1) begin
          gox <= gox + 1;
          wxs <= wxs_n;
          wxe <= wxe_n;
          ax0c <= lo0(wxs_n);
          ax1c <= upto(wxe_n, aw1);
          gay <= ay0c;
          gax <= lo0(wxs_n);
        end else begin
          gox <= '0;
          wxs <= -$signed(cfg.ppw);
          wxe <= -$signed(cfg.ppw) + $signed(cfg.pkw) - 1;
          ax0c <= '0;
          ax1c <= ax1f;
          gax <= '0;
          if (goy != oh1) begin
            goy <= goy + 1;
            wys <= wys_n;
            wye <= wye_n;
            ay0c <= lo0(wys_n);
            ay1c <= upto(wye_n, ah1);
            gay <= lo0(wys_n);
          end else begin
            goy <= '0;
            wys <= -$signed(cfg.pph);
            wye <= -$signed(cfg.pph) + $signed(cfg.pkh) - 1;
            ay0c <= '0;
            ay1c <= ay1f;
            gay <= '0;
            oofs <= '0;
            if (gn != bt1) begin
              gn <= gn + 1;
              nbase <= nbase + arena_words;
            end else begin
              gn <= '0;
              nbase <= arena_base;
              if (cfg.pool && gg != ng1) gg <= gg + 1;
              else gen_done <= 1'b1;
            end
          end
        end
      end
    end
  end

  // E1: window origin in the input map, image base, output address
  logic v1, f1, l1, eg1;
  logic [SB-1:0] s1;
  logic [CB-1:0] c1;
  logic [GW-1:0] g1;
  logic signed [31:0] iy1, ix1;
  logic [31:0] ab1, ob1;
  // E2: arena word of the window origin
  always_ff @(posedge clk) begin
    if (rst) begin
      v1 <= 1'b0;
      e_valid <= 1'b0;
    end else begin
      v1 <= emit;
      e_valid <= v1;
    end
    s1 <= slot;
    c1 <= gcol;
    f1 <= e0_first;
    l1 <= e0_last;
    eg1 <= e0_endgrp || 32'(gcol) == COLS - 1;
    g1 <= GW'(gg);
    iy1 <= $signed(bw_pkg::m16(gay[15:0], cfg.sh[15:0])) - $signed(cfg.ph);
    ix1 <= $signed(bw_pkg::m16(gax[15:0], cfg.sw[15:0])) - $signed(cfg.pw);
    ab1 <= nbase + cfg.in_off;
    ob1 <= cfg.thr ? nbase + cfg.out_off + oofs : ((nbase + cfg.out_off) << 1) + oofs;
    e_slot <= s1; e_col <= c1; e_first <= f1; e_last <= l1; e_close <= eg1; e_g <= g1;
    e_iy0 <= iy1; e_ix0 <= ix1; e_obase <= ob1;
    e_abase <= ab1 + 32'($signed(iy1[16:0]) * $signed({1'b0, cfg.rowpx[15:0]})) + 32'($signed(ix1[16:0]) * $signed({1'b0, cfg.px[15:0]}));
  end

  assign idle = gen_done && !v1 && !e_valid;
endmodule
