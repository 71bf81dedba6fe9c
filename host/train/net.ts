/**
 * A trainable network on tfjs: parameters (latent float weights) and the forward pass
 * in training mode (batch statistics, straight-through signs) and inference mode.
 *
 * Layout is tfjs's NHWC; dense weights are [in, out] with inputs in the NHWC flatten
 * order of the layer's input, conv filters [kh, kw, in, out]. export.ts converts to
 * MXNet's layouts.
 *
 * Binary layers output the match count P = (K + dot)/2 (DESIGN §1) rather than the ±1
 * dot product, so the BatchNorm after them is trained on P and exports unchanged. The
 * dot product of ±1 values is an integer below 2^24, so float32 computes it exactly.
 *
 * Inference-mode BatchNorm computes y = ((x - mean) * scale) + beta with
 * scale = f32(gamma / f32(sqrt(f32(var + eps)))) precomputed exactly as the compiler
 * does, one float32 rounding per step, so it equals the reference backend's BatchNorm.
 */
import { batchNormScale } from '../core/scalar';
import { Arch, BN_EPS, LayerGeom, layerGeoms, LayerSpec } from './arch';
import { Ops } from './ops';
import { Rng } from './rng';
import { Tensor, Tf, Variable } from './tfjs';

export interface BnStats {
  mean: Float32Array;
  variance: Float32Array;
}

/** Trained parameters as plain arrays (tfjs layouts), what export.ts reads. */
export interface TrainedParams {
  arch: Arch;
  /** '<layer>_weight', '<layer>_bias', '<layer>_gamma', '<layer>_beta' -> values. */
  params: Map<string, Float32Array>;
  /** BatchNorm layer -> population statistics. */
  stats: Map<string, BnStats>;
  eps: number;
}

export type Mode = 'train' | 'infer';

export class Net {
  readonly geoms: LayerGeom[];
  readonly vars = new Map<string, Variable>();
  /** Latent weights of binary layers, clipped to [-1, 1] after each update. */
  readonly binaryWeights: Variable[] = [];
  readonly stats = new Map<string, BnStats>();
  /** Inference BatchNorm constants per layer (built from vars + stats by prepareInference). */
  private inferBn = new Map<string, { mean: Tensor; scale: Tensor; beta: Tensor }>();

  constructor(private readonly tf: Tf, private readonly ops: Ops, readonly arch: Arch, seed: number) {
    this.geoms = layerGeoms(arch);
    const rng = new Rng(seed);
    arch.layers.forEach((l, i) => {
      const g = this.geoms[i];
      const add = (suffix: string, shape: number[], values: Float32Array) =>
        this.vars.set(`${l.name}_${suffix}`, tf.variable(tf.tensor(values, shape), true, `${l.name}_${suffix}`));
      if (l.kind === 'dense' || l.kind === 'conv') {
        const k = l.kind === 'conv' ? l.kernel : 1;
        const fanIn = l.kind === 'conv' ? k * k * g.in.c : g.in.h * g.in.w * g.in.c;
        const out = l.kind === 'conv' ? l.filters : l.units;
        const shape = l.kind === 'conv' ? [k, k, g.in.c, out] : [fanIn, out];
        // Glorot uniform, with the fan-out of one output position
        add('weight', shape, rng.uniform(fanIn * out, Math.sqrt(6 / (fanIn + out * k * k))));
        if (l.binary) this.binaryWeights.push(this.vars.get(`${l.name}_weight`)!);
        else add('bias', [out], new Float32Array(out));
      } else if (l.kind === 'bn') {
        add('gamma', [g.in.c], new Float32Array(g.in.c).fill(1));
        add('beta', [g.in.c], new Float32Array(g.in.c));
      }
    });
  }

  get trainable(): Variable[] {
    return [...this.vars.values()];
  }

  /** Real input bits per output of a binary layer. */
  private fanIn(i: number): number {
    const l = this.arch.layers[i];
    const g = this.geoms[i].in;
    return l.kind === 'conv' ? l.kernel * l.kernel * g.c : g.h * g.w * g.c;
  }

  /**
   * Forward pass of n images (NCHW float32, as the datasets hold them). Returns the
   * logits, or with `stopAt` the input of that BatchNorm layer (for its statistics).
   */
  forward(images: Float32Array, n: number, mode: Mode, stopAt?: string): Tensor {
    const { tf, ops } = this;
    const layers = this.arch.layers;
    const [C, H, W] = this.arch.input;
    // NCHW -> NHWC is a no-op for one channel; more would need a transpose here
    if (C !== 1) throw new Error('net: only single-channel inputs are supported');
    let x = tf.tensor(images.subarray(0, n * C * H * W), [n, H, W, C]);
    for (let i = 0; i < layers.length; i++) {
      const l = layers[i];
      const v = (s: string) => this.vars.get(`${l.name}_${s}`)!;
      switch (l.kind) {
        case 'dense': {
          if (x.shape.length !== 2) x = tf.reshape(x, [x.shape[0], -1]);
          if (l.binary) {
            const dot = ops.matMul(ops.sign(x), ops.sign(v('weight')));
            x = tf.mul(tf.add(dot, this.fanIn(i)), 0.5);
          } else {
            x = tf.add(ops.matMul(x, v('weight')), v('bias'));
          }
          break;
        }
        case 'conv': {
          if (l.binary) {
            const dot = ops.conv2d(ops.sign(x), ops.sign(v('weight')));
            x = tf.mul(tf.add(dot, this.fanIn(i)), 0.5);
          } else {
            x = tf.add((i === 0 ? ops.conv2dFirst : ops.conv2d)(x, v('weight')), v('bias'));
          }
          break;
        }
        case 'bn':
          if (l.name === stopAt) return x;
          x = mode === 'train' ? this.bnTrain(x, l.name) : this.bnInfer(x, l.name);
          break;
        case 'tanh':
          // tanh is increasing, so tanh then max-pool = max-pool then tanh, on 4x fewer values
          if (layers[i + 1]?.kind === 'pool') {
            x = tf.tanh(ops.maxPool2(x));
            i++;
          } else {
            x = tf.tanh(x);
          }
          break;
        case 'pool':
          x = ops.maxPool2(x);
          break;
        case 'flatten':
          x = tf.reshape(x, [x.shape[0], -1]);
          break;
        case 'sign':
          x = ops.sign(x);
          break;
      }
    }
    if (stopAt !== undefined) throw new Error(`no BatchNorm layer named ${stopAt}`);
    return x;
  }

  private bnTrain(x: Tensor, name: string): Tensor {
    const { tf } = this;
    const axes = x.shape.length === 4 ? [0, 1, 2] : [0];
    const { mean, variance } = tf.moments(x, axes);
    const norm = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, BN_EPS)));
    return tf.add(tf.mul(norm, this.vars.get(`${name}_gamma`)!), this.vars.get(`${name}_beta`)!);
  }

  private bnInfer(x: Tensor, name: string): Tensor {
    const p = this.inferBn.get(name);
    if (!p) throw new Error(`BatchNorm ${name}: no statistics (call prepareInference)`);
    const { tf } = this;
    return tf.add(tf.mul(tf.sub(x, p.mean), p.scale), p.beta);
  }

  /** BatchNorm layers in order. */
  bnLayers(): Extract<LayerSpec, { kind: 'bn' }>[] {
    return this.arch.layers.filter((l): l is Extract<LayerSpec, { kind: 'bn' }> => l.kind === 'bn');
  }

  /** Set one BatchNorm layer's population statistics and rebuild its inference constants. */
  setStats(name: string, s: BnStats): void {
    const { tf } = this;
    this.stats.set(name, s);
    const gamma = this.vars.get(`${name}_gamma`)!.dataSync();
    const scale = new Float32Array(gamma.length);
    for (let c = 0; c < scale.length; c++) scale[c] = batchNormScale(gamma[c], s.variance[c], BN_EPS);
    const old = this.inferBn.get(name);
    if (old) tf.dispose([old.mean, old.scale, old.beta]);
    this.inferBn.set(name, {
      mean: tf.keep(tf.tensor(s.mean, [s.mean.length])),
      scale: tf.keep(tf.tensor(scale, [scale.length])),
      beta: tf.keep(tf.tensor(this.vars.get(`${name}_beta`)!.dataSync() as Float32Array, [scale.length])),
    });
  }

  snapshot(): TrainedParams {
    const params = new Map<string, Float32Array>();
    for (const [k, v] of this.vars) params.set(k, Float32Array.from(v.dataSync()));
    return { arch: this.arch, params, stats: new Map(this.stats), eps: BN_EPS };
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    for (const p of this.inferBn.values()) this.tf.dispose([p.mean, p.scale, p.beta]);
  }
}
