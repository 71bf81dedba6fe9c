/**
 * export-onnx: the float network that a compiled binary model computes, as a standard
 * ONNX model (opset 13), so any ONNX tool can run or view it and onnxruntime can serve
 * as an independent oracle and as the float baseline of `bench model`.
 *
 * Tensors: every compiled tensor h x w x c becomes an NCHW float tensor [N, c, h, w];
 * vectors (h = w = 1) may also live as [N, c] (Gemm outputs, Flatten). A packed 'bits'
 * tensor becomes its values: ±1 for 1-bit, the integer level 0..2^k-1 for k bits. The
 * integer accumulators of the array become floats holding the same integers; every
 * binary-layer step is exact in float32 (integers < 2^24), so the exported graph
 * reproduces the array bit for bit given the same binarised inputs. docs/ONNX.md lists
 * the mapping.
 */
import { UnsupportedError } from '../core/errors';
import { wordsFor } from '../core/bits';
import { windowOut } from '../ir/shapes';
import { levelDivisor } from '../core/scalar';
import { BconvOp, CompiledModel, CompiledOp, PAD_ZERO, TensorInfo } from '../compile/model';
import {
  ATTR_TYPE, AttributeProto, encodeModel, GraphProto, NodeProto, ONNX_DTYPE, TensorProto, ValueInfoProto,
} from '../format/onnx-proto';

export const ONNX_OPSET = 13;
/** IR version that goes with opset 13 (ONNX 1.8). */
export const ONNX_IR_VERSION = 7;

const FLOAT = ONNX_DTYPE.FLOAT;
const INT64 = ONNX_DTYPE.INT64;

type Attr =
  | { name: string; kind: 'int'; value: number }
  | { name: string; kind: 'ints'; value: number[] }
  | { name: string; kind: 'float'; value: number }
  | { name: string; kind: 'string'; value: string };

interface OnnxNode {
  op: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attrs: Attr[];
}

interface Initializer {
  name: string;
  dims: number[];
  type: typeof FLOAT | typeof INT64;
  data: Float32Array | BigInt64Array;
}

/** An extra graph output: the float input of a binarisation point (for diagnosing ties). */
export interface OnnxProbe {
  /** Graph output name. */
  name: string;
  /** Index of the compiled op (binarize / quantize) whose input this is. */
  op: number;
  /** The compiled tensor probed. */
  tensor: number;
  /** Activation bits of the binarisation (1 = sign, k = levels). */
  bits: number;
  /** ONNX shape without the batch axis: [c, h, w] or [c]. */
  shape: number[];
}

export interface OnnxExportOptions {
  /** Also output the input of every binarize / quantize op (see OnnxProbe). */
  probes?: boolean;
}

export interface OnnxExport {
  bytes: Uint8Array;
  input: { name: string; shape: [number, number, number] };
  output: { name: string; classes: number };
  probes: OnnxProbe[];
  opset: number;
  /** ONNX node count per op type. */
  ops: Record<string, number>;
  initializers: number;
  /** Float parameters stored (±1 weights included). */
  parameters: number;
}

export const INPUT_NAME = 'data';
export const OUTPUT_NAME = 'logits';

/** Per compiled tensor: its ONNX value as 4-D NCHW and/or 2-D [N, c]. */
interface Forms {
  r4?: string;
  r2?: string;
}

class Exporter {
  private readonly nodes: OnnxNode[] = [];
  private readonly inits: Initializer[] = [];
  private readonly used = new Set<string>();
  private readonly scalars = new Map<string, string>();
  private readonly forms = new Map<number, Forms>();
  private readonly probes: OnnxProbe[] = [];
  private parameters = 0;

  constructor(private readonly m: CompiledModel, private readonly opts: OnnxExportOptions) {}

  run(): OnnxExport {
    const m = this.m;
    const ti = m.tensors[m.input];
    this.used.add(INPUT_NAME);
    this.used.add(OUTPUT_NAME); // reserved: the output value is renamed to it at the end
    this.forms.set(m.input, { r4: INPUT_NAME });
    m.ops.forEach((op, i) => this.emit(op, i));
    const out = this.as2(m.output);
    this.renameValue(out, OUTPUT_NAME);
    const classes = m.tensors[m.output].h * m.tensors[m.output].w * m.tensors[m.output].c;
    const ops: Record<string, number> = {};
    for (const n of this.nodes) ops[n.op] = (ops[n.op] ?? 0) + 1;
    return {
      bytes: this.encode(classes),
      input: { name: INPUT_NAME, shape: [ti.c, ti.h, ti.w] },
      output: { name: OUTPUT_NAME, classes },
      probes: this.probes,
      opset: ONNX_OPSET,
      ops,
      initializers: this.inits.length,
      parameters: this.parameters,
    };
  }

  // ---- names, constants, nodes ------------------------------------------------------

  private unique(base: string): string {
    const clean = base.replace(/[^A-Za-z0-9_.:/-]/g, '_') || 'v';
    let name = clean;
    for (let k = 1; this.used.has(name); k++) name = `${clean}_${k}`;
    this.used.add(name);
    return name;
  }

  private constF(base: string, dims: number[], data: ArrayLike<number>): string {
    const name = this.unique(base);
    this.inits.push({ name, dims, type: FLOAT, data: Float32Array.from(data) });
    this.parameters += data.length;
    return name;
  }

  private constI64(base: string, data: number[]): string {
    const key = `i64:${data.join(',')}`;
    const hit = this.scalars.get(key);
    if (hit) return hit;
    const name = this.unique(base);
    this.inits.push({ name, dims: [data.length], type: INT64, data: BigInt64Array.from(data.map((v) => BigInt(v))) });
    this.scalars.set(key, name);
    return name;
  }

  /** A float scalar constant, shared by every node that needs the same value. */
  private scalar(v: number): string {
    const key = `f:${Object.is(v, -0) ? '-0' : v}`;
    const hit = this.scalars.get(key);
    if (hit) return hit;
    const name = this.unique(`const_${String(v).replace('-', 'minus').replace('.', 'p')}`);
    this.inits.push({ name, dims: [], type: FLOAT, data: Float32Array.of(v) });
    this.scalars.set(key, name);
    return name;
  }

  private node(op: string, inputs: string[], base: string, attrs: Attr[] = []): string {
    const out = this.unique(base);
    this.nodes.push({ op, name: out, inputs, outputs: [out], attrs });
    return out;
  }

  /** Rename a value everywhere (the model output gets a fixed name). */
  private renameValue(from: string, to: string): void {
    if (from === INPUT_NAME || this.inits.some((i) => i.name === from)) {
      this.nodes.push({ op: 'Identity', name: to, inputs: [from], outputs: [to], attrs: [] });
      return;
    }
    for (const n of this.nodes) {
      n.inputs = n.inputs.map((x) => (x === from ? to : x));
      n.outputs = n.outputs.map((x) => (x === from ? to : x));
    }
    for (const p of this.probes) if (p.name === from) p.name = to;
  }

  // ---- tensor forms -------------------------------------------------------------------

  private info(t: number): TensorInfo {
    return this.m.tensors[t];
  }

  private setValue(t: number, name: string, rank: 2 | 4): void {
    this.forms.set(t, rank === 4 ? { r4: name } : { r2: name });
  }

  private formsOf(t: number): Forms {
    const f = this.forms.get(t);
    if (!f) throw new Error(`export-onnx: tensor ${t} used before it is written`);
    return f;
  }

  /** The tensor as NCHW [N, c, h, w]. */
  private as4(t: number): string {
    const f = this.formsOf(t);
    if (f.r4) return f.r4;
    f.r4 = this.node('Unsqueeze', [f.r2!, this.constI64('axes_2_3', [2, 3])], `t${t}_nchw`);
    return f.r4;
  }

  /** The tensor as [N, h*w*c] in canonical HWC feature order (what dense weights index). */
  private as2(t: number): string {
    const f = this.formsOf(t);
    if (f.r2) return f.r2;
    const { h, w } = this.info(t);
    const x = h * w > 1 ? this.node('Transpose', [f.r4!], `t${t}_nhwc`, [{ name: 'perm', kind: 'ints', value: [0, 2, 3, 1] }]) : f.r4!;
    f.r2 = this.node('Flatten', [x], `t${t}_flat`, [{ name: 'axis', kind: 'int', value: 1 }]);
    return f.r2;
  }

  /** The tensor in whichever form exists (elementwise ops keep it), with its rank. */
  private any(t: number): { name: string; rank: 2 | 4 } {
    const f = this.formsOf(t);
    return f.r4 ? { name: f.r4, rank: 4 } : { name: f.r2!, rank: 2 };
  }

  /** Per-channel constant shaped to broadcast over a tensor of the given rank. */
  private perChannel(base: string, values: ArrayLike<number>, rank: 2 | 4, extra: number[] = []): string {
    const c = values.length / (extra.reduce((a, b) => a * b, 1) || 1);
    const dims = rank === 4 ? [c, ...extra, 1, 1] : [c, ...extra];
    return this.constF(base, dims, values);
  }

  // ---- ops ----------------------------------------------------------------------------

  private emit(op: CompiledOp, i: number): void {
    const base = `${this.m.opNames[i] ?? op.op}`;
    switch (op.op) {
      case 'conv2d': {
        const x = this.as4(op.in);
        const C = this.info(op.in).c / op.groups; // input channels of a group
        const O = this.info(op.out).c;
        const w = this.constF(`${base}_weight`, [O, C, op.kh, op.kw], ohwiToOihw(op.weight, O, op.kh, op.kw, C));
        const ins = [x, w];
        if (op.bias) ins.push(this.constF(`${base}_bias`, [O], op.bias));
        const group: Attr[] = op.groups > 1 ? [{ name: 'group', kind: 'int', value: op.groups }] : [];
        this.setValue(op.out, this.node('Conv', ins, base, [...windowAttrs(op.kh, op.kw, op.sh, op.sw, op.ph, op.pw), ...group]), 4);
        return;
      }
      case 'dense': {
        const x = this.as2(op.in);
        const O = this.info(op.out).c;
        const K = op.weight.length / O;
        const ins = [x, this.constF(`${base}_weight`, [O, K], op.weight)];
        if (op.bias) ins.push(this.constF(`${base}_bias`, [O], op.bias));
        this.setValue(op.out, this.node('Gemm', ins, base, [{ name: 'transB', kind: 'int', value: 1 }]), 2);
        return;
      }
      case 'batchnorm': {
        // (x - mean) * scale + beta in three float32 steps, exactly as the host computes it
        const x = this.any(op.in);
        const mean = this.perChannel(`${base}_mean`, op.mean, x.rank);
        const scale = this.perChannel(`${base}_scale`, op.scale, x.rank);
        const beta = this.perChannel(`${base}_beta`, op.beta, x.rank);
        const a = this.node('Sub', [x.name, mean], `${base}_centred`);
        const b = this.node('Mul', [a, scale], `${base}_scaled`);
        this.setValue(op.out, this.node('Add', [b, beta], base), x.rank);
        return;
      }
      case 'activation': {
        const x = this.any(op.in);
        const type = op.fn === 'tanh' ? 'Tanh' : op.fn === 'relu' ? 'Relu' : 'Sigmoid';
        this.setValue(op.out, this.node(type, [x.name], base), x.rank);
        return;
      }
      case 'pool': {
        const x = this.as4(op.in);
        const ti = this.info(op.in);
        const to = this.info(op.out);
        const ceil = poolCeilMode(op, ti, to, base);
        const attrs = [...windowAttrs(op.kh, op.kw, op.sh, op.sw, op.ph, op.pw), { name: 'ceil_mode', kind: 'int' as const, value: ceil ? 1 : 0 }];
        if (op.mode === 'max') {
          this.setValue(op.out, this.node('MaxPool', [x], base, attrs), 4);
        } else {
          attrs.push({ name: 'count_include_pad', kind: 'int', value: op.countIncludePad ? 1 : 0 });
          this.setValue(op.out, this.node('AveragePool', [x], base, attrs), 4);
        }
        return;
      }
      case 'add': {
        const [a, b] = op.in;
        const two = this.formsOf(a).r2 && this.formsOf(b).r2;
        const xa = two ? this.as2(a) : this.as4(a);
        const xb = two ? this.as2(b) : this.as4(b);
        this.setValue(op.out, this.node('Add', [xa, xb], base), two ? 2 : 4);
        return;
      }
      case 'flatten':
        this.setValue(op.out, this.as2(op.in), 2);
        return;
      case 'quantize':
      case 'binarize': {
        const x = this.any(op.in);
        this.probe(i, op.in, op.bits, x);
        let y: string;
        if (op.bits === 1) {
          y = this.signValue(x.name, base);
        } else {
          // a signed quantize says so itself; a binarize writes a signed tensor
          const signed = (op.op === 'quantize' ? op.signed : this.info(op.out).signed) === true;
          const level = this.level(x.name, op.bits, base, signed);
          y = op.op === 'binarize' ? level : this.node('Div', [level, this.scalar(levelDivisor(op.bits, signed))], base);
        }
        this.setValue(op.out, y, x.rank);
        return;
      }
      case 'dequantize': {
        const x = this.any(op.in);
        // v / 1 is v exactly: no node needed
        const y = op.divisor === 1 ? x.name : this.node('Div', [x.name, this.scalar(op.divisor)], base);
        this.setValue(op.out, y, x.rank);
        return;
      }
      case 'bconv':
        this.bconv(op, base);
        return;
    }
  }

  private probe(op: number, t: number, bits: number, x: { name: string; rank: 2 | 4 }): void {
    if (!this.opts.probes) return;
    const { h, w, c } = this.info(t);
    if (this.probes.some((p) => p.name === x.name)) return;
    this.probes.push({ name: x.name, op, tensor: t, bits, shape: x.rank === 4 ? [c, h, w] : [h * w * c] });
  }

  /** sign with sign(0) = +1 (ONNX Sign(0) = 0, so not Sign). */
  private signValue(x: string, base: string): string {
    const ge = this.node('GreaterOrEqual', [x, this.scalar(0)], `${base}_nonneg`);
    return this.node('Where', [ge, this.scalar(1), this.scalar(-1)], base);
  }

  /**
   * k-bit level round(L·clip(x,0,1)) (signed: round(L·clip(x,-1,1)), L = 2^(k-1)-1)
   * rounding half up. ONNX Round is half-to-even and Floor(y + 0.5) can round in float32
   * (0.49999997 + 0.5 -> 1), so use the exact floor(y) + [y - floor(y) >= 0.5] (the
   * fraction of a float32 is exact, negative y included).
   */
  private level(x: string, bits: number, base: string, signed = false): string {
    const L = levelDivisor(bits, signed);
    const c = this.node('Clip', [x, this.scalar(signed ? -1 : 0), this.scalar(1)], `${base}_clip`);
    const y = this.node('Mul', [c, this.scalar(L)], `${base}_scaled`);
    const fl = this.node('Floor', [y], `${base}_floor`);
    const frac = this.node('Sub', [y, fl], `${base}_frac`);
    const up = this.node('GreaterOrEqual', [frac, this.scalar(0.5)], `${base}_half`);
    const upF = this.node('Cast', [up], `${base}_round`, [{ name: 'to', kind: 'int', value: FLOAT }]);
    return this.node('Add', [fl, upF], `${base}_level`);
  }

  /**
   * Binary / integer conv or dense as a float conv with constant weights (±1, or the integer
   * weights). Inputs are their values: ±1 (1-bit) or levels (k-bit, signed or not); padding is
   * an explicit Pad with the pad value unless it is 0. The conv gives the dot product the
   * plane passes recombine to; ±1 by ±1 layers give P = (K + dot) / 2.
   */
  private bconv(op: BconvOp, base: string): void {
    const ti = this.info(op.in);
    const C = ti.c;
    const O = op.outC;
    const K = op.kh * op.kw * C;
    const weights = unpackWeightsOIHW(op, C);
    const vector = op.kh === 1 && op.kw === 1 && ti.h === 1 && ti.w === 1 && op.ph === 0 && op.pw === 0;
    let v: string;
    let rank: 2 | 4;
    if (vector) {
      // dense on a vector: Gemm with the ±1 matrix [O, K]
      const w = this.constF(`${base}_weight`, [O, K], weights);
      v = this.node('Gemm', [this.as2(op.in), w], `${base}_dot`, [{ name: 'transB', kind: 'int', value: 1 }]);
      rank = 2;
    } else {
      let x = this.as4(op.in);
      let [ph, pw] = [op.ph, op.pw];
      // padBit in every plane: ±1 for 1-bit inputs; for k-bit, 0 or all ones (-1 signed, 2^k - 1 unsigned)
      // (zero padding: Conv's own zeros)
      const padValue = op.padBit === PAD_ZERO ? 0 : op.inBits === 1 ? (op.padBit ? 1 : -1) : op.padBit ? (ti.signed ? -1 : (1 << op.inBits) - 1) : 0;
      if (padValue !== 0 && (ph > 0 || pw > 0)) {
        const pads = this.constI64(`pads_${ph}_${pw}`, [0, 0, ph, pw, 0, 0, ph, pw]);
        x = this.node('Pad', [x, pads, this.scalar(padValue)], `${base}_pad`);
        [ph, pw] = [0, 0];
      }
      const w = this.constF(`${base}_weight`, [O, C, op.kh, op.kw], weights);
      v = this.node('Conv', [x, w], `${base}_dot`, windowAttrs(op.kh, op.kw, op.sh, op.sw, ph, pw));
      rank = 4;
    }
    if (op.padBit === PAD_ZERO) {
      v = this.node('Add', [v, this.scalar(K)], `${base}_k_plus_dot`); // Q = K + dot
    } else if (op.inBits === 1 && (op.wBits ?? 1) === 1) {
      const s = this.node('Add', [v, this.scalar(K)], `${base}_k_plus_dot`);
      v = this.node('Mul', [s, this.scalar(0.5)], `${base}_matches`);
    }
    if (op.pool) {
      const p = op.pool;
      if (rank === 2) {
        v = this.as4FromName(v, `${base}_nchw`);
        rank = 4;
      }
      const attrs = windowAttrs(p.kh, p.kw, p.sh, p.sw, p.ph, p.pw);
      if (p.useMin.some((u) => u === 1)) {
        // per-channel min = -max(-v): flip the sign of those channels around a MaxPool
        const sgn = this.perChannel(`${base}_pool_sign`, Array.from(p.useMin, (u) => (u ? -1 : 1)), 4);
        const a = this.node('Mul', [v, sgn], `${base}_pool_in`);
        const b = this.node('MaxPool', [a], `${base}_pool`, attrs);
        v = this.node('Mul', [b, sgn], `${base}_pooled`);
      } else {
        v = this.node('MaxPool', [v], `${base}_pool`, attrs);
      }
    }
    const ep = op.epilogue;
    if (ep.kind === 'int') {
      this.setValue(op.out, v, rank);
      return;
    }
    const L = (1 << ep.bits) - 1;
    let y: string;
    if (ep.bits === 1) {
      // bit = (v >= t) XOR flip, as ±1: Where(v >= t, s, -s) with s = -1 on flipped channels
      const t = this.perChannel(`${base}_threshold`, ep.thresholds, rank);
      const s = Array.from(ep.flip, (f) => (f ? -1 : 1));
      const ge = this.node('GreaterOrEqual', [v, t], `${base}_ge`);
      y = this.node('Where', [ge, this.perChannel(`${base}_pos`, s, rank), this.perChannel(`${base}_neg`, s.map((x) => -x), rank)], base);
    } else {
      // level = sum_j [v >= t_j] (flip: sum_j [v < t_j] = L - sum_j [v >= t_j])
      const vu = this.node('Unsqueeze', [v, this.constI64('axes_2', [2])], `${base}_per_level`);
      const t = this.perChannel(`${base}_thresholds`, ep.thresholds, rank, [L]);
      const ge = this.node('GreaterOrEqual', [vu, t], `${base}_ge`);
      const gef = this.node('Cast', [ge], `${base}_ge_f`, [{ name: 'to', kind: 'int', value: FLOAT }]);
      y = this.node('ReduceSum', [gef, this.constI64('axes_2', [2])], `${base}_count`, [{ name: 'keepdims', kind: 'int', value: 0 }]);
      if (ep.flip.some((f) => f === 1)) {
        const sl = this.perChannel(`${base}_flip_slope`, Array.from(ep.flip, (f) => (f ? -1 : 1)), rank);
        const of = this.perChannel(`${base}_flip_offset`, Array.from(ep.flip, (f) => (f ? L : 0)), rank);
        y = this.node('Add', [this.node('Mul', [y, sl], `${base}_flip`), of], base);
      }
      // a signed output stores the level n as n - 2^(k-1)
      if (this.info(op.out).signed) y = this.node('Sub', [y, this.scalar(1 << (ep.bits - 1))], `${base}_signed`);
    }
    this.setValue(op.out, y, rank);
  }

  private as4FromName(x: string, base: string): string {
    return this.node('Unsqueeze', [x, this.constI64('axes_2_3', [2, 3])], base);
  }

  // ---- encoding -------------------------------------------------------------------------

  private encode(classes: number): Uint8Array {
    const m = this.m;
    const ti = m.tensors[m.input];
    const graph: GraphProto = {
      node: this.nodes.map(nodeProto),
      name: m.name || 'bitweave',
      initializer: this.inits.map(tensorProto),
      input: [valueInfo(INPUT_NAME, ['N', ti.c, ti.h, ti.w])],
      output: [valueInfo(OUTPUT_NAME, ['N', classes]), ...this.probes.map((p) => valueInfo(p.name, ['N', ...p.shape]))],
    };
    return encodeModel({
      ir_version: ONNX_IR_VERSION,
      producer_name: 'bitweave',
      producer_version: '0.1.0',
      domain: 'bitweave.float',
      model_version: 1,
      doc_string: `Float network computed by the binary model '${m.name}' (${m.source.format}); logits before any softmax.`,
      graph,
      opset_import: [{ domain: '', version: ONNX_OPSET }],
      metadata_props: [
        { key: 'bitweave.model', value: m.name },
        { key: 'bitweave.softmax', value: String(m.softmax) },
      ],
    });
  }
}

function nodeProto(n: OnnxNode): NodeProto {
  return { input: n.inputs, output: n.outputs, name: n.name, op_type: n.op, attribute: n.attrs.map(attributeProto) };
}

function attributeProto(a: Attr): AttributeProto {
  switch (a.kind) {
    case 'float':
      return { name: a.name, type: ATTR_TYPE.FLOAT, f: a.value };
    case 'int':
      return { name: a.name, type: ATTR_TYPE.INT, i: a.value };
    case 'string':
      return { name: a.name, type: ATTR_TYPE.STRING, s: new TextEncoder().encode(a.value) };
    case 'ints':
      return { name: a.name, type: ATTR_TYPE.INTS, ints: a.value };
  }
}

function tensorProto(t: Initializer): TensorProto {
  // raw_data is little-endian, as the typed arrays are on every platform Node runs on
  const raw = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  return { dims: t.dims, data_type: t.type, name: t.name, raw_data: raw };
}

function valueInfo(name: string, dims: (number | string)[]): ValueInfoProto {
  const dim = dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d }));
  return { name, type: { tensor_type: { elem_type: FLOAT, shape: { dim } } } };
}

function windowAttrs(kh: number, kw: number, sh: number, sw: number, ph: number, pw: number): Attr[] {
  return [
    { name: 'kernel_shape', kind: 'ints', value: [kh, kw] },
    { name: 'strides', kind: 'ints', value: [sh, sw] },
    { name: 'pads', kind: 'ints', value: [ph, pw, ph, pw] },
  ];
}

/**
 * Host pools keep MXNet's rounding in their output size: 'full' (ceil) shows as an output
 * larger than the floor formula gives. ONNX has one ceil_mode for both axes, and
 * onnxruntime drops a last window that would start inside the right padding where MXNet
 * keeps it, so such pools are refused rather than exported wrong.
 */
function poolCeilMode(op: Extract<CompiledOp, { op: 'pool' }>, ti: TensorInfo, to: TensorInfo, name: string): boolean {
  const fits = (ceil: boolean) =>
    windowOut(ti.h, op.kh, op.sh, op.ph, ceil) === to.h && windowOut(ti.w, op.kw, op.sw, op.pw, ceil) === to.w;
  if (fits(false)) return false;
  if (!fits(true)) throw new UnsupportedError(`export-onnx: pool '${name}' output ${to.h}x${to.w} matches neither floor nor ceil rounding on both axes`);
  if ((to.h - 1) * op.sh - op.ph >= ti.h || (to.w - 1) * op.sw - op.pw >= ti.w) {
    throw new UnsupportedError(`export-onnx: pool '${name}' has a ceil-rounded window that starts in the padding`);
  }
  return true;
}

/** Float conv weights OHWI -> OIHW. */
export function ohwiToOihw(w: Float32Array, O: number, kh: number, kw: number, C: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let o = 0; o < O; o++)
    for (let ky = 0; ky < kh; ky++)
      for (let kx = 0; kx < kw; kx++)
        for (let c = 0; c < C; c++) out[((o * C + c) * kh + ky) * kw + kx] = w[((o * kh + ky) * kw + kx) * C + c];
  return out;
}

/**
 * Packed canonical weights -> their values in OIHW order: ±1 (1 bit), or the integers the
 * `wBits` planes ([plane][O][kh][kw][words]) hold, two's complement when `wSigned`.
 */
export function unpackWeightsOIHW(op: BconvOp, C: number): Float32Array {
  const u32 = wordsFor(C) * 2;
  const { kh, kw, outC: O } = op;
  const planes = op.wBits ?? 1;
  const planeU32 = O * kh * kw * u32;
  const out = new Float32Array(O * C * kh * kw);
  for (let o = 0; o < O; o++)
    for (let ky = 0; ky < kh; ky++)
      for (let kx = 0; kx < kw; kx++) {
        const base = ((o * kh + ky) * kw + kx) * u32;
        for (let c = 0; c < C; c++) {
          let v = 0;
          for (let q = 0; q < planes; q++) v |= ((op.weight[q * planeU32 + base + (c >>> 5)] >>> (c & 31)) & 1) << q;
          if (planes === 1) v = v ? 1 : -1;
          else if (op.wSigned && v >= 1 << (planes - 1)) v -= 1 << planes;
          out[((o * C + c) * kh + ky) * kw + kx] = v;
        }
      }
  return out;
}

/** The float network of a compiled model as ONNX, with details for reports and tests. */
export function exportOnnxModel(model: CompiledModel, opts: OnnxExportOptions = {}): OnnxExport {
  return new Exporter(model, opts).run();
}

/** The float network of a compiled model as an ONNX ModelProto (opset 13). */
export function exportOnnx(model: CompiledModel): Uint8Array {
  return exportOnnxModel(model).bytes;
}
