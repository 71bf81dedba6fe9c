/**
 * End-to-end model benchmark: a bitweave backend vs onnxruntime (CPU execution provider)
 * running the exported float network (host/export/onnx.ts), same input, same thread
 * count, in one process; on a Larq .tflite also vs LCE's own interpreter (host/bench/lce.ts,
 * a helper process that stays up for the whole run).
 *
 * Per batch size the engines alternate BLOCKS blocks of consecutive timed calls, so both
 * see the same machine load over the run but neither is timed while the other's worker
 * threads still spin or its data fills the caches: each block starts after an idle gap and
 * untimed warm-up calls. Up to `runs` timed calls per engine (at least 3; fewer only when a
 * batch size exceeds its time budget). Latency is the median wall time of one call on the
 * whole batch; images/s = batch / latency.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import type * as Ort from 'onnxruntime-node';
import { BitweaveError } from '../core/errors';
import { CompiledModel, tensorLength } from '../compile/model';
import { exportOnnxModel } from '../export/onnx';
import { argmaxRow, softmaxRows } from '../runtime/classify';
import { Session } from '../runtime/session';
import { median } from './stats';
import { LCE_KERNELS, LceInterpreter, LceKernel, lcePython } from './lce';
import { benchPeak } from './gemm';
import { modelWork } from './work';

export interface BenchModelOptions {
  backend?: string;
  /** Threads for both engines (default: all cores). */
  threads?: number;
  /** Batch sizes (default [1, 64]). */
  batches?: number[];
  /** Timed calls per engine and batch size (default 5). */
  runs?: number;
  /** Seconds per batch size after which fewer runs (but at least 3) are taken (default 30). */
  budgetSeconds?: number;
  /** Also report the bitweave backend's per-op time (ms per call, slowest first). */
  layers?: boolean;
  /** The LCE .tflite file the model was imported from: also time LCE's interpreter on it. */
  tflite?: string;
  /** The Python that has larq-compute-engine (default: lcePython()). */
  lcePython?: { python: string; from: string };
}

export interface BenchModelRow {
  model: string;
  engine: 'bitweave' | 'onnxruntime' | 'lce';
  /** bitweave backend name, onnxruntime's execution provider, or LCE's binary-conv kernel. */
  backend: string;
  batch: number;
  threads: number;
  runs: number;
  /** Median wall time of one call on the batch (latency). */
  medianMs: number;
  minMs: number;
  imagesPerSecond: number;
  /** How the engine ran this batch when that is not one call on the whole batch. */
  note?: string;
}

export interface BenchModelRatio {
  model: string;
  batch: number;
  compare: string;
  /** bitweave images/s over the other engine's images/s (> 1: bitweave is faster). */
  speedup: number;
  /**
   * Largest |output difference| between the two engines on the benchmark batch: logits,
   * or against LCE the model's own outputs (softmax probabilities where it ends in one).
   */
  maxAbsDiff: number;
  /** Images whose top class agrees. */
  top1Agree: number;
}

export interface BenchModelLayer {
  model: string;
  batch: number;
  backend: string;
  op: number;
  layer: string;
  where: 'host' | 'device';
  /** The segment the op ran in, as the backend runs the model (Session.segments). */
  segment: number;
  /** Mean time of this op per call on the batch. */
  ms: number;
}

/**
 * Host and device time of one batch (with `layers`), and on the native backend the same set
 * against this machine's ceilings (`bench peak`, measured in the same run): the float
 * multiply-adds alone at the FMA ceiling, the binary MACs alone at the popcount ceiling.
 */
export interface BenchModelSplit {
  model: string;
  batch: number;
  backend: string;
  /** Sums of the per-op times (ms per call on the batch). */
  hostMs: number;
  deviceMs: number;
  hostShare: number;
  floatFmaPerImage: number;
  binaryMacsPerImage: number;
  ceilings?: {
    threads: number;
    isa: string;
    fmaPerSecond: number;
    binaryMacsPerSecond: number;
    /** The batch's float multiply-adds at the FMA ceiling: no host schedule is faster. */
    hostFloorMs: number;
    /** The batch's binary MACs at the popcount ceiling. */
    deviceFloorMs: number;
    /** hostFloorMs / (hostFloorMs + deviceFloorMs): the host share if both parts ran at their ceilings. */
    hostShareAtCeilings: number;
  };
}

export interface BenchModelResult {
  model: string;
  rows: BenchModelRow[];
  ratios: BenchModelRatio[];
  /** Per-op times of the bitweave backend (with `layers`). */
  layers: BenchModelLayer[];
  /** Per batch: host vs device time, and on native the ceilings (with `layers`). */
  splits: BenchModelSplit[];
  /** Why an engine was not timed (LCE not installed, …). */
  notes: string[];
  machine: { cpus: number; cpu: string; node: string; onnxruntime: string; lce?: string; python?: string };
}

/** onnxruntime-node is a development dependency: absent in production installs. */
export function loadOnnxRuntime(): typeof Ort {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('onnxruntime-node') as typeof Ort;
  } catch (e) {
    throw new BitweaveError(`onnxruntime-node is not available (a development dependency: install with 'npm ci'): ${(e as Error).message.split('\n')[0]}`);
  }
}

/** Deterministic inputs on a 2^-6 grid in [0, 1) (what the exported network computes exactly). */
export function benchInput(count: number, perImage: number, seed = 12345): Float32Array {
  let a = seed >>> 0;
  const x = new Float32Array(count * perImage);
  for (let i = 0; i < x.length; i++) {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    x[i] = (a >>> 26) / 64;
  }
  return x;
}

const BLOCKS = 3;
/** Long enough for onnxruntime's and OpenMP's idle workers to stop spinning. */
const IDLE_GAP_MS = 50;

/** Untimed calls before each block, for at least this long (at least one call). */
const WARM_UP_MS = 25;

/** Untimed calls that bring caches, clocks and sleeping worker threads back to steady state. */
async function warmUp(call: () => Promise<unknown>): Promise<void> {
  const t0 = performance.now();
  do await call();
  while (performance.now() - t0 < WARM_UP_MS);
}

function idle(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Largest |a - b| and how many rows (images) have the same arg-max. */
function agreement(a: ArrayLike<number>, b: ArrayLike<number>, batch: number, classes: number): { maxAbsDiff: number; top1Agree: number } {
  let maxAbsDiff = 0;
  let top1Agree = 0;
  for (let i = 0; i < batch; i++) {
    for (let j = i * classes; j < (i + 1) * classes; j++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(a[j] - b[j]));
    if (argmaxRow(a, i, classes) === argmaxRow(b, i, classes)) top1Agree++;
  }
  return { maxAbsDiff, top1Agree };
}

/** NCHW images (bitweave's input) -> NHWC (the .tflite's). */
function nchwToNhwc(x: Float32Array, batch: number, c: number, h: number, w: number): Float32Array {
  const y = new Float32Array(x.length);
  for (let b = 0; b < batch; b++) {
    for (let ch = 0; ch < c; ch++) {
      for (let i = 0; i < h * w; i++) y[(b * h * w + i) * c + ch] = x[(b * c + ch) * h * w + i];
    }
  }
  return y;
}

export async function benchModel(label: string, model: CompiledModel, opts: BenchModelOptions = {}): Promise<BenchModelResult> {
  const ort = loadOnnxRuntime();
  const threads = opts.threads ?? os.availableParallelism();
  const batches = opts.batches ?? [1, 64];
  const runs = opts.runs ?? 5;
  const budget = (opts.budgetSeconds ?? 30) * 1000;
  const backend = opts.backend ?? 'reference';
  if (!Number.isInteger(runs) || runs < 1 || runs > 1000) throw new BitweaveError(`runs must be an integer in 1..1000, got ${runs}`);
  for (const b of batches) if (!Number.isInteger(b) || b < 1 || b > 4096) throw new BitweaveError(`batch sizes must be integers in 1..4096, got ${b}`);
  if (!Number.isInteger(threads) || threads < 1 || threads > 1024) throw new BitweaveError(`threads must be an integer in 1..1024, got ${threads}`);

  const exported = exportOnnxModel(model);
  const [C, H, W] = exported.input.shape;
  const per = C * H * W;
  const classes = tensorLength(model.tensors[model.output]);
  const notes: string[] = [];
  let lce: LceInterpreter | null = null;
  if (opts.tflite !== undefined) {
    const started = await LceInterpreter.start(opts.tflite, threads, opts.lcePython ?? lcePython());
    if ('skipped' in started) notes.push(started.skipped);
    else lce = started;
  }
  const ortSession = await ort.InferenceSession.create(exported.bytes, {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: threads,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  }).catch(async (e: unknown) => {
    await lce?.close();
    throw e;
  });
  const rows: BenchModelRow[] = [];
  const ratios: BenchModelRatio[] = [];
  const layers: BenchModelLayer[] = [];
  const splits: BenchModelSplit[] = [];
  const work = modelWork(model);
  // measured before any engine runs, on the threads the engines get
  const peak = opts.layers && backend === 'native' ? benchPeak({ threads, tries: 3, allIsas: false }) : null;
  // LCE reads its input from and writes its output to files here
  const tmp = lce ? fs.mkdtempSync(path.join(os.tmpdir(), 'bitweave-lce-')) : '';
  const lceKernels: LceKernel[] = [];
  for (const k of lce ? LCE_KERNELS : []) {
    const why = lce!.ready.unsupported[k];
    if (why === undefined) lceKernels.push(k);
    else notes.push(`LCE's ${k} kernel not timed: its interpreter refused the model (${why})`);
  }
  try {
    if (lce) {
      const [n, h, w, c] = lce.ready.input;
      const out = lce.ready.output.reduce((x, y) => x * y, 1);
      if (lce.ready.input.length !== 4 || n !== 1 || h !== H || w !== W || c !== C || out !== classes) {
        throw new BitweaveError(`LCE's interpreter sees input [${lce.ready.input.join(', ')}] and output [${lce.ready.output.join(', ')}], bitweave [1, ${H}, ${W}, ${C}] and ${classes} outputs`);
      }
    }
    for (const batch of batches) {
      const input = benchInput(batch, per);
      const session = await Session.create(model, { backend, batch, threads });
      for (const n of session.stats().notes) if (!notes.includes(n)) notes.push(n);
      try {
        const feeds = { [exported.input.name]: new ort.Tensor('float32', input, [batch, C, H, W]) };
        const runBw = async () => (await session.run(input)).logits;
        const runOrt = async () => (await ortSession.run(feeds))[exported.output.name].data as Float32Array;
        // the logits the engines agree on (also the first warm-up call)
        const a = await runBw();
        const b = await runOrt();
        // a call of LCE on the batch takes about what bitweave's does times the speed ratio:
        // a generous fixed allowance plus the budget bounds every reply
        const lceTimeout = 120_000 + 2 * budget;
        // each LCE kernel's outputs on the same images; a kernel that refuses the model is dropped
        const lceOut = new Map<LceKernel, Float32Array>();
        if (lce) {
          const fin = path.join(tmp, `input-${batch}.f32`);
          const fout = path.join(tmp, `output-${batch}.f32`);
          const x = nchwToNhwc(input, batch, C, H, W);
          fs.writeFileSync(fin, new Uint8Array(x.buffer, x.byteOffset, x.byteLength));
          for (const k of [...lceKernels]) {
            const r = await lce.run(k, batch, fin, fout, lceTimeout);
            if (r.unsupported !== undefined) {
              notes.push(`LCE's ${k} kernel not timed: its interpreter refused the model (${r.unsupported})`);
              lceKernels.splice(lceKernels.indexOf(k), 1);
              continue;
            }
            const bytes = fs.readFileSync(fout);
            if (bytes.length !== batch * classes * 4) throw new BitweaveError(`LCE helper wrote ${bytes.length} bytes, expected ${batch * classes * 4}`);
            lceOut.set(k, new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)));
          }
        }
        const stats0 = new Map<number, number>();
        const statsIn = new Map<number, number>(); // per-op time inside timed blocks
        const snapshot = (into: Map<number, number>) => {
          for (const l of session.stats().layers) into.set(l.op, l.ms);
        };
        const tBw: number[] = [];
        const tOrt: number[] = [];
        const tLce = new Map<LceKernel, number[]>([...lceOut.keys()].map((k) => [k, []]));
        const blocks = Math.min(BLOCKS, runs);
        const t0 = performance.now();
        for (let blk = 0; blk < blocks; blk++) {
          const want = Math.ceil(((blk + 1) * runs) / blocks) - Math.ceil((blk * runs) / blocks);
          const overBudget = () => tBw.length >= 3 && performance.now() - t0 > budget;
          if (overBudget()) break;
          await idle(IDLE_GAP_MS);
          await warmUp(runBw);
          snapshot(stats0);
          for (let r = 0; r < want && !(r > 0 && overBudget()); r++) {
            const s = performance.now();
            await runBw();
            tBw.push(performance.now() - s);
          }
          for (const l of session.stats().layers) statsIn.set(l.op, (statsIn.get(l.op) ?? 0) + l.ms - (stats0.get(l.op) ?? 0));
          await idle(IDLE_GAP_MS);
          await warmUp(runOrt);
          for (let r = 0; r < want && tOrt.length < tBw.length; r++) {
            const s = performance.now();
            await runOrt();
            tOrt.push(performance.now() - s);
          }
          for (const [k, t] of tLce) {
            const n = Math.min(want, tBw.length - t.length);
            if (!lce || n <= 0) continue;
            await idle(IDLE_GAP_MS);
            t.push(...(await lce.time(k, batch, n, WARM_UP_MS, lceTimeout)));
          }
        }
        const row = (engine: BenchModelRow['engine'], be: string, t: number[]): BenchModelRow => ({
          model: label, engine, backend: be, batch, threads, runs: t.length,
          medianMs: median(t), minMs: Math.min(...t), imagesPerSecond: batch / (median(t) / 1000),
        });
        const rb = row('bitweave', session.backendName, tBw);
        const ro = row('onnxruntime', 'cpu', tOrt);
        rows.push(rb, ro);
        if (opts.layers) {
          const st = session.stats().layers.map((l) => ({
            model: label, batch, backend: session.backendName, op: l.op, layer: l.name, where: l.where,
            segment: session.segments.findIndex((sg) => l.op >= sg.start && l.op < sg.end), ms: (statsIn.get(l.op) ?? 0) / tBw.length,
          }));
          layers.push(...st.sort((x, y) => y.ms - x.ms));
          const hostMs = st.reduce((a, l) => a + (l.where === 'host' ? l.ms : 0), 0);
          const deviceMs = st.reduce((a, l) => a + (l.where === 'device' ? l.ms : 0), 0);
          const split: BenchModelSplit = {
            model: label, batch, backend: session.backendName, hostMs, deviceMs, hostShare: hostMs / (hostMs + deviceMs),
            floatFmaPerImage: work.floatFma, binaryMacsPerImage: work.binaryMacs,
          };
          if (peak) {
            const fmaPerSecond = threads > 1 ? peak.fmaAllCores : peak.fmaPerCore;
            const binaryMacsPerSecond = threads > 1 ? peak.allCores : peak.perCore;
            const hostFloorMs = (1000 * batch * work.floatFma) / fmaPerSecond;
            const deviceFloorMs = (1000 * batch * work.binaryMacs) / binaryMacsPerSecond;
            split.ceilings = {
              threads: peak.threads, isa: peak.machine.isa, fmaPerSecond, binaryMacsPerSecond, hostFloorMs, deviceFloorMs,
              hostShareAtCeilings: hostFloorMs / (hostFloorMs + deviceFloorMs),
            };
          }
          splits.push(split);
        }
        ratios.push({
          model: label, batch, compare: `bitweave(${session.backendName})/onnxruntime(cpu)`,
          speedup: rb.imagesPerSecond / ro.imagesPerSecond, ...agreement(a, b, batch, classes),
        });
        // LCE returns the model's outputs: probabilities where it ends in a softmax
        const ours = model.softmax ? softmaxRows(a, batch) : a;
        for (const [k, t] of tLce) {
          const rl = row('lce', k, t);
          // the converted model has batch 1 and LCE's interpreter cannot resize it
          if (batch > 1) rl.note = `${batch} invocations of the batch-1 model per call (as LCE's Interpreter.predict runs a batch)`;
          rows.push(rl);
          ratios.push({
            model: label, batch, compare: `bitweave(${session.backendName})/lce(${k})`,
            speedup: rb.imagesPerSecond / rl.imagesPerSecond, ...agreement(ours, lceOut.get(k)!, batch, classes),
          });
        }
      } finally {
        await session.close();
      }
    }
  } finally {
    await ortSession.release();
    await lce?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  }
  const cpus = os.cpus();
  return {
    model: label,
    rows,
    ratios,
    layers,
    splits,
    notes,
    machine: {
      cpus: cpus.length, cpu: cpus[0]?.model ?? 'unknown', node: process.version, onnxruntime: ort.env.versions?.node ?? 'unknown',
      ...(lce ? { lce: lce.ready.lce, python: lce.ready.python } : {}),
    },
  };
}
