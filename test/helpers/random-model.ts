/**
 * Random BMXNet-style IR graphs for property tests: float conv -> BN -> binary layers
 * with BatchNorm, pooling, activations and flatten between them -> float dense.
 */
import { IRGraph, IRNode, Shape } from '../../host/ir/graph';
import { inferShape } from '../../host/ir/shapes';
import { randInt, rng } from './naive';

export interface RandomModelOptions {
  seed: number;
  /** Activation bits of the binary layers (default 1). */
  actBits?: number;
  /** Use a negative gamma on some channels (default true). */
  negativeGamma?: boolean;
  /** Make BatchNorm hit exact ties on integer inputs (default true). */
  ties?: boolean;
}

type NodeSpec = { op: IRNode['op']; name: string; inputs: string[]; shape?: Shape; [k: string]: unknown };

/** Nodes appended in order, each with its inferred shape. */
function graphBuilder(): { nodes: IRNode[]; add: (n: NodeSpec) => string } {
  const nodes: IRNode[] = [];
  const add = (n: NodeSpec): string => {
    const inputs = n.inputs.map((i) => nodes.find((x) => x.name === i)!.shape);
    const node = { ...n, shape: [] } as unknown as IRNode;
    node.shape = n.op === 'Input' ? (n.shape as Shape) : inferShape(node, inputs);
    nodes.push(node);
    return node.name;
  };
  return { nodes, add };
}

/**
 * A chain of binary dense layers of the given widths (input width first) with BatchNorm +
 * QActivation between them: one device segment of width.length - 1 layers, as small as
 * the caller likes (tests of per-layer fixed costs).
 */
export function denseChain(seed: number, widths: number[]): IRGraph {
  const r = rng(seed);
  const { nodes, add } = graphBuilder();
  const uniform = (n: number, lo: number, hi: number) => Float32Array.from({ length: n }, () => lo + (hi - lo) * r());
  let x = add({ op: 'Input', name: 'data', inputs: [], shape: [widths[0], 1, 1] });
  x = add({ op: 'Flatten', name: 'flatten', inputs: [x] });
  for (let i = 1; i < widths.length; i++) {
    x = add({ op: 'QActivation', name: `qact${i}`, inputs: [x], actBits: 1, backwardOnly: true });
    x = add({ op: 'QFullyConnected', name: `qfc${i}`, inputs: [x], numHidden: widths[i], actBits: 1, weight: { kind: 'float', data: uniform(widths[i] * widths[i - 1], -1, 1) } });
    if (i < widths.length - 1) {
      const c = widths[i];
      x = add({ op: 'BatchNorm', name: `bn${i}`, inputs: [x], gamma: uniform(c, 0.5, 2), beta: new Float32Array(c), mean: uniform(c, 0, widths[i - 1]), variance: uniform(c, 1, 4), eps: 1e-3 });
    }
  }
  return { name: `dense-chain-${seed}`, source: { format: 'test', files: [] }, nodes, output: x };
}

export function randomModel(o: RandomModelOptions): IRGraph {
  const r = rng(o.seed);
  const bits = o.actBits ?? 1;
  const { nodes, add } = graphBuilder();
  const uniform = (n: number, lo: number, hi: number) => Float32Array.from({ length: n }, () => lo + (hi - lo) * r());
  const bn = (name: string, input: string, c: number, k: number) => {
    // centre the BatchNorm on the accumulator range so outputs straddle 0
    const gamma = uniform(c, 0.5, 2);
    if (o.negativeGamma !== false) for (let i = 0; i < c; i++) if (r() < 0.3) gamma[i] = -gamma[i];
    if (r() < 0.1) gamma[0] = 0;
    const mean = o.ties !== false ? Float32Array.from({ length: c }, () => randInt(r, Math.floor(k / 4), Math.ceil((3 * k) / 4))) : uniform(c, k / 4, (3 * k) / 4);
    const beta = o.ties !== false ? new Float32Array(c) : uniform(c, -1, 1);
    return add({ op: 'BatchNorm', name, inputs: [input], gamma, beta, mean, variance: uniform(c, 1, k), eps: 1e-3 });
  };
  const C0 = randInt(r, 1, 3);
  const H0 = randInt(r, 8, 12);
  const F1 = randInt(r, 3, 70);
  const F2 = randInt(r, 2, 66);
  const hidden = randInt(r, 5, 40);
  const classes = randInt(r, 2, 10);
  const pad = randInt(r, 0, 1);
  let x = add({ op: 'Input', name: 'data', inputs: [], shape: [C0, H0, H0] });
  x = add({ op: 'Convolution', name: 'conv0', inputs: [x], kernel: [3, 3], stride: [1, 1], pad: [1, 1], numFilter: F1, weight: uniform(F1 * C0 * 9, -1, 1), bias: uniform(F1, -0.1, 0.1) });
  x = add({ op: 'Activation', name: 'tanh0', inputs: [x], actType: 'tanh' });
  x = add({ op: 'Pooling', name: 'pool0', inputs: [x], poolType: 'max', kernel: [2, 2], stride: [2, 2], pad: [0, 0], global: false, convention: 'valid', countIncludePad: true });
  x = add({ op: 'BatchNorm', name: 'bn0', inputs: [x], gamma: uniform(F1, -1, 1), beta: uniform(F1, -0.5, 0.5), mean: uniform(F1, -0.2, 0.2), variance: uniform(F1, 0.1, 1), eps: 1e-3 });
  x = add({ op: 'QActivation', name: 'qact0', inputs: [x], actBits: bits, backwardOnly: true });
  const k1 = 9 * F1 * (bits === 1 ? 1 : (1 << bits) - 1);
  x = add({
    op: 'QConvolution', name: 'qconv1', inputs: [x], kernel: [3, 3], stride: [1, 1], pad: [pad, pad], padValue: 1, numFilter: F2,
    actBits: bits, weight: { kind: 'float', data: uniform(F2 * F1 * 9, -1, 1) },
  });
  x = bn('bn1', x, F2, bits === 1 ? k1 : 0);
  x = add({ op: 'Pooling', name: 'pool1', inputs: [x], poolType: 'max', kernel: [2, 2], stride: [2, 2], pad: [0, 0], global: false, convention: 'valid', countIncludePad: true });
  if (r() < 0.5) x = add({ op: 'Activation', name: 'tanh1', inputs: [x], actType: 'tanh' });
  x = add({ op: 'Flatten', name: 'flatten1', inputs: [x] });
  x = add({ op: 'QActivation', name: 'qact1', inputs: [x], actBits: bits, backwardOnly: r() < 0.5 });
  const inFeatures = nodes[nodes.length - 1].shape[0];
  x = add({ op: 'QFullyConnected', name: 'qfc2', inputs: [x], numHidden: hidden, actBits: bits, weight: { kind: 'float', data: uniform(hidden * inFeatures, -1, 1) } });
  x = bn('bn2', x, hidden, bits === 1 ? inFeatures : 0);
  x = add({ op: 'Activation', name: 'tanh2', inputs: [x], actType: 'tanh' });
  x = add({ op: 'FullyConnected', name: 'fc3', inputs: [x], numHidden: classes, weight: uniform(classes * hidden, -1, 1), bias: uniform(classes, -0.1, 0.1) });
  add({ op: 'Softmax', name: 'softmax', inputs: [x] });
  return { name: `random-${o.seed}`, source: { format: 'test', files: [] }, nodes, output: 'softmax' };
}

export function randomImages(seed: number, count: number, shape: number[]): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: count * shape.reduce((a, b) => a * b, 1) }, () => Math.fround(r()));
}
