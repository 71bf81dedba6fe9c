import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { arrayHeaderC, arrayHeaderSv } from '../../host/array/header';
import { DEFAULT_ARRAY, DESC_FIELDS, DESC_WORDS } from '../../host/array/params';

describe('generated array headers', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bitweave-hdr-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('the C header compiles and agrees with params.ts', () => {
    fs.writeFileSync(path.join(tmp, 'bitweave_array.h'), arrayHeaderC(DEFAULT_ARRAY));
    const checks = DESC_FIELDS.map((f, i) => `_Static_assert(BW_D_${f} == ${i}, "${f}");`).join('\n');
    fs.writeFileSync(path.join(tmp, 't.c'), `#include "bitweave_array.h"\n_Static_assert(BW_DESC_WORDS == ${DESC_WORDS}, "words");\n_Static_assert(BW_ROWS == ${DEFAULT_ARRAY.rows}, "rows");\n${checks}\nint main(void){return 0;}\n`);
    const r = spawnSync('cc', ['-std=c11', '-Wall', '-Werror', '-fsyntax-only', path.join(tmp, 't.c')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });

  it('the SystemVerilog package lints under verilator', function () {
    if (spawnSync('verilator', ['--version']).status !== 0) {
      console.log('      SKIPPED: verilator not installed (make setup installs it)');
      this.skip();
    }
    fs.writeFileSync(path.join(tmp, 'bitweave_array.svh'), arrayHeaderSv(DEFAULT_ARRAY));
    fs.writeFileSync(path.join(tmp, 'top.sv'), '`include "bitweave_array.svh"\nmodule top(output logic [31:0] o);\n  import bitweave_array::*;\n  assign o = 32\'(DESC_WORDS + ROWS);\nendmodule\n');
    const r = spawnSync('verilator', ['--lint-only', '-Wall', `-I${tmp}`, path.join(tmp, 'top.sv')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });
});
