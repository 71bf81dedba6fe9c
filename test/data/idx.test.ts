import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import fc from 'fast-check';
import { encodeIdx, parseIdx, readIdx, writeIdx, IdxTensor } from '../../host/data/idx';
import { assertFormatError, parsesOrFormatError } from '../helpers/format-errors';
import { scratchDir } from '../helpers/run';

// created at load and removed at process exit, so it works under --grep and with other files
const tmp = scratchDir('data', true);

const be32 = (n: number) => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];

describe('data: IDX', () => {
  it('parses hand-built ubyte bytes', () => {
    const bytes = Uint8Array.from([0, 0, 0x08, 2, ...be32(2), ...be32(3), 1, 2, 3, 4, 5, 255]);
    const t = parseIdx(bytes);
    assert.equal(t.dtype, 'uint8');
    assert.deepEqual(t.dims, [2, 3]);
    assert.ok(t.data instanceof Uint8Array);
    assert.deepEqual([...t.data], [1, 2, 3, 4, 5, 255]);
  });

  it('reads multi-byte types big-endian', () => {
    const s16 = parseIdx(Uint8Array.from([0, 0, 0x0b, 1, ...be32(2), 0x01, 0x02, 0xff, 0xfe]));
    assert.deepEqual([...s16.data], [0x0102, -2]);
    const i32 = parseIdx(Uint8Array.from([0, 0, 0x0c, 1, ...be32(1), 0x80, 0, 0, 1]));
    assert.deepEqual([...i32.data], [-0x7fffffff]);
    const f32 = parseIdx(Uint8Array.from([0, 0, 0x0d, 1, ...be32(1), 0x3f, 0xc0, 0, 0]));
    assert.deepEqual([...f32.data], [1.5]);
    const f64 = parseIdx(Uint8Array.from([0, 0, 0x0e, 1, ...be32(1), 0xc0, 0x04, 0, 0, 0, 0, 0, 0]));
    assert.deepEqual([...f64.data], [-2.5]);
    const s8 = parseIdx(Uint8Array.from([0, 0, 0x09, 1, ...be32(2), 0x80, 0x7f]));
    assert.deepEqual([...s8.data], [-128, 127]);
  });

  const samples: IdxTensor[] = [
    { dtype: 'uint8', dims: [3, 2, 2], data: Uint8Array.from({ length: 12 }, (_, i) => i * 21) },
    { dtype: 'int8', dims: [4], data: Int8Array.from([-128, -1, 0, 127]) },
    { dtype: 'int16', dims: [2, 2], data: Int16Array.from([-32768, -1, 1, 32767]) },
    { dtype: 'int32', dims: [3], data: Int32Array.from([-(2 ** 31), 0, 2 ** 31 - 1]) },
    { dtype: 'float32', dims: [1, 3], data: Float32Array.from([-0.5, 3.25, 1e-30]) },
    { dtype: 'float64', dims: [2], data: Float64Array.from([Math.PI, -1e300]) },
    { dtype: 'uint8', dims: [0, 28, 28], data: new Uint8Array(0) },
  ];
  for (const gzip of [false, true]) {
    it(`round-trips every element type (${gzip ? 'gzip' : 'plain'})`, () => {
      for (const s of samples) {
        const buf = encodeIdx(s, { gzip });
        assert.equal(buf[0] === 0x1f && buf[1] === 0x8b, gzip);
        const t = parseIdx(buf);
        assert.equal(t.dtype, s.dtype);
        assert.deepEqual(t.dims, s.dims);
        assert.equal(t.data.constructor, s.data.constructor);
        assert.deepEqual([...t.data], [...s.data]);
      }
    });
  }

  it('writes and reads files', () => {
    const p = path.join(tmp, 'x-idx3-ubyte.gz');
    writeIdx(p, samples[0], { gzip: true });
    assert.deepEqual([...readIdx(p).data], [...samples[0].data]);
    assertFormatError(() => readIdx(path.join(tmp, 'missing.idx')), /cannot read/);
  });

  it('rejects malformed headers with one-line FormatErrors', () => {
    assertFormatError(() => parseIdx(Uint8Array.from([0, 0, 8])), /header needs 4/);
    assertFormatError(() => parseIdx(Uint8Array.from([1, 0, 8, 1, ...be32(1), 0])), /magic/);
    assertFormatError(() => parseIdx(Uint8Array.from([0, 0, 0x0a, 1, ...be32(1), 0])), /unknown IDX element type 0x0a/);
    assertFormatError(() => parseIdx(Uint8Array.from([0, 0, 8, 0])), /0 dimensions/);
    assertFormatError(() => parseIdx(Uint8Array.from([0, 0, 8, 3, ...be32(1), ...be32(1)])), /truncated IDX header/);
    assertFormatError(() => parseIdx(Uint8Array.from([0, 0, 8, 1, ...be32(5), 1, 2, 3])), /truncated IDX data.*need 5 bytes, file has 3/);
    assertFormatError(() => parseIdx(Uint8Array.from([0, 0, 8, 1, ...be32(1), 1, 2])), /1 unexpected bytes/);
  });

  it('refuses huge dimensions before allocating', () => {
    const huge = Uint8Array.from([0, 0, 0x0e, 3, ...be32(0xffffffff), ...be32(0xffffffff), ...be32(0xffffffff), 0]);
    assertFormatError(() => parseIdx(huge, 'huge.idx'), /huge\.idx: IDX dimensions .* exceed the \d+-byte limit/);
    const big = Uint8Array.from([0, 0, 8, 1, ...be32(2000), 0]);
    assertFormatError(() => parseIdx(big, 'f', { maxBytes: 1000 }), /limit/);
  });

  it('bounds gzip output (compression bombs) and rejects corrupt gzip', () => {
    const bomb = zlib.gzipSync(Buffer.concat([Buffer.from([0, 0, 8, 1, ...be32(4 << 20)]), Buffer.alloc(4 << 20)]));
    assert.ok(bomb.length < 10000);
    assertFormatError(() => parseIdx(bomb, 'bomb.gz', { maxBytes: 1 << 20 }), /decompresses to more than/);
    const gz = encodeIdx(samples[0], { gzip: true });
    assertFormatError(() => parseIdx(gz.subarray(0, gz.length - 6)), /gzip/);
    const flipped = Buffer.from(gz);
    flipped[15] ^= 0xff;
    assertFormatError(() => parseIdx(flipped));
  });

  it('property: any truncation of a valid file is a FormatError', () => {
    const t: IdxTensor = { dtype: 'int16', dims: [3, 5, 7], data: Int16Array.from({ length: 105 }, (_, i) => i * 311 - 16000) };
    for (const gzip of [false, true]) {
      const buf = encodeIdx(t, { gzip });
      fc.assert(fc.property(fc.integer({ min: 0, max: buf.length - 1 }), (n) => {
        assertFormatError(() => parseIdx(buf.subarray(0, n)));
      }), { numRuns: 300 });
    }
  });

  it('property: hostile headers and random bodies never crash', () => {
    const typeByte = fc.constantFrom(0x08, 0x09, 0x0b, 0x0c, 0x0d, 0x0e, 0x00, 0xff);
    const dim = fc.oneof(fc.integer({ min: 0, max: 8 }), fc.constantFrom(0x7fffffff, 0xffffffff, 0x10000, 1 << 28));
    fc.assert(fc.property(typeByte, fc.array(dim, { minLength: 0, maxLength: 6 }), fc.uint8Array({ maxLength: 600 }), (ty, dims, body) => {
      const bytes = Uint8Array.from([0, 0, ty, dims.length, ...dims.flatMap(be32), ...body]);
      parsesOrFormatError(() => parseIdx(bytes));
    }), { numRuns: 500 });
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => parsesOrFormatError(() => parseIdx(bytes))), { numRuns: 500 });
  });
});
