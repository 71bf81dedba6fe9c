import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import fc from 'fast-check';
import { encodeNpy, parseNpy, readNpy, writeNpy } from '../../host/data/npy';
import { assertFormatError, parsesOrFormatError } from '../helpers/format-errors';
import { scratchDir } from '../helpers/run';

// created at load and removed at process exit, so it works under --grep and with other files
const tmp = scratchDir('data', true);

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
