// bitweave RTL: the layer-program sequencer. Walks the layer program that
// host/array/program.ts encodes: for each layer it reads the descriptor (prefetched while
// the previous layer runs), derives the loop bounds, loads the per-channel parameters
// (thresholds, flip / pool-min flags) into the row units, then enumerates the pixel
// stream of the whole batch and fills the tile ring that the feeder and the output unit
// consume.
//
// Pixel stream: for every image n, every output pixel (oy, ox) and every accumulator
// pixel (ay, ax) of its pool window (clipped to the map; a layer without pool has 1x1
// windows), in raster order, one entry per cycle. An entry carries the arena address of
// its window origin, the window origin (iy0, ix0) for the pad test, the pool first/last
// flags and the output address. COLS entries (fewer at the end of the stream) form a ring
// slot. Loop order on pool layers: layer -> channel group (ROWS output channels) -> tiles
// over the batch (a pool window may span tiles, and the row units fold it in stream
// order). Other layers: layer -> slot -> channel group, so the feeder and the output unit
// reuse one slot for every group and the one-entry-per-cycle walker keeps up with short
// tiles. Dense layers fill the columns with different images.
// Tile period P: max(K, COLS) on pool layers (the drain then moves one column per cycle);
// otherwise max(K, COLS/DRAIN, ceil(COLS/G)), so that the drain (DRAIN columns per cycle)
// and the walker (COLS cycles per slot, G tiles per slot) both keep up.
module bw_seq #(
  parameter int ROWS = 8,
  parameter int COLS = 8,
  parameter int WORD = 64,
  parameter int ACC = 24,
  parameter int MAX_OUT_BITS = 2,
  parameter int PDEPTH = 512,
  parameter int PWID = 2 + 32 * ((1 << MAX_OUT_BITS) - 1),
  parameter int GW = $clog2(PDEPTH),
  parameter int TS = 16,
  parameter int DESC_WORDS = 32,
  parameter int DRAIN = 1
) (
  input  logic                 clk,
  input  logic                 rst,
  input  logic                 start,
  input  logic [31:0]          n_layers,
  input  logic [31:0]          batch,
  input  logic [31:0]          arena_words,
  output logic                 busy,
  output logic                 done,
  output logic [31:0]          err,
  output logic [31:0]          layer,
  // descriptor memory
  output logic                 d_en,
  output logic [31:0]          d_addr,
  input  logic [31:0]          d_rdata,
  // parameter memory lanes
  output logic [ROWS-1:0]      p_en,
  output logic [ROWS*32-1:0]   p_addr,
  input  logic [ROWS*32-1:0]   p_rdata,
  // row-unit parameter RAM writes
  output logic [ROWS-1:0]      pw_en,
  output logic [GW-1:0]        pw_addr,
  output logic [ROWS*PWID-1:0] pw_data,
  // layer configuration for the datapath
  output logic                 and_mode,
  output logic                 thr,
  output logic                 pool,
  output logic [31:0]          ngroups,
  output logic [ACC-1:0]       tail,
  output logic [MAX_OUT_BITS:0] nthr,
  output logic [31:0]          out_c,
  output logic [31:0]          out_bits,
  output logic [31:0]          out_words,
  output logic [31:0]          k_steps,
  output logic [31:0]          period,
  output logic [31:0]          kw,
  output logic [31:0]          in_words,
  output logic [31:0]          in_planes,
  output logic [31:0]          in_h,
  output logic [31:0]          in_w,
  output logic [31:0]          rowpx,
  output logic [WORD-1:0]      pad_full,
  output logic [WORD-1:0]      pad_last,
  output logic [31:0]          w_off,
  output logic [31:0]          gwk,
  output logic [ROWS*32-1:0]   wrow,
  // feeder side of the ring
  output logic                 f_ready,
  input  logic                 f_take,
  output logic [COLS*32-1:0]   f_abase,
  output logic [COLS*32-1:0]   f_iy0,
  output logic [COLS*32-1:0]   f_ix0,
  output logic [$clog2(COLS+1)-1:0] f_nvalid,
  output logic [GW-1:0]        f_g,
  input  logic                 f_busy,
  // output side of the ring
  input  logic [$clog2(TS)-1:0] o_slot,
  input  logic [$clog2(COLS > 1 ? COLS : 2)-1:0] o_col,
  output logic                 o_first,     // column o_col
  output logic [DRAIN-1:0]     o_last,      // lane d: column o_col + d
  output logic [DRAIN*32-1:0]  o_obase,
  output logic [GW-1:0]        o_g,
  output logic [$clog2(COLS+1)-1:0] o_nvalid,
  input  logic                 o_tile_done
);
  localparam int SB = $clog2(TS);
  localparam int CB = $clog2(COLS > 1 ? COLS : 2);
  localparam int NB = $clog2(COLS + 1);
  localparam int LMAX = (1 << MAX_OUT_BITS) - 1;
  localparam int RSHIFT = $clog2(ROWS);

  // errors (err bits): 1 = unsupported output bits, 2 = too many channel groups,
  // 4 = more than 8 input planes, 8 = geometry too large (16-bit loop fields)
  typedef enum logic [2:0] { S_IDLE, S_DESC, S_PREP, S_PARAM, S_RUN, S_NEXT } state_t;
  state_t st;

  logic [31:0] dsc [DESC_WORDS];
  logic [31:0] dcount, dbase;
  logic [$clog2(DESC_WORDS)-1:0] didx;
  logic [2:0] prep;
  // 16 x 16 -> 32 products (the backend keeps loop fields below 2^16)
  function automatic logic [31:0] m16(input logic [15:0] a, input logic [15:0] b);
    m16 = {16'd0, a} * {16'd0, b};
  endfunction

  // derived layer values
  logic [5:0] in_c;
  logic [31:0] px, kk, wk, acc_h, acc_w, out_h, out_w, opx;
  logic [31:0] kh, sh, sw, ph, pw, pkh, pkw, psh, psw, pph, ppw, in_off, out_off, t_off, f_off;

  // counters of the tile ring
  logic [31:0] gen_slot, asm_cnt, iss_cnt, drn_cnt;

  // ---------------- parameter load ----------------
  logic [31:0] pg, pj, pch, ptb;
  logic pvalid_q;
  logic [31:0] pj_q;
  logic [GW-1:0] pg_q;
  logic [31:0] stage [ROWS][LMAX];

  // ---------------- generator ----------------
  logic gen_on, gen_done;
  logic [31:0] gg, gn, nbase, goy, gox, gay, gax, oofs;
  logic signed [31:0] wys, wxs;
  logic [CB-1:0] gcol;
  logic signed [31:0] ay0c, ay1c, ax0c, ax1c;
  always_comb begin
    ay0c = wys < 0 ? 32'sd0 : wys;
    ay1c = wys + $signed(pkh) - 1 > $signed(acc_h) - 1 ? $signed(acc_h) - 1 : wys + $signed(pkh) - 1;
    ax0c = wxs < 0 ? 32'sd0 : wxs;
    ax1c = wxs + $signed(pkw) - 1 > $signed(acc_w) - 1 ? $signed(acc_w) - 1 : wxs + $signed(pkw) - 1;
  end
  logic e_first, e_last, e_endgrp, e_endlayer;
  assign e_first = $signed(gay) == ay0c && $signed(gax) == ax0c;
  assign e_last = $signed(gay) == ay1c && $signed(gax) == ax1c;
  assign e_endgrp = e_last && gox == out_w - 1 && goy == out_h - 1 && gn == batch - 1;
  assign e_endlayer = e_endgrp && gg == ngroups - 1;
  logic emit;
  assign emit = st == S_RUN && gen_on && !gen_done && (gen_slot - drn_cnt) < TS;

  // entry pipeline E1, E2
  logic v1, v2;
  logic [SB-1:0] s1, s2;
  logic [CB-1:0] c1, c2;
  logic f1, l1, eg1, f2, l2, eg2;
  logic [GW-1:0] g1, g2;
  logic signed [31:0] iy1, ix1, iy2, ix2;
  logic [31:0] ab1, ob1, ab2, ob2;

  // ring storage
  logic [31:0] r_abase [TS][COLS];
  logic [31:0] r_iy0 [TS][COLS];
  logic [31:0] r_ix0 [TS][COLS];
  logic [31:0] r_obase [TS][COLS];
  logic [COLS-1:0] r_first [TS];
  logic [COLS-1:0] r_last [TS];
  logic [NB-1:0] r_nvalid [TS];
  logic [GW-1:0] r_g [TS];

  logic [SB-1:0] islot;
  assign islot = iss_cnt[SB-1:0];
  assign f_ready = st == S_RUN && asm_cnt != iss_cnt;
  always_comb begin
    for (int c = 0; c < COLS; c++) begin
      f_abase[c*32 +: 32] = r_abase[islot][c];
      f_iy0[c*32 +: 32] = r_iy0[islot][c];
      f_ix0[c*32 +: 32] = r_ix0[islot][c];
    end
  end
  assign f_nvalid = r_nvalid[islot];
  assign f_g = r_g[islot];
  assign o_first = r_first[o_slot][o_col];
  always_comb begin
    for (int d = 0; d < DRAIN; d++) begin
      o_last[d] = 1'b0;
      o_obase[d*32 +: 32] = '0;
      for (int c = 0; c < COLS; c++) begin
        if (32'(o_col) + 32'(d) == 32'(c)) begin
          o_last[d] = r_last[o_slot][c];
          o_obase[d*32 +: 32] = r_obase[o_slot][c];
        end
      end
    end
  end

  // smallest period that lets G tiles cover the walker's COLS cycles per slot
  logic [31:0] pwalk;
  always_comb begin
    pwalk = COLS;
    for (int p = COLS; p >= 1; p--) if (32'(p) * ngroups >= COLS) pwalk = p;
  end
  assign o_g = r_g[o_slot];
  assign o_nvalid = r_nvalid[o_slot];

  logic layer_idle;
  assign layer_idle = gen_done && !v1 && !v2 && asm_cnt == iss_cnt && iss_cnt == drn_cnt && !f_busy;

  assign busy = st != S_IDLE;

  always_ff @(posedge clk) begin
    if (rst) begin
      st <= S_IDLE;
      done <= 1'b0;
      err <= '0;
      layer <= '0;
      d_en <= 1'b0;
      p_en <= '0;
      pw_en <= '0;
      pvalid_q <= 1'b0;
      gen_on <= 1'b0;
      gen_done <= 1'b0;
      gen_slot <= '0;
      asm_cnt <= '0;
      iss_cnt <= '0;
      drn_cnt <= '0;
      v1 <= 1'b0;
      v2 <= 1'b0;
    end else begin
      d_en <= 1'b0;
      p_en <= '0;
      pw_en <= '0;
      pvalid_q <= 1'b0;
      if (f_take) iss_cnt <= iss_cnt + 1;
      if (o_tile_done) drn_cnt <= drn_cnt + 1;
      if (d_en) dsc[didx] <= d_rdata; // the descriptor word requested last cycle
      case (st)
        S_IDLE: if (start) begin
          done <= 1'b0;
          err <= '0;
          layer <= '0;
          dbase <= '0;
          if (n_layers == 0 || batch == 0) begin
            done <= 1'b1;
          end else begin
            st <= S_DESC;
            dcount <= '0;
          end
        end
        S_DESC: begin
          // request word dcount (words prefetched during the previous layer are done)
          if (dcount < DESC_WORDS) begin
            d_en <= 1'b1;
            d_addr <= dbase + dcount;
            didx <= $bits(didx)'(dcount);
            dcount <= dcount + 1;
          end else begin
            st <= S_PREP;
            prep <= '0;
            dcount <= '0;
          end
        end
        S_PREP: begin
          prep <= prep + 1'b1;
          case (prep)
            3'd0: begin
              and_mode <= dsc[bitweave_array::D_OPCODE][2];
              thr <= dsc[bitweave_array::D_OPCODE][0];
              pool <= dsc[bitweave_array::D_OPCODE][1];
              in_h <= dsc[bitweave_array::D_IN_H];
              in_w <= dsc[bitweave_array::D_IN_W];
              in_c <= dsc[bitweave_array::D_IN_C][5:0];
              in_words <= dsc[bitweave_array::D_IN_WORDS];
              in_planes <= dsc[bitweave_array::D_IN_PLANES];
              kh <= dsc[bitweave_array::D_KH];
              kw <= dsc[bitweave_array::D_KW];
              sh <= dsc[bitweave_array::D_SH];
              sw <= dsc[bitweave_array::D_SW];
              ph <= dsc[bitweave_array::D_PH];
              pw <= dsc[bitweave_array::D_PW];
              out_c <= dsc[bitweave_array::D_OUT_C];
              acc_h <= dsc[bitweave_array::D_ACC_H];
              acc_w <= dsc[bitweave_array::D_ACC_W];
              out_h <= dsc[bitweave_array::D_OUT_H];
              out_w <= dsc[bitweave_array::D_OUT_W];
              if (dsc[bitweave_array::D_OPCODE][1]) begin
                pkh <= dsc[bitweave_array::D_POOL_KH];
                pkw <= dsc[bitweave_array::D_POOL_KW];
                psh <= dsc[bitweave_array::D_POOL_SH];
                psw <= dsc[bitweave_array::D_POOL_SW];
                pph <= dsc[bitweave_array::D_POOL_PH];
                ppw <= dsc[bitweave_array::D_POOL_PW];
              end else begin
                pkh <= 1; pkw <= 1; psh <= 1; psw <= 1; pph <= 0; ppw <= 0;
              end
              out_bits <= dsc[bitweave_array::D_OPCODE][0] ? dsc[bitweave_array::D_OUT_BITS] : 32'd0;
              tail <= dsc[bitweave_array::D_TAIL][ACC-1:0];
              in_off <= dsc[bitweave_array::D_IN_OFF];
              out_off <= dsc[bitweave_array::D_OUT_OFF];
              w_off <= dsc[bitweave_array::D_W_OFF];
              t_off <= dsc[bitweave_array::D_T_OFF];
              f_off <= dsc[bitweave_array::D_F_OFF];
              out_words <= (dsc[bitweave_array::D_OUT_C] + 63) >> 6;
              ngroups <= (dsc[bitweave_array::D_OUT_C] + ROWS - 1) >> RSHIFT;
            end
            3'd1: begin
              px <= m16(in_planes[15:0], in_words[15:0]);
              kk <= m16(kh[15:0], kw[15:0]);
              nthr <= thr ? (MAX_OUT_BITS + 1)'((1 << out_bits[3:0]) - 1) : '0;
              pad_full <= dsc[bitweave_array::D_PAD_BIT][0] ? '1 : '0;
              pad_last <= !dsc[bitweave_array::D_PAD_BIT][0] ? '0 : in_c == 6'd0 ? '1 : ((64'd1 << in_c) - 64'd1);
              if (thr && (out_bits > MAX_OUT_BITS || out_bits == 0)) err[0] <= 1'b1;
              if (ngroups > PDEPTH) err[1] <= 1'b1;
              if (in_planes > 8 || in_planes == 0) err[2] <= 1'b1;
              if ((in_h | in_w | in_words | kh | kw | sh | sw | acc_h | acc_w | out_h | out_w | out_c) > 32'hffff) err[3] <= 1'b1;
            end
            3'd2: begin
              k_steps <= m16(kk[15:0], px[15:0]);
              wk <= m16(kk[15:0], in_words[15:0]);
              rowpx <= m16(in_w[15:0], px[15:0]);
              opx <= thr ? m16(out_bits[15:0], out_words[15:0]) : out_c;
            end
            default: begin
              if (pool) period <= k_steps > COLS ? k_steps : COLS;
              else begin
                logic [31:0] pmin;
                pmin = COLS / DRAIN > pwalk ? COLS / DRAIN : pwalk;
                period <= k_steps > pmin ? k_steps : pmin;
              end
              gwk <= wk << RSHIFT;
              for (int r = 0; r < ROWS; r++) wrow[r*32 +: 32] <= m16(wk[15:0], 16'(r));
              if (err != 0 || k_steps == 0 || (k_steps | rowpx | px | opx | wk) > 32'hffff) begin
                if (k_steps == 0 || (k_steps | rowpx | px | opx | wk) > 32'hffff) err[3] <= 1'b1;
                st <= S_IDLE;
                done <= 1'b1;
              end else begin
                st <= S_PARAM;
                pg <= '0;
                pj <= '0;
                pch <= '0;
                ptb <= t_off;
              end
            end
          endcase
        end
        S_PARAM: begin
          // capture lane data requested last cycle
          if (pvalid_q) begin
            if (pj_q < 32'(nthr)) begin
              for (int r = 0; r < ROWS; r++) for (int jj = 0; jj < LMAX; jj++) if (32'(jj) == pj_q) stage[r][jj] <= p_rdata[r*32 +: 32];
            end else begin
              pw_en <= '1;
              pw_addr <= pg_q;
              for (int r = 0; r < ROWS; r++) begin
                logic [PWID-1:0] wd;
                wd = '0;
                for (int jj = 0; jj < LMAX; jj++) wd[32*jj +: 32] = stage[r][jj];
                wd[PWID-1] = p_rdata[r*32 + 1];  // FLAG_POOL_MIN
                wd[PWID-2] = p_rdata[r*32];      // FLAG_FLIP
                pw_data[r*PWID +: PWID] <= wd;
              end
            end
          end
          if (!thr && !pool) begin
            st <= S_RUN;
          end else if (pg < ngroups) begin
            pvalid_q <= 1'b1;
            pj_q <= pj;
            pg_q <= GW'(pg);
            for (int r = 0; r < ROWS; r++) begin
              p_en[r] <= pch + 32'(r) < out_c;
              p_addr[r*32 +: 32] <= pj < 32'(nthr) ? ptb + m16(16'(r), 16'(nthr)) + pj : f_off + pch + 32'(r);
            end
            if (pj < 32'(nthr)) begin
              pj <= pj + 1;
            end else begin
              pj <= '0;
              pg <= pg + 1;
              pch <= pch + ROWS;
              ptb <= ptb + m16(16'(ROWS), 16'(nthr));
            end
          end else if (!pvalid_q) begin
            st <= S_RUN;
          end
        end
        S_RUN: begin
          // prefetch the next layer's descriptor (prep has read this one's)
          if (layer + 1 < n_layers && dcount < DESC_WORDS) begin
            d_en <= 1'b1;
            d_addr <= dbase + DESC_WORDS + dcount;
            didx <= $bits(didx)'(dcount);
            dcount <= dcount + 1;
          end
          if (layer_idle) begin
            st <= S_NEXT;
          end
        end
        default: begin // S_NEXT
          if (layer + 1 < n_layers) begin
            layer <= layer + 1;
            dbase <= dbase + DESC_WORDS;
            st <= S_DESC;
          end else begin
            st <= S_IDLE;
            done <= 1'b1;
          end
        end
      endcase

      // ---- generator ----
      if (st == S_PARAM && (!thr && !pool || (pg >= ngroups && !pvalid_q))) begin
        gen_on <= 1'b1;
        gen_done <= 1'b0;
        gg <= '0; gn <= '0; nbase <= '0; goy <= '0; gox <= '0; gay <= '0; gax <= '0; oofs <= '0;
        wys <= -$signed(pph);
        wxs <= -$signed(ppw);
        gcol <= '0;
      end else if (st == S_NEXT) begin
        gen_on <= 1'b0;
      end else if (emit) begin
        if (32'(gcol) == COLS - 1 || e_endgrp) begin
          gcol <= '0;
          gen_slot <= gen_slot + 1;
        end else begin
          gcol <= gcol + 1'b1;
        end
        if ($signed(gax) < ax1c) begin
          gax <= gax + 1;
        end else if ($signed(gay) < ay1c) begin
          gay <= gay + 1;
          gax <= ax0c;
        end else begin
          oofs <= oofs + opx;
          if (gox != out_w - 1) begin
            gox <= gox + 1;
            wxs <= wxs + $signed(psw);
            gay <= ay0c;
            gax <= wxs + $signed(psw) < 0 ? 32'd0 : wxs + $signed(psw);
          end else begin
            gox <= '0;
            wxs <= -$signed(ppw);
            gax <= '0;
            if (goy != out_h - 1) begin
              goy <= goy + 1;
              wys <= wys + $signed(psh);
              gay <= wys + $signed(psh) < 0 ? 32'd0 : wys + $signed(psh);
            end else begin
              goy <= '0;
              wys <= -$signed(pph);
              gay <= '0;
              oofs <= '0;
              if (gn != batch - 1) begin
                gn <= gn + 1;
                nbase <= nbase + arena_words;
              end else begin
                gn <= '0;
                nbase <= '0;
                if (pool && gg != ngroups - 1) gg <= gg + 1;
                else gen_done <= 1'b1;
              end
            end
          end
        end
      end

      // E1
      v1 <= emit;
      s1 <= gen_slot[SB-1:0];
      c1 <= gcol;
      f1 <= e_first;
      l1 <= e_last;
      eg1 <= e_endgrp || 32'(gcol) == COLS - 1;
      g1 <= GW'(gg);
      iy1 <= $signed(m16(gay[15:0], sh[15:0])) - $signed(ph);
      ix1 <= $signed(m16(gax[15:0], sw[15:0])) - $signed(pw);
      ab1 <= nbase + in_off;
      ob1 <= thr ? nbase + out_off + oofs : ((nbase + out_off) << 1) + oofs;
      // E2
      v2 <= v1;
      s2 <= s1; c2 <= c1; f2 <= f1; l2 <= l1; eg2 <= eg1; g2 <= g1;
      iy2 <= iy1; ix2 <= ix1; ob2 <= ob1;
      ab2 <= ab1 + 32'($signed(iy1[16:0]) * $signed({1'b0, rowpx[15:0]})) + 32'($signed(ix1[16:0]) * $signed({1'b0, px[15:0]}));
      // ring write
      if (v2) begin
        r_abase[s2][c2] <= ab2;
        r_iy0[s2][c2] <= iy2;
        r_ix0[s2][c2] <= ix2;
        r_obase[s2][c2] <= ob2;
        r_first[s2][c2] <= f2;
        r_last[s2][c2] <= l2;
        if (eg2) begin
          r_nvalid[s2] <= NB'(c2) + 1'b1;
          r_g[s2] <= g2;
          asm_cnt <= asm_cnt + 1;
        end
      end
    end
  end

  /* verilator lint_off UNUSEDSIGNAL */
  logic unused;
  assign unused = ^{e_endlayer, dsc[bitweave_array::D_RESERVED], kk[31:16]};
  /* verilator lint_on UNUSEDSIGNAL */
endmodule
