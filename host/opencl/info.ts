/**
 * The two-step clGet*Info protocol (ask the size, then fetch into a buffer of exactly that
 * size) and decoders for the value types OpenCL returns.
 */
import { Ptr } from './api';
import { check } from './errors';
import { decodeWords, hostWidths, OutWord, PlatformWidths } from './widths';

/** A bound clGet*Info call with the object (and index / device) already applied. */
export type InfoFn = (name: number, size: number, value: Uint8Array | null, sizeRet: Uint8Array | null) => number;

/** Upper bound on one info value (build logs and binaries can be large; nothing legitimate is near this). */
const MAX_INFO_BYTES = 1 << 30;

export function infoBytes(call: string, fn: InfoFn, name: number, w: PlatformWidths = hostWidths()): Uint8Array {
  const size = new OutWord(w.size);
  check(call, fn(name, 0, null, size.bytes));
  const n = Number(size.value);
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

/** size_t, 4 or 8 bytes as the host's ABI has it. */
export function infoSize(call: string, fn: InfoFn, name: number, w: PlatformWidths = hostWidths()): number {
  const v = fixed(call, fn, name, w.size);
  return w.size === 8 ? Number(v.getBigUint64(0, true)) : v.getUint32(0, true);
}

export function infoBool(call: string, fn: InfoFn, name: number): boolean {
  return fixed(call, fn, name, 4).getUint32(0, true) !== 0;
}

/** size_t[] (max work-item sizes, compile work-group size, program binary sizes). */
export function infoSizeArray(call: string, fn: InfoFn, name: number, w: PlatformWidths = hostWidths()): number[] {
  return decodeWords(infoBytes(call, fn, name, w), w.size).map(Number);
}

/** Handle[] (e.g. program devices), pointer-sized each. */
export function infoHandles(call: string, fn: InfoFn, name: number, w: PlatformWidths = hostWidths()): Ptr[] {
  return decodeWords(infoBytes(call, fn, name, w), w.pointer);
}
