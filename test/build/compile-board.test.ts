import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RECORDED_XCUP, xcupCostPerPE } from '../../host/array/resources';
import { boardArray, boardKernelBuild, boardSlrs, MIN_ARENA_WORDS, VITIS_KERNEL_BASE } from '../../host/build/sizing';
import { loadBoard } from '../../host/boards';
import { KERNEL_NAME } from '../../host/build/project';
import { ARRAY_KERNELS } from '../../host/array/kernel-abi';
import { findClang, typeCheckIntel } from '../helpers/intel-cl';
import { readBnn } from '../../host/format/bnn';
import { Context, Program, allDevices } from '../../host/opencl';
import { packageRoot } from '../../host/core/paths';
import { assertUserError, bitweave } from '../helpers/run';

const bw = (args: string[], env: NodeJS.ProcessEnv = {}) => bitweave(args, { env });

function firstDevice() {
  const d = allDevices()[0];
  assert.ok(d, 'an OpenCL device (PoCL, installed by make setup)');
  return d;
}

const ROOT = packageRoot();
const BIN = path.join(ROOT, 'bin/bitweave.js');
const CNN = path.join(ROOT, 'models/fashion-cnn.bnn');

describe('bitweave compile --board (build directories)', function () {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bitweave-build-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('Xilinx boards: the array is sized from the recorded yosys per-PE cost (said to be an estimate); --rows/--cols override it', () => {
    assert.deepEqual(xcupCostPerPE(), RECORDED_XCUP.grid);
    const pe = xcupCostPerPE();
    for (const name of ['aws-f1', 'alveo-u50', 'alveo-u250']) {
      const board = loadBoard(name);
      const a = boardArray(board);
      // one SLR's share of the part (the array must not span dies), 60% of it for the PEs
      const slrs = boardSlrs(board)!;
      assert.ok(slrs.count >= 2, `${name}: a stacked-silicon part`);
      const [lut, ff] = [(board.resources!.lut! / slrs.count) * 0.6, (board.resources!.ff! / slrs.count) * 0.6];
      assert.ok(a.rows * a.cols * pe.lut <= lut && a.rows * a.cols * pe.ff <= ff, `${name}: ${a.rows}x${a.cols} fits one SLR`);
      // twice the PEs would not fit: LUTs, or (more columns, more arena copies) the SLR's RAM
      const fitsRam = (rows: number, cols: number) => boardKernelBuild(board, { rows, cols }, VITIS_KERNEL_BASE, MIN_ARENA_WORDS) !== null;
      for (const [r2, c2] of [[2 * a.rows, a.cols], [a.rows, 2 * a.cols]]) {
        assert.ok(r2 * c2 * pe.lut > lut || r2 * c2 * pe.ff > ff || !fitsRam(r2, c2) || r2 > 64, `${name}: ${r2}x${c2} would not fit`);
      }
      assert.ok(fitsRam(a.rows, a.cols), `${name}: the kernel's memories fit one SLR with a ${MIN_ARENA_WORDS}-word arena`);
      assert.match(a.note, /of one SLR's [\d,]+ LUTs .* one compute unit per SLR without the shell: SLR\d/);
      assert.ok(a.estimate);
      assert.match(a.note, /yosys figures of the RTL's PE grid\), and whose RTL kernel's memories fit 90% of that SLR's RAM with an arena of 512 KiB per PE column \(\d+ UltraRAM, \d+ RAMB36 of \d+ and \d+\); an estimate, not a Vivado result/);
      // the board file's fallback says it equals the sized array
      assert.deepEqual([a.rows, a.cols], [board.defaultArray.rows, board.defaultArray.cols], `${name}: update defaultArray in boards/${name}.json`);
    }
    const out = path.join(tmp, 'f1-sized');
    const r = bw(['compile', CNN, '--board', 'aws-f1', '-o', out, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const res = JSON.parse(r.stdout);
    const a = boardArray(loadBoard('aws-f1'));
    assert.deepEqual([res.array.rows, res.array.cols], [a.rows, a.cols]);
    assert.equal(res.arrayNote, a.note);
    assert.equal(JSON.parse(fs.readFileSync(path.join(out, 'bitweave-build.json'), 'utf8')).arrayNote, a.note);
    assert.ok(fs.readFileSync(path.join(out, 'README.md'), 'utf8').includes(a.note));
    const text = bw(['compile', CNN, '--board', 'aws-f1', '-o', path.join(tmp, 'f1-8x16'), '--rows', '8', '--cols', '16']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /array 8x16x64/);
    assert.match(text.stdout, /array: given on the command line/);
    const half = bw(['compile', CNN, '--board', 'aws-f1', '-o', path.join(tmp, 'f1-rows'), '--rows', '16', '--json']);
    assert.equal(half.code, 0, half.stderr);
    const h = JSON.parse(half.stdout);
    assert.deepEqual([h.array.rows, h.array.cols], [16, a.cols]);
    assert.equal(h.arrayNote, `rows given on the command line, the other from ${a.note}`);
  });

  it('intel-pac-a10: kernel sources, generated header for the board array, manifest with checksums', () => {
    const out = path.join(tmp, 'a10');
    const r = bw(['compile', CNN, '--board', 'intel-pac-a10', '-o', out, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const res = JSON.parse(r.stdout);
    const board = loadBoard('intel-pac-a10');
    assert.deepEqual([res.array.rows, res.array.cols], [board.defaultArray.rows, board.defaultArray.cols], 'Intel boards keep the board file\'s array');
    assert.match(res.arrayNote, /^the board's default array: estimated [\d,]+ ALMs .* within 50% of the device; counted from the kernels' structure .*, not an aoc report$/);
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'bitweave-build.json'), 'utf8'));
    assert.equal(manifest.board, 'intel-pac-a10');
    assert.equal(manifest.kernelSources.name, KERNEL_NAME);
    for (const f of manifest.files) {
      const data = fs.readFileSync(path.join(out, f.path));
      assert.equal(data.length, f.bytes, f.path);
      assert.equal(createHash('sha256').update(data).digest('hex'), f.sha256, f.path);
    }
    // every kernel source of the project is there, the top file's includes define the array kernels
    assert.deepEqual(manifest.kernelSources.kernels, Object.values(ARRAY_KERNELS).map((k) => k.name));
    const top = fs.readFileSync(path.join(out, manifest.kernelSources.top), 'utf8');
    const included = [...top.matchAll(/^#include "([^"]+)"$/gm)].map((m) => m[1]);
    for (const k of Object.values(ARRAY_KERNELS)) {
      assert.ok(included.some((f) => new RegExp(`void\\s+${k.name}\\s*\\(`).test(fs.readFileSync(path.join(out, 'kernels', f), 'utf8'))), k.name);
    }
    const header = fs.readFileSync(path.join(out, 'kernels/bitweave_array.h'), 'utf8');
    assert.match(header, new RegExp(`#define BW_ROWS ${board.defaultArray.rows}\\b`));
    assert.match(header, new RegExp(`#define BW_COLS ${board.defaultArray.cols}\\b`));
    for (const f of fs.readdirSync(path.join(ROOT, 'opencl-kernels'))) {
      if (/\.(cl|h)$/.test(f)) assert.ok(fs.existsSync(path.join(out, 'kernels', f)), f);
    }
    // the model inside is the model given
    const m = readBnn(path.join(out, manifest.model.file));
    assert.deepEqual(m.ops.length, readBnn(CNN).ops.length);
    assert.ok(manifest.segments[0].binaryMacsPerImage > 0);
  });

  it('the emitted kernel directory builds as it is: on PoCL (FIFO streams) and, type-checked by clang, with -DBW_INTEL_FPGA=1 (channels)', function () {
    const out = path.join(tmp, 'a10');
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'bitweave-build.json'), 'utf8'));
    const src = fs.readFileSync(path.join(out, manifest.kernelSources.top), 'utf8');
    const ctx = Context.create(firstDevice());
    try {
      const prog = Program.fromSource(ctx, src, { options: `-cl-std=CL1.2 -I ${path.join(out, 'kernels')}` });
      for (const k of Object.values(ARRAY_KERNELS)) prog.createKernel(k.name).dispose();
      prog.dispose();
    } finally {
      ctx.dispose();
    }
    const clang = findClang();
    if (!clang) {
      console.log('      (no clang here: the Intel variant was not type-checked)');
      return;
    }
    const r = typeCheckIntel(clang, src, path.join(out, 'kernels'));
    assert.equal(r.status, 0, r.stderr);
  });

  it('pocl-emulator: run.sh evaluates the model from the emitted kernels, as the reference does', function () {
    this.timeout(300000);
    const out = path.join(tmp, 'pocl');
    assert.equal(bw(['compile', CNN, '--board', 'pocl-emulator', '-o', out]).code, 0);
    const ref = bw(['eval', CNN, '--dataset', 'fashion-mnist', '--limit', '64', '--backend', 'reference', '--json']);
    assert.equal(ref.code, 0, ref.stderr);
    const env = { ...process.env, BITWEAVE: `${process.execPath} ${BIN}` };
    const run = spawnSync('bash', [path.join(out, 'run.sh'), '--dataset', 'fashion-mnist', '--limit', '64', '--json'], { encoding: 'utf8', env, timeout: 300000 });
    assert.equal(run.status, 0, run.stderr);
    const a = JSON.parse(ref.stdout);
    const b = JSON.parse(run.stdout);
    assert.equal(b.backend, 'opencl');
    assert.equal(b.correct, a.correct);
    // host layers on the reference engine (a board whose host cannot run the native engine)
    const refHost = spawnSync('bash', [path.join(out, 'run.sh'), '--dataset', 'fashion-mnist', '--limit', '64', '--json'], {
      encoding: 'utf8', env: { ...env, BITWEAVE_HOST_ENGINE: 'reference' }, timeout: 300000,
    });
    assert.equal(refHost.status, 0, refHost.stderr);
    assert.equal(JSON.parse(refHost.stdout).correct, a.correct);
    assertUserError(bw(['eval', CNN, '--dataset', 'fashion-mnist', '--limit', '8', '--backend', 'opencl'], { BITWEAVE_HOST_ENGINE: 'gpu' }), /host engine must be/);
    // what runs is what was emitted: a broken emitted block fails the build, named
    fs.appendFileSync(path.join(out, 'kernels/feeder.cl'), '\nthis is not OpenCL C;\n');
    const bad = spawnSync('bash', [path.join(out, 'run.sh'), '--dataset', 'fashion-mnist', '--limit', '8'], { encoding: 'utf8', env, timeout: 300000 });
    assert.equal(bad.status, 1, bad.stderr);
    assert.match(bad.stderr, /CL_BUILD_PROGRAM_FAILURE/);
  });

  it('never overwrites what it did not write, and replaces its own build only with --force', () => {
    const foreign = path.join(tmp, 'foreign');
    fs.mkdirSync(foreign);
    fs.writeFileSync(path.join(foreign, 'thesis.tex'), 'precious');
    assertUserError(bw(['compile', CNN, '--board', 'intel-pac-a10', '-o', foreign]), /non-empty directory bitweave did not write/);
    assert.equal(fs.readFileSync(path.join(foreign, 'thesis.tex'), 'utf8'), 'precious');
    assert.deepEqual(fs.readdirSync(tmp).filter((f) => f.includes('.tmp-')), []);

    const out = path.join(tmp, 'again');
    assert.equal(bw(['compile', CNN, '--board', 'pocl-emulator', '-o', out]).code, 0);
    assertUserError(bw(['compile', CNN, '--board', 'pocl-emulator', '-o', out]), /--force/);
    const r = bw(['compile', CNN, '--board', 'intel-pac-a10', '-o', out, '--force', '--rows', '4', '--cols', '8']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(fs.readFileSync(path.join(out, 'kernels/bitweave_array.h'), 'utf8'), /#define BW_ROWS 4\b/);
    assert.equal(JSON.parse(fs.readFileSync(path.join(out, 'bitweave-build.json'), 'utf8')).board, 'intel-pac-a10');
  });

  it('aws-f1: the Vitis project through the same command, manifest checksums and overwrite rules', () => {
    const out = path.join(tmp, 'f1');
    const r = bw(['compile', CNN, '--board', 'aws-f1', '-o', out, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const res = JSON.parse(r.stdout);
    assert.equal(res.toolchain, 'vitis');
    for (const f of res.files) {
      const data = fs.readFileSync(path.join(out, f.path));
      assert.equal(createHash('sha256').update(data).digest('hex'), f.sha256, f.path);
    }
    assert.ok(res.files.some((f: { path: string }) => f.path === 'bitweave_array.cfg'));
    assertUserError(bw(['compile', CNN, '--board', 'aws-f1', '-o', out]), /--force/);
  });

  it('project: projected images/s per board from the cycle model, labelled, none without a clock', () => {
    const r = bw(['project', CNN, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const f1 = rows.find((x) => x.board === 'aws-f1');
    assert.equal(f1.projected, true);
    const sized = boardArray(loadBoard('aws-f1'));
    assert.deepEqual([f1.array.rows, f1.array.cols], [sized.rows, sized.cols], 'the array compile --board would build');
    assert.ok(Math.abs(f1.imagesPerSecond - (250e6 / f1.cyclesPerImage)) < 1e-6 * f1.imagesPerSecond);
    assert.ok(f1.utilization > 0 && f1.utilization <= 1);
    // the RTL kernel behind AXI, simulated when its model is built for the board's array (make axi-variant)
    if (f1.axi) {
      assert.equal(f1.bound, 'kernel');
      assert.equal(f1.cyclesPerImage, f1.axi.kernelCyclesPerImage);
      assert.ok(f1.axi.kernelCyclesPerImage > f1.axi.arrayCyclesPerImage);
    } else {
      assert.match(f1.axiNote, new RegExp(`the AXI kernel model for ${sized.rows}x${sized.cols} is not built \\(make axi-variant ROWS=${sized.rows} COLS=${sized.cols}\\)`));
    }
    assert.equal(rows.find((x) => x.board === 'intel-pac-a10').imagesPerSecond, null);
    const text = bw(['project', CNN, '--board', 'aws-f1']);
    assert.match(text.stdout, /^aws-f1: projected [\d,]+ images\/s at 250 MHz/m);
    assert.match(text.stdout, /not measured on an FPGA/);
    assertUserError(bw(['project', CNN, '--batch', '0']), /--batch must be/);
  });

  it('bad input: unknown board, bad array size, missing model, corrupt model', () => {
    const out = path.join(tmp, 'bad');
    assertUserError(bw(['compile', CNN, '--board', 'nosuchboard', '-o', out]), /board/);
    assertUserError(bw(['compile', CNN, '--board', 'intel-pac-a10', '--rows', '0', '-o', out]), /--rows must be an integer/);
    assertUserError(bw(['compile', CNN, '--board', 'intel-pac-a10', '--rows', '12', '-o', out]), /ROWS must divide 64/);
    assertUserError(bw(['compile', path.join(tmp, 'none.bnn'), '--board', 'intel-pac-a10', '-o', out]), /not found/);
    const bad = path.join(tmp, 'bad.bnn');
    fs.writeFileSync(bad, fs.readFileSync(CNN).subarray(0, 1000));
    assertUserError(bw(['compile', bad, '--board', 'intel-pac-a10', '-o', out]), /bad\.bnn/);
    assert.equal(fs.existsSync(out), false);
  });
});
