import { MAX_BATCH } from '../array/limits';
import * as os from 'node:os';
import { performance } from 'node:perf_hooks';
import { ShapeError, BitweaveError } from '../core/errors';
import { CompiledModel, Segment, tensorLength } from '../compile/model';
import { opInputs } from '../compile/partition';
import { LIMITS, validateModel } from '../compile/validate';
import { formatBytes } from '../core/text';
import { Backend, LayerStat, TensorData } from './backend';
import { BackendOptions, createBackend } from '../backends';
import { loadModel, LoadOptions } from './load';
import { findNonFinite, toNHWC } from './layout';

export interface SessionOptions extends LoadOptions {
  /** Execution backend for device segments (default 'reference'). */
  backend?: string;
  /** Images per batch (default 64). */
  batch?: number;
  /** CPU threads for backends that use them (default: all cores). */
  threads?: number;
  /** Further backend options (e.g. the opencl backend's device filter). */
  backendOptions?: BackendOptions;
  /**
   * Largest batch of one tensor, in bytes (default LIMITS.maxBatchTensorBytes, 1 GiB):
   * a batch that would exceed it is made smaller (see SessionStats.notes).
   */
  maxBatchTensorBytes?: number;
  /**
   * Overlap batches (default true): on a backend whose device runs apart from the JS thread
   * (Backend.overlapsHost: opencl, board), batch k+1's host segments run while batch k's
   * device segments do; at most two batches are in flight. Results are the same.
   */
  pipeline?: boolean;
}

export interface RunResult {
  /** Logits, `count` rows of `classes` values (before any softmax). */
  logits: Float32Array;
  count: number;
  classes: number;
}

export interface SessionStats {
  backend: string;
  images: number;
  batches: number;
  seconds: number;
  imagesPerSecond: number;
  /** Per op, as the backend reports it. */
  layers: LayerStat[];
  /** Images per batch the session runs (smaller than asked when a tensor would not fit). */
  batch: number;
  /** What the session changed and why (e.g. a smaller batch). */
  notes: string[];
  /** The segments the session runs (SegmentSpan.segment indexes them): the model's, or the backend's cut of them. */
  segments: Segment[];
  /** The last batch's segments in the order they ran, with their wall times (for profiles). */
  timeline: SegmentSpan[];
  /** Host and device busy time over every run, and how much of it overlapped. */
  pipeline: PipelineStats;
}

export interface PipelineStats {
  /** Batches in flight at once: 2 when the session overlaps them, else 1. */
  depth: number;
  /** Wall time some host segment was running, ms. */
  hostMs: number;
  /** Wall time some device segment was running, ms. */
  deviceMs: number;
  /** Wall time both were running, ms (0 without pipelining). */
  overlapMs: number;
}

/** A FIFO lane: one task at a time, in the order they asked (host work, device work). */
class Lane {
  private tail: Promise<void> = Promise.resolve();

  async run<T>(fn: () => Promise<T>): Promise<T> {
    const prev = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((r) => (release = r));
    await prev;
    try {
      return await fn();
    } finally {
      release();
    }
  }
}

/** Total length of the intersection of two lists of disjoint, sorted [start, end) spans. */
export function overlapOf(a: [number, number][], b: [number, number][]): number {
  let i = 0, j = 0, t = 0;
  while (i < a.length && j < b.length) {
    const lo = Math.max(a[i][0], b[j][0]), hi = Math.min(a[i][1], b[j][1]);
    if (hi > lo) t += hi - lo;
    if (a[i][1] < b[j][1]) i++;
    else j++;
  }
  return t;
}

/** One segment of one batch: when it started and ended, in ms after the batch started. */
export interface SegmentSpan {
  segment: number;
  kind: 'host' | 'device';
  startMs: number;
  endMs: number;
  images: number;
}

/**
 * The batch to run: `requested`, or fewer images when batch × the largest tensor of the
 * model would exceed `limitBytes` (checked before anything is allocated). A ShapeError
 * naming the tensor when not even one image fits.
 */
export function planBatch(model: CompiledModel, requested: number, limitBytes: number): { batch: number; note?: string } {
  let worst = model.input;
  let bytes = 0;
  model.tensors.forEach((t, i) => {
    const b = tensorLength(t) * 4;
    if (b > bytes) {
      bytes = b;
      worst = i;
    }
  });
  const t = model.tensors[worst];
  const writer = model.ops.findIndex((op) => op.out === worst);
  const what = `tensor ${worst} (${writer < 0 ? 'the model input' : `output of op ${writer} '${model.opNames[writer]}'`}, ${t.kind} ${t.h}x${t.w}x${t.c})`;
  const fit = Math.floor(limitBytes / bytes);
  if (fit < 1) {
    throw new ShapeError(`${what} needs ${formatBytes(bytes)} per image, more than the ${formatBytes(limitBytes)} one batch of a tensor may hold`);
  }
  if (fit >= requested) return { batch: requested };
  return {
    batch: fit,
    note: `batch ${requested} reduced to ${fit}: ${what} needs ${formatBytes(bytes)} per image and one batch of a tensor may hold ${formatBytes(limitBytes)}`,
  };
}

/**
 * An inference session: one compiled model on one backend.
 *
 *   const s = await Session.create('model.bnn', { backend: 'reference' });
 *   const { logits } = await s.run(images);   // images: Float32Array, N x C x H x W
 */
export class Session {
  private images = 0;
  private batches = 0;
  private closed = false;
  private seconds = 0;
  private timeline: SegmentSpan[] = [];
  private timelineBatch = -1;
  /** NHWC input buffers of finished batches (at most two: the batches in flight). */
  private readonly inputBuffers: Float32Array[] = [];
  private readonly pipeline: PipelineStats;
  /** Last op index that reads each tensor, so intermediate batches can be dropped. */
  private readonly lastUse: Int32Array;

  private constructor(
    readonly model: CompiledModel,
    private readonly backend: Backend,
    readonly batchSize: number,
    /**
     * The segments the session walks: the backend's (Backend.targetSegments, e.g. an array
     * with 1-bit outputs cutting a device segment at a zero-padded conv's input) or the model's.
     */
    readonly segments: readonly Segment[],
    private readonly notes: string[] = [],
    pipeline = true,
    /** Threads for the input's check and layout copy (on the native engine when loaded). */
    private readonly threads = 1,
  ) {
    const kinds = new Set(segments.map((sg) => sg.kind));
    this.pipeline = { depth: pipeline && backend.overlapsHost === true && kinds.size === 2 ? 2 : 1, hostMs: 0, deviceMs: 0, overlapMs: 0 };
    this.lastUse = new Int32Array(model.tensors.length).fill(-1);
    model.ops.forEach((op, i) => opInputs(op).forEach((t) => (this.lastUse[t] = i)));
  }

  static async create(model: string | CompiledModel, opts: SessionOptions = {}): Promise<Session> {
    const batch = opts.batch ?? 64;
    if (!Number.isInteger(batch) || batch < 1 || batch > MAX_BATCH) throw new BitweaveError(`batch must be an integer in 1..${MAX_BATCH}, got ${batch}`);
    let m: CompiledModel;
    if (typeof model === 'string') m = await loadModel(model, opts);
    else {
      validateModel(model, model.name);
      m = model;
    }
    const limit = opts.maxBatchTensorBytes ?? LIMITS.maxBatchTensorBytes;
    if (!(Number.isSafeInteger(limit) && limit > 0)) throw new BitweaveError(`maxBatchTensorBytes must be a positive integer, got ${limit}`);
    const plan = planBatch(m, batch, limit);
    const threads = opts.threads ?? opts.backendOptions?.threads;
    const backend = await createBackend(opts.backend ?? 'reference', { ...opts.backendOptions, threads });
    try {
      await backend.load(m);
    } catch (e) {
      // what the backend opened (devices, ports, models) is released with the error
      await backend.dispose();
      throw e;
    }
    const segments = backend.targetSegments?.() ?? m.segments;
    const notes = [...(plan.note ? [plan.note] : []), ...cutNotes(backend.name, m.segments, segments)];
    return new Session(m, backend, plan.batch, segments, notes, opts.pipeline ?? true, threads ?? os.availableParallelism());
  }

  /** Per-image input shape [C, H, W] (NCHW, as the source framework feeds it). */
  get inputShape(): [number, number, number] {
    const t = this.model.tensors[this.model.input];
    return [t.c, t.h, t.w];
  }

  get classes(): number {
    return tensorLength(this.model.tensors[this.model.output]);
  }

  get backendName(): string {
    return this.backend.name;
  }

  /** Run N images (NCHW float32, N = input.length / (C*H*W)); returns logits. */
  async run(input: Float32Array, opts: { onBatch?: (done: number, total: number) => void } = {}): Promise<RunResult> {
    if (this.closed) throw new BitweaveError('session is closed');
    const [C, H, W] = this.inputShape;
    const per = C * H * W;
    if (!(input instanceof Float32Array)) throw new ShapeError('input must be a Float32Array (N x C x H x W)');
    if (input.length === 0 || input.length % per !== 0) {
      throw new ShapeError(`input has ${input.length} values, not a whole number of ${C}x${H}x${W} images`);
    }
    // as the CLI's readers do: a NaN would flow silently into every backend's logits
    const bad = findNonFinite(input, this.threads);
    if (bad >= 0) throw new ShapeError(`input[${bad}] (image ${Math.floor(bad / per)}) is ${input[bad]}; inputs must be finite`);
    const count = input.length / per;
    const classes = this.classes;
    const logits = new Float32Array(count * classes);
    const t0 = performance.now();
    this.timelineBatch = -1;
    const spans: Record<'host' | 'device', [number, number][]> = { host: [], device: [] };
    const lanes = { host: new Lane(), device: new Lane() };
    const depth = this.pipeline.depth;
    const inFlight: Promise<void>[] = [];
    let failure: unknown = null;
    let done = 0;
    for (let k = 0, start = 0; start < count; k++, start += this.batchSize) {
      if (inFlight.length >= depth) await inFlight.shift();
      if (failure) break;
      const n = Math.min(this.batchSize, count - start);
      const first = start;
      const task = this.runBatch(input.subarray(first * per, (first + n) * per), n, k, lanes, spans).then(
        (out) => {
          logits.set(out, first * classes);
          this.batches++;
          done += n;
          opts.onBatch?.(done, count);
        },
        (e) => void (failure ??= e),
      );
      inFlight.push(task);
    }
    await Promise.all(inFlight); // every batch settles before the session is used again
    if (failure) throw failure;
    this.seconds += (performance.now() - t0) / 1000;
    this.images += count;
    const sum = (l: [number, number][]) => l.reduce((t, [a, b]) => t + b - a, 0);
    this.pipeline.hostMs += sum(spans.host);
    this.pipeline.deviceMs += sum(spans.device);
    this.pipeline.overlapMs += overlapOf(spans.host, spans.device);
    return { logits, count, classes };
  }

  /**
   * One batch through every segment; each segment waits for its lane (host or device), so
   * with two batches in flight one's host work overlaps the other's device work.
   */
  private async runBatch(
    nchw: Float32Array, n: number, index: number,
    lanes: Record<'host' | 'device', Lane>, spans: Record<'host' | 'device', [number, number][]>,
  ): Promise<Float32Array> {
    const m = this.model;
    const tensors = new Map<number, TensorData>();
    const t0 = performance.now();
    const timeline: SegmentSpan[] = [];
    // a warm buffer from an earlier batch: a fresh one costs its page faults every batch
    const free = this.inputBuffers.findIndex((b) => b.length === nchw.length);
    const input = toNHWC(nchw, n, this.inputShape, free >= 0 ? this.inputBuffers.splice(free, 1)[0] : new Float32Array(nchw.length), this.threads);
    tensors.set(m.input, input);
    // a backend that runs the whole model at once (and may fuse across segments)
    const runModel = this.pipeline.depth === 1 ? this.backend.runModel?.bind(this.backend) : undefined;
    if (runModel) {
      const a = performance.now();
      const r = await runModel(tensors.get(m.input)!, n);
      for (const sp of r.spans) {
        const kind = this.segments[sp.segment].kind;
        spans[kind].push([a + sp.startMs, a + sp.endMs]);
        timeline.push({ segment: sp.segment, kind, startMs: a - t0 + sp.startMs, endMs: a - t0 + sp.endMs, images: n });
      }
      tensors.set(m.output, r.output);
    }
    for (const [si, seg] of runModel ? [] : this.segments.entries()) {
      const ins = new Map<number, TensorData>();
      for (const t of seg.inputs) ins.set(t, tensors.get(t)!);
      const outs = await lanes[seg.kind].run(async () => {
        const a = performance.now();
        const o = await this.backend.runSegment(si, ins, n);
        const b = performance.now();
        spans[seg.kind].push([a, b]);
        timeline.push({ segment: si, kind: seg.kind, startMs: a - t0, endMs: b - t0, images: n });
        return o;
      });
      for (const [t, d] of outs) tensors.set(t, d);
      // drop tensors no later segment reads, handing their buffers back to the backend
      const dropped: TensorData[] = [];
      for (const [t, d] of tensors) {
        if (t !== m.output && this.lastUse[t] < seg.end) {
          dropped.push(d);
          tensors.delete(t);
        }
      }
      this.backend.recycle?.(dropped);
    }
    const logits = tensors.get(m.output);
    if (!(logits instanceof Float32Array)) throw new Error('session: model output is not a float tensor');
    // no backend keeps a segment input past its call: the buffer serves a later batch
    if (this.inputBuffers.length < 2) this.inputBuffers.push(input);
    if (index >= this.timelineBatch) {
      this.timeline = timeline;
      this.timelineBatch = index;
    }
    return logits;
  }

  stats(): SessionStats {
    return {
      backend: this.backend.name,
      images: this.images,
      batches: this.batches,
      seconds: this.seconds,
      imagesPerSecond: this.seconds > 0 ? this.images / this.seconds : 0,
      layers: this.backend.layerStats(),
      batch: this.batchSize,
      notes: [...this.notes],
      segments: this.segments.map((sg) => ({ ...sg, inputs: [...sg.inputs], outputs: [...sg.outputs] })),
      timeline: this.timeline.map((x) => ({ ...x })),
      pipeline: { ...this.pipeline },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.backend.dispose();
  }
}

/**
 * One note per model device segment a backend runs as several (Backend.targetSegments): the
 * tensors between the parts cross the host, a round trip the model's partition does not have.
 */
export function cutNotes(backend: string, model: readonly Segment[], target: readonly Segment[]): string[] {
  if (target === model) return [];
  return model.flatMap((s, si) => {
    const parts = target.filter((t) => t.start >= s.start && t.end <= s.end);
    if (s.kind !== 'device' || parts.length < 2) return [];
    const crossing = [...new Set(parts.slice(1).flatMap((t) => t.inputs.filter((x) => parts.some((q) => q.outputs.includes(x)))))].sort((a, b) => a - b);
    const many = crossing.length > 1;
    return [
      `${backend} runs device segment ${si} (ops ${s.start}..${s.end - 1}) as ${parts.length} segments (ops ${parts.map((t) => `${t.start}..${t.end - 1}`).join(', ')}): ` +
        `tensor${many ? 's' : ''} ${crossing.join(', ')} cross${many ? '' : 'es'} the host between them, as its array cannot hand ${many ? 'them' : 'it'} on to the zero-padded convs reading ${many ? 'them' : 'it'}`,
    ];
  });
}
