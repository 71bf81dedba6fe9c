/**
 * Distributed batch inference over Redis (docs/BATCH.md):
 *
 *   bitweave batch submit <model> <inputs> --redis URL [--shard-size N] [--wait] [-o logits.npy] [--jsonl top.jsonl]
 *   bitweave batch collect <job-id> --redis URL [-o logits.npy] [--jsonl top.jsonl] [--top K]
 *   bitweave batch status <job-id> --redis URL | bitweave batch delete <job-id> --redis URL
 *   bitweave worker --redis URL [--backend …] [--threads N] [--batch N] [--concurrency N]
 *
 * bullmq and ioredis are loaded only when one of these runs (they cost every other
 * command a third of a second at start). Registered by commands.ts.
 */
import * as path from 'node:path';
import { Argv, CommandModule } from 'yargs';
import { BitweaveError } from '../core/errors';
import { checkOutputFile, writeFileAtomic } from '../core/files';
import { oneLineMessage } from '../core/text';
import { writeNpy } from '../data/npy';
import { loadModel, modelInputFiles } from '../runtime/load';
import type { BatchMeta } from '../jobs/keys';
import type { RedisClient } from '../jobs/redis';
import type { WorkerEvent } from '../jobs/worker';
import { progress } from './progress';
import { runOptions, sessionOptions } from './run-options';
import { intOption, modelLoadOptions, modelOptions, numberOption, stringOption } from './options';

/** The jobs modules, loaded on first use (they load bullmq and ioredis). */
const jobs = {
  keys: () => require('../jobs/keys') as typeof import('../jobs/keys'),
  redis: () => require('../jobs/redis') as typeof import('../jobs/redis'),
  inputs: () => require('../jobs/inputs') as typeof import('../jobs/inputs'),
  submit: () => require('../jobs/submit') as typeof import('../jobs/submit'),
  collect: () => require('../jobs/collect') as typeof import('../jobs/collect'),
  worker: () => require('../jobs/worker') as typeof import('../jobs/worker'),
};

const note = (line: string): void => {
  process.stderr.write(`bitweave: note: ${oneLineMessage(line)}\n`);
};

// ---- shared options -------------------------------------------------------------------

interface RedisArgs { redis: string; 'connect-timeout': number }

const redisOptions = <T>(y: Argv<T>): Argv<T> =>
  y
    .option(...stringOption('redis', 'Redis URL: redis://[user:password@]host[:port][/db], or rediss:// for TLS', { demandOption: true }))
    .option(...numberOption('connect-timeout', 'give up reaching Redis at the start after this many seconds (later outages are waited out)', { min: 0, max: 3600, minExclusive: true }, { default: 10 })) as Argv<T>;

interface OutputArgs { output?: string; jsonl?: string; top: number; timeout?: number; json: boolean }

const outputOptions = <T>(y: Argv<T>): Argv<T> =>
  y
    .option(...stringOption('output', 'write all logits, in input order, to this .npy file (float32 [N, classes])', { alias: 'o' }))
    .option(...stringOption('jsonl', 'write the top classes of every image to this JSON-lines file (default without -o: to stdout)'))
    .option(...intOption('top', 'classes per image in the JSON lines', 1, 1_000_000, { default: 3 }))
    .option(...numberOption('timeout', 'give up waiting after this many seconds (default: wait for as long as it takes)', { min: 0, max: 365 * 86400, minExclusive: true }))
    .option('json', { type: 'boolean', default: false, describe: 'machine-readable output' }) as Argv<T>;

/** The output paths, checked before any work (and not the same file twice). */
function checkOutputs(a: OutputArgs, inputs: (string | undefined)[] = []): void {
  if (a.output) checkOutputFile(a.output, { inputs });
  if (a.jsonl) checkOutputFile(a.jsonl, { inputs: [...inputs, a.output] });
  if (a.output && a.jsonl && path.resolve(a.output) === path.resolve(a.jsonl)) throw new BitweaveError('-o and --jsonl name the same file; give two paths');
}

/** Connect, run `fn`, always disconnect; Redis' own errors become one line. */
async function withRedis<T>(a: RedisArgs, fn: (redis: RedisClient, where: string) => Promise<T>, onNote = note): Promise<T> {
  const { connectRedis, disconnectRedis, parseRedisUrl, redactUrl, redisError } = jobs.redis();
  parseRedisUrl(a.redis);
  let redis: RedisClient | undefined;
  try {
    redis = await connectRedis(a.redis, { timeoutMs: a['connect-timeout'] * 1000, onNote });
    return await fn(redis!, redactUrl(a.redis));
  } catch (e) {
    throw redisError(e, a.redis);
  } finally {
    disconnectRedis(redis);
  }
}

/** Wait for the batch (progress bar on a terminal), write the outputs, say what was written. */
async function collectAndWrite(redis: RedisClient, meta: BatchMeta, a: OutputArgs, extra: Record<string, unknown> = {}): Promise<void> {
  const { collectBatch, jsonlChunks } = jobs.collect();
  const t0 = Date.now();
  const bar = a.json ? progress(0, '') : progress(meta.count, `job ${meta.id}`);
  let logits: Float32Array;
  try {
    logits = await collectBatch(redis, meta, { onProgress: (n: number) => bar.update(n), timeoutMs: a.timeout === undefined ? undefined : a.timeout * 1000 });
  } finally {
    bar.stop();
  }
  if (a.output) writeNpy(a.output, { dtype: 'float32', shape: [meta.count, meta.classes], data: logits });
  if (a.jsonl) writeFileAtomic(a.jsonl, jsonlChunks(meta, logits, a.top));
  const seconds = (Date.now() - t0) / 1000;
  if (!a.output && !a.jsonl) {
    if (a.json) process.stdout.write(JSON.stringify({ ...extra, job: meta.id, images: meta.count, classes: meta.classes, shards: meta.shards, seconds }) + '\n');
    for (const c of jsonlChunks(meta, logits, a.top)) process.stdout.write(c);
    return;
  }
  const summary = { ...extra, job: meta.id, images: meta.count, classes: meta.classes, shards: meta.shards, ...(a.output ? { output: a.output } : {}), ...(a.jsonl ? { jsonl: a.jsonl } : {}), seconds };
  process.stdout.write(a.json ? JSON.stringify(summary) + '\n'
    : `job ${meta.id}: ${meta.count} images in ${meta.shards} shards; wrote ${[a.output ? `${a.output} (${meta.count}x${meta.classes} float32 logits)` : '', a.jsonl ? `${a.jsonl} (${meta.count} lines)` : ''].filter(Boolean).join(', ')}\n`);
}

// ---- batch submit ---------------------------------------------------------------------

interface SubmitArgs extends RedisArgs, OutputArgs {
  model: string;
  inputs: string;
  queue: string;
  'shard-size'?: number;
  ttl: number;
  wait: boolean;
  preprocess: boolean;
}

const submitCommand: CommandModule<object, SubmitArgs> = {
  command: 'submit <model> <inputs>',
  describe: 'split a data set into shards and queue them for `bitweave worker`s; prints the job id',
  builder: (y) =>
    outputOptions(redisOptions(modelOptions(y) as Argv))
      .positional('model', { type: 'string', demandOption: true, describe: '.bnn file, QONNX .onnx, BMXNet <prefix>-symbol.json, or a zoo name' })
      .positional('inputs', { type: 'string', demandOption: true, describe: 'a .npy or IDX file (as `run` reads it), one picture, or a folder of .png/.jpg pictures (sorted by name)' })
      .option(...stringOption('queue', 'queue name: workers take shards from the queue they were started on', { default: 'bitweave' }))
      .option(...intOption('shard-size', 'images per shard (default 1000, fewer for large inputs)', 1, 10_000_000))
      .option(...numberOption('ttl', 'hours the batch (inputs, results, jobs) stays in Redis', { min: 0, max: 24 * 366, minExclusive: true }, { default: 72 }))
      .option('wait', { type: 'boolean', default: false, describe: 'wait for the results and write them as `batch collect` does' })
      .option('preprocess', { type: 'boolean', default: false, describe: "also apply the model's preprocessing to .npy/IDX values, read as pixels in [0,1] (uint8: 0..255), as `run --preprocess`" }) as unknown as Argv<SubmitArgs>,
  handler: async (a) => {
    const { checkQueueName } = jobs.keys();
    const { parseRedisUrl } = jobs.redis();
    parseRedisUrl(a.redis);
    checkQueueName(a.queue);
    if (!a.wait && (a.output || a.jsonl || a.timeout !== undefined)) throw new BitweaveError('-o, --jsonl and --timeout take effect with --wait; or run `bitweave batch collect <job-id>` later');
    const inputs = [...modelInputFiles(a.model, a.params as string | undefined), a.inputs];
    if (a.wait) checkOutputs(a, inputs); // before any work
    const model = await loadModel(a.model, modelLoadOptions(a as unknown as Record<string, unknown>));
    const t = model.tensors[model.input];
    const { planShardSize, submitBatch } = jobs.submit();
    planShardSize(model, a['shard-size']); // a shard too large for Redis is said before reading the data
    const { loadBatchInputs } = jobs.inputs();
    const data = loadBatchInputs(a.inputs, { channels: t.c, height: t.h, width: t.w }, { preprocess: model.preprocess, preprocessRaw: a.preprocess });
    await withRedis(a, async (redis) => {
      const meta = await submitBatch(redis, {
        model, images: data.images, count: data.count, files: data.files, shardSize: a['shard-size'], queue: a.queue, ttlSeconds: a.ttl * 3600, source: a.inputs,
      });
      const info = { job: meta.id, queue: meta.queue, images: meta.count, shards: meta.shards, shardSize: meta.shardSize, model: meta.model };
      if (!a.wait) {
        process.stdout.write(a.json ? JSON.stringify(info) + '\n' : `${meta.id}\n`);
        if (!a.json) note(`queued ${meta.count} images in ${meta.shards} shards of ${meta.shardSize} on queue '${meta.queue}'; \`bitweave batch collect ${meta.id} --redis …\` waits for them`);
        return;
      }
      if (!a.json) process.stdout.write(`${meta.id}\n`);
      await collectAndWrite(redis, meta, a, a.json ? info : {});
    });
  },
};

// ---- batch collect / status / delete ---------------------------------------------------

interface JobArgs extends RedisArgs, OutputArgs { 'job-id': string }

const collectCommand: CommandModule<object, JobArgs> = {
  command: 'collect <job-id>',
  describe: 'wait for a submitted batch and write its results in input order',
  builder: (y) =>
    outputOptions(redisOptions(y))
      .positional('job-id', { type: 'string', demandOption: true, describe: 'what `batch submit` printed' }) as unknown as Argv<JobArgs>,
  handler: async (a) => {
    const { checkBatchId } = jobs.keys();
    checkBatchId(a['job-id']);
    checkOutputs(a);
    await withRedis(a, async (redis, where) => {
      const { readBatch } = jobs.collect();
      const meta = await readBatch(redis, a['job-id'], where);
      await collectAndWrite(redis, meta, a);
    });
  },
};

/** The options of the commands about one submitted batch (status, delete). */
const jobOptions = (y: Argv) =>
  redisOptions(y)
    .positional('job-id', { type: 'string', demandOption: true, describe: 'what `batch submit` printed' })
    .option('json', { type: 'boolean', default: false, describe: 'machine-readable output' }) as unknown as Argv<JobArgs>;

const statusCommand: CommandModule<object, JobArgs> = {
  command: 'status <job-id>',
  describe: 'where the shards of a batch are: done, waiting, running (on which worker), failed (why)',
  builder: jobOptions,
  handler: async (a) => {
    const { checkBatchId } = jobs.keys();
    checkBatchId(a['job-id']);
    await withRedis(a, async (redis, where) => {
      const { batchStatus, readBatch } = jobs.collect();
      const s = await batchStatus(redis, await readBatch(redis, a['job-id'], where));
      if (a.json) {
        process.stdout.write(JSON.stringify(s) + '\n');
        return;
      }
      const lines = [`job ${s.job} (model ${s.model}, queue '${s.queue}'): ${s.shardsDone}/${s.shards} shards done, ${s.imagesDone}/${s.images} images; ${s.failed} failed; ${s.stalled} restarts of shards whose worker died; keys expire ${s.expiresAt}`];
      for (const sh of s.shardList) {
        if (sh.state === 'done' && sh.stalled === 0) continue;
        lines.push(`  shard ${sh.shard}: ${sh.state}${sh.worker ? ` on ${sh.worker}` : ''}${sh.stalled ? `, restarted ${sh.stalled}x` : ''}${sh.error ? `: ${sh.error}` : ''}`);
      }
      process.stdout.write(lines.join('\n') + '\n');
    });
  },
};

const deleteCommand: CommandModule<object, JobArgs> = {
  command: 'delete <job-id>',
  describe: 'remove a batch from Redis now (inputs, results, queued shards) instead of at its expiry',
  builder: jobOptions,
  handler: async (a) => {
    const { checkBatchId } = jobs.keys();
    checkBatchId(a['job-id']);
    await withRedis(a, async (redis, where) => {
      const { deleteBatch, readBatch } = jobs.collect();
      const removed = await deleteBatch(redis, await readBatch(redis, a['job-id'], where));
      process.stdout.write(a.json ? JSON.stringify({ job: a['job-id'], deleted: true, jobsRemoved: removed }) + '\n' : `deleted job ${a['job-id']} (${removed} queued shard jobs removed)\n`);
    });
  },
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const batchCommand: CommandModule<any, any> = {
  command: 'batch',
  describe: 'batch inference across machines over Redis: submit, collect, status, delete (see docs/BATCH.md)',
  builder: (y) => y.command(submitCommand).command(collectCommand).command(statusCommand).command(deleteCommand).demandCommand(1, 'give a batch command: submit, collect, status or delete (see bitweave batch --help)'),
  handler: () => {},
};

// ---- worker ---------------------------------------------------------------------------

interface WorkerArgs extends RedisArgs {
  queue: string;
  concurrency: number;
  'lock-duration': number;
  'stalled-interval': number;
  'max-stalled': number;
  name?: string;
  backend: string;
  json: boolean;
}

/** Model options a worker does not take: each batch brings its compiled model. */
const MODEL_OPTIONS = ['params', 'input-shape', 'mean', 'std', 'scale', 'channel-order', 'resize', 'resize-policy', 'crop', 'labels'];

export const workerCommand: CommandModule<object, WorkerArgs> = {
  command: 'worker',
  describe: 'run batch shards from Redis on this machine until stopped (SIGTERM/Ctrl-C: finish the running shards)',
  builder: (y) =>
    MODEL_OPTIONS.reduce((w, k) => w.hide(k), redisOptions(runOptions(y) as Argv))
      .option(...stringOption('queue', 'take shards from this queue', { default: 'bitweave' }))
      .option(...intOption('concurrency', 'shards this process runs at once', 1, 256, { default: 1 }))
      .option(...numberOption('lock-duration', "seconds a running shard's lock lasts, renewed every half of it while the worker lives: a killed worker's shard goes back to the queue after it (one --batch must run in less than half of it)", { min: 0, max: 86400, minExclusive: true }, { default: 30 }))
      .option(...numberOption('stalled-interval', 'seconds between checks for shards whose worker died', { min: 0, max: 86400, minExclusive: true }, { default: 15 }))
      .option(...intOption('max-stalled', 'a shard whose worker died more often than this fails', 0, 1000, { default: 3 }))
      .option(...stringOption('name', 'worker name stored on the shards it runs (default host:pid)')) as unknown as Argv<WorkerArgs>,
  handler: async (a) => {
    const given = MODEL_OPTIONS.find((k) => (a as unknown as Record<string, unknown>)[k] !== undefined);
    if (given) throw new BitweaveError(`--${given} does not apply to a worker: each batch brings its compiled model, preprocessing and labels included`);
    const { checkQueueName } = jobs.keys();
    checkQueueName(a.queue);
    const { startWorker } = jobs.worker();
    let where = '';
    const log = (e: WorkerEvent | { event: 'stopping' | 'stopped' }): void => {
      if (e.event === 'ready') e = { ...e, redis: where, backend: a.backend } as WorkerEvent;
      if (a.json) {
        process.stdout.write(JSON.stringify(e) + '\n');
        return;
      }
      if (e.event === 'note') note(String(e.message));
      else if (e.event === 'done') process.stdout.write(`job ${e.job} shard ${e.shard} (of ${e.shards}): ${e.images} images ${e.skipped ? 'already done' : `in ${(e.seconds as number).toFixed(2)} s`}\n`);
      else if (e.event === 'failed') process.stdout.write(`job ${e.job} shard ${e.shard}: failed: ${e.error}\n`);
      else if (e.event === 'ready') process.stdout.write(`worker ${e.worker}: queue '${e.queue}' on ${where}, backend ${a.backend}; Ctrl-C stops it\n`);
      else if (e.event === 'stopping') process.stdout.write('stopping: finishing the running shards (Ctrl-C again: drop them)\n');
    };
    await withRedis(a, async (redis, url) => {
      where = url;
      const w = await startWorker(redis, {
        queue: a.queue, session: sessionOptions(a), concurrency: a.concurrency, lockDurationMs: a['lock-duration'] * 1000,
        stalledIntervalMs: a['stalled-interval'] * 1000, maxStalledCount: a['max-stalled'], name: a.name, onEvent: log,
      });
      await new Promise<void>((resolve) => {
        let stopping = false;
        const stop = (): void => {
          if (stopping) {
            // dropped shards lose nothing: their locks expire and other workers rerun them
            process.exit(130);
          }
          stopping = true;
          log({ event: 'stopping' });
          void w.close().then(resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      log({ event: 'stopped' });
    }, (message) => log({ event: 'note', message }));
  },
};
