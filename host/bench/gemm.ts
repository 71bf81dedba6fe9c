/**
 * The xnor-popcount GEMM (host/native/bgemm*.c) through koffi, and the seed's GEMM
 * experiment (`bitweave bench gemm`) plus the machine's popcount ceiling (`bench peak`).
 *
 * Every wrapper validates integers, strides, lengths and alignment before calling C, so bad
 * input is a BitweaveError, never a native crash.
 *
 * The experiment (BMXNet's): M = 64 filters, N = 12800 (batch 200 x 8x8 outputs),
 * K = 25·C for C in 64, 128, 256, 512. A (M x K) and B (K x N, an im2col matrix) are random
 * ±1 floats. Methods: OpenBLAS sgemm, the seed's xnor_32 / xnor_64 (one thread) and
 * xnor_64_omp, and bitweave's kernel, each timed in C, with and without binarising the float
 * inputs. Repetitions are interleaved round-robin across methods so a machine shared with
 * other work slows all methods alike; the median is reported.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { BitweaveError } from '../core/errors';
import { nativeLib } from '../backends/native/lib';
import { median } from './stats';

/** 64-bit words: a BigUint64Array, or a Uint32Array holding each word as two halves (low first). */
export type Words = BigUint64Array | Uint32Array;

export const ISA_NAMES = ['scalar', 'avx2', 'avx512'] as const;
export type IsaName = (typeof ISA_NAMES)[number];

export const GEMM_METHODS = ['sgemm', 'xnor_32', 'xnor_64', 'xnor_64_omp', 'bitweave'] as const;
export type GemmMethod = (typeof GEMM_METHODS)[number];

const C_SYMBOL: Record<GemmMethod, string> = {
  sgemm: 'bw_bench_sgemm',
  xnor_32: 'bw_bench_xnor32',
  xnor_64: 'bw_bench_xnor64',
  xnor_64_omp: 'bw_bench_xnor64_omp',
  bitweave: 'bw_bench_bitweave',
};
/** Methods that run on one thread whatever --threads says (the seed's plain versions). */
const SINGLE_THREADED: ReadonlySet<GemmMethod> = new Set<GemmMethod>(['xnor_32', 'xnor_64']);

const INT32_MAX = 2 ** 31 - 1;
const MAX_THREADS = 1024;

/* ---------------------------------------------------------------------------------------- */
/* koffi bindings (lazy)                                                                     */

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Fn = (...args: any[]) => any;
interface Raw {
  xnor: Fn; and: Fn; xnorRef: Fn; andRef: Fn; packRows: Fn; packCols: Fn;
  isaSet: Fn; isaCurrent: Fn; isaSupported: Fn; isaBest: Fn; isaName: Fn; popcntSet: Fn; popcntEnabled: Fn; hasPopcnt: Fn; cpuCount: Fn;
  peak: Fn; peakFma: Fn; blasConfig: Fn | null; bench: Partial<Record<GemmMethod, Fn>>;
}
let raw: Raw | null = null;

function lib(): Raw {
  if (raw) return raw;
  const l = nativeLib();
  const gemm = (name: string) => l.func(`void ${name}(int M, int N, int kwords, const void *A, int lda, const void *B, int ldb, void *C, int ldc, int threads)`);
  const ref = (name: string) => l.func(`void ${name}(int M, int N, int kwords, const void *A, int lda, const void *B, int ldb, void *C, int ldc)`);
  const bench = (name: string) => l.func(`int ${name}(int M, int N, int K, const void *A, const void *B, int binarize, int threads, int reps, void *samples, void *result)`);
  // the baselines need OpenBLAS; a library built where it was missing has none (backends/native/build.ts)
  let blasConfig: Fn | null = null;
  try {
    blasConfig = l.func('const char *bw_blas_config(void)');
  } catch {
    /* built without OpenBLAS */
  }
  raw = {
    xnor: gemm('bw_bgemm_xnor'),
    and: gemm('bw_bgemm_and'),
    xnorRef: ref('bw_bgemm_xnor_ref'),
    andRef: ref('bw_bgemm_and_ref'),
    packRows: l.func('void bw_pack_rows_f32(int rows, int cols, const void *X, long ldx, void *out, long ldo, int threads)'),
    packCols: l.func('int bw_pack_cols_f32(int rows, int cols, const void *X, long ldx, void *out, long ldo, int threads)'),
    isaSet: l.func('int bw_isa_set(int isa)'),
    isaCurrent: l.func('int bw_isa_current(void)'),
    isaSupported: l.func('int bw_isa_supported(int isa)'),
    isaBest: l.func('int bw_isa_best(void)'),
    isaName: l.func('const char *bw_isa_name(int isa)'),
    popcntSet: l.func('int bw_popcnt_set(int enable)'),
    popcntEnabled: l.func('int bw_popcnt_enabled(void)'),
    hasPopcnt: l.func('int bw_cpu_has_popcnt(void)'),
    cpuCount: l.func('int bw_cpu_count(void)'),
    peak: l.func('double bw_peak_bitops(int isa, int threads, long iters, void *seconds)'),
    peakFma: l.func('double bw_peak_fma(int isa, int threads, long iters, void *seconds)'),
    blasConfig,
    bench: Object.fromEntries(GEMM_METHODS.filter((m) => blasConfig || m === 'bitweave').map((m) => [m, bench(C_SYMBOL[m])])),
  };
  return raw;
}

/* ---------------------------------------------------------------------------------------- */
/* validation                                                                                */

function int(name: string, v: number, min: number, max = INT32_MAX): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new BitweaveError(`${name} must be an integer in [${min}, ${max}], got ${v}`);
  }
  return v;
}

/** Number of whole 64-bit words the array holds; rejects views not 8-byte aligned. */
function wordCount(name: string, a: Words): number {
  if (a instanceof BigUint64Array) return a.length;
  if (a instanceof Uint32Array) {
    if (a.byteOffset % 8 !== 0) throw new BitweaveError(`${name}: a Uint32Array of 64-bit words must start at a multiple of 8 bytes (byteOffset ${a.byteOffset})`);
    return Math.floor(a.length / 2);
  }
  throw new BitweaveError(`${name} must be a BigUint64Array or a Uint32Array of word halves`);
}

/** Elements a rows x width matrix with leading dimension ld needs. */
function needed(rows: number, width: number, ld: number): number {
  return rows > 0 && width > 0 ? (rows - 1) * ld + width : 0;
}

export type GemmMode = 'xnor' | 'and';

/**
 * C[m*ldc + n] = sum_{k < kwords} popcount(~(A[m*lda + k] ^ B[n*ldb + k])) ('xnor': the match
 * count P) or popcount(A & B) ('and'), over 64-bit words; both operands K-contiguous rows.
 * `reference` runs the plain single-threaded C loop instead of the tiled kernels.
 */
export function bgemm(
  mode: GemmMode, M: number, N: number, kwords: number,
  A: Words, lda: number, B: Words, ldb: number, C: Int32Array, ldc: number,
  threads = 1, reference = false,
): void {
  if (mode !== 'xnor' && mode !== 'and') throw new BitweaveError(`mode must be 'xnor' or 'and', got ${String(mode)}`);
  int('M', M, 0);
  int('N', N, 0);
  int('kwords', kwords, 0, Math.floor(INT32_MAX / 64)); // counts stay below 2^31
  int('lda', lda, Math.max(1, kwords));
  int('ldb', ldb, Math.max(1, kwords));
  int('ldc', ldc, Math.max(1, N));
  int('threads', threads, 1, MAX_THREADS);
  if (!(C instanceof Int32Array)) throw new BitweaveError('C must be an Int32Array');
  const na = needed(M, kwords, lda), nb = needed(N, kwords, ldb), nc = needed(M, N, ldc);
  if (wordCount('A', A) < na) throw new BitweaveError(`A holds ${wordCount('A', A)} words, needs ${na} (M ${M}, lda ${lda}, kwords ${kwords})`);
  if (wordCount('B', B) < nb) throw new BitweaveError(`B holds ${wordCount('B', B)} words, needs ${nb} (N ${N}, ldb ${ldb}, kwords ${kwords})`);
  if (C.length < nc) throw new BitweaveError(`C holds ${C.length} values, needs ${nc} (M ${M}, ldc ${ldc}, N ${N})`);
  if (M === 0 || N === 0) return;
  const r = lib();
  if (reference) (mode === 'xnor' ? r.xnorRef : r.andRef)(M, N, kwords, A, lda, B, ldb, C, ldc);
  else (mode === 'xnor' ? r.xnor : r.and)(M, N, kwords, A, lda, B, ldb, C, ldc, threads);
}

/**
 * Pack floats into 64-bit words by sign (x >= 0 -> 1, LSB-first, zero tail bits).
 * 'rows': out row r = X row r (X is rows x cols). 'cols': out row c = X column c, so a
 * K x N matrix becomes the N x ceil(K/64) operand B. Returns out (Uint32Array halves).
 */
export function packSigns(kind: 'rows' | 'cols', rows: number, cols: number, X: Float32Array, threads = 1): Uint32Array {
  int('rows', rows, 0);
  int('cols', cols, 0);
  int('threads', threads, 1, MAX_THREADS);
  if (!(X instanceof Float32Array)) throw new BitweaveError('X must be a Float32Array');
  if (X.length < rows * cols) throw new BitweaveError(`X holds ${X.length} floats, needs ${rows} x ${cols}`);
  const width = kind === 'rows' ? cols : rows, count = kind === 'rows' ? rows : cols;
  const words = Math.ceil(width / 64);
  const out = new Uint32Array(2 * words * count);
  if (words === 0 || count === 0) return out;
  if (kind === 'rows') lib().packRows(rows, cols, X, cols, out, words, threads);
  else if (lib().packCols(rows, cols, X, cols, out, words, threads) !== 0) throw new BitweaveError('bw_pack_cols_f32: out of memory');
  return out;
}

/* ---------------------------------------------------------------------------------------- */
/* ISA control                                                                               */

export function isaName(level: number): string {
  return lib().isaName(level) as string;
}
export function isaSupported(level: number): boolean {
  return Number.isInteger(level) && lib().isaSupported(level) === 1;
}
/** Levels this machine runs, lowest first. */
export function supportedIsas(): number[] {
  return [0, 1, 2].filter(isaSupported);
}
export function currentIsa(): number {
  return lib().isaCurrent() as number;
}
export function bestIsa(): number {
  return lib().isaBest() as number;
}
/** Force a level for every later kernel call (GEMM and the native engine); false if unsupported. */
export function setIsa(level: number | IsaName): boolean {
  const l = typeof level === 'string' ? ISA_NAMES.indexOf(level) : level;
  if (!Number.isInteger(l) || l < 0) return false;
  return lib().isaSet(l) === l;
}
export function cpuHasPopcnt(): boolean {
  return lib().hasPopcnt() === 1;
}
/** Allow or forbid the POPCNT instruction in scalar code; false when allowing it on a CPU without it. */
export function setPopcnt(enable: boolean): boolean {
  return lib().popcntSet(enable ? 1 : 0) >= 0;
}
export function popcntEnabled(): boolean {
  return lib().popcntEnabled() === 1;
}

/* ---------------------------------------------------------------------------------------- */
/* timing entry points                                                                       */

export interface MethodRun {
  samplesMs: number[];
  /** Match counts P (M x N) of the last run. */
  result: Int32Array;
}

/** Time one method in C: `reps` runs (after one untimed warm-up); K must be a multiple of 64. */
export function timeMethod(
  method: GemmMethod, M: number, N: number, K: number, A: Float32Array, B: Float32Array,
  opts: { binarize: boolean; threads: number; reps: number },
): MethodRun {
  if (!GEMM_METHODS.includes(method)) throw new BitweaveError(`unknown GEMM method '${String(method)}'`);
  int('M', M, 1);
  int('N', N, 1);
  int('K', K, 64);
  if (K % 64 !== 0) throw new BitweaveError(`K must be a multiple of 64, got ${K}`);
  int('threads', opts.threads, 1, MAX_THREADS);
  int('reps', opts.reps, 1, 10000);
  if (M * N > INT32_MAX) throw new BitweaveError(`M x N = ${M * N} is too large`);
  if (!(A instanceof Float32Array) || A.length < M * K) throw new BitweaveError(`A must be a Float32Array of M x K = ${M * K} floats`);
  if (!(B instanceof Float32Array) || B.length < K * N) throw new BitweaveError(`B must be a Float32Array of K x N = ${K * N} floats`);
  const samples = new Float64Array(opts.reps);
  const result = new Int32Array(M * N);
  const fn = lib().bench[method];
  if (!fn) throw new BitweaveError(`the ${method} baseline is not in this build of the native engine: libopenblas was not found when it was built (install libopenblas-dev, then run npm rebuild bitweave)`);
  const rc = fn(M, N, K, A, B, opts.binarize ? 1 : 0, opts.threads, opts.reps, samples, result) as number;
  if (rc === -2) throw new BitweaveError(`${method}: out of memory at M ${M}, N ${N}, K ${K}`);
  if (rc !== 0) throw new BitweaveError(`${method}: invalid arguments (rc ${rc})`);
  return { samplesMs: Array.from(samples), result };
}

/** Binary MACs (bit-ops) per second of a register-resident popcount loop; level -1 = current. */
export function peakBitOps(level: number, threads: number, iters = 20_000_000): number {
  return ceiling(lib().peak, level, threads, iters);
}

/** Float32 fused multiply-adds per second of a register-resident FMA loop (the float layers' ceiling). */
export function peakFma(level: number, threads: number, iters = 20_000_000): number {
  return ceiling(lib().peakFma, level, threads, iters);
}

function ceiling(fn: Fn, level: number, threads: number, iters: number): number {
  int('level', level, -1, 2);
  int('threads', threads, 1, MAX_THREADS);
  int('iters', iters, 1, 2 ** 40);
  const seconds = new Float64Array(1);
  const r = fn(level, threads, iters, seconds) as number;
  if (!(r > 0)) throw new BitweaveError(`this CPU does not run ISA level ${level} (${isaName(level)})`);
  return r;
}

/* ---------------------------------------------------------------------------------------- */
/* machine                                                                                   */

export interface Machine {
  cpu: string;
  cores: number;
  isa: string;
  popcnt: boolean;
  /** OpenBLAS build and the kernels it picked for this CPU (sgemm's side). */
  blas: string;
  node: string;
}

export function machine(): Machine {
  let cpu = os.cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpu = m[1].trim();
  } catch {
    /* not Linux: keep os.cpus() */
  }
  return { cpu, cores: lib().cpuCount() as number, isa: isaName(currentIsa()), popcnt: popcntEnabled(), blas: lib().blasConfig ? String(lib().blasConfig!()) : 'none (built without OpenBLAS)', node: process.version };
}

/* ---------------------------------------------------------------------------------------- */
/* bench peak                                                                                */

export interface PeakRow {
  isa: string;
  threads: number;
  binaryMacsPerSecond: number;
  /** float32 FMAs per second: the ceiling of the float layers (stem convolution, dense). */
  fmaPerSecond: number;
}
export interface PeakResult {
  machine: Machine;
  rows: PeakRow[];
  /** The current ISA's ceilings (what `bench gemm` compares against). */
  perCore: number;
  allCores: number;
  /** The current ISA's float32 FMA ceilings. */
  fmaPerCore: number;
  fmaAllCores: number;
  threads: number;
}

/** Best of `tries` runs (a ceiling: the least disturbed run is the closest to it). */
function bestPeak(measure: typeof peakBitOps, level: number, threads: number, tries: number, iters: number): number {
  let best = 0;
  for (let i = 0; i < tries; i++) best = Math.max(best, measure(level, threads, iters));
  return best;
}

export function benchPeak(opts: { threads?: number; tries?: number; iters?: number; allIsas?: boolean } = {}): PeakResult {
  const threads = int('threads', opts.threads ?? os.availableParallelism(), 1, MAX_THREADS);
  const tries = int('tries', opts.tries ?? 3, 1, 100);
  const iters = int('iters', opts.iters ?? 20_000_000, 1, 2 ** 40);
  const cur = currentIsa();
  const levels = opts.allIsas === false ? [cur] : supportedIsas();
  const rows: PeakRow[] = [];
  let perCore = 0, allCores = 0, fmaPerCore = 0, fmaAllCores = 0;
  for (const level of levels) {
    const it = level === 2 ? iters : Math.max(1, Math.floor(iters / 4)); // slower loops: similar wall time
    const fit = Math.max(1, Math.floor(it / 2)); // the FMA loop's step takes about twice as long
    const one = bestPeak(peakBitOps, level, 1, tries, it);
    const all = threads > 1 ? bestPeak(peakBitOps, level, threads, tries, it) : one;
    const fOne = bestPeak(peakFma, level, 1, tries, fit);
    const fAll = threads > 1 ? bestPeak(peakFma, level, threads, tries, fit) : fOne;
    rows.push({ isa: isaName(level), threads: 1, binaryMacsPerSecond: one, fmaPerSecond: fOne });
    if (threads > 1) rows.push({ isa: isaName(level), threads, binaryMacsPerSecond: all, fmaPerSecond: fAll });
    if (level === cur) (perCore = one), (allCores = all), (fmaPerCore = fOne), (fmaAllCores = fAll);
  }
  return { machine: machine(), rows, perCore, allCores, fmaPerCore, fmaAllCores, threads };
}

/* ---------------------------------------------------------------------------------------- */
/* bench gemm                                                                                */

export interface BenchGemmOptions {
  threads?: number;
  /** Timed runs per method (median reported); default 5. */
  repeat?: number;
  channels?: number[];
  /** Filters M (default 64) and outputs N (default 12800): smaller only for quick tests. */
  M?: number;
  N?: number;
  seed?: number;
  /** Called before each timed block. */
  onStep?: (what: string) => void;
}

export interface GemmRow {
  channels: number;
  M: number;
  N: number;
  K: number;
  method: GemmMethod;
  includesBinarize: boolean;
  threads: number;
  repeats: number;
  ms: number;
  minMs: number;
  maxMs: number;
  binaryMacsPerSecond: number;
  /** Of the measured popcount ceiling at the same thread count. */
  fractionOfPeak: number;
  speedupVsSgemm: number;
  speedupVsXnor64Omp: number;
}

export interface GemmSummary {
  channels: number;
  includesBinarize: boolean;
  bitweaveVsSgemm: number;
  bitweaveVsXnor64Omp: number;
}

export interface BenchGemmResult {
  machine: Machine;
  peak: { perCore: number; allCores: number; threads: number; isa: string };
  check: { channels: number; methods: GemmMethod[]; agree: boolean; sampledAgainstTs: number };
  rows: GemmRow[];
  summary: GemmSummary[];
  notes: string[];
}

/** Random ±1 floats (xorshift32, 32 signs per draw). */
export function randomSigns(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = (seed >>> 0) || 0x9e3779b9;
  for (let i = 0; i < n; i += 32) {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    const e = Math.min(32, n - i);
    for (let j = 0; j < e; j++) out[i + j] = (s >>> j) & 1 ? 1 : -1;
  }
  return out;
}

/** P = #{k : sign(A[m,k]) == sign(B[k,n])} computed in TypeScript for a few (m, n). */
function sampleCheck(A: Float32Array, B: Float32Array, M: number, N: number, K: number, result: Int32Array, count: number, seed: number): void {
  let s = seed >>> 0 || 1;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0), s);
  for (let t = 0; t < count; t++) {
    const m = next() % M, n = next() % N;
    let p = 0;
    for (let k = 0; k < K; k++) if (A[m * K + k] >= 0 === B[k * N + n] >= 0) p++;
    if (result[m * N + n] !== p) {
      throw new Error(`bench gemm: bitweave's result at (m ${m}, n ${n}) is ${result[m * N + n]}, the TypeScript model says ${p}`);
    }
  }
}

function firstDifference(a: Int32Array, b: Int32Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

export function benchGemm(opts: BenchGemmOptions = {}): BenchGemmResult {
  const threads = int('threads', opts.threads ?? os.availableParallelism(), 1, MAX_THREADS);
  const repeat = int('repeat', opts.repeat ?? 5, 1, 1000);
  const M = int('M', opts.M ?? 64, 1, 4096);
  const N = int('N', opts.N ?? 12800, 1, 1 << 20);
  const channels = opts.channels ?? [64, 128, 256, 512];
  if (channels.length === 0) throw new BitweaveError('no channel counts given');
  for (const c of channels) int('channels', c, 1, 4096);
  const seed = opts.seed ?? 1;
  const notes: string[] = [];

  const peak = benchPeak({ threads, tries: 3, allIsas: false });
  const ceiling = (t: number) => (t === 1 ? peak.perCore : peak.allCores);

  const rows: GemmRow[] = [];
  const summary: GemmSummary[] = [];
  let check: BenchGemmResult['check'] | null = null;
  const sorted = [...channels].sort((a, b) => a - b);

  for (const C of sorted) {
    // K = 25·C is a multiple of 64 when C is; round up otherwise (the seed's kernels need whole words)
    let K = 25 * C;
    if (K % 64 !== 0) {
      K = Math.ceil(K / 64) * 64;
      notes.push(`C=${C}: K rounded up from ${25 * C} to ${K} (whole 64-bit words)`);
    }
    opts.onStep?.(`C=${C}: generating inputs`);
    const A = randomSigns(M * K, seed * 7919 + C);
    const B = randomSigns(K * N, seed * 104729 + C);

    if (check === null) {
      // before any timing: every method, binarising the same floats, must give the same P
      opts.onStep?.(`C=${C}: cross-checking all methods`);
      const ref = timeMethod('bitweave', M, N, K, A, B, { binarize: true, threads, reps: 1 }).result;
      sampleCheck(A, B, M, N, K, ref, 256, seed);
      for (const m of GEMM_METHODS) {
        for (const binarize of [true, false]) {
          const r = timeMethod(m, M, N, K, A, B, { binarize, threads, reps: 1 }).result;
          const d = firstDifference(ref, r);
          if (d >= 0) throw new Error(`bench gemm: ${m} (binarize ${binarize}) disagrees with bitweave at C=${C}, m ${Math.floor(d / N)}, n ${d % N}: ${r[d]} vs ${ref[d]}`);
        }
      }
      check = { channels: C, methods: [...GEMM_METHODS], agree: true, sampledAgainstTs: 256 };
    }

    for (const binarize of [false, true]) {
      // slow methods on the largest sizes: fewer runs (reported per row)
      const slow = (m: GemmMethod) => C >= 512 && (m === 'sgemm' || SINGLE_THREADED.has(m));
      const reps = (m: GemmMethod) => (slow(m) ? Math.min(repeat, 3) : repeat);
      const samples = new Map<GemmMethod, number[]>(GEMM_METHODS.map((m) => [m, []]));
      let bitweaveResult: Int32Array | null = null;
      const order: GemmMethod[] = ['bitweave', ...GEMM_METHODS.filter((m) => m !== 'bitweave')];
      for (let round = 0; round < repeat; round++) {
        for (const m of order) {
          if (round >= reps(m)) continue;
          opts.onStep?.(`C=${C} ${binarize ? 'with' : 'without'} binarize: ${m} run ${round + 1}/${reps(m)}`);
          const t = SINGLE_THREADED.has(m) ? 1 : threads;
          const r = timeMethod(m, M, N, K, A, B, { binarize, threads: t, reps: 1 });
          samples.get(m)!.push(r.samplesMs[0]);
          if (m === 'bitweave') bitweaveResult = r.result;
          const d = firstDifference(bitweaveResult!, r.result);
          if (d >= 0) throw new Error(`bench gemm: ${m} disagrees with bitweave at C=${C}, m ${Math.floor(d / N)}, n ${d % N}: ${r.result[d]} vs ${bitweaveResult![d]}`);
        }
      }
      const msOf = (m: GemmMethod) => median(samples.get(m)!);
      for (const m of GEMM_METHODS) {
        const s = samples.get(m)!;
        const ms = msOf(m);
        const t = SINGLE_THREADED.has(m) ? 1 : threads;
        const macs = (M * N * K) / (ms / 1000);
        rows.push({
          channels: C, M, N, K, method: m, includesBinarize: binarize, threads: t, repeats: s.length,
          ms, minMs: Math.min(...s), maxMs: Math.max(...s),
          binaryMacsPerSecond: macs,
          fractionOfPeak: macs / ceiling(t),
          speedupVsSgemm: msOf('sgemm') / ms,
          speedupVsXnor64Omp: msOf('xnor_64_omp') / ms,
        });
      }
      summary.push({ channels: C, includesBinarize: binarize, bitweaveVsSgemm: msOf('sgemm') / msOf('bitweave'), bitweaveVsXnor64Omp: msOf('xnor_64_omp') / msOf('bitweave') });
    }
  }
  if (sorted.some((c) => c >= 512) && repeat > 3) notes.push('C>=512: sgemm, xnor_32 and xnor_64 timed 3 times (see repeats)');
  return {
    machine: machine(),
    peak: { perCore: peak.perCore, allCores: peak.allCores, threads, isa: isaName(currentIsa()) },
    check: check!,
    rows,
    summary,
    notes,
  };
}
