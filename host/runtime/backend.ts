import { BitweaveError, ShapeError } from '../core/errors';
import { MAX_BATCH } from '../array/limits';
import { CompiledModel, Segment, TensorInfo, tensorLength } from '../compile/model';

/**
 * A batch of one tensor: `batch` images, each `tensorLength(info)` elements, stored
 * back to back. Float tensors are Float32Array, integer tensors Int32Array, bits
 * tensors Uint32Array (halves of 64-bit words).
 */
export type TensorData = Float32Array | Int32Array | Uint32Array;

export interface LayerStat {
  /** Op index in model.ops and its source name. */
  op: number;
  name: string;
  /** Where it ran: host float layers or the (emulated) array. */
  where: 'host' | 'device';
  /** Time spent in this op (host wall time, or device time from profiling). */
  ms: number;
  /** Device cycles, where the backend counts them. */
  cycles?: number;
  /**
   * Where `cycles` come from. All three array descriptions execute one tile schedule,
   * described by one cycle model (host/array/cycles.ts); the kinds differ only in the
   * per-layer fill and drain: 'rtl', counted clock by clock by the RTL simulation (the
   * model's whole count, fill and drain included); 'schedule', the model's tile phase
   * ((tiles − 1)·P + K per layer, no fill or drain), reported by the HLS and OpenCL kernels,
   * whose fill and drain differ from the RTL's and are unknown until synthesis; 'kernel',
   * counted by the RTL kernel behind AXI from ap_start to ap_done: the RTL's cycles plus
   * its DDR traffic (the axi-sim backend), shared by the layers as the model's cycles.
   */
  cyclesKind?: 'rtl' | 'schedule' | 'kernel';
  /** Useful binary MACs / (PEs × WORD × cycles), where known. */
  utilization?: number;
}

/** Options every backend takes; each backend extends them with its own (host/backends/*). */
export interface BackendOptions {
  /** Worker threads for CPU work (default: all cores). */
  threads?: number;
}

/** One segment's part of a runModel call. */
export interface ModelSpan {
  segment: number;
  startMs: number;
  endMs: number;
}

/**
 * What an execution backend implements: run one segment of a compiled model on a
 * batch. Host segments hold float layers, device segments hold `bconv` ops (the
 * array). A backend for an accelerator runs device segments on it and hands host
 * segments to a host engine (the reference or the native one); all results must be
 * bit-identical to the reference backend's.
 */
export interface Backend {
  readonly name: string;
  /**
   * Optional: device segments run apart from the JS thread (a device behind a driver's
   * threads, a board behind a link), so a Session may run another batch's host segments
   * while one runs. Backends that compute on the JS thread leave it unset.
   */
  readonly overlapsHost?: boolean;
  /** Upload weights and thresholds once; called before any run. */
  load(model: CompiledModel): Promise<void>;
  /**
   * Optional, after load: the segments `runSegment` indexes, where the backend runs the
   * model's device segments cut into more (an array that cannot run one whole,
   * host/array/zero-pad.ts `targetSegments`). Absent: `model.segments`. A Session walks these.
   */
  targetSegments?(): Segment[];
  /**
   * Execute segment `segment` (of `targetSegments()`, else `model.segments`) on `batch`
   * images. `tensors` holds every segment input (tensor id -> data); the result holds every
   * segment output.
   */
  runSegment(segment: number, tensors: Map<number, TensorData>, batch: number): Promise<Map<number, TensorData>>;
  /**
   * Optional: every op of the model on a batch in one call (the model input in, its output
   * back), for a backend whose host and device ops run on one processor, so that it can
   * fuse work across segment boundaries. `spans` gives each segment's wall time (ms from
   * the call's start) for timelines. A Session that does not pipeline uses it.
   */
  runModel?(input: TensorData, batch: number): Promise<{ output: TensorData; spans: ModelSpan[] }>;
  /** Per-op statistics accumulated since load. */
  layerStats(): LayerStat[];
  /**
   * Optional: take back tensor buffers the session no longer needs (buffers the backend
   * did not hand out are ignored), so the next batch reuses warm memory.
   */
  recycle?(buffers: Iterable<TensorData>): void;
  /** Release native or device resources. */
  dispose(): Promise<void>;
}

/**
 * The checks every backend's runSegment starts with: a model is loaded, the segment index
 * and the batch size are in range. Returns the segment.
 */
export function checkSegmentCall(backend: string, model: CompiledModel | null, segment: number, batch: number): Segment {
  if (!model) throw new BitweaveError(`${backend} backend: no model loaded (runSegment before load, or after dispose: the session is closed)`);
  if (!Number.isInteger(segment) || segment < 0 || segment >= model.segments.length) {
    throw new ShapeError(`segment must be an integer in 0..${model.segments.length - 1}, got ${segment}`);
  }
  if (!Number.isInteger(batch) || batch < 1 || batch > MAX_BATCH) throw new ShapeError(`batch must be an integer in 1..${MAX_BATCH}, got ${batch}`);
  return model.segments[segment];
}

const ARRAY_TYPE = { f32: Float32Array, i32: Int32Array, bits: Uint32Array } as const;

/** A segment input must be its tensor's array type with exactly batch · length elements. */
export function checkSegmentInput(backend: string, info: TensorInfo, id: number, d: TensorData | undefined, batch: number): TensorData {
  if (d === undefined) throw new ShapeError(`${backend} backend: segment input tensor ${id} is missing`);
  const want = ARRAY_TYPE[info.kind];
  if (!(d instanceof want)) {
    throw new ShapeError(`${backend} backend: tensor ${id} must be a ${want.name} (${info.kind}), got ${(d as object)?.constructor?.name ?? typeof d}`);
  }
  const length = batch * tensorLength(info);
  if (d.length !== length) {
    throw new ShapeError(`${backend} backend: tensor ${id} (${info.kind} ${info.h}x${info.w}x${info.c}) has ${d.length} elements, expected ${length} for a batch of ${batch}`);
  }
  return d;
}
