/**
 * Cycle model of the RTL array (sim/, docs/ARCHITECTURE.md "RTL array"): predicts the
 * cycles of every layer of a layer program, the way the sequencer walks it. Tested against
 * the cycles the Verilator model counts; the compiler's planner can use it to choose the
 * array size without simulating.
 *
 * Per layer (pool layers: channel group -> tiles over the batch's pixel stream; others:
 * ring slot -> channel group):
 *   cycles = DESC_WORDS + 17 + ROWS + COLS + D      descriptor read, prep, skew, PE pipeline, drain of the last tile
 *          + [threshold or pool] G·(L+1) + 1        per-channel parameters into the row units
 *          + min(COLS, S)                           the first tile's pixel-stream entries
 *          + (tiles - 1)·P + K                      tiles back to back
 *          + [last layer] 1                         the cycle that signals done
 *          - [not the first layer] min(DESC_WORDS, R')  descriptor words prefetched while the previous layer ran
 *  where R' is the previous layer's run phase (its cycles without the descriptor, prep and
 *  parameter phases),
 *  K = W_BITS·KH·KW·IN_PLANES·IN_WORDS words per output (one pass of the window per weight
 *  plane x activation plane: a k-bit x q-bit layer costs k·q times a binary one's PE cycles),
 *  G = ceil(OUT_C/ROWS) channel groups,
 *  L = 2^OUT_BITS - 1 thresholds, S = batch · (accumulator pixels over all pool windows,
 *  = ACC_H·ACC_W without pool) entries per group, tiles = G·ceil(S/COLS), and, with
 *  DRAIN output columns per cycle: on pool layers P = max(K, COLS) and D = COLS (one
 *  column per cycle); otherwise P = max(K, COLS/DRAIN, ceil(COLS/G)) and D = COLS/DRAIN.
 *
 * The HLS and OpenCL kernels execute the same tiles in the same order (hls/layer.h,
 * opencl-kernels/sequencer.cl) with the same periods; what they do not share is the RTL's
 * per-layer fill and drain (descriptor, parameter load, skew, the last tile's drain), which
 * they do differently and which is unknown until synthesis. Their backends therefore report
 * the tile phase, `tileCycles` = (tiles - 1)·P + K, of this model (`scheduleCycles`).
 */
import { BitweaveError } from '../core/errors';
import { Descriptor, tiling } from './descriptor';
import { OPENCL_BUFFERS } from './limits';
import { ArrayParams, DESC_WORDS } from './params';
import { LayerProgram } from './program';

/**
 * Fixed cycles of a layer's run phase besides skew, drain and tiles: the walker's and
 * the feeder's pipeline stages, the PE's popcount stage and the output stages; the other
 * FIXED - RUN_FIXED fixed cycles are the descriptor, prep and state changes (checked
 * against the RTL at 8x8, 2x2 and 4x16, with several DRAIN values; see the test).
 */
const RUN_FIXED = 10;
const FIXED = 17;

/** Output columns the RTL drains per cycle (pool layers: one). */
export function drainOf(p: ArrayParams): number {
  const d = p.drain ?? p.cols;
  if (!Number.isInteger(d) || d < 1 || p.cols % d !== 0) throw new BitweaveError(`drain ${d} must divide COLS = ${p.cols}`);
  return d;
}

export interface LayerCycles {
  layer: number;
  cycles: number;
  /** Useful binary MACs of the layer on the batch (Descriptor.macs · batch). */
  macs: number;
  /** macs / (ROWS·COLS·WORD·cycles). */
  utilization: number;
  tiles: number;
  /** Tile period P and words per output K. */
  period: number;
  k: number;
  /** The tile phase, (tiles − 1)·P + K: the layer's cycles without the RTL's fill and drain. */
  tileCycles: number;
}

/** Entries of one image's pixel stream: accumulator pixels summed over the (clipped) pool windows. */
function streamLength(d: Descriptor): number {
  if (!d.pool) return d.ACC_H * d.ACC_W;
  const span = (out: number, acc: number, k: number, s: number, p: number) => {
    let n = 0;
    for (let o = 0; o < out; o++) {
      const lo = Math.max(0, o * s - p);
      const hi = Math.min(acc - 1, o * s - p + k - 1);
      n += Math.max(0, hi - lo + 1);
    }
    return n;
  };
  return span(d.OUT_H, d.ACC_H, d.POOL_KH, d.POOL_SH, d.POOL_PH) * span(d.OUT_W, d.ACC_W, d.POOL_KW, d.POOL_SW, d.POOL_PW);
}

/** Predicted cycles of every layer of `prog` on a batch of `batch` images. */
export function programCycles(prog: LayerProgram, batch: number, p: ArrayParams): LayerCycles[] {
  if (!Number.isInteger(batch) || batch < 1) throw new BitweaveError(`batch must be a positive integer, got ${batch}`);
  const out: LayerCycles[] = [];
  let prevRun = 0;
  prog.layerDescriptors.forEach((d, l) => {
    const k = d.kSteps;
    const { groups } = tiling(d, p);
    const drainCycles = d.pool ? p.cols : p.cols / drainOf(p); // one tile leaving the array
    const period = d.pool ? Math.max(k, p.cols) : Math.max(k, drainCycles, Math.ceil(p.cols / groups));
    const nthr = d.threshold ? 2 ** d.OUT_BITS - 1 : 0;
    const s = batch * streamLength(d);
    const tiles = groups * Math.ceil(s / p.cols);
    const run = RUN_FIXED + p.rows + p.cols + drainCycles + Math.min(p.cols, s) + (tiles - 1) * period + k;
    let cycles = DESC_WORDS + (FIXED - RUN_FIXED) + run - Math.min(DESC_WORDS, prevRun);
    if (d.threshold || d.pool) cycles += groups * (nthr + 1) + 1;
    prevRun = run;
    if (l === prog.layers - 1) cycles += 1; // the cycle in which the sequencer signals done
    const macs = d.macs * batch;
    out.push({ layer: l, cycles, macs, utilization: macs / (p.rows * p.cols * p.word * cycles), tiles, period, k, tileCycles: (tiles - 1) * period + k });
  });
  return out;
}

/**
 * Tile-phase cycles of every layer (LayerCycles.tileCycles) summed over the calls a batch
 * is run in (`calls`: images per call; each call walks its own pixel stream): what the HLS
 * and OpenCL backends report.
 */
export function scheduleCycles(prog: LayerProgram, calls: number[], p: ArrayParams): number[] {
  const total = new Array<number>(prog.layers).fill(0);
  for (const n of calls) programCycles(prog, n, p).forEach((l, i) => (total[i] += l.tileCycles));
  return total;
}

/**
 * Tiles of a layer whose activation words the OpenCL array's feeder streams: a slot used for
 * several channel groups (no pool) is streamed once when its k-steps fit the PE array's
 * replay store (opencl-kernels/stream.cl bw_replays), else once per group.
 */
export function streamedTiles(d: Descriptor, l: LayerCycles, p: ArrayParams): number {
  const groups = Math.ceil(d.OUT_C / p.rows);
  return !d.pool && groups > 1 && l.k <= OPENCL_BUFFERS.replaySteps ? l.tiles / groups : l.tiles;
}
