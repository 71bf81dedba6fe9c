/**
 * The kernel ABI read from the HLS source, the emitted Vitis projects (complete and
 * consistent: every referenced file exists, cfg ports = kernel ports, banks exist on the
 * board, the emitted kernel builds and passes its bench at the board's array size), and
 * `bitweave deploy` stopping with one clear line when a tool or credential is missing.
 */
import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { abiMismatches, hlsKernelAbi, hlsTopSource, KERNEL_ABI, KERNEL_NAME, kernelPorts, parseKernelSignature } from '../host/array/abi';
import { arrayHeaderC } from '../host/array/header';
import { DEFAULT_ARRAY } from '../host/array/params';
import { boardArray } from '../host/build/sizing';
import { loadBoard } from '../host/boards';
import { deploy, findTool } from '../host/build/deploy';
import { boardBanks, emitVitisProject } from '../host/build/vitis';
import { HLS_BUFFERS } from '../host/array/limits';
import { BitweaveError } from '../host/core/errors';
import { encodeBnn, readBnn } from '../host/format/bnn';
import { ModelBuilder, bits, i32 } from './helpers/native-models';

const ROOT = path.resolve(__dirname, '../..');
const MODEL = path.join(ROOT, 'models', 'fashion-cnn.bnn');

function tmpdir(tag: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `bitweave-${tag}-`));
}

describe('kernel ABI', () => {
  it('the HLS top function in hls/bitweave_array.cpp has exactly the fixed ABI (names, order, types, constness)', () => {
    const args = hlsKernelAbi();
    assert.deepEqual(args, KERNEL_ABI);
    assert.deepEqual(
      args.map((a) => `${a.readonly ? 'const ' : ''}${a.type}${a.pointer ? ' *' : ''} ${a.name}`),
      ['const uint32_t * program', 'uint32_t layers', 'const uint64_t * weights', 'const int32_t * params', 'uint64_t * arena', 'uint32_t arena_words', 'uint32_t images'],
    );
    // m_axi bundles: program + params / weights / arena separate
    const ports = kernelPorts(hlsTopSource().text);
    const bundle = Object.fromEntries(ports.map((p) => [p.arg, p.bundle]));
    assert.equal(bundle.program, bundle.params);
    assert.equal(new Set([bundle.program, bundle.weights, bundle.arena]).size, 3);
    assert.match(hlsTopSource().text, /#pragma HLS INTERFACE s_axilite port = return bundle = control/);
  });

  it('detects drift: a renamed, reordered, retyped or de-consted argument is reported', () => {
    const src = hlsTopSource().text;
    const variants: [string, string][] = [
      ['uint32_t arena_words', 'uint32_t arena_len'],
      ['const uint64_t *weights, const int32_t *params', 'const int32_t *params, const uint64_t *weights'],
      ['uint32_t images)', 'uint64_t images)'],
      ['const uint32_t *program', 'uint32_t *program'],
      [', uint32_t images)', ')'],
    ];
    for (const [from, to] of variants) {
      assert.ok(src.includes(from), from);
      assert.ok(abiMismatches(parseKernelSignature(src.replace(from, to))).length > 0, `${from} -> ${to}`);
    }
    assert.throws(() => parseKernelSignature('void other(int a) {}'), /expected one definition/);
  });

  it('parses OpenCL C spellings of the same signature (and the OpenCL kernel source when present)', () => {
    const cl = '__kernel __attribute__((max_global_work_dim(0))) void bitweave_array(__global const uint *restrict program, const uint layers, ' +
      '__global const ulong *restrict weights, __global const int *restrict params, __global ulong *restrict arena, uint arena_words, uint images) { }';
    assert.deepEqual(abiMismatches(parseKernelSignature(cl.replace('const uint layers', 'uint layers'))), []);
    const dir = path.join(ROOT, 'opencl-kernels');
    const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.cl')).map((f) => path.join(dir, f)) : [];
    const withKernel = files.filter((f) => /void\s+bitweave_array\s*\(/.test(fs.readFileSync(f, 'utf8')));
    if (withKernel.length === 0) {
      console.log('      (no opencl-kernels/*.cl defines bitweave_array in this tree: only the HLS source was checked)');
      return;
    }
    for (const f of withKernel) assert.deepEqual(abiMismatches(parseKernelSignature(fs.readFileSync(f, 'utf8'), KERNEL_NAME, f)), [], f);
  });
});

describe('Vitis project emitter', function () {
  const model = readBnn(MODEL);

  for (const boardName of ['aws-f1', 'alveo-u250', 'alveo-u50']) {
    it(`${boardName}: complete and consistent (files, includes, cfg ports and banks, header, model)`, () => {
      const board = loadBoard(boardName);
      const dir = tmpdir(`vitis-${boardName}`);
      const p = emitVitisProject(model, board, dir);
      const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'bitweave-build.json'), 'utf8'));
      assert.deepEqual([...manifest.files.map((f: { path: string }) => f.path), 'bitweave-build.json'].sort(), p.files);
      for (const f of p.files) assert.ok(fs.statSync(path.join(dir, f)).isFile(), `${f} listed but missing`);
      for (const f of ['Makefile', 'README.md', 'run_hls.tcl', `${KERNEL_NAME}.cfg`, 'kernel/bitweave_array.cpp', 'kernel/bitweave_array.h', 'kernel/tb/tb_kernel.cpp']) {
        assert.ok(p.files.includes(f), `${f} emitted`);
      }
      // every quoted include of every kernel file resolves inside the project
      for (const f of p.files.filter((x) => /^kernel\/.*\.(h|cpp)$/.test(x))) {
        for (const m of fs.readFileSync(path.join(dir, f), 'utf8').matchAll(/#include\s+"([^"]+)"/g)) {
          const local = path.join(dir, path.dirname(f), m[1]);
          const viaI = path.join(dir, 'kernel', m[1]);
          assert.ok(fs.existsSync(local) || fs.existsSync(viaI), `${f}: #include "${m[1]}" does not resolve`);
        }
      }
      // files the scripts name exist
      const tcl = fs.readFileSync(path.join(dir, 'run_hls.tcl'), 'utf8');
      const mk = fs.readFileSync(path.join(dir, 'Makefile'), 'utf8');
      for (const m of [...tcl.matchAll(/add_files (?:-tb )?(\S+)/g), ...mk.matchAll(/(kernel\/\$\(KERNEL\)\.cpp|model\/[\w.-]+\.bnn|\$\(KERNEL\)\.cfg|run_hls\.tcl|\.\/wait_afi\.sh)/g)]) {
        const f = m[1].replace('$(KERNEL)', KERNEL_NAME).replace(/^\.\//, '');
        assert.ok(fs.existsSync(path.join(dir, f)), `referenced ${f} missing`);
      }
      assert.match(tcl, new RegExp(`set_top ${KERNEL_NAME}\\b`));
      assert.match(tcl, new RegExp(`set_part \\{${board.part}\\}`));
      for (const step of ['csim_design', 'csynth_design', 'cosim_design', 'export_design -format xo']) assert.ok(tcl.includes(step), step);
      // the cfg: platform, nk and one sp per m_axi port of every compute unit, on real banks
      const cfg = fs.readFileSync(path.join(dir, `${KERNEL_NAME}.cfg`), 'utf8');
      assert.match(cfg, new RegExp(`^platform=${board.platform}$`, 'm'));
      const nk = /^nk=(\w+):(\d+):([\w.]+)$/m.exec(cfg);
      assert.ok(nk, 'nk= line');
      const srcName = /extern\s+"C"\s+void\s+(\w+)\s*\(/.exec(hlsTopSource().text)![1];
      assert.equal(nk[1], srcName, 'nk= names the kernel the source defines');
      const cus = Number(nk[2]);
      assert.equal(cus, p.computeUnits);
      const cuNames = nk[3].split('.');
      assert.equal(cuNames.length, cus);
      const ports = kernelPorts(hlsTopSource().text);
      const pointerArgs = KERNEL_ABI.filter((a) => a.pointer).map((a) => a.name);
      assert.deepEqual(ports.map((x) => x.arg).sort(), [...pointerArgs].sort());
      const banks = new Set(boardBanks(board));
      const sp = [...cfg.matchAll(/^sp=(\w+)\.(\w+):(\S+)$/gm)].map((m) => ({ cu: m[1], arg: m[2], bank: m[3] }));
      assert.equal(sp.length, cus * ports.length);
      for (const cu of cuNames) {
        const mine = sp.filter((s) => s.cu === cu);
        assert.deepEqual(mine.map((s) => s.arg).sort(), [...pointerArgs].sort(), `${cu}: every m_axi port mapped once`);
        for (const s of mine) assert.ok(banks.has(s.bank), `${cu}.${s.arg}: bank ${s.bank} does not exist on ${boardName}`);
        // ports of one bundle share one AXI master, so one bank
        for (const x of ports) for (const y of ports) if (x.bundle === y.bundle) assert.equal(mine.find((s) => s.arg === x.arg)!.bank, mine.find((s) => s.arg === y.arg)!.bank);
        assert.notEqual(mine.find((s) => s.arg === 'arena')!.bank, mine.find((s) => s.arg === 'weights')!.bank, 'activations and weights on separate banks');
      }
      assert.equal(new Set(sp.map((s) => s.bank)).size, Math.min(banks.size, cus * 2 + (banks.size >= cus * 3 ? cus : 0)));
      // the header is generated for the board's array, the model is the same model
      const a = boardArray(board);
      assert.equal(fs.readFileSync(path.join(dir, 'kernel', 'bitweave_array.h'), 'utf8'), arrayHeaderC({ ...DEFAULT_ARRAY, rows: a.rows, cols: a.cols }));
      assert.deepEqual(encodeBnn(readBnn(path.join(dir, 'model', p.model))), encodeBnn(model));
      // the Makefile: TARGET choices, v++ -c / -l, emconfigutil, XCL_EMULATION_MODE; make parses it
      for (const s of ['v++ -c', 'v++ -l', 'emconfigutil', 'XCL_EMULATION_MODE', 'sw_emu|hw_emu|hw']) assert.ok(mk.includes(s), s);
      if (findTool('make')) {
        const dry = execFileSync('make', ['-n', '-C', dir, 'TARGET=hw_emu', 'xclbin', 'emconfig'], { encoding: 'utf8' });
        assert.match(dry, /v\+\+ -c -t hw_emu --config bitweave_array.cfg .* -k bitweave_array -I kernel -o build\/hw_emu\/bitweave_array.xo kernel\/bitweave_array.cpp/);
        assert.match(dry, /v\+\+ -l -t hw_emu .* -o build\/hw_emu\/bitweave_array.xclbin build\/hw_emu\/bitweave_array.xo/);
        assert.match(dry, new RegExp(`emconfigutil --platform ${board.platform} --od build/hw_emu`));
      }
      if (boardName === 'aws-f1') {
        assert.match(board.platform, /^xilinx_aws-vu9p-f1_shell-v04261818_201920_3$/);
        const dry = execFileSync('make', ['-n', '-C', dir, 'TARGET=hw', 'afi', 'S3_BUCKET=my-bucket'], { encoding: 'utf8', env: { ...process.env, AWS_FPGA_REPO_DIR: '/opt/aws-fpga' } });
        assert.match(dry, /\/opt\/aws-fpga\/Vitis\/tools\/create_vitis_afi.sh -xclbin=bitweave_array.xclbin -o=bitweave_array -s3_bucket=my-bucket -s3_dcp_key=\S+ -s3_logs_key=\S+/);
        const wait = path.join(dir, 'wait_afi.sh');
        assert.ok((fs.statSync(wait).mode & 0o111) !== 0, 'wait_afi.sh is executable');
        execFileSync('bash', ['-n', wait]);
        assert.match(fs.readFileSync(wait, 'utf8'), /aws ec2 describe-fpga-images --fpga-image-ids "\$afi"/);
        // without aws on PATH it stops with a message, not silently
        const r = spawnSync(findTool('bash') ?? '/bin/bash', [wait, dir], { encoding: 'utf8', env: { PATH: '/nonexistent' } });
        assert.equal(r.status, 1);
        assert.match(r.stderr, /aws CLI not found/);
      } else {
        assert.ok(!p.files.includes('wait_afi.sh'));
        assert.ok(!mk.includes('create_vitis_afi'));
      }
      fs.rmSync(dir, { recursive: true, force: true });
    });
  }

  it('aws-f1: the emitted kernel builds with g++ at the board\'s array size and passes its C-simulation bench', function () {
    if (!findTool('g++')) this.skip();
    const board = loadBoard('aws-f1');
    const dir = tmpdir('vitis-csim');
    emitVitisProject(model, board, dir);
    const exe = path.join(dir, 'tb_kernel');
    // the flags run_hls.tcl gives csim (-Ikernel -std=c++14)
    execFileSync('g++', ['-O1', '-std=c++14', '-pthread', '-Ikernel', '-o', exe, 'kernel/tb/tb_kernel.cpp', 'kernel/bitweave_array.cpp'], { cwd: dir });
    assert.match(execFileSync(exe, { encoding: 'utf8' }), /tb_kernel: PASS/);
    const a = boardArray(board);
    assert.match(fs.readFileSync(path.join(dir, 'kernel', 'bitweave_array.h'), 'utf8'), new RegExp(`#define BW_ROWS ${a.rows} .*\n#define BW_COLS ${a.cols} `));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('refuses boards without Vitis and layers beyond the kernel\'s buffers, with one clear error', () => {
    const dir = tmpdir('vitis-bad');
    assert.throws(() => emitVitisProject(model, loadBoard('de10-nano'), dir), (e: Error) => e instanceof BitweaveError && /not Vitis/.test(e.message));
    const b = new ModelBuilder(1, 1, 64);
    const x = b.add({ op: 'binarize', in: 0, bits: 1 }, bits(1, 1, 64, 1));
    const outC = HLS_BUFFERS.maxOutC + 1;
    b.add({ op: 'bconv', in: x, kh: 1, kw: 1, sh: 1, sw: 1, ph: 0, pw: 0, padBit: 1, inBits: 1, outC, weight: new Uint32Array(outC * 2), pool: null, epilogue: { kind: 'int' } }, i32(1, 1, outC));
    assert.throws(() => emitVitisProject(b.build('wide'), loadBoard('aws-f1'), dir), new RegExp(`Vitis build: layer '.*': ${outC} output channels; the HLS kernel holds ${HLS_BUFFERS.maxOutC}`));
    assert.deepEqual(fs.readdirSync(dir), [], 'nothing written');
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('bitweave deploy', () => {
  const model = readBnn(MODEL);
  const empty = tmpdir('nopath');
  const quiet = () => undefined;
  /** PATH with only real `make` (when this machine has it) and none of the Vitis / AWS tools. */
  const withMake = tmpdir('makeonly');
  const make = findTool('make');
  if (make) fs.symlinkSync(make, path.join(withMake, 'make'));

  it('stops before any work when v++, make, aws, xbutil, the S3 bucket or create_vitis_afi.sh is missing', async () => {
    const cases: [Parameters<typeof deploy>[1], RegExp][] = [
      [{ board: 'aws-f1', outDir: path.join(empty, 'a'), env: { PATH: empty } }, /'make' not found on PATH \(needed for step 'build'\)/],
      [{ board: 'alveo-u250', outDir: path.join(empty, 'a'), env: { PATH: empty }, steps: ['run'] }, /'xbutil' not found on PATH \(needed for step 'run'\): source the XRT setup/],
      [{ board: 'aws-f1', outDir: path.join(empty, 'a'), env: { PATH: empty }, steps: ['afi'] }, /step 'afi' needs --s3-bucket/],
      [{ board: 'aws-f1', outDir: path.join(empty, 'a'), env: { PATH: withMake }, steps: ['afi'], s3Bucket: 'b' }, make ? /AWS_FPGA_REPO_DIR is not set/ : /'make' not found/],
      [{ board: 'aws-f1', outDir: path.join(empty, 'a'), env: { PATH: empty }, steps: ['wait'] }, /'aws' not found on PATH \(needed for step 'wait'\): install the AWS CLI and run 'aws configure'/],
      [{ board: 'aws-f1', outDir: path.join(empty, 'a'), env: { PATH: empty }, steps: ['run'] }, /'xbutil' not found/],
      [{ board: 'alveo-u50', outDir: path.join(empty, 'a'), env: { PATH: empty }, steps: ['afi'] }, /step 'afi' does not apply to alveo-u50/],
      [{ board: 'aws-f1', outDir: path.join(empty, 'a'), env: { PATH: empty }, target: 'sw_emu', steps: ['wait'] }, /does not apply to aws-f1 with TARGET=sw_emu/],
      [{ board: 'de10-nano', outDir: path.join(empty, 'a'), env: { PATH: empty } }, /deploy supports Vitis boards/],
    ];
    if (make) cases.push([{ board: 'aws-f1', outDir: path.join(empty, 'a'), env: { PATH: withMake } }, /'v\+\+' not found on PATH \(needed for step 'build'\)/]);
    for (const [opts, msg] of cases) {
      await assert.rejects(deploy(model, { ...opts, log: quiet }), (e: Error) => e instanceof BitweaveError && msg.test(e.message), `${JSON.stringify({ ...opts, env: undefined })}: ${msg}`);
    }
    assert.ok(!fs.existsSync(path.join(empty, 'a')), 'nothing was emitted before the failing preflight');
  });

  it('the emit step alone needs no tools; later steps then find the project but still stop at the missing tool', async () => {
    const dir = path.join(empty, 'emit');
    const lines: string[] = [];
    const r = await deploy(model, { board: 'aws-f1', outDir: dir, env: { PATH: empty }, steps: ['emit'], log: (l) => lines.push(l) });
    // one CU: the array sized to 60% of the VU9P's LUTs leaves no room for a second
    assert.equal(r.project!.computeUnits, 1);
    assert.deepEqual(lines.slice(0, 2), [`deploy ${model.name} -> aws-f1 (TARGET=hw), steps: emit`, `[1/1] emit the Vitis project into ${path.resolve(dir)}`]);
    assert.equal(lines.at(-1), 'deploy: done');
    assert.ok(fs.existsSync(path.join(dir, 'Makefile')));
    await assert.rejects(deploy(model, { board: 'aws-f1', outDir: dir, env: { PATH: withMake }, steps: ['build'], log: quiet }), make ? /'v\+\+' not found/ : /'make' not found/);
  });

  it('CLI: one line on stderr and exit code 1 when a tool is missing', () => {
    const cli = path.join(ROOT, 'bin', 'bitweave.js');
    const r = spawnSync(process.execPath, [cli, 'deploy', MODEL, '--board', 'aws-f1', '-o', path.join(empty, 'cli'), '--steps', 'emit,build'], {
      encoding: 'utf8', env: { ...process.env, PATH: empty },
    });
    assert.equal(r.status, 1, r.stderr);
    const err = r.stderr.trim().split('\n');
    assert.equal(err.length, 1, r.stderr);
    assert.match(err[0], /^bitweave: error: deploy: 'make' not found on PATH/);
    assert.ok(!fs.existsSync(path.join(empty, 'cli')));
  });
});
