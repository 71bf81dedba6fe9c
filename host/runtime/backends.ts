import { BitweaveError } from '../core/errors';
import { ReferenceBackend } from '../backends/reference';
import { NativeBackend } from '../backends/native';
import { VerilatorBackend } from '../backends/verilator';
import { Backend } from './backend';

export interface BackendOptions {
  /** Worker threads for CPU work (default: all cores). */
  threads?: number;
}

/** Backends this build provides, by name. */
const FACTORIES: Record<string, (opts: BackendOptions) => Promise<Backend>> = {
  reference: async () => new ReferenceBackend(),
  native: async (opts) => new NativeBackend(opts),
  verilator: async (opts) => new VerilatorBackend(opts),
};

export function availableBackends(): string[] {
  return Object.keys(FACTORIES);
}

export async function createBackend(name: string, opts: BackendOptions = {}): Promise<Backend> {
  const make = FACTORIES[name];
  if (!make) {
    throw new BitweaveError(`unknown backend '${name}' (available: ${availableBackends().join(', ')})`);
  }
  if (opts.threads !== undefined && (!Number.isInteger(opts.threads) || opts.threads < 1 || opts.threads > 1024)) {
    throw new BitweaveError(`threads must be an integer in 1..1024, got ${opts.threads}`);
  }
  return make(opts);
}
