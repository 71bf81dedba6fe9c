/**
 * koffi declarations of the native engine (host/native/engine.h). Bound lazily on first
 * use, so loading this module never touches the library. Callers must validate every
 * array length first (index.ts does); the C side re-checks element counts and returns
 * BW_E_SIZE rather than reading past a buffer.
 */
import { koffi, nativeLib } from './lib';
import { NATIVE_ERRORS } from '../../array/limits';

export const BW_OK = NATIVE_ERRORS.OK.code;
export const BW_E_SIZE = NATIVE_ERRORS.E_SIZE.code;
export const BW_E_NOMEM = NATIVE_ERRORS.E_NOMEM.code;
export const BW_E_ARG = NATIVE_ERRORS.E_ARG.code;

export interface BconvDesc {
  h: number; w: number; c: number; in_bits: number;
  kh: number; kw: number; sh: number; sw: number; ph: number; pw: number;
  pad_bit: number; out_c: number;
  has_pool: number; pkh: number; pkw: number; psh: number; psw: number; pph: number; ppw: number;
  out_bits: number; out_h: number; out_w: number;
  in_signed: number; w_bits: number; w_signed: number; out_signed: number;
  pad_zero: number;
}

export interface Conv2dDesc {
  h: number; w: number; c: number; kh: number; kw: number; sh: number; sw: number; ph: number; pw: number;
  out_c: number; out_h: number; out_w: number; groups: number;
}

export interface PoolDesc {
  h: number; w: number; c: number; kh: number; kw: number; sh: number; sw: number; ph: number; pw: number;
  out_h: number; out_w: number; mode: number; count_include_pad: number;
}

export interface EwOp {
  kind: number; a: number; b: number; y: number; param: number; sgn: number; divisor: number;
  mean: Float32Array | null; scale: Float32Array | null; beta: Float32Array | null;
}
export interface EwSlot { kind: number; planes: number; external: number }
export const EW = { dequantize: 0, add: 1, batchnorm: 2, activation: 3, quantize: 4, binarize: 5 } as const;
export const SLOT = { f32: 0, i32: 1, bits: 2 } as const;

type TensorLike = Float32Array | Int32Array | Uint32Array;

/** An opaque native handle (koffi external). */
export type Handle = object;

export interface Engine {
  bconvCreate(d: BconvDesc, weight: Uint32Array, thresholds: Int32Array | null, flip: Uint8Array | null, useMin: Uint8Array | null): Handle | null;
  bconvFree(h: Handle): void;
  bconvRun(h: Handle, batch: number, x: Uint32Array, xWords: number, y: Uint32Array | Int32Array, yLen: number, threads: number): number;
  /** A bconv whose int32 output goes straight into a chain (engine.h bw_bconv_run_chain); slot: the chain slot it stands for. */
  bconvRunChain(h: Handle, batch: number, x: Uint32Array, xWords: number, chain: Handle, slot: number, data: (TensorLike | null)[], lens: BigInt64Array, threads: number): number;
  conv2dCreate(d: Conv2dDesc, weight: Float32Array, bias: Float32Array | null): Handle | null;
  denseCreate(inFeatures: number, outFeatures: number, weight: Float32Array, bias: Float32Array | null): Handle | null;
  fconvFree(h: Handle): void;
  /** Fuse element-wise ops before (conv only) and after a conv/dense (engine.h bw_fconv_fuse). */
  fconvFuse(h: Handle, pre: EwOp[], post: EwOp[]): number;
  /** Fuse a pool, ops on the pooled map and an optional binarize (outBits >= 1) after a conv (bw_fconv_fuse_pool). */
  fconvFusePool(h: Handle, pool: PoolDesc, after: EwOp[], outBits: number, outSgn: number): number;
  /** y: floats, or bit-plane words when a fused binarize ends the conv (yLen then in 64-bit words). */
  fconvRun(h: Handle, batch: number, x: Float32Array, xLen: number, y: Float32Array | Uint32Array, yLen: number, threads: number): number;
  batchnorm(x: Float32Array, y: Float32Array, n: number, channels: number, mean: Float32Array, scale: Float32Array, beta: Float32Array, threads: number): number;
  activation(fn: number, x: Float32Array, y: Float32Array, n: number, threads: number): number;
  add(a: Float32Array, b: Float32Array, y: Float32Array, n: number, threads: number): number;
  /** sgn 1: signed k-bit levels (bits >= 2). */
  quantize(x: Float32Array, y: Float32Array, n: number, bits: number, sgn: number, threads: number): number;
  binarize(x: Float32Array, pixels: number, c: number, bits: number, sgn: number, y: Uint32Array, threads: number): number;
  dequantize(x: Int32Array, y: Float32Array, n: number, divisor: number, threads: number): number;
  pool(d: PoolDesc, batch: number, x: Float32Array, xLen: number, y: Float32Array, yLen: number, threads: number): number;
  /** Fused element-wise ops over pixels x c (engine_chain.c), prepared once. */
  chainCreate(ops: EwOp[], slots: EwSlot[], c: number): Handle | null;
  chainFree(h: Handle): void;
  /** data[s]: the tensor of external slot s (null for internal ones); lens[s] its length. */
  chainRun(h: Handle, data: (TensorLike | null)[], lens: BigInt64Array, pixels: number, threads: number): number;
  /** The ISA level the engine's kernels run at now (0 scalar, 1 AVX2, 2 AVX-512). */
  isa(): number;
  /** Work (ns) below which a loop stays on one thread; < 0 restores the default (tests use 0). */
  setParallelNs(ns: number): void;
  /** fmaf(a, b, c) per element with the current ISA's FMA (tests check the reference's fmaF32). */
  fmaF32(a: Float32Array, b: Float32Array, c: Float32Array, y: Float32Array): number;
  /** detExp of every element in double precision (the kernel tanh and sigmoid use). */
  expF64(x: Float64Array, y: Float64Array): number;
  /** Index of the first NaN or ±Infinity in x, or x.length when all are finite (< 0: error code). */
  firstNonFinite(x: Float32Array, threads: number): number;
  /** n images of c × hw values, NCHW → NHWC into y (same length). */
  nchwToNhwc(x: Float32Array, y: Float32Array, n: number, c: number, hw: number, threads: number): number;
}

let engine: Engine | null = null;

export function nativeEngine(): Engine {
  if (engine) return engine;
  const lib = nativeLib();
  const i32 = 'int32_t';
  const fields = (names: string[]) => Object.fromEntries(names.map((n) => [n, i32]));
  koffi.struct('bw_bconv_desc', fields([
    'h', 'w', 'c', 'in_bits', 'kh', 'kw', 'sh', 'sw', 'ph', 'pw', 'pad_bit', 'out_c',
    'has_pool', 'pkh', 'pkw', 'psh', 'psw', 'pph', 'ppw', 'out_bits', 'out_h', 'out_w',
    'in_signed', 'w_bits', 'w_signed', 'out_signed', 'pad_zero',
  ]));
  koffi.struct('bw_conv2d_desc', fields(['h', 'w', 'c', 'kh', 'kw', 'sh', 'sw', 'ph', 'pw', 'out_c', 'out_h', 'out_w', 'groups']));
  koffi.struct('bw_pool_desc', fields(['h', 'w', 'c', 'kh', 'kw', 'sh', 'sw', 'ph', 'pw', 'out_h', 'out_w', 'mode', 'count_include_pad']));
  koffi.struct('bw_ew_op', {
    kind: i32, a: i32, b: i32, y: i32, param: i32, sgn: i32, divisor: 'double',
    mean: 'const float *', scale: 'const float *', beta: 'const float *',
  });
  koffi.struct('bw_ew_slot', { kind: i32, planes: i32, external: i32 });
  koffi.opaque('bw_bconv');
  koffi.opaque('bw_chain');
  koffi.opaque('bw_fconv');
  const f = (sig: string) => lib.func(sig);
  const bconvCreate = f('bw_bconv *bw_bconv_create(const bw_bconv_desc *d, const void *weight, const void *thr, const void *flip, const void *use_min)');
  const bconvFree = f('void bw_bconv_free(bw_bconv *b)');
  const bconvRun = f('int bw_bconv_run(const bw_bconv *b, int32_t batch, const void *x, int64_t x_words, void *y, int64_t y_len, int32_t threads)');
  const bconvRunChain = f('int bw_bconv_run_chain(const bw_bconv *b, int32_t batch, const void *x, int64_t x_words, const bw_chain *ch, int32_t slot, void **data, const int64_t *lens, int32_t threads)');
  const conv2dCreate = f('bw_fconv *bw_conv2d_create(const bw_conv2d_desc *d, const void *w, const void *bias)');
  const denseCreate = f('bw_fconv *bw_dense_create(int32_t in_f, int32_t out_f, const void *w, const void *bias)');
  const fconvFree = f('void bw_fconv_free(bw_fconv *f)');
  const fconvFuse = f('int bw_fconv_fuse(bw_fconv *f, const bw_ew_op *pre, int32_t npre, const bw_ew_op *post, int32_t npost)');
  const fconvFusePool = f('int bw_fconv_fuse_pool(bw_fconv *f, const bw_pool_desc *pool, const bw_ew_op *after, int32_t nafter, int32_t out_bits, int32_t out_sgn)');
  const fmaF32 = f('int bw_fma_f32(const void *a, const void *b, const void *c, void *y, int64_t n)');
  const fconvRun = f('int bw_fconv_run(const bw_fconv *f, int32_t batch, const void *x, int64_t x_len, void *y, int64_t y_len, int32_t threads)');
  const batchnorm = f('int bw_batchnorm(const void *x, void *y, int64_t n, int32_t channels, const void *mean, const void *scale, const void *beta, int32_t threads)');
  const activation = f('int bw_activation(int32_t fn, const void *x, void *y, int64_t n, int32_t threads)');
  const add = f('int bw_add(const void *a, const void *b, void *y, int64_t n, int32_t threads)');
  const quantize = f('int bw_quantize(const void *x, void *y, int64_t n, int32_t bits, int32_t sgn, int32_t threads)');
  const binarize = f('int bw_binarize(const void *x, int64_t pixels, int32_t c, int32_t bits, int32_t sgn, void *y, int32_t threads)');
  const dequantize = f('int bw_dequantize(const void *x, void *y, int64_t n, double divisor, int32_t threads)');
  const pool = f('int bw_pool(const bw_pool_desc *d, int32_t batch, const void *x, int64_t x_len, void *y, int64_t y_len, int32_t threads)');
  const chainCreate = f('bw_chain *bw_chain_create(const bw_ew_op *ops, int32_t nops, const bw_ew_slot *slots, int32_t nslots, int32_t c)');
  const chainFree = f('void bw_chain_free(bw_chain *ch)');
  const chainRun = f('int bw_chain_run(const bw_chain *ch, void **data, const int64_t *lens, int64_t pixels, int32_t threads)');
  const isa = f('int bw_engine_isa(void)');
  const expF64 = f('int bw_exp_f64(const void *x, void *y, int64_t n)');
  const setParallelNs = f('void bw_engine_set_parallel_ns(double ns)');
  const firstNonFinite = f('int64_t bw_first_nonfinite(const void *x, int64_t n, int32_t threads)');
  const nchwToNhwc = f('int bw_nchw_to_nhwc(const void *x, void *y, int32_t n, int32_t c, int64_t hw, int32_t threads)');
  const e: Engine = {
    bconvCreate: (d, w, t, fl, um) => bconvCreate(d, w, t, fl, um) as Handle | null,
    bconvFree: (h) => bconvFree(h),
    bconvRun: (h, n, x, xw, y, yl, t) => bconvRun(h, n, x, xw, y, yl, t) as number,
    bconvRunChain: (h, n, x, xw, ch, slot, data, lens, t) => bconvRunChain(h, n, x, xw, ch, slot, data, lens, t) as number,
    conv2dCreate: (d, w, b) => conv2dCreate(d, w, b) as Handle | null,
    denseCreate: (i, o, w, b) => denseCreate(i, o, w, b) as Handle | null,
    fconvFree: (h) => fconvFree(h),
    fconvFuse: (h, pre, post) => fconvFuse(h, pre, pre.length, post, post.length) as number,
    fconvFusePool: (h, pool, after, bits, sgn) => fconvFusePool(h, pool, after, after.length, bits, sgn) as number,
    fmaF32: (a, b, c, y) => (a.length === y.length && b.length === y.length && c.length === y.length ? (fmaF32(a, b, c, y, y.length) as number) : BW_E_SIZE),
    fconvRun: (h, n, x, xl, y, yl, t) => fconvRun(h, n, x, xl, y, yl, t) as number,
    batchnorm: (x, y, n, c, m, s, b, t) => batchnorm(x, y, n, c, m, s, b, t) as number,
    activation: (fn, x, y, n, t) => activation(fn, x, y, n, t) as number,
    add: (a, b, y, n, t) => add(a, b, y, n, t) as number,
    quantize: (x, y, n, b, sg, t) => quantize(x, y, n, b, sg, t) as number,
    binarize: (x, p, c, b, sg, y, t) => binarize(x, p, c, b, sg, y, t) as number,
    dequantize: (x, y, n, d, t) => dequantize(x, y, n, d, t) as number,
    pool: (d, n, x, xl, y, yl, t) => pool(d, n, x, xl, y, yl, t) as number,
    chainCreate: (ops, slots, c) => chainCreate(ops, ops.length, slots, slots.length, c) as Handle | null,
    chainFree: (h) => chainFree(h),
    chainRun: (h, data, lens, p, t) => chainRun(h, data, lens, p, t) as number,
    isa: () => isa() as number,
    setParallelNs: (ns) => void setParallelNs(ns),
    expF64: (x, y) => (x.length === y.length ? (expF64(x, y, x.length) as number) : BW_E_SIZE),
    firstNonFinite: (x, t) => Number(firstNonFinite(x, x.length, t)),
    nchwToNhwc: (x, y, n, c, hw, t) => (x.length === n * c * hw && y.length === x.length ? (nchwToNhwc(x, y, n, c, hw, t) as number) : BW_E_SIZE),
  };
  engine = e;
  return e;
}

/** The ISA switches of cpu.h (shared with the GEMM kernels); the engine follows them. */
export interface IsaControl {
  /** Force a level (0 scalar, 1 AVX2, 2 AVX-512); returns it, or -1 if unsupported. */
  set(level: number): number;
  current(): number;
  supported(level: number): boolean;
  /** Allow scalar kernels the POPCNT instruction (false: portable bit counting). */
  popcnt(enable: boolean): void;
  hasPopcnt(): boolean;
}

/** cpu.h's controls when the library has them; null otherwise. */
export function isaControl(): IsaControl | null {
  const lib = nativeLib();
  try {
    const set = lib.func('int bw_isa_set(int isa)');
    const current = lib.func('int bw_isa_current(void)');
    const supported = lib.func('int bw_isa_supported(int isa)');
    const popcnt = lib.func('int bw_popcnt_set(int enable)');
    const hasPopcnt = lib.func('int bw_cpu_has_popcnt(void)');
    return {
      set: (l) => set(l) as number,
      current: () => current() as number,
      supported: (l) => supported(l) === 1,
      popcnt: (on) => void popcnt(on ? 1 : 0),
      hasPopcnt: () => hasPopcnt() === 1,
    };
  } catch {
    return null;
  }
}
