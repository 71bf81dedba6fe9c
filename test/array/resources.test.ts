/**
 * Resource figures of the RTL (host/array/resources.ts, sim/synth.sh): every RTL file lints
 * clean at several array sizes and DRAIN values, the recorded per-PE and per-lane yosys
 * figures equal a fresh synthesis, the stat parser counts what yosys reports, and board
 * sizing from those figures.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_ARRAY } from '../../host/array/params';
import { parseYosysStat, RECORDED_XCUP } from '../../host/array/resources';
import { sizeArray } from '../../host/build/sizing';
import { writeArrayHeaders } from '../../host/array/write-headers';
import { loadBoard } from '../../host/boards';
import { packageRoot } from '../../host/core/paths';

const ROOT = packageRoot();

/** The RTL sources of bw_top in compile order (sim/bw_top.f, the list the Makefile and sim/synth.sh read). */
function rtlSources(): string[] {
  const lines = fs.readFileSync(path.join(ROOT, 'sim', 'bw_top.f'), 'utf8').split('\n').map((l) => l.trim());
  return lines.filter((l) => l && !l.startsWith('//')).map((f) => path.join(ROOT, f));
}

describe('RTL synthesis (yosys)', function () {
  it('every RTL file is listed in sim/bw_top.f and lint-clean under verilator -Wall, with the package generated for 8x8, 2x2, 4x16 and 1x4, at every DRAIN', function () {
    if (spawnSync('verilator', ['--version']).status !== 0) {
      console.log('      SKIPPED: verilator not installed (make setup installs it)');
      this.skip();
    }
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bitweave-lint-'));
    try {
      const sim = (f: string) => path.join(ROOT, 'sim', f);
      const top = rtlSources();
      const files = fs.readdirSync(path.join(ROOT, 'sim')).filter((f) => f.endsWith('.sv')).map(sim);
      assert.deepEqual([...top].sort(), files.sort(), 'sim/bw_top.f lists every sim/*.sv');
      for (const [rows, cols, drains] of [[8, 8, [0, 1, 2]], [2, 2, [0, 1]], [4, 16, [0, 1, 4]], [1, 4, [0]]] as const) {
        writeArrayHeaders(tmp, { ...DEFAULT_ARRAY, rows, cols });
        const svh = path.join(tmp, 'bitweave_array.svh');
        const lint = (files: readonly string[], name: string, params: string[], what: string) => {
          const r = spawnSync('verilator', ['--lint-only', '-Wall', ...params, `-I${tmp}`, svh, ...files, '--top-module', name], { encoding: 'utf8' });
          assert.equal(r.status, 0, `${what}: ${r.stderr}`);
        };
        for (const d of drains) lint(top, 'bw_top', [`-GDRAIN=${d}`], `bw_top ${rows}x${cols} DRAIN ${d}`);
        lint([sim('bw_pe.sv'), sim('bw_pe_array.sv'), sim('ice40/bw_ice40_selftest.sv')], 'bw_ice40_selftest', [], `bw_ice40_selftest ${rows}x${cols}`);
      }
      // a DRAIN that does not divide COLS is refused at elaboration
      writeArrayHeaders(tmp, { ...DEFAULT_ARRAY, rows: 8, cols: 8 });
      const r = spawnSync('verilator', ['--lint-only', '-GDRAIN=3', `-I${tmp}`, path.join(tmp, 'bitweave_array.svh'), ...top, '--top-module', 'bw_top'], { encoding: 'utf8' });
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /DRAIN must divide COLS/);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('the per-PE cost compile --board sizes with equals a fresh yosys run (4x4 grid and the output lane; BITWEAVE_LONG=1)', function () {
    // a fresh synth_xilinx of the grid alone takes ~40 s: make test-long (and make synth) runs it
    if (!process.env.BITWEAVE_LONG) {
      console.log('      SKIPPED: set BITWEAVE_LONG=1 to re-synthesise the 4x4 grid and the output lane (~4 min)');
      this.skip();
    }
    if (spawnSync('yosys', ['-V']).status !== 0) {
      console.log('      SKIPPED: yosys not installed (make setup installs it)');
      this.skip();
    }
    this.timeout(900_000);
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bitweave-synth-'));
    writeArrayHeaders(tmp, { ...DEFAULT_ARRAY, rows: 4, cols: 4 });
    const pkg = path.join(tmp, 'bitweave_array.svh');
    // the flow, package and parameters of sim/synth.sh
    const xcup = (files: string[], chparam: string, top: string) => {
      const out = path.join(tmp, `${top}.json`);
      const script = `read_verilog -sv -I${tmp} ${pkg} ${files.map((f) => path.join(ROOT, 'sim', f)).join(' ')}; chparam ${chparam} ${top}; synth_xilinx -family xcup -flatten -noiopad -noclkbuf -top ${top}; tee -q -o ${out} stat -json`;
      const r = spawnSync('nice', ['yosys', '-q', '-p', script], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      return parseYosysStat(JSON.parse(fs.readFileSync(out, 'utf8')));
    };
    try {
      const grid = xcup(['bw_pe.sv', 'bw_pe_array.sv'], '-set ROWS 4 -set COLS 4 -set DRAIN 4', 'bw_pe_array');
      assert.deepEqual({ lut: Math.round(grid.lut / 16), ff: Math.round(grid.ff / 16) }, RECORDED_XCUP.grid, 'update RECORDED_XCUP.grid (make synth prints the figures)');
      const out = xcup(['bw_row_unit.sv', 'bw_output_unit.sv'], '-set ROWS 4 -set COLS 4 -set DRAIN 4 -set PDEPTH 64 -set MAX_OUT_BITS 2', 'bw_output_unit');
      assert.deepEqual({ lut: Math.round(out.lut / 16), ff: Math.round(out.ff / 16) }, RECORDED_XCUP.lane, 'update RECORDED_XCUP.lane (make synth prints the figures)');
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('the stat parser counts shift-register and distributed-RAM primitives as the LUT sites they occupy', () => {
    const c = parseYosysStat({ modules: { '\\bw_pe_array': { num_cells_by_type: { LUT6: 10, SRL16E: 3, SRLC32E: 2, RAM64M8: 1, FDRE: 7, CARRY8: 1 } } } }, 'bw_pe_array');
    assert.deepEqual([c.lut, c.lutram, c.ff, c.carry], [10 + 3 + 2 + 8, 3 + 2 + 8, 7, 1]);
  });

  it('the PE synthesises for iCE40 with exactly its registers, and the stat parser counts it', function () {
    if (spawnSync('yosys', ['-V']).status !== 0) {
      console.log('      SKIPPED: yosys not installed (make setup installs it)');
      this.skip();
    }
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bitweave-synth-'));
    try {
      const out = path.join(tmp, 'pe.json');
      writeArrayHeaders(tmp);
      const r = spawnSync('yosys', ['-q', '-p', `read_verilog -sv -I${tmp} ${path.join(tmp, 'bitweave_array.svh')} ${path.join(ROOT, 'sim', 'bw_pe.sv')}; synth_ice40 -top bw_pe; tee -q -o ${out} stat -json`], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const c = parseYosysStat(JSON.parse(fs.readFileSync(out, 'utf8')), 'bw_pe');
      // a, w (64 each), popcount(a) and popcount(w) 7 each, en/first/last/neg/sh 8, the
      // registered popcount and the subtracted one (popcount(a) or (w)) 7 each (its control
      // is the forwarding registers' copy, which yosys merges), accumulator and result
      // buffer 24 each
      assert.equal(c.ff, 64 + 64 + 7 + 7 + 8 + 7 + 7 + 24 + 24);
      assert.ok(c.lut > 64 && c.lut < 1000, `${c.lut} LUTs`);
      // sizing from the measured figure: the array fits the budget it was given
      const board = loadBoard('aws-f1');
      const s = sizeArray(board, { lut: c.lut, ff: c.ff }, { fraction: 0.5 });
      assert.ok(s.luts <= board.resources!.lut! * 0.5 && s.rows * s.cols === s.pes && s.estimate);
      assert.ok(sizeArray(board, { lut: c.lut, ff: c.ff }, { fraction: 0.9 }).pes >= s.pes);
      assert.throws(() => sizeArray(loadBoard('pocl-emulator'), { lut: c.lut, ff: c.ff }), /no LUT count/);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
