/**
 * The shard worker: takes shard jobs from the BullMQ queue, runs them on a Session and
 * stores each result under its shard index.
 *
 * Idempotent by construction: a result is written with HSETNX (the first copy stays; a
 * rerun of a deterministic backend makes the same bytes anyway), a shard whose result is
 * already there is not run again, and its input is deleted only after the result is in.
 * A worker killed mid-shard holds a lock that is no longer renewed: BullMQ's stalled check
 * (in every other worker) puts the job back in the queue and another worker runs it.
 *
 * Bad data (a shard whose stored input has the wrong length or hash, a missing or corrupt
 * model) fails the job at once (UnrecoverableError, no retries) with a message that says
 * which; `batch collect` reports it. Other errors are retried SHARD_ATTEMPTS times.
 */
import * as os from 'node:os';
import { Job, UnrecoverableError, Worker } from 'bullmq';
import { isUserError } from '../core/errors';
import { oneLine } from '../core/files';
import { CompiledModel } from '../compile/model';
import { decodeBnn } from '../format/bnn';
import { Session, SessionOptions } from '../runtime/session';
import { checkShardJob, inputKey, modelKey, outputKey, QUEUE_PREFIX, sha256, ShardJob } from './keys';
import { RedisClient } from './redis';

export interface WorkerOptions {
  queue: string;
  session: SessionOptions;
  /** Shards this process runs at once. */
  concurrency: number;
  /** Lock on a running shard (ms), renewed every half of it while the worker lives. */
  lockDurationMs: number;
  /** How often this worker looks for shards whose worker died (ms). */
  stalledIntervalMs: number;
  /** A shard whose worker died this many times fails. */
  maxStalledCount: number;
  /** Stored on each job it runs (status shows it); default host:pid. */
  name?: string;
  /** One event per shard and per change (started, done, failed, connection). */
  onEvent: (e: WorkerEvent) => void;
}

export type WorkerEvent =
  | { event: 'start'; job: string; shard: number; shards: number; images: number; attempt: number }
  | { event: 'done'; job: string; shard: number; shards: number; images: number; seconds: number; skipped?: boolean }
  | { event: 'failed'; job: string; shard: number; error: string }
  | { event: 'ready'; worker: string; queue: string; pid: number }
  | { event: 'note'; message: string };

/** Models kept loaded (the least recently used idle one goes first). */
const MAX_MODELS = 4;

/** The loaded sessions of one model: a backend is not shared by two shards at once. */
interface ModelSessions {
  model: Promise<CompiledModel>;
  all: Session[];
  idle: Session[];
  creating: number;
  /** Shards waiting for a session; null: none came free, make one yourself (a load failed). */
  waiting: ((s: Session | null) => void)[];
  used: number;
}

/**
 * Loaded Sessions per model hash: a model is fetched from Redis, checked and decoded once
 * per worker; each shard running at once (--concurrency) gets a session of its own.
 */
export class SessionCache {
  private readonly models = new Map<string, ModelSessions>();
  constructor(private readonly redis: RedisClient, private readonly opts: SessionOptions, private readonly perModel: number) {}

  /** Run `fn` with a session of the model no other shard is using. */
  async with<T>(hash: string, fn: (s: Session) => Promise<T>): Promise<T> {
    let m = this.models.get(hash);
    if (!m) {
      m = { model: this.fetch(hash), all: [], idle: [], creating: 0, waiting: [], used: 0 };
      this.models.set(hash, m);
      const entry = m;
      // a failed fetch is tried afresh by the next shard
      m.model.catch(() => this.models.get(hash) === entry && this.models.delete(hash));
    }
    m.used = Date.now();
    const s = await this.acquire(m);
    try {
      return await fn(s);
    } finally {
      const next = m.waiting.shift();
      if (next) next(s);
      else m.idle.push(s);
      this.evict();
    }
  }

  private async acquire(m: ModelSessions): Promise<Session> {
    const idle = m.idle.pop();
    if (idle) return idle;
    if (m.all.length + m.creating >= this.perModel) {
      const s = await new Promise<Session | null>((resolve) => m.waiting.push(resolve));
      return s ?? this.acquire(m);
    }
    m.creating++;
    let made = false;
    try {
      const model = await m.model;
      let s: Session;
      try {
        s = await Session.create(model, this.opts);
      } catch (e) {
        // this worker's backend may be what is missing (a device, a library): another worker may manage, so it is retried
        throw new Error(`this worker cannot load model ${model.name}: ${oneLine(e)}`);
      }
      m.all.push(s);
      made = true;
      return s;
    } finally {
      m.creating--;
      if (!made) m.waiting.shift()?.(null);
    }
  }

  private async fetch(hash: string): Promise<CompiledModel> {
    const bytes = await this.redis.getBuffer(modelKey(hash));
    if (bytes === null) throw new UnrecoverableError(`the model ${hash.slice(0, 12)}… is not in Redis (expired or deleted): submit the batch again`);
    if (sha256(bytes) !== hash) throw new UnrecoverableError(`the model ${hash.slice(0, 12)}… in Redis is corrupt: its bytes do not match their SHA-256`);
    return decodeBnn(bytes, `model ${hash.slice(0, 12)}…`);
  }

  private evict(): void {
    while (this.models.size > MAX_MODELS) {
      const idle = [...this.models].filter(([, m]) => m.idle.length === m.all.length && m.creating === 0 && m.waiting.length === 0).sort((a, b) => a[1].used - b[1].used)[0];
      if (!idle) return;
      this.models.delete(idle[0]);
      for (const s of idle[1].all) void s.close().catch(() => {});
    }
  }

  async close(): Promise<void> {
    const all = [...this.models.values()].flatMap((m) => m.all);
    this.models.clear();
    await Promise.all(all.map((s) => s.close().catch(() => {})));
  }
}

export interface RunningWorker {
  name: string;
  /** Stop taking shards, let the running ones finish (force: drop them; their locks expire). */
  close(force?: boolean): Promise<void>;
}

/** A worker taking shards; resolves once it is connected and listening. */
export async function startWorker(redis: RedisClient, o: WorkerOptions): Promise<RunningWorker> {
  const name = o.name ?? `${os.hostname()}:${process.pid}`;
  const sessions = new SessionCache(redis, o.session, o.concurrency);

  const processShard = async (job: Job): Promise<{ images: number; skipped?: boolean }> => {
    const d = checkShardJob(job.data);
    if (typeof d === 'string') throw new UnrecoverableError(`shard job ${job.id}: ${d}`);
    const out = outputKey(d.batch);
    const skip = () => {
      o.onEvent({ event: 'done', job: d.batch, shard: d.shard, shards: d.shards, images: d.count, seconds: 0, skipped: true });
      return { images: d.count, skipped: true };
    };
    // a rerun of a shard that another worker finished (it stalled, then came back)
    if (await redis.hexists(out, String(d.shard))) return skip();
    o.onEvent({ event: 'start', job: d.batch, shard: d.shard, shards: d.shards, images: d.count, attempt: job.attemptsStarted });
    const t0 = performance.now();
    const input = await redis.getBuffer(inputKey(d.batch, d.shard));
    if (input === null) {
      if (await redis.hexists(out, String(d.shard))) return skip();
      throw new UnrecoverableError('its input is not in Redis (expired or deleted)');
    }
    checkInput(d, input);
    const logits = await sessions.with(d.model, (s) => runShard(s, d, input, o));
    const bytes = Buffer.from(logits.buffer, logits.byteOffset, logits.byteLength);
    const stored = await redis.multi().hsetnx(out, String(d.shard), bytes).expireat(out, d.expiresAt).unlink(inputKey(d.batch, d.shard)).exec();
    // a transaction reports its commands' errors (out of memory, say) in its reply, not by throwing
    for (const [err] of stored ?? []) if (err) throw err;
    o.onEvent({ event: 'done', job: d.batch, shard: d.shard, shards: d.shards, images: d.count, seconds: (performance.now() - t0) / 1000 });
    return { images: d.count };
  };

  const worker = new Worker(o.queue, async (job: Job) => {
    try {
      return await processShard(job);
    } catch (e) {
      // a user error (bad model, bad data) is the same on every retry
      if (isUserError(e)) throw new UnrecoverableError(oneLine(e, 400));
      throw e;
    }
  }, {
    connection: redis,
    prefix: QUEUE_PREFIX,
    name,
    concurrency: o.concurrency,
    lockDuration: o.lockDurationMs,
    stalledInterval: o.stalledIntervalMs,
    maxStalledCount: o.maxStalledCount,
    // after a lost connection, retry finishing a job soon (BullMQ's default waits 15 s)
    runRetryDelay: 1000,
    // started below, once 'ready' is said
    autorun: false,
  });

  // BullMQ reports connection trouble as 'error' events, over and over while Redis is away: once per message and minute
  const said = new Map<string, number>();
  worker.on('error', (e: Error) => {
    const msg = oneLine(e);
    const last = said.get(msg) ?? 0;
    if (Date.now() - last > 60_000) {
      said.set(msg, Date.now());
      o.onEvent({ event: 'note', message: `queue: ${msg}` });
    }
  });
  worker.on('failed', (job: Job | undefined, e: Error) => {
    const d = job ? checkShardJob(job.data) : 'no job';
    if (typeof d !== 'string') o.onEvent({ event: 'failed', job: d.batch, shard: d.shard, error: oneLine(e, 400) });
  });

  await worker.waitUntilReady();
  o.onEvent({ event: 'ready', worker: name, queue: o.queue, pid: process.pid });
  worker.run().catch((e: Error) => o.onEvent({ event: 'note', message: `queue: ${oneLine(e)}` }));
  return {
    name,
    async close(force = false) {
      await worker.close(force).catch(() => {});
      await sessions.close();
    },
  };
}

/** The stored input is what the submitter stored: right length, same hash (messages: BullMQ's failedReason, which collect prefixes with the shard). */
function checkInput(d: ShardJob, input: Buffer): void {
  if (input.length !== d.bytes) {
    throw new UnrecoverableError(`corrupt input: Redis holds ${input.length} bytes for it, expected ${d.bytes} (${d.count} images of ${d.shape.join('x')} float32)`);
  }
  const h = sha256(input);
  if (h !== d.sha256) throw new UnrecoverableError(`corrupt input: its bytes in Redis have SHA-256 ${h.slice(0, 16)}…, expected ${d.sha256.slice(0, 16)}…`);
}

/**
 * Run one shard batch by batch, yielding to the event loop in between: a backend may compute
 * synchronously, and the lock renewal timer must get its turn or a busy shard looks stalled.
 */
async function runShard(s: Session, d: ShardJob, input: Buffer, o: WorkerOptions): Promise<Float32Array> {
  const [C, H, W] = s.inputShape;
  if (C !== d.shape[0] || H !== d.shape[1] || W !== d.shape[2] || s.classes !== d.classes) {
    throw new UnrecoverableError(`the job is for ${d.shape.join('x')} inputs and ${d.classes} classes, the model takes ${C}x${H}x${W} and gives ${s.classes}`);
  }
  const per = C * H * W;
  // a copy: the Buffer's offset need not be 4-aligned, and Session wants a Float32Array
  const images = new Float32Array(d.count * per);
  new Uint8Array(images.buffer).set(input);
  const logits = new Float32Array(d.count * d.classes);
  let warned = false;
  for (let start = 0; start < d.count; start += s.batchSize) {
    const n = Math.min(s.batchSize, d.count - start);
    const t0 = performance.now();
    const r = await s.run(images.subarray(start * per, (start + n) * per));
    const ms = performance.now() - t0;
    if (ms > o.lockDurationMs / 2 && !warned) {
      warned = true;
      o.onEvent({ event: 'note', message: `one batch of ${n} images took ${(ms / 1000).toFixed(1)} s, more than half the ${(o.lockDurationMs / 1000).toFixed(1)} s shard lock: lower --batch or raise --lock-duration, or running shards will look stalled` });
    }
    logits.set(r.logits, start * d.classes);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return logits;
}
