/**
 * Gate-level checks (sim/gate): yosys synthesises an RTL block for the ECP5 (synth_ecp5), the
 * netlist is simulated by Verilator with the ECP5 cell models, and the RTL and the netlist run
 * side by side in one binary (sim/gate/lockstep_*.cpp) with the same inputs, every output port
 * compared after every clock edge. `make test` checks the PE, the DP16KD model against its
 * documented behaviour, the MULT18X18D model's products and the block-RAM lane pattern of the SoC memories, and that a wrong
 * netlist (one LUT inverted) is caught; BITWEAVE_LONG=1 adds the PE grid at 2x2 and 4x4,
 * every block-RAM pattern and bw_top running a layer program.
 * Each check prints its synthesis and build times and both models' cycles per second.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_ARRAY } from '../../host/array/params';
import { encodeSegment } from '../../host/array/program';
import { writeArrayHeaders } from '../../host/array/write-headers';
import { packageRoot } from '../../host/core/paths';
import { rng } from '../helpers/naive';
import { bconvModel } from '../helpers/native-models';

const ROOT = packageRoot();
const GATE = path.join(ROOT, 'sim', 'gate');
const sim = (f: string) => path.join(ROOT, 'sim', f);
const long = !!process.env.BITWEAVE_LONG;

function run(cmd: string, args: string[], what: string): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: ROOT, maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, `${what} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** The Verilator runtime objects (make build compiles them into build/rtl/vl; else here). */
function runtime(tmp: string): string[] {
  const inc = run('verilator', ['--getenv', 'VERILATOR_ROOT'], 'verilator --getenv').trim() + '/include';
  return ['verilated', 'verilated_threads'].map((n) => {
    const built = path.join(ROOT, 'build', 'rtl', 'vl', `${n}.o`);
    if (fs.existsSync(built)) return built;
    const o = path.join(tmp, `${n}.o`);
    if (!fs.existsSync(o)) run('nice', ['g++', '-O2', '-fPIC', '-std=c++17', `-I${inc}`, `-I${inc}/vltstd`, '-c', `${inc}/${n}.cpp`, '-o', o], `compile ${n}`);
    return o;
  });
}

interface GateBuild {
  dir: string;
  synthS: number;
  buildS: number;
  cells: Record<string, number>;
}

/** sim/gate/gate.sh: the netlist model (prefix Vgate), or with rtl the RTL model (prefix Vrtl). */
function gate(top: string, dir: string, args: string[], rtl = false): GateBuild {
  const out = run(path.join(GATE, 'gate.sh'), [...(rtl ? ['--rtl', '--prefix', 'Vrtl'] : ['--prefix', 'Vgate']), ...args.slice(0, -1), top, dir, ...args.slice(-1)[0].split(' ')], `gate.sh ${top}`);
  const synth = /synth ([\d.]+) s/.exec(out);
  const build = /verilator build ([\d.]+) s/.exec(out);
  const cells: Record<string, number> = {};
  if (!rtl) for (const l of fs.readFileSync(path.join(dir, 'cells.txt'), 'utf8').trim().split('\n')) cells[l.split(' ')[0]] = Number(l.split(' ')[1]);
  return { dir, synthS: synth ? Number(synth[1]) : 0, buildS: build ? Number(build[1]) : 0, cells };
}

/** The lockstep binary of harness `main` over the RTL model in `rtl` and the netlist model in `net`. */
function lockstepBinary(main: string, rtl: string, net: string, tmp: string, name: string): string {
  const inc = run('verilator', ['--getenv', 'VERILATOR_ROOT'], 'verilator --getenv').trim() + '/include';
  const ports = path.join(tmp, `${name}.ports.h`);
  fs.writeFileSync(ports, run(path.join(GATE, 'ports.sh'), [path.join(rtl, 'obj', 'Vrtl.h')], 'ports.sh'));
  const bin = path.join(tmp, name);
  run('nice', ['g++', '-O1', '-std=c++17', `-I${inc}`, `-I${inc}/vltstd`, `-I${rtl}/obj`, `-I${net}/obj`, `-I${GATE}`,
    '-include', 'Vrtl.h', '-include', 'Vgate.h', '-include', ports, '-DLS_A=Vrtl', '-DLS_B=Vgate', '-o', bin, path.join(GATE, main),
    path.join(rtl, 'obj', 'Vrtl__ALL.a'), path.join(net, 'obj', 'Vgate__ALL.a'), ...runtime(tmp), '-lpthread'], `compile ${main}`);
  return bin;
}

function lockstep(bin: string, args: string[]): { pass: boolean; out: string; rtl: number; net: number } {
  const r = spawnSync(bin, args, { encoding: 'utf8' });
  const out = (r.stdout + r.stderr).trim();
  const m = /rtl (\d+) cycles\/s, netlist (\d+) cycles\/s/.exec(out);
  return { pass: r.status === 0 && /^PASS/m.test(out), out, rtl: m ? Number(m[1]) : 0, net: m ? Number(m[2]) : 0 };
}

const report = (what: string, g: GateBuild, r: { rtl: number; net: number }) =>
  console.log(`      ${what}: synth ${g.synthS} s, netlist build ${g.buildS} s; rtl ${r.rtl} cycles/s, netlist ${r.net} cycles/s; ${Object.entries(g.cells).map(([k, v]) => `${k} ${v}`).join(', ')}`);

describe('gate level: ECP5 netlists (yosys synth_ecp5) against the RTL under Verilator', function () {
  this.timeout(3_600_000);
  let tmp = '';
  before(function () {
    if (spawnSync('verilator', ['--version']).status !== 0 || spawnSync('yosys', ['-V']).status !== 0) {
      console.log('      SKIPPED: verilator or yosys not installed (make setup installs them)');
      this.skip();
    }
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bitweave-gate-'));
  });
  after(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** The generated package for an array size, in its own directory. */
  const pkg = (rows: number, cols: number) => {
    const d = path.join(tmp, `hdr${rows}x${cols}`);
    if (!fs.existsSync(d)) writeArrayHeaders(d, { ...DEFAULT_ARRAY, rows, cols });
    return d;
  };

  it('bw_pe: the netlist matches the RTL every cycle on random inputs, and a netlist with one LUT inverted is caught', () => {
    const h = pkg(2, 2);
    const src = `${h}/bitweave_array.svh ${sim('bw_pe.sv')}`;
    const net = gate('bw_pe', path.join(tmp, 'pe'), ['-I', h, src]);
    const rtl = gate('bw_pe', path.join(tmp, 'pe-rtl'), ['-I', h, src], true);
    const bin = lockstepBinary('lockstep_random.cpp', rtl.dir, net.dir, tmp, 'ls_pe');
    const args = ['--cycles', '20000', '--warmup', '4', '--rare', 'first_in=4'];
    const r = lockstep(bin, args);
    assert.ok(r.pass, r.out);
    report('bw_pe', net, r);
    assert.ok(net.cells.LUT4 > 100 && net.cells.TRELLIS_FF > 100 && net.cells.CCU2C > 0, JSON.stringify(net.cells));

    // the same netlist with the function of one LUT complemented must fail the check
    const text = fs.readFileSync(path.join(net.dir, 'netlist.v'), 'utf8');
    const lut = /(LUT4 #\(\s*\.INIT\(16'h)([0-9a-f]{4})\)/.exec(text)!;
    const flipped = (~parseInt(lut[2], 16) & 0xffff).toString(16).padStart(4, '0');
    const bad = path.join(tmp, 'pe-bad.v');
    fs.writeFileSync(bad, text.replace(lut[0], `${lut[1]}${flipped})`));
    const badNet = gate('bw_pe', path.join(tmp, 'pe-bad'), ['--netlist', bad, '-I', h, src]);
    const badR = lockstep(lockstepBinary('lockstep_random.cpp', rtl.dir, badNet.dir, tmp, 'ls_pe_bad'), args);
    assert.ok(!badR.pass && /^FAIL: cycle \d+ .*output \w+ differs/m.test(badR.out), badR.out);
    console.log(`      one LUT4 INIT ${lut[2]} -> ${flipped}: ${badR.out}`);
  });

  it('the DP16KD model: every width, write mode, byte enable, clock enable, reset and cross-port collision as documented (sim/gate/cells/tb_dp16kd.sv)', () => {
    const obj = path.join(tmp, 'tb_dp16kd');
    run('nice', ['verilator', '--binary', '-Wno-fatal', '-j', '2', '-Mdir', obj, '--top-module', 'tb_dp16kd', path.join(GATE, 'cells', 'tb_dp16kd.sv'), path.join(GATE, 'cells', 'DP16KD.v')], 'tb_dp16kd build');
    const r = spawnSync(path.join(obj, 'Vtb_dp16kd'), [], { encoding: 'utf8' });
    const out = r.stdout + r.stderr;
    assert.equal(r.status, 0, out);
    const m = /PASS: 7 configurations, 20000 cycles, (\d+) reads checked, (\d+) collisions/.exec(out);
    assert.ok(m && Number(m[1]) > 200000 && Number(m[2]) > 10000, out);
  });

  it('the MULT18X18D model: unsigned, signed and mixed products and a 24x24 product over four blocks match the RTL (sim/gate/cells/tb_mult.sv)', () => {
    const src = path.join(GATE, 'cells', 'tb_mult.sv');
    const net = gate('tb_mult', path.join(tmp, 'mult'), [src]);
    const rtl = gate('tb_mult', path.join(tmp, 'mult-rtl'), [src], true);
    const r = lockstep(lockstepBinary('lockstep_random.cpp', rtl.dir, net.dir, tmp, 'ls_mult'), ['--cycles', '100000', '--warmup', '1']);
    assert.ok(r.pass, r.out);
    assert.equal(net.cells.MULT18X18D, 7, JSON.stringify(net.cells));
    report('MULT18X18D products', net, r);
  });

  /** One block-RAM pattern of sim/gate/ebr/ebr_lane.sv: its cells and, where built, the lockstep result. */
  function ebr(variant: number, check: boolean): GateBuild {
    const src = path.join(GATE, 'ebr', 'ebr_lane.sv');
    const dir = path.join(tmp, `ebr${variant}`);
    const net = gate('ebr_top', dir, [...(check ? [] : ['--no-build']), '-G', `VARIANT=${variant}`, src]);
    if (!check) return net;
    const rtl = gate('ebr_top', `${dir}-rtl`, ['-G', `VARIANT=${variant}`, src], true);
    const bin = lockstepBinary('lockstep_random.cpp', rtl.dir, net.dir, tmp, `ls_ebr${variant}`);
    // addresses in 0..3: a read meets a write of its address at the same edge about one cycle
    // in eight (one cycle of warm-up: a block RAM's output latch is 0 until the first edge)
    const r = lockstep(bin, ['--cycles', '100000', '--warmup', '1', '--narrow', 'waddr=2', '--narrow', 'raddr=2', '--narrow', 'raddr2=2', '--rare', 'rst=50']);
    assert.ok(r.pass, `variant ${variant}: ${r.out}`);
    report(`block RAM pattern ${variant}`, net, r);
    return net;
  }

  it('block RAM: a registered-address lane in its own module + an array + a write port map to DP16KD (not LUTs) and match the RTL cycle for cycle, read-during-write of one address included', () => {
    const c = ebr(0, true).cells;
    // 512 x 64 bits: two 512 x 36 pseudo dual-port blocks; the soft logic is the write-to-read
    // bypass (64 data flip-flops and their multiplexers) that the transparent read needs
    assert.equal(c.DP16KD, 2, JSON.stringify(c));
    assert.ok(!c.TRELLIS_DPR16X4 && c.TRELLIS_FF <= 80 && c.LUT4 <= 120, JSON.stringify(c));
  });

  if (long) {
    it('block RAM: which patterns map to DP16KD, each checked against the RTL (BITWEAVE_LONG)', () => {
      const table: string[] = [];
      for (const v of [1, 2, 3, 4, 5, 6, 7, 8]) {
        const c = ebr(v, v !== 3).cells;
        table.push(`${v}: ${Object.entries(c).map(([k, n]) => `${k} ${n}`).join(', ')}`);
        if (v === 3) assert.ok(!c.DP16KD && c.TRELLIS_DPR16X4 > 100, 'an unregistered read address cannot use a block RAM');
        else if (v === 5) assert.ok(c.DP16KD >= 8, 'per-bit write enables give every bit its own 9-bit byte lane');
        else if (v === 7) assert.equal(c.DP16KD, 4, 'two read lanes: the blocks are duplicated');
        else assert.equal(c.DP16KD, 2, `variant ${v}`);
      }
      console.log(`      block RAM patterns (512 x 64):\n        ${table.join('\n        ')}`);
    });

    for (const [rows, cols] of [[2, 2], [4, 4]]) {
      it(`bw_pe_array ${rows}x${cols}: the netlist matches the RTL every cycle on random inputs (BITWEAVE_LONG)`, () => {
        const h = pkg(rows, cols);
        const src = `${h}/bitweave_array.svh ${sim('bw_pe.sv')} ${sim('bw_pe_array.sv')}`;
        const params = ['-G', `ROWS=${rows}`, '-G', `COLS=${cols}`, '-G', `DRAIN=${cols}`];
        const net = gate('bw_pe_array', path.join(tmp, `pea${rows}`), ['-I', h, ...params, src]);
        const rtl = gate('bw_pe_array', path.join(tmp, `pea${rows}-rtl`), ['-I', h, ...params, src], true);
        const r = lockstep(lockstepBinary('lockstep_random.cpp', rtl.dir, net.dir, tmp, `ls_pea${rows}`), ['--cycles', '20000', '--warmup', '40', '--rare', 'first=4']);
        assert.ok(r.pass, r.out);
        report(`bw_pe_array ${rows}x${cols}`, net, r);
      });
    }

    it('bw_top 2x2: a layer program runs identically on the RTL and the netlist, every port every cycle (BITWEAVE_LONG)', () => {
      const rows = 2;
      const cols = 2;
      const h = pkg(rows, cols);
      // the small build of sim/synth.sh: 1-bit outputs, 64 channel groups, 4 tiles in flight
      const params = ['-G', 'MAX_OUT_BITS=1', '-G', 'PDEPTH=64', '-G', 'TS=4'];
      const args = ['-I', h, ...params, '-f', sim('bw_top.f'), `${h}/bitweave_array.svh`];
      const net = gate('bw_top', path.join(tmp, 'top'), args);
      const rtl = gate('bw_top', path.join(tmp, 'top-rtl'), args, true);
      const bin = lockstepBinary('lockstep_bw_top.cpp', rtl.dir, net.dir, tmp, 'ls_top');
      // a 3x3 binary convolution with padding over 130 channels (three words per pixel), once
      // with 1-bit threshold outputs (the bit-plane write port) and once with int32 results
      for (const outBits of [1, 0]) {
        const r = rng(5);
        const m = bconvModel({ H: 6, W: 6, C: 130, outC: 8, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, padBit: 1, inBits: 1, pool: null, outBits, seed: 5 }, r);
        const prog = encodeSegment(m, m.segments.findIndex((s) => s.kind === 'device'), { ...DEFAULT_ARRAY, rows, cols });
        const dir = path.join(tmp, `prog${outBits}`);
        fs.mkdirSync(dir, { recursive: true });
        const arena = new Uint32Array(prog.arenaWords * 2);
        for (const reg of prog.inputs) for (let i = 0; i < reg.words * 2; i++) arena[reg.offset * 2 + i] = (r() * 2 ** 32) >>> 0;
        fs.writeFileSync(path.join(dir, 'desc.bin'), prog.descriptors);
        fs.writeFileSync(path.join(dir, 'param.bin'), prog.params);
        fs.writeFileSync(path.join(dir, 'weight.bin'), prog.weights);
        fs.writeFileSync(path.join(dir, 'arena.bin'), arena);
        const res = lockstep(bin, [dir, String(prog.layers), '1', String(prog.arenaWords)]);
        assert.ok(res.pass, res.out);
        assert.ok(Number(/(\d+) arena writes/.exec(res.out)![1]) > 0, res.out);
        report(`bw_top 2x2, ${outBits ? '1-bit' : 'int32'} outputs (${res.out.replace(/^PASS: /, '').split(',').slice(0, 2).join(',')})`, net, res);
      }
    });
  } else {
    it('the PE grid, every block-RAM pattern and bw_top with a layer program (BITWEAVE_LONG=1)', function () {
      console.log('      SKIPPED: set BITWEAVE_LONG=1 (make test-long) for bw_pe_array 2x2 and 4x4, the block-RAM patterns 1-8 and bw_top 2x2');
      this.skip();
    });
  }
});
