/**
 * Larq Compute Engine's own interpreter as a third engine of `bench model` on a .tflite:
 * a Python helper (scripts/bench/lce_interpreter.py) that stays up for the whole bench, so
 * its timed blocks alternate with bitweave's and onnxruntime's under the same machine load.
 * One JSON object per line each way (the protocol is described in the helper).
 *
 * LCE is optional: no Python, no LCE in it, or no helper script (an npm install ships no
 * scripts/) gives `{ skipped: why }`; anything else going wrong is a BitweaveError.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { BitweaveError } from '../core/errors';
import { oneLineMessage } from '../core/text';
import { packagePath } from '../core/paths';

/** The Python that runs the helper: BITWEAVE_LCE_PYTHON, else python3. */
export function lcePython(env: NodeJS.ProcessEnv = process.env): { python: string; from: string } {
  const p = env.BITWEAVE_LCE_PYTHON;
  return p ? { python: p, from: 'BITWEAVE_LCE_PYTHON' } : { python: 'python3', from: 'the default' };
}

export const LCE_HELPER = packagePath('scripts', 'bench', 'lce_interpreter.py');

/**
 * LCE's binary-conv kernels the bench times, each as its own engine row: the interpreter's
 * default and its indirect BGEMM (use_indirect_bgemm), the faster one on x86 here.
 */
export const LCE_KERNELS = ['default', 'indirect-bgemm'] as const;
export type LceKernel = (typeof LCE_KERNELS)[number];

/** First request (TensorFlow's import alone takes seconds on 2 cores). */
const START_TIMEOUT_MS = 180_000;

interface Ready {
  lce: string;
  python: string;
  input: number[];
  output: number[];
  /** Kernels whose interpreter refused the model when it was loaded, and why. */
  unsupported: Partial<Record<LceKernel, string>>;
}

export class LceInterpreter {
  private buffered = '';
  private waiting: { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }[] = [];
  private stderrTail = '';
  private exited: string | null = null;

  /** What the helper said when it came up: versions and the model's tensor shapes. */
  ready: Ready = { lce: '', python: '', input: [], output: [], unsupported: {} };

  private constructor(private readonly child: ChildProcess, private readonly pythonName: string) {}

  /** Starts the helper on `model` with `threads`; `skipped` says why LCE cannot be timed here. */
  static async start(model: string, threads: number, python = lcePython(), kernels: readonly LceKernel[] = LCE_KERNELS): Promise<LceInterpreter | { skipped: string }> {
    if (!fs.existsSync(LCE_HELPER)) return { skipped: `LCE not timed: the helper ${LCE_HELPER} is not in this install (it is in the repository's scripts/)` };
    const child = spawn(python.python, [LCE_HELPER, model, String(threads), ...kernels], { stdio: ['pipe', 'pipe', 'pipe'] });
    const h = new LceInterpreter(child, `${python.python} (${python.from})`);
    const spawned = await new Promise<Error | null>((resolve) => {
      child.once('spawn', () => resolve(null));
      child.once('error', (e) => resolve(e));
    });
    if (spawned) {
      return { skipped: `LCE not timed: ${h.pythonName} could not be started (${(spawned as NodeJS.ErrnoException).code ?? spawned.message}); set BITWEAVE_LCE_PYTHON to a Python with larq-compute-engine` };
    }
    h.listen();
    let first: Record<string, unknown>;
    try {
      first = await h.next(START_TIMEOUT_MS);
    } catch (e) {
      h.kill();
      throw e;
    }
    if (typeof first.unavailable === 'string') {
      h.kill();
      return { skipped: `LCE not timed: ${first.unavailable}; set BITWEAVE_LCE_PYTHON to a Python with larq-compute-engine` };
    }
    const r = first as Partial<Ready> & { ready?: unknown };
    const shape = (v: unknown) => Array.isArray(v) && v.length > 0 && v.every((d) => Number.isInteger(d) && d > 0);
    const unsupported = r.unsupported ?? {};
    const knownKernels = typeof unsupported === 'object' && !Array.isArray(unsupported) &&
      Object.entries(unsupported).every(([k, why]) => kernels.includes(k as LceKernel) && typeof why === 'string');
    if (r.ready !== true || typeof r.lce !== 'string' || typeof r.python !== 'string' || !shape(r.input) || !shape(r.output) || !knownKernels) {
      h.kill();
      throw new BitweaveError(`LCE helper (${h.pythonName}): unexpected first reply ${oneLineMessage(JSON.stringify(first), 200)}`);
    }
    h.ready = { lce: r.lce, python: r.python, input: r.input!, output: r.output!, unsupported };
    return h;
  }

  private listen(): void {
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (s: string) => {
      this.buffered += s;
      let nl: number;
      while ((nl = this.buffered.indexOf('\n')) >= 0) {
        const line = this.buffered.slice(0, nl).trim();
        this.buffered = this.buffered.slice(nl + 1);
        if (!line) continue;
        const w = this.waiting.shift();
        if (!w) continue; // an unsolicited line: ignored, the next request still gets its own reply
        clearTimeout(w.timer);
        let v: unknown;
        try {
          v = JSON.parse(line);
        } catch {
          w.reject(new BitweaveError(`LCE helper (${this.pythonName}): a reply that is not JSON: ${oneLineMessage(line, 200)}`));
          continue;
        }
        if (v === null || typeof v !== 'object' || Array.isArray(v)) w.reject(new BitweaveError(`LCE helper (${this.pythonName}): a reply that is not a JSON object: ${oneLineMessage(line, 200)}`));
        else if (typeof (v as { error?: unknown }).error === 'string') w.reject(new BitweaveError(`LCE helper: ${oneLineMessage((v as { error: string }).error, 400)}`));
        else w.resolve(v as Record<string, unknown>);
      }
    });
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (s: string) => {
      this.stderrTail = (this.stderrTail + s).slice(-2000);
    });
    this.child.on('exit', (code, signal) => {
      const last = this.stderrTail.trim().split('\n').pop() ?? '';
      this.exited = `exited (${signal ?? `code ${code}`})${last ? `: ${last}` : ''}`;
      for (const w of this.waiting.splice(0)) {
        clearTimeout(w.timer);
        w.reject(new BitweaveError(`LCE helper (${this.pythonName}) ${oneLineMessage(this.exited, 400)}`));
      }
    });
    // a helper that died under us is reported by the exit handler, not as EPIPE
    this.child.stdin!.on('error', () => undefined);
  }

  private next(timeoutMs: number): Promise<Record<string, unknown>> {
    if (this.exited !== null) return Promise.reject(new BitweaveError(`LCE helper (${this.pythonName}) ${oneLineMessage(this.exited, 400)}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiting.findIndex((w) => w.timer === timer);
        if (i >= 0) this.waiting.splice(i, 1);
        this.kill();
        reject(new BitweaveError(`LCE helper (${this.pythonName}): no reply within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      this.waiting.push({ resolve, reject, timer });
    });
  }

  private request(req: object, timeoutMs: number): Promise<Record<string, unknown>> {
    const reply = this.next(timeoutMs);
    this.child.stdin!.write(JSON.stringify(req) + '\n');
    return reply;
  }

  /**
   * Runs `batch` NHWC images once with `kernel` (files of raw float32); the output file holds
   * the results. `unsupported`: LCE's interpreter raised (that kernel refuses the model).
   */
  async run(kernel: LceKernel, batch: number, inputFile: string, outputFile: string, timeoutMs: number): Promise<{ unsupported?: string }> {
    const r = await this.request({ op: 'run', kernel, batch, input: inputFile, output: outputFile }, timeoutMs);
    if (typeof r.unsupported === 'string') return { unsupported: r.unsupported };
    if (r.ok !== true) throw new BitweaveError(`LCE helper: unexpected reply to run: ${oneLineMessage(JSON.stringify(r), 200)}`);
    return {};
  }

  /** Wall times (ms) of `runs` calls on the batch last given to run(kernel), after warm-up calls. */
  async time(kernel: LceKernel, batch: number, runs: number, warmupMs: number, timeoutMs: number): Promise<number[]> {
    const r = await this.request({ op: 'time', kernel, batch, runs, warmupMs }, timeoutMs);
    const t = r.timesMs;
    if (!Array.isArray(t) || t.length !== runs || !t.every((x) => typeof x === 'number' && Number.isFinite(x) && x >= 0)) {
      throw new BitweaveError(`LCE helper: expected ${runs} times, got ${oneLineMessage(JSON.stringify(r), 200)}`);
    }
    return t as number[];
  }

  private kill(): void {
    if (this.exited === null) this.child.kill('SIGKILL');
  }

  /** Ends the helper (EOF on its stdin; killed if it does not go within a few seconds). */
  async close(): Promise<void> {
    if (this.exited !== null) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin!.end();
    const timer = setTimeout(() => this.kill(), 5000);
    await gone;
    clearTimeout(timer);
  }
}
