/**
 * One tile schedule (DESIGN §3): the HLS and OpenCL kernels execute the RTL array's tiles in
 * the RTL's order, so their backends' cycles (the cycle model's tile phase) and PE
 * utilisation agree with what the Verilator model counts clock by clock: within 5 points
 * on the shipped fashion-cnn and on BMXNet's MNIST model, per device layer and overall.
 */
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { loadDataset } from '../../host/data/datasets';
import { readBnn } from '../../host/format/bnn';
import { loadModel } from '../../host/runtime/load';
import { CompiledModel } from '../../host/compile/model';
import { Session } from '../../host/runtime/session';
import { LayerStat } from '../../host/runtime/backend';
import { rtlInfo } from '../../host/backends/verilator/ffi';
import { hlsLib } from '../../host/backends/hls-csim/ffi';
import { platforms } from '../../host/opencl';
import { packageRoot } from '../../host/core/paths';
import { requireOrSkip } from '../helpers/skip';
import { requireBmxnetMnist } from '../helpers/shared-models';

const IMAGES = 128;
const BATCH = 64;

async function deviceStats(m: CompiledModel, backend: string, images: Float32Array): Promise<LayerStat[]> {
  const s = await Session.create(m, { backend, batch: BATCH, threads: 1 });
  try {
    await s.run(images);
    return s.stats().layers.filter((l) => l.where === 'device');
  } finally {
    await s.close();
  }
}

function overall(dev: LayerStat[]): number {
  const cycles = dev.reduce((a, l) => a + l.cycles!, 0);
  return dev.reduce((a, l) => a + l.utilization! * l.cycles!, 0) / cycles;
}

function agree(model: string, rtl: LayerStat[], other: LayerStat[], backend: string): void {
  assert.deepEqual(other.map((l) => l.name), rtl.map((l) => l.name));
  other.forEach((l, i) => {
    assert.equal(l.cyclesKind, 'schedule');
    assert.equal(rtl[i].cyclesKind, 'rtl');
    // the tile phase never exceeds the RTL's count (fill and drain are extra there)
    assert.ok(l.cycles! <= rtl[i].cycles!, `${model} ${backend} ${l.name}: ${l.cycles} cycles > the RTL's ${rtl[i].cycles}`);
    assert.ok(Math.abs(l.utilization! - rtl[i].utilization!) <= 0.05, `${model} ${backend} ${l.name}: utilisation ${l.utilization} vs the RTL's ${rtl[i].utilization}`);
  });
  assert.ok(Math.abs(overall(other) - overall(rtl)) <= 0.05, `${model} ${backend}: utilisation ${overall(other)} vs the RTL's ${overall(rtl)}`);
}

describe('one tile schedule: HLS and OpenCL utilisation agree with the RTL', function () {
  this.timeout(600000);
  before(function () {
    requireOrSkip(this, () => rtlInfo());
  });

  const models: [string, (ctx: Mocha.Context) => Promise<CompiledModel>, 'fashion-mnist' | 'mnist'][] = [
    ['fashion-cnn', async () => readBnn(path.join(packageRoot(), 'models', 'fashion-cnn.bnn')), 'fashion-mnist'],
    ['bmxnet-mnist', async (ctx) => {
      requireBmxnetMnist(ctx);
      return loadModel('bmxnet-mnist');
    }, 'mnist'],
  ];
  for (const [name, load, ds] of models) {
    it(`${name}: hls-csim within 5 points of the RTL (${IMAGES} images, batch ${BATCH})`, async function () {
      if (!requireOrSkip(this, () => hlsLib())) return;
      const m = await load(this);
      const { images } = loadDataset(ds, { limit: IMAGES });
      agree(name, await deviceStats(m, 'verilator', images), await deviceStats(m, 'hls-csim', images), 'hls-csim');
    });

    it(`${name}: opencl (PoCL, chunks of 32 images) within 5 points of the RTL (${IMAGES} images, batch ${BATCH})`, async function () {
      if (!requireOrSkip(this, () => platforms())) return;
      const m = await load(this);
      const { images } = loadDataset(ds, { limit: IMAGES });
      agree(name, await deviceStats(m, 'verilator', images), await deviceStats(m, 'opencl', images), 'opencl');
    });
  }
});
