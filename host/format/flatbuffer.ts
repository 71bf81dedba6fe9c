/**
 * Bounds-checked reading of an untrusted FlatBuffer, on the `flatbuffers` runtime's ByteBuffer.
 *
 * The runtime's generated-code helpers (`__offset`, `__vector`, `__string`) trust every
 * offset: out of range they read `undefined` bytes as 0 and return garbage instead of
 * failing. Here every position is checked against the buffer before it is read, so a
 * truncated or corrupt file ends in one FormatError naming the file, the field being read
 * (`what`) and the byte range at fault. Schema knowledge (which slot holds what) stays
 * with the caller: a table is read by field slot number, the field's position in its
 * `table` declaration (a union takes two slots: its type, then its value).
 *
 * Alignment is not checked: ByteBuffer reads byte by byte, so a misaligned scalar reads
 * the same value a C++ reader would.
 */
import { ByteBuffer } from 'flatbuffers';
import { FormatError } from '../core/errors';

/** Elements a file may make the reader decode, per byte of file (tables can share vectors). */
const WORK_PER_BYTE = 4;
/** Allowance on top, so tiny hand-built files are not refused. */
const WORK_BASE = 1 << 16;

export class FlatReader {
  readonly bb: ByteBuffer;
  readonly length: number;
  /** Vector elements left to decode; bounds the work a file with shared offsets can cause. */
  private work: number;

  readonly bytes: Uint8Array;

  constructor(bytes: Uint8Array, readonly file: string) {
    // a plain Uint8Array view even when given a Node Buffer, whose slice() does not copy:
    // callers get views of this and must be able to copy them with slice()
    this.bytes = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.bb = new ByteBuffer(this.bytes);
    this.length = bytes.length;
    this.work = WORK_PER_BYTE * bytes.length + WORK_BASE;
  }

  fail(message: string): never {
    throw new FormatError(this.file, message);
  }

  /** Require bytes [pos, pos + n) to lie inside the buffer. */
  need(pos: number, n: number, what: string): void {
    if (!(pos >= 0 && n >= 0 && pos + n <= this.length)) {
      const end = pos + n;
      this.fail(`${what}: bytes ${pos}..${end} lie outside the ${this.length}-byte file (truncated or corrupt)`);
    }
  }

  charge(n: number, what: string): void {
    this.work -= n;
    if (this.work < 0) this.fail(`${what}: the file's tables refer to the same data too many times for its size (corrupt or hostile)`);
  }

  /** The root table: a uoffset at byte 0. */
  root(what: string): Table {
    this.need(0, 4, what);
    return this.table(this.bb.readUint32(0), what);
  }

  /** The table at `pos`, with its vtable checked. */
  table(pos: number, what: string): Table {
    this.need(pos, 4, `${what} (table at byte ${pos})`);
    const vtable = pos - this.bb.readInt32(pos);
    this.need(vtable, 4, `${what} (vtable at byte ${vtable})`);
    const vtableSize = this.bb.readUint16(vtable);
    const tableSize = this.bb.readUint16(vtable + 2);
    if (vtableSize < 4 || vtableSize % 2 !== 0) this.fail(`${what}: vtable at byte ${vtable} declares a size of ${vtableSize} bytes (corrupt)`);
    if (tableSize < 4) this.fail(`${what}: vtable at byte ${vtable} declares a table of ${tableSize} bytes (corrupt)`);
    this.need(vtable, vtableSize, `${what} (vtable at byte ${vtable})`);
    this.need(pos, tableSize, `${what} (table at byte ${pos})`);
    return new Table(this, pos, vtable, vtableSize, tableSize, what);
  }

  /** Follow the uoffset stored at `pos`. */
  indirect(pos: number, what: string): number {
    this.need(pos, 4, what);
    const target = pos + this.bb.readUint32(pos);
    this.need(target, 4, what);
    return target;
  }

  /** A vector's element count and first element position, its elements checked in range. */
  vector(pos: number, elementSize: number, what: string): { start: number; count: number } {
    const at = this.indirect(pos, what);
    const count = this.bb.readUint32(at);
    this.need(at + 4, count * elementSize, `${what} (${count} elements of ${elementSize} bytes at byte ${at + 4})`);
    this.charge(count, what);
    return { start: at + 4, count };
  }

  /** A string: a byte vector followed by a NUL, decoded as UTF-8 (invalid bytes become U+FFFD). */
  string(pos: number, what: string): string {
    const { start, count } = this.vector(pos, 1, what);
    this.need(start + count, 1, `${what} (terminator)`);
    if (this.bytes[start + count] !== 0) this.fail(`${what}: string at byte ${start} is not NUL-terminated (corrupt)`);
    return new TextDecoder().decode(this.bytes.subarray(start, start + count));
  }

  /** A 64-bit integer as a number; refuses values a double cannot hold exactly. */
  safeInt64(v: bigint, what: string): number {
    const n = Number(v);
    if (!Number.isSafeInteger(n)) this.fail(`${what}: 64-bit value ${v} is out of range`);
    return n;
  }
}

/** One table: fields are looked up by slot, each checked to lie inside the table. */
export class Table {
  constructor(
    readonly r: FlatReader,
    readonly pos: number,
    private readonly vtable: number,
    private readonly vtableSize: number,
    private readonly tableSize: number,
    readonly what: string,
  ) {}

  /** Absolute position of field `slot` of `size` bytes, or 0 when absent. */
  private field(slot: number, size: number): number {
    const entry = 4 + 2 * slot;
    if (entry + 2 > this.vtableSize) return 0;
    const off = this.r.bb.readUint16(this.vtable + entry);
    if (off === 0) return 0;
    if (off < 4 || off + size > this.tableSize) {
      this.r.fail(`${this.what}: field ${slot} at offset ${off} (${size} bytes) lies outside its ${this.tableSize}-byte table (corrupt)`);
    }
    return this.pos + off;
  }

  has(slot: number): boolean {
    return this.field(slot, 1) !== 0;
  }

  i8(slot: number, dflt: number): number {
    const p = this.field(slot, 1);
    return p ? this.r.bb.readInt8(p) : dflt;
  }

  u8(slot: number, dflt: number): number {
    const p = this.field(slot, 1);
    return p ? this.r.bb.readUint8(p) : dflt;
  }

  bool(slot: number, dflt: boolean): boolean {
    const p = this.field(slot, 1);
    return p ? this.r.bb.readUint8(p) !== 0 : dflt;
  }

  i32(slot: number, dflt: number): number {
    const p = this.field(slot, 4);
    return p ? this.r.bb.readInt32(p) : dflt;
  }

  u32(slot: number, dflt: number): number {
    const p = this.field(slot, 4);
    return p ? this.r.bb.readUint32(p) : dflt;
  }

  f32(slot: number, dflt: number): number {
    const p = this.field(slot, 4);
    return p ? this.r.bb.readFloat32(p) : dflt;
  }

  u64(slot: number, dflt: number, what: string): number {
    const p = this.field(slot, 8);
    return p ? this.r.safeInt64(this.r.bb.readUint64(p), `${this.what}: ${what}`) : dflt;
  }

  table(slot: number, what: string): Table | null {
    const p = this.field(slot, 4);
    return p ? this.r.table(this.r.indirect(p, `${this.what}: ${what}`), `${this.what}: ${what}`) : null;
  }

  string(slot: number, what: string): string | null {
    const p = this.field(slot, 4);
    return p ? this.r.string(p, `${this.what}: ${what}`) : null;
  }

  /** A vector of tables (each element a uoffset). */
  tables(slot: number, what: string): Table[] | null {
    const p = this.field(slot, 4);
    if (!p) return null;
    const { start, count } = this.r.vector(p, 4, `${this.what}: ${what}`);
    const out: Table[] = [];
    for (let i = 0; i < count; i++) {
      const at = start + 4 * i;
      const where = `${this.what}: ${what}[${i}]`;
      out.push(this.r.table(this.r.indirect(at, where), where));
    }
    return out;
  }

  i32s(slot: number, what: string): number[] | null {
    return this.scalars(slot, 4, what, (at) => this.r.bb.readInt32(at));
  }

  f32s(slot: number, what: string): number[] | null {
    return this.scalars(slot, 4, what, (at) => this.r.bb.readFloat32(at));
  }

  i64s(slot: number, what: string): number[] | null {
    const where = `${this.what}: ${what}`;
    return this.scalars(slot, 8, what, (at) => this.r.safeInt64(this.r.bb.readInt64(at), where));
  }

  /** A byte vector as a view of the buffer (no copy). */
  bytes(slot: number, what: string): Uint8Array | null {
    const p = this.field(slot, 4);
    if (!p) return null;
    const { start, count } = this.r.vector(p, 1, `${this.what}: ${what}`);
    return this.r.bytes.subarray(start, start + count);
  }

  private scalars(slot: number, size: number, what: string, read: (at: number) => number): number[] | null {
    const p = this.field(slot, 4);
    if (!p) return null;
    const { start, count } = this.r.vector(p, size, `${this.what}: ${what}`);
    const out = new Array<number>(count);
    for (let i = 0; i < count; i++) out[i] = read(start + size * i);
    return out;
  }
}
