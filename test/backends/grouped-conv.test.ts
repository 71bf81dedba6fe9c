/**
 * Grouped and depthwise float convolutions (conv2d `groups`): the reference against a plain
 * loop over the IR's NCHW input and OIHW weights, against the dense conv with zero-filled
 * weights (what the Larq importer emitted for a depthwise conv before), and the native
 * engine against the reference bit for bit on every ISA level, with element-wise ops and
 * pools fused around the conv.
 */
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { NativeBackend } from '../../host/backends/native';
import { isaControl, nativeEngine } from '../../host/backends/native/ffi';
import { runHostOp } from '../../host/backends/reference/float-ops';
import { compile } from '../../host/compile/compile';
import { Conv2dOp, TensorInfo } from '../../host/compile/model';
import { fmaF32 } from '../../host/core/scalar';
import { windowOut } from '../../host/core/window';
import { GraphBuilder } from '../../host/ir/builder';
import { TensorData } from '../../host/runtime/backend';
import { compareWithReference } from '../helpers/backend-compare';
import { f32, ModelBuilder } from '../helpers/native-models';
import { rng } from '../helpers/naive';
import { requireOrSkip } from '../helpers/skip';

interface GCase {
  H: number; W: number; C: number; groups: number; ocg: number;
  kh: number; kw: number; sh: number; sw: number; ph: number; pw: number;
  bias: boolean; batch: number; seed: number;
}

const divisors = (n: number) => Array.from({ length: n }, (_, i) => i + 1).filter((d) => n % d === 0);

/** groups 1, 2 or C (depthwise) or any divisor of C; 1..20 outputs per group (depth multiplier). */
const gcase: fc.Arbitrary<GCase> = fc
  .record({
    H: fc.integer({ min: 1, max: 11 }), W: fc.integer({ min: 1, max: 11 }),
    C: fc.constantFrom(1, 2, 3, 4, 6, 8, 12, 16, 17, 24, 32, 48, 70),
    kind: fc.constantFrom('one', 'two', 'dw', 'dw', 'any'), pick: fc.nat(), ocg: fc.constantFrom(1, 1, 2, 3, 8, 20),
    kh: fc.integer({ min: 1, max: 4 }), kw: fc.integer({ min: 1, max: 4 }), sh: fc.integer({ min: 1, max: 2 }), sw: fc.integer({ min: 1, max: 3 }),
    ph: fc.nat(2), pw: fc.nat(2), bias: fc.boolean(), batch: fc.integer({ min: 1, max: 3 }), seed: fc.integer(),
  })
  .map(({ kind, pick, ...c }) => {
    const ds = divisors(c.C);
    const groups = kind === 'one' ? 1 : kind === 'two' ? (c.C % 2 ? 1 : 2) : kind === 'dw' ? c.C : ds[pick % ds.length];
    return { ...c, groups };
  })
  .filter((c) => c.ph < c.kh && c.pw < c.kw && c.H + 2 * c.ph >= c.kh && c.W + 2 * c.pw >= c.kw);

const uniform = (r: () => number, n: number, lo: number, hi: number) => Float32Array.from({ length: n }, () => Math.fround(lo + (hi - lo) * r()));

/** The IR conv (OIHW weights of one group's channels) compiled alone: its conv2d op and geometry. */
function compiled(p: GCase, weight: Float32Array, bias: Float32Array | null, groups: number) {
  const b = new GraphBuilder();
  b.add({ op: 'Input', name: 'data', inputs: [], shape: [p.C, p.H, p.W] });
  b.add({
    op: 'Convolution', name: 'conv', inputs: ['data'], kernel: [p.kh, p.kw], stride: [p.sh, p.sw], pad: [p.ph, p.pw],
    numFilter: p.groups * p.ocg, numGroup: groups, weight, bias,
  });
  const m = compile({ name: 'g', source: { format: 'test', files: [] }, nodes: b.nodes, output: 'conv' });
  const op = m.ops.find((o): o is Conv2dOp => o.op === 'conv2d')!;
  return { m, op };
}

function runRef(p: GCase, weight: Float32Array, bias: Float32Array | null, groups: number, x: Float32Array): Float32Array {
  const { m, op } = compiled(p, weight, bias, groups);
  assert.equal(op.groups, groups);
  return runHostOp(op, m, new Map<number, TensorData>([[op.in, x]]), p.batch) as Float32Array;
}

/** Plain loop: NHWC input, OIHW weights; acc = 0, fma over (ky, kx, c of the group) skipping padding, then + bias. */
function plainConv(p: GCase, x: Float32Array, w: Float32Array, bias: Float32Array | null): Float32Array {
  const O = p.groups * p.ocg, cg = p.C / p.groups;
  const OH = windowOut(p.H, p.kh, p.sh, p.ph), OW = windowOut(p.W, p.kw, p.sw, p.pw);
  const y = new Float32Array(p.batch * OH * OW * O);
  for (let n = 0; n < p.batch; n++)
    for (let oy = 0; oy < OH; oy++)
      for (let ox = 0; ox < OW; ox++)
        for (let o = 0; o < O; o++) {
          const g = Math.floor(o / p.ocg);
          let acc = 0;
          for (let ky = 0; ky < p.kh; ky++)
            for (let kx = 0; kx < p.kw; kx++) {
              const iy = oy * p.sh - p.ph + ky, ix = ox * p.sw - p.pw + kx;
              if (iy < 0 || iy >= p.H || ix < 0 || ix >= p.W) continue;
              for (let c = 0; c < cg; c++) {
                acc = fmaF32(w[((o * cg + c) * p.kh + ky) * p.kw + kx], x[((n * p.H + iy) * p.W + ix) * p.C + g * cg + c], acc);
              }
            }
          y[((n * OH + oy) * OW + ox) * O + o] = bias ? Math.fround(acc + bias[o]) : acc;
        }
  return y;
}

const bitsOf = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe('grouped float convolution (reference)', () => {
  const cases = fc.sample(gcase, { seed: 21, numRuns: 120 });

  it('covers groups 1, 2, C (depthwise) and others, depth multipliers 1 and above, strides and pads', () => {
    assert.ok(cases.some((c) => c.groups === 1) && cases.some((c) => c.groups === 2));
    assert.ok(cases.some((c) => c.groups === c.C && c.C > 2 && c.ocg === 1) && cases.some((c) => c.groups === c.C && c.C > 2 && c.ocg === 2));
    assert.ok(cases.some((c) => c.groups > 2 && c.groups < c.C));
    assert.ok(cases.some((c) => c.sh === 2 && c.ph > 0));
  });

  it('equals a plain loop over the IR arrays bit for bit', () => {
    for (const [i, p] of cases.entries()) {
      const r = rng(p.seed);
      const O = p.groups * p.ocg;
      const w = uniform(r, O * (p.C / p.groups) * p.kh * p.kw, -1, 1);
      const bias = p.bias ? uniform(r, O, -0.5, 0.5) : null;
      const x = uniform(r, p.batch * p.H * p.W * p.C, -2, 2);
      assert.deepEqual(bitsOf(runRef(p, w, bias, p.groups, x)), bitsOf(plainConv(p, x, w, bias)), `case ${i} ${JSON.stringify(p)}`);
    }
  });

  it('equals the dense conv whose weights are zero outside each output\'s group', () => {
    for (const [i, p] of cases.filter((c) => c.groups > 1).entries()) {
      const r = rng(p.seed);
      const O = p.groups * p.ocg, cg = p.C / p.groups, kk = p.kh * p.kw;
      const w = uniform(r, O * cg * kk, -1, 1);
      const bias = p.bias ? uniform(r, O, -0.5, 0.5) : null;
      const x = uniform(r, p.batch * p.H * p.W * p.C, -2, 2);
      const dense = new Float32Array(O * p.C * kk);
      for (let o = 0; o < O; o++) {
        const g = Math.floor(o / p.ocg);
        for (let c = 0; c < cg; c++) dense.set(w.subarray((o * cg + c) * kk, (o * cg + c + 1) * kk), (o * p.C + g * cg + c) * kk);
      }
      assert.deepEqual(bitsOf(runRef(p, w, bias, p.groups, x)), bitsOf(runRef(p, dense, bias, 1, x)), `case ${i} ${JSON.stringify(p)}`);
    }
  });

  it('refuses groups that do not divide the channels', () => {
    const p: GCase = { H: 4, W: 4, C: 6, groups: 4, ocg: 1, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, bias: false, batch: 1, seed: 0 };
    assert.throws(() => compiled(p, new Float32Array(4 * 9), null, 4), /4 groups do not divide 6 input channels and 4 filters/);
  });
});

describe('grouped float convolution (native engine)', function () {
  let native1: NativeBackend;
  let native2: NativeBackend;

  before(function () {
    if (!requireOrSkip(this, () => nativeEngine())) return;
    native1 = new NativeBackend({ threads: 1 });
    native2 = new NativeBackend({ threads: 2 });
    nativeEngine().setParallelNs(0); // small models: every parallel loop really uses its threads
  });

  after(() => {
    try {
      nativeEngine().setParallelNs(-1);
    } catch {
      // the library was never loaded
    }
  });

  /** conv (with ops fused before / after it, maybe a pool) then flatten, as ops of a CompiledModel. */
  function model(p: GCase, r: () => number, extras: { pre: boolean; post: boolean; pool: boolean }) {
    const O = p.groups * p.ocg;
    const b = new ModelBuilder(p.H, p.W, p.C);
    let x = 0;
    const bn = (c: number) => ({ mean: uniform(r, c, -0.3, 0.3), scale: uniform(r, c, -2, 2), beta: uniform(r, c, -0.5, 0.5) });
    if (extras.pre) x = b.add({ op: 'batchnorm', in: x, ...bn(p.C) }, f32(p.H, p.W, p.C));
    const oh = windowOut(p.H, p.kh, p.sh, p.ph), ow = windowOut(p.W, p.kw, p.sw, p.pw);
    const g = 1.5 / Math.sqrt(p.kh * p.kw * (p.C / p.groups));
    x = b.add({
      op: 'conv2d', in: x, kh: p.kh, kw: p.kw, sh: p.sh, sw: p.sw, ph: p.ph, pw: p.pw, groups: p.groups,
      weight: uniform(r, O * p.kh * p.kw * (p.C / p.groups), -g, g), bias: p.bias ? uniform(r, O, -1, 1) : null,
    }, f32(oh, ow, O));
    let geo: TensorInfo = f32(oh, ow, O);
    if (extras.post) x = b.add({ op: 'batchnorm', in: x, ...bn(O) }, geo);
    if (extras.post) x = b.add({ op: 'activation', in: x, fn: 'relu' }, geo);
    if (extras.pool && oh >= 2 && ow >= 2) {
      geo = f32(windowOut(oh, 2, 2, 0), windowOut(ow, 2, 2, 0), O);
      x = b.add({ op: 'pool', in: x, kh: 2, kw: 2, sh: 2, sw: 2, ph: 0, pw: 0, mode: 'max', countIncludePad: false }, geo);
    }
    b.add({ op: 'flatten', in: x }, f32(1, 1, geo.h * geo.w * O, true));
    return b.build(`grouped-${p.seed}`);
  }

  it('bw_conv2d_create refuses groups that do not divide the channels', () => {
    const e = nativeEngine();
    const d = { h: 4, w: 4, c: 6, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, out_c: 6, out_h: 4, out_w: 4, groups: 3 };
    const w = new Float32Array(6 * 9 * 2);
    const h = e.conv2dCreate(d, w, null);
    assert.ok(h !== null);
    e.fconvFree(h!);
    for (const bad of [{ groups: 0 }, { groups: 4 }, { groups: 3, out_c: 4 }, { groups: -1 }]) {
      assert.equal(e.conv2dCreate({ ...d, ...bad }, w, null), null, JSON.stringify(bad));
    }
  });

  it('gives the reference bits on random shapes, with fused ops and pools, on every ISA level', async () => {
    const cases = fc.sample(gcase, { seed: 22, numRuns: 48 });
    // QuickNet's blur: depthwise 3x3 stride 2 widened to 4x4 pad 1 (TF's uneven SAME), 64+ channels
    cases.push({ H: 28, W: 28, C: 96, groups: 96, ocg: 1, kh: 4, kw: 4, sh: 2, sw: 2, ph: 1, pw: 1, bias: true, batch: 2, seed: 1 });
    cases.push({ H: 9, W: 13, C: 40, groups: 40, ocg: 2, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, bias: false, batch: 3, seed: 2 });
    cases.push({ H: 6, W: 7, C: 64, groups: 4, ocg: 40, kh: 3, kw: 3, sh: 1, sw: 2, ph: 1, pw: 0, bias: true, batch: 2, seed: 3 });
    const isa = isaControl();
    const start = isa?.current() ?? 0;
    const levels = isa ? [0, 1, 2].filter((l) => isa.supported(l)) : [start];
    try {
      for (const level of levels) {
        isa?.set(level);
        if (isa) assert.equal(nativeEngine().isa(), level);
        for (const [i, p] of cases.entries()) {
          const r = rng(p.seed);
          const extras = { pre: i % 3 === 1, post: i % 4 === 2, pool: i % 5 === 3 };
          const x = uniform(r, p.batch * p.C * p.H * p.W, -2, 2);
          await compareWithReference(model(p, r, extras), x, i % 2 ? native1 : native2, `isa ${level} case ${i} ${JSON.stringify({ ...p, ...extras })}`);
        }
      }
    } finally {
      isa?.set(start);
    }
  });
});
