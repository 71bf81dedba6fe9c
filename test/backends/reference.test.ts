import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { accumulate } from '../../host/backends/reference/bconv';
import { binarize } from '../../host/backends/reference/float-ops';
import { BconvOp, TensorInfo } from '../../host/compile/model';
import { packBinaryWeights } from '../../host/compile/pack';
import { naiveBinaryConv, NaiveConv } from '../helpers/naive';

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
});
