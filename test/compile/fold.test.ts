import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { foldThresholds, FoldStep } from '../../host/compile/fold';
import { thresholdPack } from '../../host/backends/reference/bconv';
import { activationF32, batchNormF32, batchNormScale, dequantizeF32, quantizeLevel, quantizeValue } from '../../host/core/scalar';

/** Level by the folded thresholds, decoded from the packed output of thresholdPack. */
function foldedLevel(v: number, c: number, C: number, bits: number, t: Int32Array, flip: Uint8Array): number {
  const vs = new Int32Array(C);
  vs[c] = v;
  const packed = thresholdPack(vs, C, bits, t, flip);
  const u32 = Math.ceil(C / 64) * 2;
  let level = 0;
  for (let b = 0; b < bits; b++) level |= ((packed[b * u32 + (c >>> 5)] >>> (c & 31)) & 1) << b;
  return level;
}

function direct(steps: FoldStep[], c: number, x: number): number {
  for (const s of steps) {
    if (s.kind === 'bn') x = batchNormF32(x, s.mean[c], s.scale[c], s.beta[c]);
    else if (s.kind === 'act') x = activationF32(s.fn, x);
    else x = quantizeValue(x, s.bits);
  }
  return x;
}

const bnCase = fc.record({
  C: fc.integer({ min: 1, max: 6 }),
  K: fc.integer({ min: 1, max: 300 }),
  inBits: fc.constantFrom(1, 2),
  outBits: fc.constantFrom(1, 2, 3),
  gammas: fc.array(fc.oneof(fc.double({ min: -3, max: 3, noNaN: true }), fc.constant(0), fc.constant(-1), fc.constant(1)), { minLength: 6, maxLength: 6 }),
  means: fc.array(fc.integer({ min: -50, max: 350 }), { minLength: 6, maxLength: 6 }),
  betas: fc.array(fc.oneof(fc.constant(0), fc.double({ min: -2, max: 2, noNaN: true })), { minLength: 6, maxLength: 6 }),
  vars: fc.array(fc.double({ min: 0.01, max: 400, noNaN: true }), { minLength: 6, maxLength: 6 }),
  tanh: fc.boolean(),
});

describe('threshold folding', () => {
  it('equals BatchNorm (then tanh) then quantise on every integer, incl. gamma < 0, gamma = 0 and exact ties', () => {
    fc.assert(
      fc.property(bnCase, (p) => {
        const f = (a: number[]) => Float32Array.from(a.slice(0, p.C));
        const scale = Float32Array.from({ length: p.C }, (_, c) => batchNormScale(p.gammas[c], p.vars[c], 1e-3));
        const steps: FoldStep[] = [{ kind: 'bn', mean: f(p.means), scale, beta: f(p.betas) }];
        if (p.tanh) steps.push({ kind: 'act', fn: 'tanh' });
        const divisor = p.inBits === 1 ? 1 : 3;
        const vmin = p.inBits === 1 ? 0 : -3 * p.K;
        const vmax = p.inBits === 1 ? p.K : 3 * p.K;
        const r = foldThresholds({ outC: p.C, vmin, vmax, divisor, pre: steps, post: [], bits: p.outBits });
        for (let c = 0; c < p.C; c++) {
          for (let v = vmin; v <= vmax; v++) {
            const want = quantizeLevel(direct(steps, c, dequantizeF32(v, divisor)), p.outBits);
            assert.equal(foldedLevel(v, c, p.C, p.outBits, r.thresholds, r.flip), want, `c=${c} v=${v}`);
          }
          assert.equal(r.flip[c], scale[c] < 0 ? 1 : 0);
        }
      }),
      { seed: 11, numRuns: 150 },
    );
  });

  it('ties: BN(P) = 0 exactly gives +1 (sign(0) = +1) on both sides of the fold', () => {
    const mean = Float32Array.of(10, 10);
    const scale = Float32Array.of(batchNormScale(1, 1, 0), batchNormScale(-1, 1, 0));
    const r = foldThresholds({ outC: 2, vmin: 0, vmax: 20, divisor: 1, pre: [{ kind: 'bn', mean, scale, beta: new Float32Array(2) }], post: [], bits: 1 });
    assert.equal(foldedLevel(10, 0, 2, 1, r.thresholds, r.flip), 1);
    assert.equal(foldedLevel(9, 0, 2, 1, r.thresholds, r.flip), 0);
    assert.equal(foldedLevel(10, 1, 2, 1, r.thresholds, r.flip), 1);
    assert.equal(foldedLevel(11, 1, 2, 1, r.thresholds, r.flip), 0);
  });

  it('pools on integers with max where the map before the pool rises and min where it falls', () => {
    const scale = Float32Array.of(batchNormScale(2, 1, 0), batchNormScale(-2, 1, 0));
    const bnStep: FoldStep = { kind: 'bn', mean: Float32Array.of(5, 5), scale, beta: Float32Array.of(0.5, -0.5) };
    const post: FoldStep[] = [{ kind: 'bn', mean: Float32Array.of(0, 0), scale: Float32Array.of(-1, 1), beta: new Float32Array(2) }];
    const r = foldThresholds({ outC: 2, vmin: 0, vmax: 10, divisor: 1, pre: [bnStep], post, bits: 1 });
    assert.deepEqual(Array.from(r.useMin), [0, 1]);
    assert.deepEqual(Array.from(r.flip), [1, 1]);
    // float path: BN -> max-pool(float) -> BN -> sign, against int pool -> thresholds
    for (let c = 0; c < 2; c++) {
      for (let a = 0; a <= 10; a++) for (let b = 0; b <= 10; b++) {
        const fa = direct([bnStep], c, a);
        const fb = direct([bnStep], c, b);
        const want = quantizeLevel(direct(post, c, Math.max(fa, fb)), 1);
        const pooled = r.useMin[c] ? Math.min(a, b) : Math.max(a, b);
        assert.equal(foldedLevel(pooled, c, 2, 1, r.thresholds, r.flip), want);
      }
    }
  });
});
