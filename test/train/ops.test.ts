/**
 * The trainer's differentiable ops (host/train/ops.ts) against gradients written out
 * by hand: straight-through sign, the matrix product, convolution and 2x2 max pooling
 * (whose tfjs wasm gradient is wrong, which the last test pins down).
 */
import * as assert from 'node:assert/strict';
import { makeOps, Ops } from '../../host/train/ops';
import { loadTf, Tensor, Tf } from '../../host/train/tfjs';
import { Rng } from '../../host/train/rng';
import { learningRate } from '../../host/train/trainer';

/** d(sum(f(x) * dy))/dx for one input tensor. */
function gradOf(tf: Tf, f: (x: Tensor) => Tensor, x: Float32Array, shape: number[], dy: Float32Array): Float32Array {
  return tf.tidy(() => {
    const v = tf.variable(tf.tensor(x, shape));
    const r = tf.variableGrads(() => {
      const y = f(v);
      return tf.sum(tf.mul(y, tf.tensor(dy, y.shape)));
    }, [v]);
    const g = Object.values(r.grads)[0].dataSync() as Float32Array;
    v.dispose();
    return tf.tensor(g, shape);
  }).dataSync() as Float32Array;
}

/** Reference 2x2 max-pool gradient, NHWC: dy shared evenly by the maxima of each window. */
function poolGradRef(x: Float32Array, [n, h, w, c]: number[], dy: Float32Array): Float32Array {
  const dx = new Float32Array(x.length);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < h / 2; y++)
      for (let xx = 0; xx < w / 2; xx++)
        for (let ch = 0; ch < c; ch++) {
          const at = [0, 1, w, w + 1].map((d) => ((b * h + 2 * y) * w + 2 * xx + d) * c + ch);
          const best = Math.max(...at.map((i) => x[i]));
          const maxima = at.filter((i) => x[i] === best);
          for (const i of maxima) dx[i] = dy[((b * (h / 2) + y) * (w / 2) + xx) * c + ch] / maxima.length;
        }
  return dx;
}

/** Element-wise equality (0 and -0 equal). */
function assertSame(got: ArrayLike<number>, want: ArrayLike<number>, what = ''): void {
  assert.equal(got.length, want.length);
  for (let i = 0; i < got.length; i++) if (got[i] !== want[i]) assert.fail(`${what} [${i}]: got ${got[i]}, want ${want[i]}`);
}

const uniform = (rng: Rng, n: number, scale = 1) => rng.uniform(n, scale);
/** Small integers (many ties), as the BatchNorm of integer match counts produces. */
const integers = (rng: Rng, n: number) => Float32Array.from(rng.uniform(n, 3), (v) => Math.round(v) + 0);

describe('training ops (tfjs wasm)', function () {
  this.timeout(120000);
  let tf: Tf;
  let ops: Ops;
  before(async () => {
    tf = (await loadTf(2)).tf;
    ops = makeOps(tf);
  });

  it('sign: +1 at zero, gradient passed where |x| <= 1 and cancelled elsewhere', () => {
    const x = Float32Array.from([-2, -1, -0.5, 0, 0.5, 1, 1.5]);
    const dy = Float32Array.from([1, 2, 3, 4, 5, 6, 7]);
    const y = tf.tidy(() => ops.sign(tf.tensor(x, [7]))).dataSync();
    assertSame(y, [-1, -1, -1, 1, 1, 1, 1]);
    assertSame(gradOf(tf, ops.sign, x, [7], dy), [0, 2, 3, 4, 5, 6, 0]);
  });

  it('matMul and conv2d gradients equal the written-out sums', () => {
    const rng = new Rng(3);
    const a = integers(rng, 4 * 5);
    const b = integers(rng, 5 * 3);
    const dy = integers(rng, 4 * 3);
    const bT = tf.tensor(b, [5, 3]);
    const da = gradOf(tf, (t) => ops.matMul(t, bT), a, [4, 5], dy);
    for (let i = 0; i < 4; i++)
      for (let k = 0; k < 5; k++) {
        let s = 0;
        for (let j = 0; j < 3; j++) s += dy[i * 3 + j] * b[k * 3 + j];
        assert.equal(da[i * 5 + k], s);
      }
    bT.dispose();

    // conv: N=2, 5x5x3 input, 3x3x3x4 filter, valid -> 3x3x4
    const x = integers(rng, 2 * 5 * 5 * 3);
    const w = integers(rng, 3 * 3 * 3 * 4);
    const dyc = integers(rng, 2 * 3 * 3 * 4);
    const xT = tf.tensor(x, [2, 5, 5, 3]);
    const wT = tf.tensor(w, [3, 3, 3, 4]);
    const dw = gradOf(tf, (t) => ops.conv2d(xT, t), w, [3, 3, 3, 4], dyc);
    const dx = gradOf(tf, (t) => ops.conv2d(t, wT), x, [2, 5, 5, 3], dyc);
    const dwRef = new Float32Array(w.length);
    const dxRef = new Float32Array(x.length);
    for (let n = 0; n < 2; n++)
      for (let oy = 0; oy < 3; oy++)
        for (let ox = 0; ox < 3; ox++)
          for (let o = 0; o < 4; o++) {
            const g = dyc[((n * 3 + oy) * 3 + ox) * 4 + o];
            for (let ky = 0; ky < 3; ky++)
              for (let kx = 0; kx < 3; kx++)
                for (let i = 0; i < 3; i++) {
                  const xi = ((n * 5 + oy + ky) * 5 + ox + kx) * 3 + i;
                  const wi = ((ky * 3 + kx) * 3 + i) * 4 + o;
                  dwRef[wi] += g * x[xi];
                  dxRef[xi] += g * w[wi];
                }
          }
    assertSame(dw, dwRef, 'dw');
    assertSame(dx, dxRef, 'dx');
    xT.dispose();
    wT.dispose();
  });

  it('maxPool2: forward equals tf.maxPool, gradient shared by tied maxima', () => {
    const rng = new Rng(5);
    for (const [shape, gen] of [
      [[3, 24, 24, 64], uniform],
      [[2, 8, 8, 5], integers],
      [[1, 2, 2, 1], () => Float32Array.from([-1, -1, -1, -1])],
    ] as [number[], (r: Rng, n: number) => Float32Array][]) {
      const size = shape.reduce((p, q) => p * q, 1);
      const x = gen(rng, size);
      const dy = integers(rng, size / 4);
      const y = tf.tidy(() => ops.maxPool2(tf.tensor(x, shape))).dataSync();
      const yRef = tf.tidy(() => tf.maxPool(tf.tensor(x, shape), 2, 2, 'valid')).dataSync();
      assertSame(y, yRef, 'forward');
      const got = gradOf(tf, ops.maxPool2, x, shape, dy);
      assertSame(got, poolGradRef(x, shape, dy), `gradient, shape ${shape}`);
    }
  });

  it("tfjs wasm's own MaxPoolGrad still loses gradient (why maxPool2 exists; delete both when this fails)", () => {
    const rng = new Rng(5);
    const shape = [3, 24, 24, 64];
    const x = uniform(rng, 3 * 24 * 24 * 64);
    const dy = Float32Array.from(integers(rng, x.length / 4), (v) => v || 1);
    const got = gradOf(tf, (t) => tf.maxPool(t, 2, 2, 'valid'), x, shape, dy);
    const ref = poolGradRef(x, shape, dy);
    let lost = 0;
    for (let i = 0; i < x.length; i++) if (got[i] !== ref[i]) lost++;
    assert.ok(lost > 0, 'tfjs MaxPoolGrad now matches: switch net.ts back to tf.maxPool');
  });

  it('learning-rate schedules run from lr to lrEnd (cosine: the mean half way, exp: the geometric mean)', () => {
    const close = (a: number, b: number) => assert.ok(Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b)), `${a} vs ${b}`);
    for (const s of ['exp', 'cosine'] as const) {
      close(learningRate(s, 2e-3, 2e-5, 0), 2e-3);
      close(learningRate(s, 2e-3, 2e-5, 1), 2e-5);
    }
    close(learningRate('cosine', 2e-3, 2e-5, 0.5), (2e-3 + 2e-5) / 2);
    close(learningRate('exp', 2e-3, 2e-5, 0.5), Math.sqrt(2e-3 * 2e-5));
    assert.ok(learningRate('cosine', 2e-3, 2e-5, 0.25) > learningRate('exp', 2e-3, 2e-5, 0.25));
  });
});
