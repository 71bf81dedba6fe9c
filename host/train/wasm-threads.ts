/**
 * Lets TensorFlow.js's multi-threaded WebAssembly build run under Node.
 *
 * @tensorflow/tfjs-backend-wasm 4.22.0 ships the threaded SIMD binary and an Emscripten
 * loader that knows Node's worker_threads, but disables threads in Node
 * (tensorflow/tfjs#3830) because two browser-only steps fail there:
 *
 *  1. it starts each pthread worker from a `blob:` URL, which Node's Worker refuses;
 *  2. each worker then `importScripts` the main script, handed over as a Blob.
 *
 * `installWorkerShim` replaces worker_threads.Worker with a subclass that starts a small
 * eval'd bootstrap instead, sends it the worker script's text (read from the Blob), and
 * swaps the main-script Blob in the 'load' message for a temporary file. The bundle was
 * built by rollup, whose CommonJS wrapper names (`require$$N`, `commonjsGlobal`) the
 * main script refers to; the bootstrap defines them. The package version is pinned
 * exactly in package.json because of this.
 *
 * The C++ side also caps its thread pool at os.cpus().length / 2 (it assumes two
 * hyper-threads per core), which is 1 on a 2-core machine; `withReportedCpus` widens
 * that report only while the backend initialises.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { resolveObjectURL } from 'node:buffer';
// `import x = require()` binds the real module objects (not interop copies), so the
// patches below are seen by the tfjs bundle's own require() calls.
import os = require('node:os');
import wt = require('node:worker_threads');

const BOOTSTRAP = `
const { parentPort } = require('worker_threads');
parentPort.once('message', (m) => {
  Object.assign(globalThis, {
    require, __filename: 'tfjs-backend-wasm-threaded-simd.worker.js', commonjsGlobal: globalThis,
    require$$0: require('fs'), require$$1: require('path'), require$$3: require('perf_hooks'), require$$4: require('os'),
  });
  (0, eval)(m.script);
});
`;

let installed = false;
let mainScriptFile: string | undefined;

type Message = { cmd?: string; urlOrBlob?: unknown } & Record<string, unknown>;

/** Write the threaded main script once per process (workers `importScripts` it by path). */
async function mainScriptPath(blob: Blob): Promise<string> {
  if (!mainScriptFile) {
    const file = path.join(os.tmpdir(), `bitweave-tfjs-wasm-${process.pid}.js`);
    fs.writeFileSync(file, await blob.text());
    process.once('exit', () => fs.rmSync(file, { force: true }));
    mainScriptFile = file;
  }
  return mainScriptFile;
}

export function installWorkerShim(): void {
  if (installed) return;
  installed = true;
  const Base = wt.Worker;
  class BlobWorker extends Base {
    private queue: [unknown, readonly wt.TransferListItem[] | undefined][] | null = [];
    private blobStarted = false;

    constructor(file: string | URL, opts?: wt.WorkerOptions) {
      const blob = typeof file === 'string' && file.startsWith('blob:') ? resolveObjectURL(file) : undefined;
      if (!blob) {
        super(file, opts);
        this.queue = null;
        return;
      }
      super(BOOTSTRAP, { eval: true });
      this.blobStarted = true;
      // pthreads (XNNPACK's pool waits forever) must not keep the process alive;
      // Emscripten ref()s a worker while it runs a thread, hence the override below
      this.unref();
      // Emscripten posts 'load' right away; hold messages until the script is there.
      void blob.text().then((script) => {
        super.postMessage({ script });
        const q = this.queue ?? [];
        this.queue = null;
        for (const [m, t] of q) this.forward(m, t);
      });
    }

    private forward(m: unknown, transfer?: readonly wt.TransferListItem[]): void {
      const msg = m as Message;
      if (msg && msg.cmd === 'load' && msg.urlOrBlob instanceof Blob) {
        void mainScriptPath(msg.urlOrBlob).then((p) => super.postMessage({ ...msg, urlOrBlob: p }, transfer));
        return;
      }
      super.postMessage(m, transfer);
    }

    override ref(): void {
      if (!this.blobStarted) super.ref();
    }

    override postMessage(m: unknown, transfer?: readonly wt.TransferListItem[]): void {
      if (this.queue) this.queue.push([m, transfer]);
      else this.forward(m, transfer);
    }
  }
  wt.Worker = BlobWorker;
}

/** Run `fn` while os.cpus() reports at least `n` CPUs. */
export async function withReportedCpus<T>(n: number, fn: () => Promise<T>): Promise<T> {
  const real = os.cpus;
  os.cpus = () => {
    const c = real();
    while (c.length > 0 && c.length < n) c.push(c[0]);
    return c;
  };
  try {
    return await fn();
  } finally {
    os.cpus = real;
  }
}
