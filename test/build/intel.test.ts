/**
 * The Intel build directories (intel-pac-a10, de10-nano) as a user follows them: the
 * pinned toolchain, check-env.sh, the Makefile's commands in order with stand-in aoc, aocl
 * and sign_aocx.sh that log their arguments, `make program` on the board's side never
 * compiling, run.sh handing the opencl backend the build's bitweave-build.json, and the
 * backend encoding for the build's array when given that file (on PoCL).
 */
import * as assert from 'node:assert/strict';
import { spawnSync, SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { scheduleCycles } from '../../host/array/cycles';
import { DEFAULT_ARRAY } from '../../host/array/params';
import { encodeSegment } from '../../host/array/program';
import { OpenCLBackend } from '../../host/backends/opencl';
import { loadBoard } from '../../host/boards';
import { compileForBoard } from '../../host/build/compile-board';
import { intelImages } from '../../host/build/intel';
import { KERNEL_NAME } from '../../host/build/project';
import { packageRoot } from '../../host/core/paths';
import { readBnn } from '../../host/format/bnn';
import { allDevices, OpenCLUnavailableError, platforms } from '../../host/opencl';
import { compareWithReference } from '../helpers/backend-compare';
import { rng } from '../helpers/naive';
import { BconvCase, bconvModel, randomInput } from '../helpers/native-models';
import { bitweave } from '../helpers/run';
import { requireOrSkip } from '../helpers/skip';

const ROOT = packageRoot();
const CNN = path.join(ROOT, 'models/fashion-cnn.bnn');

function writeScript(file: string, body: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `#!/usr/bin/env bash\n${body}`);
  fs.chmodSync(file, 0o755);
}

/** The argument after -o, created as a file: what aoc and sign_aocx.sh write. */
const WRITE_OUTPUT = 'out=""; prev=""; for a in "$@"; do if [ "$prev" = "-o" ]; then out="$a"; fi; prev="$a"; done\n' + 'if [ -n "$out" ]; then mkdir -p "$(dirname "$out")"; echo "image from $0" > "$out"; fi\n';

/**
 * Stand-ins for the Intel tools, each logging its command line to `log`: aoc (its -version
 * and -list-boards answer like the real one), aocl, and the BSP's sign_aocx.sh, which asks
 * its two questions as Intel documents them and refuses to go on unless both are answered Y.
 */
function intelTools(dir: string, o: { aocVersion?: string; boards?: string[] } = {}): { bin: string; bsp: string; log: string; env: NodeJS.ProcessEnv } {
  const bin = path.join(dir, 'tools-bin');
  const bsp = path.join(dir, 'bsp');
  const log = path.join(dir, 'tools.log');
  const logLine = (name: string) => `echo "${name} $*" >> "${log}"\n`;
  writeScript(
    path.join(bin, 'aoc'),
    `if [ "$1" = -version ]; then echo "Intel(R) FPGA SDK for OpenCL(TM), 64-Bit Offline Compiler"; echo "Version ${o.aocVersion ?? '19.4.0'} Build 64 Pro Edition"; exit 0; fi\n` +
      `if [ "$1" = -list-boards ]; then echo "Board list:"; for b in ${(o.boards ?? ['pac_a10', 'de10_nano_sharedonly']).join(' ')}; do echo "  $b"; done; exit 0; fi\n` +
      logLine('aoc') +
      WRITE_OUTPUT,
  );
  writeScript(path.join(bin, 'aocl'), logLine('aocl'));
  writeScript(
    path.join(bsp, 'linux64/libexec/sign_aocx.sh'),
    logLine('sign_aocx.sh') +
      'printf "No root key specified. Generate unsigned bitstream? Y = yes, N = no: "; read -r a || exit 3; [ "$a" = Y ] || exit 3\n' +
      'printf "No CSK specified. Generate unsigned bitstream? Y = yes, N = no: "; read -r a || exit 3; [ "$a" = Y ] || exit 3\n' +
      WRITE_OUTPUT,
  );
  return { bin, bsp, log, env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, AOCL_BOARD_PACKAGE_ROOT: bsp } };
}

function make(dir: string, args: string[], env: NodeJS.ProcessEnv): SpawnSyncReturns<string> {
  return spawnSync('make', ['-s', ...args], { cwd: dir, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function readLog(log: string): string[] {
  return fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n').filter(Boolean) : [];
}

/** The one line a failed check prints (stderr), and its exit status. */
function oneLine(r: SpawnSyncReturns<string>): string {
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line, got: ${r.stderr}`);
  return lines[0];
}

describe('Intel build directories (intel-pac-a10, de10-nano)', function () {
  this.timeout(300000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bitweave-intel-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const a10 = path.join(tmp, 'a10');
  const de10 = path.join(tmp, 'de10');
  before(() => {
    const model = readBnn(CNN);
    compileForBoard(model, loadBoard('intel-pac-a10'), a10);
    compileForBoard(model, loadBoard('de10-nano'), de10);
  });
  const img = intelImages(loadBoard('intel-pac-a10'));

  it('intel-pac-a10 is pinned to Acceleration Stack 1.2.1 (aoc 19.4, Quartus Prime Pro 19.2) with cited sources, and the build says so', () => {
    const board = loadBoard('intel-pac-a10');
    assert.match(board.toolchain.release!, /Acceleration Stack for Development 1\.2\.1: Intel FPGA SDK for OpenCL Pro Edition 19\.4\.0\.67 with Quartus Prime Pro Edition 19\.2\.0/);
    assert.equal(board.toolchain.aocVersion, '19.4');
    assert.match(board.platform, /1\.2\.1, OpenCL BSP pac_a10 \(\$OPAE_PLATFORM_ROOT\/opencl\/opencl_bsp\)/);
    for (const doc of ['683633/1-2-1', '683831/1-2-1', '683453', '683846', '683188']) assert.ok(board.sources.some((s) => s.url?.includes(doc)), `a source from Intel document ${doc}`);
    const readme = fs.readFileSync(path.join(a10, 'README.md'), 'utf8');
    const makefile = fs.readFileSync(path.join(a10, 'Makefile'), 'utf8');
    for (const text of [readme, makefile]) assert.ok(text.includes(board.toolchain.release!), 'the release is named');
    // Acceleration Stack 1.2.1 loads the BSP with 'aocl program'; no step initialises the card
    for (const f of ['README.md', 'Makefile', 'run.sh', 'check-env.sh']) assert.doesNotMatch(fs.readFileSync(path.join(a10, f), 'utf8'), /aocl initialize/, f);
    assert.match(loadBoard('de10-nano').toolchain.release!, /Standard Edition 18\.1/);
  });

  it('intel-pac-a10: make runs hardware, then sign (answering its two questions), then program the signed image; the README lists the steps in that order', () => {
    const t = intelTools(path.join(tmp, 'a10-tools'));
    for (const target of ['check-env', 'emulator', 'report', 'hardware', 'sign', 'program']) {
      const r = make(a10, [target], t.env);
      assert.equal(r.status, 0, `make ${target}: ${r.stderr}`);
      assert.equal(r.stderr, '', `make ${target}: no warning with aoc 19.4`);
    }
    const top = JSON.parse(fs.readFileSync(path.join(a10, 'bitweave-build.json'), 'utf8')).kernelSources.top;
    assert.deepEqual(readLog(t.log), [
      `aoc -march=emulator -I kernels -DBW_INTEL_FPGA=1 -DBW_WEIGHT_BUF_WORDS=32768 ${top} -o ${img.emulator}`,
      `aoc -rtl -report -board=pac_a10 -I kernels -DBW_INTEL_FPGA=1 -DBW_WEIGHT_BUF_WORDS=32768 ${top} -o bin/${KERNEL_NAME}.aocr`,
      `aoc -report -board=pac_a10 -I kernels -DBW_INTEL_FPGA=1 -DBW_WEIGHT_BUF_WORDS=32768 ${top} -o ${img.hardware}`,
      `sign_aocx.sh -H openssl_manager -i ${img.hardware} -r NULL -k NULL -o ${img.program}`,
      `aocl program acl0 ${img.program}`,
    ]);
    assert.equal(img.program, `bin/${KERNEL_NAME}_unsigned.aocx`);
    assert.match(fs.readFileSync(path.join(a10, img.program), 'utf8'), /sign_aocx\.sh/, 'the programmed image is the one sign_aocx.sh wrote');
    // nothing is redone: sign and program after a finished build run only aocl
    fs.rmSync(t.log);
    assert.equal(make(a10, ['hardware', 'sign', 'program'], t.env).status, 0);
    assert.deepEqual(readLog(t.log), [`aocl program acl0 ${img.program}`]);
    // a new hardware image is signed again before it can be programmed
    assert.match(make(a10, ['-n', 'sign'], t.env).stdout, /^$/);
    fs.utimesSync(path.join(a10, img.hardware), new Date(), new Date(Date.now() + 5000));
    assert.match(make(a10, ['-n', 'sign'], t.env).stdout, /^yes Y \| .*sign_aocx\.sh -H openssl_manager/m);

    const readme = fs.readFileSync(path.join(a10, 'README.md'), 'utf8');
    const order = ['init_env.sh', 'make check-env', 'Intel_FPGA_SSG_Emulator.icd', 'make emulator', './run.sh emulator', 'make report', 'make hardware', 'make sign', 'make bundle', 'make program', './run.sh hardware'];
    const at = order.map((s) => readme.indexOf(s));
    at.forEach((i, k) => assert.ok(i >= 0, `README names ${order[k]}`));
    assert.deepEqual([...at].sort((x, y) => x - y), at, 'README steps in order');
  });

  it('check-env.sh build: one line for a missing aoc, BSP, board variant or sign_aocx.sh; a warning for another aoc release', () => {
    const t = intelTools(path.join(tmp, 'a10-env'));
    const run = (env: NodeJS.ProcessEnv) => spawnSync('bash', [path.join(a10, 'check-env.sh'), 'build'], { env, encoding: 'utf8' });
    assert.equal(run(t.env).status, 0, run(t.env).stderr);
    const noTools = run({ ...t.env, PATH: '/usr/bin:/bin' });
    assert.equal(noTools.status, 1);
    assert.match(oneLine(noTools), /^check-env: 'aoc' is not on PATH: source <Acceleration Stack install path>\/init_env\.sh$/);
    const noBsp = run({ ...t.env, AOCL_BOARD_PACKAGE_ROOT: path.join(tmp, 'nowhere') });
    assert.equal(noBsp.status, 1);
    assert.match(oneLine(noBsp), /AOCL_BOARD_PACKAGE_ROOT='.*nowhere' is not the BSP directory: \$OPAE_PLATFORM_ROOT\/opencl\/opencl_bsp/);
    const other = intelTools(path.join(tmp, 'a10-env-other'), { boards: ['pac_s10_dc'], aocVersion: '20.1.0' });
    const notListed = run(other.env);
    assert.equal(notListed.status, 1);
    assert.match(oneLine(notListed), /'aoc -list-boards' does not list pac_a10/);
    fs.rmSync(path.join(t.bsp, 'linux64/libexec/sign_aocx.sh'));
    const noSign = run(t.env);
    assert.equal(noSign.status, 1);
    assert.match(oneLine(noSign), /sign_aocx\.sh is missing: 'make sign' needs the BSP of Acceleration Stack 1\.2\.1/);
    // aoc of another release: the build goes on, with one warning naming both versions
    const later = intelTools(path.join(tmp, 'a10-env-later'), { aocVersion: '21.1.0' });
    const warned = run(later.env);
    assert.equal(warned.status, 0, warned.stderr);
    assert.match(oneLine(warned), /^check-env: warning: aoc reports 'Version 21\.1\.0'; this build is pinned to aoc 19\.4 \(Intel Acceleration Stack for Development 1\.2\.1/);
    // DE10-Nano: the Standard Edition's setup is named
    const de = spawnSync('bash', [path.join(de10, 'check-env.sh'), 'build'], { env: { ...process.env, PATH: '/usr/bin:/bin' }, encoding: 'utf8' });
    assert.match(oneLine(de), /'aoc' is not on PATH: source \$INTELFPGAOCLSDKROOT\/init_opencl\.sh \(SDK 18\.1/);
  });

  it("make program on the board's side never runs aoc: from the bundle (no sources) and next to newer sources", () => {
    for (const [name, dir] of [['intel-pac-a10', a10], ['de10-nano', de10]] as const) {
      const t = intelTools(path.join(tmp, `${name}-board`));
      const image = intelImages(loadBoard(name)).program;
      assert.equal(make(dir, ['hardware', ...(image === img.program ? ['sign'] : [])], t.env).status, 0);
      const bundleRun = make(dir, ['bundle'], t.env);
      assert.equal(bundleRun.status, 0, bundleRun.stderr);
      const tarball = fs.readdirSync(dir).find((f) => f.endsWith('-board.tar.gz'))!;
      assert.ok(tarball, 'make bundle wrote the tarball');
      const board = path.join(tmp, `${name}-on-board`);
      fs.mkdirSync(board);
      assert.equal(spawnSync('tar', ['xzf', path.join(dir, tarball)], { cwd: board }).status, 0);
      const unpacked = spawnSync('tar', ['tzf', path.join(dir, tarball)], { encoding: 'utf8' }).stdout.trim().split('\n').sort();
      const model = JSON.parse(fs.readFileSync(path.join(dir, 'bitweave-build.json'), 'utf8')).model.file;
      assert.deepEqual(unpacked, [image, model, 'run.sh', 'check-env.sh', 'Makefile', 'bitweave-build.json', 'README.md'].sort(), `${name}: the bundle holds what the board needs, no kernel sources`);

      fs.rmSync(t.log, { force: true });
      // on the board there is no aoc at all: only aocl is on PATH
      const boardBin = path.join(tmp, `${name}-board-bin`);
      fs.mkdirSync(boardBin);
      fs.copyFileSync(path.join(t.bin, 'aocl'), path.join(boardBin, 'aocl'));
      fs.chmodSync(path.join(boardBin, 'aocl'), 0o755);
      const boardEnv = { ...process.env, PATH: `${boardBin}:/usr/bin:/bin` };
      const r = make(board, ['program'], boardEnv);
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(readLog(t.log), [`aocl program acl0 ${image}`]);
      assert.equal(make(board, ['-n', 'program'], boardEnv).stdout.trim(), `test -f ${image} || { echo "make program: ${image} is missing: build it on the development PC (make hardware${image === img.program ? ' sign' : ''} bundle) and unpack the bundle here" >&2; exit 1; }\naocl program acl0 ${image}`);

      // the whole directory copied with the sources newer than the image: still no aoc
      fs.rmSync(t.log);
      const later = new Date(Date.now() + 60000);
      for (const f of fs.readdirSync(path.join(dir, 'kernels'))) fs.utimesSync(path.join(dir, 'kernels', f), later, later);
      assert.equal(make(dir, ['program'], boardEnv).status, 0);
      assert.deepEqual(readLog(t.log), [`aocl program acl0 ${image}`]);

      // without the image: one line saying where to build it
      fs.rmSync(path.join(board, image));
      const missing = make(board, ['program'], boardEnv);
      assert.notEqual(missing.status, 0);
      assert.match(missing.stderr, new RegExp(`^make program: ${image.replace(/\./g, '\\.')} is missing: build it on the development PC`));
    }
  });

  /** A stand-in for bitweave that prints what run.sh hands it. */
  function fakeBitweave(dir: string): string {
    const f = path.join(dir, 'fake-bitweave');
    writeScript(
      f,
      'node -e \'const e = process.env; console.log(JSON.stringify({ args: process.argv.slice(1), binary: e.BITWEAVE_OPENCL_BINARY, build: e.BITWEAVE_OPENCL_BUILD, device: e.BITWEAVE_OPENCL_DEVICE ?? null, legacyEmulator: e.CL_CONTEXT_EMULATOR_DEVICE_INTELFPGA ?? null, hostEngine: e.BITWEAVE_HOST_ENGINE ?? null }))\' -- "$@"\n',
    );
    return f;
  }

  /** A fake SDK with the emulator's ICD file, and an ICD directory with the emulator's and the FPGA runtime's entries. */
  function icdSetup(dir: string): { sdk: string; vendors: string } {
    const sdk = path.join(dir, 'sdk');
    const vendors = path.join(dir, 'vendors');
    fs.mkdirSync(sdk, { recursive: true });
    fs.mkdirSync(vendors, { recursive: true });
    fs.writeFileSync(path.join(sdk, 'Intel_FPGA_SSG_Emulator.icd'), 'libintelocl_emu.so\n');
    fs.copyFileSync(path.join(sdk, 'Intel_FPGA_SSG_Emulator.icd'), path.join(vendors, 'Intel_FPGA_SSG_Emulator.icd'));
    fs.writeFileSync(path.join(vendors, 'Altera.icd'), 'libalteracl.so\n');
    return { sdk, vendors };
  }

  it("run.sh hands the backend the build's bitweave-build.json and image, picks the emulator by name, and checks the emulator's ICD entry", () => {
    const t = intelTools(path.join(tmp, 'run-tools'));
    const icd = icdSetup(path.join(tmp, 'run-icd'));
    const env: NodeJS.ProcessEnv = { ...t.env, BITWEAVE: fakeBitweave(tmp), INTELFPGAOCLSDKROOT: icd.sdk, OCL_ICD_VENDORS: icd.vendors };
    delete env.BITWEAVE_OPENCL_DEVICE;
    const run = (dir: string, mode: string, extra: NodeJS.ProcessEnv = {}) => spawnSync('bash', [path.join(dir, 'run.sh'), mode, '--limit', '4'], { env: { ...env, ...extra }, encoding: 'utf8' });
    for (const [name, dir] of [['intel-pac-a10', a10], ['de10-nano', de10]] as const) {
      const images = intelImages(loadBoard(name));
      for (const f of [images.emulator, images.program]) {
        fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
        fs.writeFileSync(path.join(dir, f), 'image');
      }
      const model = JSON.parse(fs.readFileSync(path.join(dir, 'bitweave-build.json'), 'utf8')).model.file;
      const pro = name === 'intel-pac-a10';
      const emu = run(dir, 'emulator');
      assert.equal(emu.status, 0, emu.stderr);
      assert.deepEqual(JSON.parse(emu.stdout), {
        args: ['eval', model, '--backend', 'opencl', '--limit', '4'],
        binary: path.join(dir, images.emulator),
        build: path.join(dir, 'bitweave-build.json'),
        device: 'Emulat',
        legacyEmulator: pro ? null : '1',
        hostEngine: null,
      });
      assert.equal(JSON.parse(run(dir, 'emulator', { BITWEAVE_OPENCL_DEVICE: 'mine' }).stdout).device, 'mine', 'BITWEAVE_OPENCL_DEVICE overrides');
      const hw = run(dir, 'hardware');
      assert.equal(hw.status, 0, hw.stderr);
      assert.deepEqual(JSON.parse(hw.stdout), {
        args: ['eval', model, '--backend', 'opencl', '--limit', '4'],
        binary: path.join(dir, images.program),
        build: path.join(dir, 'bitweave-build.json'),
        device: null, // the build file names the board's device
        legacyEmulator: null,
        hostEngine: pro ? null : 'reference',
      });
      // the hardware run needs the FPGA runtime's ICD entry
      const noRuntime = path.join(tmp, `${name}-no-runtime`);
      fs.mkdirSync(noRuntime);
      const r = run(dir, 'hardware', { OCL_ICD_VENDORS: noRuntime });
      assert.equal(r.status, 1);
      assert.match(oneLine(r), /^check-env: no ICD entry in .* names libalteracl\.so/);
      fs.rmSync(path.join(dir, images.program));
      const gone = run(dir, 'hardware');
      assert.equal(gone.status, 1);
      assert.match(oneLine(gone), new RegExp(`^run\\.sh: ${images.program.replace(/\./g, '\\.')} is missing: run 'make hardware${pro ? ' sign' : ''} \\(on the development PC\\)' first$`));
    }
    // the Pro emulator: its ICD entry must be there and be the SDK's
    fs.rmSync(path.join(icd.vendors, 'Intel_FPGA_SSG_Emulator.icd'));
    const noIcd = run(a10, 'emulator');
    assert.equal(noIcd.status, 1);
    assert.match(oneLine(noIcd), /^check-env: no emulator ICD entry .*vendors\/Intel_FPGA_SSG_Emulator\.icd: sudo cp .*sdk\/Intel_FPGA_SSG_Emulator\.icd \/etc\/OpenCL\/vendors\//);
    fs.writeFileSync(path.join(icd.vendors, 'Intel_FPGA_SSG_Emulator.icd'), 'libsomethingelse.so\n');
    assert.match(oneLine(run(a10, 'emulator')), /Intel_FPGA_SSG_Emulator\.icd differs from the SDK's/);
    assert.match(oneLine(run(a10, 'emulator', { INTELFPGAOCLSDKROOT: '' })), /^check-env: INTELFPGAOCLSDKROOT is not set: source <Acceleration Stack install path>\/init_env\.sh$/);
  });

  it("run.sh emulator stops with one line when node would load a libstdc++ older than GCC 7.2's", function () {
    const ldd = spawnSync('ldd', [process.execPath], { encoding: 'utf8' });
    const lib = /libstdc\+\+\.so\.6 => (\S+)/.exec(ldd.stdout ?? '')?.[1];
    if (!lib) this.skip(); // node without a shared libstdc++: nothing to check
    // a copy of the system library whose GCC 7.2 symbol version is gone stands for an old one
    const old = path.join(tmp, 'old-libstdcxx');
    fs.mkdirSync(old);
    const data = fs.readFileSync(lib!);
    const v = Buffer.from('GLIBCXX_3.4.24');
    for (let i = data.indexOf(v); i >= 0; i = data.indexOf(v, i + 1)) data.write('X', i + v.length - 1);
    fs.writeFileSync(path.join(old, 'libstdc++.so.6'), data);
    const icd = icdSetup(path.join(tmp, 'cxx-icd'));
    fs.mkdirSync(path.join(a10, 'bin'), { recursive: true });
    fs.writeFileSync(path.join(a10, img.emulator), 'image');
    const env = { ...process.env, BITWEAVE: fakeBitweave(tmp), INTELFPGAOCLSDKROOT: icd.sdk, OCL_ICD_VENDORS: icd.vendors, PATH: `${path.dirname(process.execPath)}:${process.env.PATH}` };
    const ok = spawnSync('bash', [path.join(a10, 'run.sh'), 'emulator'], { env, encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stderr);
    const r = spawnSync('bash', [path.join(a10, 'run.sh'), 'emulator'], { env: { ...env, LD_LIBRARY_PATH: old }, encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.match(oneLine(r), new RegExp(`^check-env: node loads ${old}/libstdc\\+\\+\\.so\\.6, older than GCC 7\\.2's libstdc\\+\\+ \\(no GLIBCXX_3\\.4\\.24\\)`));
  });

  describe('the opencl backend given the Intel build file (PoCL)', function () {
    before(function () {
      requireOrSkip(this, () => platforms(), OpenCLUnavailableError);
    });

    it("encodes for the build's array and selects the board file's device", async () => {
      const file = path.join(a10, 'bitweave-build.json');
      const j = JSON.parse(fs.readFileSync(file, 'utf8'));
      const board = loadBoard('intel-pac-a10');
      assert.deepEqual([j.array.rows, j.array.cols], [board.defaultArray.rows, board.defaultArray.cols]);
      assert.notDeepEqual([j.array.rows, j.array.cols], [DEFAULT_ARRAY.rows, DEFAULT_ARRAY.cols], 'a board array, not the default');
      assert.deepEqual(j.opencl, board.opencl);
      const onBoard = new OpenCLBackend({ build: file });
      assert.deepEqual(onBoard.deviceFilter(), { platform: board.opencl.platform, name: board.opencl.device });
      assert.equal(onBoard.arrayParams.rows, j.array.rows);
      await onBoard.dispose();

      // the same build file on PoCL (the device named, as run.sh emulator does): the build's array, results as the reference's
      const pocl = allDevices()[0].name;
      const b = new OpenCLBackend({ build: file, device: pocl, threads: 1 });
      try {
        assert.deepEqual(b.arrayParams, { ...DEFAULT_ARRAY, rows: j.array.rows, cols: j.array.cols });
        const r = rng(19);
        const p: BconvCase = { H: 5, W: 5, C: 64, outC: 40, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, padBit: 1, inBits: 1, pool: null, outBits: 1, seed: 19 };
        const m = bconvModel(p, r);
        await compareWithReference(m, randomInput(r, 3, p.C * p.H * p.W, p.inBits), b, 'Intel build file on PoCL');
        const prog = encodeSegment(m, m.segments.findIndex((s) => s.kind === 'device'), b.arrayParams);
        const want = scheduleCycles(prog, [3], b.arrayParams).reduce((sum, c) => sum + c, 0);
        const got = b.layerStats().filter((l) => l.where === 'device').reduce((sum, l) => sum + (l.cycles ?? 0), 0);
        assert.equal(got, want, "device cycles are the tile schedule of the build's array");
        const defaultCycles = scheduleCycles(encodeSegment(m, m.segments.findIndex((s) => s.kind === 'device'), DEFAULT_ARRAY), [3], DEFAULT_ARRAY).reduce((sum, c) => sum + c, 0);
        assert.notEqual(want, defaultCycles, 'the default array would schedule differently');
      } finally {
        await b.dispose();
      }

      // through the CLI as run.sh calls it: BITWEAVE_OPENCL_BUILD (with the device named, PoCL standing in for the card)
      const ev = bitweave(['eval', CNN, '--dataset', 'fashion-mnist', '--limit', '8', '--backend', 'opencl', '--json'], { env: { BITWEAVE_OPENCL_BUILD: file, BITWEAVE_OPENCL_DEVICE: pocl } });
      assert.equal(ev.code, 0, ev.stderr);
      const res = JSON.parse(ev.stdout);
      const model = readBnn(CNN);
      const cyclesFor = (a: typeof DEFAULT_ARRAY) =>
        model.segments.reduce((sum, s, i) => (s.kind === 'device' ? sum + scheduleCycles(encodeSegment(model, i, a), [8], a).reduce((x, c) => x + c, 0) : sum), 0);
      assert.equal(res.cycles, cyclesFor(b.arrayParams));
      assert.notEqual(res.cycles, cyclesFor(DEFAULT_ARRAY));
    });
  });
});
