/** `bitweave bench gemm` and `bench peak` end to end (CLI, JSON output). */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  GEMM_METHODS, isaName, supportedIsas, } from '../../host/bench/gemm';
import { packagePath } from '../../host/core/paths';

const BIN = packagePath('bin/bitweave.js');

/* ---- plain TypeScript model ------------------------------------------------------------ */

/* ---- tests --------------------------------------------------------------------------------- */

describe('bitweave bench gemm / bench peak (CLI)', function () {
  function bw(...args: string[]) {
    const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 300000 });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  }

  it('bench gemm --quick --json: 10 rows, summaries, machine, peak and a passed cross-check', () => {
    const r = bw('bench', 'gemm', '--quick', '--json', '--threads', '2');
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const rows = lines.filter((l) => 'method' in l);
    assert.equal(rows.length, GEMM_METHODS.length * 2);
    for (const row of rows) {
      assert.equal(row.channels, 64);
      assert.equal(row.K, 1600);
      assert.equal(row.M, 64);
      assert.equal(row.N, 256);
      assert.ok(row.ms > 0 && row.binaryMacsPerSecond > 0 && row.fractionOfPeak > 0);
      assert.ok(Math.abs(row.binaryMacsPerSecond - (64 * 256 * 1600) / (row.ms / 1000)) / row.binaryMacsPerSecond < 1e-9);
      assert.equal(row.threads, row.method === 'xnor_32' || row.method === 'xnor_64' ? 1 : 2);
      assert.equal(typeof row.includesBinarize, 'boolean');
      assert.equal(row.repeats, 2);
    }
    assert.deepEqual(new Set(rows.map((x) => x.method)), new Set(GEMM_METHODS));
    const sgemm = rows.find((x) => x.method === 'sgemm' && !x.includesBinarize);
    assert.equal(sgemm.speedupVsSgemm, 1);
    const summaries = lines.filter((l) => 'bitweaveVsSgemm' in l);
    assert.equal(summaries.length, 2);
    const tail = lines[lines.length - 1];
    assert.equal(tail.check.agree, true);
    assert.ok(tail.machine.cpu.length > 0 && tail.machine.cores >= 1);
    assert.equal(tail.machine.isa, isaName(Math.max(...supportedIsas())));
    assert.ok(tail.peak.perCore > 0 && tail.peak.allCores > 0);
  });

  it('bench gemm prints a table without --json and rejects bad options with one line', () => {
    const r = bw('bench', 'gemm', '--quick', '--threads', '1');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /bitweave/);
    assert.match(r.stdout, /xnor_64_omp/);
    for (const args of [['--channels', '64,x'], ['--threads', '0'], ['--repeat', '0']]) {
      const e = bw('bench', 'gemm', '--quick', ...args);
      assert.equal(e.code, 1, e.stderr);
      assert.match(e.stderr.trim(), /^bitweave: error: /);
      assert.equal(e.stderr.trim().split('\n').length, 1);
    }
  });

  it('bench peak --json reports every supported ISA at 1 and n threads', () => {
    const r = bw('bench', 'peak', '--json', '--threads', '2');
    assert.equal(r.code, 0, r.stderr);
    const p = JSON.parse(r.stdout);
    assert.deepEqual([...new Set(p.rows.map((x: { isa: string }) => x.isa))], supportedIsas().map(isaName));
    assert.ok(p.rows.every((x: { binaryMacsPerSecond: number }) => x.binaryMacsPerSecond > 0));
    assert.ok(p.perCore > 0 && p.allCores > 0);
    // the float ceiling beside it: a vector FMA loop does at least as many FMAs per second as fmaf
    assert.ok(p.rows.every((x: { fmaPerSecond: number }) => x.fmaPerSecond > 0));
    assert.ok(p.fmaPerCore > 0 && p.fmaAllCores > 0);
    const fma1 = (isa: string) => p.rows.find((x: { isa: string; threads: number }) => x.isa === isa && x.threads === 1).fmaPerSecond;
    if (p.rows.some((x: { isa: string }) => x.isa === 'avx2')) assert.ok(fma1('avx2') > fma1('scalar'));
  });
});
