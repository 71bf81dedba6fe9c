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
import { DEFAULT_ARRAY, OP_POOL, OP_THRESHOLD } from '../../host/array/params';
import { describeFields } from '../../host/array/descriptor';
import { encodeSegment, LayerProgram } from '../../host/array/program';
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

  it('useful MACs count only the accumulator pixels some pool window reads: utilisation of the tile phase never exceeds 1', () => {
    const r = rng(5);
    const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
    const win = (n: number, k: number, st: number, p: number) => Math.floor((n + 2 * p - k) / st) + 1;
    let skipped = 0;
    for (let i = 0; i < 400; i++) {
      const [kh, kw, pkh, pkw] = [int(1, 3), int(1, 3), int(1, 3), int(1, 3)];
      const [psh, psw, pph, ppw] = [int(1, 4), int(1, 4), int(0, pkh - 1), int(0, pkw - 1)];
      const [inH, inW, inC, outC] = [int(kh, 9), int(kw, 9), int(1, 130), int(1, 40)];
      const accH = win(inH, kh, 1, 0), accW = win(inW, kw, 1, 0);
      if (accH + 2 * pph < pkh || accW + 2 * ppw < pkw) continue;
      const f = {
        OPCODE: OP_POOL | OP_THRESHOLD, IN_H: inH, IN_W: inW, IN_C: inC, IN_WORDS: Math.ceil(inC / 64), IN_PLANES: 1, KH: kh, KW: kw, SH: 1, SW: 1,
        PH: 0, PW: 0, PAD_BIT: 0, OUT_C: outC, ACC_H: accH, ACC_W: accW, OUT_H: win(accH, pkh, psh, pph), OUT_W: win(accW, pkw, psw, ppw),
        POOL_KH: pkh, POOL_KW: pkw, POOL_SH: psh, POOL_SW: psw, POOL_PH: pph, POOL_PW: ppw, OUT_BITS: 1, TAIL: 0,
        IN_OFF: 0, OUT_OFF: 0, W_OFF: 0, T_OFF: 0, F_OFF: 0, W_BITS: 1,
      };
      const d = describeFields(f);
      // the accumulator pixels some pool window reads, counted one by one
      const read = (acc: number, out: number, k: number, st: number, p: number) =>
        Array.from({ length: acc }, (_, x) => x).filter((x) => Array.from({ length: out }, (_, o) => o).some((o) => x >= o * st - p && x < o * st - p + k)).length;
      assert.equal(d.macs, outC * read(accH, f.OUT_H, pkh, psh, pph) * read(accW, f.OUT_W, pkw, psw, ppw) * kh * kw * inC, JSON.stringify(f));
      // a pool that skips accumulator pixels (stride > window, or the last ones) computes fewer MACs than the map holds
      if (d.macs < outC * accH * accW * kh * kw * inC) skipped++;
      for (const images of [1, 3]) {
        const l = programCycles({ layers: 1, layerDescriptors: [d] } as unknown as LayerProgram, images, DEFAULT_ARRAY)[0];
        assert.ok(l.tileCycles >= l.tiles * l.k, JSON.stringify(f));
        assert.ok(d.macs * images <= DEFAULT_ARRAY.rows * DEFAULT_ARRAY.cols * 64 * l.tileCycles, JSON.stringify(f));
      }
    }
    assert.ok(skipped > 10, `only ${skipped} layers whose pool skips accumulator pixels`);
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
