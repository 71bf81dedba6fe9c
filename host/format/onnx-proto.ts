/**
 * ONNX's protobuf messages, defined for protobufjs's reflection API from the field numbers
 * of onnx.proto (IR version 9). Only the fields bitweave reads or writes are declared;
 * protobufjs skips unknown fields when decoding, so models using the rest still load.
 *
 * The decoded objects use onnx.proto's snake_case field names (keepCase) so that code
 * reading them matches the ONNX documentation. int64 fields decode to plain numbers when
 * they are safe integers (see int64()), and are checked where a value must be exact.
 */
import * as protobuf from 'protobufjs';
import { FormatError } from '../core/errors';

/** TensorProto.DataType values bitweave handles. */
export const ONNX_DTYPE = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, DOUBLE: 11 } as const;

/** AttributeProto.AttributeType values. */
export const ATTR_TYPE = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;

type Long = { low: number; high: number; unsigned?: boolean };
export type Int64 = number | Long;

export interface TensorProto {
  dims?: Int64[];
  data_type?: number;
  float_data?: number[];
  int32_data?: number[];
  int64_data?: Int64[];
  double_data?: number[];
  name?: string;
  raw_data?: Uint8Array;
  data_location?: number;
}

export interface AttributeProto {
  name?: string;
  type?: number;
  f?: number;
  i?: Int64;
  s?: Uint8Array;
  t?: TensorProto;
  floats?: number[];
  ints?: Int64[];
  strings?: Uint8Array[];
}

export interface NodeProto {
  input?: string[];
  output?: string[];
  name?: string;
  op_type?: string;
  domain?: string;
  attribute?: AttributeProto[];
}

export interface DimProto { dim_value?: Int64; dim_param?: string }
export interface TypeProto { tensor_type?: { elem_type?: number; shape?: { dim?: DimProto[] } } }
export interface ValueInfoProto { name?: string; type?: TypeProto; doc_string?: string }
export interface StringStringEntry { key?: string; value?: string }
export interface TensorAnnotation { tensor_name?: string; quant_parameter_tensor_names?: StringStringEntry[] }

export interface GraphProto {
  node?: NodeProto[];
  name?: string;
  initializer?: TensorProto[];
  doc_string?: string;
  input?: ValueInfoProto[];
  output?: ValueInfoProto[];
  value_info?: ValueInfoProto[];
  quantization_annotation?: TensorAnnotation[];
}

export interface OpsetId { domain?: string; version?: Int64 }

export interface ModelProto {
  ir_version?: Int64;
  producer_name?: string;
  producer_version?: string;
  domain?: string;
  model_version?: Int64;
  doc_string?: string;
  graph?: GraphProto;
  opset_import?: OpsetId[];
  metadata_props?: StringStringEntry[];
}

type FieldDef = [name: string, id: number, type: string, rule?: 'repeated'];

function message(name: string, fields: FieldDef[]): protobuf.Type {
  const t = new protobuf.Type(name);
  for (const [n, id, type, rule] of fields) t.add(new protobuf.Field(n, id, type, rule));
  return t;
}

function buildRoot(): protobuf.Root {
  // proto2 semantics: repeated scalars are unpacked on the wire unless [packed = true];
  // protobufjs reads both forms, and writes what the field declares.
  const root = new protobuf.Root();
  const ns = root.define('onnx');
  ns.add(message('StringStringEntryProto', [['key', 1, 'string'], ['value', 2, 'string']]));
  ns.add(message('OperatorSetIdProto', [['domain', 1, 'string'], ['version', 2, 'int64']]));
  ns.add(message('TensorProto', [
    ['dims', 1, 'int64', 'repeated'],
    ['data_type', 2, 'int32'],
    ['float_data', 4, 'float', 'repeated'],
    ['int32_data', 5, 'int32', 'repeated'],
    ['int64_data', 7, 'int64', 'repeated'],
    ['name', 8, 'string'],
    ['raw_data', 9, 'bytes'],
    ['double_data', 10, 'double', 'repeated'],
    ['data_location', 14, 'int32'],
  ]));
  ns.add(message('AttributeProto', [
    ['name', 1, 'string'],
    ['f', 2, 'float'],
    ['i', 3, 'int64'],
    ['s', 4, 'bytes'],
    ['t', 5, 'TensorProto'],
    ['floats', 7, 'float', 'repeated'],
    ['ints', 8, 'int64', 'repeated'],
    ['strings', 9, 'bytes', 'repeated'],
    ['type', 20, 'int32'],
  ]));
  ns.add(message('NodeProto', [
    ['input', 1, 'string', 'repeated'],
    ['output', 2, 'string', 'repeated'],
    ['name', 3, 'string'],
    ['op_type', 4, 'string'],
    ['attribute', 5, 'AttributeProto', 'repeated'],
    ['domain', 7, 'string'],
  ]));
  const dim = message('Dimension', [['dim_value', 1, 'int64'], ['dim_param', 2, 'string']]);
  const shape = message('TensorShapeProto', [['dim', 1, 'Dimension', 'repeated']]);
  shape.add(dim);
  ns.add(shape);
  const tensorType = message('Tensor', [['elem_type', 1, 'int32'], ['shape', 2, 'TensorShapeProto']]);
  const typeProto = message('TypeProto', [['tensor_type', 1, 'Tensor']]);
  typeProto.add(tensorType);
  ns.add(typeProto);
  ns.add(message('ValueInfoProto', [['name', 1, 'string'], ['type', 2, 'TypeProto'], ['doc_string', 3, 'string']]));
  ns.add(message('TensorAnnotation', [
    ['tensor_name', 1, 'string'],
    ['quant_parameter_tensor_names', 2, 'StringStringEntryProto', 'repeated'],
  ]));
  ns.add(message('GraphProto', [
    ['node', 1, 'NodeProto', 'repeated'],
    ['name', 2, 'string'],
    ['initializer', 5, 'TensorProto', 'repeated'],
    ['doc_string', 10, 'string'],
    ['input', 11, 'ValueInfoProto', 'repeated'],
    ['output', 12, 'ValueInfoProto', 'repeated'],
    ['value_info', 13, 'ValueInfoProto', 'repeated'],
    ['quantization_annotation', 14, 'TensorAnnotation', 'repeated'],
  ]));
  ns.add(message('ModelProto', [
    ['ir_version', 1, 'int64'],
    ['producer_name', 2, 'string'],
    ['producer_version', 3, 'string'],
    ['domain', 4, 'string'],
    ['model_version', 5, 'int64'],
    ['doc_string', 6, 'string'],
    ['graph', 7, 'GraphProto'],
    ['opset_import', 8, 'OperatorSetIdProto', 'repeated'],
    ['metadata_props', 14, 'StringStringEntryProto', 'repeated'],
  ]));
  root.resolveAll();
  return root;
}

let modelType: protobuf.Type | null = null;

function modelProtoType(): protobuf.Type {
  if (!modelType) modelType = buildRoot().lookupType('onnx.ModelProto');
  return modelType;
}

/** Serialise a ModelProto (plain object with onnx.proto field names). */
export function encodeModel(model: ModelProto): Uint8Array {
  const t = modelProtoType();
  const err = t.verify(model);
  if (err) throw new Error(`ONNX writer: ${err}`);
  return t.encode(t.fromObject(model)).finish();
}

/** Parse a ModelProto; malformed protobuf becomes a FormatError naming `file`. */
export function decodeModel(bytes: Uint8Array, file: string): ModelProto {
  const t = modelProtoType();
  let msg: protobuf.Message;
  try {
    msg = t.decode(bytes);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new FormatError(file, `not a valid ONNX protobuf (${why})`);
  }
  return t.toObject(msg, { longs: Number, defaults: false, arrays: true }) as ModelProto;
}

/** An int64 field as a number; refuses values outside the safe-integer range. */
export function int64(v: Int64 | undefined, what: string, file = 'ONNX'): number {
  if (v === undefined) return 0;
  const n = typeof v === 'number' ? v : v.high * 2 ** 32 + (v.low >>> 0);
  if (!Number.isSafeInteger(n)) throw new FormatError(file, `${what}: int64 ${n} is out of range`);
  return n;
}
