/**
 * Cycle model of the RTL array (sim/, docs/ARCHITECTURE.md "RTL array"): predicts the
 * cycles of every layer of a layer program, the way the sequencer walks it. Tested against
 * the cycles the Verilator model counts; the compiler's planner can use it to choose the
 * array size without simulating.
 *
 * Per layer (loop order layer -> channel group -> tiles over the batch's pixel stream):
 *   cycles = DESC_WORDS + 16 + ROWS + 2·COLS         descriptor read, prep, skew and drain of the last tile
 *          + [threshold or pool] G·(L+1) + 1        per-channel parameters into the row units
 *          + min(COLS, S)                           the first tile's pixel-stream entries
 *          + (tiles - 1)·P + K                      tiles back to back, P = max(K, COLS)
 *          + [last layer] 1                         the cycle that signals done
 *  with K = KH·KW·IN_PLANES·IN_WORDS words per output, G = ceil(OUT_C/ROWS) channel groups,
 *  L = 2^OUT_BITS - 1 thresholds, S = batch · (accumulator pixels over all pool windows,
 *  = ACC_H·ACC_W without pool) entries per group and tiles = G·ceil(S/COLS).
 */
import { BitweaveError } from '../core/errors';
import type { Board } from '../boards';
import { ArrayParams, DESC_WORDS, FIELD, OP_POOL, OP_THRESHOLD } from './params';
import { LayerProgram } from './program';

/**
 * Fixed cycles per layer besides the terms below: descriptor read and prep, the feeder's
 * two stages, the skew (ROWS-1 + COLS-1), the drain (COLS) and the output stages
 * (checked against the RTL at 8x8 and 4x16; see the test).
 */
export function layerOverhead(p: ArrayParams): number {
  return DESC_WORDS + 16 + p.rows + 2 * p.cols;
}

export interface LayerCycles {
  layer: number;
  cycles: number;
  /** Useful binary MACs of the layer on the batch (outC·accH·accW·kh·kw·inC·planes·batch). */
  macs: number;
  /** macs / (ROWS·COLS·WORD·cycles). */
  utilization: number;
  tiles: number;
  /** Tile period P and words per output K. */
  period: number;
  k: number;
}

/** Entries of one image's pixel stream: accumulator pixels summed over the (clipped) pool windows. */
function streamLength(d: (f: keyof typeof FIELD) => number): number {
  const pool = (d('OPCODE') & OP_POOL) !== 0;
  if (!pool) return d('ACC_H') * d('ACC_W');
  const span = (out: number, acc: number, k: number, s: number, p: number) => {
    let n = 0;
    for (let o = 0; o < out; o++) {
      const lo = Math.max(0, o * s - p);
      const hi = Math.min(acc - 1, o * s - p + k - 1);
      n += Math.max(0, hi - lo + 1);
    }
    return n;
  };
  return span(d('OUT_H'), d('ACC_H'), d('POOL_KH'), d('POOL_SH'), d('POOL_PH')) * span(d('OUT_W'), d('ACC_W'), d('POOL_KW'), d('POOL_SW'), d('POOL_PW'));
}

/** Predicted cycles of every layer of `prog` on a batch of `batch` images. */
export function programCycles(prog: LayerProgram, batch: number, p: ArrayParams): LayerCycles[] {
  if (!Number.isInteger(batch) || batch < 1) throw new BitweaveError(`batch must be a positive integer, got ${batch}`);
  const out: LayerCycles[] = [];
  for (let l = 0; l < prog.layers; l++) {
    const d = (f: keyof typeof FIELD) => prog.descriptors[l * DESC_WORDS + FIELD[f]];
    const op = d('OPCODE');
    const thr = (op & OP_THRESHOLD) !== 0;
    const k = d('KH') * d('KW') * d('IN_PLANES') * d('IN_WORDS');
    const period = Math.max(k, p.cols);
    const groups = Math.ceil(d('OUT_C') / p.rows);
    const nthr = thr ? 2 ** d('OUT_BITS') - 1 : 0;
    const s = batch * streamLength(d);
    const tiles = groups * Math.ceil(s / p.cols);
    let cycles = layerOverhead(p) + Math.min(p.cols, s) + (tiles - 1) * period + k;
    if (thr || (op & OP_POOL) !== 0) cycles += groups * (nthr + 1) + 1;
    if (l === prog.layers - 1) cycles += 1; // the cycle in which the sequencer signals done
    const macs = d('OUT_C') * d('ACC_H') * d('ACC_W') * d('KH') * d('KW') * d('IN_C') * d('IN_PLANES') * batch;
    out.push({ layer: l, cycles, macs, utilization: macs / (p.rows * p.cols * p.word * cycles), tiles, period, k });
  }
  return out;
}

export interface Projection {
  board: string;
  clockMHz: number;
  cyclesPerImage: number;
  imagesPerSecond: number;
  /** Always true: a figure from the cycle model and the board's clock, not a measurement. */
  projected: true;
  label: string;
}

/**
 * Projected throughput of the array on a board: board kernel clock / cycles per image.
 * A projection from cycle counts (host transfers, host layers and achieved clock ignored),
 * never a measurement.
 */
export function projectThroughput(board: Board, cyclesPerImage: number, clockMHz = board.clock.kernelMHz): Projection {
  if (clockMHz === null || !(clockMHz > 0)) throw new BitweaveError(`board '${board.name}' has no kernel clock to project with`);
  if (!(cyclesPerImage > 0)) throw new BitweaveError(`cycles per image must be positive, got ${cyclesPerImage}`);
  const ips = (clockMHz * 1e6) / cyclesPerImage;
  return {
    board: board.name, clockMHz, cyclesPerImage, imagesPerSecond: ips, projected: true,
    label: `projected ${ips.toFixed(0)} images/s on ${board.name} at ${clockMHz} MHz (cycle model, not measured)`,
  };
}
