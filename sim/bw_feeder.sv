// bitweave RTL: the sliding-window feeder (feeder.cl / hls/feeder.h). For each tile (ROWS
// output channels x COLS pixel-stream entries, prepared by the sequencer in the tile
// ring) it walks the kernel window (ky, kx, plane, word) once per weight plane q, K steps
// in all, for P steps (bw_layer sets P >= K): column c reads the activation word at its entry's base + the window offset, or
// substitutes the pad word when the tap lies outside the input map (PAD_BIT in the real
// channel bits, 0 in the tail). No im2col copy exists. The weight feeder follows the same
// steps (tile_start, step_ok, wpix, j) for the rows: wpix runs on across the weight planes,
// which lie one after another in a channel's weights. Each step carries the PEs' shift
// p + q and sign (exactly one of p, q a signed top plane). Steps K..P-1 are bubbles, so that the
// drain of a tile never lags. Tiles are issued back to back: the next one starts the
// cycle after the last step. On pool layers a ring slot is one tile of the slot's channel
// group; otherwise the slot is issued once per channel group (g = 0..G-1) before it is
// taken from the ring. Two stages: F1 registers the lane requests, F2 the array's edge.
module bw_feeder #(
  parameter int COLS = bitweave_array::COLS,     // PE columns = activation lanes
  parameter int WORD = bitweave_array::WORD,    // bits per activation word
  parameter int PCW = $clog2(WORD + 1),      // bits of a word's popcount, $clog2(WORD+1)
  parameter int GW = $clog2(bitweave_array::RTL_PDEPTH)        // bits of a channel-group number
) (
  input  logic                 clk,
  input  logic                 rst,
  /* verilator lint_off UNUSEDSIGNAL */
  input  bw_pkg::layer_t       cfg,
  /* verilator lint_on UNUSEDSIGNAL */
  // next tile from the ring
  input  logic                 ready,
  output logic                 take,
  input  logic [COLS*32-1:0]   col_abase,
  input  logic [COLS*32-1:0]   col_iy0,
  input  logic [COLS*32-1:0]   col_ix0,
  input  logic [$clog2(COLS+1)-1:0] nvalid,
  input  logic [GW-1:0]        g,
  output logic                 busy,
  // the steps, for the weight feeder
  output logic                 tile_start,  // a tile starts (its group: tile_g)
  output logic [GW-1:0]        tile_g,
  output logic                 step_ok,     // a step of the tile's K words
  output logic [31:0]          wpix,        // (ky*KW + kx)*IN_WORDS of the step
  output logic [31:0]          j,           // its word in the pixel
  // activation memory lanes
  output logic [COLS-1:0]      a_en,
  output logic [COLS*32-1:0]   a_addr,
  input  logic [COLS*64-1:0]   a_rdata,
  // array edge
  output logic [COLS*WORD-1:0] a_edge,
  output logic [COLS*PCW-1:0]  apc_edge,
  output logic                 e_en,
  output logic                 e_first,
  output logic                 e_last,
  output logic [3:0]           e_sh,        // the pass's shift p + q (AND modes)
  output logic                 e_neg        // the pass's sign
);
  // latched tile
  logic [31:0] abase [COLS];
  logic signed [31:0] iy0 [COLS];
  logic signed [31:0] ix0 [COLS];
  logic [COLS-1:0] cvalid;

  // step state
  logic active;
  logic [31:0] s, ky, kx, pl, krow, koff;
  logic [2:0] q;  // weight plane

  assign tile_start = ready && (!active || s == cfg.period - 1);

  // channel group of the next tile
  logic [GW-1:0] grp;
  assign tile_g = cfg.pool ? g : grp;
  assign take = tile_start && (cfg.pool || 32'(grp) + 1 >= cfg.ngroups);

  always_ff @(posedge clk) begin
    if (rst) begin
      active <= 1'b0;
      s <= '0;
      grp <= '0;
    end else if (tile_start) begin
      active <= 1'b1;
      grp <= take ? '0 : grp + 1'b1;
      s <= '0;
      ky <= '0; kx <= '0; pl <= '0; j <= '0; q <= '0;
      krow <= '0; koff <= '0; wpix <= '0;
      for (int c = 0; c < COLS; c++) begin
        abase[c] <= col_abase[c*32 +: 32];
        iy0[c] <= col_iy0[c*32 +: 32];
        ix0[c] <= col_ix0[c*32 +: 32];
        cvalid[c] <= 32'(c) < 32'(nvalid);
      end
    end else if (active) begin
      if (s == cfg.period - 1) active <= 1'b0;
      s <= s + 1;
      koff <= koff + 1;
      if (j != cfg.in_words - 1) begin
        j <= j + 1;
      end else begin
        j <= '0;
        if (pl != cfg.in_planes - 1) begin
          pl <= pl + 1;
        end else begin
          pl <= '0;
          wpix <= wpix + cfg.in_words;
          if (kx != cfg.kw - 1) begin
            kx <= kx + 1;
          end else if (ky != cfg.kh - 1) begin
            kx <= '0;
            ky <= ky + 1;
            krow <= krow + cfg.rowpx;
            koff <= krow + cfg.rowpx;
          end else begin
            // the window again for the next weight plane
            kx <= '0;
            ky <= '0;
            krow <= '0;
            koff <= '0;
            q <= q + 1'b1;
          end
        end
      end
    end
  end

  // F1: addresses (registered memory requests) and step info
  logic [COLS-1:0] pad_q;
  logic lastword_q, en_q, first_q, last_q;
  logic [3:0] sh_q;
  logic neg_q;
  assign step_ok = active && s < cfg.k_steps;
  always_ff @(posedge clk) begin
    for (int c = 0; c < COLS; c++) begin
      logic signed [31:0] iy, ix;
      logic inb;
      iy = iy0[c] + $signed(ky);
      ix = ix0[c] + $signed(kx);
      inb = iy >= 0 && iy < $signed(cfg.in_h) && ix >= 0 && ix < $signed(cfg.in_w);
      a_en[c] <= !rst && step_ok && cvalid[c] && inb;
      pad_q[c] <= step_ok && cvalid[c] && !inb;
      a_addr[c*32 +: 32] <= abase[c] + koff;
    end
    lastword_q <= j == cfg.in_words - 1;
    en_q <= !rst && step_ok;
    first_q <= s == 0;
    last_q <= s == cfg.k_steps - 1;
    sh_q <= {1'b0, pl[2:0]} + {1'b0, q};
    neg_q <= (cfg.in_signed && pl == cfg.in_planes - 1) != (cfg.w_signed && 32'(q) == cfg.w_bits - 1);
  end

  // F2: edge registers
  always_ff @(posedge clk) begin
    for (int c = 0; c < COLS; c++) begin
      logic [WORD-1:0] a;
      a = a_en[c] ? a_rdata[c*64 +: WORD] : pad_q[c] ? (lastword_q ? cfg.pad_last[WORD-1:0] : cfg.pad_full[WORD-1:0]) : '0;
      a_edge[c*WORD +: WORD] <= a;
      apc_edge[c*PCW +: PCW] <= PCW'($countones(a));
    end
    e_en <= !rst && en_q;
    e_first <= first_q;
    e_last <= last_q;
    e_sh <= sh_q;
    e_neg <= neg_q;
  end

  assign busy = active || en_q || e_en;
endmodule
