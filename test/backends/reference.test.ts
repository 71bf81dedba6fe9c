import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { accumulate, thresholdPack } from '../../host/backends/reference/bconv';
import { binarize } from '../../host/backends/reference/float-ops';
import { BconvOp, operandRange, PAD_ZERO, TensorInfo } from '../../host/compile/model';
import { packBinaryWeights, packIntWeights } from '../../host/compile/pack';
import { quantizeLevel, quantizeValue } from '../../host/core/scalar';
import { naiveBinaryConv, NaiveConv, naiveIntConv, rng } from '../helpers/naive';

/** HWC integer values -> bit-planes per pixel (bipolar for 1 bit, else two's complement / unsigned bits). */
function packValues(a: Int32Array, pixels: number, C: number, bits: number): Uint32Array {
  const u32 = Math.ceil(C / 64) * 2;
  const x = new Uint32Array(pixels * bits * u32);
  for (let p = 0; p < pixels; p++)
    for (let c = 0; c < C; c++) {
      const v = a[p * C + c];
      const pattern = bits === 1 ? (v === 1 ? 1 : 0) : v & ((1 << bits) - 1);
      for (let b = 0; b < bits; b++) if ((pattern >> b) & 1) x[(p * bits + b) * u32 + (c >>> 5)] |= 1 << (c & 31);
    }
  return x;
}

/** The value every plane = padBit stands for. */
function padValue(padBit: 0 | 1, bits: number, signed: boolean): number {
  if (bits === 1) return padBit ? 1 : -1;
  if (!padBit) return 0;
  return signed ? -1 : (1 << bits) - 1;
}

/** A bconv over integer values (OIHW weights), packed as compile packs them. */
function intOp(
  g: { C: number; O: number; kh: number; kw: number; sh: number; sw: number; ph: number; pw: number },
  w: Int32Array, inBits: number, wBits: number, wSigned: boolean, padBit: BconvOp['padBit'],
): BconvOp {
  const src = (o: number, ky: number, kx: number, c: number) => ((o * g.C + c) * g.kh + ky) * g.kw + kx;
  const weight = wBits === 1
    ? packBinaryWeights({ kind: 'float', data: Float32Array.from(w) }, g.O, g.kh, g.kw, g.C, src)
    : packIntWeights({ kind: 'int', bits: wBits, signed: wSigned, data: Int8Array.from(w) }, g.O, g.kh, g.kw, g.C, src);
  return {
    op: 'bconv', in: 0, out: 1, kh: g.kh, kw: g.kw, sh: g.sh, sw: g.sw, ph: g.ph, pw: g.pw, padBit, inBits, outC: g.O,
    ...(wBits > 1 ? { wBits, wSigned } : {}), weight, pool: null, epilogue: { kind: 'int' },
  };
}

const convCase = fc
  .record({
    H: fc.integer({ min: 1, max: 7 }),
    W: fc.integer({ min: 1, max: 7 }),
    C: fc.oneof(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 60, max: 70 }), fc.integer({ min: 120, max: 135 })),
    O: fc.integer({ min: 1, max: 4 }),
    kh: fc.integer({ min: 1, max: 3 }),
    kw: fc.integer({ min: 1, max: 3 }),
    sh: fc.integer({ min: 1, max: 2 }),
    sw: fc.integer({ min: 1, max: 2 }),
    padH: fc.nat(2),
    padW: fc.nat(2),
    padPlus: fc.boolean(),
    bits: fc.constantFrom(1, 2, 4),
    seed: fc.integer(),
  })
  .filter((p) => p.padH < p.kh && p.padW < p.kw && p.H + 2 * p.padH >= p.kh && p.W + 2 * p.padW >= p.kw);

describe('reference binary convolution vs plain integer semantics', () => {
  it('accumulators equal P = (K + dot)/2 (1-bit) or the k-bit dot product, any shape, pad, stride, odd channels', () => {
    fc.assert(
      fc.property(convCase, (p) => {
        let s = p.seed >>> 0;
        const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
        const L = (1 << p.bits) - 1;
        const a = new Int32Array(p.H * p.W * p.C).map(() => (p.bits === 1 ? (next() < 0.5 ? -1 : 1) : Math.floor(next() * (L + 1))));
        const w = new Int8Array(p.O * p.C * p.kh * p.kw).map(() => (next() < 0.5 ? -1 : 1));
        const pad = p.bits === 1 ? (p.padPlus ? 1 : -1) : 0;
        const spec: NaiveConv = { H: p.H, W: p.W, C: p.C, O: p.O, kh: p.kh, kw: p.kw, sh: p.sh, sw: p.sw, ph: p.padH, pw: p.padW, pad, bits: p.bits };
        const want = naiveBinaryConv(spec, a, w);

        // pack the input through the host binarize op (float value -> level -> planes)
        const ti: TensorInfo = { kind: 'bits', h: p.H, w: p.W, c: p.C, planes: p.bits, flat: false };
        const asFloat = Float32Array.from(a, (v) => (p.bits === 1 ? v : Math.fround(v / L)));
        const x = binarize(asFloat, ti, 1, p.bits);
        const weight = packBinaryWeights(
          { kind: 'float', data: Float32Array.from(w) }, p.O, p.kh, p.kw, p.C,
          (o, ky, kx, c) => ((o * p.C + c) * p.kh + ky) * p.kw + kx,
        );
        const op: BconvOp = {
          op: 'bconv', in: 0, out: 1, kh: p.kh, kw: p.kw, sh: p.sh, sw: p.sw, ph: p.padH, pw: p.padW,
          padBit: p.bits === 1 && p.padPlus ? 1 : 0, inBits: p.bits, outC: p.O, weight, pool: null, epilogue: { kind: 'int' },
        };
        const got = accumulate(op, ti, x, 1, want.OH, want.OW);
        assert.deepEqual(Array.from(got), Array.from(want.v));
      }),
      { seed: 2026, numRuns: 300 },
    );
  });

  it('batches are independent: image n of a batch equals the image run alone', () => {
    const ti: TensorInfo = { kind: 'bits', h: 3, w: 3, c: 70, planes: 1, flat: false };
    const imgs = Float32Array.from({ length: 2 * 9 * 70 }, (_, i) => ((i * 7919) % 13 < 6 ? -1 : 1));
    const x = binarize(imgs, ti, 2, 1);
    const weight = packBinaryWeights({ kind: 'float', data: Float32Array.from({ length: 2 * 70 * 4 }, (_, i) => (i % 5 < 2 ? -1 : 1)) }, 2, 2, 2, 70, (o, ky, kx, c) => ((o * 70 + c) * 2 + ky) * 2 + kx);
    const op: BconvOp = { op: 'bconv', in: 0, out: 1, kh: 2, kw: 2, sh: 1, sw: 1, ph: 1, pw: 1, padBit: 1, inBits: 1, outC: 2, weight, pool: null, epilogue: { kind: 'int' } };
    const both = accumulate(op, ti, x, 2, 4, 4);
    const second = accumulate(op, ti, binarize(imgs.subarray(9 * 70), ti, 1, 1), 1, 4, 4);
    assert.deepEqual(Array.from(both.subarray(32)), Array.from(second));
  });

  it('hand-computed: signed 3-bit activations x signed 2-bit weights, and 1-bit activations x unsigned 2-bit weights', () => {
    // 1x1 conv, 3 channels, one pixel. a = (3, -4, -1), w0 = (-2, 1, 0), w1 = (1, 1, -1):
    // v0 = -6 - 4 + 0 = -10, v1 = 3 - 4 + 1 = 0
    const g = { C: 3, O: 2, kh: 1, kw: 1, sh: 1, sw: 1, ph: 0, pw: 0 };
    const ti: TensorInfo = { kind: 'bits', h: 1, w: 1, c: 3, planes: 3, flat: false, signed: true };
    const x = packValues(Int32Array.of(3, -4, -1), 1, 3, 3);
    assert.deepEqual(Array.from(x.filter((_, i) => i % 2 === 0)), [0b101, 0b101, 0b110], 'plane b, bit c = bit b of channel c: 3 = 011, -4 = 100, -1 = 111');
    const op = intOp(g, Int32Array.of(-2, 1, 0, 1, 1, -1), 3, 2, true, 0);
    assert.deepEqual(Array.from(accumulate(op, ti, x, 1, 1, 1)), [-10, 0]);
    // bipolar a = (+1, -1, -1) with unsigned weights (3, 0, 2) and (1, 2, 3): v = 3 - 0 - 2 = 1, 1 - 2 - 3 = -4
    const t1: TensorInfo = { kind: 'bits', h: 1, w: 1, c: 3, planes: 1, flat: false };
    const op1 = intOp(g, Int32Array.of(3, 0, 2, 1, 2, 3), 1, 2, false, 0);
    assert.deepEqual(Array.from(accumulate(op1, t1, packValues(Int32Array.of(1, -1, -1), 1, 3, 1), 1, 1, 1)), [1, -4]);
    // 3x3 window at a corner with pad 1: padBit 1 of signed 2-bit activations is -1 on the 5 padded taps
    const g3 = { C: 1, O: 1, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1 };
    const t3: TensorInfo = { kind: 'bits', h: 2, w: 2, c: 1, planes: 2, flat: false, signed: true };
    const op3 = intOp(g3, Int32Array.from({ length: 9 }, () => 3), 2, 2, false, 1);
    // output (0,0) sees the 4 real values (1, -2, 0, 1) and 5 pads: 3·(1 - 2 + 0 + 1) + 3·5·(-1) = -15
    assert.equal(accumulate(op3, t3, packValues(Int32Array.of(1, -2, 0, 1), 4, 1, 2), 1, 2, 2)[0], -15);
  });

  it('accumulators equal sum a·w for every activation and weight width 1..4, signed or not, any shape, pad, stride', () => {
    const intCase = fc
      .record({
        H: fc.integer({ min: 1, max: 6 }), W: fc.integer({ min: 1, max: 6 }),
        C: fc.oneof(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 62, max: 66 }), fc.integer({ min: 127, max: 130 })),
        O: fc.integer({ min: 1, max: 3 }), kh: fc.integer({ min: 1, max: 3 }), kw: fc.integer({ min: 1, max: 3 }),
        sh: fc.integer({ min: 1, max: 2 }), sw: fc.integer({ min: 1, max: 2 }), ph: fc.nat(2), pw: fc.nat(2),
        padBit: fc.constantFrom<0 | 1>(0, 1), inBits: fc.integer({ min: 1, max: 4 }), inSigned: fc.boolean(),
        wBits: fc.integer({ min: 1, max: 4 }), wSigned: fc.boolean(), seed: fc.integer(),
      })
      .filter((p) => p.ph < p.kh && p.pw < p.kw && p.H + 2 * p.ph >= p.kh && p.W + 2 * p.pw >= p.kw);
    fc.assert(
      fc.property(intCase, (p) => {
        let s = p.seed >>> 0;
        const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
        const inSigned = p.inSigned && p.inBits > 1;
        const wSigned = p.wSigned && p.wBits > 1;
        // every value of each operand's full range, -2^(k-1) included
        const draw = (bits: number, signed: boolean) => {
          const { lo, hi } = operandRange(bits, signed);
          return bits === 1 ? (next() < 0.5 ? -1 : 1) : lo + Math.floor(next() * (hi - lo + 1));
        };
        const a = new Int32Array(p.H * p.W * p.C).map(() => draw(p.inBits, inSigned));
        const w = new Int32Array(p.O * p.C * p.kh * p.kw).map(() => draw(p.wBits, wSigned));
        const g = { C: p.C, O: p.O, kh: p.kh, kw: p.kw, sh: p.sh, sw: p.sw, ph: p.ph, pw: p.pw };
        const want = naiveIntConv({ H: p.H, W: p.W, ...g, pad: padValue(p.padBit, p.inBits, inSigned) }, a, w, p.inBits === 1 && p.wBits === 1);
        const ti: TensorInfo = { kind: 'bits', h: p.H, w: p.W, c: p.C, planes: p.inBits, flat: false, ...(inSigned ? { signed: true } : {}) };
        const got = accumulate(intOp(g, w, p.inBits, p.wBits, wSigned, p.padBit), ti, packValues(a, p.H * p.W, p.C, p.inBits), 1, want.OH, want.OW);
        assert.deepEqual(Array.from(got), Array.from(want.v));
      }),
      { seed: 2027, numRuns: 400 },
    );
  });

  it('zero padding (PAD_ZERO): Q = K + dot with padded positions contributing 0, any shape, pad, stride, channel count', () => {
    const zeroCase = fc
      .record({
        H: fc.integer({ min: 1, max: 6 }), W: fc.integer({ min: 1, max: 6 }),
        C: fc.oneof(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 62, max: 66 }), fc.integer({ min: 127, max: 130 })),
        O: fc.integer({ min: 1, max: 3 }), kh: fc.integer({ min: 1, max: 4 }), kw: fc.integer({ min: 1, max: 4 }),
        sh: fc.integer({ min: 1, max: 2 }), sw: fc.integer({ min: 1, max: 2 }), ph: fc.nat(3), pw: fc.nat(3), seed: fc.integer(),
      })
      .filter((p) => p.ph < p.kh && p.pw < p.kw && p.H + 2 * p.ph >= p.kh && p.W + 2 * p.pw >= p.kw);
    fc.assert(
      fc.property(zeroCase, (p) => {
        const r = rng(p.seed);
        const a = new Int32Array(p.H * p.W * p.C).map(() => (r() < 0.5 ? -1 : 1));
        const w = new Int32Array(p.O * p.C * p.kh * p.kw).map(() => (r() < 0.5 ? -1 : 1));
        const g = { C: p.C, O: p.O, kh: p.kh, kw: p.kw, sh: p.sh, sw: p.sw, ph: p.ph, pw: p.pw };
        const dot = naiveIntConv({ H: p.H, W: p.W, ...g, pad: 0 }, a, w, false);
        const K = p.kh * p.kw * p.C;
        const ti: TensorInfo = { kind: 'bits', h: p.H, w: p.W, c: p.C, planes: 1, flat: false };
        const got = accumulate(intOp(g, w, 1, 1, false, PAD_ZERO), ti, packValues(a, p.H * p.W, p.C, 1), 1, dot.OH, dot.OW);
        assert.deepEqual(Array.from(got), Array.from(dot.v, (d) => K + d));
      }),
      { seed: 2031, numRuns: 300 },
    );
  });

  it('signed threshold outputs store n - 2^(k-1): the count of passed thresholds with its top bit inverted', () => {
    // 2-bit, one channel, thresholds (-5, 0, 7): v = -9 -> n 0 -> -2; -5 -> 1 -> -1; 3 -> 2 -> 0; 7 -> 3 -> +1
    const vs = Int32Array.of(-9, -5, 3, 7);
    const y = thresholdPack(vs, 1, 2, Int32Array.of(-5, 0, 7), Uint8Array.of(0), true);
    const values = Array.from({ length: 4 }, (_, p) => {
      const pattern = (y[p * 4] & 1) | ((y[p * 4 + 2] & 1) << 1); // plane 0 then plane 1, two Uint32 per plane
      return pattern >= 2 ? pattern - 4 : pattern;
    });
    assert.deepEqual(values, [-2, -1, 0, 1]);
    // unsigned: the count itself
    const u = thresholdPack(vs, 1, 2, Int32Array.of(-5, 0, 7), Uint8Array.of(0), false);
    assert.deepEqual(Array.from({ length: 4 }, (_, p) => (u[p * 4] & 1) | ((u[p * 4 + 2] & 1) << 1)), [0, 1, 2, 3]);
  });

  it('signed quantisation: round((2^(k-1)-1)·clip(x,-1,1)) half up, two\'s complement planes, value s/(2^(k-1)-1)', () => {
    // k = 2 is ternary; ties round up (-0.5 -> 0); NaN -> 0; beyond ±1 clips
    const xs = [0.5, 0.49, -0.5, -0.51, 1, -1, 7, -7, NaN, 0, -0];
    assert.deepEqual(xs.map((x) => quantizeLevel(x, 2, true)), [1, 0, 0, -1, 1, -1, 1, -1, 0, 0, 0]);
    assert.deepEqual([-1, -0.5, 0.17, 0.5, 1].map((x) => quantizeLevel(x, 3, true)), [-3, -1, 1, 2, 3]);
    assert.equal(quantizeValue(-1, 4, true), -1);
    assert.equal(quantizeValue(0.5, 4, true), Math.fround(4 / 7));
    const ti: TensorInfo = { kind: 'bits', h: 1, w: 1, c: 3, planes: 3, flat: false, signed: true };
    const x = binarize(Float32Array.of(-1, 0.2, 1), ti, 1, 3, true); // levels -3, 1, 3
    assert.deepEqual(Array.from(x.filter((_, i) => i % 2 === 0)), [0b111, 0b100, 0b001], 'plane b, bit c = bit b of channel c: -3 = 101, 1 = 001, 3 = 011');
  });
});
