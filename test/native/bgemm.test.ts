/**
 * The xnor-popcount GEMM kernels (host/native/bgemm*.c) against a plain TypeScript popcount
 * model, at every ISA level this machine runs (forced through bw_isa_set), with the portable
 * scalar count too, at 1, 2 and 3 threads; the seed's baselines and sgemm against the same
 * model; the float packers; input validation.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BitweaveError } from '../../host/core/errors';
import { nativeLib } from '../../host/backends/native/lib';
import {
  bgemm, cpuHasPopcnt, currentIsa, GEMM_METHODS, GemmMode, isaName, isaSupported, packSigns, peakBitOps,
  popcntEnabled, randomSigns, setIsa, setPopcnt, supportedIsas, timeMethod,
} from '../../host/bench/gemm';

/* ---- plain TypeScript model ------------------------------------------------------------ */

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s;
  };
}

function pop32(x: number): number {
  x >>>= 0;
  let n = 0;
  while (x) {
    x &= x - 1;
    n++;
  }
  return n;
}

/** Random words as Uint32 halves; biased sometimes toward all-zero / all-one bits (edge counts). */
function randomWords(count: number, r: () => number): Uint32Array {
  const out = new Uint32Array(2 * count);
  const bias = r() % 4;
  for (let i = 0; i < out.length; i++) out[i] = bias === 0 ? r() & r() & r() : bias === 1 ? r() | r() | r() : r();
  return out;
}

function modelGemm(mode: GemmMode, M: number, N: number, kw: number, A: Uint32Array, lda: number, B: Uint32Array, ldb: number): Int32Array {
  const C = new Int32Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let k = 0; k < kw; k++) {
        const a = 2 * (m * lda + k), b = 2 * (n * ldb + k);
        if (mode === 'xnor') s += pop32(~(A[a] ^ B[b])) + pop32(~(A[a + 1] ^ B[b + 1]));
        else s += pop32(A[a] & B[b]) + pop32(A[a + 1] & B[b + 1]);
      }
      C[m * N + n] = s;
    }
  }
  return C;
}

interface Shape { M: number; N: number; kw: number; lda: number; ldb: number; ldc: number }

/** Edge shapes on purpose (tile is 8 rows x 16 columns, K blocks of up to 256 words) plus random ones. */
function shapes(): Shape[] {
  const fixed: Array<[number, number, number]> = [
    [1, 1, 1], [8, 16, 1], [9, 17, 1], [7, 15, 2], [1, 33, 5], [33, 1, 5], [64, 48, 25],
    [13, 31, 8], [3, 5, 9], [16, 32, 255], [17, 18, 256], [5, 20, 257], [10, 7, 513], [2, 3, 600],
  ];
  const out: Shape[] = fixed.map(([M, N, kw], i) => ({ M, N, kw, lda: kw + (i % 3), ldb: kw + ((i + 1) % 4), ldc: N + (i % 2) * 3 }));
  const r = rng(2024);
  for (let i = 0; i < 24; i++) {
    const M = 1 + (r() % 40), N = 1 + (r() % 70), kw = 1 + (r() % 140);
    out.push({ M, N, kw, lda: kw + (r() % 3), ldb: kw + (r() % 3), ldc: N + (r() % 5) });
  }
  return out;
}

interface Case { shape: Shape; A: Uint32Array; B: Uint32Array; want: Record<GemmMode, Int32Array> }

function cases(): Case[] {
  const r = rng(77);
  return shapes().map((shape) => {
    const { M, N, kw, lda, ldb } = shape;
    const A = randomWords((M - 1) * lda + kw, r), B = randomWords((N - 1) * ldb + kw, r);
    return { shape, A, B, want: { xnor: modelGemm('xnor', M, N, kw, A, lda, B, ldb), and: modelGemm('and', M, N, kw, A, lda, B, ldb) } };
  });
}

/** Run the kernel into a C with a sentinel-filled stride gap; check the gap is untouched. */
function run(c: Case, mode: GemmMode, threads: number, reference = false): Int32Array {
  const { M, N, kw, lda, ldb, ldc } = c.shape;
  const C = new Int32Array((M - 1) * ldc + N + 7).fill(-12345);
  bgemm(mode, M, N, kw, c.A, lda, c.B, ldb, C, ldc, threads, reference);
  const dense = new Int32Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) dense[m * N + n] = C[m * ldc + n];
    const gapEnd = m === M - 1 ? C.length : (m + 1) * ldc;
    for (let i = m * ldc + N; i < gapEnd; i++) assert.equal(C[i], -12345, `C[${i}] outside the outputs was written`);
  }
  return dense;
}

function sameInts(got: Int32Array, want: Int32Array, what: string): void {
  for (let i = 0; i < want.length; i++) {
    if (got[i] !== want[i]) assert.fail(`${what}: element ${i} is ${got[i]}, want ${want[i]}`);
  }
}

/* ---- tests --------------------------------------------------------------------------------- */

describe('xnor-popcount GEMM (native)', function () {
  const all = cases();
  const initial = currentIsa();
  after(() => {
    setIsa(initial);
    setPopcnt(true);
  });

  it('detects the ISA levels this CPU has (AVX-512 VPOPCNTDQ and AVX2 per /proc/cpuinfo)', () => {
    const info = fs.existsSync('/proc/cpuinfo') ? fs.readFileSync('/proc/cpuinfo', 'utf8') : '';
    const flags = new Set((/^flags\s*:(.*)$/m.exec(info)?.[1] ?? '').trim().split(/\s+/));
    assert.ok(isaSupported(0), 'scalar always runs');
    if (flags.size > 1) {
      assert.equal(isaSupported(1), flags.has('avx2'), 'avx2');
      assert.equal(isaSupported(2), flags.has('avx512f') && flags.has('avx512_vpopcntdq') && flags.has('avx2'), 'avx512 + vpopcntdq');
      assert.equal(cpuHasPopcnt(), flags.has('popcnt'), 'popcnt');
    }
    assert.deepEqual(['scalar', 'avx2', 'avx512', 'unknown'], [0, 1, 2, 3].map(isaName));
  });

  it('bw_isa_set forces a supported level and refuses others without changing the current one', () => {
    for (const l of supportedIsas()) {
      assert.equal(setIsa(l), true);
      assert.equal(currentIsa(), l);
    }
    const before = currentIsa();
    for (const bad of [-1, 3, 99]) assert.equal(setIsa(bad), false);
    for (const l of [0, 1, 2].filter((x) => !isaSupported(x))) assert.equal(setIsa(l), false);
    assert.equal(currentIsa(), before);
    assert.equal(setIsa('scalar'), true);
    assert.equal(currentIsa(), 0);
    setIsa(initial);
  });

  it('BITWEAVE_ISA selects the level at first use; unknown values warn and keep the best', () => {
    const script = `const g=require(${JSON.stringify(path.resolve(__dirname, '../../host/bench/gemm.js'))});process.stdout.write(g.isaName(g.currentIsa())+' '+g.popcntEnabled())`;
    const child = (v: string) => spawnSync(process.execPath, ['-e', script], { env: { ...process.env, BITWEAVE_ISA: v }, encoding: 'utf8' });
    const best = isaName(Math.max(...supportedIsas()));
    let r = child('scalar');
    assert.equal(r.stdout, `scalar ${cpuHasPopcnt()}`);
    r = child('generic');
    assert.equal(r.stdout, 'scalar false');
    r = child('bogus');
    assert.equal(r.stdout, `${best} ${cpuHasPopcnt()}`);
    assert.match(r.stderr, /ignoring unknown BITWEAVE_ISA=bogus/);
    if (isaSupported(1)) assert.equal(child('avx2').stdout.split(' ')[0], 'avx2');
    if (isaSupported(2)) assert.equal(child('avx512').stdout.split(' ')[0], 'avx512');
  });

  it('the plain C reference equals the TypeScript model', () => {
    for (const c of all) for (const mode of ['xnor', 'and'] as const) sameInts(run(c, mode, 1, true), c.want[mode], `reference ${mode} ${JSON.stringify(c.shape)}`);
  });

  const levels: Array<{ name: string; level: number; popcnt: boolean }> = [
    { name: 'scalar (portable count, no POPCNT)', level: 0, popcnt: false },
    { name: 'scalar', level: 0, popcnt: true },
    { name: 'avx2', level: 1, popcnt: true },
    { name: 'avx512', level: 2, popcnt: true },
  ];
  for (const lv of levels) {
    it(`${lv.name}: equals the model on ${all.length} shapes (ragged tiles, kwords 1..600, strides), identical at 1, 2 and 3 threads`, function () {
      if (!isaSupported(lv.level)) this.skip();
      if (lv.popcnt && lv.level === 0 && !cpuHasPopcnt()) this.skip();
      assert.equal(setIsa(lv.level), true);
      assert.equal(setPopcnt(lv.popcnt), true);
      assert.equal(popcntEnabled(), lv.popcnt);
      try {
        for (const c of all) {
          for (const mode of ['xnor', 'and'] as const) {
            for (const t of [1, 2, 3]) sameInts(run(c, mode, t), c.want[mode], `${lv.name} ${mode} threads ${t} ${JSON.stringify(c.shape)}`);
          }
        }
      } finally {
        setIsa(initial);
        setPopcnt(true);
      }
    });
  }

  it('gives the same results when several threads call it at once (koffi async calls)', async () => {
    const fn = nativeLib().func('void bw_bgemm_xnor(int M, int N, int kwords, const void *A, int lda, const void *B, int ldb, void *C, int ldc, int threads)');
    const c = all.find((x) => x.shape.M > 16 && x.shape.N > 32)!;
    const { M, N, kw, lda, ldb } = c.shape;
    const outs = Array.from({ length: 6 }, () => new Int32Array(M * N));
    await Promise.all(outs.map((C, i) => new Promise<void>((resolve, reject) =>
      fn.async(M, N, kw, c.A, lda, c.B, ldb, C, N, 1 + (i % 3), (err: unknown) => (err ? reject(err) : resolve())))));
    for (const C of outs) sameInts(C, c.want.xnor, 'concurrent call');
  });

  it('covers the extremes of the counts: all-equal and all-different operands', () => {
    for (const l of supportedIsas()) {
      setIsa(l);
      const kw = 37, M = 11, N = 21;
      const ones = new Uint32Array(2 * Math.max(M, N) * kw).fill(0xffffffff), zeros = new Uint32Array(ones.length);
      const C = new Int32Array(M * N);
      bgemm('xnor', M, N, kw, ones, kw, ones, kw, C, N, 2);
      assert.ok(C.every((v) => v === 64 * kw), `${isaName(l)}: equal operands match everywhere`);
      bgemm('xnor', M, N, kw, ones, kw, zeros, kw, C, N, 2);
      assert.ok(C.every((v) => v === 0), `${isaName(l)}: complementary operands match nowhere`);
      bgemm('and', M, N, kw, ones, kw, ones, kw, C, N, 2);
      assert.ok(C.every((v) => v === 64 * kw), `${isaName(l)}: and of ones`);
    }
    setIsa(initial);
  });

  it('accepts BigUint64Array operands and 8-byte-aligned subarray views', () => {
    const r = rng(5);
    const M = 5, N = 19, kw = 3;
    const A32 = randomWords(M * kw + 1, r), B32 = randomWords(N * kw, r);
    const want = modelGemm('xnor', M, N, kw, A32.subarray(2), kw, B32, kw);
    const C = new Int32Array(M * N);
    bgemm('xnor', M, N, kw, A32.subarray(2), kw, new BigUint64Array(B32.buffer), kw, C, N, 2);
    sameInts(C, want, 'views');
  });

  it('rejects bad arguments with a BitweaveError before calling C', () => {
    const A = new Uint32Array(2 * 4 * 8), B = new Uint32Array(2 * 4 * 8), C = new Int32Array(16);
    const bad: Array<() => void> = [
      () => bgemm('xnor', 4, 4, 8, A, 8, B, 8, C, 3, 1), // ldc < N
      () => bgemm('xnor', 4, 4, 8, A, 7, B, 8, C, 4, 1), // lda < kwords
      () => bgemm('xnor', 4, 4, 8, A, 8, B, 9, C, 4, 1), // B too short for ldb
      () => bgemm('xnor', 5, 4, 8, A, 8, B, 8, C, 4, 1), // A too short
      () => bgemm('xnor', 4, 4, 8, A, 8, B, 8, new Int32Array(15), 4, 1),
      () => bgemm('xnor', 4, 4, 8, A.subarray(1), 8, B, 8, C, 4, 1), // misaligned view
      () => bgemm('xnor', 4, 4, 8, A, 8, B, 8, C, 4, 0), // threads
      () => bgemm('xnor', 4.5, 4, 8, A, 8, B, 8, C, 4, 1),
      () => bgemm('xnor', -1, 4, 8, A, 8, B, 8, C, 4, 1),
      () => bgemm('xnor', 4, 4, 2 ** 26, A, 2 ** 26, B, 2 ** 26, C, 4, 1), // count overflow
      () => bgemm('nand' as GemmMode, 4, 4, 8, A, 8, B, 8, C, 4, 1),
      () => bgemm('xnor', 4, 4, 8, new Float64Array(64) as unknown as Uint32Array, 8, B, 8, C, 4, 1),
      () => packSigns('rows', 4, 100, new Float32Array(399)),
      () => timeMethod('bitweave', 4, 4, 100, new Float32Array(400), new Float32Array(400), { binarize: true, threads: 1, reps: 1 }),
      () => timeMethod('nope' as 'sgemm', 4, 4, 64, new Float32Array(256), new Float32Array(256), { binarize: true, threads: 1, reps: 1 }),
      () => peakBitOps(7, 1, 10),
    ];
    for (const [i, f] of bad.entries()) assert.throws(f, BitweaveError, `case ${i}`);
    // empty shapes are fine and write nothing
    const C0 = new Int32Array(4).fill(9);
    bgemm('xnor', 0, 4, 8, A, 8, B, 8, C0, 4, 2);
    bgemm('xnor', 2, 2, 0, A, 1, B, 1, C0, 2, 2);
    assert.deepEqual(Array.from(C0), [0, 0, 0, 0], 'kwords = 0: empty sums');
  });

  it('packs floats by sign (x >= 0 -> 1, NaN -> 0, LSB-first, zero tails) as rows and as columns, at every ISA', () => {
    const r = rng(9);
    const values = [-1, -0, 0, 1e-30, -1e-30, 2, NaN, Infinity, -Infinity, 0.5, -0.5];
    const bit = (v: number) => (v >= 0 ? 1 : 0);
    // 70 rows: two words, 4-row passes plus leftover rows; 150 columns: ragged vector tails
    for (const [rows, cols] of [[7, 150], [70, 150], [130, 33]]) {
    const X = new Float32Array(rows * cols).map(() => values[r() % values.length]);
    for (const l of supportedIsas()) {
      setIsa(l);
      const pr = packSigns('rows', rows, cols, X, 2), wr = Math.ceil(cols / 64);
      for (let i = 0; i < rows; i++) {
        for (let j = 0; j < wr * 64; j++) {
          const got = (pr[2 * (i * wr) + (j >> 5)] >>> (j & 31)) & 1;
          assert.equal(got, j < cols ? bit(X[i * cols + j]) : 0, `rows ${isaName(l)} (${i}, ${j})`);
        }
      }
      const pc = packSigns('cols', rows, cols, X, 2), wc = Math.ceil(rows / 64);
      for (let c = 0; c < cols; c++) {
        for (let k = 0; k < wc * 64; k++) {
          const got = (pc[2 * (c * wc) + (k >> 5)] >>> (k & 31)) & 1;
          assert.equal(got, k < rows ? bit(X[k * cols + c]) : 0, `cols ${isaName(l)} (${k}, ${c})`);
        }
      }
    }
    }
    setIsa(initial);
  });

  it("the seed's xnor_32 / xnor_64 / xnor_64_omp, sgemm and bitweave agree with the model, with and without binarising", () => {
    const M = 13, N = 70, K = 320; // K a multiple of 64; N, M ragged
    const A = randomSigns(M * K, 3), B = randomSigns(K * N, 4);
    const want = new Int32Array(M * N);
    for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) {
      let p = 0;
      for (let k = 0; k < K; k++) if (A[m * K + k] === B[k * N + n]) p++;
      want[m * N + n] = p;
    }
    for (const l of supportedIsas()) {
      setIsa(l);
      for (const method of GEMM_METHODS) {
        for (const binarize of [false, true]) {
          const r = timeMethod(method, M, N, K, A, B, { binarize, threads: 2, reps: 2 });
          assert.equal(r.samplesMs.length, 2);
          assert.ok(r.samplesMs.every((x) => x >= 0 && Number.isFinite(x)));
          sameInts(r.result, want, `${method} binarize ${binarize} (${isaName(l)})`);
        }
      }
    }
    setIsa(initial);
    // the seed's kernels need whole words: K not a multiple of 64 is refused up front
    const K2 = 100, A2 = randomSigns(M * K2, 5), B2 = randomSigns(K2 * N, 6);
    assert.throws(() => timeMethod('bitweave', M, N, K2, A2, B2, { binarize: true, threads: 1, reps: 1 }), /multiple of 64/);
  });

  it('peak: a positive ceiling per supported level and on 2 threads', () => {
    for (const l of supportedIsas()) assert.ok(peakBitOps(l, 1, 200_000) > 1e9, isaName(l));
    assert.ok(peakBitOps(-1, 2, 200_000) > 1e9);
  });
});
