/**
 * Rules for host memory that OpenCL may touch after the call that received it returns
 * (non-blocking reads/writes, CL_MEM_USE_HOST_PTR). koffi hands C a pointer into a
 * TypedArray's backing store, which is only safe to keep when that store cannot move or
 * vanish:
 *  - reading `.buffer` moves a small on-heap TypedArray's data off the V8 heap for good, so
 *    its address is stable afterwards;
 *  - `markAsUntransferable` stops postMessage / structuredClone from detaching the store
 *    (Node ignores or rejects the transfer instead); it is permanent for that ArrayBuffer;
 *  - resizable / growable buffers are refused (a resize may reallocate);
 *  - the wrapper that enqueued the work keeps the array reachable until OpenCL is done.
 */
import { markAsUntransferable } from 'node:worker_threads';
import { koffi } from './api';
import { OpenCLUsageError } from './errors';

/** Checks that `a` is a TypedArray / DataView whose memory is safe to keep; returns its address. */
export function pinHostArray(a: ArrayBufferView, what: string): bigint {
  if (!ArrayBuffer.isView(a)) throw new OpenCLUsageError(`${what}: expected a TypedArray or DataView`);
  const buf = a.buffer as ArrayBufferLike & { resizable?: boolean; growable?: boolean };
  if (buf.resizable || buf.growable) throw new OpenCLUsageError(`${what}: resizable or growable ArrayBuffers cannot be shared with OpenCL`);
  if (a.byteLength === 0) throw new OpenCLUsageError(`${what}: the array is empty (or its ArrayBuffer was detached)`);
  if (!(buf instanceof SharedArrayBuffer)) markAsUntransferable(buf);
  return koffi.address(a);
}

export type TypedArrayConstructor<T extends ArrayBufferView> = { new (buffer: ArrayBuffer, byteOffset: number, length: number): T; BYTES_PER_ELEMENT: number };

/**
 * A TypedArray of `length` elements whose first byte is aligned to `alignBytes` (default 4096,
 * a page; PoCL and most runtimes need at least CL_DEVICE_MEM_BASE_ADDR_ALIGN / 8 to use host
 * memory in place). Use it for CLBuffer.wrapHost when zero-copy matters.
 */
export function alignedArray<T extends ArrayBufferView>(ctor: TypedArrayConstructor<T>, length: number, alignBytes = 4096): T {
  if (!Number.isSafeInteger(length) || length < 1) throw new OpenCLUsageError(`alignedArray: length must be a positive integer, got ${length}`);
  if (!Number.isSafeInteger(alignBytes) || alignBytes < 1 || (alignBytes & (alignBytes - 1)) !== 0) {
    throw new OpenCLUsageError(`alignedArray: alignment must be a power of two, got ${alignBytes}`);
  }
  const bytes = length * ctor.BYTES_PER_ELEMENT;
  const raw = new ArrayBuffer(bytes + alignBytes);
  const base = koffi.address(new Uint8Array(raw));
  const skip = Number((BigInt(alignBytes) - (base % BigInt(alignBytes))) % BigInt(alignBytes));
  return new ctor(raw, skip, length);
}

/**
 * The address of `a`'s first byte, for pointer arrays handed to one synchronous call.
 * Touching `.buffer` first moves small on-heap arrays off the V8 heap, so the address stays
 * valid while other allocations (and possibly a GC) happen before the call.
 */
export function addressOf(a: ArrayBufferView): bigint {
  void a.buffer;
  return koffi.address(a);
}
