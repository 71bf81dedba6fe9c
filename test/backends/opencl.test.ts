/**
 * The opencl backend on PoCL, beyond the backend contract: the ABI PoCL reports, wide dense
 * layers, kernels built for other array sizes, device times per layer and per launch,
 * concurrent runs, a batch split across two devices, prebuilt binaries, and the error paths
 * (no platform, no device, bad binary, device memory too small) as one-line BitweaveErrors
 * and CLI exit code 1, never a native crash.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { ARRAY_KERNELS, ArrayKernelRole, arrayArg, declareArg, KERNEL_ARGS, KERNEL_NAME } from '../../host/array/kernel-abi';
import { scheduleCycles } from '../../host/array/cycles';
import { DEFAULT_ARRAY } from '../../host/array/params';
import { OPENCL_BUFFERS } from '../../host/array/limits';
import { encodeSegment } from '../../host/array/program';
import { OpenCLBackend, rtlLaunchArgs } from '../../host/backends/opencl';
import { AXI_KERNEL_ARGS } from '../../host/array/axi-kernel';
import { kernelSource } from '../../host/array/sources';
import { ReferenceBackend } from '../../host/backends/reference';
import { compile } from '../../host/compile/compile';
import { loadDataset } from '../../host/data/datasets';
import { readBnn, writeBnn } from '../../host/format/bnn';
import { writeNpy } from '../../host/data/npy';
import { CallEvent, Context, OpenCLUnavailableError, platforms, Program, selectDevice, traceCalls } from '../../host/opencl';
import { emitVitisProject } from '../../host/build/vitis';
import { loadBoard } from '../../host/boards';
import { TensorData } from '../../host/runtime/backend';
import { createBackend } from '../../host/backends';
import { loadModel } from '../../host/runtime/load';
import { Session } from '../../host/runtime/session';
import { rng } from '../helpers/naive';
import { bconvCases, compareWithReference as compareModel, toNHWC } from '../helpers/backend-compare';
import {
  bconvModel, BconvCase, bits, bitsOf, f32, i32, logitsOf, ModelBuilder, randomBits, randomInput, } from '../helpers/native-models';
import { randomImages, randomModel } from '../helpers/random-model';
import { packageRoot } from '../../host/core/paths';
import { assertUserError, bitweave, nodeScript } from '../helpers/run';
import { requireOrSkip } from '../helpers/skip';

const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => bitweave(args, { env });
const child = (script: string, env: NodeJS.ProcessEnv) => nodeScript(script, { env });

const ROOT = packageRoot();

const bconvCase = bconvCases({ channels: fc.oneof(fc.integer({ min: 1, max: 9 }), fc.constantFrom(15, 16, 17, 63, 64, 65, 127, 128, 130), fc.integer({ min: 60, max: 140 })), inBits: [1, 1, 2, 3], asymmetricPool: true });

describe('opencl backend on PoCL', function () {
  let ocl: OpenCLBackend;

  before(function () {
    if (!requireOrSkip(this, () => platforms(), OpenCLUnavailableError)) return;
    ocl = new OpenCLBackend({ threads: 2 });
  });

  after(async () => {
    await ocl?.dispose();
  });

  it('is registered as "opencl" and PoCL reports the ABI argument names and types', async () => {
    const b = await createBackend('opencl', { threads: 1, device: 'pthread' });
    assert.equal(b.name, 'opencl');
    await b.dispose();
    const dev = selectDevice();
    const ctx = Context.create(dev);
    const prog = Program.fromSource(ctx, kernelSource(), { options: '-cl-kernel-arg-info' });
    // the FIFO build: the three array kernels and no channel marker
    assert.deepEqual(prog.kernelNames().sort(), Object.values(ARRAY_KERNELS).map((k) => k.name).sort());
    for (const role of Object.keys(ARRAY_KERNELS) as ArrayKernelRole[]) {
      const spec = ARRAY_KERNELS[role];
      const k = prog.createKernel(spec.name);
      try {
        assert.equal(k.numArgs, spec.args.length, spec.name);
        spec.args.forEach((a, i) => {
          assert.equal(arrayArg(role, a.name), i);
          assert.deepEqual(k.argInfo(i), { name: a.name, typeName: a.buffer ? `${a.type}*` : a.type, address: a.buffer ? 'global' : 'private' }, `${spec.name} argument ${i}`);
        });
      } finally {
        k.release();
      }
    }
    [prog, ctx].forEach((h) => h.release());
  });

  it('slots replayed from the PE array\'s store or streamed once per channel group; weights from its on-chip copy or streamed per tile', async () => {
    const replay = OPENCL_BUFFERS.replaySteps;
    // 3x3 windows of 29 words (261 k-steps) and of 28 words at 1 bit (252); 2-bit inputs double them
    const cases: BconvCase[] = [
      { H: 4, W: 4, C: 64 * 29, outC: 20, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, padBit: 1, inBits: 1, pool: null, outBits: 1, seed: 31 },
      { H: 4, W: 4, C: 64 * 28, outC: 20, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, padBit: 0, inBits: 1, pool: null, outBits: 2, seed: 32 },
      { H: 3, W: 3, C: 64 * 15, outC: 17, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, padBit: 1, inBits: 2, pool: null, outBits: 0, seed: 33 },
      // 40 groups x 108 wide rows: beyond the PE array's weight store, streamed per tile
      { H: 3, W: 3, C: 64 * 12, outC: 8 * 40, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, padBit: 1, inBits: 1, pool: null, outBits: 1, seed: 34 },
    ];
    assert.ok(40 * 9 * 12 * DEFAULT_ARRAY.rows > OPENCL_BUFFERS.weightWords, 'a layer beyond the weight store');
    assert.ok(9 * 29 > replay && 9 * 28 <= replay && 2 * 9 * 15 > replay, 'both sides of the store size');
    for (const p of cases) {
      const r = rng(p.seed);
      await compareModel(bconvModel(p, r), randomInput(r, 3, p.C * p.H * p.W, p.inBits), ocl, `C=${p.C}, ${p.inBits}-bit input`);
    }
  });

  it('binary dense layers (kernel = whole map), wide and narrow, batch 1 and 40', async () => {
    for (const [i, [H, C, outC, batch]] of [[1, 1000, 1000, 1], [4, 64, 300, 40], [3, 200, 130, 5], [2, 700, 10, 40]].entries()) {
      const p: BconvCase = { H, W: H, C, outC, kh: H, kw: H, sh: 1, sw: 1, ph: 0, pw: 0, padBit: 1, inBits: 1 + (i % 2), pool: null, outBits: i % 2, seed: i };
      const r = rng(200 + i);
      await compareModel(bconvModel(p, r), randomInput(r, batch, H * H * C, p.inBits), ocl, `dense ${H}x${H}x${C}->${outC}`);
    }
  });

  it('kernels built for other array sizes (ROWS x COLS = 1x1, 4x3, 16x5, 64x2) give the same results', async () => {
    const cases = fc.sample(bconvCase, { seed: 5, numRuns: 6 });
    for (const [rows, cols] of [[1, 1], [4, 3], [16, 5], [64, 2]]) {
      const b = new OpenCLBackend({ threads: 1, array: { ...DEFAULT_ARRAY, rows, cols }, chunk: 3 });
      try {
        for (const [i, p] of cases.entries()) {
          const r = rng(p.seed);
          await compareModel(bconvModel(p, r), randomInput(r, 2 + (i % 3), p.C * p.H * p.W, p.inBits), b, `${rows}x${cols} case ${i}`);
        }
      } finally {
        await b.dispose();
      }
    }
  });

  it('reports device time from profiling events: per layer by default, per segment (labelled) with oneLaunch', async () => {
    const m = compile(randomModel({ seed: 11, actBits: 1 }));
    const t = m.tensors[m.input];
    const x = randomImages(12, 10, [t.c, t.h, t.w]);
    const devOps = m.segments.filter((s) => s.kind === 'device').flatMap((s) => Array.from({ length: s.end - s.start }, (_, k) => s.start + k));
    assert.ok(devOps.length >= 2, 'a segment of several binary layers');
    for (const oneLaunch of [false, true]) {
      const b = new OpenCLBackend({ threads: 1, oneLaunch });
      await b.load(m);
      const ref = new ReferenceBackend();
      await ref.load(m);
      const tensors = new Map<number, TensorData>([[m.input, toNHWC(x, 10, m)]]);
      for (let si = 0; si < m.segments.length; si++) {
        const ins = new Map(m.segments[si].inputs.map((id) => [id, tensors.get(id)!] as const));
        for (const [id, d] of await b.runSegment(si, ins, 10)) tensors.set(id, d);
      }
      const dev = b.layerStats().filter((s) => s.where === 'device');
      if (!oneLaunch) {
        assert.deepEqual(dev.map((s) => s.op), devOps);
        assert.deepEqual(dev.map((s) => s.name), devOps.map((o) => m.opNames[o]));
      } else {
        const segs = m.segments.filter((s) => s.kind === 'device');
        assert.deepEqual(dev.map((s) => s.op), segs.map((s) => s.start));
        for (const s of dev) assert.match(s.name, /^segment \d+ \(\d+ layers, one launch per layer\): /, 'FIFO streams: launched per layer, timed per segment');
      }
      assert.ok(dev.every((s) => s.ms > 0 && Number.isFinite(s.ms)), JSON.stringify(dev));
      // the cycle model's tile phase for the 10 images (one chunk: one pixel stream), and utilisation in (0, 1]
      const work = m.segments.flatMap((g, si) => (g.kind !== 'device' ? [] : scheduleCycles(encodeSegment(m, si, DEFAULT_ARRAY), [10], DEFAULT_ARRAY)));
      assert.equal(dev.reduce((a, s) => a + s.cycles!, 0), work.reduce((a, c) => a + c, 0));
      assert.ok(dev.every((s) => s.utilization! > 0 && s.utilization! <= 1 && s.cyclesKind === 'schedule'), JSON.stringify(dev));
      assert.ok(b.layerStats().some((s) => s.where === 'host'), 'host layers from the native engine');
      await b.dispose();
    }
  });

  it('refuses a second device run while one is in flight (the arenas are shared)', async () => {
    const p: BconvCase = { H: 5, W: 5, C: 70, outC: 9, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, padBit: 1, inBits: 1, pool: null, outBits: 1, seed: 1 };
    const m = bconvModel(p, rng(1));
    const b = new OpenCLBackend({ threads: 1 });
    await b.load(m);
    const dev = m.segments.findIndex((s) => s.kind === 'device');
    const bitsIn = m.segments[dev].inputs[0];
    const good = randomBits(rng(2), 2 * 25, 70, 1);
    const first = b.runSegment(dev, new Map([[bitsIn, good]]), 2);
    await assert.rejects(b.runSegment(dev, new Map([[bitsIn, good]]), 2), /still running/, 'concurrent calls share the arenas');
    await first;
    await b.dispose();
  });

  it('Session pipelines batches: the next batch\'s host segments overlap the device, logits identical to one batch at a time', async () => {
    const m = await loadModel(path.join(ROOT, 'models', 'fashion-cnn.bnn'));
    const x = randomImages(81, 40, [1, 28, 28]);
    const runWith = async (pipeline: boolean) => {
      const s = await Session.create(m, { backend: 'opencl', batch: 4, threads: 2, pipeline });
      const seen: number[] = [];
      const r = await s.run(x, { onBatch: (done) => seen.push(done) });
      const st = s.stats();
      await s.close();
      return { logits: r.logits, st, seen };
    };
    const one = await runWith(false);
    const two = await runWith(true);
    assert.deepEqual(bitsOf(two.logits), bitsOf(one.logits));
    assert.deepEqual(two.seen, Array.from({ length: 10 }, (_, i) => 4 * (i + 1)), 'progress in order');
    assert.equal(one.st.pipeline.depth, 1);
    assert.equal(one.st.pipeline.overlapMs, 0, 'one batch at a time never overlaps');
    assert.equal(two.st.pipeline.depth, 2);
    assert.ok(two.st.pipeline.overlapMs > 0, `host and device overlapped (${JSON.stringify(two.st.pipeline)})`);
    assert.ok(two.st.pipeline.overlapMs <= Math.min(two.st.pipeline.hostMs, two.st.pipeline.deviceMs));
    assert.equal(two.st.timeline.length, m.segments.length, 'the last batch\'s segments');
    // a failing batch fails the run once every batch in flight has settled
    const s = await Session.create(m, { backend: 'opencl', batch: 4, threads: 2 });
    const bad = (s as unknown as { backend: { runSegment: (...a: unknown[]) => Promise<unknown> } }).backend;
    const real = bad.runSegment.bind(bad);
    let calls = 0;
    bad.runSegment = async (...a: unknown[]) => {
      if (++calls === 5) throw new Error('injected failure');
      return real(...a);
    };
    await assert.rejects(s.run(x), /injected failure/);
    bad.runSegment = real;
    assert.deepEqual(bitsOf((await s.run(x)).logits), bitsOf(one.logits), 'the session still works');
    await s.close();
  });

  it('splits a batch across two PoCL devices (POCL_DEVICES="pthread pthread"), results in order', () => {
    const r = child(
      `(async () => {
         const { compile } = require('./dist/host/compile/compile');
         const { randomModel, randomImages } = require('./dist/test/helpers/random-model');
         const { logitsOf } = require('./dist/test/helpers/native-models');
         const { OpenCLBackend } = require('./dist/host/backends/opencl');
         const m = compile(randomModel({ seed: 77, actBits: 2 }));
         const t = m.tensors[m.input];
         const x = randomImages(78, 41, [t.c, t.h, t.w]);
         const want = await logitsOf(m, 'reference', x);
         const b = new OpenCLBackend({ chunk: 4 });
         await b.load(m);
         const devices = b.deviceNames;
         await b.dispose();
         const got = await logitsOf(m, 'opencl', x, { batch: 41 });
         const same = Buffer.compare(Buffer.from(got.buffer), Buffer.from(want.buffer)) === 0;
         console.log(JSON.stringify({ devices, same }));
       })().catch((e) => { console.error(e); process.exit(3); });`,
      { POCL_DEVICES: 'pthread pthread', BITWEAVE_OPENCL_CHUNK: '4' },
    );
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.devices.length, 2, r.stdout);
    assert.equal(out.same, true, 'logits equal the reference');
  });

  it('loads a prebuilt kernel binary, and names CL_INVALID_BINARY for a bad one (CLI exit 1)', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bw-ocl-'));
    try {
      const dev = selectDevice();
      const ctx = Context.create(dev);
      const prog = Program.fromSource(ctx, kernelSource());
      const bin = path.join(tmp, 'array.pocl');
      fs.writeFileSync(bin, prog.binaries()[0].binary);
      [prog, ctx].forEach((h) => h.release());
      const m = await loadModel(path.join(ROOT, 'models/fashion-mlp.bnn'));
      const ds = loadDataset('fashion-mnist', { limit: 20 });
      const b = new OpenCLBackend({ binary: bin, device: dev.name });
      const want = await logitsOf(m, 'reference', ds.images);
      await b.load(m);
      await b.dispose();
      process.env.BITWEAVE_OPENCL_BINARY = bin;
      try {
        assert.deepEqual(bitsOf(await logitsOf(m, 'opencl', ds.images)), bitsOf(want), 'from the binary');
      } finally {
        delete process.env.BITWEAVE_OPENCL_BINARY;
      }
      const bad = path.join(tmp, 'bad.xclbin');
      fs.writeFileSync(bad, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 131 + 7) & 255)));
      const args = ['eval', 'models/fashion-mlp.bnn', '--dataset', 'fashion-mnist', '--limit', '4', '--backend', 'opencl'];
      assertUserError(cli(args, { BITWEAVE_OPENCL_BINARY: bad }), /opencl backend: loading kernel binary .*bad\.xclbin.*CL_INVALID_BINARY/);
      assertUserError(cli(args, { BITWEAVE_OPENCL_BINARY: path.join(tmp, 'missing.aocx') }), /cannot read kernel binary .*missing\.aocx: ENOENT/);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('no platform, no matching device: one line naming what was searched (CLI exit 1)', () => {
    const args = ['eval', 'models/fashion-mlp.bnn', '--dataset', 'fashion-mnist', '--limit', '4', '--backend', 'opencl'];
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'bw-icd-'));
    try {
      assertUserError(cli(args, { OCL_ICD_VENDORS: empty }), /opencl backend: searched every OpenCL platform .* for any device: no OpenCL platform found.*make setup/);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
    assertUserError(cli([...args, '--device', 'no-such-fpga']), /devices named like 'no-such-fpga'.*no OpenCL device matches name="no-such-fpga" \(devices present: /);
    assertUserError(cli(args, { BITWEAVE_OPENCL_DEVICE: 'no-such-fpga' }), /no-such-fpga/);
  });

  it('a model whose arena does not fit device memory is CL_MEM_OBJECT_ALLOCATION_FAILURE before any allocation (CLI exit 1)', () => {
    // input 1024x1024x1 -> bits -> nine bconv 1x1 of 256 channels (32 MiB maps, the most a
    // tensor may hold) -> bconv 32x32 stride 32 -> 32x32 ints: a 296 MiB arena per image,
    // and PoCL with POCL_MEMORY_LIMIT=1 allows 256 MiB buffers
    const b = new ModelBuilder(1024, 1024, 1);
    let y = b.add({ op: 'binarize', in: 0, bits: 1 }, bits(1024, 1024, 1, 1));
    const common = { sh: 1, sw: 1, ph: 0, pw: 0, padBit: 1 as const, inBits: 1, pool: null };
    for (let l = 0; l < 9; l++) {
      const inC = l === 0 ? 1 : 256;
      const w = new Uint32Array(256 * Math.ceil(inC / 64) * 2);
      if (l === 0) for (let o = 0; o < 256; o++) w[o * 2] = o & 1;
      const ep = { kind: 'threshold' as const, bits: 1, thresholds: new Int32Array(256), flip: new Uint8Array(256) };
      y = b.add({ op: 'bconv', in: y, kh: 1, kw: 1, ...common, outC: 256, weight: w, epilogue: ep }, bits(1024, 1024, 256, 1));
    }
    const z = b.add({ op: 'bconv', in: y, kh: 32, kw: 32, ...common, sh: 32, sw: 32, outC: 1, weight: new Uint32Array(32 * 32 * 4 * 2), epilogue: { kind: 'int' } }, i32(32, 32, 1));
    const d = b.add({ op: 'dequantize', in: z, divisor: 1 }, f32(32, 32, 1));
    b.add({ op: 'flatten', in: d }, f32(1, 1, 1024, true));
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bw-oom-'));
    try {
      const file = path.join(tmp, 'huge.bnn');
      writeBnn(file, b.build('huge-arena'));
      const r = cli(['eval', file, '--dataset', 'mnist', '--limit', '1', '--backend', 'opencl'], { POCL_MEMORY_LIMIT: '1' });
      assertUserError(r, /opencl backend: device '.*' out of memory \(CL_MEM_OBJECT_ALLOCATION_FAILURE\): one image needs a \d+\.\d MiB arena.*CL_DEVICE_MAX_MEM_ALLOC_SIZE is 256\.0 MiB/);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('CLI: eval and run with --backend opencl; run --json reports per-layer device times, --one-launch per segment', () => {
    const ev = cli(['eval', 'models/fashion-mlp.bnn', '--dataset', 'fashion-mnist', '--limit', '100', '--backend', 'opencl', '--json']);
    assert.equal(ev.code, 0, ev.stderr);
    const refEv = cli(['eval', 'models/fashion-mlp.bnn', '--dataset', 'fashion-mnist', '--limit', '100', '--backend', 'native', '--json']);
    assert.equal(JSON.parse(ev.stdout).correct, JSON.parse(refEv.stdout).correct);
    assert.equal(JSON.parse(ev.stdout).backend, 'opencl');
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bw-run-'));
    try {
      const ds = loadDataset('fashion-mnist', { limit: 3 });
      const npy = path.join(tmp, 'x.npy');
      writeNpy(npy, { dtype: 'float32', shape: [3, 1, 28, 28], data: ds.images });
      const one = cli(['run', 'models/fashion-cnn.bnn', '-i', npy, '--backend', 'opencl', '--json', '--one-launch']);
      assert.equal(one.code, 0, one.stderr);
      assert.deepEqual(JSON.parse(one.stdout).layers.filter((l: { where: string }) => l.where === 'device').map((l: { name: string }) => l.name.replace(/:.*/, '')), ['segment 1 (2 layers, one launch per layer)']);
      const run = cli(['run', 'models/fashion-cnn.bnn', '-i', npy, '--backend', 'opencl', '--json']);
      assert.equal(run.code, 0, run.stderr);
      const out = JSON.parse(run.stdout);
      assert.equal(out.images, 3);
      const dev = out.layers.filter((l: { where: string }) => l.where === 'device');
      assert.ok(dev.length >= 2 && dev.every((l: { ms: number; name: string }) => l.ms > 0 && !/segment/.test(l.name)), JSON.stringify(out.layers));
      const ref = cli(['run', 'models/fashion-cnn.bnn', '-i', npy, '--backend', 'reference', '--json']);
      assert.deepEqual(out.predictions, JSON.parse(ref.stdout).predictions);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});

/**
 * A PoCL binary with the single-kernel ABI of the HLS kernel (kernel-abi.ts KERNEL_ARGS) and an
 * empty body: XRT binaries (HLS, RTL) cannot run here, and these tests only look at which
 * kernel objects the host creates and which arguments it sets.
 */
function singleKernelBinary(file: string): void {
  const ctx = Context.create(selectDevice({ name: 'pthread' }));
  const prog = Program.fromSource(ctx, `__kernel void ${KERNEL_NAME}(${KERNEL_ARGS.map(declareArg).join(', ')}) {}`);
  fs.writeFileSync(file, prog.binaries()[0].binary);
  [prog, ctx].forEach((h) => h.release());
}

describe('opencl backend on a board build (XRT order of calls, the project\'s array and device)', function () {
  before(function () {
    requireOrSkip(this, () => platforms(), OpenCLUnavailableError);
  });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bw-ocl-build-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  /** A Vitis project's bitweave-build.json for a board (the HLS kernel), optionally edited. */
  const buildFile = (board: string, edit: (j: Record<string, unknown>) => void = () => undefined): string => {
    const dir = path.join(tmp, `${board}-${fs.readdirSync(tmp).length}`);
    emitVitisProject(readBnn(path.join(ROOT, 'models', 'fashion-cnn.bnn')), loadBoard(board), dir, { kernel: 'hls' });
    const f = path.join(dir, 'bitweave-build.json');
    const j = JSON.parse(fs.readFileSync(f, 'utf8'));
    edit(j);
    fs.writeFileSync(f, JSON.stringify(j));
    return f;
  };

  it('creates every buffer empty and binds it to its kernel argument before its first write (copied or mapped)', async () => {
    const p: BconvCase = { H: 6, W: 6, C: 70, outC: 20, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, padBit: 1, inBits: 1, pool: { kh: 2, kw: 2, sh: 2, sw: 2, ph: 0, pw: 0 }, outBits: 1, seed: 9 };
    for (const [oneLaunch, zeroCopy] of [[false, false], [true, false], [false, true]]) {
      const events: CallEvent[] = [];
      const stop = traceCalls((e) => events.push(e));
      const b = new OpenCLBackend({ threads: 1, chunk: 3, oneLaunch, zeroCopy });
      try {
        const r = rng(9);
        // 8 images in chunks of 3: both arenas written more than once
        await compareModel(bconvModel(p, r), randomInput(r, 8, p.C * p.H * p.W, p.inBits), b, `bind order, oneLaunch ${oneLaunch}, zeroCopy ${zeroCopy}`);
      } finally {
        stop();
        await b.dispose();
      }
      const created = events.filter((e) => e.call === 'create');
      assert.ok(created.length >= 5, 'program, weights, params, two arenas');
      assert.deepEqual(created.filter((e) => e.call === 'create' && e.hostCopy), [], 'no buffer is written at creation (CL_MEM_COPY_HOST_PTR)');
      const written = new Set(events.filter((e) => e.call === 'write').map((e) => e.buffer));
      assert.ok(written.size >= 5);
      for (const id of written) {
        const bind = events.findIndex((e) => e.call === 'bind' && e.buffer === id);
        const write = events.findIndex((e) => e.call === 'write' && e.buffer === id);
        assert.ok(bind >= 0 && bind < write, `buffer ${id}: bound (event ${bind}) before its first write (event ${write})`);
      }
      // every chunk's arena write follows a bind of that arena to the feeder's arena argument
      const arenaBind = (c: CallEvent) => c.call === 'bind' && c.kernel === ARRAY_KERNELS.feeder.name && c.arg === arrayArg('feeder', 'arena');
      let arenaWrites = 0;
      events.forEach((e, i) => {
        if (e.call !== 'write' || !events.some((c) => arenaBind(c) && c.buffer === e.buffer)) return;
        arenaWrites++;
        const last = events.slice(0, i).reverse().find(arenaBind);
        assert.ok(last && last.call === 'bind' && last.buffer === e.buffer, `arena write ${i} after binding that arena`);
      });
      assert.equal(arenaWrites, 3, '8 images in chunks of 3');
    }
  });

  it('takes the array size and the OpenCL device from the project\'s bitweave-build.json, never just the first device listed', async () => {
    // alveo-u250: the board file names the Xilinx platform's u250 device, which PoCL is not
    const u250 = buildFile('alveo-u250');
    const j = JSON.parse(fs.readFileSync(u250, 'utf8'));
    assert.deepEqual(j.opencl, loadBoard('alveo-u250').opencl);
    const model = readBnn(path.join(ROOT, 'models', 'fashion-cnn.bnn'));
    const strict = new OpenCLBackend({ threads: 1, build: u250 });
    assert.deepEqual(strict.deviceFilter(), { platform: 'Xilinx', name: 'u250' });
    await assert.rejects(async () => {
      await strict.load(model);
    }, (e: Error) => /the alveo-u250 device named like 'u250' on a platform like 'Xilinx'/.test(e.message) && /no OpenCL device matches platform="Xilinx", name="u250"/.test(e.message));
    await strict.dispose();

    // the same project with PoCL as its board device: selected by name, the array from the build
    const pocl = buildFile('alveo-u250', (k) => {
      k.opencl = { platform: 'Portable Computing Language', device: 'pthread' };
    });
    const b = new OpenCLBackend({ threads: 1, build: pocl });
    try {
      assert.deepEqual(b.arrayParams, { ...DEFAULT_ARRAY, rows: j.array.rows, cols: j.array.cols });
      assert.notDeepEqual([j.array.rows, j.array.cols], [DEFAULT_ARRAY.rows, DEFAULT_ARRAY.cols], 'a board array, not the default');
      const r = rng(4);
      const p: BconvCase = { H: 5, W: 5, C: 64, outC: 40, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, padBit: 1, inBits: 1, pool: null, outBits: 0, seed: 4 };
      const m = bconvModel(p, r);
      await compareModel(m, randomInput(r, 3, p.C * p.H * p.W, p.inBits), b, 'array from the build');
      assert.ok(b.deviceNames.every((n) => /pthread/i.test(n)));
      // cycles are the tile schedule of the build's array
      const prog = encodeSegment(m, m.segments.findIndex((s) => s.kind === 'device'), b.arrayParams);
      const want = scheduleCycles(prog, [3], b.arrayParams).reduce((sum, c) => sum + c, 0);
      const got = b.layerStats().filter((l) => l.where === 'device').reduce((sum, l) => sum + (l.cycles ?? 0), 0);
      assert.equal(got, want);
    } finally {
      await b.dispose();
    }
    assert.throws(() => new OpenCLBackend({ build: pocl, array: { rows: 8, cols: 8 } }), new RegExp(`array 8x8 given, but .* was built for ${j.array.rows}x${j.array.cols}`));
  });

  it('RTL-kernel projects: the launch arguments in kernel.xml order, and a binary with another ABI refused in one line', async () => {
    // the arguments the host sets for one launch of the RTL kernel, by kernel.xml id
    const args = rtlLaunchArgs({ program: 'P', weights: 'W', params: 'Q', arena: 'A' }, { layers: 3, arenaWords: 104, images: 7, weightWords: 512, paramWords: 40, stage: true, inWords: 10, outOff: 20, outWords: 30, chunk: 5 });
    assert.equal(args.length, AXI_KERNEL_ARGS.length);
    const want: Record<string, unknown> = { program: 'P', weights: 'W', params: 'Q', arena: 'A', layers: 3, arena_words: 104, images: 7, weight_words: 512, param_words: 40, stage: 1, in_words: 10, out_off: 20, out_words: 30, chunk: 5 };
    AXI_KERNEL_ARGS.forEach((a, i) => {
      const v = args[i];
      if (a.master) assert.equal(v, want[a.name], `${a.name} is a buffer`);
      else assert.deepEqual(v, { type: 'uint', value: want[a.name] }, `${a.name} is a uint scalar`);
    });
    assert.deepEqual(rtlLaunchArgs({ program: 1, weights: 2, params: 3, arena: 4 }, { layers: 1, arenaWords: 8, images: 1, weightWords: 0, paramWords: 0, stage: false, inWords: 1, outOff: 1, outWords: 2, chunk: 0 })[AXI_KERNEL_ARGS.findIndex((a) => a.name === 'stage')], { type: 'uint', value: 0 });

    // alveo-u50: one compute unit (the plain kernel name)
    const rtl = buildFile('alveo-u50', (k) => {
      k.kernel = 'rtl';
      k.opencl = { platform: 'Portable Computing Language', device: 'pthread' };
    });
    assert.throws(() => new OpenCLBackend({ build: rtl }), /is an RTL-kernel project: give its binary/);
    // a binary of the HLS kernel's ABI (seven arguments) is not the RTL kernel
    const bin = path.join(tmp, 'hls-abi.pocl');
    singleKernelBinary(bin);
    const b = new OpenCLBackend({ build: rtl, binary: bin });
    try {
      await assert.rejects(b.load(readBnn(path.join(ROOT, 'models', 'fashion-cnn.bnn'))), new RegExp(`kernel 'bitweave_array' takes 7 arguments, the RTL kernel ABI has ${AXI_KERNEL_ARGS.length}`));
    } finally {
      await b.dispose();
    }
  });

  it('a binary with several compute units gets one kernel object per unit (bitweave_array:{cu}); with one, the plain kernel', async () => {
    const pocl = { platform: 'Portable Computing Language', device: 'pthread' };
    const single = path.join(tmp, 'hls-abi-cu.pocl');
    singleKernelBinary(single);
    const model = readBnn(path.join(ROOT, 'models', 'fashion-cnn.bnn'));
    // aws-f1: two compute units (SLR0, SLR2), each on its own banks
    const two = buildFile('aws-f1', (k) => {
      k.opencl = pocl;
    });
    assert.deepEqual(JSON.parse(fs.readFileSync(two, 'utf8')).connectivity.map((c: { cu: string }) => c.cu), ['bitweave_array_1', 'bitweave_array_2']);
    const b2 = new OpenCLBackend({ build: two, binary: single });
    try {
      // PoCL has no compute units to name: the request itself shows the per-unit kernel objects
      await assert.rejects(b2.load(model), /clCreateKernel\('bitweave_array:\{bitweave_array_1\}'\).*CL_INVALID_KERNEL_NAME/);
    } finally {
      await b2.dispose();
    }
    // alveo-u50: one compute unit: the plain kernel
    const one = buildFile('alveo-u50', (k) => {
      k.opencl = pocl;
    });
    const b1 = new OpenCLBackend({ build: one, binary: single, threads: 1 });
    try {
      await b1.load(model);
      assert.deepEqual(b1.kernelNames, ['bitweave_array']);
    } finally {
      await b1.dispose();
    }
    // a prebuilt binary of the OpenCL array (as an .aocx is) runs its three kernels and agrees with the reference
    const ctx = Context.create(selectDevice({ name: 'pthread' }));
    const prog = Program.fromSource(ctx, kernelSource({ ...DEFAULT_ARRAY, rows: 16, cols: 32 }));
    const bin = path.join(tmp, 'array-16x32.pocl');
    fs.writeFileSync(bin, prog.binaries()[0].binary);
    [prog, ctx].forEach((h) => h.release());
    const b3 = new OpenCLBackend({ build: one, binary: bin, threads: 1 });
    try {
      const r = rng(8);
      const p: BconvCase = { H: 5, W: 5, C: 64, outC: 24, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, padBit: 1, inBits: 1, pool: null, outBits: 1, seed: 8 };
      await compareModel(bconvModel(p, r), randomInput(r, 3, p.C * p.H * p.W, p.inBits), b3, 'the array kernels from a binary');
    } finally {
      await b3.dispose();
    }
  });

  it('CLI: BITWEAVE_OPENCL_BUILD with an RTL-kernel project, a missing or broken file is one line and exit 1', () => {
    const args = ['eval', 'models/fashion-cnn.bnn', '--dataset', 'fashion-mnist', '--limit', '2', '--backend', 'opencl'];
    const rtl = buildFile('aws-f1', (k) => {
      k.kernel = 'rtl';
    });
    assertUserError(cli(args, { BITWEAVE_OPENCL_BUILD: rtl }), /opencl backend: .* is an RTL-kernel project/);
    assertUserError(cli(args, { BITWEAVE_OPENCL_BUILD: path.join(tmp, 'none.json') }), /cannot read the build description .*none\.json: ENOENT/);
    const broken = buildFile('aws-f1', (k) => {
      delete k.array;
    });
    assertUserError(cli(args, { BITWEAVE_OPENCL_BUILD: broken }), /no array \{ rows, cols \}/);
    // the project's device is not on this machine: named, not silently replaced by PoCL
    assertUserError(cli(args, { BITWEAVE_OPENCL_BUILD: buildFile('aws-f1') }), /the aws-f1 device named like 'aws-vu9p-f1'/);
  });
});
