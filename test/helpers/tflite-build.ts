/**
 * Builds small .tflite files with the `flatbuffers` Builder, for reader and importer tests.
 *
 * The field slots are written out here from schema.fbs on purpose, not imported from
 * host/format/tflite-schema.ts: a second transcription, so a wrong slot in either one makes
 * the round-trip tests fail instead of agreeing with itself.
 */
import { Builder } from 'flatbuffers';

export interface TensorSpec {
  name?: string;
  /** TensorType value (0 FLOAT32, 2 INT32, 9 INT8). */
  type?: number;
  shape?: number[];
  shapeSignature?: number[];
  buffer?: number;
  quantization?: { scale?: number[]; zeroPoint?: bigint[]; quantizedDimension?: number; detailsType?: number };
  sparse?: boolean;
  isVariable?: boolean;
}

export interface OpcodeSpec { deprecated?: number; builtin?: number; custom?: string; version?: number }

/** Builds an options table and returns its offset. */
export type TableWriter = (b: Builder) => number;

export interface OperatorSpec {
  opcode: number;
  inputs: number[];
  outputs: number[];
  /** BuiltinOptions union type and table. */
  options?: { type: number; table: TableWriter };
  customOptions?: Uint8Array;
  customOptionsFormat?: number;
  /** Custom options outside the FlatBuffer: position in `trailer`, and size. */
  largeCustomOptions?: { at: number; size: number };
}

export interface BufferSpec {
  data?: Uint8Array;
  /** Data outside the FlatBuffer: position in `trailer`, and size. */
  external?: { at: number; size: number };
  /** Raw offset/size fields, written as given (for out-of-range tests). */
  rawOffset?: bigint;
  rawSize?: bigint;
}

export interface SubgraphSpec {
  name?: string;
  tensors: TensorSpec[];
  inputs: number[];
  outputs: number[];
  operators: OperatorSpec[];
}

export interface ModelSpec {
  version?: number;
  description?: string;
  opcodes: OpcodeSpec[];
  subgraphs: SubgraphSpec[];
  buffers: BufferSpec[];
  metadata?: { name: string; buffer: number }[];
  /** Bytes appended after the FlatBuffer (16-byte aligned), for external buffers. */
  trailer?: Uint8Array;
}

/** A table whose fields are written by `fields(b)` (slot numbers per schema.fbs). */
export function table(numFields: number, fields: (b: Builder) => void): TableWriter {
  return (b) => {
    b.startObject(numFields);
    fields(b);
    return b.endObject();
  };
}

function offsets(b: Builder, items: number[]): number {
  b.startVector(4, items.length, 4);
  for (let i = items.length - 1; i >= 0; i--) b.addOffset(items[i]);
  return b.endVector();
}

export function int32Vector(b: Builder, values: number[]): number {
  b.startVector(4, values.length, 4);
  for (let i = values.length - 1; i >= 0; i--) b.addInt32(values[i]);
  return b.endVector();
}

function floatVector(b: Builder, values: number[]): number {
  b.startVector(4, values.length, 4);
  for (let i = values.length - 1; i >= 0; i--) b.addFloat32(values[i]);
  return b.endVector();
}

function int64Vector(b: Builder, values: bigint[]): number {
  b.startVector(8, values.length, 8);
  for (let i = values.length - 1; i >= 0; i--) b.addInt64(values[i]);
  return b.endVector();
}

function byteVector(b: Builder, data: Uint8Array): number {
  b.startVector(1, data.length, 16); // Buffer.data is force_align: 16
  for (let i = data.length - 1; i >= 0; i--) b.addInt8(data[i]);
  return b.endVector();
}

function build(spec: ModelSpec, trailerStart: number): Uint8Array {
  const b = new Builder(1024);
  const buffers = spec.buffers.map((buf) => {
    const data = buf.data ? byteVector(b, buf.data) : 0;
    b.startObject(3);
    if (data) b.addFieldOffset(0, data, 0); // data
    const offset = buf.rawOffset ?? (buf.external ? BigInt(trailerStart + buf.external.at) : undefined);
    const size = buf.rawSize ?? (buf.external ? BigInt(buf.external.size) : undefined);
    if (offset !== undefined) b.addFieldInt64(1, offset, null); // offset (written even when 0: see buildTflite)
    if (size !== undefined) b.addFieldInt64(2, size, null); // size
    return b.endObject();
  });
  const opcodes = spec.opcodes.map((o) => {
    const custom = o.custom !== undefined ? b.createString(o.custom) : 0;
    b.startObject(4);
    if (o.deprecated !== undefined) b.addFieldInt8(0, o.deprecated, null); // deprecated_builtin_code
    if (custom) b.addFieldOffset(1, custom, 0); // custom_code
    if (o.version !== undefined) b.addFieldInt32(2, o.version, null); // version
    if (o.builtin !== undefined) b.addFieldInt32(3, o.builtin, null); // builtin_code
    return b.endObject();
  });
  const subgraphs = spec.subgraphs.map((g) => {
    const tensors = g.tensors.map((t) => {
      const name = t.name !== undefined ? b.createString(t.name) : 0;
      const shape = t.shape ? int32Vector(b, t.shape) : 0;
      const signature = t.shapeSignature ? int32Vector(b, t.shapeSignature) : 0;
      let quant = 0;
      if (t.quantization) {
        const q = t.quantization;
        const scale = q.scale ? floatVector(b, q.scale) : 0;
        const zp = q.zeroPoint ? int64Vector(b, q.zeroPoint) : 0;
        let details = 0;
        if (q.detailsType) details = table(1, () => undefined)(b); // an empty CustomQuantization
        b.startObject(7);
        if (scale) b.addFieldOffset(2, scale, 0); // scale
        if (zp) b.addFieldOffset(3, zp, 0); // zero_point
        if (q.detailsType) { b.addFieldInt8(4, q.detailsType, 0); b.addFieldOffset(5, details, 0); } // details
        if (q.quantizedDimension !== undefined) b.addFieldInt32(6, q.quantizedDimension, 0); // quantized_dimension
        quant = b.endObject();
      }
      const sparsity = t.sparse ? table(3, () => undefined)(b) : 0;
      b.startObject(10);
      if (shape) b.addFieldOffset(0, shape, 0); // shape
      if (t.type !== undefined) b.addFieldInt8(1, t.type, null); // type
      if (t.buffer !== undefined) b.addFieldInt32(2, t.buffer, null); // buffer
      if (name) b.addFieldOffset(3, name, 0); // name
      if (quant) b.addFieldOffset(4, quant, 0); // quantization
      if (t.isVariable) b.addFieldInt8(5, 1, 0); // is_variable
      if (sparsity) b.addFieldOffset(6, sparsity, 0); // sparsity
      if (signature) b.addFieldOffset(7, signature, 0); // shape_signature
      return b.endObject();
    });
    const operators = g.operators.map((op) => {
      const inputs = int32Vector(b, op.inputs);
      const outputs = int32Vector(b, op.outputs);
      const options = op.options ? op.options.table(b) : 0;
      const custom = op.customOptions ? byteVector(b, op.customOptions) : 0;
      b.startObject(11);
      b.addFieldInt32(0, op.opcode, null); // opcode_index
      b.addFieldOffset(1, inputs, 0); // inputs
      b.addFieldOffset(2, outputs, 0); // outputs
      if (op.options) { b.addFieldInt8(3, op.options.type, 0); b.addFieldOffset(4, options, 0); } // builtin_options
      if (custom) b.addFieldOffset(5, custom, 0); // custom_options
      if (op.customOptionsFormat !== undefined) b.addFieldInt8(6, op.customOptionsFormat, null); // custom_options_format
      if (op.largeCustomOptions) {
        b.addFieldInt64(9, BigInt(trailerStart + op.largeCustomOptions.at), null); // large_custom_options_offset
        b.addFieldInt64(10, BigInt(op.largeCustomOptions.size), null); // large_custom_options_size
      }
      return b.endObject();
    });
    const tv = offsets(b, tensors);
    const ins = int32Vector(b, g.inputs);
    const outs = int32Vector(b, g.outputs);
    const ops = offsets(b, operators);
    const name = g.name !== undefined ? b.createString(g.name) : 0;
    b.startObject(5);
    b.addFieldOffset(0, tv, 0); // tensors
    b.addFieldOffset(1, ins, 0); // inputs
    b.addFieldOffset(2, outs, 0); // outputs
    b.addFieldOffset(3, ops, 0); // operators
    if (name) b.addFieldOffset(4, name, 0); // name
    return b.endObject();
  });
  const metadata = (spec.metadata ?? []).map((m) => {
    const name = b.createString(m.name);
    b.startObject(2);
    b.addFieldOffset(0, name, 0); // name
    b.addFieldInt32(1, m.buffer, null); // buffer
    return b.endObject();
  });
  const oc = offsets(b, opcodes);
  const sg = offsets(b, subgraphs);
  const description = spec.description !== undefined ? b.createString(spec.description) : 0;
  const bv = offsets(b, buffers);
  const md = spec.metadata ? offsets(b, metadata) : 0;
  b.startObject(8);
  b.addFieldInt32(0, spec.version ?? 3, null); // version
  b.addFieldOffset(1, oc, 0); // operator_codes
  b.addFieldOffset(2, sg, 0); // subgraphs
  if (description) b.addFieldOffset(3, description, 0); // description
  b.addFieldOffset(4, bv, 0); // buffers
  if (md) b.addFieldOffset(6, md, 0); // metadata
  b.finish(b.endObject(), 'TFL3');
  return b.asUint8Array().slice();
}

/** The .tflite bytes for `spec`: the FlatBuffer, then the trailer (if any) 16-byte aligned. */
export function buildTflite(spec: ModelSpec): Uint8Array {
  // external offsets count from the file start, so build once to learn where the trailer goes
  // (the FlatBuffer's size does not depend on the offsets' values)
  const first = build(spec, 0);
  const start = Math.ceil(first.length / 16) * 16;
  const fb = build(spec, start);
  if (fb.length !== first.length) throw new Error('tflite-build: the FlatBuffer changed size between passes');
  if (!spec.trailer) return fb;
  const out = new Uint8Array(start + spec.trailer.length);
  out.set(fb, 0);
  out.set(spec.trailer, start);
  return out;
}

/** Float32 values as little-endian bytes. */
export function f32Bytes(values: number[]): Uint8Array {
  return new Uint8Array(new Float32Array(values).buffer);
}

/**
 * The smallest useful model: input (tensor 0) -> RELU -> tensor 1, with a float constant
 * (tensor 2, buffer 1) that a second operator ADDs. Tests change what they need.
 */
export function minimalSpec(): ModelSpec {
  return {
    description: 'hand-built',
    opcodes: [{ deprecated: 19 }, { deprecated: 0, builtin: 0 }], // RELU; ADD
    buffers: [{}, { data: f32Bytes([1, 2]) }],
    subgraphs: [{
      name: 'main',
      tensors: [
        { name: 'x', type: 0, shape: [1, 2], buffer: 0 },
        { name: 'relu', type: 0, shape: [1, 2], buffer: 0 },
        { name: 'c', type: 0, shape: [2], buffer: 1 },
        { name: 'y', type: 0, shape: [1, 2], buffer: 0 },
      ],
      inputs: [0],
      outputs: [3],
      operators: [
        { opcode: 0, inputs: [0], outputs: [1] },
        { opcode: 1, inputs: [1, 2], outputs: [3], options: { type: 11, table: table(2, (b) => b.addFieldInt8(0, 1, 0)) } }, // AddOptions, RELU
      ],
    }],
  };
}
