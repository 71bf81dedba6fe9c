/**
 * The Vitis project emitter (host/build/vitis.ts): complete and consistent projects (every
 * referenced file exists, cfg ports = kernel ports, banks exist on the board, the emitted
 * kernel builds and passes its bench at the board's array size), and one clear error for
 * boards without Vitis and layers beyond the kernel's buffers.
 */
import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { hlsTopSource, KERNEL_ABI, KERNEL_NAME, kernelPorts } from '../../host/array/abi';
import { arrayHeaderC } from '../../host/array/header';
import { DEFAULT_ARRAY } from '../../host/array/params';
import { boardArray } from '../../host/build/sizing';
import { loadBoard } from '../../host/boards';
import { findTool } from '../../host/build/deploy';
import { boardBanks, emitVitisProject } from '../../host/build/vitis';
import { HLS_BUFFERS } from '../../host/array/limits';
import { BitweaveError } from '../../host/core/errors';
import { encodeBnn, readBnn } from '../../host/format/bnn';
import { ModelBuilder, bits, i32 } from '../helpers/native-models';
import { packageRoot } from '../../host/core/paths';
import { scratchDir as tmpdir } from '../helpers/run';

const ROOT = packageRoot();
const MODEL = path.join(ROOT, 'models', 'fashion-cnn.bnn');

/**
 * `make -n TARGET=hw run` in a project holding only the hardware binary (what a runtime
 * instance has): it runs bitweave on that binary and names no build tool; without the
 * binary `make run` stops with one line instead of building.
 */
function assertRunDoesNotBuild(dir: string, f1: boolean): void {
  const bin = path.join(dir, 'build', 'hw', f1 ? 'bitweave_array.awsxclbin' : 'bitweave_array.xclbin');
  fs.mkdirSync(path.dirname(bin), { recursive: true });
  fs.writeFileSync(bin, 'binary');
  try {
    const dry = execFileSync('make', ['-n', '-C', dir, 'TARGET=hw', 'run'], { encoding: 'utf8', env: { ...process.env, MAKEFLAGS: '' } });
    assert.doesNotMatch(dry, /v\+\+|vivado|emconfigutil|create_vitis_afi|vitis_hls/, dry);
    assert.ok(dry.includes(`BITWEAVE_OPENCL_BINARY=build/hw/${path.basename(bin)} BITWEAVE_OPENCL_BUILD=bitweave-build.json`), dry);
    // this project's own CLI, not whatever npx resolves
    assert.ok(dry.includes(`${process.execPath} ${path.join(ROOT, 'bin', 'bitweave.js')} eval model/`), dry);
    assert.doesNotMatch(dry, /npx/);
  } finally {
    fs.rmSync(path.join(dir, 'build'), { recursive: true, force: true });
  }
  const r = spawnSync('make', ['-s', '-C', dir, 'TARGET=hw', 'run', 'BITWEAVE=false'], { encoding: 'utf8' });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /build\/hw\/bitweave_array\.(aws)?xclbin not found: build it first/);
  assert.ok(!fs.existsSync(path.join(dir, 'build', 'hw', 'tmp')), 'nothing was built');
}

describe('Vitis project emitter', function () {
  const model = readBnn(MODEL);

  for (const boardName of ['aws-f1', 'alveo-u250', 'alveo-u50']) {
    it(`${boardName}: complete and consistent (files, includes, cfg ports and banks, header, model)`, () => {
      const board = loadBoard(boardName);
      const dir = tmpdir(`vitis-${boardName}`);
      const p = emitVitisProject(model, board, dir, { kernel: 'hls' });
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
      assert.equal(manifest.kernel, 'hls');
      assert.doesNotMatch(cfg, /^platform=/m, 'the platform comes from the Makefile (--platform)');
      assert.match(mk, board.name === 'aws-f1' ? /^PLATFORM \?= \$\(AWS_PLATFORM\)$/m : new RegExp(`^PLATFORM \\?= ${board.platform}$`, 'm'));
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
        const dry = execFileSync('make', ['-n', '-C', dir, 'TARGET=hw_emu', 'xclbin', 'emconfig', 'PLATFORM=/p/plat.xpfm'], { encoding: 'utf8' });
        assert.match(dry, /v\+\+ -c -t hw_emu --platform \/p\/plat.xpfm --config bitweave_array.cfg .* -k bitweave_array -I kernel -o build\/hw_emu\/bitweave_array.xo kernel\/bitweave_array.cpp/);
        assert.match(dry, /v\+\+ -l -t hw_emu --platform \/p\/plat.xpfm .* -o build\/hw_emu\/bitweave_array.xclbin build\/hw_emu\/bitweave_array.xo/);
        assert.match(dry, /emconfigutil --platform \/p\/plat.xpfm --od build\/hw_emu/);
        assertRunDoesNotBuild(dir, boardName === 'aws-f1');
      }
      if (boardName === 'aws-f1') {
        assert.match(board.platform, /^xilinx_aws-vu9p-f1_shell-v04261818_201920_4$/);
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
    emitVitisProject(model, board, dir, { kernel: 'hls' });
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
    assert.throws(() => emitVitisProject(b.build('wide'), loadBoard('aws-f1'), dir, { kernel: 'hls' }), new RegExp(`Vitis build: layer '.*': ${outC} output channels; the HLS kernel holds ${HLS_BUFFERS.maxOutC}`));
    assert.deepEqual(fs.readdirSync(dir), [], 'nothing written');
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
