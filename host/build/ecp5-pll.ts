/**
 * ECP5 PLL (EHXPLLL) dividers for a target clock, with CLKOP fed back (FEEDBK_PATH "CLKOP"):
 *
 *   f_pfd = f_in / CLKI_DIV        3.125 .. 400 MHz
 *   f_out = f_pfd * CLKFB_DIV      10 .. 400 MHz (CLKOP, the clock the design runs on)
 *   f_vco = f_out * CLKOP_DIV      400 .. 800 MHz
 *
 * CLKI_DIV 1..128, CLKFB_DIV 1..80, CLKOP_DIV 1..128. The search is Project Trellis'
 * ecppll's: the f_out nearest the target, then the f_vco nearest 600 MHz; CLKOP_CPHASE is
 * half a CLKOP period in VCO cycles (CLKOP_DIV / 2, rounded down), as ecppll sets it.
 * Limits: ECP5 family data sheet (FPGA-DS-02012, sysCLOCK PLL timing) and ecppll.
 * The board top (sim/soc/ecp5/bw_ulx3s.sv) takes these as its parameters.
 */
import { BitweaveError } from '../core/errors';

export const ECP5_PLL = {
  inMHz: [8, 400],
  pfdMHz: [3.125, 400],
  outMHz: [10, 400],
  vcoMHz: [400, 800],
  clkiDiv: 128,
  clkfbDiv: 80,
  clkopDiv: 128,
} as const;

export interface Ecp5Pll {
  clkiDiv: number;
  clkfbDiv: number;
  clkopDiv: number;
  clkopCphase: number;
  pfdMHz: number;
  vcoMHz: number;
  /** The clock the dividers give (CLKOP), MHz. */
  outMHz: number;
  /** The same in Hz, rounded down to an integer: the SoC's CLK_HZ (bw_ulx3s computes it alike). */
  outHz: number;
}

/** Dividers whose CLKOP is nearest `targetMHz` from an `inMHz` reference (one-line error when out of range). */
export function ecp5Pll(inMHz: number, targetMHz: number): Ecp5Pll {
  const [inMin, inMax] = ECP5_PLL.inMHz;
  const [outMin, outMax] = ECP5_PLL.outMHz;
  if (!(Number.isFinite(inMHz) && inMHz >= inMin && inMHz <= inMax)) throw new BitweaveError(`ECP5 PLL: input clock ${inMHz} MHz is outside ${inMin}..${inMax} MHz`);
  if (!(Number.isFinite(targetMHz) && targetMHz >= outMin && targetMHz <= outMax)) throw new BitweaveError(`ECP5 PLL: target clock ${targetMHz} MHz is outside ${outMin}..${outMax} MHz`);
  const eps = 1e-9;
  let best: Ecp5Pll | null = null;
  let bestErr = Infinity;
  for (let clkiDiv = 1; clkiDiv <= ECP5_PLL.clkiDiv; clkiDiv++) {
    const pfd = inMHz / clkiDiv;
    if (pfd < ECP5_PLL.pfdMHz[0] || pfd > ECP5_PLL.pfdMHz[1]) continue;
    for (let clkfbDiv = 1; clkfbDiv <= ECP5_PLL.clkfbDiv; clkfbDiv++) {
      const out = pfd * clkfbDiv;
      if (out < outMin - eps || out > outMax + eps) continue;
      for (let clkopDiv = 1; clkopDiv <= ECP5_PLL.clkopDiv; clkopDiv++) {
        const vco = out * clkopDiv;
        if (vco < ECP5_PLL.vcoMHz[0] - eps || vco > ECP5_PLL.vcoMHz[1] + eps) continue;
        const err = Math.abs(out - targetMHz);
        if (err < bestErr - eps || (Math.abs(err - bestErr) <= eps && best && Math.abs(vco - 600) < Math.abs(best.vcoMHz - 600) - eps)) {
          bestErr = err;
          best = {
            clkiDiv, clkfbDiv, clkopDiv, clkopCphase: Math.floor(clkopDiv / 2),
            pfdMHz: pfd, vcoMHz: vco, outMHz: out, outHz: Math.floor((Math.round(inMHz * 1e6) * clkfbDiv) / clkiDiv),
          };
        }
      }
    }
  }
  if (!best) throw new BitweaveError(`ECP5 PLL: no dividers reach ${targetMHz} MHz from ${inMHz} MHz`);
  return best;
}
