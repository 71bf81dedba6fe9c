/**
 * Input preprocessing stored in models (host/data/preprocess.ts, host/data/image.ts), the
 * .bnn fields that carry it, input-shape inference for BMXNet symbols, and the end-to-end
 * target: BMXNet's own ImageNet ResNet-18 classifying two real photos on every backend.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { FormatError, ShapeError } from '../../host/core/errors';
import { CompiledModel, defaultPreprocess, Preprocess } from '../../host/compile/model';
import { decodeBnn, encodeBnn, unpackBnnContainer } from '../../host/format/bnn';
import { loadInputFile } from '../../host/data/datasets';
import { DecodedImage, encodePng, imageToInput, readImage, resizeBilinear, resizeWindow, shorterSideSize } from '../../host/data/image';
import { readNpy, writeNpy } from '../../host/data/npy';
import { describePreprocess, normalizeBytes, readLabels, resolvePreprocess, unitToBytes } from '../../host/data/preprocess';
import { standaloneBackends } from '../../host/backends';
import { convertBmxnet } from '../../host/runtime/load';
import { sharedModelsDir } from '../../host/zoo/models';
import { tinyModel } from '../fixtures/tiny-model';
import { packageRoot } from '../../host/core/paths';
import { assertUserError, bitweave } from '../helpers/run';

const bw = (...args: string[]) => bitweave(args);

const ROOT = packageRoot();
/** The test photos `make setup` fetches (scripts/setup.sh). */
const PHOTOS = process.env.BITWEAVE_PHOTOS ?? path.join(ROOT, '.cache/photos');

/** A w x h x c image whose bytes come from a seeded generator. */
function randomImage(w: number, h: number, c: 1 | 3, seed: number): DecodedImage {
  let s = seed >>> 0 || 1;
  const data = new Uint8Array(w * h * c);
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = s >>> 24;
  }
  return { width: w, height: h, channels: c, data };
}

const IMAGENET = ['symbol.json', '0040.params'].map((s) => path.join(sharedModelsDir(), 'bmxnet', `binarized_imagenet-resnet18-64bit-${s}`));
const IMAGENET_FLAGS = ['--mean', '123.68,116.779,103.939', '--scale', '255', '--resize', '256', '--crop', '224'];

function requireImagenet(ctx: Mocha.Context): void {
  const missing = IMAGENET.filter((f) => !fs.existsSync(f));
  if (missing.length) {
    console.log(`      SKIPPED: BMXNet's ImageNet ResNet-18 not found (${missing.join(', ')}); put it in ${path.join(sharedModelsDir(), 'bmxnet')} or set BITWEAVE_SHARED_MODELS`);
    ctx.skip();
  }
}

function requirePhotos(ctx: Mocha.Context): void {
  const missing = ['chelsea.png', 'coffee.png'].map((f) => path.join(PHOTOS, f)).filter((f) => !fs.existsSync(f));
  if (missing.length) {
    console.log(`      SKIPPED: test photos not found (${missing.join(', ')}); \`make setup\` fetches them (as root), or see the command it prints`);
    ctx.skip();
  }
}

describe('preprocessing', () => {
  describe('resolvePreprocess (the source framework\'s settings against the model input)', () => {
    it('defaults to today\'s behaviour and broadcasts one mean / std value', () => {
      assert.deepEqual(resolvePreprocess({}, [3, 32, 32]), defaultPreprocess(3));
      assert.deepEqual(resolvePreprocess({ mean: [0.5], std: [0.25], scale: 1 }, [3, 8, 8]), {
        channelOrder: 'rgb', scale: 1, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25], resize: { policy: 'stretch' },
      });
      // --crop alone: shorter side to the crop's larger side, then the centre crop
      assert.deepEqual(resolvePreprocess({ crop: [224, 224] }, [3, 224, 224]).resize, { policy: 'shorter-side', size: 224 });
      assert.deepEqual(resolvePreprocess({ resize: 256 }, [3, 224, 224]).resize, { policy: 'shorter-side', size: 256 });
      assert.deepEqual(resolvePreprocess({ resizePolicy: 'shorter-side' }, [3, 20, 30]).resize, { policy: 'shorter-side', size: 30 });
    });

    it('refuses settings that do not fit the model, naming the flag', () => {
      const bad: Array<[Parameters<typeof resolvePreprocess>[0], number[], RegExp]> = [
        [{ mean: [1, 2] }, [3, 8, 8], /--mean has 2 values, the model input has 3 channels/],
        [{ std: [1, 0, 1] }, [3, 8, 8], /--std values must be numbers in/],
        [{ mean: [NaN] }, [1, 8, 8], /--mean values must be finite/],
        [{ scale: 0 }, [1, 8, 8], /--scale must be a number in \(0, 65536\]/],
        [{ channelOrder: 'bgr' }, [1, 8, 8], /--channel-order bgr needs a 3-channel model input/],
        [{ crop: [224, 200] }, [3, 224, 224], /--crop 224x200 disagrees with the model input 3x224x224/],
        [{ resize: 100 }, [3, 224, 224], /--resize 100 must be an integer from the crop's larger side/],
        [{ resize: 256, resizePolicy: 'stretch' }, [3, 224, 224], /--resize-policy stretch .* --resize needs --resize-policy shorter-side/],
      ];
      for (const [spec, shape, re] of bad) assert.throws(() => resolvePreprocess(spec, shape), (e: unknown) => e instanceof Error && re.test(e.message), JSON.stringify(spec));
    });

    it('describes itself in one line', () => {
      const p = resolvePreprocess({ mean: [123.68, 116.779, 103.939], scale: 255, resize: 256, crop: [224, 224] }, [3, 224, 224]);
      assert.equal(describePreprocess(p, [3, 224, 224]), 'RGB, pixels 0..255, mean 123.68,116.779,103.939, std 1; shorter side to 256, centre crop 224x224');
      assert.equal(describePreprocess(undefined, [1, 28, 28]), 'grey, pixels [0, 1], mean 0, std 1; stretched to 28x28 (default: none stored)');
    });
  });

  describe('values: float32((u * scale / 255 - mean) / std)', () => {
    it('the default mapping is u / 255 bit for bit (models without stored preprocessing)', () => {
      const bytes = Uint8Array.from({ length: 256 }, (_, u) => u);
      const out = normalizeBytes(bytes, 1, [1, 16, 16], defaultPreprocess(1));
      for (let u = 0; u < 256; u++) assert.ok(Object.is(out[u], Math.fround(u / 255)), `u = ${u}`);
    });

    it('scale 255 feeds the pixel itself minus the mean (BMXNet ImageNet), each channel its own mean', () => {
      const p: Preprocess = { channelOrder: 'rgb', scale: 255, mean: [123.68, 116.779, 103.939], std: [1, 1, 1], resize: { policy: 'stretch' } };
      const chw = Uint8Array.from([0, 200, 17, 255, 124, 116]); // 3 channels x 2 pixels
      assert.deepEqual([...normalizeBytes(chw, 1, [3, 1, 2], p)], [0 - 123.68, 200 - 123.68, 17 - 116.779, 255 - 116.779, 124 - 103.939, 116 - 103.939].map(Math.fround));
      const std = normalizeBytes(Uint8Array.of(51), 1, [1, 1, 1], { ...p, mean: [0.5], std: [0.25], scale: 1 });
      assert.equal(std[0], Math.fround((51 / 255 - 0.5) / 0.25));
    });

    it('bgr takes model channel k from source channel 2 - k', () => {
      const p: Preprocess = { ...defaultPreprocess(3), channelOrder: 'bgr', scale: 255 };
      const rgb = Uint8Array.from([10, 11, 20, 21, 30, 31]); // R plane, G plane, B plane
      assert.deepEqual([...normalizeBytes(rgb, 1, [3, 1, 2], p)], [30, 31, 20, 21, 10, 11]);
      const img: DecodedImage = { width: 2, height: 1, channels: 3, data: Uint8Array.from([10, 20, 30, 11, 21, 31]) };
      assert.deepEqual([...imageToInput(img, { channels: 3, height: 1, width: 2 }, p)], [30, 31, 20, 21, 10, 11]);
    });

    it('unitToBytes recovers dataset bytes exactly and refuses other values', () => {
      const x = Float32Array.from([0, 1, 127, 255].map((u) => u / 255));
      assert.deepEqual([...unitToBytes(x, 'test')], [0, 1, 127, 255]);
      assert.throws(() => unitToBytes(Float32Array.of(0.5), 'test'), /not a byte level/);
    });
  });

  describe('geometry: stretch, or shorter side + centre crop', () => {
    it('imageToInput without preprocessing equals the default preprocessing, bit for bit', () => {
      fc.assert(fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }), fc.constantFrom<1 | 3>(1, 3), fc.constantFrom(1, 3), fc.integer(), (w, h, c, mc, seed) => {
        const img = randomImage(w, h, c, seed);
        const shape = { channels: mc, height: 7, width: 9 };
        const a = imageToInput(img, shape);
        const b = imageToInput(img, shape, defaultPreprocess(mc));
        assert.ok(Buffer.from(a.buffer).equals(Buffer.from(b.buffer)));
      }), { seed: 11, numRuns: 60 });
    });

    it('the longer side becomes floor(L * N / S), as MXNet\'s resize_short', () => {
      assert.deepEqual(shorterSideSize(451, 300, 256), { width: 384, height: 256 }); // chelsea.png
      assert.deepEqual(shorterSideSize(300, 451, 256), { width: 256, height: 384 });
      assert.deepEqual(shorterSideSize(600, 400, 256), { width: 384, height: 256 }); // coffee.png
      assert.deepEqual(shorterSideSize(50, 50, 7), { width: 7, height: 7 });
    });

    it('takes the centre crop at floor((W\' - W) / 2), floor((H\' - H) / 2)', () => {
      // shorter side already N: no resampling, so the crop shows the source pixels
      const w = 10, h = 6;
      const data = Uint8Array.from({ length: w * h }, (_, i) => i);
      const img: DecodedImage = { width: w, height: h, channels: 1, data };
      const p: Preprocess = { ...defaultPreprocess(1), scale: 255, resize: { policy: 'shorter-side', size: 6 } };
      const out = imageToInput(img, { channels: 1, height: 4, width: 5 }, p);
      const want: number[] = [];
      for (let y = 1; y < 5; y++) for (let x = 2; x < 7; x++) want.push(y * w + x); // x0 = floor(5/2), y0 = 1
      assert.deepEqual([...out], want);
      // one column more than the crop: x0 = floor(1/2) = 0, the last column is cut
      const narrow: DecodedImage = { width: 7, height: 6, channels: 1, data: Uint8Array.from({ length: 42 }, (_, i) => i) };
      const six = imageToInput(narrow, { channels: 1, height: 6, width: 6 }, p);
      assert.deepEqual([...six], Array.from({ length: 36 }, (_, i) => Math.floor(i / 6) * 7 + (i % 6)));
    });

    it('a bilinear window is exactly that window of the full resize', () => {
      fc.assert(fc.property(
        fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }), fc.integer(), fc.nat(), fc.nat(), fc.nat(), fc.nat(),
        (w, h, rw, rh, seed, a, b, c, d) => {
          const img = randomImage(w, h, 3, seed);
          const full = resizeBilinear(img.data, w, h, 3, rw, rh);
          const cw = 1 + (a % rw), ch = 1 + (b % rh);
          const x0 = c % (rw - cw + 1), y0 = d % (rh - ch + 1);
          const win = resizeWindow(img.data, w, h, 3, { width: rw, height: rh, x0, y0, cropWidth: cw, cropHeight: ch }, 'bilinear');
          for (let y = 0; y < ch; y++) {
            assert.deepEqual([...win.subarray(y * cw * 3, (y + 1) * cw * 3)], [...full.subarray(((y + y0) * rw + x0) * 3, ((y + y0) * rw + x0 + cw) * 3)]);
          }
        }), { seed: 5, numRuns: 80 });
    });

    it('area averaging: integer factors give the block mean rounded half up; constants stay constant', () => {
      fc.assert(fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 2, max: 5 }), fc.integer(), (ow, oh, f, seed) => {
        const w = ow * f, h = oh * f;
        const img = randomImage(w, h, 3, seed);
        const out = resizeWindow(img.data, w, h, 3, { width: ow, height: oh, x0: 0, y0: 0, cropWidth: ow, cropHeight: oh }, 'area');
        for (let y = 0; y < oh; y++) {
          for (let x = 0; x < ow; x++) {
            for (let k = 0; k < 3; k++) {
              let sum = 0;
              for (let j = 0; j < f; j++) for (let i = 0; i < f; i++) sum += img.data[((y * f + j) * w + x * f + i) * 3 + k];
              assert.equal(out[(y * ow + x) * 3 + k], Math.floor(sum / (f * f) + 0.5), `${x},${y},${k}`);
            }
          }
        }
      }), { seed: 3, numRuns: 40 });
      const grey = { width: 97, height: 61, channels: 1 as const, data: new Uint8Array(97 * 61).fill(77) };
      const out = resizeWindow(grey.data, 97, 61, 1, { width: 23, height: 14, x0: 3, y0: 2, cropWidth: 17, cropHeight: 11 }, 'area');
      assert.ok(out.every((v) => v === 77));
    });

    it('area averaging at fractional factors weighs each input pixel by its overlap', () => {
      // 5 -> 2 pixels: output 0 covers input [0, 2.5), output 1 covers [2.5, 5)
      const row = Uint8Array.from([10, 20, 30, 40, 50]);
      const out = resizeWindow(row, 5, 1, 1, { width: 2, height: 1, x0: 0, y0: 0, cropWidth: 2, cropHeight: 1 }, 'area');
      assert.deepEqual([...out], [Math.floor((10 + 20 + 0.5 * 30) / 2.5 + 0.5), Math.floor((0.5 * 30 + 40 + 50) / 2.5 + 0.5)]);
    });

    it('shrinking a fine pattern more than 2x averages it instead of aliasing (shorter-side policy)', () => {
      // one-pixel stripes, 0 and 255, shrunk 5x: each output pixel averages 2 or 3 white stripes
      const w = 1000, h = 500;
      const data = new Uint8Array(w * h);
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[y * w + x] = x % 2 ? 255 : 0;
      const img: DecodedImage = { width: w, height: h, channels: 1, data };
      const p: Preprocess = { ...defaultPreprocess(1), scale: 255, resize: { policy: 'shorter-side', size: 100 } };
      const area = imageToInput(img, { channels: 1, height: 100, width: 100 }, p);
      assert.deepEqual([...new Set(area)].sort((a, b) => a - b), [102, 153]);
      // the same shrink by bilinear sampling lands on single stripes: full-contrast false stripes
      const bil = resizeWindow(data, w, h, 1, { width: 200, height: 100, x0: 50, y0: 0, cropWidth: 100, cropHeight: 100 }, 'bilinear');
      assert.deepEqual([...new Set(bil)].sort((a, b) => a - b), [0, 255]);
    });

    it('uses area averaging exactly when the shorter side shrinks by more than 2x', () => {
      const img = randomImage(130, 100, 3, 9);
      for (const [n, mode] of [[49, 'area'], [50, 'bilinear'], [51, 'bilinear']] as const) {
        const p: Preprocess = { ...defaultPreprocess(3), scale: 255, resize: { policy: 'shorter-side', size: n } };
        const got = imageToInput(img, { channels: 3, height: 40, width: 40 }, p);
        const r = shorterSideSize(130, 100, n);
        const win = resizeWindow(img.data, 130, 100, 3, { ...r, x0: Math.floor((r.width - 40) / 2), y0: Math.floor((r.height - 40) / 2), cropWidth: 40, cropHeight: 40 }, mode);
        const want = new Float32Array(3 * 1600);
        for (let i = 0; i < 1600; i++) for (let k = 0; k < 3; k++) want[k * 1600 + i] = win[i * 3 + k];
        assert.deepEqual([...got], [...want], `N = ${n}`);
      }
    });

    it('refuses windows outside the resized image and bad sizes with ShapeError', () => {
      const img = randomImage(8, 8, 1, 1);
      assert.throws(() => resizeWindow(img.data, 8, 8, 1, { width: 4, height: 4, x0: 2, y0: 0, cropWidth: 3, cropHeight: 4 }, 'area'), ShapeError);
      assert.throws(() => resizeWindow(img.data, 8, 8, 1, { width: 16, height: 16, x0: 0, y0: 0, cropWidth: 3, cropHeight: 4 }, 'area'), /only shrinks/);
      assert.throws(() => resizeWindow(img.data, 8, 8, 1, { width: 0, height: 4, x0: 0, y0: 0, cropWidth: 0, cropHeight: 4 }, 'bilinear'), ShapeError);
    });
  });

  describe('inputs: pictures always, .npy / IDX on request', () => {
    let tmp = '';
    before(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bitweave-pp-'))));
    after(() => fs.rmSync(tmp, { recursive: true, force: true }));

    it('a uint8 .npy with preprocessRaw gets the same bits as the same pixels in a PNG; raw without it', () => {
      const img = randomImage(5, 4, 3, 21);
      const png = path.join(tmp, 'x.png');
      fs.writeFileSync(png, encodePng(img));
      const chw = new Uint8Array(60);
      for (let p = 0; p < 20; p++) for (let k = 0; k < 3; k++) chw[k * 20 + p] = img.data[p * 3 + k];
      const npy = path.join(tmp, 'x.npy');
      writeNpy(npy, { dtype: 'uint8', shape: [1, 3, 4, 5], data: chw });
      const shape = { channels: 3, height: 4, width: 5 };
      const p: Preprocess = { channelOrder: 'bgr', scale: 255, mean: [1, 2, 3], std: [2, 4, 8], resize: { policy: 'stretch' } };
      const a = loadInputFile(png, shape, { preprocess: p });
      const b = loadInputFile(npy, shape, { preprocess: p, preprocessRaw: true });
      assert.ok(Buffer.from(a.images.buffer).equals(Buffer.from(b.images.buffer)));
      const raw = loadInputFile(npy, shape, { preprocess: p });
      assert.deepEqual([...raw.images], [...chw].map((u) => Math.fround(u / 255)));
      // float .npy values are pixels in [0, 1]
      const f = path.join(tmp, 'f.npy');
      writeNpy(f, { dtype: 'float32', shape: [3, 4, 5], data: raw.images });
      const fl = loadInputFile(f, shape, { preprocess: p, preprocessRaw: true });
      assert.equal(fl.images[0], Math.fround((raw.images[40] * 255 - 1) / 2));
    });
  });

  describe('.bnn fields preprocess and labels (format 1.1)', () => {
    const withMeta = (edit: (m: CompiledModel) => void): CompiledModel => {
      const m = tinyModel();
      m.preprocess = { channelOrder: 'bgr', scale: 255, mean: [1, 2, 3], std: [1, 2, 4], resize: { policy: 'shorter-side', size: 8 } };
      m.labels = Array.from({ length: 10 }, (_, i) => `n0${i} class ${i}`);
      edit(m);
      return m;
    };

    it('round-trip; a file with them says 1.1, one without stays 1.0 and unchanged', () => {
      const m = withMeta(() => {});
      const buf = encodeBnn(m, 'm.bnn');
      assert.equal(unpackBnnContainer(buf, 'm.bnn').minor, 1);
      assert.deepStrictEqual(decodeBnn(buf, 'm.bnn'), m);
      const plain = encodeBnn(tinyModel(), 'p.bnn');
      assert.equal(unpackBnnContainer(plain, 'p.bnn').minor, 0);
      assert.ok(!unpackBnnContainer(plain, 'p.bnn').json.includes('preprocess'));
      assert.deepStrictEqual(decodeBnn(plain, 'p.bnn'), tinyModel());
    });

    it('validates them on every load and write, naming the field', () => {
      const cases: Array<[(m: CompiledModel) => void, RegExp]> = [
        [(m) => (m.preprocess!.mean = [1, 2]), /preprocess: mean has 2 values, the model input has 3 channels/],
        [(m) => (m.preprocess!.std = [1, 0, 1]), /preprocess: std\[1\] must be a number in/],
        [(m) => (m.preprocess!.scale = NaN), /preprocess: scale must be a number/],
        [(m) => ((m.preprocess as unknown as Record<string, unknown>).channelOrder = 'grb'), /channelOrder must be "rgb" or "bgr"/],
        [(m) => (m.preprocess!.resize = { policy: 'shorter-side', size: 5 }), /resize\.size must be an integer in 6\.\.65536/],
        [(m) => ((m.preprocess as unknown as Record<string, unknown>).resize = { policy: 'bicubic' }), /resize\.policy must be "stretch" or "shorter-side"/],
        [(m) => (m.labels = m.labels!.slice(1)), /labels has 9 entries, the model has 10 classes/],
        [(m) => (m.labels![3] = 'evil\u001b[2Jlabel'), /labels\[3\] .* contains a control character/],
        [(m) => ((m.labels as unknown[])[0] = 7), /labels\[0\] must be a string/],
      ];
      for (const [edit, re] of cases) {
        const m = withMeta(edit);
        assert.throws(() => encodeBnn(m, 'm.bnn'), (e: unknown) => e instanceof FormatError && re.test(e.message), re.source);
      }
      // a hostile file is refused on load too: edit the JSON of a valid file
      const good = unpackBnnContainer(encodeBnn(withMeta(() => {}), 'm.bnn'), 'm.bnn');
      const doc = JSON.parse(good.json);
      doc.preprocess.mean = ['1', 2, 3];
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { packBnnContainer } = require('../../host/format/bnn') as typeof import('../../host/format/bnn');
      assert.throws(() => decodeBnn(packBnnContainer(JSON.stringify(doc), good.blobs, 1), 'h.bnn'), /h\.bnn: preprocess: mean\[0\] must be a number/);
    });

    it('readLabels: one label per line, CR LF and a final newline accepted, empty or control lines refused', () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bitweave-labels-'));
      try {
        const f = path.join(dir, 'l.txt');
        fs.writeFileSync(f, '\ufeffn01 tench\r\nn02 goldfish\r\n');
        assert.deepEqual(readLabels(f), ['n01 tench', 'n02 goldfish']);
        fs.writeFileSync(f, 'a\n\nb\n');
        assert.throws(() => readLabels(f), /line 2 is empty/);
        fs.writeFileSync(f, 'a\nb\u0007\n');
        assert.throws(() => readLabels(f), /line 2 contains a control character/);
        fs.writeFileSync(f, Buffer.from([0x61, 0xff, 0x0a]));
        assert.throws(() => readLabels(f), /not valid UTF-8/);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('CLI: preprocessing options on a zoo model', () => {
    let tmp = '';
    before(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bitweave-ppcli-'))));
    after(() => fs.rmSync(tmp, { recursive: true, force: true }));

    it('run: a PNG and the same pixels as a uint8 .npy with --preprocess give identical logits; inspect shows the preprocessing', () => {
      const img = randomImage(32, 32, 3, 4);
      const png = path.join(tmp, 'x.png');
      fs.writeFileSync(png, encodePng(img));
      const chw = new Uint8Array(3 * 1024);
      for (let p = 0; p < 1024; p++) for (let k = 0; k < 3; k++) chw[k * 1024 + p] = img.data[p * 3 + k];
      const npy = path.join(tmp, 'x.npy');
      writeNpy(npy, { dtype: 'uint8', shape: [1, 3, 32, 32], data: chw });
      const pp = ['--mean', '0.5,0.4,0.3', '--std', '0.25', '--channel-order', 'bgr'];
      const outs = ['a', 'b', 'c'].map((n) => path.join(tmp, `${n}.npy`));
      for (const [input, extra, o] of [[png, [], outs[0]], [npy, ['--preprocess'], outs[1]], [npy, [], outs[2]]] as const) {
        const r = bw('run', 'resnet18-cifar', '-i', input, ...pp, ...extra, '--backend', 'native', '-o', o, '--json');
        assert.equal(r.code, 0, r.stderr);
      }
      const [a, b, c] = outs.map((o) => Buffer.from((readNpy(o).data as Float32Array).buffer));
      assert.ok(a.equals(b), 'PNG and --preprocess .npy agree');
      assert.ok(!a.equals(c), 'a raw .npy is not preprocessed');
      const s = JSON.parse(bw('inspect', 'resnet18-cifar', ...pp, '--json').stdout);
      assert.deepEqual(s.preprocess, { channelOrder: 'bgr', scale: 1, mean: [0.5, 0.4, 0.3], std: [0.25, 0.25, 0.25], resize: { policy: 'stretch' } });
      assert.match(bw('inspect', 'resnet18-cifar', ...pp).stdout, /^preprocess: BGR, pixels \[0, 1\], mean 0\.5,0\.4,0\.3, std 0\.25; stretched to 32x32$/m);
    });
  });

  describe('BMXNet input shapes (third-party models)', function () {
    this.timeout(300000);

    it('BMXNet\'s MNIST LeNet converts without flags to 1x28x28, with a note saying how', function () {
      const symbol = path.join(sharedModelsDir(), 'bmxnet', 'binarized_mnist_64bit-symbol.json');
      if (!fs.existsSync(symbol)) {
        console.log(`      SKIPPED: ${symbol} not found (set BITWEAVE_SHARED_MODELS)`);
        this.skip();
      }
      const notes: string[] = [];
      const m = convertBmxnet(symbol, { onNote: (n) => notes.push(n) });
      const t = m.tensors[m.input];
      assert.deepEqual([t.c, t.h, t.w], [1, 28, 28]);
      assert.match(notes.join('\n'), /input shape \[1, 28, 28\] inferred: 1 channel from the first layer 'convolution0' \(Convolution\), 28x28 the smallest square size whose map fits the 1024 inputs of 'qfullyconnected0'/);
    });

    it('the ImageNet ResNet-18 converts with --crop and no --input-shape; without either, one line names --input-shape', function () {
      requireImagenet(this);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bitweave-imnet-'));
      try {
        const out = path.join(dir, 'm.bnn');
        const r = bw('convert', ...IMAGENET, '-o', out, ...IMAGENET_FLAGS, '--json');
        assert.equal(r.code, 0, r.stderr);
        const j = JSON.parse(r.stdout);
        assert.deepEqual(j.inputShape, [3, 224, 224]);
        assert.deepEqual(j.preprocess, { channelOrder: 'rgb', scale: 255, mean: [123.68, 116.779, 103.939], std: [1, 1, 1], resize: { policy: 'shorter-side', size: 256 } });
        const none = bw('convert', ...IMAGENET, '-o', path.join(dir, 'x.bnn'));
        assertUserError(none, /the input shape is unknown: .*give it with --input-shape C,H,W \(or --crop HxW\)$/);
        assert.ok(!fs.existsSync(path.join(dir, 'x.bnn')));
        // a wrong shape speaks of the input shape, not of a BatchNorm parameter
        assertUserError(bw('convert', ...IMAGENET, '-o', path.join(dir, 'x.bnn'), '--input-shape', '1,28,28'),
          /^bitweave: error: input shape \[1, 28, 28\] \(given\) has 1 channel, but the first layer 'bn_data' \(BatchNorm\) takes 3 .*--input-shape 3,H,W/);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('make setup fetches the test photos', () => {
    /** setup.sh with stubs: all packages installed, `id -u` = uid, apt-get always failing; photos into an empty folder. */
    function setupWith(uid: number): { code: number; stderr: string; dir: string } {
      const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'bitweave-setup-bin-'));
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bitweave-setup-photos-'));
      fs.writeFileSync(path.join(bin, 'id'), `#!/bin/sh\necho ${uid}\n`, { mode: 0o755 });
      fs.writeFileSync(path.join(bin, 'dpkg-query'), '#!/bin/sh\necho "install ok installed"\n', { mode: 0o755 });
      fs.writeFileSync(path.join(bin, 'apt-get'), '#!/bin/sh\nexit 100\n', { mode: 0o755 });
      const r = spawnSync('bash', [path.join(ROOT, 'scripts/setup.sh')], { encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, BITWEAVE_PHOTOS: dir } });
      fs.rmSync(bin, { recursive: true, force: true });
      return { code: r.status ?? -1, stderr: r.stderr, dir };
    }

    it('as a non-root user: prints the exact command and succeeds; as root when the download fails: says so and succeeds', () => {
      for (const uid of [1000, 0]) {
        const r = setupWith(uid);
        try {
          assert.equal(r.code, 0, r.stderr);
          assert.deepEqual(fs.readdirSync(r.dir), []);
          if (uid) assert.match(r.stderr, /test photos missing .*\n {2}mkdir -p \S+ && cd \S+ && apt-get download python3-skimage && dpkg-deb --fsys-tarfile python3-skimage_\*\.deb \| tar -x --strip-components=7 \.\/usr\/lib\/python3\/dist-packages\/skimage\/data\/chelsea\.png \.\/usr\/lib\/python3\/dist-packages\/skimage\/data\/coffee\.png && rm python3-skimage_\*\.deb/);
          else assert.match(r.stderr, /could not fetch the test photos .* the tests that use them will skip/);
        } finally {
          fs.rmSync(r.dir, { recursive: true, force: true });
        }
      }
    });
  });

  describe('BMXNet\'s ImageNet ResNet-18 on two real photos', function () {
    this.timeout(600000);
    let dir = '';
    let bnn = '';

    before(function () {
      requireImagenet(this);
      requirePhotos(this);
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bitweave-photos-'));
      bnn = path.join(dir, 'resnet18.bnn');
      // labels: stand-ins (no synset list ships here), to see them stored and printed
      const labels = path.join(dir, 'labels.txt');
      fs.writeFileSync(labels, Array.from({ length: 1000 }, (_, i) => `n${String(i).padStart(8, '0')} class ${i}`).join('\n') + '\n');
      const r = bw('convert', ...IMAGENET, '-o', bnn, ...IMAGENET_FLAGS, '--labels', labels);
      assert.equal(r.code, 0, r.stderr);
    });
    after(() => dir && fs.rmSync(dir, { recursive: true, force: true }));

    it('reads the photos the setup fetched (CC0, from python3-skimage)', () => {
      assert.deepEqual([readImage(path.join(PHOTOS, 'chelsea.png')), readImage(path.join(PHOTOS, 'coffee.png'))].map((i) => [i.width, i.height, i.channels]), [[451, 300, 3], [600, 400, 3]]);
    });

    const want: Record<string, (top1: number) => boolean> = {
      'chelsea.png': (c) => c >= 281 && c <= 285, // a cat: tabby, tiger cat, Persian, Siamese, Egyptian cat
      'coffee.png': (c) => c === 967, // espresso
    };
    let reference: Record<string, Buffer> = {};

    for (const backend of ['reference', ...standaloneBackends().filter((b) => b !== 'reference')]) {
      it(`classifies chelsea.png as a cat and coffee.png as espresso on ${backend}, logits identical to the reference`, () => {
        for (const photo of Object.keys(want)) {
          const logits = path.join(dir, `${backend}-${photo}.npy`);
          const r = bw('run', bnn, '--input', path.join(PHOTOS, photo), '--backend', backend, '--top', '5', '--json', '-o', logits);
          assert.equal(r.code, 0, r.stderr);
          const top = JSON.parse(r.stdout).predictions[0].top as Array<{ class: number; label: string }>;
          assert.ok(want[photo](top[0].class), `${backend} ${photo}: top-5 ${top.map((t) => t.class).join(' ')}`);
          assert.equal(top[0].label, `n${String(top[0].class).padStart(8, '0')} class ${top[0].class}`);
          const bytes = Buffer.from((readNpy(logits).data as Float32Array).buffer);
          if (backend === 'reference') reference[photo] = bytes;
          else assert.ok(bytes.equals(reference[photo]), `${backend} ${photo}: logits differ from the reference`);
        }
      });
    }

    it('prints the labels next to the class indices', () => {
      const r = bw('run', bnn, '-i', path.join(PHOTOS, 'coffee.png'), '--backend', 'native', '--top', '2');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout.trimEnd(), /^image 0: 967 n00000967 class 967 \(\d+\.\d%\), \d+ n\d{8} class \d+ \(\d+\.\d%\)$/);
    });

    after(() => (reference = {}));
  });
});
