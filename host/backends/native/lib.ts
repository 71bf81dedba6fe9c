/**
 * The native library (build/libbitweave.so, built by `make` from host/native/*.c),
 * loaded once through koffi. Every binding module declares its functions on `nativeLib()`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as Koffi from 'koffi' with { 'resolution-mode': 'import' };

// koffi ships ESM type declarations; its CommonJS entry is what `require` loads here
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const koffi: typeof Koffi = require('koffi');
import { BitweaveError } from '../../core/errors';

/** Package root: dist/host/backends/native -> four levels up. */
const ROOT = path.resolve(__dirname, '../../../..');
export const NATIVE_LIB_PATH = process.env.BITWEAVE_NATIVE_LIB ?? path.join(ROOT, 'build', 'libbitweave.so');

let lib: Koffi.LibraryHandle | null = null;

/**
 * libgomp reads its wait policy once, when the library is loaded. Its default spins after
 * every parallel region; on a machine whose cores are shared, a spinning or preempted
 * team member stalls the next op for a scheduler slice (measured: ResNet-18 batch-1
 * latency from 1.6 ms to 130 ms with 2 threads). Passive waiting costs a futex wake-up per
 * parallel op, which the engine only pays for ops large enough. A value the user set wins.
 */
function preferPassiveOpenMP(): void {
  if (process.env.OMP_WAIT_POLICY === undefined && process.env.GOMP_SPINCOUNT === undefined) {
    process.env.OMP_WAIT_POLICY = 'PASSIVE';
  }
}

export function nativeLib(): Koffi.LibraryHandle {
  if (lib) return lib;
  preferPassiveOpenMP();
  if (!fs.existsSync(NATIVE_LIB_PATH)) {
    throw new BitweaveError(`native library not built: ${NATIVE_LIB_PATH} is missing (run 'make build')`);
  }
  try {
    lib = koffi.load(NATIVE_LIB_PATH);
  } catch (e) {
    throw new BitweaveError(`cannot load native library ${NATIVE_LIB_PATH}: ${(e as Error).message}`);
  }
  return lib;
}
