/**
 * Per-element float semantics shared by the host float layers and by the compiler's
 * threshold folding. Folding evaluates exactly these functions on every candidate
 * integer, so a folded threshold reproduces "float layers then sign" bit for bit.
 * Every step is rounded to float32 (Math.fround), which equals C float arithmetic
 * without FMA contraction.
 */
import { detSigmoidF32, detTanhF32 } from './detmath';

const f = Math.fround;

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

/** k-bit level of x: round((2^k - 1) * clip(x, 0, 1)), round half up; k = 1 gives sign bit. */
export function quantizeLevel(x: number, bits: number): number {
  if (bits === 1) return x >= 0 ? 1 : 0;
  const levels = (1 << bits) - 1;
  const c = x > 1 ? 1 : x >= 0 ? x : 0; // NaN -> 0
  return Math.floor(f(levels * c) + 0.5);
}

/** QActivation forward value: ±1 for k = 1, level / (2^k - 1) for k > 1. */
export function quantizeValue(x: number, bits: number): number {
  if (bits === 1) return x >= 0 ? 1 : -1;
  return f(quantizeLevel(x, bits) / ((1 << bits) - 1));
}

/** Array integer output -> float: float32(v / divisor). */
export function dequantizeF32(v: number, divisor: number): number {
  return f(v / divisor);
}
