/**
 * `bitweave batch` and `bitweave worker` end to end: a real redis-server (AOF on) on a free
 * loopback port, real worker processes, Fashion-MNIST test images. The ordered output must
 * be byte-identical to one `bitweave run` of the same inputs, whatever happens to the
 * workers or to Redis on the way.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Redis from 'ioredis';
import { Queue } from 'bullmq';
import * as jpeg from 'jpeg-js';
import { loadDataset, loadInputFile } from '../../host/data/datasets';
import { encodePng } from '../../host/data/image';
import { encodeNpy, parseNpy } from '../../host/data/npy';
import { packagePath } from '../../host/core/paths';
import { topK } from '../../host/runtime/classify';
import { Session } from '../../host/runtime/session';
import { inputKey, QUEUE_PREFIX } from '../../host/jobs/keys';
import { assertSuccess, assertUserError, bitweave, Run, scratchDir } from '../helpers/run';
import { BitweaveChild, bitweaveAsync, stopAll } from '../helpers/children';
import { freePort, RedisServer } from '../helpers/redis-server';

const CNN = packagePath('models', 'fashion-cnn.bnn');
const N = 2000;
const CLASSES = 10;
/** Short locks so a killed worker's shard is back in the queue within ~3 s. */
const STALL = ['--lock-duration', '2.5', '--stalled-interval', '0.5'];

describe('batch inference over Redis (bitweave batch, bitweave worker)', function () {
  this.timeout(60_000);
  let dir: string;
  let redis: RedisServer;
  let xs: string; // N images, uint8 .npy
  let ref: Buffer; // `bitweave run --output` of them
  let refLogits: Float32Array;

  /** The first n images, and their rows of the reference output, as files. */
  const firstImages = (n: number): { input: string; ref: Buffer } => {
    const a = parseNpy(fs.readFileSync(xs));
    const input = path.join(dir, `x${n}.npy`);
    fs.writeFileSync(input, encodeNpy({ dtype: 'uint8', shape: [n, 28, 28], data: (a.data as Uint8Array).subarray(0, n * 784) }));
    return { input, ref: encodeNpy({ dtype: 'float32', shape: [n, CLASSES], data: refLogits.subarray(0, n * CLASSES) }) };
  };
  const worker = (queue: string, ...extra: string[]) => new BitweaveChild(['worker', '--redis', redis.url, '--queue', queue, '--json', ...STALL, ...extra]);
  const ready = (w: BitweaveChild) => w.waitFor((e) => e.event === 'ready', 'worker ready');
  const jobOf = (r: Run): string => {
    assertSuccess(r);
    const id = r.stdout.trim().split('\n')[0];
    assert.match(id, /^[0-9a-f]{16}$/);
    return id;
  };
  const status = async (id: string) => {
    const r = await bitweaveAsync(['batch', 'status', id, '--redis', redis.url, '--json']);
    assertSuccess(r);
    return JSON.parse(r.stdout) as { shardsDone: number; failed: number; stalled: number; shardList: { shard: number; state: string; stalled: number; worker?: string; error?: string }[] };
  };
  /** A BullMQ handle on a queue, for what only the test does (pausing it). */
  const withQueue = async (name: string, fn: (q: Queue, conn: Redis) => Promise<void>) => {
    const conn = new Redis(redis.url, { maxRetriesPerRequest: null });
    const q = new Queue(name, { connection: conn, prefix: QUEUE_PREFIX });
    try {
      await fn(q, conn);
    } finally {
      await q.close();
      conn.disconnect();
    }
  };

  before(async () => {
    dir = scratchDir('jobs', true);
    redis = await RedisServer.start(dir);
    const ds = loadDataset('fashion-mnist', { limit: N });
    const u8 = Uint8Array.from(ds.images, (v) => Math.round(v * 255));
    xs = path.join(dir, 'x.npy');
    fs.writeFileSync(xs, encodeNpy({ dtype: 'uint8', shape: [N, 28, 28], data: u8 }));
    const refFile = path.join(dir, 'ref.npy');
    assertSuccess(bitweave(['run', CNN, '--input', xs, '--output', refFile, '--backend', 'native', '--threads', '1', '--json']));
    ref = fs.readFileSync(refFile);
    refLogits = parseNpy(ref).data as Float32Array;
  });

  after(async () => {
    await stopAll();
    await redis?.stop();
  });

  describe('three workers on one queue', () => {
    let job: string;

    before(async () => {
      const ws = [1, 2, 3].map(() => worker('main', '--backend', 'native', '--threads', '1'));
      await Promise.all(ws.map(ready));
    });

    it('writes logits byte-identical to one `bitweave run`', async () => {
      const out = path.join(dir, 'out.npy');
      const r = await bitweaveAsync(['batch', 'submit', CNN, xs, '--redis', redis.url, '--queue', 'main', '--shard-size', '250', '--wait', '-o', out, '--json']);
      assertSuccess(r);
      const info = JSON.parse(r.stdout) as { job: string; shards: number; images: number; output: string };
      assert.equal(info.shards, 8);
      assert.equal(info.images, N);
      job = info.job;
      assert.ok(fs.readFileSync(out).equals(ref), 'batch logits differ from `bitweave run`');
      const s = await status(job);
      assert.equal(s.shardsDone, 8);
      assert.ok(s.shardList.every((sh) => sh.state === 'done'));
    });

    it('collect writes JSONL top-k in input order, and the logits again, identical', async () => {
      const jsonl = path.join(dir, 'top.jsonl');
      const again = path.join(dir, 'again.npy');
      const r = await bitweaveAsync(['batch', 'collect', job, '--redis', redis.url, '--jsonl', jsonl, '--top', '3', '-o', again]);
      assertSuccess(r);
      assert.ok(fs.readFileSync(again).equals(ref));
      const lines = fs.readFileSync(jsonl, 'utf8').trimEnd().split('\n');
      assert.equal(lines.length, N);
      lines.forEach((l, i) => assert.deepEqual(JSON.parse(l), { image: i, top: topK(refLogits, i, CLASSES, 3) }, `line ${i}`));
    });

    it('takes a folder of pictures in name order, each preprocessed as `run` does', async () => {
      const folder = path.join(dir, 'pictures');
      fs.mkdirSync(folder);
      const ds = loadDataset('fashion-mnist', { limit: 7 });
      const grey = (i: number) => Uint8Array.from(ds.images.subarray(i * 784, (i + 1) * 784), (v) => Math.round(v * 255));
      // names out of creation order; a 56x56 picture (resized) and an RGB JPEG (converted); a text file (ignored)
      const names = ['b.png', 'a.png', 'c10.png', 'c2.png', 'big.png', 'photo.jpg'];
      names.forEach((n, i) => {
        const g = grey(i);
        let bytes: Buffer;
        if (n === 'big.png') {
          const big = new Uint8Array(56 * 56);
          for (let y = 0; y < 56; y++) for (let x = 0; x < 56; x++) big[y * 56 + x] = g[(y >> 1) * 28 + (x >> 1)];
          bytes = encodePng({ width: 56, height: 56, channels: 1, data: big });
        } else if (n === 'photo.jpg') {
          const rgba = new Uint8Array(28 * 28 * 4);
          for (let p = 0; p < 784; p++) rgba.set([g[p], g[p], g[p], 255], p * 4);
          bytes = jpeg.encode({ width: 28, height: 28, data: rgba }, 95).data;
        } else {
          bytes = encodePng({ width: 28, height: 28, channels: 1, data: g });
        }
        fs.writeFileSync(path.join(folder, n), bytes);
      });
      fs.writeFileSync(path.join(folder, 'notes.txt'), 'not a picture');
      const sorted = [...names].sort();

      const out = path.join(dir, 'pictures.npy');
      const jsonl = path.join(dir, 'pictures.jsonl');
      const r = await bitweaveAsync(['batch', 'submit', CNN, folder, '--redis', redis.url, '--queue', 'main', '--shard-size', '4', '--wait', '-o', out, '--jsonl', jsonl, '--top', '2']);
      assertSuccess(r);

      // what `run` computes for each picture: the same reader, one session
      const session = await Session.create(CNN, { backend: 'native', threads: 1 });
      try {
        const images = sorted.map((n) => loadInputFile(path.join(folder, n), { channels: 1, height: 28, width: 28 }, { preprocess: session.model.preprocess }).images);
        const all = new Float32Array(images.length * 784);
        images.forEach((im, i) => all.set(im, i * 784));
        const want = await session.run(all);
        assert.ok(fs.readFileSync(out).equals(encodeNpy({ dtype: 'float32', shape: [sorted.length, CLASSES], data: want.logits })));
        const lines = fs.readFileSync(jsonl, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { image: number; file: string });
        assert.deepEqual(lines.map((l) => l.file), sorted);
        lines.forEach((l, i) => assert.deepEqual(l, { image: i, file: sorted[i], top: topK(want.logits, i, CLASSES, 2) }));
      } finally {
        await session.close();
      }
    });

    it('a corrupt shard fails its job; collect names the shard and exits 1', async () => {
      let id = '';
      await withQueue('main', async (q, conn) => {
        await q.pause(); // the shards wait until the damage is done
        id = jobOf(await bitweaveAsync(['batch', 'submit', CNN, xs, '--redis', redis.url, '--queue', 'main', '--shard-size', '500']));
        await conn.setrange(inputKey(id, 2), 1000, 'not what was stored');
        await q.resume();
      });
      const r = await bitweaveAsync(['batch', 'collect', id, '--redis', redis.url, '-o', path.join(dir, 'never.npy')]);
      assertUserError(r, /shard 2 \(images 1000\.\.1499\) failed: corrupt input: .*SHA-256/);
      assert.ok(!fs.existsSync(path.join(dir, 'never.npy')));
      const s = await status(id);
      assert.equal(s.failed, 1);
      assert.equal(s.shardList[2].state, 'failed');
    });
  });

  it('a worker SIGKILLed mid-shard loses nothing: its shard is rerun elsewhere, output identical', async () => {
    const { input, ref: want } = firstImages(200);
    // the victim runs alone at first (the slow reference backend) so it surely holds a shard
    const victim = worker('kill', '--backend', 'reference', '--batch', '8');
    await ready(victim);
    const id = jobOf(await bitweaveAsync(['batch', 'submit', CNN, input, '--redis', redis.url, '--queue', 'kill', '--shard-size', '25']));
    const started = await victim.waitFor((e) => e.event === 'start' && e.job === id, 'victim starts a shard');
    const others = [worker('kill', '--backend', 'native', '--threads', '1'), worker('kill', '--backend', 'native', '--threads', '1')];
    await victim.kill('SIGKILL');
    assert.ok(!victim.events.some((e) => e.event === 'done' && e.job === id), 'the victim finished a shard before it was killed');
    await Promise.all(others.map(ready));

    const out = path.join(dir, 'killed.npy');
    assertSuccess(await bitweaveAsync(['batch', 'collect', id, '--redis', redis.url, '-o', out]));
    assert.ok(fs.readFileSync(out).equals(want), 'output differs after a worker was killed');
    const s = await status(id);
    const shard = s.shardList[started.shard as number];
    assert.equal(shard.state, 'done');
    assert.ok(shard.stalled >= 1, `shard ${shard.shard} was not recovered from a stall: ${JSON.stringify(shard)}`);
    assert.notEqual(shard.worker, victim.events[0].worker);
  });

  it('Redis killed and restarted mid-job: the worker and collect reconnect, nothing is lost', async () => {
    const { input, ref: want } = firstImages(100);
    const w = worker('restart', '--backend', 'reference', '--batch', '8');
    await ready(w);
    const id = jobOf(await bitweaveAsync(['batch', 'submit', CNN, input, '--redis', redis.url, '--queue', 'restart', '--shard-size', '25']));
    const out = path.join(dir, 'restart.npy');
    const collect = bitweaveAsync(['batch', 'collect', id, '--redis', redis.url, '-o', out]);
    await w.waitFor((e) => e.event === 'start' && e.job === id, 'worker starts a shard');
    await redis.kill('SIGKILL'); // mid-shard: its result has nowhere to go yet
    await new Promise((r) => setTimeout(r, 500));
    await redis.launch();
    const r = await collect;
    assertSuccess(r);
    assert.ok(fs.readFileSync(out).equals(want), 'output differs after a Redis restart');
    assert.equal(new Set(w.events.filter((e) => e.event === 'done' && e.job === id).map((e) => e.shard)).size, 4);
    assert.ok(w.events.some((e) => e.event === 'note' && /lost the connection/.test(String(e.message))), 'the worker never saw Redis go');
  });

  it('collect --timeout gives up with one line; delete removes the batch', async () => {
    const { input } = firstImages(100);
    const id = jobOf(await bitweaveAsync(['batch', 'submit', CNN, input, '--redis', redis.url, '--queue', 'nobody', '--shard-size', '40']));
    const t0 = Date.now();
    assertUserError(await bitweaveAsync(['batch', 'collect', id, '--redis', redis.url, '--timeout', '1']), /timed out after 1 s with 0 of 3 shards done \(are workers running on queue 'nobody'\?/);
    assert.ok(Date.now() - t0 < 5000);
    const s = await status(id);
    assert.deepEqual(s.shardList.map((sh) => sh.state), ['waiting', 'waiting', 'waiting']);
    assertSuccess(await bitweaveAsync(['batch', 'delete', id, '--redis', redis.url]));
    assertUserError(await bitweaveAsync(['batch', 'status', id, '--redis', redis.url]), /unknown job id/);
    const conn = new Redis(redis.url);
    try {
      assert.deepEqual(await conn.keys(`bitweave:batch:${id}*`), []);
      assert.deepEqual(await conn.keys(`${QUEUE_PREFIX}:nobody:${id}-*`), []);
    } finally {
      conn.disconnect();
    }
  });

  it('bad input: one line, exit 1, in bounded time', async () => {
    const bad = path.join(dir, 'bad-shape.npy');
    fs.writeFileSync(bad, encodeNpy({ dtype: 'uint8', shape: [3, 27, 27], data: new Uint8Array(3 * 27 * 27) }));
    const closed = `redis://127.0.0.1:${await freePort()}`;
    const r = redis.url;
    const cases: [string[], RegExp][] = [
      [['batch', 'submit', CNN, xs, '--redis', 'http://127.0.0.1:6379'], /--redis must be a URL like redis:\/\/host:6379.*scheme is 'http'/],
      [['batch', 'collect', '0123456789abcdef', '--redis', 'not a url'], /--redis must be a URL/],
      [['worker', '--redis', 'redis://h:1/x/y'], /--redis must be a URL.*database number/],
      [['batch', 'collect', '0123456789abcdef', '--redis', closed, '--connect-timeout', '1'], /cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED.*gave up after 1\.0 s/],
      [['worker', '--redis', closed, '--connect-timeout', '1'], /cannot reach Redis/],
      [['batch', 'collect', '0123456789abcdef', '--redis', r], /unknown job id '0123456789abcdef': no such batch/],
      [['batch', 'status', 'xyz', '--redis', r], /unknown job id 'xyz'/],
      [['batch', 'submit', CNN, bad, '--redis', r], /expected input shape/],
      [['batch', 'submit', CNN, xs, '--redis', r, '--shard-size', '0'], /--shard-size must be an integer in 1\.\.10000000, got '0'/],
      [['batch', 'submit', CNN, xs, '--redis', r, '--shard-size', 'many'], /--shard-size must be an integer/],
      [['batch', 'submit', CNN, xs, '--redis', r, '--shard-size', '1000000'], /more than the 512\.0 MiB Redis holds in one value; use --shard-size 171196 or less/],
      [['batch', 'submit', CNN, xs, '--redis', r, '-o', path.join(dir, 'o.npy')], /take effect with --wait/],
      [['batch', 'submit', CNN, dir, '--redis', r], /holds no \.png or \.jpg files/],
      [['worker', '--redis', r, '--mean', '0.5'], /--mean does not apply to a worker/],
      [['batch', '--redis', r], /give a batch command/],
    ];
    const t0 = Date.now();
    const runs = await Promise.all(cases.map(([args]) => bitweaveAsync(args, 20_000)));
    runs.forEach((run, i) => assertUserError(run, cases[i][1], cases[i][0].join(' ')));
    assert.ok(Date.now() - t0 < 15_000, `took ${Date.now() - t0} ms`);
  });
});
