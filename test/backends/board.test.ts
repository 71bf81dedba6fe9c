/**
 * The board backend against the Verilator model of the whole dev-board SoC (array,
 * memories, UART link) behind a pty (make soc-sim): the code path a user runs on a board,
 * bit-exact with the reference. Beyond the backend contract: the shipped models on real
 * images with the SoC's cycle count equal to the cycle model's, zero-padded convs on its 1-bit
 * outputs (Larq's fashion_bnn and random chains, the device segment cut before them), the link's error replies
 * to corrupted, cut and refused frames, ports that are no bitweave board, a board that
 * stops answering, a model that does not fit, and the CLI's `--backend board --port`.
 */
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { SerialPort } from 'serialport';
import { BoardBackend } from '../../host/backends/board';
import { BoardError, BoardLink } from '../../host/board/link';
import { baudPayload, CMD, encodeRequest, ReplyParser, Reply, startPayload, writePayload } from '../../host/board/protocol';
import { SimulatedBoard, socSimAvailable, socSimPath, startSimulatedBoard } from '../../host/board/sim';
import { encodeSegment } from '../../host/array/program';
import { compile } from '../../host/compile/compile';
import { BitweaveError, ShapeError } from '../../host/core/errors';
import { packagePath } from '../../host/core/paths';
import { loadDataset } from '../../host/data/datasets';
import { readBnn } from '../../host/format/bnn';
import { importBmxnet } from '../../host/import/bmxnet';
import { Session } from '../../host/runtime/session';
import fc from 'fast-check';
import { importLarq } from '../../host/import/larq';
import { bconvCases, compareWithReference } from '../helpers/backend-compare';
import { zeroPadCases, zeroPadModel } from '../helpers/zero-pad-models';
import { rng } from '../helpers/naive';
import { bconvModel, bitsOf, logitsOf, randomInput } from '../helpers/native-models';
import { assertSuccess, assertUserError, bitweave } from '../helpers/run';
import { bmxnetMnist, requireBmxnetMnist } from '../helpers/shared-models';
import { requireOrSkip } from '../helpers/skip';
import { backendContract } from './contract';

const LONG = process.env.BITWEAVE_LONG === '1';

/**
 * Raw frames to the board and its raw replies, bypassing BoardLink's retries: each frame is
 * sent after the previous one's reply (a board answers one request at a time); `silent`
 * frames (garbage, a cut frame) get none, and the next waits 400 ms instead.
 */
async function rawExchange(port: string, frames: (Buffer | { silent: Buffer })[]): Promise<Reply[]> {
  const sp = new SerialPort({ path: port, baudRate: 1_000_000, autoOpen: false });
  await new Promise<void>((res, rej) => sp.open((e) => (e ? rej(e) : res())));
  const parser = new ReplyParser();
  const replies: Reply[] = [];
  sp.on('data', (d: Buffer) => {
    for (const r of parser.push(d)) if (!r.corrupt) replies.push(r.reply);
  });
  try {
    for (const f of frames) {
      const silent = !Buffer.isBuffer(f);
      const before = replies.length;
      await new Promise<void>((res) => sp.write(silent ? f.silent : f, () => res()));
      if (silent) await new Promise((r) => setTimeout(r, 400));
      else for (let t = 0; t < 100 && replies.length === before; t++) await new Promise((r) => setTimeout(r, 30));
    }
  } finally {
    await new Promise<void>((res) => sp.close(() => res()));
  }
  return replies;
}

describe('board backend (the simulated SoC behind a pty)', function () {
  let sim: SimulatedBoard | null = null;

  before(async function () {
    if (!requireOrSkip(this, () => { if (!socSimAvailable()) throw new Error(`the simulated board is not built (${socSimPath()}; make soc-sim needs verilator)`); })) return;
    sim = await startSimulatedBoard();
    process.env.BITWEAVE_BOARD_PORT = sim.port;
  });

  after(async () => {
    delete process.env.BITWEAVE_BOARD_PORT;
    await sim?.stop();
  });

  backendContract({
    name: 'board',
    available: () => {
      if (!process.env.BITWEAVE_BOARD_PORT) throw new Error('the simulated board is not running');
    },
    variants: [{}],
    // the SoC is built for 1-bit threshold outputs (docs/ARCHITECTURE.md "Dev-board SoC")
    // seed 78: a 16-case sample that still has 5 cases of every option the contract counts
    layers: { cases: bconvCases({ inBits: [1, 1, 2, 4], outBits: [0, 1, 1] }), seed: LONG ? 71 : 78, runs: LONG ? 30 : 16 },
    kbitLayers: { seed: 1625, runs: LONG ? 30 : 16, outBits: [0, 1] },
    models: 1,
    modelImages: 5,
    // the shipped models and BMXNet's MNIST run below, with the SoC's cycle counts
    shippedImages: 0,
    mnistDigits: 0,
  });

  it(`fashion-cnn: ${LONG ? 'all 10,000' : '24'} Fashion-MNIST test images, logits identical to the reference; the SoC counts the cycle model's cycles`, async function () {
    this.timeout(LONG ? 4 * 3600_000 : 600_000);
    const ds = loadDataset('fashion-mnist', { limit: LONG ? undefined : 24 });
    const m = readBnn(packagePath('models', 'fashion-cnn.bnn'));
    const want = await logitsOf(m, 'native', ds.images, { threads: 2 });
    // the full set on two simulated boards at once (one per core), in halves
    const second = LONG ? await startSimulatedBoard() : null;
    const ports = second ? [sim!.port, second.port] : [sim!.port];
    const per = ds.images.length / ds.count;
    const share = Math.ceil(ds.count / ports.length);
    try {
      const parts = await Promise.all(ports.map(async (port, k) => {
        const s = await Session.create(m, { backend: 'board', batch: 64, backendOptions: { port } });
        try {
          const x = ds.images.subarray(k * share * per, Math.min(ds.count, (k + 1) * share) * per);
          const logits = (await s.run(x)).logits;
          const runs = (Reflect.get(s, 'backend') as BoardBackend).measuredCycles();
          assert.ok(runs.length >= 1);
          for (const r of runs) assert.equal(r.cycles, r.predicted, `segment ${r.segment}, ${r.images} images`);
          const dev = s.stats().layers.filter((l) => l.where === 'device');
          assert.equal(dev.length, 2);
          for (const l of dev) assert.ok(l.cycles! > 0 && l.utilization! > 0.5, JSON.stringify(l));
          return logits;
        } finally {
          await s.close();
        }
      }));
      const got = new Float32Array(want.length);
      let at = 0;
      for (const p of parts) {
        got.set(p, at);
        at += p.length;
      }
      assert.deepEqual(bitsOf(got), bitsOf(want));
    } finally {
      await second?.stop();
    }
  });

  it('fashion-mlp and BMXNet MNIST run whole on the board, identical to the reference', async function () {
    this.timeout(600_000);
    const ds = loadDataset('fashion-mnist', { limit: 12 });
    const mlp = readBnn(packagePath('models', 'fashion-mlp.bnn'));
    assert.deepEqual(bitsOf(await logitsOf(mlp, 'board', ds.images)), bitsOf(await logitsOf(mlp, 'reference', ds.images)));
    requireBmxnetMnist(this);
    const f = bmxnetMnist(64);
    const m = compile(importBmxnet(f.symbol, f.params));
    const digits = loadDataset('mnist', { limit: 20 });
    assert.deepEqual(bitsOf(await logitsOf(m, 'board', digits.images, { batch: 7 })), bitsOf(await logitsOf(m, 'reference', digits.images)));
  });

  it(`zero-padded convs on 1-bit outputs, each device segment cut before them: Larq's fashion_bnn on ${LONG ? 64 : 6} images and ${LONG ? 40 : 8} random chains identical to the reference`, async function () {
    this.timeout(LONG ? 3600_000 : 600_000);
    const ds = loadDataset('fashion-mnist', { limit: LONG ? 64 : 6 });
    const m = compile(importLarq(packagePath('test', 'fixtures', 'larq', 'fashion_bnn', 'model.tflite')).graph);
    const s = await Session.create(m, { backend: 'board', batch: 8 });
    try {
      // the zero-padded convs are ops 3 and 4: their inputs cross the host
      assert.deepEqual(s.segments.map((g) => `${g.kind}[${g.start}..${g.end - 1}]`), ['host[0..1]', 'device[2..2]', 'device[3..3]', 'device[4..5]', 'host[6..8]']);
      assert.deepEqual(bitsOf((await s.run(ds.images)).logits), bitsOf(await logitsOf(m, 'reference', ds.images)));
      const runs = (Reflect.get(s, 'backend') as BoardBackend).measuredCycles();
      assert.deepEqual([...new Set(runs.map((r) => r.segment))], [1, 2, 3]);
      for (const r of runs) assert.equal(r.cycles, r.predicted, `segment ${r.segment}, ${r.images} images`);
    } finally {
      await s.close();
    }
    const b = new BoardBackend({});
    try {
      const chains = zeroPadCases.filter((p) => p.shape === 'chain' || p.shape === 'fork');
      for (const [i, p] of fc.sample(chains, { seed: 31, numRuns: LONG ? 40 : 8 }).entries()) {
        const r = rng(p.seed);
        await compareWithReference(zeroPadModel(p), randomInput(r, 1 + (i % 3), p.C * p.H * p.W, 1), b, `case ${i} ${JSON.stringify(p)}`);
      }
    } finally {
      await b.dispose();
    }
  });

  it('refuses a model whose weights do not fit, before sending anything, naming the bytes', async () => {
    const m = bconvModel({ H: 3, W: 3, C: 512, outC: 512, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, padBit: 1, inBits: 1, pool: null, outBits: 1, seed: 3 }, rng(3));
    const b = new BoardBackend({});
    try {
      await assert.rejects(b.load(m), (e: Error) => e instanceof ShapeError && /needs [\d.]+ KiB of weight memory, the board holds [\d.]+ KiB/.test(e.message));
    } finally {
      await b.dispose();
    }
  });

  it('the link answers corrupted, unknown, mis-sized and out-of-range frames with their error codes, drops a cut frame, and goes on', async function () {
    this.timeout(60_000);
    const port = sim!.port;
    const before = new Uint32Array([9, 8, 7, 6]);
    let link = await BoardLink.open(port);
    try {
      await link.write('arena', 0, before);
    } finally {
      await link.close();
    }
    const good = encodeRequest(CMD.INFO, 1);
    const badCrc = Buffer.from(encodeRequest(CMD.WRITE, 2, writePayload(3, 0, new Uint32Array([1]))));
    badCrc[badCrc.length - 1] ^= 0x40;
    const cut = encodeRequest(CMD.WRITE, 9, writePayload(3, 0, new Uint32Array([1, 2, 3, 4]))).subarray(0, 12);
    const replies = await rawExchange(port, [
      { silent: Buffer.from([0x00, 0x13, 0x37]) }, // garbage between frames is ignored
      good,
      badCrc,
      encodeRequest(0x7e, 3),
      encodeRequest(CMD.READ, 4, Buffer.from([3, 0, 0])),
      encodeRequest(CMD.READ, 5, Buffer.from([3, 0xff, 0xff, 0xff, 0x00, 1, 0])),
      encodeRequest(CMD.READ, 6, Buffer.from([9, 0, 0, 0, 0, 1, 0])),
      encodeRequest(CMD.READ, 7, Buffer.from([2, 0, 0, 0, 0, 1, 0])), // the weights are write-only
      { silent: cut }, // half a frame: the link drops it after its timeout
    ]);
    assert.deepEqual(replies.map((r) => [r.seq, r.status]), [[1, 0], [2, 1], [3, 2], [4, 3], [5, 4], [6, 4], [7, 4]]);
    // neither the corrupted nor the cut frame wrote anything, and the link answers again
    link = await BoardLink.open(port);
    try {
      assert.equal((await link.info()).version, 1);
      assert.deepEqual([...(await link.read('arena', 0, 4))], [...before]);
    } finally {
      await link.close();
    }
  });

  it('BAUD: the link changes rate and back (the harness follows), refuses rates out of range (E_ARG) and ones the clock cannot make', async function () {
    this.timeout(60_000);
    const link = await BoardLink.open(sim!.port);
    try {
      const info = await link.info();
      const words = new Uint32Array([0xdeadbeef, 1, 2, 0x80000000]);
      // slower, then faster again: each time the board answers at the old rate, then both sides change
      for (const cpb of [9, 5, 4]) {
        await link.useBaud(info.clockHz / cpb, info);
        await link.write('arena', 20 + cpb, words);
        assert.deepEqual([...(await link.read('arena', 20 + cpb, 4))], [...words], `at ${cpb} clocks per bit`);
      }
      await link.useBaud(info.clockHz / 11, info);
      // a character longer than the link timeout (the simulated board's: 2^16 cycles)
      await assert.rejects(link.useBaud(info.clockHz / 7000, info), (e: Error) => e instanceof BoardError && /E_ARG/.test(e.message));
      // the refused request left the rate as it was
      assert.equal((await link.info()).rows, info.rows);
      for (const baud of [info.clockHz / 3, info.clockHz / 4.5, 0, NaN]) {
        await assert.rejects(link.useBaud(baud, info), (e: Error) => e instanceof BoardError && /cannot run the link at/.test(e.message));
      }
    } finally {
      await link.close();
    }
    // close() put the board back at its reset rate: a new user finds it there
    const again = await BoardLink.open(sim!.port, { replyTimeoutMs: 500, attempts: 1 });
    try {
      assert.equal((await again.info()).version, 1);
    } finally {
      await again.close();
    }
    const r = await rawExchange(sim!.port, [encodeRequest(CMD.BAUD, 1, Buffer.from([4])), encodeRequest(CMD.BAUD, 2, baudPayload(3))]);
    assert.deepEqual(r.map((x) => [x.seq, x.status]), [[1, 3], [2, 6]]);
  });

  it('refuses memory access and START while the array runs (E_BUSY), and reports the run in STATUS', async function () {
    this.timeout(120_000);
    // one image through a session leaves fashion-cnn's device program on the board
    const m = readBnn(packagePath('models', 'fashion-cnn.bnn'));
    await logitsOf(m, 'board', loadDataset('fashion-mnist', { limit: 1 }).images);
    let link = await BoardLink.open(sim!.port);
    try {
      const info = await link.info();
      const aw = encodeSegment(m, 1, { rows: info.rows, cols: info.cols, word: 64, accBits: info.accBits }).arenaWords;
      await link.close();
      // as many images as the arena holds keep the array busy while the next frames arrive
      const n = Math.floor(info.arenaWords / aw);
      const replies = await rawExchange(sim!.port, [
        encodeRequest(CMD.START, 1, startPayload(2, n, aw, 0)),
        encodeRequest(CMD.WRITE, 2, writePayload(3, 0, new Uint32Array([7]))),
        encodeRequest(CMD.START, 3, startPayload(2, n, aw, 0)),
      ]);
      assert.deepEqual(replies.map((r) => [r.seq, r.status]), [[1, 0], [2, 5], [3, 5]]);
      link = await BoardLink.open(sim!.port);
      const st = await link.waitDone(60_000);
      assert.ok(st.done && !st.busy && st.err === 0 && st.cycles > 1000, JSON.stringify(st));
    } finally {
      await link.close();
    }
  });

  it('a port that is no bitweave board, or none at all: one BoardError line, no hang', async function () {
    this.timeout(60_000);
    await assert.rejects(BoardLink.open('/dev/bitweave-no-such-port'), (e: Error) => e instanceof BoardError && /cannot open \/dev\/bitweave-no-such-port/.test(e.message));
    // a pty with `cat` behind it: it echoes frames but never answers
    const child = spawn('script', ['-qfc', 'tty; cat', '/dev/null'], { stdio: ['pipe', 'pipe', 'ignore'] });
    try {
      const tty = await new Promise<string>((res, rej) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /(\/dev\/pts\/\d+)/.exec(out);
          if (m) res(m[1]);
        });
        setTimeout(() => rej(new Error('script(1) printed no tty')), 5000);
      });
      const link = await BoardLink.open(tty, { replyTimeoutMs: 300, attempts: 2 });
      await assert.rejects(link.info(), (e: Error) => e instanceof BoardError && new RegExp(`${tty} is not a bitweave board`).test(e.message));
      await link.close();
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('a board that stops answering mid-run ends in one BoardError within the timeouts', async function () {
    this.timeout(120_000);
    const m = bconvModel({ H: 9, W: 9, C: 64, outC: 64, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, padBit: 1, inBits: 1, pool: null, outBits: 1, seed: 5 }, rng(5));
    const b = new BoardBackend({ link: { replyTimeoutMs: 300, attempts: 2 }, runTimeoutMs: 3000 });
    await b.load(m);
    const dev = m.segments.findIndex((s) => s.kind === 'device');
    const bitsIn = m.segments[dev].inputs[0];
    sim!.process.kill('SIGSTOP');
    try {
      const t0 = Date.now();
      await assert.rejects(b.runSegment(dev, new Map([[bitsIn, new Uint32Array(2 * 81 * 2)]]), 2), (e: Error) => e instanceof BitweaveError && /failed after 2 attempts \(no answer within 300 ms\)/.test(e.message));
      assert.ok(Date.now() - t0 < 10_000);
    } finally {
      sim!.process.kill('SIGCONT');
      await b.dispose();
    }
  });

  it('CLI: board-sim opens a pty that devices --port lists as a board; a port without one is not listed', async function () {
    this.timeout(120_000);
    const child = spawn(process.execPath, [packagePath('bin', 'bitweave.js'), 'board-sim', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const port = await new Promise<string>((res, rej) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('\n')) res((JSON.parse(out) as { port: string }).port);
        });
        setTimeout(() => rej(new Error(`board-sim printed no port: ${out}`)), 20_000);
      });
      const r = bitweave(['devices', '--port', port, '--json']);
      assertSuccess(r);
      const boards = (JSON.parse(r.stdout) as { kind: string; port: string; rows: number; cols: number; version: number }[]).filter((d) => d.kind === 'board');
      assert.deepEqual(boards.map((b) => [b.port, b.rows, b.cols, b.version]), [[port, 4, 4, 1]]);
      const none = bitweave(['devices', '--port', '/dev/bitweave-no-such-port', '--json']);
      if (none.code === 0) assert.equal((JSON.parse(none.stdout) as { kind: string }[]).filter((d) => d.kind === 'board').length, 0);
      else assertUserError(none, /no serial port answers as a bitweave board|no OpenCL platform/);
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('project --board ulx3s: the array rate and the link-bound rate (at the board\'s baud or --link-baud), the lower one projected', () => {
    const r = bitweave(['project', 'models/fashion-cnn.bnn', '--board', 'ulx3s', '--json']);
    assertSuccess(r);
    const p = JSON.parse(r.stdout) as {
      array: { rows: number; cols: number }; cyclesPerImage: number; clockMHz: number; computeImagesPerSecond: number;
      link: { baud: number; bytesPerImage: number; imagesPerSecond: number }; imagesPerSecond: number; bound: string; projected: boolean;
    };
    // per image: 144 input words in 2 WRITE frames (12 + 7 bytes each), 500 output words in 4 READ frames (14 + 7)
    assert.equal(p.link.bytesPerImage, 144 * 8 + 2 * 19 + 500 * 8 + 4 * 21);
    assert.equal(p.link.imagesPerSecond, p.link.baud / 10 / p.link.bytesPerImage);
    assert.equal(p.computeImagesPerSecond, (p.clockMHz * 1e6) / p.cyclesPerImage);
    assert.equal(p.imagesPerSecond, Math.min(p.link.imagesPerSecond, p.computeImagesPerSecond));
    assert.equal(p.bound, 'link');
    assert.equal(p.projected, true);
    const t = bitweave(['project', 'models/fashion-cnn.bnn', '--board', 'ulx3s']);
    assert.match(t.stdout, /projected [\d.]+ images\/s at \d+ MHz.*bound by the link/);
    // at 2 Mbaud (--link-baud, as the board backend can raise it) the link moves more images
    const f = bitweave(['project', 'models/fashion-cnn.bnn', '--board', 'ulx3s', '--link-baud', '2000000', '--json']);
    assertSuccess(f);
    const q = JSON.parse(f.stdout) as typeof p;
    assert.equal(q.link.baud, 2_000_000);
    assert.equal(q.link.imagesPerSecond, 2_000_000 / 10 / q.link.bytesPerImage);
    assert.ok(q.link.imagesPerSecond > p.link.imagesPerSecond);
  });

  it('CLI: eval --backend board --port gives the reference predictions; a missing port is one line, exit 1', async function () {
    this.timeout(300_000);
    const args = ['eval', 'models/fashion-cnn.bnn', '--dataset', 'fashion-mnist', '--limit', '6', '--json'];
    const ref = bitweave([...args, '--backend', 'reference']);
    assertSuccess(ref);
    const env = { BITWEAVE_BOARD_PORT: '' };
    // at 8 clocks per bit for the work (the simulated board resets at 4), back at the end
    const r = bitweave([...args, '--backend', 'board', '--port', sim!.port, '--link-baud', '6250000'], { env });
    assertSuccess(r);
    const acc = (s: string) => (JSON.parse(s) as { accuracy: number }).accuracy;
    assert.equal(acc(r.stdout), acc(ref.stdout));
    assertUserError(bitweave([...args, '--backend', 'board'], { env }), /give the serial port of the board/);
    assertUserError(bitweave([...args, '--backend', 'board', '--port', sim!.port, '--link-baud', '30000000'], { env }), /cannot run the link at 30000000 baud/);
    assertUserError(bitweave([...args, '--backend', 'board', '--port', '/dev/bitweave-no-such-port'], { env }), /cannot open \/dev\/bitweave-no-such-port/);
  });
});
