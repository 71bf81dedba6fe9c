/**
 * bitweave's OpenCL 1.2 bindings (koffi over the ICD loader libOpenCL.so.1).
 *
 *   const dev = selectDevice({ type: 'cpu' });          // or { name: 'xilinx_u250' }, { vendor: 'Intel' }
 *   const ctx = Context.create(dev);
 *   const q = Queue.create(ctx, dev);                    // in-order, profiling on
 *   const prog = Program.fromSource(ctx, src, { options: '-DN=4' });
 *   const k = prog.createKernel('vadd').setArgs(a, b, c, { type: 'uint', value: n });
 *   q.ndrange(k, [n]).wait();                            // or q.task(k) for single work-item kernels
 *   q.read(c, out);
 *   [k, prog, q, ctx].forEach((x) => x.release());       // idempotent; leaked handles are finalised
 */
export { openclLibraryNames } from './api';
export * from './errors';
export { leakedHandleCount } from './handle';
export { addressOf, alignedArray } from './host';
export { hostWidths, WIDTHS_32, WIDTHS_64 } from './widths';
export type { PlatformWidths } from './widths';
export { Platform, Device, platforms, allDevices, findDevices, selectDevices, selectDevice } from './platform';
export type { PlatformInfo, DeviceInfo, DeviceFilter, DeviceTypeName } from './platform';
export { Context } from './context';
export { Queue } from './queue';
export type { QueueOptions, TransferOptions, LaunchOptions, Mapping } from './queue';
export { CLBuffer } from './buffer';
export type { BufferOptions, DeviceAccess, HostAccess } from './buffer';
export { Program } from './program';
export type { BuildOptions, DeviceBinary, BuildStatus } from './program';
export { Kernel, encodeScalar } from './kernel';
export type { KernelArg, KernelArgInfo, ScalarType } from './kernel';
export { CLEvent } from './event';
export { traceCalls } from './trace';
export type { CallEvent } from './trace';
export type { EventProfile, EventStatus } from './event';
