/**
 * The .tflite reader (host/format/tflite.ts) and its FlexBuffers decoder: the eight LCE
 * fixtures read back as the converter's own Python reader saw them (manifest.json), plus
 * facts checked from the bytes; hand-built files for every refusal; truncations and a
 * seeded byte-mutation fuzz in which every failure must be a one-line BitweaveError.
 */
import { strict as assert } from 'assert';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import fc from 'fast-check';
import { ByteBuffer } from 'flatbuffers';
import * as flexbuffers from 'flatbuffers/js/flexbuffers.js';
import { BitweaveError, FormatError, UnsupportedError } from '../../host/core/errors';
import { packagePath } from '../../host/core/paths';
import { decodeFlexBuffer } from '../../host/format/flexbuffers';
import { rng } from '../helpers/naive';
import { parseTflite, readTflite, TfliteModel, TfliteSubgraph } from '../../host/format/tflite';
import { buildTflite, f32Bytes, int32Vector, minimalSpec, ModelSpec, table } from '../helpers/tflite-build';

const FIXTURES = packagePath('test', 'fixtures', 'larq');
const fixtureNames = fs.readdirSync(FIXTURES).filter((d) => fs.existsSync(path.join(FIXTURES, d, 'model.tflite'))).sort();

interface ManifestTensor { index: number; name: string; shape: number[]; dtype: string; constant: boolean }
interface ManifestOp {
  op: string;
  inputs: (ManifestTensor | null)[];
  outputs: ManifestTensor[];
  custom_options?: Record<string, unknown> | null;
  builtin_options?: Record<string, unknown> | null;
}
interface Manifest {
  model_bytes: number;
  model_sha256: string;
  tflite: {
    schema_version: number;
    operator_codes: { name: string; custom: boolean; version: number }[];
    graph_inputs: ManifestTensor[];
    graph_outputs: ManifestTensor[];
    operators: ManifestOp[];
  };
}

function fixture(name: string): { bytes: Buffer; manifest: Manifest; file: string } {
  const file = path.join(FIXTURES, name, 'model.tflite');
  return { file, bytes: fs.readFileSync(file), manifest: JSON.parse(fs.readFileSync(path.join(FIXTURES, name, 'manifest.json'), 'utf8')) };
}

/** Run fn; require a one-line error of `cls` whose message matches `re`. */
function refuses(fn: () => unknown, cls: typeof FormatError | typeof UnsupportedError, re: RegExp): BitweaveError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  if (!(err instanceof cls)) assert.fail(`expected ${cls.name}, got ${err instanceof Error ? err.stack : String(err)}`);
  assert.ok(!/[\r\n]/.test(err.message), `one line: ${err.message}`);
  assert.match(err.message, re);
  return err;
}

/**
 * Operator.custom_options of subgraph 0, found the way generated code finds them: through
 * ByteBuffer's unchecked helpers (fine on the trusted fixtures) and literal slot numbers
 * (Model.subgraphs 2, SubGraph.operators 3, Operator.custom_options 5).
 */
function rawCustomOptions(bytes: Uint8Array): (Uint8Array | null)[] {
  const bb = new ByteBuffer(bytes);
  const field = (table: number, slot: number) => bb.__offset(table, 4 + 2 * slot);
  const root = bb.readUint32(0);
  const subgraph0 = bb.__indirect(bb.__vector(root + field(root, 2)));
  const ops = subgraph0 + field(subgraph0, 3);
  const out: (Uint8Array | null)[] = [];
  for (let i = 0; i < bb.__vector_len(ops); i++) {
    const op = bb.__indirect(bb.__vector(ops) + 4 * i);
    const at = field(op, 5);
    out.push(at ? bytes.subarray(bb.__vector(op + at), bb.__vector(op + at) + bb.__vector_len(op + at)) : null);
  }
  return out;
}

const opName = (g: TfliteSubgraph, i: number) => g.operators[i].opcode.customCode ?? g.operators[i].opcode.builtin;
const product = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** What the reader promises about any model it returns (also checked on fuzzed inputs that parse). */
function checkInvariants(m: TfliteModel): void {
  assert.ok(m.subgraphs.length >= 1);
  for (const g of m.subgraphs) {
    const n = g.tensors.length;
    const written = new Set<number>(g.inputs);
    for (const t of g.tensors) {
      if (t.data) assert.ok(t.data.length > 0);
      assert.ok(t.shape.every((d) => Number.isInteger(d) && d >= 0));
      assert.ok(t.buffer >= 0 && t.buffer < m.buffers.length);
    }
    g.tensors.forEach((t, i) => { if (t.data || t.isVariable) written.add(i); });
    for (const op of g.operators) {
      for (const t of op.inputs) {
        assert.ok(t === -1 || (t >= 0 && t < n));
        assert.ok(t === -1 || written.has(t), 'topological order');
      }
      for (const t of op.outputs) { assert.ok(t >= 0 && t < n); written.add(t); }
    }
    for (const t of [...g.inputs, ...g.outputs]) assert.ok(t >= 0 && t < n);
  }
}

describe('tflite reader: the LCE fixtures', () => {
  it('finds the nine fixtures', () => {
    assert.deepEqual(fixtureNames, ['bconv_grouped', 'bconv_same_pad0', 'bconv_same_pad1', 'bconv_valid_stride2', 'bdense', 'depthwise', 'fashion_bnn', 'pooling', 'resnet_block']);
  });

  for (const name of fixtureNames) {
    it(`${name}: operators, tensors and options match the converter's own reading (manifest.json)`, () => {
      const { bytes, manifest, file } = fixture(name);
      assert.equal(bytes.length, manifest.model_bytes);
      assert.equal(crypto.createHash('sha256').update(bytes).digest('hex'), manifest.model_sha256);
      const m = readTflite(file);
      checkInvariants(m);
      assert.equal(m.version, manifest.tflite.schema_version);
      assert.equal(m.subgraphs.length, 1);
      const g = m.subgraphs[0];
      const tensorMatches = (index: number, want: ManifestTensor, what: string) => {
        assert.equal(index, want.index, what);
        const t = g.tensors[index];
        assert.equal(t.name, want.name, what);
        assert.deepEqual(t.shape, want.shape, what);
        assert.equal(t.type, want.dtype, what);
        assert.equal(t.data !== null, want.constant, `${what}: constant`);
        assert.equal(t.quantization, null, `${what}: float/bitpacked tensors carry no quantization`);
      };
      g.inputs.forEach((t, i) => tensorMatches(t, manifest.tflite.graph_inputs[i], `input ${i}`));
      g.outputs.forEach((t, i) => tensorMatches(t, manifest.tflite.graph_outputs[i], `output ${i}`));
      assert.equal(g.operators.length, manifest.tflite.operators.length);
      g.operators.forEach((op, i) => {
        const want = manifest.tflite.operators[i];
        const what = `operator ${i} (${want.op})`;
        assert.equal(opName(g, i), want.op, what);
        const code = manifest.tflite.operator_codes[op.opcodeIndex];
        assert.equal(code.name, want.op, what);
        assert.equal(op.opcode.builtin === 'CUSTOM', code.custom, what);
        assert.equal(op.opcode.version, code.version, what);
        assert.equal(op.inputs.length, want.inputs.length, what);
        op.inputs.forEach((t, k) => {
          const w = want.inputs[k];
          if (w === null) assert.equal(t, -1, `${what} input ${k} is absent`);
          else tensorMatches(t, w, `${what} input ${k}`);
        });
        op.outputs.forEach((t, k) => tensorMatches(t, want.outputs[k], `${what} output ${k}`));
        if (op.opcode.customCode !== undefined) {
          assert.equal(op.builtinOptions, null);
          assert.deepEqual(op.customOptions, want.custom_options ?? null, `${what} custom options`);
        } else {
          assert.equal(op.customOptions, null);
          const b = want.builtin_options ?? null;
          if (b === null) {
            assert.equal(op.builtinOptions, null, what);
          } else {
            // the manifest has TF's Python field names and enum names; numbers for weights_format
            assert.ok(op.builtinOptions, what);
            const got = op.builtinOptions as unknown as Record<string, unknown>;
            for (const [k, v] of Object.entries(b)) {
              if (k === 'quantizedBiasType') continue; // not read: float models only
              const value = k === 'weightsFormat' ? ['DEFAULT', 'SHUFFLED4x16INT8'].indexOf(got[k] as string) : got[k];
              assert.deepEqual(value, v, `${what}: ${k}`);
            }
          }
        }
      });
    });
  }

  it('LCE custom options: the package\'s own FlexBuffers reader, on bytes found by the package\'s own accessors, agrees', () => {
    let compared = 0;
    for (const name of fixtureNames) {
      const { bytes, file, manifest } = fixture(name);
      const ops = parseTflite(bytes, file).subgraphs[0].operators;
      const raw = rawCustomOptions(bytes);
      assert.equal(raw.length, ops.length);
      ops.forEach((op, i) => {
        // LceQuantize / LceDequantize store an empty vector: no options
        assert.equal(raw[i] !== null && raw[i]!.length > 0, op.customOptions !== null, `${name} operator ${i}`);
        if (op.customOptions === null) return;
        const copy = new Uint8Array(raw[i]!); // the package's reader needs an ArrayBuffer of its own
        const theirs = flexbuffers.toObject(copy.buffer as unknown as ArrayBuffer);
        assert.deepEqual(op.customOptions, theirs);
        assert.deepEqual(theirs, manifest.tflite.operators[i].custom_options);
        compared++;
      });
    }
    assert.equal(compared, 20); // 17 LceBconv2d, 3 LceBMaxPool2d; LceQuantize/LceDequantize have none
  });

  it('LceBconv2d: bitpacked INT32 input [1,H,W,ceil(C/32)], filter [Cout,KH,KW,words], the optional inputs as LCE documents', () => {
    let convs = 0;
    for (const name of fixtureNames) {
      const { bytes, file } = fixture(name);
      const g = parseTflite(bytes, file).subgraphs[0];
      g.operators.forEach((op, i) => {
        if (op.opcode.customCode !== 'LceBconv2d') return;
        convs++;
        const o = op.customOptions as Record<string, number>;
        const [x, filter, multiplier, bias, threshold] = op.inputs.map((t) => (t === -1 ? null : g.tensors[t]));
        const y = g.tensors[op.outputs[0]];
        assert.equal(x!.type, 'INT32');
        assert.equal(x!.data, null);
        assert.equal(x!.shape[3], Math.ceil(o.channels_in / 32), `${name} op ${i}: packed input words`);
        assert.equal(filter!.type, 'INT32');
        const [cout, kh, kw, words] = filter!.shape;
        assert.equal(filter!.data!.length, 4 * cout * kh * kw * words);
        // groups = channels_in / (input channels per group): 32 bits per word, one word per group here
        const groups = name === 'bconv_grouped' ? 2 : 1;
        assert.equal(words, Math.ceil(o.channels_in / groups / 32), `${name} op ${i}: filter words`);
        if (y.type === 'FLOAT32') {
          assert.equal(threshold, null);
          assert.deepEqual([multiplier!.type, multiplier!.shape, bias!.type, bias!.shape], ['FLOAT32', [cout], 'FLOAT32', [cout]]);
          assert.equal(y.shape[3], cout);
        } else {
          assert.equal(y.type, 'INT32');
          assert.deepEqual([multiplier, bias], [null, null]);
          assert.deepEqual([threshold!.type, threshold!.shape], ['INT32', [cout]]);
          assert.equal(y.shape[3], Math.ceil(cout / 32));
        }
        // unused high bits of each packed filter word are 0 (LCE's packing)
        const filterWords = new Int32Array(filter!.data!.slice().buffer);
        const used = o.channels_in / groups % 32;
        if (used) for (const w of filterWords) assert.equal(w >>> used, 0);
      });
    }
    assert.equal(convs, 17);
  });

  it('constant data matches shape and type, and LceBMaxPool2d / LceQuantize keep the packed layout', () => {
    const { bytes, file } = fixture('pooling');
    const m = parseTflite(bytes, file);
    const g = m.subgraphs[0];
    for (const t of g.tensors) {
      if (t.data) assert.equal(t.data.length, 4 * product(t.shape), t.name); // FLOAT32 and INT32 only here
    }
    const pool = g.operators[2];
    assert.equal(pool.opcode.customCode, 'LceBMaxPool2d');
    assert.deepEqual(g.tensors[pool.outputs[0]].shape, [1, 8, 8, 1]);
    const quantize = g.operators[0];
    assert.deepEqual(g.tensors[quantize.inputs[0]].shape, [1, 16, 16, 8]);
    assert.deepEqual(g.tensors[quantize.outputs[0]].shape, [1, 16, 16, 1]);
    // the RESHAPE target is a constant INT32 [2] tensor, [-1, 144] (no ReshapeOptions stored)
    const reshape = g.operators[8];
    assert.equal(reshape.builtinOptions, null);
    const target = g.tensors[reshape.inputs[1]];
    assert.deepEqual(Array.from(new Int32Array(target.data!.slice().buffer)), [-1, 144]);
    assert.deepEqual(m.metadata.map((x) => x.name), ['min_runtime_version']);
    assert.equal(Buffer.from(m.metadata[0].data).toString('latin1').replace(/\0+$/, ''), '1.5.0');
  });
});

describe('tflite reader: hand-built files', () => {
  const FILE = 'hand.tflite';
  const parse = (spec: ModelSpec) => parseTflite(buildTflite(spec), FILE);

  it('reads a minimal model back exactly', () => {
    const spec = minimalSpec();
    spec.subgraphs[0].tensors[0].shapeSignature = [-1, 2];
    spec.metadata = [{ name: 'min_runtime_version', buffer: 1 }];
    const m = parse(spec);
    checkInvariants(m);
    assert.equal(m.description, 'hand-built');
    const g = m.subgraphs[0];
    assert.equal(g.name, 'main');
    assert.deepEqual(g.tensors.map((t) => [t.name, t.type, t.shape, t.buffer]), [
      ['x', 'FLOAT32', [1, 2], 0], ['relu', 'FLOAT32', [1, 2], 0], ['c', 'FLOAT32', [2], 1], ['y', 'FLOAT32', [1, 2], 0],
    ]);
    assert.deepEqual(g.tensors[0].shapeSignature, [-1, 2]);
    assert.equal(g.tensors[1].shapeSignature, undefined);
    assert.deepEqual(Array.from(new Float32Array(g.tensors[2].data!.slice().buffer)), [1, 2]);
    assert.deepEqual(g.operators.map((o) => o.opcode), [
      { builtin: 'RELU', builtinCode: 19, version: 1 }, { builtin: 'ADD', builtinCode: 0, version: 1 },
    ]);
    assert.deepEqual(g.operators[1].builtinOptions, { type: 'AddOptions', fusedActivationFunction: 'RELU', potScaleInt16: true });
    assert.deepEqual(m.metadata.map((x) => [x.name, x.data.length]), [['min_runtime_version', 8]]);
  });

  it('takes the larger of deprecated_builtin_code and builtin_code', () => {
    const spec = minimalSpec();
    spec.opcodes[0] = { deprecated: 127, builtin: 150, version: 2 }; // GELU above the byte range
    assert.deepEqual(parse(spec).subgraphs[0].operators[0].opcode, { builtin: 'GELU', builtinCode: 150, version: 2 });
    spec.opcodes[0] = { deprecated: 19 }; // old files: only the byte
    assert.equal(parse(spec).subgraphs[0].operators[0].opcode.builtin, 'RELU');
    spec.opcodes[0] = { builtin: 19 }; // no byte at all
    assert.equal(parse(spec).subgraphs[0].operators[0].opcode.builtin, 'RELU');
    spec.opcodes[0] = { builtin: 400 }; // newer than this reader: named by number
    assert.equal(parse(spec).subgraphs[0].operators[0].opcode.builtin, 'BUILTIN_400');
    spec.opcodes[0] = { deprecated: -3, builtin: -5 };
    refuses(() => parse(spec), FormatError, /^hand\.tflite: operator_codes\[0\]: builtin code -3 is negative/);
  });

  it('decodes the builtin options of the listed ops with the schema defaults', () => {
    const spec = minimalSpec();
    const ops = spec.subgraphs[0].operators;
    spec.opcodes.push({ builtin: 22 }, { builtin: 9 }, { builtin: 3 }, { builtin: 40 }, { builtin: 114 });
    const conv = (fields: (b: import('flatbuffers').Builder) => void) => ({ type: 1, table: table(6, fields) });
    // RESHAPE with new_shape; FULLY_CONNECTED keep_num_dims; CONV_2D with only padding; MEAN keep_dims; QUANTIZE
    spec.subgraphs[0].tensors.push({ name: 'r', type: 0, shape: [2], buffer: 0 }, { name: 'f', type: 0, shape: [2], buffer: 0 },
      { name: 'k', type: 0, shape: [2], buffer: 0 }, { name: 'm', type: 0, shape: [2], buffer: 0 }, { name: 'q', type: 9, shape: [2], buffer: 0 });
    ops.push(
      { opcode: 2, inputs: [3], outputs: [4], options: { type: 17, table: (b) => { const v = int32Vector(b, [2, -1]); return table(1, (bb) => bb.addFieldOffset(0, v, 0))(b); } } },
      { opcode: 3, inputs: [4, 2, -1], outputs: [5], options: { type: 8, table: table(4, (b) => { b.addFieldInt8(0, 3, 0); b.addFieldInt8(2, 1, 0); }) } },
      { opcode: 4, inputs: [5, 2], outputs: [6], options: conv((b) => b.addFieldInt8(0, 1, 0)) },
      { opcode: 5, inputs: [6, 2], outputs: [7], options: { type: 27, table: table(1, (b) => b.addFieldInt8(0, 1, 0)) } },
      { opcode: 6, inputs: [7], outputs: [8], options: { type: 89, table: table(0, () => undefined) } },
    );
    const g = parse(spec).subgraphs[0];
    assert.deepEqual(g.operators.slice(2).map((o) => o.builtinOptions), [
      { type: 'ReshapeOptions', newShape: [2, -1] },
      { type: 'FullyConnectedOptions', fusedActivationFunction: 'RELU6', weightsFormat: 'DEFAULT', keepNumDims: true, asymmetricQuantizeInputs: false },
      { type: 'Conv2DOptions', padding: 'VALID', strideW: 0, strideH: 0, fusedActivationFunction: 'NONE', dilationWFactor: 1, dilationHFactor: 1 },
      { type: 'ReducerOptions', keepDims: true },
      { type: 'QuantizeOptions' },
    ]);
    assert.deepEqual(g.operators[3].inputs, [4, 2, -1]);
    // the wrong options table for the op, and enum values outside the schema
    ops[3].options = { type: 5, table: table(6, () => undefined) };
    refuses(() => parse(spec), FormatError, /operator 3 \(FULLY_CONNECTED\) carries builtin options of union type Pool2DOptions, expected FullyConnectedOptions/);
    ops[3].options = { type: 8, table: table(4, () => undefined) };
    ops[4].options = conv((b) => b.addFieldInt8(0, 2, 0));
    refuses(() => parse(spec), FormatError, /operator 4 \(CONV_2D\): padding 2 is not one of SAME, VALID/);
    ops[4].options = conv((b) => b.addFieldInt8(3, 9, 0));
    refuses(() => parse(spec), FormatError, /fused activation 9 is not one of NONE/);
  });

  it('custom operators: FlexBuffer options, inline or after the FlatBuffer', () => {
    const spec = minimalSpec();
    const options = { channels_in: 64, padding: 1, pad_values: 1, strides: [2, 2], name: 'x', scale: 0.5, on: true };
    spec.opcodes.push({ deprecated: 32, custom: 'LceBconv2d' });
    spec.subgraphs[0].operators[0] = { opcode: 2, inputs: [0], outputs: [1], customOptions: flexbuffers.encode(options) };
    const op = parse(spec).subgraphs[0].operators[0];
    assert.deepEqual(op.opcode, { builtin: 'CUSTOM', builtinCode: 32, customCode: 'LceBconv2d', version: 1 });
    assert.deepEqual(op.customOptions, options);
    assert.equal(op.builtinOptions, null);

    const flex = flexbuffers.encode({ channels_in: 7 });
    spec.trailer = flex;
    spec.subgraphs[0].operators[0] = { opcode: 2, inputs: [0], outputs: [1], largeCustomOptions: { at: 0, size: flex.length } };
    assert.deepEqual(parse(spec).subgraphs[0].operators[0].customOptions, { channels_in: 7 });
    spec.subgraphs[0].operators[0].largeCustomOptions = { at: 0, size: flex.length + 1 };
    refuses(() => parse(spec), FormatError, /external custom options at bytes \d+\.\.\d+ lie beyond the end of the \d+-byte file/);

    spec.subgraphs[0].operators[0] = { opcode: 2, inputs: [0], outputs: [1], customOptions: flex, customOptionsFormat: 1 };
    refuses(() => parse(spec), UnsupportedError, /LceBconv2d\): custom options format 1 is not FlexBuffers/);
    spec.subgraphs[0].operators[0] = { opcode: 2, inputs: [0], outputs: [1], customOptions: flex.subarray(0, flex.length - 1) };
    refuses(() => parse(spec), FormatError, /operator 0 \(LceBconv2d\) custom options: FlexBuffer/);
    spec.opcodes[2] = { deprecated: 32 };
    refuses(() => parse(spec), FormatError, /operator_codes\[2\] is CUSTOM without a custom_code/);
  });

  it('external buffers (Buffer.offset/size): read from after the FlatBuffer, refused beyond the file', () => {
    const spec = minimalSpec();
    spec.trailer = f32Bytes([0, 0, 5, 6]);
    spec.buffers[1] = { external: { at: 8, size: 8 } };
    const t = parse(spec).subgraphs[0].tensors[2];
    assert.deepEqual(Array.from(new Float32Array(t.data!.slice().buffer)), [5, 6]);
    spec.buffers[1] = { external: { at: 12, size: 8 } };
    refuses(() => parse(spec), FormatError, /^hand\.tflite: buffers\[1\]: external data at bytes \d+\.\.\d+ lies beyond the end of the \d+-byte file/);
    spec.buffers[1] = { rawOffset: BigInt(2) ** BigInt(62), rawSize: BigInt(8) };
    refuses(() => parse(spec), FormatError, /buffers\[1\]: offset: 64-bit value 4611686018427387904 is out of range/);
    spec.buffers[1] = { data: f32Bytes([1, 2]), external: { at: 8, size: 8 } };
    refuses(() => parse(spec), FormatError, /buffers\[1\] has both inline data and an external offset/);
    spec.buffers[1] = { data: f32Bytes([1, 2]), rawOffset: BigInt(1), rawSize: BigInt(1) }; // offset <= 1: not external
    assert.equal(parse(spec).subgraphs[0].tensors[2].data!.length, 8);
  });

  it('quantization parameters: scale, zero point and axis; custom details refused', () => {
    const spec = minimalSpec();
    spec.subgraphs[0].tensors[2] = { name: 'c', type: 9, shape: [2], buffer: 1, quantization: { scale: [0.5, 0.25], zeroPoint: [BigInt(0), BigInt(-3)], quantizedDimension: 0 } };
    spec.buffers[1] = { data: new Uint8Array([1, 255]) };
    const t = parse(spec).subgraphs[0].tensors[2];
    assert.equal(t.type, 'INT8');
    assert.deepEqual(t.quantization, { scale: [0.5, 0.25], zeroPoint: [0, -3], quantizedDimension: 0 });
    spec.subgraphs[0].tensors[1].quantization = {}; // the empty table converters write for float tensors
    assert.equal(parse(spec).subgraphs[0].tensors[1].quantization, null);
    spec.subgraphs[0].tensors[2].quantization!.zeroPoint = [BigInt(2) ** BigInt(60)];
    refuses(() => parse(spec), FormatError, /zero_point: 64-bit value 1152921504606846976 is out of range/);
    spec.subgraphs[0].tensors[2].quantization = { scale: [1], detailsType: 1 };
    refuses(() => parse(spec), UnsupportedError, /^hand\.tflite: subgraph 0 'main', tensor 2 'c' uses custom quantization details/);
  });

  it('refuses what it does not represent: another schema version, sparse tensors', () => {
    const spec = minimalSpec();
    spec.version = 2;
    refuses(() => parse(spec), UnsupportedError, /^hand\.tflite: TFLite schema version 2; bitweave reads version 3$/);
    spec.version = 3;
    spec.subgraphs[0].tensors[2].sparse = true;
    refuses(() => parse(spec), UnsupportedError, /tensor 2 'c' is sparse; bitweave reads dense tensors only/);
  });

  it('refuses a wrong file identifier, a short file and a model without subgraphs', () => {
    const bytes = buildTflite(minimalSpec());
    bytes.set([0x54, 0x46, 0x4c, 0x32], 4); // "TFL2"
    refuses(() => parseTflite(bytes, FILE), FormatError, /^hand\.tflite: not a TFLite model: file identifier \(bytes 4\.\.7\) is "TFL2", expected "TFL3"$/);
    refuses(() => parseTflite(new TextEncoder().encode('{"not": "tflite"}'), FILE), FormatError, /file identifier \(bytes 4\.\.7\) is "t\\": ", expected/);
    refuses(() => parseTflite(new Uint8Array(5), FILE), FormatError, /^hand\.tflite: 5 bytes is too short for a \.tflite file$/);
    const spec = minimalSpec();
    spec.subgraphs = [];
    refuses(() => parse(spec), FormatError, /^hand\.tflite: the model has no subgraph$/);
  });

  it('refuses cycles and reads of tensors nobody wrote earlier', () => {
    const spec = minimalSpec();
    const ops = spec.subgraphs[0].operators;
    ops.reverse(); // ADD now reads relu before RELU writes it
    refuses(() => parse(spec), FormatError,
      /^hand\.tflite: subgraph 0 'main': operator 0 \(ADD\) reads tensor 1 'relu', written later by operator 1 \(RELU\): a cycle, or operators out of topological order$/);
    ops.reverse();
    ops[0].inputs = [1];
    refuses(() => parse(spec), FormatError, /operator 0 \(RELU\) reads its own output tensor 1 'relu' \(a cycle\)/);
    ops[0].inputs = [3]; // RELU reads ADD's output, ADD reads RELU's: a two-operator cycle
    refuses(() => parse(spec), FormatError, /operator 0 \(RELU\) reads tensor 3 'y', written later by operator 1 \(ADD\)/);
    ops[0].inputs = [0];
    spec.subgraphs[0].tensors.push({ name: 'orphan', type: 0, shape: [2], buffer: 0 });
    ops[1].inputs = [1, 4];
    refuses(() => parse(spec), FormatError, /operator 1 \(ADD\) reads tensor 4 'orphan', which is no graph input, constant or earlier operator's output/);
  });

  it('refuses indices out of range and tensors written twice', () => {
    const cases: [(s: ModelSpec) => void, RegExp][] = [
      [(s) => { s.subgraphs[0].operators[1].inputs = [1, 9]; }, /operator 1 \(ADD\) input refers to tensor 9, but the subgraph has 4 tensors/],
      [(s) => { s.subgraphs[0].operators[0].inputs = [-2]; }, /operator 0 \(RELU\) input refers to tensor -2/],
      [(s) => { s.subgraphs[0].operators[0].outputs = [-1]; }, /operator 0 \(RELU\) output refers to tensor -1/],
      [(s) => { s.subgraphs[0].outputs = [4]; }, /graph output refers to tensor 4/],
      [(s) => { s.subgraphs[0].inputs = [7]; }, /graph input refers to tensor 7/],
      [(s) => { s.subgraphs[0].operators[0].opcode = 5; }, /operator 0 uses operator code 5, but the model has 2/],
      [(s) => { s.subgraphs[0].tensors[2].buffer = 2; }, /tensor 2 'c' refers to buffer 2, but the model has 2/],
      [(s) => { s.subgraphs[0].tensors[2].shape = [3]; }, /tensor 2 'c': its buffer has 8 bytes, but shape \[3\] of FLOAT32 needs 12/],
      [(s) => { s.subgraphs[0].tensors[2].shape = [-2]; }, /tensor 2 'c': shape \[-2\] has a negative dimension/],
      [(s) => { s.subgraphs[0].tensors[2].type = 99; }, /tensor 2 'c': unknown tensor type 99/],
      [(s) => { s.subgraphs[0].operators[1].outputs = [1]; }, /tensor 1 'relu' is written by both operator 0 \(RELU\) and operator 1 \(ADD\)/],
      [(s) => { s.subgraphs[0].operators[0].outputs = [0]; }, /tensor 0 'x' is a graph input and also written by operator 0 \(RELU\)/],
      [(s) => { s.subgraphs[0].outputs = [1, 3]; s.subgraphs[0].operators.pop(); }, /graph output tensor 3 'y' is never written/],
      [(s) => { s.metadata = [{ name: 'm', buffer: 3 }]; }, /metadata\[0\] 'm' refers to buffer 3 of 2/],
    ];
    for (const [change, re] of cases) {
      const spec = minimalSpec();
      change(spec);
      refuses(() => parse(spec), FormatError, re);
    }
  });

  it('refuses vtables, tables and offsets outside the file', () => {
    const good = buildTflite(minimalSpec());
    const root = new DataView(good.buffer).getUint32(0, true);
    const at = (f: (v: DataView) => void) => { const b = good.slice(); f(new DataView(b.buffer)); return b; };
    refuses(() => parseTflite(at((v) => v.setUint32(0, good.length + 4, true)), FILE), FormatError, /^hand\.tflite: model \(table at byte \d+\): bytes \d+\.\.\d+ lie outside the \d+-byte file/);
    refuses(() => parseTflite(at((v) => v.setInt32(root, -100000, true)), FILE), FormatError, /model \(vtable at byte \d+\): bytes/);
    refuses(() => parseTflite(at((v) => v.setInt32(root, root + 1, true)), FILE), FormatError, /model \(vtable at byte -1\)/);
    const vtable = root - new DataView(good.buffer).getInt32(root, true);
    refuses(() => parseTflite(at((v) => v.setUint16(vtable, 3, true)), FILE), FormatError, /model: vtable at byte \d+ declares a size of 3 bytes/);
    refuses(() => parseTflite(at((v) => v.setUint16(vtable + 2, 2, true)), FILE), FormatError, /declares a table of 2 bytes/);
    refuses(() => parseTflite(at((v) => v.setUint16(vtable + 4 + 2 * 2, 4000, true)), FILE), FormatError, /model: field 2 at offset 4000 \(4 bytes\) lies outside its \d+-byte table/);
    const subgraphsField = root + new DataView(good.buffer).getUint16(vtable + 4 + 2 * 2, true);
    refuses(() => parseTflite(at((v) => v.setUint32(subgraphsField, 0x7fffffff, true)), FILE), FormatError, /^hand\.tflite: model: subgraphs: bytes \d+\.\.\d+ lie outside/);
  });
});

describe('FlexBuffers decoder', () => {
  const decode = (b: Uint8Array) => decodeFlexBuffer(b, 'f.tflite', 'options');

  /** Values the package's encoder writes correctly: it stores a float32-exact float into a
   *  64-bit slot as 32 bits, so keep every container at most 32 bits wide. */
  const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
    leaf: fc.oneof(fc.constant(null), fc.boolean(), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      // (integral floats are encoded as integers: keep them within 32 bits too)
      fc.float({ noNaN: true, min: -1e9, max: 1e9 }).map((x) => (Object.is(x, -0) ? 0 : x)), fc.string({ maxLength: 20 })),
    node: fc.oneof({ depthSize: 'small' }, tie('leaf'), fc.array(tie('node'), { maxLength: 6 }),
      fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }).filter((k) => !k.includes('\0')), tie('node'), { maxKeys: 6 })),
  })).node;

  it('decodes what the flatbuffers package encodes (maps, vectors, typed vectors, scalars of every width)', () => {
    // fast-check's dictionaries may have a null prototype; the decoder returns plain objects
    const plain = (v: unknown): unknown => (Array.isArray(v) ? v.map(plain)
      : v !== null && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)])) : v);
    fc.assert(fc.property(value, (v) => { assert.deepEqual(decode(flexbuffers.encode(v)), plain(v)); }), { seed: 20, numRuns: 400 });
    for (const v of [2 ** 40, -(2 ** 40), 2 ** 53 - 1, 0.1, [0.1, 2 ** 40], { a: 0.1, b: -(2 ** 33) }, [1, 2], [1, 2, 3], [1.5, 2.5, 3.5, 4.5], [1, 2, 3, 4, 5], 'x'.repeat(300), [true, false], ['ab', 'c']]) {
      assert.deepEqual(decode(flexbuffers.encode(v)), v);
    }
  });

  it('reads a float 0.0 as 0 (the package\'s toObject gives null) and a __proto__ key as data', () => {
    assert.deepEqual(decode(flexbuffers.encode({ f: 0.5, g: 0 })), { f: 0.5, g: 0 });
    const zero = flexbuffers.builder();
    zero.startMap(); zero.addKey('f'); zero.addFloat(0); zero.end();
    const z = zero.finish();
    assert.deepEqual(decode(z), { f: 0 });
    const proto = decode(flexbuffers.encode(JSON.parse('{"__proto__": 1}'))) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(proto), Object.prototype);
    assert.deepEqual(Object.keys(proto), ['__proto__']);
  });

  it('refuses integers beyond 2^53, self-referencing vectors, unsorted keys and truncations, with one FormatError each', () => {
    assert.equal(decode(flexbuffers.encode(2 ** 60)), 2 ** 60); // large, but exact
    refuses(() => decode(flexbuffers.encode(BigInt(2) ** BigInt(60) + BigInt(1))), FormatError,
      /^f\.tflite: options: FlexBuffer integer 1152921504606846977 does not fit a double exactly$/);
    // an untyped vector (type 10) whose single element points at the vector itself, 64 times deep and more
    const selfRef = new Uint8Array([1, 0, 10 << 2, 2, 10 << 2, 1]);
    refuses(() => decode(selfRef), FormatError, /nests deeper than 64 levels/);
    const m = flexbuffers.encode({ a: 1, b: 2 });
    const swapped = m.slice();
    const ia = Buffer.from(swapped).indexOf('a\0'), ib = Buffer.from(swapped).indexOf('b\0');
    swapped[ia] = 0x62; swapped[ib] = 0x61;
    refuses(() => decode(swapped), FormatError, /map at byte \d+ has keys out of order or repeated \('b', 'a'\)/);
    refuses(() => decode(new Uint8Array([1, 2])), FormatError, /is 2 bytes, too short for a root value/);
    refuses(() => decode(new Uint8Array([0, 4, 3])), FormatError, /root width 3 is not 1, 2, 4 or 8/);
    refuses(() => decode(new Uint8Array([0, 30 << 2, 1])), FormatError, /unknown value type/);
    const big = flexbuffers.encode({ channels_in: 64, padding: 0, strides: [1, 2], name: 'conv' });
    for (let n = 0; n < big.length; n++) {
      try { decode(big.subarray(0, n)); } catch (e) { if (!(e instanceof FormatError)) throw e; }
    }
  });
});

describe('tflite reader: truncation and mutation fuzz', () => {

  type Outcome = 'ok' | 'format' | 'unsupported';
  function attempt(bytes: Uint8Array, what: string): Outcome {
    let m: TfliteModel;
    try {
      m = parseTflite(bytes, 'fuzz.tflite');
    } catch (e) {
      if (e instanceof FormatError || e instanceof UnsupportedError) {
        if (/[\r\n]/.test(e.message) || !e.message.startsWith('fuzz.tflite')) assert.fail(`${what}: bad message ${JSON.stringify(e.message)}`);
        return e instanceof FormatError ? 'format' : 'unsupported';
      }
      assert.fail(`${what}: ${e instanceof Error ? e.stack : String(e)}`);
    }
    try {
      checkInvariants(m);
    } catch (e) {
      assert.fail(`${what}: parsed, but ${e instanceof Error ? e.message : String(e)}`);
    }
    return 'ok';
  }

  it('every truncation of every fixture is refused with a FormatError', () => {
    let n = 0;
    for (const name of fixtureNames) {
      const { bytes } = fixture(name);
      const step = Math.max(1, Math.floor(bytes.length / 400));
      for (let len = 0; len < bytes.length; len += len < 64 || len > bytes.length - 64 ? 1 : step) {
        // the converter leaves no slack: every cut, even of the last byte, removes bytes that an
        // offset or a length points at
        assert.equal(attempt(bytes.subarray(0, len), `${name} cut at ${len}`), 'format', `${name} cut at ${len}`);
        n++;
      }
    }
    assert.ok(n > 2000, `${n} truncations`);
  });

  it('a seeded fuzz of byte mutations: every failure is a one-line BitweaveError, every success is consistent', function () {
    const SEED = 0x7f1173;
    const ITERATIONS = 4000;
    const random = rng(SEED);
    const files = fixtureNames.map((n) => {
      const { bytes, file } = fixture(n);
      // the constant data regions: mutations there change numbers only, so aim most elsewhere
      const data = parseTflite(bytes, file).buffers.filter((b) => b.length > 0).map((b) => [b.byteOffset - bytes.byteOffset, b.byteOffset - bytes.byteOffset + b.length]);
      return { name: n, bytes: new Uint8Array(bytes), data };
    });
    const counts: Record<Outcome, number> = { ok: 0, format: 0, unsupported: 0 };
    const started = process.hrtime.bigint();
    for (let i = 0; i < ITERATIONS; i++) {
      const f = files[i % files.length];
      const b = f.bytes.slice();
      const edits = 1 + Math.floor(random() * 4);
      for (let e = 0; e < edits; e++) {
        let pos = Math.floor(random() * b.length);
        for (let tries = 0; tries < 8 && random() < 0.9 && f.data.some(([s, t]) => pos >= s && pos < t); tries++) pos = Math.floor(random() * b.length);
        const kind = random();
        if (kind < 0.4) b[pos] ^= 1 << Math.floor(random() * 8);
        else if (kind < 0.6) b[pos] = Math.floor(random() * 256);
        else if (kind < 0.75) b[pos] = random() < 0.5 ? 0 : 0xff;
        else { // a whole little-endian word: offsets, lengths and vtable entries
          const at = pos & ~3;
          const v = [0, 1, 0xffffffff, 0x7fffffff, b.length, Math.floor(random() * 2 ** 32)][Math.floor(random() * 6)];
          if (at + 4 <= b.length) new DataView(b.buffer).setUint32(at, v >>> 0, true);
        }
      }
      counts[attempt(b, `fuzz seed ${SEED} iteration ${i} (${f.name})`)]++;
    }
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    console.log(`      ${ITERATIONS} mutations in ${ms.toFixed(0)} ms: ${counts.ok} parsed, ${counts.format} FormatError, ${counts.unsupported} UnsupportedError`);
    assert.ok(counts.format > ITERATIONS / 4, 'most mutations hit the structure');
    assert.ok(counts.ok > 0, 'some mutations only change numbers');
  });

  it('readTflite: a missing file and a directory are FormatErrors', () => {
    refuses(() => readTflite(path.join(FIXTURES, 'nope.tflite')), FormatError, /nope\.tflite: cannot read \(no such file or directory/);
    refuses(() => readTflite(FIXTURES), FormatError, /not a regular file/);
  });
});
