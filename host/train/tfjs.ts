/**
 * TensorFlow.js (tfjs-core + the WebAssembly backend) for training.
 *
 * The packages are loaded with require() behind the small typed surface below: their
 * own .d.ts files need the DOM library (WebGL, ImageBitmap, ...), which this Node
 * project does not compile against. Only what the trainer uses is declared.
 *
 * Everything runs on the 'wasm' backend (XNNPACK, SIMD): the native tfjs-node backend
 * does not install here, and the pure-JS 'cpu' backend is far slower. Threads are
 * enabled through ./wasm-threads (tfjs disables them in Node).
 */
import * as os from 'node:os';
import { BitweaveError } from '../core/errors';
import { installWorkerShim, withReportedCpus } from './wasm-threads';

export type Rank4 = [number, number, number, number];
export type TensorData = Float32Array | Int32Array | Uint8Array;

export interface Tensor {
  readonly shape: number[];
  readonly dtype: 'float32' | 'int32' | 'bool';
  readonly size: number;
  readonly isDisposed: boolean;
  dataSync(): TensorData;
  dispose(): void;
}

export interface Variable extends Tensor {
  readonly name: string;
  assign(t: Tensor): void;
}

type T = Tensor;
type TL = Tensor | number;
export type GradSaver = (tensors: Tensor[]) => void;
export type CustomGradResult = { value: Tensor; gradFunc: (dy: Tensor, saved: Tensor[]) => Tensor | Tensor[] };

export interface Optimizer {
  learningRate: number;
  applyGradients(grads: Record<string, Tensor>): void;
  dispose(): void;
}

/** The subset of @tensorflow/tfjs-core the trainer uses. */
export interface Tf {
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
  getBackend(): string;
  env(): { set(flag: string, value: boolean | number): void; getAsync(flag: string): Promise<boolean | number> };
  memory(): { numTensors: number; numBytes: number };
  tidy<R extends Tensor | Tensor[] | void | Record<string, Tensor>>(fn: () => R): R;
  keep<R extends Tensor>(t: R): R;
  dispose(t: Tensor | Tensor[] | Record<string, Tensor>): void;

  tensor(values: TensorData | number[], shape: number[], dtype?: 'float32' | 'int32'): T;
  scalar(v: number): T;
  zeros(shape: number[]): T;
  zerosLike(t: T): T;
  variable(init: T, trainable?: boolean, name?: string): Variable;

  add(a: TL, b: TL): T;
  sub(a: TL, b: TL): T;
  mul(a: TL, b: TL): T;
  div(a: TL, b: TL): T;
  neg(a: T): T;
  abs(a: T): T;
  square(a: T): T;
  rsqrt(a: T): T;
  tanh(a: T): T;
  cast(a: T, dtype: 'float32' | 'int32'): T;
  greaterEqual(a: T, b: TL): T;
  lessEqual(a: T, b: TL): T;
  equal(a: T, b: TL): T;
  avgPool(x: T, size: number, strides: number, pad: 'valid' | 'same'): T;
  image: { resizeNearestNeighbor(x: T, size: [number, number]): T };
  clipByValue(a: T, lo: number, hi: number): T;
  reshape(a: T, shape: number[]): T;
  transpose(a: T, perm?: number[]): T;
  reverse(a: T, axis: number[]): T;
  pad(a: T, paddings: [number, number][]): T;
  matMul(a: T, b: T, transposeA?: boolean, transposeB?: boolean): T;
  conv2d(x: T, w: T, strides: number, pad: 'valid' | 'same'): T;
  maxPool(x: T, size: number, strides: number, pad: 'valid' | 'same'): T;
  mean(a: T, axis?: number[] | number, keepDims?: boolean): T;
  sum(a: T, axis?: number[] | number, keepDims?: boolean): T;
  moments(a: T, axes: number[], keepDims?: boolean): { mean: T; variance: T };
  logSoftmax(a: T): T;
  argMax(a: T, axis: number): T;
  oneHot(indices: T, depth: number): T;
  customGrad(f: (...args: (Tensor | GradSaver)[]) => CustomGradResult): (...args: Tensor[]) => Tensor;
  variableGrads(f: () => Tensor, vars?: Variable[]): { value: Tensor; grads: Record<string, Tensor> };
  train: { adam(learningRate: number, beta1?: number, beta2?: number, epsilon?: number): Optimizer };
}

export interface TfInit {
  tf: Tf;
  /** Threads XNNPACK actually uses. */
  threads: number;
  simd: boolean;
}

let loaded: Promise<TfInit> | undefined;

/**
 * Load tfjs-core with the wasm backend, once per process. `threads` (default: all cores,
 * at most 4) > 1 loads the threaded SIMD binary; 1 the single-threaded SIMD one. The
 * first call decides; later calls with another count get the loaded instance.
 */
export function loadTf(threads = Math.min(4, os.cpus().length)): Promise<TfInit> {
  if (!Number.isInteger(threads) || threads < 1 || threads > 64) {
    throw new BitweaveError(`threads must be an integer in 1..64, got ${threads}`);
  }
  if (loaded) return loaded;
  loaded = (async () => {
    let tf: Tf;
    let wasm: { setThreadsCount(n: number): void; getThreadsCount(): number };
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      tf = require('@tensorflow/tfjs-core') as Tf;
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      wasm = require('@tensorflow/tfjs-backend-wasm');
      // tfjs-core's Node bundle has no gradient functions; tfjs-layers' bundle registers
      // all of them (in tfjs-core's global registry) when it loads.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require('@tensorflow/tfjs-layers');
    } catch (e) {
      throw new BitweaveError(`training needs @tensorflow/tfjs-core, -backend-wasm and -layers (run \`npm ci\`): ${(e as Error).message.split('\n')[0]}`);
    }
    if (threads > 1) {
      installWorkerShim();
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
      wasm.setThreadsCount(threads);
    }
    const ok = await withReportedCpus(2 * threads, () => tf.setBackend('wasm'));
    if (!ok || tf.getBackend() !== 'wasm') throw new BitweaveError('TensorFlow.js could not start its WebAssembly backend');
    await tf.ready();
    const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
    return { tf, threads: wasm.getThreadsCount(), simd };
  })();
  return loaded;
}
