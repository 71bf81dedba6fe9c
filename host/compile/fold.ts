/**
 * Threshold folding: the float layers between two binary layers (BatchNorm,
 * activations, QActivation, max-pool, flatten) followed by the next layer's input
 * quantisation become, per output channel, an integer pool direction plus 2^k - 1
 * integer thresholds and a flip bit.
 *
 * Every step is a per-channel monotone function, so the level is monotone in the
 * integer v. Instead of solving the BatchNorm inequality algebraically (where float
 * rounding could move a tie), the folder evaluates the exact float pipeline of the
 * host engine on every possible integer and records where the level changes; it also
 * checks monotonicity and refuses to fold if it ever fails.
 */
import { activationF32, batchNormF32, dequantizeF32, quantizeLevel, quantizeValue } from '../core/scalar';

export type FoldStep =
  | { kind: 'bn'; mean: Float32Array; scale: Float32Array; beta: Float32Array }
  | { kind: 'act'; fn: 'tanh' | 'relu' | 'sigmoid' }
  | { kind: 'quantize'; bits: number; signed?: boolean };

export interface FoldInput {
  outC: number;
  /** Integer range of the accumulator. */
  vmin: number;
  vmax: number;
  /** Integer -> float as the host would see it: float32(v / divisor). */
  divisor: number;
  /** Steps before the pool (or all steps when there is no pool). */
  pre: FoldStep[];
  /** Steps after the pool. */
  post: FoldStep[];
  /** Activation bits of the consumer (levels 0 .. 2^bits - 1). */
  bits: number;
  /**
   * The consumer's levels are signed (bits >= 2): its k-bit value s is stored as the count
   * n = s + 2^(k-1) of passed thresholds (the epilogue inverts n's top bit).
   */
  signed?: boolean;
  /**
   * The consumer's levels come from explicit float thresholds (FINN's MultiThreshold) instead
   * of quantising: n = the number of t[c][j] (`count` per channel) the float value reaches.
   */
  levels?: { thresholds: Float32Array; count: number };
}

export interface Folded {
  thresholds: Int32Array;
  flip: Uint8Array;
  useMin: Uint8Array;
}

export class NotMonotoneError extends Error {}

function apply(steps: FoldStep[], c: number, x: number): number {
  for (const s of steps) {
    if (s.kind === 'bn') x = batchNormF32(x, s.mean[c], s.scale[c], s.beta[c]);
    else if (s.kind === 'act') x = activationF32(s.fn, x);
    else x = quantizeValue(x, s.bits, s.signed === true);
  }
  return x;
}

/** How many of channel c's `count` thresholds x reaches (x >= t). */
function countPassed(t: Float32Array, count: number, c: number, x: number): number {
  let n = 0;
  for (let j = 0; j < count; j++) if (x >= t[c * count + j]) n++;
  return n;
}

/** -1 when the composition of steps decreases in x for channel c, else +1. */
function direction(steps: FoldStep[], c: number): 1 | -1 {
  let d = 1;
  for (const s of steps) if (s.kind === 'bn' && s.scale[c] < 0) d = -d;
  return d as 1 | -1;
}

export function foldThresholds(f: FoldInput): Folded {
  const L = (1 << f.bits) - 1;
  const thresholds = new Int32Array(f.outC * L);
  const flip = new Uint8Array(f.outC);
  const useMin = new Uint8Array(f.outC);
  const all = [...f.pre, ...f.post];
  const signed = f.signed === true && f.bits > 1;
  const offset = signed ? 1 << (f.bits - 1) : 0;
  for (let c = 0; c < f.outC; c++) {
    useMin[c] = direction(f.pre, c) < 0 ? 1 : 0;
    const dec = direction(all, c) < 0;
    flip[c] = dec ? 1 : 0;
    // t_j = first v whose level passes j (>= j rising, < j falling); none -> vmax + 1
    const t = thresholds.subarray(c * L, (c + 1) * L);
    t.fill(f.vmax + 1);
    let prev = dec ? L : 0;
    for (let v = f.vmin; v <= f.vmax; v++) {
      const x = apply(all, c, dequantizeF32(v, f.divisor));
      const level = f.levels ? countPassed(f.levels.thresholds, f.levels.count, c, x) : quantizeLevel(x, f.bits, signed) + offset;
      if (dec ? level > prev : level < prev) {
        throw new NotMonotoneError(`channel ${c}: level not monotone at v=${v}`);
      }
      if (!dec) for (let j = prev + 1; j <= level; j++) t[j - 1] = v;
      else for (let j = level + 1; j <= prev; j++) t[j - 1] = v;
      prev = level;
    }
  }
  return { thresholds, flip, useMin };
}
