/**
 * The Intel resource and rate estimate (host/build/intel-estimate.ts): the counts follow the
 * kernels' structure, compile --board keeps a board's array only when it fits, and the
 * emitted README states the estimate as one.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { scheduleCycles } from '../../host/array/cycles';
import { RECORDED_XCUP } from '../../host/array/resources';
import { DEFAULT_ARRAY } from '../../host/array/params';
import { encodeSegment } from '../../host/array/program';
import { Board, loadBoard } from '../../host/boards';
import { ALM_PER_LUT6, intelFit, intelFits, intelRate, intelResources, LSU_ALM, MIN_WEIGHT_WORDS, sizeIntelArray } from '../../host/build/intel-estimate';
import { weightStoreWords } from '../../host/build/intel';
import { OPENCL_BUFFERS } from '../../host/array/limits';
import { emitIntelProject } from '../../host/build/intel';
import { kernelFiles } from '../../host/build/project';
import { boardArray } from '../../host/build/sizing';
import { packageRoot } from '../../host/core/paths';
import { readBnn } from '../../host/format/bnn';

const CNN = path.join(packageRoot(), 'models', 'fashion-cnn.bnn');

describe('Intel resource and rate estimate', () => {
  it('counts PEs, load/store units and memories from the kernels\' structure', () => {
    const r = intelResources({ rows: 8, cols: 32 });
    // the feeder and the PE array two sites each (an on-chip copy and a direct path), the output units 6
    assert.deepEqual(r.lsus, { feeder: 2, pe: 2, output: 6, total: 10 });
    assert.equal(r.parts.pes, Math.round(8 * 32 * RECORDED_XCUP.grid.lut * ALM_PER_LUT6));
    assert.equal(r.parts.lsus, 10 * LSU_ALM);
    assert.equal(r.alm, r.parts.pes + r.parts.lsus);
    assert.equal(r.dsp, 0);
    // more PEs, more of everything
    const big = intelResources({ rows: 16, cols: 32 });
    assert.ok(big.alm > r.alm && big.m20k > r.m20k);
  });

  it('sizes each Intel board to the largest array within half the device; the board files hold an array of that size', () => {
    for (const name of ['intel-pac-a10', 'de10-nano']) {
      const b = loadBoard(name);
      const s = sizeIntelArray(b)!;
      assert.ok(s && intelFits(b, s), name);
      // doubling either side no longer fits
      assert.ok(!intelFit(b, { rows: s.rows * 2, cols: s.cols }) && !intelFit(b, { rows: s.rows, cols: s.cols * 2 }), name);
      const own = intelFit(b, b.defaultArray);
      assert.ok(own && b.defaultArray.rows * b.defaultArray.cols === s.rows * s.cols, `${name}: the board file's array fits and is as large`);
      const a = boardArray(b);
      assert.deepEqual([a.rows, a.cols], [b.defaultArray.rows, b.defaultArray.cols]);
      assert.match(a.note, /the board's default array: estimated .* not an aoc report/);
    }
    // a default that does not fit is replaced, and the note says so
    const a10 = loadBoard('intel-pac-a10');
    const tooBig: Board = { ...a10, defaultArray: { ...a10.defaultArray, rows: 32, cols: 32 } };
    assert.equal(intelFit(tooBig, { rows: 32, cols: 32 }), null);
    const a = boardArray(tooBig);
    const s = sizeIntelArray(a10)!;
    assert.deepEqual([a.rows, a.cols], [s.rows, s.cols]);
    assert.match(a.note, /the largest array that fits \(the board's 32x32 does not\)/);
  });

  it('a smaller weight store where the default does not fit: the DE10-Nano gets one, the PAC the default', () => {
    const a10 = loadBoard('intel-pac-a10');
    const de10 = loadBoard('de10-nano');
    assert.equal(weightStoreWords(a10, a10.defaultArray), OPENCL_BUFFERS.weightWords);
    const w = weightStoreWords(de10, de10.defaultArray);
    assert.ok(w < OPENCL_BUFFERS.weightWords && w >= MIN_WEIGHT_WORDS);
    assert.ok(!intelFits(de10, intelResources(de10.defaultArray)) && intelFits(de10, intelResources(de10.defaultArray, w)));
    // the store is part of the M20K count
    assert.ok(intelResources({ rows: 8, cols: 8 }, 4096).m20k < intelResources({ rows: 8, cols: 8 }, 32768).m20k);
  });

  it('rate: the cycle model\'s tile phase per image, DDR bytes and the images/s at a given clock', () => {
    const m = readBnn(CNN);
    const array = { ...DEFAULT_ARRAY, rows: 8, cols: 32 };
    const progs = m.segments.flatMap((s, i) => (s.kind === 'device' ? [encodeSegment(m, i, array)] : []));
    const r = intelRate(progs, array, 200, 32);
    const cycles = progs.reduce((t, p) => t + scheduleCycles(p, [32], array).reduce((a, b) => a + b, 0), 0) / 32;
    assert.equal(r.cyclesPerImage, Math.round(cycles));
    assert.ok(Math.abs(r.imagesPerSecond - 200e6 / cycles) < 1e-6 * r.imagesPerSecond);
    // at least the weights of every tile and the outputs move
    assert.ok(r.bytesPerImage > 0 && Math.abs(r.ddrGBps - (r.bytesPerImage * r.imagesPerSecond) / 1e9) < 1e-9 * r.ddrGBps);
    assert.ok(intelRate(progs, array, 400, 32).imagesPerSecond > r.imagesPerSecond * 1.99);
  });

  it('docs/DEPLOY.md\'s estimate table is what the code computes for the board files\' arrays', () => {
    const doc = fs.readFileSync(path.join(packageRoot(), 'docs', 'DEPLOY.md'), 'utf8');
    const fmt = (v: number) => v.toLocaleString('en-US');
    for (const name of ['intel-pac-a10', 'de10-nano']) {
      const b = loadBoard(name);
      const r = intelFit(b, b.defaultArray)!;
      const row = doc.split('\n').find((l) => l.startsWith(`| ${name} (`));
      assert.ok(row, `${name}: a row in DEPLOY.md`);
      const cells = row!.split('|').map((c) => c.trim());
      assert.equal(cells[2], `${r.rows} × ${r.cols}`, name);
      assert.equal(cells[3], `${fmt(r.alm)} (${fmt(r.parts.pes)} + ${fmt(r.parts.lsus)})`, name);
      assert.match(cells[4], new RegExp(`^${r.m20k}\\b`), name);
      assert.equal(cells[5], String(r.lsus.total), name);
      assert.equal(cells[6], `${fmt(r.weightWords)} words`, name);
    }
  });

  it('the emitted README gives the estimate as an estimate, and warns when the array may not fit', () => {
    const model = readBnn(CNN);
    const board = loadBoard('intel-pac-a10');
    const readme = (rows: number, cols: number) => {
      const array = { ...DEFAULT_ARRAY, rows, cols };
      const p = emitIntelProject({ model, board, array, kernels: kernelFiles(array), segments: [], modelFile: 'model/fashion-cnn.bnn' });
      return p.files.get('README.md') as string;
    };
    const ok = readme(16, 32);
    assert.match(ok, new RegExp(`Estimated by bitweave from the kernels' structure, not by aoc: ${intelResources({ rows: 16, cols: 32 }).alm.toLocaleString('en-US')} ALMs`));
    assert.match(ok, /within 50% of the device/);
    assert.match(ok, /Rate, \*\*projected\*\*.*if aoc reached 200 MHz \(an assumption/);
    assert.match(readme(64, 32), /more than 50% of the device: it may not fit/);
  });
});
