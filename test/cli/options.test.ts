/**
 * The CLI's option definitions (host/cli/options.ts): checked numbers and strings, options
 * given twice, negative values, one definition of the model options for every command
 * that loads a model, and one loader (zoo name | .bnn | symbol) behind all of them.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { normalizeArgv, parseCrop, parseNumberList, parseShape } from '../../host/cli/options';
import { writeNpy } from '../../host/data/npy';
import { bmxnetMnist } from '../helpers/shared-models';
import { packageRoot } from '../../host/core/paths';
import { assertUserError, bitweave } from '../helpers/run';

const bw = (...args: string[]) => bitweave(args);

const ROOT = packageRoot();
const CNN = path.join(ROOT, 'models/fashion-cnn.bnn');

describe('CLI options', function () {
  this.timeout(300000);
  let tmp = '';
  let digits = '';
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bitweave-opts-'));
    digits = path.join(tmp, 'digits.npy');
    writeNpy(digits, { dtype: 'uint8', shape: [2, 1, 28, 28], data: new Uint8Array(2 * 784).fill(9) });
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  describe('parsers', () => {
    it('normalizeArgv reads "-<digit>…" after an option as its value, not as flags', () => {
      assert.deepEqual(normalizeArgv(['run', 'm', '--input-shape', '-1,28,28', '-i', 'x']), ['run', 'm', '--input-shape=-1,28,28', '-i', 'x']);
      assert.deepEqual(normalizeArgv(['--mean', '-0.5', '--top', '-5', '-o', '-.5']), ['--mean=-0.5', '--top=-5', '-o=-.5']);
      // not after a boolean flag, not for ordinary flags, nothing after --
      assert.deepEqual(normalizeArgv(['--json', '-1', '--batch', '-x']), ['--json', '-1', '--batch', '-x']);
      assert.deepEqual(normalizeArgv(['--', '--top', '-5']), ['--', '--top', '-5']);
    });

    it('parseShape, parseCrop and parseNumberList accept their forms and refuse the rest', () => {
      assert.deepEqual(parseShape('3,224,224'), [3, 224, 224]);
      assert.deepEqual(parseShape('1x28x28'), [1, 28, 28]);
      for (const bad of ['-1,28,28', '1,28', '1,,28', '0,28,28', '1.5,28,28', 'a,b,c', '1,28,65537']) assert.throws(() => parseShape(bad), /--input-shape must be C,H,W/, bad);
      assert.deepEqual(parseCrop('224'), [224, 224]);
      assert.deepEqual(parseCrop('200x300'), [200, 300]);
      assert.deepEqual(parseCrop('200,300'), [200, 300]);
      for (const bad of ['', '0', '-5', '1x2x3', '2.5']) assert.throws(() => parseCrop(bad), /--crop must be HxW or N/, bad);
      assert.deepEqual(parseNumberList('123.68,116.779,103.939', 'mean'), [123.68, 116.779, 103.939]);
      assert.deepEqual(parseNumberList('-0.5', 'mean'), [-0.5]);
      for (const bad of ['', '1,,2', 'NaN', 'Infinity', '1,x']) assert.throws(() => parseNumberList(bad, 'std'), /--std must be one number or one per input channel/, bad);
    });
  });

  describe('issue 13 defects', () => {
    it('--top abc | NaN | 0 | -5 | 1.5 is one line naming --top (was accepted silently)', () => {
      for (const v of ['abc', 'NaN', '0', '-5', '1.5', '']) {
        assertUserError(bw('run', CNN, '-i', digits, '--top', v), new RegExp(`--top must be an integer in 1\\.\\.1000000, got '${v.replace('.', '\\.')}'`), `--top ${v}`);
      }
      assert.equal(bw('run', CNN, '-i', digits, '--top', '2').code, 0);
    });

    it("-o '' is an error, and nothing is written", () => {
      assertUserError(bw('run', CNN, '-i', digits, '-o', ''), /--output must not be empty/);
      assertUserError(bw('convert', 'x-symbol.json', '-o', ''), /--output must not be empty/);
      assertUserError(bw('export-onnx', CNN, '-o', ' '), /--output must not be empty/);
    });

    it('--input-shape -1,28,28 speaks of the input shape (was "Unknown argument: 1"), with or without =', () => {
      for (const args of [['--input-shape', '-1,28,28'], ['--input-shape=-1,28,28']]) {
        assertUserError(bw('inspect', 'x-symbol.json', ...args), /--input-shape must be C,H,W: the model input's channels, height and width as integers in 1\.\.65536, got '-1,28,28'/);
      }
    });

    it('-i a -i b says the option was given twice (was "… an instance of Array")', () => {
      assertUserError(bw('run', CNN, '-i', digits, '-i', digits), /^bitweave: error: --input was given 2 times; give it once$/);
      assertUserError(bw('run', CNN, '-i', digits, '--backend', 'native', '--backend', 'native'), /--backend was given 2 times/);
      assertUserError(bw('eval', CNN, '--dataset', 'mnist', '--dataset', 'mnist'), /--dataset was given 2 times/);
      assertUserError(bw('inspect', CNN, '--input-shape', '1,28,28', '--input-shape', '1,28,28'), /--input-shape was given 2 times/);
    });

    it('deploy --poll-seconds NaN (never timed out) and other bad deploy numbers are refused before any work', () => {
      const out = path.join(tmp, 'deploy');
      for (const [flag, v] of [['--poll-seconds', 'NaN'], ['--poll-seconds', '0'], ['--poll-seconds', '-3'], ['--timeout-minutes', 'Infinity'], ['--limit', '2.5']]) {
        assertUserError(bw('deploy', CNN, '--board', 'aws-f1', '-o', out, '--steps', 'emit', flag, v), new RegExp(`${flag} must be (a number|an integer) in`), `${flag} ${v}`);
      }
      assert.ok(!fs.existsSync(out));
    });

    it('every number option: NaN, non-integers and out-of-range values are one line naming the option', () => {
      const cases: Array<[string[], string]> = [
        [['run', CNN, '-i', digits, '--batch', '0'], '--batch'],
        [['run', CNN, '-i', digits, '--threads', '1.5'], '--threads'],
        [['eval', CNN, '--dataset', 'mnist', '--limit', '0'], '--limit'],
        [['eval', CNN, '--dataset', 'mnist', '--batch', 'NaN'], '--batch'],
        [['compile', CNN, '--board', 'aws-f1', '-o', path.join(tmp, 'c'), '--rows', 'abc'], '--rows'],
        [['project', CNN, '--batch', 'NaN'], '--batch'],
        [['bench', 'model', CNN, '--runs', '0'], '--runs'],
        [['bench', 'model', CNN, '--budget', 'NaN'], '--budget'],
        [['bench', 'gemm', '--repeat', '1e9'], '--repeat'],
        [['export-onnx', 'resnet18-cifar', '-o', path.join(tmp, 'x.onnx'), '--seed', '-1'], '--seed'],
        [['train', '--arch', 'mlp', '--dataset', 'fashion-mnist', '-o', path.join(tmp, 't.bnn'), '--lr', 'NaN'], '--lr'],
        [['train', '--arch', 'mlp', '--dataset', 'fashion-mnist', '-o', path.join(tmp, 't.bnn'), '--epochs', '0'], '--epochs'],
        [['convert', 'x-symbol.json', '-o', path.join(tmp, 'y.bnn'), '--scale', '0'], '--scale'],
        [['convert', 'x-symbol.json', '-o', path.join(tmp, 'y.bnn'), '--resize', '-256'], '--resize'],
      ];
      for (const [args, flag] of cases) assertUserError(bw(...args), new RegExp(`${flag} must be (a number|an integer) in`), args.join(' '));
      for (const f of ['c', 'x.onnx', 't.bnn', 'y.bnn']) assert.ok(!fs.existsSync(path.join(tmp, f)), f);
    });
  });

  describe('one definition of the model options, one loader', () => {
    it('every command that loads a model lists the same model options', () => {
      const commands = [['convert'], ['inspect'], ['run'], ['eval'], ['compile'], ['project'], ['export-onnx'], ['bench', 'model'], ['deploy']];
      for (const c of commands) {
        const help = bw(...c, '--help').stdout;
        const group = help.slice(help.indexOf('Model options'));
        assert.ok(help.includes('Model options'), `${c.join(' ')}: no model options group`);
        for (const flag of ['--params', '--input-shape', '--mean', '--std', '--scale', '--channel-order', '--resize ', '--resize-policy', '--crop', '--labels']) {
          assert.ok(group.includes(flag), `${c.join(' ')} --help lacks ${flag}`);
        }
      }
    });

    it('run, inspect and eval accept the zoo names compile accepts', function () {
      const s = JSON.parse(bw('inspect', 'resnet18-cifar-a2', '--json').stdout);
      assert.equal(s.input, '3x32x32 (NCHW)');
      const x = path.join(tmp, 'cifar.npy');
      writeNpy(x, { dtype: 'float32', shape: [1, 3, 32, 32], data: new Float32Array(3072).fill(0.25) });
      const r = bw('run', 'resnet18-cifar', '-i', x, '--backend', 'native', '--json');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout).classes, 10);
      assertUserError(bw('eval', 'resnet18-cifar', '--dataset', 'mnist', '--limit', '5'), /model input is 3x32x32 but mnist images are 1x28x28/);
      const { symbol } = bmxnetMnist(64);
      if (!fs.existsSync(symbol)) {
        console.log(`      SKIPPED (bmxnet-mnist part): ${symbol} not found (set BITWEAVE_SHARED_MODELS)`);
        return;
      }
      const e = bw('eval', 'bmxnet-mnist', '--dataset', 'mnist', '--limit', '20', '--json');
      assert.equal(e.code, 0, e.stderr);
      assert.equal(JSON.parse(e.stdout).images, 20);
      // eval feeds the dataset's bytes through the model's preprocessing: stated defaults change nothing
      const d = bw('eval', 'bmxnet-mnist', '--dataset', 'mnist', '--limit', '20', '--json', '--mean', '0', '--std', '1', '--scale', '1');
      assert.equal(d.code, 0, d.stderr);
      assert.equal(JSON.parse(d.stdout).correct, JSON.parse(e.stdout).correct);
    });

    it('convert goes through the same loader: zoo names convert, a .bnn refuses new preprocessing, the params file is given once', function () {
      const out = path.join(tmp, 'zoo.bnn');
      const r = bw('convert', 'resnet18-cifar', '-o', out, '--mean', '0.5', '--json');
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout).inputShape, [3, 32, 32]);
      assert.deepEqual(JSON.parse(bw('inspect', out, '--json').stdout).preprocess.mean, [0.5, 0.5, 0.5]);
      assertUserError(bw('convert', out, '-o', path.join(tmp, 'again.bnn'), '--std', '2'), /the preprocessing options do not apply to .*zoo\.bnn/);
      const { symbol, params } = bmxnetMnist(64);
      if (!fs.existsSync(symbol)) {
        console.log(`      SKIPPED (params part): ${symbol} not found (set BITWEAVE_SHARED_MODELS)`);
        return;
      }
      assertUserError(bw('convert', symbol, params, '--params', params, '-o', path.join(tmp, 'm.bnn')), /the params file is given twice \(as an argument and as --params\)/);
      assert.equal(bw('convert', symbol, '--params', params, '-o', path.join(tmp, 'm.bnn')).code, 0);
      assert.equal(bw('convert', symbol, params, '-o', path.join(tmp, 'm.bnn')).code, 0);
    });

    it('a model that is not there names the four kinds of model spec', () => {
      assertUserError(bw('run', 'resnet-18', '-i', digits), /model file not found: resnet-18 \(a model is a \.bnn file, a QONNX \.onnx file, a Larq \.tflite file, a BMXNet <prefix>-symbol\.json or a zoo name: resnet18-cifar\[-aK\], resnet18-imagenet\[-aK\], bmxnet-mnist, tfc\|sfc\|lfc\|cnv-w1a1\|w1a2\|w2a2 \(FINN\)\)/);
    });

    it('conversion options on a compiled .bnn are refused, not ignored', () => {
      assertUserError(bw('run', CNN, '-i', digits, '--input-shape', '1,28,28'), /--input-shape does not apply to .*fashion-cnn\.bnn: a compiled \.bnn keeps the input shape, preprocessing and labels/);
      assertUserError(bw('inspect', CNN, '--mean', '0.5'), /the preprocessing options do not apply to/);
      assertUserError(bw('eval', CNN, '--dataset', 'fashion-mnist', '--params', 'x.params'), /--params does not apply to/);
      assertUserError(bw('inspect', 'resnet18-cifar', '--input-shape', '3,32,32'), /--input-shape does not apply to the zoo model resnet18-cifar/);
    });

    it('a negative mean is a value (normalizeArgv), stored as given', () => {
      const r = bw('inspect', 'resnet18-cifar', '--mean', '-0.5', '--std', '2', '--json');
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout).preprocess.mean, [-0.5, -0.5, -0.5]);
    });

    it('convert --labels with the wrong count is one line', function () {
      const labels = path.join(tmp, 'labels.txt');
      fs.writeFileSync(labels, 'a\nb\nc\n');
      assertUserError(bw('inspect', 'resnet18-cifar', '--labels', labels), /--labels gives 3 labels, the model has 10 classes/);
      fs.writeFileSync(labels, Array.from({ length: 10 }, (_, i) => `class ${i}`).join('\n'));
      const s = JSON.parse(bw('inspect', 'resnet18-cifar', '--labels', labels, '--json').stdout);
      assert.equal(s.labels[9], 'class 9');
    });
  });
});
