/** Model work counts (host/bench/work.ts) and `bench model --layers`: host/device split and ceilings. */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { modelWork } from '../../host/bench/work';
import { compile } from '../../host/compile/compile';
import { packagePath } from '../../host/core/paths';
import { resnet18Cifar, resnet18Imagenet } from '../../host/zoo/resnet';

const BIN = packagePath('bin/bitweave.js');

/** ResNet-18's binary convolutions counted from its architecture, not from the compiled ops. */
function resnetBinaryMacs(size: number, imagenet: boolean): number {
  let macs = 0;
  let h = imagenet ? size / 4 : size; // after the stem (stride 2) and its max pool (stride 2)
  let c = 64;
  const conv = (hOut: number, cin: number, cout: number, k: number) => hOut * hOut * cout * k * k * cin;
  [64, 128, 256, 512].forEach((f, stage) => {
    const hOut = stage === 0 ? h : h / 2;
    // unit 1: conv1 (stride 2 after stage 1), conv2, and a 1x1 shortcut conv (BMXNet's first
    // unit of every stage has one, stage 1's too)
    macs += conv(hOut, c, f, 3) + conv(hOut, f, f, 3) + conv(hOut, c, f, 1);
    // unit 2: two 3x3 convs
    macs += 2 * conv(hOut, f, f, 3);
    h = hOut;
    c = f;
  });
  return macs;
}

describe('bench model work and ceilings', function () {
  this.timeout(300000);

  it('counts the float multiply-adds and binary MACs of ResNet-18 from its shapes', () => {
    const im = modelWork(compile(resnet18Imagenet({ seed: 1 })));
    // stem 7x7x3 -> 64 at 112x112, and the final 512 -> 1000 dense
    assert.equal(im.floatFma, 112 * 112 * 64 * 7 * 7 * 3 + 512 * 1000);
    assert.equal(im.binaryMacs, resnetBinaryMacs(224, true));
    const cifar = modelWork(compile(resnet18Cifar({ seed: 1 })));
    assert.equal(cifar.floatFma, 32 * 32 * 64 * 3 * 3 * 3 + 512 * 10);
    assert.equal(cifar.binaryMacs, resnetBinaryMacs(32, false));
  });

  function bw(...args: string[]) {
    const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 300000 });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  }

  it('bench model --layers: host/device split per batch, and on native the times against the ceilings', () => {
    const r = bw('bench', 'model', 'resnet18-cifar', '--backend', 'native', '--batches', '1,2', '--runs', '2', '--threads', '1', '--layers', '--json');
    assert.equal(r.code, 0, r.stderr);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const layers = rows.filter((x) => x.layer !== undefined);
    const splits = rows.filter((x) => x.hostShare !== undefined);
    assert.deepEqual(splits.map((s) => s.batch), [1, 2]);
    const work = modelWork(compile(resnet18Cifar({ seed: 1 })));
    for (const s of splits) {
      const mine = layers.filter((l) => l.batch === s.batch);
      const sum = (where: string) => mine.filter((l) => l.where === where).reduce((a, l) => a + l.ms, 0);
      assert.ok(Math.abs(s.hostMs - sum('host')) < 1e-9 && Math.abs(s.deviceMs - sum('device')) < 1e-9);
      assert.ok(s.hostMs > 0 && s.deviceMs > 0);
      assert.equal(s.floatFmaPerImage, work.floatFma);
      assert.equal(s.binaryMacsPerImage, work.binaryMacs);
      const c = s.ceilings;
      assert.equal(c.threads, 1);
      assert.ok(c.fmaPerSecond > 0 && c.binaryMacsPerSecond > 0);
      assert.ok(Math.abs(c.hostFloorMs - (1000 * s.batch * work.floatFma) / c.fmaPerSecond) < 1e-9);
      assert.ok(Math.abs(c.deviceFloorMs - (1000 * s.batch * work.binaryMacs) / c.binaryMacsPerSecond) < 1e-9);
      assert.ok(Math.abs(c.hostShareAtCeilings - c.hostFloorMs / (c.hostFloorMs + c.deviceFloorMs)) < 1e-12);
    }
    // the text form states the same
    const t = bw('bench', 'model', 'resnet18-cifar', '--backend', 'native', '--batches', '1', '--runs', '1', '--threads', '1', '--layers');
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stdout, /batch 1: native time per op \(ms per call, slowest first; host [\d.]+ of [\d.]+, \d+%; seg: the segment it ran in\)/);
    assert.match(t.stdout, /batch 1: at this machine's ceilings \(\w+, 1 threads: [\d.]+ G FMA\/s, \d+ G bit-MAC\/s\) 1 x [\d.]+ M float multiply-adds need >= [\d.]+ ms \(host layers took [\d.]+: \d+% of the ceiling rate\), 1 x [\d.]+ G binary MACs >= [\d.]+ ms .* host share would be \d+%/);
  });

  it('on the reference backend the split has no ceilings (they describe the native kernels)', () => {
    const r = bw('bench', 'model', 'bmxnet-mnist', '--backend', 'reference', '--batches', '1', '--runs', '1', '--threads', '1', '--layers', '--json');
    assert.equal(r.code, 0, r.stderr);
    const splits = r.stdout.trim().split('\n').map((l) => JSON.parse(l)).filter((x) => x.hostShare !== undefined);
    assert.equal(splits.length, 1);
    assert.equal(splits[0].ceilings, undefined);
    const t = bw('bench', 'model', 'bmxnet-mnist', '--backend', 'reference', '--batches', '1', '--runs', '1', '--threads', '1', '--layers');
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stdout, /time per op/);
    assert.doesNotMatch(t.stdout, /ceilings/);
  });
});
