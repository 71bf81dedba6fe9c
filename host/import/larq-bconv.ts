/**
 * LCE's binary convolution (`LceBconv2d`) as IR nodes, exactly.
 *
 * LCE computes, per output channel o and pixel, `dot` = the ±1 dot product over the real
 * input positions of o's group (padded positions count +1 with `pad_values=1` and nothing
 * with `pad_values=0`), then either a float `clamp(dot)·multiplier[o] + bias[o]`, or a bit
 * that is -1 when the xor-popcount `(K - dot)/2` exceeds `threshold[o]` (K = kh·kw·C per
 * group; larq_compute_engine/core/bconv2d/output_transform.h and tflite/kernels/bconv2d.cc).
 *
 * The IR's binary convolution is dense (every input channel, every tap, symmetric pads).
 * Groups, dilation and TF's unequal SAME pads make the kernel ternary: taps and channels
 * outside o's window weigh 0. A ternary kernel T is the mean of two binary ones, A (zeros
 * as +1) and B (zeros as -1): dot_A + dot_B = 2·dot_T, with the pad value applied alike.
 * So such a layer becomes two QConvolutions on the same bits, added in float (integers
 * below 2^24: exact), and one exact affine onto dot. A dense kernel needs one.
 *
 * Integer of one QConvolution with Kd = kh·kw·C of the widened dense kernel: pad ±1 gives
 * P = (Kd + dot)/2, pad 0 gives Q = Kd + dot (DESIGN §1, docs/FORMAT.md §5). Hence
 *   one conv:  dot = 2P - Kd  |  Q - Kd;   two convs: dot = (P_A + P_B) - Kd  |  (Q_A + Q_B)/2 - Kd.
 */
import { UnsupportedError } from '../core/errors';
import { AxisIn, axisIsSparse, irAxis } from './larq-window';

/** What the importer knows about one LceBconv2d. */
export interface BconvSpec {
  /** Input channels (`channels_in`) and spatial size of the input map. */
  cin: number;
  h: number;
  w: number;
  /** INT32 filter [O][KH][KW][words per group], bits LSB first, a set bit = -1. */
  filter: Int32Array;
  o: number;
  kh: number;
  kw: number;
  wordsPerGroup: number;
  same: boolean;
  /** LCE's pad_values: 1 (+1) or 0 (contributes nothing). */
  padValue: 0 | 1;
  stride: [number, number];
  dilation: [number, number];
}

/** The dense IR kernels (OIHW, ±1) and window for a bconv, and the affine onto LCE's dot. */
export interface LoweredBconv {
  kernel: [number, number];
  pad: [number, number];
  stride: [number, number];
  outH: number;
  outW: number;
  /** IR pad value: +1 or 0 (VALID convs read no padding and take +1). */
  padValue: 1 | 0;
  /** One kernel (dense), or A and B whose sum is twice the ternary kernel. */
  weights: Float32Array[];
  /** dot = scale·(sum of the convs' integers) + bias. */
  dotScale: number;
  dotBias: number;
  /** LCE's K (kh·kw·channels per group), the xor-popcount's range. */
  lceK: number;
  groups: number;
}

export function lowerBconv(s: BconvSpec, where: string): LoweredBconv {
  const totalWords = Math.ceil(s.cin / 32);
  const groups = totalWords / s.wordsPerGroup;
  if (!Number.isInteger(groups) || groups < 1 || s.cin % groups !== 0 || s.o % groups !== 0) {
    throw new UnsupportedError(`${where}: ${s.cin} input channels in ${totalWords} words do not split into groups of ${s.wordsPerGroup} words with ${s.o} outputs`);
  }
  const cg = s.cin / groups;
  const og = s.o / groups;
  const ay: AxisIn = { k: s.kh, s: s.stride[0], d: s.dilation[0], size: s.h };
  const ax: AxisIn = { k: s.kw, s: s.stride[1], d: s.dilation[1], size: s.w };
  const y = irAxis(ay, s.same);
  const x = irAxis(ax, s.same);
  if (y.out < 1 || x.out < 1) throw new UnsupportedError(`${where}: the kernel does not fit the ${s.h}x${s.w} input`);
  const sparse = groups > 1 || axisIsSparse(ay, y) || axisIsSparse(ax, x);
  // the ternary kernel, OIHW over every input channel; 0 = no tap
  const K = new Int8Array(s.o * s.cin * y.k * x.k);
  for (let o = 0; o < s.o; o++) {
    const g = Math.floor(o / og);
    for (let ky = 0; ky < s.kh; ky++)
      for (let kx = 0; kx < s.kw; kx++)
        for (let c = 0; c < cg; c++) {
          const word = s.filter[((o * s.kh + ky) * s.kw + kx) * s.wordsPerGroup + (c >>> 5)];
          const value = (word >>> (c & 31)) & 1 ? -1 : 1;
          const fy = y.offset + ky * s.dilation[0];
          const fx = x.offset + kx * s.dilation[1];
          K[((o * s.cin + g * cg + c) * y.k + fy) * x.k + fx] = value;
        }
  }
  const padded = y.pad > 0 || x.pad > 0;
  const padValue: 1 | 0 = padded && s.padValue === 0 ? 0 : 1;
  const Kd = y.k * x.k * s.cin;
  const weights = sparse
    ? [Float32Array.from(K, (v) => (v === 0 ? 1 : v)), Float32Array.from(K, (v) => (v === 0 ? -1 : v))]
    : [Float32Array.from(K)];
  const dotScale = sparse ? (padValue === 0 ? 0.5 : 1) : padValue === 0 ? 1 : 2;
  return {
    kernel: [y.k, x.k], pad: [y.pad, x.pad], stride: s.stride, outH: y.out, outW: x.out, padValue, weights,
    dotScale, dotBias: -Kd, lceK: s.kh * s.kw * cg, groups,
  };
}

/**
 * Per-channel bias of the affine `dot - (K - 2·t)`: its sign is LCE's bit (+1 exactly when
 * the xor-popcount (K - dot)/2 <= t), which the next binary layer reads as sign(x >= 0).
 */
export function thresholdBias(lceK: number, thresholds: Int32Array): Float32Array {
  return Float32Array.from(thresholds, (t) => -(lceK - 2 * t));
}
