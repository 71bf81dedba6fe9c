/**
 * How the opencl backend moves arenas between host and device: zero-copy
 * (CL_MEM_ALLOC_HOST_PTR + map / unmap, the default on devices with
 * CL_DEVICE_HOST_UNIFIED_MEMORY, which PoCL's CPU device reports) or copies through
 * 64-byte aligned staging arrays (Intel's FPGA DMA alignment), forced by an option or
 * BITWEAVE_OPENCL_ZERO_COPY. Both give the reference's logits bit for bit.
 */
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { OpenCLBackend } from '../../host/backends/opencl';
import { DMA_ALIGN, dmaAligned } from '../../host/backends/opencl';
import { compile } from '../../host/compile/compile';
import { addressOf, alignedArray, CLBuffer, Context, OpenCLUnavailableError, OpenCLUsageError, platforms, Queue, selectDevice } from '../../host/opencl';
import { packageRoot } from '../../host/core/paths';
import { loadModel } from '../../host/runtime/load';
import { Session } from '../../host/runtime/session';
import { bitsOf, logitsOf } from '../helpers/native-models';
import { randomImages, randomModel } from '../helpers/random-model';
import { requireOrSkip } from '../helpers/skip';

/** Host arrays given to Queue.write / Queue.read while `f` runs, and mapInPlace calls. */
async function recordingTransfers<T>(f: () => Promise<T>): Promise<{ result: T; copies: ArrayBufferView[]; maps: number }> {
  const proto = Queue.prototype as unknown as Record<'write' | 'read' | 'mapInPlace', (...a: unknown[]) => unknown>;
  const saved = { write: proto.write, read: proto.read, mapInPlace: proto.mapInPlace };
  const copies: ArrayBufferView[] = [];
  let maps = 0;
  proto.write = function (this: Queue, ...a: unknown[]) {
    copies.push(a[1] as ArrayBufferView);
    return saved.write.apply(this, a);
  };
  proto.read = function (this: Queue, ...a: unknown[]) {
    copies.push(a[1] as ArrayBufferView);
    return saved.read.apply(this, a);
  };
  proto.mapInPlace = function (this: Queue, ...a: unknown[]) {
    maps++;
    return saved.mapInPlace.apply(this, a);
  };
  try {
    return { result: await f(), copies, maps };
  } finally {
    Object.assign(proto, saved);
  }
}

describe('opencl backend transfers: zero-copy arenas and aligned staging', function () {
  before(function () {
    requireOrSkip(this, () => platforms(), OpenCLUnavailableError);
  });

  it('dmaAligned keeps aligned arrays and copies the others to 64-byte aligned memory', () => {
    const aligned = alignedArray(Uint32Array, 10, DMA_ALIGN);
    assert.equal(dmaAligned(aligned), aligned);
    const raw = new Uint32Array(alignedArray(Uint32Array, 20, DMA_ALIGN).buffer, 0).subarray(1, 11);
    raw.set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const copy = dmaAligned(raw);
    assert.notEqual(copy, raw);
    assert.equal(addressOf(copy) % BigInt(DMA_ALIGN), 0n);
    assert.deepEqual([...copy], [...raw]);
    assert.ok(dmaAligned(new Int32Array([-1, 5])) instanceof Int32Array);
  });

  it('Queue.mapInPlace fills and drains an ALLOC_HOST_PTR buffer in place, and unmaps when the callback throws', () => {
    const dev = selectDevice();
    const ctx = Context.create(dev);
    const q = Queue.create(ctx, dev);
    const b = CLBuffer.create(ctx, 64, { allocHostPtr: true });
    try {
      q.mapInPlace(b, { read: false, write: true }, (v) => v.set(Array.from({ length: 64 }, (_, i) => i * 3))).event.release();
      const back = new Uint8Array(64);
      q.read(b, back);
      assert.deepEqual([...back], Array.from({ length: 64 }, (_, i) => (i * 3) & 255));
      const { result, event } = q.mapInPlace(b, { offset: 8, bytes: 4 }, (v) => [...v]);
      event.release();
      assert.deepEqual(result, [24, 27, 30, 33]);
      assert.throws(() => q.mapInPlace(b, {}, () => { throw new Error('from the callback'); }), /from the callback/);
      // unmapped despite the throw: the buffer maps and releases normally
      q.mapInPlace(b, { bytes: 1 }, (v) => v[0]).event.release();
      assert.throws(() => q.mapInPlace(b, { offset: 60, bytes: 8 }, () => 0), OpenCLUsageError);
      q.finish();
    } finally {
      [b, q, ctx].forEach((h) => h.release());
    }
  });

  it('PoCL (host-unified memory) runs zero-copy by default; forced copies use aligned staging; logits equal the reference', async () => {
    const m = compile(randomModel({ seed: 31, actBits: 2 }));
    const t = m.tensors[m.input];
    const x = randomImages(32, 13, [t.c, t.h, t.w]);
    const want = bitsOf(await logitsOf(m, 'reference', x));
    const run = async (opts: { zeroCopy?: boolean }) =>
      recordingTransfers(async () => {
        const s = await Session.create(m, { backend: 'opencl', batch: 13, threads: 1, backendOptions: { chunk: 4, ...opts } });
        try {
          const logits = (await s.run(x)).logits;
          return { logits, transfers: (s as unknown as { backend: OpenCLBackend }).backend.transfers };
        } finally {
          await s.close();
        }
      });
    const zero = await run({});
    assert.deepEqual(zero.result.transfers, ['zero-copy']);
    assert.ok(zero.maps >= 2 * 4, `13 images in chunks of 4: a fill and a drain map per chunk (${zero.maps})`);
    assert.deepEqual(bitsOf(zero.result.logits), want);

    const copied = await run({ zeroCopy: false });
    assert.deepEqual(copied.result.transfers, ['copy']);
    assert.equal(copied.maps, 0);
    assert.ok(copied.copies.length >= 8, 'uploads plus a write and a read per chunk');
    for (const a of copied.copies) assert.equal(addressOf(a) % BigInt(DMA_ALIGN), 0n, 'every host array given to clEnqueueRead/WriteBuffer is 64-byte aligned');
    assert.deepEqual(bitsOf(copied.result.logits), want);
    // zero-copy arenas hand no host array to read / write: only the one-time uploads remain
    assert.ok(zero.copies.length < copied.copies.length);
  });

  it('BITWEAVE_OPENCL_ZERO_COPY=0 forces copies on the shipped fashion-cnn model, with identical logits; other values are refused', async () => {
    const m = await loadModel(path.join(packageRoot(), 'models', 'fashion-cnn.bnn'));
    const x = randomImages(5, 9, [1, 28, 28]);
    const was = process.env.BITWEAVE_OPENCL_ZERO_COPY;
    const withEnv = async (v: string) => {
      process.env.BITWEAVE_OPENCL_ZERO_COPY = v;
      const b = new OpenCLBackend({ threads: 1, chunk: 4 });
      await b.load(m);
      const modes = b.transfers;
      await b.dispose();
      return { modes, logits: bitsOf(await logitsOf(m, 'opencl', x, { batch: 9, threads: 1 })) };
    };
    try {
      const copy = await withEnv('0');
      const zero = await withEnv('1');
      assert.deepEqual(copy.modes, ['copy']);
      assert.deepEqual(zero.modes, ['zero-copy']);
      assert.deepEqual(copy.logits, zero.logits);
      assert.deepEqual(zero.logits, bitsOf(await logitsOf(m, 'reference', x, { batch: 9 })));
      process.env.BITWEAVE_OPENCL_ZERO_COPY = 'yes';
      assert.throws(() => new OpenCLBackend({}), /BITWEAVE_OPENCL_ZERO_COPY must be 0 or 1, got 'yes'/);
    } finally {
      if (was === undefined) delete process.env.BITWEAVE_OPENCL_ZERO_COPY;
      else process.env.BITWEAVE_OPENCL_ZERO_COPY = was;
    }
  });
});
