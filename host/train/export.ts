/**
 * Export of a trained network: the IR graph the BMXNet importer would build from it,
 * and BMXNet v1 files (`<name>-symbol.json` + `<name>-0000.params`) in the format of
 * BMXNet's model converter, so importing those files gives the same compiled model.
 *
 * Conversions from tfjs layouts (net.ts):
 * - conv filters [kh, kw, in, out] -> MXNet OIHW;
 * - dense weights [in, out] with inputs in NHWC flatten order -> [out, in] with inputs in
 *   MXNet's (C, H, W) flatten order;
 * - binary weights -> sign bits (w >= 0 is 1, so sign(0) = +1), packed LSB-first in
 *   64-bit words per output row (`binarized_weights_only`); QConvolution rows in file
 *   order, QFullyConnected words transposed as BMXNet's converter stores them (word y of
 *   output o at y * outputs + o; see the importer's `qfcPacking`);
 * - BatchNorm: fix_gamma=False with the trained gamma, population statistics, eps.
 */
import { IRGraph, IRNode, Shape } from '../ir/graph';
import { inferShape } from '../ir/shapes';
import { encodeValues, writeNDArrayList, WriteEntry } from '../import/ndarray';
import { Arch, layerGeoms } from './arch';
import { TrainedParams } from './net';

/** Map geometry [H, W, C] that a flat vector was flattened from (tfjs order NHWC). */
interface MapGeom { h: number; w: number; c: number }

/** MXNet (C, H, W) flatten index k -> tfjs (H, W, C) flatten index, for one input geometry. */
function featureMap(src: MapGeom | null, k: number): (i: number) => number {
  if (!src) return (i) => i;
  const { h, w, c } = src;
  if (h * w * c !== k) throw new Error('export: flatten geometry mismatch');
  return (i) => {
    const ch = Math.floor(i / (h * w));
    const y = Math.floor(i / w) % h;
    const x = i % w;
    return (y * w + x) * c + ch;
  };
}

/** Per layer: the map its (vector) input was flattened from, or null if none. */
function flattenSources(a: Arch): (MapGeom | null)[] {
  const geoms = layerGeoms(a);
  let src: MapGeom | null = null;
  return a.layers.map((l, i) => {
    const g = geoms[i].in;
    const mine = g.flat ? src : g.h * g.w > 1 ? { h: g.h, w: g.w, c: g.c } : null;
    if (l.kind === 'flatten') src = { h: g.h, w: g.w, c: g.c };
    else if (l.kind === 'dense') src = null;
    return mine;
  });
}

/** Converted weights of one layer in MXNet order. */
function mxWeights(t: TrainedParams, i: number, src: MapGeom | null): { O: number; K: number; w: Float32Array } {
  const l = t.arch.layers[i];
  const tfW = t.params.get(`${l.name}_weight`)!;
  if (l.kind === 'conv') {
    const [kh, kw, O] = [l.kernel, l.kernel, l.filters];
    const C = tfW.length / (kh * kw * O);
    const w = new Float32Array(tfW.length);
    for (let o = 0; o < O; o++)
      for (let c = 0; c < C; c++)
        for (let y = 0; y < kh; y++)
          for (let x = 0; x < kw; x++) w[((o * C + c) * kh + y) * kw + x] = tfW[((y * kw + x) * C + c) * O + o];
    return { O, K: C * kh * kw, w };
  }
  if (l.kind !== 'dense') throw new Error(`export: layer ${l.name} has no weights`);
  const O = l.units;
  const K = tfW.length / O;
  const j = featureMap(src, K);
  const w = new Float32Array(tfW.length);
  for (let o = 0; o < O; o++) for (let k = 0; k < K; k++) w[o * K + k] = tfW[j(k) * O + o];
  return { O, K, w };
}

/** Sign bits of O rows of K weights, LSB-first, as Uint32 halves of 64-bit words per row. */
function packRows(w: Float32Array, O: number, K: number): Uint32Array {
  if (K % 64 !== 0) throw new Error(`export: ${K} binary weights per output are not a multiple of 64`);
  const perRow = K / 32;
  const out = new Uint32Array(O * perRow);
  for (let o = 0; o < O; o++)
    for (let k = 0; k < K; k++) if (w[o * K + k] >= 0) out[o * perRow + (k >>> 5)] |= 1 << (k & 31);
  return out;
}

/** Row-order words -> BMXNet's transposed QFullyConnected order (64-bit word (y, o) at y*O + o). */
function transposeWords(rows: Uint32Array, O: number, K: number): Uint32Array {
  const perRow = K / 64;
  const out = new Uint32Array(rows.length);
  for (let o = 0; o < O; o++)
    for (let y = 0; y < perRow; y++) {
      out[(y * O + o) * 2] = rows[(o * perRow + y) * 2];
      out[(y * O + o) * 2 + 1] = rows[(o * perRow + y) * 2 + 1];
    }
  return out;
}

function bn(t: TrainedParams, name: string) {
  const s = t.stats.get(name);
  if (!s) throw new Error(`export: BatchNorm ${name} has no statistics`);
  return { gamma: t.params.get(`${name}_gamma`)!, beta: t.params.get(`${name}_beta`)!, mean: s.mean, variance: s.variance };
}

/** The IR graph, node for node what importBmxnet makes of the exported files. */
export function toIR(t: TrainedParams, name: string): IRGraph {
  const a = t.arch;
  const srcs = flattenSources(a);
  const nodes: IRNode[] = [];
  const shapes = new Map<string, Shape>();
  const push = (n: IRNode) => {
    n.shape = inferShape(n, n.inputs.map((i) => shapes.get(i)!));
    shapes.set(n.name, n.shape);
    nodes.push(n);
    return n.name;
  };
  let cur = push({ op: 'Input', name: 'data', inputs: [], shape: [...a.input] });
  const base = (nm: string) => ({ name: nm, inputs: [cur], shape: [] as Shape });
  a.layers.forEach((l, i) => {
    switch (l.kind) {
      case 'conv': {
        const { O, K, w } = mxWeights(t, i, srcs[i]);
        const geo = { kernel: [l.kernel, l.kernel] as [number, number], stride: [1, 1] as [number, number], pad: [0, 0] as [number, number], numFilter: O };
        if (l.binary) {
          cur = push({ op: 'QActivation', ...base(l.qact!), actBits: 1, backwardOnly: true });
          cur = push({ op: 'QConvolution', ...base(l.name), ...geo, padValue: 1, actBits: 1, weight: { kind: 'packed', words: packRows(w, O, K), wordBits: 64 } });
        } else {
          cur = push({ op: 'Convolution', ...base(l.name), ...geo, weight: w, bias: Float32Array.from(t.params.get(`${l.name}_bias`)!) });
        }
        break;
      }
      case 'dense': {
        const { O, K, w } = mxWeights(t, i, srcs[i]);
        if (l.binary) {
          cur = push({ op: 'QActivation', ...base(l.qact!), actBits: 1, backwardOnly: true });
          cur = push({ op: 'QFullyConnected', ...base(l.name), numHidden: O, actBits: 1, weight: { kind: 'packed', words: packRows(w, O, K), wordBits: 64 } });
        } else {
          cur = push({ op: 'FullyConnected', ...base(l.name), numHidden: O, weight: w, bias: Float32Array.from(t.params.get(`${l.name}_bias`)!) });
        }
        break;
      }
      case 'bn': {
        const p = bn(t, l.name);
        cur = push({
          op: 'BatchNorm', ...base(l.name), eps: t.eps,
          gamma: Float32Array.from(p.gamma), beta: Float32Array.from(p.beta), mean: Float32Array.from(p.mean), variance: Float32Array.from(p.variance),
        });
        break;
      }
      case 'tanh':
        cur = push({ op: 'Activation', ...base(l.name), actType: 'tanh' });
        break;
      case 'pool':
        cur = push({
          op: 'Pooling', ...base(l.name), poolType: 'max', kernel: [2, 2], stride: [2, 2], pad: [0, 0], global: false,
          convention: 'valid', countIncludePad: true,
        });
        break;
      case 'flatten':
        cur = push({ op: 'Flatten', ...base(l.name) });
        break;
      case 'sign':
        cur = push({ op: 'QActivation', ...base(l.name), actBits: 1, backwardOnly: false });
        break;
    }
  });
  cur = push({ op: 'Softmax', ...base('softmax') });
  return {
    name,
    source: { format: 'bitweave-train', files: [] },
    nodes,
    output: cur,
    inputNote: 'Fashion-MNIST grey levels as float32 uint8/255 in [0, 1], NCHW 1x28x28 (as `bitweave train` fed them).',
  };
}

interface MxNode { op: string; name: string; attr?: Record<string, string>; inputs: [number, number, number][] }

/** BMXNet v1 symbol JSON and NDArray-list params (legacy records, as BMXNet's converter writes). */
export function toBmxnet(t: TrainedParams): { symbol: string; params: Uint8Array } {
  const a = t.arch;
  const srcs = flattenSources(a);
  const nodes: MxNode[] = [];
  const entries: WriteEntry[] = [];
  const f32 = (name: string, shape: number[], v: Float32Array) =>
    entries.push({ name, dtype: 'float32', shape, data: encodeValues('float32', v), version: 'legacy' });
  const variable = (name: string): number => {
    nodes.push({ op: 'null', name, inputs: [] });
    return nodes.length - 1;
  };
  const op = (o: string, name: string, attr: Record<string, string> | undefined, inputs: number[], aux: number[] = []): number => {
    nodes.push({ op: o, name, ...(attr ? { attr } : {}), inputs: [...inputs.map((i): [number, number, number] => [i, 0, 0]), ...aux.map((i): [number, number, number] => [i, 0, 1])] });
    return nodes.length - 1;
  };
  let cur = variable('data');
  // the input shape, batch axis first, as mx.sym.Variable('data', shape=...) stores it:
  // symbols do not otherwise say it, and an MLP's first layer does not fix it
  nodes[cur].attr = { __shape__: `(1, ${a.input.join(', ')})` };
  a.layers.forEach((l, i) => {
    switch (l.kind) {
      case 'conv':
      case 'dense': {
        const { O, K, w } = mxWeights(t, i, srcs[i]);
        const shapeAttr: Record<string, string> = l.kind === 'conv' ? { kernel: `(${l.kernel}, ${l.kernel})`, num_filter: String(O) } : { num_hidden: String(O) };
        if (l.binary) {
          cur = op('QActivation', l.qact!, { act_bit: '1', backward_only: 'True' }, [cur]);
          const attr = { act_bit: '1', ...shapeAttr, binarized_weights_only: 'True' };
          const rows = packRows(w, O, K);
          const words = l.kind === 'dense' ? transposeWords(rows, O, K) : rows;
          // 64-bit words stored as float64 elements (raw bytes, never converted)
          entries.push({ name: `arg:${l.name}_weight`, dtype: 'float64', shape: [words.length / 2], data: new Uint8Array(words.buffer), version: 'legacy' });
          cur = op(l.kind === 'conv' ? 'QConvolution' : 'QFullyConnected', l.name, attr, [cur, variable(`${l.name}_weight`)]);
        } else {
          const bias = t.params.get(`${l.name}_bias`)!;
          f32(`arg:${l.name}_weight`, l.kind === 'conv' ? [O, K / (l.kernel * l.kernel), l.kernel, l.kernel] : [O, K], w);
          f32(`arg:${l.name}_bias`, [O], bias);
          cur = op(l.kind === 'conv' ? 'Convolution' : 'FullyConnected', l.name, shapeAttr, [cur, variable(`${l.name}_weight`), variable(`${l.name}_bias`)]);
        }
        break;
      }
      case 'bn': {
        const p = bn(t, l.name);
        const c = p.gamma.length;
        f32(`arg:${l.name}_gamma`, [c], p.gamma);
        f32(`arg:${l.name}_beta`, [c], p.beta);
        f32(`aux:${l.name}_moving_mean`, [c], p.mean);
        f32(`aux:${l.name}_moving_var`, [c], p.variance);
        const ins = [cur, variable(`${l.name}_gamma`), variable(`${l.name}_beta`)];
        const aux = [variable(`${l.name}_moving_mean`), variable(`${l.name}_moving_var`)];
        cur = op('BatchNorm', l.name, { eps: String(t.eps), fix_gamma: 'False' }, ins, aux);
        break;
      }
      case 'tanh':
        cur = op('Activation', l.name, { act_type: 'tanh' }, [cur]);
        break;
      case 'pool':
        cur = op('Pooling', l.name, { kernel: '(2, 2)', pool_type: 'max', stride: '(2, 2)' }, [cur]);
        break;
      case 'flatten':
        cur = op('Flatten', l.name, undefined, [cur]);
        break;
      case 'sign':
        cur = op('QActivation', l.name, { act_bit: '1', backward_only: 'False' }, [cur]);
        break;
    }
  });
  cur = op('SoftmaxOutput', 'softmax', undefined, [cur, variable('softmax_label')]);
  const rowPtr = [0];
  for (const n of nodes) rowPtr.push(rowPtr[rowPtr.length - 1] + (n.op === 'BatchNorm' ? 3 : 1));
  const symbol = {
    nodes,
    arg_nodes: nodes.flatMap((n, i) => (n.op === 'null' ? [i] : [])),
    node_row_ptr: rowPtr,
    heads: [[cur, 0, 0]],
    attrs: { mxnet_version: ['int', 903] },
  };
  return { symbol: JSON.stringify(symbol, null, 2) + '\n', params: writeNDArrayList(entries, { version: 'legacy' }) };
}
