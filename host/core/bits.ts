/**
 * Bit semantics shared by every backend (docs/ARCHITECTURE.md, "Semantics"):
 * bit 1 = +1, bit 0 = -1; runs are packed LSB-first, little-endian, so element i
 * lives in 64-bit word i/64, bit i%64. In TypeScript a 64-bit word is held as two
 * consecutive Uint32 (low half first), which is byte-identical to the 64-bit form.
 */

/** Bits per canonical word (the array's WORD). */
export const WORD_BITS = 64;
/** Uint32 halves per canonical word. */
export const U32_PER_WORD = 2;

/** sign(x) = +1 if x >= 0 else -1 (sign(0) = +1; NaN maps to -1). */
export function sign(x: number): 1 | -1 {
  return x >= 0 ? 1 : -1;
}

/** Number of 64-bit words that hold n bits. */
export function wordsFor(nBits: number): number {
  return Math.ceil(nBits / WORD_BITS);
}

/** Population count of a 32-bit value. */
export function popcount32(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/**
 * Pack `n` values into LSB-first words at `out[offset..]` (Uint32 view): value
 * v maps to bit 1 when `isOne(v)`. Bits past n in the last 64-bit word are left 0.
 */
export function packRun(
  values: ArrayLike<number>,
  start: number,
  n: number,
  out: Uint32Array,
  offset: number,
  isOne: (v: number) => boolean = (v) => v >= 0,
): void {
  const nU32 = wordsFor(n) * U32_PER_WORD;
  out.fill(0, offset, offset + nU32);
  for (let i = 0; i < n; i++) {
    if (isOne(values[start + i])) out[offset + (i >>> 5)] |= 1 << (i & 31);
  }
}

/** Read bit i of a run that starts at `offset` (Uint32 view). */
export function getBit(words: Uint32Array, offset: number, i: number): 0 | 1 {
  return ((words[offset + (i >>> 5)] >>> (i & 31)) & 1) as 0 | 1;
}

/** Unpack n bits to ±1 values. */
export function unpackRun(words: Uint32Array, offset: number, n: number): Int8Array {
  const out = new Int8Array(n);
  for (let i = 0; i < n; i++) out[i] = getBit(words, offset, i) ? 1 : -1;
  return out;
}
