/**
 * Deterministic release of OpenCL handles. Each wrapper owns one handle and releases it in
 * `release()` (idempotent; `dispose()` and `[Symbol.dispose]` are aliases). A
 * FinalizationRegistry is the safety net for wrappers dropped without release: its cleanup
 * receives only the raw state (never the wrapper), so it can run after the wrapper is gone.
 */
import { OpenCLUsageError } from './errors';
import type { Ptr } from './api';

/** What a finalizer needs: the raw handle and how to release it (plus anything kept alive). */
export interface HandleState {
  handle: Ptr;
  released: boolean;
  /** Releases the handle; never throws (errors during cleanup have no one to report to). */
  free(state: HandleState): void;
}

let leaked = 0;

const registry = new FinalizationRegistry<HandleState>((state) => {
  if (state.released) return;
  leaked++;
  state.released = true;
  try {
    state.free(state);
  } catch {
    // a finalizer has no caller to throw to
  }
});

/** How many handles the FinalizationRegistry released because their wrapper was dropped unreleased. */
export function leakedHandleCount(): number {
  return leaked;
}

export abstract class CLHandle<S extends HandleState = HandleState> {
  protected constructor(
    protected readonly state: S,
    readonly kind: string,
  ) {
    registry.register(this, state, this);
  }

  /** The raw handle; throws if released (so a stale wrapper never reaches C). */
  get handle(): Ptr {
    if (this.state.released) throw new OpenCLUsageError(`${this.kind} was already released`);
    return this.state.handle;
  }

  get released(): boolean {
    return this.state.released;
  }

  /** Releases the handle now; later calls do nothing. */
  release(): void {
    if (this.state.released) return;
    this.state.released = true;
    registry.unregister(this);
    this.state.free(this.state);
  }

  dispose(): void {
    this.release();
  }

  [Symbol.dispose](): void {
    this.release();
  }
}
