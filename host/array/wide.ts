/**
 * A layer program's weights in wide rows, the array's WIDE_WEIGHTS layout (sim/bw_top.sv):
 * row W_OFF + g·WK + q holds word q of channel g·ROWS + r in lane r, so one memory row feeds
 * every PE row at once. The dev-board SoC (host/board/layout.ts), the RTL kernel behind
 * AXI (the axi-sim backend, Vitis builds) and the OpenCL array kernels (opencl-kernels/
 * weight_feeder.cl) read weights this way; W_OFF is rewritten in rows.
 */
import { DESC_WORDS, FIELD } from './params';
import { LayerProgram } from './program';

export interface WideWeights {
  /** The program's descriptors with W_OFF in wide rows. */
  descriptors: Uint32Array;
  /** ROWS 64-bit words per row, as 32-bit halves (low first). */
  weights: Uint32Array;
  rows: number;
}

/** Wide rows the program's weights take (what wideWeights lays out), without building them. */
export function wideRowCount(prog: LayerProgram, rows: number): number {
  return prog.layerDescriptors.reduce((n, d) => n + Math.ceil(d.OUT_C / rows) * d.kWords, 0);
}

export function wideWeights(prog: LayerProgram, rows: number): WideWeights {
  const descriptors = prog.descriptors.slice();
  let cursor = 0;
  const placed: { l: number; row0: number; groups: number; wk: number }[] = [];
  prog.layerDescriptors.forEach((d, l) => {
    const groups = Math.ceil(d.OUT_C / rows);
    placed.push({ l, row0: cursor, groups, wk: d.kWords });
    descriptors[l * DESC_WORDS + FIELD.W_OFF] = cursor;
    cursor += groups * d.kWords;
  });
  const weights = new Uint32Array(cursor * rows * 2);
  for (const { l, row0, groups, wk } of placed) {
    const d = prog.layerDescriptors[l];
    for (let g = 0; g < groups; g++) {
      for (let r = 0; r < rows; r++) {
        const ch = g * rows + r;
        if (ch >= d.OUT_C) break;
        for (let q = 0; q < wk; q++) {
          const src = 2 * (d.W_OFF + ch * wk + q);
          const dst = 2 * ((row0 + g * wk + q) * rows + r);
          weights[dst] = prog.weights[src];
          weights[dst + 1] = prog.weights[src + 1];
        }
      }
    }
  }
  return { descriptors, weights, rows: cursor };
}
