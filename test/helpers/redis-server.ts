/**
 * A real redis-server for tests: on a free loopback port, its data in a scratch folder,
 * append-only file on with an fsync per write (so a SIGKILL loses nothing it acknowledged
 * and a restart finds every key again). Stop it in an after hook.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as net from 'node:net';

/** A port nobody listens on right now (the kernel's choice). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export class RedisServer {
  private proc: ChildProcess | null = null;
  private log = '';

  private constructor(readonly dir: string, readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Start a server on a free port with its files in `dir`. */
  static async start(dir: string): Promise<RedisServer> {
    const which = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
    if (which.error || which.status !== 0) throw new Error('redis-server is not installed (make setup installs it)');
    const s = new RedisServer(dir, await freePort());
    await s.launch();
    return s;
  }

  /** (Re)start the server process on the same port and folder; resolves when it takes connections. */
  async launch(): Promise<void> {
    this.log = '';
    const p = spawn('redis-server', [
      '--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir,
      '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--daemonize', 'no', '--protected-mode', 'no', '--loglevel', 'notice',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = p;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start in 10 s:\n${this.log}`)), 10_000);
      const onData = (b: Buffer) => {
        this.log += b.toString();
        if (/Ready to accept connections/.test(this.log)) {
          clearTimeout(timer);
          resolve();
        }
      };
      p.stdout!.on('data', onData);
      p.stderr!.on('data', onData);
      p.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited (${code}):\n${this.log}`));
      });
    });
  }

  /** End the server process with `signal` (SIGKILL: as a crash) and wait until it is gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const p = this.proc;
    this.proc = null;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill(signal);
    });
  }

  stop(): Promise<void> {
    return this.kill('SIGTERM');
  }
}
