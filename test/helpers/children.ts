/**
 * `bitweave` child processes that run beside the test (workers, a collect that waits):
 * started with spawn, their JSON-lines stdout read as it comes, and ended by the test.
 * `stopAll` in an after hook leaves no process behind.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { packagePath, packageRoot } from '../../host/core/paths';
import { Run } from './run';

/** A running `bitweave …` whose stdout lines are JSON events. */
export class BitweaveChild {
  readonly proc: ChildProcess;
  readonly events: Record<string, unknown>[] = [];
  stderr = '';
  private stdoutRest = '';
  private readonly waiters: (() => void)[] = [];
  readonly exited: Promise<void>;

  constructor(args: string[]) {
    this.proc = spawn(process.execPath, [packagePath('bin', 'bitweave.js'), ...args], { cwd: packageRoot(), stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout!.on('data', (b: Buffer) => {
      const lines = (this.stdoutRest + b.toString()).split('\n');
      this.stdoutRest = lines.pop()!;
      for (const l of lines) {
        try {
          this.events.push(JSON.parse(l) as Record<string, unknown>);
        } catch {
          this.events.push({ event: 'text', line: l });
        }
      }
      this.waiters.splice(0).forEach((w) => w());
    });
    this.proc.stderr!.on('data', (b: Buffer) => (this.stderr += b.toString()));
    this.exited = new Promise((resolve) => this.proc.once('exit', () => {
      this.waiters.splice(0).forEach((w) => w());
      resolve();
    }));
    children.add(this);
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** The first event (already seen or still to come) that matches; fails after `ms` or if the child ends first. */
  async waitFor(pred: (e: Record<string, unknown>) => boolean, what: string, ms = 20_000): Promise<Record<string, unknown>> {
    const t0 = Date.now();
    for (;;) {
      const hit = this.events.find(pred);
      if (hit) return hit;
      if (!this.running) throw new Error(`${what}: the child ended (${this.proc.exitCode ?? this.proc.signalCode}) first; stderr: ${this.stderr.slice(0, 1000)}`);
      const left = ms - (Date.now() - t0);
      if (left <= 0) throw new Error(`${what}: not seen in ${ms} ms; events: ${JSON.stringify(this.events).slice(0, 1000)}; stderr: ${this.stderr.slice(0, 1000)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Send `signal` and wait for the process to end. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.running) this.proc.kill(signal);
    await this.exited;
    children.delete(this);
  }
}

const children = new Set<BitweaveChild>();

/** Kill every child still running (an after hook). */
export async function stopAll(): Promise<void> {
  await Promise.all([...children].map((c) => c.kill('SIGKILL')));
}

/** `bitweave <args>` without blocking the test's event loop (so it can act meanwhile); resolves when it ends. */
export function bitweaveAsync(args: string[], timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [packagePath('bin', 'bitweave.js'), ...args], { cwd: packageRoot(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    p.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}
