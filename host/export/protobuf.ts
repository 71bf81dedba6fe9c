/**
 * Minimal protocol-buffer wire encoding (proto2/proto3 binary format), enough to write
 * ONNX models without a protobuf dependency, plus a field-level reader used to check
 * what was written.
 *
 * Wire types: 0 = varint, 1 = 64-bit, 2 = length-delimited, 5 = 32-bit. A field key is
 * the varint (field << 3) | wireType. Signed int64/int32 values are written as 64-bit
 * two's complement varints (10 bytes when negative), as protobuf does for int64.
 */

export const WIRE_VARINT = 0;
export const WIRE_I64 = 1;
export const WIRE_LEN = 2;
export const WIRE_I32 = 5;

const utf8 = new TextEncoder();

/** An append-only byte buffer that writes protobuf fields. */
export class ProtoWriter {
  private buf = new Uint8Array(256);
  private len = 0;

  get length(): number {
    return this.len;
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  private byte(b: number): void {
    this.reserve(1);
    this.buf[this.len++] = b;
  }

  /** A raw varint. Accepts safe integers, negative ones as 64-bit two's complement. */
  varint(v: number | bigint): this {
    if (typeof v === 'number') {
      if (!Number.isSafeInteger(v)) throw new RangeError(`protobuf: varint ${v} is not a safe integer`);
      if (v >= 0) {
        // split so values above 2^32 do not go through 32-bit bit operators
        while (v >= 0x80) {
          this.byte((v % 0x80) | 0x80);
          v = Math.floor(v / 0x80);
        }
        this.byte(v);
        return this;
      }
      v = BigInt(v);
    }
    let u = BigInt.asUintN(64, v);
    while (u >= 0x80n) {
      this.byte(Number(u & 0x7fn) | 0x80);
      u >>= 7n;
    }
    this.byte(Number(u));
    return this;
  }

  private key(field: number, wire: number): void {
    if (!Number.isInteger(field) || field < 1 || field > 0x1fffffff) throw new RangeError(`protobuf: bad field number ${field}`);
    this.varint(field * 8 + wire);
  }

  raw(bytes: Uint8Array): this {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
    return this;
  }

  /** int32 / int64 / enum / bool field (wire type 0). */
  int(field: number, v: number | bigint | boolean): this {
    this.key(field, WIRE_VARINT);
    return this.varint(typeof v === 'boolean' ? (v ? 1 : 0) : v);
  }

  /** float field (wire type 5, little-endian IEEE 754 single). */
  float(field: number, v: number): this {
    this.key(field, WIRE_I32);
    this.reserve(4);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.len, 4).setFloat32(0, v, true);
    this.len += 4;
    return this;
  }

  /** bytes field (wire type 2). */
  bytes(field: number, b: Uint8Array): this {
    this.key(field, WIRE_LEN);
    this.varint(b.length);
    return this.raw(b);
  }

  /** string field: UTF-8 bytes. */
  string(field: number, s: string): this {
    return this.bytes(field, utf8.encode(s));
  }

  /** Embedded message field: `build` writes the message's own fields. */
  message(field: number, build: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    build(inner);
    return this.bytes(field, inner.finish());
  }

  /** packed repeated int64/int32 field (one length-delimited run of varints). */
  packedInts(field: number, values: ArrayLike<number>): this {
    const inner = new ProtoWriter();
    for (let i = 0; i < values.length; i++) inner.varint(values[i]);
    return this.bytes(field, inner.finish());
  }

  /** packed repeated float field. */
  packedFloats(field: number, values: ArrayLike<number>): this {
    const b = new Uint8Array(values.length * 4);
    const dv = new DataView(b.buffer);
    for (let i = 0; i < values.length; i++) dv.setFloat32(i * 4, values[i], true);
    return this.bytes(field, b);
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** One decoded field: varints as bigint, 32/64-bit and length-delimited as raw bytes. */
export interface ProtoField {
  field: number;
  wire: number;
  /** Varint value (wire 0). */
  int?: bigint;
  /** Payload bytes (wire 1, 2, 5). */
  bytes?: Uint8Array;
}

/** Decode the top-level fields of one message; throws on malformed input. */
export function readFields(b: Uint8Array): ProtoField[] {
  const out: ProtoField[] = [];
  let p = 0;
  const varint = (): bigint => {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      if (p >= b.length) throw new Error('protobuf: truncated varint');
      if (shift > 63n) throw new Error('protobuf: varint too long');
      const x = b[p++];
      v |= BigInt(x & 0x7f) << shift;
      if (x < 0x80) return v;
      shift += 7n;
    }
  };
  const take = (n: number): Uint8Array => {
    if (n < 0 || p + n > b.length) throw new Error('protobuf: field runs past the end');
    const s = b.subarray(p, p + n);
    p += n;
    return s;
  };
  while (p < b.length) {
    const key = varint();
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (field < 1) throw new Error('protobuf: field number 0');
    if (wire === WIRE_VARINT) out.push({ field, wire, int: varint() });
    else if (wire === WIRE_I64) out.push({ field, wire, bytes: take(8) });
    else if (wire === WIRE_I32) out.push({ field, wire, bytes: take(4) });
    else if (wire === WIRE_LEN) out.push({ field, wire, bytes: take(Number(varint())) });
    else throw new Error(`protobuf: unsupported wire type ${wire}`);
  }
  return out;
}

/** Decode a packed run of varints (e.g. repeated int64 dims). */
export function readPackedInts(b: Uint8Array): bigint[] {
  const out: bigint[] = [];
  let p = 0;
  while (p < b.length) {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      if (p >= b.length) throw new Error('protobuf: truncated packed varint');
      const x = b[p++];
      v |= BigInt(x & 0x7f) << shift;
      if (x < 0x80) break;
      shift += 7n;
    }
    out.push(BigInt.asIntN(64, v));
  }
  return out;
}

export function utf8Decode(b: Uint8Array): string {
  return new TextDecoder().decode(b);
}
