/**
 * MXNet NDArray-list files (`.params`, `mx.nd.save`): read and write.
 *
 * Layout (all little-endian, as dmlc::Stream writes it):
 *
 *   uint64 magic 0x112, uint64 reserved, uint64 count, count records,
 *   uint64 nameCount (0 or count), nameCount × (uint64 length, UTF-8 bytes).
 *
 * A record starts with a uint32 that is either a version magic or, in the legacy format,
 * the ndim itself:
 *
 *   legacy  uint32 ndim, ndim × uint32 dim                       (ndim 0 = none array, stop)
 *   V1      0xF993fac8, uint32 ndim, ndim × int64 dim             (ndim 0 = none array, stop)
 *   V2      0xF993fac9, int32 stype, int32 ndim, ndim × int64 dim (ndim 0 or -1 = none, stop)
 *   V3      0xF993faca, int32 stype, int32 ndim, ndim × int64 dim (numpy semantics: ndim 0 is
 *           a scalar; ndim -1 or a dim of -1 = unknown shape = none array, stop)
 *
 * and, unless the array is none, continues with int32 dev_type, int32 dev_id,
 * int32 type_flag and the elements. Only dense storage (stype 0) is supported.
 *
 * The reader never trusts the file: every count, ndim, dim and byte size is checked
 * against the bytes that remain (with BigInt arithmetic, so products cannot overflow)
 * before anything is allocated, and every failure is a FormatError.
 */
import { FormatError, ShapeError } from '../core/errors';
import { readFileBounded } from '../core/files';
import { printable } from '../core/text';

export type DType = 'float32' | 'float64' | 'float16' | 'uint8' | 'int32' | 'int8' | 'int64';
export type RecordVersion = 'legacy' | 'v1' | 'v2' | 'v3';

/** mshadow type flags of the supported dtypes. */
export const DTYPE_FLAG: Readonly<Record<DType, number>> = {
  float32: 0, float64: 1, float16: 2, uint8: 3, int32: 4, int8: 5, int64: 6,
};
const DTYPE_BY_FLAG: readonly DType[] = ['float32', 'float64', 'float16', 'uint8', 'int32', 'int8', 'int64'];
/** Flags mshadow knows but bitweave does not read, named for the error message. */
const UNSUPPORTED_FLAG_NAMES: Readonly<Record<number, string>> = {
  7: 'bool', 8: 'int16', 9: 'uint16', 10: 'uint32', 11: 'uint64', 12: 'bfloat16',
};
const DTYPE_SIZE: Readonly<Record<DType, number>> = {
  float32: 4, float64: 8, float16: 2, uint8: 1, int32: 4, int8: 1, int64: 8,
};

export const LIST_MAGIC = 0x112n;
export const V1_MAGIC = 0xf993fac8;
export const V2_MAGIC = 0xf993fac9;
export const V3_MAGIC = 0xf993faca;
/** MXNet device types (kCPU, kGPU, kCPUPinned, kCPUShared); anything else means corruption. */
const DEV_TYPES = new Set([1, 2, 3, 5]);
const STORAGE_NAMES: Readonly<Record<number, string>> = { 1: 'row_sparse', 2: 'csr' };

export interface NDArrayEntry {
  /** Key as stored, e.g. 'arg:conv0_weight' or 'aux:bn0_moving_var'; '' when the file has no names. */
  name: string;
  /**
   * Element type, or null for a "none" array (MXNet's uninitialised NDArray), which
   * has no type, context or data in the file; its shape is then [].
   */
  dtype: DType | null;
  /** Dimensions; [] with dtype set is a V3 scalar (one element). */
  shape: number[];
  /**
   * The raw little-endian element bytes, in their own ArrayBuffer (offset 0), so typed
   * views of any element size are aligned. Packed binary weights must be taken from
   * here, not from numeric conversions.
   */
  data: Uint8Array;
  /** Record format the entry was stored in. */
  version: RecordVersion;
  /** Stored context (informational; data is always loaded on the host). */
  devType: number;
  devId: number;
}

export interface ReadOptions {
  /** Upper bound on the file size when reading from a path (default 1 GiB). */
  maxBytes?: number;
}

export const NDARRAY_DEFAULT_MAX_BYTES = 1 << 30;

export function dtypeSize(dtype: DType): number {
  return DTYPE_SIZE[dtype];
}

/** Number of elements of a shape ([] = scalar = 1). */
export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

// ---- reading ------------------------------------------------------------------------

/** Byte cursor whose every read is bounds-checked first and fails with a FormatError. */
class Cursor {
  pos = 0;
  private readonly view: DataView;

  constructor(readonly bytes: Uint8Array, readonly file: string) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  fail(message: string): never {
    throw new FormatError(this.file, message);
  }

  need(n: number, what: string): void {
    if (n > this.remaining) {
      this.fail(`truncated: ${what} needs ${n} bytes at offset ${this.pos} but only ${this.remaining} remain`);
    }
  }

  u32(what: string): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  i32(what: string): number {
    this.need(4, what);
    const v = this.view.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }

  u64(what: string): bigint {
    this.need(8, what);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }

  i64(what: string): bigint {
    this.need(8, what);
    const v = this.view.getBigInt64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** Copy n bytes into a fresh buffer (n already checked by the caller or here). */
  take(n: number, what: string): Uint8Array {
    this.need(n, what);
    const out = new Uint8Array(n);
    out.set(this.bytes.subarray(this.pos, this.pos + n));
    this.pos += n;
    return out;
  }
}

function dtypeFromFlag(c: Cursor, flag: number, where: string): DType {
  if (flag >= 0 && flag < DTYPE_BY_FLAG.length) return DTYPE_BY_FLAG[flag];
  const known = UNSUPPORTED_FLAG_NAMES[flag];
  const supported = DTYPE_BY_FLAG.join(', ');
  if (known) c.fail(`${where}: dtype ${flag} (${known}) is not supported (supported: ${supported})`);
  return c.fail(`${where}: unknown dtype flag ${flag} (supported: ${supported})`);
}

/**
 * Read ndim dims of `dimBytes` each, checking the whole dims block fits before reading.
 * Returns null for a numpy "unknown" dim (-1) when `allowUnknown`.
 */
function readDims(c: Cursor, ndim: number, dimBytes: 4 | 8, where: string, allowUnknown: boolean): number[] | null {
  // The block must fit in what remains: this bounds ndim by the file size, so a hostile
  // ndim (2^31, 2^32-1) fails here instead of allocating.
  if (ndim * dimBytes > c.remaining) {
    c.fail(`truncated: ${where} declares ndim ${ndim} (${ndim * dimBytes} bytes of dims) but only ${c.remaining} bytes remain`);
  }
  const dims: number[] = [];
  let unknown = false;
  for (let i = 0; i < ndim; i++) {
    if (dimBytes === 4) {
      dims.push(c.u32(`${where} dim ${i}`));
      continue;
    }
    const d = c.i64(`${where} dim ${i}`);
    if (d === -1n && allowUnknown) {
      unknown = true;
      dims.push(-1);
      continue;
    }
    if (d < 0n) c.fail(`${where}: dim ${i} is negative (${d})`);
    // Any dim above the file size is only valid if another dim is 0; such arrays are
    // useless and a clear sign of corruption, so cap dims at 2^53 to keep them exact.
    if (d > BigInt(Number.MAX_SAFE_INTEGER)) c.fail(`${where}: dim ${i} = ${d} is too large`);
    dims.push(Number(d));
  }
  return unknown ? null : dims;
}

/** Parse the shape part of one record; returns null for a none array (record ends there). */
function readShape(c: Cursor, magic: number, where: string): { version: RecordVersion; shape: number[] | null } {
  if (magic === V1_MAGIC) {
    const ndim = c.u32(`${where} ndim`);
    return { version: 'v1', shape: ndim === 0 ? null : readDims(c, ndim, 8, where, false) };
  }
  if (magic === V2_MAGIC || magic === V3_MAGIC) {
    const v3 = magic === V3_MAGIC;
    const version = v3 ? 'v3' : 'v2';
    const stype = c.i32(`${where} storage type`);
    if (stype !== 0) {
      const name = STORAGE_NAMES[stype];
      if (name) c.fail(`${where}: ${name} storage (stype ${stype}) is not supported, only dense arrays`);
      c.fail(`${where}: unknown storage type ${stype} (only dense, 0, is supported)`);
    }
    const ndim = c.i32(`${where} ndim`);
    // -1 is MXNet's "unknown shape", which it saves (and loads) as an uninitialised array.
    if (ndim === -1) return { version, shape: null };
    if (ndim < 0) c.fail(`${where}: ndim ${ndim} is negative`);
    if (ndim === 0) return { version, shape: v3 ? [] : null };
    return { version, shape: readDims(c, ndim, 8, where, v3) };
  }
  // Legacy: the "magic" is the ndim, dims are uint32.
  return { version: 'legacy', shape: magic === 0 ? null : readDims(c, magic, 4, where, false) };
}

function readRecord(c: Cursor, index: number, count: number): NDArrayEntry {
  const where = `array ${index} (of ${count})`;
  const magic = c.u32(`${where} header`);
  const { version, shape } = readShape(c, magic, where);
  const base = { name: '', version, devType: 1, devId: 0 };
  if (shape === null) return { ...base, dtype: null, shape: [], data: new Uint8Array(0) };

  const devType = c.i32(`${where} context`);
  const devId = c.i32(`${where} context`);
  if (!DEV_TYPES.has(devType)) c.fail(`${where}: unknown device type ${devType}`);
  if (devId < 0) c.fail(`${where}: negative device id ${devId}`);
  const dtype = dtypeFromFlag(c, c.i32(`${where} dtype`), where);

  let n = 1n;
  for (const d of shape) n *= BigInt(d);
  const bytes = n * BigInt(DTYPE_SIZE[dtype]);
  if (bytes > BigInt(c.remaining)) {
    c.fail(`truncated: ${where} [${shape.join(', ')}] declares ${n} ${dtype} values (${bytes} bytes) but only ${c.remaining} bytes remain`);
  }
  const data = c.take(Number(bytes), `${where} data`);
  return { ...base, devType, devId, dtype, shape, data };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Parse an NDArray-list file held in memory. `file` names it in error messages. */
export function readNDArrayList(bytes: Uint8Array, file = '<buffer>'): NDArrayEntry[] {
  const c = new Cursor(bytes, file);
  if (bytes.length < 24) c.fail(`not an MXNet NDArray file: ${bytes.length} bytes is shorter than the 24-byte header`);
  const magic = c.u64('header');
  if (magic !== LIST_MAGIC) {
    c.fail(`not an MXNet NDArray file: magic 0x${magic.toString(16)} (expected 0x112)`);
  }
  c.u64('header'); // reserved; MXNet ignores its value
  const count = c.u64('array count');
  // The smallest record (a legacy none array) is 4 bytes, and the name count needs 8 more.
  const maxCount = BigInt(Math.max(0, c.remaining - 8)) / 4n;
  if (count > maxCount) {
    c.fail(`truncated: header declares ${count} arrays but ${c.remaining} bytes can hold at most ${maxCount}`);
  }
  const n = Number(count);
  const entries: NDArrayEntry[] = [];
  for (let i = 0; i < n; i++) entries.push(readRecord(c, i, n));

  const nameCount = c.u64('name count');
  if (nameCount !== 0n && nameCount !== count) {
    c.fail(`the file has ${count} arrays but ${nameCount} names`);
  }
  const seen = new Set<string>();
  for (let i = 0; i < Number(nameCount); i++) {
    const len = c.u64(`name ${i} length`);
    if (len > BigInt(c.remaining)) {
      c.fail(`truncated: name ${i} declares ${len} bytes but only ${c.remaining} remain`);
    }
    const raw = c.take(Number(len), `name ${i}`);
    let name: string;
    try {
      name = utf8.decode(raw);
    } catch {
      return c.fail(`name ${i} is not valid UTF-8`);
    }
    if (seen.has(name)) c.fail(`duplicate name '${printable(name, 80)}' (array ${i})`);
    seen.add(name);
    entries[i].name = name;
  }
  if (c.remaining !== 0) c.fail(`${c.remaining} unexpected bytes after the name list (offset ${c.pos})`);
  return entries;
}

/** Read an NDArray-list file from disk (size-limited, regular files only). */
export function readNDArrayFile(path: string, opts: ReadOptions = {}): NDArrayEntry[] {
  return readNDArrayList(readFileBounded(path, opts.maxBytes ?? NDARRAY_DEFAULT_MAX_BYTES), path);
}

// ---- numeric access ----------------------------------------------------------------

/** IEEE half (binary16) bits to a Number. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 31) return m ? NaN : sign * Infinity;
  return sign * (1 + m / 1024) * 2 ** (e - 15);
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** Number to IEEE half bits, rounding to nearest even (via float32, like numpy's astype). */
export function floatToHalf(x: number): number {
  f32Scratch[0] = x;
  const b = u32Scratch[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 112; // rebias 127 -> 15
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // below half the smallest subnormal
    const full = mant | 0x800000;
    const shift = 14 - e;
    let h = full >>> shift;
    const rem = full & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (up to infinity).
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return sign | h;
}

/** Numeric values of any entry as float32 (int64 beyond 2^53 loses precision, as float32 would anyway). */
export function toFloat32(entry: NDArrayEntry): Float32Array {
  if (entry.dtype === null) return new Float32Array(0);
  const n = entry.data.byteLength / DTYPE_SIZE[entry.dtype];
  const v = new DataView(entry.data.buffer, entry.data.byteOffset, entry.data.byteLength);
  const out = new Float32Array(n);
  switch (entry.dtype) {
    case 'float32': for (let i = 0; i < n; i++) out[i] = v.getFloat32(4 * i, true); break;
    case 'float64': for (let i = 0; i < n; i++) out[i] = v.getFloat64(8 * i, true); break;
    case 'float16': for (let i = 0; i < n; i++) out[i] = halfToFloat(v.getUint16(2 * i, true)); break;
    case 'uint8': for (let i = 0; i < n; i++) out[i] = v.getUint8(i); break;
    case 'int8': for (let i = 0; i < n; i++) out[i] = v.getInt8(i); break;
    case 'int32': for (let i = 0; i < n; i++) out[i] = v.getInt32(4 * i, true); break;
    case 'int64': for (let i = 0; i < n; i++) out[i] = Number(v.getBigInt64(8 * i, true)); break;
  }
  return out;
}

/**
 * Encode values as little-endian bytes of `dtype` (float16 rounds to nearest even;
 * integer types must be given exact in-range integers; int64 also accepts bigint).
 */
export function encodeValues(dtype: DType, values: ArrayLike<number> | readonly bigint[]): Uint8Array {
  const n = values.length;
  const out = new Uint8Array(n * DTYPE_SIZE[dtype]);
  const v = new DataView(out.buffer);
  const int = (i: number, lo: number, hi: number): number => {
    const x = Number(values[i]);
    if (!Number.isInteger(x) || x < lo || x > hi) throw new ShapeError(`value ${x} at ${i} is not a valid ${dtype}`);
    return x;
  };
  for (let i = 0; i < n; i++) {
    switch (dtype) {
      case 'float32': v.setFloat32(4 * i, Number(values[i]), true); break;
      case 'float64': v.setFloat64(8 * i, Number(values[i]), true); break;
      case 'float16': v.setUint16(2 * i, floatToHalf(Number(values[i])), true); break;
      case 'uint8': v.setUint8(i, int(i, 0, 255)); break;
      case 'int8': v.setInt8(i, int(i, -128, 127)); break;
      case 'int32': v.setInt32(4 * i, int(i, -(2 ** 31), 2 ** 31 - 1), true); break;
      case 'int64': {
        const x = values[i];
        v.setBigInt64(8 * i, typeof x === 'bigint' ? x : BigInt(int(i, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)), true);
        break;
      }
    }
  }
  return out;
}

// ---- writing ------------------------------------------------------------------------

export interface WriteEntry {
  name: string;
  /** null writes a none array (shape ignored). */
  dtype: DType | null;
  shape: readonly number[];
  /** Raw little-endian element bytes (see encodeValues); ignored for none arrays. */
  data?: ArrayBufferView;
  /** Record format; defaults to the list's version. */
  version?: RecordVersion;
  devType?: number;
  devId?: number;
}

export interface WriteOptions {
  /** Record format for entries that do not choose one (default 'v2', what MXNet 1.x writes). */
  version?: RecordVersion;
  /** Write an empty name list (as mx.nd.save of a plain list does). */
  omitNames?: boolean;
}

/** Growable little-endian byte sink. */
class Sink {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  len = 0;

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u32(x: number): void { this.room(4); this.view.setUint32(this.len, x >>> 0, true); this.len += 4; }
  i32(x: number): void { this.room(4); this.view.setInt32(this.len, x, true); this.len += 4; }
  u64(x: bigint): void { this.room(8); this.view.setBigUint64(this.len, x, true); this.len += 8; }
  i64(x: bigint): void { this.room(8); this.view.setBigInt64(this.len, x, true); this.len += 8; }
  bytes(b: Uint8Array): void { this.room(b.length); this.buf.set(b, this.len); this.len += b.length; }
  result(): Uint8Array { return this.buf.slice(0, this.len); }
}

function writeRecord(s: Sink, e: WriteEntry, version: RecordVersion): void {
  const bad = (msg: string): never => { throw new ShapeError(`ndarray '${e.name}': ${msg}`); };
  for (const d of e.shape) {
    if (!Number.isSafeInteger(d) || d < 0) bad(`invalid dim ${d}`);
    if (version === 'legacy' && d > 0xffffffff) bad(`dim ${d} does not fit the legacy uint32 format`);
  }
  if (e.dtype !== null && e.shape.length === 0 && version !== 'v3') bad(`a scalar (shape []) needs the v3 format`);
  const none = e.dtype === null;

  switch (version) {
    case 'legacy':
      if (none) { s.u32(0); return; }
      // An ndim equal to a version magic would be misread; no real array has that many dims.
      s.u32(e.shape.length);
      for (const d of e.shape) s.u32(d);
      break;
    case 'v1':
      s.u32(V1_MAGIC);
      if (none) { s.u32(0); return; }
      s.u32(e.shape.length);
      for (const d of e.shape) s.i64(BigInt(d));
      break;
    case 'v2':
    case 'v3':
      s.u32(version === 'v2' ? V2_MAGIC : V3_MAGIC);
      s.i32(0); // dense storage
      // A none array: ndim 0 in V2 (what every MXNet reader takes as none), the unknown
      // shape -1 in V3, where ndim 0 is a scalar.
      if (none) { s.i32(version === 'v2' ? 0 : -1); return; }
      s.i32(e.shape.length);
      for (const d of e.shape) s.i64(BigInt(d));
      break;
  }
  const dtype = e.dtype as DType;
  s.i32(e.devType ?? 1);
  s.i32(e.devId ?? 0);
  s.i32(DTYPE_FLAG[dtype]);
  const want = elementCount(e.shape) * DTYPE_SIZE[dtype];
  const d = e.data;
  if (!d || d.byteLength !== want) bad(`data has ${d ? d.byteLength : 0} bytes, shape [${e.shape.join(', ')}] of ${dtype} needs ${want}`);
  s.bytes(new Uint8Array(d!.buffer, d!.byteOffset, d!.byteLength));
}

/** Serialise entries as an NDArray-list file. */
export function writeNDArrayList(entries: readonly WriteEntry[], opts: WriteOptions = {}): Uint8Array {
  const s = new Sink();
  s.u64(LIST_MAGIC);
  s.u64(0n);
  s.u64(BigInt(entries.length));
  for (const e of entries) writeRecord(s, e, e.version ?? opts.version ?? 'v2');
  if (opts.omitNames) {
    s.u64(0n);
  } else {
    s.u64(BigInt(entries.length));
    const enc = new TextEncoder();
    for (const e of entries) {
      const b = enc.encode(e.name);
      s.u64(BigInt(b.length));
      s.bytes(b);
    }
  }
  return s.result();
}
