/**
 * Larq importer (LCE-converted .tflite): every fixture of test/fixtures/larq (made by LCE's
 * real converter, outputs from LCE's interpreter) imported, compiled and run on the
 * reference and native backends; bad inputs through the CLI.
 *
 * Tolerance: |ours - LCE| <= 1e-4 absolute (outputs reach 6.4). Binary layers are
 * integer-exact on both sides, and the float map after them (dot·multiplier + bias) is
 * computed in a different but equally exact-input order: LCE folds the back-transformation
 * into a negated multiplier and a bias computed in double, and TFLite's float conv, dense
 * and mean sum in their own order, so results differ by float32 rounding (measured: at most
 * 5e-5, the ResNet block; 2e-6 elsewhere). Classifications must agree exactly (argmax).
 */
import { argmaxRow, softmaxRows } from '../../host/runtime/classify';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { compile } from '../../host/compile/compile';
import { CompiledModel, isDeviceOp, PAD_ZERO } from '../../host/compile/model';
import { packagePath } from '../../host/core/paths';
import { UnsupportedError } from '../../host/core/errors';
import { readNpy, writeNpy } from '../../host/data/npy';
import { decodeBnn, encodeBnn, packBnnContainer, unpackBnnContainer } from '../../host/format/bnn';
import { importLarq } from '../../host/import/larq';
import { ConvolutionNode } from '../../host/ir/graph';
import { nativeEngine } from '../../host/backends/native/ffi';
import { Session } from '../../host/runtime/session';
import { hlsLib } from '../../host/backends/hls-csim/ffi';
import { rtlInfo } from '../../host/backends/verilator/ffi';
import { OpenCLUnavailableError, platforms } from '../../host/opencl';
import { bitsOf } from '../helpers/native-models';
import { encodeSegment } from '../../host/array/program';
import { DEFAULT_ARRAY, OP_IN_SIGNED } from '../../host/array/params';
import { requireOrSkip } from '../helpers/skip';
import { assertUserError, bitweave, scratchDir } from '../helpers/run';
import { buildTflite, ModelSpec } from '../helpers/tflite-build';

const FIXTURES = packagePath('test', 'fixtures', 'larq');
const TOLERANCE = 1e-4;

interface Fixture {
  name: string;
  /** The output is a class distribution (softmax): predictions must agree. */
  classifies: boolean;
}

const ALL: Fixture[] = [
  { name: 'bconv_same_pad1', classifies: false },
  { name: 'bconv_same_pad0', classifies: false },
  { name: 'bconv_valid_stride2', classifies: false },
  { name: 'bconv_grouped', classifies: false },
  { name: 'resnet_block', classifies: true },
  { name: 'bdense', classifies: true },
  { name: 'pooling', classifies: true },
  { name: 'depthwise', classifies: true },
];

/** NHWC images -> NCHW (bitweave's input order). */
function toNCHW(x: Float32Array, [N, H, W, C]: number[]): Float32Array {
  const y = new Float32Array(x.length);
  for (let n = 0; n < N; n++)
    for (let h = 0; h < H; h++)
      for (let w = 0; w < W; w++)
        for (let c = 0; c < C; c++) y[((n * C + c) * H + h) * W + w] = x[((n * H + h) * W + w) * C + c];
  return y;
}



async function logits(m: CompiledModel, backend: string, input: Float32Array): Promise<Float32Array> {
  const s = await Session.create(m, { backend });
  try {
    return (await s.run(input)).logits;
  } finally {
    await s.close();
  }
}

/** Compare with LCE's output.npy (NHWC maps flatten in the same (H, W, C) order as ours). */
function compareWithLce(f: Fixture, m: CompiledModel, got: Float32Array, want: Float32Array, images: number): number {
  const ours = m.softmax ? softmaxRows(got, images) : got;
  assert.equal(ours.length, want.length, `${f.name}: output size`);
  let maxDiff = 0;
  for (let i = 0; i < want.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ours[i] - want[i]));
  assert.ok(maxDiff <= TOLERANCE, `${f.name}: max |ours - LCE| = ${maxDiff} > ${TOLERANCE}`);
  if (f.classifies) {
    const per = want.length / images;
    for (let n = 0; n < images; n++) assert.equal(argmaxRow(ours, n, per), argmaxRow(want, n, per), `${f.name}: image ${n} prediction`);
  }
  return maxDiff;
}

describe('Larq importer (LCE .tflite)', () => {
  let haveNative = true;
  before(() => {
    try {
      nativeEngine();
    } catch {
      haveNative = false;
      console.log('      (native library not available: native comparisons skipped)');
    }
  });

  for (const f of ALL) {
    it(`${f.name}: within ${TOLERANCE} of LCE's interpreter on reference and native, bit-identical between them`, async () => {
      const dir = path.join(FIXTURES, f.name);
      const x = readNpy(path.join(dir, 'input.npy'));
      const y = readNpy(path.join(dir, 'output.npy'));
      assert.equal(x.dtype, 'float32');
      assert.equal(y.dtype, 'float32');
      const { graph } = importLarq(path.join(dir, 'model.tflite'));
      const m = compile(graph);
      const input = toNCHW(x.data as Float32Array, x.shape);
      const images = x.shape[0];
      const ref = await logits(m, 'reference', input);
      const diff = compareWithLce(f, m, ref, y.data as Float32Array, images);
      console.log(`      ${f.name}: max |ref - LCE| = ${diff.toExponential(2)}`);
      if (haveNative) assert.deepEqual(bitsOf(await logits(m, 'native', input)), bitsOf(ref), `${f.name}: native differs from reference`);
    });
  }

  // the array backends: every fixture bit-identical to the reference (zero-padded layers on the array)
  const arrays: [string, () => unknown, (new (...a: never[]) => Error) | undefined][] = [
    ['opencl', () => platforms(), OpenCLUnavailableError],
    ['hls-csim', () => hlsLib(), undefined],
    ['verilator', () => rtlInfo(), undefined],
  ];
  for (const [backend, probe, kind] of arrays) {
    it(`${backend}: every fixture's logits bit-identical to the reference`, async function () {
      if (!requireOrSkip(this, probe, kind)) return;
      for (const f of ALL) {
        const dir = path.join(FIXTURES, f.name);
        const x = readNpy(path.join(dir, 'input.npy'));
        const m = compile(importLarq(path.join(dir, 'model.tflite')).graph);
        const input = toNCHW(x.data as Float32Array, x.shape);
        const s = await Session.create(m, { backend });
        try {
          assert.deepEqual(bitsOf((await s.run(input)).logits), bitsOf(await logits(m, 'reference', input)), `${backend}: ${f.name}`);
          // every binary layer, zero-padded ones included, ran on the array
          const bconvs = m.ops.flatMap((op, i) => (op.op === 'bconv' ? [i] : []));
          const where = new Map(s.stats().layers.map((l) => [l.op, l.where]));
          assert.ok(bconvs.every((i) => where.get(i) === 'device'), `${backend}: ${f.name}: ${bconvs.map((i) => where.get(i)).join(' ')}`);
        } finally {
          await s.close();
        }
      }
    });
  }

  for (const [name, count] of [['pooling', 1], ['depthwise', 2]] as const) it(`${name}: a depthwise conv imports as a grouped conv (numGroup = C), bit-identical to the zero-filled dense conv it used to lower to`, async () => {
    const dir = path.join(FIXTURES, name);
    const x = readNpy(path.join(dir, 'input.npy'));
    const input = toNCHW(x.data as Float32Array, x.shape);
    const { graph } = importLarq(path.join(dir, 'model.tflite'));
    const dw = graph.nodes.filter((n): n is ConvolutionNode => n.op === 'Convolution' && (n.numGroup ?? 1) > 1);
    assert.equal(dw.length, count, 'the fixture\'s DepthwiseConv2D layers');
    if (name === 'depthwise') {
      // stride 2 SAME on 16 (TF pads 0 before, 1 after): 3x3 widened to 4x4, pad 1, depth multiplier 2;
      // dilation 2: 3x3 widened to 5x5 with zero taps
      assert.deepEqual(dw.map((n) => [n.kernel, n.stride, n.pad, n.numGroup, n.numFilter]), [[[4, 4], [2, 2], [1, 1], 8, 16], [[5, 5], [1, 1], [2, 2], 8, 8]]);
    }
    // the same graph with each grouped conv spelled out as a dense one: weights 0 outside the group
    const dense = {
      ...graph, nodes: graph.nodes.map((n) => {
        if (n.op !== 'Convolution' || (n.numGroup ?? 1) === 1) return n;
        const g = n.numGroup!, O = n.numFilter, kk = n.kernel[0] * n.kernel[1];
        const cg = n.weight.length / (O * kk), C = cg * g, og = O / g;
        const weight = new Float32Array(O * C * kk);
        for (let o = 0; o < O; o++) weight.set(n.weight.subarray(o * cg * kk, (o + 1) * cg * kk), (o * C + Math.floor(o / og) * cg) * kk);
        return { ...n, numGroup: undefined, weight };
      }),
    };
    const m = compile(graph);
    const conv = m.ops.find((op) => op.op === 'conv2d' && op.groups > 1);
    assert.ok(conv?.op === 'conv2d' && conv.groups === m.tensors[conv.in].c, 'depthwise: one group per channel');
    const want = await logits(compile(dense), 'reference', input);
    assert.deepEqual(bitsOf(await logits(m, 'reference', input)), bitsOf(want));
    if (haveNative) assert.deepEqual(bitsOf(await logits(m, 'native', input)), bitsOf(want));
  });

  it('zero padding imports as PAD_ZERO convs that the partition puts on the array (2-bit signed layers there); +1-padded and VALID convs too', () => {
    const pad0 = compile(importLarq(path.join(FIXTURES, 'bconv_same_pad0', 'model.tflite')).graph);
    const zero = pad0.ops.flatMap((op, i) => (op.op === 'bconv' && op.padBit === PAD_ZERO ? [i] : []));
    assert.equal(zero.length, 3, 'the 3x3 conv and the two halves of the dilated one'); // dilation 2: a 5x5 ternary kernel
    assert.ok(zero.every((i) => pad0.segments.some((s) => s.kind === 'device' && i >= s.start && i < s.end)), 'in device segments');
    const devices = pad0.segments.flatMap((s, si) => (s.kind === 'device' ? [si] : []));
    for (const si of devices) {
      const prog = encodeSegment(pad0, si, DEFAULT_ARRAY);
      assert.ok(prog.layerDescriptors.every((d) => d.IN_PLANES === 2 && (d.OPCODE & OP_IN_SIGNED) !== 0 && d.PAD_BIT === 0), `segment ${si}: zero-padded convs as 2-bit signed layers`);
    }
    for (const name of ['bconv_same_pad1', 'bconv_valid_stride2', 'pooling']) {
      const m = compile(importLarq(path.join(FIXTURES, name, 'model.tflite')).graph);
      const b = m.ops.filter((op) => op.op === 'bconv');
      assert.ok(b.length > 0 && b.every((op) => op.op === 'bconv' && op.padBit !== PAD_ZERO && isDeviceOp(op)), name);
    }
  });

  it('a zero-padded model round-trips through .bnn as format 2.1 (earlier headers refused)', async () => {
    const m = compile(importLarq(path.join(FIXTURES, 'bconv_same_pad0', 'model.tflite')).graph);
    const bytes = encodeBnn(m);
    assert.deepEqual([bytes.readUInt32LE(8), bytes.readUInt32LE(12)], [2, 1]);
    const back = decodeBnn(bytes, 'pad0.bnn');
    const x = readNpy(path.join(FIXTURES, 'bconv_same_pad0', 'input.npy'));
    const input = toNCHW(x.data as Float32Array, x.shape);
    assert.deepEqual(bitsOf(await logits(back, 'reference', input)), bitsOf(await logits(m, 'reference', input)));
    const c = unpackBnnContainer(bytes, 'pad0.bnn');
    const as20 = packBnnContainer(c.json, c.blobs, 0, 2);
    assert.throws(() => decodeBnn(as20, 'pad0.bnn'), /pad0\.bnn: format 2\.0 cannot hold zero-padded binary convolutions/);
  });

  it('bit outputs and LceBMaxPool2d fold into the next binary layer\'s thresholds (bits stay in the array)', () => {
    for (const name of ['bconv_same_pad1', 'bconv_valid_stride2', 'pooling']) {
      const m = compile(importLarq(path.join(FIXTURES, name, 'model.tflite')).graph);
      const thresholded = m.ops.filter((op) => op.op === 'bconv' && op.epilogue.kind === 'threshold');
      assert.ok(thresholded.length >= 1, `${name}: a threshold epilogue`);
    }
    const pooled = compile(importLarq(path.join(FIXTURES, 'pooling', 'model.tflite')).graph);
    assert.ok(pooled.ops.some((op) => op.op === 'bconv' && op.pool !== null), 'the binary max pool runs on the integers in the array');
  });

  describe('bad input: one line, exit 1', () => {
    const tmp = scratchDir('larq-import', true);
    const write = (name: string, bytes: Uint8Array) => {
      const file = path.join(tmp, name);
      fs.writeFileSync(file, bytes);
      return file;
    };
    /** x [1,2,2,1] float -> op 0 -> t1 -> op 1 -> t2, with the given opcodes and tensor types. */
    const twoOps = (opcodes: ModelSpec['opcodes'], t1Type = 2, quantized = false): ModelSpec => ({
      opcodes,
      buffers: [{}],
      subgraphs: [{
        tensors: [
          { name: 'x', type: 0, shape: [1, 2, 2, 1], buffer: 0 },
          { name: 't1', type: t1Type, shape: [1, 2, 2, 1], buffer: 0, ...(quantized ? { quantization: { scale: [0.05], zeroPoint: [BigInt(0)] } } : {}) },
          { name: 't2', type: 0, shape: [1, 2, 2, 1], buffer: 0 },
        ],
        inputs: [0], outputs: [2],
        operators: [{ opcode: 0, inputs: [0], outputs: [1] }, { opcode: 1, inputs: [1], outputs: [2] }],
      }],
    });

    it('a .tflite without LCE operators', () => {
      const spec = twoOps([{ deprecated: 19 }, { deprecated: 19 }], 0); // RELU, RELU
      const file = write('plain.tflite', buildTflite(spec));
      assert.throws(() => importLarq(file), (e: unknown) => e instanceof UnsupportedError);
      assertUserError(bitweave(['inspect', file]), /plain\.tflite: no Larq Compute Engine operator .*not an LCE-converted Larq model/);
    });

    it('an unknown custom operator', () => {
      const file = write('custom.tflite', buildTflite(twoOps([{ deprecated: 32, custom: 'LceQuantize' }, { deprecated: 32, custom: 'MyFancyOp' }])));
      assertUserError(bitweave(['inspect', file]), /custom\.tflite: operator 1: unknown custom operator 'MyFancyOp'/);
    });

    it('an int8-quantised tensor', () => {
      // QUANTIZE (114) to int8, then LceQuantize reading it
      const file = write('int8.tflite', buildTflite(twoOps([{ deprecated: 114, builtin: 114 }, { deprecated: 32, custom: 'LceQuantize' }], 9, true)));
      assertUserError(bitweave(['inspect', file]), /int8\.tflite: operator 0 \(QUANTIZE\): tensor 't1' is INT8 quantised; .*int8-quantised tensors are not supported/);
    });

    it('a truncated file', () => {
      const bytes = fs.readFileSync(path.join(FIXTURES, 'resnet_block', 'model.tflite'));
      const file = write('truncated.tflite', bytes.subarray(0, Math.floor(bytes.length / 2)));
      assertUserError(bitweave(['inspect', file]), /truncated\.tflite: /);
    });

    it('an operator the importer does not map', () => {
      const spec = twoOps([{ deprecated: 32, custom: 'LceQuantize' }, { deprecated: 14, builtin: 14 }]); // LOGISTIC
      spec.subgraphs[0].tensors[1].type = 0;
      spec.subgraphs[0].operators[0] = { opcode: 1, inputs: [0], outputs: [1] };
      spec.subgraphs[0].operators[1] = { opcode: 0, inputs: [1], outputs: [2] };
      spec.subgraphs[0].tensors[2].type = 2;
      const file = write('logistic.tflite', buildTflite(spec));
      assertUserError(bitweave(['inspect', file]), /logistic\.tflite: operator 0 \(LOGISTIC\): operator not supported by the Larq importer/);
    });
  });

  it('bitweave run on a .tflite: NCHW .npy in, the same logits as the Session', async () => {
    const dir = path.join(FIXTURES, 'pooling');
    const x = readNpy(path.join(dir, 'input.npy'));
    const tmp = scratchDir('larq-run', true);
    const input = path.join(tmp, 'x.npy');
    const [N, H, W, C] = x.shape;
    writeNpy(input, { dtype: 'float32', shape: [N, C, H, W], data: toNCHW(x.data as Float32Array, x.shape) });
    const out = path.join(tmp, 'logits.npy');
    const r = bitweave(['run', path.join(dir, 'model.tflite'), '--input', input, '--output', out, '--json', '--backend', 'reference']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).predictions.length, N);
    const m = compile(importLarq(path.join(dir, 'model.tflite')).graph);
    assert.deepEqual(bitsOf(readNpy(out).data as Float32Array), bitsOf(await logits(m, 'reference', toNCHW(x.data as Float32Array, x.shape))));
  });
});
