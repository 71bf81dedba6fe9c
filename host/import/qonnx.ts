/**
 * QONNX importer: ONNX graphs with QONNX/FINN quantisation nodes (as Brevitas and QKeras
 * export them, and as FINN and hls4ml read them) -> the IR.
 *
 * Values are either constants (initializers and everything computed from them alone, so
 * shape chains such as Shape -> Gather -> Unsqueeze -> Concat -> Reshape fold away) or
 * dynamic (an IR node's output). A dynamic value may carry a quantisation: its real value
 * is `mult` times the IR node's float output, whose levels a binary layer can read
 * directly. A MatMul / Gemm / Conv whose input is quantised and whose weights are ±s
 * becomes a binary layer, followed by the exact affine that maps the match count P onto
 * the source's value s_a·s_w·(2P − K) (DESIGN §1); the compiler folds it with the
 * BatchNorm and the next quantiser into integer thresholds.
 *
 * Everything the importer does not implement is one UnsupportedError naming the node,
 * its op and the attribute or value at fault.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BitweaveError, FormatError, ShapeError, UnsupportedError } from '../core/errors';
import { ioReason } from '../core/files';
import {
  ATTR_TYPE, AttributeProto, decodeModel, int64, ModelProto, NodeProto, ONNX_DTYPE, TensorProto,
} from '../format/onnx-proto';
import { BinaryWeights, IRGraph, IRNode, Shape } from '../ir/graph';
import { inferShape } from '../ir/shapes';
import { levelDivisor } from '../core/scalar';

/** Largest .onnx file read (protobuf messages are limited to 2 GiB anyway). */
const MAX_ONNX_BYTES = 2 ** 31 - 1;
/** Activation bits the binary layers take (DESIGN: k-bit activations). */
const MAX_ACT_BITS = 8;
/** Weight bits the array takes (bit-serial weight planes). */
const MAX_WEIGHT_BITS = 4;

interface QuantConst {
  /** ±1 levels (BipolarQuant) or integers (Quant), one per element. */
  bipolar: boolean;
  bits: number;
  signed: boolean;
  levels: Int32Array;
  /** Scale per element (broadcast expanded), so permutations carry it along. */
  scale: Float64Array;
}

interface Const {
  kind: 'const';
  dims: number[];
  data: Float64Array;
  q?: QuantConst;
}

type ActQuant = { kind: 'bipolar' } | { kind: 'int'; bits: number; signed: boolean };

interface Dyn {
  kind: 'dyn';
  /** IR node holding the value (times `mult` when quantised). */
  node: string;
  /** ONNX dims including the batch axis (1). */
  dims: number[];
  q?: ActQuant;
  /** Real value = mult · the node's float output (quantised values only). */
  mult: number;
}

type Value = Const | Dyn;

export interface QonnxImport {
  graph: IRGraph;
  /** Things a user should know (layers left on the host, rounding caveats). */
  notes: string[];
}

const prod = (d: number[]) => d.reduce((a, b) => a * b, 1);

class Importer {
  private readonly values = new Map<string, Value>();
  private readonly nodes: IRNode[] = [];
  private readonly names = new Set<string>();
  private readonly materialized = new Map<string, string>();
  readonly notes: string[] = [];
  private where = '';

  constructor(private readonly model: ModelProto, private readonly file: string) {}

  run(): IRGraph {
    const g = this.model.graph;
    if (!g) throw new FormatError(this.file, 'the ONNX model has no graph');
    for (const t of g.initializer ?? []) {
      if (!t.name) throw new FormatError(this.file, 'an initializer has no name');
      if (this.values.has(t.name)) throw new FormatError(this.file, `initializer '${t.name}' is defined twice`);
      this.values.set(t.name, this.tensorConst(t, `initializer '${t.name}'`));
    }
    const inputs = (g.input ?? []).filter((v) => v.name && !this.values.has(v.name));
    if (inputs.length !== 1) {
      throw new UnsupportedError(`${this.file}: the graph has ${inputs.length} data inputs (${inputs.map((v) => v.name).join(', ')}); bitweave models take one`);
    }
    const input = inputs[0];
    const tt = input.type?.tensor_type;
    if (!tt || tt.elem_type !== ONNX_DTYPE.FLOAT) {
      throw new UnsupportedError(`${this.file}: input '${input.name}' must be a float32 tensor`);
    }
    const dims = (tt.shape?.dim ?? []).map((d, i) => {
      if (d.dim_param !== undefined || d.dim_value === undefined) {
        if (i === 0) return 1;
        throw new UnsupportedError(`${this.file}: input '${input.name}' has a symbolic dimension ${i} ('${d.dim_param ?? '?'}'); only the batch axis may be symbolic`);
      }
      return int64(d.dim_value, `input '${input.name}' dims`, this.file);
    });
    if (!(dims.length === 2 || dims.length === 4) || dims[0] !== 1 || dims.some((d) => d < 1)) {
      throw new UnsupportedError(`${this.file}: input '${input.name}' has shape [${dims.join(', ')}]; bitweave takes [N, C, H, W] or [N, features] with batch 1 or symbolic`);
    }
    const name = this.fresh(input.name!);
    this.push({ op: 'Input', name, inputs: [], shape: dims.slice(1) } as IRNode);
    this.values.set(input.name!, { kind: 'dyn', node: name, dims, mult: 1 });

    for (const [i, n] of (g.node ?? []).entries()) {
      this.where = `node '${n.name || `#${i}`}' (${n.op_type ?? '?'})`;
      const outs = this.node(n);
      const outputs = n.output ?? [];
      if (outputs.length < outs.length) throw new FormatError(this.file, `${this.where} has too few outputs`);
      outs.forEach((v, k) => {
        const name = outputs[k];
        if (!name) return;
        if (this.values.has(name)) throw new FormatError(this.file, `${this.where}: value '${name}' is defined twice`);
        this.values.set(name, v);
      });
    }
    this.where = '';
    const outs = g.output ?? [];
    if (outs.length !== 1) throw new UnsupportedError(`${this.file}: the graph has ${outs.length} outputs; bitweave models have one (the logits)`);
    const out = this.values.get(outs[0].name ?? '');
    if (!out) throw new FormatError(this.file, `graph output '${outs[0].name}' is never produced`);
    if (out.kind === 'const') throw new UnsupportedError(`${this.file}: the graph output '${outs[0].name}' does not depend on the input`);
    const outNode = this.real(out);
    return {
      name: path.basename(this.file).replace(/\.onnx$/i, ''),
      source: { format: 'qonnx', files: [this.file] },
      nodes: this.nodes,
      output: outNode,
      inputNote: 'QONNX: the input as the ONNX graph takes it (float32 NCHW); preprocessing inside the graph is kept',
    };
  }

  // ---- helpers ------------------------------------------------------------------------

  private unsupported(what: string): never {
    throw new UnsupportedError(`${this.file}: ${this.where}: ${what}`);
  }

  private fresh(base: string): string {
    let n = base || 'node';
    for (let i = 1; this.names.has(n); i++) n = `${base}_${i}`;
    this.names.add(n);
    return n;
  }

  private push(n: IRNode): string {
    this.nodes.push(n);
    return n.name;
  }

  /** Add an IR node after shape inference (its inputs are IR node names). */
  private add(spec: Record<string, unknown> & { op: IRNode['op']; name: string; inputs: string[] }): string {
    const node = { ...spec, name: this.fresh(spec.name), shape: [] as Shape } as unknown as IRNode;
    const shapes = node.inputs.map((i) => this.nodes.find((x) => x.name === i)!.shape);
    try {
      node.shape = inferShape(node, shapes);
    } catch (e) {
      if (e instanceof ShapeError) this.unsupported(e.message);
      throw e;
    }
    return this.push(node);
  }

  private irShape(name: string): Shape {
    return this.nodes.find((x) => x.name === name)!.shape;
  }

  private input(n: NodeProto, i: number, what: string): Value {
    const name = (n.input ?? [])[i];
    if (!name) this.unsupported(`missing input ${i} (${what})`);
    const v = this.values.get(name);
    if (!v) throw new FormatError(this.file, `${this.where}: input '${name}' is neither the graph input, an initializer nor an earlier node's output`);
    return v;
  }

  private optInput(n: NodeProto, i: number): Value | undefined {
    const name = (n.input ?? [])[i];
    if (!name) return undefined;
    return this.input(n, i, 'optional');
  }

  private constInput(n: NodeProto, i: number, what: string): Const {
    const v = this.input(n, i, what);
    if (v.kind !== 'const') this.unsupported(`${what} (input ${i}) must be a constant, not computed from the data`);
    return v;
  }

  private attr(n: NodeProto, name: string): AttributeProto | undefined {
    return (n.attribute ?? []).find((a) => a.name === name);
  }

  private attrInt(n: NodeProto, name: string, dflt: number): number {
    const a = this.attr(n, name);
    if (!a) return dflt;
    if (a.i === undefined && a.type !== ATTR_TYPE.INT) this.unsupported(`attribute ${name} must be an integer`);
    return int64(a.i, `attribute ${name}`, this.file);
  }

  private attrFloat(n: NodeProto, name: string, dflt: number): number {
    const a = this.attr(n, name);
    if (!a) return dflt;
    if (a.f === undefined) return a.type === ATTR_TYPE.FLOAT ? 0 : this.unsupported(`attribute ${name} must be a float`);
    return a.f;
  }

  private attrInts(n: NodeProto, name: string): number[] | undefined {
    const a = this.attr(n, name);
    if (!a) return undefined;
    return (a.ints ?? []).map((v) => int64(v, `attribute ${name}`, this.file));
  }

  private attrString(n: NodeProto, name: string, dflt: string): string {
    const a = this.attr(n, name);
    if (!a) return dflt;
    return new TextDecoder().decode(a.s ?? new Uint8Array(0));
  }

  /** Refuse attributes the op does not implement (named, with their value). */
  private only(n: NodeProto, allowed: string[]): void {
    for (const a of n.attribute ?? []) {
      if (!allowed.includes(a.name ?? '')) this.unsupported(`attribute '${a.name}' is not supported`);
    }
  }

  private tensorConst(t: TensorProto, what: string): Const {
    const dims = (t.dims ?? []).map((d) => int64(d, `${what} dims`, this.file));
    if (dims.some((d) => d < 0)) throw new FormatError(this.file, `${what}: negative dimension`);
    const n = prod(dims);
    if (t.data_location === 1) throw new UnsupportedError(`${this.file}: ${what} keeps its data in an external file`);
    const type = t.data_type ?? 0;
    const raw = t.raw_data && t.raw_data.length ? t.raw_data : null;
    const size: Record<number, number> = { [ONNX_DTYPE.FLOAT]: 4, [ONNX_DTYPE.DOUBLE]: 8, [ONNX_DTYPE.INT64]: 8, [ONNX_DTYPE.INT32]: 4, [ONNX_DTYPE.INT8]: 1, [ONNX_DTYPE.UINT8]: 1 };
    if (!(type in size)) throw new UnsupportedError(`${this.file}: ${what} has data type ${type} (bitweave reads float, double, int8/32/64, uint8)`);
    // sizes are checked against the bytes present before anything is allocated
    if (raw && raw.length !== n * size[type]) throw new FormatError(this.file, `${what}: raw_data holds ${raw.length} bytes, [${dims.join(', ')}] needs ${n * size[type]}`);
    const src: ArrayLike<number | { low: number; high: number }> = raw ? [] :
      type === ONNX_DTYPE.FLOAT ? t.float_data ?? [] : type === ONNX_DTYPE.DOUBLE ? t.double_data ?? [] : type === ONNX_DTYPE.INT64 ? t.int64_data ?? [] : t.int32_data ?? [];
    if (!raw && src.length !== n) throw new FormatError(this.file, `${what}: holds ${src.length} values, [${dims.join(', ')}] needs ${n}`);
    const data = new Float64Array(n);
    if (raw) {
      const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      for (let i = 0; i < n; i++) {
        switch (type) {
          case ONNX_DTYPE.FLOAT: data[i] = dv.getFloat32(i * 4, true); break;
          case ONNX_DTYPE.DOUBLE: data[i] = dv.getFloat64(i * 8, true); break;
          case ONNX_DTYPE.INT64: data[i] = Number(dv.getBigInt64(i * 8, true)); break;
          case ONNX_DTYPE.INT32: data[i] = dv.getInt32(i * 4, true); break;
          case ONNX_DTYPE.INT8: data[i] = dv.getInt8(i); break;
          default: data[i] = dv.getUint8(i);
        }
      }
    } else {
      for (let i = 0; i < n; i++) {
        const v = src[i];
        data[i] = typeof v === 'number' ? v : int64(v, what, this.file);
      }
    }
    return { kind: 'const', dims, data };
  }

  /** The IR node holding a dynamic value's real value (adding the scale once if needed). */
  private real(v: Dyn): string {
    if (v.mult === 1) return v.node;
    const key = `${v.node}*${v.mult}`;
    const done = this.materialized.get(key);
    if (done) return done;
    const c = this.irShape(v.node)[0];
    const name = this.add({ op: 'Affine', name: `${v.node}_scaled`, inputs: [v.node], scale: new Float32Array(c).fill(v.mult), bias: new Float32Array(c) });
    this.materialized.set(key, name);
    return name;
  }

  private dyn(node: string, dims: number[], q?: ActQuant, mult = 1): Dyn {
    return { kind: 'dyn', node, dims, q, mult };
  }

  /** A constant broadcast per channel of `x` (scalar, [C], [1, C], [1, C, 1, 1]), or null. */
  private perChannel(c: Const, x: Dyn): Float64Array | null {
    const C = x.dims[1];
    const n = prod(c.dims);
    if (n === 1) return new Float64Array(C).fill(c.data[0]);
    if (n !== C) return null;
    const d = c.dims.slice();
    while (d.length && d[0] === 1 && d.length > 1) d.shift();
    // [C] aligns with the last axis: per channel only for vectors
    if (c.dims.length <= 1 && x.dims.length !== 2) return null;
    if (c.dims.length > 1) {
      const full = [...Array(x.dims.length - c.dims.length).fill(1), ...c.dims];
      if (full.length !== x.dims.length || full.some((v, i) => v !== (i === 1 ? C : 1))) return null;
    }
    return Float64Array.from(c.data);
  }

  private affine(x: Dyn, scale: Float64Array, bias: Float64Array, base: string): Dyn {
    const src = this.real(x);
    if (scale.every((s) => s === 1) && bias.every((b) => b === 0)) return this.dyn(src, x.dims);
    const name = this.add({ op: 'Affine', name: base, inputs: [src], scale: Float32Array.from(scale), bias: Float32Array.from(bias) });
    return this.dyn(name, x.dims);
  }

  // ---- nodes --------------------------------------------------------------------------

  private node(n: NodeProto): Value[] {
    const op = n.op_type ?? '';
    const base = n.name || op;
    // present inputs (optional ones may be given as '')
    const ins = (n.input ?? []).flatMap((x, i) => (x === '' ? [] : [this.input(n, i, 'input')]));
    if (op === 'Constant') return [this.constantNode(n)];
    if (ins.length && ins.every((v) => v.kind === 'const') && op !== 'Quant' && op !== 'BipolarQuant') {
      return [this.fold(n, op, ins as Const[])];
    }
    switch (op) {
      case 'Identity':
      case 'Dropout':
        return [ins[0]];
      case 'BipolarQuant':
        return [this.bipolarQuant(n, ins)];
      case 'Quant':
        return [this.quant(n, ins)];
      case 'MultiThreshold':
        return [this.multiThreshold(n, base)];
      case 'MatMul':
      case 'Gemm':
        return [this.matmul(n, op, base)];
      case 'Conv':
        return [this.conv(n, base)];
      case 'BatchNormalization': {
        this.only(n, ['epsilon', 'momentum', 'spatial', 'training_mode']);
        const x = this.dynInput(n, 0);
        // BatchNorm parameters are 1-D along axis 1 whatever the input's rank
        const p = [1, 2, 3, 4].map((i) => this.constInput(n, i, 'BatchNorm parameter').data);
        if (p.some((v) => v.length !== x.dims[1])) this.unsupported(`parameters must have ${x.dims[1]} values, one per channel`);
        const eps = this.attrFloat(n, 'epsilon', 1e-5);
        const name = this.add({
          op: 'BatchNorm', name: base, inputs: [this.real(x)], eps,
          gamma: Float32Array.from(p[0]!), beta: Float32Array.from(p[1]!), mean: Float32Array.from(p[2]!), variance: Float32Array.from(p[3]!),
        });
        return [this.dyn(name, x.dims)];
      }
      case 'Mul':
      case 'Add':
      case 'Sub':
      case 'Div':
        return [this.elementwise(n, op, base, ins)];
      case 'Relu':
      case 'Tanh':
      case 'Sigmoid': {
        this.only(n, []);
        const x = this.dynInput(n, 0);
        const name = this.add({ op: 'Activation', name: base, inputs: [this.real(x)], actType: op.toLowerCase() });
        return [this.dyn(name, x.dims)];
      }
      case 'MaxPool':
      case 'AveragePool':
        return [this.pool(n, op, base)];
      case 'GlobalAveragePool':
      case 'GlobalMaxPool': {
        this.only(n, []);
        const x = this.dynInput(n, 0);
        if (x.dims.length !== 4) this.unsupported('input must be [N, C, H, W]');
        const name = this.add({
          op: 'Pooling', name: base, inputs: [this.real(x)], poolType: op === 'GlobalMaxPool' ? 'max' : 'avg',
          kernel: [x.dims[2], x.dims[3]], stride: [1, 1], pad: [0, 0], global: true, convention: 'valid', countIncludePad: true,
        });
        return [this.dyn(name, [x.dims[0], x.dims[1], 1, 1])];
      }
      case 'Flatten': {
        this.only(n, ['axis']);
        if (this.attrInt(n, 'axis', 1) !== 1) this.unsupported('only axis=1 is supported');
        return [this.flatten(this.dynInput(n, 0), base)];
      }
      case 'Reshape':
        return [this.reshape(n, base)];
      case 'Transpose': {
        const x = this.dynInput(n, 0);
        const perm = this.attrInts(n, 'perm') ?? x.dims.map((_, i) => x.dims.length - 1 - i);
        if (perm.some((p, i) => p !== i)) this.unsupported(`perm [${perm.join(', ')}] on data is not supported (only constant tensors are transposed)`);
        return [x];
      }
      case 'Softmax': {
        const x = this.dynInput(n, 0);
        if (x.dims.length !== 2) this.unsupported('softmax over a vector only');
        const name = this.add({ op: 'Softmax', name: base, inputs: [this.real(x)] });
        return [this.dyn(name, x.dims)];
      }
      case 'Shape':
        return [{ kind: 'const', dims: [ins[0].dims.length], data: Float64Array.from(ins[0].dims) }];
      default:
        this.unsupported(`op ${op}${n.domain ? ` (domain ${n.domain})` : ''} is not supported`);
    }
  }

  private dynInput(n: NodeProto, i: number): Dyn {
    const v = this.input(n, i, 'data');
    if (v.kind !== 'dyn') this.unsupported(`input ${i} must be data`);
    return v;
  }

  private constantNode(n: NodeProto): Const {
    const a = this.attr(n, 'value');
    if (a?.t) return this.tensorConst(a.t, this.where);
    const f = this.attr(n, 'value_float');
    if (f) return { kind: 'const', dims: [], data: Float64Array.of(f.f ?? 0) };
    const i = this.attr(n, 'value_int');
    if (i) return { kind: 'const', dims: [], data: Float64Array.of(int64(i.i, 'value_int', this.file)) };
    const is = this.attrInts(n, 'value_ints');
    if (is) return { kind: 'const', dims: [is.length], data: Float64Array.from(is) };
    return this.unsupported('only value, value_float, value_int and value_ints constants are supported');
  }

  private scaleOf(c: Const, what: string): Float64Array {
    for (const s of c.data) {
      if (!Number.isFinite(s) || s <= 0) this.unsupported(`${what} ${s} must be finite and positive`);
    }
    return c.data;
  }

  private bitsOf(c: Const, lo: number, hi: number): number {
    if (c.data.length !== 1) this.unsupported('bit width must be a scalar');
    const b = c.data[0];
    if (!Number.isInteger(b) || b < lo || b > hi) this.unsupported(`bit width ${b} is outside the supported range ${lo}..${hi}`);
    return b;
  }

  private bipolarQuant(n: NodeProto, ins: Value[]): Value {
    this.only(n, []);
    const scale = this.constInput(n, 1, 'scale');
    this.scaleOf(scale, 'scale');
    const x = ins[0];
    if (x.kind === 'const') {
      const s = broadcastTo(scale, x.dims, () => this.unsupported('scale does not broadcast to the input'));
      const levels = Int32Array.from(x.data, (v) => (v >= 0 ? 1 : -1));
      return {
        kind: 'const', dims: x.dims, data: Float64Array.from(levels, (l, i) => l * s[i]),
        q: { bipolar: true, bits: 1, signed: true, levels, scale: s },
      };
    }
    if (scale.data.length !== 1) this.unsupported('a per-channel scale on activations is not supported (scale must be a scalar)');
    // sign(x)·s: the sign does not depend on s > 0, so the ±1 levels come from x itself
    const name = this.add({ op: 'QActivation', name: n.name || 'BipolarQuant', inputs: [this.real(x)], actBits: 1, backwardOnly: false });
    return this.dyn(name, x.dims, { kind: 'bipolar' }, scale.data[0]);
  }

  private quant(n: NodeProto, ins: Value[]): Value {
    this.only(n, ['signed', 'narrow', 'rounding_mode']);
    const signed = this.attrInt(n, 'signed', 1) !== 0;
    const narrow = this.attrInt(n, 'narrow', 0) !== 0;
    const mode = this.attrString(n, 'rounding_mode', 'ROUND');
    const scale = this.scaleOf(this.constInput(n, 1, 'scale'), 'scale');
    const zp = this.constInput(n, 2, 'zero point');
    const x = ins[0];
    if (x.kind === 'const') {
      const bits = this.bitsOf(this.constInput(n, 3, 'bit width'), 1, 31);
      const lo = signed ? -(2 ** (bits - 1)) + (narrow ? 1 : 0) : 0;
      const hi = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1 - (narrow ? 1 : 0);
      const round = roundingFn(mode) ?? this.unsupported(`rounding_mode '${mode}' is not supported (ROUND, CEIL, FLOOR, ROUND_TO_ZERO)`);
      const s = broadcastTo(this.constInput(n, 1, 'scale'), x.dims, () => this.unsupported('scale does not broadcast to the input'));
      const z = broadcastTo(zp, x.dims, () => this.unsupported('zero point does not broadcast to the input'));
      const levels = new Int32Array(x.data.length);
      const data = new Float64Array(x.data.length);
      for (let i = 0; i < levels.length; i++) {
        const q = round(Math.min(hi, Math.max(lo, x.data[i] / s[i] + z[i])));
        levels[i] = q - z[i];
        data[i] = (q - z[i]) * s[i];
      }
      const zeroFree = z.every((v) => v === 0);
      return { kind: 'const', dims: x.dims, data, q: zeroFree ? { bipolar: false, bits, signed, levels, scale: s } : undefined };
    }
    const bits = this.bitsOf(this.constInput(n, 3, 'bit width'), 1, MAX_ACT_BITS);
    if (scale.length !== 1) this.unsupported('a per-channel scale on activations is not supported (scale must be a scalar)');
    if (zp.data.some((v) => v !== 0)) this.unsupported(`zero point ${zp.data[0]} on activations is not supported (only 0)`);
    if (bits < 2) this.unsupported(`${signed ? 'signed' : 'unsigned'} 1-bit activations are not supported (bipolar ±1 is: BipolarQuant)`);
    if (signed && !narrow) this.unsupported(`signed ${bits}-bit activations need narrow=1 (levels ±(2^(k-1) - 1); -2^(k-1) is not produced)`);
    if (!signed && narrow) this.unsupported('narrow-range unsigned activations are not supported');
    if (mode !== 'ROUND') this.unsupported(`rounding_mode '${mode}' on activations is not supported (ROUND)`);
    // unsigned: level = clip(round(x / s), 0, 2^k - 1) = round(L·clip(x', 0, 1)) with L = 2^k - 1;
    // signed narrow: clip(round(x / s), -L, L) = round(L·clip(x', -1, 1)) with L = 2^(k-1) - 1;
    // x' = x / (s·L). That is the k-bit activation of DESIGN §1, whose float output is level / L.
    const L = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
    const C = x.dims[1];
    const pre = this.affine(x, new Float64Array(C).fill(1 / (scale[0] * L)), new Float64Array(C), `${n.name || 'Quant'}_in`);
    const name = this.add({ op: 'QActivation', name: n.name || 'Quant', inputs: [pre.node], actBits: bits, ...(signed ? { signed: true } : {}), backwardOnly: false });
    this.note(`${this.where}: ${bits}-bit activation levels round half up where ROUND rounds half to even (only exact ties differ)`);
    return this.dyn(name, x.dims, { kind: 'int', bits, signed }, scale[0] * L);
  }

  private multiThreshold(n: NodeProto, base: string): Value {
    this.only(n, ['out_dtype', 'out_scale', 'out_bias', 'data_layout']);
    const x = this.dynInput(n, 0);
    const t = this.constInput(n, 1, 'thresholds');
    const layout = this.attrString(n, 'data_layout', 'NCHW');
    if (layout !== 'NCHW' && !(layout === 'NC' && x.dims.length === 2)) this.unsupported(`data_layout ${layout} is not supported`);
    const C = x.dims[1];
    if (t.dims.length !== 2 || (t.dims[0] !== C && t.dims[0] !== 1)) this.unsupported(`thresholds [${t.dims.join(', ')}] must be [C, T] or [1, T]`);
    const T = t.dims[1];
    const outScale = this.attrFloat(n, 'out_scale', 1);
    const outBias = this.attrFloat(n, 'out_bias', 0);
    if (!Number.isFinite(outScale) || outScale <= 0) this.unsupported(`out_scale ${outScale} must be finite and positive`);
    if (t.data.some((v) => Number.isNaN(v))) this.unsupported('a threshold is NaN');
    if (T === 1) {
      const th = new Float64Array(C).map((_, c) => t.data[t.dims[0] === 1 ? 0 : c]);
      // [x >= t] = sign(x - t): float32 subtraction keeps the sign exactly
      const d = this.affine(x, new Float64Array(C).fill(1), th.map((v) => -v), `${base}_minus_t`);
      const q = this.add({ op: 'QActivation', name: base, inputs: [d.node], actBits: 1, backwardOnly: false });
      // ±1 level b -> out_scale·(b + 1)/2 + out_bias
      if (outScale === 2 && outBias === -1) return this.dyn(q, x.dims, { kind: 'bipolar' }, 1);
      return this.affine(this.dyn(q, x.dims), new Float64Array(C).fill(outScale / 2), new Float64Array(C).fill(outScale / 2 + outBias), `${base}_out`);
    }
    // n = #{j: x >= t_j} in k bits: unsigned (out_bias 0) or signed n - 2^(k-1) (out_bias -2^(k-1)·out_scale)
    const bits = Math.ceil(Math.log2(T + 1));
    if (bits > MAX_ACT_BITS) this.unsupported(`${T} thresholds need ${bits} bits (at most ${MAX_ACT_BITS})`);
    const signed = outBias !== 0;
    if (signed && outBias !== -(2 ** (bits - 1)) * outScale) {
      this.unsupported(`out_bias ${outBias} is neither 0 nor -2^${bits - 1}·out_scale (levels must be unsigned or two's complement)`);
    }
    const thresholds = new Float32Array(C * T);
    for (let c = 0; c < C; c++) for (let j = 0; j < T; j++) thresholds[c * T + j] = t.data[(t.dims[0] === 1 ? 0 : c) * T + j];
    const name = this.add({ op: 'MultiThreshold', name: base, inputs: [this.real(x)], thresholds, count: T, bits, signed });
    // the next layer's float for level s is s / L, the source's value out_scale·s
    return this.dyn(name, x.dims, { kind: 'int', bits, signed }, outScale * levelDivisor(bits, signed));
  }

  private matmul(n: NodeProto, op: string, base: string): Value {
    let bias: Const | undefined;
    let wConst: Const;
    if (op === 'Gemm') {
      this.only(n, ['alpha', 'beta', 'transA', 'transB']);
      if (this.attrInt(n, 'transA', 0) !== 0) this.unsupported('transA=1 is not supported');
      if (this.attrFloat(n, 'alpha', 1) !== 1 || this.attrFloat(n, 'beta', 1) !== 1) this.unsupported('alpha and beta other than 1 are not supported');
      wConst = this.constInput(n, 1, 'weights');
      if (this.attrInt(n, 'transB', 0) !== 0) wConst = transposeConst(wConst, [1, 0]);
      const c = this.optInput(n, 2);
      if (c && c.kind !== 'const') this.unsupported('the bias must be a constant');
      bias = c as Const | undefined;
    } else {
      this.only(n, []);
      wConst = this.constInput(n, 1, 'weights');
    }
    const x = this.dynInput(n, 0);
    if (x.dims.length !== 2 || wConst.dims.length !== 2) this.unsupported(`needs a [N, K] input and [K, O] weights, got [${x.dims.join(', ')}] and [${wConst.dims.join(', ')}]`);
    const [K, O] = wConst.dims;
    if (x.dims[1] !== K) this.unsupported(`input has ${x.dims[1]} features, weights expect ${K}`);
    // IR weights are [O][K]
    const oihw = transposeConst(wConst, [1, 0]);
    const y = this.linear(x, oihw, O, K, base, (inp, weight, act) =>
      weight instanceof Float32Array
        ? this.add({ op: 'FullyConnected', name: base, inputs: [inp], numHidden: O, weight, bias: null })
        : this.add({ op: 'QFullyConnected', name: base, inputs: [inp], numHidden: O, ...act, weight }));
    if (!bias) return y;
    const b = this.perChannel(bias, y as Dyn) ?? this.unsupported('the bias must have one value per output');
    return this.affine(y as Dyn, new Float64Array(O).fill(1), b, `${base}_bias`);
  }

  /**
   * A dense or convolution layer on weights `w` ([O][...K] in OIHW order): a binary / integer
   * layer when the input is quantised and the weights are quantised with one scale per output
   * (±s: binary; k-bit integers: bit-serial weight planes), else a float layer.
   */
  private linear(
    x: Dyn, w: Const, O: number, K: number, base: string,
    make: (input: string, weight: Float32Array | BinaryWeights, act: { actBits: number; actSigned?: boolean }) => string,
  ): Dyn {
    const wq = w.q;
    const outDims = [1, O];
    const scaleW = new Float64Array(O);
    let uniform = !!wq;
    for (let o = 0; o < O && uniform; o++) {
      scaleW[o] = wq!.scale[o * K];
      for (let k = 1; k < K; k++) if (wq!.scale[o * K + k] !== scaleW[o]) { uniform = false; break; }
    }
    // 1-bit Quant weights ({0, 1} or {-1, 0}) run as 2-bit integers; wider than 4 bits stays float
    const wBits = wq && !wq.bipolar ? Math.max(2, wq.bits) : 1;
    const onArray = !!x.q && !!wq && uniform && wBits <= MAX_WEIGHT_BITS;
    if (onArray) {
      const act = x.q!.kind === 'bipolar' ? { actBits: 1 } : { actBits: x.q!.bits, ...(x.q!.signed ? { actSigned: true } : {}) };
      const weight: BinaryWeights = wq!.bipolar
        ? { kind: 'float', data: Float32Array.from(wq!.levels) }
        : { kind: 'int', bits: wBits, signed: wq!.signed, data: Int8Array.from(wq!.levels) };
      const q = make(x.node, weight, act);
      const shape = this.irShape(q);
      const dims = shape.length === 3 ? [1, ...shape] : outDims;
      const C = shape[0];
      // real = s_a·s_w·dot. ±1 by ±1: the layer gives P and dot = 2P − K; otherwise it gives
      // dot / L for k-bit activations of float level / L, and x.mult = s_a·L
      const pForm = act.actBits === 1 && wq!.bipolar;
      const scale = new Float64Array(C);
      const bias = new Float64Array(C);
      for (let c = 0; c < C; c++) {
        const s = x.mult * scaleW[c];
        scale[c] = pForm ? 2 * s : s;
        bias[c] = pForm ? -K * s : 0;
      }
      return this.affine(this.dyn(q, dims), scale, bias, `${base}_scale`);
    }
    if (wq && !uniform) {
      this.note(`${this.where}: weight scales vary within an output; the layer runs as a float layer on the host`);
    } else if (wq && wBits > MAX_WEIGHT_BITS) {
      this.note(`${this.where}: ${wq.bits}-bit weights (the array takes 1..${MAX_WEIGHT_BITS}) run as a float layer on the host`);
    } else if (x.q) {
      this.note(`${this.where}: the weights are not quantised; the layer runs as a float layer on the host`);
    }
    const q = make(this.real(x), Float32Array.from(w.data), { actBits: 0 });
    const shape = this.irShape(q);
    return this.dyn(q, shape.length === 3 ? [1, ...shape] : outDims);
  }

  private conv(n: NodeProto, base: string): Value {
    this.only(n, ['kernel_shape', 'strides', 'pads', 'dilations', 'group', 'auto_pad']);
    const x = this.dynInput(n, 0);
    const w = this.constInput(n, 1, 'weights');
    const b = this.optInput(n, 2);
    if (x.dims.length !== 4 || w.dims.length !== 4) this.unsupported('2-D convolutions on [N, C, H, W] only');
    const [O, C, kh, kw] = w.dims;
    if (C !== x.dims[1]) this.unsupported(`weights expect ${C} channels, the input has ${x.dims[1]}`);
    if (this.attrInt(n, 'group', 1) !== 1) this.unsupported(`group=${this.attrInt(n, 'group', 1)} is not supported`);
    const autoPad = this.attrString(n, 'auto_pad', 'NOTSET');
    if (autoPad !== 'NOTSET' && autoPad !== 'VALID') this.unsupported(`auto_pad ${autoPad} is not supported (give pads)`);
    const dil = this.attrInts(n, 'dilations') ?? [1, 1];
    if (dil.some((d) => d !== 1)) this.unsupported(`dilations [${dil.join(', ')}] are not supported`);
    const ks = this.attrInts(n, 'kernel_shape') ?? [kh, kw];
    if (ks[0] !== kh || ks[1] !== kw) this.unsupported(`kernel_shape [${ks.join(', ')}] disagrees with the weights`);
    const st = this.attrInts(n, 'strides') ?? [1, 1];
    const pads = this.attrInts(n, 'pads') ?? [0, 0, 0, 0];
    if (pads[0] !== pads[2] || pads[1] !== pads[3]) this.unsupported(`asymmetric pads [${pads.join(', ')}] are not supported`);
    const pad: [number, number] = [pads[0], pads[1]];
    if ((pad[0] || pad[1]) && x.q?.kind === 'bipolar' && w.q) {
      this.unsupported('zero padding of ±1 activations is not supported (pad values are +1 or -1 on the array)');
    }
    const win = { kernel: [kh, kw], stride: [st[0], st[1]], pad };
    // ONNX pads with 0: the level 0 of k-bit inputs (±1 inputs with padding are refused above)
    let y = this.linear(x, w, O, C * kh * kw, base, (inp, weight, act) =>
      weight instanceof Float32Array
        ? this.add({ op: 'Convolution', name: base, inputs: [inp], numFilter: O, ...win, weight, bias: null })
        : this.add({ op: 'QConvolution', name: base, inputs: [inp], numFilter: O, ...win, padValue: act.actBits === 1 ? 1 : 0, ...act, weight }));
    if (b) {
      if (b.kind !== 'const') this.unsupported('the bias must be a constant');
      const bb = this.perChannel(b, y) ?? this.unsupported('the bias must have one value per output channel');
      y = this.affine(y, new Float64Array(O).fill(1), bb, `${base}_bias`);
    }
    return y;
  }

  private pool(n: NodeProto, op: string, base: string): Value {
    this.only(n, ['kernel_shape', 'strides', 'pads', 'ceil_mode', 'count_include_pad', 'auto_pad', 'dilations', 'storage_order']);
    const x = this.dynInput(n, 0);
    if (x.dims.length !== 4) this.unsupported('input must be [N, C, H, W]');
    const k = this.attrInts(n, 'kernel_shape');
    if (!k || k.length !== 2) this.unsupported('kernel_shape must have two values');
    const st = this.attrInts(n, 'strides') ?? [1, 1];
    const pads = this.attrInts(n, 'pads') ?? [0, 0, 0, 0];
    if (pads[0] !== pads[2] || pads[1] !== pads[3]) this.unsupported(`asymmetric pads [${pads.join(', ')}] are not supported`);
    if ((this.attrInts(n, 'dilations') ?? [1, 1]).some((d) => d !== 1)) this.unsupported('dilations are not supported');
    if (this.attrInt(n, 'storage_order', 0) !== 0) this.unsupported('storage_order=1 is not supported');
    const autoPad = this.attrString(n, 'auto_pad', 'NOTSET');
    if (autoPad !== 'NOTSET' && autoPad !== 'VALID') this.unsupported(`auto_pad ${autoPad} is not supported (give pads)`);
    const ceil = this.attrInt(n, 'ceil_mode', 0) !== 0;
    if (ceil && (pads[0] || pads[1])) this.unsupported('ceil_mode with padding is not supported');
    const name = this.add({
      op: 'Pooling', name: base, inputs: [this.real(x)], poolType: op === 'MaxPool' ? 'max' : 'avg',
      kernel: [k[0], k[1]], stride: [st[0], st[1]], pad: [pads[0], pads[1]], global: false,
      convention: ceil ? 'full' : 'valid', countIncludePad: this.attrInt(n, 'count_include_pad', 0) !== 0,
    });
    return this.dyn(name, [1, ...this.irShape(name)]);
  }

  private flatten(x: Dyn, base: string): Dyn {
    if (x.dims.length === 2) return x;
    // flattening keeps a quantised value's levels: a binary layer may read it directly
    const name = this.add({ op: 'Flatten', name: base, inputs: [x.node] });
    return this.dyn(name, [1, prod(x.dims.slice(1))], x.q, x.mult);
  }

  private reshape(n: NodeProto, base: string): Value {
    this.only(n, ['allowzero']);
    const x = this.dynInput(n, 0);
    const shape = this.constInput(n, 1, 'shape');
    const target = reshapeDims(x.dims, Array.from(shape.data), () => this.unsupported(`cannot reshape [${x.dims.join(', ')}] to [${Array.from(shape.data).join(', ')}]`));
    if (target.join(',') === x.dims.join(',')) return x;
    if (target.length === 2 && target[0] === x.dims[0]) return this.flatten(x, base);
    return this.unsupported(`reshape of [${x.dims.join(', ')}] to [${target.join(', ')}] is not supported (only flattening to [N, features])`);
  }

  private elementwise(n: NodeProto, op: string, base: string, ins: Value[]): Value {
    this.only(n, []);
    const [a, b] = ins;
    if (a.kind === 'dyn' && b.kind === 'dyn') {
      if (op !== 'Add') this.unsupported(`${op} of two data tensors is not supported`);
      if (a.dims.join(',') !== b.dims.join(',')) this.unsupported(`cannot add [${a.dims.join(', ')}] and [${b.dims.join(', ')}]`);
      const name = this.add({ op: 'Add', name: base, inputs: [this.real(a), this.real(b)] });
      return this.dyn(name, a.dims);
    }
    const x = (a.kind === 'dyn' ? a : b) as Dyn;
    const c = (a.kind === 'const' ? a : b) as Const;
    const k = this.perChannel(c, x) ?? this.unsupported(`the constant [${c.dims.join(', ')}] is neither a scalar nor per channel`);
    const C = k.length;
    const ones = new Float64Array(C).fill(1);
    const zeros = new Float64Array(C);
    const xFirst = a.kind === 'dyn';
    switch (op) {
      case 'Mul':
        return this.affine(x, k, zeros, base);
      case 'Add':
        return this.affine(x, ones, k, base);
      case 'Sub':
        return xFirst ? this.affine(x, ones, k.map((v) => -v), base) : this.affine(x, ones.map(() => -1), k, base);
      default:
        if (!xFirst) this.unsupported('division of a constant by data is not supported');
        if (k.some((v) => v === 0 || !Number.isFinite(v))) this.unsupported('division by zero or a non-finite constant');
        // x / d as x · (1/d): differs from division by at most one rounding
        return this.affine(x, k.map((v) => 1 / v), zeros, base);
    }
  }

  private note(s: string): void {
    if (!this.notes.includes(s)) this.notes.push(s);
  }

  // ---- constant folding ---------------------------------------------------------------

  private fold(n: NodeProto, op: string, ins: Const[]): Const {
    const bin = (f: (a: number, b: number) => number): Const => {
      const dims = broadcastDims(ins[0].dims, ins[1].dims) ?? this.unsupported(`shapes [${ins[0].dims.join(', ')}] and [${ins[1].dims.join(', ')}] do not broadcast`);
      const a = broadcastTo(ins[0], dims, () => this.unsupported('broadcast'));
      const b = broadcastTo(ins[1], dims, () => this.unsupported('broadcast'));
      return { kind: 'const', dims, data: a.map((v, i) => f(v, b[i])) };
    };
    const un = (f: (a: number) => number): Const => ({ kind: 'const', dims: ins[0].dims, data: ins[0].data.map(f) });
    switch (op) {
      case 'Identity': return ins[0];
      case 'Add': return bin((a, b) => a + b);
      case 'Sub': return bin((a, b) => a - b);
      case 'Mul': return bin((a, b) => a * b);
      case 'Div': return bin((a, b) => a / b);
      case 'Pow': return bin((a, b) => a ** b);
      case 'Sqrt': return un(Math.sqrt);
      case 'Neg': return un((a) => -a);
      case 'Cast': return ins[0];
      case 'Shape': return { kind: 'const', dims: [ins[0].dims.length], data: Float64Array.from(ins[0].dims) };
      case 'Transpose': {
        const perm = this.attrInts(n, 'perm') ?? ins[0].dims.map((_, i) => ins[0].dims.length - 1 - i);
        return transposeConst(ins[0], perm);
      }
      case 'Reshape': {
        const dims = reshapeDims(ins[0].dims, Array.from(ins[1].data), () => this.unsupported('bad reshape'));
        return { ...ins[0], dims };
      }
      case 'Unsqueeze':
      case 'Squeeze': {
        const axes = this.attrInts(n, 'axes') ?? (ins[1] ? Array.from(ins[1].data) : undefined);
        let dims = ins[0].dims.slice();
        if (op === 'Unsqueeze') {
          if (!axes) this.unsupported('axes are missing');
          const r = dims.length + axes.length;
          for (const ax of axes.map((a) => (a < 0 ? a + r : a)).sort((p, q) => p - q)) dims.splice(ax, 0, 1);
        } else {
          const r = dims.length;
          const drop = new Set((axes ?? dims.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0)).map((a) => (a < 0 ? a + r : a)));
          dims = dims.filter((_, i) => !drop.has(i));
        }
        return { ...ins[0], dims };
      }
      case 'Gather': {
        const axis = this.attrInt(n, 'axis', 0);
        const [data, idx] = ins;
        if (data.dims.length !== 1 || axis !== 0) this.unsupported('constant Gather on a 1-D tensor only');
        const out = idx.data.map((i) => {
          const j = i < 0 ? i + data.dims[0] : i;
          if (!(j >= 0 && j < data.dims[0])) this.unsupported(`index ${i} out of range`);
          return data.data[j];
        });
        return { kind: 'const', dims: idx.dims, data: out };
      }
      case 'Concat': {
        const axis = this.attrInt(n, 'axis', 0);
        if (ins.some((c) => c.dims.length !== 1) || axis !== 0) this.unsupported('constant Concat of 1-D tensors only');
        const data = Float64Array.from(ins.flatMap((c) => Array.from(c.data)));
        return { kind: 'const', dims: [data.length], data };
      }
      default:
        return this.unsupported(`op ${op} on constants is not supported`);
    }
  }
}

function roundingFn(mode: string): ((x: number) => number) | null {
  switch (mode) {
    case 'ROUND': return (x) => { const r = Math.round(x); return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r; };
    case 'CEIL': return Math.ceil;
    case 'FLOOR': return Math.floor;
    case 'ROUND_TO_ZERO': return Math.trunc;
    default: return null;
  }
}

function broadcastDims(a: number[], b: number[]): number[] | null {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const x = a[a.length - r + i] ?? 1;
    const y = b[b.length - r + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return null;
    out.push(Math.max(x, y));
  }
  return out;
}

/** Numpy-style broadcast of a constant to `dims`. */
function broadcastTo(c: Const, dims: number[], fail: () => never): Float64Array {
  const srcDims = c.dims;
  const n = prod(dims);
  if (prod(srcDims) === 1) return new Float64Array(n).fill(c.data[0]);
  const bd = broadcastDims(srcDims, dims);
  if (!bd || bd.join(',') !== dims.join(',')) fail();
  const r = dims.length;
  const sd = [...Array(r - srcDims.length).fill(1), ...srcDims];
  const out = new Float64Array(n);
  const idx = new Array(r).fill(0);
  for (let i = 0; i < n; i++) {
    let j = 0;
    for (let k = 0; k < r; k++) j = j * sd[k] + (sd[k] === 1 ? 0 : idx[k]);
    out[i] = c.data[j];
    for (let k = r - 1; k >= 0; k--) {
      if (++idx[k] < dims[k]) break;
      idx[k] = 0;
    }
  }
  return out;
}

function transposeConst(c: Const, perm: number[]): Const {
  const r = c.dims.length;
  if (perm.length !== r || [...perm].sort().some((p, i) => p !== i)) throw new UnsupportedError(`bad transpose perm [${perm.join(', ')}]`);
  const dims = perm.map((p) => c.dims[p]);
  const n = prod(dims);
  const stride = new Array(r).fill(1);
  for (let k = r - 2; k >= 0; k--) stride[k] = stride[k + 1] * c.dims[k + 1];
  const map = new Int32Array(n);
  const idx = new Array(r).fill(0);
  for (let i = 0; i < n; i++) {
    let j = 0;
    for (let k = 0; k < r; k++) j += idx[k] * stride[perm[k]];
    map[i] = j;
    for (let k = r - 1; k >= 0; k--) {
      if (++idx[k] < dims[k]) break;
      idx[k] = 0;
    }
  }
  const out: Const = { kind: 'const', dims, data: Float64Array.from(map, (j) => c.data[j]) };
  if (c.q) out.q = { ...c.q, levels: Int32Array.from(map, (j) => c.q!.levels[j]), scale: Float64Array.from(map, (j) => c.q!.scale[j]) };
  return out;
}

function reshapeDims(from: number[], spec: number[], fail: () => never): number[] {
  const n = prod(from);
  const dims = spec.map((d, i) => (d === 0 ? from[i] ?? fail() : d));
  const free = dims.filter((d) => d === -1).length;
  if (free > 1 || dims.some((d) => d < -1 || !Number.isInteger(d))) fail();
  if (free) {
    const known = prod(dims.filter((d) => d !== -1));
    if (known === 0 || n % known !== 0) fail();
    dims[dims.indexOf(-1)] = n / known;
  }
  if (prod(dims) !== n) fail();
  return dims;
}

/** Import a QONNX model from bytes (`file` names it in messages). */
export function importQonnxBytes(bytes: Uint8Array, file: string): QonnxImport {
  const model = decodeModel(bytes, file);
  if (!model.graph) throw new FormatError(file, 'not an ONNX model (no graph)');
  const imp = new Importer(model, file);
  const graph = imp.run();
  return { graph, notes: imp.notes };
}

/** Import a QONNX `.onnx` file. */
export function importQonnx(file: string): QonnxImport {
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch (e) {
    throw new BitweaveError(`cannot read ${file}: ${ioReason(e)}`);
  }
  if (size > MAX_ONNX_BYTES) throw new FormatError(file, `${size} bytes is larger than an ONNX protobuf can be`);
  if (size === 0) throw new FormatError(file, 'empty file');
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new BitweaveError(`cannot read ${file}: ${ioReason(e)}`);
  }
  return importQonnxBytes(bytes, file);
}
