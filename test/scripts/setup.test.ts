import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { packagePath } from '../../host/core/paths';

const SETUP = packagePath('scripts/setup.sh');

/** Run setup.sh as a non-root user whose dpkg reports `installed` packages only. */
function runSetupAsUser(installed: 'all' | 'none'): { code: number; stderr: string } {
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'bitweave-setup-'));
  fs.writeFileSync(path.join(bin, 'id'), '#!/bin/sh\necho 1000\n', { mode: 0o755 });
  if (installed === 'none') fs.writeFileSync(path.join(bin, 'dpkg-query'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
  const r = spawnSync('bash', [SETUP], { encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
  fs.rmSync(bin, { recursive: true, force: true });
  return { code: r.status ?? -1, stderr: r.stderr };
}

describe('make setup', () => {
  it('as a non-root user with packages missing: prints the exact apt-get command and exits 1', () => {
    const r = runSetupAsUser('none');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /run: sudo apt-get update && sudo apt-get install -y --no-install-recommends .*pocl-opencl-icd.*verilator.*yosys.*libopenblas-dev.*dataset-fashion-mnist/);
  });

  it('as a non-root user with everything installed: succeeds without root', function () {
    if (spawnSync('dpkg-query', ['-W', 'verilator']).status !== 0) this.skip();
    const r = runSetupAsUser('all');
    assert.equal(r.code, 0, r.stderr);
  });
});
