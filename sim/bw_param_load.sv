// bitweave RTL: parameter load. Before a threshold or pool layer runs, copies the
// per-channel parameters of every channel group from the parameter memory into the row
// units' RAMs: row r of group g is output channel g*ROWS + r, and reads its L thresholds
// (t_off + ch*L + j, one per cycle) and then its flag word (f_off + ch: FLAG_FLIP,
// FLAG_POOL_MIN) on its own parameter lane; the thresholds wait in a staging register
// until the flags arrive and the whole parameter word (bw_pkg::param_bits) is written,
// one RAM address (the group) for all rows. G*(L+1) requests, then the last answer.
// Layers with int32 outputs and no pool need no parameters and skip the load.
module bw_param_load #(
  parameter int ROWS = bitweave_array::ROWS,                                  // PE rows = parameter lanes
  parameter int MAX_OUT_BITS = bitweave_array::RTL_MAX_OUT_BITS,                          // largest k of k-bit outputs
  parameter int PDEPTH = bitweave_array::RTL_PDEPTH,                              // row-unit RAM depth (groups)
  parameter int PWID = bw_pkg::param_bits(MAX_OUT_BITS),   // bits of a parameter word
  parameter int GW = $clog2(PDEPTH)                        // bits of a RAM address
) (
  input  logic                 clk,
  input  logic                 rst,
  input  logic                 init,     // the layer is decoded: start at group 0
  input  logic                 active,   // the sequencer's parameter phase
  /* verilator lint_off UNUSEDSIGNAL */
  input  bw_pkg::layer_t       cfg,
  /* verilator lint_on UNUSEDSIGNAL */
  output logic                 done,     // every group written (or nothing to load)
  // parameter memory lanes
  output logic [ROWS-1:0]      p_en,
  output logic [ROWS*32-1:0]   p_addr,
  input  logic [ROWS*32-1:0]   p_rdata,
  // row-unit parameter RAM writes
  output logic [ROWS-1:0]      pw_en,
  output logic [GW-1:0]        pw_addr,
  output logic [ROWS*PWID-1:0] pw_data
);
  localparam int LMAX = (1 << MAX_OUT_BITS) - 1;

  logic [31:0] pg, pj, pch, ptb;   // group, word of the channel, first channel, thresholds
  logic pvalid_q;                  // a request went out last cycle
  logic [31:0] pj_q;
  logic [GW-1:0] pg_q;
  logic [31:0] stage [ROWS][LMAX];

  assign done = !cfg.thr && !cfg.pool || pg >= cfg.ngroups && !pvalid_q;

  always_ff @(posedge clk) begin
    if (rst) begin
      p_en <= '0;
      pw_en <= '0;
      pvalid_q <= 1'b0;
    end else begin
      p_en <= '0;
      pw_en <= '0;
      pvalid_q <= 1'b0;
      if (init) begin
        pg <= '0;
        pj <= '0;
        pch <= '0;
        ptb <= cfg.t_off;
      end
      if (active) begin
        // capture lane data requested last cycle
        if (pvalid_q) begin
          if (pj_q < cfg.nthr) begin
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
        if ((cfg.thr || cfg.pool) && pg < cfg.ngroups) begin
          pvalid_q <= 1'b1;
          pj_q <= pj;
          pg_q <= GW'(pg);
          for (int r = 0; r < ROWS; r++) begin
            p_en[r] <= pch + 32'(r) < cfg.out_c;
            p_addr[r*32 +: 32] <= pj < cfg.nthr ? ptb + bw_pkg::m16(16'(r), 16'(cfg.nthr)) + pj : cfg.f_off + pch + 32'(r);
          end
          if (pj < cfg.nthr) begin
            pj <= pj + 1;
          end else begin
            pj <= '0;
            pg <= pg + 1;
            pch <= pch + ROWS;
            ptb <= ptb + bw_pkg::m16(16'(ROWS), 16'(cfg.nthr));
          end
        end
      end
    end
  end
endmodule
