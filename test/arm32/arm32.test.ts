/**
 * The OpenCL host runtime on a 32-bit ARM host (a DE10-Nano's Cortex-A9 runs armhf Linux):
 * Debian's armhf Node, ocl-icd and PoCL, run by qemu-user from the environment `make arm32`
 * prepares in .arm32/ (scripts/arm32/setup.sh). Slow (qemu emulates every instruction, PoCL's
 * clang included), so only `make test-long` (BITWEAVE_LONG=1) runs it; without the
 * environment it is skipped with what to run.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { packageRoot } from '../../host/core/paths';

const ROOT = packageRoot();
const RUN = path.join(ROOT, 'scripts', 'arm32', 'run.sh');

function armhf(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(RUN, ['node', ...args], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('OpenCL host runtime on 32-bit ARM (armhf Node + PoCL under qemu-arm; BITWEAVE_LONG=1)', function () {
  this.timeout(1_800_000);

  before(function () {
    if (!process.env.BITWEAVE_LONG) {
      console.log('      SKIPPED: set BITWEAVE_LONG=1 (make test-long) to run the OpenCL path on armhf under qemu-arm (~1 min)');
      this.skip();
    }
    if (!fs.existsSync(path.join(ROOT, '.arm32', 'sysroot', '.bitweave-complete'))) {
      console.log('      SKIPPED: no armhf environment in .arm32/: run `make arm32` (downloads ~90 MB of Debian armhf packages, ~520 MB in all)');
      this.skip();
    }
  });

  it('the shipped fashion-cnn model gives the reference logits bit for bit, with zero-copy arenas and with copies', () => {
    const r = armhf(['dist/test/arm32/opencl-logits.js', path.join('models', 'fashion-cnn.bnn'), '4', '2']);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    assert.equal(out.arch, 'arm');
    assert.deepEqual(out.widths, { pointer: 4, size: 4 }, 'a 32-bit process');
    assert.equal(out.addressBits, 32, 'PoCL reports a 32-bit device');
    assert.equal(out.hostUnifiedMemory, true, 'PoCL CPU devices share host memory');
    assert.deepEqual(out.runs.map((x: { transfers: string[] }) => x.transfers), [['zero-copy'], ['copy']]);
    for (const run of out.runs) assert.equal(run.equal, true, `logits differ from the reference (${JSON.stringify(run)})`);
  });

  it('the OpenCL bindings suite and the width encoders pass on armhf (tests that spawn a child node excluded)', () => {
    // qemu-user cannot exec an ARM child without binfmt_misc, so the three tests that run
    // `node` in a child process (FinalizationRegistry, POCL_DEVICES, no-device platform) stay out
    const r = armhf([
      'node_modules/mocha/bin/mocha.js', '--no-config', '--timeout', '600000', '--reporter', 'dot',
      '--grep', 'FinalizationRegistry|two PoCL devices|platform without devices', '--invert',
      'dist/test/opencl/bindings.test.js', 'dist/test/opencl/widths.test.js',
    ]);
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    const passing = /(\d+) passing/.exec(r.stdout);
    assert.ok(passing && Number(passing[1]) >= 21, `expected the bindings and width tests to run: ${r.stdout}`);
    assert.doesNotMatch(r.stdout, /failing|pending/);
  });
});
