/**
 * The dev-board host link's frames (docs/BOARD-PROTOCOL.md): requests encoded, replies
 * parsed from a byte stream, the CRC, the command and status codes and the INFO words.
 * Pure data; the serial port and the timeouts live in link.ts.
 */

export const REQUEST_SYNC = 0xa5;
export const REPLY_SYNC = 0x5a;
export const MAX_PAYLOAD = 1029;
/** 32-bit words one WRITE or READ carries at most. */
export const MAX_WORDS = 256;
export const INFO_MAGIC = 0x31575642;
export const PROTOCOL_VERSION = 1;

export const CMD = { INFO: 0x01, WRITE: 0x02, READ: 0x03, START: 0x04, STATUS: 0x05, BAUD: 0x06 } as const;
export type Command = keyof typeof CMD;

export const STATUS_NAMES: Record<number, string> = {
  0: 'OK',
  1: 'E_CRC (the board received a corrupted frame)',
  2: 'E_CMD (unknown command)',
  3: 'E_LEN (payload length wrong for the command)',
  4: 'E_ADDR (unknown memory or words outside it)',
  5: 'E_BUSY (the array is running)',
  6: 'E_ARG (a value out of range)',
};
export const E_CRC = 1;
export const E_BUSY = 5;

export const MEM = { desc: 0, param: 1, weight: 2, arena: 3 } as const;
export type Memory = keyof typeof MEM;

/** CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, MSB first, no final xor. */
export function crc16(bytes: Uint8Array, crc = 0xffff): number {
  for (const b of bytes) {
    crc ^= b << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** One request frame. */
export function encodeRequest(cmd: number, seq: number, payload: Uint8Array = new Uint8Array(0)): Buffer {
  if (payload.length > MAX_PAYLOAD) throw new RangeError(`payload of ${payload.length} bytes is above ${MAX_PAYLOAD}`);
  const f = Buffer.alloc(payload.length + 7);
  f[0] = REQUEST_SYNC;
  f[1] = cmd;
  f[2] = seq & 0xff;
  f.writeUInt16LE(payload.length, 3);
  f.set(payload, 5);
  f.writeUInt16LE(crc16(f.subarray(1, 5 + payload.length)), 5 + payload.length);
  return f;
}

export interface Reply {
  status: number;
  seq: number;
  payload: Buffer;
}

/**
 * Reply frames out of a byte stream: bytes before a 0x5A are skipped; a reply whose CRC
 * does not match is reported as `corrupt` (the link retries), never as data.
 */
export class ReplyParser {
  private buf = Buffer.alloc(0);

  /** Feed bytes; returns the complete replies (and corrupt ones) found so far. */
  push(chunk: Uint8Array): ({ corrupt: false; reply: Reply } | { corrupt: true })[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : Buffer.from(chunk);
    const out: ({ corrupt: false; reply: Reply } | { corrupt: true })[] = [];
    for (;;) {
      const s = this.buf.indexOf(REPLY_SYNC);
      if (s < 0) {
        this.buf = Buffer.alloc(0);
        break;
      }
      if (s > 0) this.buf = this.buf.subarray(s);
      if (this.buf.length < 5) break;
      const len = this.buf.readUInt16LE(3);
      if (len > MAX_PAYLOAD) {
        // not a reply header: skip this sync byte
        this.buf = this.buf.subarray(1);
        out.push({ corrupt: true });
        continue;
      }
      if (this.buf.length < len + 7) break;
      const crc = this.buf.readUInt16LE(5 + len);
      if (crc !== crc16(this.buf.subarray(1, 5 + len))) {
        this.buf = this.buf.subarray(1);
        out.push({ corrupt: true });
        continue;
      }
      out.push({ corrupt: false, reply: { status: this.buf[1], seq: this.buf[2], payload: Buffer.from(this.buf.subarray(5, 5 + len)) } });
      this.buf = this.buf.subarray(len + 7);
    }
    return out;
  }

  reset(): void {
    this.buf = Buffer.alloc(0);
  }
}

/** What the board says about itself (the INFO words). */
export interface BoardInfo {
  version: number;
  rows: number;
  cols: number;
  word: number;
  accBits: number;
  maxOutBits: number;
  paramDepth: number;
  tileSlots: number;
  drain: number;
  descWords: number;
  /** Memory sizes: descriptors and parameters in 32-bit words, weights in wide rows, arena in 64-bit words. */
  descDepth: number;
  paramWords: number;
  weightRows: number;
  arenaWords: number;
  clockHz: number;
  baud: number;
}

/** INFO reply payload → BoardInfo; null when it is not a bitweave board's answer. */
export function decodeInfo(p: Buffer): BoardInfo | null {
  if (p.length < 17 * 4 || p.readUInt32LE(0) !== INFO_MAGIC) return null;
  const w = (i: number) => p.readUInt32LE(4 * i);
  return {
    version: w(1), rows: w(2), cols: w(3), word: w(4), accBits: w(5), maxOutBits: w(6), paramDepth: w(7),
    tileSlots: w(8), drain: w(9), descWords: w(10), descDepth: w(11), paramWords: w(12), weightRows: w(13),
    arenaWords: w(14), clockHz: w(15), baud: w(16),
  };
}

/** Payload of BAUD: the UART's clocks per bit (u16). */
export function baudPayload(clocksPerBit: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(clocksPerBit, 0);
  return b;
}

/** Payload of a WRITE: memory, first 32-bit word, the words. */
export function writePayload(mem: number, addr: number, words: Uint32Array): Buffer {
  const p = Buffer.alloc(5 + words.length * 4);
  p[0] = mem;
  p.writeUInt32LE(addr >>> 0, 1);
  for (let i = 0; i < words.length; i++) p.writeUInt32LE(words[i], 5 + 4 * i);
  return p;
}

export function readPayload(mem: number, addr: number, count: number): Buffer {
  const p = Buffer.alloc(7);
  p[0] = mem;
  p.writeUInt32LE(addr >>> 0, 1);
  p.writeUInt16LE(count, 5);
  return p;
}

export function startPayload(layers: number, batch: number, arenaWords: number, descBase: number): Buffer {
  const p = Buffer.alloc(16);
  p.writeUInt32LE(layers, 0);
  p.writeUInt32LE(batch, 4);
  p.writeUInt32LE(arenaWords, 8);
  p.writeUInt32LE(descBase, 12);
  return p;
}

export interface BoardStatus {
  busy: boolean;
  done: boolean;
  /** The array's error bits (bw_layer; RTL_ERR_BITS). */
  err: number;
  layer: number;
  cycles: number;
}

export function decodeStatus(p: Buffer): BoardStatus {
  if (p.length !== 20) throw new RangeError(`STATUS reply of ${p.length} bytes, expected 20`);
  const flags = p.readUInt32LE(0);
  return {
    busy: (flags & 1) !== 0,
    done: (flags & 2) !== 0,
    err: p.readUInt32LE(4),
    layer: p.readUInt32LE(8),
    cycles: p.readUInt32LE(12) + p.readUInt32LE(16) * 2 ** 32,
  };
}
