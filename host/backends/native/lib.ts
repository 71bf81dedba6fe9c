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

export function nativeLib(): Koffi.LibraryHandle {
  if (lib) return lib;
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
