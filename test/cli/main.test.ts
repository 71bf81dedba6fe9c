import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { readNpy, writeNpy } from '../../host/data/npy';
import { loadDataset } from '../../host/data/datasets';
import { bmxnetMnist, requireBmxnetMnist } from '../helpers/shared-models';
import { packagePath } from '../../host/core/paths';
import { assertUserError, bitweave } from '../helpers/run';

const bw = (...args: string[]) => bitweave(args);

describe('bitweave CLI', function () {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bitweave-cli-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('prints help and exits 1 without a command', () => {
    assert.equal(bw('--help').code, 0);
    assertUserError(bw());
  });

  it('output into a pipe its reader closed early (| head -1) ends quietly: exit 0, no stack trace', () => {
    // many writes after the reader has gone, as a long line-by-line output makes (EPIPE)
    const script = `require('./dist/host/cli/main.js').main(['boards']).then(() => { for (let i = 0; i < 200000; i++) process.stdout.write('line ' + i + '\\n'); })`;
    const r = spawnSync('bash', ['-c', `"${process.execPath}" -e "${script}" | head -1 >/dev/null; echo "status \${PIPESTATUS[0]}" >&2`], { cwd: packagePath(), encoding: 'utf8', timeout: 60000 });
    assert.match(r.stderr, /status 0\n$/);
    assert.doesNotMatch(r.stderr, /EPIPE|internal error|\n\s+at /);
  });

  it('rejects a missing model, an unknown backend and bad options with one line', () => {
    assertUserError(bw('inspect', path.join(tmp, 'nope.bnn')), /not found/);
    assertUserError(bw('eval', path.join(tmp, 'nope.bnn'), '--dataset', 'mnist', '--backend', 'gpu9000'), /backend/);
    assertUserError(bw('eval', path.join(tmp, 'nope.bnn'), '--dataset', 'cifar'), /dataset/);
    assertUserError(bw('train', '--arch', 'cnn', '--dataset', 'fashion-mnist', '-o', path.join(tmp, 'x.bnn'), '--lr-schedule', 'step'), /lr-schedule/);
    assert.ok(!fs.existsSync(path.join(tmp, 'x.bnn')));
  });

  it('train --card writes the command that reproduces the run, every non-default flag included', () => {
    const out = path.join(tmp, 'card', 'm.bnn');
    const card = path.join(tmp, 'card', 'm.md');
    const r = bw('train', '--arch', 'mlp', '--dataset', 'fashion-mnist', '--epochs', '1', '--limit', '200', '--test-limit', '20',
      '--batch', '50', '--lr-schedule', 'cosine', '-o', out, '--card', card);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(fs.readFileSync(card, 'utf8').includes(`bitweave train --arch mlp --dataset fashion-mnist --epochs 1 --seed 1 --batch 50 --lr-schedule cosine --limit 200 --test-limit 20 -o ${out}`));
  });

  it('inspect lists the segments arrays with 1-bit outputs run instead, where zero-padded convs make them cut (text and --json); none elsewhere', () => {
    const larq = packagePath('test', 'fixtures', 'larq', 'fashion_bnn', 'model.tflite');
    const text = bw('inspect', larq);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /\nsegments: host\[0\.\.1\] device\[2\.\.5\] host\[6\.\.8\]\n  run on arrays with 1-bit outputs \(axi-sim, board, the RTL kernel\) as: host\[0\.\.1\] device\[2\.\.2\] device\[3\.\.3\] device\[4\.\.5\] host\[6\.\.8\]\n/);
    const j = JSON.parse(bw('inspect', larq, '--json').stdout) as { segments: unknown[]; arraySegments: { arrays: string; segments: { ops: number[]; inputs: number[] }[] }[] };
    assert.equal(j.segments.length, 3);
    assert.deepEqual(j.arraySegments.map((a) => a.segments.map((g) => g.ops)), [[[0, 2], [2, 3], [3, 4], [4, 6], [6, 9]]]);
    assert.deepEqual(j.arraySegments[0].segments.map((g) => g.inputs), [[0], [2], [3], [4], [6]]);
    const plain = bw('inspect', packagePath('models', 'fashion-cnn.bnn'));
    assert.doesNotMatch(plain.stdout, /run on/);
    assert.equal((JSON.parse(bw('inspect', packagePath('models', 'fashion-cnn.bnn'), '--json').stdout) as object).hasOwnProperty('arraySegments'), false);
  });

  describe('on the shipped models', () => {
    const MODELS = packagePath('models');

    it('inspect names a trained model\'s source without an empty file list', () => {
      const first = bw('inspect', path.join(MODELS, 'fashion-mlp.bnn')).stdout.split('\n')[0];
      assert.equal(first, 'model fashion-mlp (bitweave-train)');
    });

    it('eval says where device cycles come from: counted by the RTL or the cycle model\'s tile phase', () => {
      const cnn = path.join(MODELS, 'fashion-cnn.bnn');
      const tiles = /; \d+ tile-schedule cycles \(\d+\/image; the cycle model without fill or drain\), PE utilisation/;
      const cases = [['verilator', 'rtl', /; \d+ RTL-counted cycles \(\d+\/image\), PE utilisation/], ['opencl', 'schedule', tiles], ['hls-csim', 'schedule', tiles]] as const;
      for (const [backend, kind, text] of cases) {
        const args = ['eval', cnn, '--dataset', 'fashion-mnist', '--limit', '16', '--backend', backend];
        const t = bw(...args);
        assert.equal(t.code, 0, t.stderr);
        assert.match(t.stdout, text);
        const j = bw(...args, '--json');
        assert.equal(j.code, 0, j.stderr);
        assert.equal(JSON.parse(j.stdout).cyclesKind, kind);
      }
      const native = bw('eval', cnn, '--dataset', 'fashion-mnist', '--limit', '16', '--backend', 'native');
      assert.doesNotMatch(native.stdout, /cycles/);
    });
  });

  describe('on the BMXNet MNIST model', function () {
    const { symbol, params } = bmxnetMnist(64);
    const bnn = path.join(tmp, 'mnist.bnn');

    before(function () {
      requireBmxnetMnist(this);
      const r = bw('convert', symbol, params, '-o', bnn, '--json');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout).output, bnn);
    });

    it('inspect --json reports layers, the partition and the packed/float32 weight ratio', () => {
      const r = bw('inspect', bnn, '--json');
      assert.equal(r.code, 0, r.stderr);
      const s = JSON.parse(r.stdout);
      assert.equal(s.floatWeightBytes, (64 * 1600 + 1000 * 1024) * 4);
      assert.equal(s.packedWeightBytes, (64 * 1600 + 1000 * 1024) / 8);
      assert.equal(s.packedRatio, 32);
      assert.ok(s.layers.some((l: { where: string }) => l.where === 'device'));
      const text = bw('inspect', symbol);
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, /32\.0x smaller/);
    });

    it('eval --json on a .bnn and on the symbol file directly agree', () => {
      const a = JSON.parse(bw('eval', bnn, '--dataset', 'mnist', '--limit', '60', '--json').stdout);
      const b = JSON.parse(bw('eval', symbol, '--dataset', 'mnist', '--limit', '60', '--json').stdout);
      assert.equal(a.images, 60);
      assert.equal(a.accuracy, b.accuracy);
      assert.ok(a.accuracy > 0.9, `accuracy ${a.accuracy}`);
      for (const k of ['seconds', 'imagesPerSecond', 'correct']) assert.equal(typeof a[k], 'number');
    });

    it('run reads .npy input, prints top-k and writes logits', () => {
      const ds = loadDataset('mnist', { limit: 3 });
      const input = path.join(tmp, 'digits.npy');
      writeNpy(input, { dtype: 'float32', shape: [3, 1, 28, 28], data: ds.images });
      const logits = path.join(tmp, 'logits.npy');
      const r = bw('run', bnn, '--input', input, '--json', '--top', '2', '--output', logits);
      assert.equal(r.code, 0, r.stderr);
      const j = JSON.parse(r.stdout);
      assert.equal(j.predictions.length, 3);
      assert.equal(j.predictions[0].top.length, 2);
      const l = readNpy(logits);
      assert.deepEqual(l.shape, [3, 10]);
      const text = bw('run', bnn, '--input', input);
      assert.match(text.stdout, /^image 0: \d \(/);
    });

    it('a wrong-shaped input is a user error', () => {
      const input = path.join(tmp, 'bad.npy');
      writeNpy(input, { dtype: 'float32', shape: [2, 3, 5], data: new Float32Array(30) });
      assertUserError(bw('run', bnn, '--input', input));
    });

    it('corrupted .params copies make every command print one line and exit 1', () => {
      const orig = fs.readFileSync(params);
      const dir = path.join(tmp, 'corrupt');
      fs.mkdirSync(dir, { recursive: true });
      const sym = path.join(dir, 'm-symbol.json');
      fs.copyFileSync(symbol, sym);
      const corruptions = fc.sample(
        fc.oneof(
          fc.record({ kind: fc.constant('truncate' as const), at: fc.integer({ min: 0, max: orig.length - 1 }) }),
          fc.record({ kind: fc.constant('header' as const), at: fc.integer({ min: 0, max: 40 }), byte: fc.integer({ min: 0, max: 255 }) }),
        ),
        { seed: 5, numRuns: 6 },
      );
      for (const c of corruptions) {
        const bad = Buffer.from(orig);
        let data = bad;
        if (c.kind === 'truncate') data = bad.subarray(0, c.at);
        else bad[c.at] = bad[c.at] === c.byte ? c.byte ^ 0xff : c.byte;
        const p = path.join(dir, 'm-0001.params');
        fs.writeFileSync(p, data);
        const out = path.join(dir, 'm.bnn');
        for (const args of [
          ['convert', sym, p, '-o', out],
          ['inspect', sym],
          ['eval', sym, '--dataset', 'mnist', '--limit', '5'],
          ['run', sym, '--input', path.join(tmp, 'digits.npy')],
        ]) {
          fs.rmSync(out, { force: true });
          const r = bw(...args);
          if (c.kind === 'header' && r.code === 0) continue; // a flip inside a value can leave a valid file
          assertUserError(r);
          assert.ok(!fs.existsSync(out), 'no partial output left behind');
        }
      }
    });

    it('a corrupted .bnn is rejected with one line by every command', () => {
      const good = fs.readFileSync(bnn);
      const bad = path.join(tmp, 'bad.bnn');
      for (const mutate of [
        (b: Buffer) => b.subarray(0, b.length >> 1),
        (b: Buffer) => { const c = Buffer.from(b); c[c.length - 100] ^= 0x55; return c; },
        (b: Buffer) => { const c = Buffer.from(b); c.write('NOTABNN!', 0); return c; },
      ]) {
        fs.writeFileSync(bad, mutate(good));
        assertUserError(bw('inspect', bad));
        assertUserError(bw('eval', bad, '--dataset', 'mnist', '--limit', '5'));
      }
    });
  });
});
