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

const ROOT = path.resolve(__dirname, '../..');
const sim = (f: string) => path.join(ROOT, 'sim', f);

/** Builds test bench `top` from `files` (relative to sim/) with parameters `params`, runs it, returns its output. */
function runBench(top: string, files: string[], params: Record<string, number>): string {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bitweave-tb-'));
  try {
    const gs = Object.entries(params).map(([k, v]) => `-G${k}=${v}`);
    const build = spawnSync('nice', ['verilator', '--binary', '-Wall', '-j', '2', '-Mdir', tmp, ...gs, ...files.map(sim), '--top-module', top], { encoding: 'utf8' });
    assert.equal(build.status, 0, `${top} ${JSON.stringify(params)}: build failed\n${build.stderr}`);
    const run = spawnSync(path.join(tmp, `V${top}`), [], { encoding: 'utf8' });
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

  // one column per slot, the default-like 8 columns drained at once, and the pool-style
  // narrow drain of a wide slot; small rings so that the walker waits for the consumers
  for (const p of [{ COLS: 4, TS: 4, DRAIN: 2, SEED: 1 }, { COLS: 1, TS: 2, DRAIN: 1, SEED: 7 }, { COLS: 8, TS: 16, DRAIN: 8, SEED: 3 }, { COLS: 16, TS: 2, DRAIN: 1, SEED: 5 }]) {
    it(`pixel walker + tile ring: random layers' pixel streams reach the feeder and the output unit exactly (COLS ${p.COLS}, TS ${p.TS}, DRAIN ${p.DRAIN})`, () => {
      const out = runBench('tb_pixel_walker', ['bw_pkg.sv', 'bw_pixel_walker.sv', 'bw_tile_ring.sv', 'tb/tb_pixel_walker.sv'], p);
      const m = /PASS: 60 layers, (\d+) entries, (\d+) slots, ring full in (\d+) cycles/.exec(out);
      assert.ok(m, out);
      assert.ok(Number(m[1]) > 1000 && Number(m[2]) >= Number(m[1]) / p.COLS && Number(m[3]) > 0, out);
    });
  }
});
