/**
 * Small CompiledModels built directly (no importer, no compiler) so tests can put any op
 * configuration in front of two backends: one binary layer with every option of BconvOp,
 * or a chain of host float layers. Each model passes validateModel.
 */
import { accumulatorRange, CompiledModel, CompiledOp, IntPool, PAD_ZERO, TensorInfo, tensorLength } from '../../host/compile/model';
import { partition } from '../../host/compile/partition';
import { windowOut as windowSize } from '../../host/core/window';
import { TensorData } from '../../host/runtime/backend';
import { Backend } from '../../host/runtime/backend';
import { Session } from '../../host/runtime/session';

type OpWithoutOut = CompiledOp extends infer O ? (O extends CompiledOp ? Omit<O, 'out'> : never) : never;

/** Appends ops in order; tensor 0 is the model input, op i writes tensor i + 1. */
export class ModelBuilder {
  readonly tensors: TensorInfo[] = [];
  readonly ops: CompiledOp[] = [];
  readonly names: string[] = [];

  constructor(h: number, w: number, c: number) {
    this.tensors.push(f32(h, w, c));
  }

  add(op: OpWithoutOut, out: TensorInfo, name = `${op.op}${this.ops.length}`): number {
    const id = this.tensors.length;
    this.tensors.push(out);
    this.ops.push({ ...op, out: id } as CompiledOp);
    this.names.push(name);
    return id;
  }

  info(id: number): TensorInfo {
    return this.tensors[id];
  }

  build(name = 'test-model'): CompiledModel {
    const output = this.tensors.length - 1;
    return {
      name, source: { format: 'test', files: [] }, input: 0, output, softmax: false,
      tensors: this.tensors, ops: this.ops, segments: partition(this.ops, this.tensors, 0, output),
      opNames: this.names, floatWeightBytes: 0,
    };
  }
}

export function f32(h: number, w: number, c: number, flat = false): TensorInfo {
  return { kind: 'f32', h, w, c, planes: 0, flat };
}

/** A bits tensor; `signed` (two's complement levels, planes >= 2) is set only when true. */
export function bits(h: number, w: number, c: number, planes: number, signed = false): TensorInfo {
  return signed ? { kind: 'bits', h, w, c, planes, flat: false, signed } : { kind: 'bits', h, w, c, planes, flat: false };
}

export function i32(h: number, w: number, c: number): TensorInfo {
  return { kind: 'i32', h, w, c, planes: 0, flat: false };
}

/** Random packed words for n pixels of c channels (`planes` per pixel), tails zero. */
export function randomBits(r: () => number, pixels: number, c: number, planes: number, density = 0.5): Uint32Array {
  const u32 = Math.ceil(c / 64) * 2;
  const out = new Uint32Array(pixels * planes * u32);
  for (let p = 0; p < pixels * planes; p++)
    for (let ch = 0; ch < c; ch++) if (r() < density) out[p * u32 + (ch >>> 5)] |= 1 << (ch & 31);
  return out;
}

export interface BconvCase {
  H: number; W: number; C: number; outC: number;
  kh: number; kw: number; sh: number; sw: number; ph: number; pw: number;
  /** 0 / 1, or PAD_ZERO (1-bit activations and weights only). */
  padBit: 0 | 1 | typeof PAD_ZERO; inBits: number;
  pool: { kh: number; kw: number; sh: number; sw: number; ph: number; pw: number } | null;
  /** 0: raw integers; k: k-bit threshold epilogue */
  outBits: number;
  seed: number;
  /** Weight bits (default 1: bipolar) and two's complement weights (wBits >= 2). */
  wBits?: number;
  wSigned?: boolean;
  /** Two's complement activations (inBits >= 2) and threshold outputs (outBits >= 2). */
  inSigned?: boolean;
  outSigned?: boolean;
}

/** True when the window and pool fit (validateModel would accept the case). */
export function caseFits(p: BconvCase): boolean {
  const ah = windowSize(p.H, p.kh, p.sh, p.ph);
  const aw = windowSize(p.W, p.kw, p.sw, p.pw);
  if (ah < 1 || aw < 1 || p.ph >= p.kh || p.pw >= p.kw) return false;
  if (!p.pool) return true;
  const q = p.pool;
  return q.ph < q.kh && q.pw < q.kw && windowSize(ah, q.kh, q.sh, q.ph) >= 1 && windowSize(aw, q.kw, q.sw, q.pw) >= 1;
}

/**
 * input f32 -> binarize -> bconv under test -> [probe] -> dequantize -> flatten.
 * A threshold epilogue's bits are made observable by a 1x1 "probe" bconv with one-hot
 * weights (output o sees channel o) plus one all-zero weight: for k-bit levels a,
 * v_o - v_zero = 2·a_o exactly, so equal probe integers mean equal bit-planes.
 */
export function bconvModel(p: BconvCase, r: () => number): CompiledModel {
  const b = new ModelBuilder(p.H, p.W, p.C);
  const wBits = p.wBits ?? 1;
  const wSigned = p.wSigned === true && wBits > 1;
  const inSigned = p.inSigned === true && p.inBits > 1;
  const outSigned = p.outSigned === true && p.outBits > 1;
  const x = b.add({ op: 'binarize', in: 0, bits: p.inBits }, bits(p.H, p.W, p.C, p.inBits, inSigned));
  const words = Math.ceil(p.C / 64);
  const weight = new Uint32Array(wBits * p.outC * p.kh * p.kw * words * 2);
  for (let g = 0; g < wBits * p.outC * p.kh * p.kw; g++)
    for (let c = 0; c < p.C; c++) if (r() < 0.5) weight[g * words * 2 + (c >>> 5)] |= 1 << (c & 31);
  const ah = windowSize(p.H, p.kh, p.sh, p.ph);
  const aw = windowSize(p.W, p.kw, p.sw, p.pw);
  let pool: IntPool | null = null;
  let oh = ah;
  let ow = aw;
  if (p.pool) {
    pool = { ...p.pool, useMin: Uint8Array.from({ length: p.outC }, () => (r() < 0.4 ? 1 : 0)) };
    oh = windowSize(ah, p.pool.kh, p.pool.sh, p.pool.ph);
    ow = windowSize(aw, p.pool.kw, p.pool.sw, p.pool.pw);
  }
  const K = p.kh * p.kw * p.C;
  const levels = (1 << p.inBits) - 1;
  const padZero = p.padBit === PAD_ZERO;
  const { lo, hi } = accumulatorRange(p.inBits, inSigned, wBits, wSigned, K, padZero);
  const wFields = wBits > 1 ? { wBits, ...(wSigned ? { wSigned } : {}) } : {};
  const common = { kh: p.kh, kw: p.kw, sh: p.sh, sw: p.sw, ph: p.ph, pw: p.pw, padBit: p.padBit, inBits: p.inBits, outC: p.outC, ...wFields, weight, pool };
  let y: number;
  if (p.outBits === 0) {
    y = b.add({ op: 'bconv', in: x, ...common, epilogue: { kind: 'int' } }, i32(oh, ow, p.outC));
  } else {
    const L = (1 << p.outBits) - 1;
    // thresholds around the middle of the range (where values fall), sometimes at the ends
    let mid = p.inBits === 1 ? (padZero ? K : K / 2) : 0;
    let spread = Math.max(2, Math.sqrt(K) * levels * 1.5);
    if (wBits > 1 || inSigned) {
      // integer operands: around K times the product of the operands' means on random bits
      const mean = (k: number, signed: boolean) => (k === 1 ? 0 : signed ? -0.5 : ((1 << k) - 1) / 2);
      const span = (k: number, signed: boolean) => (k === 1 ? 1 : signed ? 1 << (k - 1) : (1 << k) - 1);
      mid = K * mean(p.inBits, inSigned) * mean(wBits, wSigned);
      spread = Math.max(2, Math.sqrt(K) * span(p.inBits, inSigned) * span(wBits, wSigned));
    }
    const thresholds = Int32Array.from({ length: p.outC * L }, () => {
      const u = r();
      if (u < 0.05) return lo;
      if (u < 0.1) return hi + 1;
      return Math.round(mid + (r() - 0.5) * 2 * spread);
    });
    const flip = Uint8Array.from({ length: p.outC }, () => (r() < 0.4 ? 1 : 0));
    const t = b.add({ op: 'bconv', in: x, ...common, epilogue: { kind: 'threshold', bits: p.outBits, thresholds, flip } }, bits(oh, ow, p.outC, p.outBits, outSigned));
    const pw = Math.ceil(p.outC / 64);
    const probe = new Uint32Array((p.outC + 1) * pw * 2);
    for (let o = 0; o < p.outC; o++) probe[o * pw * 2 + (o >>> 5)] |= 1 << (o & 31);
    y = b.add(
      { op: 'bconv', in: t, kh: 1, kw: 1, sh: 1, sw: 1, ph: 0, pw: 0, padBit: 0, inBits: p.outBits, outC: p.outC + 1, weight: probe, pool: null, epilogue: { kind: 'int' } },
      i32(oh, ow, p.outC + 1), 'probe',
    );
  }
  const yi = b.info(y);
  const d = b.add({ op: 'dequantize', in: y, divisor: 1 }, f32(yi.h, yi.w, yi.c));
  b.add({ op: 'flatten', in: d }, f32(1, 1, yi.h * yi.w * yi.c, true));
  return b.build(`bconv-${p.seed}`);
}

/**
 * Random NCHW images; k-bit cases get values around [0, 1] (signed: [-1, 1]), clipping both
 * ends, some exact zeros.
 */
export function randomInput(r: () => number, count: number, per: number, inBits: number, signed = false): Float32Array {
  return Float32Array.from({ length: count * per }, () => {
    const u = r();
    if (u < 0.05) return 0;
    if (u < 0.08) return -0;
    if (signed && inBits > 1) return Math.fround(r() * 2.4 - 1.2);
    return inBits === 1 ? Math.fround(r() * 2 - 1) : Math.fround(r() * 1.4 - 0.2);
  });
}

/** Run one segment on a backend with the given inputs; returns its outputs in id order. */
export async function runSegment(backend: Backend, segment: number, inputs: Map<number, TensorData>, batch: number): Promise<TensorData[]> {
  const out = await backend.runSegment(segment, inputs, batch);
  return [...out.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1]);
}

/** Logits of a model on a backend (fresh session, closed afterwards). */
export async function logitsOf(model: CompiledModel, backend: string, input: Float32Array, opts: { batch?: number; threads?: number } = {}): Promise<Float32Array> {
  const s = await Session.create(model, { backend, batch: opts.batch ?? 64, threads: opts.threads });
  try {
    return (await s.run(input)).logits;
  } finally {
    await s.close();
  }
}

/** Bit patterns of a typed array, so -0 vs +0 and NaN payloads count as differences. */
export function bitsOf(a: TensorData): number[] {
  return Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
}

/** Elements per image of tensor `id`. */
export function perImage(m: CompiledModel, id: number): number {
  return tensorLength(m.tensors[id]);
}

export interface FloatCase {
  H: number; W: number; C: number; F: number;
  kh: number; kw: number; sh: number; sw: number; ph: number; pw: number; bias: boolean;
  fn: 'tanh' | 'relu' | 'sigmoid';
  pool: { mode: 'max' | 'avg'; k: number; s: number; p: number; full: boolean; countIncludePad: boolean };
  qbits: number;
  classes: number;
  /** scale of conv weights: large values push tanh / sigmoid into their saturated branches */
  gain: number;
  seed: number;
}

/** MXNet's 'full' pooling size (rounds up, but every window starts inside the input). */
function fullSize(size: number, k: number, s: number, p: number): number {
  const n = Math.ceil((size + 2 * p - k) / s) + 1;
  return (n - 1) * s - p <= size - 1 ? n : n - 1;
}

export function floatCaseFits(p: FloatCase): boolean {
  const oh = windowSize(p.H, p.kh, p.sh, p.ph);
  const ow = windowSize(p.W, p.kw, p.sw, p.pw);
  return p.ph < p.kh && p.pw < p.kw && oh >= 1 && ow >= 1 && p.pool.p < p.pool.k &&
    windowSize(oh, p.pool.k, p.pool.s, p.pool.p) >= 1 && windowSize(ow, p.pool.k, p.pool.s, p.pool.p) >= 1;
}

/**
 * Every host op: conv2d -> activation -> pool -> batchnorm -> add(bn, bn') -> quantize
 * -> flatten -> batchnorm (per feature) -> activation -> dense.
 */
export function floatModel(p: FloatCase, r: () => number): CompiledModel {
  const u = (n: number, lo: number, hi: number) => Float32Array.from({ length: n }, () => Math.fround(lo + (hi - lo) * r()));
  const b = new ModelBuilder(p.H, p.W, p.C);
  const oh = windowSize(p.H, p.kh, p.sh, p.ph);
  const ow = windowSize(p.W, p.kw, p.sw, p.pw);
  let x = b.add(
    { op: 'conv2d', groups: 1, in: 0, kh: p.kh, kw: p.kw, sh: p.sh, sw: p.sw, ph: p.ph, pw: p.pw, weight: u(p.F * p.kh * p.kw * p.C, -p.gain, p.gain), bias: p.bias ? u(p.F, -0.5, 0.5) : null },
    f32(oh, ow, p.F),
  );
  x = b.add({ op: 'activation', in: x, fn: p.fn }, f32(oh, ow, p.F));
  const q = p.pool;
  const ph = q.full ? fullSize(oh, q.k, q.s, q.p) : windowSize(oh, q.k, q.s, q.p);
  const pw = q.full ? fullSize(ow, q.k, q.s, q.p) : windowSize(ow, q.k, q.s, q.p);
  x = b.add({ op: 'pool', in: x, kh: q.k, kw: q.k, sh: q.s, sw: q.s, ph: q.p, pw: q.p, mode: q.mode, countIncludePad: q.countIncludePad }, f32(ph, pw, p.F));
  const bn1 = b.add({ op: 'batchnorm', in: x, mean: u(p.F, -0.3, 0.3), scale: u(p.F, -2, 2), beta: u(p.F, -0.5, 0.5) }, f32(ph, pw, p.F));
  const bn2 = b.add({ op: 'batchnorm', in: x, mean: u(p.F, -0.3, 0.3), scale: u(p.F, -2, 2), beta: u(p.F, -0.5, 0.5) }, f32(ph, pw, p.F));
  x = b.add({ op: 'add', in: [bn1, bn2] }, f32(ph, pw, p.F));
  x = b.add({ op: 'quantize', in: x, bits: p.qbits }, f32(ph, pw, p.F));
  const n = ph * pw * p.F;
  x = b.add({ op: 'flatten', in: x }, f32(1, 1, n, true));
  x = b.add({ op: 'batchnorm', in: x, mean: u(n, -0.3, 0.3), scale: u(n, -2, 2), beta: u(n, -0.5, 0.5) }, f32(1, 1, n, true));
  x = b.add({ op: 'activation', in: x, fn: p.fn === 'relu' ? 'tanh' : 'relu' }, f32(1, 1, n, true));
  b.add({ op: 'dense', in: x, weight: u(p.classes * n, -1, 1), bias: p.bias ? u(p.classes, -0.5, 0.5) : null }, f32(1, 1, p.classes));
  return b.build(`float-${p.seed}`);
}
