/**
 * FINN's example networks (the BNN-PYNQ topologies, trained today by Brevitas' bnn_pynq
 * examples) as zoo models with seeded random weights: for timing and sizing (`bitweave
 * project`), not for accuracy.
 *
 *   tfc-w1aK  MNIST MLP 784-64-64-64-10        (Brevitas cfg tfc_1w1a / tfc_1w2a: arch FC)
 *   sfc-w1aK  MNIST MLP 784-256-256-256-10     (sfc_1w1a / sfc_1w2a)
 *   lfc-w1aK  MNIST MLP 784-1024-1024-1024-10  (lfc_1w1a / lfc_1w2a)
 *   cnv-w1aK  CIFAR-10 CNN on 3x32x32: six 3x3 convolutions without padding (64, 64, pool,
 *             128, 128, pool, 256, 256: 32 -> 30 -> 28 -> 14 -> 12 -> 10 -> 5 -> 3 -> 1),
 *             then dense 256 -> 512 -> 512 -> 10 (cnv_1w1a / cnv_1w2a: arch CNV)
 *
 * with K = 1 or 2 activation bits. Facts from Brevitas' src/brevitas_examples/bnn_pynq
 * (models/FC.py, models/CNV.py, cfg/*.ini): every hidden layer is a bias-free quantised
 * linear / conv layer, BatchNorm, then the activation quantiser; 2x2 max pools after the
 * second and fourth convolution's activation; the last layer is followed by a TensorNorm (a
 * per-tensor affine, here a host BatchNorm: it does not change the class).
 *
 * Inputs, as FINN takes them. Both architectures first map an input x in [0, 1] to 2x - 1,
 * then quantise it to IN_BIT_WIDTH bits:
 *   - FC nets: IN_BIT_WIDTH = ACT_BIT_WIDTH (1 for w1a1, 2 for w1a2). w1a1: the first dense
 *     layer reads sign(2x - 1), i.e. pixel >= 0.5 (a host BatchNorm subtracting 0.5, then
 *     binarised at the host/device boundary). w1a2: the first layer reads 2-bit levels of the
 *     pixel on bitweave's k-bit path.
 *   - CNV: IN_BIT_WIDTH = 8 (Q1.7 fixed point). bitweave runs the first convolution on the
 *     array with 8-bit inputs (its k-bit activation path, 8 bit-planes of
 *     round(255·clip(x, 0, 1))), so the whole network is on the device, as in FINN, and the
 *     projection counts it. FINN's signed Q1.7 levels and these unsigned levels differ by an
 *     affine map of the same 256 steps, which a trained model's thresholds absorb; the array
 *     does the same 8 bit-plane passes either way.
 *
 * Activations of w1a2 use bitweave's k-bit path (BMXNet-style unsigned levels
 * round(3·clip(x, 0, 1)), computed over 2 bit-planes). FINN's 2-bit activations are signed
 * levels; the array's cycles depend only on the number of planes, so the cycle count is the
 * same. w2a2: FINN's 2-bit weights are ternary (signed, narrow range: -1, 0, +1), here
 * integer weights of 2 bits, one array pass per weight plane on every backend.
 */
import { BitweaveError } from '../core/errors';
import { IRGraph } from '../ir/graph';
import { GraphBuilder, NodeSpec } from '../ir/builder';
import { binarizingBnParams, rng } from './random';

export type FinnArch = 'tfc' | 'sfc' | 'lfc' | 'cnv';
export const FINN_ARCHS: readonly FinnArch[] = ['tfc', 'sfc', 'lfc', 'cnv'];

/** Hidden widths of the FC nets (Brevitas cfg OUT_FEATURES). */
export const FINN_FC_HIDDEN: Record<Exclude<FinnArch, 'cnv'>, number> = { tfc: 64, sfc: 256, lfc: 1024 };
/** CNV's convolutions: output channels and whether a 2x2 max pool follows (Brevitas CNV_OUT_CH_POOL). */
export const FINN_CNV_CONVS: readonly (readonly [number, boolean])[] = [[64, false], [64, true], [128, false], [128, true], [256, false], [256, false]];
/** CNV's dense layers after the convolutions (Brevitas INTERMEDIATE_FC_FEATURES, then the classifier). */
export const FINN_CNV_DENSE: readonly number[] = [512, 512];

export interface FinnOptions {
  seed?: number;
  /** Activation bits (FINN's ACT_BIT_WIDTH): 1 or 2. */
  actBits?: number;
  /** Weight bits: 1 (±1) or 2 (ternary, as FINN's w2a2). */
  weightBits?: number;
}

/** The zoo name of a FINN network ('tfc-w1a1'). */
export function finnName(arch: FinnArch, weightBits: number, actBits: number): string {
  return `${arch}-w${weightBits}a${actBits}`;
}

/** Parses 'cnv-w1a2' into its parts, or null when the name is not a FINN network's. */
export function parseFinnName(spec: string): { arch: FinnArch; weightBits: number; actBits: number } | null {
  const m = /^(tfc|sfc|lfc|cnv)-w(\d)a(\d)$/.exec(spec);
  return m ? { arch: m[1] as FinnArch, weightBits: Number(m[2]), actBits: Number(m[3]) } : null;
}

const EPS = 1e-4; // Brevitas bnn_pynq's BatchNorm eps

export function finnNetwork(arch: FinnArch, opts: FinnOptions = {}): IRGraph {
  const seed = opts.seed ?? 1;
  const bits = opts.actBits ?? 1;
  const wbits = opts.weightBits ?? 1;
  if (!FINN_ARCHS.includes(arch)) throw new BitweaveError(`unknown FINN network '${arch}' (known: ${FINN_ARCHS.join(', ')})`);
  const name = finnName(arch, wbits, bits);
  if (!['w1a1', 'w1a2', 'w2a2'].includes(name.slice(arch.length + 1))) {
    throw new BitweaveError(`${name}: FINN's networks come as w1a1, w1a2 and w2a2`);
  }
  const r = rng(seed);
  const g = new GraphBuilder();
  const add = (spec: NodeSpec): string => g.add(spec);

  /**
   * Statistics of a layer's float output over K inputs with `inBits`-bit activations: P for
   * ±1 by ±1, else dot / L (L = 2^k - 1 for k-bit levels, 1 for ±1), weights ±1 or ternary.
   */
  const outStats = (K: number, inBits: number) => {
    if (inBits === 1 && wbits === 1) return { mean: K / 2, variance: K / 4 };
    const l = inBits === 1 ? 1 : (1 << inBits) - 1;
    const a2 = inBits === 1 ? 1 : (l * (2 * l + 1)) / 6; // E[a^2] of uniform levels 0..l
    const w2 = wbits === 1 ? 1 : 2 / 3; // E[w^2] of uniform {-1, 0, 1}
    return { mean: 0, variance: (K * a2 * w2) / (l * l) };
  };

  /**
   * BatchNorm + activation quantiser after a binary layer, centred on its output's statistics
   * so the next layer sees balanced bits (1 bit: sign, 30% negative gammas) or every level
   * (2 bits: mapped to about [0, 1]), as in a trained network.
   */
  const bnAct = (name: string, input: string, c: number, s: { mean: number; variance: number }): string => {
    const { gamma, beta, mean, variance } = binarizingBnParams(r, c, s, bits);
    return add({ op: 'BatchNorm', name, inputs: [input], gamma, beta, mean, variance, eps: EPS });
  };
  const weights = (n: number) =>
    wbits === 1
      ? { kind: 'float' as const, data: Float32Array.from({ length: n }, () => (r() < 0.5 ? -1 : 1)) }
      : { kind: 'int' as const, bits: 2, signed: true, data: Int8Array.from({ length: n }, () => Math.floor(r() * 3) - 1) };

  let x: string;
  let inBits: number;
  let layers = 0;
  if (arch === 'cnv') {
    x = add({ op: 'Input', name: 'data', inputs: [], shape: [3, 32, 32] });
    // the first convolution reads 8-bit pixels on the array's k-bit path (FINN: Q1.7 input)
    inBits = 8;
    let c = 3;
    for (const [outC, pool] of FINN_CNV_CONVS) {
      const i = layers++;
      const K = 9 * c;
      x = add({
        op: 'QConvolution', name: `conv${i}`, inputs: [x], kernel: [3, 3], stride: [1, 1], pad: [0, 0], padValue: 1,
        numFilter: outC, actBits: inBits, weight: weights(outC * K),
      });
      x = bnAct(`bn${i}`, x, outC, outStats(K, inBits));
      if (pool) {
        x = add({
          op: 'Pooling', name: `pool${i}`, inputs: [x], poolType: 'max', kernel: [2, 2], stride: [2, 2], pad: [0, 0], global: false,
          convention: 'valid', countIncludePad: true,
        });
      }
      x = add({ op: 'QActivation', name: `act${i}`, inputs: [x], actBits: bits, backwardOnly: true });
      inBits = bits;
      c = outC;
    }
    x = add({ op: 'Flatten', name: 'flatten', inputs: [x] });
  } else {
    x = add({ op: 'Input', name: 'data', inputs: [], shape: [1, 28, 28] });
    if (bits === 1) {
      // sign(2x - 1): pixel >= 0.5 is +1; an exact host BatchNorm (scale 1) subtracts 0.5
      x = add({
        op: 'BatchNorm', name: 'input_centre', inputs: [x], gamma: Float32Array.of(1), beta: Float32Array.of(0),
        mean: Float32Array.of(0.5), variance: Float32Array.of(1 - EPS), eps: EPS,
      });
    }
    // a vector (1x1x784) packs 784 bits into 13 words; the 28x28x1 map would take a word per pixel
    x = add({ op: 'Flatten', name: 'flatten', inputs: [x] });
    inBits = bits;
  }

  const hidden = arch === 'cnv' ? FINN_CNV_DENSE : [1, 2, 3].map(() => FINN_FC_HIDDEN[arch]);
  const widths = [...hidden, 10];
  for (let j = 0; j < widths.length; j++) {
    const n = widths[j];
    const i = layers++;
    const K = g.shape(x).reduce((a, b) => a * b, 1);
    x = add({ op: 'QFullyConnected', name: `fc${i}`, inputs: [x], numHidden: n, actBits: inBits, weight: weights(n * K) });
    const s = outStats(K, inBits);
    if (j === widths.length - 1) {
      // TensorNorm after the classifier: a host affine (BatchNorm) on the integers
      const sd = Math.sqrt(s.variance);
      x = add({
        op: 'BatchNorm', name: 'tensor_norm', inputs: [x], gamma: new Float32Array(10).fill(1), beta: new Float32Array(10),
        mean: new Float32Array(10).fill(s.mean), variance: new Float32Array(10).fill(sd * sd), eps: EPS,
      });
      break;
    }
    x = bnAct(`bn${i}`, x, n, s);
    x = add({ op: 'QActivation', name: `act${i}`, inputs: [x], actBits: bits, backwardOnly: true });
    inBits = bits;
  }
  add({ op: 'Softmax', name: 'softmax', inputs: [x] });

  const input = arch === 'cnv' ? '3x32x32 float NCHW in [0, 1] (CIFAR-10 pixels / 255; 8-bit levels on the array)' : `1x28x28 float NCHW in [0, 1] (MNIST pixels / 255; ${bits === 1 ? 'binarised at 0.5' : '2-bit levels'})`;
  return {
    name: `${name}-seed${seed}`,
    source: { format: 'zoo', files: [] },
    nodes: g.nodes,
    output: 'softmax',
    inputNote: `${input}; FINN's ${arch.toUpperCase()} topology with random weights, no trained accuracy`,
  };
}
