/**
 * koffi bindings of the Verilator model of the array (build/libbitweave_rtl.so, built by
 * `make rtl` from sim/; C ABI in sim/bw_rtl.h) and RtlModel, the checked wrapper every
 * caller uses: memory ids, offsets, lengths and typed-array kinds are validated here
 * before any call, and the C side re-checks them (returning an error code, never
 * crashing); every failure becomes a one-line BitweaveError.
 */
import type * as Koffi from 'koffi' with { 'resolution-mode': 'import' };
import { BitweaveError } from '../../core/errors';
import { koffi, libraryPath, loadLibrary, NativeLibrary } from '../../core/native-lib';
import { ArrayParams } from '../../array/params';
import { errorMeaning, RTL_ERRORS } from '../../array/limits';

export const RTL_LIBRARY: NativeLibrary = { what: 'RTL model', env: 'BITWEAVE_RTL_LIB', file: 'libbitweave_rtl.so', make: 'rtl', needs: 'verilator' };
export const RTL_LIB_PATH = libraryPath(RTL_LIBRARY);

export const MEM = { desc: 0, param: 1, weight: 2, arena: 3 } as const;
export type MemName = keyof typeof MEM;
/** Bytes per element of each memory (descriptors and params are 32-bit, the rest 64-bit words). */
const ELEM_BYTES: Record<MemName, number> = { desc: 4, param: 4, weight: 8, arena: 8 };
const MAX_ELEMS = 2 ** 31;

export interface RtlInfo extends ArrayParams {
  maxOutBits: number;
  paramDepth: number;
  tileSlots: number;
  descWords: number;
}

/** The raw C functions (tests call them directly with bad arguments). */
export interface RtlAbi {
  info(out: Int32Array, n: number): number;
  create(): object | null;
  free(h: object | null): number;
  alloc(h: object | null, mem: number, count: number | bigint): number;
  write(h: object | null, mem: number, offset: number | bigint, data: ArrayBufferView | null, count: number | bigint): number;
  read(h: object | null, mem: number, offset: number | bigint, out: ArrayBufferView | null, count: number | bigint): number;
  start(h: object | null, layers: number, batch: number, arenaWords: number): number;
  run(h: object | null, maxCycles: number | bigint): number;
  cycles(h: object | null, out: BigUint64Array | null): number;
  layerCycles(h: object | null, out: BigUint64Array | null, n: number): number;
  trace(h: object | null, file: string | null): number;
  rtlErr(h: object | null, out: Uint32Array | null): number;
  error(h: object | null): string;
}

let abi: RtlAbi | null = null;

export function rtlAbi(): RtlAbi {
  if (abi) return abi;
  const lib: Koffi.LibraryHandle = loadLibrary(RTL_LIBRARY);
  koffi.opaque('bwrtl');
  const f = (sig: string) => lib.func(sig);
  const info = f('int bwrtl_info(int32_t *info, int32_t n)');
  const create = f('bwrtl *bwrtl_create(void)');
  const free = f('int bwrtl_free(bwrtl *h)');
  const alloc = f('int bwrtl_alloc(bwrtl *h, int32_t mem, uint64_t count)');
  const write = f('int bwrtl_write(bwrtl *h, int32_t mem, uint64_t offset, const void *data, uint64_t count)');
  const read = f('int bwrtl_read(bwrtl *h, int32_t mem, uint64_t offset, void *out, uint64_t count)');
  const start = f('int bwrtl_start(bwrtl *h, uint32_t layers, uint32_t batch, uint32_t arena_words)');
  const run = f('int bwrtl_run(bwrtl *h, uint64_t max_cycles)');
  const cycles = f('int bwrtl_cycles(bwrtl *h, uint64_t *out)');
  const layerCycles = f('int bwrtl_layer_cycles(bwrtl *h, uint64_t *out, int32_t n)');
  const trace = f('int bwrtl_trace(bwrtl *h, const char *path)');
  const rtlErr = f('int bwrtl_rtl_err(bwrtl *h, uint32_t *out)');
  const error = f('const char *bwrtl_error(bwrtl *h)');
  abi = {
    info: (o, n) => info(o, n) as number,
    create: () => create() as object | null,
    free: (h) => free(h) as number,
    alloc: (h, m, c) => alloc(h, m, c) as number,
    write: (h, m, o, d, c) => write(h, m, o, d, c) as number,
    read: (h, m, o, d, c) => read(h, m, o, d, c) as number,
    start: (h, l, b, a) => start(h, l, b, a) as number,
    run: (h, n) => run(h, n) as number,
    cycles: (h, o) => cycles(h, o) as number,
    layerCycles: (h, o, n) => layerCycles(h, o, n) as number,
    trace: (h, p) => trace(h, p) as number,
    rtlErr: (h, o) => rtlErr(h, o) as number,
    error: (h) => (error(h) as string) ?? '',
  };
  return abi;
}

/** The parameters the library was built with. */
export function rtlInfo(): RtlInfo {
  const v = new Int32Array(9);
  rtlAbi().info(v, 9);
  return {
    rows: v[0], cols: v[1], word: v[2] as 64, accBits: v[3], maxOutBits: v[4], paramDepth: v[5], tileSlots: v[6], descWords: v[7], drain: v[8],
  };
}

const isCount = (n: number) => Number.isSafeInteger(n) && n >= 0 && n <= MAX_ELEMS;

/** One instance of the RTL model with its memories. Not thread-safe; one run at a time. */
export class RtlModel {
  private h: object | null;
  private readonly abi: RtlAbi;
  private readonly sizes: Record<MemName, number> = { desc: 0, param: 0, weight: 0, arena: 0 };
  private started = false;

  constructor() {
    this.abi = rtlAbi();
    this.h = this.abi.create();
    if (!this.h) throw new BitweaveError(`RTL model: ${this.abi.error(null) || 'cannot create'}`);
  }

  private handle(): object {
    if (!this.h) throw new BitweaveError('RTL model: used after free');
    return this.h;
  }

  private check(rc: number, what: string): number {
    if (rc >= 0) return rc;
    const msg = this.abi.error(this.h);
    throw new BitweaveError(`RTL model: ${what} failed (${errorMeaning(RTL_ERRORS, rc)})${msg ? `: ${msg}` : ''}`);
  }

  private mem(name: MemName): number {
    if (!Object.prototype.hasOwnProperty.call(MEM, name)) throw new BitweaveError(`RTL model: unknown memory '${String(name)}' (known: ${Object.keys(MEM).join(', ')})`);
    return MEM[name];
  }

  /** (Re)allocate a memory of `count` elements (32-bit for desc/param, 64-bit words otherwise), zero-filled. */
  alloc(name: MemName, count: number): void {
    const m = this.mem(name);
    if (!isCount(count)) throw new BitweaveError(`RTL model: ${name} size must be an integer in 0..2^31, got ${count}`);
    this.check(this.abi.alloc(this.handle(), m, count), `alloc ${name}`);
    this.sizes[name] = count;
  }

  size(name: MemName): number {
    return this.sizes[name];
  }

  /** Elements of `data` (a 32-bit typed array; 64-bit words as two halves) into memory at `offset` elements. */
  write(name: MemName, offset: number, data: Uint32Array | Int32Array): void {
    const m = this.mem(name);
    const count = this.elems(name, data);
    this.range(name, offset, count);
    this.check(this.abi.write(this.handle(), m, offset, data, count), `write ${name}`);
  }

  read(name: MemName, offset: number, out: Uint32Array | Int32Array): void {
    const m = this.mem(name);
    const count = this.elems(name, out);
    this.range(name, offset, count);
    this.check(this.abi.read(this.handle(), m, offset, out, count), `read ${name}`);
  }

  private elems(name: MemName, d: Uint32Array | Int32Array): number {
    if (!(d instanceof Uint32Array) && !(d instanceof Int32Array)) throw new BitweaveError(`RTL model: ${name} data must be a Uint32Array or Int32Array`);
    const per = ELEM_BYTES[name] / 4;
    if (d.length % per !== 0) throw new BitweaveError(`RTL model: ${name} data of ${d.length} uint32 is not a whole number of ${ELEM_BYTES[name]}-byte elements`);
    return d.length / per;
  }

  private range(name: MemName, offset: number, count: number): void {
    if (!isCount(offset) || offset + count > this.sizes[name]) {
      throw new BitweaveError(`RTL model: ${name} elements ${offset}..${offset + count} outside the memory of ${this.sizes[name]}`);
    }
  }

  start(layers: number, batch: number, arenaWords: number): void {
    for (const [k, v] of [['layers', layers], ['batch', batch], ['arena words', arenaWords]] as const) {
      if (!Number.isInteger(v) || v < (k === 'arena words' ? 0 : 1) || v > 0xffffffff) throw new BitweaveError(`RTL model: ${k} must be an integer in range, got ${v}`);
    }
    this.check(this.abi.start(this.handle(), layers, batch, arenaWords), 'start');
    this.started = true;
  }

  /** Run at most maxCycles; true when the program finished. */
  run(maxCycles: number): boolean {
    if (!this.started) throw new BitweaveError('RTL model: run before start');
    if (!Number.isSafeInteger(maxCycles) || maxCycles < 0) throw new BitweaveError(`RTL model: max cycles must be a non-negative integer, got ${maxCycles}`);
    return this.check(this.abi.run(this.handle(), maxCycles), 'run') === 1;
  }

  cycles(): number {
    const o = new BigUint64Array(1);
    this.check(this.abi.cycles(this.handle(), o), 'cycles');
    return Number(o[0]);
  }

  layerCycles(): number[] {
    const h = this.handle();
    const n = this.check(this.abi.layerCycles(h, new BigUint64Array(1), 0), 'layer cycles');
    const o = new BigUint64Array(n);
    this.check(this.abi.layerCycles(h, o, n), 'layer cycles');
    return Array.from(o, Number);
  }

  /** Write an FST waveform of the following cycles to `file` (null stops). */
  trace(file: string | null): void {
    if (file !== null && (typeof file !== 'string' || file === '' || file.includes('\0'))) throw new BitweaveError('RTL model: trace file must be a non-empty path');
    this.check(this.abi.trace(this.handle(), file), 'trace');
  }

  free(): void {
    if (this.h) this.abi.free(this.h);
    this.h = null;
  }
}
