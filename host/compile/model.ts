/**
 * The compiled model: what `compile` produces, what a .bnn file stores and what every
 * backend executes. Canonical layout (docs/ARCHITECTURE.md):
 *
 *  - Feature maps are NHWC, channels innermost. A tensor has geometry h x w x c; a
 *    vector is 1 x 1 x n. Flatten of a float map is a pure reshape in HWC order.
 *  - Binary tensors ('bits') store, per pixel, `planes` bit-planes of ceil(c/64) 64-bit
 *    words each (plane b = bit b of the k-bit level; 1-bit tensors have one plane where
 *    bit 1 = +1). Channel bits past c in the last word are 0.
 *  - Binary weights ('bconv'): per output channel, kh*kw pixels of ceil(inC/64) words,
 *    bits past inC zero. Binary dense layers are bconv whose kernel covers the whole
 *    input (kh = h, kw = w), so the array executes both the same way.
 */

export type TensorKind = 'f32' | 'i32' | 'bits';

export interface TensorInfo {
  kind: TensorKind;
  h: number;
  w: number;
  c: number;
  /** Bit-planes per pixel for 'bits' tensors (= activation bits); 0 otherwise. */
  planes: number;
  /** A float vector produced by Flatten of an h x w x c map (per-feature ops index HWC). */
  flat: boolean;
  /**
   * 'bits' tensors with planes >= 2 only: the k-bit level is two's complement (plane k-1
   * weighs -2^(k-1)), so values are -2^(k-1) .. 2^(k-1)-1. Absent or false: unsigned levels
   * 0 .. 2^k-1 (1-bit tensors are always bipolar, bit 1 = +1).
   */
  signed?: boolean;
}

interface Window {
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
}

// ---- host (float) ops: executed by the host engine -------------------------------

/**
 * Float convolution; weight is [outC][kh][kw][inC/groups], bias [outC] or null. Output
 * channel o reads the inC/groups input channels of group floor(o / (outC/groups)) (groups
 * = inC: depthwise); groups 1 is the dense conv.
 */
export interface Conv2dOp extends Window {
  op: 'conv2d'; in: number; out: number; groups: number; weight: Float32Array; bias: Float32Array | null;
}
/** Float dense; weight is [outC][inFeatures] with inputs in HWC order, bias [outC] or null. */
export interface DenseOp { op: 'dense'; in: number; out: number; weight: Float32Array; bias: Float32Array | null }
/** y = ((x - mean) * scale) + beta per channel (per feature on flat tensors), float32 each step. */
export interface BatchNormOp { op: 'batchnorm'; in: number; out: number; mean: Float32Array; scale: Float32Array; beta: Float32Array }
export interface ActivationOp { op: 'activation'; in: number; out: number; fn: 'tanh' | 'relu' | 'sigmoid' }
/** Float pooling; padded positions are ignored by max, counted by avg when countIncludePad. */
export interface PoolOp extends Window { op: 'pool'; in: number; out: number; mode: 'max' | 'avg'; countIncludePad: boolean }
export interface AddOp { op: 'add'; in: [number, number]; out: number }
/** Reshape an h x w x c float map to a 1 x 1 x hwc vector (no data movement). */
export interface FlattenOp { op: 'flatten'; in: number; out: number }
/**
 * QActivation forward value as float: k = 1 gives sign(x) = ±1, k > 1 gives
 * round((2^k-1)·clip(x,0,1)) / (2^k-1); signed (k > 1 only) gives s / M with
 * s = round(M·clip(x,-1,1)), M = 2^(k-1) - 1 (core/scalar.ts quantizeLevel).
 */
export interface QuantizeOp { op: 'quantize'; in: number; out: number; bits: number; signed?: boolean }
/**
 * Float tensor -> packed bits: k = 1 packs sign(x); k > 1 packs the level
 * round((2^k-1)·clip(x,0,1)), or for a signed output tensor the two's complement of
 * round((2^(k-1)-1)·clip(x,-1,1)).
 */
export interface BinarizeOp { op: 'binarize'; in: number; out: number; bits: number }
/** Integer tensor (array output) -> float: y = float32(v / divisor). */
export interface DequantizeOp { op: 'dequantize'; in: number; out: number; divisor: number }

// ---- device (binary) ops: executed by the array ---------------------------------

/** Integer pooling applied to raw P / dot values before the threshold. */
export interface IntPool extends Window {
  /** Per output channel: 0 = max, 1 = min (min where the folded map before the pool decreases). */
  useMin: Uint8Array;
}

export type BconvEpilogue =
  /** Return raw integers (P for 1-bit x 1-bit, the integer dot product otherwise). */
  | { kind: 'int' }
  /**
   * Output a k-bit level per channel: n = #{j : v >= t_j} (flip 0) or #{j : v < t_j}
   * (flip 1), with t = thresholds[ch*(2^k-1) .. +2^k-1). For k = 1 this is
   * bit = (v >= t) XOR flip. A signed output tensor stores the value n - 2^(k-1) (two's
   * complement: n with its top bit inverted); an unsigned one stores n.
   */
  | { kind: 'threshold'; bits: number; thresholds: Int32Array; flip: Uint8Array };

/**
 * Binary / low-bit integer convolution (and dense). Input: a 'bits' tensor with `planes` =
 * input activation bits (signed or not per the tensor). Operand values: a 1-bit operand is
 * bipolar (bit 1 = +1, 0 = -1); a k-bit operand (k >= 2) is its level, unsigned or two's
 * complement. For 1-bit activations x 1-bit weights v = P = popcount(xnor) over the
 * K = kh*kw*inC real bits; otherwise v = sum a_i·w_i exactly, computed bit-serially over
 * activation planes x weight planes (docs/FORMAT.md §5).
 */
export interface BconvOp extends Window {
  op: 'bconv';
  in: number;
  out: number;
  /**
   * Bit used for every plane of padded input pixels (1-bit: 1 = +1; k-bit: 0 = level 0), or
   * PAD_ZERO (1-bit activations x 1-bit weights only): padded positions contribute nothing
   * and v = Q = K + dot over the real positions (see PAD_ZERO).
   */
  padBit: 0 | 1 | typeof PAD_ZERO;
  inBits: number;
  outC: number;
  /** Weight bits 1..4 (absent: 1, bipolar). */
  wBits?: number;
  /** Weights with wBits >= 2 are two's complement (absent: false, unsigned). */
  wSigned?: boolean;
  /**
   * Packed weights, Uint32 halves of 64-bit words: wBits planes, each laid out as
   * [outC][kh][kw][ceil(inC/64)*2] (plane b holds bit b of every weight).
   */
  weight: Uint32Array;
  pool: IntPool | null;
  epilogue: BconvEpilogue;
}

/**
 * Zero padding of a 1-bit binary convolution (Larq's default `pad_values=0`): a padded
 * position is neither +1 nor -1. The layer's integer is then Q = K + dot, dot summed over
 * the real (unpadded) positions only; equivalently Q = P(+1 padding) + P(-1 padding), an
 * integer in [0, 2K]. Thresholds fold onto Q as they do onto P. The array runs it as a
 * 2-bit signed-activation layer, with no kernel change (host/array/zero-pad.ts).
 */
export const PAD_ZERO = 2 as const;

export type HostOp =
  | Conv2dOp | DenseOp | BatchNormOp | ActivationOp | PoolOp | AddOp
  | FlattenOp | QuantizeOp | BinarizeOp | DequantizeOp;
export type DeviceOp = BconvOp;
export type CompiledOp = HostOp | DeviceOp;

/** Ops the array executes: every bconv (zero-padded ones as 2-bit signed layers, host/array/zero-pad.ts). */
export function isDeviceOp(op: CompiledOp): boolean {
  return op.op === 'bconv';
}

/** Weight bits of a bconv (1 when the field is absent). */
export function weightBits(op: BconvOp): number {
  return op.wBits ?? 1;
}

/** The integer range of one k-bit operand: bipolar for k = 1, else unsigned or two's complement. */
export function operandRange(bits: number, signed: boolean): { lo: number; hi: number } {
  if (bits === 1) return { lo: -1, hi: 1 };
  return signed ? { lo: -(2 ** (bits - 1)), hi: 2 ** (bits - 1) - 1 } : { lo: 0, hi: 2 ** bits - 1 };
}

/**
 * Exact range of a bconv accumulator over K terms: [0, K] for 1-bit x 1-bit (P; [0, 2K] for
 * Q with zero padding), else K
 * times the extreme products of the two operand ranges.
 */
export function accumulatorRange(inBits: number, inSigned: boolean, wBits: number, wSigned: boolean, K: number, padZero = false): { lo: number; hi: number } {
  if (inBits === 1 && wBits === 1) return { lo: 0, hi: padZero ? 2 * K : K };
  const a = operandRange(inBits, inSigned);
  const w = operandRange(wBits, wSigned);
  const p = [a.lo * w.lo, a.lo * w.hi, a.hi * w.lo, a.hi * w.hi];
  return { lo: K * Math.min(...p) + 0, hi: K * Math.max(...p) }; // + 0: no -0
}

/** A maximal run of consecutive ops that execute in one place. ops = [start, end). */
export interface Segment {
  kind: 'host' | 'device';
  start: number;
  end: number;
  /** Tensors read by the segment but produced before it (or the model input). */
  inputs: number[];
  /** Tensors produced in the segment and read after it (or the model output). */
  outputs: number[];
}

/**
 * How a picture becomes the model's input (docs/FORMAT.md §3.6, host/data/image.ts). Absent
 * from a model: stretch to the input's height x width, channels in RGB (or grey) order,
 * value = u8 / 255 (the default below). Every step is exactly specified so every backend
 * gets identical input bits.
 */
export interface Preprocess {
  /** Order of a 3-channel input's channels ('bgr': channel 0 is blue); 1-channel inputs use 'rgb'. */
  channelOrder: 'rgb' | 'bgr';
  /** Pixel range: a byte u becomes u * scale / 255 before mean and std (1: [0, 1], 255: 0..255). */
  scale: number;
  /** Per input channel (model order), subtracted after scaling. */
  mean: number[];
  /** Per input channel, divides after the mean: value = (u * scale / 255 - mean) / std. */
  std: number[];
  /**
   * 'stretch': resize to the input's height x width, aspect ratio not kept.
   * 'shorter-side': resize so the shorter side is `size` (aspect kept), then take the centre
   * crop of the input's height x width.
   */
  resize: { policy: 'stretch' } | { policy: 'shorter-side'; size: number };
}

export interface CompiledModel {
  name: string;
  /** Source description (format, file names), informational. */
  source: { format: string; files: string[] };
  /** The model input: a float tensor; users feed NCHW (c, h, w) per image. */
  input: number;
  /** The model output (logits) tensor: a float vector. */
  output: number;
  /** The source graph ended in a softmax (logits are returned before it). */
  softmax: boolean;
  tensors: TensorInfo[];
  /** Ops in execution order; every tensor is written by exactly one op. */
  ops: CompiledOp[];
  segments: Segment[];
  /** Names of the source nodes each op came from, parallel to ops (for inspect and stats). */
  opNames: string[];
  /** Float32 weight bytes the source model would need for the same layers (for inspect). */
  floatWeightBytes: number;
  /** The source framework's input preprocessing; absent: stretch, RGB/grey, u8 / 255. */
  preprocess?: Preprocess;
  /** One label per output class (e.g. an ImageNet synset line); absent: classes are indices. */
  labels?: string[];
}

/** The preprocessing of a model that stores none (today's behaviour for every input). */
export function defaultPreprocess(channels: number): Preprocess {
  return { channelOrder: 'rgb', scale: 1, mean: new Array(channels).fill(0), std: new Array(channels).fill(1), resize: { policy: 'stretch' } };
}

/** Elements of a tensor for one image (bits tensors: Uint32 halves). */
export function tensorLength(t: TensorInfo): number {
  if (t.kind === 'bits') return t.h * t.w * t.planes * Math.ceil(t.c / 64) * 2;
  return t.h * t.w * t.c;
}

/** Bytes of packed (device) weights plus thresholds and host float weights. */
export function weightBytes(m: CompiledModel): { packed: number; float: number; thresholds: number } {
  let packed = 0;
  let float = 0;
  let thresholds = 0;
  for (const op of m.ops) {
    switch (op.op) {
      case 'bconv':
        packed += op.weight.byteLength;
        if (op.epilogue.kind === 'threshold') thresholds += op.epilogue.thresholds.byteLength + op.epilogue.flip.byteLength;
        if (op.pool) thresholds += op.pool.useMin.byteLength;
        break;
      case 'conv2d':
      case 'dense':
        float += op.weight.byteLength + (op.bias ? op.bias.byteLength : 0);
        break;
      case 'batchnorm':
        float += op.mean.byteLength + op.scale.byteLength + op.beta.byteLength;
        break;
      default:
        break;
    }
  }
  return { packed, float, thresholds };
}
