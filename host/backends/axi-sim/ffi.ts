/**
 * koffi bindings of the RTL kernel behind AXI (build/libbitweave_axi.so, built by `make
 * axi-sim` from sim/axi/; C ABI in sim/axi/bw_axi_sim.h) and AxiSim, the checked wrapper:
 * device buffers, host copies, AXI4-Lite register accesses, polling ap_done. Every argument
 * is checked here before a call, and the C side checks again; a failure is one BitweaveError line.
 */
import type * as Koffi from 'koffi' with { 'resolution-mode': 'import' };
import { BitweaveError } from '../../core/errors';
import { koffi, libraryPath, loadLibrary, NativeLibrary } from '../../core/native-lib';
import { AxiKernelBuild } from '../../array/axi-kernel';
import { DEFAULT_ARRAY } from '../../array/params';
import { AXI_SIM_ERRORS, errorMeaning } from '../../array/limits';

export const AXI_LIBRARY: NativeLibrary = { what: 'AXI kernel model', env: 'BITWEAVE_AXI_LIB', file: 'libbitweave_axi.so', make: 'axi-sim', needs: 'verilator' };
export const AXI_LIB_PATH = libraryPath(AXI_LIBRARY);

export const E_ACCESS = AXI_SIM_ERRORS.E_ACCESS.code;

export interface AxiInfo extends AxiKernelBuild {
  rows: number;
  cols: number;
  word: 64;
  accBits: number;
  drain: number;
  maxOutBits: number;
}

/** The raw C functions (tests call them directly with bad arguments). */
export interface AxiAbi {
  info(out: Int32Array, n: number): number;
  create(readLatency: number, writeLatency: number, bytesPerCycle: number): object | null;
  free(h: object | null): number;
  alloc(h: object | null, bytes: number | bigint, addr: BigUint64Array | null): number;
  release(h: object | null, addr: number | bigint): number;
  write(h: object | null, addr: number | bigint, data: ArrayBufferView | null, bytes: number | bigint): number;
  read(h: object | null, addr: number | bigint, out: ArrayBufferView | null, bytes: number | bigint): number;
  regWrite(h: object | null, offset: number, value: number): number;
  regRead(h: object | null, offset: number, out: Uint32Array | null): number;
  waitDone(h: object | null, maxCycles: number | bigint, interval: number): number;
  counters(h: object | null, out: BigUint64Array | null, n: number): number;
  trace(h: object | null, file: string | null): number;
  error(h: object | null): string;
}

/**
 * The library of another array size (`make axi-variant ROWS=r COLS=c`), or the default
 * build's (`make axi-sim`) when `array` is omitted.
 */
export function axiLibrary(array?: { rows: number; cols: number }): NativeLibrary {
  if (!array || (array.rows === DEFAULT_ARRAY.rows && array.cols === DEFAULT_ARRAY.cols)) return AXI_LIBRARY;
  const { rows, cols } = array;
  return { ...AXI_LIBRARY, env: `BITWEAVE_AXI_LIB_${rows}X${cols}`, file: `axi-${rows}x${cols}/libbitweave_axi.so`, make: `axi-variant ROWS=${rows} COLS=${cols}` };
}

const abis = new Map<string, AxiAbi>();
let opaque = false;

export function axiAbi(library: NativeLibrary = AXI_LIBRARY): AxiAbi {
  const path = libraryPath(library);
  const have = abis.get(path);
  if (have) return have;
  const lib: Koffi.LibraryHandle = loadLibrary(library);
  if (!opaque) koffi.opaque('bwaxi');
  opaque = true;
  const f = (sig: string) => lib.func(sig);
  const info = f('int bwaxi_info(int32_t *info, int32_t n)');
  const create = f('bwaxi *bwaxi_create(uint32_t read_latency, uint32_t write_latency, double bytes_per_cycle)');
  const free = f('int bwaxi_free(bwaxi *h)');
  const alloc = f('int bwaxi_alloc(bwaxi *h, uint64_t bytes, uint64_t *addr)');
  const release = f('int bwaxi_release(bwaxi *h, uint64_t addr)');
  const write = f('int bwaxi_write(bwaxi *h, uint64_t addr, const void *data, uint64_t bytes)');
  const read = f('int bwaxi_read(bwaxi *h, uint64_t addr, void *out, uint64_t bytes)');
  const regWrite = f('int bwaxi_reg_write(bwaxi *h, uint32_t offset, uint32_t value)');
  const regRead = f('int bwaxi_reg_read(bwaxi *h, uint32_t offset, uint32_t *out)');
  const waitDone = f('int bwaxi_wait_done(bwaxi *h, uint64_t max_cycles, uint32_t interval)');
  const counters = f('int bwaxi_counters(bwaxi *h, uint64_t *out, int32_t n)');
  const trace = f('int bwaxi_trace(bwaxi *h, const char *path)');
  const error = f('const char *bwaxi_error(bwaxi *h)');
  const abi: AxiAbi = {
    info: (o, n) => info(o, n) as number,
    create: (r, w, b) => create(r, w, b) as object | null,
    free: (h) => free(h) as number,
    alloc: (h, b, a) => alloc(h, b, a) as number,
    release: (h, a) => release(h, a) as number,
    write: (h, a, d, b) => write(h, a, d, b) as number,
    read: (h, a, d, b) => read(h, a, d, b) as number,
    regWrite: (h, o, v) => regWrite(h, o, v) as number,
    regRead: (h, o, out) => regRead(h, o, out) as number,
    waitDone: (h, m, i) => waitDone(h, m, i) as number,
    counters: (h, o, n) => counters(h, o, n) as number,
    trace: (h, p) => trace(h, p) as number,
    error: (h) => (error(h) as string) ?? '',
  };
  abis.set(path, abi);
  return abi;
}

/** The build the library was made with. */
export function axiInfo(library: NativeLibrary = AXI_LIBRARY): AxiInfo {
  const v = new Int32Array(13);
  axiAbi(library).info(v, 13);
  return {
    rows: v[0], cols: v[1], word: v[2] as 64, accBits: v[3], dataBits: v[4], outstanding: v[5], maxBurst: v[6],
    descDepth: v[7], paramDepth: v[8], weightRows: v[9], arenaWords: v[10], drain: v[11], maxOutBits: v[12],
  };
}

/** The memory behind each master: latency in kernel cycles, bandwidth in bytes per kernel cycle. */
export interface AxiMemory {
  readLatency: number;
  writeLatency: number;
  bytesPerCycle: number;
}

/** Counters of a model since it was created. */
export interface AxiCounters {
  cycles: number;
  bytesRead: [number, number, number];
  bytesWritten: [number, number, number];
  /** Cycles each master's memory moved a beat. */
  moving: [number, number, number];
}

/** One simulated kernel with its device memory. Not thread-safe; one call at a time. */
export class AxiSim {
  private h: object | null;
  private readonly abi: AxiAbi;
  /** Device buffers: address -> bytes. */
  readonly buffers = new Map<bigint, number>();

  constructor(readonly memory: AxiMemory, library: NativeLibrary = AXI_LIBRARY) {
    const { readLatency, writeLatency, bytesPerCycle } = memory;
    for (const [k, v] of [['read latency', readLatency], ['write latency', writeLatency]] as const) {
      if (!Number.isInteger(v) || v < 0 || v > 100000) throw new BitweaveError(`AXI model: ${k} must be an integer in 0..100000 cycles, got ${v}`);
    }
    if (!(bytesPerCycle > 0) || bytesPerCycle > 1e6) throw new BitweaveError(`AXI model: bandwidth must be above 0 bytes per cycle, got ${bytesPerCycle}`);
    this.abi = axiAbi(library);
    this.h = this.abi.create(readLatency, writeLatency, bytesPerCycle);
    if (!this.h) throw new BitweaveError(`AXI model: ${this.abi.error(null) || 'cannot create'}`);
  }

  private handle(): object {
    if (!this.h) throw new BitweaveError('AXI model: used after free');
    return this.h;
  }

  private check(rc: number, what: string): number {
    if (rc >= 0) return rc;
    const msg = this.abi.error(this.h);
    throw new BitweaveError(`AXI model: ${what} failed (${errorMeaning(AXI_SIM_ERRORS, rc)})${msg ? `: ${msg}` : ''}`);
  }

  /** A device buffer of `bytes`; its device address. */
  alloc(bytes: number): bigint {
    if (!Number.isSafeInteger(bytes) || bytes < 1 || bytes > 2 ** 34) throw new BitweaveError(`AXI model: buffer size must be an integer in 1..2^34 bytes, got ${bytes}`);
    const a = new BigUint64Array(1);
    this.check(this.abi.alloc(this.handle(), bytes, a), 'alloc');
    this.buffers.set(a[0], bytes);
    return a[0];
  }

  release(addr: bigint): void {
    this.check(this.abi.release(this.handle(), addr), 'release');
    this.buffers.delete(addr);
  }

  private range(addr: bigint, bytes: number, what: string): void {
    const size = this.buffers.get(addr);
    if (size === undefined) throw new BitweaveError(`AXI model: ${what} at 0x${addr.toString(16)}: no buffer starts there`);
    if (bytes > size) throw new BitweaveError(`AXI model: ${what} of ${bytes} bytes into a buffer of ${size}`);
  }

  /** Host -> device copy into the start of buffer `addr` (XRT's bo write + sync). */
  write(addr: bigint, data: ArrayBufferView): void {
    this.range(addr, data.byteLength, 'write');
    this.check(this.abi.write(this.handle(), addr, data, data.byteLength), 'write');
  }

  read(addr: bigint, out: ArrayBufferView): void {
    this.range(addr, out.byteLength, 'read');
    this.check(this.abi.read(this.handle(), addr, out, out.byteLength), 'read');
  }

  regWrite(offset: number, value: number): void {
    this.check(this.abi.regWrite(this.handle(), offset, value >>> 0), `register write 0x${offset.toString(16)}`);
  }

  regRead(offset: number): number {
    const o = new Uint32Array(1);
    this.check(this.abi.regRead(this.handle(), offset, o), `register read 0x${offset.toString(16)}`);
    return o[0];
  }

  /** Poll ap_done every `interval` cycles; false when it did not come within maxCycles. */
  waitDone(maxCycles: number, interval = 256): boolean {
    return this.check(this.abi.waitDone(this.handle(), maxCycles, interval), 'wait for ap_done') === 1;
  }

  counters(): AxiCounters {
    const o = new BigUint64Array(10);
    this.check(this.abi.counters(this.handle(), o, 10), 'counters');
    const n = Array.from(o, Number);
    return { cycles: n[0], bytesRead: [n[1], n[2], n[3]], bytesWritten: [n[4], n[5], n[6]], moving: [n[7], n[8], n[9]] };
  }

  trace(file: string | null): void {
    if (file !== null && (typeof file !== 'string' || file === '' || file.includes('\0'))) throw new BitweaveError('AXI model: trace file must be a non-empty path');
    this.check(this.abi.trace(this.handle(), file), 'trace');
  }

  free(): void {
    if (this.h) this.abi.free(this.h);
    this.h = null;
    this.buffers.clear();
  }
}
