/**
 * Collecting a batch: wait until every shard has its result, then read each result once,
 * in shard order, into one [N, classes] array. A shard whose job failed (bad data, a
 * worker that died too often) or vanished ends the wait with one error naming the shard.
 * Also the status of a batch and its removal.
 */
import { Job, Queue } from 'bullmq';
import { BitweaveError } from '../core/errors';
import { topK } from '../runtime/classify';
import { BatchMeta, batchKey, checkBatchId, inputKey, outputKey, parseBatchMeta, QUEUE_PREFIX, shardCount, shardJobId } from './keys';
import { RedisClient } from './redis';

/** The batch's description, or "unknown job id". */
export async function readBatch(redis: RedisClient, id: string, where: string): Promise<BatchMeta> {
  checkBatchId(id);
  const text = await redis.get(batchKey(id));
  if (text === null) throw new BitweaveError(`unknown job id '${id}': no such batch in Redis at ${where} (never submitted there, expired, or deleted)`);
  return parseBatchMeta(text, id);
}

function openQueue(redis: RedisClient, meta: BatchMeta): Queue {
  const q = new Queue(meta.queue, { connection: redis, prefix: QUEUE_PREFIX });
  q.on('error', () => {}); // the awaited calls report what matters
  return q;
}

/** Shard indices whose results are stored. */
async function doneShards(redis: RedisClient, meta: BatchMeta): Promise<Set<number>> {
  const keys = await redis.hkeys(outputKey(meta.id));
  const done = new Set<number>();
  for (const k of keys) {
    const i = Number(k);
    if (Number.isInteger(i) && i >= 0 && i < meta.shards) done.add(i);
  }
  return done;
}

const imagesOf = (meta: BatchMeta, shards: Iterable<number>): number => {
  let n = 0;
  for (const i of shards) n += shardCount(meta, i);
  return n;
};

const shardText = (meta: BatchMeta, i: number): string => `shard ${i} (images ${i * meta.shardSize}..${i * meta.shardSize + shardCount(meta, i) - 1})`;

export interface WaitOptions {
  /** Images done so far (called on every poll that changes it). */
  onProgress?: (images: number) => void;
  /** Give up after this long (ms); default: wait for as long as it takes. */
  timeoutMs?: number;
  /** Poll period (ms). */
  pollMs?: number;
}

/** Wait for every shard, then return the logits of the whole batch, [count, classes] row-major. */
export async function collectBatch(redis: RedisClient, meta: BatchMeta, o: WaitOptions = {}): Promise<Float32Array> {
  const queue = openQueue(redis, meta);
  let done = 0;
  let stopped = false;
  const poll = o.pollMs ?? 200;
  const wait = (async () => {
    let lastCheck = 0;
    let cursor = 0;
    for (let first = true; !stopped; first = false) {
      const have = await doneShards(redis, meta);
      if (have.size !== done || first) {
        done = have.size;
        o.onProgress?.(imagesOf(meta, have));
      }
      if (have.size === meta.shards) return;
      // the jobs of missing shards, every second, a bounded number per round
      if (Date.now() - lastCheck >= 1000) {
        lastCheck = Date.now();
        const missing = [...Array(meta.shards).keys()].filter((i) => !have.has(i));
        const round = missing.length <= 500 ? missing : [...missing, ...missing].slice(cursor % missing.length, (cursor % missing.length) + 500);
        cursor += round.length;
        await checkJobs(redis, queue, meta, round);
      }
      await new Promise((r) => setTimeout(r, poll));
    }
  })();
  let timer: NodeJS.Timeout | undefined;
  try {
    // the timeout holds even while Redis is away (a command then waits for the reconnect)
    await (o.timeoutMs === undefined ? wait : Promise.race([wait, new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new BitweaveError(`job ${meta.id}: timed out after ${+(o.timeoutMs! / 1000).toFixed(3)} s with ${done} of ${meta.shards} shards done (are workers running on queue '${meta.queue}'? see bitweave batch status ${meta.id})`)), o.timeoutMs);
    })]));
  } finally {
    stopped = true;
    clearTimeout(timer);
    wait.catch(() => {}); // abandoned after a timeout: its pending command fails when the connection closes
    await Promise.race([queue.close().catch(() => {}), new Promise((r) => setTimeout(r, 1000))]);
  }
  return readResults(redis, meta);
}

/** A failed or vanished job of a shard without a result is the end of the batch. */
async function checkJobs(redis: RedisClient, queue: Queue, meta: BatchMeta, shards: number[]): Promise<void> {
  const states = await Promise.all(shards.map((i) => queue.getJobState(shardJobId(meta.id, i))));
  for (let k = 0; k < shards.length; k++) {
    const i = shards[k];
    const st = states[k];
    if (st !== 'failed' && st !== 'unknown' && st !== 'completed') continue;
    // its result may have landed since the poll
    if (await redis.hexists(outputKey(meta.id), String(i))) continue;
    if (st === 'failed') {
      const job = (await queue.getJob(shardJobId(meta.id, i))) as Job | undefined;
      throw new BitweaveError(`job ${meta.id}: ${shardText(meta, i)} failed: ${job?.failedReason || 'no reason given'}`);
    }
    throw new BitweaveError(`job ${meta.id}: ${shardText(meta, i)} has no result and ${st === 'completed' ? 'its job completed without one' : 'no job in the queue'} (its keys expired or were deleted?): submit the batch again`);
  }
}

/** Every shard's result, read once each, in order. */
async function readResults(redis: RedisClient, meta: BatchMeta): Promise<Float32Array> {
  const logits = new Float32Array(meta.count * meta.classes);
  const bytes = new Uint8Array(logits.buffer);
  for (let i = 0; i < meta.shards; i++) {
    const b = await redis.hgetBuffer(outputKey(meta.id), String(i));
    const want = shardCount(meta, i) * meta.classes * 4;
    if (b === null) throw new BitweaveError(`job ${meta.id}: the result of ${shardText(meta, i)} is gone from Redis (expired or deleted)`);
    if (b.length !== want) throw new BitweaveError(`job ${meta.id}: the result of ${shardText(meta, i)} holds ${b.length} bytes, expected ${want}`);
    bytes.set(b, i * meta.shardSize * meta.classes * 4);
  }
  return logits;
}

/** JSONL: one line per image, {image, file?, top: [{class, label?, logit, probability}]}; in chunks of lines. */
export function jsonlChunks(meta: BatchMeta, logits: Float32Array, k: number): Buffer[] {
  const top = Math.max(1, Math.min(k, meta.classes));
  const chunks: Buffer[] = [];
  let lines: string[] = [];
  for (let i = 0; i < meta.count; i++) {
    lines.push(JSON.stringify({ image: i, ...(meta.files ? { file: meta.files[i] } : {}), top: topK(logits, i, meta.classes, top, meta.labels) }));
    if (lines.length === 10_000 || i === meta.count - 1) {
      chunks.push(Buffer.from(lines.join('\n') + '\n', 'utf8'));
      lines = [];
    }
  }
  return chunks;
}

export interface ShardStatus {
  shard: number;
  images: number;
  state: string;
  /** Times a worker died holding it. */
  stalled: number;
  attempts: number;
  worker?: string;
  error?: string;
}

export interface BatchStatus {
  job: string;
  queue: string;
  model: string;
  images: number;
  imagesDone: number;
  shards: number;
  shardsDone: number;
  failed: number;
  stalled: number;
  expiresAt: string;
  shardList: ShardStatus[];
}

/** Where every shard is: done (result stored), or its job's state, with restarts and failures. */
export async function batchStatus(redis: RedisClient, meta: BatchMeta): Promise<BatchStatus> {
  const queue = openQueue(redis, meta);
  try {
    const done = await doneShards(redis, meta);
    const list: ShardStatus[] = [];
    for (let i = 0; i < meta.shards; i += 200) {
      const ids = [...Array(Math.min(200, meta.shards - i)).keys()].map((k) => i + k);
      const jobs = await Promise.all(ids.map((s) => queue.getJob(shardJobId(meta.id, s)) as Promise<Job | undefined>));
      const states = await Promise.all(ids.map((s) => queue.getJobState(shardJobId(meta.id, s))));
      ids.forEach((s, k) => {
        const j = jobs[k];
        list.push({
          shard: s, images: shardCount(meta, s), state: done.has(s) ? 'done' : states[k], stalled: j?.stalledCounter ?? 0, attempts: j?.attemptsStarted ?? 0,
          ...(j?.processedBy ? { worker: j.processedBy } : {}), ...(!done.has(s) && j?.failedReason ? { error: j.failedReason } : {}),
        });
      });
    }
    return {
      job: meta.id, queue: meta.queue, model: meta.modelName, images: meta.count, imagesDone: imagesOf(meta, done), shards: meta.shards, shardsDone: done.size,
      failed: list.filter((s) => s.state === 'failed').length, stalled: list.reduce((n, s) => n + s.stalled, 0),
      expiresAt: new Date(meta.expiresAt * 1000).toISOString(), shardList: list,
    };
  } finally {
    await queue.close().catch(() => {});
  }
}

/** Remove a batch: its description, inputs, results and queued jobs (a running shard finishes; its result expires). */
export async function deleteBatch(redis: RedisClient, meta: BatchMeta): Promise<number> {
  const queue = openQueue(redis, meta);
  let removed = 0;
  try {
    for (let i = 0; i < meta.shards; i++) removed += await queue.remove(shardJobId(meta.id, i)).catch(() => 0);
  } finally {
    await queue.close().catch(() => {});
  }
  const keys = [batchKey(meta.id), outputKey(meta.id), ...[...Array(meta.shards).keys()].map((i) => inputKey(meta.id, i))];
  for (let i = 0; i < keys.length; i += 1000) await redis.unlink(...keys.slice(i, i + 1000));
  return removed;
}
