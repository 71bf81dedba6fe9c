/**
 * Kernels and their arguments. Scalars are encoded in TypeScript into a buffer of exactly
 * the C type's size; buffers pass their cl_mem; local memory passes a size and NULL.
 * The kernel keeps every buffer it was given alive, and refuses a launch if one of them
 * was released since (OpenCL would otherwise read a dangling cl_mem).
 */
import { cl } from './api';
import { CLBuffer } from './buffer';
import { traceCall } from './trace';
import * as C from './constants';
import { check, OpenCLError, OpenCLUsageError } from './errors';
import { CLHandle, HandleState } from './handle';
import { InfoFn, infoSize, infoSizeArray, infoString, infoU32, infoU64 } from './info';
import { Device } from './platform';
import { hostWidths, memObjectArg } from './widths';

/** OpenCL C scalar types accepted as kernel arguments. */
export type ScalarType = 'char' | 'uchar' | 'short' | 'ushort' | 'int' | 'uint' | 'long' | 'ulong' | 'float' | 'double';

const SCALARS: Record<ScalarType, { bytes: number; min?: number | bigint; max?: number | bigint; set: (v: DataView, o: number, x: number | bigint) => void }> = {
  char: { bytes: 1, min: -128, max: 127, set: (v, o, x) => v.setInt8(o, Number(x)) },
  uchar: { bytes: 1, min: 0, max: 255, set: (v, o, x) => v.setUint8(o, Number(x)) },
  short: { bytes: 2, min: -32768, max: 32767, set: (v, o, x) => v.setInt16(o, Number(x), true) },
  ushort: { bytes: 2, min: 0, max: 65535, set: (v, o, x) => v.setUint16(o, Number(x), true) },
  int: { bytes: 4, min: -(2 ** 31), max: 2 ** 31 - 1, set: (v, o, x) => v.setInt32(o, Number(x), true) },
  uint: { bytes: 4, min: 0, max: 2 ** 32 - 1, set: (v, o, x) => v.setUint32(o, Number(x), true) },
  long: { bytes: 8, min: -(2n ** 63n), max: 2n ** 63n - 1n, set: (v, o, x) => v.setBigInt64(o, BigInt(x), true) },
  ulong: { bytes: 8, min: 0n, max: 2n ** 64n - 1n, set: (v, o, x) => v.setBigUint64(o, BigInt(x), true) },
  float: { bytes: 4, set: (v, o, x) => v.setFloat32(o, Number(x), true) },
  double: { bytes: 8, set: (v, o, x) => v.setFloat64(o, Number(x), true) },
};

/** A kernel argument. */
export type KernelArg =
  | CLBuffer
  /** NULL for a __global pointer argument */
  | null
  /** __local memory of `local` bytes */
  | { local: number }
  /** a scalar or vector (e.g. uint4 = 4 values) of an OpenCL C type */
  | { type: ScalarType; value: number | bigint | ReadonlyArray<number | bigint> }
  /** a plain number: its type comes from the kernel's argument info (needs it available) */
  | number
  /** raw bytes passed as-is (e.g. a struct); their length is the argument size */
  | ArrayBufferView;

export interface KernelArgInfo {
  name: string;
  typeName: string;
  address: 'global' | 'local' | 'constant' | 'private';
}

interface KernelState extends HandleState {
  /** Buffers set as arguments, kept alive for the kernel's lifetime (index -> buffer). */
  buffers: (CLBuffer | undefined)[];
}

function freeKernel(s: HandleState): void {
  cl().clReleaseKernel(s.handle);
  (s as KernelState).buffers = [];
}

/** Encodes a scalar/vector value into exactly `n * bytes` bytes after range checks. */
export function encodeScalar(type: ScalarType, value: number | bigint | ReadonlyArray<number | bigint>, what: string): Uint8Array {
  const t = SCALARS[type];
  if (!t) throw new OpenCLUsageError(`${what}: unknown scalar type '${type}'`);
  const values = Array.isArray(value) ? value : [value as number | bigint];
  if (![1, 2, 3, 4, 8, 16].includes(values.length)) throw new OpenCLUsageError(`${what}: a ${type} vector has 1, 2, 3, 4, 8 or 16 components, got ${values.length}`);
  // OpenCL's 3-component vectors occupy the size of 4
  const slots = values.length === 3 ? 4 : values.length;
  const out = new Uint8Array(t.bytes * slots);
  const view = new DataView(out.buffer);
  values.forEach((x, i) => {
    if (typeof x !== 'number' && typeof x !== 'bigint') throw new OpenCLUsageError(`${what}: ${type} value must be a number or bigint`);
    if (t.min !== undefined) {
      const ok = typeof x === 'bigint' || Number.isInteger(x);
      if (!ok || x < t.min! || x > t.max!) throw new OpenCLUsageError(`${what}: ${String(x)} is not a valid ${type}`);
    }
    t.set(view, i * t.bytes, x);
  });
  return out;
}

/** Parses an argument type name such as "uint", "float4" or "ulong*" into a scalar type and width. */
function parseTypeName(name: string): { type: ScalarType; n: number } | null {
  const m = /^(?:unsigned\s+)?(char|uchar|short|ushort|int|uint|long|ulong|float|double)(\d*)$/.exec(name.trim());
  if (!m) return null;
  let type = m[1] as ScalarType;
  if (name.trim().startsWith('unsigned ') && !type.startsWith('u')) type = `u${type}` as ScalarType;
  return { type, n: m[2] ? Number(m[2]) : 1 };
}

export class Kernel extends CLHandle<KernelState> {
  readonly name: string;
  readonly numArgs: number;
  private argInfoCache?: (KernelArgInfo | null)[];

  /** Takes ownership of a cl_kernel. */
  constructor(handle: bigint) {
    super({ handle, released: false, free: freeKernel, buffers: [] }, 'OpenCL kernel');
    const f = this.fn;
    this.name = infoString('clGetKernelInfo', f, C.CL_KERNEL_FUNCTION_NAME);
    this.numArgs = infoU32('clGetKernelInfo', f, C.CL_KERNEL_NUM_ARGS);
  }

  private get fn(): InfoFn {
    const h = this.handle;
    return (name, size, value, sizeRet) => cl().clGetKernelInfo(h, name, size, value, sizeRet);
  }

  private checkIndex(i: number, what: string): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.numArgs) {
      throw new OpenCLUsageError(`${what}: kernel '${this.name}' has ${this.numArgs} argument(s), index ${i} is out of range`);
    }
  }

  /**
   * Name, type and address space of argument `i`, or null where the runtime keeps no
   * argument info (CL_KERNEL_ARG_INFO_NOT_AVAILABLE: typical for FPGA binaries).
   */
  argInfo(i: number): KernelArgInfo | null {
    this.checkIndex(i, 'argInfo');
    this.argInfoCache ??= [];
    if (this.argInfoCache[i] !== undefined) return this.argInfoCache[i];
    const h = this.handle;
    const f: InfoFn = (name, size, value, sizeRet) => cl().clGetKernelArgInfo(h, i, name, size, value, sizeRet);
    let info: KernelArgInfo | null = null;
    try {
      const q = infoU32('clGetKernelArgInfo', f, C.CL_KERNEL_ARG_ADDRESS_QUALIFIER);
      info = {
        name: infoString('clGetKernelArgInfo', f, C.CL_KERNEL_ARG_NAME),
        typeName: infoString('clGetKernelArgInfo', f, C.CL_KERNEL_ARG_TYPE_NAME),
        address: q === C.CL_KERNEL_ARG_ADDRESS_GLOBAL ? 'global' : q === C.CL_KERNEL_ARG_ADDRESS_LOCAL ? 'local' : q === C.CL_KERNEL_ARG_ADDRESS_CONSTANT ? 'constant' : 'private',
      };
    } catch (e) {
      if (!(e instanceof OpenCLError)) throw e;
    }
    this.argInfoCache[i] = info;
    return info;
  }

  /** Sets argument `i`. See KernelArg for the accepted forms. */
  setArg(i: number, arg: KernelArg): this {
    const what = `kernel '${this.name}' argument ${i}`;
    this.checkIndex(i, what);
    const api = cl();
    const h = this.handle;
    if (arg instanceof CLBuffer) {
      // sizeof(cl_mem) is the host's pointer size: 8 bytes on a 32-bit host is CL_INVALID_ARG_SIZE
      const mem = memObjectArg(arg.handle, hostWidths());
      check(`clSetKernelArg(${this.name}, ${i})`, api.clSetKernelArg(h, i, mem.byteLength, mem));
      traceCall({ call: 'bind', buffer: arg.id, kernel: this.name, arg: i });
      this.state.buffers[i] = arg;
      return this;
    }
    this.state.buffers[i] = undefined;
    if (arg === null) {
      const mem = memObjectArg(null, hostWidths());
      check(`clSetKernelArg(${this.name}, ${i})`, api.clSetKernelArg(h, i, mem.byteLength, mem));
    } else if (ArrayBuffer.isView(arg)) {
      if (arg.byteLength === 0) throw new OpenCLUsageError(`${what}: raw argument bytes are empty`);
      check(`clSetKernelArg(${this.name}, ${i})`, api.clSetKernelArg(h, i, arg.byteLength, arg));
    } else if (typeof arg === 'number' || typeof arg === 'bigint') {
      const info = this.argInfo(i);
      const parsed = info ? parseTypeName(info.typeName) : null;
      if (!parsed || parsed.n !== 1) {
        throw new OpenCLUsageError(`${what}: give the C type explicitly ({ type: 'uint', value }) - ${info ? `its type '${info.typeName}' is not a scalar` : 'the runtime has no argument info'}`);
      }
      const bytes = encodeScalar(parsed.type, arg, what);
      check(`clSetKernelArg(${this.name}, ${i})`, api.clSetKernelArg(h, i, bytes.byteLength, bytes));
    } else if (typeof arg === 'object' && 'local' in arg) {
      if (!Number.isSafeInteger(arg.local) || arg.local < 1) throw new OpenCLUsageError(`${what}: local memory size must be a positive integer, got ${arg.local}`);
      check(`clSetKernelArg(${this.name}, ${i})`, api.clSetKernelArg(h, i, arg.local, null));
    } else if (typeof arg === 'object' && 'type' in arg) {
      const bytes = encodeScalar(arg.type, arg.value, what);
      check(`clSetKernelArg(${this.name}, ${i})`, api.clSetKernelArg(h, i, bytes.byteLength, bytes));
    } else {
      throw new OpenCLUsageError(`${what}: unsupported argument ${String(arg)}`);
    }
    return this;
  }

  /** Sets arguments 0..n-1 in order. */
  setArgs(...args: KernelArg[]): this {
    if (args.length !== this.numArgs) throw new OpenCLUsageError(`kernel '${this.name}' takes ${this.numArgs} argument(s), got ${args.length}`);
    args.forEach((a, i) => this.setArg(i, a));
    return this;
  }

  /** @internal Called before each launch: every buffer argument must still be alive. */
  checkLaunchable(): void {
    this.state.buffers.forEach((b, i) => {
      if (b?.released) throw new OpenCLUsageError(`kernel '${this.name}' argument ${i}: its buffer was released`);
    });
    void this.handle; // throws if the kernel itself was released
  }

  /** Per-device limits (work-group size, local/private memory use). */
  workGroupInfo(device: Device): { workGroupSize: number; compileWorkGroupSize: number[]; localMemBytes: number; privateMemBytes: number; preferredMultiple: number } {
    const h = this.handle;
    const f: InfoFn = (name, size, value, sizeRet) => cl().clGetKernelWorkGroupInfo(h, device.id, name, size, value, sizeRet);
    return {
      workGroupSize: infoSize('clGetKernelWorkGroupInfo', f, C.CL_KERNEL_WORK_GROUP_SIZE),
      compileWorkGroupSize: infoSizeArray('clGetKernelWorkGroupInfo', f, C.CL_KERNEL_COMPILE_WORK_GROUP_SIZE),
      localMemBytes: Number(infoU64('clGetKernelWorkGroupInfo', f, C.CL_KERNEL_LOCAL_MEM_SIZE)),
      privateMemBytes: Number(infoU64('clGetKernelWorkGroupInfo', f, C.CL_KERNEL_PRIVATE_MEM_SIZE)),
      preferredMultiple: infoSize('clGetKernelWorkGroupInfo', f, C.CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE),
    };
  }
}
