/**
 * The verilator backend: device segments run on the RTL array (sim/) simulated by
 * Verilator (build/libbitweave_rtl.so), host segments on the native C engine. Each device
 * segment is encoded once as a layer program (host/array/program.ts) — the same program
 * the OpenCL and HLS kernels execute — and one RTL instance per segment holds its
 * descriptors, parameters and weights; a run writes the batch's arena, starts the
 * sequencer and reads the segment outputs back. Layer statistics carry the cycles the
 * RTL counted and the PE utilisation (useful binary MACs / (PEs x WORD x cycles)).
 */
import { performance } from 'node:perf_hooks';
import { BitweaveError, ShapeError, UnsupportedError } from '../../core/errors';
import { CompiledModel, tensorLength } from '../../compile/model';
import { Backend, LayerStat, TensorData } from '../../runtime/backend';
import { BackendOptions } from '../../runtime/backends';
import { NativeBackend } from '../native';
import { DESC_WORDS, FIELD, OP_THRESHOLD } from '../../array/params';
import { encodeSegment, LayerProgram } from '../../array/program';
import { programCycles } from '../../array/cycles';
import { RtlInfo, rtlInfo, RtlModel } from './ffi';

const MAX_BATCH = 65536;
const LIMIT16 = 0xffff;

interface DeviceSegment {
  prog: LayerProgram;
  rtl: RtlModel;
}

/** Why the RTL array cannot run a layer program (null when it can). */
export function rtlUnsupported(prog: LayerProgram, info: RtlInfo, names: string[]): string | null {
  for (let l = 0; l < prog.layers; l++) {
    const d = (f: keyof typeof FIELD) => prog.descriptors[l * DESC_WORDS + FIELD[f]];
    const name = `layer '${names[l]}'`;
    if ((d('OPCODE') & OP_THRESHOLD) !== 0 && d('OUT_BITS') > info.maxOutBits) {
      return `${name} outputs ${d('OUT_BITS')}-bit activations; the RTL array is built for up to ${info.maxOutBits}`;
    }
    if (d('IN_PLANES') > 8) return `${name} has ${d('IN_PLANES')}-bit inputs; the RTL array takes up to 8 bit-planes`;
    const groups = Math.ceil(d('OUT_C') / info.rows);
    if (groups > info.paramDepth) return `${name} has ${d('OUT_C')} output channels; the RTL row units hold ${info.paramDepth * info.rows}`;
    const px = d('IN_PLANES') * d('IN_WORDS');
    const k = d('KH') * d('KW') * px;
    const outWords = Math.ceil(d('OUT_C') / 64);
    const fields: [string, number][] = [
      ['IN_H', d('IN_H')], ['IN_W', d('IN_W')], ['IN_WORDS', d('IN_WORDS')], ['KH', d('KH')], ['KW', d('KW')], ['SH', d('SH')], ['SW', d('SW')],
      ['PH', d('PH')], ['PW', d('PW')], ['ACC_H', d('ACC_H')], ['ACC_W', d('ACC_W')], ['OUT_H', d('OUT_H')], ['OUT_W', d('OUT_W')], ['OUT_C', d('OUT_C')],
      ['words per window', k], ['words per input row', d('IN_W') * px], ['output words per pixel', Math.max(d('OUT_BITS') * outWords, d('OUT_C'))],
      ['weight words per channel', d('KH') * d('KW') * d('IN_WORDS') * info.rows],
    ];
    for (const [f, v] of fields) if (v > LIMIT16) return `${name}: ${f} = ${v} exceeds the RTL sequencer's 16-bit loop fields`;
  }
  return null;
}

export class VerilatorBackend implements Backend {
  readonly name = 'verilator';
  readonly info: RtlInfo;
  private readonly host: NativeBackend;
  private model: CompiledModel | null = null;
  private devices = new Map<number, DeviceSegment>();
  /** Per device op: accumulated time, cycles and useful MACs. */
  private device = new Map<number, { ms: number; cycles: number; macs: number }>();
  /** Per device op: the cycle model's prediction for the runs so far. */
  private predicted = new Map<number, number>();
  private traceFile: string | null;

  constructor(opts: BackendOptions & { trace?: string } = {}) {
    this.info = rtlInfo();
    this.host = new NativeBackend(opts);
    this.traceFile = opts.trace ?? process.env.BITWEAVE_RTL_TRACE ?? null;
  }

  async load(model: CompiledModel): Promise<void> {
    await this.host.load(model); // validates the model
    this.release();
    this.model = model;
    try {
      model.segments.forEach((seg, si) => {
        if (seg.kind !== 'device') return;
        const prog = encodeSegment(model, si, this.info);
        const why = rtlUnsupported(prog, this.info, model.opNames.slice(seg.start, seg.end));
        if (why) throw new UnsupportedError(`verilator backend: ${why}`);
        const rtl = new RtlModel();
        try {
          rtl.alloc('desc', prog.descriptors.length);
          rtl.write('desc', 0, prog.descriptors);
          rtl.alloc('param', prog.params.length);
          rtl.write('param', 0, prog.params);
          rtl.alloc('weight', prog.weights.length / 2);
          rtl.write('weight', 0, prog.weights);
        } catch (e) {
          rtl.free();
          throw e;
        }
        this.devices.set(si, { prog, rtl });
      });
    } catch (e) {
      this.release();
      throw e;
    }
  }

  async runSegment(segment: number, tensors: Map<number, TensorData>, batch: number): Promise<Map<number, TensorData>> {
    const m = this.model;
    if (!m) throw new BitweaveError('verilator backend: runSegment before load (or after dispose)');
    if (!Number.isInteger(segment) || segment < 0 || segment >= m.segments.length) {
      throw new ShapeError(`segment must be an integer in 0..${m.segments.length - 1}, got ${segment}`);
    }
    if (!Number.isInteger(batch) || batch < 1 || batch > MAX_BATCH) throw new ShapeError(`batch must be an integer in 1..${MAX_BATCH}, got ${batch}`);
    const dev = this.devices.get(segment);
    if (!dev) return this.host.runSegment(segment, tensors, batch);

    const t0 = performance.now();
    const { prog, rtl } = dev;
    const seg = m.segments[segment];
    const arenaWords = prog.arenaWords;
    if (batch * arenaWords >= 2 ** 31) throw new ShapeError(`verilator backend: a batch of ${batch} needs ${batch * arenaWords} arena words (limit 2^31); use a smaller batch`);
    const arena = new Uint32Array(batch * arenaWords * 2);
    for (const r of prog.inputs) {
      const info = m.tensors[r.tensor];
      const d = tensors.get(r.tensor);
      const len = tensorLength(info);
      const want = info.kind === 'bits' ? Uint32Array : info.kind === 'i32' ? Int32Array : null;
      if (!d || !want || !(d instanceof want)) throw new ShapeError(`verilator backend: segment input tensor ${r.tensor} must be a ${want?.name ?? 'bits'} of the batch`);
      if (d.length !== batch * len) throw new ShapeError(`verilator backend: tensor ${r.tensor} has ${d.length} elements, expected ${batch * len} for a batch of ${batch}`);
      const u = new Uint32Array(d.buffer, d.byteOffset, d.length);
      for (let n = 0; n < batch; n++) arena.set(u.subarray(n * len, (n + 1) * len), (n * arenaWords + r.offset) * 2);
    }
    rtl.alloc('arena', batch * arenaWords);
    rtl.write('arena', 0, arena);
    const model = programCycles(prog, batch, this.info);
    const budget = 2 * model.reduce((s, l) => s + l.cycles, 0) + 100000;
    if (this.traceFile) rtl.trace(this.traceFile);
    rtl.start(prog.layers, batch, arenaWords);
    const finished = rtl.run(budget);
    if (this.traceFile) rtl.trace(null);
    if (!finished) throw new BitweaveError(`verilator backend: segment ${segment} did not finish within ${budget} cycles (the cycle model predicts ${budget / 2 - 50000})`);
    rtl.read('arena', 0, arena);
    const cycles = rtl.layerCycles();

    const out = new Map<number, TensorData>();
    for (const r of prog.outputs) {
      const info = m.tensors[r.tensor];
      const len = tensorLength(info);
      const y = info.kind === 'i32' ? new Int32Array(batch * len) : new Uint32Array(batch * len);
      const yu = new Uint32Array(y.buffer);
      for (let n = 0; n < batch; n++) yu.set(arena.subarray((n * arenaWords + r.offset) * 2, (n * arenaWords + r.offset) * 2 + len), n * len);
      out.set(r.tensor, y);
    }
    // the segment's wall time, shared by its layers in proportion to their cycles
    const ms = performance.now() - t0;
    const total = cycles.reduce((a, b) => a + b, 0) || 1;
    for (let l = 0; l < prog.layers; l++) {
      const op = seg.start + l;
      const s = this.device.get(op) ?? { ms: 0, cycles: 0, macs: 0 };
      s.ms += (ms * cycles[l]) / total;
      s.cycles += cycles[l];
      s.macs += model[l].macs;
      this.device.set(op, s);
      this.predicted.set(op, (this.predicted.get(op) ?? 0) + model[l].cycles);
    }
    for (const t of seg.outputs) if (!out.has(t)) throw new BitweaveError(`verilator backend: segment output ${t} has no arena region`);
    return out;
  }

  /** The cycle model's predicted cycles per device op for the runs so far (for tests and reports). */
  predictedCycles(): Map<number, number> {
    return new Map(this.predicted);
  }

  layerStats(): LayerStat[] {
    const pes = this.info.rows * this.info.cols * this.info.word;
    const dev: LayerStat[] = [...this.device.entries()].map(([op, s]) => ({
      op, name: this.model!.opNames[op], where: 'device', ms: s.ms, cycles: s.cycles, cyclesKind: 'rtl', utilization: s.cycles > 0 ? s.macs / (pes * s.cycles) : 0,
    }));
    return [...this.host.layerStats(), ...dev].sort((a, b) => a.op - b.op);
  }

  private release(): void {
    for (const d of this.devices.values()) d.rtl.free();
    this.devices.clear();
    this.device.clear();
    this.predicted.clear();
  }

  async dispose(): Promise<void> {
    this.release();
    this.model = null;
    await this.host.dispose();
  }
}
