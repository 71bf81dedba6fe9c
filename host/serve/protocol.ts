/**
 * The KServe Open Inference Protocol v2 (REST) as bitweave serves it: request decoding
 * (JSON tensors and the binary tensor data extension), response encoding, the
 * classification extension (Triton's "value:index[:label]" strings), and the error type
 * every route answers with (`{"error": "..."}` and an HTTP status).
 *
 * A served model has one input and one output:
 *   input  "input"  FP32 [-1, C, H, W] (or [-1, C·H·W]): the model's input values, fed as they are;
 *          UINT8 of the same shape: pixels 0..255, given the model's stored preprocessing
 *          (u/255 without one), as `run` does for pictures;
 *   output "logits" FP32 [-1, classes], before any softmax.
 */
import { CompiledModel, tensorLength } from '../compile/model';
import { normalizeBytes, effectivePreprocess } from '../data/preprocess';
import { topK } from '../runtime/classify';

export const INPUT_NAME = 'input';
export const OUTPUT_NAME = 'logits';
/** The one version each served model has. */
export const MODEL_VERSION = '1';
export const BINARY_HEADER = 'inference-header-content-length';

/** An error answered as OIP error JSON with this HTTP status. */
export class ServeError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'ServeError';
  }
}

export interface TensorRequest {
  name: string;
  shape: number[];
  datatype: string;
  parameters?: Record<string, unknown>;
  data?: unknown;
}

export interface OutputRequest {
  name: string;
  parameters?: Record<string, unknown>;
}

export interface InferRequest {
  id?: string;
  parameters?: Record<string, unknown>;
  inputs: TensorRequest[];
  outputs?: OutputRequest[];
}

/** JSON schema of an inference request, checked by the HTTP framework before the handler. */
export const inferRequestSchema = {
  type: 'object',
  required: ['inputs'],
  properties: {
    id: { type: 'string', maxLength: 1024 },
    parameters: { type: 'object' },
    inputs: {
      type: 'array',
      minItems: 1,
      maxItems: 16,
      items: {
        type: 'object',
        required: ['name', 'shape', 'datatype'],
        properties: {
          name: { type: 'string', maxLength: 256 },
          shape: { type: 'array', maxItems: 8, items: { type: 'integer', minimum: 0 } },
          datatype: { type: 'string', maxLength: 16 },
          parameters: { type: 'object' },
          // element types are checked while flattening (once per value, not by the validator)
          data: { type: 'array' },
        },
      },
    },
    outputs: {
      type: 'array',
      maxItems: 16,
      items: {
        type: 'object',
        required: ['name'],
        properties: { name: { type: 'string', maxLength: 256 }, parameters: { type: 'object' } },
      },
    },
  },
} as const;

/** What a served model exposes: names, shapes and how to turn request tensors into model input. */
export class ModelSignature {
  readonly chw: [number, number, number];
  readonly perImage: number;
  readonly classes: number;

  constructor(readonly name: string, readonly model: CompiledModel) {
    const t = model.tensors[model.input];
    this.chw = [t.c, t.h, t.w];
    this.perImage = t.c * t.h * t.w;
    this.classes = tensorLength(model.tensors[model.output]);
  }

  metadata() {
    return {
      name: this.name,
      versions: [MODEL_VERSION],
      platform: 'bitweave',
      inputs: [{ name: INPUT_NAME, datatype: 'FP32', shape: [-1, ...this.chw] }],
      outputs: [{ name: OUTPUT_NAME, datatype: 'FP32', shape: [-1, this.classes] }],
    };
  }

  /**
   * The request's images as model input (N x C x H x W float32). `binary` is the request's
   * binary tensor data (after the JSON header), if any.
   */
  decodeInput(req: InferRequest, binary: Buffer | undefined): { images: Float32Array; count: number } {
    if (req.inputs.length !== 1) throw new ServeError(400, `model '${this.name}' takes 1 input ('${INPUT_NAME}'), the request has ${req.inputs.length}`);
    const t = req.inputs[0];
    if (t.name !== INPUT_NAME) throw new ServeError(400, `unknown input '${t.name}' for model '${this.name}' (its input is '${INPUT_NAME}')`);
    const [C, H, W] = this.chw;
    const s = t.shape;
    const fits = (s.length === 4 && s[1] === C && s[2] === H && s[3] === W) || (s.length === 2 && s[1] === this.perImage);
    if (!fits || s[0] < 1) {
      throw new ServeError(400, `input '${INPUT_NAME}' has shape [${s.join(',')}]; model '${this.name}' takes [N,${C},${H},${W}] or [N,${this.perImage}] with N >= 1`);
    }
    const count = s[0];
    const n = count * this.perImage;
    if (t.datatype !== 'FP32' && t.datatype !== 'UINT8') throw new ServeError(400, `input '${INPUT_NAME}' has datatype ${t.datatype}; FP32 and UINT8 are supported`);
    const binarySize = t.parameters?.binary_data_size;
    let raw: Float32Array | Uint8Array;
    if (binarySize !== undefined) {
      if (t.data !== undefined) throw new ServeError(400, `input '${INPUT_NAME}' has both JSON data and binary_data_size`);
      raw = fromBinary(binary, binarySize, n, t.datatype);
    } else {
      if (t.data === undefined) throw new ServeError(400, `input '${INPUT_NAME}' has no data (neither 'data' nor binary_data_size)`);
      raw = fromJson(t.data, n, t.datatype);
    }
    if (raw instanceof Float32Array) return { images: raw, count };
    const images = normalizeBytes(raw, count, this.chw, effectivePreprocess(this.model.preprocess, C));
    return { images, count };
  }
}

function fromBinary(binary: Buffer | undefined, size: unknown, n: number, datatype: string): Float32Array | Uint8Array {
  const bytesPer = datatype === 'FP32' ? 4 : 1;
  if (!Number.isSafeInteger(size) || (size as number) < 0) throw new ServeError(400, `binary_data_size must be a non-negative integer, got ${JSON.stringify(size)}`);
  if (size !== n * bytesPer) throw new ServeError(400, `binary_data_size is ${size} bytes; ${n} ${datatype} values need ${n * bytesPer}`);
  if (!binary || binary.length !== size) throw new ServeError(400, `the request carries ${binary?.length ?? 0} bytes of binary tensor data; binary_data_size says ${size}`);
  if (datatype === 'UINT8') return new Uint8Array(binary.buffer, binary.byteOffset, binary.length).slice();
  const out = new Float32Array(n);
  new Uint8Array(out.buffer).set(binary); // little-endian, as the extension defines
  for (let i = 0; i < n; i++) if (!Number.isFinite(out[i])) throw new ServeError(400, `input value ${i} is ${out[i]}; inputs must be finite`);
  return out;
}

/** Flat or nested row-major JSON data → typed values, checking count, type and range. */
function fromJson(data: unknown, n: number, datatype: string): Float32Array | Uint8Array {
  const out = datatype === 'FP32' ? new Float32Array(n) : new Uint8Array(n);
  let k = 0;
  const walk = (v: unknown, depth: number): void => {
    if (Array.isArray(v)) {
      if (depth > 8) throw new ServeError(400, 'input data is nested deeper than its shape');
      for (const x of v) walk(x, depth + 1);
      return;
    }
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new ServeError(400, `input value ${k} is ${JSON.stringify(v)}; expected a finite number`);
    if (k >= n) throw new ServeError(400, `input data has more than the ${n} values its shape needs`);
    if (datatype === 'UINT8' && !(Number.isInteger(v) && v >= 0 && v <= 255)) throw new ServeError(400, `input value ${k} is ${v}; UINT8 values are integers 0..255`);
    out[k++] = v;
  };
  walk(data, 0);
  if (k !== n) throw new ServeError(400, `input data has ${k} values; its shape needs ${n}`);
  return out;
}

/** The outputs a request asks for: logits as values, or as top-k classification strings. */
export interface OutputPlan {
  /** Top-k classes instead of logits (the classification extension); 0 = logits. */
  classification: number;
  binary: boolean;
}

export function planOutput(req: InferRequest, classes: number): OutputPlan {
  const all = req.parameters?.binary_data_output;
  if (all !== undefined && typeof all !== 'boolean') throw new ServeError(400, 'parameters.binary_data_output must be a boolean');
  if (!req.outputs || req.outputs.length === 0) return { classification: 0, binary: all === true };
  if (req.outputs.length !== 1 || req.outputs[0].name !== OUTPUT_NAME) {
    const names = req.outputs.map((o) => `'${o.name}'`).join(', ');
    throw new ServeError(400, `unknown output ${names}; the model's one output is '${OUTPUT_NAME}'`);
  }
  const p = req.outputs[0].parameters ?? {};
  const c = p.classification ?? 0;
  if (!Number.isSafeInteger(c) || (c as number) < 0) throw new ServeError(400, `output parameter classification must be a non-negative integer, got ${JSON.stringify(c)}`);
  const b = p.binary_data ?? all ?? false;
  if (typeof b !== 'boolean') throw new ServeError(400, 'output parameter binary_data must be a boolean');
  return { classification: Math.min(c as number, classes), binary: b };
}

/** Triton's classification string: "<logit>:<class>[:<label>]". */
function classString(t: { logit: number; class: number; label?: string }): string {
  return `${t.logit}:${t.class}${t.label !== undefined ? `:${t.label}` : ''}`;
}

/**
 * The response for one request: a JSON object, or (binary outputs) a JSON header followed
 * by the output bytes, with the header's length for the Inference-Header-Content-Length header.
 */
export function encodeResponse(sig: ModelSignature, req: InferRequest, plan: OutputPlan, logits: Float32Array, count: number): { json: object; binary?: Buffer } {
  const head = { model_name: sig.name, model_version: MODEL_VERSION, ...(req.id !== undefined ? { id: req.id } : {}) };
  let output: Record<string, unknown>;
  let bytes: Buffer | undefined;
  if (plan.classification > 0) {
    const k = plan.classification;
    const strings: string[] = [];
    for (let i = 0; i < count; i++) for (const t of topK(logits, i, sig.classes, k, sig.model.labels)) strings.push(classString(t));
    output = { name: OUTPUT_NAME, datatype: 'BYTES', shape: [count, k] };
    if (plan.binary) {
      // BYTES elements in binary: a 4-byte little-endian length before each string
      const parts = strings.map((s) => Buffer.from(s, 'utf8'));
      bytes = Buffer.alloc(parts.reduce((a, p) => a + 4 + p.length, 0));
      let o = 0;
      for (const p of parts) {
        bytes.writeUInt32LE(p.length, o);
        p.copy(bytes, o + 4);
        o += 4 + p.length;
      }
    } else output.data = strings;
  } else {
    output = { name: OUTPUT_NAME, datatype: 'FP32', shape: [count, sig.classes] };
    if (plan.binary) bytes = Buffer.from(logits.buffer, logits.byteOffset, logits.byteLength);
    else output.data = Array.from(logits);
  }
  if (bytes) output.parameters = { binary_data_size: bytes.length };
  return { json: { ...head, outputs: [output] }, binary: bytes };
}

/**
 * Splits a request body carrying the binary extension: the first `headerLength` bytes are
 * the JSON request, the rest the tensors' bytes.
 */
export function splitBinaryBody(body: Buffer, headerValue: string): { json: Buffer; binary: Buffer } {
  if (!/^\d{1,12}$/.test(headerValue.trim())) throw new ServeError(400, `Inference-Header-Content-Length must be a byte count, got '${headerValue.slice(0, 40)}'`);
  const n = Number(headerValue);
  if (n > body.length) throw new ServeError(400, `Inference-Header-Content-Length is ${n} but the body has ${body.length} bytes`);
  return { json: body.subarray(0, n), binary: body.subarray(n) };
}
