/**
 * The axi-sim backend (the RTL kernel of sim/axi/ behind its AXI interfaces, under
 * Verilator with a DDR model), beyond the backend contract: bit-identical runs of the
 * shipped CNN (300 images) and ResNet-18, the cycles memory traffic adds, the build's
 * refusals, and the model's own checks: an access outside a buffer, arguments beyond the
 * on-chip memories, bad calls into the C ABI.
 */
import * as assert from 'node:assert/strict';
import { arenaWindows, AxiSimBackend, checkKernelCall, errText } from '../../host/backends/axi-sim';
import { axiAbi, axiInfo, AxiSim, E_ACCESS } from '../../host/backends/axi-sim/ffi';
import { AP, AXI_CONTROL, AXI_ERR_BITS, AXI_KERNEL_ARGS, AXI_STATUS, axiArenaRowWords, DEFAULT_AXI_BUILD } from '../../host/array/axi-kernel';
import { DEFAULT_ARRAY, DESC_WORDS } from '../../host/array/params';
import { encodeSegment } from '../../host/array/program';
import { wideWeights } from '../../host/array/wide';
import { axiMemory, loadBoard } from '../../host/boards';
import { compile } from '../../host/compile/compile';
import { CompiledModel } from '../../host/compile/model';
import { BitweaveError, ShapeError } from '../../host/core/errors';
import { loadDataset } from '../../host/data/datasets';
import { loadNamedModel } from '../../host/zoo/models';
import { compareWithReference } from '../helpers/backend-compare';
import { randomImages, randomModel } from '../helpers/random-model';
import { requireOrSkip } from '../helpers/skip';
import { assertSuccess, assertUserError, bitweave, scratchDir } from '../helpers/run';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { encodeNpy } from '../../host/data/npy';

const F1 = () => axiMemory(loadBoard('aws-f1'));

describe('axi-sim backend (the RTL kernel behind AXI)', function () {
  before(function () {
    if (!requireOrSkip(this, () => axiInfo())) return;
  });

  it('is built as the default array with the default kernel build, and takes the DDR figures of aws-f1', async () => {
    const i = axiInfo();
    assert.deepEqual({ rows: i.rows, cols: i.cols, word: i.word, accBits: i.accBits }, DEFAULT_ARRAY);
    assert.deepEqual(
      { dataBits: i.dataBits, outstanding: i.outstanding, maxBurst: i.maxBurst, descDepth: i.descDepth, paramDepth: i.paramDepth, weightRows: i.weightRows, arenaWords: i.arenaWords },
      DEFAULT_AXI_BUILD,
    );
    assert.deepEqual([i.drain, i.maxOutBits], [1, 1]);
    const b = new AxiSimBackend({ threads: 1 });
    // 19.2 GB/s x 0.8 at 250 MHz
    assert.deepEqual(b.memory, { readLatency: 64, writeLatency: 32, bytesPerCycle: 61.44 });
    assert.deepEqual(F1(), b.memory);
    await b.dispose();
  });

  it('the shipped CNN: identical to the reference on 300 Fashion-MNIST images; at batch 64 the kernel keeps >= 80% of the array-only rate', async function () {
    const m = await loadNamedModel('models/fashion-cnn.bnn');
    const ds = loadDataset('fashion-mnist', { split: 'test', limit: 300 });
    const b = new AxiSimBackend({ threads: 1 });
    try {
      await compareWithReference(m, ds.images, b, 'fashion-cnn, 300 images');
      // 300 images: one staged call per on-chip arena's worth, then calls without staging
      assert.ok(b.calls.length >= 1);
      assert.equal(b.calls.filter((c) => c.staged).length, 1, 'the program is staged once');
      for (const c of b.calls) assert.equal(c.arrayCycles, c.predictedArray);
    } finally {
      await b.dispose();
    }
    const b64 = new AxiSimBackend({ threads: 1 });
    try {
      await compareWithReference(m, ds.images.subarray(0, 64 * 784), b64, 'fashion-cnn, batch 64');
      const [c] = b64.calls;
      assert.equal(c.images, 64);
      assert.ok(c.staged);
      // the first call of a program stages it: weights, parameters and descriptors come in too
      const kept = c.arrayOnly / c.kernelCycles;
      assert.ok(c.chunk < 64, `the batch runs in chunks (${c.chunk} images each) so the copies overlap the array`);
      assert.ok(kept >= 0.8, `batch 64 keeps ${(kept * 100).toFixed(1)}% of the array-only rate`);
    } finally {
      await b64.dispose();
    }
  });

  it('ResNet-18 (CIFAR shapes, 1-bit): identical to the reference on 2 images, every call`s array cycles as the model', async function () {
    this.timeout(900_000);
    const m = await loadNamedModel('resnet18-cifar');
    const b = new AxiSimBackend({ threads: 1 });
    try {
      const t = m.tensors[m.input];
      await compareWithReference(m, randomImages(5, 2, [t.c, t.h, t.w]), b, 'resnet18-cifar');
      assert.ok(b.calls.length >= 8, 'every device segment ran');
      for (const c of b.calls) {
        assert.equal(c.arrayCycles, c.predictedArray);
        assert.ok(c.kernelCycles > c.arrayCycles);
      }
    } finally {
      await b.dispose();
    }
  });

  it('refuses what the kernel build cannot run, with one line before any upload: 2-bit outputs', async () => {
    const b = new AxiSimBackend({ threads: 1 });
    try {
      await assert.rejects(b.load(compile(randomModel({ seed: 301, actBits: 2 }))), (e: Error) => e instanceof BitweaveError && /axi-sim backend: layer '.*': OUT_BITS = 2: the RTL array is built for 1\.\.1-bit outputs/.test(e.message) && !e.message.includes('\n'));
    } finally {
      await b.dispose();
    }
  });

  it('the host refuses a call before the start: a pointer that is no buffer, misaligned, too small, or images beyond the on-chip arena', () => {
    const i = axiInfo();
    const beat = i.dataBits / 8;
    const buffers = new Map<bigint, number>([[0x1000n, 4096], [0x3000n, 4096], [0x5000n, 4096], [0x7000n, 8 * 1024]]);
    const ok = { program: 0x1000n, layers: 2, weights: 0x3000n, params: 0x5000n, arena: 0x7000n, arena_words: 64, images: 16, weight_words: 64, param_words: 16, stage: 1, in_words: 10, out_off: 20, out_words: 44, chunk: 0 };
    assert.doesNotThrow(() => checkKernelCall(ok, buffers, i));
    const bad: [Partial<typeof ok>, RegExp][] = [
      [{ arena: 0x9000n }, /argument arena is not a device buffer/],
      [{ images: 17 }, /buffer arena holds 8192 bytes, the call reads 8704/],
      [{ images: 0 }, /images must be 1\.\./],
      [{ arena_words: i.arenaWords, images: 1 }, /holds 8192 bytes|exceed the kernel's on-chip arena/],
      [{ layers: 1 + i.descDepth / DESC_WORDS }, /layers must be 1\.\./],
      [{ param_words: i.paramDepth + 1 }, /param_words must be 0\.\./],
      [{ stage: 2 }, /stage must be 0 or 1/],
      [{ arena_words: 60, images: 1 }, /arena_words 60 is not whole on-chip rows of 8 words/],
      [{ in_words: 65 }, /in_words must be 0\.\.64/],
      [{ out_words: 45 }, /out_words must be 0\.\.44/],
      [{ chunk: 17 }, /chunk must be 0\.\.16/],
    ];
    for (const [change, re] of bad) assert.throws(() => checkKernelCall({ ...ok, ...change }, buffers, i), (e: Error) => e instanceof BitweaveError && re.test(e.message), JSON.stringify(change, (_, v) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v)));
    const mis = new Map(buffers);
    mis.set(0x7000n + BigInt(beat / 2), 8192);
    assert.throws(() => checkKernelCall({ ...ok, arena: 0x7000n + BigInt(beat / 2) }, mis, i), /not aligned to the kernel's 64-byte beats/);
  });

  describe('the AXI model and the kernel, driven register by register', () => {
    let m: CompiledModel;
    before(async () => {
      m = await loadNamedModel('models/fashion-cnn.bnn');
    });

    // a device segment's buffers and the arguments of one call, written as XRT would
    function stage(sim: AxiSim, arenaBytes: number, images: number) {
      const i = axiInfo();
      const si = m.segments.findIndex((s) => s.kind === 'device');
      const prog = encodeSegment(m, si, i);
      const wide = wideWeights(prog, i.rows);
      const beat = i.dataBits / 8;
      const put = (d: Uint32Array | Int32Array) => {
        const a = sim.alloc(Math.ceil(d.byteLength / beat) * beat);
        sim.write(a, d);
        return a;
      };
      const row = axiArenaRowWords(i.rows, i.dataBits);
      const args: Record<string, bigint | number> = {
        program: put(wide.descriptors), layers: prog.layers, weights: put(wide.weights), params: put(prog.params),
        arena: sim.alloc(arenaBytes), arena_words: Math.ceil(prog.arenaWords / row) * row, images, weight_words: wide.rows * i.rows, param_words: prog.params.length, stage: 1,
        ...arenaWindows(prog), chunk: 3,
      };
      for (const a of AXI_KERNEL_ARGS) {
        const v = BigInt(args[a.name]);
        sim.regWrite(a.offset, Number(v & 0xffffffffn));
        if (a.size === 8) sim.regWrite(a.offset + 4, Number(v >> 32n));
      }
      return { prog, args };
    }

    it('the control block: idle after reset, arguments read back, INFO, ap_done cleared on read, no start while busy', () => {
      const sim = new AxiSim(F1());
      try {
        assert.equal(sim.regRead(AXI_CONTROL.CTRL) & AP.IDLE, AP.IDLE);
        const { prog, args } = stage(sim, 4 * 8 * 1024, 4);
        for (const a of AXI_KERNEL_ARGS) {
          const v = BigInt(args[a.name]);
          assert.equal(sim.regRead(a.offset), Number(v & 0xffffffffn), a.name);
        }
        const info = sim.regRead(AXI_STATUS.INFO);
        const i = axiInfo();
        assert.equal(info & 0xff, i.rows);
        assert.equal((info >> 8) & 0xff, i.cols);
        assert.equal(1 << ((info >> 16) & 0xff), i.dataBits / 8);
        sim.regWrite(AXI_CONTROL.CTRL, AP.START);
        assert.equal(sim.regRead(AXI_CONTROL.CTRL) & AP.IDLE, 0, 'busy after ap_start');
        sim.regWrite(AXI_CONTROL.CTRL, AP.START); // ignored: the kernel is not idle
        assert.ok(sim.waitDone(10_000_000));
        const cycles = sim.regRead(AXI_STATUS.CYCLES_LO);
        sim.waitDone(20_000, 1000);
        assert.equal(sim.regRead(AXI_STATUS.CYCLES_LO), cycles, 'the start written while busy did not start a second call');
        assert.equal(sim.regRead(AXI_CONTROL.CTRL) & (AP.DONE | AP.IDLE | AP.START), AP.IDLE, 'ap_done was cleared by the poll that saw it');
        assert.equal(sim.regRead(AXI_STATUS.ERR), 0);
        assert.ok(sim.regRead(AXI_STATUS.ARRAY_CYCLES) > 0);
        assert.ok(sim.regRead(AXI_STATUS.CYCLES_LO) > sim.regRead(AXI_STATUS.ARRAY_CYCLES));
        assert.ok(prog.layers > 0);
      } finally {
        sim.free();
      }
    });

    it('arguments beyond the on-chip memories: ERR_SIZE, ap_done, nothing read or written', () => {
      const sim = new AxiSim(F1());
      try {
        const { args } = stage(sim, 4 * 8 * 1024, 4);
        const before = sim.counters();
        sim.regWrite(AXI_KERNEL_ARGS.find((a) => a.name === 'images')!.offset, axiInfo().arenaWords);
        sim.regWrite(AXI_CONTROL.CTRL, AP.START);
        assert.ok(sim.waitDone(100_000));
        assert.equal(sim.regRead(AXI_STATUS.ERR), AXI_ERR_BITS.SIZE);
        assert.match(errText(AXI_ERR_BITS.SIZE), /do not fit the on-chip memories/);
        const after = sim.counters();
        assert.deepEqual([after.bytesRead, after.bytesWritten], [before.bytesRead, before.bytesWritten]);
        assert.ok(args.arena);
      } finally {
        sim.free();
      }
    });

    it('a buffer smaller than the kernel reads is caught by the AXI model (E_ACCESS naming the burst), never read as garbage', () => {
      const sim = new AxiSim(F1());
      try {
        // 4 images' arguments, an arena buffer of one page
        stage(sim, 4096, 4);
        sim.regWrite(AXI_CONTROL.CTRL, AP.START);
        assert.throws(() => sim.waitDone(1_000_000), (e: Error) => e instanceof BitweaveError && /the kernel accessed memory outside a buffer.*gmem2 read burst at 0x[0-9a-f]+ of \d+ beats: outside every allocated buffer/.test(e.message));
        assert.equal(axiAbi().waitDone((sim as unknown as { h: object }).h, 10, 1), E_ACCESS, 'the model stays stopped');
      } finally {
        sim.free();
      }
    });

    it('the C ABI refuses bad calls with a code and a message, never a crash', () => {
      const abi = axiAbi();
      assert.equal(abi.free(null), -1);
      assert.equal(abi.regWrite(null, 0, 0), -1);
      assert.match(abi.error(null), /null handle/);
      assert.equal(abi.create(0, 0, 0), null);
      assert.match(abi.error(null), /bandwidth not positive/);
      const sim = new AxiSim(F1());
      const h = (sim as unknown as { h: object }).h;
      try {
        assert.equal(abi.regWrite(h, 2, 0), -1);
        assert.match(abi.error(h), /control offset 0x2/);
        assert.equal(abi.regRead(h, 0x100, new Uint32Array(1)), -1);
        assert.equal(abi.alloc(h, 0, new BigUint64Array(1)), -1);
        assert.equal(abi.read(h, 0x1234n, new Uint8Array(4), 4), -2);
        const a = sim.alloc(100);
        assert.equal(abi.write(h, a + 96n, new Uint8Array(8), 8), -2, 'a write past the buffer end');
        assert.equal(abi.release(h, a + 1n), -1);
        assert.equal(abi.waitDone(h, 10, 0), -1);
        assert.throws(() => sim.write(a, new Uint8Array(101)), /write of 101 bytes into a buffer of 100/);
        assert.throws(() => new AxiSim({ readLatency: -1, writeLatency: 0, bytesPerCycle: 1 }), /read latency must be an integer/);
      } finally {
        sim.free();
      }
      assert.equal(abi.free(h), -1, 'a freed handle');
      assert.throws(() => sim.regRead(0), /used after free/);
    });
  });

  it('a board build\'s smaller memories (axiLimits) bound every call: fewer images per call, a model beyond them refused in one line', async () => {
    const m = await loadNamedModel('models/fashion-cnn.bnn');
    const ds = loadDataset('fashion-mnist', { split: 'test', limit: 7 });
    // fashion-cnn's arena is 664 words per image on this build: 3 images in 2,048 words
    const b = new AxiSimBackend({ threads: 1, axiLimits: { arenaWords: 2048 } });
    try {
      assert.equal(b.info.arenaWords, 2048);
      await compareWithReference(m, ds.images, b, 'fashion-cnn within a 2,048-word arena');
      assert.deepEqual(b.calls.map((c) => c.images), [3, 3, 1]);
    } finally {
      await b.dispose();
    }
    const small = new AxiSimBackend({ threads: 1, axiLimits: { arenaWords: 512 } });
    try {
      await assert.rejects(small.load(m), (e: Error) => e instanceof ShapeError && /^axi-sim backend: segment 1 needs 5\.2 KiB of arena \(one image\), the kernel holds 4\.0 KiB$/.test(e.message));
    } finally {
      await small.dispose();
    }
  });

  it('a board without AXI memory figures: one line', () => {
    assert.throws(() => new AxiSimBackend({ axiBoard: 'ulx3s' }), (e: Error) => e instanceof BitweaveError && /board ulx3s has no AXI memory figures/.test(e.message));
  });

  it('the CLI: eval --backend axi-sim with a board\'s DDR figures; a board without them, or a 2-bit model, is one line and exit 1', () => {
    const ok = bitweave(['eval', 'models/fashion-cnn.bnn', '--dataset', 'fashion-mnist', '--limit', '20', '--backend', 'axi-sim', '--axi-board', 'alveo-u50', '--json']);
    assertSuccess(ok);
    const r = JSON.parse(ok.stdout);
    assert.equal(r.backend, 'axi-sim');
    assert.ok(Number.isInteger(r.cycles) && r.cycles > 0);
    assert.equal(r.cyclesKind, 'kernel');
    const text = bitweave(['eval', 'models/fashion-cnn.bnn', '--dataset', 'fashion-mnist', '--limit', '20', '--backend', 'axi-sim']);
    assertSuccess(text);
    assert.match(text.stdout, /\d+ kernel cycles with DDR traffic \(\d+\/image; the RTL kernel behind AXI, simulated\)/);
    assertUserError(bitweave(['eval', 'models/fashion-cnn.bnn', '--dataset', 'fashion-mnist', '--limit', '2', '--backend', 'axi-sim', '--axi-board', 'ulx3s']), /board ulx3s has no AXI memory figures/);
    assertUserError(bitweave(['eval', 'models/fashion-cnn.bnn', '--dataset', 'fashion-mnist', '--limit', '2', '--backend', 'axi-sim', '--axi-board', 'nosuch']), /nosuch/);
    const dir = scratchDir('axi-sim-cli', true);
    const npy = path.join(dir, 'x.npy');
    fs.writeFileSync(npy, encodeNpy({ dtype: 'float32', shape: [1, 3, 32, 32], data: new Float32Array(3 * 32 * 32).fill(0.5) }));
    assertUserError(bitweave(['run', 'resnet18-cifar-a2', '--input', npy, '--backend', 'axi-sim', '--batch', '1']), /axi-sim backend: layer '.*': OUT_BITS = 2: the RTL array is built for 1\.\.1-bit outputs/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
