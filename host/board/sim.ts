/**
 * The simulated dev board: the Verilator model of the whole SoC (build/soc/bitweave-soc-sim,
 * `make soc-sim`) started as a child process; it opens a pseudo-terminal and prints its
 * path, which the board backend then opens like a USB serial port.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { BitweaveError } from '../core/errors';
import { packagePath } from '../core/paths';

export interface SimulatedBoard {
  /** The pty to open (--port). */
  port: string;
  process: ChildProcess;
  /** Stops the simulation (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
}

/** The simulator executable: env BITWEAVE_SOC_SIM, else build/soc/bitweave-soc-sim. */
export function socSimPath(): string {
  return process.env.BITWEAVE_SOC_SIM || packagePath('build', 'soc', 'bitweave-soc-sim');
}

export function socSimAvailable(): boolean {
  try {
    fs.accessSync(socSimPath(), fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Starts the simulated SoC; resolves once its pty is open. */
export function startSimulatedBoard(opts: { link?: string; trace?: string; timeoutMs?: number } = {}): Promise<SimulatedBoard> {
  const exe = socSimPath();
  if (!socSimAvailable()) throw new BitweaveError(`the simulated board is not built (${exe}); run: make soc-sim (needs verilator)`);
  const args = [...(opts.link ? ['--link', opts.link] : []), ...(opts.trace ? ['--trace', opts.trace] : [])];
  const child = spawn(exe, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let out = '';
    let ready = false;
    const timer = setTimeout(() => fail(`the simulated board did not open its pty within ${opts.timeoutMs ?? 10000} ms`), opts.timeoutMs ?? 10000);
    const fail = (msg: string) => {
      if (ready) return;
      ready = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new BitweaveError(msg));
    };
    child.once('exit', (code) => fail(`the simulated board exited (code ${code}): ${stderr.trim().split('\n')[0] ?? ''}`));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^pty (\S+)$/m.exec(out);
      if (!m || ready) return;
      ready = true;
      clearTimeout(timer);
      resolve({
        port: m[1],
        process: child,
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          await exited;
        },
      });
    });
  });
}
