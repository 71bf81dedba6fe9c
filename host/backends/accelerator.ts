/**
 * What every accelerator backend (opencl, hls-csim, verilator, axi-sim, board) shares: host
 * segments go to a host engine (native, or reference where the native library cannot run),
 * device segments are cut where the build's array cannot run one whole (zero padding on an
 * array with 1-bit outputs, host/array/zero-pad.ts `targetSegments`), encoded once as layer
 * programs (host/array/program.ts) and checked against
 * the build's limits (host/array/descriptor.ts) before anything is uploaded, and a run
 * packs the batch's segment inputs into per-image arenas, calls the device in slices that
 * fit one arena limit, and unpacks the outputs. A subclass only says how to upload a
 * program (`prepare`), how to run it on packed arenas (`execute`) and what it releases.
 */
import { BitweaveError, ShapeError } from '../core/errors';
import { CompiledModel, Segment, TensorInfo, tensorLength } from '../compile/model';
import { validateModel } from '../compile/validate';
import { ArrayParams } from '../array/params';
import { ARENA_CALL_BYTES } from '../array/limits';
import { checkProgram, KernelLimits } from '../array/descriptor';
import { ArenaRegion, encodeSegment, LayerProgram } from '../array/program';
import { fromSignedPlanes, targetModel, toSignedPlanes } from '../array/zero-pad';
import { Backend, BackendOptions, checkSegmentCall, checkSegmentInput, LayerStat, TensorData } from '../runtime/backend';
import { NativeBackend } from './native';
import { ReferenceBackend } from './reference';

export type HostEngine = 'native' | 'reference';

export interface AcceleratorOptions extends BackendOptions {
  /**
   * Engine for host segments (env BITWEAVE_HOST_ENGINE; default 'native'). 'reference'
   * where the native library cannot run, e.g. on a DE10-Nano's ARM cores.
   */
  hostEngine?: HostEngine;
}

/** The host engine an accelerator backend hands its host segments to. */
export function hostEngine(backend: string, opts: AcceleratorOptions): NativeBackend | ReferenceBackend {
  const engine = opts.hostEngine ?? (process.env.BITWEAVE_HOST_ENGINE || 'native');
  if (engine !== 'native' && engine !== 'reference') {
    throw new BitweaveError(`${backend} backend: host engine must be 'native' or 'reference' (BITWEAVE_HOST_ENGINE), got '${engine}'`);
  }
  return engine === 'native' ? new NativeBackend({ threads: opts.threads }) : new ReferenceBackend();
}

/** One segment input or output of a run: its arena region, its tensor and the batch's data. */
interface SegmentTensor<T extends Int32Array | Uint32Array> {
  region: ArenaRegion;
  info: TensorInfo;
  /** Elements of one image in the model's layout. */
  per: number;
  data: T;
}

/**
 * The segment inputs and outputs of one run, and how they map to per-image arenas. A region
 * in an array form (zero padding, host/array/zero-pad.ts) is converted on the way: 1-bit
 * tensors to and from two signed planes, a zero-padded conv's int32 output v back to Q = v + K.
 */
export class SegmentIO {
  constructor(
    readonly arenaWords: number,
    private readonly inputs: SegmentTensor<Uint32Array>[],
    readonly outputs: SegmentTensor<Int32Array | Uint32Array>[],
  ) {}

  /** Images [first, first + count) of every input into `arena` (image i of the slice at i·arenaWords). */
  packInto(arena: Uint32Array, first: number, count: number): void {
    const aw = this.arenaWords;
    for (const { region, info, per, data } of this.inputs) {
      for (let i = 0; i < count; i++) {
        const image = data.subarray((first + i) * per, (first + i + 1) * per);
        const at = 2 * (i * aw + region.offset);
        if (region.arrayForm?.kind === 'signed-planes') toSignedPlanes(image, info, arena.subarray(at, at + 2 * region.words));
        else arena.set(image, at);
      }
    }
  }

  /** A fresh arena holding images [first, first + count). */
  pack(first: number, count: number): Uint32Array {
    const arena = new Uint32Array(count * this.arenaWords * 2);
    this.packInto(arena, first, count);
    return arena;
  }

  /** Images [first, first + count) of every output out of `arena`. */
  unpackFrom(arena: Uint32Array, first: number, count: number): void {
    const aw = this.arenaWords;
    for (const { region, info, per, data } of this.outputs) {
      const dst = new Uint32Array(data.buffer, data.byteOffset, data.length);
      for (let i = 0; i < count; i++) {
        const from = 2 * (i * aw + region.offset);
        const image = dst.subarray((first + i) * per, (first + i + 1) * per);
        const form = region.arrayForm;
        if (form?.kind === 'signed-planes') {
          fromSignedPlanes(arena.subarray(from, from + 2 * region.words), info, image);
        } else {
          image.set(arena.subarray(from, from + per));
          if (form?.kind === 'less') {
            const q = new Int32Array(image.buffer, image.byteOffset, per);
            for (let j = 0; j < per; j++) q[j] += form.less;
          }
        }
      }
    }
  }
}

/** One device segment: its program and what the subclass prepared for it. */
export interface DeviceSegment<D> {
  prog: LayerProgram;
  dev: D;
}

interface DeviceStat {
  name: string;
  ms: number;
  cycles: number;
  macs: number;
}

export abstract class AcceleratorBackend<D> implements Backend {
  abstract readonly name: string;
  /** Backends whose execute() waits on something outside the JS thread say so (Backend.overlapsHost). */
  readonly overlapsHost: boolean = false;
  protected readonly host: NativeBackend | ReferenceBackend;
  /** The loaded model with the segments this backend runs (targetSegments): what segment indices refer to. */
  protected model: CompiledModel | null = null;
  /** Each host segment's index in the loaded model's own segments, where the host engine knows it. */
  private readonly hostSegment = new Map<number, number>();
  protected readonly segments = new Map<number, DeviceSegment<D>>();
  private readonly device = new Map<number, DeviceStat>();
  private busy = false;

  constructor(
    name: string,
    opts: AcceleratorOptions,
    /** Where this backend's cycles come from (LayerStat.cyclesKind). */
    private readonly cyclesKind: NonNullable<LayerStat['cyclesKind']>,
  ) {
    this.host = hostEngine(name, opts);
  }

  /** The array the programs are encoded for. */
  protected abstract array(): ArrayParams;
  /** What the build can execute; every descriptor is checked against it at load. */
  protected abstract limits(): KernelLimits;
  /** Upload one checked program (weights, parameters, descriptors) to the device. */
  protected abstract prepare(prog: LayerProgram, layerNames: string[]): D | Promise<D>;
  /** Run a program on `images` packed arenas (in place: outputs are read back into `arena`). */
  protected abstract execute(seg: DeviceSegment<D>, arena: Uint32Array, images: number): Promise<void>;
  /** Free what `prepare` made. */
  protected abstract releaseSegment(dev: D): void;
  /** Optional: resources beyond the segments (contexts, queues), opened once the programs are known. */
  protected open(_progs: LayerProgram[]): void | Promise<void> {}

  protected close(): void {}

  /**
   * Validate the model before any device or host engine is touched.
   */
  protected checkModel(model: CompiledModel): void {
    validateModel(model, typeof model?.name === 'string' ? model.name : 'compiled model');
  }

  async load(model: CompiledModel): Promise<void> {
    this.checkModel(model);
    this.release();
    await this.host.load(model);
    try {
      // the segments this array runs: the model's, or cut where it cannot run one whole
      const m = targetModel(model, this.limits().maxOutBits);
      m.segments.forEach((s, si) => {
        if (s.kind === 'host') this.hostSegment.set(si, model.segments.findIndex((h) => h.start === s.start));
      });
      this.model = m;
      const progs: [number, LayerProgram][] = [];
      // encode and check every device segment before touching the device
      m.segments.forEach((s, si) => {
        if (s.kind !== 'device') return;
        const prog = encodeSegment(m, si, this.array());
        const names = m.opNames.slice(s.start, s.end);
        const buffers = { weightWords: prog.weights.length / 2, paramEntries: prog.params.length, arenaWords: prog.arenaWords };
        checkProgram(prog.descriptors, prog.layers, this.limits(), buffers, `${this.name} backend`, (l) => `layer '${names[l]}'`);
        progs.push([si, prog]);
      });
      if (progs.length === 0) return; // nothing for the array
      await this.open(progs.map(([, p]) => p));
      for (const [si, prog] of progs) {
        const s = m.segments[si];
        this.segments.set(si, { prog, dev: await this.prepare(prog, m.opNames.slice(s.start, s.end)) });
      }
    } catch (e) {
      this.release();
      throw e;
    }
  }

  async runSegment(segment: number, tensors: Map<number, TensorData>, batch: number): Promise<Map<number, TensorData>> {
    checkSegmentCall(this.name, this.model, segment, batch);
    const m = this.model!;
    const seg = this.segments.get(segment);
    if (!seg) return this.host.runSegment(this.hostSegment.get(segment)!, tensors, batch);
    // the device buffers are per segment and per backend: one device run at a time
    if (this.busy) throw new BitweaveError(`${this.name} backend: runSegment called while another device segment is still running (await it first)`);
    this.busy = true;
    try {
      const io = this.segmentIO(m, seg.prog, tensors, batch);
      await this.runDevice(seg, io, batch);
      const out = new Map<number, TensorData>();
      for (const o of io.outputs) out.set(o.region.tensor, o.data);
      return out;
    } finally {
      this.busy = false;
    }
  }

  targetSegments(): Segment[] {
    if (!this.model) throw new BitweaveError(`${this.name} backend: no model loaded`);
    return this.model.segments;
  }

  /**
   * 64-bit words from one image's arena to the next in the packed arenas a device call
   * takes: the program's arena, or more where the device wants each image aligned (the RTL
   * kernel behind AXI: whole on-chip rows).
   */
  protected arenaStride(prog: LayerProgram): number {
    return prog.arenaWords;
  }

  /** Images one device call may take: ARENA_CALL_BYTES of arena. */
  protected imagesPerCall(prog: LayerProgram): number {
    const bytes = this.arenaStride(prog) * 8;
    if (bytes > ARENA_CALL_BYTES) {
      throw new ShapeError(`${this.name} backend: one image of segment ${prog.segment} needs a ${(bytes / 2 ** 20).toFixed(1)} MiB arena, above the ${ARENA_CALL_BYTES / 2 ** 20} MiB limit of one device call`);
    }
    return Math.max(1, Math.floor(ARENA_CALL_BYTES / Math.max(8, bytes)));
  }

  /** A run of one device segment: slices that fit one call, packed, executed, unpacked. */
  protected async runDevice(seg: DeviceSegment<D>, io: SegmentIO, batch: number): Promise<void> {
    const per = this.imagesPerCall(seg.prog);
    for (let first = 0; first < batch; first += per) {
      const n = Math.min(per, batch - first);
      const arena = io.pack(first, n);
      await this.execute(seg, arena, n);
      io.unpackFrom(arena, first, n);
    }
  }

  /** Checks every segment input (kind and length for the batch) and allocates the outputs. */
  private segmentIO(m: CompiledModel, prog: LayerProgram, tensors: Map<number, TensorData>, batch: number): SegmentIO {
    const inputs = prog.inputs.map((region) => {
      const info = m.tensors[region.tensor];
      const per = tensorLength(info);
      const d = checkSegmentInput(this.name, info, region.tensor, tensors.get(region.tensor), batch);
      return { region, info, per, data: new Uint32Array(d.buffer, d.byteOffset, d.length) };
    });
    const outputs = prog.outputs.map((region) => {
      const info = m.tensors[region.tensor];
      const per = tensorLength(info);
      return { region, info, per, data: info.kind === 'i32' ? new Int32Array(batch * per) : new Uint32Array(batch * per) };
    });
    return new SegmentIO(this.arenaStride(prog), inputs, outputs);
  }

  /**
   * Device statistics of op `op` (accumulated): time, array cycles and useful MACs. `name`
   * replaces the op's name, e.g. for a time measured for a whole segment.
   */
  protected record(op: number, ms: number, cycles: number, macs: number, name?: string): void {
    const s = this.device.get(op) ?? { name: name ?? this.model!.opNames[op], ms: 0, cycles: 0, macs: 0 };
    s.ms += ms;
    s.cycles += cycles;
    s.macs += macs;
    this.device.set(op, s);
  }

  /** Host ops from the host engine; device ops with cycles and PE utilisation (useful MACs / (PEs·WORD·cycles)). */
  layerStats(): LayerStat[] {
    const a = this.array();
    const pe = a.rows * a.cols * a.word;
    const device: LayerStat[] = [...this.device.entries()].map(([op, s]) => ({
      op, name: s.name, where: 'device', ms: s.ms, cycles: s.cycles, cyclesKind: this.cyclesKind, utilization: s.cycles > 0 ? s.macs / (pe * s.cycles) : 0,
    }));
    const host = this.host.layerStats().filter((s) => s.where === 'host');
    return [...host, ...device].sort((x, y) => x.op - y.op);
  }

  recycle(buffers: Iterable<TensorData>): void {
    (this.host as Backend).recycle?.(buffers);
  }

  private release(): void {
    for (const s of this.segments.values()) this.releaseSegment(s.dev);
    this.segments.clear();
    this.hostSegment.clear();
    this.device.clear();
    this.close();
    this.model = null;
  }

  async dispose(): Promise<void> {
    this.release();
    await this.host.dispose();
  }
}
