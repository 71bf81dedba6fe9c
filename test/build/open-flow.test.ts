/**
 * The open bitstream flow (host/build/open-flow.ts, `make bitstream BOARD=…`): the ECP5 PLL
 * dividers, the plan of each family's tool runs, report.json, its one-line failures, and a
 * real iCEBreaker run (yosys + nextpnr-ice40, about 15-40 s). The ULX3S run (nextpnr-ecp5
 * on the whole SoC: minutes) is BITWEAVE_LONG=1 only.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadBoard } from '../../host/boards';
import { ecp5Pll, ECP5_PLL } from '../../host/build/ecp5-pll';
import { BitstreamReport, buildReport, findTool, planFlow } from '../../host/build/open-flow';
import { BitweaveError } from '../../host/core/errors';
import { packagePath, packageRoot } from '../../host/core/paths';
import { Run, scratchDir } from '../helpers/run';

const FLOW = packagePath('dist', 'host', 'build', 'open-flow.js');

/** `node dist/host/build/open-flow.js <args>` in a child process. */
function runFlowScript(args: string[], env: NodeJS.ProcessEnv, timeout: number): Run {
  const r = spawnSync(process.execPath, [FLOW, ...args], { cwd: packageRoot(), encoding: 'utf8', timeout, env: { ...process.env, ...env } });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** The flow failed the way users must see it: exit 1, one `bitstream: …` line. */
function assertFlowError(r: Run, re: RegExp): void {
  assert.equal(r.signal, null, r.stderr);
  assert.equal(r.code, 1, r.stderr);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /^bitstream: /);
  assert.match(lines[0], re);
}

describe('open flow: ECP5 PLL dividers', () => {
  it('50 MHz from 25 MHz: 25 / 1 x 2, VCO 600 MHz (CLKOP_DIV 12), bw_ulx3s defaults', () => {
    const p = ecp5Pll(25, 50);
    assert.deepEqual([p.clkiDiv, p.clkfbDiv, p.clkopDiv, p.clkopCphase], [1, 2, 12, 6]);
    assert.equal(p.vcoMHz, 600);
    assert.equal(p.outHz, 50_000_000);
    // the board top's defaults are this choice
    const sv = fs.readFileSync(packagePath('sim', 'soc', 'ecp5', 'bw_ulx3s.sv'), 'utf8');
    for (const [k, v] of [['CLKI_DIV', 1], ['CLKFB_DIV', 2], ['CLKOP_DIV', 12], ['CLKOP_CPHASE', 6]] as const) {
      assert.match(sv, new RegExp(`parameter int ${k} = ${v},`));
    }
  });

  it('every target from 10 to 400 MHz: dividers and frequencies inside the limits, the nearest output', () => {
    for (let target = 10; target <= 400; target += 0.7) {
      const p = ecp5Pll(25, target);
      assert.ok(p.clkiDiv >= 1 && p.clkiDiv <= ECP5_PLL.clkiDiv && p.clkfbDiv >= 1 && p.clkfbDiv <= ECP5_PLL.clkfbDiv && p.clkopDiv >= 1 && p.clkopDiv <= ECP5_PLL.clkopDiv);
      assert.ok(p.vcoMHz >= 400 - 1e-9 && p.vcoMHz <= 800 + 1e-9, `VCO ${p.vcoMHz} for ${target}`);
      assert.ok(p.pfdMHz >= 3.125 && p.pfdMHz <= 400);
      assert.ok(Math.abs(p.outMHz - 25 / p.clkiDiv * p.clkfbDiv) < 1e-9);
      assert.ok(Math.abs(p.vcoMHz - p.outMHz * p.clkopDiv) < 1e-9);
      assert.equal(p.clkopCphase, Math.floor(p.clkopDiv / 2));
      assert.equal(p.outHz, Math.floor(25e6 * p.clkfbDiv / p.clkiDiv));
      // no other reference divider / multiplier pair is nearer (any such pair has a VCO divider in range:
      // f_out >= 10 MHz leaves one between 400 and 800 MHz)
      for (let i = 1; i <= 8; i++) {
        for (let f = 1; f <= 80; f++) {
          const out = (25 / i) * f;
          if (out < 10 || out > 400) continue;
          assert.ok(Math.abs(out - target) >= Math.abs(p.outMHz - target) - 1e-9, `${target} MHz: 25/${i}x${f} = ${out} is nearer than ${p.outMHz}`);
        }
      }
    }
    assert.equal(ecp5Pll(25, 65).outMHz, 65);
    assert.equal(ecp5Pll(25, 33.3).outMHz, 33.333333333333336);
  });

  it('refuses targets and inputs outside the PLL', () => {
    assert.throws(() => ecp5Pll(25, 5), (e: unknown) => e instanceof BitweaveError && /target clock 5 MHz is outside 10\.\.400 MHz/.test((e as Error).message));
    assert.throws(() => ecp5Pll(25, 401), /outside 10\.\.400/);
    assert.throws(() => ecp5Pll(25, NaN), /outside/);
    assert.throws(() => ecp5Pll(4, 50), /input clock 4 MHz/);
  });
});

describe('open flow: plan and report', () => {
  const tmp = scratchDir('open-flow', true);
  // a file list of files that exist (the SoC may not exist yet): the board top's plan without it
  const list = path.join(tmp, 'top.f');
  fs.writeFileSync(list, '// a scratch list\nsim/bw_pe.sv\nsim/soc/ecp5/bw_ulx3s.sv // the board top\n');

  it('ULX3S: synth_ecp5, nextpnr-ecp5 --85k CABGA381 with the board LPF at the target, ecppack; PLL and baud set on the top', () => {
    const board = loadBoard('ulx3s');
    const p = planFlow(board, { sources: list, outDir: path.join(tmp, 'u') });
    assert.deepEqual(p.files, ['sim/bw_pe.sv', 'sim/soc/ecp5/bw_ulx3s.sv']);
    assert.deepEqual(p.steps.map((s) => s.tool), ['yosys', 'nextpnr-ecp5', 'ecppack']);
    assert.deepEqual(p.array, { rows: board.defaultArray.rows, cols: board.defaultArray.cols, word: 64 });
    assert.equal(p.targetMHz, 30);
    assert.deepEqual(p.params, { CLKI_DIV: 5, CLKFB_DIV: 6, CLKOP_DIV: 20, CLKOP_CPHASE: 10, BAUD: 1_000_000 });
    const script = p.steps[0].args[p.steps[0].args.indexOf('-p') + 1];
    assert.match(script, /^read_verilog -sv -I\S+ \S+bitweave_array\.svh sim\/bw_pe\.sv sim\/soc\/ecp5\/bw_ulx3s\.sv; /);
    assert.match(script, /chparam -set CLKI_DIV 5 -set CLKFB_DIV 6 -set CLKOP_DIV 20 -set CLKOP_CPHASE 10 -set BAUD 1000000 bw_ulx3s; synth_ecp5 -top bw_ulx3s; splitnets; write_json \S+design\.json; write_verilog -noattr \S+netlist\.v;/);
    const pnr = p.steps[1].args.join(' ');
    assert.match(pnr, /^--85k --package CABGA381 --speed 6 --lpf boards\/ulx3s\/ulx3s\.lpf --textcfg \S+design\.config --json \S+design\.json --freq 30 --report \S+nextpnr-report\.json --seed 1 --timing-allow-fail/);
    assert.deepEqual(p.steps[2].args.slice(0, 2), ['--compress', '--input']);
    assert.equal(path.basename(p.bitstream), 'bitweave_ulx3s.bit');
    assert.equal(p.steps[2].args.at(-1), path.relative(packageRoot(), p.bitstream), 'paths relative to the package root (YoWASP tools have a private /tmp)');
    assert.match(pnr, / --router router2$/);
    // a sizing trial: another array, in the package the flow writes and the report
    assert.deepEqual(planFlow(board, { sources: list, array: { rows: 4, cols: 8 } }).array, { rows: 4, cols: 8, word: 64 });
    // another target clock: other dividers, the same top
    const q = planFlow(board, { sources: list, targetMHz: 65 });
    assert.equal(q.pll!.outMHz, 65);
    assert.match(q.steps[1].args.join(' '), /--freq 65 /);
    assert.equal(q.bitstream, packagePath('build', 'bitstream', 'ulx3s', 'bitweave_ulx3s.bit'));
  });

  it("iCEBreaker: synth_ice40, nextpnr-ice40 --up5k sg48 with the board's PCF, icepack, icetime; no PLL, so no other clock", () => {
    const board = loadBoard('icebreaker');
    const p = planFlow(board);
    assert.deepEqual(p.steps.map((s) => `${s.name}:${s.tool}`), ['synth:yosys', 'pnr:nextpnr-ice40', 'pack:icepack', 'timing:icetime']);
    assert.deepEqual(p.files, ['sim/bw_pe.sv', 'sim/bw_pe_array.sv', 'sim/ice40/bw_ice40_selftest.sv']);
    assert.deepEqual(p.params, {});
    assert.match(p.steps[1].args.join(' '), /^--up5k --package sg48 --pcf boards\/icebreaker\/icebreaker\.pcf --asc \S+ --json \S+ --freq 12 /);
    assert.equal(path.basename(p.bitstream), 'bitweave_icebreaker.bin');
    assert.throws(() => planFlow(board, { targetMHz: 20 }), /runs at its 12 MHz oscillator \(no PLL in its top\)/);
  });

  it('refuses a missing source, an empty file list, a board without a flow', () => {
    const missing = path.join(tmp, 'missing.f');
    fs.writeFileSync(missing, 'sim/bw_pe.sv\nsim/soc/no_such_file.sv\n');
    assert.throws(() => planFlow(loadBoard('ulx3s'), { sources: missing }), /sim\/soc\/no_such_file\.sv \(listed in \S+missing\.f\) does not exist/);
    const empty = path.join(tmp, 'empty.f');
    fs.writeFileSync(empty, '// nothing\n\n');
    assert.throws(() => planFlow(loadBoard('ulx3s'), { sources: empty }), /names no file/);
    assert.throws(() => planFlow(loadBoard('aws-f1')), /board 'aws-f1' has no open bitstream flow \(boards with one: icebreaker, ulx3s\)/);
  });

  it("report.json: nextpnr's ECP5 resource names as LUT4 / FF / EBR / DSP, Fmax of the clock with the least margin, pass only if every clock meets its constraint", () => {
    const board = loadBoard('ulx3s');
    const p = planFlow(board, { sources: list, outDir: path.join(tmp, 'r'), targetMHz: 50 });
    const util = { TRELLIS_COMB: { used: 900, available: 83640 }, TRELLIS_FF: { used: 700, available: 83640 }, DP16KD: { used: 3, available: 208 }, MULT18X18D: { used: 0, available: 156 }, TRELLIS_IO: { used: 12, available: 365 }, EHXPLLL: { used: 1, available: 4 } };
    const extra = { seconds: { headers: 0, synth: 1, pnr: 2, pack: 3, timing: null, total: 6 }, tools: { yosys: 'Yosys 0.23', nextpnr: 'nextpnr-0.11.1', pack: 'ecppack' }, bitstreamBytes: 1234, icetimeMHz: null, date: 'd' };
    const ok = buildReport(p, { utilization: util, fmax: { '$glbnet$clk': { achieved: 71.5, constraint: 50 }, clk_25mhz: { achieved: 300, constraint: 25 } } }, {}, extra, board);
    assert.equal(ok.schema, 'bitweave-bitstream-report/1');
    assert.deepEqual(ok.resources.lut4, { used: 900, available: 83640 });
    assert.deepEqual(ok.resources.ebr, { used: 3, available: 208 });
    assert.deepEqual(ok.resources.dsp, { used: 0, available: 156 });
    assert.equal(ok.timing.fmaxMHz, 71.5);
    assert.equal(ok.timing.pass, true);
    assert.equal(ok.clock.clockMHz, 50);
    assert.deepEqual(ok.clock.pll && [ok.clock.pll.clkiDiv, ok.clock.pll.clkfbDiv, ok.clock.pll.clkopDiv], [1, 2, 12]);
    assert.equal(ok.files.bitstream, 'bitweave_ulx3s.bit');
    const bad = buildReport(p, { utilization: util, fmax: { '$glbnet$clk': { achieved: 41, constraint: 50 }, clk_25mhz: { achieved: 300, constraint: 25 } } }, {}, extra, board);
    assert.equal(bad.timing.pass, false);
    assert.equal(bad.timing.fmaxMHz, 41);
    assert.equal(buildReport(p, { utilization: util }, {}, extra, board).timing.pass, false, 'no clock analysed: not a pass');
  });
});

describe('open flow: make bitstream', function () {
  this.timeout(900_000);
  const tmp = scratchDir('open-flow-run', true);

  it('one line and exit 1: unknown board, board without a flow, missing tool, bad target clock', () => {
    assertFlowError(runFlowScript(['no-such-board', tmp], {}, 60_000), /unknown board 'no-such-board' \(known: .*ulx3s/);
    assertFlowError(runFlowScript(['aws-f1', tmp], {}, 60_000), /board 'aws-f1' has no open bitstream flow/);
    // PATH without the tools (node is run by its full path)
    const bare = path.join(tmp, 'bare-bin');
    fs.mkdirSync(bare, { recursive: true });
    assertFlowError(runFlowScript(['icebreaker', tmp], { PATH: bare }, 60_000), /^bitstream: yosys not found \(make setup installs/);
    const list = path.join(tmp, 'top.f');
    fs.writeFileSync(list, 'sim/soc/ecp5/bw_ulx3s.sv\n');
    assertFlowError(runFlowScript(['ulx3s', tmp, '--sources', list, '--mhz', '500'], {}, 60_000), /ECP5 PLL: target clock 500 MHz is outside 10\.\.400 MHz/);
    assertFlowError(runFlowScript(['ulx3s', tmp, '--sources', list, '--mhz', 'fast'], {}, 60_000), /target clock must be a positive number of MHz/);
    assertFlowError(runFlowScript(['ulx3s', tmp, '--sources', list, '--rows', '3', '--cols', '4'], {}, 60_000), /--rows must be a power of two/);
    assertFlowError(runFlowScript(['ulx3s', tmp, '--sources', list, '--cols', '4'], {}, 60_000), /--rows must be an integer in 1\.\.64, got NaN/);
  });

  it('iCEBreaker: a real bitstream with report.json and the synthesised netlist beside it', function () {
    for (const t of ['yosys', 'nextpnr-ice40', 'icepack', 'icetime']) {
      if (!findTool(t)) {
        console.log(`      SKIPPED: ${t} not found (make setup installs it)`);
        return this.skip();
      }
    }
    const out = path.join(tmp, 'icebreaker');
    const r = runFlowScript(['icebreaker', out], {}, 600_000);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /bitstream: \S+bitweave_icebreaker\.bin: \d+\/5280 LUT4 .*timing met/);
    const rep = JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8')) as BitstreamReport;
    assert.equal(rep.board, 'icebreaker');
    assert.deepEqual(rep.array, { rows: 2, cols: 2, word: 64 });
    assert.equal(rep.timing.pass, true);
    assert.ok(rep.timing.fmaxMHz! > 12, `Fmax ${rep.timing.fmaxMHz}`);
    assert.ok(rep.resources.lut4.used > 500 && rep.resources.lut4.available === 5280);
    assert.ok(rep.resources.ff.used > 100);
    assert.match(rep.tools.yosys, /^Yosys /);
    assert.match(rep.tools.nextpnr, /nextpnr/);
    assert.ok(rep.seconds.synth > 0 && rep.seconds.pnr > 0 && rep.seconds.total >= rep.seconds.synth + rep.seconds.pnr);
    assert.equal(fs.statSync(path.join(out, rep.files.bitstream)).size, rep.bitstreamBytes);
    assert.ok(rep.bitstreamBytes > 100_000);
    // the netlist simulated at gate level is the one nextpnr placed: both written from one yosys run
    const netlist = fs.readFileSync(path.join(out, rep.files.netlistVerilog), 'utf8');
    assert.match(netlist, /module bw_ice40_selftest\(/);
    assert.doesNotMatch(netlist, /\(\*/, 'written with -noattr');
    const json = JSON.parse(fs.readFileSync(path.join(out, rep.files.netlistJson), 'utf8'));
    const cells = Object.values(json.modules.bw_ice40_selftest.cells as Record<string, { type: string }>);
    const lutsJson = cells.filter((c) => c.type === 'SB_LUT4').length;
    assert.equal((netlist.match(/^\s*SB_LUT4 /gm) ?? []).length, lutsJson, 'the same LUTs in the Verilog and the JSON netlist');
  });

  it('ULX3S: the SoC bitstream at the board\'s array and clock, timing met (BITWEAVE_LONG=1)', function () {
    if (!process.env.BITWEAVE_LONG) {
      console.log('      SKIPPED: nextpnr-ecp5 on the whole SoC takes minutes; BITWEAVE_LONG=1 runs it');
      return this.skip();
    }
    for (const t of ['yosys', 'nextpnr-ecp5', 'ecppack']) {
      if (!findTool(t)) {
        console.log(`      SKIPPED: ${t} not found (make setup installs it)`);
        return this.skip();
      }
    }
    const out = path.join(tmp, 'ulx3s');
    const r = runFlowScript(['ulx3s', out], {}, 3_600_000);
    assert.equal(r.code, 0, r.stderr);
    const rep = JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8')) as BitstreamReport;
    assert.equal(rep.timing.pass, true);
    assert.equal(rep.resources.lut4.available, 83640);
    assert.equal(rep.resources.pll.used, 1);
    assert.ok(rep.resources.ebr.used > 0, 'the SoC memories are in EBR');
    const board = loadBoard('ulx3s');
    assert.deepEqual(rep.array, { rows: board.defaultArray.rows, cols: board.defaultArray.cols, word: 64 });
    assert.ok(rep.timing.fmaxMHz! >= board.clock.kernelMHz!, `Fmax ${rep.timing.fmaxMHz} MHz`);
    assert.ok(fs.statSync(path.join(out, 'bitweave_ulx3s.bit')).size > 0);
  });
});
