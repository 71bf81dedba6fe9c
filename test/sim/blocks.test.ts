/**
 * Test benches of single RTL blocks (sim/tb/): each is built with `verilator --binary`,
 * checks its blocks against behaviour written from their definition, and prints PASS
 * (or stops with $fatal). The whole array is tested in verilator-backend.test.ts.
 */
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { DEFAULT_ARRAY } from '../../host/array/params';
import { packageRoot } from '../../host/core/paths';
import { requireVerilator, runBench } from '../helpers/verilator-bench';

const ROOT = packageRoot();
const sim = (f: string) => path.join(ROOT, 'sim', f);

/** A bench from `files` (relative to sim/), with the generated package of `array` (default: the default array). */
const bench = (top: string, files: string[], params: Record<string, number>, array: { rows: number; cols: number } = DEFAULT_ARRAY) =>
  runBench(top, files.map(sim), params, array);

describe('RTL blocks (Verilator test benches)', function () {
  this.timeout(600_000);
  before(function () {
    requireVerilator(this);
  });

  // Each configuration is its own Verilator build (~4 s): two in `make test`, all four with
  // BITWEAVE_LONG=1 (make test-long).
  const long = !!process.env.BITWEAVE_LONG;

  // one column per slot, the default-like 8 columns drained at once, and the pool-style
  // narrow drain of a wide slot; small rings so that the walker waits for the consumers
  const walkers = [{ COLS: 4, TS: 4, DRAIN: 2, SEED: 1 }, { COLS: 16, TS: 2, DRAIN: 1, SEED: 5 }, { COLS: 1, TS: 2, DRAIN: 1, SEED: 7 }, { COLS: 8, TS: 16, DRAIN: 8, SEED: 3 }];
  for (const p of long ? walkers : walkers.slice(0, 2)) {
    it(`pixel walker + tile ring: random layers' pixel streams reach the feeder and the output unit exactly (COLS ${p.COLS}, TS ${p.TS}, DRAIN ${p.DRAIN})`, () => {
      const out = bench('tb_pixel_walker', ['bw_pkg.sv', 'bw_pixel_walker.sv', 'bw_tile_ring.sv', 'tb/tb_pixel_walker.sv'], p);
      const m = /PASS: 60 layers, (\d+) entries, (\d+) slots, ring full in (\d+) cycles/.exec(out);
      assert.ok(m, out);
      assert.ok(Number(m[1]) > 1000 && Number(m[2]) >= Number(m[1]) / p.COLS && Number(m[3]) > 0, out);
    });
  }

  // the drain (DRAIN) and the walker (G tiles per slot) set the tile period of short tiles
  const layers = [[8, 8, 1], [4, 16, 4], [8, 8, 4], [2, 2, 2]] as const;
  for (const [rows, cols, drain] of long ? layers : layers.slice(0, 2)) {
    it(`layer: descriptors fetched, prefetched and decoded (fields, products, tile period, error bits) at ${rows}x${cols}, DRAIN ${drain}`, () => {
      const out = bench('tb_layer', ['bw_pkg.sv', 'bw_layer.sv', 'tb/tb_layer.sv'], { DRAIN: drain, SEED: rows + cols + drain }, { rows, cols });
      const m = /PASS: (\d+) descriptors, (\d+) refused \(error bits 1111 seen\), (\d+) words prefetched/.exec(out);
      assert.ok(m, out);
      assert.ok(Number(m[1]) > 400 && Number(m[2]) > 50 && Number(m[3]) > 1000, out);
    });
  }
  if (!long) {
    it('the other block configurations (BITWEAVE_LONG=1)', function () {
      console.log('      SKIPPED: set BITWEAVE_LONG=1 (make test-long) for the walker at COLS 1 and 8 and the layer block at 8x8 DRAIN 4 and 2x2');
      this.skip();
    });
  }
});
