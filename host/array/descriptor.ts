/**
 * One layer descriptor as a typed view: its fields (params.ts DESC_FIELDS), the values
 * every implementation derives from them (K-steps, channel groups, tiles, MACs, region
 * sizes), and the one check of a descriptor against what an array build can execute.
 * The program encoder, the cycle model, the board emitters and every accelerator backend
 * read descriptors through here; the kernels decode the same fields from the generated
 * header.
 */
import { BitweaveError } from '../core/errors';
import { windowOut } from '../core/window';
import { accumulatorRange } from '../compile/model';
import { DescField, DESC_FIELDS, DESC_WORDS, FIELD, OP_AND_PLANES, OP_IN_SIGNED, OP_OUT_SIGNED, OP_POOL, OP_THRESHOLD, OP_W_SIGNED } from './params';
import { HLS_BUFFERS, INDEX_LIMIT, MAX_BITS, MAX_W_BITS, RTL_BUILD } from './limits';

/** The raw fields of one descriptor, by their header names. */
export type DescriptorFields = Record<DescField, number>;

export interface Descriptor extends DescriptorFields {
  /** Threshold epilogue (else int32 outputs), integer pool, AND bit-plane mode. */
  readonly threshold: boolean;
  readonly pool: boolean;
  readonly andPlanes: boolean;
  /** Two's complement activations, weights, threshold outputs (OP_IN_SIGNED, OP_W_SIGNED, OP_OUT_SIGNED). */
  readonly inSigned: boolean;
  readonly wSigned: boolean;
  readonly outSigned: boolean;
  /** Words per output K = W_BITS·KH·KW·IN_PLANES·IN_WORDS: PE cycles of one tile (one pass per weight plane x activation plane). */
  readonly kSteps: number;
  /** Pool window elements (1 without a pool). */
  readonly poolElems: number;
  /**
   * Useful binary MACs per image: OUT_C·KH·KW·IN_C·IN_PLANES·W_BITS (real bits only) for every
   * accumulator pixel a pool window reads (all ACC_H·ACC_W of them unless a pool's stride
   * or edge skips some; those are never computed by any of the three arrays).
   */
  readonly macs: number;
  /** 64-bit words of the input map, the output map (arena), and weights of the layer. */
  readonly inWordsTotal: number;
  readonly outWordsTotal: number;
  readonly weightWords: number;
  /** int32 parameter entries: thresholds (OUT_C·(2^OUT_BITS − 1)) and per-channel flags (OUT_C). */
  readonly thresholdEntries: number;
  /** Words per output channel of weights, all planes (W_BITS·KH·KW·IN_WORDS). */
  readonly kWords: number;
  /** 64-bit words per plane of one output pixel (threshold epilogue). */
  readonly outWords: number;
}

/**
 * Positions of [0, acc) that the `out` windows (size k, stride s, padding p) of one axis
 * cover, in O(1) (descriptors are decoded before they are checked): with y = x + p,
 * window o covers y in [o·s, o·s + k), so the covered y in [p, min(acc + p, (out − 1)·s + k))
 * are those with y mod s < k (all of them when s ≤ k).
 */
function coveredSpan(out: number, acc: number, k: number, s: number, p: number): number {
  if (out < 1 || s < 1) return 0;
  const upto = (n: number) => (s <= k ? n : Math.floor(n / s) * k + Math.min(n % s, k)); // covered y in [0, n)
  const lo = p, hi = Math.min(acc + p, (out - 1) * s + k);
  return hi > lo ? upto(hi) - upto(lo) : 0;
}

/** Fill in the derived values of a descriptor's fields. */
export function describeFields(f: DescriptorFields): Descriptor {
  const threshold = (f.OPCODE & OP_THRESHOLD) !== 0;
  const pool = (f.OPCODE & OP_POOL) !== 0;
  const pixels = f.OUT_H * f.OUT_W;
  const outWords = Math.ceil(f.OUT_C / 64);
  return {
    ...f,
    threshold,
    pool,
    andPlanes: (f.OPCODE & OP_AND_PLANES) !== 0,
    inSigned: (f.OPCODE & OP_IN_SIGNED) !== 0,
    wSigned: (f.OPCODE & OP_W_SIGNED) !== 0,
    outSigned: (f.OPCODE & OP_OUT_SIGNED) !== 0,
    kSteps: f.W_BITS * f.KH * f.KW * f.IN_PLANES * f.IN_WORDS,
    poolElems: pool ? f.POOL_KH * f.POOL_KW : 1,
    macs: f.OUT_C * (pool ? coveredSpan(f.OUT_H, f.ACC_H, f.POOL_KH, f.POOL_SH, f.POOL_PH) * coveredSpan(f.OUT_W, f.ACC_W, f.POOL_KW, f.POOL_SW, f.POOL_PW) : f.ACC_H * f.ACC_W) *
      f.KH * f.KW * f.IN_C * f.IN_PLANES * f.W_BITS,
    inWordsTotal: f.IN_H * f.IN_W * f.IN_PLANES * f.IN_WORDS,
    outWordsTotal: threshold ? pixels * f.OUT_BITS * outWords : Math.ceil((pixels * f.OUT_C) / 2),
    weightWords: f.W_BITS * f.OUT_C * f.KH * f.KW * f.IN_WORDS,
    thresholdEntries: threshold ? f.OUT_C * (2 ** f.OUT_BITS - 1) : 0,
    kWords: f.W_BITS * f.KH * f.KW * f.IN_WORDS,
    outWords,
  };
}

/** Descriptor `layer` of a layer program's descriptor words. */
export function decodeDescriptor(words: Uint32Array, layer: number): Descriptor {
  if (!Number.isInteger(layer) || layer < 0 || (layer + 1) * DESC_WORDS > words.length) {
    throw new BitweaveError(`layer program: no descriptor ${layer} in ${words.length} words`);
  }
  const f = {} as DescriptorFields;
  for (const name of DESC_FIELDS) f[name] = words[layer * DESC_WORDS + FIELD[name]];
  return describeFields(f);
}

/** Every descriptor of a program. */
export function decodeProgram(words: Uint32Array, layers: number): Descriptor[] {
  return Array.from({ length: layers }, (_, l) => decodeDescriptor(words, l));
}

/** Fields (missing ones 0) as DESC_WORDS uint32 words. */
export function encodeDescriptor(f: Partial<DescriptorFields>): Uint32Array {
  const d = new Uint32Array(DESC_WORDS);
  for (const name of DESC_FIELDS) {
    const v = f[name] ?? 0;
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new BitweaveError(`descriptor field ${name} = ${v} is not a uint32`);
    d[FIELD[name]] = v;
  }
  return d;
}

/** Channel groups (of ROWS output channels) and tiles of COLS output pixels of one image (the cycle model, cycles.ts, counts the schedule's tiles). */
export function tiling(d: Descriptor, a: { rows: number; cols: number }): { groups: number; pixelTiles: number } {
  return { groups: Math.ceil(d.OUT_C / a.rows), pixelTiles: Math.ceil((d.OUT_H * d.OUT_W) / a.cols) };
}

/**
 * Largest |accumulator| of a layer's result: K for xnor, else K·max|a|·max|w| (compile's
 * accumulatorRange). Partial sums over the passes may exceed it, but the accumulators
 * wrap modulo 2^ACC_BITS, so a result inside the signed range comes out exact.
 */
export function accMagnitude(d: Pick<Descriptor, 'KH' | 'KW' | 'IN_C' | 'IN_PLANES' | 'W_BITS' | 'OPCODE'>): number {
  const r = accumulatorRange(d.IN_PLANES, (d.OPCODE & OP_IN_SIGNED) !== 0, d.W_BITS, (d.OPCODE & OP_W_SIGNED) !== 0, d.KH * d.KW * d.IN_C);
  return Math.max(-r.lo, r.hi);
}

/**
 * What one build of the array can execute. Every field bounds a descriptor value; the
 * generic bounds hold for every build, the rest are per target (buffers, loop widths).
 */
export interface KernelLimits {
  /** For messages: 'the OpenCL kernel', 'the HLS kernel', 'the RTL array'. */
  target: string;
  accBits: number;
  /** Input planes, weight planes and threshold output bits. */
  maxInBits: number;
  maxWBits: number;
  maxOutBits: number;
  /** Geometry fields (IN_H … OUT_C, kernel, stride). */
  maxDim: number;
  /** Kernel and pool window sides and strides. */
  maxWindow: number;
  maxOutC: number;
  /** Words of one image's input map on chip, and weight words per output channel. */
  maxFmWords: number;
  maxKWords: number;
  /**
   * Sequencer loop values (RTL: 16-bit fields): K-steps, words per input row, output words
   * per pixel, weight words per channel group.
   */
  maxLoop: number;
  /** Pixels per row of the array (for the RTL's weight-words-per-group loop bound). */
  rows: number;
}

const UNBOUNDED = INDEX_LIMIT - 1;

/** Limits of the OpenCL kernels: only the 32-bit index arithmetic bounds them. */
export function openclLimits(a: { rows: number; accBits: number }): KernelLimits {
  return {
    target: 'the OpenCL kernel', accBits: a.accBits, rows: a.rows, maxInBits: MAX_BITS, maxWBits: MAX_W_BITS, maxOutBits: MAX_BITS,
    maxDim: UNBOUNDED, maxWindow: 1024, maxOutC: UNBOUNDED, maxFmWords: UNBOUNDED, maxKWords: UNBOUNDED, maxLoop: UNBOUNDED,
  };
}

/** Limits of the HLS kernel: its on-chip buffers (limits.ts HLS_BUFFERS, or what a build was compiled with). */
export function hlsLimits(a: { rows: number; accBits: number; maxFmWords?: number; maxKWords?: number; maxOutC?: number }): KernelLimits {
  return {
    target: 'the HLS kernel', accBits: a.accBits, rows: a.rows, maxInBits: MAX_BITS, maxWBits: MAX_W_BITS, maxOutBits: MAX_BITS,
    maxDim: 65536, maxWindow: 64, maxOutC: Math.min(65536, a.maxOutC ?? HLS_BUFFERS.maxOutC),
    maxFmWords: a.maxFmWords ?? HLS_BUFFERS.maxFmWords, maxKWords: a.maxKWords ?? HLS_BUFFERS.maxKWords, maxLoop: UNBOUNDED,
  };
}

/** Limits of the RTL array as built (bw_rtl.h's info): output bits, parameter RAM depth, 16-bit loops. */
export function rtlLimits(a: { rows: number; accBits: number; maxOutBits?: number; paramDepth?: number }): KernelLimits {
  const loop = 2 ** RTL_BUILD.loopBits - 1;
  return {
    target: 'the RTL array', accBits: a.accBits, rows: a.rows, maxInBits: MAX_BITS, maxWBits: MAX_W_BITS, maxOutBits: a.maxOutBits ?? RTL_BUILD.maxOutBits,
    maxDim: loop, maxWindow: loop, maxOutC: Math.min(loop, (a.paramDepth ?? RTL_BUILD.paramDepth) * a.rows),
    maxFmWords: UNBOUNDED, maxKWords: UNBOUNDED, maxLoop: loop,
  };
}

/** Sizes of the buffers a program runs with (64-bit words; int32 parameter entries). */
export interface ProgramBuffers {
  weightWords: number;
  paramEntries: number;
  arenaWords: number;
}

/**
 * Why descriptor `d` cannot run on a build with `limits` and these buffers, or null.
 * Geometry must be consistent (IN_WORDS, ACC and OUT sizes, TAIL follow from the other
 * fields), every bound of `limits` must hold and every region must lie inside its buffer
 * without the output overlapping the input. The one set of rules every backend and
 * board emitter applies; the kernels trust what passes.
 */
export function descriptorProblem(d: Descriptor, limits: KernelLimits, buffers?: ProgramBuffers): string | null {
  const known = OP_THRESHOLD | OP_POOL | OP_AND_PLANES | OP_IN_SIGNED | OP_W_SIGNED | OP_OUT_SIGNED;
  if (d.OPCODE & ~known) return `unknown opcode bits 0x${(d.OPCODE & ~known).toString(16)}`;
  const dims = ['IN_H', 'IN_W', 'IN_C', 'IN_WORDS', 'IN_PLANES', 'W_BITS', 'KH', 'KW', 'SH', 'SW', 'OUT_C', 'ACC_H', 'ACC_W', 'OUT_H', 'OUT_W'] as const;
  for (const f of dims) if (d[f] < 1 || d[f] >= INDEX_LIMIT) return `${f} = ${d[f]} must be in 1..2^31-1`;
  if (d.IN_WORDS !== Math.ceil(d.IN_C / 64)) return `IN_WORDS = ${d.IN_WORDS} but IN_C = ${d.IN_C} needs ${Math.ceil(d.IN_C / 64)}`;
  if (d.IN_PLANES > limits.maxInBits) return `IN_PLANES = ${d.IN_PLANES}: ${limits.target} takes up to ${limits.maxInBits}-bit inputs`;
  if (d.W_BITS > limits.maxWBits) return `W_BITS = ${d.W_BITS}: ${limits.target} takes up to ${limits.maxWBits}-bit weights`;
  const xnor = d.IN_PLANES === 1 && d.W_BITS === 1;
  if (xnor === d.andPlanes) return `IN_PLANES = ${d.IN_PLANES}, W_BITS = ${d.W_BITS} does not match the AND bit-plane opcode bit`;
  if (d.inSigned && d.IN_PLANES < 2) return 'opcode bit IN_SIGNED needs IN_PLANES >= 2 (1-bit activations are bipolar)';
  if (d.wSigned && d.W_BITS < 2) return 'opcode bit W_SIGNED needs W_BITS >= 2 (1-bit weights are bipolar)';
  if (d.outSigned && !(d.threshold && d.OUT_BITS >= 2)) return 'opcode bit OUT_SIGNED needs a threshold epilogue with OUT_BITS >= 2';
  if (d.PAD_BIT > 1) return `PAD_BIT = ${d.PAD_BIT} must be 0 or 1`;
  if (d.PH >= d.KH || d.PW >= d.KW) return 'padding must be smaller than the kernel window';
  if (d.ACC_H !== windowOut(d.IN_H, d.KH, d.SH, d.PH) || d.ACC_W !== windowOut(d.IN_W, d.KW, d.SW, d.PW)) {
    return `ACC_H x ACC_W = ${d.ACC_H}x${d.ACC_W} does not follow from the input and window`;
  }
  let oh = d.ACC_H;
  let ow = d.ACC_W;
  if (d.pool) {
    for (const f of ['POOL_KH', 'POOL_KW', 'POOL_SH', 'POOL_SW'] as const) {
      if (d[f] < 1 || d[f] > limits.maxWindow) return `${f} = ${d[f]} must be in 1..${limits.maxWindow} for ${limits.target}`;
    }
    if (d.POOL_PH >= d.POOL_KH || d.POOL_PW >= d.POOL_KW) return 'pool padding must be smaller than the pool window';
    oh = windowOut(oh, d.POOL_KH, d.POOL_SH, d.POOL_PH);
    ow = windowOut(ow, d.POOL_KW, d.POOL_SW, d.POOL_PW);
  }
  if (d.OUT_H !== oh || d.OUT_W !== ow) return `OUT_H x OUT_W = ${d.OUT_H}x${d.OUT_W}, expected ${oh}x${ow}`;
  const tail = xnor ? d.KH * d.KW * (64 * d.IN_WORDS - d.IN_C) : 0;
  if (d.TAIL !== tail) return `TAIL = ${d.TAIL}, expected ${tail}`;
  if (d.threshold ? d.OUT_BITS < 1 || d.OUT_BITS > limits.maxOutBits : d.OUT_BITS !== 0) {
    return d.threshold ? `OUT_BITS = ${d.OUT_BITS}: ${limits.target} is built for 1..${limits.maxOutBits}-bit outputs` : `OUT_BITS = ${d.OUT_BITS} must be 0 for integer outputs`;
  }
  const acc = accMagnitude(d);
  if (acc >= 2 ** (limits.accBits - 1)) return `accumulator needs ${Math.ceil(Math.log2(acc + 1)) + 1} bits, ${limits.target} has ${limits.accBits}`;

  // per-target bounds
  for (const f of ['IN_H', 'IN_W', 'ACC_H', 'ACC_W', 'OUT_H', 'OUT_W', 'OUT_C', 'IN_WORDS'] as const) {
    if (d[f] > limits.maxDim) return `${f} = ${d[f]} exceeds ${limits.maxDim}, the largest ${limits.target} loops over`;
  }
  for (const f of ['KH', 'KW', 'SH', 'SW', 'PH', 'PW'] as const) {
    if (d[f] > limits.maxWindow) return `${f} = ${d[f]} exceeds ${limits.maxWindow}, the largest window ${limits.target} takes`;
  }
  if (d.OUT_C > limits.maxOutC) return `${d.OUT_C} output channels; ${limits.target} holds ${limits.maxOutC}`;
  if (d.inWordsTotal > limits.maxFmWords) return `input map of ${d.inWordsTotal} words exceeds ${limits.target}'s buffer of ${limits.maxFmWords}`;
  if (d.kWords > limits.maxKWords) return `${d.kWords} weight words per channel exceed ${limits.target}'s buffer of ${limits.maxKWords}`;
  const loops: [string, number][] = [
    ['words per window', d.kSteps],
    ['words per input row', d.IN_W * d.IN_PLANES * d.IN_WORDS],
    ['output words per pixel', Math.max(d.OUT_BITS * d.outWords, d.OUT_C)],
    ['weight words per channel group', d.kWords * limits.rows],
  ];
  for (const [what, v] of loops) if (v > limits.maxLoop) return `${what} = ${v} exceeds ${limits.maxLoop}, the largest ${limits.target}'s sequencer counts`;

  if (buffers) {
    const inside = (what: string, off: number, n: number, size: number, unit: string): string | null =>
      !Number.isSafeInteger(off + n) || off + n > size || n >= INDEX_LIMIT ? `${what} [${off}, ${off + n}) lies outside the ${size} ${unit}` : null;
    const problem =
      inside('input region', d.IN_OFF, d.inWordsTotal, buffers.arenaWords, 'words of the arena') ??
      inside('output region', d.OUT_OFF, d.outWordsTotal, buffers.arenaWords, 'words of the arena') ??
      inside('weights', d.W_OFF, d.weightWords, buffers.weightWords, 'weight words') ??
      (d.threshold ? inside('thresholds', d.T_OFF, d.thresholdEntries, buffers.paramEntries, 'parameter entries') : null) ??
      inside('channel flags', d.F_OFF, d.OUT_C, buffers.paramEntries, 'parameter entries');
    if (problem) return problem;
    if (d.OUT_OFF < d.IN_OFF + d.inWordsTotal && d.IN_OFF < d.OUT_OFF + d.outWordsTotal) return 'the output region overlaps the input region';
  }
  return null;
}

/**
 * Every descriptor of a program against `limits` and its buffers; throws one line
 * `<where>: <layer>: <problem>`.
 */
export function checkProgram(
  descriptors: Uint32Array, layers: number, limits: KernelLimits, buffers: ProgramBuffers,
  where = 'layer program', layerName: (l: number) => string = (l) => `layer ${l}`,
): Descriptor[] {
  if (!(descriptors instanceof Uint32Array)) throw new BitweaveError('layer program: descriptors must be a Uint32Array');
  if (!Number.isInteger(layers) || layers < 1 || descriptors.length !== layers * DESC_WORDS) {
    throw new BitweaveError(`layer program: ${descriptors.length} descriptor words for ${layers} layers (expected ${DESC_WORDS} each)`);
  }
  for (const [k, v] of Object.entries(buffers)) {
    if (!Number.isSafeInteger(v) || v < 0 || v >= INDEX_LIMIT) throw new BitweaveError(`layer program: ${k} = ${v} is outside 0..2^31-1`);
  }
  return decodeProgram(descriptors, layers).map((d, l) => {
    const why = descriptorProblem(d, limits, buffers);
    if (why) throw new BitweaveError(`${where}: ${layerName(l)}: ${why}`);
    return d;
  });
}
