/**
 * The one loader of the project's native libraries (the CPU engine, the HLS C-simulation,
 * the Verilator model): a path from the package's build/ folder or an environment
 * variable, loaded once through koffi, with the same one-line errors for every library.
 */
import * as fs from 'node:fs';
import type * as Koffi from 'koffi' with { 'resolution-mode': 'import' };
import { BitweaveError } from './errors';
import { packagePath } from './paths';

// koffi ships ESM type declarations; its CommonJS entry is what `require` loads here
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const koffi: typeof Koffi = require('koffi');

export interface NativeLibrary {
  /** What it is, for messages: 'native library', 'RTL model', … */
  what: string;
  /** Environment variable that overrides the path. */
  env: string;
  /** File name in the package's build/ folder. */
  file: string;
  /** The make target that builds it, for the "not built" message. */
  make: string;
  /** A tool the build needs, named in that message. */
  needs?: string;
}

/** Where `lib` is loaded from: $env, else build/<file> in the package. */
export function libraryPath(lib: NativeLibrary): string {
  return process.env[lib.env] || packagePath('build', lib.file);
}

const loaded = new Map<string, Koffi.LibraryHandle>();

/** Load `lib` (from `file`, default its libraryPath) once; a missing or unloadable file is one BitweaveError line naming the fix. */
export function loadLibrary(lib: NativeLibrary, file = libraryPath(lib)): Koffi.LibraryHandle {
  const have = loaded.get(file);
  if (have) return have;
  if (!fs.existsSync(file)) throw new BitweaveError(`${lib.what} not built: ${file} is missing (run 'make ${lib.make}'${lib.needs ? `; needs ${lib.needs}` : ''})`);
  let h: Koffi.LibraryHandle;
  try {
    h = koffi.load(file);
  } catch (e) {
    throw new BitweaveError(`cannot load ${lib.what} ${file}: ${(e as Error).message}`);
  }
  loaded.set(file, h);
  return h;
}
