/**
 * A resource and rate estimate of the OpenCL array (opencl-kernels/, Intel channel build)
 * on an Intel board, counted from the kernels' structure: what aoc instantiates per PE,
 * per load/store site and per on-chip buffer. aoc is not available here, so every figure is
 * an estimate with its basis spelled out; `make report` in the emitted build gives aoc's own.
 *
 * Per PE: the RTL's measured PE grid (host/array/resources.ts, yosys on UltraScale+: both
 * XNOR and AND datapaths, accumulator, forwarding) at ALM_PER_LUT6 ALMs per 6-input LUT
 * (an ALM fits one 6-input function, or two that share inputs; 0.8 assumes little pairing).
 * Per load/store unit: LSU_ALM ALMs and LSU_M20K block RAMs (burst-coalesced units with
 * their buffers). M20Ks for the streams (channel FIFOs) and the PE array's replay store,
 * at 40-bit-wide, 512-deep blocks.
 */
import { Board } from '../boards';
import { programCycles, streamedTiles } from '../array/cycles';
import { OPENCL_BUFFERS } from '../array/limits';
import { ArrayParams } from '../array/params';
import { LayerProgram } from '../array/program';
import { RECORDED_XCUP } from '../array/resources';

export const ALM_PER_LUT6 = 0.8;
export const LSU_ALM = 700;
export const LSU_M20K = 2;
/** Share of the device's ALMs the array's kernels may use: the BSP / FIM and aoc's interconnect take the rest. */
export const INTEL_ARRAY_FRACTION = 0.5;
/** Stream depths of opencl-kernels/stream.cl (act: 64 k-steps; acc: 2·COLS columns). */
const ACT_DEPTH = 64;

export interface IntelResources {
  rows: number;
  cols: number;
  /** The PE array's weight store in 64-bit words (BW_WEIGHT_BUF_WORDS of the build). */
  weightWords: number;
  alm: number;
  m20k: number;
  /** Variable-precision DSP blocks: none, the AND-mode scale is a shift and a negation. */
  dsp: number;
  /** Load/store sites by kernel. */
  lsus: { feeder: number; pe: number; output: number; total: number };
  /** Where the ALMs go. */
  parts: { pes: number; lsus: number };
}

const m20kFor = (bitsWide: number, depth: number) => Math.ceil(bitsWide / 40) * Math.ceil(depth / 512);

/** Smallest weight store a build is given (a layer larger than the store streams its weights per tile). */
export const MIN_WEIGHT_WORDS = 2048;

/** The array's kernels at ROWS x COLS with a weight store of `weightWords`: counted from the source structure (see the file comment). */
export function intelResources(a: { rows: number; cols: number }, weightWords: number = OPENCL_BUFFERS.weightWords): IntelResources {
  const { rows, cols } = a;
  // global load / store sites: the feeder's copy of a slot's windows and its direct reads for
  // larger windows; the PE array's copy of a layer's wide weight rows and its per-tile stream
  // for larger layers; the output units' threshold and flag copies, int32 store, packed-word
  // store and the pooled read-modify-write pair
  const lsus = { feeder: 2, pe: 2, output: 6, total: 0 };
  lsus.total = lsus.feeder + lsus.pe + lsus.output;
  const pes = Math.round(rows * cols * RECORDED_XCUP.grid.lut * ALM_PER_LUT6);
  const lsuAlm = lsus.total * LSU_ALM;
  // streams, the replay store, the weight store, the feeder's window store (one bank per
  // column) and the group's thresholds (one bank per row: the banks are read at once)
  const m20k =
    lsus.total * LSU_M20K + m20kFor(64 * cols, ACT_DEPTH) + m20kFor(32 * rows, 2 * cols) + m20kFor(64 * cols, OPENCL_BUFFERS.replaySteps) +
    m20kFor(64 * rows, Math.floor(weightWords / rows)) + cols * m20kFor(64, OPENCL_BUFFERS.replaySteps) + rows * m20kFor(32, 255);
  return { rows, cols, weightWords, alm: pes + lsuAlm, m20k, dsp: 0, lsus, parts: { pes, lsus: lsuAlm } };
}

/** The largest weight store (a power of two, default size down to MIN_WEIGHT_WORDS) with which the array fits, or null. */
export function intelFit(board: Board, a: { rows: number; cols: number }): IntelResources | null {
  for (let w = OPENCL_BUFFERS.weightWords; w >= MIN_WEIGHT_WORDS; w /= 2) {
    const r = intelResources(a, w);
    if (intelFits(board, r)) return r;
  }
  return null;
}

/** Whether the estimate fits INTEL_ARRAY_FRACTION of the board's ALMs and its M20Ks (or its block memory bits). */
export function intelFits(board: Board, r: IntelResources): boolean {
  const res = board.resources;
  if (!res?.alm) return false;
  if (r.alm > res.alm * INTEL_ARRAY_FRACTION) return false;
  if (res.m20k !== undefined) return r.m20k <= res.m20k * INTEL_ARRAY_FRACTION;
  // Cyclone V lists M10K memory in kbits: count the estimate's blocks at 20 kbits
  if (res.memKbits !== undefined) return r.m20k * 20 <= res.memKbits * INTEL_ARRAY_FRACTION;
  return true;
}

/**
 * The largest ROWS x COLS (powers of two, ROWS <= 64 and dividing 64, COLS in [ROWS/4,
 * 4·ROWS]; of equal PE counts the one with the larger weight store, then fewer ALMs) that
 * fits with some weight store (`intelFit`), or null.
 */
export function sizeIntelArray(board: Board): IntelResources | null {
  let best: IntelResources | null = null;
  for (let rows = 1; rows <= 64; rows *= 2) {
    for (let cols = Math.max(1, rows / 4); cols <= 4 * rows; cols *= 2) {
      const r = intelFit(board, { rows, cols });
      if (!r) continue;
      const pes = rows * cols;
      const more = !best || pes > best.rows * best.cols;
      const same = best && pes === best.rows * best.cols;
      if (more || (same && (r.weightWords > best!.weightWords || (r.weightWords === best!.weightWords && r.alm < best!.alm)))) best = r;
    }
  }
  return best;
}

export interface IntelRate {
  /** Array cycles per image: the cycle model's tile phase (no fill, drain or memory stalls). */
  cyclesPerImage: number;
  /** DDR bytes per image the kernels read and write without any cache hit (an upper bound). */
  bytesPerImage: number;
  /** At `mhz`: images/s from cycles, and the DDR bandwidth that rate needs. */
  mhz: number;
  imagesPerSecond: number;
  ddrGBps: number;
}

/**
 * Rate of a model's device segments at `mhz` (no Intel board has a fixed kernel clock: aoc
 * sets it), for `batch` images per launch. DDR traffic: a layer's weights once per launch
 * where they fit the PE array's store, else every tile's; the input words of every streamed
 * k-step (replayed slots once); and the outputs. The load units' caches only lower it.
 */
export function intelRate(progs: LayerProgram[], a: ArrayParams, mhz: number, batch = 32, weightWords: number = OPENCL_BUFFERS.weightWords): IntelRate {
  let cycles = 0;
  let bytes = 0;
  for (const p of progs) {
    for (const l of programCycles(p, batch, a)) {
      const d = p.layerDescriptors[l.layer];
      const groups = Math.ceil(d.OUT_C / a.rows);
      const streamed = streamedTiles(d, l, a);
      const layerRows = groups * d.kWords;
      const weightBytes = layerRows * a.rows <= weightWords ? layerRows * a.rows * 8 : l.tiles * d.kWords * a.rows * 8;
      cycles += l.tileCycles / batch;
      bytes += (weightBytes + streamed * a.cols * l.k * 8) / batch + d.outWordsTotal * 8;
    }
  }
  const imagesPerSecond = (mhz * 1e6) / cycles;
  return { cyclesPerImage: Math.round(cycles), bytesPerImage: Math.round(bytes), mhz, imagesPerSecond, ddrGBps: (bytes * imagesPerSecond) / 1e9 };
}
