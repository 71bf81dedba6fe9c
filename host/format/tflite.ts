/**
 * The `.tflite` reader: a TFLite FlatBuffer (as LCE's converter writes it for Larq models)
 * -> a plain typed structure, checked but not interpreted. What the operators mean is the
 * importer's business (host/import/); this file guarantees that what it returns is
 * self-consistent: every index points at something that exists, constant data has the
 * size its shape says, and every subgraph's operators are in topological order.
 *
 * Field slots and enums come from tflite-schema.ts; every byte is read through the
 * bounds-checked flatbuffer.ts. A malformed file is one FormatError
 * (`<file>: <what is wrong>`); a well-formed file using something this reader does not
 * represent (another schema version, sparse tensors, non-FlexBuffer custom options) is one
 * UnsupportedError.
 */
import { FormatError, UnsupportedError } from '../core/errors';
import { readFileBounded } from '../core/files';
import { printable } from '../core/text';
import { FlatReader, Table } from './flatbuffer';
import { decodeFlexBuffer, FlexValue } from './flexbuffers';
import {
  ACTIVATIONS, ActivationName, BUILTIN_CUSTOM, BUILTIN_OPERATORS, CUSTOM_OPTIONS_FLEXBUFFERS, FC_WEIGHTS_FORMATS,
  OPTIONS_OF_BUILTIN, OPTIONS_TYPE, OptionsTypeName, PADDINGS, PaddingName, QUANTIZATION_DETAILS_NONE, SLOT,
  TENSOR_TYPE_BYTES, TENSOR_TYPES, TensorTypeName, TFLITE_IDENTIFIER, TFLITE_SCHEMA_VERSION,
} from './tflite-schema';

export type { TensorTypeName, PaddingName, ActivationName } from './tflite-schema';
export type { FlexValue, FlexMap } from './flexbuffers';

/**
 * Largest .tflite file read whole: Node reads at most 2 GiB at once. Larger models keep
 * their buffers outside the FlatBuffer (Buffer.offset/size), which this reader supports
 * within a file it can read.
 */
export const MAX_TFLITE_BYTES = 2 ** 31 - 1;

export interface TfliteQuantization {
  scale: number[];
  zeroPoint: number[];
  quantizedDimension: number;
}

export interface TfliteTensor {
  name: string;
  type: TensorTypeName;
  shape: number[];
  /** Like shape, with -1 for dimensions unknown at conversion time; absent when not stored. */
  shapeSignature?: number[];
  buffer: number;
  /** The constant's bytes (a view into the file, little-endian, not aligned), or null. */
  data: Uint8Array | null;
  /** Null when the tensor has no scale (float tensors, LCE's bitpacked INT32 tensors). */
  quantization: TfliteQuantization | null;
  isVariable: boolean;
}

export interface TfliteOpcode {
  /** BuiltinOperator name, 'CUSTOM' for custom ops, `BUILTIN_<n>` for codes newer than this reader. */
  builtin: string;
  builtinCode: number;
  customCode?: string;
  version: number;
}

export interface Conv2DOptions {
  type: 'Conv2DOptions';
  padding: PaddingName; strideW: number; strideH: number; fusedActivationFunction: ActivationName;
  dilationWFactor: number; dilationHFactor: number;
}
export interface DepthwiseConv2DOptions {
  type: 'DepthwiseConv2DOptions';
  padding: PaddingName; strideW: number; strideH: number; depthMultiplier: number;
  fusedActivationFunction: ActivationName; dilationWFactor: number; dilationHFactor: number;
}
export interface Pool2DOptions {
  type: 'Pool2DOptions';
  padding: PaddingName; strideW: number; strideH: number; filterWidth: number; filterHeight: number;
  fusedActivationFunction: ActivationName;
}
export interface FullyConnectedOptions {
  type: 'FullyConnectedOptions';
  fusedActivationFunction: ActivationName; weightsFormat: (typeof FC_WEIGHTS_FORMATS)[number];
  keepNumDims: boolean; asymmetricQuantizeInputs: boolean;
}
export interface SoftmaxOptions { type: 'SoftmaxOptions'; beta: number }
export interface AddOptions { type: 'AddOptions'; fusedActivationFunction: ActivationName; potScaleInt16: boolean }
export interface MulOptions { type: 'MulOptions'; fusedActivationFunction: ActivationName }
export interface ReducerOptions { type: 'ReducerOptions'; keepDims: boolean }
export interface ReshapeOptions { type: 'ReshapeOptions'; newShape: number[] | null }
export interface EmptyOptions { type: 'PadOptions' | 'QuantizeOptions' | 'DequantizeOptions' }
export type BuiltinOptions =
  | Conv2DOptions | DepthwiseConv2DOptions | Pool2DOptions | FullyConnectedOptions | SoftmaxOptions
  | AddOptions | MulOptions | ReducerOptions | ReshapeOptions | EmptyOptions;

export interface TfliteOperator {
  opcodeIndex: number;
  opcode: TfliteOpcode;
  /** Tensor indices; -1 marks an absent optional input. */
  inputs: number[];
  outputs: number[];
  /** Decoded for the builtins in OPTIONS_OF_BUILTIN when the file stores them; else null. */
  builtinOptions: BuiltinOptions | null;
  /** A custom op's FlexBuffer options, decoded; null when it has none (or is a builtin). */
  customOptions: FlexValue | null;
}

export interface TfliteSubgraph {
  name: string;
  tensors: TfliteTensor[];
  inputs: number[];
  outputs: number[];
  operators: TfliteOperator[];
}

export interface TfliteModel {
  version: number;
  description: string;
  subgraphs: TfliteSubgraph[];
  /** Every buffer's bytes (views into the file; empty when the buffer holds nothing). */
  buffers: Uint8Array[];
  /** Named metadata buffers (the converter writes `min_runtime_version`). */
  metadata: { name: string; data: Uint8Array }[];
}

/** A name from the file, quoted for a one-line message. */
const quote = (s: string): string => `'${printable(s, 60)}'`;

/** Read and parse a .tflite file. */
export function readTflite(path: string): TfliteModel {
  return parseTflite(readFileBounded(path, MAX_TFLITE_BYTES), path);
}

/** Parse .tflite bytes; `file` names the source in errors. Tensor data aliases `bytes`. */
export function parseTflite(bytes: Uint8Array, file: string): TfliteModel {
  if (bytes.length < 8) throw new FormatError(file, `${bytes.length} bytes is too short for a .tflite file`);
  const id = String.fromCharCode(...bytes.subarray(4, 8));
  if (id !== TFLITE_IDENTIFIER) {
    throw new FormatError(file, `not a TFLite model: file identifier (bytes 4..7) is ${JSON.stringify(id)}, expected "${TFLITE_IDENTIFIER}"`);
  }
  const r = new FlatReader(bytes, file);
  const model = r.root('model');
  const S = SLOT.Model;
  const version = model.u32(S.version, 0);
  if (version !== TFLITE_SCHEMA_VERSION) {
    throw new UnsupportedError(`${file}: TFLite schema version ${version}; bitweave reads version ${TFLITE_SCHEMA_VERSION}`);
  }
  const buffers = (model.tables(S.buffers, 'buffers') ?? []).map((b, i) => readBuffer(r, b, i));
  const opcodes = (model.tables(S.operator_codes, 'operator_codes') ?? []).map((t, i) => readOpcode(r, t, i));
  const subgraphTables = model.tables(S.subgraphs, 'subgraphs') ?? [];
  if (subgraphTables.length === 0) r.fail('the model has no subgraph');
  const subgraphs = subgraphTables.map((t, i) => readSubgraph(r, t, i, opcodes, buffers));
  const metadata = (model.tables(S.metadata, 'metadata') ?? []).map((t, i) => {
    const name = t.string(SLOT.Metadata.name, 'name') ?? '';
    const buffer = t.u32(SLOT.Metadata.buffer, 0);
    if (buffer >= buffers.length) r.fail(`metadata[${i}] ${quote(name)} refers to buffer ${buffer} of ${buffers.length}`);
    return { name, data: buffers[buffer] };
  });
  return { version, description: model.string(S.description, 'description') ?? '', subgraphs, buffers, metadata };
}

function readBuffer(r: FlatReader, t: Table, index: number): Uint8Array {
  const S = SLOT.Buffer;
  const data = t.bytes(S.data, 'data');
  const offset = t.u64(S.offset, 0, 'offset');
  const size = t.u64(S.size, 0, 'size');
  // schema: offset/size locate data after the FlatBuffer (models over 2 GB); valid when offset > 1
  if (offset > 1) {
    if (data && data.length > 0) r.fail(`buffers[${index}] has both inline data and an external offset`);
    if (offset + size > r.length) {
      r.fail(`buffers[${index}]: external data at bytes ${offset}..${offset + size} lies beyond the end of the ${r.length}-byte file (truncated?)`);
    }
    return r.bytes.subarray(offset, offset + size);
  }
  return data ?? r.bytes.subarray(0, 0);
}

function readOpcode(r: FlatReader, t: Table, index: number): TfliteOpcode {
  const S = SLOT.OperatorCode;
  // files before schema 3a only have the byte-wide deprecated code; newer ones write both
  // (the byte saturated at 127 for codes above it), so the larger one is the code
  const code = Math.max(t.i8(S.deprecated_builtin_code, 0), t.i32(S.builtin_code, 0));
  if (code < 0) r.fail(`operator_codes[${index}]: builtin code ${code} is negative (corrupt)`);
  const version = t.i32(S.version, 1);
  const builtin = BUILTIN_OPERATORS[code] ?? `BUILTIN_${code}`;
  if (code !== BUILTIN_CUSTOM) return { builtin, builtinCode: code, version };
  const customCode = t.string(S.custom_code, 'custom_code');
  if (!customCode) r.fail(`operator_codes[${index}] is CUSTOM without a custom_code`);
  return { builtin, builtinCode: code, customCode, version };
}

function readSubgraph(r: FlatReader, g: Table, index: number, opcodes: TfliteOpcode[], buffers: Uint8Array[]): TfliteSubgraph {
  const S = SLOT.SubGraph;
  const name = g.string(S.name, 'name') ?? '';
  const where = `subgraph ${index}${name ? ` ${quote(name)}` : ''}`;
  const tensors = (g.tables(S.tensors, 'tensors') ?? []).map((t, i) => readTensor(r, t, `${where}, tensor ${i}`, buffers));
  const operators = (g.tables(S.operators, 'operators') ?? []).map((t, i) => readOperator(r, t, `${where}, operator ${i}`, opcodes));
  const sg: TfliteSubgraph = {
    name,
    tensors,
    inputs: g.i32s(S.inputs, 'inputs') ?? [],
    outputs: g.i32s(S.outputs, 'outputs') ?? [],
    operators,
  };
  checkDataflow(r, sg, where);
  return sg;
}

function readTensor(r: FlatReader, t: Table, where: string, buffers: Uint8Array[]): TfliteTensor {
  const S = SLOT.Tensor;
  const name = t.string(S.name, 'name') ?? '';
  const at = name ? `${where} ${quote(name)}` : where;
  const typeCode = t.i8(S.type, 0);
  const type = TENSOR_TYPES[typeCode];
  if (type === undefined) r.fail(`${at}: unknown tensor type ${typeCode}`);
  const shape = t.i32s(S.shape, 'shape') ?? [];
  if (shape.some((d) => d < 0)) r.fail(`${at}: shape [${shape.join(', ')}] has a negative dimension`);
  const shapeSignature = t.i32s(S.shape_signature, 'shape_signature') ?? undefined;
  if (t.has(S.sparsity)) throw new UnsupportedError(`${r.file}: ${at} is sparse; bitweave reads dense tensors only`);
  const buffer = t.u32(S.buffer, 0);
  if (buffer >= buffers.length) r.fail(`${at} refers to buffer ${buffer}, but the model has ${buffers.length}`);
  const bytes = buffers[buffer];
  const data = bytes.length > 0 ? bytes : null;
  const elementBytes = TENSOR_TYPE_BYTES[type];
  if (data && elementBytes !== undefined) {
    const expected = shape.reduce((a, d) => a * d, 1) * elementBytes;
    if (data.length !== expected) {
      r.fail(`${at}: its buffer has ${data.length} bytes, but shape [${shape.join(', ')}] of ${type} needs ${expected}`);
    }
  }
  const q = t.table(S.quantization, 'quantization');
  return {
    name, type, shape, ...(shapeSignature ? { shapeSignature } : {}), buffer, data,
    quantization: q ? readQuantization(r, q, at) : null, isVariable: t.bool(S.is_variable, false),
  };
}

function readQuantization(r: FlatReader, q: Table, at: string): TfliteQuantization | null {
  const S = SLOT.QuantizationParameters;
  if (q.u8(S.details_type, QUANTIZATION_DETAILS_NONE) !== QUANTIZATION_DETAILS_NONE) {
    // the details replace scale and zero point, so returning those would misstate the tensor
    throw new UnsupportedError(`${r.file}: ${at} uses custom quantization details; bitweave reads scale and zero point only`);
  }
  const scale = q.f32s(S.scale, 'scale') ?? [];
  const zeroPoint = q.i64s(S.zero_point, 'zero_point') ?? [];
  // converters write an empty table for float tensors: no scale means not quantized
  if (scale.length === 0 && zeroPoint.length === 0) return null;
  if (zeroPoint.length !== 0 && zeroPoint.length !== scale.length) {
    r.fail(`${at}: quantization has ${scale.length} scales and ${zeroPoint.length} zero points`);
  }
  return { scale, zeroPoint, quantizedDimension: q.i32(S.quantized_dimension, 0) };
}

function readOperator(r: FlatReader, t: Table, where: string, opcodes: TfliteOpcode[]): TfliteOperator {
  const S = SLOT.Operator;
  const opcodeIndex = t.u32(S.opcode_index, 0);
  const opcode = opcodes[opcodeIndex];
  if (!opcode) r.fail(`${where} uses operator code ${opcodeIndex}, but the model has ${opcodes.length}`);
  const at = `${where} (${printable(opcode.customCode ?? opcode.builtin, 60)})`;
  const op: TfliteOperator = {
    opcodeIndex,
    opcode,
    inputs: t.i32s(S.inputs, 'inputs') ?? [],
    outputs: t.i32s(S.outputs, 'outputs') ?? [],
    builtinOptions: readBuiltinOptions(r, t, opcode, at),
    customOptions: null,
  };
  if (opcode.customCode === undefined) return op;
  const format = t.u8(S.custom_options_format, CUSTOM_OPTIONS_FLEXBUFFERS);
  if (format !== CUSTOM_OPTIONS_FLEXBUFFERS) throw new UnsupportedError(`${r.file}: ${at}: custom options format ${format} is not FlexBuffers`);
  let raw = t.bytes(S.custom_options, 'custom_options');
  const offset = t.u64(S.large_custom_options_offset, 0, 'large_custom_options_offset');
  if (offset > 1) { // as for buffers: options stored after the FlatBuffer in models over 2 GB
    const size = t.u64(S.large_custom_options_size, 0, 'large_custom_options_size');
    if (offset + size > r.length) r.fail(`${at}: external custom options at bytes ${offset}..${offset + size} lie beyond the end of the ${r.length}-byte file`);
    raw = r.bytes.subarray(offset, offset + size);
  }
  if (raw && raw.length > 0) op.customOptions = decodeFlexBuffer(raw, r.file, `${at} custom options`);
  return op;
}

function readBuiltinOptions(r: FlatReader, t: Table, opcode: TfliteOpcode, at: string): BuiltinOptions | null {
  const expected = OPTIONS_OF_BUILTIN[opcode.builtin];
  if (expected === undefined) return null; // a builtin this reader does not decode
  const typeCode = t.u8(SLOT.Operator.builtin_options_type, 0);
  if (typeCode === 0) return null;
  const found = (Object.keys(OPTIONS_TYPE) as OptionsTypeName[]).find((k) => OPTIONS_TYPE[k] === typeCode);
  if (found !== expected) {
    r.fail(`${at} carries builtin options of union type ${found ?? typeCode}, expected ${expected ?? 'none'}`);
  }
  const o = t.table(SLOT.Operator.builtin_options, 'builtin_options');
  if (!o) r.fail(`${at}: builtin options type ${found} is set but the options table is missing`);
  const padding = (slot: number) => enumName(r, PADDINGS, o.i8(slot, 0), `${at}: padding`);
  const activation = (slot: number) => enumName(r, ACTIVATIONS, o.i8(slot, 0), `${at}: fused activation`);
  switch (found) {
    case 'Conv2DOptions': {
      const S = SLOT.Conv2DOptions;
      return {
        type: found, padding: padding(S.padding), strideW: o.i32(S.stride_w, 0), strideH: o.i32(S.stride_h, 0),
        fusedActivationFunction: activation(S.fused_activation_function),
        dilationWFactor: o.i32(S.dilation_w_factor, 1), dilationHFactor: o.i32(S.dilation_h_factor, 1),
      };
    }
    case 'DepthwiseConv2DOptions': {
      const S = SLOT.DepthwiseConv2DOptions;
      return {
        type: found, padding: padding(S.padding), strideW: o.i32(S.stride_w, 0), strideH: o.i32(S.stride_h, 0),
        depthMultiplier: o.i32(S.depth_multiplier, 0), fusedActivationFunction: activation(S.fused_activation_function),
        dilationWFactor: o.i32(S.dilation_w_factor, 1), dilationHFactor: o.i32(S.dilation_h_factor, 1),
      };
    }
    case 'Pool2DOptions': {
      const S = SLOT.Pool2DOptions;
      return {
        type: found, padding: padding(S.padding), strideW: o.i32(S.stride_w, 0), strideH: o.i32(S.stride_h, 0),
        filterWidth: o.i32(S.filter_width, 0), filterHeight: o.i32(S.filter_height, 0),
        fusedActivationFunction: activation(S.fused_activation_function),
      };
    }
    case 'FullyConnectedOptions': {
      const S = SLOT.FullyConnectedOptions;
      return {
        type: found, fusedActivationFunction: activation(S.fused_activation_function),
        weightsFormat: enumName(r, FC_WEIGHTS_FORMATS, o.i8(S.weights_format, 0), `${at}: weights format`),
        keepNumDims: o.bool(S.keep_num_dims, false), asymmetricQuantizeInputs: o.bool(S.asymmetric_quantize_inputs, false),
      };
    }
    case 'SoftmaxOptions': return { type: found, beta: o.f32(SLOT.SoftmaxOptions.beta, 0) };
    case 'AddOptions': {
      const S = SLOT.AddOptions;
      return { type: found, fusedActivationFunction: activation(S.fused_activation_function), potScaleInt16: o.bool(S.pot_scale_int16, true) };
    }
    case 'MulOptions': return { type: found, fusedActivationFunction: activation(SLOT.MulOptions.fused_activation_function) };
    case 'ReducerOptions': return { type: found, keepDims: o.bool(SLOT.ReducerOptions.keep_dims, false) };
    case 'ReshapeOptions': return { type: found, newShape: o.i32s(SLOT.ReshapeOptions.new_shape, 'new_shape') };
    case 'PadOptions': case 'QuantizeOptions': case 'DequantizeOptions': return { type: found };
    default: return r.fail(`${at}: builtin options of type ${found} are not decoded`);
  }
}

function enumName<T extends string>(r: FlatReader, names: readonly T[], code: number, what: string): T {
  const name = names[code];
  if (name === undefined) r.fail(`${what} ${code} is not one of ${names.join(', ')}`);
  return name;
}

/**
 * Every tensor index in range, every tensor written at most once, and every operator
 * reading only graph inputs, constants, variables and outputs of earlier operators:
 * TFLite runs operators in stored order, so anything else is a cycle or a dangling read.
 */
function checkDataflow(r: FlatReader, g: TfliteSubgraph, where: string): void {
  const n = g.tensors.length;
  const label = (t: number) => `tensor ${t}${g.tensors[t]?.name ? ` ${quote(g.tensors[t].name)}` : ''}`;
  const checkIndex = (t: number, what: string, optional = false) => {
    if (optional && t === -1) return;
    if (!(t >= 0 && t < n)) r.fail(`${where}: ${what} refers to tensor ${t}, but the subgraph has ${n} tensors`);
  };
  g.inputs.forEach((t) => checkIndex(t, 'graph input'));
  g.outputs.forEach((t) => checkIndex(t, 'graph output'));
  const opName = (i: number) => `operator ${i} (${printable(g.operators[i].opcode.customCode ?? g.operators[i].opcode.builtin, 60)})`;
  // writer[t]: the operator writing tensor t, or -1
  const writer = new Int32Array(n).fill(-1);
  const isInput = new Uint8Array(n);
  for (const t of g.inputs) isInput[t] = 1;
  g.operators.forEach((op, i) => {
    op.inputs.forEach((t) => checkIndex(t, `${opName(i)} input`, true));
    for (const t of op.outputs) {
      checkIndex(t, `${opName(i)} output`);
      if (writer[t] >= 0) r.fail(`${where}: ${label(t)} is written by both ${opName(writer[t])} and ${opName(i)}`);
      if (isInput[t]) r.fail(`${where}: ${label(t)} is a graph input and also written by ${opName(i)}`);
      writer[t] = i;
    }
  });
  const ready = isInput.slice();
  g.tensors.forEach((t, i) => { if (t.data || t.isVariable) ready[i] = 1; });
  g.operators.forEach((op, i) => {
    for (const t of op.inputs) {
      if (t === -1 || ready[t]) continue;
      const w = writer[t];
      if (w === i) r.fail(`${where}: ${opName(i)} reads its own output ${label(t)} (a cycle)`);
      if (w > i) r.fail(`${where}: ${opName(i)} reads ${label(t)}, written later by ${opName(w)}: a cycle, or operators out of topological order`);
      r.fail(`${where}: ${opName(i)} reads ${label(t)}, which is no graph input, constant or earlier operator's output`);
    }
    for (const t of op.outputs) ready[t] = 1;
  });
  for (const t of g.outputs) {
    if (!ready[t]) r.fail(`${where}: graph output ${label(t)} is never written`);
  }
}
