/** Board descriptions (boards/*.json), their validation, and `bitweave boards` / `bitweave devices`. */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { boardArray, boardSlrs, kernelSlrs } from '../host/build/sizing';
import { boardConstraints, boardDeviceFilter, boardFlow, listBoards, loadBoard, readBoardFile, validateBoard } from '../host/boards';
import { packagePath } from '../host/core/paths';
import { FormatError, BitweaveError } from '../host/core/errors';
import { findDevices, OpenCLUnavailableError, platforms } from '../host/opencl';

const CLI_DIR = path.resolve(__dirname, '../host/cli');

/**
 * Runs the bitweave CLI. The boards/devices commands are added to extraCommands here unless
 * commands.ts already registered them, so the test holds either way.
 */
const RUN_CLI = `
const { extraCommands } = require(${JSON.stringify(path.join(CLI_DIR, 'commands.js'))});
const b = require(${JSON.stringify(path.join(CLI_DIR, 'boards.js'))});
for (const c of [b.boardsCommand, b.devicesCommand]) if (!extraCommands.includes(c)) extraCommands.push(c);
require(${JSON.stringify(path.join(CLI_DIR, 'main.js'))}).main(process.argv.slice(1));
`;

function bw(args: string[], env: Record<string, string> = {}): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['-e', RUN_CLI, ...args], { encoding: 'utf8', timeout: 120000, env: { ...process.env, ...env } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const NAMES = ['alveo-u250', 'alveo-u50', 'aws-f1', 'de10-nano', 'icebreaker', 'intel-pac-a10', 'pocl-emulator', 'pynq-z1', 'ulx3s'];

function hasOpenCL(): boolean {
  try {
    platforms();
    return true;
  } catch (e) {
    if (e instanceof OpenCLUnavailableError) return false;
    throw e;
  }
}

describe('board descriptions', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bitweave-boards-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('loads and validates every board', () => {
    const boards = listBoards();
    assert.deepEqual(boards.map((b) => b.name), NAMES);
    for (const b of boards) {
      assert.ok(b.sources.length >= 1, `${b.name} cites its sources`);
      // the ULX3S's array is the largest its SoC placed and routed at (make bitstream); the rest are estimates
      assert.equal(b.defaultArray.estimate, b.name !== 'ulx3s', `${b.name}: default array ${b.name === 'ulx3s' ? 'from place and route' : 'marked as an estimate'}`);
      assert.equal(b.defaultArray.word, 64);
      if (b.kind === 'fpga') assert.ok(b.part && b.resources, `${b.name}: part and resources`);
    }
  });

  it('carries the published facts of each target', () => {
    const f1 = loadBoard('aws-f1');
    // aws-fpga's F1 branch f1_xdma_shell installs the _4 platform (_3 was only on the deprecated master)
    assert.equal(f1.platform, 'xilinx_aws-vu9p-f1_shell-v04261818_201920_4');
    assert.ok(f1.sources.every((s) => !s.url?.includes('aws/aws-fpga') || s.url.includes('/f1_xdma_shell')), 'aws-fpga facts from the f1_xdma_shell branch');
    assert.ok(f1.notes.some((n) => /2019\.2 through 2021\.2, and 2024\.1/.test(n)), 'the Vitis versions the branch accepts');
    assert.deepEqual((f1 as unknown as { slrs: unknown }).slrs && kernelSlrs(f1), ['SLR0', 'SLR2'], 'the F1 shell sits in SLR1');
    assert.deepEqual(kernelSlrs(loadBoard('alveo-u250')), ['SLR0', 'SLR2', 'SLR3']);
    assert.deepEqual(kernelSlrs(loadBoard('alveo-u50')), ['SLR1']);
    assert.deepEqual(kernelSlrs(loadBoard('intel-pac-a10')), [], 'no SLRs in the file: none');
    // a malformed slrs description is one clear error
    for (const [slrs, re] of [[{ count: 0, shell: [] }, /slrs\.count must be an integer in 1\.\.8/], [{ count: 3, shell: [3] }, /slrs\.shell must list SLR indices below 3/], [{ count: 2, shell: [0, 1] }, /the shell takes every SLR/]] as const) {
      assert.throws(() => boardSlrs({ ...f1, slrs } as unknown as typeof f1), re);
    }
    assert.equal(f1.clock.kernelMHz, 250);
    assert.equal(f1.memory.banks, 4);
    assert.equal(f1.memory.type, 'DDR4');
    assert.equal(f1.memory.totalBytes, 64 * 2 ** 30);
    assert.equal(f1.resources?.lut, 1182240);
    assert.equal(f1.resources?.dsp, 6840);
    assert.equal(f1.toolchain.name, 'vitis');
    assert.ok(f1.sources.some((s) => s.url?.includes('aws/aws-fpga') && s.url.includes('Vitis/README.md')));
    const u50 = loadBoard('alveo-u50');
    assert.equal(u50.memory.type, 'HBM2');
    assert.equal(u50.memory.banks, 32);
    assert.equal(u50.memory.totalBytes, 8 * 2 ** 30);
    const pac = loadBoard('intel-pac-a10');
    assert.equal(pac.toolchain.name, 'intel-fpga-sdk-opencl');
    assert.match(pac.toolchain.compiler, /^aoc /);
    assert.equal(pac.part, '10AX115N2F40E2LG');
    assert.equal(loadBoard('de10-nano').part, '5CSEBA6U23I7');
    assert.equal(loadBoard('pocl-emulator').kind, 'emulator');
  });

  it('the PYNQ-Z1: Zynq-7020, its resources, 100 MHz, the DDR3 behind the HP ports, an array sized from yosys', () => {
    const z = loadBoard('pynq-z1');
    assert.equal(z.part, 'xc7z020clg400-1');
    assert.equal(z.toolchain.name, 'vivado');
    assert.equal(z.clock.kernelMHz, 100);
    assert.deepEqual({ ...z.resources, scope: undefined }, { scope: undefined, lut: 53200, ff: 106400, bram36k: 140, memKbits: 4900, dsp: 220 });
    assert.equal(z.memory.type, 'DDR3');
    assert.equal(z.memory.totalBytes, 512 * 2 ** 20);
    // 16-bit DDR3 at 1050 Mbps: 2.1 GB/s; one 64-bit HP port at 100 MHz: 0.8 GB/s
    assert.equal(z.memory.bandwidthGBps, 2.1);
    assert.equal(z.memory.axi!.bankGBps, (64 / 8) * 100e6 / 1e9);
    assert.match(z.memory.axi!.note!, /not measurements/);
    const a = boardArray(z);
    assert.deepEqual([a.rows, a.cols], [z.defaultArray.rows, z.defaultArray.cols]);
    assert.ok(z.notes.some((n) => /yosys [\d.]+ synth_xilinx -family xc7/.test(n) && /sim\/axi\/synth-xc7\.sh/.test(n) && /at 8x8 .* \d[\d,]* LUT/.test(n)), 'the yosys figures and the command in the notes');
  });

  it('the ULX3S: ECP5 LFE5U-85F, its resources, the UART link and the open flow', () => {
    const u = loadBoard('ulx3s');
    assert.equal(u.part, 'LFE5U-85F-6BG381C');
    assert.equal(u.vendor, 'lattice');
    assert.equal(u.toolchain.name, 'trellis');
    assert.deepEqual(u.resources, { scope: u.resources!.scope, lut: 83640, ff: 83640, ebr18k: 208, memKbits: 3744, dsp: 156 });
    assert.equal(u.resources!.memKbits, u.resources!.ebr18k! * 18);
    assert.deepEqual(u.link && { kind: u.link.kind, baud: u.link.baud, bridge: u.link.bridge }, { kind: 'uart', baud: 1_000_000, bridge: 'FT231X' });
    const f = boardFlow(u);
    assert.deepEqual([f.family, f.device, f.package, f.speed, f.top, f.oscillatorMHz, f.pll, f.programmer.board], ['ecp5', '85k', 'CABGA381', 6, 'bw_ulx3s', 25, true, 'ulx3s']);
    // 30 MHz: the SoC at 2x4 reaches 36.5 MHz after routing (its board notes)
    assert.equal(u.clock.kernelMHz, 30);
    assert.deepEqual([u.defaultArray.rows, u.defaultArray.cols], [2, 4]);
    assert.equal(boardFlow(loadBoard('icebreaker')).programmer.board, 'ice40_generic');
    assert.throws(() => boardFlow(loadBoard('aws-f1')), /no open bitstream flow/);
    assert.ok(u.sources.some((s) => s.url?.includes('emard/ulx3s')));
  });

  it("each open flow's pin constraints (boards/<board>/) place every port of its top, at the documented sites", () => {
    const ports = (sv: string) => {
      const head = fs.readFileSync(packagePath(sv), 'utf8').replace(/\/\/[^\n]*/g, '');
      const out: string[] = [];
      // ANSI port declarations: the only input / output words in these files
      for (const m of head.matchAll(/^\s*(?:input|output)\s+logic\s*(?:\[(\d+):0\])?\s*(\w+)\s*,?\s*$/gm)) {
        if (m[1] === undefined) out.push(m[2]);
        else for (let i = 0; i <= Number(m[1]); i++) out.push(`${m[2]}[${i}]`);
      }
      return out;
    };
    // ULX3S (ulx3s_v20.lpf sites)
    const lpf = fs.readFileSync(boardConstraints(loadBoard('ulx3s')), 'utf8');
    const sites = new Map([...lpf.matchAll(/^LOCATE COMP "([^"]+)" SITE "(\w+)";/gm)].map((m) => [m[1], m[2]]));
    assert.deepEqual([...sites.keys()].sort(), ports('sim/soc/ecp5/bw_ulx3s.sv').sort());
    assert.deepEqual(Object.fromEntries(sites), {
      clk_25mhz: 'G2', btn_fire1: 'R1', ftdi_txd: 'M1', ftdi_rxd: 'L4',
      'led[0]': 'B2', 'led[1]': 'C2', 'led[2]': 'C1', 'led[3]': 'D2', 'led[4]': 'D1', 'led[5]': 'E2', 'led[6]': 'E1', 'led[7]': 'H3',
    });
    assert.match(lpf, /^FREQUENCY PORT "clk_25mhz" 25 MHZ;/m);
    for (const p of sites.keys()) assert.match(lpf, new RegExp(`^IOBUF PORT "${p.replace(/[[\]]/g, '\\$&')}" IO_TYPE=LVCMOS33`, 'm'));
    // iCEBreaker
    const pcf = fs.readFileSync(boardConstraints(loadBoard('icebreaker')), 'utf8');
    const pins = new Map([...pcf.matchAll(/^set_io (\S+) (\d+)$/gm)].map((m) => [m[1], m[2]]));
    assert.deepEqual([...pins.keys()].sort(), ports('sim/ice40/bw_ice40_selftest.sv').sort());
    assert.equal(pins.get('clk'), '35');
    // every flow's file list exists, and the board folders hold nothing but constraints
    for (const b of listBoards().filter((x) => x.flow)) {
      assert.ok(fs.existsSync(packagePath(b.flow!.sources)), b.flow!.sources);
      assert.equal(path.dirname(b.flow!.constraints), b.name, `${b.name}: constraints in boards/${b.name}/`);
    }
  });

  it("the ULX3S file list: bw_top.f's files in its order, then the UART link, the SoC and the board top", () => {
    const readFileList = (f: string) => fs.readFileSync(packagePath(f), 'utf8').split('\n').map((l) => l.replace(/\/\/.*$/, '').trim()).filter(Boolean);
    const top = readFileList('sim/bw_top.f');
    const ulx = readFileList('sim/soc/ecp5/bw_ulx3s.f');
    assert.deepEqual(ulx.slice(0, top.length), top);
    assert.deepEqual(ulx.slice(top.length), ['sim/soc/bw_crc16.sv', 'sim/soc/bw_uart_rx.sv', 'sim/soc/bw_uart_tx.sv', 'sim/soc/bw_link.sv', 'sim/soc/bw_soc.sv', 'sim/soc/ecp5/bw_ulx3s.sv']);
  });

  it('rejects malformed descriptions with the file and field', () => {
    const good = JSON.parse(fs.readFileSync(loadBoard('aws-f1').file, 'utf8'));
    const write = (name: string, obj: unknown) => {
      const f = path.join(tmp, `${name}.json`);
      fs.writeFileSync(f, typeof obj === 'string' ? obj : JSON.stringify(obj));
      return f;
    };
    const expectField = (f: string, re: RegExp) =>
      assert.throws(() => readBoardFile(f), (e: unknown) => e instanceof FormatError && e.message.startsWith(f) && re.test(e.message));
    expectField(write('aws-f1', '{ not json'), /invalid JSON/);
    expectField(write('other-name', good), /name: 'aws-f1' does not match the file name/);
    expectField(write('aws-f1', { ...good, defaultArray: { ...good.defaultArray, rows: 0 } }), /defaultArray\.rows: must be >= 1/);
    expectField(write('aws-f1', { ...good, defaultArray: { ...good.defaultArray, word: 48 } }), /defaultArray\.word/);
    expectField(write('aws-f1', { ...good, sources: [] }), /sources: at least one source/);
    expectField(write('aws-f1', { ...good, sources: [{ title: 'x', facts: [] }] }), /sources\[0\]: needs a url or a document id/);
    expectField(write('aws-f1', { ...good, memory: { ...good.memory, totalBytes: 1 } }), /memory\.totalBytes/);
    expectField(write('aws-f1', { ...good, toolchain: { ...good.toolchain, name: 'quartus-magic' } }), /toolchain\.name/);
    expectField(write('aws-f1', { ...good, toolchain: { ...good.toolchain, release: 19.4 } }), /toolchain\.release: expected a string/);
    expectField(write('aws-f1', { ...good, toolchain: { ...good.toolchain, aocVersion: ['19.4'] } }), /toolchain\.aocVersion: expected a string/);
    expectField(write('aws-f1', { ...good, resources: { ...good.resources, lut: -1 } }), /resources\.lut/);
    expectField(write('aws-f1', { ...good, kind: 'asic' }), /kind/);
    const ulx = JSON.parse(fs.readFileSync(loadBoard('ulx3s').file, 'utf8'));
    expectField(write('ulx3s', { ...ulx, link: { ...ulx.link, baud: 0 } }), /link\.baud: must be >= 300/);
    expectField(write('ulx3s', { ...ulx, link: { ...ulx.link, kind: 'spi' } }), /link\.kind/);
    expectField(write('ulx3s', { ...ulx, flow: { ...ulx.flow, family: 'xc7' } }), /flow\.family: expected one of ice40, ecp5/);
    expectField(write('ulx3s', { ...ulx, flow: { ...ulx.flow, constraints: '../../etc/passwd' } }), /flow\.constraints: .* without '\.\.'/);
    expectField(write('ulx3s', { ...ulx, flow: { ...ulx.flow, constraints: '/etc/passwd' } }), /flow\.constraints/);
    expectField(write('ulx3s', { ...ulx, flow: { ...ulx.flow, top: 'bw top; shell' } }), /flow\.top/);
    expectField(write('ulx3s', { ...ulx, flow: { ...ulx.flow, pll: 'yes' } }), /flow\.pll/);
    expectField(write('ulx3s', { ...ulx, flow: { ...ulx.flow, programmer: { tool: 'ujprog', board: 'ulx3s' } } }), /flow\.programmer\.tool/);
    expectField(write('ulx3s', { ...ulx, resources: { ...ulx.resources, ebr18k: 1.5 } }), /resources\.ebr18k: expected an integer/);
    assert.throws(() => validateBoard([], 'x.json'), FormatError);
    assert.throws(() => loadBoard('no-such-board'), (e: unknown) => e instanceof BitweaveError && /unknown board 'no-such-board' \(known: alveo-u250, .*pocl-emulator, pynq-z1, ulx3s\)/.test((e as Error).message));
    assert.throws(() => loadBoard('../etc/passwd'), /invalid board name/);
  });

  it("the emulator board's device filter finds the PoCL device", function () {
    if (!hasOpenCL()) {
      console.log('      SKIPPED: no OpenCL platform');
      return this.skip();
    }
    assert.ok(findDevices(boardDeviceFilter(loadBoard('pocl-emulator'))).length >= 1);
  });
});

describe('bitweave boards / devices', () => {
  it('boards --json lists every description; the table marks estimates', () => {
    const j = bw(['boards', '--json']);
    assert.equal(j.code, 0, j.stderr);
    const boards = JSON.parse(j.stdout);
    assert.deepEqual(boards.map((b: { name: string }) => b.name), NAMES);
    assert.equal(boards[0].file, undefined, 'no machine-local paths in the JSON');
    const t = bw(['boards']);
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stdout, /^name\s+toolchain\s+part/);
    const f1 = boardArray(loadBoard('aws-f1'));
    assert.match(t.stdout, new RegExp(`aws-f1\\s+vitis\\s+xcvu9p-flgb2104-2-i\\s+250 MHz\\s+4x16 GiB DDR4\\s+${f1.rows}x${f1.cols}x64\\*`));
    assert.match(t.stdout, /estimate/);
  });

  it('devices lists the OpenCL devices, and exits 1 with one line when there are none', function () {
    if (!hasOpenCL()) {
      console.log('      SKIPPED: no OpenCL platform');
      return this.skip();
    }
    const j = bw(['devices', '--json']);
    assert.equal(j.code, 0, j.stderr);
    const devs = JSON.parse(j.stdout);
    assert.ok(devs.length >= 1);
    assert.ok(devs.some((d: { platform: string }) => /Portable Computing Language/.test(d.platform)));
    assert.ok(devs.every((d: { computeUnits: number; globalMemBytes: number }) => d.computeUnits >= 1 && d.globalMemBytes > 0));
    const two = bw(['devices', '--json'], { POCL_DEVICES: 'pthread pthread' });
    assert.equal(JSON.parse(two.stdout).filter((d: { platform: string }) => /Portable/.test(d.platform)).length, 2);
    const t = bw(['devices']);
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stdout, /platform 0: /);
    assert.match(t.stdout, /0\.0\s+cpu\s+/);
    const none = bw(['devices'], { POCL_DEVICES: 'no-such-pocl-driver', OCL_ICD_VENDORS: '/nonexistent-icd-vendors-dir' });
    assert.equal(none.code, 1, none.stderr);
    const lines = none.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, none.stderr);
    assert.match(lines[0], /^bitweave: error: .*(no OpenCL platform found|expose no device).*/);
  });
});
