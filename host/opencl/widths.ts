/**
 * Widths of the C types whose size follows the host ABI, and the byte encoders of every
 * array the bindings hand to OpenCL or read back from it. On x86-64 / aarch64 all of these
 * are 8 bytes; on a 32-bit ARM host (DE10-Nano's Cyclone V SoC) they are 4, and a 64-bit
 * layout there is wrong in ways OpenCL reports only indirectly: context properties read as
 * { CL_CONTEXT_PLATFORM, 0 } (CL_INVALID_PLATFORM), an 8-byte cl_mem kernel argument
 * (CL_INVALID_ARG_SIZE), a second device id read from the first one's high half.
 *
 * Pointer-sized: handles (cl_platform_id, cl_device_id, cl_mem, cl_event, ...), their arrays,
 * cl_context_properties (intptr_t) and char* arrays. size_t-sized: sizes, offsets, work
 * sizes, *_size_ret out-parameters and info values of type size_t / size_t[].
 * Always 64-bit whatever the host: cl_ulong, cl_bitfield and every flag type built on them
 * (cl_mem_flags, cl_map_flags, cl_device_type, cl_queue_properties).
 *
 * The encoders are pure functions of a PlatformWidths value so both layouts can be tested on
 * any machine; `hostWidths()` is the running process's. Every host bitweave targets is
 * little-endian (x86-64, aarch64, armhf), and so are the encodings.
 */
import { koffi } from './api';
import { OpenCLUsageError } from './errors';

export interface PlatformWidths {
  /** sizeof(void *) = sizeof(intptr_t) = sizeof(any OpenCL handle). */
  readonly pointer: 4 | 8;
  /** sizeof(size_t). */
  readonly size: 4 | 8;
}

export const WIDTHS_64: PlatformWidths = Object.freeze({ pointer: 8, size: 8 });
export const WIDTHS_32: PlatformWidths = Object.freeze({ pointer: 4, size: 4 });

let host: PlatformWidths | null = null;

/** The running process's widths, as koffi's C ABI reports them. */
export function hostWidths(): PlatformWidths {
  if (host) return host;
  const pointer = koffi.sizeof('void *');
  const size = koffi.sizeof('size_t');
  if ((pointer !== 4 && pointer !== 8) || (size !== 4 && size !== 8)) {
    throw new OpenCLUsageError(`unsupported host ABI: sizeof(void *) = ${pointer}, sizeof(size_t) = ${size}`);
  }
  host = Object.freeze({ pointer, size });
  return host;
}

/** Unsigned little-endian words of `width` bytes; refuses values that do not fit. */
export function encodeWords(values: readonly bigint[], width: 4 | 8, what: string): Uint8Array {
  const out = new Uint8Array(values.length * width);
  const view = new DataView(out.buffer);
  const limit = 1n << BigInt(8 * width);
  values.forEach((v, i) => {
    if (typeof v !== 'bigint' || v < 0n || v >= limit) throw new OpenCLUsageError(`${what}: ${String(v)} does not fit a ${width}-byte word`);
    if (width === 8) view.setBigUint64(i * 8, v, true);
    else view.setUint32(i * 4, Number(v), true);
  });
  return out;
}

/** The words of `bytes` (a trailing partial word is ignored, as OpenCL never returns one). */
export function decodeWords(bytes: Uint8Array, width: 4 | 8): bigint[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: bigint[] = [];
  for (let i = 0; i + width <= bytes.byteLength; i += width) out.push(width === 8 ? view.getBigUint64(i, true) : BigInt(view.getUint32(i, true)));
  return out;
}

/** An array of handles (devices, events, char* pointers) as C reads it. */
export function handleArray(handles: readonly bigint[], w: PlatformWidths): Uint8Array {
  return encodeWords(handles, w.pointer, 'handle array');
}

/** A size_t[] (work sizes, binary lengths). */
export function sizeArray(sizes: readonly (number | bigint)[], w: PlatformWidths): Uint8Array {
  return encodeWords(sizes.map((s) => BigInt(s)), w.size, 'size_t array');
}

/** CL_CONTEXT_PLATFORM is 0x1084 (cl.h). */
const CL_CONTEXT_PLATFORM = 0x1084n;

/** { CL_CONTEXT_PLATFORM, platform, 0 } as cl_context_properties (intptr_t) values. */
export function contextProperties(platform: bigint, w: PlatformWidths): Uint8Array {
  return encodeWords([CL_CONTEXT_PLATFORM, platform, 0n], w.pointer, 'context properties');
}

/** The value of a cl_mem kernel argument: its size is sizeof(cl_mem), NULL is a zero handle. */
export function memObjectArg(mem: bigint | null, w: PlatformWidths): Uint8Array {
  return encodeWords([mem ?? 0n], w.pointer, 'cl_mem argument');
}

/** A one-word out-parameter (size_t *size_ret, cl_event *event, ...) of `width` bytes. */
export class OutWord {
  readonly bytes: Uint8Array;
  constructor(readonly width: 4 | 8) {
    this.bytes = new Uint8Array(width);
  }
  get value(): bigint {
    return decodeWords(this.bytes, this.width)[0];
  }
}

/** A handle out-parameter (cl_event *) of this host. */
export const handleOut = (): OutWord => new OutWord(hostWidths().pointer);
