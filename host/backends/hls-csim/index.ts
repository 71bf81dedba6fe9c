/**
 * The hls-csim backend: device segments run on the Vitis HLS kernel (hls/) C-simulated
 * with g++ (build/libbitweave_hls.so), driven exactly as the FPGA would be: one layer
 * program per device segment (host/array/program.ts), images packed into per-image arenas,
 * one kernel call per batch. Host segments run on the native engine.
 *
 * Safety: the model is validated at load; every layer program is checked by the library
 * at load (and again on every run) against its buffers and the kernel's on-chip bounds;
 * every tensor is checked for kind and length before it is copied into the arena.
 */
import { performance } from 'node:perf_hooks';
import { BitweaveError, ShapeError } from '../../core/errors';
import { CompiledModel, tensorLength } from '../../compile/model';
import { validateModel } from '../../compile/validate';
import { encodeSegment, LayerProgram } from '../../array/program';
import { ArrayParams, DESC_WORDS, FIELD } from '../../array/params';
import { Backend, LayerStat, TensorData } from '../../runtime/backend';
import { BackendOptions } from '../../runtime/backends';
import { LayerStats } from '../../runtime/layer-stats';
import { NativeBackend } from '../native';
import { HLS_OK, hlsLib } from './ffi';

export interface HlsCsimOptions extends BackendOptions {
  /**
   * PE array shape to simulate: the header's (default) or another shape compiled into the
   * library (tests use 3x5 and 1x1 to move every tile edge).
   */
  array?: { rows: number; cols: number };
}

const MAX_BATCH = 65536;

/** PE-busy cycles of one layer at II = 1 (tiles x groups x pool elements x K-steps). */
export function modelledCycles(d: Uint32Array, rows: number, cols: number): number {
  const f = (k: keyof typeof FIELD) => d[FIELD[k]];
  const pool = (f('OPCODE') & 2) !== 0;
  const tiles = Math.ceil((f('OUT_H') * f('OUT_W')) / cols);
  const groups = Math.ceil(f('OUT_C') / rows);
  const elems = pool ? f('POOL_KH') * f('POOL_KW') : 1;
  return tiles * groups * elems * f('KH') * f('KW') * f('IN_PLANES') * f('IN_WORDS');
}

interface DeviceSegment {
  program: LayerProgram;
  /** per layer: modelled cycles per image and useful MACs per image */
  cycles: number[];
  macs: number[];
}

export class HlsCsimBackend implements Backend {
  readonly name = 'hls-csim';
  readonly threads: number;
  readonly rows: number;
  readonly cols: number;
  private readonly host: NativeBackend;
  private model: CompiledModel | null = null;
  private segments = new Map<number, DeviceSegment>();
  private readonly stats = new LayerStats();
  private readonly cycles = new Map<number, number>();

  constructor(opts: HlsCsimOptions = {}) {
    this.host = new NativeBackend({ threads: opts.threads });
    this.threads = this.host.threads;
    const lib = hlsLib();
    const a = opts.array ?? { rows: lib.info.rows, cols: lib.info.cols };
    if (!lib.variants.some((v) => v.rows === a.rows && v.cols === a.cols)) {
      throw new BitweaveError(`hls-csim: array ${a.rows}x${a.cols} is not compiled into the library (available: ${lib.variants.map((v) => `${v.rows}x${v.cols}`).join(', ')})`);
    }
    this.rows = a.rows;
    this.cols = a.cols;
  }

  async load(model: CompiledModel): Promise<void> {
    validateModel(model, typeof model?.name === 'string' ? model.name : 'compiled model');
    const lib = hlsLib();
    const params: ArrayParams = { rows: this.rows, cols: this.cols, word: 64, accBits: lib.info.accBits };
    const segments = new Map<number, DeviceSegment>();
    model.segments.forEach((s, si) => {
      if (s.kind !== 'device') return;
      const program = encodeSegment(model, si, params);
      const { rc, msg } = lib.check(program.descriptors, program.layers, program.weights.length / 2, program.params.length, program.arenaWords);
      if (rc !== HLS_OK) {
        const m = /^layer (\d+): (.*)$/.exec(msg);
        const where = m ? `layer '${model.opNames[s.start + Number(m[1])]}'` : `segment ${si}`;
        throw new BitweaveError(`hls-csim: ${where}: ${m ? m[2] : msg || `error ${rc}`}`);
      }
      const cycles: number[] = [];
      const macs: number[] = [];
      for (let l = 0; l < program.layers; l++) {
        const d = program.descriptors.subarray(l * DESC_WORDS, (l + 1) * DESC_WORDS);
        cycles.push(modelledCycles(d, this.rows, this.cols));
        const f = (k: keyof typeof FIELD) => d[FIELD[k]];
        macs.push(f('OUT_C') * f('ACC_H') * f('ACC_W') * f('KH') * f('KW') * f('IN_C') * f('IN_PLANES'));
      }
      segments.set(si, { program, cycles, macs });
    });
    await this.host.load(model);
    this.model = model;
    this.segments = segments;
    this.stats.clear();
    this.cycles.clear();
  }

  async runSegment(segment: number, tensors: Map<number, TensorData>, batch: number): Promise<Map<number, TensorData>> {
    const m = this.model;
    if (!m) throw new BitweaveError('hls-csim backend: runSegment before load (or after dispose)');
    if (!Number.isInteger(segment) || segment < 0 || segment >= m.segments.length) {
      throw new ShapeError(`segment must be an integer in 0..${m.segments.length - 1}, got ${segment}`);
    }
    if (!Number.isInteger(batch) || batch < 1 || batch > MAX_BATCH) throw new ShapeError(`batch must be an integer in 1..${MAX_BATCH}, got ${batch}`);
    const dev = this.segments.get(segment);
    if (!dev) return this.host.runSegment(segment, tensors, batch);

    const p = dev.program;
    const aw = p.arenaWords;
    if (batch * aw * 8 > 2 ** 31) throw new ShapeError(`hls-csim: a batch of ${batch} needs ${batch * aw * 8} bytes of arena; use a smaller batch`);
    const arena = new Uint32Array(batch * aw * 2);
    const arenaI32 = new Int32Array(arena.buffer);
    for (const r of p.inputs) {
      const info = m.tensors[r.tensor];
      const d = tensors.get(r.tensor);
      const per = tensorLength(info);
      if (d === undefined) throw new ShapeError(`hls-csim backend: segment input tensor ${r.tensor} is missing`);
      const want = info.kind === 'bits' ? Uint32Array : Int32Array;
      if (!(d instanceof want)) throw new ShapeError(`hls-csim backend: tensor ${r.tensor} must be a ${want.name} (${info.kind}), got ${d.constructor?.name ?? typeof d}`);
      if (d.length !== batch * per) {
        throw new ShapeError(`hls-csim backend: tensor ${r.tensor} (${info.kind} ${info.h}x${info.w}x${info.c}) has ${d.length} elements, expected ${batch * per} for a batch of ${batch}`);
      }
      if (per > r.words * 2) throw new Error(`hls-csim: region of tensor ${r.tensor} is smaller than the tensor`);
      const dst = info.kind === 'bits' ? arena : arenaI32;
      for (let n = 0; n < batch; n++) dst.set(d.subarray(n * per, (n + 1) * per), (n * aw + r.offset) * 2);
    }
    const t0 = performance.now();
    const { rc, msg } = hlsLib().run(this.rows, this.cols, p.descriptors, p.layers, p.weights, p.params, arena, aw, batch, this.threads);
    const ms = performance.now() - t0;
    if (rc !== HLS_OK) throw new BitweaveError(`hls-csim: kernel refused segment ${segment}: ${msg || `error ${rc}`}`);
    // kernel time split over the layers by their modelled cycles
    const seg = m.segments[segment];
    const total = dev.cycles.reduce((a, b) => a + b, 0) || 1;
    dev.cycles.forEach((c, l) => {
      const op = seg.start + l;
      this.stats.add(op, m.opNames[op], 'device', (ms * c) / total);
      this.cycles.set(op, (this.cycles.get(op) ?? 0) + c * batch);
    });
    const out = new Map<number, TensorData>();
    for (const r of p.outputs) {
      const info = m.tensors[r.tensor];
      const per = tensorLength(info);
      const y = info.kind === 'bits' ? new Uint32Array(batch * per) : new Int32Array(batch * per);
      const src = info.kind === 'bits' ? arena : arenaI32;
      for (let n = 0; n < batch; n++) y.set(src.subarray((n * aw + r.offset) * 2, (n * aw + r.offset) * 2 + per), n * per);
      out.set(r.tensor, y);
    }
    return out;
  }

  layerStats(): LayerStat[] {
    const m = this.model;
    const device = this.stats.list().map((s) => {
      const cycles = this.cycles.get(s.op) ?? 0;
      const seg = m ? [...this.segments.entries()].find(([si]) => s.op >= m.segments[si].start && s.op < m.segments[si].end) : undefined;
      let utilization: number | undefined;
      if (seg && m && cycles > 0) {
        const l = s.op - m.segments[seg[0]].start;
        utilization = (seg[1].macs[l] * (cycles / seg[1].cycles[l])) / (this.rows * this.cols * 64 * cycles);
      }
      return { ...s, cycles, cyclesKind: 'schedule' as const, utilization };
    });
    return [...this.host.layerStats(), ...device].sort((a, b) => a.op - b.op);
  }

  recycle(buffers: Iterable<TensorData>): void {
    this.host.recycle(buffers);
  }

  async dispose(): Promise<void> {
    await this.host.dispose();
    this.model = null;
    this.segments.clear();
    this.stats.clear();
    this.cycles.clear();
  }
}
