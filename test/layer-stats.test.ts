import * as assert from 'node:assert/strict';
import { compile } from '../host/compile/compile';
import { availableBackends } from '../host/backends';
import { Session } from '../host/runtime/session';
import { randomImages, randomModel } from './helpers/random-model';

describe('per-layer statistics', () => {
  for (const backend of availableBackends()) {
    it(`${backend}: one entry per op, in op order, with where, accumulating across runs`, async () => {
      const m = compile(randomModel({ seed: 9 }));
      const s = await Session.create(m, { backend, batch: 2 });
      const [C, H, W] = s.inputShape;
      await s.run(randomImages(1, 3, [C, H, W]));
      const first = s.stats().layers;
      assert.deepEqual(first.map((l) => l.op), m.ops.map((_, i) => i));
      for (const l of first) {
        assert.equal(l.name, m.opNames[l.op]);
        assert.equal(l.where, m.ops[l.op].op === 'bconv' ? 'device' : 'host');
        assert.ok(l.ms >= 0);
      }
      await s.run(randomImages(2, 3, [C, H, W]));
      const total = s.stats().layers.reduce((a, l) => a + l.ms, 0);
      assert.ok(total >= first.reduce((a, l) => a + l.ms, 0));
      await s.close();
    });
  }
});
