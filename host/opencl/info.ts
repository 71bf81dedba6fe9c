/**
 * The two-step clGet*Info protocol (ask the size, then fetch into a buffer of exactly that
 * size) and decoders for the value types OpenCL returns.
 */
import { Ptr } from './api';
import { check } from './errors';

/** A bound clGet*Info call with the object (and index / device) already applied. */
export type InfoFn = (name: number, size: number, value: Uint8Array | null, sizeRet: BigUint64Array | null) => number;

/** Upper bound on one info value (build logs and binaries can be large; nothing legitimate is near this). */
const MAX_INFO_BYTES = 1 << 30;

export function infoBytes(call: string, fn: InfoFn, name: number): Uint8Array {
  const size = new BigUint64Array(1);
  check(call, fn(name, 0, null, size));
  const n = Number(size[0]);
  if (n > MAX_INFO_BYTES) throw new RangeError(`${call}: implausible info size ${n}`);
  const out = new Uint8Array(n);
  if (n > 0) check(call, fn(name, n, out, null));
  return out;
}

/** A fixed-size value: avoids the size query. */
function fixed(call: string, fn: InfoFn, name: number, bytes: number): DataView {
  const out = new Uint8Array(bytes);
  check(call, fn(name, bytes, out, null));
  return new DataView(out.buffer);
}

export function infoString(call: string, fn: InfoFn, name: number): string {
  const b = infoBytes(call, fn, name);
  const end = b.indexOf(0);
  return Buffer.from(b.buffer, b.byteOffset, end < 0 ? b.length : end).toString('utf8');
}

export function infoU32(call: string, fn: InfoFn, name: number): number {
  return fixed(call, fn, name, 4).getUint32(0, true);
}

export function infoI32(call: string, fn: InfoFn, name: number): number {
  return fixed(call, fn, name, 4).getInt32(0, true);
}

/** cl_ulong / cl_bitfield as bigint (sizes can exceed 2^53 on some platforms' "unlimited"). */
export function infoU64(call: string, fn: InfoFn, name: number): bigint {
  return fixed(call, fn, name, 8).getBigUint64(0, true);
}

/** size_t (64-bit hosts only: bitweave targets x86-64 and aarch64 Linux). */
export function infoSize(call: string, fn: InfoFn, name: number): number {
  return Number(fixed(call, fn, name, 8).getBigUint64(0, true));
}

export function infoBool(call: string, fn: InfoFn, name: number): boolean {
  return fixed(call, fn, name, 4).getUint32(0, true) !== 0;
}

/** size_t[] (e.g. max work-item sizes) or handle[] (e.g. program devices). */
export function infoU64Array(call: string, fn: InfoFn, name: number): bigint[] {
  const b = infoBytes(call, fn, name);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: bigint[] = [];
  for (let i = 0; i + 8 <= b.length; i += 8) out.push(v.getBigUint64(i, true));
  return out;
}

export function infoHandles(call: string, fn: InfoFn, name: number): Ptr[] {
  return infoU64Array(call, fn, name);
}
