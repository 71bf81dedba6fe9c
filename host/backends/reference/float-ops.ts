/**
 * Host (float) layers of the reference engine, NHWC, float32 with one rounding per
 * arithmetic step; a multiply-add is one step (fused, as FMA instructions do). Summation
 * order is fixed and documented (docs/ARCHITECTURE.md) so that other engines can
 * reproduce the bits: convolution accumulates acc = fma(w, x, acc) over (ky, kx, c) in
 * that order starting from 0 (c over the output channel's group only, for a grouped conv)
 * and adds the bias last; dense does the same over the inputs
 * in order; average pooling sums the window row by row then divides once.
 */
import { wordsFor } from '../../core/bits';
import { CompiledModel, HostOp, TensorInfo, tensorLength } from '../../compile/model';
import { TensorData } from '../../runtime/backend';
import { activationF32, batchNormF32, dequantizeF32, fmaF32, quantizeLevel, quantizeValue } from '../../core/scalar';

const f = Math.fround;

function f32(t: TensorData | undefined, what: string): Float32Array {
  if (!(t instanceof Float32Array)) throw new Error(`host op: ${what} is not a float tensor`);
  return t;
}

/** Execute one host op on a batch; returns the output tensor data. */
export function runHostOp(op: HostOp, model: CompiledModel, tensors: Map<number, TensorData>, batch: number): TensorData {
  const T = model.tensors;
  const out = T[op.out];
  switch (op.op) {
    case 'conv2d':
      return conv2d(op, T[op.in], out, f32(tensors.get(op.in), 'conv2d input'), batch);
    case 'dense':
      return dense(op.weight, op.bias, tensorLength(T[op.in]), out.c, f32(tensors.get(op.in), 'dense input'), batch);
    case 'batchnorm': {
      const x = f32(tensors.get(op.in), 'batchnorm input');
      const y = new Float32Array(x.length);
      const c = op.mean.length;
      for (let i = 0; i < x.length; i++) {
        const ch = i % c;
        y[i] = batchNormF32(x[i], op.mean[ch], op.scale[ch], op.beta[ch]);
      }
      return y;
    }
    case 'activation': {
      const x = f32(tensors.get(op.in), 'activation input');
      const y = new Float32Array(x.length);
      for (let i = 0; i < x.length; i++) y[i] = activationF32(op.fn, x[i]);
      return y;
    }
    case 'pool':
      return pool(op, T[op.in], out, f32(tensors.get(op.in), 'pool input'), batch);
    case 'add': {
      const a = f32(tensors.get(op.in[0]), 'add input');
      const b = f32(tensors.get(op.in[1]), 'add input');
      const y = new Float32Array(a.length);
      for (let i = 0; i < a.length; i++) y[i] = f(a[i] + b[i]);
      return y;
    }
    case 'flatten':
      return f32(tensors.get(op.in), 'flatten input');
    case 'quantize': {
      const x = f32(tensors.get(op.in), 'quantize input');
      const y = new Float32Array(x.length);
      for (let i = 0; i < x.length; i++) y[i] = quantizeValue(x[i], op.bits, op.signed === true);
      return y;
    }
    case 'binarize':
      return binarize(f32(tensors.get(op.in), 'binarize input'), out, batch, op.bits, out.signed === true);
    case 'dequantize': {
      const x = tensors.get(op.in);
      if (!(x instanceof Int32Array)) throw new Error('dequantize input is not an integer tensor');
      const y = new Float32Array(x.length);
      for (let i = 0; i < x.length; i++) y[i] = dequantizeF32(x[i], op.divisor);
      return y;
    }
  }
}

function conv2d(
  op: Extract<HostOp, { op: 'conv2d' }>, ti: TensorInfo, to: TensorInfo, x: Float32Array, batch: number,
): Float32Array {
  const { kh, kw, sh, sw, ph, pw, groups } = op;
  const { h: H, w: W, c: C } = ti;
  const { h: OH, w: OW, c: OC } = to;
  const IG = C / groups; // input channels of a group
  const OG = OC / groups; // output channels of a group
  const KK = kh * kw * IG;
  const y = new Float32Array(batch * OH * OW * OC);
  // gather a group's window once per output pixel; padded positions are skipped, not
  // zeroed, so `wIdx` remembers which weight each gathered value pairs with
  const patch = new Float32Array(KK);
  const wIdx = new Int32Array(KK);
  for (let n = 0; n < batch; n++) {
    const xb = n * H * W * C;
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++) {
        const yb = ((n * OH + oy) * OW + ox) * OC;
        for (let g = 0; g < groups; g++) {
          let len = 0;
          for (let ky = 0; ky < kh; ky++) {
            const iy = oy * sh - ph + ky;
            if (iy < 0 || iy >= H) continue;
            for (let kx = 0; kx < kw; kx++) {
              const ix = ox * sw - pw + kx;
              if (ix < 0 || ix >= W) continue;
              const xp = xb + (iy * W + ix) * C + g * IG;
              const wp = (ky * kw + kx) * IG;
              for (let c = 0; c < IG; c++) {
                patch[len] = x[xp + c];
                wIdx[len++] = wp + c;
              }
            }
          }
          for (let oc = g * OG; oc < (g + 1) * OG; oc++) {
            const wb = oc * KK;
            let acc = 0;
            for (let i = 0; i < len; i++) acc = fmaF32(op.weight[wb + wIdx[i]], patch[i], acc);
            y[yb + oc] = op.bias ? f(acc + op.bias[oc]) : acc;
          }
        }
      }
    }
  }
  return y;
}

function dense(weight: Float32Array, bias: Float32Array | null, K: number, O: number, x: Float32Array, batch: number): Float32Array {
  const y = new Float32Array(batch * O);
  for (let n = 0; n < batch; n++) {
    const xb = n * K;
    for (let o = 0; o < O; o++) {
      let acc = 0;
      const wb = o * K;
      for (let k = 0; k < K; k++) acc = fmaF32(weight[wb + k], x[xb + k], acc);
      y[n * O + o] = bias ? f(acc + bias[o]) : acc;
    }
  }
  return y;
}

function pool(op: Extract<HostOp, { op: 'pool' }>, ti: TensorInfo, to: TensorInfo, x: Float32Array, batch: number): Float32Array {
  const { kh, kw, sh, sw, ph, pw } = op;
  const { h: H, w: W, c: C } = ti;
  const { h: OH, w: OW } = to;
  const y = new Float32Array(batch * OH * OW * C);
  for (let n = 0; n < batch; n++) {
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++) {
        for (let c = 0; c < C; c++) {
          let acc = op.mode === 'max' ? -Infinity : 0;
          let count = 0;
          for (let ky = 0; ky < kh; ky++) {
            const iy = oy * sh - ph + ky;
            for (let kx = 0; kx < kw; kx++) {
              const ix = ox * sw - pw + kx;
              const inside = iy >= 0 && iy < H && ix >= 0 && ix < W;
              // 'full' convention windows may run past the padded edge: never counted
              const inPadded = iy < H + ph && ix < W + pw;
              if (inside) {
                const v = x[((n * H + iy) * W + ix) * C + c];
                if (op.mode === 'max') {
                  if (v > acc || v !== v) acc = v;
                } else {
                  acc = f(acc + v);
                }
                count++;
              } else if (op.countIncludePad && inPadded) {
                count++;
              }
            }
          }
          y[((n * OH + oy) * OW + ox) * C + c] = op.mode === 'max' ? acc : f(acc / (count || 1));
        }
      }
    }
  }
  return y;
}

/** Pack float maps into bit-planes: per pixel, `bits` planes of ceil(c/64) words (signed: two's complement levels). */
export function binarize(x: Float32Array, to: TensorInfo, batch: number, bits: number, signed = false): Uint32Array {
  const C = to.c;
  const u32PerPlane = wordsFor(C) * 2;
  const pixels = batch * to.h * to.w;
  const y = new Uint32Array(pixels * bits * u32PerPlane);
  for (let p = 0; p < pixels; p++) {
    for (let c = 0; c < C; c++) {
      const level = quantizeLevel(x[p * C + c], bits, signed); // negative: >>> below reads two's complement bits
      for (let b = 0; b < bits; b++) {
        if ((level >>> b) & 1) y[(p * bits + b) * u32PerPlane + (c >>> 5)] |= 1 << (c & 31);
      }
    }
  }
  return y;
}
