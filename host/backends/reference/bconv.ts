/**
 * The oracle for the array: binary convolution / dense on packed NHWC bit tensors,
 * written for clarity, not speed. Three steps, as in the hardware:
 *   1. accumulate: v = P (1-bit x 1-bit, xnor; Q = K + dot with zero padding) or the
 *      bit-serial integer dot product
 *      over activation planes x weight planes (AND);
 *   2. pool on integers (per-channel max or min);
 *   3. output transform: thresholds -> k-bit levels packed as bit-planes, or raw ints.
 */
import { popcount32, wordsFor } from '../../core/bits';
import { BconvOp, PAD_ZERO, TensorInfo, weightBits } from '../../compile/model';

/**
 * Coefficient of plane b of a k-bit operand in value = sum_b coef_b·bit_b + offset:
 * bipolar 1-bit: 2·bit - 1; unsigned: 2^b; two's complement: 2^b, the top plane -2^(k-1).
 */
export function planeCoef(b: number, bits: number, signed: boolean): number {
  if (bits === 1) return 2;
  return signed && b === bits - 1 ? -(2 ** b) : 2 ** b;
}

/** The constant term of an operand's value (-1 for bipolar 1-bit, else 0). */
export function operandOffset(bits: number): number {
  return bits === 1 ? -1 : 0;
}

/**
 * Step 1: integer accumulators for every output pixel and channel, [n][oy][ox][oc].
 *
 * 1-bit x 1-bit: P = popcount(xnor(a, w)) over the real bits; with zero padding (PAD_ZERO)
 * Q = K + dot, padded positions contributing C (dot 0) and real ones 2·matches. Otherwise, with each operand
 * value written as sum_p coef_p·bit_p + offset (planeCoef, operandOffset), per input position
 * a·w = sum_p sum_q ca_p·cw_q·(A_p AND W_q) + w0·sum_p ca_p·A_p + a0·sum_q cw_q·W_q + a0·w0,
 * so over a window: AND-popcounts of every activation plane with every weight plane, plus
 * the popcounts of each operand's planes (the other operand bipolar), plus a0·w0·K.
 */
export function accumulate(op: BconvOp, ti: TensorInfo, x: Uint32Array, batch: number, OH: number, OW: number): Int32Array {
  const { kh, kw, sh, sw, ph, pw, outC } = op;
  const { h: H, w: W, c: C } = ti;
  const planes = op.inBits;
  const wPlanes = weightBits(op);
  const xnor = planes === 1 && wPlanes === 1;
  const ca = Array.from({ length: planes }, (_, b) => planeCoef(b, planes, ti.signed === true));
  const cw = Array.from({ length: wPlanes }, (_, b) => planeCoef(b, wPlanes, op.wSigned === true));
  const a0 = operandOffset(planes);
  const w0 = operandOffset(wPlanes);
  const u32 = wordsFor(C) * 2; // Uint32 halves per plane of one pixel
  const pixelU32 = planes * u32;
  const wPlaneU32 = outC * kh * kw * u32; // one weight plane
  // padded pixels: every plane holds padBit in the real channel bits, 0 in the tail
  const padWord = new Uint32Array(u32);
  if (op.padBit) for (let c = 0; c < C; c++) padWord[c >>> 5] |= 1 << (c & 31);
  // xnor counts the zero tail bits of activations and weights as matches: subtract them
  const tailPerPixel = u32 * 32 - C;
  // zero padding (PAD_ZERO): Q = K + dot, so a real position adds C + dot = 2·matches and a
  // padded one C + 0
  const zeroPad = op.padBit === PAD_ZERO;
  const v = new Int32Array(batch * OH * OW * outC);
  for (let n = 0; n < batch; n++) {
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++) {
        const ob = ((n * OH + oy) * OW + ox) * outC;
        for (let oc = 0; oc < outC; oc++) {
          let acc = 0;
          for (let ky = 0; ky < kh; ky++) {
            const iy = oy * sh - ph + ky;
            for (let kx = 0; kx < kw; kx++) {
              const ix = ox * sw - pw + kx;
              const inside = iy >= 0 && iy < H && ix >= 0 && ix < W;
              const xBase = ((n * H + iy) * W + ix) * pixelU32;
              const wBase = ((oc * kh + ky) * kw + kx) * u32;
              const act = (b: number, j: number) => (inside ? x[xBase + b * u32 + j] : padWord[j]);
              const wt = (q: number, j: number) => op.weight[q * wPlaneU32 + wBase + j];
              if (zeroPad && !inside) {
                acc += C;
                continue;
              }
              if (xnor) {
                let both = 0;
                for (let j = 0; j < u32; j++) both += popcount32(~(act(0, j) ^ wt(0, j)));
                acc += zeroPad ? 2 * (both - tailPerPixel) : both - tailPerPixel;
                continue;
              }
              for (let b = 0; b < planes; b++) {
                for (let q = 0; q < wPlanes; q++) {
                  let both = 0;
                  for (let j = 0; j < u32; j++) both += popcount32(act(b, j) & wt(q, j));
                  acc += ca[b] * cw[q] * both;
                }
                if (w0 !== 0) {
                  let ones = 0;
                  for (let j = 0; j < u32; j++) ones += popcount32(act(b, j));
                  acc += w0 * ca[b] * ones;
                }
              }
              if (a0 !== 0) {
                for (let q = 0; q < wPlanes; q++) {
                  let ones = 0;
                  for (let j = 0; j < u32; j++) ones += popcount32(wt(q, j));
                  acc += a0 * cw[q] * ones;
                }
              }
              acc += a0 * w0 * C;
            }
          }
          v[ob + oc] = acc;
        }
      }
    }
  }
  return v;
}

/** Step 2: integer pooling, per channel max (useMin 0) or min (useMin 1); padding ignored. */
export function poolInts(op: BconvOp, v: Int32Array, batch: number, IH: number, IW: number, OH: number, OW: number): Int32Array {
  const p = op.pool!;
  const C = op.outC;
  const y = new Int32Array(batch * OH * OW * C);
  for (let n = 0; n < batch; n++) {
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++) {
        for (let c = 0; c < C; c++) {
          const useMin = p.useMin[c] === 1;
          let acc = useMin ? 0x7fffffff : -0x80000000;
          for (let ky = 0; ky < p.kh; ky++) {
            const iy = oy * p.sh - p.ph + ky;
            if (iy < 0 || iy >= IH) continue;
            for (let kx = 0; kx < p.kw; kx++) {
              const ix = ox * p.sw - p.pw + kx;
              if (ix < 0 || ix >= IW) continue;
              const s = v[((n * IH + iy) * IW + ix) * C + c];
              acc = useMin ? Math.min(acc, s) : Math.max(acc, s);
            }
          }
          y[((n * OH + oy) * OW + ox) * C + c] = acc;
        }
      }
    }
  }
  return y;
}

/**
 * Step 3 (threshold epilogue): k-bit levels packed as bit-planes per pixel. A signed output
 * stores n - 2^(k-1) in two's complement, i.e. the count n with its top bit inverted.
 */
export function thresholdPack(v: Int32Array, C: number, bits: number, thresholds: Int32Array, flip: Uint8Array, signed = false): Uint32Array {
  const L = (1 << bits) - 1;
  const top = signed ? 1 << (bits - 1) : 0;
  const u32 = wordsFor(C) * 2;
  const pixels = v.length / C;
  const y = new Uint32Array(pixels * bits * u32);
  for (let p = 0; p < pixels; p++) {
    for (let c = 0; c < C; c++) {
      const s = v[p * C + c];
      let level = 0;
      for (let j = 0; j < L; j++) {
        const ge = s >= thresholds[c * L + j];
        if (ge !== (flip[c] === 1)) level++;
      }
      level ^= top;
      for (let b = 0; b < bits; b++) {
        if ((level >>> b) & 1) y[(p * bits + b) * u32 + (c >>> 5)] |= 1 << (c & 31);
      }
    }
  }
  return y;
}

/** The whole op: accumulate, optional pool, output transform. */
export function bconv(op: BconvOp, ti: TensorInfo, to: TensorInfo, x: Uint32Array, batch: number): Int32Array | Uint32Array {
  const AH = Math.floor((ti.h + 2 * op.ph - op.kh) / op.sh) + 1;
  const AW = Math.floor((ti.w + 2 * op.pw - op.kw) / op.sw) + 1;
  let v = accumulate(op, ti, x, batch, AH, AW);
  if (op.pool) v = poolInts(op, v, batch, AH, AW, to.h, to.w);
  if (op.epilogue.kind === 'int') return v;
  return thresholdPack(v, op.outC, op.epilogue.bits, op.epilogue.thresholds, op.epilogue.flip, to.signed === true);
}
