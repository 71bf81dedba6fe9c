/**
 * Random models around zero-padded convs (PAD_ZERO), for every array backend's property tests
 * (test/array/zero-pad.test.ts, the board's): single layers, chains where a device layer
 * writes a zero-padded conv's input, an input read in both forms, a tensor crossing a host
 * segment, and a device-written tensor read by a zero-padded and a ±1-padded conv (fork).
 */
import fc from 'fast-check';
import { BconvOp, CompiledModel, IntPool, PAD_ZERO } from '../../host/compile/model';
import { validateModel } from '../../host/compile/validate';
import { windowOut } from '../../host/core/window';
import { rng } from './naive';
import { bits, f32, i32, ModelBuilder } from './native-models';

export type ZeroPadShape = 'single' | 'chain' | 'shared' | 'crossing' | 'fork';

export interface ZeroPadLayer {
  kh: number; kw: number; sh: number; sw: number; ph: number; pw: number;
  padBit: BconvOp['padBit'];
  outC: number;
  pool: { kh: number; kw: number; sh: number; sw: number; ph: number; pw: number } | null;
  /** 0: int32 outputs, 1: a 1-bit threshold epilogue. */
  outBits: number;
}

export interface ZeroPadCase {
  shape: ZeroPadShape;
  H: number; W: number; C: number;
  first: ZeroPadLayer;
  second: ZeroPadLayer;
  seed: number;
}

const windows = fc.record({ k: fc.integer({ min: 1, max: 3 }), s: fc.integer({ min: 1, max: 2 }), p: fc.nat(1) });
const channels = fc.oneof(fc.integer({ min: 1, max: 9 }), fc.constantFrom(63, 64, 65, 127, 130), fc.integer({ min: 10, max: 80 }));
const layer = (padBits: BconvOp['padBit'][], outBits: number[]) => fc.record({
  kh: fc.integer({ min: 1, max: 4 }), kw: fc.integer({ min: 1, max: 4 }),
  sh: fc.integer({ min: 1, max: 2 }), sw: fc.integer({ min: 1, max: 2 }), ph: fc.nat(3), pw: fc.nat(3),
  padBit: fc.constantFrom(...padBits), outC: channels,
  pool: fc.option(windows.map((w) => ({ kh: w.k, kw: w.k, sh: w.s, sw: w.s, ph: w.p, pw: w.p })), { freq: 3 }),
  outBits: fc.constantFrom(...outBits),
});

export const zeroPadCases: fc.Arbitrary<ZeroPadCase> = fc.record({
  shape: fc.constantFrom<ZeroPadShape>('single', 'chain', 'chain', 'chain', 'shared', 'crossing', 'crossing', 'fork'),
  H: fc.integer({ min: 1, max: 12 }), W: fc.integer({ min: 1, max: 12 }), C: channels,
  first: layer([PAD_ZERO, PAD_ZERO, 0, 1], [0, 1, 1]),
  second: layer([PAD_ZERO], [0, 1]),
  seed: fc.integer(),
}).map((p): ZeroPadCase => {
  const zero: BconvOp['padBit'] = PAD_ZERO;
  // single: the first layer is the zero-padded one; chain / crossing / fork: it writes the second's input bits
  if (p.shape === 'single') return { ...p, first: { ...p.first, padBit: zero } };
  if (p.shape !== 'shared') return { ...p, first: { ...p.first, outBits: 1 } };
  // shared: both read one input, with equal windows and int32 outputs so their maps add
  const first = { ...p.first, pool: null, outBits: 0 };
  return { ...p, first, second: { ...first, padBit: first.padBit === PAD_ZERO ? 1 : zero } };
}).filter((p) => fits(p.H, p.W, p.first) !== null && (p.shape === 'single' || p.shape === 'shared' || fitsAfter(p)));

/** Output map of a layer on an h x w input (pool included), or null when it does not fit. */
function fits(h: number, w: number, l: ZeroPadLayer): { h: number; w: number; ah: number; aw: number } | null {
  if (l.ph >= l.kh || l.pw >= l.kw) return null;
  const ah = windowOut(h, l.kh, l.sh, l.ph);
  const aw = windowOut(w, l.kw, l.sw, l.pw);
  if (ah < 1 || aw < 1) return null;
  if (!l.pool) return { h: ah, w: aw, ah, aw };
  const q = l.pool;
  if (q.ph >= q.kh || q.pw >= q.kw) return null;
  const oh = windowOut(ah, q.kh, q.sh, q.ph);
  const ow = windowOut(aw, q.kw, q.sw, q.pw);
  return oh >= 1 && ow >= 1 ? { h: oh, w: ow, ah, aw } : null;
}

function fitsAfter(p: ZeroPadCase): boolean {
  const a = fits(p.H, p.W, p.first)!;
  return fits(a.h, a.w, p.second) !== null;
}

/** A bconv with random weights, thresholds around the middle of its range and random flips and pool directions. */
export function addLayer(b: ModelBuilder, r: () => number, input: number, l: ZeroPadLayer, name: string): number {
  const ti = b.info(input);
  const g = fits(ti.h, ti.w, l)!;
  const words = Math.ceil(ti.c / 64);
  const weight = new Uint32Array(l.outC * l.kh * l.kw * words * 2);
  for (let k = 0; k < l.outC * l.kh * l.kw; k++) for (let c = 0; c < ti.c; c++) if (r() < 0.5) weight[k * words * 2 + (c >>> 5)] |= 1 << (c & 31);
  const pool: IntPool | null = l.pool ? { ...l.pool, useMin: Uint8Array.from({ length: l.outC }, () => (r() < 0.4 ? 1 : 0)) } : null;
  const K = l.kh * l.kw * ti.c;
  const op = { op: 'bconv' as const, in: input, kh: l.kh, kw: l.kw, sh: l.sh, sw: l.sw, ph: l.ph, pw: l.pw, padBit: l.padBit, inBits: ti.planes, outC: l.outC, weight, pool };
  if (l.outBits === 0) return b.add({ ...op, epilogue: { kind: 'int' } }, i32(g.h, g.w, l.outC), name);
  // Q spans [0, 2K] (P: [0, K]); both ends now and then
  const hi = l.padBit === PAD_ZERO ? 2 * K : K;
  const thresholds = Int32Array.from({ length: l.outC }, () => {
    const u = r();
    return u < 0.05 ? 0 : u < 0.1 ? hi + 1 : Math.round(hi / 2 + (r() - 0.5) * 3 * Math.sqrt(K));
  });
  const flip = Uint8Array.from({ length: l.outC }, () => (r() < 0.4 ? 1 : 0));
  return b.add({ ...op, epilogue: { kind: 'threshold', bits: 1, thresholds, flip } }, bits(g.h, g.w, l.outC, 1), name);
}

/** Threshold bits made observable as integers: a 1x1 bconv whose output o reads channel o. */
function addProbe(b: ModelBuilder, input: number): number {
  const t = b.info(input);
  const words = Math.ceil(t.c / 64);
  const w = new Uint32Array(t.c * words * 2);
  for (let o = 0; o < t.c; o++) w[o * words * 2 + (o >>> 5)] |= 1 << (o & 31);
  return b.add({ op: 'bconv', in: input, kh: 1, kw: 1, sh: 1, sw: 1, ph: 0, pw: 0, padBit: 1, inBits: 1, outC: t.c, weight: w, pool: null, epilogue: { kind: 'int' } }, i32(t.h, t.w, t.c), 'probe');
}

/** Integers (probing bits) -> float -> one flat vector. */
function finish(b: ModelBuilder, y: number): number {
  const v = b.info(y).kind === 'bits' ? addProbe(b, y) : y;
  const t = b.info(v);
  const d = b.add({ op: 'dequantize', in: v, divisor: 1 }, f32(t.h, t.w, t.c));
  return b.add({ op: 'flatten', in: d }, f32(1, 1, t.h * t.w * t.c, true));
}

/** Two int32 maps of one shape, dequantized, added and flattened (the model output). */
export function addInts(b: ModelBuilder, x: number, y: number): number {
  const t = b.info(x);
  const dx = b.add({ op: 'dequantize', in: x, divisor: 1 }, f32(t.h, t.w, t.c));
  const dy = b.add({ op: 'dequantize', in: y, divisor: 1 }, f32(t.h, t.w, t.c));
  const sum = b.add({ op: 'add', in: [dx, dy] }, f32(t.h, t.w, t.c));
  return b.add({ op: 'flatten', in: sum }, f32(1, 1, t.h * t.w * t.c, true));
}

export function zeroPadModel(p: ZeroPadCase): CompiledModel {
  const r = rng(p.seed);
  const b = new ModelBuilder(p.H, p.W, p.C);
  const x = b.add({ op: 'binarize', in: 0, bits: 1 }, bits(p.H, p.W, p.C, 1));
  const a = addLayer(b, r, x, p.first, 'first');
  if (p.shape === 'single') finish(b, a);
  else if (p.shape === 'chain') finish(b, addLayer(b, r, a, p.second, 'second'));
  else if (p.shape === 'shared') addInts(b, a, addLayer(b, r, x, p.second, 'second'));
  else if (p.shape === 'fork') {
    // the first layer's bits are read by the zero-padded second and by a ±1-padded twin of it:
    // in two forms, which no layer can write at once (the array cuts the segment there)
    const second = { ...p.second, outBits: 0 };
    const s = addLayer(b, r, a, second, 'second');
    addInts(b, s, addLayer(b, r, a, { ...second, padBit: p.seed & 1 ? 1 : 0 }, 'twin'));
  } else {
    // crossing: a host op between the writer of the signed planes and their reader, so they
    // leave one device segment and enter the next; its floats join the output
    const side = b.add({ op: 'binarize', in: 0, bits: 2 }, bits(p.H, p.W, p.C, 2));
    const y = finish(b, addLayer(b, r, a, p.second, 'second'));
    const s = addLayer(b, r, side, { kh: 1, kw: 1, sh: 1, sw: 1, ph: 0, pw: 0, padBit: 0, outC: 1, pool: null, outBits: 0 }, 'side');
    const ds = b.add({ op: 'dequantize', in: s, divisor: 3 }, f32(p.H, p.W, 1));
    const fs = b.add({ op: 'flatten', in: ds }, f32(1, 1, p.H * p.W, true));
    const n = b.info(y).c;
    const dense = b.add({ op: 'dense', in: fs, weight: new Float32Array(n * p.H * p.W).fill(0.5), bias: null }, f32(1, 1, n));
    const both = b.add({ op: 'flatten', in: dense }, f32(1, 1, n, true));
    b.add({ op: 'add', in: [y, both] }, f32(1, 1, n, true));
  }
  const m = b.build(`zero-pad-${p.shape}-${p.seed}`);
  validateModel(m, m.name);
  return m;
}
