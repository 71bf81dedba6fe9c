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
import { arrayHeaderC, arrayHeaderSv } from '../../host/array/header';
import { AXI_CONTROL_ADDR_BITS, AXI_KERNEL_ARGS, AXI_MASTERS, DEFAULT_AXI_BUILD } from '../../host/array/axi-kernel';
import { RTL_ARRAY_FILE_LIST, RTL_KERNEL_FILE_LIST, RTL_TOP, RTL_VLNV, rtlKernelParameters, rtlKernelPorts } from '../../host/build/vitis-rtl';
import { readFileList } from '../../host/build/open-flow';
import { DEFAULT_ARRAY } from '../../host/array/params';
import { boardArray, boardKernelBuild, boardSlrs, kernelSlrs, VITIS_KERNEL_BASE } from '../../host/build/sizing';
import { kernelMemories, kernelRam, fitKernelRam } from '../../host/build/kernel-ram';
import { loadBoard } from '../../host/boards';
import { findTool } from '../../host/build/deploy';
import { boardBanks, emitVitisProject } from '../../host/build/vitis';
import { compileForBoard } from '../../host/build/compile-board';
import { compile } from '../../host/compile/compile';
import { importLarq } from '../../host/import/larq';
import { packagePath } from '../../host/core/paths';
import { HLS_BUFFERS } from '../../host/array/limits';
import { BitweaveError } from '../../host/core/errors';
import { encodeBnn, readBnn } from '../../host/format/bnn';
import { ModelBuilder, bconvModel, bits, f32, i32 } from '../helpers/native-models';
import { rng } from '../helpers/naive';
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

/** kernel.xml parsed by Python's XML parser (a well-formedness check independent of the emitter). */
function parseKernelXml(file: string): { root: Record<string, string>; kernel: Record<string, string>; ports: Record<string, string>[]; args: Record<string, string>[] } {
  const script = [
    'import json, sys, xml.etree.ElementTree as ET',
    'r = ET.parse(sys.argv[1]).getroot()',
    'k = r.find("kernel")',
    'print(json.dumps({"root": dict(r.attrib), "kernel": dict(k.attrib), "ports": [dict(p.attrib) for p in k.find("ports")], "args": [dict(a.attrib) for a in k.find("args")]}))',
  ].join('\n');
  return JSON.parse(execFileSync('python3', ['-c', script, file], { encoding: 'utf8' }));
}

/** The ANSI port list of a SystemVerilog module: name -> direction and width expression. */
function modulePorts(text: string, module: string): Map<string, { dir: string; range: string }> {
  let src = text.replace(/\/\/.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '');
  // expand one-parameter text macros (`define M(P) ... P``_X ...) used in the port list
  for (const d of [...src.matchAll(/`define\s+(\w+)\((\w+)\)((?:[^\n]*\\\n)*[^\n]*)/g)]) {
    const [all, name, param, body] = d;
    src = src.replace(all, '');
    src = src.replace(new RegExp(`\`${name}\\((\\w+)\\)`, 'g'), (_m, arg: string) => body.replace(/\\\n/g, ' ').split(`${param}\`\``).join(arg));
  }
  src = src.replace(/`undef\s+\w+/g, '');
  const m = new RegExp(`module\\s+${module}\\s*(?:#\\s*\\((?:[^()]|\\([^()]*\\))*\\))?\\s*\\(([\\s\\S]*?)\\);`).exec(src);
  assert.ok(m, `module ${module} found`);
  const out = new Map<string, { dir: string; range: string }>();
  let dir = '';
  let range = '';
  for (const decl of m[1].split(',')) {
    const d = /^\s*(input|output|inout)?\s*(?:wire|logic|reg)?\s*(?:signed\s*)?(\[[^\]]+\])?\s*(\w+)\s*$/.exec(decl);
    if (!d && decl.trim() === '') continue;
    assert.ok(d, `port declaration '${decl.trim()}'`);
    if (d[1]) {
      dir = d[1];
      range = d[2] ?? '';
    }
    out.set(d[3], { dir, range: d[1] ? range : range });
  }
  return out;
}

describe('Vitis RTL kernel packaging (--kernel rtl)', function () {
  const model = readBnn(MODEL);
  /** The kernel's sources: the array's file list, then the AXI wrapper's. */
  const listed = [...readFileList(RTL_ARRAY_FILE_LIST), ...readFileList(RTL_KERNEL_FILE_LIST)];

  for (const boardName of ['aws-f1', 'alveo-u250', 'alveo-u50']) {
    it(`${boardName}: kernel.xml, package_xo.tcl, sources, config and Makefile agree with host/array/axi-kernel.ts`, function () {
      if (!findTool('python3')) this.skip();
      const board = loadBoard(boardName);
      const dir = tmpdir(`vitis-rtl-${boardName}`);
      const p = emitVitisProject(model, board, dir);
      const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'bitweave-build.json'), 'utf8'));
      assert.equal(manifest.kernel, 'rtl');
      // the memories fitted to one SLR's RAM: the arena copied per PE column takes what is left
      const fit = boardKernelBuild(board, boardArray(board))!;
      assert.deepEqual(manifest.axiBuild, fit.build);
      assert.equal(manifest.axiBuild.arenaWords, 1 << 16);
      assert.deepEqual([manifest.onChipRam.uram, manifest.onChipRam.bram36], [fit.ram.uram, fit.ram.bram36]);
      assert.ok(manifest.onChipRam.uram <= manifest.onChipRam.slrBudget.uram && manifest.onChipRam.bram36 <= manifest.onChipRam.slrBudget.bram36);
      assert.deepEqual(manifest.onChipRam.memories.map((m: { name: string }) => m.name), ['descriptors', 'parameters', 'weights', 'arena']);
      assert.deepEqual(manifest.opencl, board.opencl);
      for (const f of p.files) assert.ok(fs.statSync(path.join(dir, f)).isFile(), `${f} listed but missing`);
      assert.ok(!p.files.some((f) => f.startsWith('kernel/') || f === 'run_hls.tcl'), 'no HLS files');

      // kernel.xml: well-formed, every argument at its offset, size and port, every interface a port
      const x = parseKernelXml(path.join(dir, 'kernel.xml'));
      assert.deepEqual([x.root.versionMajor, x.root.versionMinor], ['1', '6']);
      assert.equal(x.kernel.name, KERNEL_NAME);
      assert.equal(x.kernel.language, 'ip_c');
      assert.equal(x.kernel.vlnv, RTL_VLNV);
      assert.equal(x.kernel.hwControlProtocol, 'ap_ctrl_hs');
      assert.equal(x.kernel.interrupt, 'true');
      assert.deepEqual(x.ports.map((q) => q.name), ['s_axi_control', ...AXI_MASTERS]);
      assert.deepEqual(x.ports.map((q) => q.mode), ['slave', 'master', 'master', 'master']);
      assert.equal(Number(x.ports[0].range), 1 << AXI_CONTROL_ADDR_BITS);
      for (const q of x.ports.slice(1)) assert.equal(Number(q.dataWidth), DEFAULT_AXI_BUILD.dataBits);
      assert.equal(x.args.length, AXI_KERNEL_ARGS.length);
      AXI_KERNEL_ARGS.forEach((a, i) => {
        const g = x.args[i];
        assert.equal(g.name, a.name);
        assert.equal(Number(g.id), i);
        assert.equal(Number(g.offset), a.offset, `${a.name} offset`);
        assert.equal(Number(g.size), a.size, `${a.name} size`);
        assert.equal(Number(g.hostSize), a.size);
        assert.equal(g.port, a.master ?? 's_axi_control');
        assert.equal(g.addressQualifier, a.master ? '1' : '0');
        assert.equal(g.type, a.type);
      });
      // arguments from 0x10, inside the control space, not overlapping
      const spans = AXI_KERNEL_ARGS.map((a) => [a.offset, a.offset + a.size]).sort((u, v) => u[0] - v[0]);
      assert.ok(spans[0][0] >= 0x10 && spans.at(-1)![1] <= 1 << AXI_CONTROL_ADDR_BITS);
      for (let i = 1; i < spans.length; i++) assert.ok(spans[i][0] >= spans[i - 1][1], 'arguments overlap');

      // the sources: the file list's files in its order, the package first, all referenced by the tcl
      const rtlFiles = p.files.filter((f) => f.startsWith('rtl/'));
      assert.deepEqual(rtlFiles.sort(), ['rtl/bitweave_array.svh', ...listed.map((f) => `rtl/${path.basename(f)}`)].sort());
      for (const f of listed) assert.equal(fs.readFileSync(path.join(dir, 'rtl', path.basename(f)), 'utf8'), fs.readFileSync(path.resolve(ROOT, f), 'utf8'), f);
      const a = boardArray(board);
      assert.equal(fs.readFileSync(path.join(dir, 'rtl', 'bitweave_array.svh'), 'utf8'), arrayHeaderSv({ ...DEFAULT_ARRAY, rows: a.rows, cols: a.cols }));
      const tcl = fs.readFileSync(path.join(dir, 'package_xo.tcl'), 'utf8');
      const order = [...tcl.matchAll(/\[file join \$here (rtl\/\S+)\]/g)].map((m) => m[1]);
      assert.deepEqual(order, ['rtl/bitweave_array.svh', ...listed.map((f) => `rtl/${path.basename(f)}`)], 'the tcl adds every source in compile order');
      assert.match(tcl, new RegExp(`create_project .* -part \\{${board.part}\\}`));
      assert.match(tcl, new RegExp(`set_property top ${RTL_TOP} `));
      assert.match(tcl, new RegExp(`package_xo -force -xo_path \\$xo -kernel_name ${KERNEL_NAME} -ip_directory \\$ipdir -kernel_xml \\[file join \\$here kernel.xml\\]`));
      for (const s of ['sdx_kernel true', 'sdx_kernel_type rtl', 'ipx::check_integrity -kernel', 'ASSOCIATED_BUSIF', 'ACTIVE_LOW', 'LEVEL_HIGH']) assert.ok(tcl.includes(s), s);
      for (const arg of AXI_KERNEL_ARGS) assert.ok(tcl.includes(`{${arg.name} 0x${arg.offset.toString(16)} ${arg.size * 8} ${arg.master ?? '{}'}}`), `register ${arg.name}`);
      for (const m of AXI_MASTERS) assert.match(tcl, new RegExp(`ipx::associate_bus_interfaces -busif \\$m|${m}`));
      if (findTool('tclsh')) {
        // a Tcl parser: every command of the script is complete (braces, brackets, quotes balance)
        const chk = path.join(dir, 'check.tcl');
        fs.writeFileSync(chk, 'set f [open [lindex $argv 0]]\nset t [read $f]\nputs [info complete $t]\n');
        assert.equal(execFileSync('tclsh', [chk, path.join(dir, 'package_xo.tcl')], { encoding: 'utf8' }).trim(), '1');
        fs.rmSync(chk);
      }

      // the v++ config: one sp= per master argument of each compute unit on a real bank, one slr= per CU
      const cfg = fs.readFileSync(path.join(dir, `${KERNEL_NAME}.cfg`), 'utf8');
      const nk = /^nk=bitweave_array:(\d+):([\w.]+)$/m.exec(cfg)!;
      const cus = Number(nk[1]);
      assert.equal(cus, p.computeUnits);
      const sp = [...cfg.matchAll(/^sp=(\w+)\.(\w+):(\S+)$/gm)];
      const pointers = AXI_KERNEL_ARGS.filter((q) => q.master).map((q) => q.name);
      assert.equal(sp.length, cus * pointers.length);
      const banks = new Set(boardBanks(board));
      for (const m of sp) assert.ok(pointers.includes(m[2]) && banks.has(m[3]), m[0]);
      const slr = [...cfg.matchAll(/^slr=(\w+):(SLR\d)$/gm)].map((m) => m[2]);
      assert.deepEqual(slr, kernelSlrs(board).slice(0, cus), 'one compute unit per SLR without the shell');
      assert.ok(!slr.includes(`SLR${boardSlrs(board)!.shell[0]}`));

      // the Makefile: Vivado makes the .xo, v++ links it; no software emulation; run never builds
      const mk = fs.readFileSync(path.join(dir, 'Makefile'), 'utf8');
      assert.doesNotMatch(mk, /v\+\+ -c/);
      if (findTool('make')) {
        const dry = execFileSync('make', ['-n', '-C', dir, 'TARGET=hw', 'xclbin', 'PLATFORM=/p/plat.xpfm'], { encoding: 'utf8' });
        assert.match(dry, /vivado -mode batch -nojournal -nolog -source package_xo.tcl -tclargs build\/bitweave_array.xo\n[\s\S]*v\+\+ -l -t hw --platform \/p\/plat.xpfm --config bitweave_array.cfg .* -o build\/hw\/bitweave_array.xclbin build\/bitweave_array.xo/);
        const sw = spawnSync('make', ['-n', '-C', dir, 'TARGET=sw_emu', 'xclbin'], { encoding: 'utf8' });
        assert.notEqual(sw.status, 0);
        assert.match(sw.stderr, /TARGET must be hw_emu, hw \(got 'sw_emu'\): an RTL kernel has no software emulation/);
        assertRunDoesNotBuild(dir, boardName === 'aws-f1');
        if (boardName === 'aws-f1') {
          const noPlat = spawnSync('make', ['-s', '-C', dir, 'TARGET=hw', 'check-target'], { encoding: 'utf8', env: { ...process.env, AWS_PLATFORM: '', PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin:${fakeVpp()}` } });
          assert.notEqual(noPlat.status, 0);
          assert.match(noPlat.stderr, /AWS_PLATFORM is not set: git clone -b f1_xdma_shell https:\/\/github.com\/aws\/aws-fpga.git/);
        }
      }
      const readme = fs.readFileSync(path.join(dir, 'README.md'), 'utf8');
      assert.match(readme, /Kernel: \*\*the RTL array as a Vitis RTL kernel\*\*/);
      assert.match(readme, /sized to fit one SLR, and each compute unit is placed in its own SLR/);
      if (boardName === 'aws-f1') {
        assert.match(readme, /git clone -b f1_xdma_shell https:\/\/github.com\/aws\/aws-fpga.git/);
        assert.match(readme, /2019\.2–2021\.2\s+and 2024\.1/);
      }
      fs.rmSync(dir, { recursive: true, force: true });
    });
  }

  it('aws-f1: the emitted sources, in the tcl\'s order and with its parameters, elaborate under Verilator at the board\'s array', function () {
    if (!findTool('verilator')) this.skip();
    const board = loadBoard('aws-f1');
    const dir = tmpdir('vitis-rtl-lint');
    emitVitisProject(model, board, dir);
    const tcl = fs.readFileSync(path.join(dir, 'package_xo.tcl'), 'utf8');
    const order = [...tcl.matchAll(/\[file join \$here (rtl\/\S+)\]/g)].map((m) => m[1]);
    const params = rtlKernelParameters(DEFAULT_AXI_BUILD).map(([k, v]) => `-G${k}=${v}`);
    const r = spawnSync('verilator', ['--lint-only', '-Wno-fatal', '-Wno-lint', '-Wno-style', '--top-module', RTL_TOP, ...params, ...order], { cwd: dir, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /%Error/);
    const a = boardArray(board);
    assert.match(fs.readFileSync(path.join(dir, 'rtl', 'bitweave_array.svh'), 'utf8'), new RegExp(`ROWS = ${a.rows};[\\s\\S]*COLS = ${a.cols};`));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the top module bw_axi_kernel has exactly the ports kernel.xml and the tcl assume', function () {
    const top = listed.map((f) => fs.readFileSync(path.resolve(ROOT, f), 'utf8')).find((t) => new RegExp(`\\bmodule\\s+${RTL_TOP}\\b`).test(t));
    assert.ok(top, `${RTL_TOP} is in ${RTL_KERNEL_FILE_LIST}`);
    const ports = modulePorts(top, RTL_TOP);
    const spec = rtlKernelPorts(DEFAULT_AXI_BUILD);
    assert.deepEqual([...ports.keys()].sort(), spec.map((q) => q.name).sort());
    for (const q of spec) {
      const got = ports.get(q.name)!;
      assert.equal(got.dir, q.dir === 'in' ? 'input' : 'output', q.name);
      if (q.width === 1) assert.equal(got.range, '', `${q.name} is one bit`);
      else assert.ok(got.range !== '', `${q.name} is a vector`);
    }
    for (const [k] of rtlKernelParameters(DEFAULT_AXI_BUILD)) assert.match(top, new RegExp(`parameter\\s+(?:int\\s+)?(?:unsigned\\s+)?${k}\\b`), `parameter ${k}`);
  });

  it('a model with zero-padded convs builds for the RTL kernel: its device segments checked and listed as the host runs them, cut before those convs; the model written whole', () => {
    const m = compile(importLarq(packagePath('test', 'fixtures', 'larq', 'fashion_bnn', 'model.tflite')).graph);
    const dir = tmpdir('vitis-rtl-zero-pad');
    const r = compileForBoard(m, loadBoard('aws-f1'), dir);
    // ops 3 and 4 are the zero-padded convs; the HLS kernel (2-bit outputs) runs the model's one device segment
    assert.deepEqual(r.segments.map((s) => [s.segment, s.layers]), [[1, 1], [2, 1], [3, 2]]);
    assert.deepEqual(compileForBoard(m, loadBoard('aws-f1'), path.join(dir, 'hls'), { kernel: 'hls' }).segments.map((s) => [s.segment, s.layers]), [[1, 4]]);
    const written = readBnn(path.join(dir, 'model', fs.readdirSync(path.join(dir, 'model'))[0]));
    assert.deepEqual(written.segments, m.segments, 'the .bnn keeps the maximal segments');
  });

  it('refuses models the RTL kernel cannot run: 2-bit outputs, programs beyond its on-chip memories (one line, nothing written)', () => {
    const board = loadBoard('aws-f1');
    const dir = tmpdir('vitis-rtl-bad');
    const two = bconvModel({ H: 4, W: 4, C: 64, outC: 16, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, padBit: 1, inBits: 1, pool: null, outBits: 2, seed: 3 }, rng(3));
    assert.throws(() => emitVitisProject(two, board, dir), /^BitweaveError: --kernel rtl: layer '.*' has 2-bit outputs; the RTL kernel computes 1-bit outputs only \(use --kernel hls\)$/);
    // the same model builds with the HLS kernel
    emitVitisProject(two, board, path.join(dir, 'hls'), { kernel: 'hls' });
    fs.rmSync(path.join(dir, 'hls'), { recursive: true });
    const small: typeof DEFAULT_AXI_BUILD = { ...DEFAULT_AXI_BUILD, weightRows: 64 };
    assert.throws(() => emitVitisProject(model, board, dir, { axiBuild: small }), /^BitweaveError: --kernel rtl: device segment 1 needs [\d.]+ KiB \(\d+ bytes\) of the kernel's weight memory, the build holds 8\.0 KiB \(8192 bytes\)$/);
    assert.throws(() => emitVitisProject(model, board, dir, { axiBuild: { ...DEFAULT_AXI_BUILD, arenaWords: 8 } }), /needs .* of the kernel's arena \(one image\), the build holds 64 bytes$/);
    assert.throws(() => emitVitisProject(model, board, dir, { axiBuild: { ...DEFAULT_AXI_BUILD, dataBits: 48 } }), /DATA_BITS = 48 must be a power of two/);
    assert.throws(() => emitVitisProject(model, board, dir, { rtlFileLists: [RTL_ARRAY_FILE_LIST, path.join(dir, 'none.f')] }), /--kernel rtl: the file list .*none\.f is missing from this bitweave \(use --kernel hls\)/);
    assert.deepEqual(fs.readdirSync(dir), [], 'nothing written');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('CLI: unknown --kernel, a 2-bit model and a model too big for the on-chip memories are one line and exit 1', () => {
    const dir = tmpdir('vitis-rtl-cli');
    const cli = path.join(ROOT, 'bin', 'bitweave.js');
    const bw = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
    const one = (r: ReturnType<typeof bw>, re: RegExp) => {
      assert.equal(r.status, 1, r.stderr);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], re);
    };
    // the RTL kernel is the default
    const ok = bw('compile', MODEL, '--board', 'aws-f1', '-o', path.join(dir, 'default'), '--json');
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'default', 'bitweave-build.json'), 'utf8')).kernel, 'rtl');
    assert.ok(fs.existsSync(path.join(dir, 'default', 'package_xo.tcl')));
    one(bw('compile', MODEL, '--board', 'aws-f1', '--kernel', 'verilog', '-o', path.join(dir, 'a')), /^bitweave: error: --kernel must be rtl or hls, got 'verilog'$/);
    one(bw('deploy', MODEL, '--board', 'aws-f1', '--kernel', 'vhdl', '-o', path.join(dir, 'a'), '--steps', 'emit'), /^bitweave: error: --kernel must be rtl or hls, got 'vhdl'$/);
    one(bw('compile', MODEL, '--board', 'intel-pac-a10', '--kernel', 'rtl', '-o', path.join(dir, 'a')), /--kernel applies to Vitis boards/);
    const two = path.join(dir, 'two-bit.bnn');
    fs.writeFileSync(two, encodeBnn(bconvModel({ H: 4, W: 4, C: 64, outC: 16, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, padBit: 1, inBits: 1, pool: null, outBits: 2, seed: 5 }, rng(5))));
    one(bw('compile', two, '--board', 'alveo-u250', '-o', path.join(dir, 'a')), /^bitweave: error: --kernel rtl: layer '.*' has 2-bit outputs; the RTL kernel computes 1-bit outputs only \(use --kernel hls\)$/);
    // a dense layer with 4 MiB of weights: more than the board build's 1 MiB weight memory at 16 rows
    const b = new ModelBuilder(1, 1, 64 * 512);
    const x = b.add({ op: 'binarize', in: 0, bits: 1 }, bits(1, 1, 64 * 512, 1));
    const y = b.add({ op: 'bconv', in: x, kh: 1, kw: 1, sh: 1, sw: 1, ph: 0, pw: 0, padBit: 1, inBits: 1, outC: 1024, weight: new Uint32Array(1024 * 512 * 2), pool: null, epilogue: { kind: 'int' } }, i32(1, 1, 1024));
    const dq = b.add({ op: 'dequantize', in: y, divisor: 1 }, f32(1, 1, 1024));
    b.add({ op: 'flatten', in: dq }, f32(1, 1, 1024, true));
    const big = path.join(dir, 'big.bnn');
    fs.writeFileSync(big, encodeBnn(b.build('big')));
    const held = VITIS_KERNEL_BASE.weightRows * boardArray(loadBoard('aws-f1')).rows * 8;
    one(bw('compile', big, '--board', 'aws-f1', '-o', path.join(dir, 'a')), new RegExp(`^bitweave: error: --kernel rtl: device segment \\d+ needs 4\\.0 MiB \\(4194304 bytes\\) of the kernel's weight memory, the build holds [\\d.]+ MiB \\(${held} bytes\\)$`));
    assert.ok(!fs.existsSync(path.join(dir, 'a')));
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

/** A directory with a `v++` that does nothing, so check-target gets past the tool check. */
function fakeVpp(): string {
  const d = tmpdir('fake-vpp');
  const f = path.join(d, 'v++');
  if (!fs.existsSync(f)) {
    fs.writeFileSync(f, '#!/bin/sh\nexit 0\n');
    fs.chmodSync(f, 0o755);
  }
  return d;
}

describe('the RTL kernel\'s on-chip RAM (host/build/kernel-ram.ts)', function () {
  it('counts each memory in UltraRAM (72 x 4,096) or RAMB36 (72 x 512) with the RTL\'s widths and copies, and fits the arena to a budget', () => {
    const b = { ...DEFAULT_AXI_BUILD, paramDepth: 4096, weightRows: 8192, arenaWords: 1 << 16 };
    const m = kernelMemories({ rows: 16, cols: 16 }, b);
    // arena: 17 copies x 2 banks of 512-bit rows, 4,096 rows per bank; weights: 1,024-bit rows
    assert.deepEqual(m.map((x) => [x.name, x.width, x.depth, x.copies]), [
      ['descriptors', 512, 128, 1], ['parameters', 512, 256, 16], ['weights', 1024, 8192, 1], ['arena', 512, 4096, 34],
    ]);
    const all = kernelRam({ rows: 16, cols: 16 }, b, 0);
    assert.equal(all.uram, 0);
    // block RAM only: 8 + 16 x 8 + 15 x 16 + 34 x 8 x 8
    assert.equal(all.bram36, 8 + 128 + 240 + 2176);
    const mixed = kernelRam({ rows: 16, cols: 16 }, b, 288);
    assert.ok(mixed.uram <= 288);
    assert.equal(mixed.memories.find((x) => x.name === 'arena')!.primitive, 'uram');
    assert.equal(mixed.memories.find((x) => x.name === 'arena')!.count, 34 * 8);
    // a budget that holds the arena at 32 K words but not 64 K
    const fit = fitKernelRam({ uram: 0, bram36: 8 + 128 + 240 + 34 * 8 * 4 }, { rows: 16, cols: 16 }, b)!;
    assert.equal(fit.build.arenaWords, 1 << 15);
    assert.equal(fitKernelRam({ uram: 0, bram36: 100 }, { rows: 16, cols: 16 }, b), null);
  });

  it('compile --kernel rtl refuses an array whose arena copies cannot fit one SLR, in one line', () => {
    const dir = tmpdir('vitis-ram');
    const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'bitweave.js'), 'compile', MODEL, '--board', 'aws-f1', '--rows', '16', '--cols', '64', '-o', path.join(dir, 'x')], { encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^bitweave: error: --kernel rtl at 16x64: the kernel's on-chip memories do not fit one SLR's block RAM and UltraRAM of aws-f1, even with the smallest arena \(one arena copy per PE column\); choose fewer columns\n$/);
    assert.ok(!fs.existsSync(path.join(dir, 'x')));
  });
});
