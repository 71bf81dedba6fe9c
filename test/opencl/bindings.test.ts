/**
 * The OpenCL bindings on PoCL (installed by `make setup`): enumeration, builds, launches,
 * transfers, profiling, binaries, release, and several devices through POCL_DEVICES. Skips
 * with a visible message only when the machine has no OpenCL platform.
 */
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { BitweaveError } from '../../host/core/errors';
import { cl } from '../../host/opencl/api';
import {
  alignedArray,
  allDevices,
  BuildProgramError,
  CLBuffer,
  CLEvent,
  Context,
  Device,
  findDevices,
  Kernel,
  OpenCLError,
  OpenCLUnavailableError,
  OpenCLUsageError,
  platforms,
  Program,
  Queue,
  selectDevice,
  selectDevices,
} from '../../host/opencl';
import { nodeScript } from '../helpers/run';
import { requireOrSkip } from '../helpers/skip';

const child = (script: string, env: NodeJS.ProcessEnv, flags: string[] = []) => nodeScript(script, { env, flags, timeout: 120000 });

const OPENCL_INDEX = path.resolve(__dirname, '../../host/opencl/index.js');

const SOURCE = `
__kernel void vadd(__global const float *a, __global const float *b, __global float *c, uint n) {
  uint i = get_global_id(0);
  if (i < n) c[i] = a[i] + b[i];
}

/* match count of row r of W against one activation vector: sum over words of popcount(xnor) */
__kernel void xnor_popcount(__global const ulong *act, __global const ulong *w, __global uint *out, uint words) {
  uint r = get_global_id(0);
  uint acc = 0;
  for (uint i = 0; i < words; i++) acc += popcount(~(act[i] ^ w[r * words + i]));
  out[r] = acc;
}

/* the same as one FPGA-style single work-item kernel: loops over every row itself */
__kernel void xnor_popcount_task(__global const ulong *act, __global const ulong *w, __global uint *out, uint words, uint rows) {
  for (uint r = 0; r < rows; r++) {
    uint acc = 0;
    for (uint i = 0; i < words; i++) acc += popcount(~(act[i] ^ w[r * words + i]));
    out[r] = acc;
  }
}

/* work-group sums through __local scratch */
__kernel void group_sum(__global const uint *x, __global uint *sums, __local uint *scratch) {
  uint l = get_local_id(0), n = get_local_size(0);
  scratch[l] = x[get_global_id(0)];
  barrier(CLK_LOCAL_MEM_FENCE);
  if (l == 0) {
    uint s = 0;
    for (uint i = 0; i < n; i++) s += scratch[i];
    sums[get_group_id(0)] = s;
  }
}
`;

/** Deterministic 64-bit words as little-endian uint32 pairs. */
function randomWords(count: number, seed: number): BigUint64Array {
  let s = seed >>> 0;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0), s);
  return BigUint64Array.from({ length: count }, () => (BigInt(next()) << 32n) | BigInt(next()));
}

function popcount64(x: bigint): number {
  let n = 0;
  for (; x; x &= x - 1n) n++;
  return n;
}

function xnorPopcountRef(act: BigUint64Array, w: BigUint64Array, rows: number, words: number): Uint32Array {
  const mask = (1n << 64n) - 1n;
  return Uint32Array.from({ length: rows }, (_, r) => {
    let acc = 0;
    for (let i = 0; i < words; i++) acc += popcount64(~(act[i] ^ w[r * words + i]) & mask);
    return acc;
  });
}

describe('OpenCL bindings on PoCL', function () {
  let dev: Device;
  let ctx: Context;
  let queue: Queue;
  let program: Program;

  before(function () {
    if (!requireOrSkip(this, () => platforms(), OpenCLUnavailableError)) return;
    dev = selectDevice();
    ctx = Context.create(dev);
    queue = Queue.create(ctx, dev);
    program = Program.fromSource(ctx, SOURCE, { options: '-cl-kernel-arg-info' });
  });

  after(() => {
    for (const h of [program, queue, ctx]) h?.release();
  });

  it('enumerates platforms and devices with their properties', () => {
    const ps = platforms();
    assert.ok(ps.length >= 1);
    const pocl = ps.find((p) => /Portable Computing Language/.test(p.info().name));
    assert.ok(pocl, `a PoCL platform among ${ps.map((p) => p.name).join(', ')}`);
    assert.match(pocl.info().version, /^OpenCL \d\.\d/);
    const devs = allDevices();
    assert.ok(devs.length >= 1);
    const i = dev.info();
    assert.ok(i.name.length > 0 && i.vendor.length > 0);
    assert.match(i.version, /^OpenCL \d\.\d/);
    assert.ok(i.computeUnits >= 1 && i.maxClockMHz >= 0);
    assert.ok(i.globalMemBytes > 0 && i.maxAllocBytes > 0 && i.maxAllocBytes <= i.globalMemBytes);
    assert.ok(i.localMemBytes > 0 && i.maxWorkGroupSize >= 1 && i.maxWorkItemSizes.length >= 3);
    assert.ok(i.available && i.compilerAvailable && i.littleEndian);
    assert.ok(i.memBaseAddrAlignBits >= 8);
  });

  it('selects devices by type, name and vendor substring', () => {
    assert.ok(findDevices({ type: 'cpu' }).length >= 1, 'PoCL exposes CPU devices');
    assert.deepEqual(findDevices({ type: 'accelerator' }).filter((d) => /pthread|basic|cpu/.test(d.name)), []);
    assert.equal(findDevices({ name: dev.name.slice(0, 5).toUpperCase() })[0].id, findDevices({ name: dev.name.slice(0, 5) })[0].id);
    assert.ok(findDevices({ platform: 'portable computing' }).length >= 1);
    assert.deepEqual(findDevices({ name: 'no-such-device-xyz' }), []);
    assert.throws(() => selectDevices({ name: 'no-such-device-xyz' }), (e: Error) => e instanceof OpenCLUnavailableError && /no OpenCL device matches name="no-such-device-xyz".*devices present/.test(e.message));
    assert.throws(() => findDevices({ type: 'fpga' as never }), OpenCLUsageError);
  });

  it('builds from source and runs vector add as an NDRange with profiling times in order', () => {
    const n = 1000;
    const a = Float32Array.from({ length: n }, (_, i) => i * 0.5);
    const b = Float32Array.from({ length: n }, (_, i) => 1000 - i);
    const A = CLBuffer.fromArray(ctx, a, { access: 'read-only' });
    const B = CLBuffer.create(ctx, n * 4, { access: 'read-only' });
    const C = CLBuffer.create(ctx, n * 4, { access: 'write-only' });
    const k = program.createKernel('vadd');
    try {
      assert.deepEqual(program.kernelNames().sort(), ['group_sum', 'vadd', 'xnor_popcount', 'xnor_popcount_task']);
      assert.equal(k.numArgs, 4);
      assert.deepEqual(k.argInfo(3), { name: 'n', typeName: 'uint', address: 'private' });
      const w = queue.write(B, b);
      k.setArgs(A, B, C, n); // the plain number takes its C type (uint) from the argument info
      const ev = queue.ndrange(k, [1024], [64], { waitFor: [w] });
      ev.wait();
      assert.equal(ev.status(), 'complete');
      assert.equal(ev.commandType, 'ndrange-kernel');
      const p = ev.profile();
      assert.ok(p.queued <= p.submit && p.submit <= p.start && p.start <= p.end, JSON.stringify(p, (_, v) => (typeof v === 'bigint' ? String(v) : v)));
      assert.equal(p.durationNs, Number(p.end - p.start));
      const wp = w.profile();
      assert.ok(wp.end <= p.end, 'the write the launch waited for ended first');
      const c = new Float32Array(n);
      queue.read(C, c).wait();
      for (let i = 0; i < n; i++) assert.equal(c[i], Math.fround(a[i] + b[i]));
    } finally {
      [k, A, B, C].forEach((h) => h.release());
    }
  });

  it('runs an xnor-popcount kernel (OpenCL popcount) as NDRange and as single work-item tasks', () => {
    const rows = 37;
    const words = 9;
    const act = randomWords(words, 7);
    const w = randomWords(rows * words, 11);
    const expected = xnorPopcountRef(act, w, rows, words);
    const A = CLBuffer.fromArray(ctx, act);
    const W = CLBuffer.fromArray(ctx, w);
    const O = CLBuffer.create(ctx, rows * 4);
    const nd = program.createKernel('xnor_popcount');
    const task = program.createKernel('xnor_popcount_task');
    try {
      nd.setArgs(A, W, O, { type: 'uint', value: words });
      queue.ndrange(nd, [rows]);
      const out = new Uint32Array(rows);
      queue.read(O, out);
      assert.deepEqual(out, expected);

      task.setArgs(A, W, O, { type: 'uint', value: words }, { type: 'uint', value: rows });
      for (const viaNDRange of [false, true]) {
        queue.fill(O, new Uint32Array([0xdeadbeef]));
        const ev = queue.task(task, { viaNDRange });
        ev.wait();
        // PoCL implements clEnqueueTask as a 1x1x1 NDRange and reports CL_COMMAND_NDRANGE_KERNEL for it
        assert.ok(viaNDRange ? ev.commandType === 'ndrange-kernel' : ['task', 'ndrange-kernel'].includes(ev.commandType), ev.commandType);
        const got = new Uint32Array(rows);
        queue.read(O, got);
        assert.deepEqual(got, expected, `task via ${viaNDRange ? 'NDRange 1x1x1' : 'clEnqueueTask'}`);
      }
    } finally {
      [nd, task, A, W, O].forEach((h) => h.release());
    }
  });

  it('passes __local memory arguments by size', () => {
    const group = 16;
    const x = Uint32Array.from({ length: 64 }, (_, i) => i + 1);
    const X = CLBuffer.fromArray(ctx, x);
    const S = CLBuffer.create(ctx, (x.length / group) * 4);
    const k = program.createKernel('group_sum');
    try {
      k.setArgs(X, S, { local: group * 4 });
      queue.ndrange(k, [x.length], [group]);
      const sums = new Uint32Array(x.length / group);
      queue.read(S, sums);
      assert.deepEqual([...sums], [0, 1, 2, 3].map((g) => x.slice(g * group, (g + 1) * group).reduce((s, v) => s + v, 0)));
    } finally {
      [k, X, S].forEach((h) => h.release());
    }
  });

  it('a failed build throws CL_BUILD_PROGRAM_FAILURE carrying the compiler log', () => {
    assert.throws(
      () => Program.fromSource(ctx, '__kernel void broken(__global int *x) { x[0] = undeclared_name + ; }', { options: '-DBITWEAVE_TEST=1' }),
      (e: unknown) => {
        assert.ok(e instanceof BuildProgramError && e instanceof OpenCLError && e instanceof BitweaveError);
        assert.equal(e.clName, 'CL_BUILD_PROGRAM_FAILURE');
        assert.equal(e.clCode, -11);
        assert.match(e.buildLog, /error/i);
        assert.match(e.buildLog, /undeclared_name|expected expression/);
        assert.match(e.message, /CL_BUILD_PROGRAM_FAILURE/);
        assert.match(e.message, /compiler log/);
        assert.equal(e.options, '-DBITWEAVE_TEST=1');
        return true;
      },
    );
  });

  it('invalid kernel arguments and names give typed errors with their CL name', () => {
    const k = program.createKernel('vadd');
    try {
      const clName = (name: string) => (e: unknown) => e instanceof OpenCLError && e.clName === name;
      // launch before every argument was set: the runtime's check
      assert.throws(() => queue.ndrange(k, [4]), clName('CL_INVALID_KERNEL_ARGS'));
      // a 2-byte value for a uint argument: the runtime's check
      assert.throws(() => k.setArg(3, new Uint8Array(2)), clName('CL_INVALID_ARG_SIZE'));
      assert.throws(() => program.createKernel('no_such_kernel'), (e: unknown) => clName('CL_INVALID_KERNEL_NAME')(e) && /defines: .*vadd/.test((e as Error).message));
      // caught in TypeScript before any C call
      assert.throws(() => k.setArg(4, 1), (e: unknown) => e instanceof OpenCLUsageError && /4 argument\(s\), index 4/.test((e as Error).message));
      assert.throws(() => k.setArg(-1, 1), OpenCLUsageError);
      assert.throws(() => k.setArg(3, { type: 'uint', value: -1 }), OpenCLUsageError);
      assert.throws(() => k.setArg(3, { type: 'uint', value: 1.5 }), OpenCLUsageError);
      assert.throws(() => k.setArg(3, { type: 'uchar', value: 256 }), OpenCLUsageError);
      assert.throws(() => k.setArg(3, { local: 0 }), OpenCLUsageError);
      assert.throws(() => k.setArgs(1, 2), OpenCLUsageError);
      assert.throws(() => queue.ndrange(k, [0]), OpenCLUsageError);
      assert.throws(() => queue.ndrange(k, [4, 4, 4, 4]), OpenCLUsageError);
      assert.throws(() => queue.ndrange(k, [4], [2, 2]), OpenCLUsageError);
    } finally {
      k.release();
    }
  });

  it('rejects out-of-range transfers in TypeScript before any OpenCL call', () => {
    const B = CLBuffer.create(ctx, 64);
    const api = cl();
    const saved = { read: api.clEnqueueReadBuffer, write: api.clEnqueueWriteBuffer, map: api.clEnqueueMapBuffer };
    let calls = 0;
    api.clEnqueueReadBuffer = (...args) => (calls++, saved.read(...args));
    api.clEnqueueWriteBuffer = (...args) => (calls++, saved.write(...args));
    api.clEnqueueMapBuffer = (...args) => (calls++, saved.map(...args));
    try {
      const usage = (re: RegExp) => (e: unknown) => e instanceof OpenCLUsageError && re.test((e as Error).message);
      assert.throws(() => queue.read(B, new Uint8Array(65)), usage(/\[0, 65\) lie outside the 64-byte buffer/));
      assert.throws(() => queue.read(B, new Uint8Array(16), { offset: 56 }), usage(/\[56, 72\) lie outside/));
      assert.throws(() => queue.read(B, new Uint8Array(8), { bytes: 16 }), usage(/16 bytes requested but the array holds 8/));
      assert.throws(() => queue.write(B, new Uint8Array(8), { offset: -1 }), OpenCLUsageError);
      assert.throws(() => queue.write(B, new Uint8Array(8), { offset: 1.5 }), OpenCLUsageError);
      assert.throws(() => queue.write(B, new Uint8Array(0)), OpenCLUsageError);
      assert.throws(() => queue.write(B, [1, 2, 3] as unknown as Uint8Array), OpenCLUsageError);
      assert.throws(() => queue.map(B, { offset: 60, bytes: 8 }), OpenCLUsageError);
      assert.throws(() => CLBuffer.fromArray(ctx, new Uint8Array(4), { bytes: 8 }), OpenCLUsageError);
      assert.throws(() => CLBuffer.create(ctx, 0), OpenCLUsageError);
      assert.throws(() => CLBuffer.create(ctx, 2 ** 60), OpenCLUsageError);
      assert.equal(calls, 0, 'no enqueue reached OpenCL');
      // and a valid one does reach it
      queue.read(B, new Uint8Array(64));
      assert.equal(calls, 1);
    } finally {
      Object.assign(api, { clEnqueueReadBuffer: saved.read, clEnqueueWriteBuffer: saved.write, clEnqueueMapBuffer: saved.map });
      B.release();
    }
  });

  it('round-trips program binaries (CL_PROGRAM_BINARIES) and rejects a bad binary per device', () => {
    const bins = program.binaries();
    assert.equal(bins.length, 1);
    assert.equal(bins[0].device.id, dev.id);
    assert.ok(bins[0].binary.byteLength > 1000);
    const again = Program.fromBinary(ctx, bins);
    const rows = 5;
    const words = 3;
    const act = randomWords(words, 3);
    const w = randomWords(rows * words, 4);
    const A = CLBuffer.fromArray(ctx, act);
    const W = CLBuffer.fromArray(ctx, w);
    const O = CLBuffer.create(ctx, rows * 4);
    const k = again.createKernel('xnor_popcount');
    try {
      assert.deepEqual(again.kernelNames().sort(), program.kernelNames().sort());
      k.setArgs(A, W, O, { type: 'uint', value: words });
      queue.ndrange(k, [rows]);
      const out = new Uint32Array(rows);
      queue.read(O, out);
      assert.deepEqual(out, xnorPopcountRef(act, w, rows, words));
    } finally {
      [k, again, A, W, O].forEach((h) => h.release());
    }
    const junk = new Uint8Array(256).fill(0x5a);
    assert.throws(
      () => Program.fromBinary(ctx, junk),
      (e: unknown) => e instanceof OpenCLError && e.clName === 'CL_INVALID_BINARY' && e.message.includes(dev.name) && e instanceof BitweaveError,
    );
    assert.throws(() => Program.fromBinary(ctx, new Uint8Array(0)), OpenCLUsageError);
  });

  it('wraps aligned TypedArrays zero-copy (CL_MEM_USE_HOST_PTR) and maps copies of device buffers', () => {
    const n = 256;
    const host = alignedArray(Float32Array, n, 4096);
    const a = Float32Array.from({ length: n }, (_, i) => i);
    const A = CLBuffer.fromArray(ctx, a);
    const H = CLBuffer.wrapHost(ctx, host);
    const k = program.createKernel('vadd');
    try {
      k.setArgs(A, A, H, n);
      queue.ndrange(k, [n]);
      const m = queue.map(H);
      assert.equal(m.zeroCopy, true, 'PoCL maps a USE_HOST_PTR buffer in place');
      assert.equal(m.bytes.buffer, host.buffer);
      m.unmap();
      queue.finish();
      assert.deepEqual([...host.slice(0, 4)], [0, 2, 4, 6]);

      const D = CLBuffer.create(ctx, 16);
      queue.write(D, new Uint32Array([1, 2, 3, 4]));
      const md = queue.map(D, { read: true, write: true });
      assert.equal(md.zeroCopy, false);
      assert.deepEqual([...new Uint32Array(md.bytes.buffer, md.bytes.byteOffset, 4)], [1, 2, 3, 4]);
      new Uint32Array(md.bytes.buffer, md.bytes.byteOffset, 4)[2] = 99;
      md.unmap();
      assert.equal(md.unmap(), null, 'unmap is idempotent');
      const back = new Uint32Array(4);
      queue.read(D, back);
      assert.deepEqual([...back], [1, 2, 99, 4]);
      D.release();
      assert.throws(() => CLBuffer.wrapHost(ctx, new Uint8Array(0)), OpenCLUsageError);
    } finally {
      [k, A, H].forEach((h) => h.release());
    }
  });

  it('non-blocking transfers pin their arrays and complete through waitAsync / finishAsync', async () => {
    const n = 4096;
    const src = Uint32Array.from({ length: n }, (_, i) => i * 3);
    const B = CLBuffer.create(ctx, n * 4);
    try {
      const w = queue.write(B, src, { blocking: false });
      const dst = new Uint32Array(n);
      const r = queue.read(B, dst, { blocking: false, waitFor: [w] });
      await r.waitAsync();
      assert.deepEqual(dst, src);
      const again = new Uint32Array(n);
      queue.read(B, again, { blocking: false });
      await queue.finishAsync();
      assert.deepEqual(again, src);
      CLEvent.waitAll([w, r]);
    } finally {
      B.release();
    }
  });

  it('release is idempotent, and released handles never reach C', () => {
    const c2 = Context.create(dev);
    const q2 = Queue.create(c2, dev);
    const p2 = Program.fromSource(c2, SOURCE);
    const k2: Kernel = p2.createKernel('vadd');
    const buf = CLBuffer.create(c2, 16);
    k2.setArg(0, buf);
    buf.release();
    buf.release();
    buf.dispose();
    assert.equal(buf.released, true);
    assert.throws(() => buf.handle, OpenCLUsageError);
    assert.throws(() => q2.read(buf, new Uint8Array(16)), (e: unknown) => e instanceof OpenCLUsageError && /already released/.test((e as Error).message));
    k2.setArg(1, CLBuffer.create(c2, 16)).setArg(2, CLBuffer.create(c2, 16)).setArg(3, { type: 'uint', value: 4 });
    assert.throws(() => q2.ndrange(k2, [4]), (e: unknown) => e instanceof OpenCLUsageError && /argument 0: its buffer was released/.test((e as Error).message));
    // a buffer from another context is refused before OpenCL sees it
    const foreign = CLBuffer.create(ctx, 16);
    assert.throws(() => q2.write(foreign, new Uint8Array(16)), /another context/);
    foreign.release();
    {
      using scoped = CLBuffer.create(c2, 8);
      assert.equal(scoped.released, false);
    }
    for (const h of [k2, p2, q2, c2]) {
      h.release();
      h.release();
      assert.equal(h.released, true);
    }
    assert.throws(() => Queue.create(c2, dev), OpenCLUsageError);
    // OpenCL 2.0's clCreateCommandQueueWithProperties when the loader has it (else the 1.2 call)
    const q3 = Queue.create(ctx, dev, { withProperties: true });
    q3.finish();
    q3.release();
  });

  it('a buffer larger than the device allows is a typed OpenCL error, not a crash', () => {
    const tooBig = dev.info().maxAllocBytes + 4096;
    assert.throws(
      () => CLBuffer.create(ctx, tooBig),
      (e: unknown) => e instanceof OpenCLError && ['CL_INVALID_BUFFER_SIZE', 'CL_MEM_OBJECT_ALLOCATION_FAILURE', 'CL_OUT_OF_HOST_MEMORY'].includes(e.clName),
    );
  });

  it('releases leaked handles through the FinalizationRegistry', function () {
    const r = child(
      `const o = require(${JSON.stringify(OPENCL_INDEX)});
       const dev = o.selectDevice();
       const ctx = o.Context.create(dev);
       (function leak() { for (let i = 0; i < 20; i++) o.CLBuffer.create(ctx, 1024); })();
       (async () => {
         for (let i = 0; i < 10 && o.leakedHandleCount() < 20; i++) { global.gc(); await new Promise((res) => setTimeout(res, 20)); }
         console.log(JSON.stringify({ leaked: o.leakedHandleCount() }));
         ctx.release();
       })();`,
      {},
      ['--expose-gc'],
    );
    assert.equal(r.code, 0, r.stderr);
    assert.ok(JSON.parse(r.stdout).leaked >= 20, r.stdout);
  });

  it('enumerates and runs on two PoCL devices exposed by POCL_DEVICES="pthread pthread"', () => {
    const r = child(
      `const o = require(${JSON.stringify(OPENCL_INDEX)});
       const devs = o.findDevices({ platform: 'Portable Computing Language' });
       const ctx = o.Context.create(devs);
       const prog = o.Program.fromSource(ctx, ${JSON.stringify(SOURCE)});
       const results = devs.map((d, i) => {
         const q = o.Queue.create(ctx, d);
         const n = 64;
         const a = Float32Array.from({ length: n }, (_, j) => j + 100 * i);
         const A = o.CLBuffer.fromArray(ctx, a), C = o.CLBuffer.create(ctx, n * 4);
         const k = prog.createKernel('vadd').setArgs(A, A, C, { type: 'uint', value: n });
         const ev = q.ndrange(k, [n]);
         ev.wait();
         const c = new Float32Array(n);
         q.read(C, c);
         const ok = c.every((v, j) => v === 2 * a[j]);
         [k, A, C, q].forEach((h) => h.release());
         return { index: d.index, name: d.name, ok, ns: ev.profile().durationNs >= 0 };
       });
       const bins = prog.binaries();
       console.log(JSON.stringify({ count: devs.length, results, binaries: bins.length }));
       prog.release(); ctx.release();`,
      { POCL_DEVICES: 'pthread pthread' },
    );
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.count, 2);
    assert.deepEqual(out.results.map((x: { index: number }) => x.index), [0, 1]);
    assert.ok(out.results.every((x: { ok: boolean; ns: boolean }) => x.ok && x.ns), r.stdout);
    assert.equal(out.binaries, 2, 'one binary per device of a two-device program');
  });

  it('a platform without devices gives one clear error', () => {
    const r = child(
      `const o = require(${JSON.stringify(OPENCL_INDEX)});
       try { o.selectDevice(); console.log('{}'); } catch (e) { console.log(JSON.stringify({ name: e.name, message: e.message })); }`,
      { POCL_DEVICES: 'no-such-pocl-driver' },
    );
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.name, 'OpenCLUnavailableError');
    assert.match(out.message, /no OpenCL device.*devices present: none.*make setup/);
  });
});
