/**
 * `bitweave bench serve`: images/s through `bitweave serve` (a child process, so the load
 * generator does not share its event loop) with many concurrent clients each sending one
 * image per request, beside `eval`'s images/s for the same model, backend and threads,
 * measured in the same run. Latency percentiles per mode (JSON FP32, binary UINT8).
 */
import { spawn, ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { BitweaveError } from '../core/errors';
import { packagePath } from '../core/paths';
import { CompiledModel } from '../compile/model';
import { effectivePreprocess, normalizeBytes } from '../data/preprocess';
import { rng } from '../zoo/random';
import { Session } from '../runtime/session';
import { servedName } from '../serve/server';
import { machine, Machine } from './gemm';
import { median, quantile } from './stats';

export type ServeMode = 'json' | 'binary';

export interface BenchServeOptions {
  /** The model as the server loads it (file or zoo name). */
  spec: string;
  backend: string;
  threads?: number;
  workers?: number;
  clients: number;
  seconds: number;
  runs: number;
  maxBatch: number;
  maxDelayMs: number;
  modes: ServeMode[];
}

export interface ServeRun {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  meanBatch: number;
  /** CPU time of the whole server process (HTTP, batching, inference) per image, µs (Linux /proc). */
  serverCpuUsPerImage?: number;
}

export interface BenchServeResult {
  model: string;
  backend: string;
  machine: Machine;
  clients: number;
  maxBatch: number;
  maxDelayMs: number;
  /** eval's rate, and its CPU time per image (this process, every thread), µs. */
  eval: { batch: number; runs: number[]; imagesPerSecond: number; cpuUsPerImage: number };
  /**
   * Per mode: the median rate and its ratio to eval's. `cpuRatio` = eval's CPU per image over
   * the server's: what the server's own work (HTTP, batching, threads) costs per image,
   * apart from the load generator, which shares this machine's cores.
   */
  serve: { mode: ServeMode; runs: ServeRun[]; imagesPerSecond: number; p50Ms: number; p99Ms: number; meanBatch: number; ratioToEval: number; serverCpuUsPerImage?: number; cpuRatio?: number }[];
  /** The server's logits for a sample of images equal the Session's, bit for bit. */
  identical: boolean;
}

interface Request { body: Buffer; headers: Record<string, string | number> }

function requestFor(mode: ServeMode, pixels: Uint8Array, values: Float32Array, shape: number[]): Request {
  if (mode === 'binary') {
    const head = Buffer.from(JSON.stringify({ inputs: [{ name: 'input', shape, datatype: 'UINT8', parameters: { binary_data_size: pixels.length } }], parameters: { binary_data_output: true } }));
    return { body: Buffer.concat([head, pixels]), headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': head.length } };
  }
  return { body: Buffer.from(JSON.stringify({ inputs: [{ name: 'input', shape, datatype: 'FP32', data: Array.from(values) }] })), headers: { 'content-type': 'application/json' } };
}

/** The response body, and the JSON header's length when the body carries binary outputs. */
function post(agent: http.Agent, url: URL, r: Request): Promise<{ body: Buffer; headerLength?: number }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { ...r.headers, 'content-length': r.body.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      const h = res.headers['inference-header-content-length'];
      res.on('end', () => (res.statusCode === 200 ? resolve({ body: Buffer.concat(chunks), headerLength: h === undefined ? undefined : Number(h) }) : reject(new BitweaveError(`server answered ${res.statusCode}: ${Buffer.concat(chunks).toString().slice(0, 200)}`))));
    });
    req.on('error', reject);
    req.end(r.body);
  });
}

/** Logits from a response of either mode. */
function logitsOf({ body, headerLength }: { body: Buffer; headerLength?: number }): Float32Array {
  if (headerLength === undefined) return Float32Array.from((JSON.parse(body.toString()) as { outputs: { data: number[] }[] }).outputs[0].data);
  const bin = body.subarray(headerLength);
  return new Float32Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.length));
}

async function startServer(o: BenchServeOptions): Promise<{ child: ChildProcess; url: string }> {
  const args = [packagePath('bin', 'bitweave.js'), 'serve', o.spec, '--port', '0', '--backend', o.backend, '--max-batch', String(o.maxBatch), '--max-delay-ms', String(o.maxDelayMs)];
  if (o.threads !== undefined) args.push('--threads', String(o.threads));
  if (o.workers !== undefined) args.push('--workers', String(o.workers));
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (c) => (err += c));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (c) => {
      out += c;
      const m = / at (http:\/\/[^\s]+)\/v2 /.exec(out);
      if (m) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new BitweaveError(`bitweave serve exited (${code}) before listening: ${err.trim().split('\n').pop() ?? ''}`)));
  });
  return { child, url };
}

/** User + system CPU seconds of a process, every thread (Linux /proc; undefined elsewhere). */
function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the fields after the command name (which may hold spaces) start at state (field 3)
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in USER_HZ (100 on Linux)
  } catch {
    return undefined;
  }
}

async function scrapeBatches(url: string): Promise<{ sum: number; count: number }> {
  const text = await new Promise<string>((resolve, reject) => {
    http.get(`${url}/metrics`, (res) => {
      let s = '';
      res.on('data', (c) => (s += c));
      res.on('end', () => resolve(s));
    }).on('error', reject);
  });
  const num = (name: string) => Number(new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  return { sum: num('bitweave_batch_images_sum'), count: num('bitweave_batch_images_count') };
}

/** `clients` loops, each posting one request after the other for `seconds`; per-request latencies. */
async function load(url: URL, requests: Request[], clients: number, seconds: number): Promise<number[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  const lat: number[] = [];
  const end = performance.now() + seconds * 1000;
  await Promise.all(Array.from({ length: clients }, async (_, c) => {
    for (let i = c; performance.now() < end; i += clients) {
      const t0 = performance.now();
      await post(agent, url, requests[i % requests.length]);
      lat.push(performance.now() - t0);
    }
  }));
  agent.destroy();
  return lat;
}

export async function benchServe(model: CompiledModel, o: BenchServeOptions): Promise<BenchServeResult> {
  const t = model.tensors[model.input];
  const chw = [t.c, t.h, t.w];
  const per = t.c * t.h * t.w;
  const images = 1024;
  const r = rng(7);
  const pixels = new Uint8Array(images * per);
  for (let i = 0; i < pixels.length; i++) pixels[i] = Math.floor(r() * 256);
  // the values a UINT8 request turns into, so both modes infer the same images
  const values = normalizeBytes(pixels, images, chw, effectivePreprocess(model.preprocess, t.c));

  // eval's rate: the same images through a Session on the same backend, batch = max-batch
  const session = await Session.create(model, { backend: o.backend, threads: o.threads, batch: o.maxBatch });
  const evalRuns: number[] = [];
  let reference: Float32Array;
  let evalImages = 0;
  const cpu0 = process.cpuUsage();
  try {
    reference = (await session.run(values)).logits;
    for (let k = 0; k < o.runs; k++) {
      const t0 = performance.now();
      let n = 0;
      while (performance.now() - t0 < o.seconds * 1000) {
        await session.run(values);
        n += images;
      }
      evalRuns.push(n / ((performance.now() - t0) / 1000));
      evalImages += n;
    }
  } finally {
    await session.close();
  }
  const cpu = process.cpuUsage(cpu0);
  const evalCpu = (cpu.user + cpu.system) / (evalImages + images);
  const classes = reference.length / images;
  const evalRate = median(evalRuns);

  const { child, url } = await startServer(o);
  const serve: BenchServeResult['serve'] = [];
  let identical = true;
  try {
    const infer = new URL(`${url}/v2/models/${encodeURIComponent(servedName(o.spec))}/infer`);
    const agent = new http.Agent({ keepAlive: true });
    for (const mode of o.modes) {
      const reqs = Array.from({ length: images }, (_, i) => requestFor(mode, pixels.subarray(i * per, (i + 1) * per), values.subarray(i * per, (i + 1) * per), [1, ...chw]));
      // bit-exact check on a sample, one request each
      for (let i = 0; i < 16; i++) {
        const got = logitsOf(await post(agent, infer, reqs[i]));
        for (let k = 0; k < classes; k++) if (!Object.is(got[k], reference[i * classes + k])) identical = false;
      }
      await load(infer, reqs, o.clients, Math.min(1, o.seconds)); // warm-up
      const runs: ServeRun[] = [];
      for (let k = 0; k < o.runs; k++) {
        const before = await scrapeBatches(url);
        const cpuBefore = processCpuSeconds(child.pid!);
        const lat = await load(infer, reqs, o.clients, o.seconds);
        const cpuAfter = processCpuSeconds(child.pid!);
        const after = await scrapeBatches(url);
        const imagesRun = after.sum - before.sum;
        runs.push({
          requestsPerSecond: lat.length / o.seconds, p50Ms: quantile(lat, 0.5), p99Ms: quantile(lat, 0.99), meanBatch: imagesRun / Math.max(1, after.count - before.count),
          ...(cpuBefore !== undefined && cpuAfter !== undefined && imagesRun > 0 ? { serverCpuUsPerImage: ((cpuAfter - cpuBefore) * 1e6) / imagesRun } : {}),
        });
      }
      const rate = median(runs.map((x) => x.requestsPerSecond));
      const cpus = runs.map((x) => x.serverCpuUsPerImage).filter((x): x is number => x !== undefined);
      const serverCpu = cpus.length === runs.length ? median(cpus) : undefined;
      serve.push({
        mode, runs, imagesPerSecond: rate, p50Ms: median(runs.map((x) => x.p50Ms)), p99Ms: median(runs.map((x) => x.p99Ms)), meanBatch: median(runs.map((x) => x.meanBatch)), ratioToEval: rate / evalRate,
        ...(serverCpu !== undefined ? { serverCpuUsPerImage: serverCpu, cpuRatio: evalCpu / serverCpu } : {}),
      });
    }
    agent.destroy();
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
  return { model: model.name, backend: o.backend, machine: machine(), clients: o.clients, maxBatch: o.maxBatch, maxDelayMs: o.maxDelayMs, eval: { batch: o.maxBatch, runs: evalRuns, imagesPerSecond: evalRate, cpuUsPerImage: evalCpu }, serve, identical };
}
