/**
 * Raw koffi declarations of the OpenCL 1.2 C API (plus two optional 2.0 entry points),
 * loaded lazily from the ICD loader libOpenCL.so.1. Nothing here checks anything: the
 * typed wrappers in this folder validate every pointer and length before calling these.
 *
 * Conventions (koffi 3): handles are `void *` and travel as BigInt; every output parameter
 * is a TypedArray we allocate with the exact size (Uint32Array / Int32Array for cl_uint /
 * cl_int; handle, size_t and intptr_t arrays are bytes encoded for the host's widths by
 * widths.ts, since they are 4 bytes each on a 32-bit host), so C never writes past a buffer
 * whose length TypeScript did not choose. cl_ulong-based types (flags, cl_device_type,
 * cl_queue_properties) are 64-bit on every host.
 */
import type * as Koffi from 'koffi' with { 'resolution-mode': 'import' };
import { koffi } from '../core/native-lib';
import { OpenCLUnavailableError } from './errors';

export { koffi };

/** A C pointer / OpenCL handle as koffi 3 returns it; null is NULL. */
export type Ptr = bigint;
/** Pointer-typed arguments: a handle, NULL, or a TypedArray whose contents C reads or writes. */
type PtrArg = bigint | null | ArrayBufferView;
type Async<A extends unknown[], R> = ((...args: A) => R) & {
  async: (...args: [...A, (err: unknown, res: R) => void]) => void;
};

/** Library file names tried in order; BITWEAVE_OPENCL_LIB overrides (tests point it at a missing file). */
export function openclLibraryNames(): string[] {
  const env = process.env.BITWEAVE_OPENCL_LIB;
  return env ? [env] : ['libOpenCL.so.1', 'libOpenCL.so'];
}

export interface CLApi {
  clGetPlatformIDs(num: number, platforms: PtrArg, numRet: Uint32Array | null): number;
  clGetPlatformInfo(p: Ptr, name: number, size: number, value: PtrArg, sizeRet: Uint8Array | null): number;
  clGetDeviceIDs(p: Ptr, type: bigint, num: number, devices: PtrArg, numRet: Uint32Array | null): number;
  clGetDeviceInfo(d: Ptr, name: number, size: number, value: PtrArg, sizeRet: Uint8Array | null): number;

  clCreateContext(props: Uint8Array, num: number, devices: Uint8Array, cb: null, user: null, err: Int32Array): Ptr | null;
  clGetContextInfo(c: Ptr, name: number, size: number, value: PtrArg, sizeRet: Uint8Array | null): number;
  clReleaseContext(c: Ptr): number;

  clCreateCommandQueue(c: Ptr, d: Ptr, props: bigint, err: Int32Array): Ptr | null;
  /** OpenCL 2.0; absent from 1.2-only loaders (null then). */
  clCreateCommandQueueWithProperties: ((c: Ptr, d: Ptr, props: BigUint64Array, err: Int32Array) => Ptr | null) | null;
  clReleaseCommandQueue(q: Ptr): number;
  clFlush(q: Ptr): number;
  clFinish: Async<[q: Ptr], number>;

  clCreateBuffer(c: Ptr, flags: bigint, size: number, host: PtrArg, err: Int32Array): Ptr | null;
  clReleaseMemObject(m: Ptr): number;
  clGetMemObjectInfo(m: Ptr, name: number, size: number, value: PtrArg, sizeRet: Uint8Array | null): number;
  clEnqueueReadBuffer(q: Ptr, m: Ptr, blocking: number, offset: number, size: number, host: PtrArg, nWait: number, wait: PtrArg, ev: Uint8Array | null): number;
  clEnqueueWriteBuffer(q: Ptr, m: Ptr, blocking: number, offset: number, size: number, host: PtrArg, nWait: number, wait: PtrArg, ev: Uint8Array | null): number;
  clEnqueueCopyBuffer(q: Ptr, src: Ptr, dst: Ptr, srcOff: number, dstOff: number, size: number, nWait: number, wait: PtrArg, ev: Uint8Array | null): number;
  clEnqueueFillBuffer(q: Ptr, m: Ptr, pattern: PtrArg, patternSize: number, offset: number, size: number, nWait: number, wait: PtrArg, ev: Uint8Array | null): number;
  clEnqueueMapBuffer(q: Ptr, m: Ptr, blocking: number, flags: bigint, offset: number, size: number, nWait: number, wait: PtrArg, ev: Uint8Array | null, err: Int32Array): Ptr | null;
  clEnqueueUnmapMemObject(q: Ptr, m: Ptr, mapped: Ptr, nWait: number, wait: PtrArg, ev: Uint8Array | null): number;

  clCreateProgramWithSource(c: Ptr, count: number, strings: string[], lengths: null, err: Int32Array): Ptr | null;
  clCreateProgramWithBinary(c: Ptr, n: number, devices: Uint8Array, lengths: Uint8Array, binaries: Uint8Array, status: Int32Array, err: Int32Array): Ptr | null;
  clBuildProgram(p: Ptr, n: number, devices: Uint8Array, options: string, cb: null, user: null): number;
  clGetProgramInfo(p: Ptr, name: number, size: number, value: PtrArg, sizeRet: Uint8Array | null): number;
  clGetProgramBuildInfo(p: Ptr, d: Ptr, name: number, size: number, value: PtrArg, sizeRet: Uint8Array | null): number;
  clReleaseProgram(p: Ptr): number;

  clCreateKernel(p: Ptr, name: string, err: Int32Array): Ptr | null;
  clSetKernelArg(k: Ptr, index: number, size: number, value: PtrArg): number;
  clGetKernelInfo(k: Ptr, name: number, size: number, value: PtrArg, sizeRet: Uint8Array | null): number;
  clGetKernelArgInfo(k: Ptr, index: number, name: number, size: number, value: PtrArg, sizeRet: Uint8Array | null): number;
  clGetKernelWorkGroupInfo(k: Ptr, d: Ptr, name: number, size: number, value: PtrArg, sizeRet: Uint8Array | null): number;
  clReleaseKernel(k: Ptr): number;
  clEnqueueNDRangeKernel(q: Ptr, k: Ptr, dims: number, offset: PtrArg, global: Uint8Array, local: PtrArg, nWait: number, wait: PtrArg, ev: Uint8Array | null): number;
  clEnqueueTask(q: Ptr, k: Ptr, nWait: number, wait: PtrArg, ev: Uint8Array | null): number;

  clWaitForEvents: Async<[n: number, events: Uint8Array], number>;
  clGetEventInfo(e: Ptr, name: number, size: number, value: PtrArg, sizeRet: Uint8Array | null): number;
  clGetEventProfilingInfo(e: Ptr, name: number, size: number, value: PtrArg, sizeRet: Uint8Array | null): number;
  clRetainEvent(e: Ptr): number;
  clReleaseEvent(e: Ptr): number;
}

const INFO = (fn: string, obj = 'void *obj') => `int32_t ${fn}(${obj}, uint32_t name, size_t size, void *value, void *size_ret)`;

const DECLS: Record<Exclude<keyof CLApi, 'clCreateCommandQueueWithProperties'>, string> = {
  clGetPlatformIDs: 'int32_t clGetPlatformIDs(uint32_t num, void *platforms, void *num_ret)',
  clGetPlatformInfo: INFO('clGetPlatformInfo'),
  clGetDeviceIDs: 'int32_t clGetDeviceIDs(void *platform, uint64_t type, uint32_t num, void *devices, void *num_ret)',
  clGetDeviceInfo: INFO('clGetDeviceInfo'),
  clCreateContext: 'void *clCreateContext(void *props, uint32_t num, void *devices, void *cb, void *user, void *err)',
  clGetContextInfo: INFO('clGetContextInfo'),
  clReleaseContext: 'int32_t clReleaseContext(void *ctx)',
  clCreateCommandQueue: 'void *clCreateCommandQueue(void *ctx, void *device, uint64_t props, void *err)',
  clReleaseCommandQueue: 'int32_t clReleaseCommandQueue(void *q)',
  clFlush: 'int32_t clFlush(void *q)',
  clFinish: 'int32_t clFinish(void *q)',
  clCreateBuffer: 'void *clCreateBuffer(void *ctx, uint64_t flags, size_t size, void *host, void *err)',
  clReleaseMemObject: 'int32_t clReleaseMemObject(void *mem)',
  clGetMemObjectInfo: INFO('clGetMemObjectInfo'),
  clEnqueueReadBuffer: 'int32_t clEnqueueReadBuffer(void *q, void *mem, uint32_t blocking, size_t offset, size_t size, void *host, uint32_t n_wait, void *wait, void *ev)',
  clEnqueueWriteBuffer: 'int32_t clEnqueueWriteBuffer(void *q, void *mem, uint32_t blocking, size_t offset, size_t size, void *host, uint32_t n_wait, void *wait, void *ev)',
  clEnqueueCopyBuffer: 'int32_t clEnqueueCopyBuffer(void *q, void *src, void *dst, size_t src_off, size_t dst_off, size_t size, uint32_t n_wait, void *wait, void *ev)',
  clEnqueueFillBuffer: 'int32_t clEnqueueFillBuffer(void *q, void *mem, void *pattern, size_t pattern_size, size_t offset, size_t size, uint32_t n_wait, void *wait, void *ev)',
  clEnqueueMapBuffer: 'void *clEnqueueMapBuffer(void *q, void *mem, uint32_t blocking, uint64_t flags, size_t offset, size_t size, uint32_t n_wait, void *wait, void *ev, void *err)',
  clEnqueueUnmapMemObject: 'int32_t clEnqueueUnmapMemObject(void *q, void *mem, void *mapped, uint32_t n_wait, void *wait, void *ev)',
  clCreateProgramWithSource: 'void *clCreateProgramWithSource(void *ctx, uint32_t count, const char **strings, void *lengths, void *err)',
  clCreateProgramWithBinary: 'void *clCreateProgramWithBinary(void *ctx, uint32_t num, void *devices, void *lengths, void *binaries, void *status, void *err)',
  clBuildProgram: 'int32_t clBuildProgram(void *prog, uint32_t num, void *devices, const char *options, void *cb, void *user)',
  clGetProgramInfo: INFO('clGetProgramInfo'),
  clGetProgramBuildInfo: 'int32_t clGetProgramBuildInfo(void *prog, void *device, uint32_t name, size_t size, void *value, void *size_ret)',
  clReleaseProgram: 'int32_t clReleaseProgram(void *prog)',
  clCreateKernel: 'void *clCreateKernel(void *prog, const char *name, void *err)',
  clSetKernelArg: 'int32_t clSetKernelArg(void *kernel, uint32_t index, size_t size, void *value)',
  clGetKernelInfo: INFO('clGetKernelInfo'),
  clGetKernelArgInfo: 'int32_t clGetKernelArgInfo(void *kernel, uint32_t index, uint32_t name, size_t size, void *value, void *size_ret)',
  clGetKernelWorkGroupInfo: 'int32_t clGetKernelWorkGroupInfo(void *kernel, void *device, uint32_t name, size_t size, void *value, void *size_ret)',
  clReleaseKernel: 'int32_t clReleaseKernel(void *kernel)',
  clEnqueueNDRangeKernel: 'int32_t clEnqueueNDRangeKernel(void *q, void *kernel, uint32_t dims, void *offset, void *global, void *local, uint32_t n_wait, void *wait, void *ev)',
  clEnqueueTask: 'int32_t clEnqueueTask(void *q, void *kernel, uint32_t n_wait, void *wait, void *ev)',
  clWaitForEvents: 'int32_t clWaitForEvents(uint32_t num, void *events)',
  clGetEventInfo: INFO('clGetEventInfo'),
  clGetEventProfilingInfo: INFO('clGetEventProfilingInfo'),
  clRetainEvent: 'int32_t clRetainEvent(void *ev)',
  clReleaseEvent: 'int32_t clReleaseEvent(void *ev)',
};

/**
 * clEnqueueMapBuffer for 32-bit ARM. Its cl_map_flags (64-bit) comes fourth, after r0-r2 are
 * taken, so the AAPCS passes it on the stack, leaves r3 unused and puts every later argument
 * on the stack too. koffi 3.3's ARM32 call planner aligns the 64-bit value onto the stack but
 * then hands the next argument r3, so PoCL reads a garbage offset and crashes (seen under
 * qemu-arm). Declared as the AAPCS lays it out (a pad word in r3, then the flags' two halves,
 * little-endian, on the stack), the call is exact whatever koffi's planner does with 64-bit
 * values; no other bound function has a 64-bit argument that spills to the stack.
 */
function armMapBuffer(lib: Koffi.LibraryHandle): CLApi['clEnqueueMapBuffer'] {
  const raw = lib.func(
    'void *clEnqueueMapBuffer(void *q, void *mem, uint32_t blocking, uint32_t aapcs_pad, uint32_t flags_lo, uint32_t flags_hi, size_t offset, size_t size, uint32_t n_wait, void *wait, void *ev, void *err)',
  );
  return (q, m, blocking, flags, offset, size, nWait, wait, ev, err) =>
    raw(q, m, blocking, 0, Number(flags & 0xffffffffn), Number(flags >> 32n), offset, size, nWait, wait, ev, err) as Ptr | null;
}

let api: CLApi | null = null;
let loadError: OpenCLUnavailableError | null = null;

/** The bound API; throws OpenCLUnavailableError (once per process, cached) when no loader is installed. */
export function cl(): CLApi {
  if (api) return api;
  if (loadError) throw loadError;
  let lib: Koffi.LibraryHandle | null = null;
  const tried: string[] = [];
  for (const name of openclLibraryNames()) {
    try {
      lib = koffi.load(name);
      break;
    } catch (e) {
      tried.push(`${name}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  if (!lib) {
    loadError = new OpenCLUnavailableError(
      `OpenCL is not installed: cannot load the ICD loader (${tried.join('; ')}); ` +
        `install it and a platform, e.g. 'make setup' (Debian: ocl-icd-libopencl1 pocl-opencl-icd)`,
    );
    throw loadError;
  }
  const bound: Record<string, unknown> = {};
  for (const [name, decl] of Object.entries(DECLS)) bound[name] = lib.func(decl);
  if (process.arch === 'arm') bound.clEnqueueMapBuffer = armMapBuffer(lib);
  try {
    bound.clCreateCommandQueueWithProperties = lib.func(
      'void *clCreateCommandQueueWithProperties(void *ctx, void *device, void *props, void *err)',
    );
  } catch {
    bound.clCreateCommandQueueWithProperties = null;
  }
  api = bound as unknown as CLApi;
  return api;
}
