/**
 * validateModel: the gate between a CompiledModel and everything that executes it.
 *
 * A model that passes can be trusted completely by a backend: every id is in range,
 * every tensor is written exactly once before it is read, op kinds match tensor
 * kinds, output geometry follows from input geometry, every typed array has exactly
 * the length its op implies, and every size is bounded so no product overflows and
 * no allocation is absurd. The checks are defensive about runtime types too, because
 * the model may come from a hostile .bnn file (decodeBnn runs this on every load).
 *
 * Every failure is one FormatError line naming the op, tensor or segment at fault.
 */
import { FormatError } from '../core/errors';
import { windowOut } from '../core/window';
import { MAX_BITS, MAX_W_BITS } from '../array/limits';
import {
  accumulatorRange, BconvOp, CompiledModel, isDeviceOp, PAD_ZERO, Segment, TensorInfo, TensorKind, tensorLength,
} from './model';

/** Bounds shared by the validator, the compiler and the docs (docs/FORMAT.md). */
export const LIMITS = {
  /** Kernel size of every window (conv, pool, binary dense = kernel covering the input). */
  maxKernel: 64,
  maxStride: 64,
  /** Height and width of any tensor. */
  maxSpatial: 65536,
  /** Channels of a feature map (h*w > 1) and output channels of conv / bconv. */
  maxChannels: 65536,
  /** Length of a vector (h = w = 1), e.g. a flattened map. */
  maxVector: 1 << 24,
  /** Activation / threshold bits (the array's bit-planes). */
  maxBits: MAX_BITS,
  /** Weight bits of a bconv (bit-planes of its weights). */
  maxWeightBits: MAX_W_BITS,
  /** Elements of one tensor for one image (Uint32 halves for bits tensors). */
  maxTensorElements: 1 << 28,
  maxOps: 1 << 16,
  /**
   * Bytes of one tensor for a whole batch (every element is 4 bytes). A session makes
   * its batch smaller when batch × the largest tensor would exceed this; one image
   * always fits (maxTensorElements × 4 bytes).
   */
  maxBatchTensorBytes: 2 ** 30,
} as const;

// ---- small helpers (also used by the .bnn decoder) --------------------------------

/** A string quoted for a one-line message: escaped, truncated. */
export function quote(s: string, max = 60): string {
  const q = JSON.stringify(s.length > max ? s.slice(0, max) : s);
  return s.length > max ? `${q.slice(0, -1)}…"` : q;
}

/** Short one-line description of any runtime value, for "got …" in messages. */
export function describe(v: unknown): string {
  if (v === undefined) return 'nothing (missing)';
  if (v === null) return 'null';
  switch (typeof v) {
    case 'number':
      return Object.is(v, -0) ? '-0' : String(v);
    case 'string':
      return `the string ${quote(v, 30)}`;
    case 'boolean':
      return String(v);
    case 'bigint':
      return `${v}n`;
    case 'object': {
      if (Array.isArray(v)) return `an array of ${v.length}`;
      const tag = Object.prototype.toString.call(v).slice(8, -1);
      if (ArrayBuffer.isView(v) && 'length' in v) return `a ${tag} of ${(v as { length: number }).length}`;
      return tag === 'Object' ? 'an object' : `a ${tag}`;
    }
    default:
      return `a ${typeof v}`;
  }
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** True when v is an integer number in lo..hi (no coercion: "3" is not an integer). */
export function isIntIn(v: unknown, lo: number, hi: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;
}

type Fail = (msg: string) => never;

/** v as an integer in lo..hi, or fail with "<what> must be an integer in lo..hi, got …". */
export function expectInt(fail: Fail, what: string, v: unknown, lo: number, hi: number, why = ''): number {
  if (!isIntIn(v, lo, hi)) fail(`${what} must be an integer in ${lo}..${hi}${why}, got ${describe(v)}`);
  return v;
}

/** v as a positive integer no larger than hi. */
export function expectPositiveInt(fail: Fail, what: string, v: unknown, hi: number): number {
  return expectInt(fail, what, v, 1, hi);
}

/** Index of the first NaN or ±Infinity in `v`, or -1. */
export function firstNonFinite(v: ArrayLike<number>): number {
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (x - x !== 0) return i; // NaN and ±Infinity, without a call per element
  }
  return -1;
}

// ---- the validator -----------------------------------------------------------------

const KINDS: readonly TensorKind[] = ['f32', 'i32', 'bits'];
const ACTIVATIONS = ['tanh', 'relu', 'sigmoid'];
const POOL_MODES = ['max', 'avg'];
/** Largest |accumulator| a bconv may produce: outputs are Int32. */
const INT32_MAX = 2 ** 31 - 1;

interface Win { kh: number; kw: number; sh: number; sw: number; ph: number; pw: number }

function showTensor(t: TensorInfo): string {
  const g = `${t.kind} ${t.h}x${t.w}x${t.c}`;
  if (t.kind === 'bits') return `${g} with ${t.planes} ${t.signed === true ? 'signed ' : ''}plane${t.planes === 1 ? '' : 's'}`;
  return t.flat ? `${g} (flat)` : g;
}

function sameTensor(a: TensorInfo, b: TensorInfo): boolean {
  return a.kind === b.kind && a.h === b.h && a.w === b.w && a.c === b.c && a.planes === b.planes && a.flat === b.flat &&
    (a.signed === true) === (b.signed === true);
}

/**
 * Throw a FormatError (prefixed with `where`, normally the file name) on the first
 * inconsistency in `m`. Returns normally only for a model every backend can execute.
 */
export function validateModel(m: CompiledModel, where: string): void {
  const fail: Fail = (msg) => {
    throw new FormatError(where, msg);
  };
  if (!isObject(m)) fail(`compiled model must be an object, got ${describe(m)}`);

  // -- top-level scalars
  if (typeof m.name !== 'string') fail(`model name must be a string, got ${describe(m.name)}`);
  if (!isObject(m.source)) fail(`source must be an object {format, files}, got ${describe(m.source)}`);
  if (typeof m.source.format !== 'string') fail(`source.format must be a string, got ${describe(m.source.format)}`);
  if (!Array.isArray(m.source.files)) fail(`source.files must be an array of strings, got ${describe(m.source.files)}`);
  if (m.source.files.length > 4096) fail(`source.files lists ${m.source.files.length} files, the limit is 4096`);
  // index loops, not forEach: forEach would skip the holes of a sparse array
  for (let i = 0; i < m.source.files.length; i++) {
    const f: unknown = m.source.files[i];
    if (typeof f !== 'string') fail(`source.files[${i}] must be a string, got ${describe(f)}`);
  }
  if (typeof m.softmax !== 'boolean') fail(`softmax must be true or false, got ${describe(m.softmax)}`);
  expectInt(fail, 'floatWeightBytes', m.floatWeightBytes, 0, Number.MAX_SAFE_INTEGER);

  // -- tensors
  if (!Array.isArray(m.tensors)) fail(`tensors must be an array, got ${describe(m.tensors)}`);
  if (!Array.isArray(m.ops)) fail(`ops must be an array, got ${describe(m.ops)}`);
  const nOps = m.ops.length;
  if (nOps < 1 || nOps > LIMITS.maxOps) fail(`the model must have 1..${LIMITS.maxOps} ops, it has ${nOps}`);
  // every op writes exactly one tensor and the input is written by none
  if (m.tensors.length !== nOps + 1) {
    fail(`the model has ${m.tensors.length} tensors for ${nOps} ops, expected ${nOps + 1} (each op writes one tensor, plus the input)`);
  }
  for (let i = 0; i < m.tensors.length; i++) checkTensor(m.tensors[i], i, fail);
  const tensors = m.tensors;
  const nT = tensors.length;

  // -- input / output
  const input = expectInt(fail, 'input', m.input, 0, nT - 1, ' (a tensor id)');
  const output = expectInt(fail, 'output', m.output, 0, nT - 1, ' (a tensor id)');
  if (tensors[input].kind !== 'f32') fail(`input tensor ${input} is ${showTensor(tensors[input])}, the model input must be f32`);
  const ot = tensors[output];
  if (ot.kind !== 'f32' || ot.h !== 1 || ot.w !== 1) {
    fail(`output tensor ${output} is ${showTensor(ot)}, the model output must be an f32 vector (1x1xN)`);
  }
  if (output === input) fail(`output tensor ${output} is the model input`);

  // -- op names (checked before ops so messages can use them)
  if (!Array.isArray(m.opNames)) fail(`opNames must be an array of strings, got ${describe(m.opNames)}`);
  if (m.opNames.length !== nOps) fail(`opNames has ${m.opNames.length} entries for ${nOps} ops`);
  for (let i = 0; i < nOps; i++) {
    const n: unknown = m.opNames[i];
    if (typeof n !== 'string') fail(`opNames[${i}] must be a string, got ${describe(n)}`);
  }

  // -- ops, in order, tracking who writes and reads each tensor
  const writer = new Int32Array(nT).fill(-1);
  const readBy = new Int32Array(nT).fill(-1);
  const reads: number[][] = [];
  for (let i = 0; i < nOps; i++) {
    reads.push(checkOp(m, i, input, writer, readBy, fail));
  }
  for (let t = 0; t < nT; t++) {
    if (t !== input && writer[t] < 0) fail(`tensor ${t} is written by no op`);
    if (t !== output && readBy[t] < 0) {
      const by = t === input ? 'the model input' : `written by op ${writer[t]}`;
      fail(`tensor ${t} (${by}) is never read and is not the model output (dead code)`);
    }
  }

  checkSegments(m, input, output, writer, reads, fail);
  if (m.preprocess !== undefined) checkPreprocess(m.preprocess, tensors[input], fail);
  if (m.labels !== undefined) checkLabels(m.labels, ot.c, fail);
}

/** Bounds of the stored preprocessing (docs/FORMAT.md §3.6). */
export const PREPROCESS_LIMITS = {
  /** Largest pixel range (`scale`). */
  maxScale: 65536,
  /** Largest |mean|. */
  maxAbsMean: 1e6,
  /** std in minStd..maxStd. */
  minStd: 1e-6,
  maxStd: 1e6,
  /** Largest shorter-side size. */
  maxResize: 65536,
  /** Longest label (UTF-16 code units). */
  maxLabelLength: 1024,
} as const;

function finiteIn(v: unknown, lo: number, hi: number): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= lo && v <= hi;
}

/**
 * The model's preprocessing against its input tensor: channel order, a positive pixel
 * range, one finite mean and one positive std per input channel, a resize policy whose
 * shorter side covers the centre crop (the input's h x w).
 */
function checkPreprocess(p: unknown, x: TensorInfo, failModel: Fail): void {
  const f: Fail = (msg) => failModel(`preprocess: ${msg}`);
  const L = PREPROCESS_LIMITS;
  if (!isObject(p)) f(`must be an object {channelOrder, scale, mean, std, resize}, got ${describe(p)}`);
  if (p.channelOrder !== 'rgb' && p.channelOrder !== 'bgr') f(`channelOrder must be "rgb" or "bgr", got ${describe(p.channelOrder)}`);
  if (p.channelOrder === 'bgr' && x.c !== 3) f(`channelOrder "bgr" needs a 3-channel input, the model input has ${x.c}`);
  if (!finiteIn(p.scale, Number.MIN_VALUE, L.maxScale)) f(`scale must be a number in (0, ${L.maxScale}], got ${describe(p.scale)}`);
  const perChannel = (key: 'mean' | 'std', lo: number, hi: number, range: string) => {
    const v = p[key];
    if (!Array.isArray(v)) f(`${key} must be an array of ${x.c} numbers (one per input channel), got ${describe(v)}`);
    if (v.length !== x.c) f(`${key} has ${v.length} values, the model input has ${x.c} channels`);
    for (let i = 0; i < v.length; i++) {
      if (!finiteIn(v[i], lo, hi)) f(`${key}[${i}] must be a number in ${range}, got ${describe(v[i])}`);
    }
  };
  perChannel('mean', -L.maxAbsMean, L.maxAbsMean, `[${-L.maxAbsMean}, ${L.maxAbsMean}]`);
  perChannel('std', L.minStd, L.maxStd, `[${L.minStd}, ${L.maxStd}]`);
  const r = p.resize;
  if (!isObject(r)) f(`resize must be {policy: "stretch"} or {policy: "shorter-side", size}, got ${describe(r)}`);
  if (r.policy === 'shorter-side') {
    const min = Math.max(x.h, x.w);
    expectInt(f, 'resize.size', r.size, min, L.maxResize, ` (at least the centre crop's larger side, the input is ${x.h}x${x.w})`);
  } else if (r.policy !== 'stretch') {
    f(`resize.policy must be "stretch" or "shorter-side", got ${describe(r.policy)}`);
  }
}

/** One printable, bounded label per output class. */
function checkLabels(labels: unknown, classes: number, fail: Fail): void {
  if (!Array.isArray(labels)) fail(`labels must be an array of ${classes} strings (one per class), got ${describe(labels)}`);
  if (labels.length !== classes) fail(`labels has ${labels.length} entries, the model has ${classes} classes`);
  for (let i = 0; i < labels.length; i++) {
    const l: unknown = labels[i];
    if (typeof l !== 'string') fail(`labels[${i}] must be a string, got ${describe(l)}`);
    if (l.length > PREPROCESS_LIMITS.maxLabelLength) fail(`labels[${i}] has ${l.length} characters, the limit is ${PREPROCESS_LIMITS.maxLabelLength}`);
    // printed on terminals: no control characters (escape sequences, line breaks)
    if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(l)) fail(`labels[${i}] ${quote(l)} contains a control character`);
  }
}

function checkTensor(t: unknown, i: number, fail: Fail): void {
  const f: Fail = (msg) => fail(`tensor ${i}: ${msg}`);
  if (!isObject(t)) f(`must be an object {kind, h, w, c, planes, flat}, got ${describe(t)}`);
  if (typeof t.kind !== 'string' || !KINDS.includes(t.kind as TensorKind)) {
    f(`kind must be one of ${KINDS.join(', ')}, got ${describe(t.kind)}`);
  }
  const h = expectPositiveInt(f, 'h', t.h, LIMITS.maxSpatial);
  const w = expectPositiveInt(f, 'w', t.w, LIMITS.maxSpatial);
  const vector = h === 1 && w === 1;
  expectPositiveInt(f, vector ? 'c (vector length)' : 'c (channels)', t.c, vector ? LIMITS.maxVector : LIMITS.maxChannels);
  if (t.kind === 'bits') expectInt(f, 'planes', t.planes, 1, LIMITS.maxBits, ' for a bits tensor');
  else if (t.planes !== 0) f(`planes must be 0 for a ${t.kind} tensor, got ${describe(t.planes)}`);
  if (typeof t.flat !== 'boolean') f(`flat must be true or false, got ${describe(t.flat)}`);
  if (t.flat && (t.kind !== 'f32' || !vector)) f(`only f32 vectors (1x1xN) can be flat, this is ${t.kind} ${h}x${w}`);
  if (t.signed !== undefined) {
    if (typeof t.signed !== 'boolean') f(`signed must be true or false, got ${describe(t.signed)}`);
    // 1-bit values are bipolar (±1) and other kinds hold no levels
    if (t.signed && (t.kind !== 'bits' || (t.planes as number) < 2)) f(`only bits tensors with 2 or more planes can be signed, this is ${t.kind} with ${describe(t.planes)} planes`);
  }
  const info = t as unknown as TensorInfo;
  const n = Math.max(h * w * info.c, tensorLength(info));
  if (n > LIMITS.maxTensorElements) f(`${showTensor(info)} holds ${n} elements per image, the limit is ${LIMITS.maxTensorElements}`);
}

/** Validate op i; returns the tensor ids it reads. */
function checkOp(
  m: CompiledModel, i: number, input: number, writer: Int32Array, readBy: Int32Array, failModel: Fail,
): number[] {
  const op = m.ops[i] as unknown;
  const name = m.opNames[i];
  if (!isObject(op)) failModel(`op ${i} ${quote(name)} must be an object, got ${describe(op)}`);
  const kind = op.op;
  const ctx = typeof kind === 'string' ? `op ${i} (${quote(kind, 20).slice(1, -1)} ${quote(name)})` : `op ${i} (${quote(name)})`;
  const f: Fail = (msg) => failModel(`${ctx}: ${msg}`);
  const tensors = m.tensors;
  const nT = tensors.length;

  // -- dataflow: ids in range, inputs already written, output written exactly once
  const inIds: number[] = [];
  if (kind === 'add') {
    if (!Array.isArray(op.in) || op.in.length !== 2) f(`in must be an array of two tensor ids, got ${describe(op.in)}`);
    inIds.push(expectInt(f, 'in[0]', op.in[0], 0, nT - 1, ' (a tensor id)'), expectInt(f, 'in[1]', op.in[1], 0, nT - 1, ' (a tensor id)'));
  } else {
    inIds.push(expectInt(f, 'in', op.in, 0, nT - 1, ' (a tensor id)'));
  }
  const out = expectInt(f, 'out', op.out, 0, nT - 1, ' (a tensor id)');
  for (const t of inIds) {
    if (t !== input && (writer[t] < 0 || writer[t] >= i)) {
      const later = m.ops.findIndex((o, k) => k > i && isObject(o) && o.out === t);
      f(`reads tensor ${t} before any op writes it${later > i ? ` (op ${later} writes it later)` : ''}`);
    }
    readBy[t] = i;
  }
  if (out === input) f(`writes tensor ${out}, the model input`);
  if (writer[out] >= 0) f(`writes tensor ${out}, already written by op ${writer[out]}`);
  writer[out] = i;

  const x = tensors[inIds[0]];
  const y = tensors[out];
  const needIn = (t: TensorInfo, id: number, k: TensorKind, what = 'input') => {
    if (t.kind !== k) f(`${what} tensor ${id} is ${showTensor(t)}, expected ${k}`);
  };
  /** Output must be exactly `want`; `how` explains where the geometry comes from. */
  const needOut = (want: TensorInfo, how = '') => {
    if (!sameTensor(y, want)) f(`output tensor ${out} is ${showTensor(y)}, expected ${showTensor(want)}${how}`);
  };
  const f32 = (h: number, w: number, c: number, flat = false): TensorInfo => ({ kind: 'f32', h, w, c, planes: 0, flat });

  switch (kind) {
    case 'conv2d': {
      needIn(x, inIds[0], 'f32');
      const win = checkWindow(op, '', f);
      const oh = windowOut(x.h, win.kh, win.sh, win.ph);
      const ow = windowOut(x.w, win.kw, win.sw, win.pw);
      fits(oh, ow, x, win, 'kernel', f);
      needOut(f32(oh, ow, y.c), ` (${winText(win)} on ${x.h}x${x.w})`);
      const outC = y.c;
      const g = expectInt(f, 'groups', op.groups, 1, x.c, ' (input channels)');
      if (x.c % g !== 0 || outC % g !== 0) f(`groups ${g} must divide the ${x.c} input and ${outC} output channels`);
      const icg = x.c / g;
      const formula = g === 1 ? `outC*kh*kw*inC = ${outC}*${win.kh}*${win.kw}*${x.c}` : `outC*kh*kw*inC/groups = ${outC}*${win.kh}*${win.kw}*${icg}`;
      checkF32(op.weight, 'weight', outC * win.kh * win.kw * icg, formula, f);
      if (op.bias !== null) checkF32(op.bias, 'bias', outC, 'outC', f);
      break;
    }
    case 'dense': {
      needIn(x, inIds[0], 'f32');
      needOut(f32(1, 1, y.c));
      const k = x.h * x.w * x.c;
      checkF32(op.weight, 'weight', y.c * k, `outC*inFeatures = ${y.c}*${k}`, f);
      if (op.bias !== null) checkF32(op.bias, 'bias', y.c, 'outC', f);
      break;
    }
    case 'batchnorm': {
      needIn(x, inIds[0], 'f32');
      needOut(x, ' (same as the input)');
      // per channel on maps, per feature on flat vectors (h = w = 1 there, so both are c)
      const n = x.flat ? x.h * x.w * x.c : x.c;
      const what = x.flat ? 'features' : 'channels';
      for (const p of ['mean', 'scale', 'beta']) checkF32(op[p], p, n, what, f);
      break;
    }
    case 'activation':
      if (typeof op.fn !== 'string' || !ACTIVATIONS.includes(op.fn)) f(`fn must be one of ${ACTIVATIONS.join(', ')}, got ${describe(op.fn)}`);
      needIn(x, inIds[0], 'f32');
      needOut(x, ' (same as the input)');
      break;
    case 'pool': {
      if (typeof op.mode !== 'string' || !POOL_MODES.includes(op.mode)) f(`mode must be max or avg, got ${describe(op.mode)}`);
      if (typeof op.countIncludePad !== 'boolean') f(`countIncludePad must be true or false, got ${describe(op.countIncludePad)}`);
      needIn(x, inIds[0], 'f32');
      const win = checkWindow(op, '', f);
      const oh = windowOut(x.h, win.kh, win.sh, win.ph);
      const ow = windowOut(x.w, win.kw, win.sw, win.pw);
      fits(oh, ow, x, win, 'pooling window', f);
      // MXNet's 'full' convention rounds the window count up; the output size says which
      // one applies. Either way every window must start inside the input, or it has no data.
      const full = (size: number, k: number, s: number, p: number) => {
        const n = Math.ceil((size + 2 * p - k) / s) + 1;
        return (n - 1) * s - p <= size - 1 ? n : n - 1;
      };
      const fh = full(x.h, win.kh, win.sh, win.ph);
      const fw = full(x.w, win.kw, win.sw, win.pw);
      if (!((y.h === oh || y.h === fh) && (y.w === ow || y.w === fw))) {
        const alt = fh !== oh || fw !== ow ? ` or ${fh}x${fw} (rounding up)` : '';
        f(`output tensor ${out} is ${showTensor(y)}, expected ${oh}x${ow}${alt} (${winText(win)} on ${x.h}x${x.w})`);
      }
      needOut(f32(y.h, y.w, x.c));
      break;
    }
    case 'add': {
      const x2 = tensors[inIds[1]];
      needIn(x, inIds[0], 'f32');
      if (!sameTensor(x, x2)) f(`cannot add tensor ${inIds[0]} (${showTensor(x)}) and tensor ${inIds[1]} (${showTensor(x2)})`);
      needOut(x, ' (same as the inputs)');
      break;
    }
    case 'flatten':
      needIn(x, inIds[0], 'f32');
      needOut(f32(1, 1, x.h * x.w * x.c, true), ` (h*w*c of ${x.h}x${x.w}x${x.c})`);
      break;
    case 'quantize': {
      const bits = expectInt(f, 'bits', op.bits, 1, LIMITS.maxBits);
      if (op.signed !== undefined && typeof op.signed !== 'boolean') f(`signed must be true or false, got ${describe(op.signed)}`);
      if (op.signed === true && bits < 2) f('signed needs bits >= 2 (1-bit values are bipolar)');
      needIn(x, inIds[0], 'f32');
      needOut(x, ' (same as the input)');
      break;
    }
    case 'binarize': {
      const bits = expectInt(f, 'bits', op.bits, 1, LIMITS.maxBits);
      needIn(x, inIds[0], 'f32');
      // signedness is the output tensor's (checked with the tensor)
      needOut({ kind: 'bits', h: x.h, w: x.w, c: x.c, planes: bits, flat: false, signed: y.signed }, ` (one plane per bit)`);
      break;
    }
    case 'dequantize': {
      if (typeof op.divisor !== 'number' || !Number.isFinite(op.divisor) || op.divisor === 0) {
        f(`divisor must be a finite non-zero number, got ${describe(op.divisor)}`);
      }
      needIn(x, inIds[0], 'i32');
      needOut(f32(x.h, x.w, x.c));
      break;
    }
    case 'bconv':
      checkBconv(op, x, inIds[0], y, out, f);
      break;
    default:
      f(`unknown op kind ${typeof kind === 'string' ? quote(kind) : describe(kind)}`);
  }
  return inIds;
}

function checkBconv(op: Record<string, unknown>, x: TensorInfo, inId: number, y: TensorInfo, out: number, f: Fail): void {
  if (op.padBit !== 0 && op.padBit !== 1 && op.padBit !== PAD_ZERO) f(`padBit must be 0, 1 or ${PAD_ZERO} (zero padding), got ${describe(op.padBit)}`);
  const inBits = expectInt(f, 'inBits', op.inBits, 1, LIMITS.maxBits);
  const outC = expectPositiveInt(f, 'outC', op.outC, LIMITS.maxChannels);
  if (x.kind !== 'bits' || x.planes !== inBits) {
    f(`input tensor ${inId} is ${showTensor(x)}, expected bits with ${inBits} plane${inBits === 1 ? '' : 's'} (inBits)`);
  }
  const win = checkWindow(op, '', f);
  const ah = windowOut(x.h, win.kh, win.sh, win.ph);
  const aw = windowOut(x.w, win.kw, win.sw, win.pw);
  fits(ah, aw, x, win, 'kernel', f);
  const wBits = op.wBits === undefined ? 1 : expectInt(f, 'wBits', op.wBits, 1, LIMITS.maxWeightBits);
  if (op.wSigned !== undefined && typeof op.wSigned !== 'boolean') f(`wSigned must be true or false, got ${describe(op.wSigned)}`);
  if (op.wSigned === true && wBits < 2) f('wSigned needs wBits >= 2 (1-bit weights are bipolar)');
  if (op.padBit === PAD_ZERO && (inBits !== 1 || wBits !== 1)) f(`padBit ${PAD_ZERO} (zero padding) needs 1-bit activations and 1-bit weights, got ${inBits}-bit x ${wBits}-bit`);
  const K = win.kh * win.kw * x.c;
  const acc = accumulatorRange(inBits, x.signed === true, wBits, op.wSigned === true, K, op.padBit === PAD_ZERO);
  if (Math.max(-acc.lo, acc.hi) > INT32_MAX) {
    f(`the accumulator range ${acc.lo}..${acc.hi} (${inBits}-bit activations x ${wBits}-bit weights over kh*kw*inC = ${win.kh}*${win.kw}*${x.c}) overflows Int32`);
  }

  // weights: wBits planes of [outC][kh][kw][ceil(inC/64)*2] Uint32 halves, bits past inC zero
  const words = Math.ceil(x.c / 64);
  const wantW = wBits * outC * win.kh * win.kw * words * 2;
  if (!(op.weight instanceof Uint32Array)) f(`weight must be a Uint32Array, got ${describe(op.weight)}`);
  if (op.weight.length !== wantW) {
    const planes = wBits === 1 ? '' : 'wBits*';
    const n = wBits === 1 ? '' : `${wBits}*`;
    f(`weight has ${op.weight.length} Uint32 values, expected ${planes}outC*kh*kw*ceil(inC/64)*2 = ${n}${outC}*${win.kh}*${win.kw}*${words}*2 = ${wantW}`);
  }
  checkWeightTail(op.weight, wBits, outC, win.kh * win.kw, words, x.c, f);

  // optional integer pool on the accumulators
  let oh = ah;
  let ow = aw;
  let how = ` (${winText(win)} on ${x.h}x${x.w})`;
  if (op.pool !== null) {
    if (!isObject(op.pool)) f(`pool must be null or an object, got ${describe(op.pool)}`);
    const pw = checkWindow(op.pool, 'pool.', f);
    oh = windowOut(ah, pw.kh, pw.sh, pw.ph);
    ow = windowOut(aw, pw.kw, pw.sw, pw.pw);
    if (oh < 1 || ow < 1) f(`pool window ${winText(pw)} does not fit the ${ah}x${aw} conv output`);
    how = ` (${winText(win)} on ${x.h}x${x.w} gives ${ah}x${aw}, then pool ${winText(pw)})`;
    checkFlags(op.pool.useMin, 'pool.useMin', outC, f);
  }

  const ep = op.epilogue;
  if (!isObject(ep)) f(`epilogue must be an object, got ${describe(ep)}`);
  if (ep.kind === 'int') {
    if (y.kind !== 'i32') f(`output tensor ${out} is ${showTensor(y)}, an 'int' epilogue writes i32`);
    if (y.c !== outC) f(`output tensor ${out} has ${y.c} channels, outC is ${outC}`);
    if (!sameTensor(y, { kind: 'i32', h: oh, w: ow, c: outC, planes: 0, flat: false })) {
      f(`output tensor ${out} is ${showTensor(y)}, expected i32 ${oh}x${ow}x${outC}${how}`);
    }
  } else if (ep.kind === 'threshold') {
    const bits = expectInt(f, 'epilogue.bits', ep.bits, 1, LIMITS.maxBits);
    if (y.kind !== 'bits' || y.planes !== bits) {
      f(`output tensor ${out} is ${showTensor(y)}, a ${bits}-bit threshold epilogue writes bits with ${bits} plane${bits === 1 ? '' : 's'}`);
    }
    // a signed output stores n - 2^(k-1) (the tensor's flag; k >= 2, checked with the tensor)
    if (!sameTensor(y, { kind: 'bits', h: oh, w: ow, c: outC, planes: bits, flat: false, signed: y.signed })) {
      f(`output tensor ${out} is ${showTensor(y)}, expected bits ${oh}x${ow}x${outC}${how}`);
    }
    const per = 2 ** bits - 1;
    if (!(ep.thresholds instanceof Int32Array)) f(`epilogue.thresholds must be an Int32Array, got ${describe(ep.thresholds)}`);
    if (ep.thresholds.length !== outC * per) {
      f(`epilogue.thresholds has ${ep.thresholds.length} values, expected outC*(2^bits-1) = ${outC}*${per} = ${outC * per}`);
    }
    checkFlags(ep.flip, 'epilogue.flip', outC, f);
  } else {
    f(`epilogue.kind must be 'int' or 'threshold', got ${describe(ep.kind)}`);
  }
}

/** Kernel, stride and pad fields (with a prefix such as 'pool.'). */
function checkWindow(o: Record<string, unknown>, prefix: string, f: Fail): Win {
  const kh = expectPositiveInt(f, `${prefix}kh`, o.kh, LIMITS.maxKernel);
  const kw = expectPositiveInt(f, `${prefix}kw`, o.kw, LIMITS.maxKernel);
  const sh = expectPositiveInt(f, `${prefix}sh`, o.sh, LIMITS.maxStride);
  const sw = expectPositiveInt(f, `${prefix}sw`, o.sw, LIMITS.maxStride);
  // pad < kernel keeps every window overlapping real data
  const ph = expectInt(f, `${prefix}ph`, o.ph, 0, kh - 1, ' (pad < kernel)');
  const pw = expectInt(f, `${prefix}pw`, o.pw, 0, kw - 1, ' (pad < kernel)');
  return { kh, kw, sh, sw, ph, pw };
}

function winText(w: Win): string {
  return `${w.kh}x${w.kw} stride ${w.sh},${w.sw} pad ${w.ph},${w.pw}`;
}

function fits(oh: number, ow: number, x: TensorInfo, win: Win, what: string, f: Fail): void {
  if (oh < 1 || ow < 1) f(`${what} ${winText(win)} does not fit the ${x.h}x${x.w} input`);
}

function checkF32(v: unknown, name: string, n: number, formula: string, f: Fail): void {
  if (!(v instanceof Float32Array)) f(`${name} must be a Float32Array${name === 'bias' ? ' or null' : ''}, got ${describe(v)}`);
  if (v.length !== n) f(`${name} has ${v.length} values, expected ${formula} = ${n}`);
  for (let k = 0; k < n; k++) {
    if (!Number.isFinite(v[k])) f(`${name}[${k}] is ${v[k]}, must be finite`);
  }
}

/** Per-channel 0/1 flags (flip, useMin). */
function checkFlags(v: unknown, name: string, outC: number, f: Fail): void {
  if (!(v instanceof Uint8Array)) f(`${name} must be a Uint8Array, got ${describe(v)}`);
  if (v.length !== outC) f(`${name} has ${v.length} values, expected outC = ${outC}`);
  for (let k = 0; k < outC; k++) {
    if (v[k] > 1) f(`${name}[${k}] is ${v[k]}, must be 0 or 1`);
  }
}

/**
 * Bits past inC in the last word of every weight pixel must be 0: input tensors keep
 * them 0 too, and backends count xnor matches over whole words, so a stray 1 here
 * would silently change P.
 */
function checkWeightTail(w: Uint32Array, planes: number, outC: number, pixels: number, words: number, inC: number, f: Fail): void {
  const r = inC % 64;
  if (r === 0) return;
  const lo = r >= 32 ? 0 : ~((1 << r) - 1) >>> 0; // bits r.. of the low half
  const hi = r <= 32 ? 0xffffffff : ~((1 << (r - 32)) - 1) >>> 0;
  const step = words * 2;
  for (let g = 0; g < planes * outC * pixels; g++) {
    const at = g * step + step - 2;
    if ((w[at] & lo) !== 0 || (w[at + 1] & hi) !== 0) {
      const o = Math.floor(g / pixels) % outC;
      const plane = planes > 1 ? `weight plane ${Math.floor(g / (pixels * outC))}, ` : '';
      f(`weight bits past inC = ${inC} must be 0 (${plane}output channel ${o}, kernel pixel ${g % pixels}, Uint32 index ${w[at] & lo ? at : at + 1})`);
    }
  }
}

// ---- segments ------------------------------------------------------------------------

function checkSegments(
  m: CompiledModel, input: number, output: number, writer: Int32Array, reads: number[][], fail: Fail,
): void {
  if (!Array.isArray(m.segments)) fail(`segments must be an array, got ${describe(m.segments)}`);
  const nOps = m.ops.length;
  if (m.segments.length < 1) fail('the model has no segments');
  let next = 0;
  let prevKind = '';
  for (let si = 0; si < m.segments.length; si++) {
    const s: Segment = m.segments[si];
    const f: Fail = (msg) => fail(`segment ${si}: ${msg}`);
    if (!isObject(s)) f(`must be an object {kind, start, end, inputs, outputs}, got ${describe(s)}`);
    if (s.kind !== 'host' && s.kind !== 'device') f(`kind must be 'host' or 'device', got ${describe(s.kind)}`);
    if (next >= nOps) f(`starts after the last op (${nOps - 1}); the segments before it already cover every op`);
    if (s.start !== next) {
      f(`start must be ${next} (segments cover the ops contiguously, in order), got ${describe(s.start)}`);
    }
    const end = expectInt(f, 'end', s.end, next + 1, nOps, ' (segments are not empty and end within the ops)');
    if (s.kind === prevKind) f(`is ${s.kind} like segment ${si - 1}; segments are maximal runs, so kinds alternate`);
    for (let i = s.start; i < end; i++) {
      const dev = isDeviceOp(m.ops[i]);
      // .bnn 2.1 files written before the array ran zero padding keep such convs in host
      // segments, where the host engines run them exactly
      const zeroPadOnHost = s.kind === 'host' && m.ops[i].op === 'bconv' && (m.ops[i] as BconvOp).padBit === PAD_ZERO;
      if (dev !== (s.kind === 'device') && !zeroPadOnHost) {
        f(`is ${s.kind} but op ${i} (${(m.ops[i] as { op: string }).op} ${quote(m.opNames[i])}) runs on the ${dev ? 'device' : 'host'}`);
      }
    }
    // inputs: read in the segment, produced before it (or the model input)
    const wantIn = new Set<number>();
    for (let i = s.start; i < end; i++) {
      for (const t of reads[i]) if (t === input || writer[t] < s.start) wantIn.add(t);
    }
    checkIdList(s.inputs, 'inputs', wantIn, 'read by the segment and produced before it', f);
    // outputs: produced in the segment and read after it (or the model output)
    const wantOut = new Set<number>();
    for (let i = end; i < nOps; i++) {
      for (const t of reads[i]) if (writer[t] >= s.start && writer[t] < end) wantOut.add(t);
    }
    if (writer[output] >= s.start && writer[output] < end) wantOut.add(output);
    checkIdList(s.outputs, 'outputs', wantOut, 'produced by the segment and read after it, or the model output', f);
    next = end;
    prevKind = s.kind;
  }
  if (next !== nOps) fail(`segments cover ops 0..${next - 1}, but there are ${nOps} ops`);
}

function checkIdList(v: unknown, name: string, want: Set<number>, rule: string, f: Fail): void {
  if (!Array.isArray(v)) f(`${name} must be an array of tensor ids, got ${describe(v)}`);
  const seen = new Set<number>();
  for (let k = 0; k < v.length; k++) {
    const t: unknown = v[k];
    if (!isIntIn(t, 0, Number.MAX_SAFE_INTEGER)) f(`${name}[${k}] must be a tensor id, got ${describe(t)}`);
    if (seen.has(t)) f(`${name} lists tensor ${t} twice`);
    if (!want.has(t)) f(`${name} lists tensor ${t}, which is not ${rule}`);
    seen.add(t);
  }
  for (const t of want) {
    if (!seen.has(t)) f(`${name} is missing tensor ${t} (${rule})`);
  }
}
