/**
 * Per-element float semantics shared by the host float layers and by the compiler's
 * threshold folding. Folding evaluates exactly these functions on every candidate
 * integer, so a folded threshold reproduces "float layers then sign" bit for bit.
 * Every step is rounded to float32 (Math.fround), which equals C float arithmetic
 * without FMA contraction; the multiply-adds of convolution and dense layers are fused
 * (fmaF32: one rounding), which equals C's fmaf and every FMA instruction.
 */
import { detSigmoidF32, detTanhF32 } from './detmath';

const f = Math.fround;

const TWO_M50 = 2 ** -50;

/**
 * float32(a * b + c) rounded once (IEEE fused multiply-add, C's fmaf) for float32 a, b, c.
 * a * b is exact in a double (24 + 24 significand bits); the sum s = a * b + c in double
 * can be off by its rounding error e, and rounding s to float32 then gives the fused
 * result except when s lands exactly on a midpoint between two float32s while e != 0 (a
 * double rounding). The midpoint is then not the true value: move s towards e by a few
 * double ulps (still far from any other float32 or midpoint) before rounding.
 */
export function fmaF32(a: number, b: number, c: number): number {
  const p = a * b;
  const s = p + c;
  const r = f(s);
  if (r === s) return r;
  const t = 2 * s - r; // the other float32 neighbour iff s is a midpoint
  if (f(t) !== t || t !== t) return r;
  const bb = s - p; // TwoSum: e = (p + c) - s exactly
  const e = p - (s - bb) + (c - bb);
  if (e === 0 || e !== e) return r;
  return f(s + (e > 0 ? 1 : -1) * Math.abs(s) * TWO_M50);
}

/** BatchNorm inference: ((x - mean) * scale) + beta, scale = gamma / sqrt(var + eps). */
export function batchNormF32(x: number, mean: number, scale: number, beta: number): number {
  return f(f(f(x - mean) * scale) + beta);
}

/** scale = float32(gamma / float32(sqrt(float32(var + eps)))), computed once at compile time. */
export function batchNormScale(gamma: number, variance: number, eps: number): number {
  return f(gamma / f(Math.sqrt(f(variance + eps))));
}

export function activationF32(fn: 'tanh' | 'relu' | 'sigmoid', x: number): number {
  switch (fn) {
    case 'tanh':
      return detTanhF32(x);
    case 'sigmoid':
      return detSigmoidF32(x);
    case 'relu':
      return x > 0 ? x : 0;
  }
}

/**
 * k-bit level of x: round((2^k - 1) * clip(x, 0, 1)), round half up; k = 1 gives the sign
 * bit. Signed (k >= 2): round(M * clip(x, -1, 1)) with M = 2^(k-1) - 1, half up, a value in
 * -M..M (the narrow symmetric range: k = 2 is ternary); stored as two's complement.
 */
export function quantizeLevel(x: number, bits: number, signed = false): number {
  if (bits === 1) return x >= 0 ? 1 : 0;
  if (signed) {
    const m = (1 << (bits - 1)) - 1;
    const c = x > 1 ? 1 : x >= -1 ? x : x < -1 ? -1 : 0; // NaN -> 0
    return Math.floor(f(m * c) + 0.5);
  }
  const levels = (1 << bits) - 1;
  const c = x > 1 ? 1 : x >= 0 ? x : 0; // NaN -> 0
  return Math.floor(f(levels * c) + 0.5);
}

/** QActivation forward value: ±1 for k = 1, level / (2^k - 1) for k > 1, s / (2^(k-1) - 1) signed. */
export function quantizeValue(x: number, bits: number, signed = false): number {
  if (bits === 1) return x >= 0 ? 1 : -1;
  return f(quantizeLevel(x, bits, signed) / levelDivisor(bits, signed));
}

/** What a level is divided by to give its float value: 1 (k = 1), 2^k - 1, or 2^(k-1) - 1 (signed). */
export function levelDivisor(bits: number, signed = false): number {
  if (bits === 1) return 1;
  return signed ? (1 << (bits - 1)) - 1 : (1 << bits) - 1;
}

/** Array integer output -> float: float32(v / divisor). */
export function dequantizeF32(v: number, divisor: number): number {
  return f(v / divisor);
}
