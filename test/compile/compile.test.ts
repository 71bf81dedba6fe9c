import * as assert from 'node:assert/strict';
import { compile } from '../../host/compile/compile';
import { Session } from '../../host/runtime/session';
import { randomImages, randomModel } from '../helpers/random-model';
import { resnet18Cifar } from '../../host/zoo/resnet';

describe('compile: folded epilogues are exact end to end', () => {
  for (const bits of [1, 2]) {
    it(`random ${bits}-bit models: fused and unfused compiles give identical logits`, async function () {
      for (let seed = 1; seed <= 12; seed++) {
        const g = randomModel({ seed, actBits: bits });
        const fused = compile(g);
        const plain = compile(g, { fuse: false });
        const thresholdOps = fused.ops.filter((o) => o.op === 'bconv' && o.epilogue.kind === 'threshold').length;
        assert.ok(thresholdOps >= 1, 'the fused compile folds at least one epilogue');
        assert.equal(plain.ops.filter((o) => o.op === 'bconv' && o.epilogue.kind === 'threshold').length, 0);
        const [, C, H] = [0, g.nodes[0].shape[0], g.nodes[0].shape[1]];
        const images = randomImages(seed, 9, [C, H, H]);
        const a = await (await Session.create(fused, { batch: 4 })).run(images);
        const b = await (await Session.create(plain, { batch: 4 })).run(images);
        assert.deepEqual(Array.from(a.logits), Array.from(b.logits), `seed ${seed}`);
      }
    });
  }
});

describe('compile: one binarize per float tensor', () => {
  it("a residual unit's first conv and its projection shortcut share the packed input and one device segment", () => {
    for (const actBits of [1, 2]) {
      const m = compile(resnet18Cifar({ seed: 3, actBits }));
      const binarize = m.ops.filter((o) => o.op === 'binarize');
      const keys = binarize.map((o) => `${o.in}/${(o as { bits: number }).bits}`);
      assert.equal(new Set(keys).size, keys.length, `duplicate binarize: ${keys}`);
      const segOf = (i: number) => m.segments.findIndex((s) => i >= s.start && i < s.end);
      const idx = (name: string) => m.opNames.findIndex((n, i) => n === name && m.ops[i].op === 'bconv');
      for (const stage of [1, 2, 3, 4]) {
        const sc = idx(`stage${stage}_unit1_sc`);
        assert.ok(sc >= 0);
        assert.equal(segOf(sc), segOf(idx(`stage${stage}_unit1_conv1`)), `stage ${stage}: shortcut in the unit's device segment`);
        assert.equal(m.ops[sc].in, m.ops[idx(`stage${stage}_unit1_conv1`)].in);
      }
      assert.equal(m.segments.filter((s) => s.kind === 'device').length, 8);
    }
  });
});
