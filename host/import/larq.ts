/**
 * Larq importer: a `.tflite` file as Larq Compute Engine's converter writes it
 * (`larq_compute_engine.convert_keras_model`) -> the IR.
 *
 * TFLite tensors are NHWC with a batch axis; the IR's are [C, H, W] (or [N]) without it,
 * so float weights are transposed to OIHW and a dense layer after a flatten has its
 * inputs permuted from TF's HWC order to the IR's CHW order. LCE's bitpacked tensors
 * (INT32, 32 channels a word, a set bit = -1) are not materialised: a bit tensor is the IR
 * node whose sign it is, and the binary layer that reads it binarises that node (sign(0) =
 * +1 on both sides: LCE sets the bit for x < 0).
 *
 * Binary convolutions go through larq-bconv.ts (dot, groups, dilation, zero padding onto
 * P or Q exactly). A binary dense layer, which LCE leaves as LceQuantize -> LceDequantize
 * -> FULLY_CONNECTED with ±1 weights, becomes a QFullyConnected (its sum of ±1 products is
 * an exact integer in either form). Everything else is one UnsupportedError naming the
 * file, the operator and what is not supported.
 */
import { UnsupportedError } from '../core/errors';
import { readTflite, TfliteModel, TfliteOperator, TfliteSubgraph, TfliteTensor } from '../format/tflite';
import { IRGraph, IRNode, Shape } from '../ir/graph';
import { inferShape } from '../ir/shapes';
import { lowerBconv, thresholdBias } from './larq-bconv';
import { irAxis } from './larq-window';

/**
 * A TFLite tensor's value in the IR. `float`: the node's output. `bits`: LCE bitpacked, the
 * node's sign. `signs`: LceDequantize's ±1, sign(node) as floats (made on first float use).
 */
interface Value {
  kind: 'float' | 'bits' | 'signs';
  node: string;
  shape: Shape;
  /** A vector flattened from a [C, H, W] map in TF's (H, W, C) order. */
  hwc?: Shape;
  /** Zero padding [ph, pw] of a PAD op, not yet applied (absorbed by the next window op). */
  pad?: [number, number];
}

export interface LarqImport {
  graph: IRGraph;
  notes: string[];
}

const LCE_OPS = new Set(['LceQuantize', 'LceDequantize', 'LceBconv2d', 'LceBMaxPool2d']);

function opName(op: TfliteOperator): string {
  return op.opcode.builtin === 'CUSTOM' ? op.opcode.customCode ?? 'CUSTOM' : op.opcode.builtin;
}

/** Little-endian constant bytes as a typed array (copied: the file's bytes are not aligned). */
function f32Data(t: TfliteTensor): Float32Array {
  return new Float32Array(t.data!.slice().buffer);
}
function i32Data(t: TfliteTensor): Int32Array {
  return new Int32Array(t.data!.slice().buffer);
}

class Importer {
  private readonly nodes: IRNode[] = [];
  private readonly values = new Map<number, Value>();
  private readonly signNodes = new Map<string, string>();
  private readonly sg: TfliteSubgraph;
  readonly notes: string[] = [];

  constructor(private readonly file: string, model: TfliteModel) {
    if (model.subgraphs.length !== 1) this.refuse(`${model.subgraphs.length} subgraphs (the Larq importer reads one)`);
    this.sg = model.subgraphs[0];
  }

  private refuse(what: string): never {
    throw new UnsupportedError(`${this.file}: ${what}`);
  }

  private add(spec: Record<string, unknown> & { op: IRNode['op']; name: string; inputs: string[] }): string {
    let name = spec.name;
    for (let k = 2; this.nodes.some((n) => n.name === name); k++) name = `${spec.name}#${k}`;
    const node = { ...spec, name, shape: [] as Shape } as unknown as IRNode;
    node.shape = spec.op === 'Input' ? (spec.shape as Shape) : inferShape(node, node.inputs.map((i) => this.nodes.find((n) => n.name === i)!.shape));
    this.nodes.push(node);
    return name;
  }

  run(): IRGraph {
    const sg = this.sg;
    const ops = sg.operators;
    if (!ops.some((op) => LCE_OPS.has(opName(op)))) {
      this.refuse('no Larq Compute Engine operator (LceQuantize, LceBconv2d, ...): not an LCE-converted Larq model');
    }
    for (const [i, op] of ops.entries()) {
      const name = opName(op);
      if (op.opcode.builtin === 'CUSTOM' && !LCE_OPS.has(name)) this.refuse(`operator ${i}: unknown custom operator '${name}'`);
      for (const t of [...op.inputs, ...op.outputs]) if (t >= 0) this.checkType(sg.tensors[t], i, name);
    }
    if (sg.inputs.length !== 1 || sg.outputs.length !== 1) this.refuse(`${sg.inputs.length} inputs and ${sg.outputs.length} outputs (the Larq importer takes one of each)`);
    const input = sg.tensors[sg.inputs[0]];
    const s = input.shape;
    if (input.type !== 'FLOAT32' || s[0] !== 1 || (s.length !== 4 && s.length !== 2)) {
      this.refuse(`input '${input.name}' is ${input.type} [${s.join(', ')}] (the Larq importer takes float32 [1, H, W, C] or [1, N])`);
    }
    const irShape = s.length === 4 ? [s[3], s[1], s[2]] : [s[1]];
    this.values.set(sg.inputs[0], { kind: 'float', node: this.add({ op: 'Input', name: 'data', inputs: [], shape: irShape }), shape: irShape });
    for (const [i, op] of ops.entries()) this.operator(i, op);
    const out = this.values.get(sg.outputs[0])!;
    // a model output is a vector: a map output is flattened, which keeps TF's (H, W, C) order
    // (compiled maps are NHWC)
    if (out.shape.length === 3) out.node = this.add({ op: 'Flatten', name: 'output/flatten', inputs: [this.floatNode(out, 'the graph output')] });
    return {
      name: 'larq',
      source: { format: 'larq-tflite', files: [this.file] },
      nodes: this.nodes,
      output: this.floatNode(out, 'the graph output'),
      inputNote: s.length === 4
        ? `Larq .tflite: the model takes float32 NHWC [1, ${s[1]}, ${s[2]}, ${s[3]}]; bitweave feeds NCHW [${irShape.join(', ')}] per image (transpose NHWC -> NCHW); preprocessing is the Keras model's, outside the file`
        : `Larq .tflite: the model takes a float32 vector [1, ${s[1]}]`,
    };
  }

  /** Only float32 and LCE's bitpacked INT32 (plus INT32 shape constants) are imported. */
  private checkType(t: TfliteTensor, i: number, op: string): void {
    if (t.quantization !== null || (t.type !== 'FLOAT32' && t.type !== 'INT32')) {
      this.refuse(`operator ${i} (${op}): tensor '${t.name}' is ${t.type}${t.quantization ? ' quantised' : ''}; the Larq importer reads float32 models (int8-quantised tensors are not supported)`);
    }
  }

  private operator(i: number, op: TfliteOperator): void {
    const name = opName(op);
    const at = `operator ${i} (${name})`;
    const T = this.sg.tensors;
    const out = op.outputs[0];
    const set = (v: Value) => this.values.set(out, v);
    const opts = op.builtinOptions as Record<string, unknown> | null;
    const act = (node: string): string => {
      const f = (opts?.fusedActivationFunction as string | undefined) ?? 'NONE';
      if (f === 'NONE') return node;
      if (f === 'RELU') return this.add({ op: 'Activation', name: `${name}${i}/relu`, inputs: [node], actType: 'relu' });
      return this.refuse(`${at}: fused activation ${f} is not supported (NONE or RELU)`);
    };
    switch (name) {
      case 'LceQuantize': {
        const x = this.value(op.inputs[0], at);
        set({ ...x, kind: 'bits', node: this.floatNode(x, at) });
        return;
      }
      case 'LceDequantize': {
        const x = this.value(op.inputs[0], at);
        if (x.kind !== 'bits') this.refuse(`${at}: input is not bitpacked`);
        set({ ...x, kind: 'signs' });
        return;
      }
      case 'LceBconv2d':
        set(this.bconv(i, op, at));
        return;
      case 'LceBMaxPool2d':
      case 'MAX_POOL_2D':
      case 'AVERAGE_POOL_2D': {
        const x = this.value(op.inputs[0], at, true);
        const o = op.customOptions as Record<string, number> | null;
        const p = name === 'LceBMaxPool2d'
          ? { k: [o?.filter_height, o?.filter_width], s: [o?.stride_height, o?.stride_width], same: o?.padding === 0 }
          : { k: [opts?.filterHeight, opts?.filterWidth], s: [opts?.strideH, opts?.strideW], same: opts?.padding === 'SAME' };
        if (name === 'LceBMaxPool2d' && x.kind !== 'bits') this.refuse(`${at}: input is not bitpacked`);
        if (name !== 'LceBMaxPool2d' && x.kind === 'bits') this.refuse(`${at}: input is bitpacked`);
        const [c, h, w] = this.map(x, at);
        const [kh, kw, sh, sw] = [...p.k, ...p.s] as number[];
        const ay = irAxis({ k: kh, s: sh, d: 1, size: h + 2 * (x.pad?.[0] ?? 0) }, p.same);
        const ax = irAxis({ k: kw, s: sw, d: 1, size: w + 2 * (x.pad?.[1] ?? 0) }, p.same);
        if (ay.offset > 0 || ax.offset > 0) this.refuse(`${at}: SAME padding with unequal sides is not supported for pooling`);
        if (x.pad && (p.same || name !== 'AVERAGE_POOL_2D')) this.refuse(`${at}: a PAD before it is only supported before a VALID average pool or convolution`);
        const pad = x.pad ?? [ay.pad, ax.pad];
        const node = this.add({
          op: 'Pooling', name: `${name}${i}`, inputs: [x.kind === 'bits' ? x.node : this.floatNode(x, at)],
          poolType: name === 'AVERAGE_POOL_2D' ? 'avg' : 'max', kernel: [kh, kw], stride: [sh, sw], pad, global: false,
          convention: 'valid', countIncludePad: x.pad !== undefined,
        });
        this.checkShape(node, T[out], [c, ay.out, ax.out], at, x.kind === 'bits');
        set({ kind: x.kind === 'bits' ? 'bits' : 'float', node: act(node), shape: [c, ay.out, ax.out] });
        return;
      }
      case 'CONV_2D':
      case 'DEPTHWISE_CONV_2D': {
        const x = this.value(op.inputs[0], at, true);
        const [c, h, w] = this.map(x, at);
        const wt = this.constant(op.inputs[1], at);
        const [o0, kh, kw, i0] = wt.shape;
        const depthwise = name === 'DEPTHWISE_CONV_2D';
        const O = depthwise ? i0 : o0;
        const mult = depthwise ? O / c : 1;
        if (depthwise ? o0 !== 1 || !Number.isInteger(mult) : i0 !== c) this.refuse(`${at}: weights [${wt.shape.join(', ')}] do not fit ${c} input channels`);
        const same = opts?.padding === 'SAME';
        if (x.pad && same) this.refuse(`${at}: a PAD before a SAME convolution is not supported`);
        const [sh, sw, dh, dw] = [opts?.strideH, opts?.strideW, opts?.dilationHFactor, opts?.dilationWFactor] as number[];
        const ay = irAxis({ k: kh, s: sh, d: dh, size: h + 2 * (x.pad?.[0] ?? 0) }, same);
        const ax = irAxis({ k: kw, s: sw, d: dw, size: w + 2 * (x.pad?.[1] ?? 0) }, same);
        // OIHW over the widened kernel (I: the input channels of the filter's group, one for a
        // depthwise conv); taps a dilated or unequally padded conv skips are 0
        const src = f32Data(wt);
        const cin = depthwise ? 1 : c;
        const weight = new Float32Array(O * cin * ay.k * ax.k);
        for (let oc = 0; oc < O; oc++)
          for (let ky = 0; ky < kh; ky++)
            for (let kx = 0; kx < kw; kx++)
              for (let ci = 0; ci < cin; ci++) {
                const v = depthwise ? src[(ky * kw + kx) * O + oc] : src[((oc * kh + ky) * kw + kx) * c + ci];
                weight[((oc * cin + ci) * ay.k + ay.offset + ky * dh) * ax.k + ax.offset + kx * dw] = v;
              }
        // depthwise with multiplier m: output oc reads channel floor(oc/m), TF's order, i.e. c groups of m filters
        const node = this.add({
          op: 'Convolution', name: `${name}${i}`, inputs: [this.floatNode(x, at)], kernel: [ay.k, ax.k], stride: [sh, sw],
          pad: x.pad ?? [ay.pad, ax.pad], numFilter: O, ...(depthwise ? { numGroup: c } : {}), weight,
          bias: op.inputs[2] >= 0 ? f32Data(this.constant(op.inputs[2], at)) : null,
        });
        this.checkShape(node, T[out], [O, ay.out, ax.out], at);
        set({ kind: 'float', node: act(node), shape: [O, ay.out, ax.out] });
        return;
      }
      case 'FULLY_CONNECTED':
        set(this.dense(i, op, at, act));
        return;
      case 'ADD':
      case 'MUL': {
        const [a, b] = op.inputs;
        const constIdx = [a, b].find((t) => T[t].data !== null);
        if (constIdx === undefined) {
          if (name === 'MUL') this.refuse(`${at}: multiplying two tensors is not supported (only by a per-channel constant)`);
          const xa = this.value(a, at);
          const xb = this.value(b, at);
          if (xa.shape.join() !== xb.shape.join()) this.refuse(`${at}: adding [${xa.shape.join(', ')}] and [${xb.shape.join(', ')}] (broadcasting is not supported)`);
          const node = this.add({ op: 'Add', name: `ADD${i}`, inputs: [this.floatNode(xa, at), this.floatNode(xb, at)] });
          set({ ...xa, kind: 'float', node: act(node) });
          return;
        }
        const x = this.value(constIdx === a ? b : a, at);
        const k = f32Data(this.constant(constIdx, at));
        const C = x.hwc ? 0 : x.shape[0];
        if (x.hwc || (k.length !== 1 && k.length !== C)) this.refuse(`${at}: the constant has ${k.length} values; only a scalar or one per channel is supported`);
        const perChannel = Float32Array.from({ length: C }, (_, c) => (k.length === 1 ? k[0] : k[c]));
        const node = this.add({
          op: 'Affine', name: `${name}${i}`, inputs: [this.floatNode(x, at)],
          scale: name === 'MUL' ? perChannel : new Float32Array(C).fill(1), bias: name === 'ADD' ? perChannel : new Float32Array(C),
        });
        set({ ...x, kind: 'float', node: act(node) });
        return;
      }
      case 'MEAN': {
        const x = this.value(op.inputs[0], at);
        const axes = Array.from(i32Data(this.constant(op.inputs[1], at))).sort().join();
        const [c] = this.map(x, at);
        if (axes !== '1,2') this.refuse(`${at}: mean over axes ${axes} (only over height and width, i.e. global average pooling)`);
        const pool = this.add({
          op: 'Pooling', name: `MEAN${i}`, inputs: [this.floatNode(x, at)], poolType: 'avg', kernel: [1, 1], stride: [1, 1], pad: [0, 0],
          global: true, convention: 'valid', countIncludePad: false,
        });
        const node = opts?.keepDims ? pool : this.add({ op: 'Flatten', name: `MEAN${i}/flatten`, inputs: [pool] });
        set({ kind: 'float', node, shape: opts?.keepDims ? [c, 1, 1] : [c] });
        return;
      }
      case 'PAD': {
        const x = this.value(op.inputs[0], at);
        const p = Array.from(i32Data(this.constant(op.inputs[1], at)));
        if (x.shape.length !== 3 || p.length !== 8 || p[0] || p[1] || p[6] || p[7] || p[2] !== p[3] || p[4] !== p[5]) {
          this.refuse(`${at}: paddings [${p.join(', ')}]; only equal zero padding of height and width is supported`);
        }
        set({ ...x, pad: [p[2], p[4]] });
        return;
      }
      case 'RESHAPE': {
        const x = this.value(op.inputs[0], at);
        const to = T[out].shape;
        const n = x.shape.reduce((u, v) => u * v, 1);
        if (to.length !== 2 || to[0] !== 1 || to[1] !== n) this.refuse(`${at}: reshape to [${to.join(', ')}] (only flattening to [1, ${n}] is supported)`);
        if (x.shape.length === 1) {
          set(x);
          return;
        }
        const node = this.add({ op: 'Flatten', name: `RESHAPE${i}`, inputs: [x.kind === 'float' ? x.node : this.floatNode(x, at)] });
        set({ kind: x.kind === 'bits' ? 'bits' : 'float', node, shape: [n], hwc: x.shape });
        return;
      }
      case 'SOFTMAX': {
        const x = this.value(op.inputs[0], at);
        if (opts?.beta !== 1) this.refuse(`${at}: beta ${String(opts?.beta)} (only 1)`);
        set({ ...x, kind: 'float', node: this.add({ op: 'Softmax', name: `SOFTMAX${i}`, inputs: [this.floatNode(x, at)] }) });
        return;
      }
      case 'RELU': {
        const x = this.value(op.inputs[0], at);
        set({ ...x, kind: 'float', node: this.add({ op: 'Activation', name: `RELU${i}`, inputs: [this.floatNode(x, at)], actType: 'relu' }) });
        return;
      }
      default:
        this.refuse(`${at}: operator not supported by the Larq importer`);
    }
  }

  private bconv(i: number, op: TfliteOperator, at: string): Value {
    const T = this.sg.tensors;
    const x = this.value(op.inputs[0], at);
    if (x.kind !== 'bits') this.refuse(`${at}: input is not bitpacked`);
    const [c, h, w] = this.map(x, at);
    const o = op.customOptions as Record<string, number> | null;
    const need = (k: string): number => {
      const v = o?.[k];
      if (typeof v !== 'number' || !Number.isInteger(v)) this.refuse(`${at}: custom option ${k} is missing or not an integer`);
      return v;
    };
    const cin = need('channels_in');
    if (cin !== c) this.refuse(`${at}: channels_in ${cin}, the input has ${c} channels`);
    const padValue = need('pad_values');
    if (padValue !== 0 && padValue !== 1) this.refuse(`${at}: pad_values ${padValue} (0 or 1)`);
    const filterT = this.constant(op.inputs[1], at);
    if (filterT.type !== 'INT32' || filterT.shape.length !== 4) this.refuse(`${at}: filter is not a bitpacked INT32 [O, KH, KW, words] constant`);
    const [O, kh, kw, words] = filterT.shape;
    const lowered = lowerBconv({
      cin, h, w, filter: i32Data(filterT), o: O, kh, kw, wordsPerGroup: words, same: need('padding') === 0, padValue,
      stride: [need('stride_height'), need('stride_width')], dilation: [o?.dilation_height_factor ?? 1, o?.dilation_width_factor ?? 1],
    }, at);
    // every IR conv reads the same bits; two of them (a ternary kernel) are added
    const convs = lowered.weights.map((weight, k) => this.add({
      op: 'QConvolution', name: `LceBconv2d${i}${lowered.weights.length > 1 ? `/${'ab'[k]}` : ''}`, inputs: [x.node],
      kernel: lowered.kernel, stride: lowered.stride, pad: lowered.pad, padValue: lowered.padValue, numFilter: O, actBits: 1,
      weight: { kind: 'float', data: weight },
    }));
    const sum = convs.length === 1 ? convs[0] : this.add({ op: 'Add', name: `LceBconv2d${i}/sum`, inputs: convs });
    const dot = this.add({
      op: 'Affine', name: `LceBconv2d${i}/dot`, inputs: [sum],
      scale: new Float32Array(O).fill(lowered.dotScale), bias: new Float32Array(O).fill(lowered.dotBias),
    });
    const shape = [O, lowered.outH, lowered.outW];
    this.checkShape(dot, T[op.outputs[0]], shape, at, true);
    if (lowered.groups > 1) this.notes.push(`${at}: ${lowered.groups} groups run as two dense binary convolutions (twice the work)`);
    const [mul, bias, thr] = [op.inputs[2], op.inputs[3], op.inputs[4] ?? -1];
    if (thr >= 0) {
      const t = this.constant(thr, at);
      if (t.type !== 'INT32' || t.shape.join() !== `${O}`) this.refuse(`${at}: output_threshold is not INT32 [${O}]`);
      const node = this.add({
        op: 'Affine', name: `LceBconv2d${i}/threshold`, inputs: [dot],
        scale: new Float32Array(O).fill(1), bias: thresholdBias(lowered.lceK, i32Data(t)),
      });
      return { kind: 'bits', node, shape };
    }
    if (mul < 0 || bias < 0) this.refuse(`${at}: neither a threshold nor a multiplier and bias`);
    const act = o?.fused_activation_function ?? 0;
    // TFLite's ActivationFunctionType: 0 NONE, 1 RELU; LCE clamps dot before the multiplier
    if (act !== 0 && act !== 1) this.refuse(`${at}: fused activation ${act} is not supported (NONE or RELU)`);
    const clamped = act === 1 ? this.add({ op: 'Activation', name: `LceBconv2d${i}/relu`, inputs: [dot], actType: 'relu' }) : dot;
    const m = f32Data(this.constant(mul, at));
    const b = f32Data(this.constant(bias, at));
    if (m.length !== O || b.length !== O) this.refuse(`${at}: multiplier and bias must have ${O} values`);
    const node = this.add({ op: 'Affine', name: `LceBconv2d${i}/out`, inputs: [clamped], scale: m, bias: b });
    return { kind: 'float', node, shape };
  }

  private dense(i: number, op: TfliteOperator, at: string, act: (node: string) => string): Value {
    const T = this.sg.tensors;
    const x = this.value(op.inputs[0], at);
    const wt = this.constant(op.inputs[1], at);
    const n = x.shape.reduce((u, v) => u * v, 1);
    const [O, I] = wt.shape;
    if (wt.shape.length !== 2 || I !== n) this.refuse(`${at}: weights [${wt.shape.join(', ')}] do not fit ${n} inputs`);
    if (x.kind === 'bits') this.refuse(`${at}: input is bitpacked`);
    // TF flattens maps in (H, W, C) order, the IR in (C, H, W) order
    const src = f32Data(wt);
    const g = x.hwc ?? (x.shape.length === 3 ? x.shape : null);
    const weight = new Float32Array(O * n);
    for (let o = 0; o < O; o++) {
      for (let f = 0; f < n; f++) {
        let t = f;
        if (g) {
          const [C, H, W] = g;
          const c = Math.floor(f / (H * W));
          const hw = f % (H * W);
          t = hw * C + c;
        }
        weight[o * n + f] = src[o * I + t];
      }
    }
    const bias = op.inputs[2] >= 0 ? f32Data(this.constant(op.inputs[2], at)) : null;
    let node: string;
    if (x.kind === 'signs' && weight.every((v) => v === 1 || v === -1)) {
      // binary dense: P over the ±1 inputs, dot = 2P - K exactly, then the float bias
      const q = this.add({ op: 'QFullyConnected', name: `FULLY_CONNECTED${i}`, inputs: [x.node], numHidden: O, actBits: 1, weight: { kind: 'float', data: weight } });
      node = this.add({ op: 'Affine', name: `FULLY_CONNECTED${i}/dot`, inputs: [q], scale: new Float32Array(O).fill(2), bias: new Float32Array(O).fill(-n) });
      if (bias) node = this.add({ op: 'Affine', name: `FULLY_CONNECTED${i}/bias`, inputs: [node], scale: new Float32Array(O).fill(1), bias });
    } else {
      node = this.add({ op: 'FullyConnected', name: `FULLY_CONNECTED${i}`, inputs: [this.floatNode(x, at)], numHidden: O, weight, bias });
    }
    this.checkShape(node, T[op.outputs[0]], [O], at);
    return { kind: 'float', node: act(node), shape: [O] };
  }

  /** A tensor an earlier operator produced (or the input). Pending PAD only where allowed. */
  private value(t: number, at: string, padOk = false): Value {
    const v = this.values.get(t);
    if (!v) this.refuse(`${at}: input '${this.sg.tensors[t]?.name}' is a constant where a computed tensor is expected`);
    if (v.pad && !padOk) this.refuse(`${at}: a PAD before it is only supported before a VALID average pool or convolution`);
    return v;
  }

  private constant(t: number, at: string): TfliteTensor {
    const x = this.sg.tensors[t];
    if (!x || x.data === null) this.refuse(`${at}: input ${t} must be a constant`);
    return x;
  }

  private map(x: Value, at: string): [number, number, number] {
    if (x.shape.length !== 3) this.refuse(`${at}: needs a [H, W, C] map, got a vector of ${x.shape[0]}`);
    return x.shape as [number, number, number];
  }

  /** The float node of a value: LceDequantize's ±1 are sign(node), made once. */
  private floatNode(x: Value, at: string): string {
    if (x.kind === 'float') return x.node;
    if (x.kind === 'bits') this.refuse(`${at}: reads a bitpacked tensor as floats`);
    let s = this.signNodes.get(x.node);
    if (!s) {
      s = this.add({ op: 'QActivation', name: `${x.node}/sign`, inputs: [x.node], actBits: 1, backwardOnly: false });
      this.signNodes.set(x.node, s);
    }
    return s;
  }

  /** The IR shape must be the TFLite output's (NHWC, batch 1; bitpacked: channels in words). */
  private checkShape(node: string, t: TfliteTensor, shape: Shape, at: string, maybeBits = false): void {
    const got = this.nodes.find((n) => n.name === node)!.shape;
    const want = t.shape.length === 4 ? [t.shape[3], t.shape[1], t.shape[2]] : t.shape.slice(1);
    const bits = maybeBits && t.type === 'INT32';
    const ok = got.join() === shape.join() && (bits
      ? want[0] === Math.ceil(shape[0] / 32) && want.slice(1).join() === shape.slice(1).join()
      : want.join() === shape.join());
    if (!ok) this.refuse(`${at}: output '${t.name}' is [${t.shape.join(', ')}], the import computes [${got.join(', ')}] (C, H, W)`);
  }
}

export function importLarq(file: string): LarqImport {
  const imp = new Importer(file, readTflite(file));
  const graph = imp.run();
  return { graph, notes: imp.notes };
}
