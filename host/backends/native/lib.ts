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
  const env = process.env[NATIVE_LIBRARY.env];
  lib = loadLibrary(NATIVE_LIBRARY, env || nativeLibraryFile());
  return lib;
}
