/**
 * An optional record of the calls that decide where a buffer lives: creation (with or
 * without a host copy), binding to a kernel argument, reads and writes (Queue.mapInPlace
 * counts as one). XRT chooses a buffer's memory bank when the buffer is first bound to a
 * kernel argument (or from a cl_mem_ext_ptr_t); a buffer written before that lands in a
 * default bank that may not be the one the kernel's port is connected to. Tests record the
 * order the backends use.
 */
export type CallEvent =
  | { call: 'create'; buffer: number; bytes: number; hostCopy: boolean }
  | { call: 'bind'; buffer: number; kernel: string; arg: number }
  | { call: 'write' | 'read'; buffer: number; bytes: number };

let sink: ((e: CallEvent) => void) | null = null;

/** Sends every CallEvent to `f` until the returned function is called. */
export function traceCalls(f: (e: CallEvent) => void): () => void {
  const prev = sink;
  sink = f;
  return () => {
    sink = prev;
  };
}

/** Records one event (a no-op unless tracing). */
export function traceCall(e: CallEvent): void {
  if (sink) sink(e);
}
