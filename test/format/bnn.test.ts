/**
 * The .bnn container and validateModel: round trips, rejection of inconsistent
 * models, and hostile files (truncated, corrupted, crafted) that must all end in a
 * one-line FormatError — never a RangeError, TypeError or crash.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import fc from 'fast-check';
import { FormatError } from '../../host/core/errors';
import { CompiledModel, CompiledOp } from '../../host/compile/model';
import { validateModel } from '../../host/compile/validate';
import {
  BNN_ALIGN, BNN_HEADER_BYTES, BNN_MAGIC, BNN_MAX_FILE_BYTES, crc32, crc32Portable, decodeBnn, encodeBnn,
  packBnnContainer, readBnn, unpackBnnContainer, writeBnn,
} from '../../host/format/bnn';
import { tinyModel } from '../fixtures/tiny-model';
import { f32, ModelBuilder } from '../helpers/native-models';

const FC = { seed: 0x5eed_b17, numRuns: 250 } as const;
const FILE = 'tiny.bnn';

// ---- helpers ------------------------------------------------------------------------------

/** Run fn, require a one-line FormatError (optionally matching `re`), return it. */
function formatError(fn: () => unknown, re?: RegExp): FormatError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  if (!(err instanceof FormatError)) {
    assert.fail(`expected a FormatError, got ${err instanceof Error ? err.stack : String(err)}`);
  }
  assert.ok(!/[\r\n]/.test(err.message), `message is not one line: ${JSON.stringify(err.message)}`);
  assert.ok(err.message.length < 400, `message too long: ${err.message}`);
  if (re) assert.match(err.message, re);
  return err;
}

/** Decoding either fails cleanly or yields a model that validates again. */
function decodesOrFormatError(buf: Uint8Array): void {
  let m: CompiledModel;
  try {
    m = decodeBnn(buf, FILE);
  } catch (e) {
    formatError(() => {
      throw e;
    });
    return;
  }
  validateModel(m, FILE);
}

type Path = Array<string | number>;

/** Paths of every number in the model that is a field (not a typed-array element). */
function numericPaths(o: unknown, p: Path = [], out: Path[] = []): Path[] {
  if (typeof o === 'number') out.push(p);
  else if (o && typeof o === 'object' && !ArrayBuffer.isView(o)) {
    for (const [k, v] of Object.entries(o)) numericPaths(v, [...p, Array.isArray(o) ? Number(k) : k], out);
  }
  return out;
}

function typedArrayPaths(o: unknown, p: Path = [], out: Path[] = []): Path[] {
  if (ArrayBuffer.isView(o)) out.push(p);
  else if (o && typeof o === 'object') {
    for (const [k, v] of Object.entries(o)) typedArrayPaths(v, [...p, Array.isArray(o) ? Number(k) : k], out);
  }
  return out;
}

/** Every node of a JSON document (objects, arrays and leaves, not the root). */
function jsonPaths(o: unknown, p: Path = [], out: Path[] = []): Path[] {
  if (p.length > 0) out.push(p);
  if (o && typeof o === 'object') {
    for (const [k, v] of Object.entries(o)) jsonPaths(v, [...p, Array.isArray(o) ? Number(k) : k], out);
  }
  return out;
}

function getPath(o: unknown, p: Path): unknown {
  return p.reduce<unknown>((x, k) => (x as Record<string | number, unknown>)[k], o);
}

function setPath(o: unknown, p: Path, v: unknown): void {
  (getPath(o, p.slice(0, -1)) as Record<string | number, unknown>)[p[p.length - 1]] = v;
}

function clone(m: CompiledModel): CompiledModel {
  return structuredClone(m);
}

function mutated(fn: (m: any) => void): CompiledModel {
  const m = clone(tinyModel());
  fn(m);
  return m;
}

/** One element of xs, chosen by fast-check. */
function pick<T>(xs: T[]): fc.Arbitrary<T> {
  return fc.integer({ min: 0, max: xs.length - 1 }).map((i) => xs[i]);
}

const ENCODED = encodeBnn(tinyModel());

/** Re-pack ENCODED after editing its parsed JSON (checksums stay valid). */
function withJson(edit: (doc: any) => void, blobs?: Uint8Array, minor?: number): Buffer {
  const c = unpackBnnContainer(ENCODED, FILE);
  const doc = JSON.parse(c.json);
  edit(doc);
  return packBnnContainer(JSON.stringify(doc), blobs ?? c.blobs, minor);
}

/** Overwrite header bytes and (by default) recompute the header checksum. */
function patchHeader(buf: Uint8Array, at: number, value: bigint | number, bytes: 4 | 8, fixCrc = true): Buffer {
  const b = Buffer.from(buf);
  if (bytes === 8) b.writeBigUInt64LE(BigInt(value), at);
  else b.writeUInt32LE(Number(value), at);
  if (fixCrc) b.writeUInt32LE(crc32(b.subarray(0, 60)), 60);
  return b;
}

// ---- tests --------------------------------------------------------------------------------

describe('.bnn format', function () {
  this.timeout(20000);

  describe('crc32', () => {
    it('matches the standard check value', () => {
      const data = Buffer.from('123456789');
      assert.equal(crc32(data), 0xcbf43926);
      assert.equal(crc32Portable(data), 0xcbf43926);
      assert.equal(crc32(new Uint8Array(0)), 0);
    });

    it('the portable and the zlib implementation agree, also when continued', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 300 }), (a, b) => {
          const whole = Buffer.concat([a, b]);
          assert.equal(crc32Portable(whole), crc32(whole));
          assert.equal(crc32Portable(b, crc32Portable(a)), crc32(whole));
        }),
        FC,
      );
    });
  });

  describe('tiny model fixture', () => {
    it('is valid', () => validateModel(tinyModel(), 'fixture'));

    it('covers every op kind and both epilogues', () => {
      const m = tinyModel();
      const kinds = new Set(m.ops.map((o) => o.op));
      for (const k of ['conv2d', 'dense', 'batchnorm', 'activation', 'pool', 'add', 'flatten', 'quantize', 'binarize', 'dequantize', 'bconv']) {
        assert.ok(kinds.has(k as CompiledOp['op']), k);
      }
      const eps = new Set(m.ops.flatMap((o) => (o.op === 'bconv' ? [o.epilogue.kind + (o.pool ? '+pool' : '') + o.inBits] : [])));
      assert.deepEqual([...eps].sort(), ['int1', 'int2', 'threshold+pool1', 'threshold2']);
    });
  });

  describe('encode / decode', () => {
    it('round-trips deep-equal, typed arrays exactly, into fresh aligned arrays', () => {
      const m = tinyModel();
      const buf = encodeBnn(m);
      const d = decodeBnn(buf, FILE);
      assert.deepStrictEqual(d, m);
      for (const p of typedArrayPaths(m)) {
        const a = getPath(m, p) as Uint8Array;
        const b = getPath(d, p) as Uint8Array;
        assert.equal(b.constructor, a.constructor, p.join('.'));
        assert.equal(b.byteOffset, 0);
        assert.notEqual(b.buffer, buf.buffer, 'decoded arrays must not alias the file buffer');
        assert.deepEqual(Buffer.from(b.buffer, b.byteOffset, b.byteLength), Buffer.from(a.buffer, a.byteOffset, a.byteLength));
      }
      // re-encoding is byte-identical, and encoding is deterministic
      assert.ok(encodeBnn(d).equals(buf));
      assert.ok(encodeBnn(tinyModel()).equals(buf));
    });

    it('round-trips pseudo-random variants of the fixture', () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 2 ** 31 }), (seed) => {
          const m = tinyModel(seed);
          assert.deepStrictEqual(decodeBnn(encodeBnn(m), FILE), m);
        }),
        { ...FC, numRuns: 200 },
      );
    });

    it('decodes from a buffer at any byte offset', () => {
      const big = Buffer.alloc(ENCODED.length + 3);
      ENCODED.copy(big, 3);
      assert.deepStrictEqual(decodeBnn(big.subarray(3), FILE), tinyModel());
    });

    it('validates sparse arrays element by element', () => {
      const m = tinyModel();
      m.segments = [m.segments[0], , ...m.segments.slice(1)] as CompiledModel['segments'];
      formatError(() => validateModel(m, 'm'), /segment 1: must be an object \{kind, start, end, inputs, outputs\}, got nothing \(missing\)/);
    });

    it('writes the documented layout', () => {
      const buf = ENCODED;
      assert.deepEqual([...buf.subarray(0, 8)], [...BNN_MAGIC]);
      assert.equal(buf.readUInt32LE(8), 1);
      assert.equal(buf.readUInt32LE(12), 0);
      const jsonOffset = Number(buf.readBigUInt64LE(16));
      const jsonLength = Number(buf.readBigUInt64LE(24));
      const blobOffset = Number(buf.readBigUInt64LE(32));
      const blobLength = Number(buf.readBigUInt64LE(40));
      assert.equal(jsonOffset, BNN_HEADER_BYTES);
      assert.equal(blobOffset, Math.ceil((jsonOffset + jsonLength) / 64) * 64);
      assert.equal(blobOffset + blobLength, buf.length);
      assert.equal(buf.length % BNN_ALIGN, 0);
      assert.equal(buf.readUInt32LE(48), crc32(buf.subarray(64)));
      assert.equal(buf.readUInt32LE(52), 0);
      assert.equal(buf.readUInt32LE(56), 0);
      assert.equal(buf.readUInt32LE(60), crc32(buf.subarray(0, 60)));
      const doc = JSON.parse(buf.subarray(jsonOffset, jsonOffset + jsonLength).toString('utf8'));
      // conv2d weight: little-endian float32 at a 64-byte aligned absolute offset
      const ref = doc.ops[0].weight;
      assert.deepEqual(Object.keys(ref).sort(), ['dtype', 'length', 'offset']);
      assert.equal(ref.dtype, 'f32');
      const at = blobOffset + ref.offset;
      assert.equal(at % 64, 0);
      const w = tinyModel().ops[0] as { weight: Float32Array };
      for (let i = 0; i < ref.length; i++) assert.equal(buf.readFloatLE(at + 4 * i), w.weight[i]);
      // every blob is aligned and they do not overlap
      const refs = jsonPaths(doc).map((p) => getPath(doc, p)).filter((v: any) => v && typeof v === 'object' && 'dtype' in v) as any[];
      assert.equal(refs.length, typedArrayPaths(tinyModel()).length);
      refs.sort((a, b) => a.offset - b.offset).forEach((r, i) => {
        assert.equal(r.offset % 64, 0);
        if (i > 0) assert.ok(r.offset >= refs[i - 1].offset + refs[i - 1].length * (refs[i - 1].dtype === 'u8' ? 1 : 4));
      });
    });

    it('ignores unknown JSON fields and accepts a newer minor version', () => {
      const buf = withJson((doc) => {
        doc.futureTopLevel = { anything: [1, 2] };
        doc.ops[5].futureField = 'x';
        doc.tensors[0].futureField = 3;
        doc.segments[0].futureField = null;
      }, undefined, 7);
      assert.equal(unpackBnnContainer(buf, FILE).minor, 7);
      assert.deepStrictEqual(decodeBnn(buf, FILE), tinyModel());
    });

    it('encodeBnn refuses an invalid model, naming where', () => {
      const m = mutated((x) => (x.tensors[1].h = 5));
      formatError(() => encodeBnn(m, 'out.bnn'), /^out\.bnn: op 0 \(conv2d "conv0"\): output tensor 1 is f32 5x6x8, expected f32 6x6x8/);
    });

    it('encodeBnn rejects op fields missing from the schema (a bug, not a user error)', () => {
      const m = mutated((x) => (x.ops[3].ceil = true));
      assert.throws(() => encodeBnn(m), (e: Error) => !(e instanceof FormatError) && /not in the \.bnn schema/.test(e.message));
    });
  });

  describe('grouped float convs (format 2.2)', () => {
    /** conv2d 5x5x6 -> 6, groups 3 (two input channels per group), then flatten. */
    const grouped = (groups = 3): CompiledModel => {
      const b = new ModelBuilder(5, 5, 6);
      const w = Float32Array.from({ length: 6 * 9 * (6 / groups) }, (_, k) => Math.fround(Math.sin(k)));
      const y = b.add({ op: 'conv2d', in: 0, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, groups, weight: w, bias: new Float32Array(6).fill(0.25) }, f32(5, 5, 6));
      b.add({ op: 'flatten', in: y }, f32(1, 1, 150, true));
      return b.build('grouped');
    };
    const version = (buf: Uint8Array) => { const c = unpackBnnContainer(buf, FILE); return [c.major, c.minor]; };

    it('round trip: groups written only when not 1, under a 2.2 header', () => {
      const bytes = encodeBnn(grouped());
      assert.deepEqual(version(bytes), [2, 2]);
      assert.equal(JSON.parse(unpackBnnContainer(bytes, FILE).json).ops[0].groups, 3);
      assert.deepStrictEqual(decodeBnn(bytes, FILE), grouped());
      // a dense conv is stored as before: no groups key, the version it had
      assert.deepEqual(version(ENCODED), [1, 0]);
      assert.ok(!unpackBnnContainer(ENCODED, FILE).json.includes('groups'));
      const dense = encodeBnn(grouped(1));
      assert.deepEqual(version(dense), [1, 0]);
      const op0 = decodeBnn(dense, FILE).ops[0];
      assert.ok(op0.op === 'conv2d' && op0.groups === 1, 'read back as groups 1');
    });

    it('an earlier reader refuses it rather than misreads it: without groups the weight blob is 3 times too short', () => {
      const c = unpackBnnContainer(encodeBnn(grouped()), FILE);
      const doc = JSON.parse(c.json);
      delete doc.ops[0].groups; // what a reader that does not know the field sees
      formatError(() => decodeBnn(packBnnContainer(JSON.stringify(doc), c.blobs, 2, 2), FILE), /weight has 108 values, expected outC\*kh\*kw\*inC = 6\*3\*3\*6 = 324/);
    });

    it('refuses a grouped conv under an earlier header, and groups that do not fit', () => {
      const c = unpackBnnContainer(encodeBnn(grouped()), FILE);
      formatError(() => decodeBnn(packBnnContainer(c.json, c.blobs, 1, 2), FILE), /format 2\.1 cannot hold grouped convolutions \(conv2d groups needs format 2\.2\)/);
      formatError(() => decodeBnn(packBnnContainer(c.json, c.blobs, 1, 1), FILE), /format 1\.1 cannot hold grouped convolutions/);
      for (const [g, re] of [[4, /groups 4 must divide the 6 input and 6 output channels/], [0, /groups must be an integer in 1\.\.6/], [1.5, /groups must be an integer/], ['3', /groups must be an integer/], [12, /groups must be an integer in 1\.\.6/]] as const) {
        const doc = JSON.parse(c.json);
        doc.ops[0].groups = g;
        formatError(() => decodeBnn(packBnnContainer(JSON.stringify(doc), c.blobs, 2, 2), FILE), re);
      }
    });
  });

  describe('readBnn / writeBnn', () => {
    let dir = '';
    before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bitweave-bnn-'))));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('round-trips through a file, leaving no temp file', () => {
      const f = path.join(dir, 'tiny.bnn');
      writeBnn(f, tinyModel());
      assert.deepEqual(fs.readdirSync(dir), ['tiny.bnn']);
      assert.deepStrictEqual(readBnn(f), tinyModel());
      assert.ok(fs.readFileSync(f).equals(ENCODED));
    });

    it('reports missing files, directories and unwritable paths', () => {
      formatError(() => readBnn(path.join(dir, 'nope.bnn')), /nope\.bnn: cannot read: no such file/);
      formatError(() => readBnn(dir), /cannot read: is a directory/);
      formatError(() => writeBnn(path.join(dir, 'no-dir', 'x.bnn'), tinyModel()), /cannot write: no such file/);
    });

    it('refuses a file over 2 GiB before reading it', () => {
      const f = path.join(dir, 'huge.bnn');
      const fd = fs.openSync(f, 'w');
      try {
        fs.writeSync(fd, ENCODED.subarray(0, 64));
        fs.ftruncateSync(fd, BNN_MAX_FILE_BYTES + 1); // sparse: costs no disk
      } finally {
        fs.closeSync(fd);
      }
      const t0 = Date.now();
      formatError(() => readBnn(f), /the file is 2147483649 bytes, larger than the 2147483648-byte \(2 GiB\) limit/);
      assert.ok(Date.now() - t0 < 1000);
      fs.unlinkSync(f);
    });

    it('reports a hostile file read from disk like one in memory', () => {
      const f = path.join(dir, 'cut.bnn');
      fs.writeFileSync(f, ENCODED.subarray(0, 100));
      formatError(() => readBnn(f), /cut\.bnn: truncated: the header declares \d+ bytes, the file has 100/);
    });
  });

  describe('validateModel rejects', () => {
    const cases: Array<[string, (m: any) => void, RegExp]> = [
      ['a short bconv weight', (m) => (m.ops[5].weight = m.ops[5].weight.subarray(1)),
        /op 5 \(bconv "qconv1"\): weight has 1259 Uint32 values, expected outC\*kh\*kw\*ceil\(inC\/64\)\*2 = 70\*3\*3\*1\*2 = 1260$/],
      ['weight bits past inC', (m) => (m.ops[6].weight[4 + 2] |= 1 << 7), // channel 1's second word: bit 64+7 >= 70
        /op 6 \(bconv "qconv2"\): weight bits past inC = 70 must be 0 \(output channel 1, kernel pixel 0, Uint32 index 6\)/],
      ['a flip flag of 2', (m) => (m.ops[5].epilogue.flip[3] = 2), /op 5 .*epilogue\.flip\[3\] is 2, must be 0 or 1/],
      ['a useMin flag of 255', (m) => (m.ops[5].pool.useMin[0] = 255), /pool\.useMin\[0\] is 255, must be 0 or 1/],
      ['NaN in a conv weight', (m) => (m.ops[0].weight[5] = NaN), /op 0 \(conv2d "conv0"\): weight\[5\] is NaN, must be finite/],
      ['Infinity in a batchnorm scale', (m) => (m.ops[10].scale[63] = Infinity), /op 10 \(batchnorm "bn3"\): scale\[63\] is Infinity/],
      ['a wrong threshold count', (m) => (m.ops[15].epilogue.thresholds = new Int32Array(35)),
        /epilogue\.thresholds has 35 values, expected outC\*\(2\^bits-1\) = 12\*3 = 36/],
      ['a float array where Int32 is needed', (m) => (m.ops[15].epilogue.thresholds = new Float32Array(36)),
        /epilogue\.thresholds must be an Int32Array, got a Float32Array of 36/],
      ['a dense weight of the wrong size', (m) => (m.ops[18].weight = new Float32Array(90)), /op 18 \(dense "fc6"\): weight has 90 values, expected outC\*inFeatures = 10\*10 = 100/],
      ['a bias of the wrong size', (m) => (m.ops[0].bias = new Float32Array(7)), /bias has 7 values, expected outC = 8/],
      ['flat batchnorm params of the wrong size', (m) => (m.ops[10].beta = new Float32Array(16)), /beta has 16 values, expected features = 64/],
      ['conv output geometry', (m) => (m.tensors[1].w = 4), /output tensor 1 is f32 6x4x8, expected f32 6x6x8 \(3x3 stride 1,1 pad 1,1 on 6x6\)/],
      ['bconv + pool output geometry', (m) => (m.ops[5].pool.sh = 2),
        /op 5 .*output tensor 6 is bits 2x2x70 with 1 plane, expected bits 1x2x70 \(3x3 stride 1,1 pad 1,1 on 3x3 gives 3x3, then pool 2x2 stride 2,1 pad 0,0\)$/],
      ['pad >= kernel', (m) => (m.ops[3].ph = 2), /op 3 \(pool "pool0"\): ph must be an integer in 0\.\.1 \(pad < kernel\), got 2/],
      ['kernel 0', (m) => (m.ops[0].kw = 0), /kw must be an integer in 1\.\.64, got 0/],
      ['kernel 65', (m) => (m.ops[0].kh = 65), /kh must be an integer in 1\.\.64, got 65/],
      ['a kernel that does not fit', (m) => { m.ops[6].kh = 3; m.ops[6].kw = 3; },
        /op 6 .*kernel 3x3 stride 1,1 pad 0,0 does not fit the 2x2 input/],
      ['binarize 9 bits', (m) => (m.ops[4].bits = 9), /op 4 \(binarize "qact1"\): bits must be an integer in 1\.\.8, got 9/],
      ['a string where a number belongs', (m) => (m.ops[4].bits = '1'), /bits must be an integer in 1\.\.8, got the string "1"/],
      ['bconv reading floats', (m) => (m.ops[5].in = 4), /op 5 \(bconv "qconv1"\): input tensor 4 is f32 3x3x8, expected bits with 1 plane \(inBits\)/],
      ['bconv planes != inBits', (m) => (m.ops[15].inBits = 1), /input tensor 15 is bits 1x1x64 with 2 planes, expected bits with 1 plane/],
      ['an int epilogue writing bits', (m) => (m.ops[5].epilogue = { kind: 'int' }),
        /op 5 .*output tensor 6 is bits 2x2x70 with 1 plane, an 'int' epilogue writes i32/],
      ['an unknown epilogue', (m) => (m.ops[6].epilogue = { kind: 'relu' }), /epilogue\.kind must be 'int' or 'threshold', got the string "relu"/],
      ['outC != output channels', (m) => (m.ops[16].outC = 11), /op 16 .*weight has 20 Uint32 values, expected .* = 22/],
      ['dequantize of floats', (m) => (m.ops[7].in = 5), /op 7 .*input tensor 5 is bits 3x3x8 with 1 plane, expected i32/],
      ['dequantize by zero', (m) => (m.ops[7].divisor = 0), /divisor must be a finite non-zero number, got 0/],
      ['adding different shapes', (m) => (m.ops[12].in = [11, 9]), /op 12 \(add "add3"\): cannot add tensor 11 \(f32 1x1x64 \(flat\)\) and tensor 9 \(f32 2x2x16\)/],
      ['add with one input', (m) => (m.ops[12].in = [11]), /in must be an array of two tensor ids, got an array of 1/],
      ['flatten to the wrong length', (m) => { m.tensors[10].c = 63; }, /op 9 .*output tensor 10 is f32 1x1x63 \(flat\), expected f32 1x1x64 \(flat\)/],
      ['an unknown activation', (m) => (m.ops[2].fn = 'gelu'), /fn must be one of tanh, relu, sigmoid, got the string "gelu"/],
      ['an unknown op kind', (m) => (m.ops[2].op = 'softmax'), /op 2 \(softmax "tanh0"\): unknown op kind "softmax"/],
      ['an op that is not an object', (m) => (m.ops[2] = null), /op 2 "tanh0" must be an object, got null/],
      ['a read before the write', (m) => (m.ops[1].in = 3), /op 1 \(batchnorm "bn0"\): reads tensor 3 before any op writes it \(op 2 writes it later\)/],
      ['a tensor written twice', (m) => (m.ops[2].out = 2), /op 2 .*writes tensor 2, already written by op 1/],
      ['a write to the input', (m) => (m.ops[0].out = 0), /op 0 .*writes tensor 0, the model input/],
      ['an out-of-range tensor id', (m) => (m.ops[3].out = 20), /op 3 .*out must be an integer in 0\.\.19 \(a tensor id\), got 20/],
      ['a dead tensor', (m) => {
        m.tensors.push({ kind: 'f32', h: 1, w: 1, c: 10, planes: 0, flat: false });
        m.ops.push({ op: 'activation', in: 19, out: 20, fn: 'relu' });
        m.opNames.push('extra');
        m.segments[4].end = 20;
      }, /tensor 20 \(written by op 19\) is never read and is not the model output \(dead code\)/],
      ['more tensors than ops need', (m) => m.tensors.push({ kind: 'f32', h: 1, w: 1, c: 1, planes: 0, flat: false }),
        /the model has 21 tensors for 19 ops, expected 20/],
      ['an output that is not a vector', (m) => (m.output = 9), /output tensor 9 is f32 2x2x16, the model output must be an f32 vector \(1x1xN\)/],
      ['an integer input', (m) => (m.tensors[0].kind = 'i32'), /input tensor 0 is i32 6x6x3, the model input must be f32/],
      ['a flat bits tensor', (m) => (m.tensors[15].flat = true), /tensor 15: only f32 vectors \(1x1xN\) can be flat, this is bits 1x1/],
      ['planes on a float tensor', (m) => (m.tensors[3].planes = 1), /tensor 3: planes must be 0 for a f32 tensor, got 1/],
      ['a bits tensor without planes', (m) => (m.tensors[5].planes = 0), /tensor 5: planes must be an integer in 1\.\.8 for a bits tensor, got 0/],
      ['too many channels', (m) => (m.tensors[1].c = 65537), /tensor 1: c \(channels\) must be an integer in 1\.\.65536, got 65537/],
      ['a huge tensor', (m) => { m.tensors[0].h = 65536; m.tensors[0].w = 65536; }, /tensor 0: f32 65536x65536x3 holds 12884901888 elements per image, the limit is 268435456/],
      ['a negative size', (m) => (m.tensors[2].h = -6), /tensor 2: h must be an integer in 1\.\.65536, got -6/],
      ['a fractional size', (m) => (m.tensors[2].w = 6.5), /tensor 2: w must be an integer in 1\.\.65536, got 6\.5/],
      ['an unknown tensor kind', (m) => (m.tensors[2].kind = 'f16'), /tensor 2: kind must be one of f32, i32, bits, got the string "f16"/],
      ['too few op names', (m) => m.opNames.pop(), /opNames has 18 entries for 19 ops/],
      ['a non-string op name', (m) => (m.opNames[4] = 4), /opNames\[4\] must be a string, got 4/],
      ['a non-boolean softmax', (m) => (m.softmax = 1), /softmax must be true or false, got 1/],
      ['a negative floatWeightBytes', (m) => (m.floatWeightBytes = -1), /floatWeightBytes must be an integer in 0\.\./],
      ['no ops', (m) => { m.ops = []; m.tensors = [m.tensors[0]]; }, /the model must have 1\.\.65536 ops, it has 0/],
      ['a gap between segments', (m) => (m.segments[1].start = 6), /segment 1: start must be 5 \(segments cover the ops contiguously, in order\), got 6/],
      ['a device segment holding a host op', (m) => { m.segments[1].end = 8; m.segments[2].start = 8; },
        /segment 1: is device but op 7 \(dequantize "qconv2_dequant"\) runs on the host/],
      ['two host segments in a row', (m) => {
        m.segments.splice(0, 1, { kind: 'host', start: 0, end: 2, inputs: [0], outputs: [2] }, { kind: 'host', start: 2, end: 5, inputs: [2], outputs: [5] });
      }, /segment 1: is host like segment 0; segments are maximal runs, so kinds alternate/],
      ['a missing segment input', (m) => (m.segments[2].inputs = []), /segment 2: inputs is missing tensor 7 \(read by the segment and produced before it\)/],
      ['an extra segment output', (m) => m.segments[2].outputs.push(14), /segment 2: outputs lists tensor 14, which is not produced by the segment and read after it/],
      ['a duplicated segment input', (m) => m.segments[0].inputs.push(0), /segment 0: inputs lists tensor 0 twice/],
      ['uncovered ops', (m) => m.segments.pop(), /segments cover ops 0\.\.16, but there are 19 ops/],
      ['a segment after the end', (m) => m.segments.push({ kind: 'device', start: 19, end: 20, inputs: [], outputs: [] }), /segment 5: starts after the last op/],
      ['no segments', (m) => (m.segments = []), /the model has no segments/],
      ['a model that is not an object', (m) => m, /compiled model must be an object, got null/],
    ];
    for (const [what, edit, re] of cases) {
      it(what, () => {
        const m = what === 'a model that is not an object' ? (null as unknown as CompiledModel) : mutated(edit);
        const e = formatError(() => validateModel(m, 'm.bnn'), re);
        assert.ok(e.message.startsWith('m.bnn: '), e.message);
      });
    }

    it('host pools may round the window count up (MXNet "full"), never into empty windows', () => {
      // 3x3 stride 2 on 6x6: 2 windows rounding down, 3 rounding up (the last starts at row 4)
      validateModel(mutated((m) => { m.ops[3].kh = 3; m.ops[3].kw = 3; }), 'm');
      // 1x1 stride 4 on 6x6: rounding up would add a window starting at row 8, past the input
      formatError(() => validateModel(mutated((m) => { m.ops[3].kh = 1; m.ops[3].kw = 1; m.ops[3].sh = 4; m.ops[3].sw = 4; }), 'm'),
        /op 3 \(pool "pool0"\): output tensor 4 is f32 3x3x8, expected 2x2 \(1x1 stride 4,4 pad 0,0 on 6x6\)$/);
      formatError(() => validateModel(mutated((m) => { m.ops[3].sh = 1; }), 'm'),
        /output tensor 4 is f32 3x3x8, expected 5x3 \(2x2 stride 1,2 pad 0,0 on 6x6\)$/);
      formatError(() => validateModel(mutated((m) => { m.ops[3].kh = 3; m.ops[3].sh = 1; }), 'm'),
        /output tensor 4 is f32 3x3x8, expected 4x3 \(3x2 stride 1,2 pad 0,0 on 6x6\)$/);
    });

    it('an accumulator that overflows Int32', () => {
      // 8-bit planes x 64x64 kernel x 65536 channels: (2^8-1)*2^28 > 2^31 (no weights allocated: the check comes first)
      const m = {
        name: 'big', source: { format: 'x', files: [] }, input: 0, output: 3, softmax: false, floatWeightBytes: 0,
        tensors: [
          { kind: 'f32', h: 64, w: 64, c: 65536, planes: 0, flat: false },
          { kind: 'bits', h: 64, w: 64, c: 65536, planes: 8, flat: false },
          { kind: 'i32', h: 1, w: 1, c: 1, planes: 0, flat: false },
          { kind: 'f32', h: 1, w: 1, c: 1, planes: 0, flat: false },
        ],
        ops: [
          { op: 'binarize', in: 0, out: 1, bits: 8 },
          { op: 'bconv', in: 1, out: 2, kh: 64, kw: 64, sh: 1, sw: 1, ph: 0, pw: 0, padBit: 0, inBits: 8, outC: 1, weight: new Uint32Array(0), pool: null, epilogue: { kind: 'int' } },
          { op: 'dequantize', in: 2, out: 3, divisor: 1 },
        ],
        segments: [], opNames: ['a', 'b', 'c'],
      } as unknown as CompiledModel;
      formatError(() => validateModel(m, 'm'), /op 1 \(bconv "b"\): the accumulator range -68451041280\.\.68451041280 \(8-bit activations x 1-bit weights over kh\*kw\*inC = 64\*64\*65536\) overflows Int32/);
    });

    // -- properties: random mutations of the fixture

    const base = tinyModel();
    const numeric = numericPaths(base);
    const arrays = typedArrayPaths(base);
    const key = (p: Path) => p.join('.');

    it('any numeric field set to an out-of-domain value', () => {
      const garbage = [NaN, Infinity, -Infinity, '2', null, undefined, true, {}, [1]];
      const general = [-1, -7, 0.5, 1.5, 2 ** 31, 2 ** 40, 2 ** 53, ...garbage];
      fc.assert(
        fc.property(pick(numeric), fc.nat(), (p, k) => {
          const last = p[p.length - 1];
          // divisor may be any finite non-zero number, floatWeightBytes any safe non-negative integer
          const bad = last === 'divisor' ? [0, ...garbage] : last === 'floatWeightBytes' ? [-1, 0.5, 2 ** 53, ...garbage] : general;
          const m = clone(base);
          setPath(m, p, bad[k % bad.length]);
          formatError(() => validateModel(m, 'm'));
        }),
        FC,
      );
    });

    it('any numeric field changed by ±1..3 (except changes that give another valid model)', () => {
      // Found by exhaustive search; each still describes a consistent model:
      const free = new Set([
        'ops.3.kh:-1', 'ops.3.kw:-1', // max pool 1x1 stride 2 on 6x6 also gives 3x3
        'ops.3.kh:1', 'ops.3.kw:1', // max pool 3x3 stride 2 on 6x6 gives 3x3 rounding up ('full')
        'ops.8.sh:1', 'ops.8.sw:1', // avg pool 3x3 stride 2 pad 1 on 2x2 gives 2x2 rounding up
        'ops.11.in:-1', 'ops.12.in.0:-1', 'ops.12.in.0:1', // rewired to another f32 1x1x64 flat tensor still read elsewhere
      ]);
      const freeField = (p: Path) =>
        ['padBit', 'divisor', 'floatWeightBytes'].includes(String(p[p.length - 1])) ||
        key(p) === 'ops.11.bits' || // quantize levels
        /^ops\.1[56]\.s[hw]$/.test(key(p)); // the stride of a 1x1 kernel on a 1x1 input
      fc.assert(
        fc.property(pick(numeric), fc.constantFrom(-3, -2, -1, 1, 2, 3), (p, d) => {
          if (freeField(p) || free.has(`${key(p)}:${d}`)) return;
          const m = clone(base);
          setPath(m, p, (getPath(m, p) as number) + d);
          formatError(() => validateModel(m, 'm'));
        }),
        FC,
      );
    });

    it('any typed array shortened or lengthened', () => {
      fc.assert(
        fc.property(pick(arrays), fc.integer({ min: -40, max: 40 }).filter((d) => d !== 0), (p, d) => {
          const m = clone(base);
          const a = getPath(m, p) as Float32Array;
          const n = Math.max(0, a.length + d);
          const b = new (a.constructor as Float32ArrayConstructor)(n);
          b.set(a.subarray(0, Math.min(n, a.length)));
          setPath(m, p, b);
          formatError(() => validateModel(m, 'm'), /has \d+ (Uint32 )?values, expected/);
        }),
        FC,
      );
    });

    it('any tensor id out of range', () => {
      const ids = numeric.filter((p) => /^(input|output|ops\.\d+\.(in|out)(\.\d)?|segments\.\d+\.(inputs|outputs)\.\d+)$/.test(key(p)));
      assert.ok(ids.length > 40);
      fc.assert(
        fc.property(pick(ids), fc.oneof(fc.integer({ min: 20, max: 2 ** 31 }), fc.integer({ min: -(2 ** 31), max: -1 })), (p, v) => {
          const m = clone(base);
          setPath(m, p, v);
          formatError(() => validateModel(m, 'm'));
        }),
        FC,
      );
    });

    it('any wrong segment', () => {
      const edits: Array<(m: CompiledModel, s: number, t: number) => void> = [
        (m, s, t) => (m.segments[s].start += t % 2 ? t : -t),
        (m, s, t) => (m.segments[s].end += t % 2 ? t : -t),
        (m, s) => (m.segments[s].kind = m.segments[s].kind === 'host' ? 'device' : 'host'),
        (m, s) => m.segments[s].inputs.pop(),
        (m, s) => m.segments[s].outputs.pop(),
        (m, s, t) => m.segments[s].inputs.push(t % 20),
        (m, s, t) => m.segments[s].outputs.push(t % 20),
        (m, s) => m.segments.splice(s, 1),
        (m, s) => m.segments.splice(s, 0, { ...m.segments[s] }),
        (m, s) => {
          // split a segment in two
          const g = m.segments[s];
          if (g.end - g.start < 2) { g.end++; return; }
          const mid = g.start + 1;
          m.segments.splice(s, 1, { ...g, end: mid }, { ...g, start: mid });
        },
        (m, s) => {
          // merge with the next one
          const n = (s + 1) % m.segments.length;
          if (n === 0) { m.segments[s].end--; return; }
          m.segments[s].end = m.segments[n].end;
          m.segments.splice(n, 1);
        },
      ];
      fc.assert(
        fc.property(fc.integer({ min: 0, max: edits.length - 1 }), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 1, max: 25 }), (e, s, t) => {
          const m = clone(base);
          edits[e](m, s, t);
          formatError(() => validateModel(m, 'm'), /segment/);
        }),
        FC,
      );
    });
  });

  describe('hostile files', () => {
    it('every truncation', () => {
      for (let n = 0; n < ENCODED.length; n++) {
        formatError(() => decodeBnn(ENCODED.subarray(0, n), FILE), n === 0 ? /the file is empty/ : /truncated/);
      }
    });

    it('every byte inverted', () => {
      for (let i = 0; i < ENCODED.length; i++) {
        const b = Buffer.from(ENCODED);
        b[i] ^= 0xff;
        const e = formatError(() => decodeBnn(b, FILE));
        if (i < 8) assert.match(e.message, /not a bitweave \.bnn model/);
        else if (i < 12) assert.match(e.message, /newer bitweave|unknown \.bnn format/);
        else if (i < 64) assert.match(e.message, /corrupt header/);
        else assert.match(e.message, /corrupt: checksum/);
      }
    });

    it('random byte flips are caught by the checksums', () => {
      fc.assert(
        fc.property(fc.array(fc.tuple(fc.nat(ENCODED.length - 1), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 8 }), (flips) => {
          const b = Buffer.from(ENCODED);
          for (const [i, x] of flips) b[i] ^= x;
          if (b.equals(ENCODED)) return; // flips cancelled out
          formatError(() => decodeBnn(b, FILE));
        }),
        FC,
      );
    });

    it('trailing bytes', () => {
      formatError(() => decodeBnn(Buffer.concat([ENCODED, Buffer.alloc(3)]), FILE), /3 unexpected bytes after the blob region/);
    });

    it('a header that declares huge or inconsistent offsets and lengths', () => {
      const max = 2n ** 64n - 1n;
      formatError(() => decodeBnn(patchHeader(ENCODED, 24, max, 8), FILE), /header declares a 18446744073709551615-byte JSON description, the limit is/);
      formatError(() => decodeBnn(patchHeader(ENCODED, 40, max, 8), FILE), new RegExp(`truncated: the header declares \\d+ bytes, the file has ${ENCODED.length}$`));
      formatError(() => decodeBnn(patchHeader(ENCODED, 32, 2n ** 63n, 8), FILE), /truncated: the header declares 92233720368547\d{5} bytes/);
      const blobAt = ENCODED.readBigUInt64LE(32) + 4n;
      formatError(() => decodeBnn(patchHeader(ENCODED, 32, blobAt, 8), FILE), new RegExp(`blob region at byte ${blobAt}, not a multiple of 64`));
      formatError(() => decodeBnn(patchHeader(ENCODED, 16, 0, 8), FILE), /header puts the JSON at byte 0, inside the 64-byte header/);
      formatError(() => decodeBnn(patchHeader(ENCODED, 32, 64, 8), FILE), /header puts the blob region at byte 64, inside the JSON/);
      formatError(() => decodeBnn(patchHeader(ENCODED, 24, 1, 8, false), FILE), /corrupt header: checksum 0x[0-9a-f]{8} does not match the stored 0x[0-9a-f]{8}/);
      fc.assert(
        fc.property(fc.constantFrom(16, 24, 32, 40), fc.bigInt({ min: 0n, max: max }), (at, v) => {
          decodesOrFormatError(patchHeader(ENCODED, at, v, 8));
        }),
        FC,
      );
    });

    it('wrong magic, with hints for text-mode damage', () => {
      const body = ENCODED.subarray(8);
      const withMagic = (m: number[]) => Buffer.concat([Buffer.from(m), body]);
      formatError(() => decodeBnn(withMagic([0x89, 0x42, 0x4e, 0x4e, 0x0a, 0x1a, 0x0a]), FILE), /CR LF became LF/);
      formatError(() => decodeBnn(withMagic([0x89, 0x42, 0x4e, 0x4e, 0x0d, 0x0d, 0x0a, 0x1a, 0x0d, 0x0a]), FILE), /LF became CR LF/);
      formatError(() => decodeBnn(withMagic([0x09, 0x42, 0x4e, 0x4e, 0x0d, 0x0a, 0x1a, 0x0a]), FILE), /high bit .* stripped/);
      formatError(() => decodeBnn(withMagic([0xef, 0xbf, 0xbd, 0x42, 0x4e, 0x4e, 0x0d, 0x0a, 0x1a, 0x0a]), FILE), /decoded and re-encoded as text/);
      formatError(() => decodeBnn(Buffer.from('{"nodes": []}'), FILE), /^tiny\.bnn: not a bitweave \.bnn model .*looks like a JSON file$/);
      formatError(() => decodeBnn(Buffer.from('PK\x03\x04'), FILE), /not a bitweave \.bnn model/);
      formatError(() => decodeBnn(Buffer.from(BNN_MAGIC.subarray(0, 5)), FILE), /truncated: the file has 5 bytes/);
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
          formatError(() => decodeBnn(b, FILE));
        }),
        FC,
      );
    });

    it('a newer or unknown major version', () => {
      formatError(() => decodeBnn(patchHeader(ENCODED, 8, 3, 4), FILE), /^tiny\.bnn: written by a newer bitweave: format 3\.0, this reads 1 and 2$/);
      // the version is checked before the header checksum, so a future header layout still gets this message
      formatError(() => decodeBnn(patchHeader(ENCODED, 8, 7, 4, false), FILE), /newer bitweave: format 7\.0/);
      formatError(() => decodeBnn(patchHeader(ENCODED, 8, 0, 4), FILE), /unknown \.bnn format version 0\.0, this reads 1 and 2/);
    });

    it('a JSON description that is not JSON, not UTF-8 or not an object', () => {
      const blobs = unpackBnnContainer(ENCODED, FILE).blobs;
      formatError(() => decodeBnn(packBnnContainer('{"name": "x",\n\n', blobs), FILE), /the JSON description does not parse: /);
      formatError(() => decodeBnn(packBnnContainer('[1, 2]', blobs), FILE), /the JSON description must be an object, got an array of 2/);
      formatError(() => decodeBnn(packBnnContainer('null', blobs), FILE), /must be an object, got null/);
      formatError(() => decodeBnn(packBnnContainer('', blobs), FILE), /does not parse/);
      formatError(() => decodeBnn(packBnnContainer('['.repeat(200000) + ']'.repeat(200000), blobs), FILE), /must be an object|does not parse/);
      // invalid UTF-8: build the container by hand around raw bytes
      const bad = packBnnContainer('{"name":"xx"}', blobs);
      bad[64 + 9] = 0xff;
      bad.writeUInt32LE(crc32(bad.subarray(64)), 48);
      bad.writeUInt32LE(crc32(bad.subarray(0, 60)), 60);
      formatError(() => decodeBnn(bad, FILE), /the JSON description is not valid UTF-8/);
      fc.assert(
        fc.property(fc.json(), (j) => {
          formatError(() => decodeBnn(packBnnContainer(j, blobs), FILE));
        }),
        { ...FC, numRuns: 200 },
      );
    });

    it('JSON that parses but has wrong types, negative numbers, NaN or missing fields', () => {
      const cases: Array<[(doc: any) => void, RegExp]> = [
        [(d) => (d.tensors[2].h = -6), /tensor 2: h must be an integer in 1\.\.65536, got -6/],
        [(d) => (d.tensors[2].c = '8'), /tensor 2: c \(channels\) must be an integer in 1\.\.65536, got the string "8"/],
        [(d) => (d.ops[0].kh = 'NaN'), /op 0 \(conv2d "conv0"\): kh must be an integer in 1\.\.64, got the string "NaN"/],
        [(d) => (d.ops[7].divisor = null), /divisor must be a finite non-zero number, got null/],
        [(d) => delete d.ops[3].kw, /op 3 \(pool "pool0"\): kw must be an integer in 1\.\.64, got nothing \(missing\)/],
        [(d) => delete d.tensors, /tensors must be an array, got nothing \(missing\)/],
        [(d) => (d.ops = {}), /ops must be an array, got an object/],
        [(d) => (d.ops[4] = 'binarize'), /ops\[4\] must be an object, got the string "binarize"/],
        [(d) => (d.ops[4].op = '__proto__'), /ops\[4\]\.op: unknown op kind "__proto__"/],
        [(d) => (d.ops[4].op = 'constructor'), /ops\[4\]\.op: unknown op kind "constructor"/],
        [(d) => (d.ops[4].op = 7), /ops\[4\]\.op: unknown op kind 7/],
        [(d) => (d.ops[5].pool = 'max'), /op 5 .*pool must be null or an object, got the string "max"/],
        [(d) => (d.ops[5].epilogue = []), /epilogue must be an object, got an array of 0/],
        [(d) => (d.source = 'bmxnet'), /source must be an object \{format, files\}, got the string "bmxnet"/],
        [(d) => (d.segments[0] = 5), /segment 0: must be an object/],
        [(d) => (d.opNames = 'x'), /opNames must be an array of strings/],
      ];
      for (const [edit, re] of cases) formatError(() => decodeBnn(withJson(edit), FILE), re);
      // names with line breaks never break a message onto two lines
      formatError(() => decodeBnn(withJson((d) => { d.opNames[0] = 'a\nb'; d.ops[0].kh = 0; }), FILE), /op 0 \(conv2d "a\\nb"\)/);
      // JSON has no NaN; 1e999 parses to Infinity
      const c = unpackBnnContainer(ENCODED, FILE);
      formatError(() => decodeBnn(packBnnContainer(c.json.replace('"divisor":4', '"divisor":1e999'), c.blobs), FILE), /divisor must be a finite non-zero number, got Infinity/);
    });

    it('any JSON node replaced by an arbitrary JSON value', () => {
      const doc = JSON.parse(unpackBnnContainer(ENCODED, FILE).json);
      const nodes = jsonPaths(doc);
      fc.assert(
        fc.property(pick(nodes), fc.jsonValue({ maxDepth: 3 }), (p, v) => {
          decodesOrFormatError(withJson((d) => setPath(d, p, v)));
        }),
        { ...FC, numRuns: 400 },
      );
    });

    it('blob references out of bounds, misaligned, overlapping or of the wrong dtype', () => {
      const region = unpackBnnContainer(ENCODED, FILE).blobs.length;
      const cases: Array<[(doc: any) => void, RegExp]> = [
        [(d) => (d.ops[0].weight.offset = region + 64), new RegExp(`ops\\[0\\]\\.weight\\.offset must be an integer in 0\\.\\.${region} \\(the blob region's size\\), got ${region + 64}`)],
        [(d) => (d.ops[0].weight.offset = 2 ** 70), /ops\[0\]\.weight\.offset must be an integer/],
        [(d) => (d.ops[0].weight.offset = -64), /ops\[0\]\.weight\.offset must be an integer in 0\.\./],
        [(d) => (d.ops[0].weight.offset = 64.5), /offset must be an integer/],
        [(d) => (d.ops[0].weight.offset = 4), /ops\[0\]\.weight\.offset 4 is not a multiple of 64/],
        [(d) => (d.ops[0].weight.length = region), /ops\[0\]\.weight\.length must be an integer in 0\.\.\d+ \(the f32 elements left in the blob region after offset 0\), got/],
        [(d) => (d.ops[0].weight.length = 1e300), /ops\[0\]\.weight\.length must be an integer/],
        [(d) => (d.ops[0].weight.length = 10), /op 0 \(conv2d "conv0"\): weight has 10 values, expected outC\*kh\*kw\*inC = 8\*3\*3\*3 = 216/],
        [(d) => (d.ops[1].scale.offset = d.ops[1].mean.offset), /blobs overlap: ops\[1\]\.(scale|mean) \(bytes \d+\.\.\d+\) and ops\[1\]\.(mean|scale)/],
        [(d) => (d.ops[0].weight.dtype = 'u32'), /ops\[0\]\.weight\.dtype must be "f32", got the string "u32"/],
        [(d) => (d.ops[5].epilogue.flip.dtype = 'u32'), /ops\[5\]\.epilogue\.flip\.dtype must be "u8"/],
        [(d) => (d.ops[0].weight = [1, 2, 3]), /ops\[0\]\.weight must be a blob reference \{dtype: "f32", offset, length\}, got an array of 3/],
        [(d) => (d.ops[0].weight = null), /ops\[0\]\.weight must be a blob reference .*, got null/],
        [(d) => delete d.ops[5].pool.useMin, /ops\[5\]\.pool\.useMin must be a blob reference .*, got nothing \(missing\)/],
      ];
      for (const [edit, re] of cases) formatError(() => decodeBnn(withJson(edit), FILE), re);
      // references into an empty blob region
      formatError(() => decodeBnn(withJson(() => undefined, new Uint8Array(0)), FILE), /offset must be an integer in 0\.\.0|length must be an integer in 0\.\.0/);
      // random offsets and lengths for random references
      const doc = JSON.parse(unpackBnnContainer(ENCODED, FILE).json);
      const refs = jsonPaths(doc).filter((p) => /^(offset|length)$/.test(String(p[p.length - 1])));
      fc.assert(
        fc.property(pick(refs), fc.oneof(fc.integer({ min: 0, max: region + 128 }), fc.integer(), fc.double()), (p, v) => {
          decodesOrFormatError(withJson((d) => setPath(d, p, v)));
        }),
        FC,
      );
    });
  });
});
