/**
 * The axi-sim backend: device segments run on the RTL kernel behind its AXI interfaces
 * (sim/axi/bw_axi_kernel.sv, the kernel a Vitis build packages), simulated by Verilator with
 * a DDR model behind each master whose latency and bandwidth come from a board's figures
 * (boards/<board>.json memory.axi). The host drives it as XRT drives a kernel: device
 * buffers allocated and written, the arguments set through the AXI4-Lite registers,
 * ap_start, ap_done polled, the arena read back. Cycles include the memory traffic: the
 * kernel counts them from ap_start to ap_done.
 */
import { performance } from 'node:perf_hooks';
import { BitweaveError, ShapeError } from '../../core/errors';
import { formatBytes } from '../../core/text';
import { ArrayParams, DESC_WORDS } from '../../array/params';
import { KernelLimits, rtlLimits } from '../../array/descriptor';
import { LayerProgram } from '../../array/program';
import { programCycles } from '../../array/cycles';
import { RTL_ERR_BITS } from '../../array/limits';
import { AP, arenaWindows, AXI_CONTROL, AXI_ERR_BITS, AXI_KERNEL_ARGS, AXI_STATUS, axiArenaRowWords, axiChunk, AxiKernelBuild } from '../../array/axi-kernel';

export { arenaWindows };
import { wideWeights } from '../../array/wide';
import { axiMemory, loadBoard } from '../../boards';
import { AcceleratorBackend, AcceleratorOptions, DeviceSegment } from '../accelerator';
import { NativeLibrary } from '../../core/native-lib';
import { AxiInfo, axiInfo, axiLibrary, AxiMemory, AxiSim } from './ffi';

export interface AxiSimOptions extends AcceleratorOptions {
  /** Board whose DDR figures set the memory model (default aws-f1). */
  axiBoard?: string;
  /** The memory model itself (overrides axiBoard). */
  axiMemory?: AxiMemory;
  /** FST waveform of every call to this file (env BITWEAVE_AXI_TRACE). */
  axiTrace?: string;
  /** The kernel's array (a library built by `make axi-variant ROWS= COLS=`; default the `make axi-sim` build's). */
  axiArray?: { rows: number; cols: number };
  /** Images per array run (the kernel's `chunk`; 0: the whole call in one run). Default: axiChunk's choice. */
  axiChunk?: number;
  /**
   * On-chip memories of the board build being modelled, when smaller than the simulated
   * kernel's (a board build's arena fitted to its RAM, host/build/kernel-ram.ts): the host
   * keeps every call within them, as it would on the board.
   */
  axiLimits?: Partial<Pick<AxiKernelBuild, 'descDepth' | 'paramDepth' | 'weightRows' | 'arenaWords'>>;
}

/** One device segment's buffers in device memory. */
interface AxiSegment {
  program: bigint;
  params: bigint;
  weights: bigint;
  paramWords: number;
  weightWords: number;
  /** What each call copies of every image's arena (the segment's inputs in, its outputs back). */
  windows: { in_words: number; out_off: number; out_words: number };
  /** Images per array run, by the call's images (axiChunk). */
  chunks: Map<number, number>;
}

/** Cycles of the calls so far: the kernel's (ap_start .. ap_done) and the array's share. */
export interface AxiCallStats {
  segment: number;
  images: number;
  kernelCycles: number;
  arrayCycles: number;
  /** The cycle model's array cycles for the call (its runs of `chunk` images). */
  predictedArray: number;
  /** Images per array run. */
  chunk: number;
  /** The cycle model's array cycles for the call's images in one run: the array-only rate the kernel is measured against. */
  arrayOnly: number;
  staged: boolean;
  bytesRead: number;
  bytesWritten: number;
}

export class AxiSimBackend extends AcceleratorBackend<AxiSegment> {
  readonly name = 'axi-sim';
  readonly info: AxiInfo;
  readonly memory: AxiMemory;
  private sim: AxiSim | null = null;
  /** The segment whose program, parameters and weights the kernel holds on chip. */
  private staged = -1;
  private readonly traceFile: string | null;
  readonly calls: AxiCallStats[] = [];
  private readonly library: NativeLibrary;
  private readonly fixedChunk: number | undefined;

  constructor(opts: AxiSimOptions = {}) {
    super('axi-sim', opts, 'kernel');
    this.library = axiLibrary(opts.axiArray);
    const built = axiInfo(this.library);
    const lim = opts.axiLimits ?? {};
    const cap = (k: 'descDepth' | 'paramDepth' | 'weightRows' | 'arenaWords') => Math.min(built[k], lim[k] ?? Infinity);
    this.info = { ...built, descDepth: cap('descDepth'), paramDepth: cap('paramDepth'), weightRows: cap('weightRows'), arenaWords: cap('arenaWords') };
    this.memory = opts.axiMemory ?? axiMemory(loadBoard(opts.axiBoard ?? 'aws-f1'));
    this.traceFile = opts.axiTrace ?? process.env.BITWEAVE_AXI_TRACE ?? null;
    if (opts.axiChunk !== undefined && (!Number.isInteger(opts.axiChunk) || opts.axiChunk < 0)) throw new BitweaveError(`axi-sim backend: axiChunk must be a non-negative integer, got ${opts.axiChunk}`);
    this.fixedChunk = opts.axiChunk;
  }

  protected array(): ArrayParams {
    return this.info;
  }

  protected limits(): KernelLimits {
    return rtlLimits({ rows: this.info.rows, accBits: this.info.accBits, maxOutBits: this.info.maxOutBits });
  }

  /** Bytes of one beat: every buffer is a whole number of them. */
  private get beat(): number {
    return this.info.dataBits / 8;
  }

  private deviceBytes(bytes: number): number {
    return Math.max(1, Math.ceil(bytes / this.beat)) * this.beat;
  }

  protected override open(): void {
    this.sim = new AxiSim(this.memory, this.library);
  }

  protected prepare(prog: LayerProgram): AxiSegment {
    const i = this.info;
    const wide = wideWeights(prog, i.rows);
    const what = `axi-sim backend: segment ${prog.segment}`;
    const need = (bytes: number, held: number, mem: string) => {
      if (bytes > held) throw new ShapeError(`${what} needs ${formatBytes(bytes)} of ${mem}, the kernel holds ${formatBytes(held)}`);
    };
    need(prog.layers * DESC_WORDS * 4, i.descDepth * 4, 'descriptor memory');
    need(prog.params.length * 4, i.paramDepth * 4, 'parameter memory');
    need(wide.rows * i.rows * 8, i.weightRows * i.rows * 8, 'weight memory');
    need(this.arenaStride(prog) * 8, i.arenaWords * 8, 'arena (one image)');
    const sim = this.sim!;
    const put = (data: Uint32Array | Int32Array) => {
      const a = sim.alloc(this.deviceBytes(data.byteLength));
      sim.write(a, data);
      return a;
    };
    return {
      program: put(wide.descriptors),
      params: put(prog.params),
      weights: put(wide.weights),
      paramWords: prog.params.length,
      weightWords: wide.rows * i.rows,
      windows: arenaWindows(prog),
      chunks: new Map(),
    };
  }

  /** Each image's arena is whole on-chip rows, so its copies start on a row and a beat. */
  protected override arenaStride(prog: LayerProgram): number {
    const row = axiArenaRowWords(this.info.rows, this.info.dataBits);
    return Math.ceil(prog.arenaWords / row) * row;
  }

  /** Images one call may take: as many arenas as the on-chip arena holds. */
  protected override imagesPerCall(prog: LayerProgram): number {
    return Math.max(1, Math.min(super.imagesPerCall(prog), Math.floor(this.info.arenaWords / this.arenaStride(prog))));
  }

  protected async execute({ prog, dev }: DeviceSegment<AxiSegment>, arena: Uint32Array, images: number): Promise<void> {
    const sim = this.sim!;
    const t0 = performance.now();
    const arenaAddr = sim.alloc(this.deviceBytes(arena.byteLength));
    const before = sim.counters();
    try {
      sim.write(arenaAddr, arena);
      const stage = this.staged !== prog.segment;
      const chunk = this.chunkOf(prog, dev, images);
      const args: Record<string, bigint | number> = {
        program: dev.program, layers: prog.layers, weights: dev.weights, params: dev.params, arena: arenaAddr,
        arena_words: this.arenaStride(prog), images, weight_words: dev.weightWords, param_words: dev.paramWords, stage: stage ? 1 : 0,
        ...dev.windows, chunk,
      };
      checkKernelCall(args, sim.buffers, this.info);
      for (const a of AXI_KERNEL_ARGS) {
        const v = BigInt(args[a.name]);
        sim.regWrite(a.offset, Number(v & 0xffffffffn));
        if (a.size === 8) sim.regWrite(a.offset + 4, Number(v >> 32n));
      }
      // the staged program is unknown until this call ends well
      this.staged = -1;
      if (this.traceFile) sim.trace(this.traceFile);
      sim.regWrite(AXI_CONTROL.CTRL, AP.START);
      // the array runs the call in chunks: the model's cycles of each run, layer by layer
      const whole = programCycles(prog, images, this.info);
      const model = whole.map((l) => ({ ...l, cycles: 0 }));
      for (let first = 0; first < images; first += chunk) {
        programCycles(prog, Math.min(chunk, images - first), this.info).forEach((l, i) => (model[i].cycles += l.cycles));
      }
      const predicted = model.reduce((s, l) => s + l.cycles, 0);
      const bytes = 8 * images * (dev.windows.in_words + dev.windows.out_words) + (stage ? (dev.weightWords * 8 + dev.paramWords * 4 + prog.layers * DESC_WORDS * 4) : 0);
      const budget = 4 * predicted + Math.ceil((8 * bytes) / this.memory.bytesPerCycle) + 100000;
      const done = sim.waitDone(budget);
      if (this.traceFile) sim.trace(null);
      if (!done) throw new BitweaveError(`axi-sim backend: segment ${prog.segment} did not raise ap_done within ${budget} cycles (the array alone needs ${predicted})`);
      const err = sim.regRead(AXI_STATUS.ERR);
      if (err !== 0) throw new BitweaveError(`axi-sim backend: segment ${prog.segment}: the kernel refused the call (${errText(err)})`);
      this.staged = prog.segment;
      const kernelCycles = sim.regRead(AXI_STATUS.CYCLES_LO) + sim.regRead(AXI_STATUS.CYCLES_HI) * 2 ** 32;
      const arrayCycles = sim.regRead(AXI_STATUS.ARRAY_CYCLES);
      sim.read(arenaAddr, arena);
      const after = sim.counters();
      const sum = (x: number[]) => x.reduce((a, b) => a + b, 0);
      this.calls.push({
        segment: prog.segment, images, kernelCycles, arrayCycles, predictedArray: predicted, chunk, arrayOnly: whole.reduce((s, l) => s + l.cycles, 0), staged: stage,
        bytesRead: sum(after.bytesRead) - sum(before.bytesRead), bytesWritten: sum(after.bytesWritten) - sum(before.bytesWritten),
      });
      // the call's time and cycles (memory traffic included), shared by the layers as the model's array cycles
      const ms = performance.now() - t0;
      const start = this.model!.segments[prog.segment].start;
      // whole cycles per layer that sum to the kernel's: cumulative shares, rounded
      let cum = 0;
      let given = 0;
      for (let l = 0; l < prog.layers; l++) {
        const share = predicted > 0 ? model[l].cycles / predicted : 1 / prog.layers;
        cum += predicted > 0 ? model[l].cycles : predicted / prog.layers;
        const upTo = l === prog.layers - 1 ? kernelCycles : Math.round((kernelCycles * cum) / (predicted || 1));
        this.record(start + l, ms * share, upTo - given, model[l].macs);
        given = upTo;
      }
    } finally {
      sim.release(arenaAddr);
    }
  }

  /** Images per array run for a call (the `chunk` argument): axiChunk with this model's DDR figures, or `axiChunk` given as an option. */
  private chunkOf(prog: LayerProgram, dev: AxiSegment, images: number): number {
    if (this.fixedChunk !== undefined) return Math.min(images, this.fixedChunk || images);
    if (!dev.chunks.has(images)) dev.chunks.set(images, axiChunk(prog, images, this.info, this.memory));
    return dev.chunks.get(images)!;
  }

  protected releaseSegment(dev: AxiSegment): void {
    if (!this.sim) return;
    for (const a of [dev.program, dev.params, dev.weights]) this.sim.release(a);
  }

  protected override close(): void {
    this.sim?.free();
    this.sim = null;
    this.staged = -1;
  }
}

/**
 * One kernel call's arguments checked as the host must before ap_start: scalars within the
 * build's on-chip memories, every pointer the start of a device buffer (`buffers`: address
 * -> bytes), aligned to a beat and large enough for what the kernel reads (whole beats).
 * One line naming the argument otherwise.
 */
export function checkKernelCall(args: Record<string, bigint | number>, buffers: ReadonlyMap<bigint, number>, i: AxiInfo): void {
  const fail = (why: string): never => {
    throw new BitweaveError(`axi-sim backend: ${why}`);
  };
  const n = (k: string) => Number(args[k]);
  const range = (k: string, lo: number, hi: number) => {
    const v = n(k);
    if (!Number.isInteger(v) || v < lo || v > hi) fail(`${k} must be ${lo}..${hi}, got ${v}`);
  };
  range('layers', 1, Math.floor(i.descDepth / DESC_WORDS));
  range('param_words', 0, i.paramDepth);
  range('weight_words', 0, i.weightRows * i.rows);
  if (n('weight_words') % i.rows) fail(`weight_words ${n('weight_words')} is not whole rows of ${i.rows} words`);
  range('arena_words', 1, i.arenaWords);
  range('images', 1, i.arenaWords);
  if (n('images') * n('arena_words') > i.arenaWords) fail(`${n('images')} images of ${n('arena_words')} arena words exceed the kernel's on-chip arena of ${i.arenaWords} words`);
  if (n('stage') !== 0 && n('stage') !== 1) fail(`stage must be 0 or 1, got ${n('stage')}`);
  const row = axiArenaRowWords(i.rows, i.dataBits);
  if (n('arena_words') % row) fail(`arena_words ${n('arena_words')} is not whole on-chip rows of ${row} words`);
  range('in_words', 0, n('arena_words'));
  range('out_off', 0, n('arena_words'));
  range('out_words', 0, n('arena_words') - n('out_off'));
  range('chunk', 0, n('images'));
  const beat = i.dataBits / 8;
  const reads: Record<string, number> = {
    program: n('layers') * DESC_WORDS * 4,
    params: n('param_words') * 4,
    weights: n('weight_words') * 8,
    arena: n('images') * n('arena_words') * 8,
  };
  for (const [k, bytes] of Object.entries(reads)) {
    const addr = BigInt(args[k]);
    const size = buffers.get(addr);
    if (size === undefined) fail(`argument ${k} is not a device buffer`);
    if (addr % BigInt(beat) !== 0n) fail(`buffer ${k} is not aligned to the kernel's ${beat}-byte beats`);
    const whole = Math.max(1, Math.ceil(bytes / beat)) * beat;
    if (size! < whole) fail(`buffer ${k} holds ${size} bytes, the call reads ${whole}`);
  }
}

/** The ERR register in words. */
export function errText(err: number): string {
  const parts: string[] = [];
  if (err & AXI_ERR_BITS.SIZE) parts.push('the arguments do not fit the on-chip memories');
  if (err & AXI_ERR_BITS.BUS) parts.push('a bus error or a copy past an on-chip memory');
  for (const [k, v] of Object.entries(RTL_ERR_BITS)) if (err & v) parts.push(`the array refused the program (${k})`);
  return `${parts.join('; ') || 'unknown'}, error bits 0x${err.toString(16)}`;
}
