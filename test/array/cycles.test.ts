/**
 * The RTL cycle model (host/array/cycles.ts) against the cycles the Verilator model counts:
 * exact on chains of tiny layers (descriptor prefetch cut short), within 2% on every layer
 * of the reference networks (exact in practice), and its DRAIN rules. (Every random layer of
 * the backend contract checks it exactly too.)
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { VerilatorBackend } from '../../host/backends/verilator';
import { rtlInfo } from '../../host/backends/verilator/ffi';
import { DEFAULT_ARRAY } from '../../host/array/params';
import { encodeSegment } from '../../host/array/program';
import { programCycles } from '../../host/array/cycles';
import { compile } from '../../host/compile/compile';
import { packagePath } from '../../host/core/paths';
import { readBnn } from '../../host/format/bnn';
import { loadNamedModel } from '../../host/zoo/models';
import { rng } from '../helpers/naive';
import { denseChain } from '../helpers/random-model';
import { compareWithReference } from '../helpers/backend-compare';
import { randomBits, randomInput } from '../helpers/native-models';
import { bmxnetMnist } from '../helpers/shared-models';
import { checkCycleModel } from '../backends/cycle-check';
import { requireOrSkip } from '../helpers/skip';

describe('RTL cycle model', function () {
  it('the cycle model refuses a DRAIN that does not divide COLS, and a slower drain costs cycles', async () => {
    const m = readBnn(packagePath('models', 'fashion-mlp.bnn'));
    const dev = m.segments.findIndex((s) => s.kind === 'device');
    const prog = encodeSegment(m, dev, DEFAULT_ARRAY);
    for (const drain of [3, 0, 1.5]) assert.throws(() => programCycles(prog, 4, { ...DEFAULT_ARRAY, drain }), /drain .* must divide COLS = 8/);
    const cyc = (drain: number) => programCycles(prog, 4, { ...DEFAULT_ARRAY, drain }).reduce((s, l) => s + l.cycles, 0);
    assert.ok(cyc(1) > cyc(8), 'one column per cycle is slower than the whole tile');
    assert.equal(cyc(8), programCycles(prog, 4, DEFAULT_ARRAY).reduce((s, l) => s + l.cycles, 0), 'drain defaults to COLS');
  });

  describe('against the RTL (Verilator)', function () {
    before(function () {
      if (!requireOrSkip(this, () => rtlInfo())) return;
    });

    it('chains of tiny dense layers: identical bits, cycle model exact (descriptor prefetch cut short by a short layer)', async () => {
      const rtl = new VerilatorBackend({ threads: 1 });
      // widths: 1-word layers of one channel group run a few dozen cycles, fewer than the
      // next descriptor's 32 words; wider ones run long enough to prefetch all of it
      for (const [seed, widths, batch] of [[1, [64, 8, 8, 5], 1], [2, [70, 3, 130, 9, 17], 2], [3, [64, 64, 64], 1], [4, [200, 8, 40], 9]] as const) {
        const m = compile(denseChain(seed, [...widths]));
        const dev = m.segments.findIndex((s) => s.kind === 'device');
        assert.equal(m.segments[dev].end - m.segments[dev].start, widths.length - 1, `seed ${seed}: one device segment of every layer`);
        const r = rng(seed);
        await compareWithReference(m, randomInput(r, batch, widths[0], 1), rtl, `chain ${seed}`);
        checkCycleModel(rtl, `chain ${seed}`, 0);
      }
      await rtl.dispose();
    });

    it('cycle model within 2% of the RTL on every layer of the reference networks (MNIST, fashion-cnn, ResNet-18)', async function () {
      const specs: [string, number][] = [[packagePath('models', 'fashion-cnn.bnn'), 8], ['resnet18-cifar', 1]];
      if (fs.existsSync(bmxnetMnist(64).symbol)) specs.push(['bmxnet-mnist', 3]);
      else console.log('      (BMXNet MNIST model absent: skipped in this test)');
      for (const [spec, batch] of specs) {
        const m = await loadNamedModel(spec);
        const b = new VerilatorBackend({ threads: 1 });
        await b.load(m);
        const r = rng(9);
        for (const [si, seg] of m.segments.entries()) {
          if (seg.kind !== 'device') continue;
          const t = m.tensors[seg.inputs[0]];
          await b.runSegment(si, new Map([[seg.inputs[0], randomBits(r, batch * t.h * t.w, t.c, t.planes)]]), batch);
        }
        checkCycleModel(b, spec);
        const info = rtlInfo();
        if (spec === 'resnet18-cifar' && info.rows === DEFAULT_ARRAY.rows && info.cols === DEFAULT_ARRAY.cols && info.drain === info.cols) {
          // every binary convolution keeps the PEs >= 90% busy even at batch 1, the 1x1
          // projection shortcuts (K = 1-4 words per tile) included
          for (const s of b.layerStats().filter((l) => l.where === 'device')) {
            assert.ok(s.utilization! >= 0.9, `${s.name}: utilisation ${s.utilization}`);
          }
        }
        await b.dispose();
      }
    });
  });
});
