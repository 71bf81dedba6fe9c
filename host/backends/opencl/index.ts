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
import { BitweaveError, ShapeError } from '../../core/errors';
import { CompiledModel, tensorLength } from '../../compile/model';
import { validateModel } from '../../compile/validate';
import { ArrayParams, DEFAULT_ARRAY, DESC_WORDS, FIELD, OP_POOL } from '../../array/params';
import { encodeSegment, LayerProgram } from '../../array/program';
import { ARG, checkLayerProgram, KERNEL_ARGS, KERNEL_NAME } from '../../array/kernel-abi';
import { Backend, LayerStat, TensorData } from '../../runtime/backend';
import { BackendOptions } from '../../runtime/backends';
import { LayerStats } from '../../runtime/layer-stats';
import { NativeBackend } from '../native';
import { CLBuffer, CLEvent, Context, Device, Kernel, OpenCLError, OpenCLUnavailableError, Program, Queue, selectDevices } from '../../opencl';
import { kernelSource } from './source';
import { ReferenceBackend } from '../reference';
import { arrayGeometryProblem } from '../../array/params';

const MAX_BATCH = 65536;
/** Images per launch unless the device memory needs fewer. */
const DEFAULT_CHUNK = 32;

export interface OpenCLBackendOptions extends BackendOptions {
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
  /** Array parameters the source is built for (default DEFAULT_ARRAY). */
  array?: ArrayParams;
  /**
   * Engine for host segments (env BITWEAVE_HOST_ENGINE; default 'native'). 'reference'
   * where the native library cannot run, e.g. on a DE10-Nano's ARM cores.
   */
  hostEngine?: 'native' | 'reference';
}

/** One device segment on one device: its buffers and kernel. */
interface DeviceSegment {
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
  segments: Map<number, DeviceSegment>;
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

export class OpenCLBackend implements Backend {
  readonly name = 'opencl';
  private readonly opts: ReturnType<typeof envOptions>;
  private readonly array: ArrayParams;
  private readonly host: NativeBackend | ReferenceBackend;
  private model: CompiledModel | null = null;
  private ctx: Context | null = null;
  private program: Program | null = null;
  private devices: DeviceState[] = [];
  private programs = new Map<number, LayerProgram>();
  private readonly stats = new LayerStats();
  private busy = false;
  /** Images each device op has processed, and its array cycles and useful MACs per image. */
  private images = new Map<number, number>();
  private work = new Map<number, { cycles: number; macs: number }>();

  constructor(opts: OpenCLBackendOptions = {}) {
    this.opts = envOptions(opts);
    this.array = opts.array ?? DEFAULT_ARRAY;
    const problem = arrayGeometryProblem(this.array);
    if (problem) throw new BitweaveError(`opencl backend: ${problem}`);
    const engine = opts.hostEngine ?? (process.env.BITWEAVE_HOST_ENGINE || 'native');
    if (engine !== 'native' && engine !== 'reference') throw new BitweaveError(`opencl backend: host engine must be 'native' or 'reference' (BITWEAVE_HOST_ENGINE), got '${engine}'`);
    this.host = engine === 'native' ? new NativeBackend({ threads: opts.threads }) : new ReferenceBackend();
  }

  /** The devices in use, after load. */
  get deviceNames(): string[] {
    return this.devices.map((d) => d.device.name);
  }

  async load(model: CompiledModel): Promise<void> {
    validateModel(model, typeof model?.name === 'string' ? model.name : 'compiled model');
    this.release();
    await this.host.load(model);
    this.model = model;
    // encode and check every device segment before touching OpenCL
    model.segments.forEach((s, i) => {
      if (s.kind !== 'device') return;
      const p = encodeSegment(model, i, this.array);
      checkLayerProgram(p.descriptors, p.layers, { weightWords: p.weights.length / 2, paramEntries: p.params.length, arenaWords: p.arenaWords });
      this.programs.set(i, p);
      for (let l = 0; l < p.layers; l++) this.work.set(s.start + l, arrayWork(p.descriptors.subarray(l * DESC_WORDS, (l + 1) * DESC_WORDS), this.array));
    });
    if (this.programs.size === 0) return; // nothing for the array: no OpenCL needed
    try {
      this.open();
    } catch (e) {
      this.release();
      throw e;
    }
  }

  private open(): void {
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
    this.program = this.opts.binary ? this.loadBinary(ctx, this.opts.binary) : withDevice('building the array kernels', () => Program.fromSource(ctx, kernelSource(this.array), { options: '-cl-std=CL1.2' }));
    if (!this.program.kernelNames().includes(KERNEL_NAME)) {
      throw new BitweaveError(`opencl backend: the program defines no kernel '${KERNEL_NAME}' (it has: ${this.program.kernelNames().join(', ') || 'none'})`);
    }
    for (const device of devs) {
      const chunk = this.planMemory(device);
      const state: DeviceState = {
        device,
        exec: withDevice(`queue on '${device.name}'`, () => Queue.create(ctx, device)),
        xfer: withDevice(`queue on '${device.name}'`, () => Queue.create(ctx, device)),
        segments: new Map(),
        chunk,
      };
      this.devices.push(state);
      for (const [si, p] of this.programs) state.segments.set(si, this.upload(state, p));
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
  private planMemory(device: Device): number {
    const info = device.info();
    let fixed = 0;
    let arenaBytes = 0;
    for (const p of this.programs.values()) {
      const bufs = [p.descriptors.byteLength * 2, p.weights.byteLength, Math.max(4, p.params.byteLength)];
      for (const b of bufs) {
        if (b > info.maxAllocBytes) {
          throw new BitweaveError(`opencl backend: device '${info.name}' out of memory (CL_MEM_OBJECT_ALLOCATION_FAILURE): segment ${p.segment} needs a ${MiB(b)} buffer, CL_DEVICE_MAX_MEM_ALLOC_SIZE is ${MiB(info.maxAllocBytes)}`);
        }
      }
      fixed += bufs.reduce((a, b) => a + b, 0);
      arenaBytes = Math.max(arenaBytes, p.arenaWords * 8);
    }
    let chunk = this.opts.chunk;
    const fits = (n: number) => n * arenaBytes <= info.maxAllocBytes && fixed + 2 * this.programs.size * n * arenaBytes <= info.globalMemBytes;
    while (chunk > 1 && !fits(chunk)) chunk = Math.floor(chunk / 2);
    if (!fits(chunk)) {
      throw new BitweaveError(
        `opencl backend: device '${info.name}' out of memory (CL_MEM_OBJECT_ALLOCATION_FAILURE): one image needs a ${MiB(arenaBytes)} arena (x2 for double buffering, plus ${MiB(fixed)} of weights and parameters); ` +
          `CL_DEVICE_MAX_MEM_ALLOC_SIZE is ${MiB(info.maxAllocBytes)}, CL_DEVICE_GLOBAL_MEM_SIZE ${MiB(info.globalMemBytes)}`,
      );
    }
    return chunk;
  }

  private upload(state: DeviceState, p: LayerProgram): DeviceSegment {
    const ctx = this.ctx!;
    const where = `uploading segment ${p.segment} to '${state.device.name}'`;
    return withDevice(where, () => {
      const ro = { access: 'read-only' as const, hostAccess: 'write-only' as const };
      const layerPrograms = !this.opts.oneLaunch
        ? Array.from({ length: p.layers }, (_, l) => CLBuffer.fromArray(ctx, p.descriptors.subarray(l * (p.descriptors.length / p.layers), (l + 1) * (p.descriptors.length / p.layers)), ro))
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
    });
  }

  async runSegment(segment: number, tensors: Map<number, TensorData>, batch: number): Promise<Map<number, TensorData>> {
    const m = this.model;
    if (!m) throw new BitweaveError('opencl backend: runSegment before load (or after dispose)');
    if (!Number.isInteger(segment) || segment < 0 || segment >= m.segments.length) {
      throw new ShapeError(`segment must be an integer in 0..${m.segments.length - 1}, got ${segment}`);
    }
    if (!Number.isInteger(batch) || batch < 1 || batch > MAX_BATCH) throw new ShapeError(`batch must be an integer in 1..${MAX_BATCH}, got ${batch}`);
    const seg = m.segments[segment];
    if (seg.kind === 'host') return this.host.runSegment(segment, tensors, batch);
    const p = this.programs.get(segment)!;
    // the arenas and staging arrays are per backend: one device segment at a time
    if (this.busy) throw new BitweaveError('opencl backend: runSegment called while another device segment is still running (await it first)');
    this.busy = true;
    try {
      return await this.runDevice(m, p, tensors, batch);
    } finally {
      this.busy = false;
    }
  }

  private async runDevice(m: CompiledModel, p: LayerProgram, tensors: Map<number, TensorData>, batch: number): Promise<Map<number, TensorData>> {
    const inputs = p.inputs.map((r) => ({ region: r, per: tensorLength(m.tensors[r.tensor]), data: this.checkInput(r.tensor, tensors.get(r.tensor), batch) }));
    const outputs = p.outputs.map((r) => {
      const info = m.tensors[r.tensor];
      const n = batch * tensorLength(info);
      return { region: r, per: tensorLength(info), data: info.kind === 'i32' ? new Int32Array(n) : new Uint32Array(n) };
    });
    // contiguous slices of the batch, one per device, in device order
    const share = Math.ceil(batch / this.devices.length);
    await Promise.all(
      this.devices.map((d, i) => {
        const start = i * share;
        const n = Math.min(batch, start + share) - start;
        return n > 0 ? this.stream(d, p, start, n, inputs, outputs) : Promise.resolve();
      }),
    );
    const out = new Map<number, TensorData>();
    for (const o of outputs) out.set(o.region.tensor, o.data);
    return out;
  }

  private checkInput(id: number, d: TensorData | undefined, batch: number): Uint32Array {
    const info = this.model!.tensors[id];
    if (d === undefined) throw new ShapeError(`opencl backend: segment input tensor ${id} is missing`);
    if (!(d instanceof Uint32Array) || info.kind !== 'bits') throw new ShapeError(`opencl backend: tensor ${id} must be a Uint32Array (bits), got ${d?.constructor?.name ?? typeof d}`);
    const want = batch * tensorLength(info);
    if (d.length !== want) throw new ShapeError(`opencl backend: tensor ${id} (bits ${info.h}x${info.w}x${info.c}) has ${d.length} elements, expected ${want} for a batch of ${batch}`);
    return d;
  }

  /** The arenas and staging arrays of a device segment, for chunks of `state.chunk` images. */
  private arenas(state: DeviceState, ds: DeviceSegment, p: LayerProgram): void {
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
  private async stream(
    state: DeviceState,
    p: LayerProgram,
    start: number,
    n: number,
    inputs: { region: { offset: number }; per: number; data: Uint32Array }[],
    outputs: { region: { offset: number }; per: number; data: Int32Array | Uint32Array }[],
  ): Promise<void> {
    const ds = state.segments.get(p.segment)!;
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
      const st = ds.outStage[c.slot];
      for (const o of outputs) {
        const dst = new Uint32Array(o.data.buffer, o.data.byteOffset, o.data.length);
        for (let i = 0; i < c.count; i++) {
          const from = 2 * (i * aw + o.region.offset);
          dst.set(st.subarray(from, from + o.per), (c.first + i) * o.per);
        }
      }
      this.recordKernels(p, c.kernels, c.count);
      for (const e of [c.write!, ...c.kernels, c.read!]) e.release();
    };

    for (let k = 0; k < chunks.length; k++) {
      const c = chunks[k];
      // the staging array of this slot was last read by the write of chunk k-2
      if (k >= 2) await chunks[k - 2].write!.waitAsync();
      const st = ds.inStage[c.slot];
      for (const inp of inputs) {
        const per = inp.per;
        for (let i = 0; i < c.count; i++) {
          const img = c.first + i;
          st.set(inp.data.subarray(img * per, (img + 1) * per), 2 * (i * aw + inp.region.offset));
        }
      }
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

  /** Device time of a finished chunk's launches, per layer or per segment. */
  private recordKernels(p: LayerProgram, events: CLEvent[], images: number): void {
    const m = this.model!;
    const seg = m.segments[p.segment];
    const ms = events.map((e) => e.profile().durationNs / 1e6);
    for (let op = seg.start; op < seg.end; op++) this.images.set(op, (this.images.get(op) ?? 0) + images);
    if (!this.opts.oneLaunch) {
      ms.forEach((t, l) => this.stats.add(seg.start + l, m.opNames[seg.start + l], 'device', t));
    } else {
      // one launch walked the whole segment: its time is not split between the layers
      const names = m.opNames.slice(seg.start, seg.end).join(' + ');
      this.stats.add(seg.start, `segment ${p.segment} (${seg.end - seg.start} layers, one launch): ${names}`, 'device', ms[0]);
    }
  }

  /**
   * Host ops from the native engine, device ops from profiling events. Device entries also
   * carry the array cycles of the kernel's tile schedule (one PE step per cycle; no
   * pipeline fill, no memory stalls) and the resulting utilisation, useful binary MACs /
   * (ROWS x COLS x WORD x cycles), over every image run so far.
   */
  layerStats(): LayerStat[] {
    const m = this.model;
    const byOp = new Map<number, LayerStat>();
    for (const s of this.host.layerStats()) if (s.where === 'host') byOp.set(s.op, s);
    for (const s of this.stats.list()) {
      const seg = m?.segments.find((g) => g.kind === 'device' && s.op >= g.start && s.op < g.end);
      const ops = !seg ? [] : this.opts.oneLaunch ? Array.from({ length: seg.end - seg.start }, (_, k) => seg.start + k) : [s.op];
      let cycles = 0;
      let macs = 0;
      for (const op of ops) {
        const c = this.work.get(op)!;
        const n = this.images.get(op) ?? 0;
        cycles += c.cycles * n;
        macs += c.macs * n;
      }
      const pe = this.array.rows * this.array.cols * this.array.word;
      byOp.set(s.op, cycles > 0 ? { ...s, cycles, cyclesKind: 'schedule', utilization: macs / (pe * cycles) } : s);
    }
    return [...byOp.values()].sort((a, b) => a.op - b.op);
  }

  recycle(buffers: Iterable<TensorData>): void {
    if (this.host instanceof NativeBackend) this.host.recycle(buffers);
  }

  private release(): void {
    for (const d of this.devices) {
      for (const s of d.segments.values()) {
        for (const b of [s.program, ...s.layerPrograms, s.weights, s.params, ...s.arenas]) b.release();
        s.kernel.release();
      }
      d.exec.release();
      d.xfer.release();
    }
    this.devices = [];
    this.program?.release();
    this.program = null;
    this.ctx?.release();
    this.ctx = null;
    this.programs.clear();
    this.stats.clear();
    this.images.clear();
    this.work.clear();
    this.model = null;
  }

  async dispose(): Promise<void> {
    this.release();
    await this.host.dispose();
  }
}

/**
 * Array cycles per image of one descriptor as the kernel schedules it: every tile (ROWS
 * channels x COLS pixels, once per pool-window position) takes KH*KW*IN_WORDS*IN_PLANES
 * cycles; and the useful binary MACs (real input bits only, each window position once).
 */
export function arrayWork(d: Uint32Array, a: ArrayParams): { cycles: number; macs: number } {
  const f = (k: keyof typeof FIELD) => d[FIELD[k]];
  const pool = (f('OPCODE') & OP_POOL) !== 0;
  const np = pool ? f('POOL_KH') * f('POOL_KW') : 1;
  const tiles = Math.ceil(f('OUT_C') / a.rows) * Math.ceil((f('OUT_H') * f('OUT_W')) / a.cols) * np;
  const steps = f('KH') * f('KW') * f('IN_WORDS') * f('IN_PLANES');
  const macs = f('OUT_C') * f('ACC_H') * f('ACC_W') * f('KH') * f('KW') * f('IN_C') * f('IN_PLANES');
  return { cycles: tiles * steps, macs };
}
