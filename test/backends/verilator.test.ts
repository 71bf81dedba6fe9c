/**
 * The verilator backend (the RTL array of sim/ under Verilator), beyond the backend
 * contract: the array it was built for, BMXNet's MNIST model with its utilisation, layers
 * the RTL refuses, the C ABI's bad-argument paths and FST traces. (Cycle counts against
 * the cycle model: test/array/cycles.test.ts.)
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { VerilatorBackend } from '../../host/backends/verilator';
import { MEM, rtlAbi, rtlInfo, RtlModel } from '../../host/backends/verilator/ffi';
import { DEFAULT_ARRAY, DESC_WORDS, FIELD } from '../../host/array/params';
import { encodeSegment } from '../../host/array/program';
import { compile } from '../../host/compile/compile';
import { BitweaveError } from '../../host/core/errors';
import { loadDataset } from '../../host/data/datasets';
import { importBmxnet } from '../../host/import/bmxnet';
import { createBackend } from '../../host/backends';
import { rng } from '../helpers/naive';
import { Session } from '../../host/runtime/session';
import { bconvModel, BconvCase, bitsOf, logitsOf, randomInput } from '../helpers/native-models';
import { bmxnetMnist, requireBmxnetMnist } from '../helpers/shared-models';
import { compareWithReference } from '../helpers/backend-compare';
import { requireOrSkip } from '../helpers/skip';

describe('verilator backend (RTL array)', function () {
  before(function () {
    if (!requireOrSkip(this, () => rtlInfo())) return;
  });

  it('is registered as "verilator" and reports the array it was built for', async () => {
    const b = await createBackend('verilator', { threads: 1 });
    assert.equal(b.name, 'verilator');
    const info = rtlInfo();
    // make rtl builds the default array; make rtl-variant others (selected with BITWEAVE_RTL_LIB)
    if (!process.env.BITWEAVE_RTL_LIB) {
      assert.deepEqual({ rows: info.rows, cols: info.cols, word: info.word, accBits: info.accBits }, DEFAULT_ARRAY);
      assert.equal(info.drain, info.cols, 'the default build drains every column in one cycle');
    }
    assert.ok(info.drain! >= 1 && info.cols % info.drain! === 0);
    assert.equal(info.descWords, DESC_WORDS);
    await b.dispose();
  });

  it('the BMXNet MNIST model: identical logits on 200 real digits through the RTL; conv utilisation >= 90%', async function () {
    requireBmxnetMnist(this);
    const f = bmxnetMnist(64);
    const m = compile(importBmxnet(f.symbol, f.params));
    const ds = loadDataset('mnist', { limit: 200 });
    const want = await logitsOf(m, 'native', ds.images, { threads: 1 });
    const ref = await logitsOf(m, 'reference', ds.images.subarray(0, 20 * 784));
    assert.deepEqual(bitsOf(want.subarray(0, ref.length)), bitsOf(ref), 'native engine vs reference');
    const s = await Session.create(m, { backend: 'verilator', batch: 64, threads: 1 });
    const r = await s.run(ds.images);
    const st = s.stats();
    await s.close();
    assert.deepEqual(bitsOf(r.logits), bitsOf(want));
    const dev = st.layers.filter((l) => l.where === 'device');
    assert.equal(dev.length, 2);
    const conv = dev.find((l) => l.name === 'qconvolution0')!;
    assert.ok(conv.utilization! >= 0.9, `qconvolution0 utilisation ${conv.utilization}`);
    assert.ok(dev.every((l) => l.cyclesKind === 'rtl'));
  });

  it('rejects layers the RTL cannot run with one clear error', async () => {
    const m = bconvModel({ H: 3, W: 3, C: 5, outC: 4, kh: 1, kw: 1, sh: 1, sw: 1, ph: 0, pw: 0, padBit: 1, inBits: 1, pool: null, outBits: 3, seed: 1 }, rng(1));
    const b = new VerilatorBackend({ threads: 1 });
    await assert.rejects(b.load(m), /verilator backend: layer .*: OUT_BITS = 3: the RTL array is built for 1\.\.2-bit outputs/);
    await b.dispose();
  });

  it('C ABI: bad handles, memories, ranges and programs give errors, never a crash', () => {
    const abi = rtlAbi();
    const buf = new Uint32Array(8);
    // null handle
    assert.equal(abi.alloc(null, 0, 4), -1);
    assert.equal(abi.write(null, 0, 0, buf, 1), -1);
    assert.equal(abi.run(null, 10), -1);
    assert.equal(abi.free(null), -1);
    assert.match(abi.error(null), /null handle/);
    const h = abi.create()!;
    try {
      assert.equal(abi.alloc(h, 7, 4), -1, 'bad memory id');
      assert.equal(abi.alloc(h, -1, 4), -1);
      assert.equal(abi.alloc(h, MEM.arena, 2n ** 40n), -3, 'too large');
      assert.equal(abi.alloc(h, MEM.arena, 4), 0);
      assert.equal(abi.write(h, MEM.arena, 0, buf, 4), 0);
      assert.equal(abi.write(h, MEM.arena, 1, buf, 4), -2, 'past the end');
      assert.equal(abi.write(h, MEM.arena, 2n ** 63n, buf, 1), -2, 'huge offset');
      assert.equal(abi.write(h, MEM.arena, 0, null, 1), -1, 'null data');
      assert.equal(abi.read(h, MEM.desc, 0, buf, 1), -2, 'empty memory');
      assert.equal(abi.run(h, 10), -4, 'run before start');
      assert.equal(abi.start(h, 1, 1, 4), -2, 'no descriptors');
      assert.equal(abi.cycles(h, null), -1);
      assert.equal(abi.trace(h, '/nonexistent-dir/x.fst'), -1);
      // a program whose input offset points outside the arena: the harness stops the RTL
      const m = bconvModel({ H: 3, W: 3, C: 5, outC: 4, kh: 1, kw: 1, sh: 1, sw: 1, ph: 0, pw: 0, padBit: 1, inBits: 1, pool: null, outBits: 0, seed: 1 }, rng(1));
      const prog = encodeSegment(m, m.segments.findIndex((s) => s.kind === 'device'), DEFAULT_ARRAY);
      const desc = prog.descriptors.slice();
      desc[FIELD.IN_OFF] = 1 << 30;
      assert.equal(abi.alloc(h, MEM.desc, desc.length), 0);
      assert.equal(abi.write(h, MEM.desc, 0, desc, desc.length), 0);
      assert.equal(abi.alloc(h, MEM.weight, prog.weights.length / 2), 0);
      assert.equal(abi.write(h, MEM.weight, 0, prog.weights, prog.weights.length / 2), 0);
      assert.equal(abi.alloc(h, MEM.param, 0), 0);
      assert.equal(abi.alloc(h, MEM.arena, prog.arenaWords), 0);
      assert.equal(abi.start(h, prog.layers, 1, prog.arenaWords), 0);
      assert.equal(abi.run(h, 100000), -5);
      assert.match(abi.error(h), /RTL read arena word/);
      // unsupported output bits: the RTL flags the program instead of computing garbage
      desc.set(prog.descriptors);
      desc[FIELD.OPCODE] |= 1;
      desc[FIELD.OUT_BITS] = 5;
      assert.equal(abi.write(h, MEM.desc, 0, desc, desc.length), 0);
      assert.equal(abi.start(h, prog.layers, 1, prog.arenaWords), 0);
      assert.equal(abi.run(h, 100000), -6);
    } finally {
      assert.equal(abi.free(h), 0);
    }
    assert.equal(abi.free(h), -1, 'double free is detected');
    assert.equal(abi.alloc(h, 0, 1), -1, 'use after free is detected');
    // the TypeScript wrapper refuses before calling C
    const rtl = new RtlModel();
    try {
      assert.throws(() => rtl.alloc('arena', -1), BitweaveError);
      assert.throws(() => rtl.alloc('bogus' as 'arena', 1), /unknown memory/);
      rtl.alloc('arena', 2);
      assert.throws(() => rtl.write('arena', 1, new Uint32Array(4)), /outside the memory/);
      assert.throws(() => rtl.write('arena', 0, new Uint32Array(3)), /whole number/);
      assert.throws(() => rtl.write('arena', 0, new Float32Array(4) as unknown as Uint32Array), /Uint32Array/);
      assert.throws(() => rtl.run(10), /run before start/);
      assert.throws(() => rtl.start(1, 1, 2), /start failed .*descriptor/);
    } finally {
      rtl.free();
    }
    assert.throws(() => rtl.alloc('arena', 1), /after free/);
  });

  it('writes an FST waveform when asked', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bitweave-fst-'));
    try {
      const file = path.join(tmp, 'run.fst');
      const p: BconvCase = { H: 3, W: 3, C: 5, outC: 4, kh: 2, kw: 2, sh: 1, sw: 1, ph: 0, pw: 0, padBit: 1, inBits: 1, pool: null, outBits: 1, seed: 2 };
      const r = rng(2);
      const m = bconvModel(p, r);
      const b = new VerilatorBackend({ threads: 1, trace: file } as never);
      await compareWithReference(m, randomInput(r, 1, 45, 1), b, 'traced');
      await b.dispose();
      assert.ok(fs.statSync(file).size > 1000, 'trace file written');
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
