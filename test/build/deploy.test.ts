/**
 * `bitweave deploy` (host/build/deploy.ts): stops with one clear line when a tool, a
 * credential or a step's input is missing, before any work.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { deploy, findTool } from '../../host/build/deploy';
import { BitweaveError } from '../../host/core/errors';
import { readBnn } from '../../host/format/bnn';
import { packageRoot } from '../../host/core/paths';
import { scratchDir as tmpdir } from '../helpers/run';

const ROOT = packageRoot();
const MODEL = path.join(ROOT, 'models', 'fashion-cnn.bnn');

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
    if (make) {
      // the RTL kernel is packaged by Vivado before v++ links it; the HLS kernel needs v++ alone
      cases.push([{ board: 'aws-f1', outDir: path.join(empty, 'a'), env: { PATH: withMake } }, /'vivado' not found on PATH \(needed for step 'build'\): source the Vivado/]);
      cases.push([{ board: 'aws-f1', outDir: path.join(empty, 'a'), env: { PATH: withMake }, kernel: 'hls' }, /'v\+\+' not found on PATH \(needed for step 'build'\)/]);
    }
    cases.push([{ board: 'alveo-u250', outDir: path.join(empty, 'a'), env: { PATH: empty }, target: 'sw_emu' }, /an RTL kernel has no software emulation/]);
    for (const [opts, msg] of cases) {
      await assert.rejects(deploy(model, { ...opts, log: quiet }), (e: Error) => e instanceof BitweaveError && msg.test(e.message), `${JSON.stringify({ ...opts, env: undefined })}: ${msg}`);
    }
    assert.ok(!fs.existsSync(path.join(empty, 'a')), 'nothing was emitted before the failing preflight');
  });

  it('the emit step alone needs no tools; later steps then find the project but still stop at the missing tool', async () => {
    const dir = path.join(empty, 'emit');
    const lines: string[] = [];
    const r = await deploy(model, { board: 'aws-f1', outDir: dir, env: { PATH: empty }, steps: ['emit'], kernel: 'hls', log: (l) => lines.push(l) });
    // one CU per SLR without the shell: SLR0 and SLR2 of the VU9P
    assert.equal(r.project!.computeUnits, 2);
    assert.deepEqual(r.project!.connectivity.map((c) => c.slr), ['SLR0', 'SLR2']);
    assert.deepEqual(lines.slice(0, 2), [`deploy ${model.name} -> aws-f1 (hls kernel, TARGET=hw), steps: emit`, `[1/1] emit the Vitis project (hls kernel) into ${path.resolve(dir)}`]);
    assert.equal(lines.at(-1), 'deploy: done');
    assert.ok(fs.existsSync(path.join(dir, 'Makefile')));
    // later steps take the kernel from the project (hls: no vivado needed), and refuse another one
    await assert.rejects(deploy(model, { board: 'aws-f1', outDir: dir, env: { PATH: withMake }, steps: ['build'], log: quiet }), make ? /'v\+\+' not found/ : /'make' not found/);
    await assert.rejects(deploy(model, { board: 'aws-f1', outDir: dir, env: { PATH: withMake }, steps: ['build'], kernel: 'rtl', log: quiet }), /holds a 'hls' kernel project, not 'rtl'/);
    await assert.rejects(deploy(model, { board: 'alveo-u250', outDir: dir, env: { PATH: withMake }, steps: ['build'], log: quiet }), /was emitted for aws-f1, not alveo-u250/);
  });

  it('the RTL kernel by default; the run step hands the project\'s bitweave-build.json to the opencl backend', async () => {
    const dir = path.join(empty, 'rtl');
    const lines: string[] = [];
    const r = await deploy(model, { board: 'alveo-u250', outDir: dir, env: { PATH: empty }, steps: ['emit'], log: (l) => lines.push(l) });
    assert.equal(r.kernel, 'rtl');
    assert.equal(r.project!.kernel, 'rtl');
    assert.match(lines[0], /\(rtl kernel, TARGET=hw\)/);
    assert.ok(fs.existsSync(path.join(dir, 'package_xo.tcl')) && fs.existsSync(path.join(dir, 'kernel.xml')));
    // later steps read the kernel from the project: an RTL project's build needs vivado
    await assert.rejects(deploy(model, { board: 'alveo-u250', outDir: dir, env: { PATH: withMake }, steps: ['build'], target: 'hw_emu', log: quiet }), make ? /'vivado' not found/ : /'make' not found/);
    await assert.rejects(deploy(model, { board: 'alveo-u250', outDir: dir, env: { PATH: empty }, steps: ['run'], target: 'sw_emu', log: quiet }), /an RTL kernel has no software emulation/);
    // run (emulation: no xbutil needed) with a binary in place: bitweave eval gets the build, so the
    // opencl backend looks for the board's device (Xilinx u250) instead of taking PoCL
    const bin = path.join(dir, 'build', 'hw_emu', 'bitweave_array.xclbin');
    fs.mkdirSync(path.dirname(bin), { recursive: true });
    fs.writeFileSync(bin, 'not a real xclbin');
    const runLines: string[] = [];
    await assert.rejects(
      deploy(model, { board: 'alveo-u250', outDir: dir, env: { ...process.env }, steps: ['run'], target: 'hw_emu', limit: 2, log: (l) => runLines.push(l) }),
      (e: Error) => e instanceof BitweaveError && /bitweave eval on the board failed \(exit 1\)/.test(e.message) && /the alveo-u250 device named like 'u250'/.test(e.message),
    );
    assert.ok(runLines.some((l) => l.includes(`BITWEAVE_OPENCL_BUILD=${path.join(path.resolve(dir), 'bitweave-build.json')}`)), runLines.join('\n'));
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
