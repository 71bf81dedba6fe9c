import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { PNG } from 'pngjs';
import * as jpeg from 'jpeg-js';
import { ShapeError } from '../../host/core/errors';
import { decodeImage, imageToInput, readImage, resizeBilinear, encodePng, luma, DecodedImage } from '../../host/data/image';
import { assertFormatError, parsesOrFormatError } from '../helpers/format-errors';
import { scratchDir } from '../helpers/run';

// created at load and removed at process exit, so it works under --grep and with other files
const tmp = scratchDir('data', true);

describe('data: images', () => {
  function pngBytes(w: number, h: number, rgba: number[], colorType: 0 | 2 | 4 | 6): Buffer {
    const png = new PNG({ width: w, height: h });
    png.data.set(rgba);
    return PNG.sync.write(png, { colorType });
  }

  it('decodes grey and RGB PNGs exactly', () => {
    const grey = [10, 20, 30, 40, 50, 255];
    const g = decodeImage(pngBytes(3, 2, grey.flatMap((v) => [v, v, v, 255]), 0));
    assert.deepEqual({ w: g.width, h: g.height, c: g.channels }, { w: 3, h: 2, c: 1 });
    assert.deepEqual([...g.data], grey);
    const rgb = [255, 0, 0, 0, 255, 0, 0, 0, 255, 12, 34, 56];
    const c = decodeImage(pngBytes(2, 2, [0, 1, 2, 3].flatMap((p) => [...rgb.slice(3 * p, 3 * p + 3), 255]), 2));
    assert.equal(c.channels, 3);
    assert.deepEqual([...c.data], rgb);
  });

  it('composites alpha onto black', () => {
    const img = decodeImage(pngBytes(2, 1, [200, 100, 50, 128, 255, 255, 255, 0], 6));
    assert.deepEqual([...img.data], [100, 50, 25, 0, 0, 0]);
  });

  it('converts to grey with integer BT.601 luma and to CHW float32', () => {
    assert.equal(luma(255, 0, 0), 76);   // 76.245
    assert.equal(luma(0, 255, 0), 150);  // 149.685
    assert.equal(luma(0, 0, 255), 29);   // 29.07
    for (let v = 0; v < 256; v++) assert.equal(luma(v, v, v), v);
    const img: DecodedImage = { width: 2, height: 1, channels: 3, data: Uint8Array.from([255, 0, 0, 10, 20, 30]) };
    const grey = imageToInput(img, { channels: 1, height: 1, width: 2 });
    assert.deepEqual([...grey], [76 / 255, luma(10, 20, 30) / 255].map(Math.fround));
    const rgb = imageToInput(img, { channels: 3, height: 1, width: 2 });
    assert.deepEqual([...rgb], [255, 10, 0, 20, 0, 30].map((v) => Math.fround(v / 255)));
    const g1: DecodedImage = { width: 1, height: 1, channels: 1, data: Uint8Array.from([51]) };
    assert.deepEqual([...imageToInput(g1, { channels: 3, height: 1, width: 1 })], [0.2, 0.2, 0.2].map(Math.fround));
    assert.throws(() => imageToInput(g1, { channels: 2, height: 1, width: 1 }), ShapeError);
  });

  it('resizes bilinearly with half-pixel centres', () => {
    assert.deepEqual([...resizeBilinear(Uint8Array.from([0, 100]), 2, 1, 1, 4, 1)], [0, 25, 75, 100]);
    assert.deepEqual([...resizeBilinear(Uint8Array.from([0, 10, 20, 30]), 4, 1, 1, 2, 1)], [5, 25]);
    // 2x2 -> 3x3: centre samples the mean of all four.
    const up = resizeBilinear(Uint8Array.from([0, 100, 200, 40]), 2, 2, 1, 3, 3);
    assert.equal(up[4], 85);
    assert.deepEqual([up[0], up[2], up[6], up[8]], [0, 100, 200, 40]);
    // Interleaved channels are resized independently.
    const two = resizeBilinear(Uint8Array.from([0, 200, 100, 0]), 2, 1, 2, 4, 1);
    assert.deepEqual([...two], [0, 200, 25, 150, 75, 50, 100, 0]);
  });

  it('property: resizing a constant image keeps it constant and in range', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 255 }), (w, h, ow, oh, v) => {
      const out = resizeBilinear(new Uint8Array(w * h).fill(v), w, h, 1, ow, oh);
      assert.equal(out.length, ow * oh);
      assert.ok(out.every((x) => x === v));
    }));
  });

  it('decodes and resizes a PNG file the test writes, and a JPEG', () => {
    const w = 56, h = 56;
    const data = new Uint8Array(w * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[y * w + x] = x < 28 ? 0 : 255;
    const p = path.join(tmp, 'half.png');
    fs.writeFileSync(p, encodePng({ width: w, height: h, channels: 1, data }));
    const img = readImage(p);
    assert.equal(img.channels, 1);
    const input = imageToInput(img, { channels: 1, height: 28, width: 28 });
    assert.equal(input.length, 784);
    for (let y = 0; y < 28; y++) {
      assert.equal(input[y * 28 + 0], 0);
      assert.equal(input[y * 28 + 13], 0);
      assert.equal(input[y * 28 + 14], 1);
      assert.equal(input[y * 28 + 27], 1);
    }

    // A flat-colour JPEG survives lossy coding within a couple of levels.
    const jw = 16, jh = 8;
    const rgba = Buffer.alloc(jw * jh * 4);
    for (let i = 0; i < jw * jh; i++) rgba.set([200, 100, 50, 255], 4 * i);
    const jpg = jpeg.encode({ width: jw, height: jh, data: rgba }, 100).data;
    const jp = path.join(tmp, 'flat.jpg');
    fs.writeFileSync(jp, jpg);
    const j = readImage(jp);
    assert.deepEqual({ w: j.width, h: j.height, c: j.channels }, { w: jw, h: jh, c: 3 });
    for (let i = 0; i < jw * jh; i++) {
      assert.ok(Math.abs(j.data[3 * i] - 200) <= 2 && Math.abs(j.data[3 * i + 1] - 100) <= 2 && Math.abs(j.data[3 * i + 2] - 50) <= 2);
    }
    const g = imageToInput(j, { channels: 1, height: 4, width: 4 });
    for (const v of g) assert.ok(Math.abs(v * 255 - luma(200, 100, 50)) <= 2);
    const rgb = imageToInput(j, { channels: 3, height: 2, width: 2 });
    assert.equal(rgb.length, 12);
    assert.ok(Math.abs(rgb[0] * 255 - 200) <= 2 && Math.abs(rgb[4] * 255 - 100) <= 2 && Math.abs(rgb[8] * 255 - 50) <= 2);
  });

  it('rejects corrupt, truncated and oversized images with FormatError', () => {
    const png = pngBytes(4, 4, new Array(64).fill(7), 6);
    assertFormatError(() => decodeImage(png.subarray(0, png.length - 20), 'cut.png'), /cut\.png: corrupt PNG/);
    const badCrc = Buffer.from(png);
    badCrc[30] ^= 1;
    assertFormatError(() => decodeImage(badCrc));
    assertFormatError(() => decodeImage(png.subarray(0, 20)), /truncated PNG/);
    const huge = Buffer.from(png);
    huge.writeUInt32BE(100000, 16);
    huge.writeUInt32BE(100000, 20);
    assertFormatError(() => decodeImage(huge), /pixel limit/);
    const rgba = Buffer.alloc(8 * 8 * 4, 90);
    const jpg = jpeg.encode({ width: 8, height: 8, data: rgba }, 90).data;
    assertFormatError(() => decodeImage(jpg.subarray(0, jpg.length >> 1), 'cut.jpg'), /cut\.jpg: corrupt or unsupported JPEG/);
    const bigJpg = Buffer.from(jpg);
    const sof = bigJpg.indexOf(Buffer.from([0xff, 0xc0]));
    bigJpg.writeUInt16BE(65535, sof + 5);
    bigJpg.writeUInt16BE(65535, sof + 7);
    assertFormatError(() => decodeImage(bigJpg), /the image is larger than the 40,000,000-pixel limit/);
    assertFormatError(() => decodeImage(Buffer.from('GIF89a...')), /not a PNG or JPEG/);
    fc.assert(fc.property(fc.integer({ min: 0, max: jpg.length - 1 }), fc.integer({ min: 0, max: png.length - 1 }), (a, b) => {
      parsesOrFormatError(() => decodeImage(jpg.subarray(0, a)));
      parsesOrFormatError(() => decodeImage(png.subarray(0, b)));
    }), { numRuns: 200 });
  });
});
