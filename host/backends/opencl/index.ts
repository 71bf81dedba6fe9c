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
 * Every tensor reaching OpenCL is checked here (typed-array kind and exact length), the
 * layer program is checked against its buffers before upload, and device memory needs are
 * checked against the device's limits before any allocation (PoCL aborts the process when
 * a lazy allocation fails, so asking it is not safe).
 */
import * as fs from 'node:fs';
import { BitweaveError } from '../../core/errors';
import { ArrayParams, arrayGeometryProblem, DEFAULT_ARRAY } from '../../array/params';
import { MAX_BATCH } from '../../array/limits';
import { KernelLimits, openclLimits } from '../../array/descriptor';
import { scheduleCycles } from '../../array/cycles';
import { LayerProgram } from '../../array/program';
import { ARG, KERNEL_ARGS, KERNEL_NAME } from '../../array/kernel-abi';
import { AcceleratorBackend, AcceleratorOptions, DeviceSegment, SegmentIO } from '../accelerator';
import { CLBuffer, CLEvent, Context, Device, Kernel, OpenCLError, OpenCLUnavailableError, Program, Queue, selectDevices } from '../../opencl';
import { kernelSource } from '../../array/sources';

/** Images per launch unless the device memory needs fewer. */
const DEFAULT_CHUNK = 32;

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
  /** Array shape the source is built for (default DEFAULT_ARRAY's). */
  array?: { rows: number; cols: number; accBits?: number };
}

/** One device segment on one device: its buffers and kernel. */
interface SegmentBuffers {
  program: CLBuffer;
  /** One single-descriptor buffer per layer (per-layer launches). */
  layerPrograms: CLBuffer[];
  weights: CLBuffer;
  params: CLBuffer;
  kernel: Kernel;
  /** Two arenas (double buffering) of `chunk` images each, allocated on first use. */
  arenas: CLBuffer[];
  /** Host staging for uploads and read-backs, one per arena. */
  inStage: Uint32Array[];
  outStage: Uint32Array[];
}

interface DeviceState {
  device: Device;
  exec: Queue;
  xfer: Queue;
  chunk: number;
}

const MiB = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

function envOptions(opts: OpenCLBackendOptions): Required<Pick<OpenCLBackendOptions, 'oneLaunch' | 'chunk'>> & Pick<OpenCLBackendOptions, 'device' | 'binary'> {
  const env = process.env;
  const chunkText = opts.chunk ?? (env.BITWEAVE_OPENCL_CHUNK !== undefined ? Number(env.BITWEAVE_OPENCL_CHUNK) : DEFAULT_CHUNK);
  if (!Number.isInteger(chunkText) || chunkText < 1 || chunkText > MAX_BATCH) throw new BitweaveError(`opencl backend: chunk must be an integer in 1..${MAX_BATCH}, got ${chunkText}`);
  const launch = env.BITWEAVE_OPENCL_LAUNCH;
  if (opts.oneLaunch === undefined && launch !== undefined && launch !== 'layer' && launch !== 'segment') {
    throw new BitweaveError(`opencl backend: BITWEAVE_OPENCL_LAUNCH must be 'layer' or 'segment', got '${launch}'`);
  }
  return {
    device: opts.device ?? (env.BITWEAVE_OPENCL_DEVICE || undefined),
    binary: opts.binary ?? (env.BITWEAVE_OPENCL_BINARY || undefined),
    oneLaunch: opts.oneLaunch ?? launch === 'segment',
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
  private readonly opts: ReturnType<typeof envOptions>;
  private readonly params: ArrayParams;
  private ctx: Context | null = null;
  private program: Program | null = null;
  private devices: DeviceState[] = [];

  constructor(opts: OpenCLBackendOptions = {}) {
    super('opencl', opts, 'schedule');
    this.opts = envOptions(opts);
    this.params = { ...DEFAULT_ARRAY, ...opts.array };
    const problem = arrayGeometryProblem(this.params);
    if (problem) throw new BitweaveError(`opencl backend: ${problem}`);
  }

  /** The devices in use, after load. */
  get deviceNames(): string[] {
    return this.devices.map((d) => d.device.name);
  }

  protected array(): ArrayParams {
    return this.params;
  }

  protected limits(): KernelLimits {
    return openclLimits(this.params);
  }

  protected override open(progs: LayerProgram[]): void {
    let found: Device[];
    try {
      found = selectDevices({ name: this.opts.device });
    } catch (e) {
      if (!(e instanceof OpenCLUnavailableError)) throw e;
      const filter = this.opts.device ? `devices named like '${this.opts.device}' (--device / BITWEAVE_OPENCL_DEVICE)` : 'any device';
      throw new OpenCLUnavailableError(`opencl backend: searched every OpenCL platform the ICD loader lists for ${filter}: ${e.message}`);
    }
    // one context = one platform: the first platform with a matching device
    const devs = found.filter((d) => d.platform.id === found[0].platform.id);
    this.ctx = withDevice('creating the context', () => Context.create(devs));
    const ctx = this.ctx;
    this.program = this.opts.binary ? this.loadBinary(ctx, this.opts.binary) : withDevice('building the array kernels', () => Program.fromSource(ctx, kernelSource(this.params), { options: '-cl-std=CL1.2' }));
    if (!this.program.kernelNames().includes(KERNEL_NAME)) {
      throw new BitweaveError(`opencl backend: the program defines no kernel '${KERNEL_NAME}' (it has: ${this.program.kernelNames().join(', ') || 'none'})`);
    }
    for (const device of devs) {
      const chunk = this.planMemory(device, progs);
      this.devices.push({
        device,
        exec: withDevice(`queue on '${device.name}'`, () => Queue.create(ctx, device)),
        xfer: withDevice(`queue on '${device.name}'`, () => Queue.create(ctx, device)),
        chunk,
      });
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
  private planMemory(device: Device, progs: LayerProgram[]): number {
    const info = device.info();
    let fixed = 0;
    let arenaBytes = 0;
    for (const p of progs) {
      const bufs = [p.descriptors.byteLength * 2, p.weights.byteLength, Math.max(4, p.params.byteLength)];
      for (const b of bufs) {
        if (b > info.maxAllocBytes) {
          throw new BitweaveError(`opencl backend: device '${info.name}' out of memory (CL_MEM_OBJECT_ALLOCATION_FAILURE): segment ${p.segment} needs a ${MiB(b)} buffer, CL_DEVICE_MAX_MEM_ALLOC_SIZE is ${MiB(info.maxAllocBytes)}`);
        }
      }
      fixed += bufs.reduce((a, b) => a + b, 0);
      arenaBytes = Math.max(arenaBytes, p.arenaWords * 8);
    }
    let chunk = Math.min(this.opts.chunk, Math.min(...progs.map((p) => this.imagesPerCall(p))));
    const fits = (n: number) => n * arenaBytes <= info.maxAllocBytes && fixed + 2 * progs.length * n * arenaBytes <= info.globalMemBytes;
    while (chunk > 1 && !fits(chunk)) chunk = Math.floor(chunk / 2);
    if (!fits(chunk)) {
      throw new BitweaveError(
        `opencl backend: device '${info.name}' out of memory (CL_MEM_OBJECT_ALLOCATION_FAILURE): one image needs a ${MiB(arenaBytes)} arena (x2 for double buffering, plus ${MiB(fixed)} of weights and parameters); ` +
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
          const layerPrograms = !this.opts.oneLaunch
            ? Array.from({ length: p.layers }, (_, l) => CLBuffer.fromArray(ctx, p.descriptors.subarray(l * per, (l + 1) * per), ro))
            : [];
          // an empty parameter buffer is not allowed: keep at least one entry
          const params = p.params.length > 0 ? p.params : new Int32Array(1);
          const kernel = this.program!.createKernel(KERNEL_NAME);
          if (kernel.numArgs !== KERNEL_ARGS.length) throw new BitweaveError(`opencl backend: kernel '${KERNEL_NAME}' takes ${kernel.numArgs} arguments, the host ABI has ${KERNEL_ARGS.length}`);
          return {
            program: CLBuffer.fromArray(ctx, p.descriptors, ro),
            layerPrograms,
            weights: CLBuffer.fromArray(ctx, p.weights, ro),
            params: CLBuffer.fromArray(ctx, params, ro),
            kernel,
            arenas: [],
            inStage: [],
            outStage: [],
          };
        }));
      }
    } catch (e) {
      this.releaseSegment(made);
      throw e;
    }
    return made;
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

  /** The arenas and staging arrays of a device segment, for chunks of `state.chunk` images. */
  private arenas(state: DeviceState, ds: SegmentBuffers, p: LayerProgram): void {
    if (ds.arenas.length) return;
    const words = state.chunk * p.arenaWords;
    withDevice(`allocating arenas on '${state.device.name}'`, () => {
      for (let k = 0; k < 2; k++) {
        ds.arenas.push(CLBuffer.create(this.ctx!, words * 8));
        ds.inStage.push(new Uint32Array(words * 2));
        ds.outStage.push(new Uint32Array(words * 2));
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
    const aw = p.arenaWords;
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
      withDevice(where, () => {
        c.write = state.xfer.write(ds.arenas[c.slot], st, { bytes: c.count * aw * 8, blocking: false });
        state.xfer.flush();
        const k0 = ds.kernel;
        k0.setArg(ARG.weights, ds.weights).setArg(ARG.params, ds.params).setArg(ARG.arena, ds.arenas[c.slot]);
        k0.setArg(ARG.arena_words, { type: 'uint', value: aw }).setArg(ARG.images, { type: 'uint', value: c.count });
        if (!this.opts.oneLaunch) {
          ds.layerPrograms.forEach((lp, l) => {
            k0.setArg(ARG.program, lp).setArg(ARG.layers, { type: 'uint', value: 1 });
            c.kernels.push(state.exec.task(k0, { waitFor: l === 0 ? [c.write!] : [] }));
          });
        } else {
          k0.setArg(ARG.program, ds.program).setArg(ARG.layers, { type: 'uint', value: p.layers });
          c.kernels.push(state.exec.task(k0, { waitFor: [c.write!] }));
        }
        state.exec.flush();
      });
      if (k >= 1) enqueueRead(chunks[k - 1]);
      if (k >= 2) await finish(chunks[k - 2]);
    }
    const last = chunks.length - 1;
    enqueueRead(chunks[last]);
    for (let k = Math.max(0, last - 1); k <= last; k++) await finish(chunks[k]);
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
    const ms = events.map((e) => e.profile().durationNs / 1e6);
    const cycles = scheduleCycles(p, [images], this.params);
    const macs = p.layerDescriptors.map((d) => d.macs * images);
    if (!this.opts.oneLaunch) {
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
      s.kernel.release();
    }
  }

  protected override close(): void {
    for (const d of this.devices) {
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
