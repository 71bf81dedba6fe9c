/**
 * The `opencl` backend: device segments run on the array kernels (opencl-kernels/) through
 * OpenCL, on PoCL here (CPU emulation of the FPGA kernels) or on a board's runtime with a
 * prebuilt binary; host segments run on the native CPU engine (NativeBackend).
 *
 *  - load: selects every device matching the name filter (one platform), builds the
 *    program from source or loads a binary (xclbin / aocx / PoCL binary), encodes each
 *    device segment as a layer program (host/array/program.ts), checks it
 *    (checkLayerProgram) and uploads descriptors, weights and parameters once.
 *  - runSegment: splits the batch across the devices (contiguous slices, results in
 *    order); each device streams its slice in chunks through two arena buffers, so the
 *    upload of chunk k+1 and the read-back of chunk k-1 overlap the kernel of chunk k
 *    (a transfer queue and a compute queue ordered by events).
 *  - layerStats: device time from OpenCL profiling events. By default each layer of the
 *    program is launched on its own (still for the whole chunk of images) and timed per
 *    layer; with oneLaunch a single launch walks the whole layer program, as on a board,
 *    and its time is reported once per segment, labelled as such (it is not split).
 *
 * On a board (XRT): `build` (env BITWEAVE_OPENCL_BUILD) names the bitweave-build.json of the
 * Vitis project the binary came from, and the backend encodes for that project's array size
 * and selects the device the board file names (opencl.platform / opencl.device) rather than
 * the first one the ICD loader lists (which may be PoCL). Every buffer is created empty and
 * bound to its kernel argument before its first write: XRT places a buffer in the memory
 * bank of the first kernel port it is bound to, and a buffer written earlier may land in
 * another bank than the port's connectivity (sp=) says ("unknown memory index").
 *
 * Every tensor reaching OpenCL is checked here (typed-array kind and exact length), the
 * layer program is checked against its buffers before upload, and device memory needs are
 * checked against the device's limits before any allocation (PoCL aborts the process when
 * a lazy allocation fails, so asking it is not safe).
 */
import * as fs from 'node:fs';
import { BitweaveError } from '../../core/errors';
import { ArrayParams, arrayGeometryProblem, DEFAULT_ARRAY } from '../../array/params';
import { MAX_BATCH } from '../../array/limits';
import { KernelLimits, openclLimits, rtlLimits } from '../../array/descriptor';
import { scheduleCycles } from '../../array/cycles';
import { arenaWindows, AXI_BUILD, AXI_KERNEL_ARGS, axiArenaRowWords, axiChunk, AxiKernelBuild, DEFAULT_AXI_BUILD } from '../../array/axi-kernel';
import { axiMemory, loadBoard } from '../../boards';
import { wideRowCount, wideWeights } from '../../array/wide';
import { DESC_WORDS } from '../../array/params';
import { LayerProgram } from '../../array/program';
import { ARG, ARRAY_KERNELS, CHANNELS_MARKER, KERNEL_ARGS, KERNEL_NAME } from '../../array/kernel-abi';
import { ArrayKernels, launchMs, streamFifoWords } from './array-kernels';
import { AcceleratorBackend, AcceleratorOptions, DeviceSegment, SegmentIO } from '../accelerator';
import { addressOf, alignedArray, CLBuffer, CLEvent, Context, Device, DeviceFilter, Kernel, OpenCLError, OpenCLUnavailableError, Program, Queue, selectDevices } from '../../opencl';
import { kernelSource } from '../../array/sources';
import type { TypedArrayConstructor } from '../../opencl/host';

/** Images per launch unless the device memory needs fewer. */
const DEFAULT_CHUNK = 32;

/**
 * Alignment of host memory given to clEnqueueRead/WriteBuffer: Intel's FPGA runtime DMAs only
 * from 64-byte aligned host memory (anything else goes through a slower extra copy), and the
 * other runtimes are indifferent to it.
 */
export const DMA_ALIGN = 64;

/** A copy of `data` in DMA_ALIGN-aligned memory, or `data` itself when it already is aligned. */
export function dmaAligned<T extends Uint32Array | Int32Array>(data: T): T {
  if (data.length === 0 || addressOf(data) % BigInt(DMA_ALIGN) === 0n) return data;
  const copy = alignedArray(data.constructor as unknown as TypedArrayConstructor<T>, data.length, DMA_ALIGN);
  copy.set(data);
  return copy;
}

export interface OpenCLBackendOptions extends AcceleratorOptions {
  /** Case-insensitive substring of the device name (env BITWEAVE_OPENCL_DEVICE); every match is used. */
  device?: string;
  /** A prebuilt kernel binary (xclbin, aocx, PoCL binary) instead of building the source (env BITWEAVE_OPENCL_BINARY). */
  binary?: string;
  /**
   * One launch walks a segment's whole layer program, device time reported per segment
   * (env BITWEAVE_OPENCL_LAUNCH=segment); default: one launch per layer, timed per layer.
   */
  oneLaunch?: boolean;
  /** Images per launch (env BITWEAVE_OPENCL_CHUNK; default 32, fewer if device memory requires). */
  chunk?: number;
  /** Array shape the source is built for (default: the build's, else DEFAULT_ARRAY's). */
  array?: { rows: number; cols: number; accBits?: number };
  /**
   * The bitweave-build.json of the project the binary was built from (env
   * BITWEAVE_OPENCL_BUILD): its array size, kernel and OpenCL device (the board file's).
   */
  build?: string;
  /**
   * Zero-copy arenas: CL_MEM_ALLOC_HOST_PTR buffers filled and drained through
   * clEnqueueMapBuffer instead of read/write copies (env BITWEAVE_OPENCL_ZERO_COPY=1 or 0).
   * Default: on devices reporting CL_DEVICE_HOST_UNIFIED_MEMORY (PoCL's CPU device; an SoC
   * board such as the DE10-Nano should, not verified on one), where a copy only duplicates
   * memory both sides share. Force it for a runtime that shares memory without saying so.
   */
  zeroCopy?: boolean;
}

/** What the backend takes from a project's bitweave-build.json. */
export interface OpenCLBuildInfo {
  file: string;
  board: string;
  array: { rows: number; cols: number };
  kernel: 'hls' | 'rtl';
  opencl: { platform?: string; device?: string | null } | null;
  /** The RTL kernel's build (on-chip memories, data width); DEFAULT_AXI_BUILD when the file has none. */
  axiBuild: AxiKernelBuild;
  /** The compute units the binary holds (nk=), each with its own memory banks. */
  computeUnits: string[];
}

/** Reads and checks a Vitis project's bitweave-build.json (one line on any problem). */
export function readBuildInfo(file: string): OpenCLBuildInfo {
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new BitweaveError(`opencl backend: cannot read the build description ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const bad = (why: string): never => {
    throw new BitweaveError(`opencl backend: ${file}: ${why}`);
  };
  if (!j || typeof j !== 'object') bad('not a bitweave-build.json');
  const a = j.array as { rows?: unknown; cols?: unknown } | undefined;
  if (!a || !Number.isInteger(a.rows) || !Number.isInteger(a.cols)) bad('no array { rows, cols }');
  const kernel = j.kernel === undefined || j.kernel === 'hls' ? 'hls' : j.kernel === 'rtl' ? 'rtl' : bad(`kernel '${String(j.kernel)}' is neither 'rtl' nor 'hls'`);
  const o = j.opencl as { platform?: unknown; device?: unknown } | undefined;
  const opencl = o && typeof o === 'object' ? { platform: typeof o.platform === 'string' ? o.platform : undefined, device: typeof o.device === 'string' ? o.device : null } : null;
  const ab = j.axiBuild as Partial<AxiKernelBuild> | undefined;
  const axiBuild = { ...DEFAULT_AXI_BUILD };
  if (ab && typeof ab === 'object') {
    for (const k of Object.keys(DEFAULT_AXI_BUILD) as (keyof AxiKernelBuild)[]) {
      const v = ab[k];
      if (v === undefined) continue;
      if (!Number.isSafeInteger(v) || v < 1) bad(`axiBuild.${k} = ${String(v)} is not a positive integer`);
      axiBuild[k] = v;
    }
  }
  const conn = Array.isArray(j.connectivity) ? (j.connectivity as { cu?: unknown }[]) : [];
  const computeUnits = conn.map((c) => c?.cu).filter((c): c is string => typeof c === 'string' && /^\w+$/.test(c));
  if (computeUnits.length !== conn.length) bad('connectivity names a compute unit that is not a plain identifier');
  return { file, board: typeof j.board === 'string' ? j.board : '?', array: { rows: a!.rows as number, cols: a!.cols as number }, kernel, opencl, axiBuild, computeUnits };
}

/** One device segment on one device: its buffers and kernel. */
interface SegmentBuffers {
  program: CLBuffer;
  /** One single-descriptor buffer per layer (per-layer launches). */
  layerPrograms: CLBuffer[];
  weights: CLBuffer;
  params: CLBuffer;
  /** The single-kernel ABI (an HLS or RTL kernel binary); null with the three array kernels. */
  kernel: Kernel | null;
  /** The OpenCL array's feeder, PE array and output units (opencl-kernels/). */
  array: ArrayKernels | null;
  /** Two arenas (double buffering) of `chunk` images each, allocated on first use. */
  arenas: CLBuffer[];
  /** Host staging for uploads and read-backs, one per arena. */
  inStage: Uint32Array[];
  outStage: Uint32Array[];
  /** RTL kernel: the words its staging copies from the weight and parameter buffers; images per array run for a launch of n. */
  rtl?: { weightWords: number; paramWords: number; chunk: (images: number) => number };
}

/** Argument indices of the RTL kernel (kernel.xml ids: AXI_KERNEL_ARGS order). */
const RTL_ARG = Object.freeze(Object.fromEntries(AXI_KERNEL_ARGS.map((a, i) => [a.name, i]))) as Readonly<Record<string, number>>;

/**
 * The RTL kernel's arguments for one launch, in AXI_KERNEL_ARGS order (kernel.xml's ids):
 * buffers for the pointers, 32-bit unsigned scalars for the rest. `stage` is 1 when the
 * compute unit must copy this segment's program, parameters and weights on chip first.
 */
export function rtlLaunchArgs<B>(
  bufs: { program: B; weights: B; params: B; arena: B },
  scalars: { layers: number; arenaWords: number; images: number; weightWords: number; paramWords: number; stage: boolean; inWords: number; outOff: number; outWords: number; chunk: number },
): (B | { type: 'uint'; value: number })[] {
  const u = (value: number) => ({ type: 'uint' as const, value });
  const byName: Record<string, B | { type: 'uint'; value: number }> = {
    program: bufs.program, layers: u(scalars.layers), weights: bufs.weights, params: bufs.params, arena: bufs.arena,
    arena_words: u(scalars.arenaWords), images: u(scalars.images), weight_words: u(scalars.weightWords), param_words: u(scalars.paramWords), stage: u(scalars.stage ? 1 : 0),
    in_words: u(scalars.inWords), out_off: u(scalars.outOff), out_words: u(scalars.outWords), chunk: u(scalars.chunk),
  };
  return AXI_KERNEL_ARGS.map((a) => {
    if (!(a.name in byName)) throw new BitweaveError(`opencl backend: the RTL kernel's argument '${a.name}' is unknown to the host`);
    return byName[a.name];
  });
}

interface DeviceState {
  device: Device;
  exec: Queue;
  xfer: Queue;
  chunk: number;
  /** RTL kernel: the segment whose program the compute unit holds on chip (-1: none). */
  staged: number;
  /**
   * The kernel object's name: `bitweave_array`, or `bitweave_array:{<cu>}` for one compute
   * unit of a binary with several (each on its own banks, so each needs its own kernel
   * object and buffers: UG1393 "Kernel Handle and Compute Units").
   */
  kernelName: string;
  /** The array kernels' stream FIFOs (FIFO variant; one-element stand-ins with channels), shared by the segments. */
  fifos: { act: CLBuffer; acc: CLBuffer } | null;
  /** Arenas are CL_MEM_ALLOC_HOST_PTR buffers filled and drained through maps (OpenCLBackendOptions.zeroCopy). */
  zeroCopy: boolean;
}

const MiB = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

function envOptions(opts: OpenCLBackendOptions): Required<Pick<OpenCLBackendOptions, 'oneLaunch' | 'chunk'>> & Pick<OpenCLBackendOptions, 'device' | 'binary' | 'build' | 'zeroCopy'> {
  const env = process.env;
  const chunkText = opts.chunk ?? (env.BITWEAVE_OPENCL_CHUNK !== undefined ? Number(env.BITWEAVE_OPENCL_CHUNK) : DEFAULT_CHUNK);
  if (!Number.isInteger(chunkText) || chunkText < 1 || chunkText > MAX_BATCH) throw new BitweaveError(`opencl backend: chunk must be an integer in 1..${MAX_BATCH}, got ${chunkText}`);
  const launch = env.BITWEAVE_OPENCL_LAUNCH;
  if (opts.oneLaunch === undefined && launch !== undefined && launch !== 'layer' && launch !== 'segment') {
    throw new BitweaveError(`opencl backend: BITWEAVE_OPENCL_LAUNCH must be 'layer' or 'segment', got '${launch}'`);
  }
  const zc = env.BITWEAVE_OPENCL_ZERO_COPY;
  if (opts.zeroCopy === undefined && zc !== undefined && zc !== '0' && zc !== '1') {
    throw new BitweaveError(`opencl backend: BITWEAVE_OPENCL_ZERO_COPY must be 0 or 1, got '${zc}'`);
  }
  return {
    device: opts.device ?? (env.BITWEAVE_OPENCL_DEVICE || undefined),
    binary: opts.binary ?? (env.BITWEAVE_OPENCL_BINARY || undefined),
    build: opts.build ?? (env.BITWEAVE_OPENCL_BUILD || undefined),
    oneLaunch: opts.oneLaunch ?? launch === 'segment',
    zeroCopy: opts.zeroCopy ?? (zc === undefined ? undefined : zc === '1'),
    chunk: chunkText,
  };
}

/** Any OpenCL failure gets the backend and device in front of its CL_* name. */
function withDevice<T>(what: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof OpenCLError) throw new BitweaveError(`opencl backend: ${what}: ${e.message}`, e.code);
    throw e;
  }
}

export class OpenCLBackend extends AcceleratorBackend<SegmentBuffers[]> {
  readonly name = 'opencl';
  /** Kernels run on the device (PoCL's threads on a PC) while the JS thread waits asynchronously. */
  override readonly overlapsHost = true;
  private readonly opts: ReturnType<typeof envOptions>;
  private readonly params: ArrayParams;
  /** The project's build description, when given. */
  readonly build: OpenCLBuildInfo | null;
  private ctx: Context | null = null;
  private program: Program | null = null;
  private devices: DeviceState[] = [];
  /** The program is the three array kernels (else the single `bitweave_array` of an HLS or RTL binary). */
  private dataflow = false;
  /** ...built with Intel channels: the three run at once and need no FIFO buffers. */
  private channels = false;
  /** The loaded model's device segments (FIFO sizes). */
  private progs: LayerProgram[] = [];

  constructor(opts: OpenCLBackendOptions = {}) {
    super('opencl', opts, 'schedule');
    this.opts = envOptions(opts);
    this.build = this.opts.build ? readBuildInfo(this.opts.build) : null;
    if (this.build?.kernel === 'rtl' && !this.opts.binary) {
      throw new BitweaveError(`opencl backend: ${this.build.file} is an RTL-kernel project: give its binary (BITWEAVE_OPENCL_BINARY=<.xclbin / .awsxclbin>); an RTL kernel cannot be built from source here`);
    }
    const b = this.build?.array;
    if (b && opts.array && (opts.array.rows !== b.rows || opts.array.cols !== b.cols)) {
      throw new BitweaveError(`opencl backend: array ${opts.array.rows}x${opts.array.cols} given, but ${this.build!.file} was built for ${b.rows}x${b.cols}`);
    }
    this.params = { ...DEFAULT_ARRAY, ...(b ? { rows: b.rows, cols: b.cols } : {}), ...opts.array };
    const problem = arrayGeometryProblem(this.params);
    if (problem) throw new BitweaveError(`opencl backend: ${problem}`);
  }

  /** The array the kernels are built and the programs encoded for. */
  get arrayParams(): ArrayParams {
    return { ...this.params };
  }

  /** The devices in use, after load (one entry per device). */
  get deviceNames(): string[] {
    return [...new Set(this.devices.map((d) => d.device))].map((d) => d.name);
  }

  /** The kernel objects' names, one per lane (device x compute unit), after load. */
  get kernelNames(): string[] {
    return this.devices.map((d) => d.kernelName);
  }

  protected array(): ArrayParams {
    return this.params;
  }

  protected limits(): KernelLimits {
    if (this.rtl) return { ...rtlLimits({ rows: this.params.rows, accBits: this.params.accBits, maxOutBits: AXI_BUILD.maxOutBits }), target: 'the RTL kernel' };
    return openclLimits(this.params);
  }

  /** Launches walk one layer each: by choice, or because FIFO streams hold one layer. */
  private get perLayer(): boolean {
    return !this.opts.oneLaunch || (this.dataflow && !this.channels);
  }

  /** Whether the binary is the RTL kernel (its ABI: host/array/axi-kernel.ts), from the build description. */
  private get rtl(): boolean {
    return this.build?.kernel === 'rtl';
  }

  /** The RTL kernel copies whole on-chip arena rows: each image's arena is padded to them. */
  protected override arenaStride(prog: LayerProgram): number {
    if (!this.rtl) return prog.arenaWords;
    const row = axiArenaRowWords(this.params.rows, this.build!.axiBuild.dataBits);
    return Math.ceil(prog.arenaWords / row) * row;
  }

  /** Images one launch may take: the RTL kernel holds that many arenas on chip. */
  protected override imagesPerCall(prog: LayerProgram): number {
    const n = super.imagesPerCall(prog);
    return this.rtl ? Math.max(1, Math.min(n, Math.floor(this.build!.axiBuild.arenaWords / this.arenaStride(prog)))) : n;
  }

  /**
   * The devices to use: those named like --device / BITWEAVE_OPENCL_DEVICE, else, with a
   * build description, the board file's device on its platform (never simply the first
   * device listed: PoCL may come before XRT), else every device of the first platform.
   */
  deviceFilter(): DeviceFilter {
    if (this.opts.device) return { name: this.opts.device };
    const o = this.build?.opencl;
    if (o && (o.device || o.platform)) return { ...(o.platform ? { platform: o.platform } : {}), ...(o.device ? { name: o.device } : {}) };
    return {};
  }

  protected override open(progs: LayerProgram[]): void {
    this.progs = progs;
    let found: Device[];
    const want = this.deviceFilter();
    try {
      found = selectDevices(want);
    } catch (e) {
      if (!(e instanceof OpenCLUnavailableError)) throw e;
      const filter = this.opts.device
        ? `devices named like '${this.opts.device}' (--device / BITWEAVE_OPENCL_DEVICE)`
        : want.name || want.platform
          ? `the ${this.build!.board} device${want.name ? ` named like '${want.name}'` : ''}${want.platform ? ` on a platform like '${want.platform}'` : ''} (${this.build!.file}; --device overrides)`
          : 'any device';
      throw new OpenCLUnavailableError(`opencl backend: searched every OpenCL platform the ICD loader lists for ${filter}: ${e.message}`);
    }
    // one context = one platform: the first platform with a matching device
    const devs = found.filter((d) => d.platform.id === found[0].platform.id);
    this.ctx = withDevice('creating the context', () => Context.create(devs));
    const ctx = this.ctx;
    this.program = this.opts.binary ? this.loadBinary(ctx, this.opts.binary) : withDevice('building the array kernels', () => Program.fromSource(ctx, kernelSource(this.params), { options: '-cl-std=CL1.2' }));
    const names = this.program.kernelNames();
    this.dataflow = !this.rtl && Object.values(ARRAY_KERNELS).every((k) => names.includes(k.name));
    this.channels = this.dataflow && names.includes(CHANNELS_MARKER);
    if (!this.dataflow && !names.includes(KERNEL_NAME)) {
      const want = this.rtl ? `'${KERNEL_NAME}'` : `'${KERNEL_NAME}' or the array kernels ${Object.values(ARRAY_KERNELS).map((k) => `'${k.name}'`).join(', ')}`;
      throw new BitweaveError(`opencl backend: the program defines no kernel ${want} (it has: ${names.join(', ') || 'none'})`);
    }
    // a binary with several compute units: one lane (kernel object, buffers, queues) per unit and device
    const cus: (string | null)[] = this.opts.binary && this.build && this.build.computeUnits.length > 1 ? this.build.computeUnits : [null];
    for (const device of devs) {
      const chunk = this.planMemory(device, progs, cus.length);
      // the RTL kernel (XRT boards, discrete memory) keeps the copy path
      const zeroCopy = !this.rtl && (this.opts.zeroCopy ?? device.info().hostUnifiedMemory);
      for (const cu of cus) {
        this.devices.push({
          device,
          exec: withDevice(`queue on '${device.name}'`, () => Queue.create(ctx, device)),
          xfer: withDevice(`queue on '${device.name}'`, () => Queue.create(ctx, device)),
          chunk,
          staged: -1,
          kernelName: cu ? `${KERNEL_NAME}:{${cu}}` : KERNEL_NAME,
          fifos: null,
          zeroCopy,
        });
      }
    }
  }

  private loadBinary(ctx: Context, file: string): Program {
    let bin: Buffer;
    try {
      bin = fs.readFileSync(file);
    } catch (e) {
      throw new BitweaveError(`opencl backend: cannot read kernel binary ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    if (bin.length === 0) throw new BitweaveError(`opencl backend: kernel binary ${file} is empty`);
    return withDevice(`loading kernel binary ${file}`, () => Program.fromBinary(ctx, new Uint8Array(bin.buffer, bin.byteOffset, bin.length)));
  }

  /**
   * Images per launch on `device`: the default chunk, reduced until the two arenas plus
   * every segment's constant buffers fit CL_DEVICE_MAX_MEM_ALLOC_SIZE and
   * CL_DEVICE_GLOBAL_MEM_SIZE. If not even one image fits, the allocation would fail:
   * say so before asking the runtime.
   */
  private planMemory(device: Device, progs: LayerProgram[], lanes = 1): number {
    const info = device.info();
    let fixed = 0;
    let arenaBytes = 0;
    for (const p of progs) {
      // the array kernels read weights in wide rows of ROWS words (host/array/wide.ts)
      const weightBytes = this.dataflow ? wideRowCount(p, this.params.rows) * this.params.rows * 8 : p.weights.byteLength;
      const bufs = [p.descriptors.byteLength * 2, weightBytes, Math.max(4, p.params.byteLength)];
      for (const b of bufs) {
        if (b > info.maxAllocBytes) {
          throw new BitweaveError(`opencl backend: device '${info.name}' out of memory (CL_MEM_OBJECT_ALLOCATION_FAILURE): segment ${p.segment} needs a ${MiB(b)} buffer, CL_DEVICE_MAX_MEM_ALLOC_SIZE is ${MiB(info.maxAllocBytes)}`);
        }
      }
      fixed += bufs.reduce((a, b) => a + b, 0);
      arenaBytes = Math.max(arenaBytes, p.arenaWords * 8);
    }
    let chunk = Math.min(this.opts.chunk, Math.min(...progs.map((p) => this.imagesPerCall(p))));
    // the FIFO variant's stream buffers, one pair per lane, sized for the largest layer
    const fifo = (n: number) => {
      if (!this.dataflow || this.channels) return { act: 0, acc: 0 };
      const w = progs.map((p) => streamFifoWords(p, n, this.params));
      return { act: Math.max(...w.map((x) => x.act)) * 8, acc: Math.max(...w.map((x) => x.acc)) * 4 };
    };
    // every lane (compute unit) on the device holds its own copies
    const fits = (n: number) => {
      const f = fifo(n);
      return n * arenaBytes <= info.maxAllocBytes && Math.max(f.act, f.acc) <= info.maxAllocBytes && lanes * (fixed + f.act + f.acc + 2 * progs.length * n * arenaBytes) <= info.globalMemBytes;
    };
    while (chunk > 1 && !fits(chunk)) chunk = Math.floor(chunk / 2);
    if (!fits(chunk)) {
      throw new BitweaveError(
        `opencl backend: device '${info.name}' out of memory (CL_MEM_OBJECT_ALLOCATION_FAILURE): one image needs a ${MiB(arenaBytes)} arena (x2 for double buffering, plus ${MiB(fixed)} of weights and parameters${fifo(1).act ? ` and ${MiB(fifo(1).act + fifo(1).acc)} of stream FIFOs` : ''}); ` +
          `CL_DEVICE_MAX_MEM_ALLOC_SIZE is ${MiB(info.maxAllocBytes)}, CL_DEVICE_GLOBAL_MEM_SIZE ${MiB(info.globalMemBytes)}`,
      );
    }
    return chunk;
  }

  /** Descriptors, weights and parameters on every device. */
  protected prepare(p: LayerProgram): SegmentBuffers[] {
    const ctx = this.ctx!;
    const made: SegmentBuffers[] = [];
    try {
      for (const state of this.devices) {
        made.push(withDevice(`uploading segment ${p.segment} to '${state.device.name}'`, () => {
          const ro = { access: 'read-only' as const, hostAccess: 'write-only' as const };
          const per = p.descriptors.length / p.layers;
          // an empty parameter buffer is not allowed: keep at least one entry
          const params = p.params.length > 0 ? p.params : new Int32Array(1);
          const array = this.dataflow ? ArrayKernels.create(this.program!, ctx, state.device, this.channels) : null;
          // the array kernels read weights in wide rows (W_OFF in rows); an HLS binary the flat layout
          const wide = array ? wideWeights(p, this.params.rows) : null;
          const descriptors = wide ? wide.descriptors : p.descriptors;
          const weights = wide ? wide.weights : p.weights;
          const kernel = array ? null : this.program!.createKernel(state.kernelName);
          if (kernel) {
            const nargs = this.rtl ? AXI_KERNEL_ARGS.length : KERNEL_ARGS.length;
            if (kernel.numArgs !== nargs) throw new BitweaveError(`opencl backend: kernel '${KERNEL_NAME}' takes ${kernel.numArgs} arguments, the ${this.rtl ? 'RTL kernel' : 'host'} ABI has ${nargs}`);
            if (this.rtl) return this.prepareRtl(ctx, state, p, kernel);
          }
          // every buffer empty, bound to its argument, then written (XRT picks the bank at the bind)
          const seg: SegmentBuffers = {
            program: CLBuffer.create(ctx, descriptors.byteLength, ro),
            layerPrograms: [],
            weights: CLBuffer.create(ctx, Math.max(8, weights.byteLength), ro),
            params: CLBuffer.create(ctx, params.byteLength, ro),
            kernel,
            array,
            arenas: [],
            inStage: [],
            outStage: [],
          };
          const uploads: [CLBuffer, Uint32Array | Int32Array][] = [];
          const bindAndWrite = (arg: number, buf: CLBuffer, data: Uint32Array | Int32Array) => {
            kernel?.setArg(arg, buf);
            if (array && arg === ARG.program) array.bindProgram(buf);
            uploads.push([buf, data]);
          };
          try {
            array?.bindSegment(seg.weights, seg.params);
            if (this.perLayer) {
              for (let l = 0; l < p.layers; l++) {
                const desc = descriptors.subarray(l * per, (l + 1) * per);
                const lp = CLBuffer.create(ctx, desc.byteLength, ro);
                seg.layerPrograms.push(lp);
                bindAndWrite(ARG.program, lp, desc);
              }
            }
            bindAndWrite(ARG.program, seg.program, descriptors);
            bindAndWrite(ARG.weights, seg.weights, weights);
            bindAndWrite(ARG.params, seg.params, params);
            for (const [buf, data] of uploads) state.xfer.write(buf, dmaAligned(data)).release();
          } catch (e) {
            this.releaseSegment([seg]);
            throw e;
          }
          return seg;
        }));
      }
    } catch (e) {
      this.releaseSegment(made);
      throw e;
    }
    return made;
  }

  /**
   * Images per array run of the RTL kernel for a launch (its `chunk` argument), chosen with
   * the board file's DDR figures; without them, the whole launch in one run.
   */
  private rtlChunks(p: LayerProgram): (images: number) => number {
    let ch: ReturnType<typeof axiMemory> | null = null;
    try {
      ch = axiMemory(loadBoard(this.build!.board));
    } catch {
      ch = null;
    }
    const known = new Map<number, number>();
    const array = { ...this.params, ...AXI_BUILD, dataBits: this.build!.axiBuild.dataBits };
    return (images) => {
      if (!ch) return 0;
      if (!known.has(images)) known.set(images, axiChunk(p, images, array, ch));
      return known.get(images)!;
    };
  }

  /**
   * The RTL kernel's buffers (host/array/axi-kernel.ts): descriptors with W_OFF in wide rows,
   * weights in wide rows of ROWS words (host/array/wide.ts), parameters; each checked
   * against the kernel's on-chip memories, padded to whole AXI beats, bound, then written.
   */
  private prepareRtl(ctx: Context, state: DeviceState, p: LayerProgram, kernel: Kernel): SegmentBuffers {
    const build = this.build!.axiBuild;
    const rows = this.params.rows;
    const wide = wideWeights(p, rows);
    const need = (bytes: number, held: number, mem: string) => {
      if (bytes > held) throw new BitweaveError(`opencl backend: segment ${p.segment} needs ${bytes} bytes of the RTL kernel's ${mem}, it holds ${held}`);
    };
    need(p.layers * DESC_WORDS * 4, build.descDepth * 4, 'descriptor memory');
    need(p.params.length * 4, build.paramDepth * 4, 'parameter memory');
    need(wide.rows * rows * 8, build.weightRows * rows * 8, 'weight memory');
    need(p.arenaWords * 8, build.arenaWords * 8, 'arena (one image)');
    const beat = build.dataBits / 8;
    const padded = (bytes: number) => Math.max(1, Math.ceil(bytes / beat)) * beat;
    const ro = { access: 'read-only' as const, hostAccess: 'write-only' as const };
    const params = p.params.length > 0 ? p.params : new Int32Array(1);
    const seg: SegmentBuffers = {
      program: CLBuffer.create(ctx, padded(wide.descriptors.byteLength), ro),
      layerPrograms: [],
      weights: CLBuffer.create(ctx, padded(Math.max(8, wide.weights.byteLength)), ro),
      params: CLBuffer.create(ctx, padded(params.byteLength), ro),
      kernel,
      array: null,
      arenas: [],
      inStage: [],
      outStage: [],
      rtl: { weightWords: wide.rows * rows, paramWords: p.params.length, chunk: this.rtlChunks(p) },
    };
    try {
      kernel.setArg(RTL_ARG.program, seg.program).setArg(RTL_ARG.weights, seg.weights).setArg(RTL_ARG.params, seg.params);
      state.xfer.write(seg.program, dmaAligned(wide.descriptors)).release();
      if (wide.weights.byteLength > 0) state.xfer.write(seg.weights, dmaAligned(wide.weights)).release();
      state.xfer.write(seg.params, dmaAligned(params)).release();
    } catch (e) {
      this.releaseSegment([seg]);
      throw e;
    }
    return seg;
  }

  protected execute(): Promise<void> {
    throw new Error('opencl backend: runs stream through runDevice');
  }

  /** Contiguous slices of the batch, one per device, each streamed in chunks. */
  protected override async runDevice(seg: DeviceSegment<SegmentBuffers[]>, io: SegmentIO, batch: number): Promise<void> {
    const share = Math.ceil(batch / this.devices.length);
    await Promise.all(
      this.devices.map((d, i) => {
        const start = i * share;
        const n = Math.min(batch, start + share) - start;
        return n > 0 ? this.stream(d, seg.dev[i], seg.prog, start, n, io) : Promise.resolve();
      }),
    );
  }

  /**
   * The arenas of a device segment, for chunks of `state.chunk` images, with their host
   * staging arrays (DMA_ALIGN-aligned); zero-copy arenas are CL_MEM_ALLOC_HOST_PTR buffers the
   * host packs and unpacks in place, so they need no staging arrays.
   */
  private arenas(state: DeviceState, ds: SegmentBuffers, p: LayerProgram): void {
    if (ds.array && !state.fifos) {
      // sized for the largest segment (planMemory counted them): every segment of this lane shares them
      const w = { act: 1, acc: 1 };
      if (!this.channels) {
        for (const q of this.progs) {
          const x = streamFifoWords(q, state.chunk, this.params);
          w.act = Math.max(w.act, x.act);
          w.acc = Math.max(w.acc, x.acc);
        }
      }
      withDevice(`allocating stream FIFOs on '${state.device.name}'`, () => {
        const act = CLBuffer.create(this.ctx!, w.act * 8);
        try {
          state.fifos = { act, acc: CLBuffer.create(this.ctx!, w.acc * 4) };
        } catch (e) {
          act.release();
          throw e;
        }
      });
    }
    if (ds.array) ds.array.bindFifos(state.fifos!.act, state.fifos!.acc);
    if (ds.arenas.length) return;
    const words = state.chunk * this.arenaStride(p);
    const beat = this.rtl ? this.build!.axiBuild.dataBits / 8 : 8;
    withDevice(`allocating arenas on '${state.device.name}'`, () => {
      for (let k = 0; k < 2; k++) {
        const arena = CLBuffer.create(this.ctx!, Math.ceil((words * 8) / beat) * beat, { allocHostPtr: state.zeroCopy });
        ds.arenas.push(arena);
        // bound before its first write (XRT places it in the bank of the arena port)
        ds.kernel?.setArg(this.rtl ? RTL_ARG.arena : ARG.arena, arena);
        ds.array?.bindArena(arena);
        if (state.zeroCopy) continue;
        ds.inStage.push(alignedArray(Uint32Array, words * 2, DMA_ALIGN));
        ds.outStage.push(alignedArray(Uint32Array, words * 2, DMA_ALIGN));
      }
    });
  }

  /**
   * Images [start, start + n) of the batch through one device, chunk by chunk. Enqueue
   * order on the transfer queue is write(k), read(k-1), write(k+1), ...: the read of k-1
   * and the write of k+1 both run while the kernel of chunk k runs on the compute queue.
   */
  private async stream(state: DeviceState, ds: SegmentBuffers, p: LayerProgram, start: number, n: number, io: SegmentIO): Promise<void> {
    this.arenas(state, ds, p);
    if (state.zeroCopy) return this.streamZeroCopy(state, ds, p, start, n, io);
    const aw = this.arenaStride(p);
    const chunks: { first: number; count: number; slot: number; write?: CLEvent; kernels: CLEvent[]; read?: CLEvent }[] = [];
    for (let s = 0; s < n; s += state.chunk) chunks.push({ first: start + s, count: Math.min(state.chunk, n - s), slot: chunks.length & 1, kernels: [] });
    const where = `running segment ${p.segment} on '${state.device.name}'`;

    const enqueueRead = (c: (typeof chunks)[number]) =>
      withDevice(where, () => {
        c.read = state.xfer.read(ds.arenas[c.slot], ds.outStage[c.slot], { bytes: c.count * aw * 8, blocking: false, waitFor: [c.kernels[c.kernels.length - 1]] });
        state.xfer.flush();
      });
    const finish = async (c: (typeof chunks)[number]) => {
      await c.read!.waitAsync().catch((e) => withDevice(where, () => { throw e; }));
      io.unpackFrom(ds.outStage[c.slot], c.first, c.count);
      this.recordKernels(p, c.kernels, c.count);
      for (const e of [c.write!, ...c.kernels, c.read!]) e.release();
    };

    for (let k = 0; k < chunks.length; k++) {
      const c = chunks[k];
      // the staging array of this slot was last read by the write of chunk k-2
      if (k >= 2) await chunks[k - 2].write!.waitAsync();
      const st = ds.inStage[c.slot];
      io.packInto(st, c.first, c.count);
      if (ds.rtl) {
        withDevice(where, () => {
          const k0 = ds.kernel!;
          const stage = state.staged !== p.segment;
          const w = arenaWindows(p);
          const windows = { inWords: w.in_words, outOff: w.out_off, outWords: w.out_words };
          const args = rtlLaunchArgs({ program: ds.program, weights: ds.weights, params: ds.params, arena: ds.arenas[c.slot] }, {
            layers: p.layers, arenaWords: aw, images: c.count, weightWords: ds.rtl!.weightWords, paramWords: ds.rtl!.paramWords, stage,
            ...windows, chunk: ds.rtl!.chunk(c.count),
          });
          args.forEach((a, i) => k0.setArg(i, a));
          c.write = state.xfer.write(ds.arenas[c.slot], st, { bytes: c.count * aw * 8, blocking: false });
          state.xfer.flush();
          // the exec queue is in order: later launches find this segment staged
          c.kernels.push(state.exec.task(k0, { waitFor: [c.write] }));
          state.staged = p.segment;
          state.exec.flush();
        });
        if (k >= 1) enqueueRead(chunks[k - 1]);
        if (k >= 2) await finish(chunks[k - 2]);
        continue;
      }
      withDevice(where, () => {
        this.bindChunk(ds, p, c.slot, c.count);
        c.write = state.xfer.write(ds.arenas[c.slot], st, { bytes: c.count * aw * 8, blocking: false });
        state.xfer.flush();
        c.kernels.push(...this.launchChunk(state, ds, p, c.write, c.count));
      });
      if (k >= 1) enqueueRead(chunks[k - 1]);
      if (k >= 2) await finish(chunks[k - 2]);
    }
    const last = chunks.length - 1;
    enqueueRead(chunks[last]);
    for (let k = Math.max(0, last - 1); k <= last; k++) await finish(chunks[k]);
  }

  /** The array kernel's arguments for `count` images in arena `slot`, bound before the arena is written (XRT, see the file comment). */
  private bindChunk(ds: SegmentBuffers, p: LayerProgram, slot: number, count: number): void {
    if (ds.array) {
      ds.array.bindArena(ds.arenas[slot]);
      return;
    }
    const k0 = ds.kernel!;
    k0.setArg(ARG.weights, ds.weights).setArg(ARG.params, ds.params).setArg(ARG.arena, ds.arenas[slot]);
    k0.setArg(ARG.arena_words, { type: 'uint', value: this.arenaStride(p) }).setArg(ARG.images, { type: 'uint', value: count });
  }

  /** The array kernel's launches for the chunk bindChunk set up, once `ready` (the arena's upload) completed. */
  private launchChunk(state: DeviceState, ds: SegmentBuffers, p: LayerProgram, ready: CLEvent, count: number): CLEvent[] {
    const launches: CLEvent[] = [];
    if (ds.array) {
      // the three array kernels per launch; each launch's feeder waits for the upload or the previous layer's outputs
      const array = ds.array;
      let after: CLEvent[] = [ready];
      const run = (prog: CLBuffer, layers: number) => {
        const ev = array.launch(state.exec, prog, layers, this.arenaStride(p), count, after);
        launches.push(...ev);
        after = [ev[ev.length - 1]];
      };
      if (this.perLayer) ds.layerPrograms.forEach((lp) => run(lp, 1));
      else run(ds.program, p.layers);
      state.exec.flush();
      return launches;
    }
    const k0 = ds.kernel!;
    if (!this.opts.oneLaunch) {
      ds.layerPrograms.forEach((lp, l) => {
        k0.setArg(ARG.program, lp).setArg(ARG.layers, { type: 'uint', value: 1 });
        launches.push(state.exec.task(k0, { waitFor: l === 0 ? [ready] : [] }));
      });
    } else {
      k0.setArg(ARG.program, ds.program).setArg(ARG.layers, { type: 'uint', value: p.layers });
      launches.push(state.exec.task(k0, { waitFor: [ready] }));
    }
    state.exec.flush();
    return launches;
  }

  /**
   * `stream` for zero-copy arenas: the host packs chunk k straight into its mapped arena while
   * the kernels of chunk k-1 run on the other arena, and unpacks chunk k-2 from its mapped
   * arena once its kernels are done (which also frees that arena for chunk k). No staging
   * array and no read / write command: on a SoC both would copy memory the FPGA already shares.
   */
  private async streamZeroCopy(state: DeviceState, ds: SegmentBuffers, p: LayerProgram, start: number, n: number, io: SegmentIO): Promise<void> {
    const aw = this.arenaStride(p);
    const where = `running segment ${p.segment} on '${state.device.name}'`;
    const words = (view: Uint8Array) => new Uint32Array(view.buffer, view.byteOffset, view.byteLength / 4);
    const inFlight: { first: number; count: number; slot: number; write: CLEvent; kernels: CLEvent[] }[] = [];
    const drain = async () => {
      const c = inFlight.shift()!;
      await c.kernels[c.kernels.length - 1].waitAsync().catch((e) => withDevice(where, () => { throw e; }));
      const read = withDevice(where, () => state.xfer.mapInPlace(ds.arenas[c.slot], { read: true, bytes: c.count * aw * 8 }, (v) => io.unpackFrom(words(v), c.first, c.count)).event);
      this.recordKernels(p, c.kernels, c.count);
      for (const e of [c.write, ...c.kernels, read]) e.release();
    };
    for (let s = 0, k = 0; s < n; s += state.chunk, k++) {
      if (inFlight.length === 2) await drain();
      const first = start + s;
      const count = Math.min(state.chunk, n - s);
      const slot = k & 1;
      inFlight.push(withDevice(where, () => {
        this.bindChunk(ds, p, slot, count);
        const write = state.xfer.mapInPlace(ds.arenas[slot], { read: false, write: true, bytes: count * aw * 8 }, (v) => io.packInto(words(v), first, count)).event;
        state.xfer.flush();
        return { first, count, slot, write, kernels: this.launchChunk(state, ds, p, write, count) };
      }));
    }
    while (inFlight.length > 0) await drain();
  }

  /** Per lane (device x compute unit), after load: whether its arenas are zero-copy or copied through staging arrays. */
  get transfers(): ('zero-copy' | 'copy')[] {
    return this.devices.map((d) => (d.zeroCopy ? 'zero-copy' : 'copy'));
  }

  /**
   * Device time of a finished chunk's launches from profiling events, per layer, or per
   * segment with one launch (its time is then not split between the layers), with the
   * cycles of the chunk's tiles: the kernel walks the RTL array's schedule over the chunk's
   * images, so these are the cycle model's tile phase (host/array/cycles.ts scheduleCycles;
   * no fill or drain, no memory stalls).
   */
  private recordKernels(p: LayerProgram, events: CLEvent[], images: number): void {
    const m = this.model!;
    const seg = m.segments[p.segment];
    // the array kernels: three events per launch
    const per = this.dataflow ? 3 : 1;
    const ms: number[] = [];
    for (let i = 0; i < events.length; i += per) ms.push(launchMs(events.slice(i, i + per), this.channels));
    const cycles = scheduleCycles(p, [images], this.params);
    const macs = p.layerDescriptors.map((d) => d.macs * images);
    if (this.opts.oneLaunch && ms.length === p.layers && !this.rtl) {
      // FIFO streams: launched per layer even when one launch per segment was asked for
      const names = m.opNames.slice(seg.start, seg.end).join(' + ');
      const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
      this.record(seg.start, sum(ms), sum(cycles), sum(macs), `segment ${p.segment} (${seg.end - seg.start} layers, one launch per layer): ${names}`);
    } else if (!this.opts.oneLaunch && !this.rtl) {
      ms.forEach((t, l) => this.record(seg.start + l, t, cycles[l], macs[l]));
    } else {
      const names = m.opNames.slice(seg.start, seg.end).join(' + ');
      const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
      this.record(seg.start, ms[0], sum(cycles), sum(macs), `segment ${p.segment} (${seg.end - seg.start} layers, one launch): ${names}`);
    }
  }

  protected releaseSegment(bufs: SegmentBuffers[]): void {
    for (const s of bufs) {
      for (const b of [s.program, ...s.layerPrograms, s.weights, s.params, ...s.arenas]) b.release();
      s.kernel?.release();
      s.array?.release();
    }
  }

  protected override close(): void {
    for (const d of this.devices) {
      d.fifos?.act.release();
      d.fifos?.acc.release();
      d.exec.release();
      d.xfer.release();
    }
    this.devices = [];
    this.program?.release();
    this.program = null;
    this.ctx?.release();
    this.ctx = null;
  }
}
