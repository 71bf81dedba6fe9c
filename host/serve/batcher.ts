/**
 * Dynamic batching for one served model: requests wait in a queue and are merged into one
 * batch of up to `maxBatch` images when an instance is idle — at once when the queue
 * holds a full batch, else once the oldest request has waited `maxDelayMs` — then the
 * logits are split back per request. A request larger than `maxBatch` runs as a batch of
 * its own (the Session cuts it into backend batches).
 */
import { InstancePool } from './pool';
import { ServeError } from './protocol';

export interface BatcherOptions {
  /** Images merged into one batch at most. */
  maxBatch: number;
  /** How long the oldest waiting request may wait for others (ms). */
  maxDelayMs: number;
  /** Requests that may wait (beyond it: 429). */
  maxQueue: number;
  /** A request not answered within this time gets a 504 (ms; 0 = none). */
  timeoutMs: number;
}

export interface BatchObserver {
  queueDepth(depth: number): void;
  batch(images: number, requests: number, seconds: number): void;
}

interface Pending {
  images: Float32Array;
  count: number;
  arrived: number;
  done: boolean;
  timer?: NodeJS.Timeout;
  resolve: (logits: Float32Array) => void;
  reject: (e: Error) => void;
}

export class Batcher {
  private readonly queue: Pending[] = [];
  private queuedImages = 0;
  private timer?: NodeJS.Timeout;
  private inFlight = 0;
  private draining = false;
  private drained?: () => void;

  constructor(private readonly pool: InstancePool, private readonly classes: number, private readonly o: BatcherOptions, private readonly observe: BatchObserver) {
    pool.onIdle = () => this.pump();
  }

  get depth(): number {
    return this.queue.length;
  }

  /** Queue `count` images; resolves with their logits (count x classes). */
  infer(images: Float32Array, count: number): Promise<Float32Array> {
    if (this.draining) return Promise.reject(new ServeError(503, 'the server is shutting down'));
    if (this.queue.length >= this.o.maxQueue) {
      return Promise.reject(new ServeError(429, `the queue is full (${this.o.maxQueue} requests waiting); retry later`));
    }
    return new Promise((resolve, reject) => {
      const p: Pending = { images, count, arrived: performance.now(), done: false, resolve, reject };
      if (this.o.timeoutMs > 0) {
        p.timer = setTimeout(() => {
          const i = this.queue.indexOf(p);
          if (i >= 0) {
            this.queue.splice(i, 1);
            this.queuedImages -= p.count;
            this.observe.queueDepth(this.queue.length);
          }
          this.settle(p, new ServeError(504, `inference did not finish within ${this.o.timeoutMs} ms`));
        }, this.o.timeoutMs);
      }
      this.queue.push(p);
      this.queuedImages += count;
      this.observe.queueDepth(this.queue.length);
      this.pump();
    });
  }

  private settle(p: Pending, e: Error | null, logits?: Float32Array): void {
    if (p.done) return;
    p.done = true;
    clearTimeout(p.timer);
    if (e) p.reject(e);
    else p.resolve(logits!);
  }

  /** Dispatch what may go now; otherwise wait for the oldest request's deadline. */
  private pump(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.queue.length > 0 && this.pool.idleCount() > 0) {
      const waited = performance.now() - this.queue[0].arrived;
      if (this.queuedImages < this.o.maxBatch && waited < this.o.maxDelayMs && !this.draining) {
        this.timer = setTimeout(() => this.pump(), Math.max(0, this.o.maxDelayMs - waited));
        break;
      }
      this.dispatch();
    }
    if (this.draining && this.queue.length === 0 && this.inFlight === 0) this.drained?.();
  }

  private dispatch(): void {
    const batch: Pending[] = [this.queue.shift()!];
    let images = batch[0].count;
    while (this.queue.length > 0 && images + this.queue[0].count <= this.o.maxBatch) {
      const p = this.queue.shift()!;
      batch.push(p);
      images += p.count;
    }
    this.queuedImages -= images;
    this.observe.queueDepth(this.queue.length);
    const per = batch[0].images.length / batch[0].count;
    let input: Float32Array;
    if (batch.length === 1) input = batch[0].images;
    else {
      input = new Float32Array(images * per);
      let o = 0;
      for (const p of batch) {
        input.set(p.images, o);
        o += p.images.length;
      }
    }
    this.inFlight++;
    this.pool.run(input, images).then(
      ({ logits, seconds }) => {
        this.observe.batch(images, batch.length, seconds);
        let o = 0;
        for (const p of batch) {
          this.settle(p, null, logits.slice(o, o + p.count * this.classes));
          o += p.count * this.classes;
        }
      },
      (e: Error) => batch.forEach((p) => this.settle(p, e)),
    ).finally(() => {
      this.inFlight--;
      this.pump();
    });
  }

  /** Stop taking requests; resolves when every queued and running one is answered. */
  drain(): Promise<void> {
    this.draining = true;
    return new Promise((resolve) => {
      this.drained = resolve;
      this.pump();
    });
  }
}
