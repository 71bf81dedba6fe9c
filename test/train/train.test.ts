import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { compile } from '../../host/compile/compile';
import { CompiledModel } from '../../host/compile/model';
import { Dataset, loadDataset } from '../../host/data/datasets';
import { encodeBnn, readBnn } from '../../host/format/bnn';
import { importBmxnet } from '../../host/import/bmxnet';
import { readNDArrayFile } from '../../host/import/ndarray';
import { standaloneBackends } from '../../host/backends';
import { Session } from '../../host/runtime/session';
import { ArchName } from '../../host/train/arch';
import { evaluate } from '../../host/train/evaluate';
import { saveTrained } from '../../host/train/save';
import { argmax, train, TrainResult } from '../../host/train/trainer';
import { packagePath } from '../../host/core/paths';

const MODELS = packagePath('models');

/** Same model, ignoring where it came from. */
function bytesOf(m: CompiledModel): Buffer {
  return encodeBnn({ ...m, name: 'x', source: { format: 'x', files: [] } });
}

async function logitsOn(model: CompiledModel | string, backend: string, images: Float32Array): Promise<Float32Array> {
  const s = await Session.create(model, { backend });
  try {
    return (await s.run(images)).logits;
  } finally {
    await s.close();
  }
}

describe('bitweave train (TensorFlow.js, short runs)', function () {
  this.timeout(300000);
  let trainSet: Dataset;
  let testSet: Dataset;
  let dir: string;

  before(() => {
    trainSet = loadDataset('fashion-mnist', { split: 'train', limit: 300 });
    testSet = loadDataset('fashion-mnist', { split: 'test', limit: 200 });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bitweave-train-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const arch of ['mlp', 'cnn'] as ArchName[]) {
    describe(arch, () => {
      let r: TrainResult;
      let bnn: string;
      let model: CompiledModel;
      let files: { symbol: string; params: string };

      before(async () => {
        r = await train({ arch, epochs: 1, seed: 7, batch: 30, train: trainSet, test: testSet, bnImages: 300 });
        bnn = path.join(dir, `${arch}.bnn`);
        const saved = saveTrained(r.trained, bnn, { bmxnet: true });
        model = saved.model;
        files = { symbol: saved.symbol!, params: saved.params! };
      });
      after(() => r?.dispose());

      it('lowers the loss within one epoch of 300 images', () => {
        const h = r.history[0];
        assert.equal(r.history.length, 1);
        assert.ok(h.lossLast < h.lossFirst, `loss ${h.lossFirst} -> ${h.lossLast}`);
        assert.ok(r.test && r.test.accuracy > 0.3, `test accuracy ${r.test?.accuracy}`);
      });

      it('keeps latent binary weights in [-1, 1]', () => {
        for (const l of r.trained.arch.layers) {
          if ((l.kind === 'dense' || l.kind === 'conv') && l.binary) {
            const w = r.trained.params.get(`${l.name}_weight`)!;
            assert.ok(w.every((v) => v >= -1 && v <= 1), l.name);
          }
        }
      });

      it('writes BMXNet files that import and compile to the identical model', () => {
        const imported = compile(importBmxnet(files.symbol, files.params));
        assert.ok(bytesOf(imported).equals(bytesOf(model)));
        assert.ok(bytesOf(readBnn(bnn)).equals(bytesOf(model)), '.bnn round trip');
        // BMXNet converter conventions: packed binary weights as float64 words
        const packed = readNDArrayFile(files.params).filter((e) => /^arg:q/.test(e.name));
        assert.ok(packed.length > 0 && packed.every((e) => e.dtype === 'float64' && e.shape.length === 1));
      });

      it('runs bit-identically on every backend, from the .bnn and from the BMXNet files', async () => {
        const ref = await logitsOn(bnn, 'reference', testSet.images);
        for (const b of standaloneBackends()) {
          for (const m of [bnn, files.symbol]) {
            const l = await logitsOn(m, b, testSet.images);
            assert.ok(Buffer.from(l.buffer).equals(Buffer.from(ref.buffer)), `${b}: ${path.basename(m)}`);
          }
        }
      });

      it('agrees with the training-time (tfjs) network', async () => {
        const ref = await logitsOn(model, 'reference', testSet.images);
        const tfl = r.predict(testSet.images);
        let same = 0;
        const diffs: number[] = [];
        for (let i = 0; i < testSet.count; i++) {
          if (argmax(ref, i, 10) === argmax(tfl, i, 10)) same++;
          for (let k = 0; k < 10; k++) diffs.push(Math.abs(ref[i * 10 + k] - tfl[i * 10 + k]));
        }
        diffs.sort((a, b) => a - b);
        assert.ok(same >= 0.98 * testSet.count, `same prediction on ${same}/${testSet.count}`);
        assert.ok(diffs[Math.floor(diffs.length / 2)] < 1e-4, `median |logit difference| ${diffs[Math.floor(diffs.length / 2)]}`);
        assert.equal(same, r.test!.predictions.filter((p, i) => p === argmax(ref, i, 10)).length);
      });
    });
  }
});

describe('shipped models (models/*.bnn)', function () {
  this.timeout(300000);
  const test = () => loadDataset('fashion-mnist', { split: 'test', limit: 500 });

  for (const name of ['fashion-mlp', 'fashion-cnn']) {
    // (identical logits on every backend: the backend contract, test/backends/)
    it(`${name}: accuracy on 500 test images consistent with its card`, async () => {
      const file = path.join(MODELS, `${name}.bnn`);
      const card = fs.readFileSync(path.join(MODELS, `${name}.md`), 'utf8');
      const m = /\| reference \| \*\*([\d.]+)%\*\*/.exec(card);
      assert.ok(m, 'card lists the reference accuracy');
      const claimed = Number(m[1]) / 100;
      const ds = test();
      const ref = await evaluate(file, 'reference', ds);
      // 500 images: one standard deviation is about 1.4 points at 90%
      assert.ok(Math.abs(ref.accuracy - claimed) < 0.05, `${ref.accuracy} on 500 images vs ${claimed} on 10,000`);
    });
  }
});
