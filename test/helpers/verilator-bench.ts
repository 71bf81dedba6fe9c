/** Verilator test benches (sim/tb, sim/soc/tb): build one with `verilator --binary`, run it, return its output. */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeArrayHeaders } from '../../host/array/write-headers';
import { DEFAULT_ARRAY } from '../../host/array/params';

/**
 * Builds test bench `top` from `files` (absolute paths) with parameters `params`, runs it
 * and returns its output; `array` adds the generated package for that array size (first).
 */
export function runBench(top: string, files: string[], params: Record<string, number>, array?: { rows: number; cols: number }): string {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bitweave-tb-'));
  try {
    const gs = Object.entries(params).map(([k, v]) => `-G${k}=${v}`);
    const pkg: string[] = [];
    if (array) {
      // every module's parameters default to the generated package's constants
      writeArrayHeaders(tmp, { ...DEFAULT_ARRAY, ...array });
      pkg.push(`-I${tmp}`, path.join(tmp, 'bitweave_array.svh'));
    }
    const obj = path.join(tmp, 'obj');
    const build = spawnSync('nice', ['verilator', '--binary', '-Wall', '-j', '2', '-Mdir', obj, ...gs, ...pkg, ...files, '--top-module', top], { encoding: 'utf8' });
    assert.equal(build.status, 0, `${top} ${JSON.stringify(params)}: build failed\n${build.stderr}`);
    const run = spawnSync(path.join(obj, `V${top}`), [], { encoding: 'utf8' });
    const out = run.stdout + run.stderr;
    assert.equal(run.status, 0, `${top} ${JSON.stringify(params)}:\n${out}`);
    return out;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Skips the suite, with the reason, when verilator is not installed. */
export function requireVerilator(ctx: Mocha.Context): void {
  if (spawnSync('verilator', ['--version']).status !== 0) {
    console.log('      SKIPPED: verilator not installed (make setup installs it)');
    ctx.skip();
  }
}
