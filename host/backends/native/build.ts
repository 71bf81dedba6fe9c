/**
 * Builds the native engine (host/native/*.c -> libbitweave.so) with the system C compiler,
 * without make, for an installed package: at `npm install` (scripts/install-native.js)
 * or, when npm skipped that script or it could not build, on the native backend's first
 * use. A source checkout builds it with `make native` instead and is left alone here.
 *
 * OpenBLAS is not needed by the engine: only the `bench gemm` baselines
 * (gemm_baseline_march_native.c) call it, so without it they are left out of the build.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BitweaveError } from '../../core/errors';
import { packagePath } from '../../core/paths';
import { writeArrayHeaders } from '../../array/write-headers';

export const NATIVE_LIB_FILE = 'libbitweave.so';

/** The Makefile's NATIVE_CFLAGS without its -I (test/package checks that they agree). */
export const NATIVE_CFLAGS = ['-O3', '-fPIC', '-std=gnu11', '-ffp-contract=off', '-fno-fast-math', '-fopenmp', '-Wall', '-Wextra', '-Werror=implicit-function-declaration'];

/** Sources that call OpenBLAS: benchmark baselines, built only when it links. */
const BLAS_SOURCE = /^gemm_baseline_/;

const INSTALL_HINT = 'install one (Debian/Ubuntu: apt-get install build-essential) or set CC';

/** A source checkout (its Makefile builds build/libbitweave.so); an installed package has none. */
export function isSourceCheckout(): boolean {
  return fs.existsSync(packagePath('Makefile'));
}

/** `cmd` as an executable file: a path as given, else the first hit on PATH; null if none. */
function which(cmd: string, env: NodeJS.ProcessEnv): string | null {
  const executable = (f: string) => {
    try {
      fs.accessSync(f, fs.constants.X_OK);
      return fs.statSync(f).isFile();
    } catch {
      return false;
    }
  };
  if (cmd.includes('/')) return executable(cmd) ? path.resolve(cmd) : null;
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (dir && executable(path.join(dir, cmd))) return path.join(dir, cmd);
  }
  return null;
}

/**
 * The C compiler as argv (CC may carry a launcher or flags: "ccache gcc"), or why there is
 * none, as the line users see: nothing is attempted without a compiler.
 */
export function findCompiler(env: NodeJS.ProcessEnv = process.env): { cc: string[] } | { missing: string } {
  if (process.platform === 'win32' || process.arch !== 'x64') {
    return { missing: `the native engine needs an x86-64 CPU and a Unix-like system; this machine is ${process.platform}-${process.arch}` };
  }
  const given = (env.CC ?? '').trim();
  if (given) {
    const argv = given.split(/\s+/);
    if (!which(argv[0], env)) return { missing: `no C compiler: CC is '${given}', and ${argv[0]} ${argv[0].includes('/') ? 'is not an executable file' : 'is not on PATH'}; point CC at a C compiler or unset it` };
    return { cc: argv };
  }
  for (const c of ['cc', 'gcc', 'clang']) if (which(c, env)) return { cc: [c] };
  return { missing: `no C compiler (cc, gcc or clang) found on PATH; ${INSTALL_HINT}` };
}

/** Where a first-use build goes when the package folder is not writable: a per-user cache, one folder per source version. */
export function nativeCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.BITWEAVE_CACHE_DIR || path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'bitweave');
  const hash = createHash('sha256');
  for (const f of nativeSourceFiles()) hash.update(f).update(fs.readFileSync(packagePath('host', 'native', f)));
  const version = (JSON.parse(fs.readFileSync(packagePath('package.json'), 'utf8')) as { version: string }).version;
  return path.join(base, `native-${version}-${hash.digest('hex').slice(0, 12)}`);
}

function nativeSourceFiles(): string[] {
  const dir = packagePath('host', 'native');
  let files: string[];
  try {
    files = fs.readdirSync(dir).filter((f) => /\.[ch]$/.test(f)).sort();
  } catch {
    throw new BitweaveError(`the native engine's sources are missing (${dir}); reinstall bitweave`);
  }
  return files;
}

interface Ran {
  ok: boolean;
  stderr: string;
}

function run(argv: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Ran> {
  return new Promise((resolve) => {
    const p = spawn(argv[0], argv.slice(1), { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    p.on('error', (e) => resolve({ ok: false, stderr: e.message }));
    p.on('close', (code) => resolve({ ok: code === 0, stderr }));
  });
}

/** The line of a compiler's output that says what went wrong (its first error, else its first line). */
function firstError(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  return (lines.find((l) => /\berror\b/i.test(l)) ?? lines[0] ?? 'no output').slice(0, 300);
}

/** Whether a small program builds with `flags`: the facts the build depends on, checked before it starts. */
async function probe(cc: string[], dir: string, env: NodeJS.ProcessEnv, name: string, source: string, flags: string[]): Promise<Ran> {
  const src = path.join(dir, `${name}.c`);
  fs.writeFileSync(src, source);
  return run([...cc, src, '-o', path.join(dir, name), ...flags], dir, env);
}

async function pool<T>(items: T[], jobs: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(jobs, items.length) }, async () => {
    while (next < items.length) await work(items[next++]);
  }));
}

export interface NativeBuild {
  lib: string;
  /** What the build left out and why (OpenBLAS missing), for the user. */
  notes: string[];
  seconds: number;
}

/**
 * Compile host/native/*.c into `outDir`/libbitweave.so. Objects go to a private folder
 * beside it and the library is renamed into place, so concurrent builds and readers never
 * see half a file. Throws a one-line BitweaveError naming what is missing.
 */
export async function buildNative(outDir: string, env: NodeJS.ProcessEnv = process.env): Promise<NativeBuild> {
  const t0 = Date.now();
  const found = findCompiler(env);
  if ('missing' in found) throw new BitweaveError(found.missing);
  const { cc } = found;
  fs.mkdirSync(outDir, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(outDir, '.build-'));
  try {
    const [omp, blas] = await Promise.all([
      probe(cc, tmp, env, 'omp', '#include <omp.h>\nint main(void) { return omp_get_max_threads() > 0 ? 0 : 1; }\n', ['-fopenmp']),
      probe(cc, tmp, env, 'blas', '#include <cblas.h>\nint main(void) { float x = 1; return (int)cblas_sdot(1, &x, 1, &x, 1) - 1; }\n', ['-lopenblas']),
    ]);
    if (!omp.ok) throw new BitweaveError(`the C compiler '${cc.join(' ')}' cannot build OpenMP code (-fopenmp): ${firstError(omp.stderr)}; install gcc (with libgomp) or set CC`);
    const notes: string[] = [];
    if (!blas.ok) notes.push(`libopenblas not found (${firstError(blas.stderr)}): built without the 'bench gemm' baselines (install libopenblas-dev, then run npm rebuild bitweave, for them)`);

    const include = path.join(tmp, 'include');
    writeArrayHeaders(include);
    const sources = nativeSourceFiles().filter((f) => f.endsWith('.c') && (blas.ok || !BLAS_SOURCE.test(f)));
    const objects: string[] = [];
    const failed: string[] = [];
    await pool(sources, os.availableParallelism(), async (f) => {
      if (failed.length) return;
      const obj = path.join(tmp, f.replace(/\.c$/, '.o'));
      // like the Makefile: benchmark baselines are built for this CPU, the engine for any x86-64
      const march = f.includes('_march_native') ? ['-march=native'] : [];
      const r = await run([...cc, ...NATIVE_CFLAGS, ...march, '-I', include, '-c', packagePath('host', 'native', f), '-o', obj], tmp, env);
      if (r.ok) objects.push(obj);
      else failed.push(`compiling host/native/${f} with '${cc.join(' ')}' failed: ${firstError(r.stderr)}`);
    });
    if (failed.length) throw new BitweaveError(failed[0]);
    const built = path.join(tmp, NATIVE_LIB_FILE);
    const link = await run([...cc, '-shared', '-fopenmp', '-o', built, ...objects.sort(), ...(blas.ok ? ['-lopenblas'] : []), '-lm'], tmp, env);
    if (!link.ok) throw new BitweaveError(`linking ${NATIVE_LIB_FILE} with '${cc.join(' ')}' failed: ${firstError(link.stderr)}`);
    const lib = path.join(outDir, NATIVE_LIB_FILE);
    fs.renameSync(built, lib);
    return { lib, notes, seconds: (Date.now() - t0) / 1000 };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

function writable(dir: string): boolean {
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.accessSync(dir, fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The native library to load, built first if this installed package has none yet: the
 * package's build/ when writable (where the install script puts it), else the per-user
 * cache. Synchronous, as loading is: the build runs in a child Node process (this file)
 * so it still compiles in parallel. In a source checkout the answer is always build/,
 * whose absence the loader reports with its `make` command.
 */
export function nativeLibraryFile(): string {
  const inPackage = packagePath('build', NATIVE_LIB_FILE);
  if (fs.existsSync(inPackage) || isSourceCheckout()) return inPackage;
  const cached = path.join(nativeCacheDir(), NATIVE_LIB_FILE);
  if (fs.existsSync(cached)) return cached;

  const found = findCompiler();
  if ('missing' in found) throw new BitweaveError(`the native engine is not built and cannot be built here: ${found.missing}`);
  const outDir = writable(packagePath('build')) ? packagePath('build') : path.dirname(cached);
  process.stderr.write(`bitweave: building the native engine into ${outDir} with ${found.cc.join(' ')} (first use: it was not built at install) …\n`);
  const r = spawnSync(process.execPath, [__filename, outDir], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  const lines = (r.stderr ?? '').trim().split('\n').filter(Boolean);
  if (r.status !== 0) throw new BitweaveError(`the native engine could not be built: ${lines.at(-1) ?? r.error?.message ?? `the build exited with ${r.status ?? r.signal}`}`);
  for (const l of lines) process.stderr.write(`bitweave: ${l}\n`);
  return path.join(outDir, NATIVE_LIB_FILE);
}

/** The npm `install` hook: build into the package's build/; never fails the install. */
export async function installHook(): Promise<void> {
  if (isSourceCheckout()) return;
  try {
    const b = await buildNative(packagePath('build'));
    process.stderr.write(`bitweave: built the native engine ${b.lib} in ${b.seconds.toFixed(1)} s\n`);
    for (const n of b.notes) process.stderr.write(`bitweave: note: ${n}\n`);
  } catch (e) {
    process.stderr.write(`bitweave: the native engine was not built: ${(e as Error).message}. The reference backend works without it; --backend native tries the build again on first use.\n`);
  }
}

// `node build.js <outDir>`: the first-use build's child process. Its last stderr line is the result.
if (require.main === module) {
  buildNative(path.resolve(process.argv[2])).then(
    (b) => {
      for (const n of b.notes) process.stderr.write(`note: ${n}\n`);
      process.stderr.write(`built ${b.lib} in ${b.seconds.toFixed(1)} s\n`);
    },
    (e: Error) => {
      process.stderr.write(`${e.message}\n`);
      process.exitCode = 1;
    },
  );
}
