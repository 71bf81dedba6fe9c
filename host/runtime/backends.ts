import { BitweaveError } from '../core/errors';
import { ReferenceBackend } from '../backends/reference';
import { NativeBackend } from '../backends/native';
import { OpenCLBackend } from '../backends/opencl';
import { HlsCsimBackend } from '../backends/hls-csim';
import { VerilatorBackend } from '../backends/verilator';
import { Backend } from './backend';

export interface BackendOptions {
  /** Worker threads for CPU work (default: all cores). */
  threads?: number;
  /** OpenCL device name substring (opencl backend; default env BITWEAVE_OPENCL_DEVICE, else every device of the first platform). */
  device?: string;
  /** opencl backend: one launch per device segment (whole layer program; time per segment, not per layer). */
  oneLaunch?: boolean;
}

/** Backends this build provides, by name. */
const FACTORIES: Record<string, (opts: BackendOptions) => Promise<Backend>> = {
  reference: async () => new ReferenceBackend(),
  native: async (opts) => new NativeBackend(opts),
  opencl: async (opts) => new OpenCLBackend(opts),
  'hls-csim': async (opts) => new HlsCsimBackend(opts),
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
