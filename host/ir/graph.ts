/**
 * The IR: a typed graph of float and binary layers, as an importer produces it.
 *
 * Semantics follow the source framework (MXNet/BMXNet): tensor shapes are given
 * without the batch axis in NCHW order ([C, H, W] for feature maps, [N] for
 * vectors), and weights keep the source's element order. `compile` turns this into
 * the canonical NHWC / packed form (see host/compile/model.ts).
 */

export type Shape = number[];

/**
 * Weights of a binary / low-bit layer: floats (binarised by sign at compile time), bits
 * already packed, or k-bit integers.
 */
export type BinaryWeights =
  | { kind: 'float'; data: Float32Array }
  /**
   * Bits packed LSB-first in the source's element order (O, C, kh, kw for convolutions,
   * O, I for dense), held as Uint32 halves. `wordBits` is the word size of the source file
   * (BMXNet stores 32-bit words as float32 and 64-bit words as float64); by the packing
   * rule both give identical bytes.
   */
  | { kind: 'packed'; words: Uint32Array; wordBits: 32 | 64 }
  /**
   * k-bit integer weights (bits 2..4) in the source's element order, one value per element:
   * unsigned 0..2^bits-1 or signed -2^(bits-1)..2^(bits-1)-1. The layer computes the exact
   * integer dot product with them; a weight scale is a following per-channel affine (a
   * BatchNorm node), which compile folds into the next layer's thresholds like any other.
   */
  | { kind: 'int'; bits: number; signed: boolean; data: Int8Array };

interface NodeBase {
  /** Unique node name (from the source graph). */
  name: string;
  /** Names of the nodes whose outputs feed this one (data inputs only, no parameters). */
  inputs: string[];
  /** Output shape without the batch axis, filled in by shape inference. */
  shape: Shape;
}

export interface InputNode extends NodeBase { op: 'Input' }

export interface ConvolutionNode extends NodeBase {
  op: 'Convolution';
  kernel: [number, number];
  stride: [number, number];
  pad: [number, number];
  numFilter: number;
  /**
   * Grouped convolution (MXNet's num_group; absent = 1): input channels and filters split
   * into numGroup equal groups, filter o reads only the C/numGroup channels of group
   * floor(o / (numFilter/numGroup)). numGroup = C is a depthwise conv.
   */
  numGroup?: number;
  /** O, C/numGroup, H, W, float32. */
  weight: Float32Array;
  bias: Float32Array | null;
}

export interface FullyConnectedNode extends NodeBase {
  op: 'FullyConnected';
  numHidden: number;
  /** [numHidden, inputFeatures], inputs in the source's flatten order (C, H, W). */
  weight: Float32Array;
  bias: Float32Array | null;
}

export interface BatchNormNode extends NodeBase {
  op: 'BatchNorm';
  /** Per channel (axis 1). With fixGamma the importer has already set gamma to 1. */
  gamma: Float32Array;
  beta: Float32Array;
  mean: Float32Array;
  variance: Float32Array;
  eps: number;
}

export interface ActivationNode extends NodeBase {
  op: 'Activation';
  actType: 'tanh' | 'relu' | 'sigmoid';
}

export interface PoolingNode extends NodeBase {
  op: 'Pooling';
  poolType: 'max' | 'avg';
  kernel: [number, number];
  stride: [number, number];
  pad: [number, number];
  global: boolean;
  /** 'valid' floors the output size, 'full' ceils it (MXNet pooling_convention). */
  convention: 'valid' | 'full';
  /** Average pooling divides by the full window including padding (MXNet default). */
  countIncludePad: boolean;
}

/**
 * y = x * scale[c] + bias[c] per channel (axis 1; per feature on a vector), in float32, one
 * multiply and one add as written: the constant Mul / Add / Sub / Div of ONNX graphs
 * (input preprocessing, the affine that maps a ±1 dot product onto the match count P).
 */
export interface AffineNode extends NodeBase {
  op: 'Affine';
  scale: Float32Array;
  bias: Float32Array;
}

/**
 * FINN's MultiThreshold as the input quantiser of the next binary layer: level n = the number
 * of thresholds x >= t[c][j] passes (0..count), stored in `bits` planes, signed as n - 2^(bits-1)
 * when `signed`. It runs only folded into the producing binary layer's thresholds.
 */
export interface MultiThresholdNode extends NodeBase {
  op: 'MultiThreshold';
  /** [C][count] per-channel thresholds (float32, as the source stores them). */
  thresholds: Float32Array;
  count: number;
  bits: number;
  signed: boolean;
}

export interface FlattenNode extends NodeBase { op: 'Flatten' }
export interface AddNode extends NodeBase { op: 'Add' }
export interface SoftmaxNode extends NodeBase { op: 'Softmax' }

export interface QActivationNode extends NodeBase {
  op: 'QActivation';
  actBits: number;
  /** k-bit signed levels round((2^(k-1)-1)·clip(x,-1,1)) (k >= 2; absent: unsigned). */
  signed?: boolean;
  /** Forward pass is the identity (the following Q layer quantises its own input). */
  backwardOnly: boolean;
}

export interface QConvolutionNode extends NodeBase {
  op: 'QConvolution';
  kernel: [number, number];
  stride: [number, number];
  pad: [number, number];
  /**
   * Value of padded input elements. 1-bit inputs: +1 (BMXNet v1: zero-pad then sign), -1, or
   * 0 (Larq's zero padding: a padded position contributes nothing). With 1-bit inputs and pad
   * value 0 the layer's integer output is Q = K + dot (dot over the real positions), not the
   * match count P; an importer maps its source onto Q exactly (docs/FORMAT.md §5). k-bit
   * inputs: the level 0 for 1 (zero-pad then quantise) and 0; -1 only for signed inputs.
   */
  padValue: 1 | -1 | 0;
  numFilter: number;
  /** Bits of the input activations (1 = sign, k > 1 = k-bit levels). */
  actBits: number;
  /** k-bit input activations are signed (QActivationNode.signed); absent: unsigned. */
  actSigned?: boolean;
  weight: BinaryWeights;
}

export interface QFullyConnectedNode extends NodeBase {
  op: 'QFullyConnected';
  numHidden: number;
  actBits: number;
  /** k-bit input activations are signed; absent: unsigned. */
  actSigned?: boolean;
  /** [numHidden, inputFeatures] in the source's flatten order. */
  weight: BinaryWeights;
}

export type IRNode =
  | InputNode
  | ConvolutionNode
  | FullyConnectedNode
  | BatchNormNode
  | ActivationNode
  | PoolingNode
  | AffineNode
  | MultiThresholdNode
  | FlattenNode
  | AddNode
  | SoftmaxNode
  | QActivationNode
  | QConvolutionNode
  | QFullyConnectedNode;

export type IROp = IRNode['op'];

export interface IRGraph {
  /** Model name (for messages and inspect). */
  name: string;
  /** Where it came from, e.g. "bmxnet" + file names. */
  source: { format: string; files: string[] };
  /** Nodes in topological order; the first is the single Input. */
  nodes: IRNode[];
  /** Name of the node whose output is the model output. */
  output: string;
  /** Input preprocessing the model expects (documented per source; informational). */
  inputNote?: string;
  /** How the input shape was inferred when the source does not store it (a note for the user). */
  inputShapeNote?: string;
}

export function findNode(g: IRGraph, name: string): IRNode {
  const n = g.nodes.find((x) => x.name === name);
  if (!n) throw new Error(`IR: no node named ${name}`);
  return n;
}
