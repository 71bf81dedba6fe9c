/**
 * The backend contract: what every execution backend must do, as one suite run against
 * each of them (test/backends/contract.test.ts), the way Larq Compute Engine runs one set
 * of kernel tests over its kernel map. Each backend's own file keeps only what is
 * particular to it (ISA levels, chunking, cycle counts, C ABIs, …).
 *
 *  - registered under its name in the registry;
 *  - random binary layers (shapes, pads, pad values, strides, act bits, odd channels,
 *    pools, thresholds, tile edges): integers and bit-planes equal the reference's, on
 *    quantised inputs and on arbitrary bit patterns fed straight into the device segment;
 *  - random BMXNet-style models and the shipped models: identical logits;
 *  - BMXNet's own MNIST model on real digits (skipped visibly when ../shared is absent);
 *  - wrong inputs: one BitweaveError before any native call, never a crash;
 *  - per-layer statistics: one entry per op, in op order, accumulating across runs.
 */
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { availableBackends, BackendName, BackendOptions, createBackend } from '../../host/backends';
import { ReferenceBackend } from '../../host/backends/reference';
import { compile } from '../../host/compile/compile';
import { BitweaveError } from '../../host/core/errors';
import { packagePath } from '../../host/core/paths';
import { loadDataset } from '../../host/data/datasets';
import { readBnn } from '../../host/format/bnn';
import { importBmxnet } from '../../host/import/bmxnet';
import { Backend, TensorData } from '../../host/runtime/backend';
import { Session } from '../../host/runtime/session';
import { rng } from '../helpers/naive';
import { compareWithReference, kbitCases, kbitCombination } from '../helpers/backend-compare';
import { bconvModel, BconvCase, bitsOf, logitsOf, randomBits, randomInput, runSegment } from '../helpers/native-models';
import { randomImages, randomModel } from '../helpers/random-model';
import { bmxnetMnist, requireBmxnetMnist } from '../helpers/shared-models';
import { requireOrSkip } from '../helpers/skip';

export interface ContractOptions {
  name: BackendName;
  /** Throws (with the reason) when the backend cannot run on this machine: the suite then skips visibly. */
  available(): unknown;
  /** Set-up and tear-down around the suite (e.g. engine knobs). */
  setup?(): void;
  teardown?(): void;
  /** Options of the instances the tests rotate over (thread counts, chunk sizes, launch modes, array shapes). */
  variants: BackendOptions[];
  /** The instance for random layer `i` (default: variants round robin). */
  pick?(variants: Backend[], i: number, p: BconvCase): Backend;
  /** Random binary layers: generator, seed and count. */
  layers: { cases: fc.Arbitrary<BconvCase>; seed: number; runs: number };
  /**
   * Random integer layers (weights 1..4 x activations 1..4 bits, signed or not, signed
   * outputs): generator options, seed and count; absent for a backend that refuses them.
   */
  kbitLayers?: { seed: number; runs: number; outBits?: number[] };
  /** Checked after each random layer (e.g. the RTL's cycle model). */
  afterLayer?(backend: Backend, what: string): void;
  /** Random BMXNet-style models, and images per model. */
  models: number;
  /** Activation bits of the random models, in rotation (default 1 and 2). */
  modelBits?: number[];
  modelImages: number;
  /** Images of the shipped models run; 0 leaves it to the backend's own file. */
  shippedImages: number;
  /** BMXNet MNIST digits run; 0 leaves it to the backend's own file. */
  mnistDigits: number;
}

const SHIPPED = ['fashion-cnn.bnn', 'fashion-mlp.bnn'];

export function backendContract(o: ContractOptions): void {
  describe(`backend contract: ${o.name}`, function () {
    const variants: Backend[] = [];

    before(async function () {
      if (!requireOrSkip(this, () => o.available())) return;
      o.setup?.();
      for (const v of o.variants) variants.push(await createBackend(o.name, v));
    });

    after(async () => {
      for (const b of variants) await b.dispose();
      if (variants.length) o.teardown?.();
    });

    it(`is registered as "${o.name}"`, async () => {
      assert.ok(availableBackends().includes(o.name));
      const b = await createBackend(o.name, { threads: 1 });
      assert.equal(b.name, o.name);
      await b.dispose();
      await assert.rejects(createBackend(o.name, { threads: 0 }), BitweaveError);
    });

    if (o.layers.runs) it('random binary layers: integers and bit-planes equal the reference (shapes, pads, strides, act bits, odd channels, pools, thresholds, tile edges)', async () => {
      const cases = fc.sample(o.layers.cases, { seed: o.layers.seed, numRuns: o.layers.runs });
      const seen = { thresholds: 0, ints: 0, pooled: 0, kbit: 0, pad0: 0, pad1: 0, strided: 0, multiTile: 0 };
      for (const [i, p] of cases.entries()) {
        const r = rng(p.seed);
        const m = bconvModel(p, r);
        const batch = 1 + (i % 3);
        const b = o.pick ? o.pick(variants, i, p) : variants[i % variants.length];
        const what = `case ${i} ${JSON.stringify(p)}`;
        await compareWithReference(m, randomInput(r, batch, p.C * p.H * p.W, p.inBits), b, what);
        // arbitrary bit patterns (dense and sparse) straight into the device segment
        const dev = m.segments.findIndex((s) => s.kind === 'device');
        const ins = new Map<number, TensorData>([[m.segments[dev].inputs[0], randomBits(r, batch * p.H * p.W, p.C, p.inBits, [0.5, 0.05, 0.95][i % 3])]]);
        const ref = new ReferenceBackend();
        await ref.load(m);
        const want = await runSegment(ref, dev, ins, batch);
        const got = await runSegment(b, dev, ins, batch);
        for (let k = 0; k < want.length; k++) assert.deepEqual(bitsOf(got[k]), bitsOf(want[k]), `${what}: random bits`);
        o.afterLayer?.(b, what);
        seen.thresholds += p.outBits > 0 ? 1 : 0;
        seen.ints += p.outBits === 0 ? 1 : 0;
        seen.pooled += p.pool ? 1 : 0;
        seen.kbit += p.inBits > 1 ? 1 : 0;
        seen.pad0 += p.padBit === 0 && p.ph + p.pw > 0 ? 1 : 0;
        seen.pad1 += p.padBit === 1 && p.ph + p.pw > 0 ? 1 : 0;
        seen.strided += p.sh + p.sw > 2 ? 1 : 0;
        seen.multiTile += p.outC > 8 && p.H * p.W > 8 ? 1 : 0;
      }
      // the sample really covers the options
      for (const [k, v] of Object.entries(seen)) assert.ok(v >= 5, `coverage: only ${v} cases of ${k}`);
    });

    const kb = o.kbitLayers;
    if (kb) it(`${kb.runs} random integer layers: weights 1..4 x activations 1..4 bits, signed or not, signed outputs, pads, strides, pools (integers and bit-planes equal the reference)`, async function () {
      this.timeout(600_000);
      const cases = fc.sample(kbitCases({ outBits: kb.outBits }), { seed: kb.seed, numRuns: kb.runs });
      const combos = new Set<string>();
      const seen = { signedOut: 0, pooled: 0, thresholds: 0, ints: 0, padded: 0 };
      for (const [i, p] of cases.entries()) {
        const r = rng(p.seed);
        const m = bconvModel(p, r);
        const batch = 1 + (i % 3);
        const b = o.pick ? o.pick(variants, i, p) : variants[i % variants.length];
        const what = `integer case ${i} ${JSON.stringify(p)}`;
        if (i % 2 === 0) {
          await compareWithReference(m, randomInput(r, batch, p.C * p.H * p.W, p.inBits, p.inSigned), b, what);
        } else {
          // arbitrary bit patterns: every level, -2^(k-1) included
          const dev = m.segments.findIndex((s) => s.kind === 'device');
          const ins = new Map<number, TensorData>([[m.segments[dev].inputs[0], randomBits(r, batch * p.H * p.W, p.C, p.inBits)]]);
          const ref = new ReferenceBackend();
          await ref.load(m);
          await b.load(m);
          const want = await runSegment(ref, dev, ins, batch);
          const got = await runSegment(b, dev, ins, batch);
          for (let k = 0; k < want.length; k++) assert.deepEqual(bitsOf(got[k]), bitsOf(want[k]), `${what}: random bits`);
        }
        o.afterLayer?.(b, what);
        combos.add(kbitCombination(p));
        seen.signedOut += p.outSigned && p.outBits > 1 ? 1 : 0;
        seen.pooled += p.pool ? 1 : 0;
        seen.thresholds += p.outBits > 0 ? 1 : 0;
        seen.ints += p.outBits === 0 ? 1 : 0;
        seen.padded += p.ph + p.pw > 0 ? 1 : 0;
      }
      // the sample covers the pairings (7 activation kinds x 7 weight kinds) and the options
      assert.ok(combos.size >= Math.min(45, kb.runs / 4), `combinations seen: ${[...combos].sort().join(' ')}`);
      for (const [k, v] of Object.entries(seen)) if (k !== 'signedOut' || (kb.outBits ?? [2]).some((x) => x > 1)) assert.ok(v >= 3, `coverage: only ${v} cases of ${k}`);
    });

    const modelBits = o.modelBits ?? [1, 2];
    if (o.models) it(`random BMXNet-style models (${modelBits.join('- and ')}-bit): identical logits on every variant`, async function () {
      for (let i = 0; i < o.models; i++) {
        const actBits = modelBits[i % modelBits.length];
        const m = compile(randomModel({ seed: 300 + i, actBits }));
        const t = m.tensors[m.input];
        const x = randomImages(900 + i, o.modelImages, [t.c, t.h, t.w]);
        const want = await logitsOf(m, 'reference', x, { batch: 16 });
        const backendOptions = o.variants[i % o.variants.length];
        const s = await Session.create(m, { backend: o.name, batch: i % 2 ? o.modelImages : Math.ceil(o.modelImages / 3), backendOptions });
        assert.deepEqual(bitsOf((await s.run(x)).logits), bitsOf(want), `model ${i} (${actBits}-bit), ${JSON.stringify(backendOptions)}`);
        await s.close();
      }
    });

    if (o.shippedImages) it('the shipped models (models/*.bnn): identical logits on Fashion-MNIST test images', async function () {
      const ds = loadDataset('fashion-mnist', { limit: o.shippedImages });
      for (const f of SHIPPED) {
        const m = readBnn(packagePath('models', f));
        const want = await logitsOf(m, 'reference', ds.images);
        const got = await logitsOf(m, o.name, ds.images, { batch: 50, threads: 2 });
        assert.deepEqual(bitsOf(got), bitsOf(want), f);
      }
    });

    if (o.mnistDigits) it("BMXNet's MNIST model: identical logits on real digits", async function () {
      requireBmxnetMnist(this);
      const f = bmxnetMnist(64);
      const m = compile(importBmxnet(f.symbol, f.params));
      const ds = loadDataset('mnist', { limit: o.mnistDigits });
      const want = await logitsOf(m, 'reference', ds.images);
      assert.deepEqual(bitsOf(await logitsOf(m, o.name, ds.images, { threads: 2, batch: 37 })), bitsOf(want));
    });

    it('rejects wrong inputs with one BitweaveError, before any native call', async () => {
      const p: BconvCase = { H: 5, W: 5, C: 70, outC: 9, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, padBit: 1, inBits: 1, pool: null, outBits: 1, seed: 1 };
      const m = bconvModel(p, rng(1));
      const b = await createBackend(o.name, { threads: 1 });
      await assert.rejects(b.runSegment(0, new Map(), 1), BitweaveError, 'before load');
      await b.load(m);
      const dev = m.segments.findIndex((s) => s.kind === 'device');
      const bitsIn = m.segments[dev].inputs[0];
      const good = randomBits(rng(2), 2 * 25, 70, 1);
      assert.equal((await runSegment(b, dev, new Map([[bitsIn, good]]), 2)).length, 1);
      const bad: [string, Map<number, TensorData>, number, RegExp][] = [
        ['too short', new Map([[bitsIn, good.subarray(2)]]), 2, /has 198 elements, expected 200/],
        ['too long', new Map([[bitsIn, good]]), 1, /expected 100/],
        ['wrong type', new Map([[bitsIn, new Float32Array(200)]]), 2, /must be a Uint32Array/],
        ['missing', new Map(), 2, /missing/],
        ['batch 0', new Map([[bitsIn, good]]), 0, /batch/],
        ['batch 1.5', new Map([[bitsIn, good]]), 1.5, /batch/],
        ['batch 2^17', new Map([[bitsIn, good]]), 2 ** 17, /batch/],
      ];
      for (const [what, ins, batch, msg] of bad) {
        await assert.rejects(b.runSegment(dev, ins, batch), (e: Error) => e instanceof BitweaveError && msg.test(e.message), what);
      }
      await assert.rejects(b.runSegment(99, new Map(), 1), BitweaveError, 'segment out of range');
      await assert.rejects(b.runSegment(0, new Map([[0, new Float32Array(7)]]), 1), BitweaveError, 'host segment input of the wrong size');
      // a model that fails validation never reaches the device
      const broken = bconvModel(p, rng(1));
      (broken.ops[1] as { weight: Uint32Array }).weight = new Uint32Array(5);
      const fresh = await createBackend(o.name, { threads: 1 });
      await assert.rejects(fresh.load(broken), BitweaveError, 'invalid model');
      await fresh.dispose();
      await b.dispose();
      await assert.rejects(b.runSegment(dev, new Map([[bitsIn, good]]), 2), BitweaveError, 'after dispose');
    });

    it('per-layer statistics: one entry per op, in op order, with where, accumulating across runs', async () => {
      const m = compile(randomModel({ seed: 9 }));
      const s = await Session.create(m, { backend: o.name, batch: 2, threads: 1 });
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
  });
}
