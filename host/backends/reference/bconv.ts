/**
 * The oracle for the array: binary convolution / dense on packed NHWC bit tensors,
 * written for clarity, not speed. Three steps, as in the hardware:
 *   1. accumulate: v = P (1-bit, xnor) or the bit-serial dot product (k-bit, AND);
 *   2. pool on integers (per-channel max or min);
 *   3. output transform: thresholds -> k-bit levels packed as bit-planes, or raw ints.
 */
import { popcount32, wordsFor } from '../../core/bits';
import { BconvOp, TensorInfo } from '../../compile/model';

/** Step 1: integer accumulators for every output pixel and channel, [n][oy][ox][oc]. */
export function accumulate(op: BconvOp, ti: TensorInfo, x: Uint32Array, batch: number, OH: number, OW: number): Int32Array {
  const { kh, kw, sh, sw, ph, pw, outC } = op;
  const { h: H, w: W, c: C } = ti;
  const planes = op.inBits;
  const u32 = wordsFor(C) * 2; // Uint32 halves per plane of one pixel
  const pixelU32 = planes * u32;
  // padded pixels: every plane holds padBit in the real channel bits, 0 in the tail
  const padWord = new Uint32Array(u32);
  if (op.padBit) for (let c = 0; c < C; c++) padWord[c >>> 5] |= 1 << (c & 31);
  // xnor counts the zero tail bits of activations and weights as matches: subtract them
  const tailPerPixel = u32 * 32 - C;
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
              for (let b = 0; b < planes; b++) {
                let both = 0;
                let ones = 0;
                for (let j = 0; j < u32; j++) {
                  const a = inside ? x[xBase + b * u32 + j] : padWord[j];
                  const w = op.weight[wBase + j];
                  if (planes === 1) {
                    both += popcount32(~(a ^ w));
                  } else {
                    both += popcount32(a & w);
                    ones += popcount32(a);
                  }
                }
                if (planes === 1) acc += both - tailPerPixel;
                else acc += (2 * both - ones) * (1 << b);
              }
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

/** Step 3 (threshold epilogue): k-bit levels packed as bit-planes per pixel. */
export function thresholdPack(v: Int32Array, C: number, bits: number, thresholds: Int32Array, flip: Uint8Array): Uint32Array {
  const L = (1 << bits) - 1;
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
  return thresholdPack(v, op.outC, op.epilogue.bits, op.epilogue.thresholds, op.epilogue.flip);
}
