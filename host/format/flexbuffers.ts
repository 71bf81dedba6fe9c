/**
 * A bounds-checked FlexBuffers decoder: TFLite custom operators (LCE's among them) keep
 * their options in a FlexBuffer, usually a map of small integers.
 *
 * The `flatbuffers` package ships a FlexBuffers reader (`flatbuffers/js/flexbuffers`), but
 * it is not fit for untrusted bytes: it throws strings, follows offsets without bounds or
 * depth limits (a self-referencing vector recurses until the stack overflows), has no way
 * to list a map's keys other than `toObject()`, `toObject()` turns a float 0.0 into null,
 * and a vector of 64-bit values fails with a TypeError (it mixes BigInt and number). So this file decodes the format itself, from the FlexBuffers specification, and
 * every failure is one FormatError; the tests check it against the package's encoder.
 *
 * Layout reminders: the last byte is the root's byte width, the one before it the root's
 * packed type (`type << 2 | log2(width)`); offsets point backwards (`target = pos − uint`);
 * a vector's length sits just before its first element; an untyped vector or map is
 * followed by one packed-type byte per element; a map is a vector of values preceded by
 * (offset to its keys vector, that vector's byte width).
 */
import { FormatError } from '../core/errors';
import { printable } from '../core/text';

export type FlexValue = null | boolean | number | string | Uint8Array | FlexValue[] | FlexMap;
export interface FlexMap { [key: string]: FlexValue }

/** Nesting deeper than this is refused (LCE's options are one flat map). */
const MAX_DEPTH = 64;
/** Longest map key read; keys are NUL-terminated, so this bounds the scan for the NUL. */
const MAX_KEY_BYTES = 1024;

// FlexBuffers value types (flexbuffers.h, enum Type).
const T = {
  NULL: 0, INT: 1, UINT: 2, FLOAT: 3, KEY: 4, STRING: 5,
  INDIRECT_INT: 6, INDIRECT_UINT: 7, INDIRECT_FLOAT: 8,
  MAP: 9, VECTOR: 10,
  VECTOR_INT: 11, VECTOR_UINT: 12, VECTOR_FLOAT: 13, VECTOR_KEY: 14, VECTOR_STRING_DEPRECATED: 15,
  VECTOR_INT2: 16, VECTOR_FLOAT4: 24,
  BLOB: 25, BOOL: 26, VECTOR_BOOL: 36,
} as const;

const utf8 = (b: Uint8Array): string => new TextDecoder().decode(b);

class FlexDecoder {
  private readonly view: DataView;
  /** Work left: each value costs one, each string or key byte one, so shared offsets cannot blow up. */
  private budget: number;

  constructor(private readonly bytes: Uint8Array, private readonly file: string, private readonly what: string) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.budget = 4 * bytes.length + 64;
  }

  fail(message: string): never {
    throw new FormatError(this.file, `${this.what}: FlexBuffer ${message}`);
  }

  private charge(n: number): void {
    this.budget -= n;
    if (this.budget < 0) this.fail('refers to the same data too many times for its size (corrupt or hostile)');
  }

  private need(pos: number, n: number): void {
    if (!(pos >= 0 && pos + n <= this.bytes.length)) {
      this.fail(`bytes ${pos}..${pos + n} lie outside its ${this.bytes.length} bytes (corrupt)`);
    }
  }

  private uint(pos: number, width: number): number {
    this.need(pos, width);
    switch (width) {
      case 1: return this.view.getUint8(pos);
      case 2: return this.view.getUint16(pos, true);
      case 4: return this.view.getUint32(pos, true);
      default: return this.safe(this.view.getBigUint64(pos, true));
    }
  }

  private int(pos: number, width: number): number {
    this.need(pos, width);
    switch (width) {
      case 1: return this.view.getInt8(pos);
      case 2: return this.view.getInt16(pos, true);
      case 4: return this.view.getInt32(pos, true);
      default: return this.safe(this.view.getBigInt64(pos, true));
    }
  }

  private float(pos: number, width: number): number {
    this.need(pos, width);
    if (width === 4) return this.view.getFloat32(pos, true);
    if (width === 8) return this.view.getFloat64(pos, true);
    return this.fail(`has a ${8 * width}-bit float, which FlexBuffers does not define`);
  }

  private safe(v: bigint): number {
    const n = Number(v);
    if (BigInt(n) !== v) this.fail(`integer ${v} does not fit a double exactly`);
    return n;
  }

  /** Follow the backward offset stored at `pos` (`width` bytes). */
  private indirect(pos: number, width: number): number {
    const target = pos - this.uint(pos, width);
    this.need(target, 0);
    return target;
  }

  /** The bytes of the NUL-terminated key starting at `pos`. */
  private keyBytes(pos: number): Uint8Array {
    this.need(pos, 1);
    const window = this.bytes.subarray(pos, pos + MAX_KEY_BYTES + 1);
    const len = window.indexOf(0);
    if (len < 0) this.fail(`key at byte ${pos} is not NUL-terminated within ${MAX_KEY_BYTES} bytes (corrupt)`);
    this.charge(len);
    return window.subarray(0, len);
  }

  root(): FlexValue {
    const n = this.bytes.length;
    if (n < 3) this.fail(`is ${n} bytes, too short for a root value`);
    const width = this.view.getUint8(n - 1);
    if (![1, 2, 4, 8].includes(width)) this.fail(`root width ${width} is not 1, 2, 4 or 8 (corrupt)`);
    return this.value(n - 2 - width, width, this.view.getUint8(n - 2), 0);
  }

  /** The value stored at `pos` in a slot of `parentWidth` bytes, of packed type `packed`. */
  private value(pos: number, parentWidth: number, packed: number, depth: number): FlexValue {
    this.charge(1);
    if (depth > MAX_DEPTH) this.fail(`nests deeper than ${MAX_DEPTH} levels (corrupt or hostile)`);
    const type = packed >> 2;
    const width = 1 << (packed & 3); // byte width of the data an offset points to
    switch (type) {
      case T.NULL: return null;
      case T.INT: return this.int(pos, parentWidth);
      case T.UINT: return this.uint(pos, parentWidth);
      case T.FLOAT: return this.float(pos, parentWidth);
      case T.BOOL: return this.uint(pos, parentWidth) !== 0;
      case T.INDIRECT_INT: return this.int(this.indirect(pos, parentWidth), width);
      case T.INDIRECT_UINT: return this.uint(this.indirect(pos, parentWidth), width);
      case T.INDIRECT_FLOAT: return this.float(this.indirect(pos, parentWidth), width);
      case T.KEY: return utf8(this.keyBytes(this.indirect(pos, parentWidth)));
      case T.STRING:
      case T.BLOB: {
        const at = this.indirect(pos, parentWidth);
        const len = this.uint(at - width, width);
        this.need(at, len + (type === T.STRING ? 1 : 0));
        this.charge(len);
        const raw = this.bytes.subarray(at, at + len);
        return type === T.STRING ? utf8(raw) : raw.slice();
      }
      case T.MAP: return this.map(this.indirect(pos, parentWidth), width, depth);
      case T.VECTOR: {
        const at = this.indirect(pos, parentWidth);
        const len = this.length(at, width);
        this.need(at + len * width, len); // the packed types after the elements
        const out: FlexValue[] = [];
        for (let i = 0; i < len; i++) out.push(this.value(at + i * width, width, this.bytes[at + len * width + i], depth + 1));
        return out;
      }
      default: break;
    }
    if ((type >= T.VECTOR_INT && type <= T.VECTOR_STRING_DEPRECATED) || type === T.VECTOR_BOOL) {
      const at = this.indirect(pos, parentWidth);
      const element = type === T.VECTOR_BOOL ? T.BOOL : type - T.VECTOR_INT + T.INT;
      return this.typed(at, this.length(at, width), width, element, depth);
    }
    if (type >= T.VECTOR_INT2 && type <= T.VECTOR_FLOAT4) {
      const at = this.indirect(pos, parentWidth);
      const k = type - T.VECTOR_INT2;
      return this.typed(at, 2 + Math.floor(k / 3), width, T.INT + (k % 3), depth);
    }
    return this.fail(`has unknown value type ${type} (corrupt)`);
  }

  /** Element count stored just before a vector's first element; checks the elements fit. */
  private length(at: number, width: number): number {
    const len = this.uint(at - width, width);
    this.need(at, len * width);
    return len;
  }

  private typed(at: number, len: number, width: number, element: number, depth: number): FlexValue[] {
    this.need(at, len * width);
    // elements are read with the vector's width; like flexbuffers.h, the strings of the
    // deprecated typed string vector are read with 1-byte size prefixes (why it is deprecated)
    const packed = element << 2;
    const out: FlexValue[] = [];
    for (let i = 0; i < len; i++) out.push(this.value(at + i * width, width, packed, depth + 1));
    return out;
  }

  private map(at: number, width: number, depth: number): FlexMap {
    const len = this.length(at, width);
    this.need(at + len * width, len);
    const keysAt = this.indirect(at - 3 * width, width);
    const keysWidth = this.uint(at - 2 * width, width);
    if (![1, 2, 4, 8].includes(keysWidth)) this.fail(`map at byte ${at} has keys of width ${keysWidth} (corrupt)`);
    if (this.uint(keysAt - keysWidth, keysWidth) !== len) this.fail(`map at byte ${at} has a different number of keys and values (corrupt)`);
    this.need(keysAt, len * keysWidth);
    const out: FlexMap = {};
    let previous: Uint8Array | null = null;
    for (let i = 0; i < len; i++) {
      const raw = this.keyBytes(this.indirect(keysAt + i * keysWidth, keysWidth));
      const key = utf8(raw);
      // keys are stored sorted by bytes (readers binary-search them): out of order means corrupt
      if (previous !== null && Buffer.compare(previous, raw) >= 0) {
        this.fail(`map at byte ${at} has keys out of order or repeated ('${printable(utf8(previous), 40)}', '${printable(key, 40)}') (corrupt)`);
      }
      previous = raw;
      const v = this.value(at + i * width, width, this.bytes[at + len * width + i], depth + 1);
      // defineProperty: a key named __proto__ must become data, not a prototype
      Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
}

/**
 * Decode one FlexBuffer. `file` and `what` name it in errors
 * (`<file>: <what>: FlexBuffer <problem>`).
 */
export function decodeFlexBuffer(bytes: Uint8Array, file: string, what: string): FlexValue {
  return new FlexDecoder(bytes, file, what).root();
}
