/**
 * A layer program laid out for the dev-board SoC's memories (sim/soc/bw_soc.sv): weights
 * regrouped into wide rows (row W_OFF + g·WK + q holds word q of channel g·ROWS + r in lane
 * r, the array's WIDE_WEIGHTS mode) with W_OFF rewritten in rows, and every size checked
 * against what the board holds before any byte is sent. The arena keeps the program's
 * layout.
 */
import { ShapeError } from '../core/errors';
import { formatBytes } from '../core/text';
import { wideWeights } from '../array/wide';
import { LayerProgram } from '../array/program';
import { BoardInfo } from './protocol';

export interface BoardProgram {
  layers: number;
  /** Descriptors with W_OFF in wide rows. */
  descriptors: Uint32Array;
  params: Int32Array;
  /** Wide weight rows as 32-bit words (ROWS·2 per row). */
  weights: Uint32Array;
  weightRows: number;
  arenaWords: number;
  /** Images one START can take (the arena holds this many). */
  imagesPerRun: number;
}

/** Lays out `prog` for a board; a ShapeError naming bytes needed and held when it does not fit. */
export function boardProgram(prog: LayerProgram, info: BoardInfo, what: string): BoardProgram {
  const rows = info.rows;
  const wide = wideWeights(prog, rows);
  const weightRows = wide.rows;
  const descriptors = wide.descriptors;
  const need = (bytes: number, held: number, mem: string) => {
    if (bytes > held) {
      throw new ShapeError(`${what}: the model needs ${formatBytes(bytes)} of ${mem}, the board holds ${formatBytes(held)}`);
    }
  };
  need(weightRows * rows * 8, info.weightRows * rows * 8, 'weight memory');
  need(prog.params.length * 4, info.paramWords * 4, 'parameter memory');
  // the descriptor memory's last word holds the resident program's tag (the board backend)
  need((descriptors.length + 1) * 4, info.descDepth * 4, 'descriptor memory');
  need(prog.arenaWords * 8, info.arenaWords * 8, 'arena (one image)');
  const weights = wide.weights;

  return {
    layers: prog.layers,
    descriptors,
    params: prog.params,
    weights,
    weightRows,
    arenaWords: prog.arenaWords,
    imagesPerRun: Math.floor(info.arenaWords / prog.arenaWords),
  };
}

/**
 * Bytes one image moves over the UART link, as the board backend sends it: every segment
 * input region in WRITE frames (header 7 + 5 bytes, reply 7, per 256 words) and every
 * output region in READ frames (request 7 + 7, reply 7 + the data, per 256 words).
 */
export function linkBytesPerImage(progs: LayerProgram[]): number {
  const frames = (words32: number) => Math.ceil(words32 / 256);
  let bytes = 0;
  for (const p of progs) {
    for (const r of p.inputs) bytes += 8 * r.words + frames(2 * r.words) * (12 + 7);
    for (const r of p.outputs) bytes += 8 * r.words + frames(2 * r.words) * (14 + 7);
  }
  return bytes;
}
