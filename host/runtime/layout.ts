/**
 * The session's input handling: the finiteness check of a whole input and its NCHW → NHWC
 * copy. Where a backend has loaded the native engine already, both run there on the
 * session's threads (engine_layout.c); otherwise in JavaScript (the reference backend needs
 * no native library, and the check must not build or load one).
 */
import * as os from 'node:os';
import { firstNonFinite } from '../compile/validate';
import { nativeEngine } from '../backends/native/ffi';
import { nativeLibLoaded } from '../backends/native/lib';

/** Index of the first NaN or ±Infinity in x, or -1. */
export function findNonFinite(x: Float32Array, threads = os.availableParallelism()): number {
  if (!nativeLibLoaded()) return firstNonFinite(x);
  const i = nativeEngine().firstNonFinite(x, threads);
  if (i < 0) throw new Error(`bw_first_nonfinite failed (${i})`);
  return i < x.length ? i : -1;
}

/** n NCHW images into `y` as NHWC. */
export function toNHWC(x: Float32Array, n: number, shape: [number, number, number], y: Float32Array, threads = os.availableParallelism()): Float32Array {
  const [C, H, W] = shape;
  if (C === 1) {
    y.set(x);
    return y;
  }
  if (!nativeLibLoaded()) return toNHWCScript(x, n, shape, y);
  const rc = nativeEngine().nchwToNhwc(x, y, n, C, H * W, threads);
  if (rc !== 0) throw new Error(`bw_nchw_to_nhwc failed (${rc})`);
  return y;
}

/** The JavaScript copy, written in order (an RGB input reads three planes at once). */
export function toNHWCScript(x: Float32Array, n: number, [C, H, W]: [number, number, number], y: Float32Array): Float32Array {
  const HW = H * W;
  for (let b = 0; b < n; b++) {
    const xb = b * C * HW;
    let o = b * HW * C;
    if (C === 3) {
      const r = x.subarray(xb, xb + HW), g = x.subarray(xb + HW, xb + 2 * HW), bl = x.subarray(xb + 2 * HW, xb + 3 * HW);
      for (let i = 0; i < HW; i++, o += 3) {
        y[o] = r[i];
        y[o + 1] = g[i];
        y[o + 2] = bl[i];
      }
    } else {
      for (let i = 0; i < HW; i++) for (let c = 0; c < C; c++) y[o++] = x[xb + c * HW + i];
    }
  }
  return y;
}
