/** A context over one or more devices of one platform. */
import { cl } from './api';
import { OpenCLError, OpenCLUsageError } from './errors';
import { CLHandle, HandleState } from './handle';
import { Device } from './platform';
import { contextProperties, handleArray, hostWidths } from './widths';

/** A queue's raw state as its context tracks it (see queue.ts). */
export interface TrackedQueue {
  handle: bigint;
  released: boolean;
}

export interface ContextState extends HandleState {
  /** Live queues of this context: host-pointer buffers drain them before release. */
  queues: Set<TrackedQueue>;
}

function freeContext(s: HandleState): void {
  cl().clReleaseContext(s.handle);
}

export class Context extends CLHandle<ContextState> {
  readonly devices: readonly Device[];

  private constructor(handle: bigint, devices: Device[]) {
    super({ handle, released: false, free: freeContext, queues: new Set() }, 'OpenCL context');
    this.devices = devices;
  }

  /** A context over `devices` (all of one platform). */
  static create(devices: Device | readonly Device[]): Context {
    const list = Array.isArray(devices) ? [...devices] : [devices as Device];
    if (list.length === 0) throw new OpenCLUsageError('Context.create: no device given');
    if (list.some((d) => !(d instanceof Device))) throw new OpenCLUsageError('Context.create: expected Device objects');
    const platform = list[0].platform.id;
    if (list.some((d) => d.platform.id !== platform)) throw new OpenCLUsageError('Context.create: all devices must belong to one platform');
    if (new Set(list.map((d) => d.id)).size !== list.length) throw new OpenCLUsageError('Context.create: a device is listed twice');
    const err = new Int32Array(1);
    const w = hostWidths();
    const ids = handleArray(list.map((d) => d.id), w);
    // { CL_CONTEXT_PLATFORM, platform, 0 } keeps multi-platform ICD setups unambiguous; intptr_t
    // values, so 4 bytes each on a 32-bit host (8 there reads as platform 0: CL_INVALID_PLATFORM)
    const props = contextProperties(platform, w);
    const h = cl().clCreateContext(props, list.length, ids, null, null, err);
    if (err[0] !== 0 || !h) throw new OpenCLError('clCreateContext', err[0] || -6);
    return new Context(h, list);
  }

  /** @internal queues and host-pointer buffers share this bookkeeping. */
  get tracking(): ContextState {
    if (this.state.released) throw new OpenCLUsageError('OpenCL context was already released');
    return this.state;
  }

  /** Whether `d` is one of this context's devices. */
  hasDevice(d: Device): boolean {
    return this.devices.some((x) => x.id === d.id);
  }
}

/** Waits for every live queue of a context (before host memory that commands may use is let go). */
export function drainQueues(ctx: ContextState): void {
  for (const q of ctx.queues) if (!q.released) cl().clFinish(q.handle);
}
