/**
 * The native library (build/libbitweave.so, built by `make` from host/native/*.c in a
 * checkout, by the install script or on first use in an installed package: build.ts),
 * loaded once through koffi. Every binding module declares its functions on `nativeLib()`.
 */
import type * as Koffi from 'koffi' with { 'resolution-mode': 'import' };
import { koffi, loadLibrary, NativeLibrary } from '../../core/native-lib';
import { nativeLibraryFile } from './build';

export { koffi };

export const NATIVE_LIBRARY: NativeLibrary = { what: 'native library', env: 'BITWEAVE_NATIVE_LIB', file: 'libbitweave.so', make: 'build' };

let lib: Koffi.LibraryHandle | null = null;

/**
 * libgomp reads its wait policy once, when the library is loaded. Workers that sleep at
 * once (OMP_WAIT_POLICY=PASSIVE) pay a futex wake-up per parallel op, which on a VM can
 * cost as much as a small op: ResNet-18 at batch 1 then gains nothing from a second core.
 * Workers that spin without bound (ACTIVE, or libgomp's default 300,000 spins) steal cores
 * from everything else on a shared machine, and a preempted spinner stalls the next op
 * (measured: batch-1 latency from 1.6 ms to 130 ms). A short spin (about a millisecond)
 * keeps them awake across the ops of one inference and asleep between requests. Values
 * the user set win.
 */
function preferShortSpinOpenMP(): void {
  if (process.env.OMP_WAIT_POLICY === undefined && process.env.GOMP_SPINCOUNT === undefined) {
    process.env.GOMP_SPINCOUNT = '30000';
  }
}

/** Whether a backend has loaded the library already (a probe with no side effect: no build, no load). */
export function nativeLibLoaded(): boolean {
  return lib !== null;
}

export function nativeLib(): Koffi.LibraryHandle {
  if (lib) return lib;
  preferShortSpinOpenMP();
  const env = process.env[NATIVE_LIBRARY.env];
  lib = loadLibrary(NATIVE_LIBRARY, env || nativeLibraryFile());
  return lib;
}
