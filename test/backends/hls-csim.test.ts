/**
 * The HLS kernel (hls/) under C-simulation: its per-block test benches, and the hls-csim
 * backend against the reference backend — integers and logits bit-identical for every op
 * option, on the header's array shape and on odd shapes that move every tile edge.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { ReferenceBackend } from '../../host/backends/reference';
import { HlsCsimBackend, threadSlices } from '../../host/backends/hls-csim';
import { Session } from '../../host/runtime/session';
import { hlsLib, HLS_OK } from '../../host/backends/hls-csim/ffi';
import { encodeSegment } from '../../host/array/program';
import { programCycles, scheduleCycles } from '../../host/array/cycles';
import { DEFAULT_ARRAY, DESC_FIELDS, FIELD } from '../../host/array/params';
import { decodeDescriptor, descriptorProblem, hlsLimits } from '../../host/array/descriptor';
import { BitweaveError } from '../../host/core/errors';
import { loadDataset } from '../../host/data/datasets';
import { readBnn } from '../../host/format/bnn';
import { TensorData } from '../../host/runtime/backend';
import { rng } from '../helpers/naive';
import { bconvCases, compareWithReference as compareModel, kbitCases } from '../helpers/backend-compare';
import { bconvModel, BconvCase, bitsOf, logitsOf, randomBits, randomInput } from '../helpers/native-models';
import { packageRoot } from '../../host/core/paths';
import { requireOrSkip } from '../helpers/skip';

const ROOT = packageRoot();

const bconvCase = bconvCases({ inBits: [1, 1, 2] });

describe('HLS kernel (C-simulation)', function () {
  before(function () {
    if (!requireOrSkip(this, () => hlsLib())) return;
  });

  it('per-block test benches pass (feeder, PE array, output unit, kernel + sequencer)', function () {
    const benches = ['tb_feeder', 'tb_pe_array', 'tb_output_unit', 'tb_kernel'];
    for (const b of benches) {
      const exe = path.join(ROOT, 'build', 'hls', b);
      assert.ok(fs.existsSync(exe), `${exe} missing (make csim builds it)`);
      const out = execFileSync(exe, { encoding: 'utf8' });
      assert.match(out, new RegExp(`^${b}: PASS \\(\\d+ cases\\)`, 'm'), out);
    }
  });

  it('m_axi depths equal the C test bench\'s buffer sizes (depths.h); program and params share one bundle with one set of options', function () {
    const hls = path.join(ROOT, 'hls');
    const top = fs.readFileSync(path.join(hls, 'bitweave_array.cpp'), 'utf8');
    const depths = Object.fromEntries([...fs.readFileSync(path.join(hls, 'depths.h'), 'utf8').matchAll(/#define (BW_DEPTH_\w+) (\d+)/g)].map((m) => [m[1], Number(m[2])]));
    const pragma = (port: string) => {
      const m = new RegExp(`#pragma HLS INTERFACE m_axi port = ${port} (.*)`).exec(top);
      assert.ok(m, port);
      return m[1];
    };
    const depthOf = (port: string) => /depth = (\w+)/.exec(pragma(port))![1];
    assert.deepEqual(['program', 'params', 'weights', 'arena'].map(depthOf), ['BW_DEPTH_GMEM0', 'BW_DEPTH_GMEM0', 'BW_DEPTH_WEIGHTS', 'BW_DEPTH_ARENA']);
    assert.ok(Object.values(depths).length === 3 && Object.values(depths).every((v) => v > 0), JSON.stringify(depths));
    // the bench (run_hls.tcl's csim / cosim bench) allocates its arrays at these sizes
    const tb = fs.readFileSync(path.join(hls, 'tb', 'tb_kernel.cpp'), 'utf8');
    for (const name of ['BW_DEPTH_GMEM0', 'BW_DEPTH_WEIGHTS', 'BW_DEPTH_ARENA']) assert.match(tb, new RegExp(`\\(${name}\\)`), name);
    assert.equal(pragma('program').replace(/port = \w+ /, ''), pragma('params').replace(/port = \w+ /, ''));
  });

  it('the kernel schedules exactly the cycle model\'s tiles (random layers with pools and strides, shipped models; every compiled shape; batches 1, 3, 17)', function () {
    const lib = hlsLib();
    const models = fc.sample(bconvCase, { seed: 5, numRuns: 40 }).map((bc) => bconvModel(bc, rng(bc.seed)));
    models.push(readBnn(path.join(ROOT, 'models', 'fashion-cnn.bnn')), readBnn(path.join(ROOT, 'models', 'fashion-mlp.bnn')));
    let pools = 0;
    for (const m of models) {
      m.segments.forEach((g, si) => {
        if (g.kind !== 'device') return;
        const prog = encodeSegment(m, si, DEFAULT_ARRAY);
        pools += prog.layerDescriptors.filter((d) => d.pool).length;
        for (const shape of lib.variants) {
          for (const images of [1, 3, 17]) {
            const want = programCycles(prog, images, { ...DEFAULT_ARRAY, ...shape }).map((l) => l.tiles);
            assert.deepEqual(lib.tiles(shape.rows, shape.cols, prog.descriptors, prog.layers, images), want, `${shape.rows}x${shape.cols}, ${images} images`);
          }
        }
      });
    }
    assert.ok(pools >= 10, `only ${pools} pool layers`);
  });

  it('the C library accepts exactly the descriptors checkProgram accepts (mutated programs)', function () {
    this.timeout(60000);
    const lib = hlsLib();
    const limits = hlsLimits({ ...DEFAULT_ARRAY, maxFmWords: lib.info.maxFmWords, maxKWords: lib.info.maxKWords, maxOutC: lib.info.maxOutC });
    const r = rng(11);
    const pick = <T,>(a: readonly T[]): T => a[Math.floor(r() * a.length)];
    let agreed = 0;
    let rejected = 0;
    // binary layers, and integer layers (W_BITS, signedness bits)
    const cases = [...fc.sample(bconvCase, { seed: 11, numRuns: 40 }), ...fc.sample(kbitCases(), { seed: 12, numRuns: 30 })];
    for (const bc of cases) {
      const m = bconvModel(bc, rng(bc.seed));
      const si = m.segments.findIndex((g) => g.kind === 'device');
      const prog = encodeSegment(m, si, DEFAULT_ARRAY);
      const buffers = { weightWords: prog.weights.length / 2, paramEntries: prog.params.length, arenaWords: prog.arenaWords };
      for (let k = 0; k < 60; k++) {
        const d = prog.descriptors.slice();
        for (let n = 1 + Math.floor(r() * 2); n > 0; n--) {
          const f = pick(DESC_FIELDS);
          const v = d[FIELD[f]];
          d[FIELD[f]] = pick([0, 1, 2, 3, 7, 8, 9, 63, 64, 65, 4096, 4097, 65535, 65536, 65537, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, v + 1, Math.max(0, v - 1), v * 2, Math.floor(r() * 2 ** 32)]);
        }
        const ts = descriptorProblem(decodeDescriptor(d, 0), limits, buffers);
        const { rc, msg } = lib.check(d, prog.layers, buffers.weightWords, buffers.paramEntries, buffers.arenaWords);
        assert.equal(rc === HLS_OK, ts === null, `TypeScript: ${ts ?? 'accepts'}; C: ${rc === HLS_OK ? 'accepts' : msg} (${Array.from(d).join(',')})`);
        agreed++;
        if (ts !== null) rejected++;
      }
    }
    assert.ok(rejected > agreed / 2 && rejected < agreed, `a useful mix: ${rejected} of ${agreed} rejected`);
  });

  it('the library reports the generated header\'s parameters', () => {
    const i = hlsLib().info;
    assert.deepEqual([i.rows, i.cols, i.word, i.accBits], [DEFAULT_ARRAY.rows, DEFAULT_ARRAY.cols, DEFAULT_ARRAY.word, DEFAULT_ARRAY.accBits]);
    assert.equal(i.descWords, Object.keys(FIELD).length);
  });

  it('binary dense on wide inputs (kernel = whole map), batches 1 and 9', async () => {
    const hls = new HlsCsimBackend({ threads: 2 });
    for (const [i, [H, C, outC, batch]] of [[1, 1000, 1000, 1], [4, 64, 1000, 9], [3, 200, 130, 5]].entries()) {
      const p: BconvCase = { H, W: H, C, outC, kh: H, kw: H, sh: 1, sw: 1, ph: 0, pw: 0, padBit: 1, inBits: 1, pool: null, outBits: i % 2, seed: i };
      const r = rng(100 + i);
      await compareModel(bconvModel(p, r), randomInput(r, batch, H * H * C, 1), hls, `dense ${H}x${H}x${C}->${outC}`);
    }
  });

  it('models/fashion-cnn.bnn on all 10,000 Fashion-MNIST test images (BITWEAVE_LONG=1)', async function () {
    if (!process.env.BITWEAVE_LONG) {
      console.log('      SKIPPED: set BITWEAVE_LONG=1 (make test-long) for the full test set');
      this.skip();
    }
    this.timeout(600000);
    const m = readBnn(path.join(ROOT, 'models', 'fashion-cnn.bnn'));
    const ds = loadDataset('fashion-mnist');
    const want = await logitsOf(m, 'reference', ds.images, { threads: 2 });
    assert.deepEqual(bitsOf(await logitsOf(m, 'hls-csim', ds.images, { threads: 2 })), bitsOf(want));
  });

  it('reports per-layer device time, modelled cycles and utilisation', async () => {
    const m = readBnn(path.join(ROOT, 'models', 'fashion-cnn.bnn'));
    const b = new HlsCsimBackend({ threads: 1 });
    await b.load(m);
    const x = new Float32Array(4 * 28 * 28).fill(0.5);
    const ref = new ReferenceBackend();
    await ref.load(m);
    let tensors = new Map<number, TensorData>([[m.input, x]]);
    for (let si = 0; si < m.segments.length; si++) {
      const outs = await b.runSegment(si, new Map(m.segments[si].inputs.map((t) => [t, tensors.get(t)!])), 4);
      tensors = new Map([...tensors, ...outs]);
    }
    const dev = b.layerStats().filter((s) => s.where === 'device');
    assert.equal(dev.length, 2);
    for (const s of dev) {
      assert.ok(s.cycles! > 0 && s.utilization! > 0 && s.utilization! <= 1, JSON.stringify(s));
      assert.equal(s.cyclesKind, 'schedule');
    }
    // qconvolution0, the RTL's schedule: 4 images x 8x8 accumulator pixels (2x2 pools) = 256
    // stream entries = 32 slots, walked once per group of 8 channels (8 groups): 256 tiles of
    // K = 25 steps, period P = max(K, COLS) = 25; the tile phase is (tiles - 1)·P + K
    assert.equal(dev[0].cycles, 255 * 25 + 25);
    assert.equal(dev[0].cycles, programCycles(encodeSegment(m, m.segments.findIndex((g) => g.kind === 'device'), DEFAULT_ARRAY), 4, DEFAULT_ARRAY)[0].tileCycles);
    await b.dispose();
  });

  it('splits a batch over threads in slices of at least COLS images, each its own pixel stream (cycles per slice)', async () => {
    const m = readBnn(path.join(ROOT, 'models', 'fashion-cnn.bnn'));
    const si = m.segments.findIndex((g) => g.kind === 'device');
    const prog = encodeSegment(m, si, DEFAULT_ARRAY);
    assert.deepEqual(threadSlices(20, 3), [7, 7, 6]);
    for (const [images, want] of [[20, [10, 10]], [7, [7]], [40, [10, 10, 10, 10]]] as const) {
      const ds = loadDataset('fashion-mnist', { limit: images });
      const ref = await logitsOf(m, 'reference', ds.images);
      const s = await Session.create(m, { backend: 'hls-csim', threads: 4, batch: images });
      const got = await s.run(ds.images);
      assert.deepEqual(bitsOf(got.logits), bitsOf(ref));
      const dev = s.stats().layers.filter((l) => l.where === 'device');
      await s.close();
      assert.deepEqual(dev.map((l) => l.cycles), scheduleCycles(prog, [...want], DEFAULT_ARRAY), `${images} images`);
    }
  });

  it('rejects wrong inputs and over-sized layers with BitweaveError; the library refuses corrupt programs', async () => {
    const p: BconvCase = { H: 5, W: 5, C: 70, outC: 9, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, padBit: 1, inBits: 1, pool: null, outBits: 1, seed: 1 };
    const m = bconvModel(p, rng(1));
    const b = new HlsCsimBackend({ threads: 1 });
    await assert.rejects(b.runSegment(0, new Map(), 1), BitweaveError, 'before load');
    await b.load(m);
    const dev = m.segments.findIndex((s) => s.kind === 'device');
    const bitsIn = m.segments[dev].inputs[0];
    const good = randomBits(rng(2), 2 * 25, 70, 1);
    const bad: [string, Map<number, TensorData>, number, RegExp][] = [
      ['too short', new Map([[bitsIn, good.subarray(2)]]), 2, /has 198 elements, expected 200/],
      ['wrong type', new Map([[bitsIn, new Float32Array(200)]]), 2, /must be a Uint32Array/],
      ['missing', new Map(), 2, /missing/],
      ['batch 0', new Map([[bitsIn, good]]), 0, /batch/],
    ];
    for (const [what, ins, batch, msg] of bad) {
      await assert.rejects(b.runSegment(dev, ins, batch), (e: Error) => e instanceof BitweaveError && msg.test(e.message), what);
    }
    assert.throws(() => new HlsCsimBackend({ array: { rows: 7, cols: 7 } }), /not compiled into the library/);
    // a layer with more output channels than the output unit holds: one clear error at load
    const wide: BconvCase = { ...p, H: 1, W: 1, C: 64, outC: hlsLib().info.maxOutC + 1, kh: 1, kw: 1, ph: 0, pw: 0, outBits: 0 };
    await assert.rejects(new HlsCsimBackend().load(bconvModel(wide, rng(3))), /hls-csim backend: layer 'bconv\d+': \d+ output channels; the HLS kernel holds \d+/);
    // the C side re-checks descriptors: corrupt offsets are an error code, never a crash
    const prog = encodeSegment(m, dev, { ...DEFAULT_ARRAY });
    const lib = hlsLib();
    const arena = new Uint32Array(prog.arenaWords * 2);
    const corrupt = (f: keyof typeof FIELD, v: number) => {
      const d = prog.descriptors.slice();
      d[FIELD[f]] = v;
      return lib.run(DEFAULT_ARRAY.rows, DEFAULT_ARRAY.cols, d, prog.layers, prog.weights, prog.params, arena, prog.arenaWords, 1, 1);
    };
    assert.equal(corrupt('OUT_C', 9).rc, HLS_OK);
    for (const [f, v, msg] of [['IN_OFF', 1e6, /input region outside the arena/], ['W_OFF', 2 ** 31, /weights outside/], ['OUT_OFF', 0, /overlaps|outside/],
      ['T_OFF', 4e9, /thresholds outside/], ['IN_H', 0, /IN_H out of range/], ['KH', 9, /ACC_H|padding/], ['TAIL', 1, /TAIL/]] as const) {
      const { rc, msg: m2 } = corrupt(f, v);
      assert.notEqual(rc, HLS_OK, f);
      assert.match(m2, msg, f);
    }
    assert.notEqual(lib.run(DEFAULT_ARRAY.rows, DEFAULT_ARRAY.cols, prog.descriptors, prog.layers, prog.weights, prog.params, arena, prog.arenaWords, 2, 1).rc, HLS_OK, 'arena for one image, two images asked');
    await b.dispose();
  });
});
