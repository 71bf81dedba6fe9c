/** Zynq boards (host/build/zynq.ts): the kernel build for the part, projections, the emitted Vivado project. */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadBoard } from '../../host/boards';
import { boardArray } from '../../host/build/sizing';
import { kernelRam } from '../../host/build/kernel-ram';
import { zynqKernelBuild, zynqProjection, zynqWrapper } from '../../host/build/zynq';
import { compileForBoard } from '../../host/build/compile-board';
import { rtlKernelPorts } from '../../host/build/vitis-rtl';
import { programCycles } from '../../host/array/cycles';
import { encodeSegment } from '../../host/array/program';
import { DEFAULT_ARRAY } from '../../host/array/params';
import { AXI_BUILD, AXI_MASTERS } from '../../host/array/axi-kernel';
import { loadNamedModel } from '../../host/zoo/models';
import { BitweaveError } from '../../host/core/errors';

describe('Zynq boards (pynq-z1)', () => {
  const board = loadBoard('pynq-z1');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bitweave-zynq-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it("the kernel build: 64-bit masters, AXI3 bursts, memories within 90% of the part's RAMB36", () => {
    const a = boardArray(board);
    const { build, ram, budget } = zynqKernelBuild(board, a);
    assert.equal(build.dataBits, 64);
    assert.ok(build.maxBurst <= 16, 'AXI_HP ports are AXI3: 16 beats at most');
    assert.equal(budget.uram, 0);
    assert.equal(budget.bram36, Math.floor(140 * 0.9));
    assert.ok(ram.bram36 <= budget.bram36 && ram.uram === 0);
    assert.deepEqual(kernelRam(a, build, 0), ram, 'the RAM count is the kernel-ram model of that build');
    // doubling the arena would not fit: the build is the deepest that does
    assert.ok(kernelRam(a, { ...build, arenaWords: build.arenaWords * 2 }, 0).bram36 > budget.bram36);
  });

  it('projects tfc-w1a1: the cycle model at 100 MHz plus the HP-port traffic, within the build', async () => {
    const m = await loadNamedModel('tfc-w1a1');
    const p = zynqProjection(m, board, 64);
    const a = boardArray(board);
    const array = { ...DEFAULT_ARRAY, rows: a.rows, cols: a.cols, drain: AXI_BUILD.drain };
    const si = m.segments.findIndex((s) => s.kind === 'device');
    const model = programCycles(encodeSegment(m, si, array), 64, array).reduce((s, l) => s + l.cycles, 0);
    assert.equal(p.arrayCyclesPerImage, model / 64);
    assert.ok(p.kernelCyclesPerImage > p.arrayCyclesPerImage, 'DDR traffic costs cycles');
    assert.equal(p.imagesPerSecond, 100e6 / p.kernelCyclesPerImage);
    assert.equal(p.projected, true);
    assert.equal(p.fits, true, p.fitNote);
    assert.equal(p.imagesPerCall, 64);
    // 13 input words and 5 output words, each rounded to whole 256-bit arena rows
    assert.equal(p.bytesPerImage, (16 + 8) * 8);
    assert.ok(p.memory.bytesPerCycle > 6 && p.memory.bytesPerCycle < 8, '0.8 GB/s x 0.8 at 100 MHz');
  });

  it('projects cnv-w1a1 and says the emitted build cannot hold it', async () => {
    const m = await loadNamedModel('cnv-w1a1');
    const p = zynqProjection(m, board, 64);
    assert.equal(p.fits, false);
    assert.match(p.fitNote!, /^device segment \d+ needs .* of the kernel's (parameter memory|weight memory|arena)/);
    assert.ok(p.imagesPerSecond > 0 && p.imagesPerSecond < p.arrayImagesPerSecond);
    const a2 = zynqProjection(await loadNamedModel('tfc-w1a2'), board, 64);
    assert.match(a2.fitNote!, /2-bit outputs; the RTL kernel computes 1-bit outputs only/);
  });

  it('compile --board pynq-z1 emits a Vivado project: RTL, Verilog top, build.tcl for the part with the PS and HP ports', async () => {
    const m = await loadNamedModel('tfc-w1a1');
    const out = path.join(tmp, 'tfc');
    const r = compileForBoard(m, board, out);
    assert.equal(r.toolchain, 'vivado');
    const names = r.files.map((f) => f.path);
    for (const f of ['build.tcl', 'README.md', 'rtl/bitweave_zynq.v', 'rtl/bitweave_array.svh', 'rtl/bw_axi_kernel.sv', 'rtl/bw_top.sv']) assert.ok(names.includes(f), f);
    assert.ok(!names.includes('package_xo.tcl') && !names.includes('kernel.xml'), 'no Vitis packaging');
    const tcl = fs.readFileSync(path.join(out, 'build.tcl'), 'utf8');
    assert.match(tcl, /create_project -force \S+ .* -part xc7z020clg400-1\n/);
    assert.match(tcl, /create_bd_cell -type ip -vlnv xilinx\.com:ip:processing_system7:5\.5 ps7/);
    assert.match(tcl, /CONFIG\.PCW_FPGA0_PERIPHERAL_FREQMHZ \{100\}/);
    for (let i = 0; i < 3; i++) {
      assert.match(tcl, new RegExp(`CONFIG\\.PCW_USE_S_AXI_HP${i} \\{1\\} CONFIG\\.PCW_S_AXI_HP${i}_DATA_WIDTH \\{64\\}`));
      assert.match(tcl, new RegExp(`Master "/bitweave_array/${AXI_MASTERS[i]}" Slave "/ps7/S_AXI_HP${i}"`));
    }
    assert.match(tcl, /create_bd_cell -type module -reference bitweave_zynq/);
    assert.match(tcl, /launch_runs impl_1 -to_step write_bitstream/);
    // every source build.tcl adds was emitted, and every emitted RTL file is added
    const added = [...tcl.matchAll(/\[file join \$here (rtl\/[\w.]+)\]/g)].map((x) => x[1]);
    assert.deepEqual(added.slice().sort(), names.filter((n) => n.startsWith('rtl/')).sort());
    // Tcl braces and brackets balance
    for (const [o, c] of [['{', '}'], ['[', ']']]) assert.equal(tcl.split(o).length, tcl.split(c).length, `${o}${c} balance`);
    // the Verilog top: every kernel port, the build's parameters
    const v = fs.readFileSync(path.join(out, 'rtl/bitweave_zynq.v'), 'utf8');
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'bitweave-build.json'), 'utf8'));
    assert.deepEqual(manifest.axiBuild, zynqKernelBuild(board, r.array).build);
    for (const q of rtlKernelPorts(manifest.axiBuild)) {
      assert.match(v, new RegExp(`${q.dir === 'in' ? 'input ' : 'output'} wire ${q.width > 1 ? `\\[${q.width - 1}:0\\] ` : ''}${q.name}[,\\n]`), q.name);
      assert.match(v, new RegExp(`\\.${q.name}\\(${q.name}\\)`));
    }
    assert.match(v, /bw_axi_kernel #\(\.DATA_BITS\(64\), \.OUTSTANDING\(\d+\), \.MAX_BURST\(16\),/);
    assert.equal(v, zynqWrapper(manifest.axiBuild));
    assert.equal(manifest.array.drain, AXI_BUILD.drain);
    assert.match(fs.readFileSync(path.join(out, 'README.md'), 'utf8'), /vivado -mode batch -source build\.tcl/);
  });

  it('compile refuses, in one line, a model the build cannot hold', async () => {
    const m = await loadNamedModel('cnv-w1a1');
    assert.throws(() => compileForBoard(m, board, path.join(tmp, 'cnv')), (e: Error) => e instanceof BitweaveError && /^board pynq-z1: device segment \d+ needs .* the build holds/.test(e.message) && !e.message.includes('\n'));
    assert.ok(!fs.existsSync(path.join(tmp, 'cnv')), 'nothing written');
    assert.throws(() => compileForBoard(m, board, path.join(tmp, 'x'), { kernel: 'hls' }), /builds the RTL kernel only/);
  });
});
