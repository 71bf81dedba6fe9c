/**
 * Input preprocessing stored in a model (`CompiledModel.preprocess`, docs/FORMAT.md §3.6):
 * building it from the source framework's settings, describing it, and applying its value
 * mapping to raw inputs. The geometric part for pictures (channels, resize, crop) is in
 * image.ts.
 *
 * The value of model channel k for a byte u (0..255) of source channel s(k) is
 *
 *     v = float32((u * scale / 255 - mean[k]) / std[k])
 *
 * evaluated in IEEE double in exactly this order (multiply, divide, subtract, divide) and
 * rounded once to float32; s(k) = k for 'rgb' (and grey), 2 - k for 'bgr'. With the default
 * (scale 1, mean 0, std 1) this is u / 255, the mapping of models without stored
 * preprocessing, bit for bit. A float input x in [0, 1] (a raw .npy) maps as
 * v = float32((x * scale - mean[k]) / std[k]).
 */
import { BitweaveError, FormatError, ShapeError } from '../core/errors';
import { readFileBounded } from '../core/files';
import { defaultPreprocess, Preprocess } from '../compile/model';
import { PREPROCESS_LIMITS } from '../compile/validate';

/** The source framework's preprocessing as a user states it (CLI flags / API); resolved against the model input by resolvePreprocess. */
export interface PreprocessSpec {
  /** One value for every channel, or one per channel (in the model's channel order). */
  mean?: number[];
  std?: number[];
  /** Pixel range (default 1: values in [0, 1]; 255: 0..255). */
  scale?: number;
  channelOrder?: 'rgb' | 'bgr';
  /** Resize the shorter side to this many pixels (aspect kept), then centre-crop. */
  resize?: number;
  /** Default: 'shorter-side' when resize or crop is given, else 'stretch'. */
  resizePolicy?: 'stretch' | 'shorter-side';
  /** Centre crop [height, width]: the model input's spatial size. */
  crop?: [number, number];
}

export function hasPreprocessSpec(s: PreprocessSpec | undefined): boolean {
  return s !== undefined && Object.values(s).some((v) => v !== undefined);
}

/**
 * The Preprocess for a model whose input is channels x height x width. One mean / std value
 * is used for every channel. Errors name the CLI flag (one line).
 */
export function resolvePreprocess(spec: PreprocessSpec, [channels, height, width]: readonly number[]): Preprocess {
  const L = PREPROCESS_LIMITS;
  const perChannel = (v: number[] | undefined, flag: string, def: number): number[] => {
    if (v === undefined) return new Array(channels).fill(def);
    if (v.length === 1) return new Array(channels).fill(v[0]);
    if (v.length !== channels) {
      throw new ShapeError(`--${flag} has ${v.length} values, the model input has ${channels} channel${channels === 1 ? '' : 's'} (give one value or ${channels})`);
    }
    return [...v];
  };
  const mean = perChannel(spec.mean, 'mean', 0);
  const std = perChannel(spec.std, 'std', 1);
  mean.forEach((m) => {
    if (!(Number.isFinite(m) && Math.abs(m) <= L.maxAbsMean)) throw new BitweaveError(`--mean values must be finite numbers in [${-L.maxAbsMean}, ${L.maxAbsMean}], got ${m}`);
  });
  std.forEach((s) => {
    if (!(Number.isFinite(s) && s >= L.minStd && s <= L.maxStd)) throw new BitweaveError(`--std values must be numbers in [${L.minStd}, ${L.maxStd}], got ${s}`);
  });
  const scale = spec.scale ?? 1;
  if (!(Number.isFinite(scale) && scale > 0 && scale <= L.maxScale)) throw new BitweaveError(`--scale must be a number in (0, ${L.maxScale}], got ${scale}`);
  const channelOrder = spec.channelOrder ?? 'rgb';
  if (channelOrder !== 'rgb' && channelOrder !== 'bgr') throw new BitweaveError(`--channel-order must be rgb or bgr, got ${String(channelOrder)}`);
  if (channelOrder === 'bgr' && channels !== 3) throw new ShapeError(`--channel-order bgr needs a 3-channel model input, this one has ${channels}`);

  if (spec.crop !== undefined && (spec.crop[0] !== height || spec.crop[1] !== width)) {
    throw new ShapeError(`--crop ${spec.crop[0]}x${spec.crop[1]} disagrees with the model input ${channels}x${height}x${width} (the crop is the input's height x width)`);
  }
  const policy = spec.resizePolicy ?? (spec.resize !== undefined || spec.crop !== undefined ? 'shorter-side' : 'stretch');
  let resize: Preprocess['resize'];
  if (policy === 'stretch') {
    if (spec.resize !== undefined || spec.crop !== undefined) {
      throw new BitweaveError(`--resize-policy stretch resizes straight to the input size; --${spec.resize !== undefined ? 'resize' : 'crop'} needs --resize-policy shorter-side`);
    }
    resize = { policy: 'stretch' };
  } else if (policy === 'shorter-side') {
    const size = spec.resize ?? Math.max(height, width);
    if (!(Number.isInteger(size) && size >= Math.max(height, width) && size <= L.maxResize)) {
      throw new ShapeError(`--resize ${size} must be an integer from the crop's larger side (the input is ${height}x${width}) to ${L.maxResize}`);
    }
    resize = { policy: 'shorter-side', size };
  } else {
    throw new BitweaveError(`--resize-policy must be stretch or shorter-side, got ${String(policy)}`);
  }
  return { channelOrder, scale, mean, std, resize };
}

/** A model's preprocessing, or the default for its input channels. */
export function effectivePreprocess(p: Preprocess | undefined, channels: number): Preprocess {
  return p ?? defaultPreprocess(channels);
}

const num = (v: number) => String(Number(v.toPrecision(7)));

/** One line, e.g. "RGB, pixels 0..255, mean 123.68,116.779,103.939, std 1; shorter side to 256, centre crop 224x224". */
export function describePreprocess(p: Preprocess | undefined, [channels, height, width]: readonly number[]): string {
  const q = effectivePreprocess(p, channels);
  const same = (v: number[]) => v.every((x) => x === v[0]);
  const list = (v: number[]) => (same(v) ? num(v[0]) : v.map(num).join(','));
  const order = channels === 1 ? 'grey' : channels === 3 ? q.channelOrder.toUpperCase() : `${channels} channels`;
  const range = q.scale === 1 ? '[0, 1]' : `0..${num(q.scale)}`;
  const geometry = q.resize.policy === 'stretch'
    ? `stretched to ${height}x${width}`
    : `shorter side to ${q.resize.size}, centre crop ${height}x${width}`;
  return `${order}, pixels ${range}, mean ${list(q.mean)}, std ${list(q.std)}; ${geometry}${p === undefined ? ' (default: none stored)' : ''}`;
}

/** Source channel feeding model channel k. */
export function sourceChannel(p: Preprocess, k: number): number {
  return p.channelOrder === 'bgr' ? 2 - k : k;
}

/**
 * Bytes (count x C x H x W, NCHW, source channel order) -> model input, per the module
 * comment. `count` images of C*H*W bytes each.
 */
export function normalizeBytes(bytes: Uint8Array, count: number, [C, H, W]: readonly number[], p: Preprocess, out = new Float32Array(bytes.length)): Float32Array {
  const plane = H * W;
  for (let k = 0; k < C; k++) {
    const s = sourceChannel(p, k);
    // one table per channel: the value of every byte (same arithmetic as per pixel)
    const table = new Float32Array(256);
    for (let u = 0; u < 256; u++) table[u] = (u * p.scale / 255 - p.mean[k]) / p.std[k];
    for (let n = 0; n < count; n++) {
      const src = (n * C + s) * plane;
      const dst = (n * C + k) * plane;
      for (let i = 0; i < plane; i++) out[dst + i] = table[bytes[src + i]];
    }
  }
  return out;
}

/** Float pixels x in [0, 1] (count x C x H x W, source channel order) -> model input. */
export function normalizeUnit(x: Float32Array, count: number, [C, H, W]: readonly number[], p: Preprocess): Float32Array {
  const plane = H * W;
  const out = new Float32Array(x.length);
  for (let k = 0; k < C; k++) {
    const s = sourceChannel(p, k);
    const { scale } = p;
    const mean = p.mean[k];
    const std = p.std[k];
    for (let n = 0; n < count; n++) {
      const src = (n * C + s) * plane;
      const dst = (n * C + k) * plane;
      for (let i = 0; i < plane; i++) out[dst + i] = (x[src + i] * scale - mean) / std;
    }
  }
  return out;
}

/**
 * The bytes of [0, 1] images whose every value is exactly float32(u / 255) (the datasets'
 * and byte inputs' mapping), so they can take the byte path of normalizeBytes.
 */
export function unitToBytes(x: Float32Array, what: string): Uint8Array {
  const out = new Uint8Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const u = Math.round(x[i] * 255);
    if (!(u >= 0 && u <= 255) || Math.fround(u / 255) !== x[i]) {
      throw new BitweaveError(`${what}: value ${i} (${x[i]}) is not a byte level u/255`);
    }
    out[i] = u;
  }
  return out;
}

/** Largest labels file read. */
const MAX_LABELS_BYTES = 16 << 20;

/**
 * A labels file: UTF-8, one label per line (e.g. "n02123159 tiger cat"), a final newline
 * optional, CR LF accepted. Empty lines, and control characters, are errors naming the line.
 */
export function readLabels(file: string): string[] {
  const bytes = readFileBounded(file, MAX_LABELS_BYTES);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new FormatError(file, 'the labels file is not valid UTF-8');
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) throw new FormatError(file, 'the labels file is empty');
  lines.forEach((l, i) => {
    if (l.trim() === '') throw new FormatError(file, `line ${i + 1} is empty (one label per line)`);
    if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(l)) throw new FormatError(file, `line ${i + 1} contains a control character`);
    if (l.length > PREPROCESS_LIMITS.maxLabelLength) throw new FormatError(file, `line ${i + 1} has ${l.length} characters, the limit is ${PREPROCESS_LIMITS.maxLabelLength}`);
  });
  return lines;
}
