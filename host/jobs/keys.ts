/**
 * The batch protocol: Redis key names, the batch description and the shard job's data.
 * docs/BATCH.md describes the same layout for people.
 *
 *   bitweave:model:<sha256>        .bnn bytes of a compiled model (encodeBnn), keyed by their hash
 *   bitweave:batch:<id>            the batch (JSON BatchMeta)
 *   bitweave:batch:<id>:in:<i>     shard i's input: float32 little-endian NCHW (deleted once its result is stored)
 *   bitweave:batch:<id>:out        hash: shard i -> float32 little-endian logits [count, classes]
 *   bitweave:q:<queue>:…           BullMQ's own keys (one job `<id>-<i>` per shard)
 *
 * Every key of a batch expires at the batch's `expiresAt`; a model key lives as long as the
 * longest batch that uses it.
 */
import * as crypto from 'node:crypto';
import { BitweaveError } from '../core/errors';

/** BullMQ key prefix: its keys stay apart from ours under `bitweave:`. */
export const QUEUE_PREFIX = 'bitweave:q';
export const DEFAULT_QUEUE = 'bitweave';
/** Protocol version in BatchMeta and ShardJob: a worker refuses what it does not know. */
export const PROTOCOL = 1;

export const modelKey = (hash: string): string => `bitweave:model:${hash}`;
export const batchKey = (id: string): string => `bitweave:batch:${id}`;
export const inputKey = (id: string, shard: number): string => `bitweave:batch:${id}:in:${shard}`;
export const outputKey = (id: string): string => `bitweave:batch:${id}:out`;
/** BullMQ job id of a shard (BullMQ ids may not contain ':'). */
export const shardJobId = (id: string, shard: number): string => `${id}-${shard}`;

export const sha256 = (b: Uint8Array): string => crypto.createHash('sha256').update(b).digest('hex');

/** A new batch id: 16 hex digits. */
export function newBatchId(): string {
  return crypto.randomBytes(8).toString('hex');
}

/** A job id as the user typed it, checked before it goes into a key name. */
export function checkBatchId(id: unknown): string {
  if (typeof id !== 'string' || !/^[0-9a-f]{16}$/.test(id)) {
    throw new BitweaveError(`unknown job id '${String(id).slice(0, 80)}': job ids are the 16 hex digits \`bitweave batch submit\` prints`);
  }
  return id;
}

/** A queue name (part of BullMQ's key names). */
export function checkQueueName(q: string): string {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(q)) throw new BitweaveError(`--queue must be 1..64 letters, digits, '.', '_' or '-', got '${q.slice(0, 80)}'`);
  return q;
}

export interface BatchMeta {
  protocol: number;
  id: string;
  queue: string;
  /** sha256 of the model's .bnn bytes (its key). */
  model: string;
  modelName: string;
  /** Images in the batch, and per image [C, H, W]. */
  count: number;
  shape: [number, number, number];
  classes: number;
  shardSize: number;
  shards: number;
  labels?: string[];
  /** Image file names, for a folder input (JSONL names them). */
  files?: string[];
  /** What was submitted (the input path as given), for status. */
  source: string;
  createdAt: number;
  /** Unix seconds when every key of the batch expires. */
  expiresAt: number;
}

/** The data of one shard's BullMQ job: everything a worker needs, no file paths. */
export interface ShardJob {
  protocol: number;
  batch: string;
  shard: number;
  shards: number;
  /** First image of the shard in the batch, and how many. */
  start: number;
  count: number;
  model: string;
  shape: [number, number, number];
  classes: number;
  /** Length and sha256 of the stored input (count * C*H*W float32). */
  bytes: number;
  sha256: string;
  expiresAt: number;
}

/** Images of shard i. */
export function shardCount(meta: Pick<BatchMeta, 'count' | 'shardSize'>, i: number): number {
  return Math.min(meta.shardSize, meta.count - i * meta.shardSize);
}

const isInt = (v: unknown, min = 0): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= min;
const isShape = (v: unknown): v is [number, number, number] => Array.isArray(v) && v.length === 3 && v.every((d) => isInt(d, 1));

/** A stored batch description, checked (it came from Redis, which anyone on the network may write). */
export function parseBatchMeta(text: string, id: string): BatchMeta {
  let m: BatchMeta;
  try {
    m = JSON.parse(text) as BatchMeta;
  } catch {
    throw new BitweaveError(`job ${id}: its description in Redis is not JSON`);
  }
  const ok = m && typeof m === 'object' && m.protocol === PROTOCOL && m.id === id && typeof m.queue === 'string' && /^[0-9a-f]{64}$/.test(m.model) &&
    isInt(m.count, 1) && isShape(m.shape) && isInt(m.classes, 1) && m.count * m.classes <= 2 ** 31 && isInt(m.shardSize, 1) && m.shards === Math.ceil(m.count / m.shardSize) &&
    (m.labels === undefined || (Array.isArray(m.labels) && m.labels.length === m.classes && m.labels.every((l) => typeof l === 'string'))) &&
    (m.files === undefined || (Array.isArray(m.files) && m.files.length === m.count && m.files.every((f) => typeof f === 'string'))) && isInt(m.expiresAt);
  if (!ok) throw new BitweaveError(`job ${id}: its description in Redis is damaged or from another bitweave version (protocol ${String((m as { protocol?: unknown })?.protocol)})`);
  return m;
}

/** A shard job's data, checked; a message naming what is wrong otherwise. */
export function checkShardJob(d: unknown): ShardJob | string {
  const j = d as ShardJob;
  if (!j || typeof j !== 'object') return 'the job has no data';
  if (j.protocol !== PROTOCOL) return `the job is of protocol ${String(j.protocol)}; this worker speaks ${PROTOCOL}`;
  const per = isShape(j.shape) ? j.shape[0] * j.shape[1] * j.shape[2] : 0;
  const ok = typeof j.batch === 'string' && /^[0-9a-f]{16}$/.test(j.batch) && isInt(j.shard) && isInt(j.shards, 1) && j.shard < j.shards && isInt(j.start) &&
    isInt(j.count, 1) && typeof j.model === 'string' && /^[0-9a-f]{64}$/.test(j.model) && per > 0 && isInt(j.classes, 1) &&
    j.bytes === j.count * per * 4 && typeof j.sha256 === 'string' && /^[0-9a-f]{64}$/.test(j.sha256) && isInt(j.expiresAt);
  return ok ? j : 'the job data is malformed';
}
