/** A JSON-able summary of a compiled model: layers, shapes, partition and sizes. */
import { CompiledModel, CompiledOp, isDeviceOp, PAD_ZERO, Preprocess, Segment, TensorInfo, weightBytes } from './model';
import { opInputs } from './partition';

export interface LayerSummary {
  index: number;
  name: string;
  op: CompiledOp['op'];
  where: 'host' | 'device';
  segment: number;
  input: string;
  output: string;
  detail: string;
  /** Bytes of this op's parameters as stored (packed bits for binary layers). */
  paramBytes: number;
}

export interface ModelSummary {
  name: string;
  source: { format: string; files: string[] };
  input: string;
  output: string;
  classes: number;
  layers: LayerSummary[];
  segments: { index: number; kind: 'host' | 'device'; ops: [number, number]; inputs: number[]; outputs: number[] }[];
  /** Binary layers' weights as packed bits (canonical layout, incl. word padding). */
  packedWeightBytes: number;
  /** The same binary weights as float32 (what the source model stores before conversion). */
  floatWeightBytes: number;
  /** floatWeightBytes / packedWeightBytes. */
  packedRatio: number;
  /** Float layers' parameters (first/last layers, BatchNorm of host segments). */
  hostWeightBytes: number;
  /** Thresholds, flip bits and pool directions of folded epilogues. */
  thresholdBytes: number;
  /** Whole model as float32 vs as compiled. */
  modelFloatBytes: number;
  modelCompiledBytes: number;
  modelRatio: number;
  /** The stored input preprocessing, null when none is stored (stretch, u8/255). */
  preprocess: Preprocess | null;
  /** The stored class labels, null when none are stored. */
  labels: string[] | null;
}

export function shapeString(t: TensorInfo): string {
  const dims = t.h === 1 && t.w === 1 ? `${t.c}` : `${t.h}x${t.w}x${t.c}`;
  return t.kind === 'bits' ? `${dims} ${t.planes}-bit${t.signed ? ' signed' : ''}` : `${dims} ${t.kind}`;
}

function detail(op: CompiledOp): string {
  switch (op.op) {
    case 'conv2d':
      return `${op.kh}x${op.kw}/${op.sh} pad ${op.ph},${op.pw}${op.groups > 1 ? ` groups ${op.groups}` : ''}${op.bias ? ' +bias' : ''}`;
    case 'dense':
      return op.bias ? '+bias' : '';
    case 'pool':
      return `${op.mode} ${op.kh}x${op.kw}/${op.sh} pad ${op.ph},${op.pw}`;
    case 'activation':
      return op.fn;
    case 'quantize':
    case 'binarize':
      return `${op.bits}-bit`;
    case 'dequantize':
      return `/${op.divisor}`;
    case 'bconv': {
      const wBits = op.wBits ?? 1;
      const w = wBits === 1 ? '' : ` x ${wBits}-bit ${op.wSigned ? 'signed' : 'unsigned'} weights`;
      const mode = op.inBits === 1 && wBits === 1 ? 'xnor' : `and x${op.inBits} planes${w}`;
      const pool = op.pool ? ` pool ${op.pool.kh}x${op.pool.kw}/${op.pool.sh}` : '';
      const epi = op.epilogue.kind === 'int' ? ' -> int' : ` -> ${op.epilogue.bits}-bit thresholds`;
      const pad = op.inBits === 1 ? (op.padBit === PAD_ZERO ? '0' : op.padBit ? '+1' : '-1') : `bit ${op.padBit}`;
      return `${op.kh}x${op.kw}/${op.sh} pad ${op.ph},${op.pw} (${pad}) ${mode}${pool}${epi}`;
    }
    default:
      return '';
  }
}

function paramBytes(op: CompiledOp): number {
  switch (op.op) {
    case 'conv2d':
    case 'dense':
      return op.weight.byteLength + (op.bias?.byteLength ?? 0);
    case 'batchnorm':
      return op.mean.byteLength + op.scale.byteLength + op.beta.byteLength;
    case 'bconv':
      return op.weight.byteLength + (op.epilogue.kind === 'threshold' ? op.epilogue.thresholds.byteLength + op.epilogue.flip.byteLength : 0) + (op.pool?.useMin.byteLength ?? 0);
    default:
      return 0;
  }
}

/** `segments`: the partition to report, e.g. the one a backend runs (Session.segments); default the model's. */
export function describeModel(m: CompiledModel, segments: readonly Segment[] = m.segments): ModelSummary {
  const segOf = (i: number) => segments.findIndex((s) => i >= s.start && i < s.end);
  const layers = m.ops.map((op, i): LayerSummary => ({
    index: i,
    name: m.opNames[i],
    op: op.op,
    where: isDeviceOp(op) ? 'device' : 'host',
    segment: segOf(i),
    input: opInputs(op).map((t) => shapeString(m.tensors[t])).join(' + '),
    output: shapeString(m.tensors[op.out]),
    detail: detail(op),
    paramBytes: paramBytes(op),
  }));
  const w = weightBytes(m);
  const inT = m.tensors[m.input];
  const outT = m.tensors[m.output];
  const modelCompiledBytes = w.packed + w.float + w.thresholds;
  const modelFloatBytes = m.floatWeightBytes + w.float;
  return {
    name: m.name,
    source: m.source,
    input: `${inT.c}x${inT.h}x${inT.w} (NCHW)`,
    output: shapeString(outT),
    classes: outT.h * outT.w * outT.c,
    layers,
    segments: segments.map((s, i) => ({ index: i, kind: s.kind, ops: [s.start, s.end], inputs: s.inputs, outputs: s.outputs })),
    packedWeightBytes: w.packed,
    floatWeightBytes: m.floatWeightBytes,
    packedRatio: w.packed > 0 ? m.floatWeightBytes / w.packed : 0,
    hostWeightBytes: w.float,
    thresholdBytes: w.thresholds,
    modelFloatBytes,
    modelCompiledBytes,
    modelRatio: modelCompiledBytes > 0 ? modelFloatBytes / modelCompiledBytes : 0,
    preprocess: m.preprocess ?? null,
    labels: m.labels ?? null,
  };
}
