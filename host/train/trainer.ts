/**
 * The training loop: Adam on softmax cross-entropy with a learning rate that falls
 * from `lr` to `lrEnd` (exponentially or on a half cosine), latent binary weights
 * clipped to [-1, 1] after every step, seeded initialisation and shuffling.
 *
 * After the last epoch the BatchNorm statistics are estimated layer by layer on
 * training images with the *inference* network (earlier layers already using their
 * final statistics), so every layer is normalised with the exact mean and variance of
 * what it sees at inference time, not a running average of training batches.
 */
import { performance } from 'node:perf_hooks';
import { BitweaveError } from '../core/errors';
import { Dataset, loadDataset } from '../data/datasets';
import { ArchName, getArch } from './arch';
import { BnStats, Net, TrainedParams } from './net';
import { makeOps } from './ops';
import { Rng } from './rng';
import { loadTf, Tensor, Tf } from './tfjs';

export interface TrainOptions {
  arch: ArchName;
  epochs: number;
  seed: number;
  /** Images per step (default 100). */
  batch?: number;
  /** Learning rate at the first and the last step (defaults 2e-3 and 2e-5). */
  lr?: number;
  lrEnd?: number;
  /** How the learning rate falls from lr to lrEnd (default 'exp'). */
  lrSchedule?: LrSchedule;
  /** Train on the first `limit` training images only. */
  limit?: number;
  /** Training images used for the BatchNorm statistics (default 10,000 or all). */
  bnImages?: number;
  /** Test images to evaluate the trained tfjs network on (default all 10,000; 0 = none). */
  testImages?: number;
  /** tfjs wasm threads (default: all cores, at most 4). */
  threads?: number;
  onProgress?: (p: TrainProgress) => void;
  /** Preloaded datasets (tests); default: Fashion-MNIST from disk. */
  train?: Dataset;
  test?: Dataset;
}

export type LrSchedule = 'exp' | 'cosine';
export const LR_SCHEDULES: readonly LrSchedule[] = ['exp', 'cosine'];

/**
 * Learning rate at fraction t in [0, 1] of training. 'cosine' stays near lr longer and
 * spends the last steps near lrEnd, which suits the short runs here better than 'exp'.
 */
export function learningRate(schedule: LrSchedule, lr: number, lrEnd: number, t: number): number {
  return schedule === 'cosine' ? lrEnd + (lr - lrEnd) * 0.5 * (1 + Math.cos(Math.PI * t)) : lr * Math.pow(lrEnd / lr, t);
}

export interface TrainProgress {
  phase: 'train' | 'bn' | 'test';
  epoch: number;
  epochs: number;
  step: number;
  steps: number;
  /** Mean loss and accuracy of the current epoch so far. */
  loss: number;
  accuracy: number;
  elapsedSeconds: number;
  /** Estimated seconds until training (all epochs, BN statistics, test) is done. */
  etaSeconds: number;
}

export interface EpochStats {
  epoch: number;
  loss: number;
  accuracy: number;
  /** Mean loss of the epoch's first and last tenth of steps. */
  lossFirst: number;
  lossLast: number;
  seconds: number;
  learningRate: number;
}

export interface TrainResult {
  trained: TrainedParams;
  history: EpochStats[];
  /** Seconds for the epochs, and for everything including BN statistics and the test pass. */
  trainSeconds: number;
  totalSeconds: number;
  threads: number;
  simd: boolean;
  trainImages: number;
  /** Accuracy of the tfjs inference network on the test images (if evaluated). */
  test?: { images: number; correct: number; accuracy: number; predictions: Uint8Array };
  /** Logits of the tfjs inference network for NCHW images (N x 1 x 28 x 28). */
  predict(images: Float32Array): Float32Array;
  dispose(): void;
}

const PIXELS = 28 * 28;

function checkInt(name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new BitweaveError(`${name} must be an integer >= ${min}, got ${v}`);
}

export async function train(opts: TrainOptions): Promise<TrainResult> {
  const arch = getArch(opts.arch);
  const batch = opts.batch ?? 100;
  const lr0 = opts.lr ?? 2e-3;
  const lrEnd = opts.lrEnd ?? 2e-5;
  checkInt('epochs', opts.epochs, 1);
  checkInt('seed', opts.seed, 0);
  checkInt('batch', batch, 2);
  if (!(lr0 > 0 && lrEnd > 0)) throw new BitweaveError('learning rates must be positive');
  const schedule = opts.lrSchedule ?? 'exp';
  if (!LR_SCHEDULES.includes(schedule)) throw new BitweaveError(`unknown learning-rate schedule '${schedule}' (known: ${LR_SCHEDULES.join(', ')})`);

  const t0 = performance.now();
  const { tf, threads, simd } = await loadTf(opts.threads);
  const trainSet = opts.train ?? loadDataset('fashion-mnist', { split: 'train', limit: opts.limit });
  const count = Math.min(trainSet.count, opts.limit ?? trainSet.count);
  const testSet = opts.testImages === 0 ? undefined : (opts.test ?? loadDataset('fashion-mnist', { split: 'test', limit: opts.testImages }));
  const testCount = testSet ? Math.min(testSet.count, opts.testImages ?? testSet.count) : 0;
  const bnCount = Math.min(count, opts.bnImages ?? 10000);

  const net = new Net(tf, makeOps(tf), arch, opts.seed);
  const optimizer = tf.train.adam(lr0);
  const rng = new Rng(opts.seed ^ 0x5eed);
  const steps = Math.ceil(count / batch);
  const totalSteps = steps * opts.epochs;
  const order = Int32Array.from({ length: count }, (_, i) => i);
  const xBuf = new Float32Array(batch * PIXELS);
  const history: EpochStats[] = [];

  // forward-only passes (BN statistics, test) cost about a third of a training step per image
  const extraImages = (bnCount * net.bnLayers().length + testCount) / 3;
  let stepTime = 0;
  const eta = (doneSteps: number) => (stepTime / Math.max(1, doneSteps)) * (totalSteps - doneSteps + extraImages / batch);
  const report = (p: Omit<TrainProgress, 'elapsedSeconds' | 'epochs'>) =>
    opts.onProgress?.({ ...p, epochs: opts.epochs, elapsedSeconds: (performance.now() - t0) / 1000 });

  for (let epoch = 1; epoch <= opts.epochs; epoch++) {
    const te = performance.now();
    rng.shuffle(order);
    let lossSum = 0;
    let correct = 0;
    let seen = 0;
    const losses: number[] = [];
    for (let s = 0; s < steps; s++) {
      const ts = performance.now();
      const done = (epoch - 1) * steps + s;
      optimizer.learningRate = learningRate(schedule, lr0, lrEnd, done / Math.max(1, totalSteps - 1));
      const n = Math.min(batch, count - s * batch);
      const labels = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const src = order[s * batch + i];
        xBuf.set(trainSet.images.subarray(src * PIXELS, (src + 1) * PIXELS), i * PIXELS);
        labels[i] = trainSet.labels[src];
      }
      let predicted: Tensor | undefined;
      const lossValue = tf.tidy(() => {
        const y = tf.oneHot(tf.tensor(labels, [n], 'int32'), arch.classes);
        const { value, grads } = tf.variableGrads(() => {
          const logits = net.forward(xBuf, n, 'train');
          predicted = tf.keep(tf.argMax(logits, 1));
          return tf.neg(tf.mean(tf.sum(tf.mul(y, tf.logSoftmax(logits)), 1)));
        }, net.trainable);
        optimizer.applyGradients(grads);
        for (const w of net.binaryWeights) w.assign(tf.clipByValue(w, -1, 1));
        return value;
      });
      const loss = lossValue.dataSync()[0];
      lossValue.dispose();
      const pred = predicted!.dataSync();
      predicted!.dispose();
      if (!Number.isFinite(loss)) throw new BitweaveError(`training diverged at epoch ${epoch}, step ${s + 1} (loss ${loss})`);
      for (let i = 0; i < n; i++) if (pred[i] === labels[i]) correct++;
      seen += n;
      lossSum += loss * n;
      losses.push(loss);
      stepTime += performance.now() - ts;
      report({ phase: 'train', epoch, step: s + 1, steps, loss: lossSum / seen, accuracy: correct / seen, etaSeconds: eta(done + 1) / 1000 });
    }
    const tenth = Math.max(1, Math.floor(losses.length / 10));
    const avg = (a: number[]) => a.reduce((p, q) => p + q, 0) / a.length;
    history.push({
      epoch, loss: lossSum / seen, accuracy: correct / seen,
      lossFirst: avg(losses.slice(0, tenth)), lossLast: avg(losses.slice(-tenth)),
      seconds: (performance.now() - te) / 1000, learningRate: optimizer.learningRate,
    });
  }
  const trainSeconds = (performance.now() - t0) / 1000;
  optimizer.dispose();

  const predict = (images: Float32Array, onBatch?: (done: number, total: number) => void): Float32Array => {
    const total = images.length / PIXELS;
    const out = new Float32Array(total * arch.classes);
    for (let i = 0; i < total; i += batch) {
      const n = Math.min(batch, total - i);
      const logits = tf.tidy(() => net.forward(images.subarray(i * PIXELS, (i + n) * PIXELS), n, 'infer'));
      out.set(logits.dataSync(), i * arch.classes);
      logits.dispose();
      onBatch?.(i + n, total);
    }
    return out;
  };

  // BatchNorm statistics, layer by layer, on the inference network
  const bnLayers = net.bnLayers();
  for (const [li, l] of bnLayers.entries()) {
    net.setStats(l.name, estimateStats(tf, net, l.name, trainSet.images.subarray(0, bnCount * PIXELS), batch, (d) =>
      report({ phase: 'bn', epoch: opts.epochs, step: li * bnCount + d, steps: bnLayers.length * bnCount, loss: NaN, accuracy: NaN, etaSeconds: NaN })));
  }

  let test: TrainResult['test'];
  if (testSet && testCount > 0) {
    const logits = predict(testSet.images.subarray(0, testCount * PIXELS), (d, t) =>
      report({ phase: 'test', epoch: opts.epochs, step: d, steps: t, loss: NaN, accuracy: NaN, etaSeconds: NaN }));
    const predictions = new Uint8Array(testCount);
    let correct = 0;
    for (let i = 0; i < testCount; i++) {
      predictions[i] = argmax(logits, i, arch.classes);
      if (predictions[i] === testSet.labels[i]) correct++;
    }
    test = { images: testCount, correct, accuracy: correct / testCount, predictions };
  }

  return {
    trained: net.snapshot(),
    history,
    trainSeconds,
    totalSeconds: (performance.now() - t0) / 1000,
    threads,
    simd,
    trainImages: count,
    test,
    predict: (images) => predict(images),
    dispose: () => net.dispose(),
  };
}

export function argmax(logits: Float32Array, row: number, classes: number): number {
  let best = 0;
  for (let k = 1; k < classes; k++) if (logits[row * classes + k] > logits[row * classes + best]) best = k;
  return best;
}

/**
 * Population mean and (biased) variance per channel of a BatchNorm layer's input, over
 * all pixels of all images: per-batch moments from tfjs, combined in float64
 * (Chan et al.'s pairwise update) so large batches of large values lose nothing.
 */
function estimateStats(tf: Tf, net: Net, name: string, images: Float32Array, batch: number, onImages: (done: number) => void): BnStats {
  const total = images.length / PIXELS;
  let n = 0;
  let mean: Float64Array | undefined;
  let m2: Float64Array | undefined;
  for (let i = 0; i < total; i += batch) {
    const b = Math.min(batch, total - i);
    let bm = new Float64Array(0);
    let bv = new Float64Array(0);
    let per = 0;
    tf.tidy(() => {
      const x = net.forward(images.subarray(i * PIXELS, (i + b) * PIXELS), b, 'infer', name);
      const axes = x.shape.length === 4 ? [0, 1, 2] : [0];
      const m = tf.moments(x, axes);
      bm = Float64Array.from(m.mean.dataSync());
      bv = Float64Array.from(m.variance.dataSync());
      per = axes.reduce((p, a) => p * x.shape[a], 1);
    });
    if (!mean || !m2) {
      mean = bm;
      m2 = bv.map((v) => v * per);
      n = per;
    } else {
      const nt = n + per;
      for (let c = 0; c < mean.length; c++) {
        const d = bm[c] - mean[c];
        mean[c] += (d * per) / nt;
        m2[c] += bv[c] * per + ((d * d * n) * per) / nt;
      }
      n = nt;
    }
    onImages(i + b);
  }
  return { mean: Float32Array.from(mean!), variance: Float32Array.from(m2!.map((v) => v / n)) };
}
