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
