/**
 * `bitweave eval` and `bitweave run` on a trained Larq model: test/fixtures/larq/fashion_bnn,
 * a small BNN that scripts/fixtures/larq/make_fixtures.py trained on Fashion-MNIST and
 * converted with LCE (float conv, a +1-padded and two zero-padded binary convs with
 * max-pools, a binary dense layer, a float dense layer, softmax). Its manifest holds LCE's
 * interpreter predictions on all 10,000 test images and the labels; output.npy LCE's
 * outputs on the first 200, whose IDX bytes are input.npy (uint8 [200, 28, 28]).
 *
 * Through the CLI, as a user runs it: eval on the first N test images on every backend
 * (N = 200, the recorded images; all 10,000 under BITWEAVE_LONG=1), plus native on all
 * 10,000 always (a few seconds).
 *  - predictions equal LCE's, image by image, and so does the accuracy;
 *  - native, opencl (PoCL), hls-csim, verilator and axi-sim give logits bit-identical to the
 *    reference (eval --output), the array backends with every binary layer on the array
 *    (axi-sim, whose array writes 1-bit outputs only, cut before each zero-padded conv);
 *  - the reference's probabilities are within 1e-4 of LCE's on the recorded images. LCE
 *    records the model's last op (softmax), bitweave returns the logits before it (softmaxed
 *    here in double). The binary layers are integer-exact on both sides; the float first
 *    conv, the dense layer after the binary one and the softmax sum in a different order,
 *    so the two differ by float32 rounding (measured: below 1e-6). The argmax must match.
 */
import { argmaxRow, softmaxRows } from '../../host/runtime/classify';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { compile } from '../../host/compile/compile';
import { packagePath } from '../../host/core/paths';
import { loadDataset } from '../../host/data/datasets';
import { readNpy } from '../../host/data/npy';
import { importLarq } from '../../host/import/larq';
import { nativeEngine } from '../../host/backends/native/ffi';
import { hlsLib } from '../../host/backends/hls-csim/ffi';
import { rtlInfo } from '../../host/backends/verilator/ffi';
import { axiInfo } from '../../host/backends/axi-sim/ffi';
import { OpenCLUnavailableError, platforms } from '../../host/opencl';
import { bitsOf } from '../helpers/native-models';
import { requireOrSkip } from '../helpers/skip';
import { assertSuccess, assertUserError, bitweave, scratchDir } from '../helpers/run';

const DIR = packagePath('test', 'fixtures', 'larq', 'fashion_bnn');
const MODEL = path.join(DIR, 'model.tflite');
const TOLERANCE = 1e-4;
const LONG = process.env.BITWEAVE_LONG === '1';
const TEST_SET = 10000;

interface Manifest {
  num_images: number;
  input: { shape: number[]; dtype: string };
  evaluation: { images: number; lce_correct: number; lce_accuracy: number; lce_predictions: string; labels: string };
}
const manifest: Manifest = JSON.parse(fs.readFileSync(path.join(DIR, 'manifest.json'), 'utf8'));
const RECORDED = manifest.num_images;
const lcePred = Array.from(manifest.evaluation.lce_predictions, Number);
const labels = Array.from(manifest.evaluation.labels, Number);
/** Images every backend evaluates. */
const N = LONG ? TEST_SET : RECORDED;


function predictions(logits: Float32Array, images: number): number[] {
  const per = logits.length / images;
  return Array.from({ length: images }, (_, i) => argmaxRow(logits, i, per));
}


/** Max |softmax(ours) - LCE| over the first `rows` recorded images; their argmax must agree. */
function compareWithLce(logits: Float32Array, rows: number, what: string): number {
  const lce = readNpy(path.join(DIR, 'output.npy')).data as Float32Array;
  const ours = softmaxRows(logits.subarray(0, rows * 10), rows);
  let maxDiff = 0;
  for (let i = 0; i < rows * 10; i++) maxDiff = Math.max(maxDiff, Math.abs(ours[i] - lce[i]));
  assert.ok(maxDiff <= TOLERANCE, `${what}: max |ours - LCE| = ${maxDiff} > ${TOLERANCE}`);
  for (let n = 0; n < rows; n++) assert.equal(argmaxRow(ours, n, 10), argmaxRow(lce, n, 10), `${what}: image ${n}`);
  return maxDiff;
}

interface EvalResult { json: { backend: string; images: number; correct: number; accuracy: number; layers: { op: number; where: string }[]; notes?: string[] }; logits: Float32Array }

const tmp = scratchDir('larq-eval', true);

const evals = new Map<string, EvalResult>();

/** `bitweave eval MODEL --dataset fashion-mnist --limit n --backend b --json --output …` (once per backend and n). */
function evalCli(backend: string, n: number): EvalResult {
  const key = `${backend} ${n}`;
  if (!evals.has(key)) evals.set(key, evalOnce(backend, n));
  return evals.get(key)!;
}

function evalOnce(backend: string, n: number): EvalResult {
  const out = path.join(tmp, `${backend}-${n}.npy`);
  const r = bitweave(['eval', MODEL, '--dataset', 'fashion-mnist', '--limit', String(n), '--backend', backend, '--json', '--output', out]);
  assertSuccess(r);
  const json = JSON.parse(r.stdout);
  const y = readNpy(out);
  assert.deepEqual([y.dtype, y.shape], ['float32', [n, 10]], `${backend}: logits file`);
  assert.equal(json.images, n);
  return { json, logits: y.data as Float32Array };
}

/** LCE's correct count on the first n test images (from the manifest). */
const lceCorrect = (n: number) => lcePred.slice(0, n).filter((p, i) => p === labels[i]).length;

describe('bitweave eval on a trained Larq model (fashion_bnn: LCE .tflite, Fashion-MNIST)', () => {
  let reference: EvalResult | undefined;
  const referenceEval = (): EvalResult => (reference = evalCli('reference', N));
  const needDataset = (ctx: Mocha.Context) => requireOrSkip(ctx, () => loadDataset('fashion-mnist', { limit: 1 }));

  it('the fixture is consistent: 10,000 LCE predictions and labels, output.npy\'s argmax their prefix, LCE\'s accuracy their count', () => {
    assert.equal(lcePred.length, TEST_SET);
    assert.equal(labels.length, TEST_SET);
    assert.ok(lcePred.every((p) => p >= 0 && p <= 9) && labels.every((l) => l >= 0 && l <= 9));
    assert.equal(lceCorrect(TEST_SET), manifest.evaluation.lce_correct);
    assert.equal(manifest.evaluation.lce_correct / TEST_SET, manifest.evaluation.lce_accuracy);
    const y = readNpy(path.join(DIR, 'output.npy'));
    assert.deepEqual(y.shape, [RECORDED, 10]);
    assert.deepEqual(predictions(y.data as Float32Array, RECORDED), lcePred.slice(0, RECORDED));
    assert.ok(manifest.evaluation.lce_accuracy > 0.8, `a trained model: LCE accuracy ${manifest.evaluation.lce_accuracy}`);
  });

  it(`reference: eval on the first ${N} test images gives LCE's predictions and accuracy, probabilities within ${TOLERANCE}`, function () {
    if (!needDataset(this)) return;
    const ds = loadDataset('fashion-mnist', { limit: N });
    assert.deepEqual(Array.from(ds.labels), labels.slice(0, N), 'the manifest\'s labels are the dataset\'s');
    const { json, logits } = referenceEval();
    assert.deepEqual(predictions(logits, N), lcePred.slice(0, N));
    assert.equal(json.correct, lceCorrect(N));
    assert.equal(json.accuracy, lceCorrect(N) / N);
    const diff = compareWithLce(logits, RECORDED, 'reference');
    console.log(`      reference: ${json.correct}/${N} correct (LCE ${lceCorrect(N)}), max |p - LCE| = ${diff.toExponential(2)}`);
  });

  it('native: eval on all 10,000 test images gives LCE\'s predictions, image by image, and its accuracy', function () {
    if (!needDataset(this) || !requireOrSkip(this, () => nativeEngine())) return;
    const { json, logits } = evalCli('native', TEST_SET);
    const ours = predictions(logits, TEST_SET);
    const differ = ours.flatMap((p, i) => (p === lcePred[i] ? [] : [i]));
    assert.deepEqual(differ, [], `images whose prediction differs from LCE's: ${differ.slice(0, 20).join(', ')}`);
    assert.equal(json.correct, manifest.evaluation.lce_correct);
    assert.equal(json.accuracy, manifest.evaluation.lce_accuracy);
    console.log(`      native: accuracy ${(json.accuracy * 100).toFixed(2)}% on ${TEST_SET} (LCE ${(manifest.evaluation.lce_accuracy * 100).toFixed(2)}%)`);
    if (reference) assert.deepEqual(bitsOf(logits.subarray(0, N * 10)), bitsOf(reference.logits), 'native: the reference\'s logits');
  });

  const bconvs = compile(importLarq(MODEL).graph).ops.flatMap((op, i) => (op.op === 'bconv' ? [i] : []));
  const backends: [string, () => unknown, (new (...a: never[]) => Error) | undefined, boolean][] = [
    ['native', () => nativeEngine(), undefined, false],
    ['opencl', () => platforms(), OpenCLUnavailableError, true],
    ['hls-csim', () => hlsLib(), undefined, true],
    ['verilator', () => rtlInfo(), undefined, true],
    ['axi-sim', () => axiInfo(), undefined, true],
  ];
  for (const [backend, probe, kind, array] of backends) {
    it(`${backend}: eval on the first ${N} test images, logits bit-identical to the reference${array ? ', every binary layer on the array' : ''}`, function () {
      if (!needDataset(this) || !requireOrSkip(this, probe, kind)) return;
      const ref = referenceEval();
      const { json, logits } = evalCli(backend, N);
      assert.equal(json.backend, backend);
      assert.deepEqual(bitsOf(logits), bitsOf(ref.logits), `${backend}: logits`);
      assert.equal(json.correct, ref.json.correct);
      if (array) {
        assert.equal(bconvs.length, 4, 'three binary convs and the binary dense layer');
        const where = new Map(json.layers.map((l) => [l.op, l.where]));
        assert.ok(bconvs.every((i) => where.get(i) === 'device'), `${backend}: ${bconvs.map((i) => where.get(i)).join(' ')}`);
        // ops 3 and 4 are the zero-padded convs: only an array with 1-bit outputs cuts before them
        const cut = 'runs device segment 1 (ops 2..5) as 3 segments (ops 2..2, 3..3, 4..5): tensors 3, 4 cross the host';
        assert.deepEqual((json.notes ?? []).map((n) => n.includes(cut)), backend === 'axi-sim' ? [true] : [], `${backend}: ${json.notes}`);
      }
    });

    it(`${backend}: bitweave run on the recorded images gives eval's logits and LCE's predictions`, function () {
      if (!needDataset(this) || !requireOrSkip(this, probe, kind)) return;
      const out = path.join(tmp, `run-${backend}.npy`);
      const r = bitweave(['run', MODEL, '--input', path.join(DIR, 'input.npy'), '--output', out, '--json', '--backend', backend, '--top', '1']);
      assertSuccess(r);
      const json = JSON.parse(r.stdout) as { backend: string; predictions: { top: { class: number }[] }[] };
      assert.equal(json.backend, backend);
      assert.deepEqual(json.predictions.map((p) => p.top[0].class), lcePred.slice(0, RECORDED));
      // the recorded images are the test set's first ones, which eval saw too
      const evalLogits = evalCli(backend, N).logits.subarray(0, RECORDED * 10);
      assert.deepEqual(bitsOf(readNpy(out).data as Float32Array), bitsOf(evalLogits), `${backend}: run and eval`);
    });
  }

  it('eval --output refuses to overwrite the model, before any work (one line, exit 1)', () => {
    const copy = path.join(tmp, 'copy.tflite');
    fs.copyFileSync(MODEL, copy);
    assertUserError(bitweave(['eval', copy, '--dataset', 'fashion-mnist', '--output', copy]), /copy\.tflite: cannot write: it is the input file/);
    assert.ok(fs.readFileSync(copy).equals(fs.readFileSync(MODEL)), 'the model is unchanged');
  });

  it(`bitweave run on the recorded images (input.npy, the IDX bytes as uint8): LCE's predictions, the same logits as eval`, function () {
    const x = readNpy(path.join(DIR, 'input.npy'));
    assert.deepEqual([x.dtype, x.shape], ['uint8', [RECORDED, 28, 28]]);
    const out = path.join(tmp, 'run.npy');
    const r = bitweave(['run', MODEL, '--input', path.join(DIR, 'input.npy'), '--output', out, '--json', '--backend', 'reference', '--top', '1']);
    assertSuccess(r);
    const json = JSON.parse(r.stdout) as { predictions: { image: number; top: { class: number }[] }[] };
    assert.deepEqual(json.predictions.map((p) => p.top[0].class), lcePred.slice(0, RECORDED));
    const logits = readNpy(out).data as Float32Array;
    compareWithLce(logits, RECORDED, 'run');
    // a uint8 .npy maps to u8/255 exactly as the dataset does: eval's logits, bit for bit
    if (reference) assert.deepEqual(bitsOf(logits), bitsOf(reference.logits.subarray(0, RECORDED * 10)), 'run and eval');
    else console.log('      (no reference eval to compare with: its test was skipped)');
  });
});
