/**
 * The RTL kernel behind AXI (sim/axi/) as source: every file in sim/axi/bw_axi_kernel.f,
 * lint-clean under verilator -Wall at several array sizes and data widths, the register
 * offsets of host/array/axi-kernel.ts laid out as Vitis expects them, elaborated by yosys'
 * frontend (the one synth_xilinx reads), and with BITWEAVE_LONG=1 synthesised for
 * UltraScale+ beside the array (make synth-axi). Behaviour is tested through the axi-sim
 * backend (test/backends/axi-sim.test.ts).
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { packageRoot } from '../../host/core/paths';
import { DEFAULT_ARRAY } from '../../host/array/params';
import { writeArrayHeaders } from '../../host/array/write-headers';
import { AXI_CONTROL, AXI_KERNEL_ARGS, AXI_STATUS, AXI_CONTROL_ADDR_BITS } from '../../host/array/axi-kernel';
import { KERNEL_ARGS } from '../../host/array/kernel-abi';

const ROOT = packageRoot();
const list = (f: string) => fs.readFileSync(path.join(ROOT, f), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('//')).map((l) => path.join(ROOT, l));
const TOP = list('sim/bw_top.f');
const AXI = list('sim/axi/bw_axi_kernel.f');

describe('RTL kernel behind AXI (sim/axi)', function () {
  it('the register map: ap_ctrl_hs at 0x00-0x0C, the array ABI then the staging arguments 8 bytes apart from 0x10, status after them, all inside the control space', () => {
    assert.deepEqual(AXI_CONTROL, { CTRL: 0, GIE: 4, IER: 8, ISR: 12 });
    AXI_KERNEL_ARGS.forEach((a, i) => assert.equal(a.offset, 0x10 + 8 * i, a.name));
    assert.deepEqual(AXI_KERNEL_ARGS.slice(0, KERNEL_ARGS.length).map((a) => a.name), KERNEL_ARGS.map((a) => a.name), 'the array kernel ABI first, in its order');
    for (const a of AXI_KERNEL_ARGS) assert.equal(a.size === 8, a.master !== null, `${a.name}: pointers are 64-bit, scalars 32-bit`);
    const last = AXI_KERNEL_ARGS[AXI_KERNEL_ARGS.length - 1];
    const status = Object.values(AXI_STATUS);
    assert.ok(Math.min(...status) >= last.offset + 8, 'status after the arguments');
    assert.ok(Math.max(...status) + 4 <= 2 ** AXI_CONTROL_ADDR_BITS);
  });

  it('sim/axi/bw_axi_kernel.f lists every sim/axi/*.sv; lint-clean under verilator -Wall at 8x8, 2x2, 4x16 (and 32x32 with BITWEAVE_LONG=1), data widths 64..1024; bad widths refused at elaboration', function () {
    if (spawnSync('verilator', ['--version']).status !== 0) {
      console.log('      SKIPPED: verilator not installed (make setup installs it)');
      this.skip();
    }
    const files = fs.readdirSync(path.join(ROOT, 'sim', 'axi')).filter((f) => f.endsWith('.sv')).map((f) => path.join(ROOT, 'sim', 'axi', f));
    assert.deepEqual([...AXI].sort(), files.sort());
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bitweave-axi-lint-'));
    try {
      const lint = (params: string[]) => spawnSync('verilator', ['--lint-only', '-Wall', ...params, `-I${tmp}`, path.join(tmp, 'bitweave_array.svh'), ...TOP, ...AXI, '--top-module', 'bw_axi_kernel'], { encoding: 'utf8' });
      // every size and width with BITWEAVE_LONG=1 (32x32 alone lints for ~14 s); make test lints the rest
      const sets = process.env.BITWEAVE_LONG
        ? [[8, 8, [64, 128, 256, 512, 1024]], [2, 2, [64, 512]], [4, 16, [512]], [32, 32, [512]]] as const
        : [[8, 8, [64, 512, 1024]], [2, 2, [64, 512]], [4, 16, [512]]] as const;
      for (const [rows, cols, widths] of sets) {
        writeArrayHeaders(tmp, { ...DEFAULT_ARRAY, rows, cols });
        for (const w of widths) {
          const r = lint([`-GDATA_BITS=${w}`]);
          assert.equal(r.status, 0, `bw_axi_kernel ${rows}x${cols} DATA_BITS ${w}: ${r.stderr}`);
        }
      }
      const r = lint(['-GDATA_BITS=96']);
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /DATA_BITS must be a power of two/);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('yosys elaborates the whole kernel (the frontend synth_xilinx reads)', function () {
    if (spawnSync('yosys', ['-V']).status !== 0) {
      console.log('      SKIPPED: yosys not installed (make setup installs it)');
      this.skip();
    }
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bitweave-axi-yosys-'));
    try {
      writeArrayHeaders(tmp, { ...DEFAULT_ARRAY, rows: 2, cols: 2 });
      const svh = path.join(tmp, 'bitweave_array.svh');
      const r = spawnSync('yosys', ['-q', '-p', `read_verilog -sv -I${tmp} ${svh} ${[...TOP, ...AXI].join(' ')}; chparam -set ARENA_WORDS 4096 -set WEIGHT_ROWS 1024 bw_axi_kernel; hierarchy -check -top bw_axi_kernel`], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr + r.stdout);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('make synth-axi: UltraScale+ figures of the wrapper beside the array (BITWEAVE_LONG=1)', function () {
    if (!process.env.BITWEAVE_LONG) {
      console.log('      SKIPPED: set BITWEAVE_LONG=1 (make test-long) for yosys synthesis of the kernel (minutes)');
      this.skip();
    }
    this.timeout(3_600_000);
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'bitweave-synth-axi-'));
    try {
      const r = spawnSync(path.join(ROOT, 'sim', 'axi', 'synth-axi.sh'), [out], { encoding: 'utf8', cwd: ROOT });
      assert.equal(r.status, 0, r.stderr + r.stdout);
      const j = JSON.parse(fs.readFileSync(path.join(out, 'axi.json'), 'utf8'));
      assert.ok(j.top.lut > 0 && j.kernel.lut > j.top.lut, 'the kernel holds the array and more');
      assert.ok(j.wrapper.ff > 0);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});
