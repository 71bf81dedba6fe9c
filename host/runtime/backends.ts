import { BitweaveError } from '../core/errors';
import { ReferenceBackend } from '../backends/reference';
import { Backend } from './backend';

/** Backends this build provides, by name. */
const FACTORIES: Record<string, () => Promise<Backend>> = {
  reference: async () => new ReferenceBackend(),
};

export function availableBackends(): string[] {
  return Object.keys(FACTORIES);
}

export async function createBackend(name: string): Promise<Backend> {
  const make = FACTORIES[name];
  if (!make) {
    throw new BitweaveError(`unknown backend '${name}' (available: ${availableBackends().join(', ')})`);
  }
  return make();
}
