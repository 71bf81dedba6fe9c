/**
 * NumPy .npy files (format versions 1.0, 2.0 and 3.0), little-endian, C order.
 *
 * The header is a Python dict literal; it is parsed by a tiny tokenizer that understands
 * only strings, True/False and tuples of integers, never by eval. Shape and dtype are
 * checked against a size limit and against the bytes present before any allocation.
 */
import { FormatError } from '../core/errors';
import { readBounded } from './idx';
import { checkOutputFile, OutputOptions, writeFileAtomic } from '../core/files';
import { printable } from '../core/text';

export type NpyDtype = 'float32' | 'float64' | 'uint8' | 'int32' | 'int64';

/** int64 arrays are returned as exact Numbers in a Float64Array (checked to be safe integers). */
export type NpyArray =
  | { dtype: 'float32'; shape: number[]; data: Float32Array }
  | { dtype: 'float64'; shape: number[]; data: Float64Array }
  | { dtype: 'uint8'; shape: number[]; data: Uint8Array }
  | { dtype: 'int32'; shape: number[]; data: Int32Array }
  | { dtype: 'int64'; shape: number[]; data: Float64Array };

export type NpyWritable =
  | { dtype: 'float32'; shape: number[]; data: Float32Array }
  | { dtype: 'int32'; shape: number[]; data: Int32Array }
  | { dtype: 'uint8'; shape: number[]; data: Uint8Array };

export interface NpyReadOptions {
  /** Upper bound on the data bytes (default 1 GiB). */
  maxBytes?: number;
}

export const NPY_DEFAULT_MAX_BYTES = 1 << 30;
/** numpy itself refuses headers over 10,000 bytes by default; we are a little more lenient. */
const MAX_HEADER_BYTES = 1 << 16;
const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

const DESCR: Record<string, { dtype: NpyDtype; size: number }> = {
  '<f4': { dtype: 'float32', size: 4 },
  '<f8': { dtype: 'float64', size: 8 },
  '|u1': { dtype: 'uint8', size: 1 },
  '<u1': { dtype: 'uint8', size: 1 }, // non-canonical but harmless spelling of a 1-byte type
  '<i4': { dtype: 'int32', size: 4 },
  '<i8': { dtype: 'int64', size: 8 },
};

export function isNpy(bytes: Uint8Array): boolean {
  return bytes.length >= 6 && MAGIC.every((b, i) => bytes[i] === b);
}

// ---- header dict parsing ----------------------------------------------------------------

type PyValue = string | boolean | number[];

/** Parse `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }` without eval. */
function parseHeaderDict(text: string, file: string): Map<string, PyValue> {
  let i = 0;
  const fail = (what: string): never => {
    throw new FormatError(file, `bad npy header: ${what} at column ${i + 1} in ${JSON.stringify(text.length > 120 ? text.slice(0, 120) + '...' : text)}`);
  };
  const ws = () => { while (i < text.length && /\s/.test(text[i])) i++; };
  const expect = (c: string) => { ws(); if (text[i] !== c) fail(`expected '${c}'`); i++; };
  const str = (): string => {
    ws();
    const q = text[i];
    if (q !== "'" && q !== '"') fail('expected a string');
    const end = text.indexOf(q, i + 1);
    if (end < 0) fail('unterminated string');
    const s = text.slice(i + 1, end);
    if (s.includes('\\')) fail('escapes in strings are not supported');
    i = end + 1;
    return s;
  };
  const int = (): number => {
    ws();
    const m = /^[0-9]+/.exec(text.slice(i, i + 32));
    if (!m) fail('expected a non-negative integer');
    const digits = m![0];
    i += digits.length;
    if (text[i] === 'L' || text[i] === 'l') i++; // Python 2 long suffix in old files
    const n = Number(digits);
    if (!Number.isSafeInteger(n)) fail(`dimension ${digits} too large`);
    return n;
  };
  const value = (): PyValue => {
    ws();
    if (text[i] === "'" || text[i] === '"') return str();
    if (text.startsWith('True', i)) { i += 4; return true; }
    if (text.startsWith('False', i)) { i += 5; return false; }
    if (text[i] === '(' || text[i] === '[') {
      const close = text[i] === '(' ? ')' : ']';
      i++;
      const items: number[] = [];
      ws();
      while (text[i] !== close) {
        if (items.length >= 64) fail('more than 64 dimensions');
        items.push(int());
        ws();
        if (text[i] === ',') { i++; ws(); } else if (text[i] !== close) fail(`expected ',' or '${close}'`);
      }
      i++;
      return items;
    }
    return fail('expected a string, True, False or a tuple');
  };

  const out = new Map<string, PyValue>();
  expect('{');
  ws();
  while (text[i] !== '}') {
    const k = str();
    expect(':');
    if (out.has(k)) fail(`duplicate key '${k}'`);
    out.set(k, value());
    ws();
    if (text[i] === ',') { i++; ws(); } else if (text[i] !== '}') fail("expected ',' or '}'");
    if (i >= text.length) fail('unterminated dict');
  }
  i++;
  ws();
  if (i !== text.length) fail('trailing characters after the dict');
  return out;
}

// ---- reading ------------------------------------------------------------------------------

/** Parse an in-memory .npy file. */
export function parseNpy(bytes: Uint8Array, file = '<npy>', opts: NpyReadOptions = {}): NpyArray {
  const maxBytes = opts.maxBytes ?? NPY_DEFAULT_MAX_BYTES;
  if (!isNpy(bytes)) throw new FormatError(file, 'not a .npy file (missing \\x93NUMPY magic)');
  if (bytes.length < 10) throw new FormatError(file, `truncated npy preamble (${bytes.length} bytes)`);
  const major = bytes[6];
  const minor = bytes[7];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let headerStart: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new FormatError(file, `truncated npy ${major}.0 preamble (${bytes.length} bytes)`);
    headerLen = view.getUint32(8, true);
    headerStart = 12;
  } else {
    throw new FormatError(file, `unsupported npy format version ${major}.${minor} (1.0, 2.0, 3.0 supported)`);
  }
  if (minor !== 0) throw new FormatError(file, `unsupported npy format version ${major}.${minor}`);
  if (headerLen > MAX_HEADER_BYTES) throw new FormatError(file, `npy header claims ${headerLen} bytes (limit ${MAX_HEADER_BYTES})`);
  const dataStart = headerStart + headerLen;
  if (bytes.length < dataStart) {
    throw new FormatError(file, `truncated npy header: needs ${headerLen} bytes, file has ${bytes.length - headerStart}`);
  }
  const raw = bytes.subarray(headerStart, dataStart);
  // 1.0/2.0 headers are latin1, 3.0 utf8; a valid dict is ASCII, anything else is rejected below.
  const text = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString(major === 3 ? 'utf8' : 'latin1');
  if (!text.endsWith('\n')) throw new FormatError(file, 'bad npy header: not terminated by a newline');
  const dict = parseHeaderDict(text.replace(/[ \n]+$/, ''), file);

  const keys = [...dict.keys()].sort().join(',');
  if (keys !== 'descr,fortran_order,shape') {
    throw new FormatError(file, `bad npy header: keys are {${printable(keys, 120)}}, expected {descr, fortran_order, shape}`);
  }
  const descr = dict.get('descr');
  const fortran = dict.get('fortran_order');
  const shape = dict.get('shape');
  if (typeof descr !== 'string') throw new FormatError(file, "bad npy header: 'descr' is not a string (structured dtypes are not supported)");
  if (typeof fortran !== 'boolean') throw new FormatError(file, "bad npy header: 'fortran_order' is not True/False");
  if (!Array.isArray(shape)) throw new FormatError(file, "bad npy header: 'shape' is not a tuple");
  if (fortran) throw new FormatError(file, 'Fortran-order arrays are not supported: save with np.ascontiguousarray(a) first');
  const type = DESCR[descr];
  if (!type) {
    const hint = descr.startsWith('>') ? ' (big-endian: convert with a.astype(a.dtype.newbyteorder("<")))' : '';
    throw new FormatError(file, `unsupported npy dtype '${printable(descr, 40)}'${hint}; supported: <f4, <f8, |u1, <i4, <i8`);
  }

  let count = 1;
  for (const d of shape) {
    count *= d;
    if (count * type.size > maxBytes) {
      throw new FormatError(file, `npy shape (${shape.join(', ')}) of ${descr} exceeds the ${maxBytes}-byte limit`);
    }
  }
  const need = count * type.size;
  const have = bytes.length - dataStart;
  if (have < need) throw new FormatError(file, `truncated npy data: shape (${shape.join(', ')}) of ${descr} needs ${need} bytes, file has ${have}`);
  if (have > need) throw new FormatError(file, `npy file has ${have - need} unexpected bytes after the data for shape (${shape.join(', ')})`);

  const off = dataStart;
  switch (type.dtype) {
    case 'uint8':
      return { dtype: 'uint8', shape, data: Uint8Array.from(bytes.subarray(off, off + count)) };
    case 'float32': {
      const a = new Float32Array(count);
      for (let i = 0; i < count; i++) a[i] = view.getFloat32(off + 4 * i, true);
      return { dtype: 'float32', shape, data: a };
    }
    case 'float64': {
      const a = new Float64Array(count);
      for (let i = 0; i < count; i++) a[i] = view.getFloat64(off + 8 * i, true);
      return { dtype: 'float64', shape, data: a };
    }
    case 'int32': {
      const a = new Int32Array(count);
      for (let i = 0; i < count; i++) a[i] = view.getInt32(off + 4 * i, true);
      return { dtype: 'int32', shape, data: a };
    }
    case 'int64': {
      const a = new Float64Array(count);
      for (let i = 0; i < count; i++) {
        const v = view.getBigInt64(off + 8 * i, true);
        if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
          throw new FormatError(file, `int64 element ${i} = ${v} is outside the exactly representable range ±(2^53-1)`);
        }
        a[i] = Number(v);
      }
      return { dtype: 'int64', shape, data: a };
    }
  }
}

/** Read a .npy file from disk (size checked before reading). */
export function readNpy(path: string, opts: NpyReadOptions = {}): NpyArray {
  const maxBytes = opts.maxBytes ?? NPY_DEFAULT_MAX_BYTES;
  return parseNpy(readBounded(path, maxBytes + 12 + MAX_HEADER_BYTES), path, opts);
}

// ---- writing ------------------------------------------------------------------------------

const WRITE_DESCR: Record<NpyWritable['dtype'], string> = { float32: '<f4', int32: '<i4', uint8: '|u1' };

/**
 * Serialise as .npy. Header as numpy writes it: the dict repr, space-padded and newline
 * terminated so that the data starts on a 64-byte boundary; version 1.0 unless the header
 * needs more than 65535 bytes (then 2.0). All header text is ASCII, so 3.0 is never needed.
 */
export function encodeNpy(arr: NpyWritable): Buffer {
  const descr = WRITE_DESCR[arr.dtype];
  if (!descr) throw new TypeError(`encodeNpy: unsupported dtype ${String(arr.dtype)}`);
  let count = 1;
  for (const d of arr.shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new TypeError(`encodeNpy: bad dimension ${d}`);
    count *= d;
  }
  if (count !== arr.data.length) throw new TypeError(`encodeNpy: shape (${arr.shape.join(', ')}) holds ${count} elements, data has ${arr.data.length}`);
  const shapeRepr = arr.shape.length === 1 ? `(${arr.shape[0]},)` : `(${arr.shape.join(', ')})`;
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeRepr}, }`;
  let preamble = 10;
  let total = Math.ceil((preamble + dict.length + 1) / 64) * 64;
  if (total - preamble > 0xffff) {
    preamble = 12;
    total = Math.ceil((preamble + dict.length + 1) / 64) * 64;
  }
  const headerLen = total - preamble;
  const header = dict + ' '.repeat(headerLen - dict.length - 1) + '\n';
  const elem = arr.dtype === 'uint8' ? 1 : 4;
  const buf = Buffer.alloc(total + count * elem);
  buf.set(MAGIC, 0);
  buf[6] = preamble === 10 ? 1 : 2;
  buf[7] = 0;
  if (preamble === 10) buf.writeUInt16LE(headerLen, 8);
  else buf.writeUInt32LE(headerLen, 8);
  buf.write(header, preamble, 'latin1');
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (arr.dtype === 'uint8') buf.set(arr.data, total);
  else if (arr.dtype === 'float32') for (let i = 0; i < count; i++) view.setFloat32(total + 4 * i, arr.data[i], true);
  else for (let i = 0; i < count; i++) view.setInt32(total + 4 * i, arr.data[i], true);
  return buf;
}

/** Write a .npy file atomically (see writeFileAtomic: checked path, temp file, fsync, rename). */
export function writeNpy(path: string, arr: NpyWritable, opts: OutputOptions = {}): void {
  checkOutputFile(path, opts);
  writeFileAtomic(path, encodeNpy(arr), opts);
}
