/**
 * Device buffers. Three ways to create one:
 *  - `CLBuffer.create(ctx, bytes)`: device memory, filled later with queue.write;
 *  - `CLBuffer.fromArray(ctx, array)`: CL_MEM_COPY_HOST_PTR, the array is copied at creation
 *    and may be reused at once (always safe);
 *  - `CLBuffer.wrapHost(ctx, array)`: CL_MEM_USE_HOST_PTR, zero-copy where the runtime
 *    allows it. Safe because (see host.ts) the array's memory is pinned and untransferable,
 *    the buffer keeps the array alive, and releasing the buffer first waits for every queue
 *    of its context. The contents are only coherent between commands: read them through
 *    queue.map/unmap (which then returns the array itself, no copy) or after queue.finish().
 *    On PoCL's CPU devices the host memory is used in place; on FPGA boards (XRT, Intel)
 *    the runtime keeps a device copy and syncs on map/unmap, which still avoids one staging
 *    copy. Use `alignedArray` (host.ts) for page-aligned memory.
 */
import { cl } from './api';
import * as C from './constants';
import { Context, ContextState, drainQueues } from './context';
import { OpenCLError, OpenCLUsageError } from './errors';
import { CLHandle, HandleState } from './handle';
import { pinHostArray } from './host';
import { traceCall } from './trace';

let nextBufferId = 1;

export type DeviceAccess = 'read-write' | 'read-only' | 'write-only';
export type HostAccess = 'read-write' | 'read-only' | 'write-only' | 'none';

export interface BufferOptions {
  /** How kernels use the buffer (default read-write). */
  access?: DeviceAccess;
  /** How the host uses it (default read-write); narrower access lets runtimes skip copies. */
  hostAccess?: HostAccess;
  /** CL_MEM_ALLOC_HOST_PTR: host-visible memory the runtime allocates (pinned staging on boards). */
  allocHostPtr?: boolean;
}

interface BufferState extends HandleState {
  /** The wrapped host array of a USE_HOST_PTR buffer. */
  host: ArrayBufferView | null;
  ctx: ContextState;
}

function freeBuffer(s: HandleState): void {
  const b = s as BufferState;
  // commands may still read or write the host array: wait for them before letting it go
  if (b.host) drainQueues(b.ctx);
  cl().clReleaseMemObject(b.handle);
  b.host = null;
}

/** Largest buffer TypeScript accepts before asking OpenCL (which checks the device limit). */
const MAX_BYTES = Number.MAX_SAFE_INTEGER;

function flagsOf(o: BufferOptions): bigint {
  let f = { 'read-write': C.CL_MEM_READ_WRITE, 'read-only': C.CL_MEM_READ_ONLY, 'write-only': C.CL_MEM_WRITE_ONLY }[o.access ?? 'read-write'];
  if (f === undefined) throw new OpenCLUsageError(`unknown buffer access '${o.access}'`);
  const h = o.hostAccess ?? 'read-write';
  if (h === 'read-only') f |= C.CL_MEM_HOST_READ_ONLY;
  else if (h === 'write-only') f |= C.CL_MEM_HOST_WRITE_ONLY;
  else if (h === 'none') f |= C.CL_MEM_HOST_NO_ACCESS;
  else if (h !== 'read-write') throw new OpenCLUsageError(`unknown host access '${h}'`);
  if (o.allocHostPtr) f |= C.CL_MEM_ALLOC_HOST_PTR;
  return f;
}

export function checkByteCount(what: string, n: number, allowZero = false): void {
  if (!Number.isSafeInteger(n) || n < (allowZero ? 0 : 1) || n > MAX_BYTES) {
    throw new OpenCLUsageError(`${what} must be ${allowZero ? 'a non-negative' : 'a positive'} integer number of bytes, got ${n}`);
  }
}

export class CLBuffer extends CLHandle<BufferState> {
  /** A number unique in this process (call traces name buffers by it). */
  readonly id = nextBufferId++;

  private constructor(
    handle: bigint,
    readonly context: Context,
    /** Size in bytes. */
    readonly size: number,
    readonly flags: bigint,
    host: ArrayBufferView | null,
  ) {
    super({ handle, released: false, free: freeBuffer, host, ctx: context.tracking }, 'OpenCL buffer');
  }

  private static make(ctx: Context, flags: bigint, size: number, host: ArrayBufferView | null, keep: ArrayBufferView | null): CLBuffer {
    if (!(ctx instanceof Context)) throw new OpenCLUsageError('expected a Context');
    const err = new Int32Array(1);
    const h = cl().clCreateBuffer(ctx.handle, flags, size, host, err);
    if (err[0] !== 0 || !h) throw new OpenCLError('clCreateBuffer', err[0] || -6, err[0] === -61 ? `size ${size} bytes is not allowed on this device (zero or above CL_DEVICE_MAX_MEM_ALLOC_SIZE)` : undefined);
    const b = new CLBuffer(h, ctx, size, flags, keep);
    traceCall({ call: 'create', buffer: b.id, bytes: size, hostCopy: host !== null });
    return b;
  }

  /** `bytes` of uninitialised device memory. */
  static create(ctx: Context, bytes: number, opts: BufferOptions = {}): CLBuffer {
    checkByteCount('buffer size', bytes);
    return CLBuffer.make(ctx, flagsOf(opts), bytes, null, null);
  }

  /** A buffer initialised with a copy of `data` (its first `bytes`, default all of it). */
  static fromArray(ctx: Context, data: ArrayBufferView, opts: BufferOptions & { bytes?: number } = {}): CLBuffer {
    if (!ArrayBuffer.isView(data)) throw new OpenCLUsageError('CLBuffer.fromArray: expected a TypedArray or DataView');
    const bytes = opts.bytes ?? data.byteLength;
    checkByteCount('buffer size', bytes);
    if (bytes > data.byteLength) throw new OpenCLUsageError(`CLBuffer.fromArray: ${bytes} bytes requested but the array holds ${data.byteLength}`);
    return CLBuffer.make(ctx, flagsOf(opts) | C.CL_MEM_COPY_HOST_PTR, bytes, data, null);
  }

  /** A buffer over `data`'s own memory (CL_MEM_USE_HOST_PTR); see the file comment for the rules. */
  static wrapHost(ctx: Context, data: ArrayBufferView, opts: Omit<BufferOptions, 'allocHostPtr'> = {}): CLBuffer {
    pinHostArray(data, 'CLBuffer.wrapHost');
    return CLBuffer.make(ctx, flagsOf(opts) | C.CL_MEM_USE_HOST_PTR, data.byteLength, data, data);
  }

  /** The wrapped host array of a wrapHost buffer, else null. */
  get hostArray(): ArrayBufferView | null {
    return this.state.host;
  }

  /** Throws unless [offset, offset + bytes) lies inside the buffer. */
  checkRange(what: string, offset: number, bytes: number): void {
    checkByteCount(`${what}: offset`, offset, true);
    checkByteCount(`${what}: size`, bytes);
    if (offset + bytes > this.size) {
      throw new OpenCLUsageError(`${what}: bytes [${offset}, ${offset + bytes}) lie outside the ${this.size}-byte buffer`);
    }
  }
}
