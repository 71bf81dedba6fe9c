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
  /** Wall time spent in this op (host time, or device time from profiling). */
  ms: number;
  /** Device cycles, where the backend counts them. */
  cycles?: number;
  /** Useful binary MACs / (PEs × WORD × cycles), where known. */
  utilization?: number;
}

/**
 * What an execution backend implements. The Session runs host segments itself (float
 * ops, on the host engine) and hands every device segment — a run of binary layers —
 * to the backend, so a backend only has to execute `bconv` ops bit-exactly.
 */
export interface Backend {
  readonly name: string;
  /** Upload weights and thresholds once; called before any run. */
  load(model: CompiledModel): Promise<void>;
  /**
   * Execute device segment `segment` (index into model.segments) on a batch.
   * `tensors` maps tensor id -> data for every segment input; the backend returns the
   * data of every segment output.
   */
  runSegment(segment: number, tensors: Map<number, TensorData>, batch: number): Promise<Map<number, TensorData>>;
  /** Per-op statistics accumulated since load. */
  layerStats(): LayerStat[];
  /** Release device resources. */
  dispose(): Promise<void>;
}
