/**
 * BMXNet (v1) importer: MXNet symbol JSON + NDArray-list params -> IR graph.
 *
 * The symbol lists nodes in topological order; null-op nodes are variables (the data
 * input, parameters, labels). Each op's parameters are its variable inputs, looked up in
 * the params file as 'arg:<variable>' (or 'aux:<variable>' for BatchNorm's moving
 * statistics), so they are found by the names the graph uses, never guessed.
 *
 * Attributes are checked strictly: anything that would change the forward result and is
 * not implemented is rejected with one UnsupportedError naming node, op and attribute;
 * attributes that only matter for training or speed are ignored.
 *
 * Converted binary layers (binarized_weights_only) hold packed sign bits; QConvolution
 * words are in (O, C, kh, kw) order, QFullyConnected words in the converter's transposed
 * order, which is re-laid to (O, I) rows here (see `qfcPacking`).
 *
 * BMXNet symbols do not store the input shape (unless the data variable carries a
 * `__shape__` attribute). It is given as an option, or inferred where the parameters fix
 * it exactly (see resolveInputShape): the channels from the first layer's parameters, the
 * height and width from a given crop size or, for a network whose first fully connected
 * layer reads a flattened map, the smallest square size whose map fits that layer's
 * weights. Otherwise the import fails with one line asking for the shape.
 */
import * as path from 'node:path';
import { BitweaveError, FormatError, ShapeError, UnsupportedError } from '../core/errors';
import {
  BatchNormNode, BinaryWeights, ConvolutionNode, FullyConnectedNode, IRGraph, IRNode, PoolingNode,
  QConvolutionNode, QFullyConnectedNode, Shape,
} from '../ir/graph';
import { inferShape, numel } from '../ir/shapes';
import { NDARRAY_DEFAULT_MAX_BYTES, NDArrayEntry, readNDArrayList, toFloat32 } from './ndarray';
import { readFileBounded } from '../core/files';
import { hasControls, jsonNestedDeeperThan, jsonPreview, printable } from '../core/text';
import { firstNonFinite } from '../compile/validate';

export interface BmxnetImportOptions {
  /**
   * Input shape without the batch axis ([C, H, W], NCHW). BMXNet symbols do not store
   * it; default: the data variable's `__shape__` attribute if present, else inferred
   * (module comment), else an error.
   */
  inputShape?: number[];
  /**
   * Height and width of the input (e.g. a centre crop's size), channels inferred from the
   * first layer (or `__shape__`). Ignored when `inputShape` is given.
   */
  inputSize?: [number, number];
  /** Name of the data variable (default 'data'). */
  inputName?: string;
  /**
   * Word order of converted (binarized_weights_only) QFullyConnected weights.
   * 'transposed' (default): BMXNet's model converter transposes W to (I, O) and packs it
   * column-wise (get_binary_col), so word (y, o) -- inputs y*WORD.. of output o -- is
   * stored at y*numHidden + o; the shipped MNIST models use it. 'rows': the earliest
   * converter packed W in (O, I) order like QConvolution. The importer always returns
   * (O, I) row order.
   */
  qfcPacking?: 'transposed' | 'rows';
}

export interface BmxnetSourceOptions extends BmxnetImportOptions {
  /** Model name (default derived from the symbol file name). */
  name?: string;
  /** File names used in messages and IRGraph.source (default '<symbol>' / '<params>'). */
  symbolFile?: string;
  paramsFile?: string;
}

/** Largest square size the input-shape search tries. */
const MAX_SEARCH_SIZE = 4096;

/** Upper bound on a symbol file; real ones are kilobytes. */
const MAX_SYMBOL_BYTES = 64 << 20;
/** Deepest JSON nesting accepted in a symbol file (real ones nest 5 levels). */
const MAX_SYMBOL_DEPTH = 64;

export const BMXNET_INPUT_NOTE =
  "BMXNet's MNIST example feeds grey levels as float32 uint8/255 in [0, 1] (no mean subtraction), NCHW 1x28x28.";

/** Import `<prefix>-symbol.json` and `<prefix>-<epoch>.params`. */
export function importBmxnet(symbolJsonPath: string, paramsPath: string, opts: BmxnetImportOptions = {}): IRGraph {
  const symbol = readFileBounded(symbolJsonPath, MAX_SYMBOL_BYTES).toString('utf8');
  const params = readFileBounded(paramsPath, NDARRAY_DEFAULT_MAX_BYTES);
  return importBmxnetSource(symbol, params, {
    ...opts,
    symbolFile: symbolJsonPath,
    paramsFile: paramsPath,
    name: path.basename(symbolJsonPath).replace(/-symbol\.json$|\.json$/, ''),
  });
}

/** Import from an already-read symbol JSON text and params bytes (or parsed params). */
export function importBmxnetSource(
  symbolJson: string,
  params: Uint8Array | NDArrayEntry[],
  opts: BmxnetSourceOptions = {},
): IRGraph {
  const symbolFile = opts.symbolFile ?? '<symbol>';
  const paramsFile = opts.paramsFile ?? '<params>';
  const entries = params instanceof Uint8Array ? readNDArrayList(params, paramsFile) : params;
  const sym = parseSymbol(symbolJson, symbolFile);
  return new Importer(sym, entries, symbolFile, paramsFile, opts).run(opts.name ?? 'bmxnet-model');
}

/**
 * A parameter whose shape disagrees with what its node needs: a broken file, or a wrong
 * input shape (the importer tells the two apart where it can).
 */
class ParamShapeError extends FormatError {}

/** A shape that does not fit while probing input sizes (never escapes the importer). */
class ProbeMismatch extends ShapeError {}

// ---- symbol JSON --------------------------------------------------------------------

interface RawNode {
  index: number;
  op: string;
  name: string;
  /** [source node index, output index] */
  inputs: [number, number][];
  attrs: Map<string, string>;
}

interface RawSymbol {
  nodes: RawNode[];
  head: [number, number];
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function parseSymbol(text: string, file: string): RawSymbol {
  const fail = (msg: string): never => { throw new FormatError(file, msg); };
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (e) {
    return fail(`not valid JSON: ${printable((e as Error).message)}`);
  }
  // before anything recursive (JSON.stringify in a message, say) sees the value
  if (jsonNestedDeeperThan(root, MAX_SYMBOL_DEPTH)) fail(`JSON nested more than ${MAX_SYMBOL_DEPTH} levels deep (an MXNet symbol needs 5)`);
  if (!isObject(root) || !Array.isArray(root.nodes)) return fail('not an MXNet symbol: no "nodes" array');
  const rawNodes = root.nodes as unknown[];
  if (rawNodes.length === 0) fail('the symbol has no nodes');

  const entryRef = (x: unknown, what: string, limit: number): [number, number] => {
    // [node, output] or [node, output, version]; a node may only use earlier nodes.
    if (!Array.isArray(x) || x.length < 2 || x.length > 3 || !x.every((v) => Number.isSafeInteger(v) && v >= 0)) {
      return fail(`${what}: expected [node, output(, version)], got ${jsonPreview(x)}`);
    }
    if (x[0] >= limit) fail(`${what}: refers to node ${x[0]}, which is not before it (nodes must be in topological order)`);
    return [x[0], x[1]];
  };

  const nodes = rawNodes.map((n, index): RawNode => {
    if (!isObject(n) || typeof n.op !== 'string' || typeof n.name !== 'string') {
      return fail(`node ${index}: expected an object with string "op" and "name"`);
    }
    // names and ops are quoted in every later message: keep them printable and short
    for (const k of ['op', 'name'] as const) {
      const v = n[k] as string;
      if (v.length > 1024 || hasControls(v)) fail(`node ${index}: "${k}" '${printable(v, 60)}' is not a plain name (control characters, or over 1024 characters)`);
    }
    const where = `node ${index} '${n.name}'`;
    if (!Array.isArray(n.inputs)) fail(`${where}: "inputs" is not an array`);
    const inputs = (n.inputs as unknown[]).map((x, i) => entryRef(x, `${where} input ${i}`, index));
    // Old MXNet keeps op parameters under "param" and user attributes under "attr";
    // 0.9+ writes "attr", 1.x "attrs". Merge whatever is there.
    const attrs = new Map<string, string>();
    for (const key of ['param', 'attr', 'attrs']) {
      const a = n[key];
      if (a === undefined) continue;
      if (!isObject(a)) fail(`${where}: "${key}" is not an object`);
      for (const [k, v] of Object.entries(a as Record<string, unknown>)) {
        if (typeof v === 'string') attrs.set(k, v);
        else if (typeof v === 'number' || typeof v === 'boolean') attrs.set(k, String(v));
        else fail(`${where}: attribute ${printable(k, 60)} has a non-scalar value ${jsonPreview(v)}`);
      }
    }
    return { index, op: n.op, name: n.name, inputs, attrs };
  });

  if (!Array.isArray(root.heads) || root.heads.length === 0) fail('the symbol has no "heads" (outputs)');
  const heads = root.heads as unknown[];
  if (heads.length !== 1) {
    throw new UnsupportedError(`${file}: the symbol has ${heads.length} outputs; only single-output models are supported`);
  }
  const head = entryRef(heads[0], 'head', nodes.length);
  return { nodes, head };
}

// ---- attribute values -----------------------------------------------------------------

/** Training-only or performance-only attributes: no effect on the forward result. */
const IGNORED_ATTRS = new Set([
  'workspace', 'cudnn_tune', 'cudnn_off', 'gradient_update_mode', 'momentum', 'use_global_stats',
  'grad_scale', 'ignore_label', 'use_ignore', 'normalization', 'out_grad', 'smooth_alpha',
  'lr_mult', 'wd_mult', 'ctx_group',
]);
const isHidden = (k: string): boolean => /^__.*__$/.test(k); // __lr_mult__, __init__, __shape__ ...

const MAX_INT_ATTR = 0x7fffffff;

/** Typed, strict access to one node's attributes; `done()` rejects the ones nobody read. */
class Attrs {
  private readonly used = new Set<string>();

  constructor(private readonly node: RawNode, private readonly file: string) {}

  private get who(): string {
    return `node '${this.node.name}' (${this.node.op})`;
  }

  private raw(key: string): string | undefined {
    this.used.add(key);
    const v = this.node.attrs.get(key);
    if (v === undefined) return undefined;
    const t = v.trim();
    return t === 'None' ? undefined : t;
  }

  bad(key: string, msg: string): never {
    throw new FormatError(this.file, `${this.who}: attribute ${key}=${printable(this.node.attrs.get(key) ?? '', 80)} ${msg}`);
  }

  unsupported(key: string, allowed: string): never {
    throw new UnsupportedError(`${this.who}: attribute ${printable(key, 60)}=${printable(this.node.attrs.get(key) ?? '', 80)} is not supported (${allowed})`);
  }

  missing(key: string): never {
    throw new FormatError(this.file, `${this.who}: required attribute ${key} is missing`);
  }

  private parseInt(key: string, s: string): number {
    const m = /^[+-]?\d+[lL]?$/.exec(s);
    if (!m) this.bad(key, 'is not an integer');
    const v = Number(s.replace(/[lL]$/, ''));
    if (Math.abs(v) > MAX_INT_ATTR) this.bad(key, 'is out of range');
    return v;
  }

  int(key: string, def?: number): number {
    const s = this.raw(key);
    if (s === undefined) return def ?? this.missing(key);
    return this.parseInt(key, s);
  }

  float(key: string, def: number): number {
    const s = this.raw(key);
    if (s === undefined) return def;
    const v = Number(s);
    if (s === '' || !Number.isFinite(v)) this.bad(key, 'is not a finite number');
    return v;
  }

  bool(key: string, def: boolean): boolean {
    const s = this.raw(key);
    if (s === undefined) return def;
    if (/^(true|1)$/i.test(s)) return true;
    if (/^(false|0)$/i.test(s)) return false;
    return this.bad(key, 'is not a boolean');
  }

  str(key: string, def: string): string {
    const s = this.raw(key);
    return s === undefined ? def : s.replace(/^(['"])(.*)\1$/, '$2');
  }

  /** A tuple like "(5, 5)", "[5,5]", "(5,)" or a bare "5"; "()" and "None" mean the default. */
  tuple(key: string, def?: number[]): number[] {
    const s = this.raw(key);
    if (s === undefined) return def ?? this.missing(key);
    const m = /^[([]\s*(.*?)\s*,?\s*[)\]]$/.exec(s);
    const body = m ? m[1] : s;
    if (body === '') return def ?? this.missing(key);
    return body.split(',').map((p) => this.parseInt(key, p.trim()));
  }

  /** A 2-D window attribute: exactly two values, each >= min. */
  pair(key: string, min: number, def?: [number, number]): [number, number] {
    const t = this.tuple(key, def);
    if (t.length !== 2) this.unsupported(key, 'only 2-D windows');
    if (t[0] < min || t[1] < min) this.bad(key, `must be >= ${min}`);
    return [t[0], t[1]];
  }

  /** Reject every attribute this op did not read, except the harmless ones. */
  done(): void {
    for (const k of this.node.attrs.keys()) {
      if (this.used.has(k) || IGNORED_ATTRS.has(k) || isHidden(k)) continue;
      this.unsupported(k, 'unknown attribute');
    }
  }
}

// ---- conversion -----------------------------------------------------------------------

const ADD_OPS = new Set(['elemwise_add', '_plus', '_Plus', '_add', 'broadcast_add', 'broadcast_plus']);
const SOFTMAX_OPS = new Set(['SoftmaxOutput', 'Softmax', 'softmax', 'SoftmaxActivation']);
const KNOWN_OPS = new Set([
  'Convolution', 'FullyConnected', 'BatchNorm', 'Activation', 'Pooling', 'Flatten', 'Dropout',
  'QActivation', 'QConvolution', 'QFullyConnected', ...ADD_OPS, ...SOFTMAX_OPS,
]);

/** Input positions that carry data (the rest are parameters or labels). */
function dataInputs(op: string): number {
  return ADD_OPS.has(op) ? 2 : 1;
}

/** Probing a candidate input shape: stop at node `stopAt` and report its input shape. */
interface Probe {
  stopAt: number;
  /** Zero-filled stand-ins for float parameters (only their lengths matter), shared by probes. */
  zeros: Map<string, Float32Array>;
}

/** Thrown (not an Error) to end a probe at its node with the shape that reaches it. */
class ProbeStop {
  constructor(readonly shape: Shape) {}
}

/** Channels a first layer's parameters fix, and why (for notes and messages). */
interface ChannelEvidence {
  /** Input channels, when a layer fixes them. */
  c?: number;
  /** C*H*W, when the input reaches a fully connected layer only through reshapes. */
  total?: number;
  /** e.g. "'bn_data' (BatchNorm)" */
  layer: string;
  /** e.g. "parameter 'arg:bn_data_beta' has shape [3]" */
  evidence: string;
}

type SquareSearch =
  | { kind: 'found'; size: number; last: number; fc: RawNode; inputs: number }
  | { kind: 'none'; why: string };

class Importer {
  private readonly params: Map<string, NDArrayEntry>;
  /** Raw node index -> IR node name (Dropout is elided to its input). */
  private readonly irName = new Map<number, string>();
  private readonly shapes = new Map<string, Shape>();
  private readonly out: IRNode[] = [];
  private readonly inputName: string;
  /** Where the input shape came from, for IRGraph.inputNote and messages. */
  private shapeOrigin = 'given';
  /** A note for the user when the input shape was inferred. */
  private shapeNote: string | undefined;
  private dataIdx = -1;
  private live = new Set<number>();

  constructor(
    private readonly sym: RawSymbol,
    entries: NDArrayEntry[] | Map<string, NDArrayEntry>,
    private readonly symbolFile: string,
    private readonly paramsFile: string,
    private readonly opts: BmxnetSourceOptions,
    private readonly probe?: Probe,
  ) {
    this.params = entries instanceof Map ? entries : new Map(entries.map((e) => [e.name, e]));
    this.inputName = opts.inputName ?? 'data';
    if (opts.qfcPacking !== undefined && opts.qfcPacking !== 'transposed' && opts.qfcPacking !== 'rows') {
      throw new ShapeError(`qfcPacking must be 'transposed' or 'rows', got ${JSON.stringify(opts.qfcPacking)}`);
    }
  }

  private failSym(msg: string): never {
    throw new FormatError(this.symbolFile, msg);
  }

  /** The data variable and the nodes the output depends on (through data inputs). */
  private findLive(): void {
    const { nodes, head } = this.sym;
    this.dataIdx = nodes.findIndex((n) => n.op === 'null' && n.name === this.inputName);
    if (this.dataIdx < 0) this.failSym(`no input variable named '${this.inputName}'`);
    const live = new Set<number>();
    const stack = [head[0]];
    while (stack.length) {
      const i = stack.pop()!;
      if (live.has(i)) continue;
      live.add(i);
      const n = nodes[i];
      if (n.op === 'null') continue;
      const k = KNOWN_OPS.has(n.op) ? dataInputs(n.op) : n.inputs.length;
      for (const [src] of n.inputs.slice(0, k)) stack.push(src);
    }
    if (!live.has(this.dataIdx)) this.failSym(`the output does not depend on the input '${this.inputName}'`);
    if (head[1] !== 0) this.unsupportedOutput(nodes[head[0]], head[1]);
    this.live = live;
  }

  run(name: string): IRGraph {
    const { nodes, head } = this.sym;
    this.findLive();
    const inputShape = this.resolveInputShape(nodes[this.dataIdx]);
    try {
      this.convertAll(inputShape);
    } catch (e) {
      throw this.explainShapeFailure(e, inputShape);
    }
    const output = this.irName.get(head[0]);
    if (output === undefined) this.failSym(`the output node '${nodes[head[0]].name}' is a variable, not an op`);
    return {
      name,
      source: { format: 'bmxnet', files: [this.symbolFile, this.paramsFile] },
      nodes: this.out,
      output: output!,
      inputNote: `${BMXNET_INPUT_NOTE} Input shape used: [${inputShape.join(', ')}] (${this.shapeOrigin}).`,
      ...(this.shapeNote ? { inputShapeNote: this.shapeNote } : {}),
    };
  }

  private convertAll(inputShape: Shape): void {
    this.emit({ op: 'Input', name: this.inputName, inputs: [], shape: inputShape }, []);
    this.irName.set(this.dataIdx, this.inputName);
    for (const n of this.sym.nodes) {
      if (!this.live.has(n.index) || n.op === 'null') continue;
      if (this.probe && n.index === this.probe.stopAt) {
        throw new ProbeStop(this.shapes.get(this.dataSources(n, 1)[0])!);
      }
      this.convert(n);
    }
  }

  // ---- the input shape ------------------------------------------------------------------

  private unknownShape(detail: string): ShapeError {
    return new ShapeError(`${this.symbolFile}: the input shape is unknown: BMXNet symbols do not store it and ${detail}; give it with --input-shape C,H,W (or --crop HxW)`);
  }

  /**
   * The input shape: given (inputShape), else the data variable's `__shape__`, else
   * inferred: channels from the first layer's parameters (inferChannels), height x width
   * from inputSize or, failing that, the smallest square size that fits the first fully
   * connected layer (searchSquare). Anything else is an error asking for the shape.
   */
  private resolveInputShape(data: RawNode): Shape {
    const given = this.opts.inputShape;
    if (given !== undefined) {
      if (!Array.isArray(given) || given.length < 1 || !given.every((d) => Number.isSafeInteger(d) && d > 0)) {
        throw new ShapeError(`inputShape must be a list of positive integers without the batch axis, got ${JSON.stringify(given)}`);
      }
      this.shapeOrigin = 'given';
      return [...given];
    }
    const size = this.opts.inputSize;
    if (size !== undefined && !(Array.isArray(size) && size.length === 2 && size.every((d) => Number.isSafeInteger(d) && d > 0 && d <= 65536))) {
      throw new ShapeError(`inputSize must be [height, width] with integers in 1..65536, got ${JSON.stringify(size)}`);
    }
    // mx.sym.Variable('data', shape=...) stores the shape, batch axis first.
    const s = data.attrs.get('__shape__');
    const m = s === undefined ? null : /^[([]\s*(.*?)\s*,?\s*[)\]]$/.exec(s.trim());
    let fromAttr: number[] | undefined;
    if (m) {
      const dims = m[1].split(',').map((p) => Number(p.trim().replace(/[lL]$/, '')));
      const rest = dims.slice(1);
      if (rest.length >= 1 && rest.every((d) => Number.isSafeInteger(d) && d > 0)) fromAttr = rest;
    }
    if (fromAttr && !size) {
      this.shapeOrigin = `from ${this.inputName}.__shape__`;
      return fromAttr;
    }
    const ch = this.inferChannels();
    if (size) {
      const [h, w] = size;
      let c: number | undefined;
      let why: string;
      if (fromAttr && fromAttr.length === 3) {
        c = fromAttr[0];
        why = `from ${this.inputName}.__shape__`;
      } else if (ch?.c !== undefined) {
        c = ch.c;
        why = `${ch.layer}: ${ch.evidence}`;
      } else if (ch?.total !== undefined && ch.total % (h * w) === 0) {
        c = ch.total / (h * w);
        why = `${ch.layer} takes ${ch.total} = C x ${h} x ${w} inputs`;
      } else {
        throw this.unknownShape(`its first layer does not fix the number of input channels (the size ${h}x${w} was given)`);
      }
      this.shapeOrigin = `${c} channel${c === 1 ? '' : 's'} inferred (${why}), ${h}x${w} given`;
      this.shapeNote = `input shape [${c}, ${h}, ${w}]: ${this.shapeOrigin}`;
      return [c, h, w];
    }
    if (ch?.c === undefined) {
      throw this.unknownShape('its first layer does not fix the number of input channels');
    }
    const sq = this.searchSquare(ch.c);
    if (sq.kind === 'none') {
      throw this.unknownShape(`its layers do not fix the height and width (${sq.why}; ${ch.c} input channel${ch.c === 1 ? '' : 's'} from ${ch.layer})`);
    }
    const { size: n, last, fc, inputs } = sq;
    this.shapeOrigin = `inferred: ${ch.c} channel${ch.c === 1 ? '' : 's'} from ${ch.layer}, ${n}x${n} the smallest square size whose map fits the ${inputs} inputs of '${fc.name}' (${fc.op})${last > n ? `, sizes ${n}..${last} fit` : ''}`;
    this.shapeNote = `input shape [${ch.c}, ${n}, ${n}] ${this.shapeOrigin}; give --input-shape C,H,W if the model was trained on another size`;
    return [ch.c, n, n];
  }

  /** The stored parameter at input `pos` of n, or undefined (no messages: used for inference). */
  private peekParam(n: RawNode, pos: number): NDArrayEntry | undefined {
    const inp = n.inputs[pos];
    if (!inp) return undefined;
    const v = this.sym.nodes[inp[0]];
    if (v.op !== 'null' || v.name === this.inputName) return undefined;
    const e = this.params.get(`arg:${v.name}`) ?? this.params.get(`aux:${v.name}`) ?? this.params.get(v.name);
    return e && e.dtype !== null ? e : undefined;
  }

  /** Attribute reads that never throw (inference only; the import proper checks them). */
  private quiet<T>(f: () => T): T | undefined {
    try {
      return f();
    } catch (e) {
      if (e instanceof BitweaveError) return undefined;
      throw e;
    }
  }

  /** Inputs K of a fully connected node, from its weights (packed: words * wordBits / outputs). */
  private fcInputs(n: RawNode): number | undefined {
    const e = this.peekParam(n, 1);
    if (!e) return undefined;
    const a = (): Attrs => new Attrs(n, this.symbolFile);
    const hidden = this.quiet(() => a().int('num_hidden'));
    const packed = n.op === 'QFullyConnected' && this.quiet(() => a().bool('binarized_weights_only', false));
    if (packed) {
      const bits = e.dtype === 'float32' ? 32 : e.dtype === 'float64' ? 64 : 0;
      if (!bits || e.shape.length !== 1 || !hidden) return undefined;
      const k = (e.shape[0] * bits) / hidden;
      return Number.isSafeInteger(k) && k > 0 ? k : undefined;
    }
    return e.shape.length === 2 && e.shape[1] > 0 ? e.shape[1] : undefined;
  }

  /**
   * Channels fixed by the first layer(s) the input reaches through shape-keeping ops
   * (activations, Dropout, adds; pooling keeps channels; Flatten keeps C*H*W): a BatchNorm's
   * parameter length, a convolution weight's second axis (packed: words * wordBits /
   * (filters * kh * kw)); or, for a fully connected layer reached through reshapes only,
   * C*H*W.
   */
  private inferChannels(): ChannelEvidence | undefined {
    const consumers = new Map<number, RawNode[]>();
    for (const n of this.sym.nodes) {
      if (!this.live.has(n.index) || n.op === 'null') continue;
      for (const [src] of n.inputs.slice(0, KNOWN_OPS.has(n.op) ? dataInputs(n.op) : 0)) {
        if (!consumers.has(src)) consumers.set(src, []);
        consumers.get(src)!.push(n);
      }
    }
    const queue: Array<{ n: RawNode; reshapedOnly: boolean }> = (consumers.get(this.dataIdx) ?? []).map((n) => ({ n, reshapedOnly: true }));
    const seen = new Set<number>();
    while (queue.length) {
      const { n, reshapedOnly } = queue.shift()!;
      if (seen.has(n.index)) continue;
      seen.add(n.index);
      const layer = `the first layer '${n.name}' (${n.op})`;
      const shape = (e: NDArrayEntry) => `parameter '${e.name}' has shape [${e.shape.join(', ')}]`;
      const next = (keep: boolean) => (consumers.get(n.index) ?? []).forEach((m) => queue.push({ n: m, reshapedOnly: keep }));
      switch (n.op) {
        case 'BatchNorm': {
          const e = this.peekParam(n, 2) ?? this.peekParam(n, 3);
          if (e && e.shape.length === 1 && e.shape[0] > 0) return { c: e.shape[0], layer, evidence: shape(e) };
          break;
        }
        case 'Convolution':
        case 'QConvolution': {
          const e = this.peekParam(n, 1);
          if (!e) break;
          const packed = n.op === 'QConvolution' && this.quiet(() => new Attrs(n, this.symbolFile).bool('binarized_weights_only', false));
          if (!packed) {
            const groups = this.quiet(() => new Attrs(n, this.symbolFile).int('num_group', 1)) ?? 1; // weight [O, C/groups, kh, kw]
            if (e.shape.length === 4 && e.shape[1] > 0 && groups >= 1) {
              return { c: e.shape[1] * groups, layer, evidence: `${shape(e)}${groups > 1 ? ` and num_group ${groups}` : ''}` };
            }
            break;
          }
          const kernel = this.quiet(() => new Attrs(n, this.symbolFile).pair('kernel', 1));
          const filters = this.quiet(() => new Attrs(n, this.symbolFile).int('num_filter'));
          const bits = e.dtype === 'float32' ? 32 : e.dtype === 'float64' ? 64 : 0;
          if (!kernel || !filters || !bits || e.shape.length !== 1) break;
          const c = (e.shape[0] * bits) / (filters * kernel[0] * kernel[1]);
          if (Number.isSafeInteger(c) && c > 0) {
            return { c, layer, evidence: `${e.shape[0]} ${bits}-bit words of packed weights for ${filters} filters of ${kernel.join('x')}` };
          }
          break;
        }
        case 'FullyConnected':
        case 'QFullyConnected': {
          const k = reshapedOnly ? this.fcInputs(n) : undefined;
          if (k !== undefined) return { total: k, layer, evidence: `it takes ${k} inputs` };
          break;
        }
        case 'Pooling':
          next(false);
          break;
        case 'Activation':
        case 'QActivation':
        case 'Dropout':
        case 'Flatten':
          next(reshapedOnly);
          break;
        default:
          if (ADD_OPS.has(n.op)) next(reshapedOnly);
      }
    }
    return undefined;
  }

  /**
   * Numel of the map reaching node `stopAt` when the input is `shape`, or undefined when
   * the shape does not fit some layer before it. Only shape checks run (no weights are
   * converted).
   */
  private probeAt(shape: Shape, stopAt: number, zeros: Map<string, Float32Array>): number | undefined {
    const p = new Importer(this.sym, this.params, this.symbolFile, this.paramsFile, { ...this.opts, inputShape: shape, inputSize: undefined }, { stopAt, zeros });
    p.dataIdx = this.dataIdx;
    p.live = this.live;
    try {
      p.convertAll(shape);
    } catch (e) {
      if (e instanceof ProbeStop) return numel(e.shape);
      if (e instanceof ShapeError || e instanceof ParamShapeError) return undefined;
      throw e;
    }
    return undefined;
  }

  /**
   * The smallest square size s whose c x s x s input gives the first fully connected layer
   * exactly the inputs its weights take. The map's size is non-decreasing in s, so sizes
   * are tried upwards until it is exceeded. A layer whose input size does not change with
   * s (global pooling before it) fixes nothing.
   */
  private searchSquare(c: number): SquareSearch {
    const fc = this.sym.nodes.find((n) => this.live.has(n.index) && (n.op === 'FullyConnected' || n.op === 'QFullyConnected'));
    if (!fc) return { kind: 'none', why: 'it has no fully connected layer whose weights would fix them' };
    const k = this.fcInputs(fc);
    if (k === undefined) return { kind: 'none', why: `the input count of '${fc.name}' (${fc.op}) cannot be read from its weights` };
    const zeros = new Map<string, Float32Array>();
    const at = (n: number) => this.probeAt([c, n, n], fc.index, zeros);
    let first = 0;
    for (let n = 1; n <= MAX_SEARCH_SIZE; n++) {
      const got = at(n);
      if (got === undefined || got < k) continue;
      if (got === k) first = n;
      break;
    }
    if (!first) return { kind: 'none', why: `no square input up to ${MAX_SEARCH_SIZE}x${MAX_SEARCH_SIZE} gives '${fc.name}' (${fc.op}) its ${k} inputs` };
    if (at(2 * first) === k) {
      return { kind: 'none', why: `'${fc.name}' (${fc.op}) takes ${k} inputs whatever the size (the map is pooled to a fixed size before it)` };
    }
    let last = first;
    while (last + 1 < 2 * first && at(last + 1) === k) last++;
    return { kind: 'found', size: first, last, fc, inputs: k };
  }

  /**
   * A failure while converting with `shape`: when the shape is the likely cause, say so
   * (channels the first layer disagrees with, a map that does not fit, or a parameter that
   * fits another size); otherwise the original error (a broken file).
   */
  private explainShapeFailure(e: unknown, shape: Shape): unknown {
    if (!(e instanceof ShapeError || e instanceof ParamShapeError)) return e;
    const shown = `input shape [${shape.join(', ')}] (${this.shapeOrigin})`;
    const msg = e.message;
    const ch = shape.length === 3 ? this.inferChannels() : undefined;
    if (ch?.c !== undefined && ch.c !== shape[0]) {
      return new ShapeError(`${shown} has ${shape[0]} channel${shape[0] === 1 ? '' : 's'}, but ${ch.layer} takes ${ch.c} (${ch.evidence}); give --input-shape ${ch.c},H,W (or --crop HxW)`);
    }
    if (e instanceof ParamShapeError) {
      if (shape.length !== 3) return e;
      const sq = this.searchSquare(shape[0]);
      if (sq.kind === 'none' || (sq.size === shape[1] && sq.size === shape[2])) return e;
      return new ShapeError(`${shown} does not fit the model (${msg}); [${shape[0]}, ${sq.size}, ${sq.size}] is the smallest square input that fits: give --input-shape C,H,W`);
    }
    return new ShapeError(`${shown} does not fit the model: ${msg}`);
  }

  private unsupportedOutput(n: RawNode, output: number): never {
    throw new UnsupportedError(`node '${n.name}' (${n.op}): output ${output} is used; only the first output of an op is supported`);
  }

  private emit(node: IRNode, inputShapes: Shape[]): void {
    if (this.shapes.has(node.name)) this.failSym(`two nodes are named '${node.name}'`);
    node.shape = inferShape(node, inputShapes);
    this.shapes.set(node.name, node.shape);
    this.out.push(node);
  }

  /** IR names of a node's data inputs (first k inputs). */
  private dataSources(n: RawNode, k: number): string[] {
    if (n.inputs.length < k) this.failSym(`node '${n.name}' (${n.op}) has ${n.inputs.length} inputs, needs at least ${k}`);
    return n.inputs.slice(0, k).map(([src, output]) => {
      const s = this.sym.nodes[src];
      if (output !== 0) this.unsupportedOutput(s, output);
      const ir = this.irName.get(src);
      if (ir === undefined) {
        if (s.op === 'null') {
          throw new UnsupportedError(`node '${n.name}' (${n.op}): data input '${s.name}' is a variable; only '${this.inputName}' can be the model input`);
        }
        this.failSym(`node '${n.name}' (${n.op}): input '${s.name}' was not converted`);
      }
      return ir!;
    });
  }

  /** The parameter stored for input `pos` of node n ('arg:' or 'aux:' + variable name). */
  private param(n: RawNode, pos: number, role: string, aux = false): NDArrayEntry {
    const [src, output] = n.inputs[pos];
    const v = this.sym.nodes[src];
    if (v.op !== 'null' || v.name === this.inputName || output !== 0) {
      throw new UnsupportedError(`node '${n.name}' (${n.op}): ${role} input '${v.name}' is not a stored parameter`);
    }
    const key = `${aux ? 'aux' : 'arg'}:${v.name}`;
    // Files saved without prefixes (nd.save of a plain dict) are accepted too.
    const e = this.params.get(key) ?? this.params.get(v.name);
    if (!e) throw new FormatError(this.paramsFile, `missing parameter '${key}' (${role} of node '${n.name}' (${n.op}))`);
    if (e.dtype === null) throw new FormatError(this.paramsFile, `parameter '${e.name}' (${role} of node '${n.name}') is an empty array`);
    return e;
  }

  /** A float parameter of exactly `shape`, as float32 (`input`: the node's input shape, for the message). */
  private floatParam(n: RawNode, pos: number, role: string, shape: number[], aux = false, input?: Shape): Float32Array {
    const e = this.param(n, pos, role, aux);
    if (e.dtype !== 'float32' && e.dtype !== 'float64' && e.dtype !== 'float16') {
      throw new FormatError(this.paramsFile, `parameter '${e.name}' (${role} of node '${n.name}') has dtype ${e.dtype}, expected a float type`);
    }
    if (e.shape.join(',') !== shape.join(',')) {
      const from = input ? ` with input [${input.join(', ')}]` : '';
      throw new ParamShapeError(this.paramsFile, `parameter '${e.name}' has shape [${e.shape.join(', ')}], node '${n.name}' (${n.op})${from} needs [${shape.join(', ')}]`);
    }
    if (this.probe) {
      // probes only check shapes: a shared zero array of the right length stands in
      let z = this.probe.zeros.get(e.name);
      if (!z) this.probe.zeros.set(e.name, (z = new Float32Array(numel(shape))));
      return z;
    }
    const v = toFloat32(e);
    // named here, in the file they come from, not later in whatever file is being written
    const bad = firstNonFinite(v);
    if (bad >= 0) throw new FormatError(this.paramsFile, `parameter '${e.name}' (${role} of node '${n.name}') holds ${v[bad]} at index ${bad}${e.dtype === 'float32' ? '' : ' as float32'}; parameters must be finite`);
    return v;
  }

  /**
   * Weights of a binary layer: rows x rowBits values in source order. BMXNet's model
   * converter stores them as a 1-D array of packed words (float32 = 32-bit words,
   * float64 = 64-bit words; bit j of a word is sign(w) >= 0 of its j-th weight, LSB
   * first), row after row, or for `transposed` word-column after word-column.
   */
  private binaryWeights(
    n: RawNode, input: Shape, packed: boolean, rows: number, rowBits: number, floatShape: number[], transposed = false,
  ): BinaryWeights {
    if (!packed) return { kind: 'float', data: this.floatParam(n, 1, 'weight', floatShape, false, input) };
    const e = this.param(n, 1, 'weight');
    const fail = (msg: string, cls = FormatError): never => {
      throw new cls(this.paramsFile, `packed weights '${e.name}' of node '${n.name}' (${n.op}): ${msg}`);
    };
    const wordBits = e.dtype === 'float32' ? 32 : e.dtype === 'float64' ? 64 : fail(`dtype ${e.dtype}; expected float32 (32-bit words) or float64 (64-bit words)`);
    if (e.shape.length !== 1) fail(`shape [${e.shape.join(', ')}] is not 1-D`);
    if (rowBits % wordBits !== 0) {
      fail(`${rowBits} weights per output (${floatShape.slice(1).join('x')}) are not a multiple of the ${wordBits}-bit word`, ParamShapeError);
    }
    const want = (rows * rowBits) / wordBits;
    if (e.shape[0] !== want) fail(`${e.shape[0]} words, expected ${want} (${floatShape.join('x')} bits / ${wordBits})`, ParamShapeError);
    if (this.probe) return { kind: 'packed', words: new Uint32Array(0), wordBits };
    const src = new Uint32Array(e.data.slice().buffer);
    if (!transposed) return { kind: 'packed', words: src, wordBits };
    // Word (y, o) -> (o, y): afterwards a row's bits are contiguous, and 32- and 64-bit
    // files give identical bytes.
    const halves = wordBits / 32;
    const perRow = rowBits / wordBits;
    const words = new Uint32Array(src.length);
    for (let o = 0; o < rows; o++) {
      for (let y = 0; y < perRow; y++) {
        const from = (y * rows + o) * halves;
        const to = (o * perRow + y) * halves;
        for (let h = 0; h < halves; h++) words[to + h] = src[from + h];
      }
    }
    return { kind: 'packed', words, wordBits };
  }

  private expectInputs(n: RawNode, count: number): void {
    if (n.inputs.length !== count) {
      this.failSym(`node '${n.name}' (${n.op}) has ${n.inputs.length} inputs, expected ${count}`);
    }
  }

  private convert(n: RawNode): void {
    const a = new Attrs(n, this.symbolFile);
    const base = { name: n.name, shape: [] as Shape };
    const one = (): { inputs: string[]; shapes: Shape[] } => {
      const inputs = this.dataSources(n, 1);
      return { inputs, shapes: inputs.map((i) => this.shapes.get(i)!) };
    };
    const layout = (): void => {
      const l = a.str('layout', 'NCHW');
      if (l !== 'NCHW') a.unsupported('layout', 'only NCHW');
    };

    switch (n.op) {
      case 'Convolution':
      case 'QConvolution': {
        const q = n.op === 'QConvolution';
        const kernel = a.pair('kernel', 1);
        const stride = a.pair('stride', 1, [1, 1]);
        const pad = a.pair('pad', 0, [0, 0]);
        const dilate = a.tuple('dilate', [1, 1]);
        if (dilate.some((d) => d !== 1)) a.unsupported('dilate', 'only 1');
        const numFilter = a.int('num_filter');
        if (numFilter < 1) a.bad('num_filter', 'must be positive');
        const numGroup = a.int('num_group', 1);
        if (numGroup < 1) a.bad('num_group', 'must be positive');
        if (q && numGroup !== 1) a.unsupported('num_group', 'only 1 for a binary convolution');
        // MXNet's Convolution has a bias by default, BMXNet's QConvolution does not.
        const noBias = a.bool('no_bias', q);
        layout();
        const { inputs, shapes } = one();
        if (shapes[0].length !== 3) {
          throw new ShapeError(`node '${n.name}' (${n.op}) needs a [C, H, W] input, got [${shapes[0].join(', ')}]`);
        }
        const c = shapes[0][0];
        if (c % numGroup !== 0 || numFilter % numGroup !== 0) a.bad('num_group', `does not divide the ${c} input channels and ${numFilter} filters`);
        const wShape = [numFilter, c / numGroup, kernel[0], kernel[1]];
        if (q) {
          const { actBits, packed } = this.binaryAttrs(n, a, noBias);
          const node: QConvolutionNode = {
            ...base, op: 'QConvolution', inputs, kernel, stride, pad, padValue: 1, numFilter, actBits,
            weight: this.binaryWeights(n, shapes[0], packed, numFilter, c * kernel[0] * kernel[1], wShape),
          };
          this.emit(node, shapes);
        } else {
          a.done();
          this.expectInputs(n, noBias ? 2 : 3);
          const node: ConvolutionNode = {
            ...base, op: 'Convolution', inputs, kernel, stride, pad, numFilter, ...(numGroup !== 1 ? { numGroup } : {}),
            weight: this.floatParam(n, 1, 'weight', wShape, false, shapes[0]),
            bias: noBias ? null : this.floatParam(n, 2, 'bias', [numFilter]),
          };
          this.emit(node, shapes);
        }
        break;
      }
      case 'FullyConnected':
      case 'QFullyConnected': {
        const q = n.op === 'QFullyConnected';
        const numHidden = a.int('num_hidden');
        if (numHidden < 1) a.bad('num_hidden', 'must be positive');
        const noBias = a.bool('no_bias', q);
        const { inputs, shapes } = one();
        const k = numel(shapes[0]);
        if (q) {
          const { actBits, packed } = this.binaryAttrs(n, a, noBias);
          const node: QFullyConnectedNode = {
            ...base, op: 'QFullyConnected', inputs, numHidden, actBits,
            weight: this.binaryWeights(n, shapes[0], packed, numHidden, k, [numHidden, k], this.opts.qfcPacking !== 'rows'),
          };
          this.emit(node, shapes);
        } else {
          if (!a.bool('flatten', true)) a.unsupported('flatten', 'only True');
          a.done();
          this.expectInputs(n, noBias ? 2 : 3);
          const node: FullyConnectedNode = {
            ...base, op: 'FullyConnected', inputs, numHidden,
            weight: this.floatParam(n, 1, 'weight', [numHidden, k], false, shapes[0]),
            bias: noBias ? null : this.floatParam(n, 2, 'bias', [numHidden]),
          };
          this.emit(node, shapes);
        }
        break;
      }
      case 'BatchNorm': {
        const eps = a.float('eps', 1e-3);
        if (eps < 0) a.bad('eps', 'must not be negative');
        // fix_gamma (the default) means MXNet uses gamma = 1 whatever is stored.
        const fixGamma = a.bool('fix_gamma', true);
        if (a.int('axis', 1) !== 1) a.unsupported('axis', 'only 1, the channel axis');
        if (a.bool('output_mean_var', false)) a.unsupported('output_mean_var', 'only False');
        a.done();
        this.expectInputs(n, 5);
        const { inputs, shapes } = one();
        const c = shapes[0][0];
        // beta first: it bounds c by what the file holds before gamma = 1 is allocated.
        const beta = this.floatParam(n, 2, 'beta', [c], false, shapes[0]);
        const node: BatchNormNode = {
          ...base, op: 'BatchNorm', inputs, eps, beta,
          gamma: fixGamma ? new Float32Array(c).fill(1) : this.floatParam(n, 1, 'gamma', [c], false, shapes[0]),
          mean: this.floatParam(n, 3, 'moving_mean', [c], true, shapes[0]),
          variance: this.floatParam(n, 4, 'moving_var', [c], true, shapes[0]),
        };
        const low = node.variance.findIndex((v) => !(Math.fround(v + eps) > 0));
        if (low >= 0) throw new FormatError(this.paramsFile, `moving_var of node '${n.name}' (BatchNorm) holds ${node.variance[low]} at index ${low}: with eps ${eps} the variance is not positive`);
        this.emit(node, shapes);
        break;
      }
      case 'Activation': {
        const t = a.str('act_type', '');
        if (t === '') a.missing('act_type');
        if (t !== 'tanh' && t !== 'relu' && t !== 'sigmoid') a.unsupported('act_type', 'only tanh, relu, sigmoid');
        a.done();
        this.expectInputs(n, 1);
        const { inputs, shapes } = one();
        this.emit({ ...base, op: 'Activation', inputs, actType: t as 'tanh' | 'relu' | 'sigmoid' }, shapes);
        break;
      }
      case 'Pooling': {
        const poolType = a.str('pool_type', 'max');
        if (poolType !== 'max' && poolType !== 'avg') a.unsupported('pool_type', 'only max, avg');
        const global = a.bool('global_pool', false);
        const kernel = global ? this.optionalPair(a, 'kernel') : a.pair('kernel', 1);
        const stride = a.pair('stride', 1, [1, 1]);
        const pad = a.pair('pad', 0, [0, 0]);
        const convention = a.str('pooling_convention', 'valid');
        if (convention !== 'valid' && convention !== 'full') a.unsupported('pooling_convention', 'only valid, full');
        const countIncludePad = a.bool('count_include_pad', true);
        a.str('p_value', ''); // only used by lp pooling, which is rejected above
        layout();
        a.done();
        this.expectInputs(n, 1);
        const { inputs, shapes } = one();
        const node: PoolingNode = {
          ...base, op: 'Pooling', inputs, poolType: poolType as 'max' | 'avg', kernel, stride, pad, global,
          convention: convention as 'valid' | 'full', countIncludePad,
        };
        this.emit(node, shapes);
        break;
      }
      case 'Flatten': {
        a.done();
        this.expectInputs(n, 1);
        const { inputs, shapes } = one();
        this.emit({ ...base, op: 'Flatten', inputs }, shapes);
        break;
      }
      case 'Dropout': {
        // Identity at inference unless it is told to drop always.
        if (a.str('mode', 'training') !== 'training') a.unsupported('mode', 'only training');
        a.float('p', 0.5);
        a.tuple('axes', [0]);
        a.done();
        this.expectInputs(n, 1);
        this.irName.set(n.index, this.dataSources(n, 1)[0]);
        return;
      }
      case 'QActivation': {
        const actBits = this.actBit(a);
        const backwardOnly = a.bool('backward_only', false);
        a.done();
        this.expectInputs(n, 1);
        const { inputs, shapes } = one();
        this.emit({ ...base, op: 'QActivation', inputs, actBits, backwardOnly }, shapes);
        break;
      }
      default:
        if (ADD_OPS.has(n.op)) {
          a.done();
          this.expectInputs(n, 2);
          const inputs = this.dataSources(n, 2);
          const shapes = inputs.map((i) => this.shapes.get(i)!);
          if (shapes[0].join(',') !== shapes[1].join(',')) {
            if (this.probe) throw new ProbeMismatch(`node '${n.name}': shapes differ`);
            throw new UnsupportedError(`node '${n.name}' (${n.op}): adding [${shapes[0].join(', ')}] and [${shapes[1].join(', ')}] needs broadcasting, which is not supported`);
          }
          this.emit({ ...base, op: 'Add', inputs }, shapes);
          break;
        }
        if (SOFTMAX_OPS.has(n.op)) {
          this.softmaxAttrs(n, a);
          const { inputs, shapes } = one(); // a label input, if any, is dropped
          if (shapes[0].length !== 1) {
            throw new UnsupportedError(`node '${n.name}' (${n.op}): softmax over a [${shapes[0].join(', ')}] tensor is not supported (only vectors)`);
          }
          this.emit({ ...base, op: 'Softmax', inputs }, shapes);
          break;
        }
        if (n.op === 'null') return;
        throw new UnsupportedError(`node '${n.name}': op ${n.op} is not supported`);
    }
    this.irName.set(n.index, n.name);
  }

  private optionalPair(a: Attrs, key: string): [number, number] {
    const t = a.tuple(key, [1, 1]);
    return t.length === 2 ? [t[0], t[1]] : [1, 1]; // ignored by global pooling
  }

  /** Attributes shared by QConvolution and QFullyConnected (checked, then consumed). */
  private binaryAttrs(n: RawNode, a: Attrs, noBias: boolean): { actBits: number; packed: boolean } {
    if (!noBias) a.unsupported('no_bias', 'only True for binary layers');
    const actBits = this.actBit(a);
    if (a.int('weight_bit', 1) !== 1) a.unsupported('weight_bit', 'only 1');
    if (a.str('scaling_mode', 'none') !== 'none') a.unsupported('scaling_mode', 'only none');
    const packed = a.bool('binarized_weights_only', false);
    a.done();
    this.expectInputs(n, 2);
    return { actBits, packed };
  }

  private actBit(a: Attrs): number {
    const k = a.int('act_bit', 1);
    if (k < 1 || k > 32) a.bad('act_bit', 'must be in 1..32');
    return k;
  }

  /** Softmax flavours differ only in attributes that must keep the plain vector softmax. */
  private softmaxAttrs(n: RawNode, a: Attrs): void {
    if (n.op === 'SoftmaxOutput' || n.op === 'Softmax') {
      if (a.bool('multi_output', false)) a.unsupported('multi_output', 'only False');
      a.bool('preserve_shape', false); // same result on the vector inputs accepted below
      this.expectInputs(n, n.inputs.length === 1 ? 1 : 2);
    } else if (n.op === 'softmax') {
      const axis = a.int('axis', -1);
      if (axis !== -1 && axis !== 1) a.unsupported('axis', 'only the last axis');
      const temp = a.float('temperature', 1);
      if (temp !== 1) a.unsupported('temperature', 'only 1');
      if (a.bool('use_length', false)) a.unsupported('use_length', 'only False');
      const dtype = a.str('dtype', 'float32');
      if (dtype !== 'float32') a.unsupported('dtype', 'only float32');
      this.expectInputs(n, 1);
    } else {
      // SoftmaxActivation: 'instance' and 'channel' agree on vectors.
      const mode = a.str('mode', 'instance');
      if (mode !== 'instance' && mode !== 'channel') a.unsupported('mode', 'only instance, channel');
      this.expectInputs(n, 1);
    }
    a.done();
  }
}
