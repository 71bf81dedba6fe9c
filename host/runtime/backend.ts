import { CompiledModel } from '../compile/model';

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
   * Where `cycles` come from: 'rtl', counted clock by clock by the RTL simulation
   * (fill, skew, drain and all); 'schedule', the kernel's tile schedule at one PE step
   * per cycle (no fill or drain), as the OpenCL and HLS kernels model themselves.
   */
  cyclesKind?: 'rtl' | 'schedule';
  /** Useful binary MACs / (PEs × WORD × cycles), where known. */
  utilization?: number;
}

/** Options every backend takes; each backend extends them with its own (host/backends/*). */
export interface BackendOptions {
  /** Worker threads for CPU work (default: all cores). */
  threads?: number;
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
  /** Upload weights and thresholds once; called before any run. */
  load(model: CompiledModel): Promise<void>;
  /**
   * Execute `model.segments[segment]` on `batch` images. `tensors` holds every segment
   * input (tensor id -> data); the result holds every segment output.
   */
  runSegment(segment: number, tensors: Map<number, TensorData>, batch: number): Promise<Map<number, TensorData>>;
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
