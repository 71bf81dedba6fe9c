import * as assert from 'node:assert/strict';
import { SHARED_MODELS } from '../helpers/shared-models';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { FormatError, ShapeError } from '../../host/core/errors';
import {
  DType, DTYPE_FLAG, encodeValues, floatToHalf, halfToFloat, NDArrayEntry, readNDArrayFile, readNDArrayList,
  RecordVersion, toFloat32, V1_MAGIC, V2_MAGIC, V3_MAGIC, WriteEntry, writeNDArrayList,
} from '../../host/import/ndarray';

const DTYPES: DType[] = ['float32', 'float64', 'float16', 'uint8', 'int32', 'int8', 'int64'];
const VERSIONS: RecordVersion[] = ['legacy', 'v1', 'v2', 'v3'];

/** Little-endian byte assembler, independent of the writer under test. */
class Bytes {
  private parts: Buffer[] = [];
  u32(x: number): this { const b = Buffer.alloc(4); b.writeUInt32LE(x >>> 0); this.parts.push(b); return this; }
  i32(x: number): this { const b = Buffer.alloc(4); b.writeInt32LE(x); this.parts.push(b); return this; }
  u64(x: bigint): this { const b = Buffer.alloc(8); b.writeBigUInt64LE(x); this.parts.push(b); return this; }
  i64(x: bigint): this { const b = Buffer.alloc(8); b.writeBigInt64LE(x); this.parts.push(b); return this; }
  f32(...xs: number[]): this { for (const x of xs) { const b = Buffer.alloc(4); b.writeFloatLE(x); this.parts.push(b); } return this; }
  f64(...xs: number[]): this { for (const x of xs) { const b = Buffer.alloc(8); b.writeDoubleLE(x); this.parts.push(b); } return this; }
  str(s: string): this { const b = Buffer.from(s, 'utf8'); this.u64(BigInt(b.length)); this.parts.push(b); return this; }
  raw(b: Uint8Array): this { this.parts.push(Buffer.from(b)); return this; }
  build(): Uint8Array { return new Uint8Array(Buffer.concat(this.parts)); }
}

const header = (count: number): Bytes => new Bytes().u64(0x112n).u64(0n).u64(BigInt(count));

function expectFormatError(bytes: Uint8Array, pattern?: RegExp): FormatError {
  try {
    readNDArrayList(bytes, 'test.params');
  } catch (e) {
    if (!(e instanceof FormatError)) throw new Error(`expected FormatError, got ${(e as Error)?.name}: ${(e as Error)?.message}`);
    if (pattern) assert.match(e.message, pattern);
    return e;
  }
  throw new Error('expected a FormatError, but the file was accepted');
}

/** Parses, or fails with a FormatError; anything else (RangeError, TypeError, ...) is a bug. */
function readsOrFormatError(bytes: Uint8Array): void {
  try {
    readNDArrayList(bytes, 'fuzz.params');
  } catch (e) {
    if (!(e instanceof FormatError)) throw e;
  }
}

/** Exactly representable sample values per dtype. */
function sampleValues(dtype: DType, n: number): number[] {
  const base: Record<DType, number[]> = {
    float32: [0, -1.5, 3.25, 1e-20, -0, 65504.5, 2 ** -126, 7],
    float64: [0.1, -1e300, 5e-324, Math.PI, -0, 2 ** 53, 1 / 3, -7],
    float16: [0, -1.5, 3.25, 65504, -0, 2 ** -24, 0.099975586, -7],
    uint8: [0, 1, 127, 128, 255, 42, 7, 200],
    int32: [0, -1, 2 ** 31 - 1, -(2 ** 31), 123456, -7, 99, 5],
    int8: [0, -1, 127, -128, 42, -7, 99, 5],
    int64: [0, -1, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 2 ** 40, -7, 99, 5],
  };
  return Array.from({ length: n }, (_, i) => base[dtype][i % 8]);
}

describe('MXNet NDArray-list files', () => {
  describe('hand-assembled files', () => {
    it('reads a legacy record exactly like the BMXNet model files store them', () => {
      const bytes = header(1)
        .u32(2).u32(2).u32(3) // legacy: ndim, uint32 dims
        .i32(1).i32(0).i32(0) // cpu(0), float32
        .f32(1, -2, 0.5, 0, -0.25, 1e-3)
        .u64(1n).str('arg:conv0_weight')
        .build();
      const [e] = readNDArrayList(bytes, 'hand.params');
      assert.equal(e.name, 'arg:conv0_weight');
      assert.equal(e.version, 'legacy');
      assert.equal(e.dtype, 'float32');
      assert.deepEqual(e.shape, [2, 3]);
      assert.deepEqual(Array.from(toFloat32(e)), [1, -2, 0.5, 0, -0.25, Math.fround(1e-3)]);
      // The writer produces the very same bytes.
      const written = writeNDArrayList([{ name: e.name, dtype: 'float32', shape: [2, 3], data: e.data }], { version: 'legacy' });
      assert.deepEqual(written, bytes);
    });

    it('reads V1, V2 and V3 records and a V3 scalar, and keeps float64 words raw', () => {
      const words = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 0xf8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xf7, 0x7f]);
      const bytes = header(4)
        .u32(V1_MAGIC).u32(1).i64(2n).i32(1).i32(0).i32(1).raw(words) // v1 float64 [2]
        .u32(V2_MAGIC).i32(0).i32(2).i64(1n).i64(2n).i32(2).i32(3).i32(4).raw(encodeValues('int32', [-5, 7])) // v2 int32 [1,2] on gpu(3)
        .u32(V3_MAGIC).i32(0).i32(0).i32(1).i32(0).i32(6).i64(-42n) // v3 int64 scalar
        .u32(V3_MAGIC).i32(0).i32(1).i64(0n).i32(1).i32(0).i32(3) // v3 uint8 [0]
        .u64(4n).str('arg:q_weight').str('aux:x').str('s').str('')
        .build();
      const es = readNDArrayList(bytes);
      assert.deepEqual(es.map((e) => [e.name, e.version, e.dtype, e.shape]), [
        ['arg:q_weight', 'v1', 'float64', [2]],
        ['aux:x', 'v2', 'int32', [1, 2]],
        ['s', 'v3', 'int64', []],
        ['', 'v3', 'uint8', [0]],
      ]);
      assert.deepEqual(es[0].data, words);
      assert.equal(es[0].data.byteOffset, 0);
      assert.equal(es[1].devType, 2);
      assert.equal(es[1].devId, 3);
      assert.deepEqual(Array.from(toFloat32(es[1])), [-5, 7]);
      assert.deepEqual(Array.from(toFloat32(es[2])), [-42]);
      assert.equal(es[3].data.length, 0);
    });

    it('reads none arrays in every version (no context, type or data follow)', () => {
      const bytes = header(5)
        .u32(0) // legacy ndim 0
        .u32(V1_MAGIC).u32(0)
        .u32(V2_MAGIC).i32(0).i32(0)
        .u32(V2_MAGIC).i32(0).i32(-1) // what MXNet >= 1.5 writes for an uninitialised array
        .u32(V3_MAGIC).i32(0).i32(2).i64(3n).i64(-1n) // numpy unknown dim
        .u64(0n)
        .build();
      const es = readNDArrayList(bytes);
      assert.equal(es.length, 5);
      for (const e of es) {
        assert.equal(e.dtype, null);
        assert.deepEqual(e.shape, []);
        assert.equal(e.data.length, 0);
        assert.equal(e.name, '');
      }
      assert.deepEqual(es.map((e) => e.version), ['legacy', 'v1', 'v2', 'v2', 'v3']);
    });
  });

  describe('writer round trip', () => {
    for (const version of VERSIONS) {
      for (const dtype of DTYPES) {
        it(`${version} ${dtype}`, () => {
          const shape = [2, 3, 1];
          const values = sampleValues(dtype, 6);
          const data = encodeValues(dtype, values);
          const bytes = writeNDArrayList([
            { name: `arg:w_${dtype}`, dtype, shape, data },
            { name: 'aux:empty', dtype, shape: [0, 4], data: new Uint8Array(0) },
          ], { version });
          const [e, z] = readNDArrayList(bytes, `${version}.params`);
          assert.equal(e.name, `arg:w_${dtype}`);
          assert.equal(e.version, version);
          assert.equal(e.dtype, dtype);
          assert.deepEqual(e.shape, shape);
          assert.deepEqual(e.data, data);
          assert.deepEqual(Array.from(toFloat32(e)), values.map(Math.fround));
          assert.deepEqual([z.shape, z.data.length], [[0, 4], 0]);
        });
      }
    }

    it('writes mixed versions, none arrays, scalars and nameless lists', () => {
      const entries: WriteEntry[] = [
        { name: 'a', dtype: 'float32', shape: [1], data: encodeValues('float32', [1]), version: 'legacy' },
        { name: 'b', dtype: null, shape: [], version: 'v1' },
        { name: 'c', dtype: null, shape: [], version: 'v2' },
        { name: 'd', dtype: null, shape: [], version: 'v3' },
        { name: 'e', dtype: 'float16', shape: [], data: encodeValues('float16', [0.5]), version: 'v3' },
      ];
      const es = readNDArrayList(writeNDArrayList(entries, { omitNames: true }));
      assert.deepEqual(es.map((e) => [e.name, e.version, e.dtype]), [
        ['', 'legacy', 'float32'], ['', 'v1', null], ['', 'v2', null], ['', 'v3', null], ['', 'v3', 'float16'],
      ]);
      assert.deepEqual(Array.from(toFloat32(es[4])), [0.5]);
    });

    it('refuses entries it cannot represent', () => {
      const one = encodeValues('float32', [1]);
      assert.throws(() => writeNDArrayList([{ name: 's', dtype: 'float32', shape: [], data: one }], { version: 'v2' }), ShapeError);
      assert.throws(() => writeNDArrayList([{ name: 'x', dtype: 'float32', shape: [2], data: one }]), ShapeError);
      assert.throws(() => writeNDArrayList([{ name: 'x', dtype: 'float32', shape: [-1], data: one }]), ShapeError);
      assert.throws(() => encodeValues('uint8', [256]), ShapeError);
      assert.throws(() => encodeValues('int8', [1.5]), ShapeError);
    });

    it('round-trips random lists (fast-check)', () => {
      fc.assert(fc.property(arbEntries(), ({ entries, omitNames }) => {
        const es = readNDArrayList(writeNDArrayList(entries, { omitNames }));
        assert.equal(es.length, entries.length);
        es.forEach((e, i) => {
          const w = entries[i];
          assert.equal(e.name, omitNames ? '' : w.name);
          assert.equal(e.version, w.version);
          assert.equal(e.dtype, w.dtype);
          assert.deepEqual(e.shape, w.dtype === null ? [] : w.shape);
          assert.deepEqual(e.data, w.dtype === null ? new Uint8Array(0) : w.data);
        });
      }), { numRuns: 300 });
    });
  });

  it('uses the mshadow type flags', () => {
    assert.deepEqual(DTYPES.map((d) => DTYPE_FLAG[d]), [0, 1, 2, 3, 4, 5, 6]);
  });

  describe('float16', () => {
    it('decodes and re-encodes every non-NaN half exactly', () => {
      for (let h = 0; h < 0x10000; h++) {
        const x = halfToFloat(h);
        if (Number.isNaN(x)) continue;
        assert.equal(floatToHalf(x), h, `half 0x${h.toString(16)}`);
      }
    });

    it('rounds to nearest even, overflows to infinity and underflows to zero', () => {
      assert.equal(floatToHalf(1 + 2 ** -11), 0x3c00); // tie -> even (1.0)
      assert.equal(floatToHalf(1 + 3 * 2 ** -11), 0x3c02); // tie -> even (up)
      assert.equal(floatToHalf(65520), 0x7c00);
      assert.equal(floatToHalf(2 ** -26), 0);
      assert.equal(floatToHalf(-(2 ** -25) * 1.5), 0x8001);
      assert.ok(Number.isNaN(halfToFloat(floatToHalf(NaN))));
    });
  });

  describe('hostile and corrupt files', () => {
    const valid = (): Uint8Array => writeNDArrayList([
      { name: 'arg:w', dtype: 'float64', shape: [4], data: encodeValues('float64', [1, 2, 3, 4]), version: 'v2' },
      { name: 'aux:m', dtype: 'float32', shape: [2], data: encodeValues('float32', [1, 2]), version: 'legacy' },
    ]);

    it('rejects files that are not NDArray lists', () => {
      expectFormatError(new Uint8Array(0), /shorter than the 24-byte header/);
      expectFormatError(new Uint8Array(23), /shorter/);
      expectFormatError(new Bytes().u64(0x113n).u64(0n).u64(0n).u64(0n).build(), /magic 0x113/);
      expectFormatError(new Uint8Array(Buffer.from('{"nodes": [], "heads": [], "xxxxxx": 1}')), /not an MXNet NDArray file/);
    });

    it('rejects huge declared counts before allocating', () => {
      expectFormatError(header(0).build().fill(0xff, 16, 24), /declares 18446744073709551615 arrays/);
      expectFormatError(new Bytes().u64(0x112n).u64(0n).u64(2n ** 40n).u64(0n).build(), /declares 1099511627776 arrays/);
      // Names: a count that disagrees, and a length beyond the file.
      expectFormatError(header(0).u64(2n ** 63n).build(), /0 arrays but 9223372036854775808 names/);
      expectFormatError(header(1).u32(0).u64(1n).u64(2n ** 62n).build(), /name 0 declares 4611686018427387904 bytes/);
    });

    it('rejects huge, negative and unknown dims and ndims', () => {
      const rec = (b: Bytes) => expectFormatError(b.u64(0n).build());
      // legacy ndim 2^32-1 and V1 ndim 2^31: the dims cannot fit
      assert.match(rec(header(1).u32(0xfffffffe)).message, /array 0 \(of 1\) declares ndim 4294967294/);
      assert.match(rec(header(1).u32(V1_MAGIC).u32(2 ** 31)).message, /declares ndim 2147483648/);
      // V2 int32 ndim -2 and 2^31 (negative as int32)
      assert.match(rec(header(1).u32(V2_MAGIC).i32(0).i32(-2)).message, /ndim -2 is negative/);
      assert.match(rec(header(1).u32(V2_MAGIC).i32(0).u32(2 ** 31)).message, /ndim -2147483648 is negative/);
      // negative dims (V3 allows only -1 = unknown)
      assert.match(rec(header(1).u32(V2_MAGIC).i32(0).i32(1).i64(-5n)).message, /dim 0 is negative \(-5\)/);
      assert.match(rec(header(1).u32(V2_MAGIC).i32(0).i32(1).i64(-1n)).message, /dim 0 is negative \(-1\)/);
      assert.match(rec(header(1).u32(V3_MAGIC).i32(0).i32(1).i64(-2n)).message, /dim 0 is negative \(-2\)/);
      assert.match(rec(header(1).u32(V1_MAGIC).u32(1).i64(2n ** 62n)).message, /too large/);
      // dims whose product overflows 64 bits
      const big = header(1).u32(V2_MAGIC).i32(0).i32(3).i64(2n ** 40n).i64(2n ** 40n).i64(2n ** 30n).i32(1).i32(0).i32(1);
      assert.match(rec(big).message, /declares 1298074214633706907132624082305024 float64 values \(10384593717069655257060992658440192 bytes\) but only 8 bytes remain/);
      // legacy uint32 dims: 2^32-1 x 2^32-1
      assert.match(rec(header(1).u32(2).u32(0xffffffff).u32(0xffffffff).i32(1).i32(0).i32(0)).message, /truncated: array 0 \(of 1\) \[4294967295, 4294967295\]/);
    });

    it('names the array and the shortfall when data is truncated', () => {
      const bytes = header(4)
        .u32(0).u32(0).u32(0)
        .u32(1).u32(1600).i32(1).i32(0).i32(1).f64(1, 2, 3)
        .build();
      expectFormatError(bytes, /^test\.params: truncated: array 3 \(of 4\) \[1600\] declares 1600 float64 values \(12800 bytes\) but only 24 bytes remain$/);
    });

    it('rejects sparse storage, unknown dtypes and bad contexts by name', () => {
      const tail = (b: Bytes) => b.u64(0n).build();
      expectFormatError(tail(header(1).u32(V2_MAGIC).i32(1)), /row_sparse storage \(stype 1\) is not supported/);
      expectFormatError(tail(header(1).u32(V2_MAGIC).i32(2)), /csr storage/);
      expectFormatError(tail(header(1).u32(V3_MAGIC).i32(7)), /unknown storage type 7/);
      expectFormatError(tail(header(1).u32(1).u32(1).i32(1).i32(0).i32(7).u32(1)), /dtype 7 \(bool\) is not supported \(supported: float32, float64, float16, uint8, int32, int8, int64\)/);
      expectFormatError(tail(header(1).u32(1).u32(1).i32(1).i32(0).i32(12).u32(1)), /dtype 12 \(bfloat16\)/);
      expectFormatError(tail(header(1).u32(1).u32(1).i32(1).i32(0).i32(-1).u32(1)), /unknown dtype flag -1/);
      expectFormatError(tail(header(1).u32(1).u32(1).i32(4).i32(0).i32(0).u32(1)), /unknown device type 4/);
      expectFormatError(tail(header(1).u32(1).u32(1).i32(1).i32(-3).i32(0).u32(1)), /negative device id/);
    });

    it('rejects duplicate or non-UTF-8 names and trailing bytes', () => {
      expectFormatError(header(2).u32(0).u32(0).u64(2n).str('a').str('a').build(), /duplicate name 'a'/);
      expectFormatError(header(1).u32(0).u64(1n).u64(2n).raw(new Uint8Array([0xc3, 0x28])).build(), /name 0 is not valid UTF-8/);
      const ok = valid();
      expectFormatError(new Uint8Array([...ok, 0]), /1 unexpected bytes after the name list/);
    });

    it('throws FormatError at every truncation point (fast-check)', () => {
      fc.assert(fc.property(arbEntries(), fc.double({ min: 0, max: 1, noNaN: true }), ({ entries, omitNames }, at) => {
        const bytes = writeNDArrayList(entries, { omitNames });
        const cut = Math.min(bytes.length - 1, Math.floor(at * bytes.length));
        expectFormatError(bytes.slice(0, cut));
      }), { numRuns: 500 });
    });

    it('never fails other than with FormatError on byte flips (fast-check)', () => {
      fc.assert(fc.property(arbEntries(), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }), fc.boolean(),
        ({ entries, omitNames }, flips, headerOnly) => {
          const bytes = writeNDArrayList(entries, { omitNames });
          // Bias half the runs to the structural part: list header and first record header.
          const span = headerOnly ? Math.min(bytes.length, 64) : bytes.length;
          for (const [i, mask] of flips) bytes[i % span] ^= mask;
          readsOrFormatError(bytes);
        }), { numRuns: 1000 });
    });

    it('never fails other than with FormatError on extreme field values (fast-check)', () => {
      const extremes = [0n, 1n, 2n ** 31n - 1n, 2n ** 31n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n];
      fc.assert(fc.property(arbEntries(), fc.nat(), fc.constantFrom(...extremes), fc.boolean(), ({ entries }, at, value, wide) => {
        const bytes = writeNDArrayList(entries);
        const view = new DataView(bytes.buffer);
        const width = wide ? 8 : 4;
        if (bytes.length < width) return;
        const off = (at % (bytes.length - width + 1)) & ~3;
        if (wide) view.setBigUint64(off, value, true);
        else view.setUint32(off, Number(value & 0xffffffffn), true);
        readsOrFormatError(bytes);
      }), { numRuns: 1000 });
    });

    it('survives random garbage after a valid magic (fast-check)', () => {
      fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (tail) => {
        readsOrFormatError(new Uint8Array([...header(0).build().subarray(0, 16), ...tail]));
      }), { numRuns: 500 });
    });
  });

  describe('files on disk', () => {
    let dir = '';
    before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bitweave-nd-')); });
    after(() => { fs.rmSync(dir, { recursive: true, force: true }); });

    it('reads a file, and reports missing files, directories and oversize files as FormatError', () => {
      const p = path.join(dir, 'm.params');
      fs.writeFileSync(p, writeNDArrayList([{ name: 'x', dtype: 'int8', shape: [3], data: encodeValues('int8', [1, -2, 3]) }]));
      assert.deepEqual(Array.from(toFloat32(readNDArrayFile(p)[0])), [1, -2, 3]);
      assert.throws(() => readNDArrayFile(path.join(dir, 'nope.params')), FormatError);
      assert.throws(() => readNDArrayFile(dir), /not a regular file/);
      assert.throws(() => readNDArrayFile(p, { maxBytes: 10 }), /more than the 10-byte limit/);
    });
  });

  describe('the real BMXNet MNIST params', () => {
    const dir = modelsDir();
    for (const bits of [32, 64] as const) {
      it(`binarized_mnist_${bits}bit-0001.params`, function () {
        const file = path.join(dir, `binarized_mnist_${bits}bit-0001.params`);
        if (!fs.existsSync(file)) {
          console.log(`      (skipped: ${file} not found)`);
          this.skip();
        }
        const es = readNDArrayFile(file);
        const byName = new Map(es.map((e) => [e.name, e]));
        assert.equal(es.length, 18);
        assert.ok(es.every((e) => e.version === 'legacy'));
        const packedType = bits === 32 ? 'float32' : 'float64';
        assert.deepEqual(pick(byName.get('arg:qconvolution0_weight')), [packedType, [(64 * 64 * 25) / bits]]);
        assert.deepEqual(pick(byName.get('arg:qfullyconnected0_weight')), [packedType, [(1000 * 1024) / bits]]);
        assert.deepEqual(pick(byName.get('arg:convolution0_weight')), ['float32', [64, 1, 5, 5]]);
        assert.deepEqual(pick(byName.get('aux:batchnorm2_moving_var')), ['float32', [1000]]);
      });
    }
  });
});

function pick(e: NDArrayEntry | undefined): [DType | null, number[]] | undefined {
  return e && [e.dtype, e.shape];
}

function modelsDir(): string {
  return path.join(SHARED_MODELS, 'bmxnet');
}

/** Random valid entry lists: every version and dtype, none arrays, zero-size and scalar shapes. */
function arbEntries(): fc.Arbitrary<{ entries: WriteEntry[]; omitNames: boolean }> {
  const entry = fc.record({
    version: fc.constantFrom(...VERSIONS),
    dtype: fc.option(fc.constantFrom(...DTYPES), { freq: 6 }),
    shape: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 0, maxLength: 3 }),
    seed: fc.uint8Array({ minLength: 512, maxLength: 512 }),
    name: fc.string({ maxLength: 12 }),
  }).map(({ version, dtype, shape, seed, name }) => {
    // Only V3 can hold a scalar; give the others at least one dim.
    const s = shape.length === 0 && version !== 'v3' ? [2] : shape;
    const n = dtype === null ? 0 : s.reduce((a, b) => a * b, 1) * encodeValues(dtype, [0]).length;
    return { version, dtype, shape: s, name, data: seed.slice(0, n) } as WriteEntry;
  });
  return fc.record({ entries: fc.array(entry, { maxLength: 5 }), omitNames: fc.boolean() }).map(({ entries, omitNames }) => ({
    entries: entries.map((e, i) => ({ ...e, name: `${i}:${e.name}` })), // unique names
    omitNames,
  }));
}

