/**
 * Submitting a batch: the model's .bnn bytes (once per content hash), each shard's input
 * bytes and the batch description go into Redis, then one BullMQ job per shard. Nothing
 * refers to a file: workers may run on machines that share no file system with this one.
 */
import { Queue } from 'bullmq';
import { BitweaveError } from '../core/errors';
import { formatBytes } from '../core/text';
import { CompiledModel, tensorLength } from '../compile/model';
import { encodeBnn } from '../format/bnn';
import { BatchMeta, batchKey, DEFAULT_QUEUE, inputKey, modelKey, newBatchId, PROTOCOL, QUEUE_PREFIX, sha256, shardCount, shardJobId, ShardJob } from './keys';
import { RedisClient } from './redis';

/** Redis' default limit on one value (proto-max-bulk-len). */
export const MAX_VALUE_BYTES = 512 * 2 ** 20;
/** Default shard: this many images, fewer when their input would exceed DEFAULT_SHARD_BYTES. */
export const DEFAULT_SHARD_IMAGES = 1000;
const DEFAULT_SHARD_BYTES = 64 * 2 ** 20;
/** How often a shard is tried when a worker fails it with an error that may pass (not for bad data). */
export const SHARD_ATTEMPTS = 3;

export interface SubmitOptions {
  model: CompiledModel;
  images: Float32Array;
  count: number;
  files?: string[];
  /** Images per shard (default: DEFAULT_SHARD_IMAGES, bounded by DEFAULT_SHARD_BYTES). */
  shardSize?: number;
  queue?: string;
  /** Seconds the batch's keys live. */
  ttlSeconds: number;
  source: string;
}

/** Images per shard: the asked size, checked against Redis' value limit, or the default. */
export function planShardSize(model: CompiledModel, asked: number | undefined): number {
  const t = model.tensors[model.input];
  const perImage = tensorLength(t) * 4;
  if (asked !== undefined) {
    if (asked * perImage > MAX_VALUE_BYTES) {
      throw new BitweaveError(`--shard-size ${asked} makes each shard's input ${formatBytes(asked * perImage)} (${t.c}x${t.h}x${t.w} float32 per image), more than the ${formatBytes(MAX_VALUE_BYTES)} Redis holds in one value; use --shard-size ${Math.floor(MAX_VALUE_BYTES / perImage)} or less`);
    }
    return asked;
  }
  return Math.max(1, Math.min(DEFAULT_SHARD_IMAGES, Math.floor(DEFAULT_SHARD_BYTES / perImage)));
}

/** Put a batch into Redis and queue its shards; returns its description. */
export async function submitBatch(redis: RedisClient, o: SubmitOptions): Promise<BatchMeta> {
  const m = o.model;
  const t = m.tensors[m.input];
  const shape: [number, number, number] = [t.c, t.h, t.w];
  const per = tensorLength(t);
  if (o.images.length !== o.count * per) throw new Error('submitBatch: images do not hold count inputs');
  const shardSize = planShardSize(m, o.shardSize);
  const bnn = encodeBnn(m, m.name);
  if (bnn.length > MAX_VALUE_BYTES) throw new BitweaveError(`the model's .bnn is ${formatBytes(bnn.length)}, more than the ${formatBytes(MAX_VALUE_BYTES)} Redis holds in one value`);
  const hash = sha256(bnn);
  const id = newBatchId();
  const now = Math.floor(Date.now() / 1000);
  const expiresAt = now + Math.ceil(o.ttlSeconds);
  const meta: BatchMeta = {
    protocol: PROTOCOL, id, queue: o.queue ?? DEFAULT_QUEUE, model: hash, modelName: m.name, count: o.count, shape,
    classes: tensorLength(m.tensors[m.output]), shardSize, shards: Math.ceil(o.count / shardSize),
    ...(m.labels ? { labels: [...m.labels] } : {}), ...(o.files ? { files: o.files } : {}),
    source: o.source, createdAt: now, expiresAt,
  };

  // the model: stored once per content; its expiry only ever moves later
  const mk = modelKey(hash);
  for (;;) {
    if ((await redis.set(mk, bnn, 'EXAT', expiresAt, 'NX')) !== null) break;
    const ttl = await redis.ttl(mk);
    if (ttl === -2) continue; // it expired just now: store it again
    if (ttl >= 0 && now + ttl < expiresAt) await redis.expireat(mk, expiresAt);
    break;
  }

  // inputs, as zero-copy views of the float32 data (little-endian, as on every host Node runs on)
  const jobs: ShardJob[] = [];
  let pipe = redis.pipeline();
  let queued = 0;
  for (let i = 0; i < meta.shards; i++) {
    const count = shardCount(meta, i);
    const view = o.images.subarray(i * shardSize * per, (i * shardSize + count) * per);
    const bytes = Buffer.from(view.buffer, view.byteOffset, view.byteLength);
    pipe.set(inputKey(id, i), bytes, 'EXAT', expiresAt);
    jobs.push({ protocol: PROTOCOL, batch: id, shard: i, shards: meta.shards, start: i * shardSize, count, model: hash, shape, classes: meta.classes, bytes: bytes.length, sha256: sha256(bytes), expiresAt });
    queued += bytes.length;
    // send in pieces: a whole data set in one pipeline would sit in memory twice
    if (queued >= 32 * 2 ** 20) {
      await execOrThrow(pipe);
      pipe = redis.pipeline();
      queued = 0;
    }
  }
  await execOrThrow(pipe);
  // the description last: a batch that collect can see has all its inputs
  await redis.set(batchKey(id), JSON.stringify(meta), 'EXAT', expiresAt);

  const queue = new Queue(meta.queue, { connection: redis, prefix: QUEUE_PREFIX });
  queue.on('error', () => {}); // the awaited calls below report what matters
  try {
    const keep = { age: Math.ceil(o.ttlSeconds) };
    for (let i = 0; i < jobs.length; i += 500) {
      await queue.addBulk(jobs.slice(i, i + 500).map((d) => ({
        name: 'shard',
        data: d,
        opts: { jobId: shardJobId(id, d.shard), attempts: SHARD_ATTEMPTS, backoff: { type: 'fixed', delay: 1000 }, removeOnComplete: keep, removeOnFail: keep },
      })));
    }
  } finally {
    await queue.close().catch(() => {});
  }
  return meta;
}

async function execOrThrow(pipe: ReturnType<RedisClient['pipeline']>): Promise<void> {
  const res = await pipe.exec();
  for (const [err] of res ?? []) if (err) throw err;
}
