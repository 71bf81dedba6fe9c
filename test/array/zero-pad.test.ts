/**
 * Zero padding (PAD_ZERO) on the array as 2-bit signed layers (host/array/zero-pad.ts):
 * the level encoding and the threshold rewrites exhaustively, the layer program a zero-padded
 * conv becomes (and that older partitions with it on the host stay valid), and random models
 * (single layers, chains where a device layer writes the signed planes, an input read in
 * both forms, a signed-planes tensor crossing a host segment) on opencl (PoCL), hls-csim and
 * verilator against the reference, bit for bit: 150 per backend, about 20 s in all;
 * BITWEAVE_LONG=1 runs 1000.
 */
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { BackendName, createBackend } from '../../host/backends';
import { hlsLib } from '../../host/backends/hls-csim/ffi';
import { ReferenceBackend } from '../../host/backends/reference';
import { rtlInfo } from '../../host/backends/verilator/ffi';
import { encodeSegment } from '../../host/array/program';
import { DEFAULT_ARRAY, OP_AND_PLANES, OP_IN_SIGNED, OP_OUT_SIGNED } from '../../host/array/params';
import { fromSignedPlanes, shiftThresholds, signedPairThresholds, toSignedPlanes } from '../../host/array/zero-pad';
import { BconvOp, CompiledModel, IntPool, PAD_ZERO } from '../../host/compile/model';
import { validateModel } from '../../host/compile/validate';
import { windowOut } from '../../host/core/window';
import { OpenCLUnavailableError, platforms } from '../../host/opencl';
import { Backend, TensorData } from '../../host/runtime/backend';
import { compareWithReference } from '../helpers/backend-compare';
import { rng } from '../helpers/naive';
import { bits, bitsOf, f32, i32, logitsOf, ModelBuilder, randomBits, randomInput, runSegment } from '../helpers/native-models';
import { requireOrSkip } from '../helpers/skip';

const LONG = !!process.env.BITWEAVE_LONG;

/** Value of channel ch of pixel px in a 1-bit tensor (+1 / -1) and in signed planes (-2·b1 + b0). */
function bipolar(w: Uint32Array, halves: number, px: number, ch: number): number {
  return (w[px * halves + (ch >>> 5)] >>> (ch & 31)) & 1 ? 1 : -1;
}
function signedLevel(w: Uint32Array, halves: number, px: number, ch: number): number {
  const b = (plane: number) => (w[(2 * px + plane) * halves + (ch >>> 5)] >>> (ch & 31)) & 1;
  return b(0) - 2 * b(1);
}

describe('zero padding on the array: the level encoding', () => {
  it('a 1-bit tensor as signed planes: +1 = (0,1), -1 = (1,1), tail bits 0, and back', () => {
    for (const c of [1, 5, 31, 32, 33, 63, 64, 65, 130]) {
      const t = bits(2, 3, c, 1);
      const halves = 2 * Math.ceil(c / 64);
      const x = randomBits(rng(c), 6, c, 1);
      const planes = new Uint32Array(2 * x.length);
      toSignedPlanes(x, t, planes);
      for (let px = 0; px < 6; px++) {
        for (let ch = 0; ch < c; ch++) assert.equal(signedLevel(planes, halves, px, ch), bipolar(x, halves, px, ch), `c=${c} px=${px} ch=${ch}`);
        for (let ch = c; ch < 64 * Math.ceil(c / 64); ch++) assert.equal(signedLevel(planes, halves, px, ch), 0, `tail c=${c} ch=${ch}`);
      }
      const back = new Uint32Array(x.length);
      fromSignedPlanes(planes, t, back);
      assert.deepEqual(back, x);
    }
  });

  it('thresholds on Q moved onto v = Q - K, and (t0, τ, τ) giving the levels -1 / +1, for every v and τ', () => {
    const K = 7;
    const taus = Int32Array.from([...Array.from({ length: 2 * K + 6 }, (_, i) => i - 2), -(2 ** 31), 2 ** 31 - 1]);
    const shifted = shiftThresholds(taus, K);
    for (let j = 0; j < taus.length; j++)
      for (let q = 0; q <= 2 * K; q++) assert.equal(q - K >= shifted[j], q >= taus[j], `Q=${q} τ=${taus[j]}`);
    for (const flip of [0, 1]) {
      const f = new Uint8Array(taus.length).fill(flip);
      const t3 = signedPairThresholds(shifted, f, -K, K);
      for (let j = 0; j < taus.length; j++) {
        const [a, b, c] = t3.subarray(3 * j, 3 * j + 3);
        assert.ok(flip ? a >= b && b >= c : a <= b && b <= c, 'in order');
        for (let v = -K; v <= K; v++) {
          const n = [a, b, c].filter((t) => (flip ? v < t : v >= t)).length;
          const bit = (v >= shifted[j] ? 1 : 0) ^ flip;
          assert.equal(n - 2, bit ? 1 : -1, `v=${v} τ=${shifted[j]} flip=${flip}`);
        }
      }
    }
  });
});

// ---- random models ------------------------------------------------------------------

type Shape = 'single' | 'chain' | 'shared' | 'crossing';

interface Layer {
  kh: number; kw: number; sh: number; sw: number; ph: number; pw: number;
  padBit: BconvOp['padBit'];
  outC: number;
  pool: { kh: number; kw: number; sh: number; sw: number; ph: number; pw: number } | null;
  /** 0: int32 outputs, 1: a 1-bit threshold epilogue. */
  outBits: number;
}

interface ZeroPadCase {
  shape: Shape;
  H: number; W: number; C: number;
  first: Layer;
  second: Layer;
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

const cases: fc.Arbitrary<ZeroPadCase> = fc.record({
  shape: fc.constantFrom<Shape>('single', 'chain', 'chain', 'chain', 'shared', 'crossing', 'crossing'),
  H: fc.integer({ min: 1, max: 12 }), W: fc.integer({ min: 1, max: 12 }), C: channels,
  first: layer([PAD_ZERO, PAD_ZERO, 0, 1], [0, 1, 1]),
  second: layer([PAD_ZERO], [0, 1]),
  seed: fc.integer(),
}).map((p): ZeroPadCase => {
  const zero: BconvOp['padBit'] = PAD_ZERO;
  // single: the first layer is the zero-padded one; chain / crossing: it writes the second's input bits
  if (p.shape === 'single') return { ...p, first: { ...p.first, padBit: zero } };
  if (p.shape !== 'shared') return { ...p, first: { ...p.first, outBits: 1 } };
  // shared: both read one input, with equal windows and int32 outputs so their maps add
  const first = { ...p.first, pool: null, outBits: 0 };
  return { ...p, first, second: { ...first, padBit: first.padBit === PAD_ZERO ? 1 : zero } };
}).filter((p) => fits(p.H, p.W, p.first) !== null && (p.shape === 'single' || p.shape === 'shared' || fitsAfter(p)));

/** Output map of a layer on an h x w input (pool included), or null when it does not fit. */
function fits(h: number, w: number, l: Layer): { h: number; w: number; ah: number; aw: number } | null {
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
function addLayer(b: ModelBuilder, r: () => number, input: number, l: Layer, name: string): number {
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

function zeroPadModel(p: ZeroPadCase): CompiledModel {
  const r = rng(p.seed);
  const b = new ModelBuilder(p.H, p.W, p.C);
  const x = b.add({ op: 'binarize', in: 0, bits: 1 }, bits(p.H, p.W, p.C, 1));
  const a = addLayer(b, r, x, p.first, 'first');
  if (p.shape === 'single') finish(b, a);
  else if (p.shape === 'chain') finish(b, addLayer(b, r, a, p.second, 'second'));
  else if (p.shape === 'shared') {
    const s = addLayer(b, r, x, p.second, 'second');
    const da = b.add({ op: 'dequantize', in: a, divisor: 1 }, f32(b.info(a).h, b.info(a).w, b.info(a).c));
    const ds = b.add({ op: 'dequantize', in: s, divisor: 1 }, f32(b.info(s).h, b.info(s).w, b.info(s).c));
    const sum = b.add({ op: 'add', in: [da, ds] }, f32(b.info(a).h, b.info(a).w, b.info(a).c));
    b.add({ op: 'flatten', in: sum }, f32(1, 1, b.info(a).h * b.info(a).w * b.info(a).c, true));
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

const ARRAYS: [string, () => unknown, (new (...a: never[]) => Error) | undefined][] = [
  ['opencl', () => platforms(), OpenCLUnavailableError],
  ['hls-csim', () => hlsLib(), undefined],
  ['verilator', () => rtlInfo(), undefined],
];

describe('zero padding on the array: layer programs', () => {
  it('a zero-padded conv is a device op, encoded as 2-bit signed activations with pad level 0 (fails if the rewrite is dropped)', () => {
    const p = fc.sample(cases.filter((c) => c.shape === 'chain' && c.first.padBit === PAD_ZERO && c.first.ph > 0), { seed: 5, numRuns: 1 })[0];
    const m = zeroPadModel(p);
    const si = m.segments.findIndex((s) => s.kind === 'device');
    const seg = m.segments[si];
    const devOps = m.ops.slice(seg.start, seg.end);
    assert.deepEqual(devOps.slice(0, 2).map((op) => op.op === 'bconv' && op.padBit), [PAD_ZERO, PAD_ZERO], 'both zero-padded convs in one device segment');
    const prog = encodeSegment(m, si, DEFAULT_ARRAY);
    const [first, second] = prog.layerDescriptors;
    for (const d of [first, second]) {
      assert.equal(d.IN_PLANES, 2);
      assert.equal(d.PAD_BIT, 0);
      assert.equal(d.TAIL, 0);
      assert.ok(d.OPCODE & OP_AND_PLANES && d.OPCODE & OP_IN_SIGNED);
    }
    // the first writes the second's input as 2-bit signed levels
    assert.equal(first.OUT_BITS, 2);
    assert.ok(first.OPCODE & OP_OUT_SIGNED);
    assert.equal(first.OUT_OFF, second.IN_OFF);
    assert.deepEqual(prog.inputs.map((r) => r.arrayForm?.kind), ['signed-planes']);
  });
  it('a zero-padded conv in a host segment (.bnn 2.1 files written before) stays valid and runs on the host engine', async function () {
    const l: Layer = { kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, padBit: PAD_ZERO, outC: 5, pool: null, outBits: 0 };
    const m = zeroPadModel({ shape: 'single', H: 4, W: 5, C: 70, first: l, second: l, seed: 7 });
    const old: CompiledModel = { ...m, segments: [{ kind: 'host', start: 0, end: m.ops.length, inputs: [m.input], outputs: [m.output] }] };
    validateModel(old, 'old');
    assert.throws(() => validateModel({ ...old, ops: old.ops.map((op) => (op.op === 'bconv' ? { ...op, padBit: 1 } : op)) }, 'plus-one'), /runs on the device/);
    if (!requireOrSkip(this, () => hlsLib())) return;
    const x = randomInput(rng(3), 2, 70 * 4 * 5, 1);
    assert.deepEqual(bitsOf(await logitsOf(old, 'hls-csim', x)), bitsOf(await logitsOf(m, 'reference', x)));
  });
});

describe('zero padding on the array: random models bit-identical to the reference', function () {
  const runs = LONG ? 1000 : 150;
  for (const [name, probe, kind] of ARRAYS) {
    it(`${name}: ${runs} random models (single, chained, shared and crossing zero-padded convs)`, async function () {
      if (!requireOrSkip(this, probe, kind)) return;
      const b: Backend = await createBackend(name as BackendName, { threads: 1 });
      const ref = new ReferenceBackend();
      const seen = { single: 0, chain: 0, shared: 0, crossing: 0, pooled: 0, thresholds: 0, ints: 0, strided: 0, wideC: 0, chainFromDevice: 0 };
      try {
        for (const [i, p] of fc.sample(cases, { seed: 2024, numRuns: runs }).entries()) {
          const m = zeroPadModel(p);
          const r = rng(p.seed ^ 0x5bd1);
          const batch = 1 + (i % 3);
          const what = `case ${i} ${JSON.stringify(p)}`;
          await compareWithReference(m, randomInput(r, batch, p.C * p.H * p.W, 1), b, what);
          // arbitrary bit patterns straight into the first device segment
          const dev = m.segments.findIndex((s) => s.kind === 'device');
          const ins = new Map<number, TensorData>(m.segments[dev].inputs.map((t) => [t, randomBits(r, batch * p.H * p.W, m.tensors[t].c, m.tensors[t].planes, [0.5, 0.1, 0.9][i % 3])]));
          await ref.load(m);
          const want = await runSegment(ref, dev, ins, batch);
          const got = await runSegment(b, dev, ins, batch);
          for (let k = 0; k < want.length; k++) assert.deepEqual(bitsOf(got[k]), bitsOf(want[k]), `${what}: random bits`);
          seen[p.shape]++;
          const layers = p.shape === 'single' ? [p.first] : [p.first, p.second];
          seen.pooled += layers.some((l) => l.pool) ? 1 : 0;
          seen.thresholds += layers.some((l) => l.outBits === 1 && l.padBit === PAD_ZERO) ? 1 : 0;
          seen.ints += layers.some((l) => l.outBits === 0 && l.padBit === PAD_ZERO) ? 1 : 0;
          seen.strided += layers.some((l) => l.sh + l.sw > 2 && l.padBit === PAD_ZERO) ? 1 : 0;
          seen.wideC += p.C > 64 ? 1 : 0;
          seen.chainFromDevice += p.shape === 'chain' && p.first.padBit !== PAD_ZERO ? 1 : 0;
        }
      } finally {
        await b.dispose();
        await ref.dispose();
      }
      console.log(`      ${JSON.stringify(seen)}`);
      for (const [k, v] of Object.entries(seen)) assert.ok(v >= 3, `coverage: only ${v} cases of ${k}`);
    });
  }
});
