/**
 * A pool of backend instances for one served model, each a Session in its own worker
 * thread (instance.ts): N native engines, one per OpenCL device, one per board port.
 * The batcher hands a batch to an idle instance; an instance that dies is replaced and its
 * batch fails with a 500, never the server.
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { BitweaveError } from '../core/errors';
import { CompiledModel } from '../compile/model';
import { SessionOptions } from '../runtime/session';
import { InstanceData, InstanceReply, RunMessage } from './instance';
import { ServeError } from './protocol';

interface Slot {
  worker: Worker;
  busy: boolean;
  /** The batch in flight: its id and its callbacks. */
  job?: { id: number; resolve: (r: { logits: Float32Array; seconds: number }) => void; reject: (e: Error) => void };
  busySeconds: number;
  options: SessionOptions;
  index: number;
}

export class InstancePool {
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private closing = false;
  /** Called when an instance becomes idle (the batcher dispatches more). */
  onIdle: () => void = () => {};
  backend = '';

  private constructor(private readonly model: CompiledModel) {}

  /**
   * Starts one instance per entry of `instances` (session options each), and waits until
   * every one has loaded the model; a failure stops them all and is thrown (one line).
   */
  static async start(model: CompiledModel, instances: SessionOptions[]): Promise<InstancePool> {
    const pool = new InstancePool(model);
    try {
      await Promise.all(instances.map((o, i) => pool.spawn(o, i)));
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  get size(): number {
    return this.slots.length;
  }

  /** Busy seconds per instance since start (for the utilisation metric). */
  busySeconds(): number[] {
    return this.slots.map((s) => s.busySeconds);
  }

  idleCount(): number {
    return this.slots.filter((s) => !s.busy).length;
  }

  private spawn(options: SessionOptions, index: number): Promise<void> {
    const data: InstanceData = { model: this.model, session: options };
    const worker = new Worker(path.join(__dirname, 'instance.js'), { workerData: data });
    const slot: Slot = { worker, busy: true, busySeconds: 0, options, index };
    return new Promise((resolve, reject) => {
      let ready = false;
      worker.on('message', (m: InstanceReply) => {
        if ('ready' in m) {
          ready = true;
          this.backend = m.backend;
          slot.busy = false;
          this.slots[index] = slot;
          resolve();
          return;
        }
        if ('fatal' in m) {
          reject(new BitweaveError(m.fatal));
          void worker.terminate();
          return;
        }
        const job = slot.job;
        if (!job || job.id !== m.id) return;
        slot.job = undefined;
        slot.busy = false;
        if ('error' in m) job.reject(m.user ? new ServeError(400, m.error) : new ServeError(500, m.error));
        else {
          slot.busySeconds += m.seconds;
          job.resolve({ logits: m.logits, seconds: m.seconds });
        }
        this.onIdle();
      });
      worker.on('error', (e) => {
        if (!ready) reject(new BitweaveError(`backend instance ${index} failed to start: ${e.message}`));
        else slot.job?.reject(new ServeError(500, `backend instance ${index} failed: ${e.message}`));
      });
      worker.on('exit', (code) => {
        if (!ready) {
          reject(new BitweaveError(`backend instance ${index} exited with code ${code} while loading the model`));
          return;
        }
        const job = slot.job;
        slot.job = undefined;
        job?.reject(new ServeError(500, `backend instance ${index} exited (code ${code}) while running a batch`));
        if (this.closing) return;
        // a replacement takes the slot; until it is ready the slot stays busy
        slot.busy = true;
        this.spawn(slot.options, index).then(() => this.onIdle(), () => undefined);
      });
    });
  }

  /** Runs one batch on an idle instance (the caller checked idleCount() > 0). */
  run(images: Float32Array, count: number): Promise<{ logits: Float32Array; seconds: number }> {
    const slot = this.slots.find((s) => !s.busy);
    if (!slot) return Promise.reject(new ServeError(503, 'no idle backend instance'));
    slot.busy = true;
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      slot.job = { id, resolve, reject };
      const msg: RunMessage = { id, images, count };
      slot.worker.postMessage(msg, [images.buffer as ArrayBuffer]);
    });
  }

  /** Stops every instance (after the batches in flight, which the caller waited for). */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.slots.map(async (s) => {
      if (s.worker.threadId < 0) return; // already exited
      s.worker.postMessage('close');
      const t = setTimeout(() => void s.worker.terminate(), 5000);
      await new Promise((r) => s.worker.once('exit', r));
      clearTimeout(t);
    }));
  }
}
