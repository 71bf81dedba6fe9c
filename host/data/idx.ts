/**
 * IDX tensors (the MNIST / Fashion-MNIST container), plain or gzip-compressed.
 *
 * Layout: two zero bytes, a type byte, a dimension count, then one big-endian uint32 per
 * dimension, then the elements in row-major order, big-endian. Nothing in the header is
 * trusted: the element count is checked against a size limit and against the bytes actually
 * present before anything is allocated, so a hostile file yields a FormatError, never a
 * RangeError or an out-of-memory crash.
 */
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { oneLine, readFileBounded } from '../core/files';
import { FormatError } from '../core/errors';

export type IdxDtype = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';
export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface IdxTensor {
  dtype: IdxDtype;
  dims: number[];
  data: IdxData;
}

export interface IdxReadOptions {
  /** Upper bound on the decoded element bytes (default 1 GiB). */
  maxBytes?: number;
}

/** Default cap on decoded payload: far above the 47 MB of Fashion-MNIST's training images. */
export const IDX_DEFAULT_MAX_BYTES = 1 << 30;

interface TypeInfo { code: number; dtype: IdxDtype; size: number }

const TYPES: readonly TypeInfo[] = [
  { code: 0x08, dtype: 'uint8', size: 1 },
  { code: 0x09, dtype: 'int8', size: 1 },
  { code: 0x0b, dtype: 'int16', size: 2 },
  { code: 0x0c, dtype: 'int32', size: 4 },
  { code: 0x0d, dtype: 'float32', size: 4 },
  { code: 0x0e, dtype: 'float64', size: 8 },
];

const hex = (n: number): string => '0x' + n.toString(16).padStart(2, '0');

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Largest IDX header: magic + 255 dimensions. */
const MAX_HEADER = 4 + 4 * 255;

/**
 * gunzip with the output bounded, so a small compression bomb cannot exhaust memory.
 * Exported because other loaders (gzipped npy, say) want the same guard.
 */
export function gunzipBounded(bytes: Uint8Array, file: string, maxOutput: number): Buffer {
  try {
    return zlib.gunzipSync(bytes, { maxOutputLength: maxOutput });
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) {
      throw new FormatError(file, `gzip data decompresses to more than ${maxOutput} bytes (limit)`);
    }
    throw new FormatError(file, `corrupt gzip data (${oneLine(e)})`);
  }
}


/** Parse an IDX file held in memory (gzip detected by its 1f 8b magic). */
export function parseIdx(input: Uint8Array, file = '<idx>', opts: IdxReadOptions = {}): IdxTensor {
  const maxBytes = opts.maxBytes ?? IDX_DEFAULT_MAX_BYTES;
  const bytes = isGzip(input) ? gunzipBounded(input, file, maxBytes + MAX_HEADER) : input;

  if (bytes.length < 4) throw new FormatError(file, `not an IDX file: ${bytes.length} bytes, header needs 4`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new FormatError(file, `not an IDX file: magic starts ${hex(bytes[0])} ${hex(bytes[1])}, expected 0x00 0x00`);
  }
  const type = TYPES.find((t) => t.code === bytes[2]);
  if (!type) {
    throw new FormatError(file, `unknown IDX element type ${hex(bytes[2])} (known: 08 ubyte, 09 sbyte, 0b short, 0c int, 0d float, 0e double)`);
  }
  const ndims = bytes[3];
  if (ndims === 0) throw new FormatError(file, 'IDX header declares 0 dimensions');
  const headerLen = 4 + 4 * ndims;
  if (bytes.length < headerLen) {
    throw new FormatError(file, `truncated IDX header: ${ndims} dimensions need ${headerLen} bytes, file has ${bytes.length}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  // Product in float64 is exact while it stays below 2^53; we stop well before that.
  let count = 1;
  for (let i = 0; i < ndims; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    dims.push(d);
    count *= d;
    if (count * type.size > maxBytes) {
      throw new FormatError(file, `IDX dimensions [${dims.join(', ')}${i + 1 < ndims ? ', ...' : ''}] exceed the ${maxBytes}-byte limit`);
    }
  }
  const need = count * type.size;
  const have = bytes.length - headerLen;
  if (have < need) {
    throw new FormatError(file, `truncated IDX data: dims [${dims.join(', ')}] of ${type.dtype} need ${need} bytes, file has ${have}`);
  }
  if (have > need) {
    throw new FormatError(file, `IDX file has ${have - need} unexpected bytes after the data for dims [${dims.join(', ')}]`);
  }

  const data = decodeBigEndian(type.dtype, view, headerLen, count);
  return { dtype: type.dtype, dims, data };
}

function decodeBigEndian(dtype: IdxDtype, view: DataView, off: number, n: number): IdxData {
  switch (dtype) {
    case 'uint8':
      return new Uint8Array(view.buffer.slice(view.byteOffset + off, view.byteOffset + off + n));
    case 'int8':
      return new Int8Array(view.buffer.slice(view.byteOffset + off, view.byteOffset + off + n));
    case 'int16': {
      const a = new Int16Array(n);
      for (let i = 0; i < n; i++) a[i] = view.getInt16(off + 2 * i, false);
      return a;
    }
    case 'int32': {
      const a = new Int32Array(n);
      for (let i = 0; i < n; i++) a[i] = view.getInt32(off + 4 * i, false);
      return a;
    }
    case 'float32': {
      const a = new Float32Array(n);
      for (let i = 0; i < n; i++) a[i] = view.getFloat32(off + 4 * i, false);
      return a;
    }
    case 'float64': {
      const a = new Float64Array(n);
      for (let i = 0; i < n; i++) a[i] = view.getFloat64(off + 8 * i, false);
      return a;
    }
  }
}

/** Read an IDX file from disk; the on-disk size is checked before reading it whole. */
export function readIdx(path: string, opts: IdxReadOptions = {}): IdxTensor {
  const maxBytes = opts.maxBytes ?? IDX_DEFAULT_MAX_BYTES;
  return parseIdx(readBounded(path, maxBytes + MAX_HEADER), path, opts);
}

/** Read a whole file of at most `limit` bytes (see core/files.ts). */
export const readBounded = readFileBounded;

const DTYPE_CODE: Record<IdxDtype, TypeInfo> = Object.fromEntries(TYPES.map((t) => [t.dtype, t])) as Record<IdxDtype, TypeInfo>;

/** Serialise a tensor as IDX (optionally gzipped). Mainly for tests and fixtures. */
export function encodeIdx(t: IdxTensor, opts: { gzip?: boolean } = {}): Buffer {
  const info = DTYPE_CODE[t.dtype];
  if (!info) throw new TypeError(`encodeIdx: unknown dtype ${String(t.dtype)}`);
  if (t.dims.length < 1 || t.dims.length > 255) throw new TypeError(`encodeIdx: ${t.dims.length} dimensions (1..255 allowed)`);
  let count = 1;
  for (const d of t.dims) {
    if (!Number.isInteger(d) || d < 0 || d > 0xffffffff) throw new TypeError(`encodeIdx: bad dimension ${d}`);
    count *= d;
  }
  if (count !== t.data.length) throw new TypeError(`encodeIdx: dims [${t.dims.join(', ')}] hold ${count} elements, data has ${t.data.length}`);
  const headerLen = 4 + 4 * t.dims.length;
  const buf = Buffer.alloc(headerLen + count * info.size);
  buf[2] = info.code;
  buf[3] = t.dims.length;
  t.dims.forEach((d, i) => buf.writeUInt32BE(d, 4 + 4 * i));
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const src = t.data;
  for (let i = 0, o = headerLen; i < count; i++, o += info.size) {
    const v = src[i];
    switch (t.dtype) {
      case 'uint8': view.setUint8(o, v); break;
      case 'int8': view.setInt8(o, v); break;
      case 'int16': view.setInt16(o, v, false); break;
      case 'int32': view.setInt32(o, v, false); break;
      case 'float32': view.setFloat32(o, v, false); break;
      case 'float64': view.setFloat64(o, v, false); break;
    }
  }
  return opts.gzip ? zlib.gzipSync(buf) : buf;
}

/** Write an IDX file (gzip when asked). */
export function writeIdx(path: string, t: IdxTensor, opts: { gzip?: boolean } = {}): void {
  fs.writeFileSync(path, encodeIdx(t, opts));
}
