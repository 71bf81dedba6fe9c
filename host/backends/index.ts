/**
 * The backend registry: every execution backend by name. Backends import only the
 * interface (runtime/backend.ts) and export their own option types; this module imports
 * them, so the runtime reaches backends through here and nothing imports back.
 */
import { BitweaveError } from '../core/errors';
import { Backend } from '../runtime/backend';
import { ReferenceBackend } from './reference';
import { NativeBackend, NativeOptions } from './native';
import { OpenCLBackend, OpenCLBackendOptions } from './opencl';
import { HlsCsimBackend, HlsCsimOptions } from './hls-csim';
import { VerilatorBackend, VerilatorOptions } from './verilator';
import { BoardBackend, BoardOptions } from './board';
import { AxiSimBackend, AxiSimOptions } from './axi-sim';

/** Options of every backend, by field (each backend reads the ones it knows). */
export type BackendOptions = NativeOptions & OpenCLBackendOptions & HlsCsimOptions & VerilatorOptions & BoardOptions & AxiSimOptions;

const FACTORIES = {
  reference: async () => new ReferenceBackend(),
  native: async (opts: BackendOptions) => new NativeBackend(opts),
  opencl: async (opts: BackendOptions) => new OpenCLBackend(opts),
  'hls-csim': async (opts: BackendOptions) => new HlsCsimBackend(opts),
  verilator: async (opts: BackendOptions) => new VerilatorBackend(opts),
  board: async (opts: BackendOptions) => new BoardBackend(opts),
  'axi-sim': async (opts: BackendOptions) => new AxiSimBackend(opts),
} satisfies Record<string, (opts: BackendOptions) => Promise<Backend>>;

export type BackendName = keyof typeof FACTORIES;

/** Backends this build provides, by name. */
export function availableBackends(): BackendName[] {
  return Object.keys(FACTORIES) as BackendName[];
}

/** Backends that need no attached device (every one but `board`, which talks to a board's serial port). */
export function standaloneBackends(): BackendName[] {
  return availableBackends().filter((b) => b !== 'board');
}

export async function createBackend(name: string, opts: BackendOptions = {}): Promise<Backend> {
  if (!Object.prototype.hasOwnProperty.call(FACTORIES, name)) {
    throw new BitweaveError(`unknown backend '${name}' (available: ${availableBackends().join(', ')})`);
  }
  if (opts.threads !== undefined && (!Number.isInteger(opts.threads) || opts.threads < 1 || opts.threads > 1024)) {
    throw new BitweaveError(`threads must be an integer in 1..1024, got ${opts.threads}`);
  }
  return FACTORIES[name as BackendName](opts);
}
