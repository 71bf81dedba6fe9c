/**
 * Deterministic transcendental functions for the host float layers.
 *
 * Logits must be bit-identical across backends, and the native engine is C: a libm's
 * exp/tanh differ from V8's in the last bit. These are built only from IEEE-754 double
 * +, -, *, / and floor in a fixed order, so a C port compiled with -ffp-contract=off
 * (no FMA) gives the same bits. Results are rounded to float32 by the callers.
 * Accuracy is about 1e-15 relative, far below float32 resolution.
 */

const LN2_HI = 6.93147180369123816490e-1; // ln 2 split so k*LN2_HI is exact for |k| < 2^11
const LN2_LO = 1.90821492927058770002e-10;
const INV_LN2 = 1.44269504088896338700e0;

// 1/n! for n = 2..13, each a correctly rounded double.
const C2 = 1 / 2;
const C3 = 1 / 6;
const C4 = 1 / 24;
const C5 = 1 / 120;
const C6 = 1 / 720;
const C7 = 1 / 5040;
const C8 = 1 / 40320;
const C9 = 1 / 362880;
const C10 = 1 / 3628800;
const C11 = 1 / 39916800;
const C12 = 1 / 479001600;
const C13 = 1 / 6227020800;

const pow2Buf = new DataView(new ArrayBuffer(8));
/** 2^k for integer k in the normal double range, built from its bit pattern (exact). */
function pow2(k: number): number {
  // little-endian: low word at byte 0, exponent field in the high word at byte 4
  pow2Buf.setUint32(0, 0, true);
  pow2Buf.setUint32(4, (k + 1023) << 20, true);
  return pow2Buf.getFloat64(0, true);
}

/** e^x in double precision, deterministic. */
export function detExp(x: number): number {
  if (x !== x) return NaN;
  if (x > 709) return Infinity;
  if (x < -708) return 0;
  const k = Math.floor(x * INV_LN2 + 0.5);
  const r = (x - k * LN2_HI) - k * LN2_LO; // |r| <= 0.35
  let p = C13;
  p = p * r + C12;
  p = p * r + C11;
  p = p * r + C10;
  p = p * r + C9;
  p = p * r + C8;
  p = p * r + C7;
  p = p * r + C6;
  p = p * r + C5;
  p = p * r + C4;
  p = p * r + C3;
  p = p * r + C2;
  p = p * r + 1;
  p = p * r + 1;
  return p * pow2(k);
}

/** tanh rounded to float32, deterministic. */
export function detTanhF32(x: number): number {
  if (x !== x) return NaN;
  const a = x < 0 ? -x : x;
  let y: number;
  if (a >= 9.5) {
    y = 1; // tanh(9.5) = 1 - 1.1e-8 rounds to 1 in float32
  } else if (a < 1 / 4096) {
    const a2 = a * a;
    y = a - (a * a2) / 3 + (2 * a * a2 * a2) / 15;
  } else {
    const t = detExp(2 * a);
    y = (t - 1) / (t + 1);
  }
  return Math.fround(x < 0 ? -y : y);
}

/** Logistic sigmoid rounded to float32, deterministic. */
export function detSigmoidF32(x: number): number {
  if (x !== x) return NaN;
  return Math.fround(1 / (1 + detExp(-x)));
}
