/**
 * In-order command queues with profiling on, and every enqueue a runtime needs: buffer
 * write / read / copy / fill / map, NDRange and single work-item (task) launches, flush,
 * finish. Each enqueue validates its sizes and offsets in TypeScript first and returns a
 * CLEvent carrying profiling times.
 *
 * Host memory of non-blocking transfers is pinned twice: by the returned event and by the
 * queue itself until OpenCL reports the command complete, so dropping the event early can
 * never free memory a command still writes. Releasing a queue finishes it first.
 */
import { promisify } from 'node:util';
import { cl, koffi, Ptr } from './api';
import { CLBuffer, checkByteCount } from './buffer';
import { traceCall } from './trace';
import * as C from './constants';
import { Context, ContextState } from './context';
import { check, OpenCLError, OpenCLUsageError } from './errors';
import { CLEvent, waitList } from './event';
import { CLHandle, HandleState } from './handle';
import { pinHostArray } from './host';
import { Kernel } from './kernel';
import { Device } from './platform';
import { handleOut, hostWidths, OutWord, sizeArray } from './widths';

interface Pending {
  event: Ptr;
  hold: unknown;
}

interface QueueState extends HandleState {
  ctx: ContextState;
  /** Retained events of non-blocking commands whose host memory must outlive them. */
  pending: Pending[];
}

function freeQueue(s: HandleState): void {
  const q = s as QueueState;
  const api = cl();
  api.clFinish(q.handle);
  for (const p of q.pending) api.clReleaseEvent(p.event);
  q.pending = [];
  q.ctx.queues.delete(q);
  api.clReleaseCommandQueue(q.handle);
}

export interface QueueOptions {
  /** Profiling timestamps on every event (default true). */
  profiling?: boolean;
  /** Out-of-order execution (default false; bitweave orders work with events). */
  outOfOrder?: boolean;
  /** Use OpenCL 2.0's clCreateCommandQueueWithProperties when the loader has it (default false). */
  withProperties?: boolean;
}

export interface TransferOptions {
  /** Byte offset into the device buffer (default 0). */
  offset?: number;
  /** Bytes to transfer (default: the array's byteLength). */
  bytes?: number;
  /** Block until done (default true). Non-blocking pins the array until the command completes. */
  blocking?: boolean;
  waitFor?: readonly CLEvent[];
}

export interface LaunchOptions {
  /** Global work offset per dimension. */
  offset?: readonly number[];
  waitFor?: readonly CLEvent[];
}

/** A mapped region. `bytes` is the host array itself for wrapHost buffers (zero-copy), else a copy. */
export interface Mapping {
  readonly bytes: Uint8Array;
  readonly zeroCopy: boolean;
  readonly event: CLEvent;
  /** Writes a copy back (write maps) and unmaps; idempotent. */
  unmap(opts?: { waitFor?: readonly CLEvent[] }): CLEvent | null;
}

function checkWorkSizes(what: string, sizes: readonly number[], dims: number, allowZero = false): void {
  if (!Array.isArray(sizes) || sizes.length !== dims) throw new OpenCLUsageError(`${what}: expected ${dims} sizes, got ${JSON.stringify(sizes)}`);
  for (const s of sizes) {
    if (!Number.isSafeInteger(s) || s < (allowZero ? 0 : 1)) throw new OpenCLUsageError(`${what}: sizes must be ${allowZero ? 'non-negative' : 'positive'} integers, got ${JSON.stringify(sizes)}`);
  }
}

export class Queue extends CLHandle<QueueState> {
  readonly profiling: boolean;

  private constructor(
    handle: Ptr,
    readonly context: Context,
    readonly device: Device,
    profiling: boolean,
  ) {
    const state: QueueState = { handle, released: false, free: freeQueue, ctx: context.tracking, pending: [] };
    super(state, 'OpenCL command queue');
    state.ctx.queues.add(state);
    this.profiling = profiling;
  }

  static create(ctx: Context, device: Device = ctx.devices[0], opts: QueueOptions = {}): Queue {
    if (!(ctx instanceof Context)) throw new OpenCLUsageError('Queue.create: expected a Context');
    if (!(device instanceof Device) || !ctx.hasDevice(device)) throw new OpenCLUsageError(`Queue.create: device '${device}' is not in the context`);
    const profiling = opts.profiling ?? true;
    let props = 0n;
    if (profiling) props |= C.CL_QUEUE_PROFILING_ENABLE;
    if (opts.outOfOrder) props |= C.CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE;
    const api = cl();
    const err = new Int32Array(1);
    let h: Ptr | null;
    if (opts.withProperties && api.clCreateCommandQueueWithProperties) {
      // cl_queue_properties is a cl_bitfield (cl_ulong): 64-bit entries on every host
      h = api.clCreateCommandQueueWithProperties(ctx.handle, device.id, new BigUint64Array([BigInt(C.CL_QUEUE_PROPERTIES), props, 0n]), err);
    } else {
      h = api.clCreateCommandQueue(ctx.handle, device.id, props, err);
    }
    if (err[0] !== 0 || !h) throw new OpenCLError('clCreateCommandQueue', err[0] || -6);
    return new Queue(h, ctx, device, profiling);
  }

  // ---- bookkeeping -------------------------------------------------------------------

  /** Wraps the event an enqueue returned; non-blocking host memory is pinned on the queue too. */
  private track(ev: OutWord, hold: unknown): CLEvent {
    const handle = ev.value;
    const e = new CLEvent(handle, hold);
    if (hold !== undefined) {
      check('clRetainEvent', cl().clRetainEvent(handle));
      this.state.pending.push({ event: handle, hold });
    }
    return e;
  }

  /** Drops pins of completed (or failed) commands. */
  private prune(): void {
    const api = cl();
    const status = new Int32Array(1);
    this.state.pending = this.state.pending.filter((p) => {
      const st = api.clGetEventInfo(p.event, C.CL_EVENT_COMMAND_EXECUTION_STATUS, 4, status, null);
      if (st === 0 && status[0] > 0) return true; // still queued / submitted / running
      api.clReleaseEvent(p.event);
      return false;
    });
  }

  private checkBuffer(b: CLBuffer, what: string): void {
    if (!(b instanceof CLBuffer)) throw new OpenCLUsageError(`${what}: expected a CLBuffer`);
    if (b.context !== this.context) throw new OpenCLUsageError(`${what}: the buffer belongs to another context`);
    void b.handle; // throws if released
  }

  // ---- transfers ---------------------------------------------------------------------

  /** Copies `data` (its first `bytes`) into `buffer` at `offset`. */
  write(buffer: CLBuffer, data: ArrayBufferView, opts: TransferOptions = {}): CLEvent {
    return this.transfer('write', buffer, data, opts);
  }

  /** Copies `bytes` (default data.byteLength) from `buffer` at `offset` into `data`. */
  read(buffer: CLBuffer, data: ArrayBufferView, opts: TransferOptions = {}): CLEvent {
    return this.transfer('read', buffer, data, opts);
  }

  private transfer(dir: 'read' | 'write', buffer: CLBuffer, data: ArrayBufferView, opts: TransferOptions): CLEvent {
    const what = `Queue.${dir}`;
    this.checkBuffer(buffer, what);
    if (!ArrayBuffer.isView(data)) throw new OpenCLUsageError(`${what}: expected a TypedArray or DataView`);
    const offset = opts.offset ?? 0;
    const bytes = opts.bytes ?? data.byteLength;
    checkByteCount(`${what}: size`, bytes);
    if (bytes > data.byteLength) throw new OpenCLUsageError(`${what}: ${bytes} bytes requested but the array holds ${data.byteLength}`);
    buffer.checkRange(what, offset, bytes);
    traceCall({ call: dir, buffer: buffer.id, bytes });
    const blocking = opts.blocking ?? true;
    if (!blocking) pinHostArray(data, what);
    const wait = waitList(opts.waitFor, what);
    this.prune();
    const ev = handleOut();
    const api = cl();
    const fn = dir === 'read' ? api.clEnqueueReadBuffer : api.clEnqueueWriteBuffer;
    const call = dir === 'read' ? 'clEnqueueReadBuffer' : 'clEnqueueWriteBuffer';
    check(call, fn(this.handle, buffer.handle, blocking ? 1 : 0, offset, bytes, data, wait.count, wait.handles, ev.bytes));
    return this.track(ev, blocking ? undefined : { data, buffer });
  }

  /** Device-side copy of `bytes` from `src`@srcOffset to `dst`@dstOffset. */
  copy(src: CLBuffer, dst: CLBuffer, opts: { srcOffset?: number; dstOffset?: number; bytes?: number; waitFor?: readonly CLEvent[] } = {}): CLEvent {
    this.checkBuffer(src, 'Queue.copy source');
    this.checkBuffer(dst, 'Queue.copy destination');
    const so = opts.srcOffset ?? 0;
    const dO = opts.dstOffset ?? 0;
    const bytes = opts.bytes ?? Math.min(src.size - so, dst.size - dO);
    src.checkRange('Queue.copy source', so, bytes);
    dst.checkRange('Queue.copy destination', dO, bytes);
    if (src === dst && so < dO + bytes && dO < so + bytes) throw new OpenCLUsageError('Queue.copy: source and destination ranges overlap');
    const wait = waitList(opts.waitFor, 'Queue.copy');
    const ev = handleOut();
    check('clEnqueueCopyBuffer', cl().clEnqueueCopyBuffer(this.handle, src.handle, dst.handle, so, dO, bytes, wait.count, wait.handles, ev.bytes));
    return this.track(ev, undefined);
  }

  /** Fills `bytes` at `offset` with a repeated pattern (1, 2, 4, ..., 128 bytes). */
  fill(buffer: CLBuffer, pattern: ArrayBufferView, opts: { offset?: number; bytes?: number; waitFor?: readonly CLEvent[] } = {}): CLEvent {
    this.checkBuffer(buffer, 'Queue.fill');
    if (!ArrayBuffer.isView(pattern)) throw new OpenCLUsageError('Queue.fill: pattern must be a TypedArray');
    const p = pattern.byteLength;
    if (![1, 2, 4, 8, 16, 32, 64, 128].includes(p)) throw new OpenCLUsageError(`Queue.fill: pattern size must be a power of two up to 128 bytes, got ${p}`);
    const offset = opts.offset ?? 0;
    const bytes = opts.bytes ?? buffer.size - offset;
    buffer.checkRange('Queue.fill', offset, bytes);
    if (offset % p !== 0 || bytes % p !== 0) throw new OpenCLUsageError(`Queue.fill: offset and size must be multiples of the ${p}-byte pattern`);
    const wait = waitList(opts.waitFor, 'Queue.fill');
    const ev = handleOut();
    // OpenCL copies the pattern during the call
    check('clEnqueueFillBuffer', cl().clEnqueueFillBuffer(this.handle, buffer.handle, pattern, p, offset, bytes, wait.count, wait.handles, ev.bytes));
    return this.track(ev, undefined);
  }

  /**
   * Maps `bytes` at `offset` (blocking). For a wrapHost buffer whose runtime maps in place,
   * `bytes` is a view of the wrapped array (zero-copy). Otherwise it is a copy (read maps)
   * or a zeroed array (write-only maps) that `unmap()` copies back: a JS array never points
   * at runtime memory that unmap could free.
   */
  map(buffer: CLBuffer, opts: { read?: boolean; write?: boolean; offset?: number; bytes?: number; waitFor?: readonly CLEvent[] } = {}): Mapping {
    this.checkBuffer(buffer, 'Queue.map');
    const read = opts.read ?? true;
    const write = opts.write ?? false;
    if (!read && !write) throw new OpenCLUsageError('Queue.map: map for read, write or both');
    const offset = opts.offset ?? 0;
    const bytes = opts.bytes ?? buffer.size - offset;
    buffer.checkRange('Queue.map', offset, bytes);
    const flags = (read ? C.CL_MAP_READ : 0n) | (write ? (read ? C.CL_MAP_WRITE : C.CL_MAP_WRITE_INVALIDATE_REGION) : 0n);
    const wait = waitList(opts.waitFor, 'Queue.map');
    const ev = handleOut();
    const err = new Int32Array(1);
    const ptr = cl().clEnqueueMapBuffer(this.handle, buffer.handle, 1, flags, offset, bytes, wait.count, wait.handles, ev.bytes, err);
    if (err[0] !== 0 || !ptr) throw new OpenCLError('clEnqueueMapBuffer', err[0] || -12);
    const event = this.track(ev, undefined);
    const host = buffer.hostArray;
    let view: Uint8Array;
    let zeroCopy = false;
    if (host && ptr === koffi.address(host) + BigInt(offset)) {
      view = new Uint8Array(host.buffer, host.byteOffset + offset, bytes);
      zeroCopy = true;
    } else {
      view = new Uint8Array(bytes);
      if (read) view.set(new Uint8Array(koffi.view(ptr, bytes)));
    }
    let mapped = true;
    const queue = this;
    return {
      bytes: view,
      zeroCopy,
      event,
      unmap(o: { waitFor?: readonly CLEvent[] } = {}): CLEvent | null {
        if (!mapped) return null;
        mapped = false;
        if (write && !zeroCopy) new Uint8Array(koffi.view(ptr, bytes)).set(view);
        const w = waitList(o.waitFor, 'Mapping.unmap');
        const ev2 = handleOut();
        check('clEnqueueUnmapMemObject', cl().clEnqueueUnmapMemObject(queue.handle, buffer.handle, ptr, w.count, w.handles, ev2.bytes));
        return queue.track(ev2, undefined);
      },
    };
  }

  /**
   * Maps `bytes` at `offset` (blocking), hands `use` a view of the mapped memory itself and
   * unmaps when it returns; the result is `use`'s value and the unmap's event (commands that
   * read the data wait for it). With a buffer made with `allocHostPtr` on a device that shares
   * host memory (DeviceInfo.hostUnifiedMemory) neither side copies: this is how a SoC host
   * fills and drains buffers. The view is valid only while `use` runs (the runtime may move or
   * free the memory after the unmap), so `use` must keep neither it nor a view made from it;
   * Queue.map is the variant whose result may be kept.
   */
  mapInPlace<T>(buffer: CLBuffer, opts: { read?: boolean; write?: boolean; offset?: number; bytes?: number; waitFor?: readonly CLEvent[] }, use: (view: Uint8Array) => T): { result: T; event: CLEvent } {
    this.checkBuffer(buffer, 'Queue.mapInPlace');
    if (typeof use !== 'function') throw new OpenCLUsageError('Queue.mapInPlace: expected a function to use the mapped memory');
    const read = opts.read ?? true;
    const write = opts.write ?? false;
    if (!read && !write) throw new OpenCLUsageError('Queue.mapInPlace: map for read, write or both');
    const offset = opts.offset ?? 0;
    const bytes = opts.bytes ?? buffer.size - offset;
    buffer.checkRange('Queue.mapInPlace', offset, bytes);
    const flags = (read ? C.CL_MAP_READ : 0n) | (write ? (read ? C.CL_MAP_WRITE : C.CL_MAP_WRITE_INVALIDATE_REGION) : 0n);
    // a host access like read / write (XRT migrates the buffer on a map): traced as one
    traceCall({ call: write ? 'write' : 'read', buffer: buffer.id, bytes });
    const wait = waitList(opts.waitFor, 'Queue.mapInPlace');
    const ev = handleOut();
    const err = new Int32Array(1);
    const ptr = cl().clEnqueueMapBuffer(this.handle, buffer.handle, 1, flags, offset, bytes, wait.count, wait.handles, ev.bytes, err);
    if (err[0] !== 0 || !ptr) throw new OpenCLError('clEnqueueMapBuffer', err[0] || -12);
    this.track(ev, undefined).release();
    const unmap = (): CLEvent => {
      const un = handleOut();
      check('clEnqueueUnmapMemObject', cl().clEnqueueUnmapMemObject(this.handle, buffer.handle, ptr, 0, null, un.bytes));
      return this.track(un, undefined);
    };
    let result: T;
    try {
      result = use(new Uint8Array(koffi.view(ptr, bytes)));
    } catch (e) {
      // unmapped either way; if that fails too, the exception from `use` is the one to report
      try {
        unmap().release();
      } catch {
        // superseded by `e`
      }
      throw e;
    }
    return { result, event: unmap() };
  }

  // ---- launches ----------------------------------------------------------------------

  /** clEnqueueNDRangeKernel over `global` work-items (1-3 dims), optional work-group `local` size. */
  ndrange(kernel: Kernel, global: readonly number[], local?: readonly number[] | null, opts: LaunchOptions = {}): CLEvent {
    if (!(kernel instanceof Kernel)) throw new OpenCLUsageError('Queue.ndrange: expected a Kernel');
    const dims = Array.isArray(global) ? global.length : 0;
    if (dims < 1 || dims > 3) throw new OpenCLUsageError(`Queue.ndrange: 1 to 3 dimensions, got ${JSON.stringify(global)}`);
    checkWorkSizes('Queue.ndrange global size', global, dims);
    if (local) checkWorkSizes('Queue.ndrange local size', local, dims);
    if (opts.offset) checkWorkSizes('Queue.ndrange offset', opts.offset, dims, true);
    kernel.checkLaunchable();
    const wait = waitList(opts.waitFor, 'Queue.ndrange');
    const toArr = (a: readonly number[]) => sizeArray(a, hostWidths());
    const ev = handleOut();
    const st = cl().clEnqueueNDRangeKernel(this.handle, kernel.handle, dims, opts.offset ? toArr(opts.offset) : null, toArr(global), local ? toArr(local) : null, wait.count, wait.handles, ev.bytes);
    check(`clEnqueueNDRangeKernel(${kernel.name})`, st);
    return this.track(ev, undefined);
  }

  /**
   * A single work-item launch, the shape FPGA kernels (Intel "single work-item", Xilinx
   * task kernels) are written for. clEnqueueTask is deprecated from OpenCL 2.0 on, so
   * `viaNDRange` issues the equivalent NDRange of 1x1x1.
   */
  task(kernel: Kernel, opts: { waitFor?: readonly CLEvent[]; viaNDRange?: boolean } = {}): CLEvent {
    if (opts.viaNDRange) return this.ndrange(kernel, [1], [1], { waitFor: opts.waitFor });
    if (!(kernel instanceof Kernel)) throw new OpenCLUsageError('Queue.task: expected a Kernel');
    kernel.checkLaunchable();
    const wait = waitList(opts.waitFor, 'Queue.task');
    const ev = handleOut();
    check(`clEnqueueTask(${kernel.name})`, cl().clEnqueueTask(this.handle, kernel.handle, wait.count, wait.handles, ev.bytes));
    return this.track(ev, undefined);
  }

  // ---- synchronisation ---------------------------------------------------------------

  flush(): void {
    check('clFlush', cl().clFlush(this.handle));
  }

  /** Blocks until every command of the queue completed. */
  finish(): void {
    check('clFinish', cl().clFinish(this.handle));
    this.prune();
  }

  private asyncFinishes = 0;
  private releaseAfterFinish = false;

  /** clFinish on a koffi worker thread: the event loop keeps running meanwhile. */
  async finishAsync(): Promise<void> {
    const h = this.handle;
    this.asyncFinishes++;
    try {
      check('clFinish', await promisify(cl().clFinish.async)(h));
      this.prune();
    } finally {
      this.asyncFinishes--;
      if (this.asyncFinishes === 0 && this.releaseAfterFinish) super.release();
    }
  }

  /** Finishes, then releases; while finishAsync runs, the release waits for it. */
  override release(): void {
    if (this.asyncFinishes > 0) {
      this.releaseAfterFinish = true;
      return;
    }
    super.release();
  }
}
