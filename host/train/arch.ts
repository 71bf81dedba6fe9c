/**
 * The trainable architectures, as layer lists that drive both the tfjs forward pass
 * (net.ts) and the export to IR / BMXNet files (export.ts), so the two cannot drift.
 *
 * BMXNet's rules: first and last layer full precision, binary layers in between.
 * Names follow MXNet's automatic naming, as in BMXNet's own binary LeNet symbol.
 */
import { BitweaveError } from '../core/errors';

export type LayerSpec =
  /** Fully connected; binary = QFullyConnected (sign of weights and inputs, no bias), else float with bias. */
  | { kind: 'dense'; name: string; units: number; binary: boolean; qact?: string }
  /** Valid stride-1 square convolution; binary = QConvolution. */
  | { kind: 'conv'; name: string; filters: number; kernel: number; binary: boolean; qact?: string }
  | { kind: 'bn'; name: string }
  | { kind: 'tanh'; name: string }
  /** 2x2 max pooling, stride 2. */
  | { kind: 'pool'; name: string }
  | { kind: 'flatten'; name: string }
  /** QActivation act_bit=1 whose forward value is used: sign as ±1. */
  | { kind: 'sign'; name: string };

export interface Arch {
  name: ArchName;
  description: string;
  /** Input [C, H, W]. */
  input: [number, number, number];
  classes: number;
  /** Epochs when `bitweave train` is not told. */
  defaultEpochs: number;
  layers: LayerSpec[];
}

export type ArchName = 'mlp' | 'cnn';
export const ARCH_NAMES: readonly ArchName[] = ['mlp', 'cnn'];

/** BatchNorm epsilon written into the model (MXNet's default). */
export const BN_EPS = 1e-3;

const ARCHS: Record<ArchName, Arch> = {
  // 784 -> 1024 (float weights, binary activations) -> 1024 (binary weights and activations) -> 10 (float)
  mlp: {
    name: 'mlp',
    description: 'MLP 784 -> 1024 -> binary 1024 -> 10: float first and last layers, binary activations',
    input: [1, 28, 28],
    classes: 10,
    defaultEpochs: 10,
    layers: [
      { kind: 'dense', name: 'fullyconnected0', units: 1024, binary: false },
      { kind: 'bn', name: 'batchnorm0' },
      { kind: 'dense', name: 'qfullyconnected0', units: 1024, binary: true, qact: 'qactivation0' },
      { kind: 'bn', name: 'batchnorm1' },
      { kind: 'sign', name: 'qactivation1' },
      { kind: 'dense', name: 'fullyconnected1', units: 10, binary: false },
    ],
  },
  // BMXNet's binary LeNet
  cnn: {
    name: 'cnn',
    description: "BMXNet's binary LeNet: conv 5x5x64 -> tanh -> pool -> BN -> QConv 5x5x64 -> BN -> pool -> QFC 1000 -> BN -> tanh -> FC 10",
    input: [1, 28, 28],
    classes: 10,
    defaultEpochs: 4,
    layers: [
      { kind: 'conv', name: 'convolution0', filters: 64, kernel: 5, binary: false },
      { kind: 'tanh', name: 'activation0' },
      { kind: 'pool', name: 'pooling0' },
      { kind: 'bn', name: 'batchnorm0' },
      { kind: 'conv', name: 'qconvolution0', filters: 64, kernel: 5, binary: true, qact: 'qactivation0' },
      { kind: 'bn', name: 'batchnorm1' },
      { kind: 'pool', name: 'pooling1' },
      { kind: 'flatten', name: 'flatten0' },
      { kind: 'dense', name: 'qfullyconnected0', units: 1000, binary: true, qact: 'qactivation1' },
      { kind: 'bn', name: 'batchnorm2' },
      { kind: 'tanh', name: 'activation1' },
      { kind: 'dense', name: 'fullyconnected0', units: 10, binary: false },
    ],
  },
};

export function getArch(name: string): Arch {
  if (!(ARCH_NAMES as readonly string[]).includes(name)) {
    throw new BitweaveError(`unknown architecture '${name}' (known: ${ARCH_NAMES.join(', ')})`);
  }
  return ARCHS[name as ArchName];
}

/** Feature map [H, W, C] (vector: [1, 1, n]) after each layer, and whether it is flat. */
export interface LayerGeom {
  in: { h: number; w: number; c: number; flat: boolean };
  out: { h: number; w: number; c: number; flat: boolean };
}

export function layerGeoms(a: Arch): LayerGeom[] {
  let cur = { h: a.input[1], w: a.input[2], c: a.input[0], flat: false };
  return a.layers.map((l) => {
    const prev = cur;
    switch (l.kind) {
      case 'dense':
        cur = { h: 1, w: 1, c: l.units, flat: true };
        break;
      case 'conv':
        if (prev.flat) throw new Error(`arch ${a.name}: convolution ${l.name} after a vector`);
        cur = { h: prev.h - l.kernel + 1, w: prev.w - l.kernel + 1, c: l.filters, flat: false };
        break;
      case 'pool':
        cur = { ...prev, h: Math.floor(prev.h / 2), w: Math.floor(prev.w / 2) };
        break;
      case 'flatten':
        cur = { h: 1, w: 1, c: prev.h * prev.w * prev.c, flat: true };
        break;
      default:
        break;
    }
    return { in: prev, out: cur };
  });
}
