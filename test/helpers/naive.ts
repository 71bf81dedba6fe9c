/**
 * Plain-integer models of the binary semantics (DESIGN §1), with no packing at all,
 * used as an independent check of the packed reference kernels.
 */

export interface NaiveConv {
  H: number;
  W: number;
  C: number;
  O: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
  /** Value of a padded element: ±1 for 1-bit inputs, a level (0) for k-bit inputs. */
  pad: number;
  bits: number;
}

/**
 * a: HWC input, ±1 for bits = 1, levels 0..2^k-1 otherwise. w: OIHW, ±1.
 * Returns [OH][OW][O]: P = (K + dot) / 2 for 1-bit inputs, dot for k-bit inputs.
 */
export function naiveBinaryConv(p: NaiveConv, a: Int32Array, w: Int8Array): { v: Int32Array; OH: number; OW: number } {
  const OH = Math.floor((p.H + 2 * p.ph - p.kh) / p.sh) + 1;
  const OW = Math.floor((p.W + 2 * p.pw - p.kw) / p.sw) + 1;
  const K = p.kh * p.kw * p.C;
  const v = new Int32Array(OH * OW * p.O);
  for (let oy = 0; oy < OH; oy++)
    for (let ox = 0; ox < OW; ox++)
      for (let o = 0; o < p.O; o++) {
        let dot = 0;
        for (let c = 0; c < p.C; c++)
          for (let ky = 0; ky < p.kh; ky++)
            for (let kx = 0; kx < p.kw; kx++) {
              const iy = oy * p.sh - p.ph + ky;
              const ix = ox * p.sw - p.pw + kx;
              const inside = iy >= 0 && iy < p.H && ix >= 0 && ix < p.W;
              const x = inside ? a[(iy * p.W + ix) * p.C + c] : p.pad;
              dot += x * w[((o * p.C + c) * p.kh + ky) * p.kw + kx];
            }
        v[(oy * OW + ox) * p.O + o] = p.bits === 1 ? (K + dot) / 2 : dot;
      }
  return { v, OH, OW };
}

/** Deterministic PRNG (mulberry32, the zoo's) so failures reproduce. */
export { rng } from '../../host/zoo/random';

export function randInt(r: () => number, lo: number, hi: number): number {
  return lo + Math.floor(r() * (hi - lo + 1));
}

/**
 * Integer convolution by direct arithmetic, nothing packed: a is HWC integer values
 * (±1 for bipolar inputs), w is OIHW integer values (±1 for bipolar weights), `pad` the
 * value of a padded element. Returns [OH][OW][O] of sum a·w, or of the match count
 * P = (K + dot) / 2 when `matchCount` (1-bit x 1-bit layers).
 */
export function naiveIntConv(
  p: Omit<NaiveConv, 'bits'>, a: Int32Array, w: Int32Array, matchCount: boolean,
): { v: Int32Array; OH: number; OW: number } {
  const OH = Math.floor((p.H + 2 * p.ph - p.kh) / p.sh) + 1;
  const OW = Math.floor((p.W + 2 * p.pw - p.kw) / p.sw) + 1;
  const K = p.kh * p.kw * p.C;
  const v = new Int32Array(OH * OW * p.O);
  for (let oy = 0; oy < OH; oy++)
    for (let ox = 0; ox < OW; ox++)
      for (let o = 0; o < p.O; o++) {
        let dot = 0;
        for (let c = 0; c < p.C; c++)
          for (let ky = 0; ky < p.kh; ky++)
            for (let kx = 0; kx < p.kw; kx++) {
              const iy = oy * p.sh - p.ph + ky;
              const ix = ox * p.sw - p.pw + kx;
              const inside = iy >= 0 && iy < p.H && ix >= 0 && ix < p.W;
              dot += (inside ? a[(iy * p.W + ix) * p.C + c] : p.pad) * w[((o * p.C + c) * p.kh + ky) * p.kw + kx];
            }
        v[(oy * OW + ox) * p.O + o] = matchCount ? (K + dot) / 2 : dot;
      }
  return { v, OH, OW };
}
