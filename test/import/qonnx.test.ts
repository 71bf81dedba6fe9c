/**
 * QONNX importer: FINN's real TFC-w1a1 (third-party file, skipped with a message when
 * absent) on every backend, and synthetic QONNX graphs; onnxruntime is the independent
 * oracle once the QONNX quantisers are rewritten into standard ONNX ops.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as Ort from 'onnxruntime-node';
import { compile } from '../../host/compile/compile';
import { BconvOp, CompiledModel } from '../../host/compile/model';
import { validateModel } from '../../host/compile/validate';
import { isUserError } from '../../host/core/errors';
import { packagePath } from '../../host/core/paths';
import { loadDataset } from '../../host/data/datasets';
import {
  ATTR_TYPE, AttributeProto, decodeModel, encodeModel, GraphProto, ModelProto, NodeProto, ONNX_DTYPE, TensorProto,
} from '../../host/format/onnx-proto';
import { importQonnx, importQonnxBytes } from '../../host/import/qonnx';
import { Session } from '../../host/runtime/session';
import { loadNamedModel } from '../../host/zoo/models';
import { rng } from '../helpers/naive';
import { SHARED_MODELS } from '../helpers/shared-models';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const ort = require('onnxruntime-node') as typeof Ort;

const BIN = packagePath('bin/bitweave.js');
const TFC = path.join(SHARED_MODELS, 'qonnx', 'TFC_1W1A.onnx');
const QDOMAIN = 'qonnx.custom_op.general';

function requireTfc(ctx: Mocha.Context): void {
  if (!fs.existsSync(TFC)) {
    console.log(`      SKIPPED: FINN's TFC_1W1A.onnx not found at ${TFC} (set BITWEAVE_SHARED_MODELS)`);
    ctx.skip();
  }
}

function argmax(x: Float32Array, classes: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < x.length / classes; i++) {
    let best = 0;
    for (let k = 1; k < classes; k++) if (x[i * classes + k] > x[i * classes + best]) best = k;
    out.push(best);
  }
  return out;
}

// ---- building and rewriting ONNX graphs -----------------------------------------------

function f32Tensor(name: string, dims: number[], data: ArrayLike<number>): TensorProto {
  const a = Float32Array.from(data);
  return { name, dims, data_type: ONNX_DTYPE.FLOAT, raw_data: new Uint8Array(a.buffer) };
}

function i64Tensor(name: string, dims: number[], data: number[]): TensorProto {
  const a = BigInt64Array.from(data.map(BigInt));
  return { name, dims, data_type: ONNX_DTYPE.INT64, raw_data: new Uint8Array(a.buffer) };
}

const ints = (name: string, v: number[]): AttributeProto => ({ name, type: ATTR_TYPE.INTS, ints: v });
const int = (name: string, v: number): AttributeProto => ({ name, type: ATTR_TYPE.INT, i: v });
const str = (name: string, v: string): AttributeProto => ({ name, type: ATTR_TYPE.STRING, s: new TextEncoder().encode(v) });

function node(op: string, input: string[], output: string[], attribute: AttributeProto[] = [], domain = ''): NodeProto {
  return { op_type: op, input, output, name: output[0], attribute, domain };
}

function model(g: GraphProto, opset = 13): ModelProto {
  return { ir_version: 7, producer_name: 'bitweave-test', graph: g, opset_import: [{ domain: '', version: opset }, { domain: QDOMAIN, version: 1 }] };
}

function valueInfo(name: string, dims: number[]) {
  return { name, type: { tensor_type: { elem_type: ONNX_DTYPE.FLOAT, shape: { dim: dims.map((d) => ({ dim_value: d })) } } } };
}

/**
 * The same graph in standard ONNX: BipolarQuant(x, s) -> Where(x < 0, -s, s);
 * Quant(x, s, z, b) -> (Round(Clip(x / s + z, lo, hi)) - z) · s (Round is half to even,
 * as QONNX's ROUND). Constants get the opset the rewrite needs.
 */
function standardOnnx(m: ModelProto, opset: number): ModelProto {
  const g = m.graph!;
  const inits = [...(g.initializer ?? [])];
  const out: NodeProto[] = [];
  let k = 0;
  const scalar = (v: number) => {
    const name = `std_c${k++}`;
    inits.push(f32Tensor(name, [], [v]));
    return name;
  };
  const constOf = (name: string) => {
    const t = inits.find((x) => x.name === name)!;
    const b = Buffer.from(t.raw_data!);
    return t.data_type === ONNX_DTYPE.INT64 ? Number(b.readBigInt64LE(0)) : b.readFloatLE(0);
  };
  for (const n of g.node ?? []) {
    const [x, s, z, b] = n.input!;
    const y = n.output![0];
    const t = (suffix: string) => `${y}__std_${suffix}`;
    if (n.op_type === 'BipolarQuant') {
      out.push(node('Less', [x, scalar(0)], [t('neg')]), node('Neg', [s], [t('ms')]), node('Where', [t('neg'), t('ms'), s], [y]));
    } else if (n.op_type === 'Quant') {
      const attr = (a: string, d: number) => Number((n.attribute ?? []).find((q) => q.name === a)?.i ?? d);
      const signed = attr('signed', 1) !== 0;
      const narrow = attr('narrow', 0) !== 0;
      const bits = constOf(b);
      const lo = signed ? -(2 ** (bits - 1)) + (narrow ? 1 : 0) : 0;
      const hi = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1 - (narrow ? 1 : 0);
      out.push(
        node('Div', [x, s], [t('d')]), node('Add', [t('d'), z], [t('z')]), node('Clip', [t('z'), scalar(lo), scalar(hi)], [t('c')]),
        node('Round', [t('c')], [t('r')]), node('Sub', [t('r'), z], [t('u')]), node('Mul', [t('u'), s], [y]),
      );
    } else if (n.op_type === 'MultiThreshold' && n.input!.length === 2) {
      // n = sum_j [x >= t_j] over [N, C, T], then out_scale·n + out_bias
      const f = (name: string, d: number) => (n.attribute ?? []).find((q) => q.name === name)?.f ?? d;
      inits.push(i64Tensor(t('ax'), [1], [2]));
      out.push(
        node('Unsqueeze', [x, t('ax')], [t('u')]), node('GreaterOrEqual', [t('u'), s], [t('ge')]),
        node('Cast', [t('ge')], [t('gef')], [int('to', ONNX_DTYPE.FLOAT)]),
        node('ReduceSum', [t('gef'), t('ax')], [t('n')], [int('keepdims', 0)]),
        node('Mul', [t('n'), scalar(f('out_scale', 1))], [t('sc')]), node('Add', [t('sc'), scalar(f('out_bias', 0))], [y]),
      );
    } else {
      out.push(n);
    }
  }
  return { ...m, opset_import: [{ domain: '', version: opset }], graph: { ...g, node: out, initializer: inits } };
}

async function ortRun(m: ModelProto, inputName: string, images: Float32Array, dims: number[]): Promise<Float32Array> {
  const sess = await ort.InferenceSession.create(encodeModel(m), { intraOpNumThreads: 1, graphOptimizationLevel: 'disabled', logSeverityLevel: 3 });
  const per = dims.reduce((a, b) => a * b, 1);
  const n = images.length / per;
  const outs: Float32Array[] = [];
  for (let i = 0; i < n; i++) {
    const r = await sess.run({ [inputName]: new ort.Tensor('float32', images.subarray(i * per, (i + 1) * per), [1, ...dims]) });
    outs.push(r[sess.outputNames[0]].data as Float32Array);
  }
  const y = new Float32Array(outs.reduce((a, o) => a + o.length, 0));
  let o = 0;
  for (const r of outs) { y.set(r, o); o += r.length; }
  return y;
}

/** A small CNV-like QONNX graph: 2-bit input, binary convs with BN / max-pool, binary dense head. */
interface CnvOpts {
  inputBits?: number;
  /** Weight bits: 1 = BipolarQuant (±s), 2..4 = signed narrow Quant with one scale per output. */
  wBits?: number;
  /** Hidden activations: ±1 (default) or k-bit Quant (signed ones narrow). */
  act?: { bits: number; signed: boolean };
}

/** A small CNV-like QONNX graph: 2-bit input, binary / integer convs with BN and max-pool, a dense head. */
function cnvLike(seed: number, opts: CnvOpts = {}): ModelProto {
  const r = rng(seed);
  const inits: TensorProto[] = [];
  const nodes: NodeProto[] = [];
  const uni = (n: number, lo: number, hi: number) => Array.from({ length: n }, () => lo + (hi - lo) * r());
  const c = (name: string, dims: number[], data: ArrayLike<number>) => { inits.push(f32Tensor(name, dims, data)); return name; };
  const bq = (x: string, s: number, y: string) => nodes.push(node('BipolarQuant', [x, c(`${y}_s`, [], [s])], [y], [], QDOMAIN));
  const quant = (x: string, s: string, bits: number, signed: boolean, y: string) => nodes.push(node('Quant', [x, s, c(`${y}_z`, [], [0]), c(`${y}_b`, [], [bits])], [y],
    [int('signed', signed ? 1 : 0), int('narrow', signed ? 1 : 0), str('rounding_mode', 'ROUND')], QDOMAIN));
  const wq = (w: string, dims: number[], s: number, y: string) => {
    if ((opts.wBits ?? 1) === 1) return bq(w, s, y);
    const O = dims[0];
    return quant(w, c(`${y}_s`, [O, ...dims.slice(1).map(() => 1)], uni(O, 0.2, 0.6)), opts.wBits!, true, y);
  };
  const aq = (x: string, y: string) => (opts.act ? quant(x, c(`${y}_s`, [], [0.5]), opts.act.bits, opts.act.signed, y) : bq(x, 1, y));
  const bn = (x: string, C: number, y: string, center: number, spread: number) => nodes.push(node('BatchNormalization', [
    x, c(`${y}_g`, [C], uni(C, 0.5, 1.5).map((v, i) => (i % 5 === 4 ? -v : v))), c(`${y}_b`, [C], uni(C, -0.3, 0.3)),
    c(`${y}_m`, [C], uni(C, center - spread, center + spread)), c(`${y}_v`, [C], uni(C, spread * spread, 2 * spread * spread)),
  ], [y]));
  const bits = opts.inputBits ?? 2;
  // 2-bit unsigned input quantiser with scale 1/3: levels 0..3 of x in [0, 1]
  nodes.push(node('Quant', ['x', c('qs', [], [1 / 3]), c('qz', [], [0]), c('qb', [], [bits])], ['xq'], [int('signed', 0), int('narrow', 0), str('rounding_mode', 'ROUND')], QDOMAIN));
  wq(c('w1', [8, 3, 3, 3], uni(8 * 27, -1, 1)), [8, 3, 3, 3], 1, 'w1q');
  nodes.push(node('Conv', ['xq', 'w1q'], ['c1'], [ints('kernel_shape', [3, 3]), ints('pads', [1, 1, 1, 1]), ints('strides', [1, 1])]));
  bn('c1', 8, 'n1', 0, 4);
  aq('n1', 'a1');
  wq(c('w2', [12, 8, 3, 3], uni(12 * 72, -1, 1)), [12, 8, 3, 3], 0.5, 'w2q');
  nodes.push(node('Conv', ['a1', 'w2q'], ['c2'], [ints('kernel_shape', [3, 3])]));
  nodes.push(node('MaxPool', ['c2'], ['p2'], [ints('kernel_shape', [2, 2]), ints('strides', [2, 2])]));
  bn('p2', 12, 'n2', 0, 4);
  aq('n2', 'a2');
  nodes.push(node('Shape', ['a2'], ['sh']), node('Gather', ['sh', 'zero'], ['g0'], [int('axis', 0)]));
  inits.push(i64Tensor('zero', [], [0]));
  nodes.push(node('Unsqueeze', ['g0', 'ax0'], ['g1']), node('Concat', ['g1', 'minus1'], ['shape'], [int('axis', 0)]));
  inits.push(i64Tensor('ax0', [1], [0]), i64Tensor('minus1', [1], [-1]));
  nodes.push(node('Reshape', ['a2', 'shape'], ['flat']));
  wq(c('w3', [10, 12 * 3 * 3], uni(10 * 108, -1, 1)), [10, 108], 1, 'w3q');
  nodes.push(node('Gemm', ['flat', 'w3q', c('b3', [10], uni(10, -1, 1))], ['logits'], [int('transB', 1)]));
  return model({
    name: 'cnv-like', node: nodes, initializer: inits,
    input: [valueInfo('x', [1, 3, 8, 8])], output: [valueInfo('logits', [1, 10])],
  });
}

// ---- the real TFC-w1a1 --------------------------------------------------------------

describe('QONNX import: FINN TFC-w1a1 (real third-party file)', function () {
  let m: CompiledModel;

  before(function () {
    requireTfc(this);
    m = compile(importQonnx(TFC).graph);
  });

  it('compiles to host preprocessing -> one device segment of four binary layers -> host TensorNorm', () => {
    assert.deepEqual(m.segments.map((s) => s.kind), ['host', 'device', 'host']);
    const b = m.ops.filter((o): o is BconvOp => o.op === 'bconv');
    assert.deepEqual(b.map((o) => [o.outC, o.epilogue.kind]), [[64, 'threshold'], [64, 'threshold'], [64, 'threshold'], [10, 'int']]);
    assert.ok(m.ops.some((o) => o.op === 'batchnorm'), 'the input Mul/Sub stays in the model');
    assert.equal(m.tensors[m.input].c, 1);
    assert.equal(m.tensors[m.input].h, 28);
  });

  it('classifies the 10,000 MNIST digits at >= 92%, bit-identical on reference, native, opencl, hls-csim, verilator and axi-sim', async function () {
    this.timeout(600000);
    const ds = loadDataset('mnist');
    const ref = await (await Session.create(m, { backend: 'reference' })).run(ds.images);
    const acc = argmax(ref.logits, 10).filter((p, i) => p === ds.labels[i]).length / ds.count;
    console.log(`      TFC_1W1A on ${ds.count} digits: ${(acc * 100).toFixed(2)}% (published 93.17% on the official test split)`);
    assert.ok(acc >= 0.92, `accuracy ${acc}`);
    for (const backend of ['native', 'opencl', 'hls-csim', 'verilator', 'axi-sim'] as const) {
      const s = await Session.create(m, { backend });
      try {
        const r = await s.run(ds.images);
        assert.ok(Buffer.from(r.logits.buffer).equals(Buffer.from(ref.logits.buffer)), `${backend} logits differ from the reference`);
      } finally {
        await s.close();
      }
    }
  });

  it('agrees with onnxruntime running the same graph with the quantisers in standard ONNX', async function () {
    this.timeout(120000);
    const ds = loadDataset('mnist', { limit: 500 });
    const std = standardOnnx(decodeModel(fs.readFileSync(TFC), TFC), 9);
    const want = await ortRun(std, '0', ds.images, [1, 28, 28]);
    const got = (await (await Session.create(m, { backend: 'native' })).run(ds.images)).logits;
    const pw = argmax(want, 10);
    const pg = argmax(got, 10);
    let maxDiff = 0;
    for (let i = 0; i < want.length; i++) maxDiff = Math.max(maxDiff, Math.abs(want[i] - got[i]));
    console.log(`      ${ds.count} digits: max |logit diff| vs onnxruntime ${maxDiff.toExponential(2)}`);
    assert.deepEqual(pg, pw);
    assert.ok(maxDiff < 1e-4, `logits differ by ${maxDiff}`);
  });

  it('projects on pynq-z1 exactly as the zoo topology tfc-w1a1 (the zoo network is FINN\'s TFC, layer for layer)', () => {
    const proj = (model: string) => {
      const r = spawnSync(process.execPath, [BIN, 'project', model, '--board', 'pynq-z1', '--json'], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout.trim().split('\n')[0]);
    };
    const real = proj(TFC);
    const zoo = proj('tfc-w1a1');
    assert.equal(real.projected, true);
    assert.equal(real.cyclesPerImage, zoo.cyclesPerImage);
    assert.equal(real.imagesPerSecond, zoo.imagesPerSecond);
  });

  it('runs through the CLI: inspect and eval --json', () => {
    const ins = spawnSync(process.execPath, [BIN, 'inspect', TFC], { encoding: 'utf8' });
    assert.equal(ins.status, 0, ins.stderr);
    assert.match(ins.stdout, /qonnx: TFC_1W1A\.onnx/);
    assert.match(ins.stdout, /segments: host\[0\.\.4\] device\[5\.\.8\] host\[9\.\.14\]/);
    const ev = spawnSync(process.execPath, [BIN, 'eval', TFC, '--dataset', 'mnist', '--limit', '1000', '--backend', 'native', '--json'], { encoding: 'utf8' });
    assert.equal(ev.status, 0, ev.stderr);
    const j = JSON.parse(ev.stdout);
    assert.equal(j.images, 1000);
    assert.ok(j.accuracy > 0.9, `accuracy ${j.accuracy}`);
  });
});

// ---- synthetic QONNX graphs -----------------------------------------------------------

describe('QONNX import: synthetic graphs against onnxruntime', () => {
  const variants: Array<[string, CnvOpts]> = [
    ['w1a1', {}],
    ['w2a2 (signed narrow 2-bit weights and activations, per-channel weight scales)', { wBits: 2, act: { bits: 2, signed: true } }],
    ['w3a2 (unsigned 2-bit activations)', { wBits: 3, act: { bits: 2, signed: false } }],
    ['w1a3 (±1 weights, signed 3-bit activations)', { act: { bits: 3, signed: true } }],
    ['w4a1 (4-bit weights, ±1 activations)', { wBits: 4 }],
  ];
  for (const [name, opts] of variants) {
    for (const seed of name === 'w1a1' ? [1, 2, 3] : [1]) {
      it(`a CNV-like graph ${name} (2-bit input, BN, max-pool, folded shape chain, Gemm), seed ${seed}`, async function () {
        this.timeout(120000);
        const src = cnvLike(seed, opts);
        const { graph } = importQonnxBytes(encodeModel(src), 'cnv-like.onnx');
        const m = compile(graph);
        const b = m.ops.filter((o): o is BconvOp => o.op === 'bconv');
        assert.equal(b.length, 3, 'three binary / integer layers on the array');
        const ab = opts.act?.bits ?? 1;
        assert.deepEqual(b.map((o) => o.inBits), [2, ab, ab]);
        assert.deepEqual(b.map((o) => o.wBits ?? 1), Array(3).fill(opts.wBits ?? 1));
        assert.equal(b[0].padBit, 0, 'zero padding of an unsigned input is level 0');
        assert.ok(b[1].pool, 'the max-pool runs on integers in the array');
        assert.equal(b[0].epilogue.kind, 'threshold', 'BN and the next quantiser fold into thresholds');
        const r = rng(100 + seed);
        const n = 40;
        const x = Float32Array.from({ length: n * 3 * 64 }, () => r());
        const want = await ortRun(standardOnnx(src, 13), 'x', x, [3, 8, 8]);
        const got = (await (await Session.create(m, { backend: 'reference' })).run(x)).logits;
        let maxDiff = 0;
        for (let i = 0; i < want.length; i++) maxDiff = Math.max(maxDiff, Math.abs(want[i] - got[i]));
        assert.ok(maxDiff < 1e-4, `logits differ from onnxruntime by ${maxDiff}`);
        const nat = (await (await Session.create(m, { backend: 'native' })).run(x)).logits;
        assert.ok(Buffer.from(nat.buffer).equals(Buffer.from(got.buffer)), 'native differs from the reference');
      });
    }
  }

  it('a wrong weight sign is caught by the comparison (the oracle can fail)', async function () {
    this.timeout(60000);
    const src = cnvLike(1);
    const bad = decodeModel(encodeModel(src), 'x');
    const w = bad.graph!.initializer!.find((t) => t.name === 'w3')!;
    const f = new Float32Array(Uint8Array.from(w.raw_data!).buffer);
    for (let i = 0; i < 20; i++) f[i] = -f[i];
    w.raw_data = new Uint8Array(f.buffer);
    const m = compile(importQonnxBytes(encodeModel(bad), 'bad.onnx').graph);
    const x = Float32Array.from({ length: 10 * 192 }, (_, i) => (i % 7) / 7);
    const want = await ortRun(standardOnnx(src, 13), 'x', x, [3, 8, 8]);
    const got = (await (await Session.create(m, { backend: 'reference' })).run(x)).logits;
    let maxDiff = 0;
    for (let i = 0; i < want.length; i++) maxDiff = Math.max(maxDiff, Math.abs(want[i] - got[i]));
    assert.ok(maxDiff > 0.1, 'flipped weights must change the logits');
  });

  it('MultiThreshold with 3 thresholds (UINT2 and INT2 levels) folds into the producing layer\'s thresholds; matches onnxruntime', async function () {
    this.timeout(60000);
    const r = rng(11);
    const pm = (n: number) => Array.from({ length: n }, () => (r() < 0.5 ? -1 : 1));
    const sortedT = (C: number, lo: number, hi: number) => Array.from({ length: C }, () => Array.from({ length: 3 }, () => lo + (hi - lo) * r()).sort((p, q) => p - q)).flat();
    const inits = [
      f32Tensor('one', [], [1]),
      f32Tensor('w1', [24, 20], pm(480)), f32Tensor('t1', [24, 3], sortedT(24, -6, 6)),
      f32Tensor('w2', [16, 24], pm(384)), f32Tensor('t2', [16, 3], sortedT(16, -12, 12)),
      f32Tensor('w3', [10, 16], pm(160)),
    ];
    const mt = (x: string, th: string, y: string, bias: number) =>
      node('MultiThreshold', [x, th], [y], [{ name: 'out_scale', type: ATTR_TYPE.FLOAT, f: 0.5 }, { name: 'out_bias', type: ATTR_TYPE.FLOAT, f: bias }], 'qonnx.custom_op.general');
    const g: GraphProto = {
      name: 'mt3', initializer: inits,
      node: [
        node('BipolarQuant', ['x', 'one'], ['xb'], [], QDOMAIN),
        node('BipolarQuant', ['w1', 'one'], ['w1q'], [], QDOMAIN), node('Gemm', ['xb', 'w1q'], ['h1'], [int('transB', 1)]),
        mt('h1', 't1', 'a1', 0), // UINT2: 0.5·n
        node('BipolarQuant', ['w2', 'one'], ['w2q'], [], QDOMAIN), node('Gemm', ['a1', 'w2q'], ['h2'], [int('transB', 1)]),
        mt('h2', 't2', 'a2', -1), // INT2: 0.5·(n - 2)
        node('BipolarQuant', ['w3', 'one'], ['w3q'], [], QDOMAIN), node('Gemm', ['a2', 'w3q'], ['y'], [int('transB', 1)]),
      ],
      input: [valueInfo('x', [1, 20])], output: [valueInfo('y', [1, 10])],
    };
    const src = model(g);
    const m = compile(importQonnxBytes(encodeModel(src), 'mt3.onnx').graph);
    const b = m.ops.filter((o): o is BconvOp => o.op === 'bconv');
    assert.deepEqual(b.map((o) => [o.inBits, o.epilogue.kind]), [[1, 'threshold'], [2, 'threshold'], [2, 'int']]);
    assert.equal(m.tensors[b[1].in].signed, undefined, 'UINT2 levels');
    assert.equal(m.tensors[b[2].in].signed, true, 'INT2 levels');
    assert.ok(!m.ops.some((o) => o.op === 'batchnorm' && m.opNames[m.ops.indexOf(o)].startsWith('MultiThreshold')));
    const x = Float32Array.from({ length: 20 * 60 }, () => r() * 2 - 1);
    const want = await ortRun(standardOnnx(src, 13), 'x', x, [20]);
    const got = (await (await Session.create(m, { backend: 'reference' })).run(x)).logits;
    assert.deepEqual(Array.from(got), Array.from(want), 'integer logits equal onnxruntime\'s');
    const nat = (await (await Session.create(m, { backend: 'native' })).run(x)).logits;
    assert.ok(Buffer.from(nat.buffer).equals(Buffer.from(got.buffer)), 'native differs from the reference');
    // a MultiThreshold that has no binary layer before it cannot fold: one line naming it
    const g2: GraphProto = { ...g, node: [mt('x', 't1x', 'a0', 0), ...g.node!.slice(2)], initializer: [...inits, f32Tensor('t1x', [20, 3], sortedT(20, -1, 1))] };
    g2.node![1] = node('Gemm', ['a0', 'w1q'], ['h1'], [int('transB', 1)]);
    g2.node!.splice(1, 0, node('BipolarQuant', ['w1', 'one'], ['w1q'], [], QDOMAIN));
    assert.throws(() => compile(importQonnxBytes(encodeModel(model(g2)), 'mt0.onnx').graph),
      /node 'a0' \(MultiThreshold\): 3 thresholds per channel run only between two binary layers, folded into the first one's thresholds \(here it is not: no binary layer produces its input through per-channel steps\)/);
  });

  it('MultiThreshold with one threshold per channel becomes the binary activation', async function () {
    const r = rng(7);
    const inits = [
      f32Tensor('w', [16, 6], Array.from({ length: 96 }, () => (r() < 0.5 ? -1 : 1))),
      f32Tensor('t', [6, 1], Array.from({ length: 6 }, () => r() - 0.5)),
      f32Tensor('ws', [], [1]),
    ];
    const g: GraphProto = {
      name: 'mt', initializer: inits,
      node: [
        node('MultiThreshold', ['x', 't'], ['b'], [str('out_dtype', 'BIPOLAR'), { name: 'out_scale', type: ATTR_TYPE.FLOAT, f: 2 }, { name: 'out_bias', type: ATTR_TYPE.FLOAT, f: -1 }], 'qonnx.custom_op.general'),
        node('BipolarQuant', ['w', 'ws'], ['wq'], [], QDOMAIN),
        node('Gemm', ['b', 'wq'], ['y'], [int('transB', 1)]),
      ],
      input: [valueInfo('x', [1, 6])], output: [valueInfo('y', [1, 16])],
    };
    const m = compile(importQonnxBytes(encodeModel(model(g)), 'mt.onnx').graph);
    assert.equal(m.ops.filter((o) => o.op === 'bconv').length, 1);
    const x = Float32Array.from({ length: 6 * 50 }, () => r() - 0.5);
    const got = (await (await Session.create(m, { backend: 'reference' })).run(x)).logits;
    const tv = new Float32Array(Uint8Array.from(inits[1].raw_data!).buffer);
    const wv = new Float32Array(Uint8Array.from(inits[0].raw_data!).buffer);
    for (let i = 0; i < 50; i++) {
      for (let o = 0; o < 16; o++) {
        let acc = 0;
        for (let k = 0; k < 6; k++) acc += (x[i * 6 + k] >= tv[k] ? 1 : -1) * wv[o * 6 + k];
        assert.equal(got[i * 16 + o], acc, `image ${i} output ${o}`);
      }
    }
  });
});

// ---- bad input ----------------------------------------------------------------------------

describe('QONNX import: bad input is one clear error', () => {
  const tfcLike = (mutate: (g: GraphProto) => void): Uint8Array => {
    const src = decodeModel(encodeModel(cnvLike(1)), 'x');
    mutate(src.graph!);
    return encodeModel(src);
  };
  const cases: Array<[string, () => Uint8Array, RegExp]> = [
    ['malformed protobuf', () => Uint8Array.of(0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01), /bad\.onnx: not a valid ONNX protobuf/],
    ['no graph', () => encodeModel({ ir_version: 7 }), /no graph/],
    ['missing initializer', () => tfcLike((g) => { g.initializer = g.initializer!.filter((t) => t.name !== 'w2'); }), /input 'w2' is neither/],
    ['activation bit width 9', () => tfcLike((g) => { g.initializer!.find((t) => t.name === 'qb')!.raw_data = new Uint8Array(Float32Array.of(9).buffer); }), /bit width 9 is outside the supported range 1\.\.8/],
    ['scale of zero', () => tfcLike((g) => { g.initializer!.find((t) => t.name === 'qs')!.raw_data = new Uint8Array(Float32Array.of(0).buffer); }), /scale 0 must be finite and positive/],
    ['scale NaN', () => tfcLike((g) => { g.initializer!.find((t) => t.name === 'w2q_s')!.raw_data = new Uint8Array(Float32Array.of(NaN).buffer); }), /scale NaN must be finite and positive/],
    ['unsupported op', () => tfcLike((g) => { g.node!.find((n) => n.op_type === 'MaxPool')!.op_type = 'LpPool'; }), /node 'p2' \(LpPool\): op LpPool is not supported/],
    ['unsupported attribute', () => tfcLike((g) => { g.node!.find((n) => n.op_type === 'Conv' && n.output![0] === 'c2')!.attribute!.push(int('group', 2)); }), /node 'c2' \(Conv\): group=2 is not supported/],
    ['shape not constant-foldable', () => tfcLike((g) => { g.node!.find((n) => n.op_type === 'Reshape')!.input![1] = 'a2'; }), /node 'flat' \(Reshape\): shape \(input 1\) must be a constant/],
    ['dims of 10^12 elements with 12 bytes', () => tfcLike((g) => { const t = g.initializer!.find((x) => x.name === 'w1')!; t.dims = [1000000, 1000000]; t.raw_data = new Uint8Array(12); }), /raw_data holds 12 bytes, \[1000000, 1000000\] needs 4000000000000/],
    ['a value defined twice', () => tfcLike((g) => { g.node!.find((n) => n.op_type === 'MaxPool')!.output = ['c1']; }), /node 'p2' \(MaxPool\): value 'c1' is defined twice/],
    ['raw_data of the wrong size', () => tfcLike((g) => { g.initializer!.find((t) => t.name === 'w1')!.raw_data = new Uint8Array(12); }), /initializer 'w1': raw_data holds 12 bytes/],
  ];
  for (const [what, make, re] of cases) {
    it(what, () => {
      assert.throws(() => compile(importQonnxBytes(make(), 'bad.onnx').graph), (e: Error) => {
        assert.equal(e.name === 'FormatError' || e.name === 'UnsupportedError', true, `${e.name}: ${e.message}`);
        assert.match(e.message, re);
        assert.ok(!e.message.includes('\n'), 'one line');
        return true;
      });
    });
  }

  it('fuzz: 600 byte-level mutations of a valid model give a model or a user error, never a crash', () => {
    const whole = encodeModel(cnvLike(1));
    const r = rng(99);
    const kinds = new Map<string, number>();
    for (let i = 0; i < 600; i++) {
      const b = Uint8Array.from(whole);
      const edits = 1 + Math.floor(r() * 4);
      for (let e = 0; e < edits; e++) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
      const cut = r() < 0.2 ? b.subarray(0, Math.floor(r() * b.length)) : b;
      let kind = 'ok';
      try {
        validateModel(compile(importQonnxBytes(cut, 'fuzz.onnx').graph), 'fuzz.onnx');
      } catch (e) {
        assert.ok(isUserError(e), `mutation ${i}: ${(e as Error).stack}`);
        assert.ok(!(e as Error).message.includes('\n'), 'one line');
        kind = (e as Error).name;
      }
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    }
    console.log(`      outcomes: ${[...kinds].map(([k, v]) => `${k} ${v}`).join(', ')}`);
  });

  it('the CLI prints one line and exits 1 (truncated file, unsupported op)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bw-qonnx-'));
    try {
      const whole = encodeModel(cnvLike(1));
      const cut = path.join(dir, 'cut.onnx');
      fs.writeFileSync(cut, whole.subarray(0, Math.floor(whole.length / 2)));
      const lp = path.join(dir, 'lp.onnx');
      fs.writeFileSync(lp, tfcLike((g) => { g.node!.find((n) => n.op_type === 'MaxPool')!.op_type = 'LpPool'; }));
      for (const [file, re] of [[cut, /cut\.onnx: not a valid ONNX protobuf/], [lp, /op LpPool is not supported/]] as const) {
        const r = spawnSync(process.execPath, [BIN, 'inspect', file], { encoding: 'utf8' });
        assert.equal(r.status, 1, r.stderr);
        assert.match(r.stderr, re);
        assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      }
      const ok = path.join(dir, 'ok.onnx');
      fs.writeFileSync(ok, whole);
      const conv = spawnSync(process.execPath, [BIN, 'convert', ok, '-o', path.join(dir, 'ok.bnn')], { encoding: 'utf8' });
      assert.equal(conv.status, 0, conv.stderr);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('loadNamedModel refuses options that do not apply to an ONNX model', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bw-qonnx-'));
    try {
      const f = path.join(dir, 'm.onnx');
      fs.writeFileSync(f, encodeModel(cnvLike(1)));
      await assert.rejects(loadNamedModel(f, { seed: 3 }), /--seed does not apply to an ONNX model/);
      const m = await loadNamedModel(f);
      assert.equal(m.name, 'm');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
