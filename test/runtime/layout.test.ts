/** The session's input check and NCHW -> NHWC copy: native engine and JavaScript agree, and Session uses them. */
import * as assert from 'node:assert/strict';
import { nativeEngine } from '../../host/backends/native/ffi';
import { firstNonFinite } from '../../host/compile/validate';
import { ShapeError } from '../../host/core/errors';
import { findNonFinite, toNHWC, toNHWCScript } from '../../host/runtime/layout';
import { Session } from '../../host/runtime/session';
import { resnet18Cifar } from '../../host/zoo/resnet';
import { compile } from '../../host/compile/compile';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

describe('session input layout (native engine and JavaScript)', () => {
  before(() => nativeEngine().setParallelNs(0)); // small inputs: every loop uses its threads
  after(() => nativeEngine().setParallelNs(-1));

  it('NCHW -> NHWC: the engine writes what the JavaScript copy writes, at 1 and 2 threads', () => {
    const r = rng(7);
    for (const [n, c, h, w] of [[1, 3, 5, 7], [3, 3, 224, 224], [2, 1, 9, 9], [2, 4, 3, 130], [5, 16, 8, 8], [1, 3, 1, 1], [0, 3, 4, 4]]) {
      const x = Float32Array.from({ length: n * c * h * w }, () => r() * 2 - 1);
      const want = toNHWCScript(x, n, [c, h, w], new Float32Array(x.length));
      for (const t of [1, 2]) {
        const got = toNHWC(x, n, [c, h, w], new Float32Array(x.length).fill(NaN), t);
        assert.deepEqual(got, want, `${n}x${c}x${h}x${w} at ${t} threads`);
      }
      // a spot check of the layout itself
      if (n > 0 && c > 1) assert.equal(want[(0 * h * w + 1) * c + (c - 1)], x[(c - 1) * h * w + 1]);
    }
  });

  it('first non-finite index: the smallest over all work items, -1 when none', () => {
    const r = rng(11);
    const n = 3 * 150000; // several 16 Ki-element items
    for (let k = 0; k < 40; k++) {
      const x = Float32Array.from({ length: n }, () => r() * 1e30 - 5e29);
      const bad = Array.from({ length: k % 4 }, () => Math.floor(r() * n));
      const kinds = [NaN, Infinity, -Infinity];
      bad.forEach((i, j) => (x[i] = kinds[(k + j) % 3]));
      const want = firstNonFinite(x);
      assert.equal(want, bad.length ? Math.min(...bad) : -1);
      for (const t of [1, 2]) assert.equal(findNonFinite(x, t), want);
    }
    const edge = new Float32Array(20000).fill(3.4e38);
    assert.equal(findNonFinite(edge, 2), -1); // the largest floats are finite
    edge[19999] = NaN;
    assert.equal(findNonFinite(edge, 2), 19999);
    assert.equal(findNonFinite(new Float32Array(0), 2), -1);
  });

  it('Session on the native backend still names the first bad value, and runs equal to the reference', async () => {
    const m = compile(resnet18Cifar({ seed: 3 }));
    const x = Float32Array.from({ length: 2 * 3 * 32 * 32 }, (_, i) => Math.sin(i));
    const ref = await (await Session.create(m, { batch: 2 })).run(x);
    const s = await Session.create(m, { backend: 'native', batch: 2, threads: 2 });
    assert.deepEqual((await s.run(x)).logits, ref.logits);
    const y = x.slice();
    y[3 * 1024 + 5] = -Infinity;
    y[3 * 1024 + 900] = NaN;
    await assert.rejects(s.run(y), (e: Error) => e instanceof ShapeError && e.message === 'input[3077] (image 1) is -Infinity; inputs must be finite');
    await s.close();
  });
});
