/**
 * export-onnx, checked with onnxruntime as an independent oracle: its logits on the
 * exported float network must match the reference backend's.
 *
 * Soundness: a different float summation order can move a value across a binarisation
 * boundary and legitimately change the logits a lot. So
 *  - inputs and the first float layers lie on a 2^-6 grid, making their float32 sums exact
 *    in any order (and binary layers are integer-exact anyway);
 *  - the exporter can output the float input of every binarisation ("probes"): each must
 *    match the reference (bit for bit where no transcendental op precedes it, to a few
 *    ulps otherwise), and an image whose binarised levels differ anywhere is excused
 *    from the logits comparison only if every differing element is a near-tie (the two
 *    values within that tolerance of each other, on opposite sides of a boundary);
 *  - every other image must match to float tolerance, which covers only tanh/sigmoid
 *    (onnxruntime's differ from bitweave's deterministic ones in the last ulps) and the
 *    summation order of the float head after the last binarisation.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as Ort from 'onnxruntime-node';
import { bconv } from '../../host/backends/reference/bconv';
import { runHostOp } from '../../host/backends/reference/float-ops';
import { quantizeLevel } from '../../host/core/scalar';
import { benchModel } from '../../host/bench/model';
import { compile } from '../../host/compile/compile';
import { BconvOp, CompiledModel, HostOp, TensorInfo } from '../../host/compile/model';
import { loadDataset } from '../../host/data/datasets';
import { exportOnnx, exportOnnxModel, ONNX_IR_VERSION, ONNX_OPSET, OnnxExport } from '../../host/export/onnx';
import { decodeModel as decodeOnnx, int64, ValueInfoProto } from '../../host/format/onnx-proto';
import { writeBnn } from '../../host/format/bnn';
import { importBmxnet } from '../../host/import/bmxnet';
import { IRGraph, IRNode, Shape } from '../../host/ir/graph';
import { inferShape } from '../../host/ir/shapes';
import { TensorData } from '../../host/runtime/backend';
import { Session } from '../../host/runtime/session';
import { resnet18Cifar, resnet18Imagenet } from '../../host/zoo/resnet';
import { tinyModel } from '../fixtures/tiny-model';
import { randomModel } from '../helpers/random-model';
import { BconvCase, bconvModel, caseFits, randomInput } from '../helpers/native-models';
import { bmxnetMnist, requireBmxnetMnist } from '../helpers/shared-models';
import { rng } from '../helpers/naive';
import { packagePath } from '../../host/core/paths';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const ort = require('onnxruntime-node') as typeof Ort;

const BIN = packagePath('bin/bitweave.js');

// ---- helpers: the reference with every tensor kept ---------------------------------------

function toNHWC(x: Float32Array, n: number, c: number, h: number, w: number): Float32Array {
  const y = new Float32Array(x.length);
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++)
      for (let i = 0; i < h * w; i++) y[(b * h * w + i) * c + ch] = x[(b * c + ch) * h * w + i];
  return y;
}

/** Run every op of the reference engine on a batch, keeping all tensors. */
function referenceTrace(m: CompiledModel, nchw: Float32Array, n: number): Map<number, TensorData> {
  const ti = m.tensors[m.input];
  const t = new Map<number, TensorData>([[m.input, toNHWC(nchw, n, ti.c, ti.h, ti.w)]]);
  for (const op of m.ops) {
    if (op.op === 'bconv') t.set(op.out, bconv(op, m.tensors[op.in], m.tensors[op.out], t.get(op.in) as Uint32Array, n));
    else t.set(op.out, runHostOp(op as HostOp, m, t, n));
  }
  return t;
}

/** A probe value in the exporter's layout ([N, c, h, w], or [N, features] in HWC order). */
function probeLayout(x: Float32Array, info: TensorInfo, shape: number[], n: number): Float32Array {
  return shape.length === 3 ? nchwOf(x, n, info) : x;
}

function nchwOf(x: Float32Array, n: number, { h, w, c }: TensorInfo): Float32Array {
  const y = new Float32Array(x.length);
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++)
      for (let i = 0; i < h * w; i++) y[(b * c + ch) * h * w + i] = x[(b * h * w + i) * c + ch];
  return y;
}

/** Images on a 2^-6 grid in [0, 1): exact inputs for dyadic first layers. */
function dyadicImages(seed: number, count: number, shape: number[]): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: count * shape.reduce((a, b) => a * b, 1) }, () => Math.floor(r() * 64) / 64);
}

/** Round the float layers before the first binarisation to a 2^-6 grid (exact sums). */
function dyadicFirstLayers(g: IRGraph): IRGraph {
  for (const n of g.nodes) {
    if (n.op === 'QConvolution' || n.op === 'QFullyConnected') break;
    if (n.op === 'Convolution' || n.op === 'FullyConnected') {
      n.weight = n.weight.map((v) => Math.round(v * 64) / 64);
      if (n.bias) n.bias = n.bias.map((v) => Math.round(v * 64) / 64);
    }
  }
  return g;
}

async function ortSession(bytes: Uint8Array, level: 'disabled' | 'all' = 'all'): Promise<Ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, { graphOptimizationLevel: level, intraOpNumThreads: 1, interOpNumThreads: 1 });
}

interface Comparison {
  images: number;
  /** Images excused from the logits check by a near-tie at a binarisation. */
  tieImages: number;
  /** Probe elements whose level differed (all near-ties). */
  tieElements: number;
  maxLogitDiff: number;
  maxProbeDiff: number;
}

interface CompareOptions {
  /** Binarisation inputs must be bit-identical (no transcendental op before them). */
  exactProbes?: boolean;
  /** Probe tolerance relative to max(1, |x|) when not exact (default 1e-5). */
  probeTol?: number;
  /** Logit tolerance relative to max(1, max |logit| of the image) (default 2e-5). */
  logitTol?: number;
  ex?: OnnxExport;
  level?: 'disabled' | 'all';
}

/** onnxruntime on the exported float network vs the reference backend (see the file comment). */
async function compareWithOrt(m: CompiledModel, input: Float32Array, n: number, o: CompareOptions = {}): Promise<Comparison> {
  const ex = o.ex ?? exportOnnxModel(m, { probes: true });
  const s = await ortSession(ex.bytes, o.level);
  const [C, H, W] = ex.input.shape;
  const outs = await s.run({ [ex.input.name]: new ort.Tensor('float32', input, [n, C, H, W]) });
  await s.release();
  const trace = referenceTrace(m, input, n);
  const probeTol = o.probeTol ?? 1e-5;
  const logitTol = o.logitTol ?? 2e-5;
  const tied = new Set<number>();
  let tieElements = 0;
  let maxProbeDiff = 0;
  for (const p of ex.probes) {
    const ref = probeLayout(trace.get(p.tensor) as Float32Array, m.tensors[p.tensor], p.shape, n);
    const got = outs[p.name].data as Float32Array;
    assert.deepEqual(outs[p.name].dims, [n, ...p.shape], `probe ${p.name} shape`);
    assert.equal(got.length, ref.length, `probe ${p.name} size`);
    const per = ref.length / n;
    for (let i = 0; i < ref.length; i++) {
      const d = Math.abs(ref[i] - got[i]);
      maxProbeDiff = Math.max(maxProbeDiff, d);
      if (o.exactProbes) {
        assert.ok(Object.is(ref[i], got[i]) || ref[i] === got[i], `probe ${p.name}[${i}]: onnxruntime ${got[i]} != reference ${ref[i]} (exact path)`);
        continue;
      }
      assert.ok(d <= probeTol * Math.max(1, Math.abs(ref[i])), `probe ${p.name}[${i}]: onnxruntime ${got[i]} vs reference ${ref[i]}`);
      const la = quantizeLevel(ref[i], p.bits);
      const lb = quantizeLevel(got[i], p.bits);
      if (la !== lb) {
        // a near-tie: the values agree to tolerance yet straddle a boundary, one level apart
        assert.equal(Math.abs(la - lb), 1, `probe ${p.name}[${i}] levels ${la} vs ${lb}`);
        tied.add(Math.floor(i / per));
        tieElements++;
      }
    }
  }
  const ref = trace.get(m.output) as Float32Array;
  const got = outs[ex.output.name].data as Float32Array;
  const classes = ref.length / n;
  assert.deepEqual(outs[ex.output.name].dims, [n, classes], 'logits shape');
  let maxLogitDiff = 0;
  for (let b = 0; b < n; b++) {
    if (tied.has(b)) continue;
    const row = ref.subarray(b * classes, (b + 1) * classes);
    const scale = Math.max(1, ...Array.from(row, Math.abs));
    for (let k = 0; k < classes; k++) {
      const d = Math.abs(row[k] - got[b * classes + k]);
      maxLogitDiff = Math.max(maxLogitDiff, d);
      assert.ok(d <= logitTol * scale, `image ${b} logit ${k}: onnxruntime ${got[b * classes + k]} vs reference ${row[k]}`);
    }
  }
  // ties are rare events, not a way to excuse a broken export
  assert.ok(tied.size <= Math.max(1, n / 4), `${tied.size} of ${n} images hit a binarisation tie`);
  return { images: n, tieImages: tied.size, tieElements, maxLogitDiff, maxProbeDiff };
}

// ---- helpers: decoding the ModelProto for structural checks ------------------------------

interface DecodedNode {
  op: string;
  name: string;
  inputs: string[];
  outputs: string[];
  domain: string;
}
interface DecodedTensor {
  name: string;
  dims: number[];
  type: number;
  rawBytes: number;
}
interface DecodedValue {
  name: string;
  elemType: number;
  dims: (number | string)[];
}
interface DecodedModel {
  irVersion: number;
  opsets: { domain: string; version: number }[];
  producer: string;
  nodes: DecodedNode[];
  inits: DecodedTensor[];
  inputs: DecodedValue[];
  outputs: DecodedValue[];
}

function decodeValue(v: ValueInfoProto): DecodedValue {
  const t = v.type!.tensor_type!;
  const dims = (t.shape!.dim ?? []).map((d) => (d.dim_param !== undefined ? d.dim_param : int64(d.dim_value, 'dim')));
  return { name: v.name!, elemType: t.elem_type!, dims };
}

function decodeModel(bytes: Uint8Array): DecodedModel {
  const m = decodeOnnx(bytes, 'export');
  const g = m.graph!;
  return {
    irVersion: int64(m.ir_version, 'ir_version'),
    producer: m.producer_name!,
    opsets: (m.opset_import ?? []).map((o) => ({ domain: o.domain ?? '', version: int64(o.version, 'opset') })),
    nodes: (g.node ?? []).map((n) => ({
      op: n.op_type!, name: n.name ?? '', inputs: n.input ?? [], outputs: n.output ?? [], domain: n.domain ?? '',
    })),
    inits: (g.initializer ?? []).map((t) => ({
      name: t.name!, dims: (t.dims ?? []).map((d) => int64(d, 'dims')), type: t.data_type!, rawBytes: t.raw_data?.length ?? -1,
    })),
    inputs: (g.input ?? []).map(decodeValue),
    outputs: (g.output ?? []).map(decodeValue),
  };
}

/** Operators of the default ONNX domain available at opset 13 that the exporter may use. */
const OPSET13_OPS = new Set([
  'Conv', 'Gemm', 'Sub', 'Mul', 'Add', 'Div', 'Tanh', 'Relu', 'Sigmoid', 'MaxPool', 'AveragePool', 'Transpose', 'Flatten',
  'Unsqueeze', 'GreaterOrEqual', 'Where', 'Cast', 'ReduceSum', 'Pad', 'Clip', 'Floor', 'Identity',
]);

/** Structural checks every export must pass. */
function checkStructure(bytes: Uint8Array, m: CompiledModel): DecodedModel {
  const d = decodeModel(bytes);
  assert.equal(d.irVersion, ONNX_IR_VERSION);
  assert.equal(d.producer, 'bitweave');
  assert.deepEqual(d.opsets, [{ domain: '', version: ONNX_OPSET }]);
  const ti = m.tensors[m.input];
  const to = m.tensors[m.output];
  assert.deepEqual(d.inputs, [{ name: 'data', elemType: 1, dims: ['N', ti.c, ti.h, ti.w] }]);
  assert.deepEqual(d.outputs[0], { name: 'logits', elemType: 1, dims: ['N', to.h * to.w * to.c] });
  // names are unique; nodes are topologically sorted; every value is defined once
  const defined = new Set<string>(['data']);
  const initNames = new Set<string>();
  for (const t of d.inits) {
    assert.ok(!defined.has(t.name), `initializer ${t.name} defined twice`);
    defined.add(t.name);
    initNames.add(t.name);
    const size = t.dims.reduce((a, b) => a * b, 1) * (t.type === 1 ? 4 : t.type === 7 ? 8 : NaN);
    assert.equal(t.rawBytes, size, `initializer ${t.name} [${t.dims}] holds ${t.rawBytes} bytes`);
  }
  const used = new Set<string>();
  const nodeNames = new Set<string>();
  for (const n of d.nodes) {
    assert.equal(n.domain, '', `node ${n.name} uses the default domain`);
    assert.ok(OPSET13_OPS.has(n.op), `node ${n.name}: unexpected op ${n.op}`);
    assert.ok(!nodeNames.has(n.name), `node name ${n.name} repeated`);
    nodeNames.add(n.name);
    for (const i of n.inputs) {
      assert.ok(defined.has(i), `node ${n.name} (${n.op}) reads ${i} before it is defined`);
      used.add(i);
    }
    for (const o of n.outputs) {
      assert.ok(!defined.has(o), `value ${o} written twice`);
      defined.add(o);
    }
  }
  for (const name of initNames) assert.ok(used.has(name), `initializer ${name} is never used`);
  for (const o of d.outputs) assert.ok(defined.has(o.name), `graph output ${o.name} is not produced`);
  return d;
}

// ---- an IR graph that makes the compiler emit every op kind and variant -------------------

function everyOpGraph(seed: number): IRGraph {
  const r = rng(seed);
  const nodes: IRNode[] = [];
  const grid = (n: number, lo: number, hi: number) => Float32Array.from({ length: n }, () => Math.round((lo + (hi - lo) * r()) * 64) / 64);
  const uniform = (n: number, lo: number, hi: number) => Float32Array.from({ length: n }, () => lo + (hi - lo) * r());
  const signs = (n: number) => Float32Array.from({ length: n }, () => (r() < 0.5 ? -1 : 1));
  type Spec = { op: IRNode['op']; name: string; inputs: string[]; [k: string]: unknown };
  const add = (s: Spec): string => {
    const node = { ...s, shape: [] } as unknown as IRNode;
    node.shape = s.op === 'Input' ? (s.shape as Shape) : inferShape(node, s.inputs.map((i) => nodes.find((x) => x.name === i)!.shape));
    nodes.push(node);
    return node.name;
  };
  const bn = (name: string, input: string, c: number, center: number, spread: number, negative: number) =>
    add({
      op: 'BatchNorm', name, inputs: [input], eps: 1e-3,
      gamma: Float32Array.from({ length: c }, () => (0.5 + r()) * (r() < negative ? -1 : 1)), beta: uniform(c, -0.2, 0.2),
      mean: uniform(c, center - spread, center + spread), variance: uniform(c, spread * spread * 0.5, spread * spread * 2),
    });
  const pool = (name: string, input: string, type: 'max' | 'avg', k: number, s: number, p: number, convention: 'valid' | 'full', cip: boolean) =>
    add({ op: 'Pooling', name, inputs: [input], poolType: type, kernel: [k, k], stride: [s, s], pad: [p, p], global: false, convention, countIncludePad: cip });
  let x = add({ op: 'Input', name: 'data', inputs: [], shape: [3, 10, 10] });
  x = add({ op: 'Convolution', name: 'conv0', inputs: [x], kernel: [3, 3], stride: [1, 1], pad: [1, 1], numFilter: 8, weight: grid(8 * 27, -0.5, 0.5), bias: grid(8, -0.2, 0.2) });
  // a grouped conv (4 groups of 2 channels) and a depthwise one (onnx Conv group)
  x = add({ op: 'Convolution', name: 'gconv0', inputs: [x], kernel: [3, 3], stride: [1, 1], pad: [1, 1], numFilter: 8, numGroup: 4, weight: grid(8 * 18, -0.5, 0.5), bias: null });
  x = add({ op: 'Convolution', name: 'dwconv0', inputs: [x], kernel: [3, 3], stride: [1, 1], pad: [1, 1], numFilter: 8, numGroup: 8, weight: grid(8 * 9, -0.5, 0.5), bias: grid(8, -0.2, 0.2) });
  x = bn('bn0', x, 8, 0, 0.7, 0.3);
  x = add({ op: 'Activation', name: 'sig0', inputs: [x], actType: 'sigmoid' });
  const pa = pool('poolA', x, 'avg', 3, 2, 0, 'full', false); // 10 -> 5 with ceil rounding
  x = add({ op: 'Activation', name: 'tanhA', inputs: [pa], actType: 'tanh' });
  x = bn('bnA', x, 8, 0.45, 0.05, 0.3);
  // 1-bit binary conv padding with -1, then BN with negative gammas and an integer max/min pool
  x = add({ op: 'QConvolution', name: 'qconv1', inputs: [x], kernel: [3, 3], stride: [1, 1], pad: [1, 1], padValue: -1, numFilter: 16, actBits: 1, weight: { kind: 'float', data: signs(16 * 8 * 9) } });
  x = bn('bn1', x, 16, 36, 4, 0.4);
  x = pool('pool1', x, 'max', 2, 1, 0, 'valid', true);
  x = add({ op: 'QActivation', name: 'qact1', inputs: [x], actBits: 2, backwardOnly: true });
  // 2-bit binary conv (level-0 padding), folded 1-bit threshold, binary dense on a whole map
  x = add({ op: 'QConvolution', name: 'qconv2', inputs: [x], kernel: [3, 3], stride: [1, 1], pad: [1, 1], padValue: 1, numFilter: 12, actBits: 2, weight: { kind: 'float', data: signs(12 * 16 * 9) } });
  x = bn('bn2', x, 12, 0, 40, 0.3);
  x = add({ op: 'QActivation', name: 'qact2', inputs: [x], actBits: 1, backwardOnly: true });
  x = add({ op: 'QFullyConnected', name: 'qfc3', inputs: [x], numHidden: 10, actBits: 1, weight: { kind: 'float', data: signs(10 * 12 * 16) } });
  x = add({ op: 'Activation', name: 'relu3', inputs: [x], actType: 'relu' });
  const a = add({ op: 'QActivation', name: 'qsign3', inputs: [x], actBits: 1, backwardOnly: false });
  // second branch: ceil-rounded max pool, flatten, 2-bit quantize, binary dense as Gemm, dequantize / 3
  x = pool('poolB', pa, 'max', 2, 2, 0, 'full', true); // 5 -> 3
  x = add({ op: 'Flatten', name: 'flatB', inputs: [x] });
  x = add({ op: 'QActivation', name: 'qactB', inputs: [x], actBits: 2, backwardOnly: false });
  const b = add({ op: 'QFullyConnected', name: 'qfcB', inputs: [x], numHidden: 10, actBits: 2, weight: { kind: 'float', data: signs(10 * 72) } });
  x = add({ op: 'Add', name: 'sum', inputs: [a, b] });
  x = bn('bnC', x, 10, 0, 10, 0.3);
  x = add({ op: 'FullyConnected', name: 'fc', inputs: [x], numHidden: 5, weight: uniform(50, -1, 1), bias: uniform(5, -0.1, 0.1) });
  add({ op: 'Softmax', name: 'softmax', inputs: [x] });
  return { name: `every-op-${seed}`, source: { format: 'test', files: [] }, nodes, output: 'softmax' };
}

/** The op kinds and variants the every-op graph must produce (checked, so it cannot rot). */
function variants(m: CompiledModel): Set<string> {
  const v = new Set<string>();
  for (const op of m.ops) {
    v.add(op.op);
    if (op.op === 'conv2d' && op.groups > 1) v.add(op.groups === m.tensors[op.in].c ? 'conv2d:depthwise' : 'conv2d:grouped');
    if (op.op === 'activation') v.add(`activation:${op.fn}`);
    if (op.op === 'pool') {
      v.add(`pool:${op.mode}`);
      const ti = m.tensors[op.in];
      if (Math.floor((ti.h + 2 * op.ph - op.kh) / op.sh) + 1 !== m.tensors[op.out].h) v.add('pool:ceil');
    }
    if (op.op === 'quantize' || op.op === 'binarize') v.add(`${op.op}:${op.bits === 1 ? 1 : 'k'}`);
    if (op.op === 'dequantize' && op.divisor > 1) v.add('dequantize:divisor');
    if (op.op === 'bconv') {
      const b = op as BconvOp;
      const ti = m.tensors[b.in];
      v.add(`bconv:in${b.inBits === 1 ? 1 : 'k'}`);
      if (b.inBits === 1 && b.ph > 0) v.add(`bconv:pad${b.padBit ? '+1' : '-1'}`);
      if (b.inBits > 1 && b.ph > 0) v.add('bconv:pad-level0');
      if (b.pool && b.pool.useMin.some((u) => u === 1)) v.add('bconv:minpool');
      if (b.epilogue.kind === 'int') v.add('bconv:int');
      else {
        v.add(`bconv:threshold${b.epilogue.bits === 1 ? 1 : 'k'}`);
        if (b.epilogue.flip.some((f) => f === 1)) v.add('bconv:flip');
      }
      if (ti.h === 1 && ti.w === 1) v.add('bconv:dense-vector');
      else if (b.kh === ti.h && b.kw === ti.w && b.ph === 0) v.add('bconv:dense-map');
    }
  }
  return v;
}

// ---- the tests -------------------------------------------------------------------------------

function roundHalfEven(y: number): number {
  const f = Math.floor(y);
  const d = y - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

describe('export-onnx: onnxruntime as an independent oracle', function () {
  this.timeout(180000);

  it('the every-op graph produces every compiled op kind and variant', () => {
    const v = variants(compile(everyOpGraph(1)));
    for (const need of [
      'conv2d', 'conv2d:grouped', 'conv2d:depthwise', 'dense', 'batchnorm', 'activation:tanh', 'activation:relu', 'activation:sigmoid', 'pool:max', 'pool:avg', 'pool:ceil',
      'add', 'flatten', 'quantize:1', 'quantize:k', 'binarize:1', 'binarize:k', 'dequantize:divisor', 'bconv:in1', 'bconv:ink',
      'bconv:pad-1', 'bconv:pad-level0', 'bconv:minpool', 'bconv:int', 'bconv:threshold1', 'bconv:thresholdk', 'bconv:flip',
      'bconv:dense-vector', 'bconv:dense-map',
    ]) assert.ok(v.has(need), `every-op graph lacks ${need}`);
  });

  for (const seed of [1, 2, 3]) {
    it(`every op kind exports to a valid graph that matches the reference (seed ${seed})`, async () => {
      const m = compile(everyOpGraph(seed));
      const ex = exportOnnxModel(m, { probes: true });
      checkStructure(ex.bytes, m);
      const c = await compareWithOrt(m, dyadicImages(seed, 16, [3, 10, 10]), 16);
      assert.ok(c.maxLogitDiff < 1e-3);
    });
  }

  it('the hand-built fixture (all ops, five segments, >64 channels) exports and matches', async () => {
    const m = tinyModel(3);
    const ex = exportOnnxModel(m, { probes: true });
    checkStructure(ex.bytes, m);
    const ti = m.tensors[m.input];
    await compareWithOrt(m, dyadicImages(5, 8, [ti.c, ti.h, ti.w]), 8);
  });

  for (const bits of [1, 2]) {
    it(`random ${bits}-bit models: logits match the reference (onnxruntime optimised and not)`, async () => {
      let ties = 0;
      for (let seed = 1; seed <= 6; seed++) {
        const g = dyadicFirstLayers(randomModel({ seed: 100 * bits + seed, actBits: bits }));
        const m = compile(g);
        const shape = g.nodes[0].shape;
        const x = dyadicImages(seed, 8, shape);
        const ex = exportOnnxModel(m, { probes: true });
        checkStructure(ex.bytes, m);
        for (const level of ['disabled', 'all'] as const) ties += (await compareWithOrt(m, x, 8, { ex, level })).tieImages;
      }
      assert.ok(ties <= 2, `${ties} images needed the near-tie excuse`);
    });
  }

  it('120 random integer layers (wBits 1..4 x inBits 1..4, signed or not, pads, pools, thresholds): onnxruntime gives the reference\'s integers', async function () {
    this.timeout(120000);
    const r = rng(4242);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
    let done = 0;
    const seen = new Set<string>();
    while (done < 120) {
      const inBits = pick([1, 2, 3, 4]);
      const wBits = pick([1, 2, 3, 4]);
      const kh = pick([1, 2, 3]);
      const kw = pick([1, 2, 3]);
      const p: BconvCase = {
        H: 2 + Math.floor(r() * 5), W: 2 + Math.floor(r() * 5), C: pick([1, 3, 5, 31, 64, 70]), outC: pick([1, 2, 5, 9]),
        kh, kw, sh: pick([1, 2]), sw: pick([1, 2]), ph: Math.floor(r() * kh), pw: Math.floor(r() * kw),
        padBit: pick([0, 1] as const), inBits, wBits, wSigned: r() < 0.5, inSigned: r() < 0.5, outSigned: r() < 0.5,
        pool: r() < 0.3 ? { kh: 2, kw: 2, sh: 2, sw: 2, ph: 0, pw: 0 } : null, outBits: pick([0, 0, 1, 2, 3]), seed: done,
      };
      if (!caseFits(p)) continue;
      if (inBits === 1 && wBits === 1) continue; // the binary layers have their own tests above
      const m = bconvModel(p, r);
      const ti = m.tensors[m.input];
      const x = randomInput(r, 3, ti.c * ti.h * ti.w, inBits, p.inSigned);
      await compareWithOrt(m, x, 3, { exactProbes: true, logitTol: 0 });
      seen.add(`w${wBits}${p.wSigned ? 's' : 'u'}a${inBits}${p.inSigned && inBits > 1 ? 's' : 'u'}`);
      done++;
    }
    assert.ok(seen.size >= 20, `only ${seen.size} weight/activation kinds covered`);
  });

  it('k-bit levels round half up and sign(0) = +1, bit for bit', async () => {
    // Input -> QActivation (forward) -> FC identity: the logits are the quantised values
    const vals = [0, -0, 1 / 6, 5 / 6, 0.5, 0.49999997 / 3, 0.16666667, -0.25, 1.2, 0.9999999, 2 / 6 - 1e-8, 0.5 / 3 + 1e-8].map(Math.fround);
    for (const bits of [1, 2, 3]) {
      const n = vals.length;
      const nodes: IRNode[] = [
        { op: 'Input', name: 'data', inputs: [], shape: [n] },
        { op: 'QActivation', name: 'q', inputs: ['data'], shape: [n], actBits: bits, backwardOnly: false },
        { op: 'FullyConnected', name: 'fc', inputs: ['q'], shape: [n], numHidden: n, weight: Float32Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? 1 : 0)), bias: null },
      ];
      const m = compile({ name: 'levels', source: { format: 'test', files: [] }, nodes, output: 'fc' });
      const s = await ortSession(exportOnnx(m));
      // the input shape [n] is a 1x1xn map: feed [1, n, 1, 1]
      const out = (await s.run({ data: new ort.Tensor('float32', Float32Array.from(vals), [1, n, 1, 1]) })).logits.data as Float32Array;
      const ref = (await (await Session.create(m, { batch: 1 })).run(Float32Array.from(vals))).logits;
      assert.deepEqual(Array.from(out), Array.from(ref), `${bits}-bit levels`);
      if (bits === 2) {
        // the data discriminates: half-to-even rounding or Floor(y + 0.5) in float32 would differ
        const halfEven = vals.map((v) => Math.fround(roundHalfEven(Math.fround(3 * Math.min(1, Math.max(0, v)))) / 3));
        const floorF32 = vals.map((v) => Math.fround(Math.floor(Math.fround(Math.fround(3 * Math.min(1, Math.max(0, v))) + 0.5)) / 3));
        assert.notDeepEqual(Array.from(ref), halfEven);
        assert.notDeepEqual(Array.from(ref), floorF32);
      }
      if (bits === 1) assert.equal(ref[0], 1, 'sign(0) = +1');
      await s.release();
    }
  });

  it('a wrong binary weight in the export is caught (the comparison can fail)', async () => {
    const g = dyadicFirstLayers(randomModel({ seed: 7 }));
    const m = compile(g);
    const x = dyadicImages(7, 8, g.nodes[0].shape);
    // corrupt one weight bit of the last binary layer in a copy, export the copy
    const bad: CompiledModel = { ...m, ops: m.ops.map((op) => ({ ...op })) as CompiledModel['ops'] };
    const last = [...bad.ops].reverse().find((op): op is BconvOp => op.op === 'bconv')!;
    last.weight = Uint32Array.from(last.weight);
    last.weight[0] ^= 1;
    await compareWithOrt(m, x, 8); // the real export passes
    await assert.rejects(compareWithOrt(m, x, 8, { ex: exportOnnxModel(bad, { probes: true }) }), assert.AssertionError);
  });

  for (const bits of [1, 2]) {
    it(`ResNet-18 zoo model (${bits}-bit activations): exact binarisation inputs, logits match`, async () => {
      const m = compile(resnet18Cifar({ seed: 5, actBits: bits }));
      const ex = exportOnnxModel(m, { probes: true });
      const d = checkStructure(ex.bytes, m);
      // 20 binary convolutions as ONNX Conv with ±1 weights, plus the float conv0
      assert.equal(d.nodes.filter((n) => n.op === 'Conv').length, 21);
      const c = await compareWithOrt(m, dyadicImages(bits, 2, [3, 32, 32]), 2, { ex, exactProbes: true });
      assert.equal(c.tieImages, 0);
      assert.equal(c.maxProbeDiff, 0);
    });
  }

  it('ResNet-18 zoo model at 224x224 (the ImageNet stem: 7x7/2 conv, max pool): exact binarisation inputs, logits match', async () => {
    const m = compile(resnet18Imagenet({ seed: 5 }));
    const t = m.tensors[m.output];
    assert.equal(t.h * t.w * t.c, 1000);
    const ex = exportOnnxModel(m, { probes: true });
    const d = checkStructure(ex.bytes, m);
    assert.equal(d.nodes.filter((n) => n.op === 'Conv').length, 21);
    assert.equal(d.nodes.filter((n) => n.op === 'MaxPool').length, 1);
    const c = await compareWithOrt(m, dyadicImages(1, 1, [3, 224, 224]), 1, { ex, exactProbes: true });
    assert.equal(c.tieImages, 0);
    assert.equal(c.maxProbeDiff, 0);
  });

  it('BMXNet MNIST model on real digits: logits match, any difference a near-tie', async function () {
    requireBmxnetMnist(this);
    const { symbol, params } = bmxnetMnist(64);
    const m = compile(importBmxnet(symbol, params, {}));
    const ds = loadDataset('mnist', { limit: 32 });
    const c = await compareWithOrt(m, ds.images, ds.count);
    console.log(`      ${c.images} digits: max |logit diff| ${c.maxLogitDiff.toExponential(2)}, max probe diff ${c.maxProbeDiff.toExponential(2)}, near-tie images ${c.tieImages}`);
  });
});

describe('export-onnx and bench model: CLI', function () {
  this.timeout(180000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bitweave-onnx-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const bw = (...args: string[]) => {
    const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 170000 });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  };

  it('export-onnx writes a model onnxruntime runs with the reference logits; errors are one line', async () => {
    const g = dyadicFirstLayers(randomModel({ seed: 11 }));
    const m = compile(g);
    const bnn = path.join(tmp, 'm.bnn');
    const onnx = path.join(tmp, 'm.onnx');
    writeBnn(bnn, m);
    const r = bw('export-onnx', bnn, '-o', onnx, '--json');
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.opset, ONNX_OPSET);
    assert.equal(j.bytes, fs.statSync(onnx).size);
    const bytes = new Uint8Array(fs.readFileSync(onnx));
    checkStructure(bytes, m);
    const shape = g.nodes[0].shape;
    const x = dyadicImages(3, 4, shape);
    const s = await ortSession(bytes);
    const out = (await s.run({ data: new ort.Tensor('float32', x, [4, ...shape]) })).logits.data as Float32Array;
    await s.release();
    const ref = (await (await Session.create(m, { batch: 4 })).run(x)).logits;
    for (let i = 0; i < ref.length; i++) assert.ok(Math.abs(out[i] - ref[i]) <= 2e-5 * Math.max(1, Math.abs(ref[i])));
    const bad = bw('export-onnx', path.join(tmp, 'nope.bnn'), '-o', onnx);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^bitweave: error: model file not found/);
    assert.equal(bad.stderr.trimEnd().split('\n').length, 1);
    const noDir = bw('export-onnx', bnn, '-o', path.join(tmp, 'no', 'such', 'dir.onnx'));
    assert.equal(noDir.code, 1, noDir.stderr);
    assert.match(noDir.stderr, /cannot write/);
  });

  it('bench model prints JSON rows for both engines with ratios', () => {
    const bnn = path.join(tmp, 'bench.bnn');
    writeBnn(bnn, compile(dyadicFirstLayers(randomModel({ seed: 12 }))));
    const r = bw('bench', 'model', bnn, '--batches', '1,3', '--runs', '3', '--threads', '1', '--json');
    assert.equal(r.code, 0, r.stderr);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const timing = rows.filter((x) => x.engine);
    assert.deepEqual(timing.map((x) => `${x.engine}:${x.batch}`), ['bitweave:1', 'onnxruntime:1', 'bitweave:3', 'onnxruntime:3']);
    for (const t of timing) {
      assert.equal(t.threads, 1);
      assert.equal(t.runs, 3);
      assert.ok(t.medianMs > 0 && t.imagesPerSecond > 0 && t.minMs <= t.medianMs);
      assert.ok(Math.abs(t.imagesPerSecond - t.batch / (t.medianMs / 1000)) < 1e-6 * t.imagesPerSecond);
    }
    const ratios = rows.filter((x) => x.speedup !== undefined);
    assert.equal(ratios.length, 2);
    for (const q of ratios) {
      const [b, o] = timing.filter((t) => t.batch === q.batch);
      assert.ok(Math.abs(q.speedup - b.imagesPerSecond / o.imagesPerSecond) < 1e-9);
      assert.equal(q.top1Agree, q.batch);
      assert.ok(q.maxAbsDiff < 1e-3);
    }
    assert.ok(rows.some((x) => x.machine && x.machine.onnxruntime));
    const bad = bw('bench', 'model', bnn, '--batches', '0');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^bitweave: error: --batches/);
  });

  it('benchModel runs the zoo ResNet end to end (batch 1, one run)', async () => {
    const r = await benchModel('resnet18-cifar', compile(resnet18Cifar({ seed: 1 })), { batches: [1], runs: 1, threads: 1 });
    assert.equal(r.rows.length, 2);
    assert.equal(r.ratios[0].top1Agree, 1);
    assert.ok(r.ratios[0].maxAbsDiff < 1e-4);
  });
});
