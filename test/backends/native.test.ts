/**
 * The native backend (C engine through koffi) against the reference backend: integers and
 * logits must be bit-identical for every op option, at any thread count and on every ISA
 * level this machine supports.
 */
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { NativeBackend } from '../../host/backends/native';
import { BW_E_ARG, BW_E_SIZE, BW_OK, EW, EwOp, isaControl, nativeEngine, SLOT } from '../../host/backends/native/ffi';
import { compile } from '../../host/compile/compile';
import { detExp } from '../../host/core/detmath';
import { fmaF32 } from '../../host/core/scalar';
import { PAD_ZERO, TensorInfo } from '../../host/compile/model';
import { TensorData } from '../../host/runtime/backend';
import { ShapeError } from '../../host/core/errors';
import { rng } from '../helpers/naive';
import { bconvCases, compareWithReference as compareModel, toNHWC } from '../helpers/backend-compare';
import {
  bconvModel, BconvCase, bits, bitsOf, f32, FloatCase, floatCaseFits, floatModel, i32, logitsOf, ModelBuilder,
  randomBits, randomInput, runSegment,
} from '../helpers/native-models';
import { randomImages, randomModel } from '../helpers/random-model';
import { resnet18Cifar, resnet18Imagenet } from '../../host/zoo/resnet';
import { requireOrSkip } from '../helpers/skip';

const bconvCase = bconvCases({ inBits: [1, 1, 2, 4] });

describe('native backend', function () {
  let native1: NativeBackend;
  let native2: NativeBackend;

  before(function () {
    if (!requireOrSkip(this, () => nativeEngine())) return;
    native1 = new NativeBackend({ threads: 1 });
    native2 = new NativeBackend({ threads: 2 });
    // the test models are small: make every parallel loop really use its threads
    nativeEngine().setParallelNs(0);
  });

  after(() => {
    try {
      nativeEngine().setParallelNs(-1);
    } catch {
      // the library was never loaded
    }
  });

  it('binary dense (kernel = whole map) on wide inputs, batch 1 and 70', async () => {
    for (const [i, [H, C, outC, batch]] of [[1, 1000, 1000, 1], [4, 64, 1000, 70], [3, 200, 130, 5], [2, 700, 10, 70]].entries()) {
      const p: BconvCase = { H, W: H, C, outC, kh: H, kw: H, sh: 1, sw: 1, ph: 0, pw: 0, padBit: 1, inBits: 1, pool: null, outBits: i % 2, seed: i };
      const r = rng(100 + i);
      await compareModel(bconvModel(p, r), randomInput(r, batch, H * H * C, 1), i % 2 ? native1 : native2, `dense ${H}x${H}x${C}->${outC}`);
    }
  });

  it('host float layers: conv2d, tanh/relu/sigmoid, max/avg pool (pad, count_include_pad, full), BN, add, quantize, dense', async () => {
    const floatCase: fc.Arbitrary<FloatCase> = fc
      .record({
        H: fc.integer({ min: 1, max: 10 }), W: fc.integer({ min: 1, max: 10 }), C: fc.constantFrom(1, 3, 5, 17), F: fc.constantFrom(1, 7, 16, 20, 33, 64, 70),
        kh: fc.integer({ min: 1, max: 5 }), kw: fc.integer({ min: 1, max: 5 }), sh: fc.integer({ min: 1, max: 2 }), sw: fc.integer({ min: 1, max: 2 }),
        ph: fc.nat(2), pw: fc.nat(2), bias: fc.boolean(), fn: fc.constantFrom<FloatCase['fn']>('tanh', 'relu', 'sigmoid'),
        pool: fc.record({ mode: fc.constantFrom<'max' | 'avg'>('max', 'avg'), k: fc.integer({ min: 1, max: 3 }), s: fc.integer({ min: 1, max: 3 }), p: fc.nat(1), full: fc.boolean(), countIncludePad: fc.boolean() }),
        qbits: fc.constantFrom(1, 2, 3), classes: fc.integer({ min: 1, max: 20 }),
        gain: fc.constantFrom(0.001, 0.5, 3, 400), seed: fc.integer(),
      })
      .filter(floatCaseFits);
    for (const [i, p] of fc.sample(floatCase, { seed: 5, numRuns: 60 }).entries()) {
      const r = rng(p.seed);
      const batch = 1 + (i % 4);
      const x = Float32Array.from({ length: batch * p.C * p.H * p.W }, () => Math.fround(r() * 4 - 2));
      await compareModel(floatModel(p, r), x, i % 2 ? native1 : native2, `float case ${i} ${JSON.stringify(p)}`);
    }
  });

  it('activations on special values: ±0, NaN, ±Infinity, tanh/sigmoid branch edges', async () => {
    const vals = [0, -0, NaN, Infinity, -Infinity, 1 / 4096, -1 / 4096, Math.fround(1 / 4096 - 1e-9), 9.5, -9.5, Math.fround(9.4999), 20,
      708, -708, 709, -709, 710, -710, 1e-30, -1e-30, 1.5e-45, 3.4e38, -3.4e38, 0.5, -0.5, 1, -1];
    const extra = Array.from({ length: 301 }, (_, i) => Math.fround(-15 + i * 0.1));
    const x = Float32Array.from([...vals, ...extra]);
    for (const fn of ['tanh', 'sigmoid', 'relu'] as const) {
      const b = new ModelBuilder(1, 1, x.length);
      b.add({ op: 'activation', in: 0, fn }, f32(1, 1, x.length));
      await compareModel(b.build(fn), x, native1, fn);
    }
  });

  it('detExp in double precision equals detmath.ts bit for bit, on every ISA level', function () {
    const isa = isaControl();
    const r = rng(99);
    const special = [0, -0, NaN, Infinity, -Infinity, 1e-300, -1e-300, 708, -708, 709, -709, 708.9999999999, -707.9999999999,
      709.0000000001, -708.0000000001, 0.34657359027997264, -0.34657359027997264, 5e-324, 1, -1, 88.5, -87.5];
    const half = Array.from({ length: 2000 }, (_, i) => (i - 1000 + 0.5) * Math.LN2 * (1 + (r() - 0.5) * 1e-15));
    const x = Float64Array.from([...special, ...half, ...Array.from({ length: 20000 }, () => (r() - 0.5) * 1500), ...Array.from({ length: 5000 }, () => (r() - 0.5) * 0.01)]);
    const want = Float64Array.from(x, (v) => detExp(v));
    const levels = isa ? [0, 1, 2].filter((l) => isa.supported(l)) : [-1];
    const start = isa?.current();
    try {
      for (const level of levels) {
        if (isa) isa.set(level);
        const y = new Float64Array(x.length);
        assert.equal(nativeEngine().expF64(x, y), 0);
        const bad = y.findIndex((v, i) => !Object.is(v, want[i]));
        assert.equal(bad, -1, `isa ${level}: exp(${x[bad]}) = ${y[bad]}, detmath.ts gives ${want[bad]}`);
      }
    } finally {
      if (isa && start !== undefined) isa.set(start);
    }
  });

  it('fmaF32 (the reference float convs) equals the FMA instructions and fmaf bit for bit, double-rounding midpoints included', function () {
    const isa = isaControl();
    const r = rng(31);
    const F = Math.fround;
    const u = 2 ** -23;
    const a: number[] = [], b: number[] = [], c: number[] = [];
    const push = (x: number, y: number, z: number) => (a.push(F(x)), b.push(F(y)), c.push(F(z)));
    // a*b + c lands (in a double) exactly on a float32 midpoint though the true value does
    // not: (1 + k u)(1 - k u) 2^-24 = 2^-24 - k^2 2^-70, added to an odd float32 near 1
    for (let k = 1; k < 200; k++) {
      const sc = 2 ** (Math.floor(r() * 60) - 30);
      const sg = r() < 0.5 ? -1 : 1;
      push(sg * (1 + k * u) * sc, (1 - k * u) * 2 ** -24, sg * (1 + (2 * Math.floor(r() * 2 ** 20) + 1) * u) * sc);
      push(sg * (1 + k * u) * sc, (1 + k * u) * 2 ** -24, sg * (1 + (2 * Math.floor(r() * 2 ** 20) + 1) * u) * sc);
    }
    const crafted = a.length;
    const rnd = () => F((r() - 0.5) * 2 ** (Math.floor(r() * 40) - 20));
    for (let i = 0; i < 20000; i++) {
      const x = rnd(), y = rnd();
      push(x, y, i % 3 === 0 ? -F(x * y) * (1 + (r() - 0.5) * 2 ** -20) : rnd()); // cancellation, then any
    }
    const specials = [0, -0, Infinity, -Infinity, NaN, 3.4028234663852886e38, 1.401298464324817e-45, 1.1754943508222875e-38, 1, -1];
    for (const x of specials) for (const y of specials) for (const z of specials) push(x, y, z);
    push(3.4028234663852886e38, 1, 3.4028234663852886e38 * 2 ** -24); // overflow by one rounding
    const [A, B, C] = [Float32Array.from(a), Float32Array.from(b), Float32Array.from(c)];
    const want = Float32Array.from(A, (x, i) => fmaF32(x, B[i], C[i]));
    const naive = A.filter((x, i) => !Object.is(F(x * B[i] + C[i]), want[i])).length;
    assert.ok(naive >= crafted / 2, `the crafted cases hit the double-rounding path (${naive} of ${crafted})`);
    const levels = isa ? [0, 1, 2].filter((l) => isa.supported(l)) : [-1];
    const start = isa?.current();
    try {
      for (const level of levels) {
        if (isa) isa.set(level);
        const y = new Float32Array(A.length);
        assert.equal(nativeEngine().fmaF32(A, B, C, y), 0);
        const bad = y.findIndex((v, i) => !Object.is(v, want[i]));
        assert.equal(bad, -1, `isa ${level}: fma(${A[bad]}, ${B[bad]}, ${C[bad]}) = ${y[bad]}, fmaF32 gives ${want[bad]}`);
      }
    } finally {
      if (isa && start !== undefined) isa.set(start);
    }
  });

  it('element-wise ops fused into float convs and dense (before: conv only; after: both) give the reference bits', async () => {
    const fusedCase = fc.record({
      H: fc.integer({ min: 1, max: 9 }), W: fc.integer({ min: 1, max: 9 }), C: fc.constantFrom(1, 3, 5, 17, 64),
      F: fc.constantFrom(1, 7, 16, 64, 70, 130), k: fc.integer({ min: 1, max: 4 }), s: fc.integer({ min: 1, max: 2 }), p: fc.nat(2),
      pre: fc.array(fc.constantFrom('bn', 'relu', 'tanh', 'q2'), { maxLength: 3 }),
      post: fc.array(fc.constantFrom('bn', 'relu', 'sigmoid', 'q1', 'q3s'), { maxLength: 3 }),
      bias: fc.boolean(), seed: fc.integer(),
    }).filter((c) => c.p < c.k && c.H + 2 * c.p >= c.k && c.W + 2 * c.p >= c.k);
    let fusedOps = 0;
    for (const [i, p] of fc.sample(fusedCase, { seed: 61, numRuns: 40 }).entries()) {
      const r = rng(p.seed);
      const u = (n: number, lo: number, hi: number) => Float32Array.from({ length: n }, () => Math.fround(lo + (hi - lo) * r()));
      const b = new ModelBuilder(p.H, p.W, p.C);
      const ew = (x: number, kind: string, c: number, geo: TensorInfo) => {
        const op = kind === 'bn' ? { op: 'batchnorm' as const, in: x, mean: u(c, -0.3, 0.3), scale: u(c, -2, 2), beta: u(c, -0.5, 0.5) }
          : kind.startsWith('q') ? { op: 'quantize' as const, in: x, bits: Number(kind[1]), signed: kind.endsWith('s') }
            : { op: 'activation' as const, in: x, fn: kind as 'relu' | 'tanh' | 'sigmoid' };
        return b.add(op, geo);
      };
      let x = 0;
      for (const k of p.pre) x = ew(x, k, p.C, f32(p.H, p.W, p.C));
      const oh = Math.floor((p.H + 2 * p.p - p.k) / p.s) + 1, ow = Math.floor((p.W + 2 * p.p - p.k) / p.s) + 1;
      // weights scaled so that outputs stay near [-1, 1], where quantizers do not hide errors
      const g = 1.5 / Math.sqrt(p.k * p.k * p.C);
      x = b.add({ op: 'conv2d', groups: 1, in: x, kh: p.k, kw: p.k, sh: p.s, sw: p.s, ph: p.p, pw: p.p, weight: u(p.F * p.k * p.k * p.C, -g, g), bias: p.bias ? u(p.F, -1, 1) : null }, f32(oh, ow, p.F));
      for (const k of p.post) x = ew(x, k, p.F, f32(oh, ow, p.F));
      const n = oh * ow * p.F;
      x = b.add({ op: 'flatten', in: x }, f32(1, 1, n, true));
      if (i % 2) { // else the conv's output is the model's
        x = b.add({ op: 'dense', in: x, weight: u(5 * n, -1.5 / Math.sqrt(n), 1.5 / Math.sqrt(n)), bias: p.bias ? u(5, -1, 1) : null }, f32(1, 1, 5));
        for (const k of p.post) x = ew(x, k, 5, f32(1, 1, 5));
      }
      const m = b.build(`fused-${i}`);
      const nb = i % 2 ? native1 : native2;
      const input = Float32Array.from({ length: (1 + (i % 3)) * p.C * p.H * p.W }, () => Math.fround(r() * 4 - 2));
      await compareModel(m, input, nb, `fused case ${i} ${JSON.stringify(p)}`);
      fusedOps += [...(nb as unknown as { fusedConvs: Map<number, { start: number; end: number }> }).fusedConvs.values()].reduce((t, f) => t + f.end - f.start - 1, 0);
    }
    assert.ok(fusedOps > 60, `ops were fused (${fusedOps})`);
    // conv -> ops -> pool -> ops (-> binarize) in one pass by bands of pooled rows
    const pooledCase = fc.record({
      H: fc.integer({ min: 2, max: 20 }), W: fc.integer({ min: 1, max: 12 }), C: fc.constantFrom(1, 3, 5),
      F: fc.constantFrom(1, 7, 16, 64, 70), k: fc.integer({ min: 1, max: 3 }), s: fc.integer({ min: 1, max: 2 }), p: fc.nat(1),
      post: fc.array(fc.constantFrom('bn', 'relu', 'q2'), { maxLength: 2 }),
      pool: fc.record({ mode: fc.constantFrom<'max' | 'avg'>('max', 'avg'), k: fc.integer({ min: 1, max: 3 }), s: fc.integer({ min: 1, max: 3 }), p: fc.nat(1), countIncludePad: fc.boolean() }),
      after: fc.array(fc.constantFrom('bn', 'tanh', 'q3s'), { maxLength: 2 }),
      bits: fc.constantFrom(0, 1, 2), batch: fc.integer({ min: 1, max: 5 }), seed: fc.integer(),
    }).filter((c) => {
      const oh = Math.floor((c.H + 2 * c.p - c.k) / c.s) + 1, ow = Math.floor((c.W + 2 * c.p - c.k) / c.s) + 1;
      return c.p < c.k && c.H + 2 * c.p >= c.k && c.W + 2 * c.p >= c.k && c.pool.p < c.pool.k && oh + 2 * c.pool.p >= c.pool.k && ow + 2 * c.pool.p >= c.pool.k;
    });
    let pooled = 0;
    for (const [i, p] of fc.sample(pooledCase, { seed: 62, numRuns: 40 }).entries()) {
      const r = rng(p.seed);
      const u = (n: number, lo: number, hi: number) => Float32Array.from({ length: n }, () => Math.fround(lo + (hi - lo) * r()));
      const b = new ModelBuilder(p.H, p.W, p.C);
      const oh = Math.floor((p.H + 2 * p.p - p.k) / p.s) + 1, ow = Math.floor((p.W + 2 * p.p - p.k) / p.s) + 1;
      const g = 1.5 / Math.sqrt(p.k * p.k * p.C);
      let x = b.add({ op: 'conv2d', groups: 1, in: 0, kh: p.k, kw: p.k, sh: p.s, sw: p.s, ph: p.p, pw: p.p, weight: u(p.F * p.k * p.k * p.C, -g, g), bias: u(p.F, -0.5, 0.5) }, f32(oh, ow, p.F));
      const ew = (x: number, kind: string, geo: TensorInfo) => b.add(
        kind === 'bn' ? { op: 'batchnorm', in: x, mean: u(p.F, -0.3, 0.3), scale: u(p.F, -2, 2), beta: u(p.F, -0.5, 0.5) }
          : kind.startsWith('q') ? { op: 'quantize', in: x, bits: Number(kind[1]), signed: kind.endsWith('s') }
            : { op: 'activation', in: x, fn: kind as 'relu' | 'tanh' }, geo);
      for (const k of p.post) x = ew(x, k, f32(oh, ow, p.F));
      const q = p.pool;
      const ph = Math.floor((oh + 2 * q.p - q.k) / q.s) + 1, pw = Math.floor((ow + 2 * q.p - q.k) / q.s) + 1;
      x = b.add({ op: 'pool', in: x, kh: q.k, kw: q.k, sh: q.s, sw: q.s, ph: q.p, pw: q.p, mode: q.mode, countIncludePad: q.countIncludePad }, f32(ph, pw, p.F));
      for (const k of p.after) x = ew(x, k, f32(ph, pw, p.F));
      if (p.bits) { // observed through a binary conv, as the device would read them
        const words = Math.ceil(p.F / 64);
        x = b.add({ op: 'binarize', in: x, bits: p.bits }, { kind: 'bits', h: ph, w: pw, c: p.F, planes: p.bits, flat: false });
        const w = new Uint32Array(5 * words * 2);
        for (let o = 0; o < 5; o++) for (let c = 0; c < p.F; c++) if (r() < 0.5) w[o * words * 2 + (c >>> 5)] |= 1 << (c & 31);
        x = b.add({ op: 'bconv', in: x, kh: 1, kw: 1, sh: 1, sw: 1, ph: 0, pw: 0, padBit: 0, inBits: p.bits, outC: 5, weight: w, pool: null, epilogue: { kind: 'int' } }, i32(ph, pw, 5));
        x = b.add({ op: 'dequantize', in: x, divisor: 3 }, f32(ph, pw, 5));
        x = b.add({ op: 'flatten', in: x }, f32(1, 1, ph * pw * 5, true));
      } else {
        x = b.add({ op: 'flatten', in: x }, f32(1, 1, ph * pw * p.F, true));
      }
      const m = b.build(`pooled-${i}`);
      const nb = i % 2 ? native1 : native2;
      const input = Float32Array.from({ length: p.batch * p.C * p.H * p.W }, () => Math.fround(r() * 4 - 2));
      await compareModel(m, input, nb, `pooled case ${i} ${JSON.stringify(p)}`);
      if ([...(nb as unknown as { fusedConvs: Map<number, { pool?: number }> }).fusedConvs.values()].some((f) => f.pool !== undefined)) pooled++;
    }
    assert.equal(pooled, 40, 'every pooled case fused its pool');
    // a tensor between them that something else reads stays a tensor: no fusion there
    const b = new ModelBuilder(6, 6, 3);
    const bn = b.add({ op: 'batchnorm', in: 0, mean: new Float32Array(3).fill(0.1), scale: new Float32Array(3).fill(2), beta: new Float32Array(3).fill(-0.2) }, f32(6, 6, 3));
    const cv = b.add({ op: 'conv2d', groups: 1, in: bn, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, weight: Float32Array.from({ length: 8 * 27 }, (_, k) => Math.sin(k)), bias: null }, f32(6, 6, 8));
    const rl = b.add({ op: 'activation', in: cv, fn: 'relu' }, f32(6, 6, 8));
    const sc = b.add({ op: 'conv2d', groups: 1, in: bn, kh: 1, kw: 1, sh: 1, sw: 1, ph: 0, pw: 0, weight: Float32Array.from({ length: 8 * 3 }, (_, k) => Math.cos(k)), bias: null }, f32(6, 6, 8));
    b.add({ op: 'flatten', in: b.add({ op: 'add', in: [rl, sc] }, f32(6, 6, 8)) }, f32(1, 1, 288, true));
    const m = b.build('shared-bn');
    await compareModel(m, Float32Array.from({ length: 2 * 108 }, (_, k) => Math.fround(Math.sin(k * 0.7) * 2)), native2, 'shared BatchNorm output');
    const plan = [...(native2 as unknown as { fusedConvs: Map<number, { start: number; conv: number; end: number }> }).fusedConvs.values()];
    assert.deepEqual(plan, [{ start: 1, conv: 1, end: 3 }], 'only the relu after the first conv is fused');
  });

  it('pools and quantizers on special values and exact rounding boundaries', async () => {
    const r = rng(7);
    // pools: NaN, ±0 and ±Infinity in maps whose channel counts leave vector tails
    for (const [i, C] of [7, 21, 16, 35].entries()) {
      const H = 5;
      const special = [NaN, 0, -0, Infinity, -Infinity];
      const x = Float32Array.from({ length: 2 * C * H * H }, () => (r() < 0.15 ? special[Math.floor(r() * 5)] : Math.fround(r() - 0.5)));
      for (const mode of ['max', 'avg'] as const) {
        const b = new ModelBuilder(H, H, C);
        const full = i % 2 === 1;
        const oh = full ? 3 : 2; // 3x3 stride 2 pad 1 on 5: floor 3, and 'full' is also 3; stride 3 pad 1: floor 2, full 3
        const y = b.add({ op: 'pool', in: 0, kh: 3, kw: 3, sh: full ? 2 : 3, sw: full ? 2 : 3, ph: 1, pw: 1, mode, countIncludePad: i < 2 }, f32(oh, oh, C));
        b.add({ op: 'flatten', in: y }, f32(1, 1, oh * oh * C, true));
        await compareModel(b.build(`pool-${mode}-${C}`), x, i % 2 ? native1 : native2, `pool ${mode} C=${C}`);
      }
    }
    // quantize / binarize: values a few float ulps around every level boundary (j + 0.5) / L
    const near: number[] = [NaN, 0, -0, Infinity, -Infinity, 1, 1.0000001, -1e-30, 2, -2];
    const f32buf = new Float32Array(1);
    const u32buf = new Uint32Array(f32buf.buffer);
    for (const L of [3, 7, 255]) {
      for (let j = 0; j < Math.min(L, 12); j++) {
        f32buf[0] = (j + 0.5) / L;
        const u = u32buf[0];
        for (let d = -3; d <= 3; d++) {
          u32buf[0] = u + d;
          near.push(f32buf[0]);
        }
      }
    }
    near.push(Math.fround(Math.fround(0.5 - 2 ** -25) / 3), Math.fround(0.5 / 3));
    const x = Float32Array.from(near);
    const n = x.length;
    for (const qb of [1, 2, 3, 8]) {
      const b = new ModelBuilder(1, 1, n);
      const q = b.add({ op: 'quantize', in: 0, bits: qb }, f32(1, 1, n));
      b.add({ op: 'flatten', in: q }, f32(1, 1, n, true));
      await compareModel(b.build(`quantize${qb}`), x, native1, `quantize ${qb}-bit`);
      // binarize, observed through a one-hot probe (see bconvModel)
      const p = new ModelBuilder(1, 1, n);
      const t = p.add({ op: 'binarize', in: 0, bits: qb }, { kind: 'bits', h: 1, w: 1, c: n, planes: qb, flat: false });
      const words = Math.ceil(n / 64);
      const probe = new Uint32Array((n + 1) * words * 2);
      for (let o = 0; o < n; o++) probe[o * words * 2 + (o >>> 5)] |= 1 << (o & 31);
      const v = p.add({ op: 'bconv', in: t, kh: 1, kw: 1, sh: 1, sw: 1, ph: 0, pw: 0, padBit: 0, inBits: qb, outC: n + 1, weight: probe, pool: null, epilogue: { kind: 'int' } }, { kind: 'i32', h: 1, w: 1, c: n + 1, planes: 0, flat: false });
      const dq = p.add({ op: 'dequantize', in: v, divisor: 3 }, f32(1, 1, n + 1));
      p.add({ op: 'flatten', in: dq }, f32(1, 1, n + 1, true));
      await compareModel(p.build(`binarize${qb}`), x, native2, `binarize ${qb}-bit`);
    }
  });

  it('ResNet-shaped residual networks (zoo topology, narrow): identical logits, 1- and 2-bit, odd widths', async () => {
    const configs: { filters: [number, number, number, number, number]; actBits: number }[] = [
      { filters: [16, 16, 32, 64, 128], actBits: 1 },
      { filters: [8, 24, 40, 72, 130], actBits: 1 },
      { filters: [16, 16, 32, 64, 64], actBits: 2 },
    ];
    for (const [i, cfg] of configs.entries()) {
      const m = compile(resnet18Cifar({ seed: 50 + i, ...cfg }));
      assert.ok(m.ops.some((o) => o.op === 'add'), 'residual adds on the host');
      const x = randomImages(60 + i, 3, [3, 32, 32]);
      const want = await logitsOf(m, 'reference', x);
      assert.deepEqual(bitsOf(await logitsOf(m, 'native', x, { threads: 2 })), bitsOf(want), `resnet ${JSON.stringify(cfg)}`);
    }
  });

  it('runModel: each residual unit\'s chain runs inside the binary conv that feeds it; identical to the reference and to segment by segment', async () => {
    for (const [i, cfg] of [{ filters: [16, 16, 32, 64, 128] as [number, number, number, number, number], actBits: 1 }, { filters: [8, 16, 40, 72, 128] as [number, number, number, number, number], actBits: 2 }].entries()) {
      const m = compile(resnet18Cifar({ seed: 80 + i, ...cfg }));
      const x = randomImages(90 + i, 3, [3, 32, 32]);
      const want = await logitsOf(m, 'reference', x);
      const nb = new NativeBackend({ threads: 2 });
      await nb.load(m);
      const plan = (nb as unknown as { bconvChains: Map<number, { chain: { start: number; end: number } }> }).bconvChains;
      // every unit's conv2 (or shortcut) feeds a dequantize/add/BatchNorm/sign chain
      assert.ok(plan.size >= 8, `chains inside bconvs: ${plan.size}`);
      const nhwc = toNHWC(x, 3, m);
      const r = await nb.runModel(nhwc, 3);
      assert.deepEqual(bitsOf(r.output), bitsOf(want), `runModel ${JSON.stringify(cfg)}`);
      assert.deepEqual(r.spans.map((sp) => sp.segment), m.segments.map((_, k) => k));
      r.spans.forEach((sp, k) => assert.ok(sp.endMs >= sp.startMs && (k === 0 || sp.startMs >= r.spans[k - 1].endMs), `span ${k}`));
      // the per-op statistics keep host and device apart
      const st = nb.layerStats();
      assert.ok(st.every((l) => l.where === (m.ops[l.op].op === 'bconv' ? 'device' : 'host')));
      // segment by segment (no cross-segment fusion) gives the same bits
      const tensors = new Map<number, TensorData>([[m.input, nhwc]]);
      for (let si = 0; si < m.segments.length; si++) {
        const seg = m.segments[si];
        const outs = await nb.runSegment(si, new Map(seg.inputs.map((t) => [t, tensors.get(t)!])), 3);
        for (const [t, d] of outs) tensors.set(t, d);
      }
      assert.deepEqual(bitsOf(tensors.get(m.output)!), bitsOf(want));
      // a second call reuses the buffers and gives the same output, the first one intact
      const again = await nb.runModel(nhwc, 3);
      assert.notEqual(again.output.buffer, r.output.buffer);
      assert.deepEqual(bitsOf(again.output), bitsOf(want));
      assert.deepEqual(bitsOf(r.output), bitsOf(want));
      // wrong input: a ShapeError before any native call
      await assert.rejects(nb.runModel(nhwc.subarray(1), 3), ShapeError);
      await assert.rejects(nb.runModel(nhwc, 0), ShapeError);
      await nb.dispose();
      await assert.rejects(nb.runModel(nhwc, 3), /no model loaded/);
    }
  });

  it('the fusion entry points refuse what they cannot do (bad ops, twice, dense with a pool, wrong geometry or slot)', () => {
    const e = nativeEngine();
    const d = { h: 6, w: 6, c: 3, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, out_c: 8, out_h: 6, out_w: 6, groups: 1 };
    const w = Float32Array.from({ length: 8 * 27 }, (_, k) => Math.sin(k));
    const ew = (kind: number, param = 0): EwOp => ({ kind, a: 0, b: 0, y: 0, param, sgn: 0, divisor: 1, mean: null, scale: null, beta: null });
    const bn = (c: number): EwOp => ({ ...ew(EW.batchnorm), mean: new Float32Array(c), scale: new Float32Array(c).fill(1), beta: new Float32Array(c) });
    const pool = { h: 6, w: 6, c: 8, kh: 2, kw: 2, sh: 2, sw: 2, ph: 0, pw: 0, out_h: 3, out_w: 3, mode: 0, count_include_pad: 0 };
    const h = e.conv2dCreate(d, w, null)!;
    assert.equal(e.fconvFuse(h, [ew(EW.add)], []), BW_E_ARG, 'an add cannot run inside a conv');
    assert.equal(e.fconvFuse(h, [], [ew(EW.activation, 7)]), BW_E_ARG, 'unknown activation');
    assert.equal(e.fconvFuse(h, [], [{ ...ew(EW.batchnorm) }]), BW_E_ARG, 'BatchNorm without parameters');
    assert.equal(e.fconvFusePool(h, { ...pool, c: 7 }, [], 0, 0), BW_E_ARG, 'pool geometry is not the conv output');
    assert.equal(e.fconvFusePool(h, pool, [], 1, 1), BW_E_ARG, 'signed 1-bit output');
    assert.equal(e.fconvFuse(h, [bn(3)], [bn(8)]), BW_OK);
    assert.equal(e.fconvFuse(h, [], []), BW_E_ARG, 'fused twice');
    assert.equal(e.fconvFusePool(h, pool, [bn(8)], 1, 0), BW_OK);
    assert.equal(e.fconvFusePool(h, pool, [], 0, 0), BW_E_ARG, 'a second pool');
    const x = new Float32Array(2 * 108);
    assert.equal(e.fconvRun(h, 2, x, x.length, new Float32Array(2 * 288), 2 * 288, 1), BW_E_SIZE, 'the unpooled output size');
    assert.equal(e.fconvRun(h, 2, x, x.length, new Uint32Array(2 * 9 * 2), 2 * 9, 1), BW_OK);
    e.fconvFree(h);
    const dense = e.denseCreate(4, 3, new Float32Array(12), null)!;
    assert.equal(e.fconvFuse(dense, [bn(4)], []), BW_E_ARG, 'ops before a dense (its input is flattened)');
    assert.equal(e.fconvFusePool(dense, { ...pool, h: 1, w: 1, c: 3, kh: 1, kw: 1, sh: 1, sw: 1, out_h: 1, out_w: 1 }, [], 0, 0), BW_E_ARG, 'a pool after a dense');
    e.fconvFree(dense);
    // a bconv into a chain: the slot must be an external int32 one, the other tensors sized
    const p: BconvCase = { H: 4, W: 4, C: 64, outC: 8, kh: 1, kw: 1, sh: 1, sw: 1, ph: 0, pw: 0, padBit: 1, inBits: 1, pool: null, outBits: 0, seed: 1 };
    const words = 1;
    const b = e.bconvCreate({ h: 4, w: 4, c: 64, in_bits: 1, kh: 1, kw: 1, sh: 1, sw: 1, ph: 0, pw: 0, pad_bit: 1, out_c: 8, has_pool: 0, pkh: 0, pkw: 0, psh: 0, psw: 0, pph: 0, ppw: 0, out_bits: 0, out_h: 4, out_w: 4, in_signed: 0, w_bits: 1, w_signed: 0, out_signed: 0, pad_zero: 0 }, new Uint32Array(8 * words * 2), null, null, null)!;
    const ch = e.chainCreate([{ ...ew(EW.dequantize), a: 0, y: 1 }, { ...ew(EW.binarize, 1), a: 1, y: 2 }], [{ kind: SLOT.i32, planes: 0, external: 1 }, { kind: SLOT.f32, planes: 0, external: 0 }, { kind: SLOT.bits, planes: 1, external: 1 }], 8)!;
    const xb = randomBits(rng(p.seed), 16, 64, 1);
    const bitsOut = new Uint32Array(16 * 2);
    const lens = BigInt64Array.from([0n, 0n, 16n]);
    assert.equal(e.bconvRunChain(b, 1, xb, xb.length / 2, ch, 2, [null, null, bitsOut], lens, 1), BW_E_ARG, 'the bits slot cannot stand for the int32 output');
    assert.equal(e.bconvRunChain(b, 1, xb, xb.length / 2, ch, 0, [null, null, bitsOut], BigInt64Array.from([0n, 0n, 15n]), 1), BW_E_SIZE, 'a short output tensor');
    assert.equal(e.bconvRunChain(b, 1, xb, xb.length / 2, ch, 0, [null, null, bitsOut], lens, 1), BW_OK);
    e.chainFree(ch);
    e.bconvFree(b);
  });

  it('ImageNet-shaped ResNet-18 (224x224, narrow): the stem bn_data..binarize runs as one fused pass, identical logits', async () => {
    const m = compile(resnet18Imagenet({ seed: 70, filters: [16, 16, 32, 32, 64], actBits: 1 }));
    const x = randomImages(71, 3, [3, 224, 224]);
    const want = await logitsOf(m, 'reference', x);
    const nb = new NativeBackend({ threads: 2 });
    await nb.load(m);
    const plan = [...(nb as unknown as { fusedConvs: Map<number, { start: number; conv: number; end: number; pool?: number }> }).fusedConvs.values()];
    await nb.dispose();
    assert.deepEqual(plan[0], { start: 0, conv: 1, end: 7, pool: 4 }, 'bn_data, conv0, bn0, relu0, pool0, bn1, binarize');
    assert.equal(m.segments[0].end, 7, 'the whole first host segment');
    assert.deepEqual(bitsOf(await logitsOf(m, 'native', x, { threads: 2 })), bitsOf(want));
  });

  it('every ISA level this machine supports (and scalar without POPCNT) gives the same results', async function () {
    const isa = isaControl();
    if (!isa) {
      console.log('      SKIPPED: the library has no bw_isa_set (cpu.h not built)');
      this.skip();
    }
    const e = nativeEngine();
    const start = isa.current();
    const levels = [0, 1, 2].filter((l) => isa.supported(l));
    assert.ok(levels.includes(0));
    const cases = fc.sample(bconvCase, { seed: 77, numRuns: 12 });
    const fm = compile(randomModel({ seed: 4242, actBits: 2 }));
    const ft = fm.tensors[fm.input];
    const fx = randomImages(4243, 9, [ft.c, ft.h, ft.w]);
    const want = await logitsOf(fm, 'reference', fx);
    try {
      const modes = [...levels.map((l) => ({ level: l, popcnt: true })), { level: 0, popcnt: false }];
      for (const { level, popcnt } of modes) {
        assert.equal(isa.set(level), level);
        isa.popcnt(popcnt && isa.hasPopcnt());
        assert.equal(e.isa(), level, 'the engine follows the override');
        const tag = `isa ${level}${popcnt ? '' : ' (no POPCNT)'}`;
        for (const [i, p] of cases.entries()) {
          const r = rng(p.seed);
          await compareModel(bconvModel(p, r), randomInput(r, 2, p.C * p.H * p.W, p.inBits), native2, `${tag} case ${i}`);
        }
        assert.deepEqual(bitsOf(await logitsOf(fm, 'native', fx)), bitsOf(want), `${tag}: random model`);
      }
    } finally {
      isa.set(start);
      isa.popcnt(isa.hasPopcnt());
    }
  });

  it('zero padding (Q = K + dot): random shapes, strides, pads at every border, odd channels, pools, thresholds; every ISA level', async () => {
    const zeroCase = bconvCases({ inBits: [1], outBits: [0, 0, 1] }).map((p) => ({ ...p, padBit: PAD_ZERO }));
    const cases: BconvCase[] = [
      ...fc.sample(zeroCase, { seed: 91, numRuns: 40 }),
      // wider maps and channel counts across word edges; 5x5 pad 2 stride 2
      { H: 16, W: 13, C: 130, outC: 70, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, padBit: PAD_ZERO, inBits: 1, pool: null, outBits: 0, seed: 1 },
      { H: 11, W: 12, C: 64, outC: 9, kh: 5, kw: 5, sh: 2, sw: 2, ph: 2, pw: 2, padBit: PAD_ZERO, inBits: 1, pool: { kh: 2, kw: 2, sh: 2, sw: 2, ph: 0, pw: 0 }, outBits: 1, seed: 2 },
      { H: 7, W: 5, C: 33, outC: 64, kh: 4, kw: 2, sh: 1, sw: 2, ph: 3, pw: 1, padBit: PAD_ZERO, inBits: 1, pool: null, outBits: 1, seed: 3 },
    ];
    const isa = isaControl();
    const start = isa?.current() ?? 0;
    try {
      for (const level of isa ? [0, 1, 2].filter((l) => isa.supported(l)) : [start]) {
        isa?.set(level);
        for (const [i, p] of cases.entries()) {
          const r = rng(p.seed);
          await compareModel(bconvModel(p, r), randomInput(r, 3, p.C * p.H * p.W, 1), i % 2 ? native1 : native2, `isa ${level} zero-pad case ${i} ${JSON.stringify(p)}`);
        }
      }
    } finally {
      isa?.set(start);
    }
  });

  it('hands out segment outputs it never overwrites later (also through flatten), and reuses recycled ones', async () => {
    const b = new ModelBuilder(4, 4, 8);
    const q = b.add({ op: 'quantize', in: 0, bits: 2 }, f32(4, 4, 8));
    const r = b.add({ op: 'activation', in: q, fn: 'relu' }, f32(4, 4, 8));
    b.add({ op: 'flatten', in: r }, f32(1, 1, 128, true));
    const m = b.build('flatten-escape');
    const nb = new NativeBackend({ threads: 1 });
    await nb.load(m);
    const x1 = Float32Array.from({ length: 256 }, (_, i) => (i % 7) / 6);
    const x2 = Float32Array.from({ length: 256 }, (_, i) => 1 - (i % 5) / 4);
    const [first] = await runSegment(nb, 0, new Map([[0, x1]]), 2);
    const kept = bitsOf(first);
    const [second] = await runSegment(nb, 0, new Map([[0, x2]]), 2);
    assert.notEqual(second.buffer, first.buffer);
    assert.deepEqual(bitsOf(first), kept, 'an earlier result changed under the caller');
    // after recycle() the backend may reuse the buffer; foreign buffers are ignored
    nb.recycle([first, new Float32Array(256)]);
    const [third] = await runSegment(nb, 0, new Map([[0, x1]]), 2);
    assert.equal(third.buffer, first.buffer, 'recycled buffer reused');
    assert.deepEqual(bitsOf(third), kept);
    await nb.dispose();
  });

  it('recycles a buffer returned under two tensor ids only after both are given back', async () => {
    // host [quantize q, flatten fl = q, binarize] -> device [bconv] -> host [dequantize, add(q, .),
    // flatten, add(fl, .)]: q and fl are one array, and both leave the first segment
    const b = new ModelBuilder(1, 1, 64);
    const q = b.add({ op: 'quantize', in: 0, bits: 1 }, f32(1, 1, 64));
    const fl = b.add({ op: 'flatten', in: q }, f32(1, 1, 64, true));
    const bi = b.add({ op: 'binarize', in: q, bits: 1 }, bits(1, 1, 64, 1));
    const w = new Uint32Array(64 * 2).fill(0x5555aaaa);
    const bc = b.add({ op: 'bconv', in: bi, kh: 1, kw: 1, sh: 1, sw: 1, ph: 0, pw: 0, padBit: 1, inBits: 1, outC: 64, weight: w, pool: null, epilogue: { kind: 'int' } }, i32(1, 1, 64));
    const dq = b.add({ op: 'dequantize', in: bc, divisor: 1 }, f32(1, 1, 64));
    const a1 = b.add({ op: 'add', in: [q, dq] }, f32(1, 1, 64));
    const fa = b.add({ op: 'flatten', in: a1 }, f32(1, 1, 64, true));
    b.add({ op: 'add', in: [fl, fa] }, f32(1, 1, 64, true));
    const m = b.build('alias');
    assert.deepEqual(m.segments[0].outputs, [q, fl, bi]);
    const nb = new NativeBackend({ threads: 1 });
    await nb.load(m);
    const x = Float32Array.from({ length: 64 }, (_, i) => i - 32);
    const run = async () => (await nb.runSegment(0, new Map([[0, x]]), 1));
    const first = await run();
    assert.equal(first.get(q)!.buffer, first.get(fl)!.buffer);
    nb.recycle([first.get(q)!]);
    const second = await run();
    assert.notEqual(second.get(q)!.buffer, first.get(q)!.buffer, 'still referenced as tensor fl');
    nb.recycle([first.get(fl)!]);
    const third = await run();
    assert.equal(third.get(q)!.buffer, first.get(q)!.buffer, 'reused once both ids were given back');
    // and the whole model still agrees with the reference
    await compareModel(m, x, native1, 'alias model');
    await nb.dispose();
  });

});
