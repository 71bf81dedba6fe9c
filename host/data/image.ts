/**
 * PNG / JPEG decoding and conversion to network input (float32 NCHW).
 *
 * Every step is integer or IEEE-double arithmetic with explicit rounding, so the same image
 * yields the same input bits on every machine and backend:
 *  - alpha is composited onto black (MNIST convention: background 0): c' = round(c*a/255);
 *  - grey = round((299 R + 587 G + 114 B) / 1000) in integers (ITU-R BT.601 luma), so a grey
 *    pixel (R = G = B) maps to itself exactly; a grey image feeds a 3-channel model as R = G = B;
 *  - geometry, by the model's resize policy (Preprocess.resize; default 'stretch'):
 *     - 'stretch': resize to the input's height x width (aspect not kept);
 *     - 'shorter-side' N: the shorter side becomes N and the longer L' = floor(L * N / S)
 *       (integer division, as MXNet's resize_short), then the centre crop of the input's
 *       H x W at x0 = floor((W' - W) / 2), y0 = floor((H' - H) / 2) (MXNet's center_crop);
 *       only the crop window is computed;
 *  - resampling: bilinear with half-pixel centres (src = (dst + 0.5) * in/out - 0.5, clamped
 *    to the edge; the convention of OpenCV INTER_LINEAR and PyTorch align_corners=False),
 *    computed in doubles and rounded half-up to a byte. Bilinear without antialiasing aliases
 *    on large downscales, so the shorter-side policy averages areas instead when it shrinks
 *    by more than 2x (shorter side > 2N): output pixel X of an axis covers input
 *    [X*in/out, (X+1)*in/out), each input pixel weighted by its overlap, computed exactly in
 *    integers (overlaps in units of 1/out, total weight in_w * in_h) and rounded half up
 *    (OpenCV INTER_AREA's definition). 'stretch' keeps bilinear at every size (feed images
 *    near the model's size);
 *  - values: float32((u * scale / 255 - mean[k]) / std[k]) per model channel k, channels
 *    swapped for 'bgr' (host/data/preprocess.ts); without stored preprocessing u / 255.
 */
import * as fs from 'node:fs';
import { PNG } from 'pngjs';
import * as jpeg from 'jpeg-js';
import { FormatError, ShapeError } from '../core/errors';
import { Preprocess } from '../compile/model';
import { readBounded } from './idx';
import { jpegProblem, pngProblem } from './decode-errors';
import { normalizeBytes } from './preprocess';

export interface DecodedImage {
  width: number;
  height: number;
  /** 1 (grey) or 3 (RGB), interleaved row-major. */
  channels: 1 | 3;
  data: Uint8Array;
}

export interface InputShape {
  channels: number;
  height: number;
  width: number;
}

/** Refuse images over this many pixels before decoding (a header can claim anything). */
export const MAX_IMAGE_PIXELS = 40_000_000;
const MAX_JPEG_MEMORY_MB = 512;
const MAX_IMAGE_FILE_BYTES = 256 * 1024 * 1024;

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export function isPng(b: Uint8Array): boolean {
  return b.length >= 8 && PNG_MAGIC.every((v, i) => b[i] === v);
}

export function isJpeg(b: Uint8Array): boolean {
  return b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;
}

function decodePng(bytes: Uint8Array, file: string): DecodedImage {
  // IHDR must be the first chunk: length(4) "IHDR" width(4) height(4) depth colorType ...
  if (bytes.length < 8 + 8 + 13) throw new FormatError(file, 'truncated PNG (no IHDR chunk)');
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.toString('latin1', 12, 16) !== 'IHDR') throw new FormatError(file, 'corrupt PNG: first chunk is not IHDR');
  const w = b.readUInt32BE(16);
  const h = b.readUInt32BE(20);
  if (w === 0 || h === 0) throw new FormatError(file, `corrupt PNG: size ${w}x${h}`);
  if (w * h > MAX_IMAGE_PIXELS) throw new FormatError(file, `PNG is ${w}x${h}, more than the ${MAX_IMAGE_PIXELS}-pixel limit`);
  const colorType = b[25];
  let png: PNG;
  try {
    png = PNG.sync.read(b);
  } catch (e) {
    throw new FormatError(file, `corrupt PNG: ${pngProblem(e)}`);
  }
  if (png.width !== w || png.height !== h || png.data.length !== w * h * 4) {
    throw new FormatError(file, 'corrupt PNG: decoded size disagrees with its header');
  }
  // pngjs always hands back 8-bit RGBA; grey colour types (0, 4) keep R = G = B.
  const grey = colorType === 0 || colorType === 4;
  const channels = grey ? 1 : 3;
  const out = new Uint8Array(w * h * channels);
  const src = png.data;
  for (let p = 0; p < w * h; p++) {
    const a = src[4 * p + 3];
    for (let c = 0; c < channels; c++) {
      const v = src[4 * p + c];
      out[p * channels + c] = a === 255 ? v : Math.floor((v * a + 127) / 255);
    }
  }
  return { width: w, height: h, channels, data: out };
}

function decodeJpeg(bytes: Uint8Array, file: string): DecodedImage {
  let img: { width: number; height: number; data: Uint8Array };
  try {
    img = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: false,
      // Truncated or damaged streams must fail rather than give a half-grey image.
      tolerantDecoding: false,
      maxResolutionInMP: MAX_IMAGE_PIXELS / 1e6,
      maxMemoryUsageInMB: MAX_JPEG_MEMORY_MB,
    });
  } catch (e) {
    throw new FormatError(file, `corrupt or unsupported JPEG: ${jpegProblem(e, bytes, { pixels: MAX_IMAGE_PIXELS, memoryMB: MAX_JPEG_MEMORY_MB })}`);
  }
  const { width, height, data } = img;
  if (!(width > 0 && height > 0) || data.length !== width * height * 3) {
    throw new FormatError(file, `corrupt JPEG: decoded ${width}x${height} with ${data.length} bytes`);
  }
  // jpeg-js expands greyscale JPEGs to RGB; luma of R = G = B is exact, so nothing is lost.
  return { width, height, channels: 3, data };
}

/** Decode PNG or JPEG bytes (detected by magic, not by file name). */
export function decodeImage(bytes: Uint8Array, file = '<image>'): DecodedImage {
  if (isPng(bytes)) return decodePng(bytes, file);
  if (isJpeg(bytes)) return decodeJpeg(bytes, file);
  throw new FormatError(file, 'not a PNG or JPEG image');
}

export function readImage(path: string): DecodedImage {
  return decodeImage(readBounded(path, MAX_IMAGE_FILE_BYTES), path);
}

/** Integer BT.601 luma; exact for grey pixels. */
export function luma(r: number, g: number, b: number): number {
  return Math.floor((299 * r + 587 * g + 114 * b + 500) / 1000);
}

function toChannels(img: DecodedImage, channels: 1 | 3): Uint8Array {
  const n = img.width * img.height;
  if (img.channels === channels) return img.data;
  const out = new Uint8Array(n * channels);
  const s = img.data;
  if (channels === 1) {
    for (let p = 0; p < n; p++) out[p] = luma(s[3 * p], s[3 * p + 1], s[3 * p + 2]);
  } else {
    for (let p = 0; p < n; p++) out[3 * p] = out[3 * p + 1] = out[3 * p + 2] = s[p];
  }
  return out;
}

/** Bilinear resize of an interleaved u8 image (see the module comment for the convention). */
export function resizeBilinear(src: Uint8Array, w: number, h: number, c: number, ow: number, oh: number): Uint8Array {
  if (w === ow && h === oh) return src;
  return resizeWindow(src, w, h, c, { width: ow, height: oh, x0: 0, y0: 0, cropWidth: ow, cropHeight: oh }, 'bilinear');
}

/** A window of a resized image: the image resized to width x height, of which the cropWidth x cropHeight pixels at (x0, y0) are computed. */
export interface ResizeWindow {
  width: number;
  height: number;
  x0: number;
  y0: number;
  cropWidth: number;
  cropHeight: number;
}

/**
 * Resize an interleaved u8 image (w x h x c) to `win.width x win.height` and return only
 * the window at (x0, y0) of cropWidth x cropHeight pixels, by bilinear interpolation or
 * area averaging (module comment). Output pixels outside the window are never computed,
 * so a large resize of a small crop costs only the crop.
 */
export function resizeWindow(src: Uint8Array, w: number, h: number, c: number, win: ResizeWindow, mode: 'bilinear' | 'area'): Uint8Array {
  const { width: rw, height: rh, x0, y0, cropWidth: ow, cropHeight: oh } = win;
  const ints = [w, h, c, rw, rh, ow, oh];
  if (!ints.every((v) => Number.isSafeInteger(v) && v > 0) || !(Number.isSafeInteger(x0) && Number.isSafeInteger(y0) && x0 >= 0 && y0 >= 0)) {
    throw new ShapeError(`bad resize window ${JSON.stringify(win)} of a ${w}x${h}x${c} image`);
  }
  if (x0 + ow > rw || y0 + oh > rh) throw new ShapeError(`crop ${ow}x${oh} at (${x0}, ${y0}) lies outside the ${rw}x${rh} resized image`);
  if (src.length !== w * h * c) throw new ShapeError(`image claims ${w}x${h}x${c} but holds ${src.length} bytes`);
  return mode === 'area' ? areaWindow(src, w, h, c, win) : bilinearWindow(src, w, h, c, win);
}

function bilinearWindow(src: Uint8Array, w: number, h: number, c: number, win: ResizeWindow): Uint8Array {
  const { width: rw, height: rh, x0: cx, y0: cy, cropWidth: ow, cropHeight: oh } = win;
  const out = new Uint8Array(ow * oh * c);
  // Precompute per-column taps once; rows are computed inline.
  const x0s = new Int32Array(ow), x1s = new Int32Array(ow), fxs = new Float64Array(ow);
  for (let x = 0; x < ow; x++) {
    const t = axis(x + cx, w, rw);
    x0s[x] = t.i0; x1s[x] = t.i1; fxs[x] = t.f;
  }
  for (let y = 0; y < oh; y++) {
    const { i0: y0, i1: y1, f: fy } = axis(y + cy, h, rh);
    for (let x = 0; x < ow; x++) {
      const x0 = x0s[x], x1 = x1s[x], fx = fxs[x];
      for (let k = 0; k < c; k++) {
        const a = src[(y0 * w + x0) * c + k], b = src[(y0 * w + x1) * c + k];
        const d = src[(y1 * w + x0) * c + k], e = src[(y1 * w + x1) * c + k];
        const top = a + (b - a) * fx;
        const bot = d + (e - d) * fx;
        const v = Math.floor(top + (bot - top) * fy + 0.5);
        out[(y * ow + x) * c + k] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
    }
  }
  return out;
}

function axis(o: number, inSize: number, outSize: number): { i0: number; i1: number; f: number } {
  let s = ((o + 0.5) * inSize) / outSize - 0.5;
  if (s < 0) s = 0;
  if (s > inSize - 1) s = inSize - 1;
  const i0 = Math.floor(s);
  const i1 = Math.min(i0 + 1, inSize - 1);
  return { i0, i1, f: s - i0 };
}

/**
 * Area taps of output index o along an axis of `inSize` input pixels resized to `outSize`:
 * output o covers [o*in, (o+1)*in) and input pixel i covers [i*out, (i+1)*out) in units of
 * 1/out pixel, so the overlaps are integers and sum to inSize.
 */
function areaTaps(o: number, inSize: number, outSize: number): { first: number; weights: number[] } {
  const lo = o * inSize;
  const hi = lo + inSize;
  const first = Math.floor(lo / outSize);
  const weights: number[] = [];
  for (let i = first; i * outSize < hi && i < inSize; i++) {
    weights.push(Math.min(hi, (i + 1) * outSize) - Math.max(lo, i * outSize));
  }
  return { first, weights };
}

function areaWindow(src: Uint8Array, w: number, h: number, c: number, win: ResizeWindow): Uint8Array {
  const { width: rw, height: rh, x0: cx, y0: cy, cropWidth: ow, cropHeight: oh } = win;
  if (rw > w || rh > h) throw new ShapeError(`area averaging only shrinks: ${w}x${h} -> ${rw}x${rh}`);
  const cols = Array.from({ length: ow }, (_, x) => areaTaps(x + cx, w, rw));
  const out = new Uint8Array(ow * oh * c);
  // Sums are exact integers: at most 255 * w * h < 2^53 for images under MAX_IMAGE_PIXELS.
  const total = w * h;
  const acc = new Float64Array(ow * c);
  const row = new Float64Array(ow * c);
  for (let y = 0; y < oh; y++) {
    const rows = areaTaps(y + cy, h, rh);
    acc.fill(0);
    rows.weights.forEach((wy, r) => {
      const base = (rows.first + r) * w * c;
      row.fill(0);
      for (let x = 0; x < ow; x++) {
        const { first, weights } = cols[x];
        for (let t = 0; t < weights.length; t++) {
          const p = base + (first + t) * c;
          for (let k = 0; k < c; k++) row[x * c + k] += weights[t] * src[p + k];
        }
      }
      for (let i = 0; i < acc.length; i++) acc[i] += wy * row[i];
    });
    for (let i = 0; i < acc.length; i++) {
      // round half up: floor((2 * sum + total) / (2 * total)), exact (see above)
      out[y * ow * c + i] = Math.floor((2 * acc[i] + total) / (2 * total));
    }
  }
  return out;
}

/** Size of an image of w x h after its shorter side becomes n (longer: floor(L * n / S), as MXNet's resize_short). */
export function shorterSideSize(w: number, h: number, n: number): { width: number; height: number } {
  return w <= h ? { width: n, height: Math.floor((h * n) / w) } : { width: Math.floor((w * n) / h), height: n };
}

/**
 * Convert a decoded image to one network input, C x H x W float32 (the caller concatenates
 * to NCHW): channels 1 (grey) or 3, resized and cropped per `pp.resize` (default: stretched
 * to H x W), values per `pp` (default u8 / 255). See the module comment.
 */
export function imageToInput(img: DecodedImage, shape: InputShape, pp?: Preprocess): Float32Array {
  const { channels, height, width } = shape;
  if (channels !== 1 && channels !== 3) throw new ShapeError(`image input needs 1 or 3 channels, model expects ${channels}`);
  if (!(Number.isInteger(height) && height > 0 && Number.isInteger(width) && width > 0)) {
    throw new ShapeError(`bad input size ${height}x${width}`);
  }
  if (img.width * img.height * img.channels !== img.data.length) {
    throw new ShapeError(`image claims ${img.width}x${img.height}x${img.channels} but holds ${img.data.length} bytes`);
  }
  const conv = toChannels(img, channels);
  let sized: Uint8Array;
  if (pp === undefined || pp.resize.policy === 'stretch') {
    sized = resizeBilinear(conv, img.width, img.height, channels, width, height);
  } else {
    const n = pp.resize.size;
    const r = shorterSideSize(img.width, img.height, n);
    if (r.width < width || r.height < height) throw new ShapeError(`resize to shorter side ${n} gives ${r.width}x${r.height}, smaller than the ${width}x${height} crop`);
    const win = { ...r, x0: Math.floor((r.width - width) / 2), y0: Math.floor((r.height - height) / 2), cropWidth: width, cropHeight: height };
    const mode = Math.min(img.width, img.height) > 2 * n ? 'area' : 'bilinear';
    // nothing to resample or crop: the image already is the input's size
    sized = r.width === width && r.height === height && r.width === img.width && r.height === img.height
      ? conv
      : resizeWindow(conv, img.width, img.height, channels, win, mode);
  }
  const plane = height * width;
  const chw = new Uint8Array(channels * plane);
  for (let p = 0; p < plane; p++) {
    for (let k = 0; k < channels; k++) chw[k * plane + p] = sized[p * channels + k];
  }
  if (pp === undefined) {
    const out = new Float32Array(channels * plane);
    for (let i = 0; i < chw.length; i++) out[i] = chw[i] / 255;
    return out;
  }
  return normalizeBytes(chw, 1, [channels, height, width], pp);
}

/** Convenience: encode an interleaved u8 image as PNG (grey or RGB); used by tests and tools. */
export function encodePng(img: DecodedImage): Buffer {
  const png = new PNG({ width: img.width, height: img.height });
  const n = img.width * img.height;
  for (let p = 0; p < n; p++) {
    for (let k = 0; k < 3; k++) png.data[4 * p + k] = img.data[p * img.channels + (img.channels === 1 ? 0 : k)];
    png.data[4 * p + 3] = 255;
  }
  return PNG.sync.write(png, img.channels === 1 ? { colorType: 0 } : { colorType: 2 });
}

export function writePng(path: string, img: DecodedImage): void {
  fs.writeFileSync(path, encodePng(img));
}
