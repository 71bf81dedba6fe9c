/**
 * Test benches of single RTL blocks (sim/tb/): each is built with `verilator --binary`,
 * checks its blocks against behaviour written from their definition, and prints PASS
 * (or stops with $fatal). The whole array is tested in verilator-backend.test.ts.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_ARRAY } from '../../host/array/params';
import { writeArrayHeaders } from '../../host/array/write-headers';
import { packageRoot } from '../../host/core/paths';

const ROOT = packageRoot();
const sim = (f: string) => path.join(ROOT, 'sim', f);

/**
 * Builds test bench `top` from `files` (relative to sim/) with parameters `params`, runs
 * it and returns its output; `array` adds the generated package for that array size.
 */
function runBench(top: string, files: string[], params: Record<string, number>, array?: { rows: number; cols: number }): string {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bitweave-tb-'));
  try {
    const gs = Object.entries(params).map(([k, v]) => `-G${k}=${v}`);
    // every module's parameters default to the generated package's constants
    writeArrayHeaders(tmp, { ...DEFAULT_ARRAY, ...array });
    const pkg = [`-I${tmp}`, path.join(tmp, 'bitweave_array.svh')];
    const obj = path.join(tmp, 'obj');
    const build = spawnSync('nice', ['verilator', '--binary', '-Wall', '-j', '2', '-Mdir', obj, ...gs, ...pkg, ...files.map(sim), '--top-module', top], { encoding: 'utf8' });
    assert.equal(build.status, 0, `${top} ${JSON.stringify(params)}: build failed\n${build.stderr}`);
    const run = spawnSync(path.join(obj, `V${top}`), [], { encoding: 'utf8' });
    const out = run.stdout + run.stderr;
    assert.equal(run.status, 0, `${top} ${JSON.stringify(params)}:\n${out}`);
    return out;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

describe('RTL blocks (Verilator test benches)', function () {
  this.timeout(600_000);
  before(function () {
    if (spawnSync('verilator', ['--version']).status !== 0) {
      console.log('      SKIPPED: verilator not installed (make setup installs it)');
      this.skip();
    }
  });

  // Each configuration is its own Verilator build (~4 s): two in `make test`, all four with
  // BITWEAVE_LONG=1 (make test-long).
  const long = !!process.env.BITWEAVE_LONG;

  // one column per slot, the default-like 8 columns drained at once, and the pool-style
  // narrow drain of a wide slot; small rings so that the walker waits for the consumers
  const walkers = [{ COLS: 4, TS: 4, DRAIN: 2, SEED: 1 }, { COLS: 16, TS: 2, DRAIN: 1, SEED: 5 }, { COLS: 1, TS: 2, DRAIN: 1, SEED: 7 }, { COLS: 8, TS: 16, DRAIN: 8, SEED: 3 }];
  for (const p of long ? walkers : walkers.slice(0, 2)) {
    it(`pixel walker + tile ring: random layers' pixel streams reach the feeder and the output unit exactly (COLS ${p.COLS}, TS ${p.TS}, DRAIN ${p.DRAIN})`, () => {
      const out = runBench('tb_pixel_walker', ['bw_pkg.sv', 'bw_pixel_walker.sv', 'bw_tile_ring.sv', 'tb/tb_pixel_walker.sv'], p);
      const m = /PASS: 60 layers, (\d+) entries, (\d+) slots, ring full in (\d+) cycles/.exec(out);
      assert.ok(m, out);
      assert.ok(Number(m[1]) > 1000 && Number(m[2]) >= Number(m[1]) / p.COLS && Number(m[3]) > 0, out);
    });
  }

  // the drain (DRAIN) and the walker (G tiles per slot) set the tile period of short tiles
  const layers = [[8, 8, 1], [4, 16, 4], [8, 8, 4], [2, 2, 2]] as const;
  for (const [rows, cols, drain] of long ? layers : layers.slice(0, 2)) {
    it(`layer: descriptors fetched, prefetched and decoded (fields, products, tile period, error bits) at ${rows}x${cols}, DRAIN ${drain}`, () => {
      const out = runBench('tb_layer', ['bw_pkg.sv', 'bw_layer.sv', 'tb/tb_layer.sv'], { DRAIN: drain, SEED: rows + cols + drain }, { rows, cols });
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
