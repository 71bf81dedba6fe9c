/**
 * PNG / JPEG decoding and conversion to network input (float32 NCHW in [0, 1]).
 *
 * Every step is integer or IEEE-double arithmetic with explicit rounding, so the same image
 * yields the same input bits on every machine and backend:
 *  - alpha is composited onto black (MNIST convention: background 0): c' = round(c*a/255);
 *  - grey = round((299 R + 587 G + 114 B) / 1000) in integers (ITU-R BT.601 luma), so a grey
 *    pixel (R = G = B) maps to itself exactly;
 *  - resizing is bilinear with half-pixel centres (src = (dst + 0.5) * in/out - 0.5, clamped
 *    to the edge; the convention of OpenCV INTER_LINEAR and PyTorch align_corners=False),
 *    computed in doubles and rounded half-up to a byte; no antialiasing, so large downscales
 *    alias (feed images near the model's size);
 *  - finally value = u8 / 255 stored as float32.
 */
import * as fs from 'node:fs';
import { PNG } from 'pngjs';
import * as jpeg from 'jpeg-js';
import { FormatError, ShapeError } from '../core/errors';
import { readBounded } from './idx';
import { jpegProblem, pngProblem } from './decode-errors';

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
  const out = new Uint8Array(ow * oh * c);
  // Precompute per-column taps once; rows are computed inline.
  const x0s = new Int32Array(ow), x1s = new Int32Array(ow), fxs = new Float64Array(ow);
  for (let x = 0; x < ow; x++) {
    const t = axis(x, w, ow);
    x0s[x] = t.i0; x1s[x] = t.i1; fxs[x] = t.f;
  }
  for (let y = 0; y < oh; y++) {
    const { i0: y0, i1: y1, f: fy } = axis(y, h, oh);
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
 * Convert a decoded image to one network input: channels 1 (grey) or 3 (RGB), resized to
 * height x width if needed, float32 = u8/255 in CHW order (the caller concatenates to NCHW).
 */
export function imageToInput(img: DecodedImage, shape: InputShape): Float32Array {
  const { channels, height, width } = shape;
  if (channels !== 1 && channels !== 3) throw new ShapeError(`image input needs 1 or 3 channels, model expects ${channels}`);
  if (!(Number.isInteger(height) && height > 0 && Number.isInteger(width) && width > 0)) {
    throw new ShapeError(`bad input size ${height}x${width}`);
  }
  if (img.width * img.height * img.channels !== img.data.length) {
    throw new ShapeError(`image claims ${img.width}x${img.height}x${img.channels} but holds ${img.data.length} bytes`);
  }
  const conv = toChannels(img, channels);
  const sized = resizeBilinear(conv, img.width, img.height, channels, width, height);
  const out = new Float32Array(channels * height * width);
  const plane = height * width;
  for (let p = 0; p < plane; p++) {
    for (let k = 0; k < channels; k++) out[k * plane + p] = sized[p * channels + k] / 255;
  }
  return out;
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
