/**
 * The .bnn container (docs/FORMAT.md is the normative description):
 *
 *   [64-byte header][UTF-8 JSON description][pad to 64][blob region]
 *
 * The JSON holds everything in a CompiledModel except typed-array contents, which are
 * references {dtype, offset, length} into the blob region; every blob starts on a
 * 64-byte boundary of the file so a device can map or DMA it directly. Two CRC-32s
 * (header, and everything after it) catch corruption; loading checks every size and
 * offset against the real file before using it, then runs validateModel, so a model
 * returned by decodeBnn / readBnn can be trusted by every backend.
 */
import * as fs from 'fs';
import * as zlib from 'zlib';
import { FormatError } from '../core/errors';
import { checkOutputFile, ioReason, oneLine, OutputOptions, writeFileAtomic } from '../core/files';
import { BconvOp, CompiledModel, CompiledOp, PAD_ZERO, Preprocess } from '../compile/model';
import { describe, isIntIn, isObject, quote, validateModel } from '../compile/validate';

/** "\x89BNN\r\n\x1a\n": the high byte, CR LF, ^Z and lone LF catch text-mode damage (as PNG's does). */
export const BNN_MAGIC: Readonly<Uint8Array> = Uint8Array.from([0x89, 0x42, 0x4e, 0x4e, 0x0d, 0x0a, 0x1a, 0x0a]);
/**
 * Format versions this code reads (1.x and 2.0): major = incompatible, minor = compatible
 * additions. 1.1 adds the optional top-level `preprocess` and `labels`. 2.0 adds the integer
 * fields (bconv `wBits` / `wSigned`, quantize `signed`, tensor `signed`): a 1.x reader would
 * misread some of them, so a file that has them is 2.0. Writers write the lowest version
 * that holds the file's contents, so a binary model stays byte-identical to what earlier
 * writers made (1.0, or 1.1 with preprocessing or labels). 2.1 adds bconv `padBit` 2, zero
 * padding (PAD_ZERO): earlier readers refuse the value, so it needs no new major. 2.2 adds
 * conv2d `groups` (grouped / depthwise float convs): an earlier reader ignores the field
 * but refuses the weight blob, which is `groups` times shorter than it expects.
 */
export const BNN_MAJOR = 2;
/** Highest minor of 1.x (files without integer fields). */
export const BNN_MINOR_1 = 1;
export const BNN_MINOR = 2;
export const BNN_HEADER_BYTES = 64;
/** Alignment of the blob region and of every blob in it (bytes, absolute file offsets). */
export const BNN_ALIGN = 64;
/** Largest .bnn file read or written. */
export const BNN_MAX_FILE_BYTES = 2 ** 31;
/** Bytes per read(2) call when loading a file. */
const READ_CHUNK = 64 << 20;
/** Largest JSON description (far above any real model; keeps the string under V8's limit). */
export const BNN_MAX_JSON_BYTES = 256 * 2 ** 20;

// Header field offsets (little-endian).
const H_MAJOR = 8;
const H_MINOR = 12;
const H_JSON_OFFSET = 16;
const H_JSON_LENGTH = 24;
const H_BLOB_OFFSET = 32;
const H_BLOB_LENGTH = 40;
const H_DATA_CRC = 48;
const H_HEADER_CRC = 60;

export type BlobDtype = 'f32' | 'i32' | 'u32' | 'u8';
type Blob = Float32Array | Int32Array | Uint32Array | Uint8Array;

const DTYPES: Record<BlobDtype, { size: number; make: (n: number) => Blob }> = {
  f32: { size: 4, make: (n) => new Float32Array(n) },
  i32: { size: 4, make: (n) => new Int32Array(n) },
  u32: { size: 4, make: (n) => new Uint32Array(n) },
  u8: { size: 1, make: (n) => new Uint8Array(n) },
};

/** A typed array as stored in the JSON: `length` elements of `dtype` at `offset` bytes into the blob region. */
export interface BlobRef {
  dtype: BlobDtype;
  offset: number;
  length: number;
}

// ---- CRC-32 (IEEE 802.3 / zlib polynomial) ----------------------------------------------

let crcTable: Int32Array | null = null;

/** Table-driven CRC-32; the fallback when node:zlib has no crc32 (Node < 20.15). */
export function crc32Portable(data: Uint8Array, crc = 0): number {
  if (!crcTable) {
    crcTable = new Int32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c;
    }
  }
  const t = crcTable;
  let c = ~crc;
  for (let i = 0; i < data.length; i++) c = t[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

const zlibCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/** CRC-32 of `data`, continuing from `crc`; same values as zlib's crc32. */
export function crc32(data: Uint8Array, crc = 0): number {
  return typeof zlibCrc32 === 'function' ? zlibCrc32(data, crc) >>> 0 : crc32Portable(data, crc);
}

// ---- container --------------------------------------------------------------------------

export interface BnnContainer {
  major: number;
  minor: number;
  /** The JSON description, decoded from UTF-8 (not parsed). */
  json: string;
  /** The blob region (a view into the input buffer). */
  blobs: Buffer;
}

const align = (n: number) => Math.ceil(n / BNN_ALIGN) * BNN_ALIGN;
const HOST_LE = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

/**
 * Lay out header + JSON + blob region and fill in both checksums. `fillBlobs` writes
 * the `blobLength` bytes of the blob region into `file` at `base`.
 */
function assemble(jsonBytes: Uint8Array, blobLength: number, fillBlobs: (file: Buffer, base: number) => void, version: [number, number], where: string): Buffer {
  const [major, minor] = version;
  const jsonOffset = BNN_HEADER_BYTES;
  const blobOffset = align(jsonOffset + jsonBytes.length);
  const total = blobOffset + blobLength;
  if (jsonBytes.length > BNN_MAX_JSON_BYTES) {
    throw new FormatError(where, `JSON description is ${jsonBytes.length} bytes, the limit is ${BNN_MAX_JSON_BYTES}`);
  }
  if (total > BNN_MAX_FILE_BYTES) {
    throw new FormatError(where, `model needs a ${total}-byte .bnn file, the limit is ${BNN_MAX_FILE_BYTES} (2 GiB)`);
  }
  const file = Buffer.alloc(total);
  file.set(BNN_MAGIC, 0);
  file.writeUInt32LE(major, H_MAJOR);
  file.writeUInt32LE(minor, H_MINOR);
  file.writeBigUInt64LE(BigInt(jsonOffset), H_JSON_OFFSET);
  file.writeBigUInt64LE(BigInt(jsonBytes.length), H_JSON_LENGTH);
  file.writeBigUInt64LE(BigInt(blobOffset), H_BLOB_OFFSET);
  file.writeBigUInt64LE(BigInt(blobLength), H_BLOB_LENGTH);
  file.set(jsonBytes, jsonOffset);
  fillBlobs(file, blobOffset);
  file.writeUInt32LE(crc32(file.subarray(BNN_HEADER_BYTES)), H_DATA_CRC);
  file.writeUInt32LE(crc32(file.subarray(0, H_HEADER_CRC)), H_HEADER_CRC);
  return file;
}

/**
 * Build a container around an arbitrary JSON text and blob region (no model
 * validation). For tools and tests; models go through encodeBnn.
 */
export function packBnnContainer(json: string, blobs: Uint8Array, minor = BNN_MINOR_1, major = 1): Buffer {
  return assemble(Buffer.from(json, 'utf8'), align(blobs.length), (f, base) => f.set(blobs, base), [major, minor], 'packBnnContainer');
}

/** Why `buf` does not start with the magic, with a hint for the usual transfer accidents. */
function badMagic(b: Uint8Array): string {
  const starts = (bytes: number[]) => bytes.every((v, i) => b[i] === v);
  const base = 'not a bitweave .bnn model (the file does not start with the magic 89 42 4E 4E 0D 0A 1A 0A)';
  if (starts([0x89, 0x42, 0x4e, 0x4e, 0x0a, 0x1a, 0x0a])) return `${base}: its CR LF became LF, the file went through a text-mode transfer`;
  if (starts([0x89, 0x42, 0x4e, 0x4e, 0x0d, 0x0d, 0x0a])) return `${base}: its LF became CR LF, the file went through a text-mode transfer`;
  if (starts([0x09, 0x42, 0x4e, 0x4e])) return `${base}: the high bit of byte 0 was stripped by a 7-bit transfer`;
  if (starts([0xef, 0xbf, 0xbd, 0x42, 0x4e, 0x4e])) return `${base}: it was decoded and re-encoded as text`;
  const first = b.length > 0 ? String.fromCharCode(b[0]) : '';
  if (first === '{' || first === '[') return `${base}: it looks like a JSON file`;
  return base;
}

/**
 * Check what the first bytes (up to the whole 64-byte header) of a file of `n` bytes say:
 * magic, version, header checksum, and that the sizes it declares fit `n` exactly.
 */
function checkHeader(buf: Buffer, n: number, fail: (msg: string) => never) {
  if (buf.length < BNN_MAGIC.length) {
    if (buf.length > 0 && BNN_MAGIC.subarray(0, buf.length).every((v, i) => buf[i] === v)) fail(`truncated: the file has ${n} bytes, a .bnn header alone has ${BNN_HEADER_BYTES}`);
    fail(buf.length === 0 ? 'the file is empty' : badMagic(buf));
  }
  if (!BNN_MAGIC.every((v, i) => buf[i] === v)) fail(badMagic(buf));
  // magic, major and minor keep their places in every format version
  if (buf.length < 16) fail(`truncated: the file has ${n} bytes, a .bnn header alone has ${BNN_HEADER_BYTES}`);
  const major = buf.readUInt32LE(H_MAJOR);
  const minor = buf.readUInt32LE(H_MINOR);
  if (major > BNN_MAJOR) fail(`written by a newer bitweave: format ${major}.${minor}, this reads 1 and 2`);
  if (major < 1) fail(`unknown .bnn format version ${major}.${minor}, this reads 1 and 2`);
  if (buf.length < BNN_HEADER_BYTES) fail(`truncated: the file has ${n} bytes, a .bnn header alone has ${BNN_HEADER_BYTES}`);
  const headerCrc = crc32(buf.subarray(0, H_HEADER_CRC));
  if (headerCrc !== buf.readUInt32LE(H_HEADER_CRC)) {
    fail(`corrupt header: checksum ${hex(headerCrc)} does not match the stored ${hex(buf.readUInt32LE(H_HEADER_CRC))}`);
  }

  // sizes as exact bigints first: nothing in the header is trusted yet
  const jsonOffset = buf.readBigUInt64LE(H_JSON_OFFSET);
  const jsonLength = buf.readBigUInt64LE(H_JSON_LENGTH);
  const blobOffset = buf.readBigUInt64LE(H_BLOB_OFFSET);
  const blobLength = buf.readBigUInt64LE(H_BLOB_LENGTH);
  const size = BigInt(n);
  if (jsonOffset < BigInt(BNN_HEADER_BYTES)) fail(`header puts the JSON at byte ${jsonOffset}, inside the ${BNN_HEADER_BYTES}-byte header`);
  if (jsonLength > BigInt(BNN_MAX_JSON_BYTES)) fail(`header declares a ${jsonLength}-byte JSON description, the limit is ${BNN_MAX_JSON_BYTES}`);
  if (blobOffset % BigInt(BNN_ALIGN) !== 0n) fail(`header puts the blob region at byte ${blobOffset}, not a multiple of ${BNN_ALIGN}`);
  if (blobOffset < jsonOffset + jsonLength) {
    fail(`header puts the blob region at byte ${blobOffset}, inside the JSON (bytes ${jsonOffset}..${jsonOffset + jsonLength})`);
  }
  const end = blobOffset + blobLength;
  if (end > size) fail(`truncated: the header declares ${end} bytes, the file has ${n}`);
  if (end < size) fail(`${size - end} unexpected bytes after the blob region (the header declares ${end} bytes, the file has ${n})`);
  return { major, minor, jsonOffset, jsonLength, blobOffset };
}

/**
 * Check the header and both checksums and split a .bnn file into its JSON text and
 * blob region. Every problem is a FormatError naming `file`.
 */
export function unpackBnnContainer(input: Uint8Array, file: string): BnnContainer {
  const fail = (msg: string): never => {
    throw new FormatError(file, msg);
  };
  const buf = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  const n = buf.length;
  const { major, minor, jsonOffset, jsonLength, blobOffset } = checkHeader(buf.subarray(0, BNN_HEADER_BYTES), n, fail);
  const dataCrc = crc32(buf.subarray(BNN_HEADER_BYTES));
  if (dataCrc !== buf.readUInt32LE(H_DATA_CRC)) {
    fail(`corrupt: checksum ${hex(dataCrc)} of the JSON and blobs does not match the stored ${hex(buf.readUInt32LE(H_DATA_CRC))}`);
  }

  const jo = Number(jsonOffset);
  let json = '';
  try {
    json = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(buf.subarray(jo, jo + Number(jsonLength)));
  } catch {
    fail('the JSON description is not valid UTF-8');
  }
  return { major, minor, json, blobs: buf.subarray(Number(blobOffset)) };
}

// ---- model <-> JSON ----------------------------------------------------------------------

const WINDOW = ['kh', 'kw', 'sh', 'sw', 'ph', 'pw'];

/** Per op kind: plain JSON fields and typed-array fields [name, dtype, nullable]. bconv's pool and epilogue are nested. */
interface OpSpec {
  fields: string[];
  blobs: Array<[string, BlobDtype, boolean]>;
  /** Plain fields that may be absent (format 2.0): written and read only when present. */
  optional?: string[];
  /** Plain fields with a default (format 2.2): written only when they differ from it, read as it when absent. */
  defaults?: Record<string, number>;
}
const OP_SPECS: Record<CompiledOp['op'], OpSpec> = {
  conv2d: { fields: ['in', 'out', ...WINDOW], blobs: [['weight', 'f32', false], ['bias', 'f32', true]], defaults: { groups: 1 } },
  dense: { fields: ['in', 'out'], blobs: [['weight', 'f32', false], ['bias', 'f32', true]] },
  batchnorm: { fields: ['in', 'out'], blobs: [['mean', 'f32', false], ['scale', 'f32', false], ['beta', 'f32', false]] },
  activation: { fields: ['in', 'out', 'fn'], blobs: [] },
  pool: { fields: ['in', 'out', ...WINDOW, 'mode', 'countIncludePad'], blobs: [] },
  add: { fields: ['in', 'out'], blobs: [] },
  flatten: { fields: ['in', 'out'], blobs: [] },
  quantize: { fields: ['in', 'out', 'bits'], blobs: [], optional: ['signed'] },
  binarize: { fields: ['in', 'out', 'bits'], blobs: [] },
  dequantize: { fields: ['in', 'out', 'divisor'], blobs: [] },
  bconv: { fields: ['in', 'out', ...WINDOW, 'padBit', 'inBits', 'outC'], blobs: [['weight', 'u32', false]], optional: ['wBits', 'wSigned'] },
};
const NESTED: Partial<Record<CompiledOp['op'], string[]>> = { bconv: ['pool', 'epilogue'] };

function hasOwn(o: object, k: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, k);
}

/** Lays typed arrays out in the blob region and hands back their references. */
class BlobWriter {
  size = 0;
  readonly parts: Array<{ at: number; data: Blob }> = [];

  ref(data: Blob, dtype: BlobDtype): BlobRef {
    const at = align(this.size);
    this.parts.push({ at, data });
    this.size = at + data.byteLength;
    return { dtype, offset: at, length: data.length };
  }

  write(file: Buffer, base: number): void {
    for (const { at, data } of this.parts) {
      const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      file.set(bytes, base + at);
      if (!HOST_LE) swapBytes(file.subarray(base + at, base + at + data.byteLength), data.BYTES_PER_ELEMENT);
    }
  }
}

/** Reverse each `size`-byte element in place (only on big-endian hosts: the file is little-endian). */
function swapBytes(b: Uint8Array, size: number): void {
  if (size === 1) return;
  for (let i = 0; i + size <= b.length; i += size) b.subarray(i, i + size).reverse();
}

function encodeOp(op: CompiledOp, blobs: BlobWriter): Record<string, unknown> {
  const spec = OP_SPECS[op.op];
  const src = op as unknown as Record<string, unknown>;
  // a field added to an op type but not to the schema would be dropped silently
  const defaults = Object.entries(spec.defaults ?? {});
  const known = new Set(['op', ...spec.fields, ...(spec.optional ?? []), ...defaults.map((d) => d[0]), ...spec.blobs.map((b) => b[0]), ...(NESTED[op.op] ?? [])]);
  for (const k of Object.keys(src)) {
    if (!known.has(k)) throw new Error(`encodeBnn: ${op.op} field '${k}' is not in the .bnn schema (update host/format/bnn.ts and docs/FORMAT.md)`);
  }
  const o: Record<string, unknown> = { op: op.op };
  for (const f of spec.fields) o[f] = Array.isArray(src[f]) ? [...(src[f] as number[])] : src[f];
  for (const f of spec.optional ?? []) if (src[f] !== undefined) o[f] = src[f];
  for (const [f, d] of defaults) if (src[f] !== d) o[f] = src[f];
  for (const [f, dtype] of spec.blobs) o[f] = src[f] === null ? null : blobs.ref(src[f] as Blob, dtype);
  if (op.op === 'bconv') {
    const b = op as BconvOp;
    o.pool = b.pool === null ? null : {
      kh: b.pool.kh, kw: b.pool.kw, sh: b.pool.sh, sw: b.pool.sw, ph: b.pool.ph, pw: b.pool.pw,
      useMin: blobs.ref(b.pool.useMin, 'u8'),
    };
    o.epilogue = b.epilogue.kind === 'int' ? { kind: 'int' } : {
      kind: 'threshold', bits: b.epilogue.bits,
      thresholds: blobs.ref(b.epilogue.thresholds, 'i32'), flip: blobs.ref(b.epilogue.flip, 'u8'),
    };
  }
  return o;
}

/**
 * Serialise a compiled model. The model is validated first (errors name `where`), so
 * an invalid model is never written.
 */
export function encodeBnn(model: CompiledModel, where = 'compiled model'): Buffer {
  validateModel(model, where);
  const blobs = new BlobWriter();
  const doc = {
    name: model.name,
    source: { format: model.source.format, files: [...model.source.files] },
    input: model.input,
    output: model.output,
    softmax: model.softmax,
    floatWeightBytes: model.floatWeightBytes,
    tensors: model.tensors.map((t) => ({ kind: t.kind, h: t.h, w: t.w, c: t.c, planes: t.planes, flat: t.flat, ...(t.signed !== undefined ? { signed: t.signed } : {}) })),
    ops: model.ops.map((op) => encodeOp(op, blobs)),
    opNames: [...model.opNames],
    segments: model.segments.map((s) => ({ kind: s.kind, start: s.start, end: s.end, inputs: [...s.inputs], outputs: [...s.outputs] })),
    ...(model.preprocess !== undefined ? { preprocess: encodePreprocess(model.preprocess) } : {}),
    ...(model.labels !== undefined ? { labels: [...model.labels] } : {}),
  };
  const json = Buffer.from(JSON.stringify(doc), 'utf8');
  const version: [number, number] = usesGroupedConv(model) ? [2, 2] : usesZeroPadding(model) ? [2, 1] : usesIntegerFields(model) ? [2, 0]
    : [1, model.preprocess !== undefined || model.labels !== undefined ? 1 : 0];
  return assemble(json, align(blobs.size), (f, base) => blobs.write(f, base), version, where);
}

/** A bconv pads with zero (padBit PAD_ZERO, format 2.1: earlier readers refuse the value, never misread it). */
export function usesZeroPadding(model: CompiledModel): boolean {
  return model.ops.some((op) => op.op === 'bconv' && op.padBit === PAD_ZERO);
}

/** A float conv has groups (format 2.2: earlier readers refuse its short weight blob, never misread it). */
export function usesGroupedConv(model: CompiledModel): boolean {
  return model.ops.some((op) => op.op === 'conv2d' && op.groups !== 1);
}

/** The model has a field of format 2.0 (integer weights, signed activations). */
export function usesIntegerFields(model: CompiledModel): boolean {
  if (model.tensors.some((t) => t.signed !== undefined)) return true;
  return model.ops.some((op) => (OP_SPECS[op.op].optional ?? []).some((f) => (op as unknown as Record<string, unknown>)[f] !== undefined));
}

/** The stored preprocessing, field by field (a field added to the type must be added here and to docs/FORMAT.md). */
function encodePreprocess(p: Preprocess): Record<string, unknown> {
  const known = new Set(['channelOrder', 'scale', 'mean', 'std', 'resize']);
  for (const k of Object.keys(p)) {
    if (!known.has(k)) throw new Error(`encodeBnn: preprocess field '${k}' is not in the .bnn schema (update host/format/bnn.ts and docs/FORMAT.md)`);
  }
  const resize = p.resize.policy === 'shorter-side' ? { policy: p.resize.policy, size: p.resize.size } : { policy: p.resize.policy };
  return { channelOrder: p.channelOrder, scale: p.scale, mean: [...p.mean], std: [...p.std], resize };
}

/** Rebuilds a model from parsed JSON; blob references are resolved only after all are known. */
class ModelReader {
  private readonly refs: Array<{ path: string; dtype: BlobDtype; offset: number; length: number; set: (a: Blob) => void }> = [];

  constructor(private readonly file: string, private readonly region: Buffer) {}

  private fail(msg: string): never {
    throw new FormatError(this.file, msg);
  }

  /** Record a blob reference at `path`; `set` receives the decoded array later. */
  private blob(path: string, v: unknown, dtype: BlobDtype, nullable: boolean, set: (a: Blob | null) => void): void {
    if (v === null && nullable) {
      set(null);
      return;
    }
    const want = `a blob reference {dtype: "${dtype}", offset, length}${nullable ? ' or null' : ''}`;
    if (!isObject(v)) this.fail(`${path} must be ${want}, got ${describe(v)}`);
    if (v.dtype !== dtype) this.fail(`${path}.dtype must be "${dtype}", got ${describe(v.dtype)}`);
    const size = this.region.length;
    if (!isIntIn(v.offset, 0, size)) this.fail(`${path}.offset must be an integer in 0..${size} (the blob region's size), got ${describe(v.offset)}`);
    if (v.offset % BNN_ALIGN !== 0) this.fail(`${path}.offset ${v.offset} is not a multiple of ${BNN_ALIGN}`);
    const el = DTYPES[dtype].size;
    const room = Math.floor((size - v.offset) / el);
    if (!isIntIn(v.length, 0, room)) {
      this.fail(`${path}.length must be an integer in 0..${room} (the ${dtype} elements left in the blob region after offset ${v.offset}), got ${describe(v.length)}`);
    }
    this.refs.push({ path, dtype, offset: v.offset, length: v.length, set });
  }

  /** Check that no two references share a byte, then copy every blob into a fresh array. */
  private resolve(): void {
    const spans = this.refs
      .map((r) => ({ r, end: r.offset + r.length * DTYPES[r.dtype].size }))
      .filter((s) => s.end > s.r.offset)
      .sort((a, b) => a.r.offset - b.r.offset);
    for (let i = 1; i < spans.length; i++) {
      const a = spans[i - 1];
      const b = spans[i];
      if (b.r.offset < a.end) {
        this.fail(`blobs overlap: ${b.r.path} (bytes ${b.r.offset}..${b.end}) and ${a.r.path} (bytes ${a.r.offset}..${a.end})`);
      }
    }
    for (const r of this.refs) {
      const bytes = r.length * DTYPES[r.dtype].size;
      const arr = DTYPES[r.dtype].make(r.length);
      const view = new Uint8Array(arr.buffer, 0, bytes);
      view.set(this.region.subarray(r.offset, r.offset + bytes));
      if (!HOST_LE) swapBytes(view, DTYPES[r.dtype].size);
      r.set(arr);
    }
  }

  private op(o: unknown, i: number): CompiledOp {
    const path = `ops[${i}]`;
    if (!isObject(o)) this.fail(`${path} must be an object, got ${describe(o)}`);
    const kind = o.op;
    if (typeof kind !== 'string' || !hasOwn(OP_SPECS, kind)) {
      this.fail(`${path}.op: unknown op kind ${typeof kind === 'string' ? quote(kind) : describe(kind)} (this bitweave reads format ${BNN_MAJOR}.${BNN_MINOR})`);
    }
    const spec = OP_SPECS[kind as CompiledOp['op']];
    const r: Record<string, unknown> = { op: kind };
    for (const f of spec.fields) r[f] = hasOwn(o, f) ? o[f] : undefined;
    for (const f of spec.optional ?? []) if (hasOwn(o, f)) r[f] = o[f]; // absent stays absent (1.0/1.1 meaning)
    for (const [f, d] of Object.entries(spec.defaults ?? {})) r[f] = hasOwn(o, f) ? o[f] : d; // absent: the earlier meaning
    for (const [f, dtype, nullable] of spec.blobs) this.blob(`${path}.${f}`, hasOwn(o, f) ? o[f] : undefined, dtype, nullable, (a) => (r[f] = a));
    if (kind === 'bconv') {
      const p = hasOwn(o, 'pool') ? o.pool : undefined;
      if (isObject(p)) {
        const pool: Record<string, unknown> = {};
        for (const f of WINDOW) pool[f] = hasOwn(p, f) ? p[f] : undefined;
        this.blob(`${path}.pool.useMin`, hasOwn(p, 'useMin') ? p.useMin : undefined, 'u8', false, (a) => (pool.useMin = a));
        r.pool = pool;
      } else {
        r.pool = p; // null, or something validateModel reports
      }
      const e = hasOwn(o, 'epilogue') ? o.epilogue : undefined;
      if (isObject(e) && e.kind === 'threshold') {
        const ep: Record<string, unknown> = { kind: 'threshold', bits: hasOwn(e, 'bits') ? e.bits : undefined };
        this.blob(`${path}.epilogue.thresholds`, hasOwn(e, 'thresholds') ? e.thresholds : undefined, 'i32', false, (a) => (ep.thresholds = a));
        this.blob(`${path}.epilogue.flip`, hasOwn(e, 'flip') ? e.flip : undefined, 'u8', false, (a) => (ep.flip = a));
        r.epilogue = ep;
      } else {
        r.epilogue = isObject(e) ? { kind: e.kind } : e;
      }
    }
    return r as unknown as CompiledOp;
  }

  /** Pick the known fields of an object (unknown ones are later minor-version additions). */
  private pick(v: unknown, fields: string[]): unknown {
    if (!isObject(v)) return v;
    const r: Record<string, unknown> = {};
    for (const f of fields) r[f] = hasOwn(v, f) ? v[f] : undefined;
    return r;
  }

  model(doc: unknown): CompiledModel {
    if (!isObject(doc)) this.fail(`the JSON description must be an object, got ${describe(doc)}`);
    const get = (k: string) => (hasOwn(doc, k) ? doc[k] : undefined);
    const ops = get('ops');
    const m = {
      name: get('name'),
      source: this.pick(get('source'), ['format', 'files']),
      input: get('input'),
      output: get('output'),
      softmax: get('softmax'),
      tensors: Array.isArray(get('tensors'))
        ? (get('tensors') as unknown[]).map((t) => {
          const r = this.pick(t, ['kind', 'h', 'w', 'c', 'planes', 'flat']);
          if (isObject(t) && isObject(r) && hasOwn(t, 'signed')) r.signed = t.signed; // 2.0, only when present
          return r;
        })
        : get('tensors'),
      ops: Array.isArray(ops) ? ops.map((o, i) => this.op(o, i)) : ops,
      segments: Array.isArray(get('segments'))
        ? (get('segments') as unknown[]).map((s) => this.pick(s, ['kind', 'start', 'end', 'inputs', 'outputs']))
        : get('segments'),
      opNames: get('opNames'),
      floatWeightBytes: get('floatWeightBytes'),
    };
    // 1.1 fields: only present keys are set (a model without them equals one from a 1.0 file)
    if (get('preprocess') !== undefined) {
      const p = this.pick(get('preprocess'), ['channelOrder', 'scale', 'mean', 'std', 'resize']);
      if (isObject(p) && isObject(p.resize)) p.resize = this.pick(p.resize, p.resize.policy === 'shorter-side' ? ['policy', 'size'] : ['policy']);
      (m as Record<string, unknown>).preprocess = p;
    }
    if (get('labels') !== undefined) (m as Record<string, unknown>).labels = get('labels');
    this.resolve();
    return m as unknown as CompiledModel;
  }
}

/**
 * Parse and validate a .bnn file held in memory. Throws FormatError (naming `file`)
 * for anything truncated, corrupt, hostile or inconsistent; the result is safe to run.
 */
export function decodeBnn(buf: Uint8Array, file: string): CompiledModel {
  const c = unpackBnnContainer(buf, file);
  let doc: unknown;
  try {
    doc = JSON.parse(c.json);
  } catch (e) {
    throw new FormatError(file, `the JSON description does not parse: ${oneLine(e)}`);
  }
  const model = new ModelReader(file, c.blobs).model(doc);
  validateModel(model, file);
  if (c.major < 2 && usesIntegerFields(model)) {
    throw new FormatError(file, `format ${c.major}.${c.minor} cannot hold integer weights or signed activations (they need format 2.0)`);
  }
  if ((c.major < 2 || (c.major === 2 && c.minor < 1)) && usesZeroPadding(model)) {
    throw new FormatError(file, `format ${c.major}.${c.minor} cannot hold zero-padded binary convolutions (padBit ${PAD_ZERO} needs format 2.1)`);
  }
  if ((c.major < 2 || (c.major === 2 && c.minor < 2)) && usesGroupedConv(model)) {
    throw new FormatError(file, `format ${c.major}.${c.minor} cannot hold grouped convolutions (conv2d groups needs format 2.2)`);
  }
  return model;
}

/** Read and validate a .bnn file; the size is checked before anything is read. */
export function readBnn(file: string): CompiledModel {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    throw new FormatError(file, `cannot read: ${ioReason(e)}`);
  }
  if (st.isDirectory()) throw new FormatError(file, 'cannot read: is a directory');
  if (!st.isFile()) throw new FormatError(file, 'cannot read: not a regular file');
  const tooBig = (size: number) =>
    new FormatError(file, `the file is ${size} bytes, larger than the ${BNN_MAX_FILE_BYTES}-byte (2 GiB) limit of .bnn models`);
  if (st.size > BNN_MAX_FILE_BYTES) throw tooBig(st.size);
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    throw new FormatError(file, `cannot read: ${ioReason(e)}`);
  }
  let buf: Buffer;
  try {
    // size again on the open file: it may have changed since the stat
    const size = fs.fstatSync(fd).size;
    if (size > BNN_MAX_FILE_BYTES) throw tooBig(size);
    // the header first: a large file that is no model (or not this one) is refused
    // without reading all of it
    const head = Buffer.alloc(Math.min(size, BNN_HEADER_BYTES));
    const got0 = fs.readSync(fd, head, 0, head.length, 0);
    checkHeader(head.subarray(0, got0), size, (msg) => {
      throw new FormatError(file, msg);
    });
    buf = Buffer.alloc(size);
    let got = 0;
    while (got < size) {
      // in chunks: one read(2) of 2 GiB overflows Node's int32 length check
      const r = fs.readSync(fd, buf, got, Math.min(size - got, READ_CHUNK), got);
      if (r === 0) break;
      got += r;
    }
    buf = buf.subarray(0, got);
  } catch (e) {
    if (e instanceof FormatError) throw e;
    throw new FormatError(file, `cannot read: ${ioReason(e)}`);
  } finally {
    fs.closeSync(fd);
  }
  return decodeBnn(buf, file);
}

/**
 * Validate, encode and write a model. The file appears atomically (temp file beside it,
 * fsync, rename; see writeFileAtomic): special files, links to inputs and `opts.inputs`
 * are refused, and a failure leaves any earlier file as it was.
 */
export function writeBnn(file: string, model: CompiledModel, opts: OutputOptions = {}): void {
  checkOutputFile(file, opts); // before encoding: a bad path costs nothing
  writeFileAtomic(file, encodeBnn(model, file), opts);
}
