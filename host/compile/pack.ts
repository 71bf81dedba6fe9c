/**
 * Weight repacking from the source's element order into the canonical layout
 * (host/compile/model.ts): float convolutions OIHW -> OHWI, dense inputs CHW -> HWC,
 * binary weights -> [outC][kh][kw][ceil(inC/64) words] with zero tail bits.
 */
import { getBit, wordsFor } from '../core/bits';
import { BinaryWeights } from '../ir/graph';

/** Geometry of a tensor in canonical order. */
export interface Geom {
  h: number;
  w: number;
  c: number;
}

/**
 * Maps a canonical feature (y, x, c) of an input with geometry `g` to its index in the
 * source's flatten order. `src` is the geometry the source flattened (C, H, W order):
 * for a map it is `g` itself; for a vector that came from flattening a map it is that
 * map, and the vector's feature n is canonical (HWC) position n of it.
 */
export function sourceFeatureIndex(g: Geom, src: Geom | null): (y: number, x: number, c: number) => number {
  if (src === null) {
    // g is a map the source flattens as C, H, W; or a plain vector (h = w = 1)
    return (y, x, c) => (c * g.h + y) * g.w + x;
  }
  return (_y, _x, n) => {
    const sy = Math.floor(n / (src.w * src.c));
    const sx = Math.floor(n / src.c) % src.w;
    const sc = n % src.c;
    return (sc * src.h + sy) * src.w + sx;
  };
}

/** Convolution weights OIHW -> OHWI (C: the input channels of one group). */
export function convWeightsOHWI(w: Float32Array, O: number, C: number, kh: number, kw: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let o = 0; o < O; o++)
    for (let ky = 0; ky < kh; ky++)
      for (let kx = 0; kx < kw; kx++)
        for (let c = 0; c < C; c++) out[((o * kh + ky) * kw + kx) * C + c] = w[((o * C + c) * kh + ky) * kw + kx];
  return out;
}

/** Dense weights [O][source feature] -> [O][canonical HWC feature]. */
export function denseWeightsHWC(w: Float32Array, O: number, g: Geom, src: Geom | null): Float32Array {
  const K = g.h * g.w * g.c;
  const index = sourceFeatureIndex(g, src);
  const out = new Float32Array(O * K);
  for (let y = 0, k = 0; y < g.h; y++)
    for (let x = 0; x < g.w; x++)
      for (let c = 0; c < g.c; c++, k++) {
        const s = index(y, x, c);
        for (let o = 0; o < O; o++) out[o * K + k] = w[o * K + s];
      }
  return out;
}

/** Per-feature parameters (e.g. BatchNorm on a flattened vector) -> canonical order. */
export function featureParamsHWC(p: Float32Array, g: Geom, src: Geom | null): Float32Array {
  if (src === null) return p;
  const index = sourceFeatureIndex(g, src);
  const out = new Float32Array(p.length);
  for (let n = 0; n < p.length; n++) out[n] = p[index(0, 0, n)];
  return out;
}

/**
 * Weights in canonical layout: `planes` planes of [O][kh][kw][words], bit `c` of a word set
 * when `bit(source index, plane)` is 1. `sourceIndex(o, ky, kx, c)` gives a weight's index in
 * the source's flat order.
 */
function packPlanes(
  planes: number, O: number, kh: number, kw: number, C: number,
  sourceIndex: (o: number, ky: number, kx: number, c: number) => number,
  bit: (i: number, plane: number) => number,
): Uint32Array {
  const u32 = wordsFor(C) * 2;
  const plane = O * kh * kw * u32;
  const out = new Uint32Array(planes * plane);
  for (let o = 0; o < O; o++)
    for (let ky = 0; ky < kh; ky++)
      for (let kx = 0; kx < kw; kx++) {
        const base = ((o * kh + ky) * kw + kx) * u32;
        for (let c = 0; c < C; c++) {
          const i = sourceIndex(o, ky, kx, c);
          for (let b = 0; b < planes; b++) if (bit(i, b)) out[b * plane + base + (c >>> 5)] |= 1 << (c & 31);
        }
      }
  return out;
}

/** Binary weights (±1: bit 1 = +1) in canonical layout, one plane. */
export function packBinaryWeights(
  w: Exclude<BinaryWeights, { kind: 'int' }>,
  O: number,
  kh: number,
  kw: number,
  C: number,
  sourceIndex: (o: number, ky: number, kx: number, c: number) => number,
): Uint32Array {
  const bit = w.kind === 'float' ? (i: number) => (w.data[i] >= 0 ? 1 : 0) : (i: number) => getBit(w.words, 0, i);
  return packPlanes(1, O, kh, kw, C, sourceIndex, bit);
}

/**
 * k-bit integer weights in canonical layout: `bits` planes, plane b holding bit b of every
 * weight (two's complement for signed values).
 */
export function packIntWeights(
  w: Extract<BinaryWeights, { kind: 'int' }>,
  O: number,
  kh: number,
  kw: number,
  C: number,
  sourceIndex: (o: number, ky: number, kx: number, c: number) => number,
): Uint32Array {
  return packPlanes(w.bits, O, kh, kw, C, sourceIndex, (i, b) => (w.data[i] >> b) & 1);
}
