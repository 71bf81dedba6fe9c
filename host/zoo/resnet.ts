/**
 * ResNet-18-shaped binary networks with seeded random weights: for 32x32x3 inputs (the
 * end-to-end benchmark model of issue 3 and a large test model), and for 224x224x3 inputs
 * with the ImageNet stem (the shapes of BMXNet's binary ImageNet ResNet-18, for benchmarks).
 *
 * Topology of BMXNet's resnet-binary symbol for CIFAR-sized inputs (image height 32,
 * 18 layers): BatchNorm on the data (fix_gamma), float 3x3 conv0 (64 filters, stride 1,
 * no bias, no pooling), then four stages of two residual units with 64, 128, 256 and
 * 512 filters (stride 1 for the first stage, 2 for the others). A unit is
 *
 *   bn1 -> QActivation(backward only) -> QConv 3x3 (stride) -> bn2 -> QActivation -> QConv 3x3
 *   shortcut: the unit input, or (first unit of every stage) QConv 1x1 (stride) on bn1's binarised output
 *   output = conv2 + shortcut      (float add of the integer match counts, on the host)
 *
 * then bn1 -> relu -> global average pool -> flatten -> float FC -> softmax. The ImageNet
 * variant (image height 224) has BMXNet's ImageNet stem instead of the 3x3 conv0: float
 * 7x7 conv0 (stride 2, pad 3) -> bn0 -> relu0 -> 3x3 max pool (stride 2, pad 1), so the
 * stages run at 56, 28, 14 and 7 pixels, and 1000 classes. Binary
 * convolutions pad with +1 (BMXNet v1: zero padding then sign).
 *
 * Weights are random but the statistics are not: each BatchNorm is centred on the
 * expected mean and spread of its input (tracked analytically through the network) so
 * that binarised activations are balanced, as in a trained network, and some gammas are
 * negative so flipped thresholds and min-pooling paths occur. The float layers before
 * the first binarisation use values on a 2^-6 grid and an exact unit-scale BatchNorm, so
 * their float32 sums are exact in any order: any engine that computes the same float
 * network (onnxruntime on the exported ONNX) binarises exactly as bitweave does.
 */
import { BitweaveError } from '../core/errors';
import { IRGraph } from '../ir/graph';
import { GraphBuilder, NodeSpec } from '../ir/builder';
import { binarizingBnParams, rng, Stats } from './random';

export interface ResNetOptions {
  /** Seed of the weights (default 1). */
  seed?: number;
  /** Activation bits of the binary layers (BMXNet act_bit; default 1). */
  actBits?: number;
  /** Output classes (default 10, CIFAR-10). */
  classes?: number;
  /** Filters of conv0 and the four stages (default BMXNet's [64, 64, 128, 256, 512]). */
  filters?: [number, number, number, number, number];
  /** Units per stage (default ResNet-18's [2, 2, 2, 2]). */
  units?: [number, number, number, number];
}

const EPS = 2e-5; // BMXNet resnet's BatchNorm eps


export function resnet18Cifar(opts: ResNetOptions = {}): IRGraph {
  return resnet18('cifar', opts);
}

export function resnet18Imagenet(opts: ResNetOptions = {}): IRGraph {
  return resnet18('imagenet', opts);
}

function resnet18(kind: 'cifar' | 'imagenet', opts: ResNetOptions): IRGraph {
  const imagenet = kind === 'imagenet';
  const zooName = `resnet18-${kind}`;
  const seed = opts.seed ?? 1;
  const bits = opts.actBits ?? 1;
  const classes = opts.classes ?? (imagenet ? 1000 : 10);
  const filters = opts.filters ?? [64, 64, 128, 256, 512];
  const units = opts.units ?? [2, 2, 2, 2];
  if (!Number.isInteger(bits) || bits < 1 || bits > 8) throw new BitweaveError(`${zooName}: actBits must be 1..8, got ${bits}`);
  if (!Number.isInteger(classes) || classes < 1) throw new BitweaveError(`${zooName}: classes must be a positive integer, got ${classes}`);
  const r = rng(seed);
  const uniform = (lo: number, hi: number) => lo + (hi - lo) * r();
  const g = new GraphBuilder();
  const add = (spec: NodeSpec): string => g.add(spec);
  const L = (1 << bits) - 1;

  /** BatchNorm whose output feeds a binarisation (binarizingBnParams). */
  const binarizingBN = (name: string, input: string, c: number, s: Stats): string => {
    const { gamma, beta, mean, variance } = binarizingBnParams(r, c, s, bits);
    return add({ op: 'BatchNorm', name, inputs: [input], gamma, beta, mean, variance, eps: EPS });
  };

  /** Binary conv; returns the statistics of its integer output (P or the k-bit dot). */
  const qconv = (name: string, input: string, inC: number, outC: number, k: number, stride: number, pad: number): [string, Stats] => {
    const K = k * k * inC;
    const data = Float32Array.from({ length: outC * K }, () => (r() < 0.5 ? -1 : 1));
    const out = add({
      op: 'QConvolution', name, inputs: [input], kernel: [k, k], stride: [stride, stride], pad: [pad, pad], padValue: 1,
      numFilter: outC, actBits: bits, weight: { kind: 'float', data },
    });
    // 1-bit: P ~ Binomial(K, 1/2). k-bit: dot of levels (about uniform on 0..L) with ±1.
    const st = bits === 1 ? { mean: K / 2, variance: K / 4 } : { mean: 0, variance: (K * L * (2 * L + 1)) / 6 };
    return [out, st];
  };

  // ---- stem: BatchNorm on the data (fix_gamma) and the float conv0, exact in float32 ----
  const size = imagenet ? 224 : 32;
  let x = add({ op: 'Input', name: 'data', inputs: [], shape: [3, size, size] });
  const grid = (v: number) => Math.round(v * 64) / 64;
  // scale = 1 / sqrt(var + eps) = 1 exactly with var = f32(1 - eps): only dyadic shifts remain
  const exactBN = (name: string, input: string, c: number) => add({
    op: 'BatchNorm', name, inputs: [input], gamma: new Float32Array(c).fill(1), beta: new Float32Array(c),
    mean: Float32Array.from({ length: c }, () => grid(uniform(imagenet && c > 3 ? -0.1 : 0.4, imagenet && c > 3 ? 0.1 : 0.6))), variance: new Float32Array(c).fill(1 - EPS), eps: EPS,
  });
  x = exactBN('bn_data', x, 3);
  const F0 = filters[0];
  const k0 = imagenet ? 7 : 3;
  x = add({
    op: 'Convolution', name: 'conv0', inputs: [x], kernel: [k0, k0], stride: imagenet ? [2, 2] : [1, 1], pad: imagenet ? [3, 3] : [1, 1], numFilter: F0,
    weight: Float32Array.from({ length: F0 * 3 * k0 * k0 }, () => grid(uniform(-0.5, 0.5))), bias: null,
  });
  // inputs about uniform on [-0.5, 0.5] (variance 1/12), weights likewise: 3·k0² terms
  let stream: Stats = { mean: 0, variance: (3 * k0 * k0) / 144 };
  if (imagenet) {
    // bn0 exact as bn_data (its outputs stay on the grid), relu0 and the max pool are exact too
    x = exactBN('bn0', x, F0);
    x = add({ op: 'Activation', name: 'relu0', inputs: [x], actType: 'relu' });
    x = add({ op: 'Pooling', name: 'pool0', inputs: [x], poolType: 'max', kernel: [3, 3], stride: [2, 2], pad: [1, 1], global: false, convention: 'valid', countIncludePad: true });
    // the max of 9 rectified neighbours of a centred value: about 1.2 sd above 0, spread 0.6 sd
    const sd0 = Math.sqrt(stream.variance);
    stream = { mean: 1.2 * sd0, variance: 0.36 * stream.variance };
  }
  let channels = F0;

  // ---- four stages of residual units ----
  for (let stage = 0; stage < 4; stage++) {
    const nf = filters[stage + 1];
    for (let u = 0; u < units[stage]; u++) {
      const name = `stage${stage + 1}_unit${u + 1}`;
      const first = u === 0;
      const stride = first && stage > 0 ? 2 : 1;
      const bn1 = binarizingBN(`${name}_bn1`, x, channels, stream);
      const act1 = add({ op: 'QActivation', name: `${name}_qact1`, inputs: [bn1], actBits: bits, backwardOnly: true });
      const [conv1, s1] = qconv(`${name}_conv1`, act1, channels, nf, 3, stride, 1);
      const bn2 = binarizingBN(`${name}_bn2`, conv1, nf, s1);
      const act2 = add({ op: 'QActivation', name: `${name}_qact2`, inputs: [bn2], actBits: bits, backwardOnly: true });
      const [conv2, s2] = qconv(`${name}_conv2`, act2, nf, nf, 3, 1, 1);
      let shortcut = x;
      let ss = stream;
      if (first) [shortcut, ss] = qconv(`${name}_sc`, act1, channels, nf, 1, stride, 0);
      // dequantized: k-bit layers return dot / (2^k - 1)
      const d = bits === 1 ? 1 : L;
      const scaleSq = (st: Stats, div: number): Stats => ({ mean: st.mean / div, variance: st.variance / (div * div) });
      const a = scaleSq(s2, d);
      const b = first ? scaleSq(ss, d) : ss;
      x = add({ op: 'Add', name: `${name}_plus`, inputs: [conv2, shortcut] });
      stream = { mean: a.mean + b.mean, variance: a.variance + b.variance };
      channels = nf;
    }
  }

  // ---- head: bn1 -> relu -> global average pool -> flatten -> FC -> softmax ----
  const sd = Math.sqrt(stream.variance);
  x = add({
    op: 'BatchNorm', name: 'bn1', inputs: [x], gamma: Float32Array.from({ length: channels }, () => uniform(0.5, 1.5)),
    beta: Float32Array.from({ length: channels }, () => uniform(0, 0.5)),
    mean: Float32Array.from({ length: channels }, () => stream.mean + uniform(-0.2, 0.2) * sd),
    variance: Float32Array.from({ length: channels }, () => stream.variance * uniform(0.5, 2)), eps: EPS,
  });
  x = add({ op: 'Activation', name: 'relu1', inputs: [x], actType: 'relu' });
  x = add({
    op: 'Pooling', name: 'pool1', inputs: [x], poolType: 'avg', kernel: [7, 7], stride: [1, 1], pad: [0, 0], global: true,
    convention: 'valid', countIncludePad: true,
  });
  x = add({ op: 'Flatten', name: 'flatten0', inputs: [x] });
  const bound = 1 / Math.sqrt(channels);
  x = add({
    op: 'FullyConnected', name: 'fc1', inputs: [x], numHidden: classes,
    weight: Float32Array.from({ length: classes * channels }, () => uniform(-bound, bound)),
    bias: Float32Array.from({ length: classes }, () => uniform(-0.1, 0.1)),
  });
  add({ op: 'Softmax', name: 'softmax', inputs: [x] });
  return {
    name: `${zooName}${bits > 1 ? `-a${bits}` : ''}-seed${seed}`,
    source: { format: 'zoo', files: [] },
    nodes: g.nodes,
    output: 'softmax',
    inputNote: imagenet
      ? '3x224x224 float NCHW (ImageNet sized, the shapes of BMXNet\'s binary ResNet-18); random weights, no trained accuracy'
      : '3x32x32 float NCHW (CIFAR-10 sized); random weights, no trained accuracy',
  };
}
