/**
 * Events: completion, waiting (blocking or on a koffi worker thread) and profiling times.
 * An event also keeps alive whatever host memory its command reads or writes.
 */
import { promisify } from 'node:util';
import { cl, Ptr } from './api';
import * as C from './constants';
import { check, OpenCLError, OpenCLUsageError } from './errors';
import { CLHandle, HandleState } from './handle';
import { InfoFn, infoI32, infoU32, infoU64 } from './info';
import { handleArray, hostWidths } from './widths';

export type EventStatus = 'queued' | 'submitted' | 'running' | 'complete';

/** Profiling times in device-timer nanoseconds (CL_PROFILING_COMMAND_*). */
export interface EventProfile {
  queued: bigint;
  submit: bigint;
  start: bigint;
  end: bigint;
  /** end - start, in nanoseconds. */
  durationNs: number;
}

const COMMAND_NAMES: Record<number, string> = {
  0x11f0: 'ndrange-kernel',
  0x11f1: 'task',
  0x11f3: 'read-buffer',
  0x11f4: 'write-buffer',
  0x11f5: 'copy-buffer',
  0x11fb: 'map-buffer',
  0x11fd: 'unmap',
  0x11fe: 'marker',
  0x1207: 'fill-buffer',
};

interface EventState extends HandleState {
  /** Host memory the command uses; dropped with the event. */
  hold: unknown;
}

function freeEvent(s: HandleState): void {
  cl().clReleaseEvent(s.handle);
  (s as EventState).hold = undefined;
}

export class CLEvent extends CLHandle<EventState> {
  private asyncWaits = 0;
  private releaseAfterWait = false;

  /** Takes ownership of `handle` (one reference). */
  constructor(handle: Ptr, hold?: unknown) {
    super({ handle, released: false, free: freeEvent, hold }, 'OpenCL event');
  }

  private get fn(): InfoFn {
    const h = this.handle;
    return (name, size, value, sizeRet) => cl().clGetEventInfo(h, name, size, value, sizeRet);
  }

  /** Execution status; a command that failed throws OpenCLError with its (negative) status. */
  status(): EventStatus {
    const st = infoI32('clGetEventInfo', this.fn, C.CL_EVENT_COMMAND_EXECUTION_STATUS);
    if (st < 0) throw new OpenCLError(`command (${this.commandType})`, st);
    return (['complete', 'running', 'submitted', 'queued'] as const)[st] ?? 'queued';
  }

  get commandType(): string {
    const t = infoU32('clGetEventInfo', this.fn, C.CL_EVENT_COMMAND_TYPE);
    return COMMAND_NAMES[t] ?? `0x${t.toString(16)}`;
  }

  /** Blocks until the command completes; a failed command throws OpenCLError. */
  wait(): void {
    CLEvent.waitAll([this]);
  }

  /** Waits on a koffi worker thread, so the event loop keeps running. */
  async waitAsync(): Promise<void> {
    const list = handleArray([this.handle], hostWidths());
    this.asyncWaits++;
    try {
      const st = await promisify(cl().clWaitForEvents.async)(1, list);
      if (st !== 0) this.throwWaitError(st);
    } finally {
      this.asyncWaits--;
      if (this.asyncWaits === 0 && this.releaseAfterWait) super.release();
    }
  }

  /** Releasing while waitAsync runs defers the C release until that wait returns. */
  override release(): void {
    if (this.asyncWaits > 0) {
      this.releaseAfterWait = true;
      return;
    }
    super.release();
  }

  /** QUEUED/SUBMIT/START/END times; needs a profiling queue (the default) and a completed command. */
  profile(): EventProfile {
    const h = this.handle;
    const f: InfoFn = (name, size, value, sizeRet) => cl().clGetEventProfilingInfo(h, name, size, value, sizeRet);
    const t = (n: number) => infoU64('clGetEventProfilingInfo', f, n);
    const [queued, submit, start, end] = [t(C.CL_PROFILING_COMMAND_QUEUED), t(C.CL_PROFILING_COMMAND_SUBMIT), t(C.CL_PROFILING_COMMAND_START), t(C.CL_PROFILING_COMMAND_END)];
    return { queued, submit, start, end, durationNs: Number(end - start) };
  }

  private throwWaitError(st: number): never {
    // The wait reports the generic code; the event's own status says what actually failed.
    this.status();
    throw new OpenCLError('clWaitForEvents', st);
  }

  /** Blocks until every event completes. */
  static waitAll(events: readonly CLEvent[]): void {
    if (events.length === 0) return;
    const list = waitList(events, 'CLEvent.waitAll');
    const st = cl().clWaitForEvents(list.count, list.handles!);
    if (st !== 0) {
      for (const e of events) e.status(); // throws for the command that failed
      check('clWaitForEvents', st);
    }
  }
}

/** An enqueue call's wait list: the event count and the cl_event[] (pointer-sized entries; NULL when empty). */
export interface WaitList {
  count: number;
  handles: Uint8Array | null;
}

/** The wait list of an enqueue call; refuses released events. */
export function waitList(events: readonly CLEvent[] | undefined, what: string): WaitList {
  if (!events || events.length === 0) return { count: 0, handles: null };
  if (events.length > 0xffff) throw new OpenCLUsageError(`${what}: wait list of ${events.length} events is too long`);
  const handles = events.map((e) => {
    if (!(e instanceof CLEvent)) throw new OpenCLUsageError(`${what}: wait list entries must be CLEvent objects`);
    return e.handle;
  });
  return { count: handles.length, handles: handleArray(handles, hostWidths()) };
}
