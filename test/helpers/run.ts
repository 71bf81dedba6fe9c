/**
 * Child processes the tests start: the `bitweave` CLI and small Node scripts, each in its
 * own environment; and the one check of how a user error must look on the command line.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { packagePath, packageRoot } from '../../host/core/paths';

/** One finished child process (code null when a signal ended it). */
export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Added to this process's environment. */
  env?: NodeJS.ProcessEnv;
  /** Milliseconds (default 300 s). */
  timeout?: number;
  /** Working directory (default the package root, where `require('./dist/…')` works). */
  cwd?: string;
  /** Node flags before the script, e.g. ['-r', 'preload.js']. */
  flags?: string[];
}

function spawnNode(args: string[], o: RunOptions): Run {
  const r = spawnSync(process.execPath, [...(o.flags ?? []), ...args], {
    cwd: o.cwd ?? packageRoot(), encoding: 'utf8', timeout: o.timeout ?? 300000, env: { ...process.env, ...o.env }, maxBuffer: 64 << 20,
  });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** `bitweave <args>` (bin/bitweave.js) in a child process. */
export function bitweave(args: string[], o: RunOptions = {}): Run {
  return spawnNode([packagePath('bin', 'bitweave.js'), ...args], o);
}

/** A Node script (`node -e`) in a child process, for what needs its own process or environment. */
export function nodeScript(script: string, o: RunOptions = {}): Run {
  return spawnNode(['-e', script], o);
}

/** The CLI failed the way users must see it: exit 1 (no signal, no hang), one `bitweave: error:` line matching `re`; returns it. */
export function assertUserError(r: Run, re?: RegExp, what = ''): string {
  const where = what ? `${what}: ` : '';
  const err = r.stderr.slice(0, 2000);
  assert.equal(r.signal, null, `${where}killed by ${r.signal} (hang?); stderr: ${err}`);
  assert.equal(r.code, 1, `${where}exit code 1, got ${r.code}; stderr: ${err}`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `${where}one line on stderr, got:\n${err}`);
  assert.match(lines[0], /^bitweave: error: /, what);
  if (re) assert.match(lines[0], re, what);
  return lines[0];
}

/** The command succeeded (exit 0, no signal). */
export function assertSuccess(r: Run): void {
  assert.equal(r.signal, null, `killed by ${r.signal}; stderr: ${r.stderr.slice(0, 2000)}`);
  assert.equal(r.code, 0, r.stderr.slice(0, 2000));
}

const removeAtExit: string[] = [];

/** A fresh scratch directory under the system's temporary folder; `temporary`: removed when the test process exits. */
export function scratchDir(tag: string, temporary = false): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `bitweave-${tag}-`));
  if (temporary) {
    // one exit listener for all of them
    if (removeAtExit.length === 0) process.once('exit', () => removeAtExit.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
    removeAtExit.push(dir);
  }
  return dir;
}
